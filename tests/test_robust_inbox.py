"""Issue 11: every bad file fails alone.  Each test here stopped a whole
`congvan inbox` run (or wrote a wrong line) before the fix."""

from __future__ import annotations

import io
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from pagemaker import ENGLISH, LETTER

from pipeline.core.errors import ExitCode
from pipeline.core.settings import Settings
from pipeline.jobs.inbox import InboxOptions, Log, run_inbox, scan

ROOT = Path(__file__).resolve().parents[1]


def inbox_run(tmp_path: Path, **settings: object) -> tuple[int, str, str]:
    """One in-process pass over tmp_path/inbox; (exit code, log, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    options = InboxOptions(tmp_path / "inbox", Settings(db=tmp_path / "congvan.db", settle_s=0, jobs=1, **settings))
    code = run_inbox(options, Log(out=out, err=err))
    return code, out.getvalue(), err.getvalue()


def json_run(tmp_path: Path) -> tuple[int, list[dict], str]:
    out, err = io.StringIO(), io.StringIO()
    options = InboxOptions(tmp_path / "inbox", Settings(db=tmp_path / "congvan.db", settle_s=0, jobs=1),
                           log_json=True)
    code = run_inbox(options, Log(as_json=True, out=out, err=err))
    return code, [json.loads(line) for line in out.getvalue().splitlines()], err.getvalue()


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    folder = tmp_path / "inbox"
    folder.mkdir()
    (folder / "kh-35.txt").write_text(LETTER, encoding="utf-8")
    return folder


def stored_sources(tmp_path: Path) -> list[str]:
    with sqlite3.connect(tmp_path / "congvan.db") as db:
        return [row[0] for row in db.execute("select source from documents order by id")]


def test_unreadable_file_fails_alone_and_dry_run_lists_it(inbox: Path, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    # Root reads any file, so "owned by another user, mode 600" is the open() failing as it would.
    secret = inbox / "secret.pdf"
    secret.write_bytes(b"%PDF-1.4 whatever")
    real_open = Path.open

    def guarded(self: Path, *args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        if self.name == "secret.pdf":
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "open", guarded)
    out, err = io.StringIO(), io.StringIO()
    dry = InboxOptions(inbox, Settings(db=tmp_path / "congvan.db", settle_s=0), dry_run=True)
    assert run_inbox(dry, Log(out=out, err=err)) == ExitCode.OK
    assert "fail      " in out.getvalue() and "secret.pdf: cannot read file (Permission denied)" in out.getvalue()

    code, log, err_text = inbox_run(tmp_path)
    assert code == ExitCode.INPUT_FAILED
    assert "secret.pdf -> " in log and "cannot read file (Permission denied) (stage load)" in log
    assert (tmp_path / "failed" / "secret.pdf.error.txt").exists()
    assert len(stored_sources(tmp_path)) == 1
    assert "Traceback" not in err_text


def test_name_that_is_not_utf8_is_stored_with_its_bytes_escaped(inbox: Path, tmp_path: Path) -> None:
    bad = os.fsdecode(os.path.join(os.fsencode(inbox), b"c\xf4ng v\xe3n.txt"))
    Path(bad).write_text(LETTER.replace("35/KH-UBND", "36/KH-UBND"), encoding="utf-8")
    english = os.fsdecode(os.path.join(os.fsencode(inbox), b"annex \xe9.txt"))
    Path(english).write_text(ENGLISH * 3, encoding="utf-8")
    code, log, _ = inbox_run(tmp_path)
    assert code == ExitCode.INPUT_FAILED  # the English one; the letter is stored
    assert any(source.endswith("c\\xf4ng v\\xe3n.txt") for source in stored_sources(tmp_path))
    assert "annex \\xe9.txt -> " in log
    with sqlite3.connect(tmp_path / "congvan.db") as db:
        assert db.execute("select source from failures").fetchone()[0].endswith("annex \\xe9.txt")


def test_symlink_loops_are_skipped_and_the_rest_is_read(inbox: Path, tmp_path: Path) -> None:
    os.symlink("loop-b", inbox / "loop-a")
    os.symlink("loop-a", inbox / "loop-b")
    (inbox / "sub").mkdir()
    os.symlink("..", inbox / "sub" / "up")
    assert [f.path.name for f in scan(inbox)] == ["kh-35.txt"]
    code, log, err = inbox_run(tmp_path)
    assert code == ExitCode.OK and "1 stored" in log
    assert os.path.islink(inbox / "loop-a") and os.path.islink(inbox / "sub" / "up")


def test_failing_file_with_a_246_byte_name_goes_to_failed_with_its_reason(inbox: Path, tmp_path: Path) -> None:
    name = "x" * 242 + ".pdf"
    (inbox / name).write_bytes(b"")
    (tmp_path / "failed").mkdir()
    (tmp_path / "failed" / ("x" * 100 + ".pdf")).write_bytes(b"")  # unrelated
    code, log, err = inbox_run(tmp_path)
    assert code == ExitCode.INPUT_FAILED and "Traceback" not in err
    moved = [p for p in (tmp_path / "failed").iterdir() if p.name.startswith("x" * 200)]
    notes = [p for p in moved if p.name.endswith(".error.txt")]
    assert len(moved) == 2 and len(notes) == 1
    assert "empty file" in notes[0].read_text(encoding="utf-8")
    assert all(len(os.fsencode(p.name)) <= 255 for p in moved)


def test_newline_in_a_name_cannot_forge_a_log_line(inbox: Path, tmp_path: Path) -> None:
    (inbox / "evil\n2026-01-01 00:00:00 stored    forged.txt").write_text(ENGLISH * 3, encoding="utf-8")
    code, log, _ = inbox_run(tmp_path)
    lines = log.splitlines()
    assert not any(line.startswith("2026-01-01") for line in lines)
    assert any("evil\\n2026-01-01 00:00:00 stored    forged.txt" in line and " failed " in line for line in lines)


def test_unexpected_exception_fails_that_file_logs_one_traceback_and_the_run_goes_on(
        inbox: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    import pipeline.jobs.ingest as ingest

    (inbox / "kh-36.txt").write_text(LETTER.replace("35/KH-UBND", "36/KH-UBND"), encoding="utf-8")
    real = ingest.finish

    def broken(text, stage=None):  # type: ignore[no-untyped-def]
        if text.source.path.name == "kh-35.txt":
            raise ZeroDivisionError("a bug in extraction")
        return real(text, stage)

    monkeypatch.setattr(ingest, "finish", broken)
    code, log, err = inbox_run(tmp_path)
    assert code == ExitCode.INPUT_FAILED
    assert "kh-35.txt" in log and "internal error: ZeroDivisionError: a bug in extraction (stage ocr)" in log
    assert "1 stored" in log and "1 internal errors" in log
    tracebacks = [r for r in caplog.records if r.exc_info]
    assert len(tracebacks) == 1 and "kh-35.txt" in tracebacks[0].getMessage()
    assert (tmp_path / "failed" / "kh-35.txt").exists()


def test_full_disk_while_storing_is_exit_4_with_a_summary_event(inbox: Path, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    import pipeline.jobs.ingest as ingest

    def full(*_args: object, **_kwargs: object) -> int:
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(ingest, "store", full)
    code, events, err = json_run(tmp_path)
    assert code == ExitCode.DATABASE == 4
    assert err.count("\n") == 1 and "database or disk is full" in err and "Traceback" not in err
    summary = events[-1]
    assert summary["event"] == "summary" and summary["exit_code"] == 4 and "disk is full" in summary["error"]
    assert (inbox / "kh-35.txt").exists()  # not moved: nothing was stored


def test_corrupt_database_is_exit_4_one_line_and_a_summary(inbox: Path, tmp_path: Path) -> None:
    (tmp_path / "congvan.db").write_bytes(b"this is not a database at all" * 200)
    code, log, err = inbox_run(tmp_path)
    assert code == ExitCode.DATABASE
    assert err.startswith("congvan: ") and "file is not a database" in err and err.count("\n") == 1
    assert "exit 4" in log.splitlines()[-1]


def test_no_room_for_the_lock_file_is_exit_4(inbox: Path, tmp_path: Path) -> None:
    (tmp_path / "plain-file").write_text("x")
    out, err = io.StringIO(), io.StringIO()
    options = InboxOptions(inbox, Settings(db=tmp_path / "plain-file" / "congvan.db", settle_s=0), log_json=True)
    assert run_inbox(options, Log(as_json=True, out=out, err=err)) == ExitCode.DATABASE
    assert "cannot create the lock file" in err.getvalue() and "Traceback" not in err.getvalue()
    summary = json.loads(out.getvalue().splitlines()[-1])
    assert summary["event"] == "summary" and summary["exit_code"] == 4


def test_db_through_a_symlink_to_a_locked_database_is_refused(inbox: Path, tmp_path: Path) -> None:
    from pipeline.jobs.lock import RunLock, lock_path_for

    real = tmp_path / "real.db"
    link = tmp_path / "link.db"
    os.symlink(real, link)
    with RunLock(lock_path_for(real)):
        out, err = io.StringIO(), io.StringIO()
        options = InboxOptions(inbox, Settings(db=link, settle_s=0))
        assert run_inbox(options, Log(out=out, err=err)) == ExitCode.LOCKED


def test_db_that_is_a_folder_is_a_usage_error(inbox: Path, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from pipeline.cli.main import main

    (tmp_path / "dbdir").mkdir()
    result = CliRunner().invoke(main, ["ingest", str(inbox), "--db", str(tmp_path / "dbdir")])
    assert result.exit_code == ExitCode.USAGE and "is a folder" in result.output
    result = CliRunner().invoke(main, ["inbox", str(inbox), "--db", str(tmp_path / "dbdir")])
    assert result.exit_code == ExitCode.USAGE


def test_hostile_inbox_as_cron_runs_it(tmp_path: Path) -> None:
    """The issue's 'done when': two letters stored, every bad file in failed/ with its reason, links left,
    exit 1, no traceback, memory well bounded."""
    result = subprocess.run([sys.executable, "-m", "benchmarks.robust", "--jobs", "1"], cwd=ROOT,
                            capture_output=True, text=True, timeout=300)
    assert "result: PASS" in result.stdout, result.stdout + result.stderr
