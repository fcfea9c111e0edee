"""The review desk through Datasette's own test client (no browser): pages,
images, CSRF-protected corrections, links in tables and canned queries, and the
password that serving beyond loopback requires."""

from __future__ import annotations

import asyncio
import base64
import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from desk_support import build_desk_db

from pipeline.analyst.serve import make_datasette


@pytest.fixture
def desk_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CONGVAN_CACHE_DIR", str(tmp_path / "cache"))
    return build_desk_db(tmp_path / "desk")


def run(db_path: Path, steps: Any, **kwargs: Any) -> Any:
    datasette = make_datasette(db_path, **kwargs)

    async def go() -> Any:
        await datasette.invoke_startup()
        return await steps(datasette.client)

    return asyncio.run(go())


def _plan_id(db_path: Path) -> int:
    with sqlite3.connect(db_path) as conn:
        return int(conn.execute("select id from documents where doc_number is null").fetchone()[0])


def test_letter_page_shows_scan_fields_confidences_and_crop(desk_db: Path) -> None:
    plan = _plan_id(desk_db)

    async def steps(client: Any) -> Any:
        return [await client.get(p) for p in (
            f"/-/desk/doc/{plan}", f"/-/desk/doc/{plan}/page/1.png", f"/-/desk/doc/{plan}/crop/doc_number.png",
            f"/-/desk/doc/{plan}/page/2.png", "/-/desk/doc/999", "/-/desk")]

    page, image, crop, no_page, missing, queue = run(desk_db, steps)
    assert page.status_code == 200
    html = page.text
    assert f'src="/-/desk/doc/{plan}/page/1.png"' in html  # the scan beside the record
    assert f'id="crop-doc_number" src="/-/desk/doc/{plan}/crop/doc_number.png"' in html
    assert 'class="conf low" title="độ tin cậy / confidence">0.00' in html  # the number's confidence
    assert 'title="độ tin cậy / confidence">0.97' in html
    assert 'name="csrftoken"' in html
    assert image.status_code == 200 and image.headers["content-type"] == "image/png"
    assert image.content[:8] == b"\x89PNG\r\n\x1a\n"
    from io import BytesIO

    from PIL import Image

    width, height = Image.open(BytesIO(image.content)).size
    assert 700 <= width <= 1000 and height > width  # an A4 page at screen resolution
    assert crop.status_code == 200 and Image.open(BytesIO(crop.content)).size[0] < width
    assert no_page.status_code == 404 and missing.status_code == 404
    assert "Không có văn bản #999" in missing.text
    assert queue.status_code == 200 and "(không số / no number)" in queue.text


def test_page_images_are_cached(desk_db: Path, tmp_path: Path) -> None:
    plan = _plan_id(desk_db)

    async def steps(client: Any) -> Any:
        return (await client.get(f"/-/desk/doc/{plan}/page/1.png")).status_code

    assert run(desk_db, steps) == 200
    assert len(list((tmp_path / "cache" / "desk").glob("*-p1.png"))) == 1


def _csrf(client: Any, path: str) -> Any:
    async def get() -> tuple[str, dict[str, str]]:
        page = await client.get(path)
        token = re.search(r'name="csrftoken" value="([^"]+)"', page.text)[1]
        return token, {"ds_csrftoken": page.cookies["ds_csrftoken"]}
    return get()


def test_corrections_need_the_csrf_token_and_show_in_the_history(desk_db: Path) -> None:
    plan = _plan_id(desk_db)

    async def steps(client: Any) -> Any:
        refused = await client.post(f"/-/desk/doc/{plan}/correct", data={"field": "doc_number", "value": "1/X"})
        token, cookies = await _csrf(client, f"/-/desk/doc/{plan}")
        form = {"csrftoken": token, "field": "doc_number", "value": "35/KH-UBND", "by": "Lan"}
        saved = await client.post(f"/-/desk/doc/{plan}/correct", data=form, cookies=cookies)
        bad = await client.post(f"/-/desk/doc/{plan}/correct", cookies=cookies,
                                data={**form, "field": "issue_date", "value": "31/2/2024"})
        after = await client.get(f"/-/desk/doc/{plan}")
        return refused, saved, bad, after

    refused, saved, bad, after = run(desk_db, steps)
    assert refused.status_code == 403
    assert saved.status_code == 302 and saved.headers["location"].startswith(f"/-/desk/doc/{plan}?saved=")
    assert bad.status_code == 400 and "is not a date" in bad.text
    assert '<span id="doc-number">35/KH-UBND</span>' in after.text
    assert "<td>Lan</td><td>doc_number</td><td>null</td><td>35/KH-UBND</td>" in after.text
    assert 'class="citing" href="/-/desk/doc/' in after.text  # 61/PNV cites it now
    with sqlite3.connect(desk_db) as conn:
        assert conn.execute("select field, old_value, new_value, by from corrections").fetchall() == [
            ("doc_number", None, "35/KH-UBND", "Lan")]


def test_done_and_reopen_from_the_desk(desk_db: Path) -> None:
    with sqlite3.connect(desk_db) as conn:
        task_id, plan = conn.execute("select t.id, t.document_id from tasks t join documents d on d.id = t.document_id"
                                     " where d.doc_number is null order by t.position").fetchone()

    async def steps(client: Any) -> Any:
        token, cookies = await _csrf(client, f"/-/desk/doc/{plan}")
        done = await client.post(f"/-/desk/task/{task_id}/done", data={"csrftoken": token}, cookies=cookies)
        overdue = await client.get("/congvan/overdue_tasks.json?_shape=array&today=2024-12-31")
        reopen = await client.post(f"/-/desk/task/{task_id}/reopen", data={"csrftoken": token}, cookies=cookies)
        overdue_again = await client.get("/congvan/overdue_tasks.json?_shape=array&today=2024-12-31")
        task_link = await client.get(f"/-/desk/task/{task_id}")
        return done, overdue.json(), reopen, overdue_again.json(), task_link

    done, overdue, reopen, overdue_again, task_link = run(desk_db, steps)
    assert done.status_code == 302 and done.headers["location"].endswith(f"#task-{task_id}")
    assert task_id not in [r["task_id"] for r in overdue]
    assert task_id in [r["task_id"] for r in overdue_again]
    assert task_link.status_code == 302 and task_link.headers["location"] == f"/-/desk/doc/{plan}#task-{task_id}"


def test_links_go_task_letter_cited_citing_in_tables_and_canned_queries(desk_db: Path) -> None:
    async def steps(client: Any) -> Any:
        return [(await client.get(p)).text for p in (
            "/congvan/upcoming_deadlines?today=2024-03-01&days=60",
            "/congvan/documents_citing?doc_number=2011/QĐ-UBND",
            "/congvan/documents", "/congvan/task_deadlines", "/congvan/document_list", "/congvan/tasks/1")]

    upcoming, citing, documents, deadlines, document_list, task_row = run(desk_db, steps)
    # A task's own page links its letter (Datasette shows a bare id there).
    assert re.search(r'<td class="col-document_id type-int"><a href="/-/desk/doc/\d+">2011/QĐ-UBND</a></td>', task_row)
    assert re.search(r'<a href="/-/desk/task/\d+">nhiệm vụ / task \d+</a>', upcoming)
    assert re.search(r'<a href="/-/desk/doc/\d+">#\d+</a>', upcoming)  # the plan has no number yet
    assert re.search(r'<a href="/-/desk/doc/\d+">2011/QĐ-UBND \(#\d+\)</a>', citing)  # the cited letter
    assert re.search(r'<a href="/-/desk/doc/\d+">2011/QĐ-UBND</a>', documents)
    assert re.search(r'<a href="/-/desk/doc/\d+">', deadlines)
    # One row fits a screen: an excerpt of the text, a short SHA-256.
    assert "Căn cứ Luật Tổ chức chính quyền địa phương ngày 19 tháng 6 năm 2015" not in documents
    assert re.search(r'<code title="[0-9a-f]{64}">[0-9a-f]{12}…</code>', documents)
    assert "cần rà soát / to review" in document_list and "đã đọc / read" in document_list


def test_serving_beyond_loopback_requires_a_password(desk_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    from pipeline.analyst import serve
    from pipeline.core.errors import UsageError

    seen: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: seen.update(kwargs, app=app))
    with pytest.raises(UsageError, match="give --password"):
        serve.serve(desk_db, host="0.0.0.0")
    serve.serve(desk_db, host="0.0.0.0", password="s3cret")
    assert seen["host"] == "0.0.0.0"
    app = seen["app"]

    async def call(headers: list[tuple[bytes, bytes]]) -> tuple[int, bytes]:
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        scope = {"type": "http", "method": "GET", "path": "/-/desk", "raw_path": b"/-/desk", "query_string": b"",
                 "headers": headers, "scheme": "http", "server": ("127.0.0.1", 8001), "root_path": "",
                 "http_version": "1.1", "client": ("10.0.0.2", 5000)}
        await app(scope, receive, send)
        return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])

    def basic(user: str, password: str) -> list[tuple[bytes, bytes]]:
        return [(b"authorization", b"Basic " + base64.b64encode(f"{user}:{password}".encode()))]

    assert asyncio.run(call([]))[0] == 401
    assert asyncio.run(call(basic("lan", "wrong")))[0] == 401
    status, body = asyncio.run(call(basic("lan", "s3cret")))
    assert status == 200 and "Bàn rà soát" in body.decode()
    assert asyncio.run(call([(b"authorization", b"Bearer s3cret")]))[0] == 200


def test_next_goes_on_through_the_queue_after_a_letter_left_it() -> None:
    from pipeline.analyst.desk import _neighbours

    order = [1, 2, 3, 4, 5]
    assert _neighbours(order, {2, 4}, 2) == (None, 4)
    assert _neighbours(order, {2, 4}, 3) == (2, 4)  # 3 was just fixed: Next is the next one to review
    assert _neighbours(order, set(), 3) == (2, 4)  # nothing to review: every letter
