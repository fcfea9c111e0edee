"""The web view answers as the CLI does: the same `today`, the same
accent-insensitive unit names, the same d/đ search (the search box runs
`congvan search`'s query), and a bad URL is a 404/400, never a 500 with a
traceback in the log."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import sqlite3
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from desk_support import build_desk_db

from pipeline.analyst import query
from pipeline.analyst.search import search
from pipeline.analyst.serve import make_datasette
from pipeline.core.database import open_readonly


def get_all(db_path: Path, paths: list[str], posts: list[str] = (), form_page: str = "") -> dict[str, Any]:
    datasette = make_datasette(db_path)

    async def go() -> dict[str, Any]:
        await datasette.invoke_startup()
        out: dict[str, Any] = {p: await datasette.client.get(p) for p in paths}
        if posts:  # with a real CSRF token: the request reaches the desk's own code
            page = await datasette.client.get(form_page)
            token = re.search(r'name="csrftoken" value="([^"]+)"', page.text)
            cookies = {"ds_csrftoken": page.cookies.get("ds_csrftoken") or ""}
            for path in posts:
                data = {"csrftoken": token[1] if token else "", "field": "doc_number", "value": "1/X",
                        "task_id": "x1"}
                out["POST " + path] = await datasette.client.post(path, data=data, cookies=cookies)
        return out

    return asyncio.run(go())


def rows(response: Any) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text[:500]
    return response.json()


@pytest.mark.parametrize("typed", ["24/7/2024", "2024-07-24", "24.07.2024"])
def test_web_today_is_read_as_the_cli_reads_it(analyst_db: Path, typed: str) -> None:
    today = date(2024, 7, 24)
    cli = [r["task_id"] for r in query.tasks(open_readonly(analyst_db), overdue=True, today=today)
           if r["kind"] == "task"]
    got = get_all(analyst_db, [f"/congvan/overdue_tasks.json?_shape=array&today={quote(typed)}",
                               f"/congvan/upcoming_deadlines.json?_shape=array&today={quote(typed)}&days=400",
                               "/congvan/upcoming_deadlines.json?_shape=array&today=2024-03-11&days=14"])
    responses = list(got.values())
    overdue = rows(responses[0])
    assert [r["task_id"] for r in overdue if r["kind"] == "task"] == cli and cli
    upcoming = query.tasks(open_readonly(analyst_db), due_after=today, due_before=date(2025, 8, 28), today=today)
    assert [r["deadline"] for r in rows(responses[1])] == [r["deadline"] for r in upcoming] == ["2024-12-31"]
    assert len(rows(responses[2])) == 3


def test_web_today_in_words_and_spans(analyst_db: Path) -> None:
    march = "/congvan/overdue_tasks.json?_shape=array&today="
    got = get_all(analyst_db, [march + quote("tháng 3/2024"), march + "2024-03-01", march + "garbage",
                               "/congvan/upcoming_deadlines?days=abc"])
    by_month, first_of_month, garbage, bad_days = got.values()
    assert rows(by_month) == rows(first_of_month)  # a month as `today` is its first day, as --today
    # Said, with the reason, rather than every deadline quietly "overdue".
    assert garbage.status_code == 400 and "cannot read 'garbage' as a date" in garbage.json()["error"]
    assert bad_days.status_code == 400 and "not a whole number" in bad_days.text
    assert query.day_of("tháng 3/2024") == date(2024, 3, 1)
    assert query.day_of("") == date.today()


@pytest.mark.parametrize("typed", ["so noi vu", "SỞ NỘI VỤ", "Sở  Nội vụ"])
def test_web_tasks_by_unit_ignore_accents_like_the_cli(analyst_db: Path, typed: str) -> None:
    cli = {r["responsible"] for r in query.tasks(open_readonly(analyst_db), responsible=typed, reports=False)}
    (response,) = get_all(analyst_db, [
        f"/congvan/tasks_by_responsible.json?_shape=array&responsible={quote(typed)}"]).values()
    assert {r["responsible"] for r in rows(response)} == cli == {"Sở Nội vụ"}


def test_web_citing_query_folds_the_number_like_the_cli(analyst_db: Path) -> None:
    (response,) = get_all(analyst_db, [
        "/congvan/documents_citing.json?_shape=array&doc_number=" + quote("2011/qd-ubnd")]).values()
    assert [r["doc_number"] for r in rows(response)] == [
        r["doc_number"] for r in query.citing(open_readonly(analyst_db), "2011/qd-ubnd")] == ["35/KH-UBND",
                                                                                            "479/UBND-NV"]


@pytest.mark.parametrize("typed, expected", [
    ("dong bo", ["2011/QĐ-UBND", "479/UBND-NV"]),  # Đồng bộ, Điều động cán bộ: once nothing without the đ
    ("đồng bộ", ["2011/QĐ-UBND", "479/UBND-NV"]),
    ("dieu dong", ["479/UBND-NV"]),
    ('"dong bo"', ["2011/QĐ-UBND"]),
    ('"bo dong"', []),  # a d/đ phrase's word order is checked
    ('"', []),  # no words: no rows, not an FTS5 syntax error
])
def test_search_box_finds_words_typed_without_d_stroke(analyst_db: Path, typed: str, expected: list[str]) -> None:
    url = f"/congvan/documents.json?_shape=array&_col=doc_number&_search={quote(typed)}"
    (response,) = get_all(analyst_db, [url]).values()
    got = sorted(r["doc_number"] for r in rows(response))
    assert got == expected
    if expected:  # the CLI agrees: one implementation
        assert got == sorted(r["doc_number"] for r in search(open_readonly(analyst_db), typed))


def test_search_box_page_keeps_the_typed_words(analyst_db: Path) -> None:
    (response,) = get_all(analyst_db, ["/congvan/documents?_search=" + quote("dong bo")]).values()
    assert response.status_code == 200
    assert 'value="dong bo"' in response.text and "2011/QĐ-UBND" in response.text


BAD_URLS = [
    "/-/desk/doc/999", "/-/desk/doc/0", "/-/desk/doc/abc", "/-/desk/doc/99999999999999999999999",
    "/-/desk/doc/{plan}/page/0.png", "/-/desk/doc/{plan}/page/99.png", "/-/desk/doc/999/page/1.png",
    "/-/desk/doc/99999999999999999999/page/1.png", "/-/desk/doc/{plan}/page/99999999999999999999.png",
    "/-/desk/doc/{plan}/page/x.png", "/-/desk/doc/{plan}/crop/bogus.png", "/-/desk/doc/999/crop/doc_number.png",
    "/-/desk/doc/{text}/page/1.png", "/-/desk/task/999", "/-/desk/task/abc", "/-/desk/task/99999999999999999999",
    "/-/desk/nothing", "/congvan/documents/999", "/congvan/nope", "/nope", "/congvan/tasks/abc",
]
BAD_POSTS = ["/-/desk/task/999/done", "/-/desk/task/99999999999999999999/reopen", "/-/desk/doc/999/correct",
             "/-/desk/doc/99999999999999999999/correct", "/-/desk/doc/{plan}/correct"]


def test_bad_desk_urls_are_404_or_400_without_a_traceback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          capfd: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("CONGVAN_CACHE_DIR", str(tmp_path / "cache"))
    db_path = build_desk_db(tmp_path / "desk")
    with sqlite3.connect(db_path) as conn:
        plan = conn.execute("select id from documents where doc_number is null").fetchone()[0]
        text = conn.execute("select id from documents where source like '%.txt'").fetchone()[0]
    capfd.readouterr()
    paths = [p.format(plan=plan, text=text) for p in BAD_URLS]
    posts = [p.format(plan=plan) for p in BAD_POSTS]
    got = get_all(db_path, paths, posts, form_page=f"/-/desk/doc/{plan}")
    statuses = {path: response.status_code for path, response in got.items()}
    assert {p: s for p, s in statuses.items() if s not in (400, 404)} == {}
    log = capfd.readouterr()
    assert "Traceback" not in log.out + log.err


def test_slot_boxes_of_the_handwriting_stage_are_kept_with_the_page() -> None:
    from pipeline.stages.handwriting import SlotReading
    from pipeline.stages.store import _slot_boxes

    number = SlotReading("number", None, 0.31, (300, 400, 120, 40), reason="unsure").to_json()
    day = SlotReading("day", "14", 0.9, (1700, 420, 60, 38)).to_json()
    readings = {"hand_number": [number], "hand_day": [day], "number": ["tesseract|plain|12"]}
    assert _slot_boxes(readings) == '{"number": [300, 400, 120, 40], "day": [1700, 420, 60, 38]}'
    assert _slot_boxes({"number": ["tesseract|plain|12"]}) is None


def test_crop_of_a_doubtful_number_is_its_handwritten_slot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from io import BytesIO

    from PIL import Image

    from pipeline.analyst.desk.pages import slot_region

    monkeypatch.setenv("CONGVAN_CACHE_DIR", str(tmp_path / "cache"))
    db_path = build_desk_db(tmp_path / "desk")
    with sqlite3.connect(db_path) as conn:
        plan = conn.execute("select id from documents where doc_number is null").fetchone()[0]
        columns = {row[1] for row in conn.execute("pragma table_info(pages)")}
        assert {"slots", "width", "height"} <= columns  # the store keeps the page's frame and slot boxes
        # The slot where the handwriting stage found the blank number, on a 300 dpi A4 page.
        conn.execute("update pages set slots = ?, width = 2480, height = 3508 where document_id = ? and number = 1",
                     ['{"number": [420, 700, 200, 50]}', plan])
    url = f"/-/desk/doc/{plan}/crop/doc_number.png"
    got = get_all(db_path, [url, f"/-/desk/doc/{plan}/page/1.png", f"/-/desk/doc/{plan}"])
    crop, page, letter = (Image.open(BytesIO(r.content)) if r.headers["content-type"] == "image/png" else r
                          for r in got.values())
    left, top, right, bottom = slot_region("doc_number", {"number": [420, 700, 200, 50]}, 2480, 3508)
    assert (left, right) == pytest.approx((220 / 2480, 820 / 2480))
    assert crop.size == pytest.approx((round((right - left) * page.size[0]), round((bottom - top) * page.size[1])),
                                      abs=2)
    assert "handwritten slot on page 1" in letter.text
    # Without a box (older databases, born-digital letters): where letters print the number.
    assert slot_region("doc_number", None, 2480, 3508) is None
    assert slot_region("doc_number", {"day": [1, 1, 1, 1]}, 2480, 3508) is None


CONGVAN = Path(__file__).resolve().parents[1] / ".venv" / "bin" / "congvan"
NO_DAC = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--inh-caps=-dac_override,-dac_read_search"]


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setpriv") is None or not CONGVAN.exists(),
                    reason="needs root and setpriv to act as a user who may not write the database")
@pytest.mark.parametrize("journal", ["wal", "delete"])
def test_serve_works_on_a_database_it_may_not_write(analyst_db: Path, tmp_path: Path, journal: str) -> None:
    """`congvan serve` by a user who may not write the file nor its folder, on a
    database from before the view existed: it serves, desk and canned queries
    included, creates no view, writes no byte and no -wal/-shm file, and the
    desk shows no forms (a rollback-journal file SQLite opens read-only as
    well as a WAL file it opens immutable)."""
    import hashlib
    import socket
    import subprocess
    import time
    import urllib.error
    import urllib.request

    with sqlite3.connect(analyst_db) as conn:
        conn.execute("drop view if exists task_deadlines")
        conn.execute(f"pragma journal_mode = {journal}")
    folder = tmp_path / "ro"
    folder.mkdir()
    path = folder / "congvan.db"
    shutil.copy(analyst_db, path)
    for owned in (folder, path):
        os.chown(owned, 65534, 65534)
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([*NO_DAC, str(CONGVAN), "serve", "--db", str(path), "--port", str(port)],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        def fetch(url: str) -> tuple[int, str]:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}{url}", timeout=30) as response:
                    return response.status, response.read().decode()
            except urllib.error.HTTPError as error:
                return error.code, error.read().decode()

        for _ in range(300):
            try:
                fetch("/-/versions.json")
                break
            except OSError:
                assert server.poll() is None, server.stdout.read() if server.stdout else ""
                time.sleep(0.2)
        desk, letter, upcoming = (fetch(u) for u in (
            "/-/desk", "/-/desk/doc/1", "/congvan/upcoming_deadlines.json?_shape=array&today=11/3/2024&days=14"))
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0]
    assert desk[0] == 200 and "2011/QĐ-UBND" in desk[1], output
    assert letter[0] == 200 and "the database is served read-only" in letter[1], letter[1][:300]
    assert 'name="csrftoken"' not in letter[1]  # no form to fill in that could not be saved
    assert upcoming[0] == 200 and len(json.loads(upcoming[1])) == 3
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    assert sorted(os.listdir(folder)) == ["congvan.db"]
    assert "Traceback" not in output


def test_slot_readings_keep_what_the_recogniser_read_sure_or_not() -> None:
    from pipeline.stages.handwriting import SlotReading
    from pipeline.stages.store import _slot_readings

    unsure = SlotReading("number", None, 0.0, (300, 400, 120, 40), reason="variants disagree",
                         candidate="275", candidate_confidence=0.781).to_json()
    sure = SlotReading("day", "14", 0.93, (1700, 420, 60, 38)).to_json()
    nothing = SlotReading("month", None, 0.0, (1800, 420, 60, 38), reason="no ink").to_json()
    got = json.loads(_slot_readings({"hand_number": [unsure], "hand_day": [sure], "hand_month": [nothing]}) or "{}")
    assert got == {"number": {"digits": "275", "confidence": 0.78, "sure": False, "reason": "variants disagree"},
                   "day": {"digits": "14", "confidence": 0.93, "sure": True, "reason": ""}}
    assert _slot_readings({"number": ["tesseract|plain|12"]}) is None


def test_a_day_mended_from_glyphs_that_read_no_day_shows_what_they_read() -> None:
    """The archivist sees both the day the recogniser settled on and the `94` the glyphs read."""
    from pipeline.analyst.desk import hand_reading
    from pipeline.stages.handwriting import SlotReading
    from pipeline.stages.store import _slot_readings

    mended = SlotReading("day", None, 0.0, (1700, 420, 60, 38), reason="faint ink left unread",
                         candidate="24", candidate_confidence=0.76, read_as="94").to_json()
    stored = json.loads(_slot_readings({"hand_day": [mended]}) or "{}")
    assert stored["day"]["read_as"] == "94"
    assert hand_reading("issue_date", stored) == "ngày 24 (0.76; 94)"


def test_a_null_number_shows_the_recogniser_reading_beside_its_crop(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONGVAN_CACHE_DIR", str(tmp_path / "cache"))
    db_path = build_desk_db(tmp_path / "desk")
    with sqlite3.connect(db_path) as conn:
        plan = conn.execute("select id from documents where doc_number is null").fetchone()[0]
        assert "slot_readings" in {row[1] for row in conn.execute("pragma table_info(pages)")}
        conn.execute("update pages set slots = ?, slot_readings = ?, width = 2480, height = 3508 "
                     "where document_id = ? and number = 1",
                     ['{"number": [420, 700, 200, 50]}',
                      '{"number": {"digits": "275", "confidence": 0.78, "sure": false, "reason": "x"}}', plan])
    letter = get_all(db_path, [f"/-/desk/doc/{plan}"])[f"/-/desk/doc/{plan}"]
    assert "số 275 (0.78)" in letter.text and "not sure enough to store" in letter.text
