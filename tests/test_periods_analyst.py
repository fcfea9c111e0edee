"""Reporting periods for the analyst: quarter/month/year phrases as date spans, recurring duties
as one row (and one calendar event) per due date, and the issue's `--due-after "quý 3/2021"`."""

from __future__ import annotations

import hashlib
from dataclasses import fields as dataclass_fields
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from icalendar import Calendar

from pipeline.analyst import query
from pipeline.analyst.calendar import to_ics
from pipeline.analyst.query import DateRange, parse_date
from pipeline.stages.store import open_db

SEED002 = Path(__file__).resolve().parents[2] / "shared" / "dev" / "inbox" / "seed002-digital.txt"


@pytest.mark.parametrize(("text", "first", "last"), [
    ("quý 3/2021", date(2021, 7, 1), date(2021, 9, 30)),
    ("Quý III/2021", date(2021, 7, 1), date(2021, 9, 30)),
    ("quý 2 năm 2021", date(2021, 4, 1), date(2021, 6, 30)),
    ("Q2 2021", date(2021, 4, 1), date(2021, 6, 30)),
    ("2021-Q4", date(2021, 10, 1), date(2021, 12, 31)),
    ("tháng 6/2021", date(2021, 6, 1), date(2021, 6, 30)),
    ("tháng 2 năm 2024", date(2024, 2, 1), date(2024, 2, 29)),
    ("2021-06", date(2021, 6, 1), date(2021, 6, 30)),
    ("June 2021", date(2021, 6, 1), date(2021, 6, 30)),
    ("6 tháng đầu năm 2021", date(2021, 1, 1), date(2021, 6, 30)),
    ("2021", date(2021, 1, 1), date(2021, 12, 31)),
    ("năm 2021", date(2021, 1, 1), date(2021, 12, 31)),
])
def test_periods_are_spans(text: str, first: date, last: date) -> None:
    span = parse_date(text)
    assert isinstance(span, DateRange) and (span.first, span.last) == (first, last)


def test_days_stay_days() -> None:
    assert parse_date("1/7/2021") == date(2021, 7, 1)
    assert parse_date("2021-06-30") == date(2021, 6, 30)
    with pytest.raises(ValueError):
        parse_date("quý 5/2021")


LETTER = """UBND HUYỆN CAO LỘC || CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
Số: 12/UBND-NV || Cao Lộc, ngày 05 tháng 01 năm 2024
V/v báo cáo công tác cải cách hành chính năm 2024

Kính gửi: UBND các xã, thị trấn.

Thực hiện Kế hoạch số 35/KH-UBND, UBND huyện đề nghị:
1. UBND các xã, thị trấn định kỳ hằng quý báo cáo kết quả cải cách hành chính về UBND huyện (qua Phòng
Nội vụ) trước ngày 20 tháng cuối quý.
2. Phòng Nội vụ tổng hợp, báo cáo UBND huyện trước ngày 25/01/2024.

Nơi nhận:
- Như trên;
- Lưu: VT.
"""


def _store_text(db_path: Path, text: str, source: str = "letter.txt") -> None:
    from extractors import extract_fields
    from pipeline.core.types import Record
    from pipeline.stages.store import store

    fields = extract_fields(text)
    record = Record(source=source, sha256=hashlib.sha256(text.encode()).hexdigest(), pages=1,
                    text_source="text-file", **vars(fields))
    db = open_db(db_path)
    store(db, record)
    db.conn.close()


@pytest.fixture
def recurring_db(analyst_db: Path) -> Path:
    _store_text(analyst_db, LETTER)
    return analyst_db


def test_a_recurring_duty_is_a_row_per_due_date_with_its_owner(recurring_db: Path) -> None:
    db = open_db(recurring_db)
    rows = [r for r in query.tasks(db) if r["doc_number"] == "12/UBND-NV" and r["recurrence"] == "hằng quý"]
    assert [r["deadline"] for r in rows] == ["2024-03-20", "2024-06-20", "2024-09-20", "2024-12-20"]
    assert rows[2]["text"].startswith("[Quý III/2024] UBND các xã") and "qua Phòng Nội vụ" in rows[2]["text"]
    assert all(r["responsible"] and r["responsible"].startswith("UBND các xã, thị trấn") for r in rows)
    assert len({r["uid"] for r in query.tasks(db)}) == len(query.tasks(db))
    q3 = query.tasks(db, due_after="quý 3/2024", due_before="quý 3/2024")
    assert [(r["deadline"], r["doc_number"]) for r in q3] == [("2024-09-20", "12/UBND-NV")]
    # The undated recurring task without dates of its own is still listed once, undated.
    assert [r["recurrence"] for r in query.tasks(db) if r["deadline"] is None] == ["định kỳ hằng quý"]


def test_the_calendar_has_one_event_per_due_date_of_a_recurring_report(recurring_db: Path) -> None:
    found = Calendar.from_ical(to_ics(open_db(recurring_db))).walk("VEVENT")
    recurring = sorted(e.decoded("DTSTART") for e in found if str(e["SUMMARY"]).startswith("Hạn định kỳ"))
    assert recurring == [date(2024, 3, 20), date(2024, 6, 20), date(2024, 9, 20), date(2024, 12, 20)]
    assert all("Định kỳ: hằng quý" in str(e["DESCRIPTION"]) for e in found
               if str(e["SUMMARY"]).startswith("Hạn định kỳ"))


def test_the_record_carries_the_due_dates_of_its_recurring_duties() -> None:
    from extractors import extract_fields

    fields = extract_fields(LETTER)
    assert fields.tasks[0].deadline is None and fields.tasks[1].deadline == "2024-01-25"  # no guessed deadline
    assert [(r["task"], r["label"], r["due"]) for r in fields.extra["recurring_reports"]] == [
        (0, "Quý I/2024", "2024-03-20"), (0, "Quý II/2024", "2024-06-20"), (0, "Quý III/2024", "2024-09-20"),
        (0, "Quý IV/2024", "2024-12-20")]
    assert "recurring_reports" not in extract_fields("Kính gửi: UBND các xã.\n1. Báo cáo trước ngày 20.").extra


def test_a_table_row_with_its_recurrence_in_its_own_column() -> None:
    from extractors.recurring import occurrences, plan_years
    from pipeline.core.types import Task

    row = Task(text="Báo cáo kết quả giải quyết thủ tục hành chính trước ngày 05 của tháng liền kề",
               responsible=None, cooperating=None, deadline=None, recurrence="Định kỳ hằng tháng")
    assert [o["due"] for o in occurrences(row, [2026])][:2] == ["2026-02-05", "2026-03-05"]
    yearly = Task(text="Báo cáo kết quả trước ngày 15 tháng 12 hằng năm.", responsible=None, cooperating=None,
                  deadline=None, recurrence="hằng năm")
    years = plan_years("Kế hoạch cải cách hành chính giai đoạn 2026 - 2030", 2026)
    assert [o["due"] for o in occurrences(yearly, years)] == [f"{y}-12-15" for y in range(2026, 2031)]
    assert occurrences(Task(text="Báo cáo kết quả trước ngày 05.", responsible=None, cooperating=None,
                            deadline=None, recurrence="Định kỳ"), [2026]) == []


@pytest.mark.skipif(not SEED002.exists(), reason="no shared dev set")
def test_reports_due_in_a_quarter_from_a_real_letter(tmp_path: Path) -> None:
    from extractors import extract_fields
    from pipeline.cli.main import main
    from pipeline.core.types import Record
    from pipeline.stages.store import store

    data = SEED002.read_bytes()
    fields = extract_fields(data.decode("utf-8"))
    record = Record(source=str(SEED002), sha256=hashlib.sha256(data).hexdigest(), pages=1,
                    text_source="text-file", **{f.name: getattr(fields, f.name) for f in dataclass_fields(fields)})
    db_path = tmp_path / "congvan.db"
    db = open_db(db_path)
    store(db, record)
    rows = query.tasks(db, due_after="quý 3/2021", due_before="quý 3/2021")
    reports = [r for r in rows if r["kind"] == "report"]
    assert [(r["deadline"], r["text"].split(" (")[0]) for r in reports] == [("2021-09-13", "Báo cáo Quý III/2021")]
    assert reports[0]["responsible"] == "UBND các xã, thị trấn" and reports[0]["text"].endswith(", gửi Phòng Nội vụ")
    assert [r["deadline"] for r in query.tasks(db, responsible="ubnd cac xa") if r["kind"] == "report"] == [
        "2021-03-13", "2021-06-13", "2021-09-13", "2021-11-15"]
    result = CliRunner().invoke(main, ["tasks", "--db", str(db_path), "--due-after", "quý 3/2021",
                                       "--due-before", "quý 3/2021", "--format", "csv"])
    assert result.exit_code == 0, result.output
    assert "2021-09-13" in result.output and "2021-06-13" not in result.output


def test_a_database_from_before_report_owners_still_lists_its_reports(analyst_db: Path) -> None:
    db = open_db(analyst_db)
    db["reporting_periods"].transform(drop={"owner", "receiver"})
    reports = [r for r in query.tasks(db) if r["kind"] == "report"]
    assert [(r["deadline"], r["responsible"]) for r in reports] == [("2024-03-20", None), ("2024-06-20", None)]
