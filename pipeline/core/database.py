"""Opening a congvan database to read it, and nothing else.

`tasks`, `search`, `cites`, `export`, `serve` and `inbox --dry-run` only read.
They must work on a database the user may read but not write (a read-only
mount, the cron user's file) and must never change it: SQLite is opened with
`mode=ro`, so even a bug cannot write.  A WAL database whose `-shm` file
cannot be made or opened in that folder is opened `immutable=1` instead (its
last checkpoint: on a read-only mount nobody can be writing it anyway).

Any trouble opening it (not a database, not congvan's, unreadable) is a
`DatabaseError` with one line naming the file.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Literal
from urllib.parse import quote

from sqlite_utils import Database

from pipeline.core.errors import DatabaseError, UsageError

ReadMode = Literal["ro", "immutable"]


def _uri(path: Path, mode: ReadMode) -> str:
    query = "mode=ro" if mode == "ro" else "immutable=1"
    return f"file:{quote(os.fsdecode(path.absolute()))}?{query}"


def read_mode(path: Path | str) -> ReadMode:
    """`ro` when SQLite can read the file read-only as it is, else `immutable`.

    Raises DatabaseError when it cannot be read either way, UsageError for a
    folder.
    """
    path = Path(path)
    if path.is_dir():
        raise UsageError(f"--db {path} is a folder; give the database file")
    if not path.exists():
        raise DatabaseError(f"{path}: no such database (run `congvan ingest` or `congvan inbox` first)")
    if not os.access(path, os.R_OK):
        raise DatabaseError(f"{path}: cannot read the database (permission denied)")
    last: sqlite3.Error | None = None
    modes: tuple[ReadMode, ...] = ("ro", "immutable")
    for mode in modes:
        connection = sqlite3.connect(_uri(path, mode), uri=True)
        try:
            connection.execute("select count(*) from sqlite_master").fetchone()
            return mode
        except sqlite3.Error as error:
            last = error
        finally:
            connection.close()
    raise DatabaseError(f"{path}: cannot read the database ({last})")


def connect_readonly(path: Path | str, require_documents: bool = True) -> sqlite3.Connection:
    """A sqlite3 connection that cannot write, to a congvan database.

    `require_documents=False` accepts a database with no tables yet (one a
    writer created but never filled): `inbox --dry-run` reads it as empty.
    """
    path = Path(path)
    connection = sqlite3.connect(_uri(path, read_mode(path)), uri=True)
    connection.execute("PRAGMA busy_timeout = 30000")
    try:
        found = connection.execute(
            "select 1 from sqlite_master where type = 'table' and name = 'documents'").fetchone()
    except sqlite3.Error as error:
        connection.close()
        raise DatabaseError(f"{path}: cannot read the database ({error})") from error
    if found is None and require_documents:
        connection.close()
        raise DatabaseError(f"{path}: not a congvan database (no documents table)")
    return connection


def open_readonly(path: Path | str) -> Database:
    """`connect_readonly` as a sqlite-utils Database (what the analyst's queries take)."""
    return Database(connect_readonly(path))
