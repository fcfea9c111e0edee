"""Time the web search box (congvan's d/đ query) against Datasette's own, and the CLI.

    .venv/bin/python -m benchmarks.search_box [COPIES]   (after `make run`; default 400 copies)

Copies the sample database's five letters COPIES times into a scratch database
(/tmp/congvan-bench-search/congvan.db; the FTS index follows by its triggers)
and prints the mean of five requests per query.
"""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.analyst.search import search  # noqa: E402
from pipeline.analyst.serve import make_datasette  # noqa: E402
from pipeline.core.database import open_readonly  # noqa: E402

QUERIES = ["dao tao", "cai cach hanh chinh", '"dao tao"']


def build(copies: int) -> Path:
    target = Path("/tmp/congvan-bench-search/congvan.db")
    shutil.rmtree(target.parent, ignore_errors=True)
    target.parent.mkdir(parents=True)
    shutil.copy(ROOT / "data" / "congvan.db", target)
    conn = sqlite3.connect(target)
    columns = [row[1] for row in conn.execute("pragma table_info(documents)") if row[1] != "id"]
    original = conn.execute("select max(id) from documents").fetchone()[0]
    for copy in range(copies):
        values = [f"substr(sha256, 1, 50) || '{copy:014d}'" if c == "sha256" else f'"{c}"' for c in columns]
        names = ", ".join(f'"{c}"' for c in columns)
        conn.execute(f"insert into documents ({names}) select {', '.join(values)} from documents where id <= ?",
                     [original])
    conn.commit()
    print(f"{conn.execute('select count(*) from documents').fetchone()[0]} letters, "
          f"{target.stat().st_size / 1e6:.1f} MB")
    conn.close()
    return target


def main() -> None:
    from urllib.parse import quote

    db_path = build(int(sys.argv[1]) if len(sys.argv) > 1 else 400)
    datasette = make_datasette(db_path)

    async def web() -> None:
        await datasette.invoke_startup()
        for query in QUERIES:
            for label, mode in (("congvan box", ""), ("Datasette's own", "&_searchmode=escaped")):
                url = f"/{db_path.stem}/documents.json?_size=20&_col=doc_number&_search={quote(query)}{mode}"
                start = time.perf_counter()
                for _ in range(5):
                    response = await datasette.client.get(url)
                took = (time.perf_counter() - start) / 5 * 1000
                found = response.json()["filtered_table_rows_count"]
                print(f"web {query!r:24} {label:16} {took:6.1f} ms  {found} letters")

    asyncio.run(web())
    db = open_readonly(db_path)
    for query in QUERIES:
        start = time.perf_counter()
        for _ in range(5):
            rows = search(db, query, limit=20)
        took = (time.perf_counter() - start) / 5 * 1000
        print(f"cli {query!r:24} {'congvan search':16} {took:6.1f} ms  {len(rows)} rows")


if __name__ == "__main__":
    main()
