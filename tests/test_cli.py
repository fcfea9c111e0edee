"""The congvan command line as a user drives it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from pagemaker import ENGLISH, LETTER, born_digital_pdf
from test_store import SPEC_KEYS

from pipeline.cli.main import main


def run(*args: str, input: str | None = None):
    return CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    folder = tmp_path / "inbox"
    folder.mkdir()
    (folder / "kh-35.txt").write_text(LETTER, encoding="utf-8")
    born_digital_pdf(LETTER.replace("35/KH-UBND", "36/KH-UBND"), folder / "kh-36.pdf")
    (folder / "empty.pdf").write_bytes(b"")
    (folder / "english.txt").write_text(ENGLISH * 3, encoding="utf-8")
    (folder / "~$draft.docx").write_bytes(b"lock file of an open editor")
    return folder


def test_extract_json_prints_exactly_the_record_contract(tmp_path: Path) -> None:
    pdf = born_digital_pdf(LETTER, tmp_path / "kh-35.pdf")
    result = run("extract", str(pdf), "--json")
    assert result.exit_code == 0
    record = json.loads(result.output)
    assert list(record) == SPEC_KEYS
    assert record["source"] == str(pdf) and record["text_source"] == "pdf-text-layer" and record["pages"] == 1
    assert record["doc_number"] == "35/KH-UBND"
    assert record["issue_date"] == "2024-02-28"


def test_extract_bad_file_is_one_line_naming_file_and_cause(tmp_path: Path) -> None:
    path = tmp_path / "empty.pdf"
    path.write_bytes(b"")
    result = CliRunner().invoke(main, ["extract", str(path)])
    assert result.exit_code == 1
    assert result.output.strip() == f"congvan: {path}: empty file (0 bytes)"


def test_ingest_stores_good_files_records_bad_ones_and_goes_on(inbox: Path, tmp_path: Path) -> None:
    db_path = tmp_path / "congvan.db"
    result = CliRunner().invoke(main, ["ingest", str(inbox), "--db", str(db_path), "--jobs", "1"])
    assert result.exit_code == 1, "some files failed"
    assert f"congvan: {inbox / 'empty.pdf'}: empty file (0 bytes)" in result.output
    assert "english.txt: not a Vietnamese letter" in result.output
    assert "4 files: 2 documents stored, 0 already in the database, 2 failed" in result.output

    from sqlite_utils import Database

    db = Database(db_path)
    assert sorted(r["doc_number"] for r in db["documents"].rows) == ["35/KH-UBND", "36/KH-UBND"]
    assert {r["source"].rsplit("/", 1)[1] for r in db["failures"].rows} == {"empty.pdf", "english.txt"}


def test_reingest_does_no_work_and_adds_no_rows(inbox: Path, tmp_path: Path) -> None:
    db_path = tmp_path / "congvan.db"
    good = [str(inbox / "kh-35.txt"), str(inbox / "kh-36.pdf")]
    assert run("ingest", *good, "--db", str(db_path)).exit_code == 0
    again = run("ingest", *good, "--db", str(db_path))
    assert again.exit_code == 0
    assert "0 documents stored, 2 already in the database, 0 failed" in again.output

    changed = inbox / "kh-35.txt"
    changed.write_text(LETTER + "\nBản sao.", encoding="utf-8")
    assert "1 documents stored, 1 already in the database" in run("ingest", *good, "--db", str(db_path)).output


def test_ingest_while_another_run_holds_the_database_exits_3_and_does_nothing(inbox: Path, tmp_path: Path) -> None:
    from pipeline.jobs.lock import RunLock, lock_path_for

    db_path = tmp_path / "congvan.db"
    with RunLock(lock_path_for(db_path)):  # as a nightly `congvan inbox` in progress would
        result = CliRunner().invoke(main, ["ingest", str(inbox / "kh-35.txt"), "--db", str(db_path)])
    assert result.exit_code == 3
    assert "another congvan run holds" in result.output
    assert not db_path.exists()
    assert run("ingest", str(inbox / "kh-35.txt"), "--db", str(db_path)).exit_code == 0  # free again afterwards


def test_failed_files_can_be_moved_aside_with_their_reason(inbox: Path, tmp_path: Path) -> None:
    failed = tmp_path / "failed"
    run("ingest", str(inbox), "--db", str(tmp_path / "c.db"), "--failed", str(failed))
    assert (failed / "empty.pdf").exists() and not (inbox / "empty.pdf").exists()
    assert "empty file (0 bytes)" in (failed / "empty.pdf.error.txt").read_text(encoding="utf-8")


def test_restore_reads_stdin_and_writes_stdout() -> None:
    result = run("restore", input="Ke hoach cai cach hanh chinh nam 2021\n")
    assert result.exit_code == 0
    assert result.output == "Kế hoạch cải cách hành chính năm 2021\n"


def test_export_jsonl_gives_one_record_per_document(inbox: Path, tmp_path: Path) -> None:
    db_path = tmp_path / "congvan.db"
    run("ingest", str(inbox / "kh-35.txt"), str(inbox / "kh-36.pdf"), "--db", str(db_path))
    lines = run("export", "--format", "jsonl", "--db", str(db_path)).output.splitlines()
    assert len(lines) == 2 and all(list(json.loads(line)) == SPEC_KEYS for line in lines)


@pytest.mark.parametrize("command", ["ingest", "extract", "restore", "export"])
def test_every_command_has_help_with_an_example(command: str) -> None:
    result = run(command, "--help")
    assert result.exit_code == 0 and "Example:" in result.output


def test_ingest_stopped_by_a_full_disk_says_what_it_stored_before_its_one_line(
        inbox: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sqlite3

    import pipeline.jobs.ingest as ingest

    real_store = ingest.store
    calls = []

    def store_then_full(*args: object, **kwargs: object) -> object:
        calls.append(1)
        if len(calls) > 1:
            raise sqlite3.OperationalError("database or disk is full")
        return real_store(*args, **kwargs)

    monkeypatch.setattr(ingest, "store", store_then_full)
    result = CliRunner().invoke(main, ["ingest", str(inbox), "--db", str(tmp_path / "congvan.db"), "--jobs", "1"])
    assert result.exit_code == 4
    summary = next(line for line in result.output.splitlines() if line.startswith("4 files:"))
    assert "1 documents stored" in summary and "stopped by a database error after" in summary
    assert "database or disk is full" in result.output and "Traceback" not in result.output
