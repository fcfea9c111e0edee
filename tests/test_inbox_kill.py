"""`congvan inbox` under the accidents of a night: a second run, kill -9, SIGTERM, a scanner still writing.

Faults are injected by a run-hook plug-in, tests/plugins/faults.py, loaded
through the settings (`CONGVAN_PLUGINS`): CONGVAN_FAULT_DOC_DELAY_S slows each
document so a signal lands mid-run; CONGVAN_FAULT_KILL_AFTER_COMMIT kills the
run between a commit and the move of its file.  congvan has no test hooks.  No assertion
depends on how fast the machine is, only on the order of events.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest
from pagemaker import render_page, save_image
from test_inbox_support import (
    BAD_FILES,
    db_counts,
    files_under,
    kill_group,
    letter,
    make_letters,
    run,
    sha,
    start,
    wait_for_line,
    write,
)

pytestmark = pytest.mark.timeout(600)


def check_nothing_lost(inbox: Path, done: Path, failed: Path, inputs: dict[str, bytes]) -> None:
    """Every input is in exactly one place, with its bytes; no stray copies anywhere."""
    places = [p for folder in (inbox, done, failed) for p in files_under(folder) if not p.name.endswith(".error.txt")]
    assert sorted(p.name for p in places) == sorted(Path(name).name for name in inputs)
    contents = sorted(p.read_bytes() for p in places)
    assert contents == sorted(inputs.values())


def check_database(db: Path, expected_shas: set[str] | None = None) -> dict:
    counts = db_counts(db)
    assert counts["integrity"] == "ok"
    assert counts["orphans"] == 0 and counts["pageless"] == 0  # no half-written document
    assert counts["documents"] == counts["distinct"]  # no duplicate rows
    if expected_shas is not None:
        assert counts["shas"] == expected_shas
    return counts


def _proc_stat(pid: int) -> tuple[str, str, int] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    comm = raw[raw.index("(") + 1: raw.rindex(")")]
    fields = raw[raw.rindex(")") + 2:].split()
    return comm, fields[0], int(fields[1])  # name, state, parent pid


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = _proc_stat(int(entry.name))
            if stat and stat[2] == pid:
                found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    stat = _proc_stat(pid)
    return stat is not None and stat[1] not in ("Z", "X")


def test_second_run_exits_at_once_with_its_own_code(tmp_path: Path) -> None:
    inbox, db = tmp_path / "inbox", tmp_path / "db.sqlite"
    make_letters(inbox, 10)
    first = start(inbox, db, CONGVAN_FAULT_DOC_DELAY_S="1")
    try:
        wait_for_line(first, "stored")
        second = run(inbox, db)
        assert first.poll() is None, "the first run was meant to be still going"
        assert second.returncode == 3
        assert "another congvan run holds" in second.stderr and f"pid {first.pid}" in second.stderr
        assert second.stdout == ""
        out, _ = first.communicate(timeout=300)
        assert first.returncode == 0, out
    finally:
        kill_group(first)
    check_database(db)
    assert db_counts(db)["documents"] == 10 and len(files_under(tmp_path / "done")) == 10


def test_sigkill_mid_run_then_rerun_finishes_the_job(tmp_path: Path) -> None:
    inbox, db, done, failed = tmp_path / "inbox", tmp_path / "db.sqlite", tmp_path / "done", tmp_path / "failed"
    inputs = make_letters(inbox, 12)
    inputs["sub1/copy-of-cv-001.txt"] = write(inbox / "sub1" / "copy-of-cv-001.txt", letter(1)).read_bytes()
    for name in ("empty.pdf", "truncated.pdf"):
        inputs[f"bad/{name}"] = write(inbox / "bad" / name, BAD_FILES[name][0]).read_bytes()
    good = {sha(data) for name, data in inputs.items() if not name.startswith("bad/")}

    run_ = start(inbox, db, CONGVAN_FAULT_DOC_DELAY_S="0.3")
    wait_for_line(run_, "stored")
    kill_group(run_, signal.SIGKILL)
    run_.wait(timeout=30)
    assert run_.returncode == -signal.SIGKILL
    mid = check_database(db)
    assert 1 <= mid["documents"] < len(good), "the kill was meant to land mid-run"
    check_nothing_lost(inbox, done, failed, inputs)

    rerun = run(inbox, db)
    assert rerun.returncode == 1, rerun.stdout + rerun.stderr  # the two bad files
    check_database(db, good)
    check_nothing_lost(inbox, done, failed, inputs)
    assert files_under(inbox) == []
    assert len([p for p in files_under(failed) if not p.name.endswith(".error.txt")]) == 2
    assert len(files_under(done)) == len(inputs) - 2
    assert run(inbox, db).returncode == 0


def test_sigkill_between_commit_and_move_is_completed_as_a_duplicate(tmp_path: Path) -> None:
    inbox, db, done = tmp_path / "inbox", tmp_path / "db.sqlite", tmp_path / "done"
    inputs = make_letters(inbox, 6, sub_every=0)
    killed = run(inbox, db, CONGVAN_FAULT_KILL_AFTER_COMMIT="3")
    assert killed.returncode == -signal.SIGKILL
    assert db_counts(db)["documents"] == 3
    assert len(files_under(done)) == 2  # the third was committed, not yet moved
    stranded = sorted(inputs)[2]
    assert (inbox / stranded).exists()

    rerun = run(inbox, db)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert f"duplicate {inbox / stranded}" in rerun.stdout
    check_database(db, {sha(d) for d in inputs.values()})
    check_nothing_lost(inbox, done, tmp_path / "failed", inputs)
    assert files_under(inbox) == []


def test_sigkill_during_ocr_leaves_no_worker_and_no_lock(tmp_path: Path) -> None:
    inbox, db = tmp_path / "inbox", tmp_path / "db.sqlite"
    inbox.mkdir()
    save_image(render_page(letter(50).replace(" || ", "    "), font_pt=11), inbox / "a-scan.png")
    inputs = {"a-scan.png": (inbox / "a-scan.png").read_bytes(), **make_letters(inbox, 3, start=51, sub_every=0)}
    run_ = start(inbox, db, CONGVAN_FAULT_ANNOUNCE_PAGES="1")
    wait_for_line(run_, "reading page", stream="stderr")  # a worker has begun reading the scan
    time.sleep(0.5)  # well into Tesseract's reading of the page
    workers = children(run_.pid)
    assert workers and run_.poll() is None
    os.kill(run_.pid, signal.SIGKILL)  # the main process only, as an OOM killer would
    run_.wait(timeout=30)
    deadline = time.monotonic() + 30
    while any(alive(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(alive(w) for w in workers), "OCR workers outlived their run"

    rerun = run(inbox, db)  # not locked out by an orphan
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    check_database(db, {sha(d) for d in inputs.values()})
    check_nothing_lost(inbox, tmp_path / "done", tmp_path / "failed", inputs)
    assert files_under(inbox) == []


def test_sigterm_finishes_the_current_document_and_stops(tmp_path: Path) -> None:
    inbox, db, done = tmp_path / "inbox", tmp_path / "db.sqlite", tmp_path / "done"
    inputs = make_letters(inbox, 8, sub_every=0)
    run_ = start(inbox, db, CONGVAN_FAULT_DOC_DELAY_S="1")
    wait_for_line(run_, "finishing", stream="stderr")
    in_hand = wait_for_line(run_, "finishing", stream="stderr")[-1].split("finishing ", 1)[1].strip()
    kill_group(run_, signal.SIGTERM)  # as systemd stops a unit: the whole group gets it
    out, err = run_.communicate(timeout=120)
    assert run_.returncode == 0, out + err
    summary = out.strip().splitlines()[-1]
    assert "stopped early by SIGTERM" in summary
    assert f"stored    {in_hand}" in out  # the document in hand when SIGTERM came was finished
    stored = out.count("stored    ")
    counts = check_database(db)
    assert counts["documents"] == stored == len(files_under(done))
    assert len(files_under(inbox)) == len(inputs) - stored
    check_nothing_lost(inbox, done, tmp_path / "failed", inputs)

    rerun = run(inbox, db)
    assert rerun.returncode == 0
    check_database(db, {sha(d) for d in inputs.values()})
    assert files_under(inbox) == []


def test_file_still_being_written_is_left_for_next_time(tmp_path: Path) -> None:
    inbox, db = tmp_path / "inbox", tmp_path / "db.sqlite"
    inputs = make_letters(inbox, 3, sub_every=0)
    growing = write(inbox / "growing.txt", letter(99))
    settle = 3.0
    time.sleep(settle + 0.5)  # the letters settle; the growing file will not
    stop = threading.Event()

    def scanner() -> None:
        n = 0
        while not stop.is_set():
            with growing.open("a", encoding="utf-8") as handle:
                handle.write(f"Dòng bổ sung số {n} của văn bản.\n")
            n += 1
            time.sleep(0.05)

    writer = threading.Thread(target=scanner, daemon=True)
    writer.start()
    try:
        first = run(inbox, db, "--settle", str(settle))
    finally:
        stop.set()
        writer.join()
    assert first.returncode == 0, first.stdout + first.stderr
    assert f"waiting   {growing}" in first.stdout
    assert "3 stored" in first.stdout and "1 left for the next run" in first.stdout
    assert growing.exists() and db_counts(db)["documents"] == 3

    time.sleep(settle + 0.5)
    second = run(inbox, db, "--settle", str(settle))
    assert second.returncode == 0, second.stdout + second.stderr
    assert f"stored    {growing}" in second.stdout
    assert db_counts(db)["documents"] == 4 and files_under(inbox) == []
    assert len(inputs) == 3
