"""Orchestration: files in, records and failures out.

`process_file` runs one document through every stage (used by `extract`).
`Ingestor` runs a batch: the main process identifies and loads each file
(cheap), hands its pages to a shared process pool, and while the pool reads
the next documents it restores, extracts and stores the oldest finished one.
SQLite has exactly one writer: this process.

With `done_dir`, a file is moved there (into `YYYY/MM/`) only after its rows
are committed, and a file already in the database goes there too: a run killed
between the commit and the move is completed by the next run, which finds the
sha256 and moves the file as a duplicate.  With `failed_dir`, a file that
fails goes there with a `.error.txt` beside it.  Nothing is ever deleted.

One file never stops a batch: any exception while handling it (reading,
naming, OCR, restore, extract, store, moving) becomes that file's failure,
with its stage and a one-line cause.  An exception congvan did not expect is
logged once with its traceback (logger `congvan`) and counted in
`Summary.internal_errors`.  Only trouble with the database or the disk itself
(`core.errors.database_error`) ends the run, as a `DatabaseError`.
"""

from __future__ import annotations

import logging
import os
import time
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import Executor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

from sqlite_utils import Database

from pipeline.core.errors import BadInput, database_error
from pipeline.core.files import (  # noqa: F401
    IGNORED_NAMES,
    IGNORED_SUFFIXES,
    done_folder,
    is_ignored,
    move_aside,
    move_file,
    move_file_to,
    shown,
    unique_destination,
)
from pipeline.core.plugins import hooks as run_hooks
from pipeline.core.settings import Settings
from pipeline.core.types import DocumentText, InputFile, PageText, Record, RestoredText
from pipeline.core.vietnamese import looks_vietnamese, words
from pipeline.stages.load import identify, load
from pipeline.stages.ocr import (
    InlineExecutor,
    PendingText,
    collect_pages,
    kill_pool,
    make_pool,
    ocr_document,
    submit_pages,
)
from pipeline.stages.store import document_id, record_failure, store

log = logging.getLogger("congvan")


def collect_files(paths: Iterable[Path | str]) -> list[Path]:
    """Files named, and files under folders named (recursively), in a stable order."""
    found: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                found.extend(Path(root) / f for f in sorted(files) if not is_ignored(Path(f)))
        else:
            found.append(path)
    return found


def check_language(text: DocumentText) -> None:
    """Reject text that is too short or not Vietnamese before extraction guesses.

    Judged by the share of words on Vietnamese-looking pages, so a letter
    with a treaty annex in Lao or English still passes.
    """
    counts = [(len(words(page.text)), looks_vietnamese(page.text, min_words=10)) for page in text.pages]
    total = sum(count for count, _ in counts)
    if total < 20:
        raise BadInput(text.source.path, f"too little text to be a letter ({total} words read)", stage="ocr")
    vietnamese = sum(count for count, is_vietnamese in counts if is_vietnamese)
    if vietnamese / total < 0.4 and not looks_vietnamese(text.text):
        raise BadInput(text.source.path, "not a Vietnamese letter (its text reads as another language)", stage="ocr")


class Stage:
    """Which stage a document is in, so an unexpected exception can name it."""

    def __init__(self, name: str = "load") -> None:
        self.name = name


def finish(text: DocumentText, stage: Stage | None = None) -> tuple[Record, RestoredText]:
    """The stages after OCR: language check, restore, extract."""
    # Imported here: the models behind them are only needed once a new
    # document arrives, and a run over known files should start fast.
    from pipeline.stages.extract import extract
    from pipeline.stages.restore import restore

    stage = stage or Stage()
    stage.name = "ocr"
    check_language(text)
    stage.name = "restore"
    restored = restore(text)
    stage.name = "extract"
    return extract(restored), restored


def process_file(path: Path | str, pool: Executor | None = None,
                 settings: Settings | None = None) -> tuple[Record, RestoredText]:
    """Run one file through load, preprocess, OCR, restore and extract (the OCR engine of `settings`)."""
    settings = settings or Settings()
    document = load(identify(Path(path)), max_page_pixels=settings.max_page_pixels)
    return finish(ocr_document(document, pool, settings=settings))


# reprocessed: a known file read again (`--reprocess`), its rows rewritten, corrections kept.
Status = Literal["stored", "reprocessed", "duplicate", "failed", "skipped"]
_NO_POOL = InlineExecutor()


@dataclass
class Outcome:
    path: Path
    status: Status
    document_id: int | None = None
    record: Record | None = None
    error: BadInput | None = None
    pages: int = 0
    moved_to: str | None = None  # where the file went (done_dir, failed_dir), if it was moved
    note: str | None = None  # why a file was skipped, or why it could not be moved
    seconds: float = 0.0  # from the start of its reading to its outcome


@dataclass
class Summary:
    outcomes: list[Outcome] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)
    pages_ocr: int = 0
    stopped: str | None = None  # why the run stopped early (a signal), if it did
    not_started: int = 0  # files never looked at because the run stopped early
    internal_errors: int = 0  # failures from an exception congvan did not expect (a bug; logged with traceback)

    def count(self, status: Status) -> int:
        return sum(o.status == status for o in self.outcomes)

    @property
    def tasks(self) -> int:
        return sum(len(o.record.tasks) for o in self.outcomes if o.record)

    @property
    def deadlines(self) -> int:
        return sum(
            sum(1 for t in o.record.tasks if t.deadline) + sum(1 for p in o.record.reporting_periods if p.due)
            for o in self.outcomes if o.record
        )

    @property
    def seconds(self) -> float:
        return time.monotonic() - self.started


@dataclass
class _InFlight:
    source: InputFile
    pending: PendingText
    started: float = field(default_factory=time.monotonic)
    copies: list[Path] = field(default_factory=list)  # same bytes met while this one was in flight




class DocumentRunner(Protocol):
    """Runs the documents of an Ingestor's batch somewhere else (`pipeline.jobs.cluster`: a Dask
    cluster) and hands each result back to the Ingestor to store, move and report."""

    def run(self, ingestor: Ingestor, files: Iterable[Path]) -> Summary: ...


class Ingestor:
    """Ingest files into a database; one instance per batch (owns the pool).

    `check(path)` (optional) is asked just before a file is read and again
    once it is hashed; a reason it returns skips the file (left in place).
    `should_stop()` (optional) is asked between documents; once it returns a
    reason, the document being finished is finished and the run stops,
    leaving the rest where they are.
    `runner` (optional) runs the documents elsewhere (a Dask cluster); this
    process stays the only writer and moves files only after their commit.
    """

    def __init__(self, db: Database, jobs: int | None = None, failed_dir: Path | None = None,
                 on_page: Callable[[PageText], None] | None = None,
                 on_outcome: Callable[[Outcome], None] | None = None, *,
                 done_dir: Path | None = None,
                 check: Callable[[Path], str | None] | None = None,
                 should_stop: Callable[[], str | None] | None = None,
                 settings: Settings | None = None,
                 reprocess: bool = False,
                 runner: DocumentRunner | None = None) -> None:
        self.db = db
        self.settings = settings or Settings()
        # Plug-ins' run hooks (`congvan.plugins` entry points and Settings.plugins), e.g. a site's
        # notifier after each commit, or the tests' fault injection (tests/plugins/faults.py).
        self.hooks = run_hooks(self.settings.plugins)
        # Known files are read again and their rows rewritten (store(replace=True)),
        # keeping their ids and every correction: after a better model, say.
        self.reprocess = reprocess
        self.runner = runner
        self.jobs = jobs or self.settings.jobs or os.cpu_count() or 1
        self.failed_dir = failed_dir
        self.done_dir = done_dir
        self.on_page = on_page
        self.on_outcome = on_outcome
        self.check = check
        self.should_stop = should_stop
        self.summary = Summary()
        self._pool: Executor | None = None
        self._in_flight: dict[str, _InFlight] = {}

    def __enter__(self) -> Ingestor:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            if exc[0] is None and self.summary.stopped is None:
                self._pool.shutdown(wait=False, cancel_futures=True)
            else:  # stopping early or failing: pages still being read are abandoned
                kill_pool(self._pool)
            self._pool = None

    @property
    def pool(self) -> Executor:
        if self._pool is None:
            self._pool = make_pool(self.jobs)
        return self._pool

    def run(self, files: Iterable[Path]) -> Summary:
        """Ingest every file; documents finish in order, pages overlap."""
        if self.runner is not None:  # on a cluster: results are stored as they arrive
            return self.runner.run(self, files)
        queue = list(files)
        window: deque[_InFlight] = deque()
        index = 0
        while index < len(queue) or window:
            reason = self.should_stop() if self.should_stop else None
            if reason:
                self.summary.stopped = reason
                break
            # Keep about two documents per worker in flight: enough to keep
            # every core busy, few enough to bound memory.
            if index < len(queue) and len(window) <= 2 * self.jobs:
                started = self._start(queue[index])
                index += 1
                if started is not None:
                    window.append(started)
                continue
            self._finish(window.popleft(), window)
        if self.summary.stopped:
            note = f"left for the next run (stopped: {self.summary.stopped})"
            for item in window:
                for path in [item.source.path, *item.copies]:
                    self._report(Outcome(path, "skipped", note=note))
            self.summary.not_started = len(queue) - index
        return self.summary

    def _checked(self, path: Path) -> bool:
        reason = self.check(path) if self.check else None
        if reason:
            self._report(Outcome(path, "skipped", note=reason))
        return reason is None

    def _unexpected(self, path: Path, stage: str, error: Exception) -> BadInput:
        """An exception nobody planned for, as this file's failure (or the run's end, for the database)."""
        trouble = database_error(error, self.settings.db)
        if trouble is not None:
            raise trouble from error
        self.summary.internal_errors += 1
        log.error("internal error on %s (stage %s); the file fails, the run goes on",
                  shown(path), stage, exc_info=error)
        first_line = (str(error).strip().splitlines() or [""])[0][:200]
        return BadInput(path, f"internal error: {type(error).__name__}" + (f": {first_line}" if first_line else ""),
                        stage=stage)

    def _start(self, path: Path) -> _InFlight | None:
        began = time.monotonic()
        stage = "load"
        try:
            if not self._checked(path):
                return None
            source = identify(path)
            if not self._checked(path):
                return None
            first = self._in_flight.get(source.sha256)
            if first is not None:  # a copy of a document still being read: settled with it
                first.copies.append(path)
                return None
            existing = document_id(self.db, source.sha256)
            if existing is not None and not self.reprocess:
                self._done(path, "duplicate", existing, began=began)
                return None
            document = load(source, max_page_pixels=self.settings.max_page_pixels)
            stage = "ocr"
            # Text needs no pool: a run over text files never starts one.
            pending = submit_pages(document, self.pool if document.needs_ocr else _NO_POOL, self.settings)
        except BadInput as error:
            self._fail(path, error, None, began)
            return None
        except Exception as error:  # one file never stops the batch
            self._fail(path, self._unexpected(path, stage, error), None, began)
            return None
        item = _InFlight(source, pending, began)
        self._in_flight[source.sha256] = item
        return item

    def _finish(self, item: _InFlight, window: Iterable[_InFlight] = ()) -> None:
        path, sha256 = item.source.path, item.source.sha256
        stage = Stage("ocr")
        try:
            try:
                text = collect_pages(item.pending, self._count_page)
            except BrokenProcessPool as error:
                self._restart_pool(window)
                raise BadInput(path, "an OCR worker process died reading this document", stage="ocr") from error
            except BadInput as error:
                if isinstance(error.__cause__, TimeoutError):
                    self._restart_pool(window)  # the stuck worker would hold a core all night
                raise
            record, restored = finish(text, stage)
            stage.name = "store"
            record.source = shown(record.source)  # a name that is not UTF-8 cannot be stored as text
            self.hooks.hook.congvan_before_store(path=path, record=record)
            known = self.reprocess and document_id(self.db, sha256) is not None
            doc_id = store(self.db, record, restored, replace=self.reprocess)
        except BadInput as error:
            self._failed_document(item, error)
            return
        except Exception as error:  # one file never stops the batch
            self._failed_document(item, self._unexpected(path, stage.name, error))
            return
        self.hooks.hook.congvan_document_stored(path=path, document_id=doc_id, record=record)
        del self._in_flight[sha256]
        self._done(path, "reprocessed" if known else "stored", doc_id, record, item.started)
        for copy in item.copies:
            self._done(copy, "duplicate", doc_id, began=item.started)

    def _failed_document(self, item: _InFlight, error: BadInput) -> None:
        path, sha256 = item.source.path, item.source.sha256
        del self._in_flight[sha256]
        self._fail(path, error, sha256, item.started)
        for copy in item.copies:
            self._fail(copy, BadInput(copy, error.cause, error.stage), sha256, item.started)

    def _restart_pool(self, window: Iterable[_InFlight]) -> None:
        """Replace a broken or stuck pool and send it the pages still wanted."""
        if self._pool is not None:
            kill_pool(self._pool)
            self._pool = None
        for other in window:
            other.pending = submit_pages(other.pending.document, self.pool, self.settings)

    def _count_page(self, page: PageText) -> None:
        if page.source == "ocr":
            self.summary.pages_ocr += 1
        if self.on_page:
            self.on_page(page)

    def _done(self, path: Path, status: Status, doc_id: int | None, record: Record | None = None,
              began: float | None = None) -> None:
        """A stored or known document: its file goes to done_dir/YYYY/MM (rows are committed)."""
        moved_to, note = None, None
        if self.done_dir is not None:
            try:
                moved_to = str(move_file(path, done_folder(self.done_dir)))
            except OSError as error:
                note = f"stored, but could not be moved to {self.done_dir} ({error.strerror or error})"
            except Exception as error:  # the row is committed; the next run moves the file as a duplicate
                log.error("internal error moving %s", shown(path), exc_info=error)
                self.summary.internal_errors += 1
                note = f"stored, but could not be moved to {self.done_dir} ({type(error).__name__})"
        self._report(Outcome(path, status, doc_id, record, pages=record.pages if record else 0,
                             moved_to=moved_to, note=note, seconds=_since(began)))

    def _fail(self, path: Path, error: BadInput, sha256: str | None, began: float | None = None) -> None:
        moved_to, note = None, None
        if self.failed_dir is not None:
            try:
                moved_to = move_aside(path, self.failed_dir, error)
            except Exception as move_error:  # move_aside handles OSError itself; anything else is a bug
                log.error("internal error moving %s aside", shown(path), exc_info=move_error)
                self.summary.internal_errors += 1
            if moved_to is None:
                note = f"left in place: could not be moved to {self.failed_dir}"
        try:
            record_failure(self.db, shown(path), shown(error.cause), error.stage, sha256,
                           shown(moved_to) if moved_to else None)
        except Exception as db_error:
            trouble = database_error(db_error, self.settings.db)
            if trouble is not None:
                raise trouble from db_error
            raise
        self._report(Outcome(path, "failed", error=error, moved_to=moved_to, note=note, seconds=_since(began)))

    def _report(self, outcome: Outcome) -> None:
        self.summary.outcomes.append(outcome)
        if self.on_outcome:
            self.on_outcome(outcome)


def _since(began: float | None) -> float:
    return time.monotonic() - began if began is not None else 0.0
