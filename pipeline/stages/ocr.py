"""Stage 3, ocr: a LoadedDocument -> DocumentText, pages read in parallel.

Pages with a trusted text layer pass through.  The others are rasterised,
preprocessed and read by Tesseract (`vie`) in worker processes, one page per
task, so a 17-page scan uses every core.  Each worker runs Tesseract with
OMP_THREAD_LIMIT=1: parallelism across pages beats Tesseract's own threads.
"""

from __future__ import annotations

import ctypes
import logging
import multiprocessing
import os
import signal
import sys
from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np

from pipeline.core.errors import BadInput
from pipeline.core.types import DocumentText, LoadedDocument, Page, PageText, Table, Word
from pipeline.engines import tesseract
from pipeline.stages.header_read import grey_page, read_header_slots
from pipeline.stages.load import PdfPageRef, rasterise_pdf_page
from pipeline.stages.preprocess import preprocess_page, rotate_right_angle
from pipeline.stages.table_scan import cv2_error, read_tables

log = logging.getLogger(__name__)
LANGUAGE = "vie"
# psm 3: full automatic layout, which keeps the two-column letter header apart.
PAGE_LAYOUT = 3
# A page that takes longer than this is given up (Tesseract cancels it) and its
# document fails, so one bad page cannot stall a batch.  A page may be read
# twice (upright check), so waiting on one allows a little over twice this.
PAGE_TIMEOUT_S = 180.0


@dataclass(frozen=True)
class PageJob:
    """Everything a worker needs to read one page; small enough to pickle."""

    number: int
    pdf: PdfPageRef | None = None
    image: np.ndarray | None = None
    dpi: int = 300
    timeout: float | None = None  # seconds per Tesseract call; None: PAGE_TIMEOUT_S


def words_to_text(data: dict[str, list]) -> tuple[str, list[Word]]:
    """Rebuild lines and paragraphs from Tesseract's word table."""
    lines: list[str] = []
    words: list[Word] = []
    current_key = None
    current: list[str] = []
    last_block = None
    for i, token in enumerate(data["text"]):
        token = (token or "").strip()
        if not token:
            continue
        key = (data["block_num"][i], data["par_num"][i], data["line_num"][i])
        if key != current_key:
            if current:
                lines.append(" ".join(current))
            if last_block is not None and key[:2] != last_block:
                lines.append("")  # a blank line between paragraphs, as in the letter
            current, current_key, last_block = [], key, key[:2]
        current.append(token)
        box = (data["left"][i], data["top"][i], data["width"][i], data["height"][i]) if "left" in data else None
        words.append(Word(text=token, confidence=float(data["conf"][i]), line=len(lines), box=box))
    if current:
        lines.append(" ".join(current))
    return "\n".join(lines), words


# Upright Vietnamese print reads at a mean word confidence of 80-95; text
# read upside down or sideways scores far lower.  Under this, the page is
# read again turned by 180 degrees and the better reading kept.
UPRIGHT_CONFIDENCE = 70.0
# A second, focused reading of the header slots of page one (a few Tesseract calls on small crops).
READ_HEADER_SLOTS = True


def _tesseract(image: np.ndarray, dpi: int, timeout: float | None = None) -> tuple[str, list[Word], float]:
    data = tesseract.image_to_data(image, LANGUAGE, PAGE_LAYOUT, dpi=dpi, timeout=timeout or PAGE_TIMEOUT_S)
    text, words = words_to_text(data)
    confidences = [w.confidence for w in words if w.confidence >= 0]
    return text, words, (sum(confidences) / len(confidences) if confidences else 0.0)


def read_image(image: np.ndarray, dpi: int = 300, number: int = 1, detect_rotation: bool = True,
               timeout: float | None = None) -> PageText:
    """Preprocess and OCR one page image, turning it upright if it reads badly."""
    prepared = preprocess_page(image, dpi, detect_rotation=detect_rotation)
    if prepared.blank:
        return PageText(number=number, text="", source="ocr", mean_confidence=0.0)
    height, width = prepared.image.shape[:2]
    text, words, mean = _tesseract(prepared.image, prepared.dpi, timeout)
    rotated_by = prepared.rotated_by
    upright = prepared.image
    if detect_rotation and mean < UPRIGHT_CONFIDENCE:
        turned = rotate_right_angle(prepared.image, 180)
        text_180, words_180, mean_180 = _tesseract(turned, prepared.dpi, timeout)
        if mean_180 > mean:
            text, words, mean, rotated_by = text_180, words_180, mean_180, (rotated_by + 180) % 360
            upright = turned
    tables = _scanned_tables(upright, prepared.dpi, number)
    # Page one: read the header's number and date slots again, closer (pipeline/header_read.py).
    readings: dict[str, list[str]] = {}
    if number == 1 and READ_HEADER_SLOTS:
        readings = read_header_slots(grey_page(image, dpi, prepared, rotated_by), words)
    return PageText(number=number, text=text, source="ocr", mean_confidence=round(mean, 2),
                    words=words, rotated_by=rotated_by, header_readings=readings, tables=tables,
                    width=width, height=height)


# Ruled task tables on a scanned page are read again cell by cell (pipeline/stages/table_scan.py).
READ_TABLES = True


def _scanned_tables(image: np.ndarray, dpi: int, number: int) -> list[Table]:
    if not READ_TABLES:
        return []
    try:
        return read_tables(image, dpi, number)
    except (tesseract.PageTimedOut, cv2_error()) as error:  # the page's text stands without its tables
        log.debug("tables of page %d not read: %s", number, error)
        return []


def read_page(job: PageJob) -> PageText:
    """Worker entry point: rasterise if needed, then preprocess and OCR."""
    if os.environ.get("CONGVAN_TEST_ANNOUNCE_PAGES"):  # test-only: tells a test OCR has begun (stderr)
        os.write(2, f"congvan-test: reading page {job.number}\n".encode())
    image = job.image if job.image is not None else rasterise_pdf_page(job.pdf)  # type: ignore[arg-type]
    dpi = job.dpi if job.image is not None else job.pdf.dpi  # type: ignore[union-attr]
    return read_image(image, dpi, job.number, timeout=job.timeout)


def _jobs_for(document: LoadedDocument) -> list[PageJob]:
    jobs = []
    for page in document.pages:
        if page.text is not None:
            continue
        if page.image is not None:
            jobs.append(PageJob(number=page.number, image=page.image, dpi=page.dpi, timeout=PAGE_TIMEOUT_S))
        else:
            jobs.append(PageJob(number=page.number, pdf=PdfPageRef(document.source.path, page.number, page.dpi),
                                timeout=PAGE_TIMEOUT_S))
    return jobs


def _passthrough(page: Page, document: LoadedDocument) -> PageText:
    source = page.source or ("text-file" if document.source.kind == "text" else "pdf-text-layer")
    # The text layer's word boxes travel on, so layout reads born-digital pages like scanned ones.
    return PageText(number=page.number, text=page.text or "", source=source, words=page.words,
                    width=page.width, height=page.height, tables=list(page.tables))


_PR_SET_PDEATHSIG = 1


def _worker_init() -> None:
    os.environ["OMP_THREAD_LIMIT"] = "1"
    try:  # one thread per worker for OpenCV too: the pool already fills the cores
        import cv2

        cv2.setNumThreads(1)
    except ImportError:
        pass
    # Ctrl-C and SIGTERM (sent to the whole process group by a terminal, or
    # the whole cgroup by systemd) are for the main process to handle: it
    # finishes the current document, which needs its pages read, then stops.
    # Tesseract, started from here, inherits the ignored dispositions too.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    # Die with the main process, even a SIGKILLed one: no orphan keeps a core
    # busy (or an inherited file open) after a killed run.
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass
        if os.getppid() == 1:  # the parent died before prctl took effect
            os._exit(1)


def make_pool(jobs: int | None = None) -> ProcessPoolExecutor:
    """A page-reading pool; share one across a batch to pay start-up once.

    Workers are spawned, not forked: a fork taken while OpenCV's thread
    pool or another library thread holds a lock inherits that lock held, and
    the worker hangs for ever on its first page.  (Not a fork server either:
    workers must be children of this process to die with it.)
    """
    return ProcessPoolExecutor(
        max_workers=jobs or os.cpu_count() or 1,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_worker_init,
    )


def kill_pool(pool: Executor) -> None:
    """Stop a pool now: queued pages are dropped, pages being read are abandoned.

    Workers ignore SIGTERM (see `_worker_init`), so they are SIGKILLed.
    """
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        try:
            process.kill()
        except (OSError, ValueError):
            pass
    for process in processes:
        try:
            process.join(timeout=5)
        except (OSError, ValueError, AssertionError):
            pass


@dataclass
class PendingText:
    """A document whose pages are being read in a pool."""

    document: LoadedDocument
    futures: dict[int, Future]


def submit_pages(document: LoadedDocument, pool: Executor) -> PendingText:
    """Queue every page that needs OCR; returns at once."""
    return PendingText(document, {job.number: pool.submit(read_page, job) for job in _jobs_for(document)})


def collect_pages(pending: PendingText, on_page: Callable[[PageText], None] | None = None) -> DocumentText:
    """Wait for a document's pages and assemble its text."""
    document = pending.document
    read: dict[int, PageText] = {}
    try:
        for number, future in pending.futures.items():
            # Safety net only: Tesseract itself stops after PAGE_TIMEOUT_S,
            # twice per page at most, and pages queue behind others.
            read[number] = future.result(timeout=PAGE_TIMEOUT_S * 4)
            if on_page:
                on_page(read[number])
    except tesseract.OcrFailed as error:
        raise BadInput(document.source.path, f"OCR failed ({error})", stage="ocr") from error
    except (tesseract.PageTimedOut, TimeoutError) as error:
        raise BadInput(document.source.path, f"OCR timed out on a page after {PAGE_TIMEOUT_S:g} s", stage="ocr") from error
    finally:
        for future in pending.futures.values():
            future.cancel()
    pages = [read.get(page.number) or _passthrough(page, document) for page in document.pages]
    for page in pages:
        if page.source != "ocr" and on_page:
            on_page(page)
    result = DocumentText(source=document.source, pages=pages)
    if not result.text.strip():
        raise BadInput(document.source.path, "no text found (blank or unreadable pages)", stage="ocr")
    return result


class InlineExecutor(Executor):
    """Runs each job at once in this process (one page, or no pool wanted)."""

    def submit(self, fn, /, *args, **kwargs):  # type: ignore[override]
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as error:  # handed to the caller through the future
            future.set_exception(error)
        return future


def ocr_document(
    document: LoadedDocument,
    pool: Executor | None = None,
    on_page: Callable[[PageText], None] | None = None,
) -> DocumentText:
    """OCR the pages that need it (in `pool` when given) and keep the rest."""
    return collect_pages(submit_pages(document, pool or InlineExecutor()), on_page)
