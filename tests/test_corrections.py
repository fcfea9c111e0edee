"""Corrections (issue 15): `congvan correct`, `done`/`reopen`, corrected values in
the record and the analyst commands, `ingest --reprocess` keeping every fix, and
citations linked by number and year."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.cli.main import main
from pipeline.core.types import Record, Reference
from pipeline.stages.store import iter_records, open_db, store

LETTERS = Path(__file__).parent / "letters"


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def export(db_path: Path) -> list[dict]:
    code, out = run("export", "--format", "jsonl", "--db", str(db_path))
    assert code == 0, out
    return [json.loads(line) for line in out.splitlines()]


def test_correct_a_document_field_by_number_shows_everywhere(analyst_db: Path) -> None:
    code, out = run("correct", "35/kh-ubnd", "issue_date", "29/2/2024", "--db", str(analyst_db), "--by", "Lan")
    assert code == 0, out
    assert "document #2: issue_date corrected: '2024-02-28' -> '2024-02-29' (by Lan," in out
    assert [r["issue_date"] for r in export(analyst_db) if r["doc_number"] == "35/KH-UBND"] == ["2024-02-29"]
    code, out = run("tasks", "--db", str(analyst_db), "--format", "json", "--responsible", "phong noi vu")
    assert json.loads(out)[0]["issue_date"] == "2024-02-29"
    with sqlite3.connect(analyst_db) as conn:
        rows = conn.execute("select document_id, task_id, field, old_value, new_value, by from corrections").fetchall()
    assert rows == [(2, None, "issue_date", "2024-02-28", "2024-02-29", "Lan")]


def test_correct_by_sha256_prefix_and_null(analyst_db: Path) -> None:
    code, out = run("correct", "cccccccc", "subject", "-", "--db", str(analyst_db), "--by", "x")
    assert code == 0, out
    assert "document #3: subject corrected: 'V/v báo cáo" in out and "-> null" in out


@pytest.mark.parametrize(("args", "message"), [
    (("35/KH-UBND", "issue_date", "31/2/2024"), "is not a date"),
    (("35/KH-UBND", "colour", "red"), "colour: not a document field"),
    (("999/XX", "subject", "x"), "999/XX: no document with this id"),
])
def test_correct_refuses_bad_input_with_exit_2(analyst_db: Path, args: tuple[str, ...], message: str) -> None:
    code, out = run("correct", *args, "--db", str(analyst_db))
    assert code == 2 and message in out, out
    with sqlite3.connect(analyst_db) as conn:
        assert conn.execute("select count(*) from corrections").fetchone() == (0,)


def test_done_tasks_leave_the_overdue_list_and_reopen_brings_them_back(analyst_db: Path) -> None:
    def overdue() -> list[str]:
        code, out = run("tasks", "--db", str(analyst_db), "--overdue", "--today", "2024-03-26", "--format", "json")
        assert code == 0, out
        return [r["deadline"] for r in json.loads(out)]

    assert overdue() == ["2024-03-15", "2024-03-20", "2024-03-25"]
    task_id = json.loads(run("tasks", "--db", str(analyst_db), "--format", "json")[1])[0]["task_id"]
    code, out = run("done", str(task_id), "--db", str(analyst_db), "--by", "Phòng Nội vụ")
    assert code == 0 and out.startswith(f"task {task_id} (35/KH-UBND: Giao Phòng Nội vụ") and out.strip().endswith(
        ": done"), out
    assert overdue() == ["2024-03-20", "2024-03-25"]
    [record] = [r for r in export(analyst_db) if r["doc_number"] == "35/KH-UBND"]
    assert record["tasks"][0]["done_at"] is not None and record["tasks"][1]["done_at"] is None
    assert run("reopen", str(task_id), "--db", str(analyst_db))[0] == 0
    assert overdue() == ["2024-03-15", "2024-03-20", "2024-03-25"]


def test_correct_a_task_deadline_with_its_uid(analyst_db: Path) -> None:
    rows = json.loads(run("tasks", "--db", str(analyst_db), "--format", "json")[1])
    first = rows[0]
    code, out = run("correct", "2", "deadline", "2024-03-18", "--task", first["uid"], "--db", str(analyst_db))
    assert code == 0 and "deadline corrected: '2024-03-15' -> '2024-03-18'" in out, out
    code, out = run("correct", "3", "deadline", "2024-03-18", "--task", first["uid"], "--db", str(analyst_db))
    assert code == 2 and "belongs to document #2" in out


def _record(sha: str, number: str, issue_date: str, cites: list[Reference] | None = None) -> Record:
    return Record(source=f"inbox/{sha[:4]}.txt", sha256=sha, pages=1, text_source="text-file", doc_number=number,
                  issuer="Ủy ban nhân dân huyện Cao Lộc", issue_date=issue_date, references=cites or [],
                  text="Kế hoạch")


def test_citations_link_by_number_and_year(tmp_path: Path) -> None:
    db = open_db(tmp_path / "congvan.db")
    old = store(db, _record("1" * 64, "122/KH-UBND", "2021-03-02"))
    notice = store(db, _record("2" * 64, "5/TB-UBND", "2024-06-01",
                               [Reference("122/KH-UBND", "Kế hoạch", "2024-05-14", "Ủy ban nhân dân huyện")]))
    undated = store(db, _record("3" * 64, "6/TB-UBND", "2021-04-01",
                                [Reference("122/KH-UBND", "Kế hoạch", None, None)]))

    def link(citing: int) -> int | None:
        return db.execute('select document_id from "references" where citing_document_id = ?', [citing]).fetchone()[0]

    assert link(notice) is None  # never the 2021 letter with the same number
    assert link(undated) == old  # no cited date: the one issued before the citing letter
    new = store(db, _record("4" * 64, "122/KH-UBND", "2024-05-14"))
    assert link(notice) == new and link(undated) == old


def test_the_cited_issuer_tells_two_letters_of_one_number_and_year_apart(tmp_path: Path) -> None:
    from dataclasses import replace

    db = open_db(tmp_path / "congvan.db")
    caoloc = store(db, _record("1" * 64, "122/KH-UBND", "2024-05-14"))
    ducco = store(db, replace(_record("2" * 64, "122/KH-UBND", "2024-05-20"), issuer="Ủy ban nhân dân huyện Đức Cơ"))
    citing = [Reference("122/KH-UBND", "Kế hoạch", "2024-05-14", "UBND huyện Đức Cơ"),  # the day misread
              Reference("122/KH-UBND", "Kế hoạch", "2024-05-20", "UBND huyện Cao Lộc")]
    notice = store(db, _record("3" * 64, "5/TB-UBND", "2024-06-01", citing))
    links = [row[0] for row in db.execute(
        'select document_id from "references" where citing_document_id = ? order by position', [notice])]
    assert links == [ducco, caoloc]  # the issuer outweighs the day within one year


def test_a_corrected_date_moves_the_citation_link(tmp_path: Path) -> None:
    db = open_db(tmp_path / "congvan.db")
    misread = store(db, _record("1" * 64, "122/KH-UBND", "2021-05-14"))  # 2024 read as 2021
    notice = store(db, _record("2" * 64, "5/TB-UBND", "2024-06-01",
                               [Reference("122/KH-UBND", "Kế hoạch", "2024-05-14", None)]))
    assert db.execute('select document_id from "references"').fetchone() == (None,)
    from pipeline.stages.corrections import correct_document

    correct_document(db, misread, "issue_date", "14/5/2024", "archivist")
    assert db.execute('select document_id from "references" where citing_document_id = ?',
                      [notice]).fetchone() == (misread,)


def test_corrections_survive_ingest_reprocess(tmp_path: Path) -> None:
    letter = tmp_path / "inbox" / "kh-35.txt"
    letter.parent.mkdir()
    shutil.copy(LETTERS / "kh-cchc-caoloc.txt", letter)
    db_path = tmp_path / "congvan.db"
    code, out = run("ingest", str(letter), "--db", str(db_path), "--jobs", "1", "--quiet")
    assert code == 0, out
    [before] = export(db_path)
    assert before["doc_number"] == "35/KH-UBND" and before["tasks"]
    assert run("correct", "35/KH-UBND", "subject", "Kiểm tra CCHC 2024 (đã sửa)", "--db", str(db_path))[0] == 0
    tasks = json.loads(run("tasks", "--db", str(db_path), "--format", "json", "--no-reports")[1])
    dated = next(t for t in tasks if t["deadline"] == "2024-03-15")
    assert run("correct", "35/KH-UBND", "deadline", "20/3/2024", "--task", str(dated["task_id"]),
               "--db", str(db_path))[0] == 0
    assert run("done", dated["uid"], "--db", str(db_path))[0] == 0

    code, out = run("ingest", "--reprocess", str(letter), "--db", str(db_path), "--jobs", "1", "--quiet")
    assert code == 0 and "1 reprocessed (corrections kept)" in out, out
    [after] = export(db_path)
    assert after["subject"] == "Kiểm tra CCHC 2024 (đã sửa)"
    task = next(t for t in after["tasks"] if t["text"] == next(
        t for t in before["tasks"] if t["deadline"] == "2024-03-15")["text"])
    assert task["deadline"] == "2024-03-20" and task["done_at"] is not None
    # Same document id, no duplicate rows.
    records = list(iter_records(open_db(db_path)))
    assert len(records) == 1 and len(records[0]["tasks"]) == len(before["tasks"])
    # A plain ingest still skips it.
    code, out = run("ingest", str(letter), "--db", str(db_path), "--jobs", "1", "--quiet")
    assert "1 already in the database" in out
