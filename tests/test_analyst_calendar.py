"""ICS export: parsed back with the icalendar library; `congvan export --format csv|ics`."""

from __future__ import annotations

import csv
import io
import re
from datetime import date

from click.testing import CliRunner
from icalendar import Calendar

from pipeline.analyst.calendar import to_ics
from pipeline.analyst.query import tasks
from pipeline.cli.main import main
from pipeline.stages.store import open_db


def events(ics: str) -> list:
    calendar = Calendar.from_ical(ics)
    assert calendar["VERSION"] == "2.0" and calendar.get("PRODID")
    return calendar.walk("VEVENT")


def test_ics_has_one_event_per_deadline(analyst_db) -> None:
    ics = to_ics(open_db(analyst_db))
    assert ics.startswith("BEGIN:VCALENDAR\r\n") and ics.endswith("END:VCALENDAR\r\n")
    found = events(ics)
    # 4 dated tasks + 2 reporting due dates; the undated recurring task has no day.
    assert sorted(e.decoded("DTSTART") for e in found) == [
        date(2024, 3, 15), date(2024, 3, 20), date(2024, 3, 25), date(2024, 4, 5), date(2024, 6, 20),
        date(2024, 12, 31)]
    for event in found:
        assert isinstance(event.decoded("DTSTART"), date)  # all-day
        assert (event.decoded("DTEND") - event.decoded("DTSTART")).days == 1
        assert event.get("UID") and event.get("DTSTAMP") and event.get("SUMMARY")
    assert len({str(e["UID"]) for e in found}) == len(found)


def test_ics_event_names_the_letter(analyst_db) -> None:
    by_day = {e.decoded("DTSTART"): e for e in events(to_ics(open_db(analyst_db)))}
    report = by_day[date(2024, 3, 20)]
    description = str(report["DESCRIPTION"])
    assert "479/UBND-NV" in description and "06/03/2024" in description
    assert "V/v báo cáo công tác cải cách hành chính quý I năm 2024" in description
    assert str(report["SUMMARY"]).startswith("Hạn báo cáo 479/UBND-NV")
    task = by_day[date(2024, 3, 15)]
    assert "35/KH-UBND" in str(task["SUMMARY"]) and "Phòng Nội vụ" in str(task["SUMMARY"])
    assert "Kiểm tra công tác cải cách hành chính năm 2024" in str(task["DESCRIPTION"])


def test_ics_is_stable(analyst_db) -> None:
    db = open_db(analyst_db)
    assert to_ics(db) == to_ics(db)  # same database, same file: re-imports update events


def test_export_ics_sample(sample_db) -> None:
    result = CliRunner().invoke(main, ["export", "--format", "ics", "--db", str(sample_db)])
    assert result.exit_code == 0, result.output
    db = open_db(sample_db)
    expected = db.execute("select (select count(*) from tasks where deadline is not null)"
                          " + (select count(*) from reporting_periods where due is not null)").fetchone()[0]
    # A recurring duty whose words set dates is one event per due date of its year (issue 17).
    expected += sum(1 for r in tasks(db) if re.search(r"-\d{4}-\d{2}-\d{2}$", r["uid"]))
    found = events(result.output)
    assert len(found) == expected > 10
    numbers = {n for (n,) in db.execute("select doc_number from documents where doc_number is not null")}
    assert any(n in str(e["DESCRIPTION"]) for e in found for n in numbers)


def test_export_csv_one_row_per_document(sample_db) -> None:
    result = CliRunner().invoke(main, ["export", "--format", "csv", "--db", str(sample_db)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("\ufeff")  # a BOM, for Excel
    rows = list(csv.DictReader(io.StringIO(result.output[1:])))
    db = open_db(sample_db)
    assert len(rows) == db["documents"].count
    assert {"doc_number", "issue_date", "tasks", "references", "text"} <= set(rows[0])


def test_export_jsonl_unchanged(analyst_db) -> None:
    result = CliRunner().invoke(main, ["export", "--db", str(analyst_db)])
    assert result.exit_code == 0 and len(result.output.splitlines()) == 3
