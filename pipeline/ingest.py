"""Orchestration: files in, records and failures out.

`process_file` runs one document through every stage (used by `extract`).
`Ingestor` runs a batch: the main process identifies and loads each file
(cheap), hands its pages to a shared process pool, and while the pool reads
the next documents it restores, extracts and stores the oldest finished one.
SQLite has exactly one writer: this process.
"""

from __future__ import annotations

import os
import shutil
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from sqlite_utils import Database

from .errors import BadInput
from .extract import extract
from .load import identify, load
from .ocr import PendingText, collect_pages, make_pool, ocr_document, submit_pages
from .restore import restore
from .store import document_id, record_failure, store
from .types import DocumentText, InputFile, PageText, Record, RestoredText
from .vietnamese import looks_vietnamese, words

# Files that are never letters: editor locks, partial downloads, OS litter.
IGNORED_NAMES = {"thumbs.db", "desktop.ini", ".ds_store"}
IGNORED_SUFFIXES = {".part", ".partial", ".tmp", ".crdownload", ".download", ".swp", ".error.txt"}


def is_ignored(path: Path) -> bool:
    name = path.name.lower()
    return (
        name.startswith((".", "~$", "~"))
        or name in IGNORED_NAMES
        or any(name.endswith(suffix) for suffix in IGNORED_SUFFIXES)
    )


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


def finish(text: DocumentText) -> tuple[Record, RestoredText]:
    """The stages after OCR: language check, restore, extract."""
    check_language(text)
    restored = restore(text)
    return extract(restored), restored


def process_file(path: Path | str, pool: Executor | None = None) -> tuple[Record, RestoredText]:
    """Run one file through load, preprocess, OCR, restore and extract."""
    return finish(ocr_document(load(identify(Path(path))), pool))


Status = Literal["stored", "duplicate", "failed"]


@dataclass
class Outcome:
    path: Path
    status: Status
    document_id: int | None = None
    record: Record | None = None
    error: BadInput | None = None
    pages: int = 0


@dataclass
class Summary:
    outcomes: list[Outcome] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)
    pages_ocr: int = 0

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


class Ingestor:
    """Ingest files into a database; one instance per batch (owns the pool)."""

    def __init__(self, db: Database, jobs: int | None = None, failed_dir: Path | None = None,
                 on_page: Callable[[PageText], None] | None = None,
                 on_outcome: Callable[[Outcome], None] | None = None) -> None:
        self.db = db
        self.jobs = jobs or os.cpu_count() or 1
        self.failed_dir = failed_dir
        self.on_page = on_page
        self.on_outcome = on_outcome
        self.summary = Summary()
        self._pool: Executor | None = None

    def __enter__(self) -> "Ingestor":
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)

    @property
    def pool(self) -> Executor:
        if self._pool is None:
            self._pool = make_pool(self.jobs)
        return self._pool

    def run(self, files: Iterable[Path]) -> Summary:
        """Ingest every file; documents finish in order, pages overlap."""
        window: deque[_InFlight] = deque()
        seen: set[str] = set()
        for path in files:
            started = self._start(path, seen)
            if started is not None:
                window.append(started)
            # Keep about two documents per worker in flight: enough to keep
            # every core busy, few enough to bound memory.
            while len(window) > 2 * self.jobs:
                self._finish(window.popleft())
        while window:
            self._finish(window.popleft())
        return self.summary

    def _start(self, path: Path, seen: set[str]) -> _InFlight | None:
        try:
            source = identify(path)
            if source.sha256 in seen or document_id(self.db, source.sha256) is not None:
                self._report(Outcome(path, "duplicate", document_id(self.db, source.sha256)))
                return None
            seen.add(source.sha256)
            document = load(source)
            pending = submit_pages(document, self.pool)
        except BadInput as error:
            self._fail(path, error, None)
            return None
        return _InFlight(source, pending)

    def _finish(self, item: _InFlight) -> None:
        path = item.source.path
        try:
            text = collect_pages(item.pending, self._count_page)
            record, restored = finish(text)
        except BadInput as error:
            self._fail(path, error, item.source.sha256)
            return
        doc_id = store(self.db, record, restored)
        self._report(Outcome(path, "stored", doc_id, record, pages=record.pages))

    def _count_page(self, page: PageText) -> None:
        if page.source == "ocr":
            self.summary.pages_ocr += 1
        if self.on_page:
            self.on_page(page)

    def _fail(self, path: Path, error: BadInput, sha256: str | None) -> None:
        moved_to = move_aside(path, self.failed_dir, error) if self.failed_dir else None
        record_failure(self.db, str(path), error.cause, error.stage, sha256, moved_to)
        self._report(Outcome(path, "failed", error=error))

    def _report(self, outcome: Outcome) -> None:
        self.summary.outcomes.append(outcome)
        if self.on_outcome:
            self.on_outcome(outcome)


def unique_destination(folder: Path, name: str) -> Path:
    """`folder/name`, or `folder/name (2)` etc. so nothing is ever overwritten."""
    folder.mkdir(parents=True, exist_ok=True)
    candidate = folder / name
    stem, suffix = Path(name).stem, Path(name).suffix
    counter = 2
    while candidate.exists():
        candidate = folder / f"{stem} ({counter}){suffix}"
        counter += 1
    return candidate


def move_aside(path: Path, folder: Path, error: BadInput) -> str | None:
    """Move a failed file into `folder` with a `.error.txt` that says why."""
    try:
        destination = unique_destination(folder, path.name)
        shutil.move(str(path), destination)
        destination.with_name(destination.name + ".error.txt").write_text(
            f"{error.one_line()}\nstage: {error.stage}\n", encoding="utf-8"
        )
        return str(destination)
    except OSError:
        return None  # read-only source: the failure is still recorded in the database


def iter_outcome_lines(summary: Summary) -> Iterator[str]:
    for outcome in summary.outcomes:
        if outcome.status == "failed" and outcome.error:
            yield f"congvan: {outcome.error.one_line()}"
