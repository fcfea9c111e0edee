"""`congvan tasks` and `congvan cites`; one slow end-to-end run over data/inbox."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.cli.main import main

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def test_tasks_table(analyst_db) -> None:
    code, out = run("tasks", "--db", str(analyst_db), "--due-after", "1/3/2024", "--due-before", "31/3/2024",
                    "--today", "2024-03-18")
    assert code == 0, out
    assert "3 nhiệm vụ" in out
    assert out.index("15/03/2024") < out.index("20/03/2024") < out.index("25/03/2024")  # by deadline
    assert "35/KH-UBND" in out and "28/02/2024" in out  # the source letter's number and date
    assert "quá 3 ngày" in out  # 15/03 seen from 18/03


@pytest.mark.parametrize("before", ["2024-03-20", "20/3/2024", "next week"])
def test_tasks_date_formats(analyst_db, before: str) -> None:
    # From Monday 11/3/2024 "next week" ends on Sunday 24/3/2024.
    code, out = run("tasks", "--db", str(analyst_db), "--due-before", before, "--today", "2024-03-11",
                    "--format", "json")
    assert code == 0, out
    assert [r["deadline"] for r in json.loads(out)] == ["2024-03-15", "2024-03-20"]


def test_tasks_filters_and_csv(analyst_db) -> None:
    code, out = run("tasks", "--db", str(analyst_db), "--overdue", "--today", "2024-04-30",
                    "--responsible", "phong noi vu", "--format", "csv")
    assert code == 0, out
    assert out.startswith("\ufeff")  # a BOM, for Excel
    rows = list(csv.DictReader(io.StringIO(out[1:])))
    assert [(r["deadline"], r["responsible"], r["doc_number"]) for r in rows] == [
        ("2024-03-15", "Phòng Nội vụ", "35/KH-UBND")]
    code, out = run("tasks", "--db", str(analyst_db), "--issuer", "ubnd huyen duc co", "--no-reports",
                    "--format", "json")
    assert [r["deadline"] for r in json.loads(out)] == ["2024-03-25"]


def test_tasks_bad_date_is_a_usage_error(analyst_db) -> None:
    code, out = run("tasks", "--db", str(analyst_db), "--due-before", "someday maybe")
    assert code == 2 and "cannot read" in out


def test_tasks_sample_database(sample_db) -> None:
    code, out = run("tasks", "--db", str(sample_db), "--format", "json")
    assert code == 0
    rows = json.loads(out)
    dated = [r["deadline"] for r in rows if r["deadline"]]
    assert dated == sorted(dated) and len(dated) > 10
    code, out = run("tasks", "--db", str(sample_db), "--responsible", "Phòng Nội vụ")
    assert code == 0 and "Phòng Nội vụ" in out


def test_cites(analyst_db, sample_db) -> None:
    code, out = run("cites", "2011/QD-UBND", "--db", str(analyst_db))
    assert code == 0
    assert out.splitlines()[0].startswith("35/KH-UBND  28/02/2024") and "(cited document is #1)" in out
    assert "479/UBND-NV" in out
    code, out = run("cites", "35/KH-UBND", "--db", str(sample_db), "--format", "json")
    rows = json.loads(out)
    assert rows and all(r["cited_document_id"] for r in rows)  # linked: the plan is in the database
    assert "No letter" in run("cites", "1/XX", "--db", str(analyst_db))[1]


@pytest.mark.slow
@pytest.mark.skipif(not any((ROOT / "data" / "inbox").glob("*")), reason="data/inbox is empty")
def test_every_command_on_the_sample_inbox(tmp_path) -> None:
    """The real thing: OCR the sample inbox, then ask it the analyst's questions."""
    db = tmp_path / "congvan.db"
    code, out = run("ingest", str(ROOT / "data" / "inbox"), "--db", str(db), "--quiet")
    assert code in (0, 1), out
    code, out = run("tasks", "--db", str(db), "--format", "json")
    assert code == 0 and json.loads(out)
    code, out = run("search", "cai cach hanh chinh", "--db", str(db), "--format", "json")
    assert code == 0 and json.loads(out)
    code, out = run("export", "--format", "ics", "--db", str(db))
    from icalendar import Calendar
    assert code == 0 and Calendar.from_ical(out).walk("VEVENT")


def test_tasks_survives_a_malformed_date(analyst_db) -> None:
    import sqlite3

    with sqlite3.connect(analyst_db) as conn:
        conn.execute("update documents set issue_date = '2024-13-45' where id = 2")
    code, out = run("tasks", "--db", str(analyst_db), "--today", "2024-03-01")
    assert code == 0, out
    assert "2024-13-45" in out
    assert run("export", "--format", "ics", "--db", str(analyst_db))[0] == 0
