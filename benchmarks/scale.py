"""Benchmark congvan past one machine: the local pool against 1 and 2 Dask workers.

    python -m benchmarks.scale [--pages 6] [--jobs 2] [--noop 300] [--commits 300] [--out FILE]

1. Throughput.  `--pages` single-page scans (A4, 300 dpi, rendered from
   tests/letters as benchmarks/inbox.py does) are ingested into a fresh
   database (a) by the local process pool (`Ingestor(jobs=JOBS)`), (b) on a
   `LocalCluster` of 1 Dask worker and (c) of 2 workers (`--scheduler local:N`,
   one thread each), in that order, each through the same `Ingestor` that the
   CLI drives.  Wall clock of `Ingestor.run` only: the pool's spawn and the
   cluster's start and model warm-up are paid once per run, not per page, and
   reported apart.  Every run must store every page with the same records.
2. The scheduler's overhead per document: `--noop` documents of a text
   letter's size sent through the same bounded submit / as_completed loop
   with a task that returns at once, on 2 workers: wall time / documents.
   Workers busy: the time documents ran on the workers over the run's time
   times the workers.
3. The single writer: `--commits` records (those of run (a), with fresh
   sha256s) stored one transaction each into a fresh WAL database: commits/s.

The machine is a shared 2-core VM: read the pages/min as relative figures;
the load average at the start and end is printed with them.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.inbox import render_pages

ROOT = Path(__file__).resolve().parents[1]


def _noop(job: object, settings: object) -> int:
    """A task that does nothing: what is left is the scheduler's and the transport's cost."""
    return 0


def _records(db_path: Path) -> list[dict]:
    from pipeline.stages.store import iter_records, open_db

    return sorted(iter_records(open_db(db_path)), key=lambda r: r["sha256"])


def run_local(pages: list[Path], db_path: Path, jobs: int) -> tuple[float, int]:
    from pipeline.jobs.ingest import Ingestor
    from pipeline.stages.store import open_db

    with Ingestor(open_db(db_path), jobs=jobs) as ingestor:
        ingestor.pool.submit(int).result()  # spawn the pool before the clock starts
        began = time.perf_counter()
        summary = ingestor.run(pages)
        seconds = time.perf_counter() - began
    return seconds, summary.count("stored")


def run_cluster(pages: list[Path], db_path: Path, workers: int) -> tuple[float, int, float, list[float], list[float]]:
    """(seconds, stored, start-up seconds, seconds each document ran on its worker, and its CPU seconds)."""
    from pipeline.jobs.cluster import ClusterRunner, connect
    from pipeline.jobs.ingest import Ingestor
    from pipeline.stages.store import open_db

    busy: list[float] = []
    cpu: list[float] = []

    class Timed(ClusterRunner):
        """The runner, noting how long each document ran on its worker."""

        def _finish(self, ingestor, batch, item, future):
            if future.status == "finished":
                busy.append(future.result().seconds)
                cpu.append(future.result().cpu_seconds)
            super()._finish(ingestor, batch, item, future)

    began = time.perf_counter()
    with connect(f"local:{workers}") as runner:
        runner.client.wait_for_workers(workers, timeout=120)
        timed = Timed(runner.client, address=runner.address)
        startup = time.perf_counter() - began
        with Ingestor(open_db(db_path), runner=timed) as ingestor:
            began = time.perf_counter()
            summary = ingestor.run(pages)
            seconds = time.perf_counter() - began
    return seconds, summary.count("stored"), startup, busy, cpu


def scheduler_overhead(documents: int, payload: bytes, workers: int = 2) -> float:
    """Seconds per document of a no-op task through congvan's submit loop (bounded in flight)."""
    from distributed import as_completed

    from pipeline.core.settings import Settings
    from pipeline.jobs.cluster import DocumentJob, connect

    with connect(f"local:{workers}") as runner:
        client = runner.client
        client.wait_for_workers(workers, timeout=120)
        limit = runner.capacity()
        waiting = as_completed([], loop=client.loop)
        settings = Settings()
        began = time.perf_counter()
        sent = done = 0
        while done < documents:
            while sent < documents and sent - done < limit:
                job = DocumentJob(f"noop-{sent}.txt", hashlib.sha256(payload + str(sent).encode()).hexdigest(), payload)
                waiting.add(client.submit(_noop, job, settings, key=f"congvan-noop-{sent}", pure=False))
                sent += 1
            for future in waiting.next_batch(block=True):
                future.result()
                done += 1
        return (time.perf_counter() - began) / documents


def writer_commits_per_second(commits: int, work: Path) -> float:
    """Store `commits` records (copies of two letters', fresh sha256s), one transaction each."""
    from pipeline.core.types import Record, RestoredText
    from pipeline.jobs.ingest import process_file
    from pipeline.stages.store import open_db, store

    # Records as the client receives them: rebuilt from two text letters by the real stages.
    letters = sorted((ROOT / "tests" / "letters").glob("*.txt"))[:2]
    made: list[tuple[Record, RestoredText]] = [process_file(letter) for letter in letters]
    db = open_db(work / "writer.db")
    began = time.perf_counter()
    for i in range(commits):
        record, restored = made[i % len(made)]
        copy = dataclasses.replace(record, sha256=hashlib.sha256(f"{i}".encode()).hexdigest())
        store(db, copy, restored)
    return commits / (time.perf_counter() - began)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=12)
    parser.add_argument("--jobs", type=int, default=2, help="processes of the local pool")
    parser.add_argument("--noop", type=int, default=300, help="no-op documents for the scheduler's overhead")
    parser.add_argument("--commits", type=int, default=300, help="records for the writer's commits per second")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "scale.md")
    args = parser.parse_args(argv)
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")

    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="congvan-scale-") as tmp:
        work = Path(tmp)
        pages = render_pages(args.pages, work / "pages")
        rows: list[tuple[str, float, float | None, float | None]] = []
        seconds, stored = run_local(pages, work / "local.db", args.jobs)
        assert stored == len(pages), f"local: {stored} of {len(pages)} stored"
        expected = _records(work / "local.db")
        rows.append((f"local process pool, {args.jobs} processes", seconds, None, None))
        print(f"local pool: {seconds:.1f} s", flush=True)
        cpu_per_page: list[float] = []
        for workers in (1, 2):
            seconds, stored, startup, busy, cpu = run_cluster(pages, work / f"dask{workers}.db", workers)
            cpu_per_page += cpu
            assert stored == len(pages), f"dask {workers}: {stored} of {len(pages)} stored"
            assert _records(work / f"dask{workers}.db") == expected, f"dask {workers}: records differ"
            rows.append((f"Dask, {workers} worker{'s' if workers > 1 else ''} x 1 thread (`local:{workers}`)",
                         seconds, startup, sum(busy) / (seconds * workers)))
            print(f"dask {workers}: {seconds:.1f} s (start-up {startup:.1f} s)", flush=True)
        payload = pages[0].read_bytes()  # a scan's size: the bytes travel through the scheduler
        noop = scheduler_overhead(args.noop, payload)
        print(f"no-op: {noop * 1000:.1f} ms per document", flush=True)
        commits = writer_commits_per_second(args.commits, work)
        print(f"writer: {commits:.0f} commits/s", flush=True)
    load_after = os.getloadavg()

    lines = [
        "# Scale: the local pool against Dask workers",
        "",
        f"`python -m benchmarks.scale --pages {args.pages} --jobs {args.jobs}`, "
        f"{time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} CPUs, "
        f"load average {load_before[0]:.1f} before, {load_after[0]:.1f} after; Python {sys.version.split()[0]}.",
        "",
        f"{args.pages} single-page scans (one document each), same records in every run.",
        "",
        "| run | seconds | pages/min | start-up s (once) | workers busy |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, run_seconds, startup_s, busy_share in rows:
        lines.append(f"| {name} | {run_seconds:.1f} | {args.pages / run_seconds * 60:.1f} | "
                     f"{'' if startup_s is None else f'{startup_s:.1f}'} | "
                     f"{'' if busy_share is None else f'{busy_share:.0%}'} |")
    from pipeline.core.settings import load_settings

    engine = load_settings().ocr_engine
    lines += [
        "",
        f"- CPU seconds per page on a worker (thread time of the task: load, preprocess, OCR with the "
        f"`{engine}` engine, restore, extract), median of {len(cpu_per_page)}: "
        f"**{statistics.median(cpu_per_page):.2f} s**; wall seconds on "
        "this loaded machine are longer.",
        f"- Scheduler's overhead per document, no-op task with a {len(payload) // 1024} KB scan, 2 workers, "
        f"{args.noop} documents through the bounded submit loop: **{noop * 1000:.1f} ms** "
        f"(at most {1 / noop:.0f} documents/s through one client).",
        "- Workers busy: the seconds documents ran on the workers / (run's seconds x workers); the rest is "
        "transport, scheduling, the client's hashing and commits, and the other work on this shared machine.",
        f"- The single writer: **{commits:.0f} commits/s** ({args.commits} records of text letters, one transaction "
        "each, WAL, FTS triggers on).",
        "",
    ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
