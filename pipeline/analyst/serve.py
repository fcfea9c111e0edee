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
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from pipeline.analyst.query import ITEMS_SQL

__all__ = ["HOST", "VIEWS", "prepare", "metadata", "make_datasette", "serve"]

HOST = "127.0.0.1"  # never another interface: the letters are internal documents
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


def make_datasette(db_path: Path | str, **settings: Any):  # -> datasette.app.Datasette
    """A Datasette instance for the database (views prepared); also what tests use."""
    from datasette.app import Datasette

    from pipeline.stages.store import open_db

    db_path = Path(db_path)
    prepare(open_db(db_path))
    return Datasette(
        files=[str(db_path)],
        metadata=metadata(db_path.stem),
        settings={"default_page_size": 50, "sql_time_limit_ms": 3000, **settings},
    )


def serve(db_path: Path | str, port: int = 8001) -> None:
    """Run Datasette on http://127.0.0.1:PORT until interrupted."""
    import asyncio

    import uvicorn

    datasette = make_datasette(db_path)
    asyncio.run(datasette.invoke_startup())
    uvicorn.run(datasette.app(), host=HOST, port=port, log_level="warning", lifespan="on", workers=1)
