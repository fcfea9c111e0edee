"""The same ingest on a Dask cluster (`congvan ingest --scheduler ADDRESS`).

The client (this process) does what it does in a local run: checks each file,
hashes it, skips what the database already holds, and is the only SQLite
writer.  Only the per-document work moves: the file's bytes travel to a Dask
worker, which loads, preprocesses, OCRs, restores and extracts it there
(`process_document`) and sends back the record and restored text, or the
reason it failed.  The client stores each result in its own transaction as it
arrives (`distributed.as_completed`) and moves the file only after its commit,
through the `Ingestor`'s own methods, so outcomes, logs and the `failures`
table read exactly as in a local run.

- Files reach the workers as bytes inside the task, so a worker needs no view
  of the client's disk (and no shared folder); what a worker needs installed is
  this package and Tesseract with its `vie` data.
- Models load once per worker process (`pipeline.jobs.cluster_plugin`, a
  Dask `WorkerPlugin` re-run by every worker a nanny restarts).
- At most `max_in_flight` documents (by default twice the cluster's worker
  threads) are submitted at a time: a million-file inbox never holds a million
  futures, nor more than that many files' bytes.
- A worker killed mid-document is restarted by its nanny and the scheduler runs
  the document again elsewhere; a document that kills more than
  `distributed.scheduler.allowed-failures` workers fails alone (`KilledWorker`,
  stage `cluster`).  A lost scheduler ends the run with `ClusterLost` (exit 6):
  what was committed stays, the files in flight stay where they were, and the
  next run finishes the rest (a committed file is never stored twice: sha256).

This module imports Dask only when a cluster is used: a local run never does.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import tempfile
import time
import uuid
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline import __version__
from pipeline.core.errors import BadInput, ClusterLost, MissingDependency, UsageError
from pipeline.core.settings import Settings
from pipeline.core.types import PageText, Record, RestoredText

if TYPE_CHECKING:  # pragma: no cover
    from distributed import Client, Future, as_completed

    from pipeline.jobs.ingest import Ingestor, Summary

log = logging.getLogger("congvan")

DEFAULT_CONNECT_TIMEOUT_S = 30.0
# With no worker at all for this long, the run gives up (ClusterLost) rather than wait for ever.
DEFAULT_NO_WORKERS_TIMEOUT_S = 300.0
_POLL_S = 0.5  # how often the wait for results looks at the stop flag and the cluster's health
_WORKERS_EVERY_S = 5.0  # how often the number of worker threads is asked of the scheduler


# --------------------------------------------------------------------------- worker side


@dataclass(frozen=True)
class DocumentJob:
    """One document for a worker: its bytes and the name the client knows it by."""

    path: str  # as the client names it; becomes the record's `source`, exactly as in a local run
    sha256: str
    data: bytes


@dataclass
class DocumentResult:
    """What a worker sends back: a record and its restored text, or why there is none."""

    path: str
    sha256: str
    record: Record | None = None
    restored: RestoredText | None = None
    cause: str | None = None  # set when the document failed (a BadInput's cause)
    stage: str | None = None
    worker: str | None = None
    seconds: float = 0.0  # time spent on the worker
    cpu_seconds: float = 0.0  # CPU time of the task's thread (Tesseract runs in it), for sizing a cluster

    @property
    def failed(self) -> bool:
        return self.cause is not None


def _worker_name() -> str | None:
    try:
        from distributed import get_worker

        return str(get_worker().address)
    except (ImportError, ValueError):
        return None


def _local_name(path: str) -> str:
    """The file's own name (its suffix counts for type checks), safe to create in a temp folder."""
    name = Path(path).name.replace("\x00", "")
    return name if name not in ("", ".", "..") else "document"


def process_document(job: DocumentJob, settings: Settings | None = None) -> DocumentResult:
    """Load, preprocess, OCR, restore and extract one document from its bytes (runs on a worker).

    Pages are read one after another: a worker is one thread of the cluster,
    and the cluster's parallelism is across documents.  A `BadInput` becomes a
    failed result; anything else unexpected too, named as an internal error
    (its traceback goes to the worker's log), so one bad file never costs a
    worker.  Only a process that dies (a crash in native code, the OOM killer)
    takes its worker down, and the scheduler's retries handle that.
    """
    from pipeline.jobs.ingest import finish
    from pipeline.stages import ocr
    from pipeline.stages.load import identify, load

    began, began_cpu = time.monotonic(), time.thread_time()
    settings = settings or Settings()
    # Per worker process; every task of a run carries the same value.
    ocr.PAGE_TIMEOUT_S = settings.page_timeout_s

    def result(**fields: Any) -> DocumentResult:
        return DocumentResult(job.path, job.sha256, worker=_worker_name(), seconds=time.monotonic() - began,
                              cpu_seconds=time.thread_time() - began_cpu, **fields)

    stage = "load"
    try:
        with tempfile.TemporaryDirectory(prefix="congvan-") as folder:
            local = Path(folder) / _local_name(job.path)
            local.write_bytes(job.data)
            source = identify(local)
            if source.sha256 != job.sha256:
                return result(cause="the file's bytes changed on the way to the worker", stage="cluster")
            document = load(source)
            stage = "ocr"
            text = ocr.ocr_document(document)
        # From here on the document is known by the client's name for it, as in a local run.
        text = replace(text, source=replace(text.source, path=Path(job.path)))
        stage = "extract"
        record, restored = finish(text)
    except BadInput as error:
        return result(cause=error.cause, stage=error.stage)
    except Exception as error:  # one document never costs a worker; say what it was
        log.exception("internal error on %s (stage %s)", job.path, stage)
        first_line = (str(error).strip().splitlines() or [""])[0][:200]
        cause = f"internal error on a worker: {type(error).__name__}" + (f": {first_line}" if first_line else "")
        return result(cause=cause, stage=stage)
    return result(record=record, restored=restored)


# --------------------------------------------------------------------------- client side

Task = Callable[[DocumentJob, Settings], DocumentResult]


@dataclass
class _Submitted:
    path: Path
    job: DocumentJob  # kept (bytes too) until its result is in: a document may be submitted again
    began: float
    attempts: int = 0
    copies: list[Path] = field(default_factory=list)  # same bytes met while this one was in flight


@dataclass
class _Batch:
    """A run's documents in flight."""

    waiting: as_completed
    settings: Settings
    submitted: dict[Future, _Submitted] = field(default_factory=dict)
    by_sha: dict[str, _Submitted] = field(default_factory=dict)


def parse_scheduler(address: str) -> tuple[str, int | None]:
    """('local', N) for `local:N`, else (address, None); a bad `local:` is a usage error."""
    address = address.strip()
    if address.startswith("local:") or address == "local":
        count = address.partition(":")[2]
        if not count.isdigit() or int(count) < 1:
            raise UsageError(f"--scheduler {address}: write local:N with N >= 1 worker processes, e.g. local:2")
        return "local", int(count)
    if not address:
        raise UsageError("--scheduler: empty address (tcp://HOST:8786, or local:N)")
    return address, None


def scheduler_address(option: str | None) -> str | None:
    """The scheduler to use: the `--scheduler` option, else `scheduler` from the settings."""
    if option:
        return option
    from pipeline.core.settings import load_settings

    return load_settings().scheduler


class ClusterRunner:
    """Runs an `Ingestor`'s documents on a Dask cluster; the Ingestor keeps storing and moving.

    `task` is what each worker runs (by default `process_document`): a test or
    a deployment may pass its own, e.g. one that wraps it.

    A document whose workers died `allowed-failures + 1` times (Dask's
    `KilledWorker`) is submitted again, under a new key, until it has had
    `killed_worker_attempts` tries: Dask also counts against a document the
    death of a worker it was only queued on, so a bystander of a poison
    document gets a second chance and only the poison fails.
    """

    def __init__(self, client: Client, *, address: str = "", settings: Settings | None = None,
                 task: Task = process_document, max_in_flight: int | None = None,
                 no_workers_timeout_s: float = DEFAULT_NO_WORKERS_TIMEOUT_S,
                 killed_worker_attempts: int = 2) -> None:
        self.client = client
        self.killed_worker_attempts = killed_worker_attempts
        self.address = address or str(getattr(client.scheduler, "address", "the scheduler"))
        self.settings = settings
        self.task = task
        self.max_in_flight = max_in_flight
        self.no_workers_timeout_s = no_workers_timeout_s
        self._threads = 0
        self._threads_asked = 0.0
        self._no_workers_since: float | None = None

    # -- capacity and health

    def worker_threads(self) -> int:
        """Threads of all connected workers (asked of the scheduler every few seconds)."""
        now = time.monotonic()
        if now - self._threads_asked >= _WORKERS_EVERY_S:
            self._threads_asked = now
            try:
                try:
                    info = self.client.scheduler_info(n_workers=-1)  # every worker, not a sample
                except TypeError:  # an older Dask: all of them, always
                    info = self.client.scheduler_info()
                workers = info.get("workers", {})
            except (OSError, TimeoutError) as error:
                raise self._lost(f"the scheduler does not answer ({error})") from error
            self._threads = sum(int(w.get("nthreads", 1)) for w in workers.values())
            if self._threads:
                self._no_workers_since = None
            elif self._no_workers_since is None:
                self._no_workers_since = now
        return self._threads

    def capacity(self) -> int:
        """How many documents may be in flight: enough to keep every worker busy, no more."""
        if self.max_in_flight:
            return self.max_in_flight
        return max(2, 2 * self.worker_threads())

    def _lost(self, why: str) -> ClusterLost:
        return ClusterLost(f"lost the Dask cluster at {self.address}: {why}; what was committed is kept, "
                           "the files in flight stay where they are: run the same command again to finish the rest")

    def _check_cluster(self) -> None:
        if self.client.status != "running":
            raise self._lost(f"the client is {self.client.status} (the scheduler went away)")
        self.worker_threads()
        since = self._no_workers_since
        if since is not None and time.monotonic() - since > self.no_workers_timeout_s:
            raise self._lost(f"no worker has been connected for {self.no_workers_timeout_s:g} s")

    # -- the run

    def run(self, ingestor: Ingestor, files: Iterable[Path]) -> Summary:
        """Ingest every file; documents are stored as their results arrive."""
        from distributed import as_completed

        from pipeline.stages import ocr

        settings = self.settings or Settings(page_timeout_s=ocr.PAGE_TIMEOUT_S)
        summary = ingestor.summary
        queue = list(files)
        index = 0
        batch = _Batch(as_completed([], loop=self.client.loop), settings)
        try:
            while index < len(queue) or batch.submitted:
                reason = ingestor.should_stop() if ingestor.should_stop else None
                if reason:
                    summary.stopped = reason
                    break
                if index < len(queue) and len(batch.submitted) < self.capacity():
                    self._check_cluster()
                    self._start(ingestor, queue[index], batch)
                    index += 1
                    continue
                for future in self._next_batch(batch.waiting, ingestor):
                    self._finish(ingestor, batch, batch.submitted.pop(future), future)
        except ClusterLost:
            # The run says what happened in one line; the client's own retries and
            # tracebacks while it is closed would only bury it.
            for name in ("distributed", "distributed.client", "distributed.core", "distributed.comm"):
                logging.getLogger(name).setLevel(logging.CRITICAL)
            self._leave(ingestor, batch.submitted.values(), "left for the next run (the Dask cluster was lost)")
            batch.submitted.clear()
            summary.not_started = len(queue) - index
            raise
        finally:
            if batch.submitted:
                with contextlib.suppress(Exception):
                    self.client.cancel(list(batch.submitted))
        if summary.stopped:
            self._leave(ingestor, batch.submitted.values(), f"left for the next run (stopped: {summary.stopped})")
            summary.not_started = len(queue) - index
        return summary

    def _start(self, ingestor: Ingestor, path: Path, batch: _Batch) -> None:
        """Check, hash and dedupe a file as a local run does, then send it to the cluster."""
        from pipeline.stages.load import identify
        from pipeline.stages.store import document_id

        began = time.monotonic()
        if not ingestor._checked(path):
            return
        try:
            source = identify(path)
            if not ingestor._checked(path):
                return
            first = batch.by_sha.get(source.sha256)
            if first is not None:  # a copy of a document still in flight: settled with it
                first.copies.append(path)
                return
            existing = document_id(ingestor.db, source.sha256)
            if existing is not None and not ingestor.reprocess:
                ingestor._done(path, "duplicate", existing, began=began)
                return
            try:
                data = path.read_bytes()
            except OSError as error:
                raise BadInput(path, f"cannot read file ({error.strerror or error})") from error
        except BadInput as error:
            ingestor._fail(path, error, None, began)
            return
        item = _Submitted(path, DocumentJob(str(path), source.sha256, data), began)
        batch.by_sha[source.sha256] = item
        self._submit(batch, item)

    def _submit(self, batch: _Batch, item: _Submitted) -> None:
        try:
            # A fresh key per submission (the dashboard groups them as "congvan-document").
            future = self.client.submit(self.task, item.job, batch.settings,
                                        key=f"congvan-document-{uuid.uuid4().hex}", pure=False)
        except (OSError, TimeoutError, asyncio.CancelledError) as error:
            raise self._lost(f"{item.path} could not be submitted ({type(error).__name__}: {error})") from error
        item.attempts += 1
        batch.submitted[future] = item
        batch.waiting.add(future)

    def _next_batch(self, waiting: as_completed, ingestor: Ingestor) -> list[Future]:
        """The finished futures, waiting for at least one while watching the cluster and the stop flag."""
        # Woken as soon as a result lands (as_completed's own condition), else every _POLL_S.
        condition = getattr(waiting, "thread_condition", None)
        while True:
            if condition is None:
                time.sleep(0.02)
            else:
                with condition:
                    if not waiting.has_ready():
                        condition.wait(timeout=_POLL_S)
            if waiting.has_ready():
                return list(waiting.next_batch(block=False))
            self._check_cluster()
            if ingestor.should_stop and ingestor.should_stop():
                return []

    def _finish(self, ingestor: Ingestor, batch: _Batch, item: _Submitted, future: Future) -> None:
        """Store a result (its own transaction), or record why there is none; then the file moves."""
        from distributed import KilledWorker

        from pipeline.stages.store import document_id, store

        path = item.path
        if future.status == "cancelled":
            raise self._lost("the scheduler connection was lost")
        try:
            if future.status == "error":
                error = future.exception()
                if isinstance(error, KilledWorker) and item.attempts < self.killed_worker_attempts:
                    # Workers died while it ran, or while it only waited on a worker
                    # that another document took down: one more try, under a new key.
                    self._submit(batch, item)
                    return
                del batch.by_sha[item.job.sha256]
                self._failed(ingestor, item, BadInput(path, _error_cause(error, item.attempts), stage="cluster"))
                return
            result: DocumentResult = future.result()
        except (OSError, TimeoutError, asyncio.CancelledError) as error:  # CommClosedError is an OSError
            raise self._lost(f"the result of {path} could not be fetched ({type(error).__name__}: {error})") \
                from error
        future.release()
        del batch.by_sha[item.job.sha256]
        if result.failed:
            self._failed(ingestor, item, BadInput(path, result.cause or "failed", stage=result.stage or "cluster"))
            return
        assert result.record is not None
        for page in result.restored.document.pages if result.restored else ():
            self._count_page(ingestor, page)
        # --reprocess: a known document's rows are rewritten in place (ids and corrections kept).
        known = ingestor.reprocess and document_id(ingestor.db, item.job.sha256) is not None
        doc_id = store(ingestor.db, result.record, result.restored, replace=ingestor.reprocess)
        ingestor._done(path, "reprocessed" if known else "stored", doc_id, result.record, item.began)
        for copy in item.copies:
            ingestor._done(copy, "duplicate", doc_id, began=item.began)

    @staticmethod
    def _count_page(ingestor: Ingestor, page: PageText) -> None:
        if page.source == "ocr":
            ingestor.summary.pages_ocr += 1
        if ingestor.on_page:
            ingestor.on_page(page)

    @staticmethod
    def _failed(ingestor: Ingestor, item: _Submitted, error: BadInput) -> None:
        ingestor._fail(item.path, error, item.job.sha256, item.began)
        for copy in item.copies:
            ingestor._fail(copy, BadInput(copy, error.cause, error.stage), item.job.sha256, item.began)

    @staticmethod
    def _leave(ingestor: Ingestor, items: Iterable[_Submitted], note: str) -> None:
        from pipeline.jobs.ingest import Outcome

        for item in items:
            for path in [item.path, *item.copies]:
                ingestor._report(Outcome(path, "skipped", note=note))


def _error_cause(error: BaseException | None, attempts: int = 1) -> str:
    """One line for a task that raised instead of returning (workers that died, mostly)."""
    from distributed import KilledWorker

    if isinstance(error, KilledWorker):
        worker = getattr(error.last_worker, "address", error.last_worker)
        return (f"the Dask workers reading it died {(error.allowed_failures + 1) * attempts} times "
                f"(last {worker}); the document is given up so that it takes down no more (see that worker's log)")
    return f"failed on the cluster: {type(error).__name__}: {error}"


# --------------------------------------------------------------------------- connecting


def _congvan_version() -> str:
    return __version__


def _dashboard_address() -> str | None:
    try:
        import bokeh  # noqa: F401
    except ImportError:
        return None
    return "127.0.0.1:8787"


@contextlib.contextmanager
def connect(address: str, *, settings: Settings | None = None, task: Task = process_document,
            max_in_flight: int | None = None, connect_timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S,
            no_workers_timeout_s: float = DEFAULT_NO_WORKERS_TIMEOUT_S) -> Iterator[ClusterRunner]:
    """A `ClusterRunner` on the scheduler at `address`, or on a `LocalCluster` for `local:N`.

    Registers congvan's worker plugin (models loaded once per worker) and
    checks that every worker runs this version of congvan.
    """
    try:
        import dask
        from distributed import Client, LocalCluster
    except ImportError as error:
        raise MissingDependency(f"--scheduler needs Dask: pip install 'congvan[cluster]' ({error})") from error
    from pipeline.jobs.cluster_plugin import CongvanWorkerPlugin

    where, local_workers = parse_scheduler(address)
    # Dask's INFO chatter (a local scheduler's start, a closed batch stream's traceback) is
    # not for a user of this command; its warnings and errors still show.
    logging.getLogger("distributed").setLevel(logging.WARNING)
    logging.getLogger("distributed.batched").setLevel(logging.ERROR)
    with contextlib.ExitStack() as stack:
        if local_workers is not None:
            # One document per worker thread at a time (Dask's default queues a second on each
            # worker, which a worker's crash would count against too); allowed-failures as configured.
            stack.enter_context(dask.config.set({"distributed.scheduler.worker-saturation": 1.0}))
            with warnings.catch_warnings():  # 8787 taken: Dask picks another port (client.dashboard_link)
                warnings.filterwarnings("ignore", message=".*already in use", category=UserWarning)
                cluster = LocalCluster(n_workers=local_workers, threads_per_worker=1, processes=True,
                                       host="127.0.0.1", dashboard_address=_dashboard_address(),
                                       silence_logs=logging.ERROR)
            stack.callback(_quietly, cluster.close, timeout=30)
            client = Client(cluster, timeout=connect_timeout_s)
        else:
            try:
                client = Client(where, timeout=connect_timeout_s)
            except (OSError, TimeoutError) as error:
                raise ClusterLost(f"cannot reach the Dask scheduler at {where} ({error}); "
                                  "start it with `dask scheduler` and workers with `dask worker`") from error
        stack.callback(_quietly, client.close, timeout=10)
        try:
            client.register_plugin(CongvanWorkerPlugin(), name="congvan")
            versions = client.run(_congvan_version)
        except (OSError, TimeoutError) as error:
            raise ClusterLost(f"the Dask scheduler at {where} went away while starting ({error})") from error
        except Exception as error:  # the plug-in's setup failed on a worker: models, Tesseract
            raise MissingDependency(f"a Dask worker of {where} cannot run congvan: {type(error).__name__}: {error}") \
                from error
        wrong = {worker: version for worker, version in versions.items() if version != __version__}
        if wrong:
            listed = ", ".join(f"{w} has {v}" for w, v in sorted(wrong.items()))
            raise MissingDependency(f"Dask workers run another congvan than this machine ({__version__}): {listed}; "
                                    "install the same version everywhere")
        yield ClusterRunner(client, address=address, settings=settings, task=task, max_in_flight=max_in_flight,
                            no_workers_timeout_s=no_workers_timeout_s)


def open_runner(scheduler: str | None, **options: Any) -> contextlib.AbstractContextManager[ClusterRunner | None]:
    """`connect(scheduler)` when a scheduler is given, else nothing (a local run; Dask is not imported)."""
    if not scheduler:
        return contextlib.nullcontext(None)
    return connect(scheduler, **options)


def _quietly(close: Callable[..., Any], **kwargs: Any) -> None:
    """Close a client or cluster, which may already be gone with its scheduler.

    Dask's own complaints while closing (a client still trying to reconnect
    says it "failed to reconnect") are muted: the run has said what happened.
    """
    loggers = [logging.getLogger(name) for name in ("distributed", "distributed.client")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL)
    try:
        with contextlib.suppress(Exception):
            close(**kwargs)
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)


def worker_pids(client: Client) -> dict[str, int]:
    """worker address -> process id (operations and tests: which process to look at, or kill)."""
    return dict(client.run(os.getpid))
