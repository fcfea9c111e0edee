"""Every error congvan reports, each carrying its exit code (the model: OCRmyPDF).

A user sees one line: the file (or the database) and the cause.  The CLI turns
any `CongvanError` into that line and its `exit_code` in one place
(`pipeline.cli.errors`); anything else that escapes is an internal error.

Per document, only `BadInput` (and its kinds) is expected: the batch records it
in `failures`, moves the file aside and goes on.  The other errors end a run.
"""

from __future__ import annotations

import errno
import sqlite3
from enum import IntEnum
from pathlib import Path


class ExitCode(IntEnum):
    """The process exit codes, documented in the README's table."""

    OK = 0
    INPUT_FAILED = 1  # at least one input failed; each is named on stderr and in `failures`
    USAGE = 2  # bad option, missing path, a folder where a file was expected
    LOCKED = 3  # another run holds the database's lock; nothing was done
    DATABASE = 4  # the database (or its folder, the lock file, the disk) cannot be used
    MISSING_DEPENDENCY = 5  # a program or package congvan needs is not installed
    CLUSTER_LOST = 6  # the Dask scheduler went away mid-run; what was committed is kept
    INTERNAL = 70  # a bug: an unexpected exception (EX_SOFTWARE of sysexits.h)
    INTERRUPTED = 130  # stopped at once by a second Ctrl-C


class CongvanError(Exception):
    """Base of congvan's own errors; `exit_code` is what the process ends with."""

    exit_code: ExitCode = ExitCode.INTERNAL

    def one_line(self) -> str:
        return str(self)


class BadInput(CongvanError):
    """An input congvan cannot turn into a record; the batch goes on without it.

    `stage` says where it failed (load, preprocess, ocr, restore, extract, store),
    `cause` is the short human reason printed and stored in the `failures` table.
    """

    exit_code = ExitCode.INPUT_FAILED

    def __init__(self, path: Path | str, cause: str, stage: str = "load") -> None:
        super().__init__(f"{path}: {cause}")
        self.path = str(path)
        self.cause = cause
        self.stage = stage

    def one_line(self) -> str:
        return f"{self.path}: {self.cause}"


class UsageError(CongvanError):
    """A bad option or argument; nothing was done."""

    exit_code = ExitCode.USAGE


class RunLocked(CongvanError):
    """Another congvan run holds the database's lock."""

    exit_code = ExitCode.LOCKED


class DatabaseError(CongvanError):
    """The database cannot be opened, read or written (corrupt, read-only, disk full)."""

    exit_code = ExitCode.DATABASE


class MissingDependency(CongvanError):
    """A program, language pack or package that congvan needs is not installed."""

    exit_code = ExitCode.MISSING_DEPENDENCY


class ClusterLost(CongvanError):
    """The Dask scheduler or all its workers went away during a run."""

    exit_code = ExitCode.CLUSTER_LOST


# SQLite's messages for a database that cannot be used at all, as opposed to
# one document's rows that cannot be written.  Matched on the text because
# sqlite3 raises OperationalError for most of them (the extended result codes
# are only on `sqlite_errorcode` from Python 3.11 on, and not for every path).
_DATABASE_TROUBLE = (
    "database or disk is full", "disk i/o error", "file is not a database", "database disk image is malformed",
    "database is locked", "unable to open database file", "attempt to write a readonly database",
    "readonly database", "database schema has changed", "no such table", "not authorized",
)
# errno values that mean the disk or the mount, not the file in hand.
_DISK_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EIO}


def database_error(error: BaseException, db: Path | str) -> DatabaseError | None:
    """`error` as a DatabaseError naming `db` when it is about the database or the disk, else None."""
    if isinstance(error, DatabaseError):
        return error
    if isinstance(error, sqlite3.Error):
        message = str(error).strip() or type(error).__name__
        per_row = isinstance(error, sqlite3.IntegrityError | sqlite3.DataError)  # one document's rows
        if isinstance(error, sqlite3.DatabaseError) and not per_row:
            if any(text in message.lower() for text in _DATABASE_TROUBLE) or type(error) is sqlite3.DatabaseError:
                return DatabaseError(f"{db}: {message}")
        return None
    if isinstance(error, OSError) and error.errno in _DISK_ERRNOS:
        where = error.filename or db
        return DatabaseError(f"{where}: {error.strerror or error}")
    return None
