"""Stage 3, ocr: a LoadedDocument -> DocumentText, pages read in parallel.

Pages with a trusted text layer pass through.  The others are rasterised,
preprocessed and read by an OCR engine (`pipeline.engines`, chosen by name:
`Settings.ocr_engine`) in worker processes, one page per task, so a 17-page
scan uses every core.  Each worker runs its engine with one thread
(OMP_THREAD_LIMIT=1): parallelism across pages beats an engine's own threads.
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
from pathlib import Path

import numpy as np

from pipeline.core.errors import BadInput
from pipeline.core.plugins import hooks
from pipeline.core.settings import DEFAULT_MAX_PAGE_PIXELS, DEFAULT_PAGE_TIMEOUT_S, Settings
from pipeline.core.types import DocumentText, LoadedDocument, Page, PageText, Table, TextSource
from pipeline.engines import DEFAULT_ENGINE, OcrEngine, OcrFailed, PageTimedOut, get_engine, slot_reader
from pipeline.engines.tesseract import words_to_text  # noqa: F401  (kept importable from here)
from pipeline.stages.header_read import grey_page, read_header_slots
from pipeline.stages.load import PdfPageRef, rasterise_pdf_page
from pipeline.stages.preprocess import flatten_sheet, is_blank, preprocess_page, rotate_right_angle
from pipeline.stages.table_scan import cv2_error, read_tables

log = logging.getLogger(__name__)
# A page that takes longer than `Settings.page_timeout_s` is given up (the
# engine cancels it) and its document fails, so one bad page cannot stall a
# batch.  A page may be read twice (upright check), so waiting on one allows
# a little over twice this.  The value travels in each PageJob to the workers;
# this is the default when none is given.
PAGE_TIMEOUT_S = DEFAULT_PAGE_TIMEOUT_S


@dataclass(frozen=True)
class PageJob:
    """Everything a worker needs to read one page; small enough to pickle."""

    number: int
    pdf: PdfPageRef | None = None
    image: np.ndarray | None = None
    dpi: int = 300
    timeout: float | None = None  # seconds per engine call; None: PAGE_TIMEOUT_S
    engine: str = DEFAULT_ENGINE  # a name registered under `congvan.ocr_engines`
    max_pixels: int = DEFAULT_MAX_PAGE_PIXELS  # Settings.max_page_pixels: no upscaling past it
    plugins: tuple[str, ...] = ()  # Settings.plugins: their run hooks are called in the worker too
    source: str = ""  # the document's path, for those hooks


# (A page whose mean word confidence is under its engine's `upright_confidence`
# is read again turned by 180 degrees, or the engine's `retry_turns`, and the
# better reading kept.)

# A second, focused reading of the header slots of page one (a few Tesseract calls on small crops).
READ_HEADER_SLOTS = True


def read_image(image: np.ndarray, dpi: int = 300, number: int = 1, detect_rotation: bool = True,
               timeout: float | None = None, engine: str = DEFAULT_ENGINE,
               max_pixels: int = DEFAULT_MAX_PAGE_PIXELS) -> PageText:
    """Preprocess and OCR one page image with the engine named `engine`, turning it upright if it reads badly."""
    reader = get_engine(engine)
    timeout = timeout or PAGE_TIMEOUT_S
    if getattr(reader, "straightens", False):
        return _read_straightening(reader, image, dpi, number, detect_rotation, timeout)
    # A phone photo of the whole sheet on a desk is flattened first (perspective undone), so the
    # preprocess stage, the header slots and the tables all work on the flat sheet.
    image = flatten_sheet(image)
    prepared = preprocess_page(image, dpi, detect_rotation=detect_rotation, max_pixels=max_pixels)
    if prepared.blank:
        return PageText(number=number, text="", source="ocr", mean_confidence=0.0)
    grey = grey_page(image, dpi, prepared, prepared.rotated_by) if reader.reads_grey else None
    page = grey if grey is not None else prepared.image
    reading = reader.read_page(page, prepared.dpi, timeout_s=timeout)
    rotated_by = prepared.rotated_by
    if detect_rotation and reading.mean_confidence < reader.upright_confidence:
        # Turns tried, in order, until one reads upright (an engine may offer more than 180: `retry_turns`).
        for turn in getattr(reader, "retry_turns", (180,)):
            turned = reader.read_page(rotate_right_angle(page, turn), prepared.dpi, timeout_s=timeout)
            if turned.mean_confidence > reading.mean_confidence:
                reading, rotated_by = turned, (prepared.rotated_by + turn) % 360
            if reading.mean_confidence >= reader.upright_confidence:
                break
    # Page one: read the header's number and date slots again, closer (pipeline/stages/header_read.py).
    readings: dict[str, list[str]] = {}
    if number == 1 and READ_HEADER_SLOTS:
        base = grey if grey is not None else grey_page(image, dpi, prepared, prepared.rotated_by)
        extra = (rotated_by - prepared.rotated_by) % 360
        readings = read_header_slots(rotate_right_angle(base, extra) if extra else base, reading.words,
                                     slot_reader(reader))
    # The frame the word boxes are in, and the tables read from it (ruled scans, cell by cell).
    extra = (rotated_by - prepared.rotated_by) % 360
    upright = rotate_right_angle(page, extra) if extra else page
    height, width = upright.shape[:2]
    tables = _scanned_tables(upright, prepared.dpi, number)
    return PageText(number=number, text=reading.text, source="ocr", mean_confidence=round(reading.mean_confidence, 2),
                    words=reading.words, rotated_by=rotated_by, header_readings=readings, tables=tables,
                    width=width, height=height, engine=reader.name)


def _read_straightening(reader: OcrEngine, image: np.ndarray, dpi: int, number: int, detect_rotation: bool,
                        timeout: float) -> PageText:
    """An engine that turns and deskews the page itself reads the page as loaded."""
    if is_blank(image):
        return PageText(number=number, text="", source="ocr", mean_confidence=0.0)
    reading = reader.read_page(image, dpi, timeout_s=timeout)
    rotated_by = reading.rotated_by
    if detect_rotation and reading.mean_confidence < reader.upright_confidence:
        turned = reader.read_page(rotate_right_angle(image, 180), dpi, timeout_s=timeout)
        if turned.mean_confidence > reading.mean_confidence:
            reading, rotated_by = turned, (180 + turned.rotated_by) % 360
    # The page the words' boxes are on: as the engine straightened it, else as loaded.
    upright = reading.image if reading.image is not None else image
    readings: dict[str, list[str]] = {}
    if number == 1 and READ_HEADER_SLOTS:
        readings = read_header_slots(upright, reading.words, slot_reader(reader))
    height, width = upright.shape[:2]
    # A straightened page may be at another scale (TrueOCR reads at 200 dpi at most).
    upright_dpi = round(dpi * max(upright.shape[:2]) / max(image.shape[:2]))
    tables = _scanned_tables(upright, upright_dpi, number)
    return PageText(number=number, text=reading.text, source="ocr", mean_confidence=round(reading.mean_confidence, 2),
                    words=reading.words, rotated_by=rotated_by, header_readings=readings, tables=tables,
                    width=width, height=height, engine=reader.name)


# Ruled task tables on a scanned page are read again cell by cell (pipeline/stages/table_scan.py).
READ_TABLES = True


def _scanned_tables(image: np.ndarray, dpi: int, number: int) -> list[Table]:
    if not READ_TABLES:
        return []
    try:
        return read_tables(image, dpi, number)
    except (PageTimedOut, cv2_error()) as error:  # the page's text stands without its tables
        log.debug("tables of page %d not read: %s", number, error)
        return []


def read_page(job: PageJob) -> PageText:
    """Worker entry point: rasterise if needed, then preprocess and OCR."""
    hooks(job.plugins).hook.congvan_page_ocr_started(path=Path(job.source), page=job.number)
    image = job.image if job.image is not None else rasterise_pdf_page(job.pdf)  # type: ignore[arg-type]
    dpi = job.dpi if job.image is not None else job.pdf.dpi  # type: ignore[union-attr]
    return read_image(image, dpi, job.number, timeout=job.timeout, engine=job.engine, max_pixels=job.max_pixels)


def _jobs_for(document: LoadedDocument, settings: Settings | None = None, engine: str | None = None) -> list[PageJob]:
    settings = settings or Settings()
    timeout, max_pixels = settings.page_timeout_s, settings.max_page_pixels
    engine = engine or settings.ocr_engine
    jobs = []
    for page in document.pages:
        if page.text is not None:
            continue
        if page.image is not None:
            jobs.append(PageJob(number=page.number, image=page.image, dpi=page.dpi, timeout=timeout,
                                engine=engine, max_pixels=max_pixels, plugins=settings.plugins,
                                source=str(document.source.path)))
        else:
            ref = PdfPageRef(document.source.path, page.number, page.dpi, max_pixels=max_pixels)
            jobs.append(PageJob(number=page.number, pdf=ref, timeout=timeout, engine=engine, max_pixels=max_pixels,
                                plugins=settings.plugins, source=str(document.source.path)))
    return jobs


def _passthrough(page: Page, document: LoadedDocument) -> PageText:
    source: TextSource = page.source or ("text-file" if document.source.kind == "text" else "pdf-text-layer")
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
    # One BLAS thread per worker as well (numpy's OpenBLAS reads this as it loads, which in a
    # spawned worker is before `_worker_init` runs): with a thread per core in every worker,
    # the digit recogniser's small matrix products ran ten times slower (BENCHMARKS.md, OCR engines).
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
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
    settings: Settings = Settings()


def submit_pages(document: LoadedDocument, pool: Executor, settings: Settings | None = None,
                 engine: str | None = None) -> PendingText:
    """Queue every page that needs OCR, to be read by the settings' engine (or `engine`); returns at once."""
    settings = settings or Settings()
    futures = {job.number: pool.submit(read_page, job) for job in _jobs_for(document, settings, engine)}
    return PendingText(document, futures, settings)


def collect_pages(pending: PendingText, on_page: Callable[[PageText], None] | None = None) -> DocumentText:
    """Wait for a document's pages and assemble its text."""
    document = pending.document
    timeout = pending.settings.page_timeout_s
    read: dict[int, PageText] = {}
    try:
        for number, future in pending.futures.items():
            # Safety net only: Tesseract itself stops after the page timeout,
            # twice per page at most, and pages queue behind others.
            read[number] = future.result(timeout=timeout * 4)
            if on_page:
                on_page(read[number])
    except OcrFailed as error:
        raise BadInput(document.source.path, f"OCR failed ({error})", stage="ocr") from error
    except (PageTimedOut, TimeoutError) as error:
        raise BadInput(document.source.path, f"OCR timed out on a page after {timeout:g} s", stage="ocr") from error
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

    def submit(self, fn, /, *args, **kwargs):
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
    settings: Settings | None = None,
    engine: str | None = None,
) -> DocumentText:
    """OCR the pages that need it (in `pool` when given) with the settings' engine (or `engine`), keep the rest."""
    return collect_pages(submit_pages(document, pool or InlineExecutor(), settings, engine), on_page)
