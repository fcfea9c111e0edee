"""The same ingest on a Dask cluster (`--scheduler`): same rows as a local run, whatever happens to the cluster.

A real `dask scheduler` and `dask worker` processes on 127.0.0.1 (and a
`LocalCluster` for `local:N`).  Every process a test starts is stopped by it,
within bounded timeouts.  The database after a cluster run must equal the
local run's record for record (`iter_records`, which leaves out ids and times),
also after a worker is SIGKILLed mid-run; a document that kills its workers
fails alone; a lost scheduler ends the run with exit 6 and the rerun finishes.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("distributed")

from pipeline.core.errors import ExitCode  # noqa: E402
from pipeline.jobs.ingest import Ingestor  # noqa: E402
from pipeline.stages.store import iter_records, open_db  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
LETTERS = sorted((ROOT / "tests" / "letters").glob("*.txt"))

pytestmark = pytest.mark.timeout(420)


# --------------------------------------------------------------------------- helpers


def records(db_path: Path) -> list[dict]:
    """Every stored record, in a fixed order (a cluster stores them as they arrive)."""
    return sorted(iter_records(open_db(db_path)), key=lambda r: r["sha256"])


def local_run(files: list[Path], db_path: Path) -> list[dict]:
    with Ingestor(open_db(db_path), jobs=1) as ingestor:
        summary = ingestor.run(files)
    assert summary.count("stored") == len(files)
    return records(db_path)


def copy_letters(folder: Path, names: list[Path]) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for source in names:
        target = folder / source.name
        target.write_bytes(source.read_bytes())
        out.append(target)
    return out


def congvan(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "congvan"), *args], capture_output=True, text=True, timeout=timeout, cwd=ROOT)


def stop(process: subprocess.Popen) -> None:
    """SIGTERM the process group this test started, then SIGKILL what is left."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            pass
    try:  # the group too: a nanny's worker process outlives a nanny killed hard
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass


class DaskProcesses:
    """A `dask scheduler` and `dask worker`s on loopback, as an operator starts them."""

    def __init__(self, folder: Path, allowed_failures: int = 1) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.scheduler_file = folder / "scheduler.json"
        self.env = {**os.environ, "PYTHONPATH": str(ROOT / "tests"),
                    "DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": str(allowed_failures),
                    # as the README advises: a worker holds only the document it is reading
                    "DASK_DISTRIBUTED__SCHEDULER__WORKER_SATURATION": "1.0"}
        self.scheduler: subprocess.Popen | None = None
        self.workers: list[subprocess.Popen] = []

    def _start(self, *args: str, log: str) -> subprocess.Popen:
        with open(self.folder / log, "ab") as out:
            return subprocess.Popen([str(BIN / "dask"), *args], stdout=out, stderr=subprocess.STDOUT, env=self.env,
                                    cwd=self.folder, start_new_session=True)

    def start_scheduler(self) -> str:
        self.scheduler_file.unlink(missing_ok=True)
        self.scheduler = self._start("scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                                     "--scheduler-file", str(self.scheduler_file), log="scheduler.log")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.scheduler_file.exists():
                try:
                    return str(json.loads(self.scheduler_file.read_text())["address"])
                except (ValueError, KeyError):
                    pass
            assert self.scheduler.poll() is None, (self.folder / "scheduler.log").read_text()
            time.sleep(0.2)
        raise AssertionError("the scheduler did not start in 60 s")

    def start_worker(self, name: str) -> None:
        self.workers.append(self._start(
            "worker", "--scheduler-file", str(self.scheduler_file), "--nworkers", "1", "--nthreads", "1",
            "--host", "127.0.0.1", "--no-dashboard", "--name", name, "--death-timeout", "30",
            "--memory-limit", "0", log=f"{name}.log"))

    def wait_for_workers(self, address: str, count: int, timeout: float = 120) -> None:
        from distributed import Client

        with Client(address, timeout=30) as client:
            client.wait_for_workers(count, timeout=timeout)

    def close(self) -> None:
        for worker in self.workers:
            stop(worker)
        if self.scheduler is not None:
            stop(self.scheduler)

    def logs(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}" for p in self.folder.glob("*.log"))


@pytest.fixture(scope="module")
def dask_processes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[DaskProcesses, str]]:
    """A scheduler and two single-threaded workers (allowed-failures 1: a poison document costs two workers)."""
    processes = DaskProcesses(tmp_path_factory.mktemp("dask"))
    try:
        address = processes.start_scheduler()
        processes.start_worker("w1")
        processes.start_worker("w2")
        processes.wait_for_workers(address, 2)
        yield processes, address
    finally:
        processes.close()


@pytest.fixture(scope="module")
def letters_local(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Path], list[dict]]:
    """Six text letters and what a local run stores for them."""
    folder = tmp_path_factory.mktemp("letters")
    files = copy_letters(folder / "in", LETTERS[:6])
    return files, local_run(files, folder / "local.db")


# --------------------------------------------------------------------------- the default suite


def test_local_cluster_stores_what_a_local_run_stores(tmp_path: Path) -> None:
    """`congvan ingest --scheduler local:2`: the same rows, and files that fail fail alike."""
    files = copy_letters(tmp_path / "in", LETTERS[:3])
    (tmp_path / "in" / "empty.txt").write_bytes(b"")
    (tmp_path / "in" / "zz-copy.txt").write_bytes(files[0].read_bytes())
    expected = local_run(files, tmp_path / "local.db")
    result = congvan("ingest", str(tmp_path / "in"), "--db", str(tmp_path / "cluster.db"), "--scheduler", "local:2",
                     "-q", timeout=240)
    assert result.returncode == ExitCode.INPUT_FAILED, result.stderr  # empty.txt fails, as in a local run
    assert "empty.txt: empty file (0 bytes)" in result.stderr
    assert "3 documents stored, 1 already in the database, 1 failed" in result.stdout
    assert records(tmp_path / "cluster.db") == expected


def test_a_bad_local_scheduler_is_a_usage_error(tmp_path: Path) -> None:
    files = copy_letters(tmp_path / "in", LETTERS[:1])
    result = congvan("ingest", str(files[0]), "--db", str(tmp_path / "db.sqlite"), "--scheduler", "local:0", "-q")
    assert result.returncode == ExitCode.USAGE and "local:N" in result.stderr


def test_the_scheduler_comes_from_the_settings_too(tmp_path: Path) -> None:
    """CONGVAN_SCHEDULER (and `scheduler` in congvan.toml) when --scheduler is not given."""
    from pipeline.jobs.cluster import parse_scheduler, scheduler_address

    files = copy_letters(tmp_path / "in", LETTERS[:1])
    result = subprocess.run([str(BIN / "congvan"), "ingest", str(files[0]), "--db", str(tmp_path / "db.sqlite"), "-q"],
                            capture_output=True, text=True, timeout=120, cwd=ROOT,
                            env={**os.environ, "CONGVAN_SCHEDULER": "local:0"})
    assert result.returncode == ExitCode.USAGE and "--scheduler local:0" in result.stderr
    assert scheduler_address("tcp://10.0.0.5:8786") == "tcp://10.0.0.5:8786"
    assert parse_scheduler("local:3") == ("local", 3)
    assert parse_scheduler(" tcp://10.0.0.5:8786 ") == ("tcp://10.0.0.5:8786", None)


def test_a_cluster_without_workers_ends_the_run_after_its_timeout(tmp_path: Path) -> None:
    """No worker for `no_workers_timeout_s`: ClusterLost (exit 6), the files stay where they are."""
    from distributed import LocalCluster

    from pipeline.core.errors import ClusterLost
    from pipeline.jobs.cluster import connect

    files = copy_letters(tmp_path / "in", LETTERS[:2])
    with LocalCluster(n_workers=0, host="127.0.0.1", dashboard_address=None) as cluster:
        with connect(cluster.scheduler_address, no_workers_timeout_s=1.0) as runner:
            ingestor = Ingestor(open_db(tmp_path / "db.sqlite"), runner=runner)
            with pytest.raises(ClusterLost, match="no worker has been connected for 1 s") as lost:
                ingestor.run(files)
    assert lost.value.exit_code == ExitCode.CLUSTER_LOST
    assert [o.status for o in ingestor.summary.outcomes] == ["skipped", "skipped"]
    assert all(f.exists() for f in files)


def test_dask_is_not_imported_by_a_local_run(tmp_path: Path) -> None:
    files = copy_letters(tmp_path / "in", LETTERS[:1])
    db, letter = str(tmp_path / "db.sqlite"), str(files[0])
    code = ("import sys; from pathlib import Path; from pipeline.jobs.ingest import Ingestor; "
            f"from pipeline.stages.store import open_db; Ingestor(open_db({db!r}), jobs=1).run([Path({letter!r})]); "
            "import pipeline.jobs.cluster, pipeline.cli.main; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


# --------------------------------------------------------------------------- a real scheduler and workers (slow)


@pytest.mark.slow
def test_scheduler_and_two_workers_store_what_a_local_run_stores(
        dask_processes: tuple[DaskProcesses, str], letters_local: tuple[list[Path], list[dict]],
        tmp_path: Path) -> None:
    """Text letters and a rendered scan, through `congvan ingest --scheduler tcp://...`."""
    from pagemaker import render_page, save_image

    processes, address = dask_processes
    files, _ = letters_local
    folder = tmp_path / "in"
    inputs = copy_letters(folder, files[:3])
    scan = save_image(render_page(), folder / "scan.png")
    expected = local_run([*inputs, scan], tmp_path / "local.db")
    result = congvan("ingest", str(folder), "--db", str(tmp_path / "cluster.db"), "--scheduler", address, "-q")
    assert result.returncode == 0, result.stderr + processes.logs()
    assert "4 documents stored" in result.stdout and "1 pages OCR'd" in result.stdout
    assert records(tmp_path / "cluster.db") == expected
    # --reprocess on the cluster: known files read again, rows rewritten in place, nothing added.
    again = congvan("ingest", str(folder), "--db", str(tmp_path / "cluster.db"), "--scheduler", address,
                    "--reprocess", "-q")
    assert again.returncode == 0, again.stderr
    assert "4 reprocessed" in again.stdout
    assert records(tmp_path / "cluster.db") == expected


@pytest.mark.slow
def test_a_worker_killed_mid_document_changes_nothing(
        dask_processes: tuple[DaskProcesses, str], letters_local: tuple[list[Path], list[dict]],
        tmp_path: Path) -> None:
    """SIGKILL the worker process reading a document: its nanny restarts it, the document runs elsewhere.

    A scan goes first, so the first worker seen busy is reading it (OCR takes
    seconds, a text letter a few hundredths).
    """
    from distributed import Client
    from pagemaker import render_page, save_image

    from pipeline.jobs.cluster import connect, worker_pids

    processes, address = dask_processes
    letters, _ = letters_local
    scan = save_image(render_page(), tmp_path / "scan.png")
    files = [scan, *letters[:4]]
    expected = local_run(files, tmp_path / "local.db")
    killed: list[int] = []

    def kill_one_busy_worker(client: Client, done: threading.Event) -> None:
        pids = worker_pids(client)
        while not done.is_set():
            busy = [worker for worker, tasks in client.processing().items() if tasks and worker in pids]
            if busy:
                os.kill(pids[busy[0]], signal.SIGKILL)
                killed.append(pids[busy[0]])
                return
            time.sleep(0.05)

    import cluster_tasks

    with Client(address, timeout=30) as watcher, connect(address) as runner:
        # Models are loaded when the plug-in is registered, before any document.
        assert set(watcher.run(cluster_tasks.models_loaded).values()) == {True}
        done = threading.Event()
        killer = threading.Thread(target=kill_one_busy_worker, args=(watcher, done), daemon=True)
        killer.start()
        with Ingestor(open_db(tmp_path / "cluster.db"), runner=runner) as ingestor:
            summary = ingestor.run(files)
        done.set()
        killer.join(timeout=10)
        processes.wait_for_workers(address, 2)  # the nanny brought the killed one back
        deadline = time.monotonic() + 60  # ... and the plug-in warmed the new one up too
        while set(watcher.run(cluster_tasks.models_loaded).values()) != {True} and time.monotonic() < deadline:
            time.sleep(0.5)
        assert set(watcher.run(cluster_tasks.models_loaded).values()) == {True}
    assert killed, "no worker was ever seen busy"
    with pytest.raises(ProcessLookupError):
        os.kill(killed[0], 0)
    assert summary.count("stored") == len(files), [(o.path.name, o.status, o.error) for o in summary.outcomes]
    assert summary.pages_ocr == 1
    assert records(tmp_path / "cluster.db") == expected


@pytest.mark.slow
def test_a_document_that_kills_its_workers_fails_alone(
        dask_processes: tuple[DaskProcesses, str], letters_local: tuple[list[Path], list[dict]],
        tmp_path: Path) -> None:
    """A file that takes down every worker that reads it fails with that reason, and alone.

    allowed-failures 1: Dask gives it up after two workers died, congvan tries
    it once more (a bystander's second chance), so four deaths in all.
    """
    import cluster_tasks

    from pipeline.jobs.cluster import connect

    processes, address = dask_processes
    files, expected = letters_local
    poison = tmp_path / "poison.txt"
    poison.write_bytes(files[0].read_bytes() + b"\n")
    with connect(address, task=cluster_tasks.poisoned) as runner:
        with Ingestor(open_db(tmp_path / "cluster.db"), runner=runner, failed_dir=tmp_path / "failed") as ingestor:
            summary = ingestor.run([poison, *files[:3]])
        processes.wait_for_workers(address, 2)
    failed = [o for o in summary.outcomes if o.status == "failed"]
    assert [o.path.name for o in failed] == ["poison.txt"]
    assert failed[0].error is not None and failed[0].error.stage == "cluster"
    assert "died 4 times" in failed[0].error.cause
    assert (tmp_path / "failed" / "poison.txt").exists()
    assert summary.count("stored") == 3
    by_sha = {r["sha256"]: r for r in expected}
    assert records(tmp_path / "cluster.db") == sorted((by_sha[r["sha256"]] for r in records(tmp_path / "cluster.db")),
                                                      key=lambda r: r["sha256"])
    row = sqlite3.connect(tmp_path / "cluster.db").execute("select stage, cause from failures").fetchall()
    assert len(row) == 1 and row[0][0] == "cluster"


@pytest.mark.slow
def test_a_lost_scheduler_ends_the_run_and_the_rerun_finishes(tmp_path: Path) -> None:
    """Kill the scheduler after the first commit: exit 6, the commits stay, a rerun stores the rest once."""
    folder = tmp_path / "in"
    files = copy_letters(folder, LETTERS)
    expected = local_run(files, tmp_path / "local.db")
    db = tmp_path / "cluster.db"
    processes = DaskProcesses(tmp_path / "dask")
    try:
        address = processes.start_scheduler()
        processes.start_worker("w1")
        processes.wait_for_workers(address, 1)
        run = subprocess.Popen([str(BIN / "congvan"), "ingest", str(folder), "--db", str(db), "--scheduler", address,
                                "-q"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
                               start_new_session=True)
        try:
            deadline = time.monotonic() + 240
            while time.monotonic() < deadline and run.poll() is None:
                if db.exists() and _stored(db) >= 1:
                    break
                time.sleep(0.05)
            assert processes.scheduler is not None
            os.kill(processes.scheduler.pid, signal.SIGKILL)
            out, err = run.communicate(timeout=120)
        finally:
            stop(run)
    finally:
        processes.close()
    assert run.returncode == ExitCode.CLUSTER_LOST, out + err
    # One clear line, not Dask's tracebacks.
    assert "Traceback" not in err, err
    assert err.strip().splitlines()[-1].startswith("congvan: lost the Dask cluster at " + address), err
    assert "run the same command again" in err
    first = _stored(db)
    assert 1 <= first < len(files)
    rerun = congvan("ingest", str(folder), "--db", str(db), "--scheduler", "local:1", "-q", timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    assert f"{len(files) - first} documents stored, {first} already in the database" in rerun.stdout
    assert records(db) == expected


def _stored(db: Path) -> int:
    try:
        with sqlite3.connect(db, timeout=5) as connection:
            return int(connection.execute("select count(*) from documents").fetchone()[0])
    except sqlite3.OperationalError:
        return 0


@pytest.mark.slow
def test_inbox_on_a_local_cluster_files_like_a_local_run(tmp_path: Path) -> None:
    """`congvan inbox --scheduler local:1`: stored files go to done/YYYY/MM, a bad one to failed/, a rerun finds all."""
    inbox = tmp_path / "inbox"
    files = copy_letters(inbox, LETTERS[:2])
    expected = local_run(copy_letters(tmp_path / "same", LETTERS[:2]), tmp_path / "local.db")
    (inbox / "empty.txt").write_bytes(b"")
    db = tmp_path / "cluster.db"
    first = congvan("inbox", str(inbox), "--db", str(db), "--settle", "0", "--scheduler", "local:1", timeout=240)
    assert first.returncode == ExitCode.INPUT_FAILED, first.stdout + first.stderr
    assert "2 stored, 0 duplicates, 1 failed" in first.stdout
    assert not any(inbox.iterdir())
    assert sorted(p.name for p in (tmp_path / "done").rglob("*.txt")) == sorted(f.name for f in files)
    assert (tmp_path / "failed" / "empty.txt.error.txt").exists()
    # Records equal the local run's but for `source`, the path each run was given.
    assert [{**r, "source": None} for r in records(db)] == [{**r, "source": None} for r in expected]
    for f in files:  # the same letters dropped again: found by sha256, no cluster needed
        f.write_bytes((tmp_path / "same" / f.name).read_bytes())
    again = congvan("inbox", str(inbox), "--db", str(db), "--settle", "0", "--scheduler", "tcp://127.0.0.1:9",
                    timeout=120)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "0 stored, 2 duplicates, 0 failed" in again.stdout
