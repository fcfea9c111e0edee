"""Unattended inbox runs: one pass over a folder, safe to repeat, safe to kill.

A nightly job (cron, a systemd timer) runs `congvan inbox DIR`.  One pass:

1. take the run lock (`<db>.lock`, see `lock.py`), or exit at once with
   ExitCode.LOCKED;
2. scan DIR recursively for letters, ignoring hidden and temporary files
   (`files.is_ignored`) and the done/failed folders if they lie inside it;
3. keep the files that have not changed for `settle` seconds (the later of
   mtime and ctime, so a copy that keeps its old mtime still counts as new);
   the others are left for the next run;
4. file at once each one whose sha256 is already in the database (moved to
   `done/YYYY/MM/` as a duplicate): standard library only, so a rerun over
   known files never pays for importing the OCR and NLP stacks;
5. ingest the rest (`ingest.Ingestor`): each document is committed in its own
   transaction, then its file is moved to `done/YYYY/MM/`; a file already in
   the database (same sha256) is moved there too, as a duplicate; a file that
   fails goes to `failed/` with a `.error.txt` that says why.  Just before a
   file is read its size and mtime are checked against the scan again.

Killed at any moment, the next run completes the work: a document is either
committed or not (SQLite, WAL), and a committed document whose file was not
yet moved is found by its sha256 and moved as a duplicate.  SIGTERM (and a
first Ctrl-C) finishes the document being committed and stops; the files not
reached stay in the inbox.

No single file stops a pass (see `ingest.py`): a file that cannot be read,
named, OCR'd or moved fails alone.  What does stop a pass is the database or
the disk (corrupt, read-only, full, no room for the lock): one line on stderr,
a summary (a `summary` event with --log-json) and ExitCode.DATABASE.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sqlite3
import stat
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from pipeline.core.errors import BadInput, ClusterLost, DatabaseError, ExitCode, UsageError, database_error
from pipeline.core.files import done_folder, is_ignored, move_file, sha256_of, shown
from pipeline.core.settings import Settings
from pipeline.jobs.lock import Locked, RunLock, lock_path_for

if TYPE_CHECKING:
    from pipeline.jobs.ingest import Outcome, Summary

log_internal = logging.getLogger("congvan")


@dataclass(frozen=True)
class Found:
    """A file seen by the scan, with what it looked like then."""

    path: Path
    size: int
    mtime_ns: int
    age: float  # seconds since its content or name last changed


@dataclass
class InboxOptions:
    """What one pass does: the folders and the run's `Settings` (db, jobs, settle, page timeout...)."""

    inbox: Path
    settings: Settings = field(default_factory=Settings)
    done_dir: Path | None = None  # default: a `done` folder beside the inbox
    failed_dir: Path | None = None  # default: a `failed` folder beside the inbox
    dry_run: bool = False
    log_json: bool = False

    def __post_init__(self) -> None:
        self.inbox = Path(self.inbox)
        self.done_dir = Path(self.done_dir) if self.done_dir else self.inbox.absolute().parent / "done"
        self.failed_dir = Path(self.failed_dir) if self.failed_dir else self.inbox.absolute().parent / "failed"

    @property
    def db_path(self) -> Path:
        return self.settings.db

    @property
    def settle_s(self) -> float:
        return self.settings.settle_s


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
        return True
    except ValueError:
        return False


def validate(options: InboxOptions) -> None:
    if not options.inbox.is_dir():
        raise UsageError(f"{options.inbox}: not a folder")
    if options.db_path.is_dir():
        raise UsageError(f"--db {options.db_path} is a folder; "
                         f"give the database file, e.g. {options.db_path / 'congvan.db'}")
    for name, folder in (("--done", options.done_dir), ("--failed", options.failed_dir)):
        assert folder is not None
        if _inside(options.inbox, folder):
            raise UsageError(f"{name} {folder} holds the inbox {options.inbox}; choose a folder outside it")
    if options.done_dir and options.failed_dir and options.done_dir.resolve() == options.failed_dir.resolve():
        raise UsageError("--done and --failed must be different folders")


def scan(inbox: Path, exclude: list[Path] = (), now: float | None = None,  # type: ignore[assignment]
         on_error: Callable[[OSError], None] | None = None) -> list[Found]:
    """Regular files under `inbox` that may be letters, in a stable order.

    Symbolic links are never followed nor resolved (a link loop is just a
    link), and a folder that cannot be listed is reported to `on_error` and
    passed over: the scan itself never fails on what the inbox holds.
    """
    now = time.time() if now is None else now
    # realpath, not Path.resolve: it never raises, even on a symlink loop.
    excluded = {os.path.realpath(p) for p in exclude}
    found: list[Found] = []
    for root, dirs, files in os.walk(inbox, onerror=on_error):
        root_path = Path(root)
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and not os.path.islink(root_path / d)
                         and os.path.realpath(root_path / d) not in excluded)
        for name in sorted(files):
            path = root_path / name
            if is_ignored(path):
                continue
            try:
                info = path.lstat()
            except OSError:
                continue  # gone since the listing
            if not stat.S_ISREG(info.st_mode):
                continue  # symlinks, sockets, fifos: not letters, and not ours to move
            if os.path.realpath(path) in excluded:
                continue
            changed = max(info.st_mtime, info.st_ctime)
            found.append(Found(path, info.st_size, info.st_mtime_ns, max(0.0, now - changed)))
    return found


def unchanged(expected: dict[Path, Found]) -> Callable[[Path], str | None]:
    """The Ingestor's check: a file must look as it did at the scan."""
    def check(path: Path) -> str | None:
        seen = expected.get(path)
        if seen is None:
            return None
        try:
            info = path.lstat()
        except OSError:
            return "gone before it could be read (moved away by someone else?)"
        if info.st_size != seen.size or info.st_mtime_ns != seen.mtime_ns:
            return "changed since the scan (still being written?); left for the next run"
        return None
    return check


class StopFlag:
    """SIGTERM and a first SIGINT ask the run to stop after the current document."""

    def __init__(self) -> None:
        self.reason: str | None = None
        self._previous: dict[int, Any] = {}

    def __call__(self) -> str | None:
        return self.reason

    def _handle(self, signum: int, _frame: object) -> None:
        if signum == signal.SIGINT and self.reason is not None:
            raise KeyboardInterrupt  # a second Ctrl-C: stop now (the next run finishes the job)
        self.reason = signal.Signals(signum).name

    def __enter__(self) -> StopFlag:
        for signum in (signal.SIGTERM, signal.SIGINT):
            self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)


@dataclass
class Log:
    """One line per document (text for people, JSON lines with --log-json)."""

    as_json: bool = False
    out: TextIO = field(default_factory=lambda: sys.stdout)
    err: TextIO = field(default_factory=lambda: sys.stderr)

    def _emit(self, event: dict[str, Any], text: str) -> None:
        # Paths and causes come from file names: printable, one line, UTF-8 (see files.shown).
        event = {k: shown(v) if isinstance(v, str) else v for k, v in event.items()}
        if self.as_json:
            event = {"time": datetime.now().astimezone().isoformat(timespec="seconds"), **event}
            self.out.write(json.dumps(event, ensure_ascii=False) + "\n")
        else:
            self.out.write(f"{datetime.now():%Y-%m-%d %H:%M:%S} {text}\n")
        self.out.flush()

    def outcome(self, outcome: Outcome) -> None:
        event: dict[str, Any] = {
            "event": "document", "status": outcome.status, "path": str(outcome.path),
            "moved_to": outcome.moved_to, "document_id": outcome.document_id,
            "seconds": round(outcome.seconds, 3),
        }
        path = shown(outcome.path)
        where = f" -> {shown(outcome.moved_to)}" if outcome.moved_to else ""
        if outcome.status == "stored":
            record = outcome.record
            tasks = len(record.tasks) if record else 0
            event.update(pages=outcome.pages, tasks=tasks, doc_number=record.doc_number if record else None)
            text = (f"stored    {path}{where} (document {outcome.document_id}"
                    f"{', ' + record.doc_number if record and record.doc_number else ''}, "
                    f"{outcome.pages} page{'s' if outcome.pages != 1 else ''}, "
                    f"{tasks} task{'s' if tasks != 1 else ''}, "
                    f"{outcome.seconds:.1f} s)")
        elif outcome.status == "duplicate":
            text = f"duplicate {path}{where} (already document {outcome.document_id})"
        elif outcome.status == "failed":
            assert outcome.error is not None
            event.update(stage=outcome.error.stage, cause=outcome.error.cause)
            text = f"failed    {path}{where}: {shown(outcome.error.cause)} (stage {outcome.error.stage})"
        else:
            text = f"skipped   {path}: {outcome.note}"
        if outcome.note and outcome.status != "skipped":
            text += f"; {outcome.note}"
        if outcome.note:
            event["note"] = outcome.note
        self._emit(event, text)

    def waiting(self, found: Found, settle_s: float) -> None:
        self._emit(
            {"event": "document", "status": "waiting", "path": str(found.path), "age_seconds": round(found.age, 1)},
            f"waiting   {shown(found.path)}: changed {found.age:.0f} s ago (settle {settle_s:g} s); "
            "left for the next run",
        )

    def planned(self, path: Path, status: str, detail: str) -> None:
        self._emit({"event": "dry-run", "status": status, "path": str(path), "detail": detail},
                   f"{status:<9} {shown(path)}: {shown(detail)}")

    def summary(self, counts: dict[str, Any], text: str) -> None:
        self._emit({"event": "summary", **counts}, text)

    def error(self, event: dict[str, Any], text: str) -> None:
        text = shown(text)
        self.err.write(f"congvan: {text}\n")
        self.err.flush()
        if self.as_json:
            self._emit(event, text)


@dataclass
class Filed:
    """A known file filed by `file_known` (the fields of `ingest.Outcome` that `Log` reads)."""

    path: Path
    document_id: int
    moved_to: str | None
    note: str | None
    seconds: float
    status: str = "duplicate"
    record: None = None
    error: None = None
    pages: int = 0


def file_known(ready: list[Found], db_path: Path, done_dir: Path, log: Log,
               stop: Callable[[], str | None]) -> tuple[list[Found], list[Filed]]:
    """Move the files whose sha256 is in the database to done/ (their rows are committed).

    Returns the files left for the Ingestor (new, unreadable, or changed)
    and those filed.  Same rule as the Ingestor's own duplicate check, minus
    the imports: this is most of a rerun over files already ingested.
    """
    if not ready or not db_path.exists():
        return ready, []
    connection = sqlite3.connect(db_path, timeout=30)
    connection.execute("PRAGMA busy_timeout = 30000")
    try:
        has_documents = "select 1 from sqlite_master where type = 'table' and name = 'documents'"
        if connection.execute(has_documents).fetchone() is None:
            return ready, []
        check = unchanged({f.path: f for f in ready})
        rest: list[Found] = []
        filed: list[Filed] = []
        for i, found in enumerate(ready):
            if stop():
                return rest + ready[i:], filed
            began = time.monotonic()
            try:
                sha256 = sha256_of(found.path)
            except OSError:
                rest.append(found)  # the Ingestor reports why it cannot be read
                continue
            row = connection.execute("select id from documents where sha256 = ?", [sha256]).fetchone()
            if row is None or check(found.path) is not None:
                rest.append(found)
                continue
            moved_to, note = None, None
            try:
                moved_to = str(move_file(found.path, done_folder(done_dir)))
            except OSError as error:
                if database_error(error, db_path) is not None:
                    raise
                note = f"stored, but could not be moved to {done_dir} ({error.strerror or error})"
            outcome = Filed(found.path, row[0], moved_to, note, time.monotonic() - began)
            filed.append(outcome)
            log.outcome(outcome)  # type: ignore[arg-type]
        return rest, filed
    finally:
        connection.close()


def run_inbox(options: InboxOptions, log: Log | None = None) -> int:
    """One pass over the inbox; returns the exit code (an `ExitCode`)."""
    log = log or Log(as_json=options.log_json)
    try:
        validate(options)
    except UsageError as error:
        log.error({"event": "usage", "error": str(error)}, str(error))
        return ExitCode.USAGE
    assert options.done_dir is not None and options.failed_dir is not None
    db = options.db_path
    exclude = [options.done_dir, options.failed_dir, db, db.with_name(db.name + "-wal"),
               db.with_name(db.name + "-shm"), lock_path_for(db)]
    started = time.monotonic()
    progress = _Progress()
    try:
        if options.dry_run:
            return _dry_run(options, exclude, log)
        lock = RunLock(lock_path_for(db))
        try:
            lock.acquire()
        except Locked as error:
            log.error({"event": "locked", "lock": str(error.path), "holder": error.holder},
                      f"{error}; this run exits without doing anything (exit {ExitCode.LOCKED:d})")
            return ExitCode.LOCKED
        try:
            return _run_locked(options, exclude, log, progress)
        except ClusterLost as error:  # what was committed stays; the rest is left for the next run
            log.error({"event": "cluster-lost", "error": error.one_line(), "exit_code": int(error.exit_code)},
                      f"{error.one_line()} (exit {int(error.exit_code)})")
            return error.exit_code
        finally:
            lock.release()
    except Exception as error:
        trouble = error if isinstance(error, DatabaseError) else database_error(error, db)
        if trouble is None:
            raise  # a bug: the CLI's wrapper logs it once (ExitCode.INTERNAL)
        code = trouble.exit_code
        log.error({"event": "error", "kind": "database", "error": trouble.one_line(), "exit_code": int(code)},
                  f"{trouble.one_line()}; the run stops here, nothing half-written is kept (exit {code:d})")
        _log_summary(log, options, progress.summary, progress.seen, progress.waiting, progress.filed,
                     time.monotonic() - started, code, error=trouble.one_line())
        return code


@dataclass
class _Progress:
    """How far a pass got, for the summary of a pass the database stopped."""

    seen: int = 0
    waiting: int = 0
    filed: int = 0
    summary: Any = None

    def __post_init__(self) -> None:
        self.summary = _empty_summary(None)


def _empty_summary(stopped: str | None) -> Any:
    from types import SimpleNamespace

    return SimpleNamespace(count=lambda status: 0, not_started=0, pages_ocr=0, tasks=0, stopped=stopped,
                           internal_errors=0)


def _run_locked(options: InboxOptions, exclude: list[Path], log: Log, progress: _Progress) -> int:
    assert options.done_dir is not None
    started = time.monotonic()

    def unlistable(error: OSError) -> None:
        log.error({"event": "folder", "path": str(error.filename), "error": error.strerror},
                  f"{error.filename}: cannot list this folder ({error.strerror}); its files are left")

    found = scan(options.inbox, exclude, on_error=unlistable)
    ready = [f for f in found if f.age >= options.settle_s]
    waiting = [f for f in found if f.age < options.settle_s]
    progress.seen, progress.waiting = len(found), len(waiting)
    for item in waiting:
        log.waiting(item, options.settle_s)
    with StopFlag() as stop:
        rest, filed = file_known(ready, options.db_path, options.done_dir, log, stop)
        progress.filed = len(filed)
        summary = _ingest(options, rest, log, stop, progress) if rest and not stop() else None
    if summary is None:
        summary = _empty_summary(stop())
        if stop():
            summary.not_started = len(rest)
    code = ExitCode.INPUT_FAILED if summary.count("failed") else ExitCode.OK
    _log_summary(log, options, summary, len(found), len(waiting), len(filed), time.monotonic() - started, code)
    return code


def _ingest(options: InboxOptions, files: list[Found], log: Log, stop: StopFlag, progress: _Progress) -> Summary:
    from pipeline.jobs.cluster import open_runner
    from pipeline.jobs.ingest import Ingestor
    from pipeline.stages.store import open_db

    db = open_db(options.db_path)
    with open_runner(options.settings.scheduler) as runner, \
            Ingestor(db, failed_dir=options.failed_dir, done_dir=options.done_dir, settings=options.settings,
                     on_outcome=log.outcome, check=unchanged({f.path: f for f in files}), should_stop=stop,
                     runner=runner) as ingestor:
        progress.summary = ingestor.summary
        return ingestor.run(f.path for f in files)


def _log_summary(log: Log, options: InboxOptions, summary: Any, seen: int, waiting: int, filed: int,
                 seconds: float, code: int, error: str | None = None) -> None:
    left = waiting + summary.count("skipped") + summary.not_started
    counts = {
        "files": seen, "stored": summary.count("stored"), "duplicates": summary.count("duplicate") + filed,
        "failed": summary.count("failed"), "left": left, "waiting": waiting,
        "skipped": summary.count("skipped"), "not_started": summary.not_started,
        "pages_ocr": summary.pages_ocr, "tasks": summary.tasks, "seconds": round(seconds, 2),
        "internal_errors": summary.internal_errors,
        "stopped": summary.stopped, "exit_code": int(code), "db": str(options.db_path),
    }
    if error:
        counts["error"] = error
    rate = summary.pages_ocr / seconds * 60 if seconds > 0 else 0.0
    text = (f"congvan inbox {options.inbox}: {seen} files: {counts['stored']} stored, "
            f"{counts['duplicates']} duplicates, {counts['failed']} failed, {left} left for the next run; "
            f"{summary.tasks} tasks; {summary.pages_ocr} pages OCR'd ({rate:.1f} pages/min); "
            f"{seconds:.1f} s -> {options.db_path}")
    if summary.internal_errors:
        text += f"; {summary.internal_errors} internal errors (a bug: tracebacks logged above)"
    if summary.stopped:
        text += f"; stopped early by {summary.stopped}"
    if error:
        text += f"; stopped by a database error: {error}"
    text += f"; exit {code:d}"
    log.summary(counts, text)


def _dry_run(options: InboxOptions, exclude: list[Path], log: Log) -> int:
    """What a run would do now; reads files and the database, changes nothing."""
    from pipeline.core.database import connect_readonly
    from pipeline.stages.load import identify

    db: sqlite3.Connection | None = None
    if options.db_path.exists():
        db = connect_readonly(options.db_path, require_documents=False)

    def known(sha256: str) -> int | None:
        if db is None:
            return None
        try:
            row = db.execute("select id from documents where sha256 = ?", [sha256]).fetchone()
        except sqlite3.OperationalError:
            return None
        return row[0] if row else None

    found = scan(options.inbox, exclude)
    counts = {"files": len(found), "process": 0, "duplicates": 0, "fail": 0, "waiting": 0}
    first_of: dict[str, Path] = {}
    for item in found:
        if item.age < options.settle_s:
            counts["waiting"] += 1
            log.waiting(item, options.settle_s)
            continue
        try:
            source = identify(item.path)
        except BadInput as error:
            counts["fail"] += 1
            log.planned(item.path, "fail", f"{error.cause} (would go to {options.failed_dir})")
            continue
        except Exception as error:  # one file never stops the listing either
            log_internal.error("internal error on %s", shown(item.path), exc_info=error)
            counts["fail"] += 1
            log.planned(item.path, "fail", f"internal error: {type(error).__name__} (would go to {options.failed_dir})")
            continue
        doc_id = known(source.sha256)
        if doc_id is not None:
            counts["duplicates"] += 1
            log.planned(item.path, "duplicate", f"already document {doc_id} (would go to {options.done_dir})")
        elif source.sha256 in first_of:
            counts["duplicates"] += 1
            log.planned(item.path, "duplicate", f"same content as {first_of[source.sha256]}")
        else:
            first_of[source.sha256] = item.path
            counts["process"] += 1
            log.planned(item.path, "process", f"{source.kind}, {source.size} bytes")
    if db is not None:
        db.close()
    log.summary({**counts, "dry_run": True},
                f"dry run over {options.inbox}: {counts['files']} files: {counts['process']} would be processed, "
                f"{counts['duplicates']} duplicates, {counts['fail']} would fail on reading, "
                f"{counts['waiting']} still settling; nothing was changed")
    return ExitCode.OK
