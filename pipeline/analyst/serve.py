"""The database in Datasette, on loopback only, with analyst metadata.

`pipeline/analyst/datasette_metadata.json` holds the titles, bilingual column
descriptions, facets and canned queries; it is written for a database file
named `congvan.db` and renamed here for any other file name.  Datasette facets
on columns, so the month of a deadline needs a column of its own: the view
`task_deadlines` (made by the writer, store.py's `VIEWS`) joins dated tasks
and reporting due dates with their letter and adds `deadline_month`.  The
views are plain SQL so the metadata also works with
`datasette data/congvan.db -m pipeline/analyst/datasette_metadata.json`.

Serving never writes: the database is opened read-only (`immutable` where
SQLite cannot share it read-only, as on a read-only mount), a database from
before the view existed is served without its facets, the canned queries
reading the view's SQL directly, and any request but GET/HEAD is answered
405 (Datasette would answer a POST to a canned query with a 500).
"""

from __future__ import annotations

import copy
import json
import os
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from pipeline.core.database import connect_readonly, read_mode
from pipeline.core.errors import UsageError
from pipeline.stages.store import VIEWS

__all__ = ["HOST", "VIEWS", "prepare", "metadata", "make_datasette", "serve"]

HOST = "127.0.0.1"  # the default; another interface needs a password (serve)
METADATA_FILE = Path(__file__).with_name("datasette_metadata.json")
_METADATA_DB = "congvan"

def prepare(db: Database) -> None:
    """Create (or bring up to date) the views the metadata refers to (for a writer; serving never calls it)."""
    from pipeline.stages.store import ensure_views

    ensure_views(db)


def missing_views(db_path: Path | str) -> list[str]:
    """The views of VIEWS that the database lacks (made by an older congvan)."""
    connection = connect_readonly(db_path)
    try:
        present = {row[0] for row in connection.execute("select name from sqlite_master where type = 'view'")}
    finally:
        connection.close()
    return [name for name in VIEWS if name not in present]


def metadata(db_name: str = _METADATA_DB, missing: list[str] | tuple[str, ...] = ()) -> dict[str, Any]:
    """The metadata file's content, keyed for the database `db_name`.

    A view in `missing` is dropped from the tables, and the canned queries
    read its SQL inline instead.
    """
    data = json.loads(METADATA_FILE.read_text(encoding="utf-8"))
    databases = data.get("databases", {})
    if db_name != _METADATA_DB and _METADATA_DB in databases:
        databases[db_name] = databases.pop(_METADATA_DB)
    for name in missing:
        for database in databases.values():
            database.get("tables", {}).pop(name, None)
            for query in database.get("queries", {}).values():
                query["sql"] = query["sql"].replace(f"from {name}\n", f"from ({VIEWS[name]}) as {name}\n")
    return copy.deepcopy(data)


_ALLOWED_METHODS = {"GET", "HEAD"}
# The review desk's forms (pipeline/analyst/desk) are the only writes the web view makes.
_DESK_PATH = "/-/desk/"


def read_only_asgi(app: Any) -> Any:
    """An ASGI wrapper answering 405 to every method but GET and HEAD, except the review
    desk's own forms (which check Datasette's CSRF token and refuse a read-only database)."""
    async def wrapped(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope.get("type") == "http" and scope.get("method", "GET").upper() not in _ALLOWED_METHODS \
                and not str(scope.get("path", "")).startswith(_DESK_PATH):
            body = b"405 Method Not Allowed: congvan serve answers GET and HEAD (and the desk's forms)\n"
            await send({"type": "http.response.start", "status": 405,
                        "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"allow", b"GET, HEAD"),
                                    (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})
            return
        await app(scope, receive, send)
    return wrapped


_PLUGIN_NAME = "congvan-read-only"


def _register_read_only() -> None:
    """Hand the wrapper to Datasette's plug-in manager, so its test client goes through it too."""
    import types

    from datasette import hookimpl
    from datasette.plugins import pm

    if pm.get_plugin(_PLUGIN_NAME) is None:
        plugin = types.ModuleType(_PLUGIN_NAME)

        def asgi_wrapper(datasette: Any) -> Any:
            return read_only_asgi

        plugin.asgi_wrapper = hookimpl(asgi_wrapper)  # type: ignore[attr-defined]
        pm.register(plugin, name=_PLUGIN_NAME)


def make_datasette(db_path: Path | str, *, originals: Sequence[Path | str] = (), **settings: Any):  # -> Datasette
    """A Datasette instance for the database; also what tests use.

    A database this user may write is opened as it is, brought up to date
    first (views, the desk's tables: nothing is written when they are there),
    and the review desk can correct it.  One this user may only read (a
    read-only mount, the cron user's file) is served read-only, and nothing
    writes to it.  `originals`: folders where the review desk also looks for
    the original files (besides their source path and the inbox's done/ folders).
    """
    from datasette.app import Datasette

    from pipeline.stages.store import open_db

    db_path = Path(db_path)
    mode = read_mode(db_path)  # DatabaseError/UsageError with one line when it cannot be read at all
    writable = mode == "ro" and os.access(db_path, os.W_OK) and os.access(db_path.parent, os.W_OK)
    if writable:
        try:
            prepare(open_db(db_path))
        except (sqlite3.Error, OSError):
            # Writable by its permissions yet not now (a read-only mount, a full disk):
            # served read-only as it is, the canned queries reading a missing view inline.
            writable = False
    missing = missing_views(db_path)
    _register_read_only()
    files = {"files": [str(db_path)]} if mode == "ro" else {"immutables": [str(db_path)]}
    meta = metadata(db_path.stem, missing)
    # The review desk (pipeline/analyst/desk), a plugin loaded by entry point.
    # `writable`: the desk shows its forms and writes only then (a file SQLite opens
    # read-only is still served as a live file, so that it shows what the writers add).
    meta.setdefault("plugins", {})["congvan-desk"] = {"originals": [str(Path(p).resolve()) for p in originals],
                                                      "writable": writable}
    return Datasette(
        **files,
        metadata=meta,
        settings={"default_page_size": 50, "sql_time_limit_ms": 3000, **settings},
    )


def bind(port: int, host: str = HOST) -> Any:
    """A listening socket on HOST:port, or UsageError naming the port when it is taken."""
    import errno
    import socket

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        if error.errno == errno.EADDRINUSE:
            raise UsageError(f"port {port} on {host} is already in use (another `congvan serve`?); "
                             "choose another with --port") from error
        raise UsageError(f"cannot listen on {host}:{port} ({error.strerror or error})") from error
    sock.listen(128)
    return sock


def serve(db_path: Path | str, port: int = 8001, on_ready: Any = None, *, host: str = HOST,
          password: str | None = None, originals: Sequence[Path | str] = ()) -> None:
    """Run Datasette on http://HOST:PORT until interrupted.

    On loopback (the default) no password is asked.  Bound to any other
    address the letters would be open to the network, so a password is
    required (UsageError without one) and every request must carry it.

    The port is taken before anything is announced: `on_ready()` (the CLI's
    "Serving ..." line) is called only once it is ours.
    """
    import asyncio

    import uvicorn

    from pipeline.analyst.desk.auth import is_loopback, require_password

    if not is_loopback(host) and not password:
        raise UsageError(f"serving on {host} opens the letters to the network: give --password "
                         "(or CONGVAN_SERVE_PASSWORD), or serve on 127.0.0.1")
    datasette = make_datasette(db_path, originals=originals)
    sock = bind(port, host)
    asyncio.run(datasette.invoke_startup())
    if on_ready is not None:
        on_ready()
    app = datasette.app()
    if password:
        app = require_password(app, password)
    config = uvicorn.Config(app, log_level="warning", lifespan="on", workers=1)
    uvicorn.Server(config).run(sockets=[sock])
