"""One run at a time per database: an flock on a file beside it.

`congvan inbox --db data/congvan.db` locks `data/congvan.db.lock`.  The lock
belongs to the open file, so the kernel releases it when the process ends,
however it ends (SIGKILL, power cut): there is never a stale lock to clean
up.  The file itself stays; it holds the pid and start time of the last run
that took it, which the message for a second run quotes.
"""

from __future__ import annotations

import fcntl
import os
from datetime import datetime
from pathlib import Path

from pipeline.core.errors import DatabaseError, RunLocked


class Locked(RunLocked):
    """Another process holds the lock (exit code 3)."""

    def __init__(self, path: Path, holder: str) -> None:
        super().__init__(f"another congvan run holds {path}" + (f" ({holder})" if holder else ""))
        self.path = path
        self.holder = holder


def lock_path_for(db_path: Path) -> Path:
    """`DB.lock` beside the database the path leads to.

    Resolved first: `--db` through a symlink locks the same file as a run
    given the real path, so the two never write one database at once.
    """
    real = Path(os.path.realpath(db_path))
    return real.with_name(real.name + ".lock")


class RunLock:
    """`with RunLock(path):` holds an exclusive flock, or raises `Locked` at once."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._fd: int | None = None

    def acquire(self) -> RunLock:
        """Take the lock; `Locked` when another run has it, `DatabaseError` when
        the lock file cannot be made (no room, a read-only folder)."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as error:
            raise DatabaseError(f"cannot create the lock file {self.path}: {error.strerror or error}") from error
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read(fd)
            os.close(fd)
            raise Locked(self.path, holder) from None
        except BaseException:
            os.close(fd)
            raise
        try:
            os.ftruncate(fd, 0)
            started = datetime.now().astimezone().isoformat(timespec="seconds")
            os.write(fd, f"pid {os.getpid()}, started {started}\n".encode())
        except OSError:
            pass  # a full disk: the lock is held all the same, only the note for a second run is missing
        self._fd = fd
        # A forked child (an OCR worker) must not keep the lock alive after
        # this process dies: it closes its copy of the descriptor at once.
        os.register_at_fork(after_in_child=self._forget_in_child)
        return self

    def _forget_in_child(self) -> None:
        if self._fd is not None:
            try:
                os.close(self._fd)
            except OSError:
                pass
            self._fd = None

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def _read(fd: int) -> str:
    try:
        return os.pread(fd, 200, 0).decode("utf-8", "replace").strip()
    except OSError:
        return ""
