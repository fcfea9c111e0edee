"""The database in Datasette, on loopback only, with analyst metadata.

`pipeline/analyst/datasette_metadata.json` holds the titles, bilingual column
descriptions, facets and canned queries; it is written for a database file
named `congvan.db` and renamed here for any other file name.  Datasette facets
on columns, so the month of a deadline needs a column of its own: the view
`task_deadlines` (created here, at serve time, so store.py's schema stays as
it is) joins dated tasks and reporting due dates with their letter and
adds `deadline_month`.  The views are plain SQL so the metadata also works with
`datasette data/congvan.db -m pipeline/analyst/datasette_metadata.json`.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from pipeline.analyst.query import ITEMS_SQL

__all__ = ["HOST", "VIEWS", "prepare", "metadata", "make_datasette", "serve"]

HOST = "127.0.0.1"  # the default; another interface needs a password (serve)
METADATA_FILE = Path(__file__).with_name("datasette_metadata.json")
_METADATA_DB = "congvan"

VIEWS = {
    # Dated items only: Datasette sorts nulls first, and an undated task is no
    # deadline (they are all in `tasks`).
    "task_deadlines": f"""select items.*, substr(items.deadline, 1, 7) as deadline_month
  from ({ITEMS_SQL}) as items
 where items.deadline is not null""",
}


def prepare(db: Database) -> None:
    """Create (or bring up to date) the views the metadata refers to."""
    with db.atomic():  # an ingest reading at the same time never sees the view missing
        for name, sql in VIEWS.items():
            # replace=True drops and recreates only when the definition changed.
            db.create_view(name, sql, replace=True)


def metadata(db_name: str = _METADATA_DB) -> dict[str, Any]:
    """The metadata file's content, keyed for the database `db_name`."""
    data = json.loads(METADATA_FILE.read_text(encoding="utf-8"))
    databases = data.get("databases", {})
    if db_name != _METADATA_DB and _METADATA_DB in databases:
        databases[db_name] = databases.pop(_METADATA_DB)
    return copy.deepcopy(data)


def make_datasette(db_path: Path | str, *, originals: Sequence[Path | str] = (), **settings: Any):  # -> Datasette
    """A Datasette instance for the database (views prepared); also what tests use.

    `originals`: folders where the review desk also looks for the original
    files (besides their source path and the inbox's done/ folders).
    """
    from datasette.app import Datasette

    from pipeline.stages.store import open_db

    db_path = Path(db_path)
    prepare(open_db(db_path))
    meta = metadata(db_path.stem)
    # The review desk (pipeline/analyst/desk), a plugin loaded by entry point.
    meta.setdefault("plugins", {})["congvan-desk"] = {"originals": [str(Path(p).resolve()) for p in originals]}
    return Datasette(
        files=[str(db_path)],
        metadata=meta,
        settings={"default_page_size": 50, "sql_time_limit_ms": 3000, **settings},
    )


def serve(db_path: Path | str, port: int = 8001, *, host: str = HOST, password: str | None = None,
          originals: Sequence[Path | str] = ()) -> None:
    """Run Datasette on http://HOST:PORT until interrupted.

    On loopback (the default) no password is asked.  Bound to any other
    address the letters would be open to the network, so a password is
    required (UsageError without one) and every request must carry it.
    """
    import asyncio

    import uvicorn

    from pipeline.analyst.desk.auth import is_loopback, require_password
    from pipeline.core.errors import UsageError

    if not is_loopback(host) and not password:
        raise UsageError(f"serving on {host} opens the letters to the network: give --password "
                         "(or CONGVAN_SERVE_PASSWORD), or serve on 127.0.0.1")
    datasette = make_datasette(db_path, originals=originals)
    asyncio.run(datasette.invoke_startup())
    app = datasette.app()
    if password:
        app = require_password(app, password)
    uvicorn.run(app, host=host, port=port, log_level="warning", lifespan="on", workers=1)
