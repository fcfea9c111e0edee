"""`congvan inbox` run as cron runs it: a real process over a real folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest
from pagemaker import born_digital_pdf, render_page, save_image
from test_inbox_support import (
    BAD_FILES,
    IGNORED,
    ROOT,
    db_counts,
    env,
    files_under,
    letter,
    make_letters,
    run,
    sha,
    write,
)

from pipeline.jobs.inbox import Found, scan, unchanged
from pipeline.jobs.lock import Locked, RunLock

pytestmark = pytest.mark.timeout(600)


def month_folder(done: Path) -> Path:
    now = datetime.now()
    return done / f"{now:%Y}" / f"{now:%m}"


def test_fifty_mixed_files_five_bad(tmp_path: Path) -> None:
    inbox, db = tmp_path / "inbox", tmp_path / "congvan.db"
    good = make_letters(inbox, 41)
    # Not only text: a born-digital PDF, a scanned page (OCR), a UTF-16 text file.
    (inbox / "pdf").mkdir()
    born_digital_pdf(letter(900).replace(" || ", "    "), inbox / "pdf" / "cv-900.pdf")
    born_digital_pdf(letter(901).replace(" || ", "    "), inbox / "pdf" / "cv-901.pdf")
    save_image(render_page(letter(902).replace(" || ", "    "), font_pt=11), inbox / "scan-902.png")
    write(inbox / "cv-903-utf16.txt", letter(903).encode("utf-16"))
    for name in ("pdf/cv-900.pdf", "pdf/cv-901.pdf", "scan-902.png", "cv-903-utf16.txt"):
        good[name] = (inbox / name).read_bytes()
    for name, (data, _) in BAD_FILES.items():
        write(inbox / "bad" / name, data)
    for name in IGNORED:
        write(inbox / name, b"not a letter")
    assert len(good) == 45 and len(good) + len(BAD_FILES) == 50

    result = run(inbox, db, timeout=500)
    assert result.returncode == 1, result.stderr  # some failed
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 51, result.stdout  # a line per document, then the summary
    assert "50 files: 45 stored, 0 duplicates, 5 failed, 0 left for the next run" in lines[-1]
    assert lines[-1].endswith("exit 1")

    counts = db_counts(db)
    assert counts["documents"] == 45 and counts["shas"] == {sha(d) for d in good.values()}
    assert counts["orphans"] == 0 and counts["pageless"] == 0 and counts["integrity"] == "ok"

    done = month_folder(tmp_path / "done")
    assert sorted(p.name for p in files_under(tmp_path / "done")) == sorted(Path(n).name for n in good)
    assert all(p.parent == done for p in files_under(tmp_path / "done"))
    failed = tmp_path / "failed"
    for name, (data, cause) in BAD_FILES.items():
        assert (failed / name).read_bytes() == data
        reason = (failed / f"{name}.error.txt").read_text(encoding="utf-8")
        assert cause in reason and "stage:" in reason, reason
    assert len(files_under(failed)) == 10
    # Ignored files stay where they are; nothing else does.
    assert sorted(p.name for p in files_under(inbox)) == sorted(IGNORED)

    again = run(inbox, db)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "0 files: 0 stored" in again.stdout


def test_known_file_goes_to_done_as_duplicate_and_copies_in_one_run_too(tmp_path: Path) -> None:
    inbox, db = tmp_path / "inbox", tmp_path / "db.sqlite"
    write(inbox / "a.txt", letter(1))
    assert run(inbox, db).returncode == 0
    write(inbox / "again" / "a.txt", letter(1))  # the same letter dropped again
    write(inbox / "b.txt", letter(2))
    write(inbox / "b-copy.txt", letter(2))  # two copies arriving together
    result = run(inbox, db, "--log-json")
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    by_path = {Path(e["path"]).relative_to(inbox).as_posix(): e for e in events if e["event"] == "document"}
    assert by_path["again/a.txt"]["status"] == "duplicate"
    assert {by_path["b.txt"]["status"], by_path["b-copy.txt"]["status"]} == {"stored", "duplicate"}
    assert all(Path(e["moved_to"]).is_file() for e in by_path.values())
    summary = events[-1]
    assert summary["event"] == "summary" and summary["stored"] == 1 and summary["duplicates"] == 2
    assert summary["exit_code"] == 0
    assert db_counts(db)["documents"] == 2
    assert files_under(inbox) == []
    assert len(files_under(tmp_path / "done")) == 4  # nothing deleted: every copy kept


def test_dry_run_lists_and_changes_nothing(tmp_path: Path) -> None:
    inbox, db = tmp_path / "inbox", tmp_path / "db.sqlite"
    make_letters(inbox, 3, sub_every=0)
    write(inbox / "empty.pdf", b"")
    before = {p: p.stat().st_mtime_ns for p in files_under(inbox)}
    result = run(inbox, db, "--dry-run")
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("process ") == 3 and "empty file" in result.stdout
    assert "3 would be processed" in result.stdout
    assert {p: p.stat().st_mtime_ns for p in files_under(inbox)} == before
    assert not db.exists() and not (tmp_path / "done").exists() and not (tmp_path / "failed").exists()


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    missing = run(tmp_path / "nope", tmp_path / "db.sqlite")
    assert missing.returncode == 2
    inside_done = run(inbox, tmp_path / "db.sqlite", "--done", str(tmp_path))
    assert inside_done.returncode == 2 and "holds the inbox" in inside_done.stderr


def test_done_and_failed_inside_the_inbox_are_not_scanned(tmp_path: Path) -> None:
    inbox, db = tmp_path / "inbox", tmp_path / "db.sqlite"
    write(inbox / "a.txt", letter(5))
    write(inbox / "empty.txt", b"")
    args = ("--done", str(inbox / "done"), "--failed", str(inbox / "failed"))
    assert run(inbox, db, *args).returncode == 1
    again = run(inbox, db, *args)
    assert again.returncode == 0 and "0 files" in again.stdout


def test_page_timeout_fails_the_document_not_the_run(tmp_path: Path) -> None:
    inbox, db = tmp_path / "inbox", tmp_path / "db.sqlite"
    inbox.mkdir()
    save_image(render_page(letter(7).replace(" || ", "    "), font_pt=11), inbox / "slow.png")
    write(inbox / "a.txt", letter(8))
    result = run(inbox, db, "--page-timeout", "0.01")
    assert result.returncode == 1, result.stdout + result.stderr
    reason = (tmp_path / "failed" / "slow.png.error.txt").read_text(encoding="utf-8")
    assert "OCR timed out on a page after 0.01 s" in reason
    assert db_counts(db)["documents"] == 1


# ----------------------------------------------------------------------------- in-process pieces


def test_lock_is_exclusive_and_released_with_its_process(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite.lock"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from pipeline.jobs.lock import RunLock; "
         f"RunLock({str(path)!r}).acquire(); print('held', flush=True); time.sleep(60)"],
        cwd=ROOT, env=env(), stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(Locked) as caught:
            RunLock(path).acquire()
        assert f"pid {holder.pid}" in str(caught.value)
    finally:
        holder.kill()
        holder.wait()
    with RunLock(path):  # a killed holder leaves no stale lock
        pass


def test_scan_ignores_temporary_and_hidden_files_and_ages_by_ctime(tmp_path: Path) -> None:
    for name in ["a.txt", "sub/b.pdf", ".git/x.txt", *IGNORED]:
        write(tmp_path / name, b"x")
    old = time.time() - 3600
    os.utime(tmp_path / "a.txt", (old, old))  # an old mtime (cp -p) does not make a new file settled
    found = scan(tmp_path)
    assert [f.path.relative_to(tmp_path).as_posix() for f in found] == ["a.txt", "sub/b.pdf"]
    assert all(f.age < 600 for f in found)


def test_file_changed_after_the_scan_is_left(tmp_path: Path) -> None:
    path = write(tmp_path / "a.txt", b"first part")
    info = path.stat()
    check = unchanged({path: Found(path, info.st_size, info.st_mtime_ns, 100.0)})
    assert check(path) is None
    with path.open("ab") as handle:
        handle.write(b" and more")
    assert "changed since the scan" in (check(path) or "")
    path.unlink()
    assert "gone" in (check(path) or "")
