"""Datasette: metadata, facets, canned queries (Datasette's own test client);
a smoke test of `congvan serve` in headless Chromium where it is installed."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import time
from pathlib import Path

import pytest

from pipeline.analyst.serve import HOST, METADATA_FILE, make_datasette

CHROMIUM = Path("/usr/bin/chromium")


def get(db_path: Path, *paths: str) -> list:
    """GET each path from a Datasette over db_path; JSON bodies decoded."""
    datasette = make_datasette(db_path)

    async def fetch() -> list:
        await datasette.invoke_startup()
        out = []
        for path in paths:
            response = await datasette.client.get(path)
            assert response.status_code == 200, (path, response.status_code, response.text[:500])
            out.append(response.json() if ".json" in path else response.text)
        return out

    return asyncio.run(fetch())


def test_metadata_file_is_complete() -> None:
    meta = json.loads(METADATA_FILE.read_text(encoding="utf-8"))
    congvan = meta["databases"]["congvan"]
    assert set(congvan["queries"]) == {
        "upcoming_deadlines", "overdue_tasks", "tasks_by_responsible", "documents_citing"}
    view = congvan["tables"]["task_deadlines"]
    assert set(view["facets"]) >= {"issuer", "doc_type", "responsible", "deadline_month"}
    for table in ("documents", "tasks", "task_deadlines", "references", "reporting_periods"):
        for column, text in congvan["tables"][table]["columns"].items():
            assert " / " in text, f"{table}.{column}: want 'Vietnamese / English'"


def test_canned_queries_return_expected_rows(analyst_db) -> None:
    upcoming, overdue, by_unit, citing, filtered = get(
        analyst_db,
        "/congvan/upcoming_deadlines.json?_shape=array&today=2024-03-11&days=14",
        "/congvan/overdue_tasks.json?_shape=array&today=2024-03-25",
        "/congvan/tasks_by_responsible.json?_shape=array&today=2024-03-16",
        "/congvan/documents_citing.json?_shape=array&doc_number=2011/qđ-ubnd",
        "/congvan/tasks_by_responsible.json?_shape=array&responsible=Nội vụ",
    )
    assert [(r["deadline"], r["kind"], r["doc_number"]) for r in upcoming] == [
        ("2024-03-15", "task", "35/KH-UBND"), ("2024-03-20", "report", "479/UBND-NV"),
        ("2024-03-25", "task", "479/UBND-NV")]
    assert [r["deadline"] for r in overdue] == ["2024-03-15", "2024-03-20"]
    units = {r["responsible"]: r for r in by_unit}
    assert set(units) == {"Phòng Nội vụ", "Các cơ quan, đơn vị", "Thủ trưởng các cơ quan",
                          "Văn phòng HĐND và UBND huyện", "Sở Nội vụ"}
    assert (units["Phòng Nội vụ"]["tasks"], units["Phòng Nội vụ"]["overdue"]) == (1, 1)
    assert units["Văn phòng HĐND và UBND huyện"]["next_deadline"] == "2024-03-25"
    assert [(r["doc_number"], r["cites"], r["cited_document_id"]) for r in citing] == [
        ("35/KH-UBND", "2011/QĐ-UBND", 1), ("479/UBND-NV", "2011/QD-UBND", None)]
    assert [r["responsible"] for r in filtered] == ["Phòng Nội vụ", "Sở Nội vụ"]


def test_view_facets_and_titles(analyst_db) -> None:
    data, page = get(analyst_db, "/congvan/task_deadlines.json?_size=0&_extra=facet_results",
                     "/congvan/task_deadlines")
    facets = data["facet_results"]
    facets = facets.get("results", facets)  # shape differs across Datasette versions
    months = {f["value"]: f["count"] for f in facets["deadline_month"]["results"]}
    assert months == {"2024-03": 3, "2024-04": 1, "2024-06": 1, "2024-12": 1}
    assert {"issuer", "doc_type", "responsible"} <= set(facets)
    assert "Hạn công việc / Deadlines" in page and "Month of the deadline" in page


def test_sample_database_in_datasette(sample_db) -> None:
    import sqlite3

    tasks_json, citing, documents_page, links_page = get(
        sample_db,
        "/congvan/task_deadlines.json?_shape=array&_size=max",
        "/congvan/documents_citing.json?_shape=array&doc_number=2011/QĐ-UBND",
        "/congvan/documents",
        "/congvan/references?document_id__notblank=1",
    )
    with sqlite3.connect(sample_db) as conn:
        dated = conn.execute("select (select count(*) from tasks where deadline is not null)"
                             " + (select count(*) from reporting_periods where due is not null)").fetchone()[0]
    assert len(tasks_json) == dated
    assert all(r["deadline_month"] == r["deadline"][:7] for r in tasks_json)
    assert [r["doc_number"] for r in citing] == ["35/KH-UBND"]
    assert "Văn bản / Documents" in documents_page
    # The web view walks the chain: a linked reference shows the cited letter's number, linked.
    with sqlite3.connect(sample_db) as conn:
        plan_id = conn.execute("select id from documents where doc_number = '35/KH-UBND'").fetchone()[0]
    assert f'<a href="/congvan/documents/{plan_id}">35/KH-UBND</a>' in links_page


def test_serve_binds_loopback_only(analyst_db, monkeypatch) -> None:
    import uvicorn

    from pipeline.analyst import serve

    seen = {}

    def run(self, sockets=None):  # type: ignore[no-untyped-def]
        seen["address"] = sockets[0].getsockname()
        sockets[0].close()

    port = free_port()
    monkeypatch.setattr(uvicorn.Server, "run", run)
    serve.serve(analyst_db, port=port)
    assert seen["address"] == ("127.0.0.1", port)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


@pytest.mark.skipif(not CHROMIUM.exists(), reason="headless Chromium is not installed (/usr/bin/chromium)")
def test_serve_smoke_in_headless_chromium(sample_db, tmp_path) -> None:
    """What `congvan serve` runs (serve.make_datasette on uvicorn, loopback), in a
    thread of this process rather than a subprocess: half the start-up time."""
    import threading

    import uvicorn

    datasette = make_datasette(sample_db)
    asyncio.run(datasette.invoke_startup())
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(datasette.app(), host=HOST, port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        for _ in range(100):
            if server.started:
                break
            time.sleep(0.05)
        assert server.started
        dom = subprocess.run(
            [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
             f"--user-data-dir={tmp_path / 'chromium'}", "--dump-dom", f"http://{HOST}:{port}/congvan/task_deadlines"],
            capture_output=True, text=True, timeout=60, env={**os.environ, "HOME": str(tmp_path)},
        ).stdout
        assert "Hạn công việc / Deadlines" in dom
        assert "deadline_month" in dom and "35/KH-UBND" in dom
    finally:
        server.should_exit = True
        thread.join(timeout=10)
