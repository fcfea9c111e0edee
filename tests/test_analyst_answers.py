"""Analysts' answers made right (issue 15): search CSV with its own header,
CSV with a BOM for Excel, calendar reminders and one calendar per unit."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from pathlib import Path

from click.testing import CliRunner
from icalendar import Calendar

from pipeline.cli.main import main


def run(*args: str) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_search_csv_without_hits_prints_the_search_header(analyst_db: Path) -> None:
    out = run("search", "xyzzy", "--format", "csv", "--db", str(analyst_db))
    assert out == "\ufeffdocument_id,doc_number,doc_type,issue_date,issuer,subject,source,snippet,rank\n"
    hits = list(csv.DictReader(io.StringIO(run("search", "dong bo", "--format", "csv", "--db", str(analyst_db))[1:])))
    assert {h["doc_number"] for h in hits} == {"2011/QĐ-UBND", "479/UBND-NV"}


def test_calendar_events_carry_a_reminder_the_day_before_at_nine(analyst_db: Path) -> None:
    calendar = Calendar.from_ical(run("export", "--format", "ics", "--db", str(analyst_db)))
    events = list(calendar.walk("VEVENT"))
    assert events
    for event in events:
        [alarm] = event.walk("VALARM")
        assert alarm["ACTION"] == "DISPLAY"
        assert alarm["TRIGGER"].dt == -timedelta(hours=15)  # 00:00 of the day minus 15 h: 09:00 the day before
    twice = Calendar.from_ical(run("export", "--format", "ics", "--remind", "7", "--remind", "1",
                                   "--db", str(analyst_db)))
    assert [a["TRIGGER"].dt for a in next(iter(twice.walk("VEVENT"))).walk("VALARM")] == [
        -timedelta(days=6, hours=15), -timedelta(hours=15)]
    none = run("export", "--format", "ics", "--no-remind", "--db", str(analyst_db))
    assert "BEGIN:VALARM" not in none


def test_one_calendar_per_responsible_unit(analyst_db: Path, tmp_path: Path) -> None:
    folder = tmp_path / "calendars"
    out = run("export", "--format", "ics", "--per-unit", str(folder), "--db", str(analyst_db))
    files = sorted(p.name for p in folder.glob("*.ics"))
    assert files == ["cac-co-quan-don-vi.ics", "chua-ro-don-vi-no-unit.ics", "phong-noi-vu.ics", "so-noi-vu.ics",
                     "van-phong-hdnd-va-ubnd-huyen.ics"]
    assert f"{folder / 'phong-noi-vu.ics'}  1 deadlines  Phòng Nội vụ" in out
    calendar = Calendar.from_ical((folder / "phong-noi-vu.ics").read_text(encoding="utf-8"))
    assert str(calendar["X-WR-CALNAME"]).endswith("– Phòng Nội vụ")
    assert [str(e["SUMMARY"]) for e in calendar.walk("VEVENT")] == [
        "Hạn 35/KH-UBND – Phòng Nội vụ: Giao Phòng Nội vụ xây dựng Đề cương kiểm tra."]
    reports = Calendar.from_ical((folder / "chua-ro-don-vi-no-unit.ics").read_text(encoding="utf-8"))
    assert len(list(reports.walk("VEVENT"))) == 2  # the two reporting due dates
