"""Issue 11, the analyst's side: read-only databases, a bounded search, small
input mistakes that were tracebacks."""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.analyst.serve import make_datasette
from pipeline.cli.main import main
from pipeline.core.errors import ExitCode

ROOT = Path(__file__).resolve().parents[1]
CONGVAN = ROOT / ".venv" / "bin" / "congvan"
NO_DAC = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--inh-caps=-dac_override,-dac_read_search"]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def readonly_db(sample_db: Path, tmp_path: Path) -> Path:
    """The sample database in a folder of its own, owned by another user (nobody), mode 644:
    readable by us, neither the file nor its folder writable (no -wal/-shm can be made)."""
    folder = tmp_path / "ro"
    folder.mkdir()
    path = folder / "congvan.db"
    shutil.copy(sample_db, path)
    for suffix in ("-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    os.chown(folder, 65534, 65534)
    os.chown(path, 65534, 65534)
    path.chmod(0o644)
    folder.chmod(0o755)
    return path


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setpriv") is None or not CONGVAN.exists(),
                    reason="needs root and setpriv to act as a user who may not write the database")
@pytest.mark.parametrize("command", [
    ["tasks", "--format", "csv"], ["search", "ke hoach"], ["export"], ["export", "--format", "ics"],
    ["cites", "2011/QĐ-UBND"],
])
def test_read_commands_work_on_a_database_we_may_not_write(readonly_db: Path, command: list[str]) -> None:
    before = digest(readonly_db)
    result = subprocess.run([*NO_DAC, str(CONGVAN), *command, "--db", str(readonly_db)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr and result.stdout
    assert digest(readonly_db) == before and sorted(os.listdir(readonly_db.parent)) == ["congvan.db"]


def test_serving_writes_nothing_not_even_a_view(analyst_db: Path) -> None:
    import sqlite3

    with sqlite3.connect(analyst_db) as db:  # a database made before the view existed
        db.execute("drop view if exists task_deadlines")
    db_bytes = digest(analyst_db)
    datasette = make_datasette(analyst_db)

    async def fetch() -> tuple[int, int, int]:
        await datasette.invoke_startup()
        upcoming = await datasette.client.get(
            "/congvan/upcoming_deadlines.json?_shape=array&today=2024-03-11&days=14")
        post = await datasette.client.post("/congvan/upcoming_deadlines", data={"today": "2024-03-11"})
        post_table = await datasette.client.post("/congvan/documents", data={"x": "1"})
        assert upcoming.json(), "the canned query reads the view's SQL inline"
        return upcoming.status_code, post.status_code, post_table.status_code

    assert asyncio.run(fetch()) == (200, 405, 405)
    assert digest(analyst_db) == db_bytes


def test_serve_on_a_busy_port_says_so_and_never_claims_to_serve(analyst_db: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        result = CliRunner().invoke(main, ["serve", "--db", str(analyst_db), "--port", str(port)])
    assert result.exit_code == ExitCode.USAGE
    assert "Serving" not in result.output and f"port {port}" in result.output and "in use" in result.output


def test_today_at_the_end_of_the_calendar_is_a_usage_error(analyst_db: Path) -> None:
    result = CliRunner().invoke(main, ["tasks", "--db", str(analyst_db), "--today", "9999-12-30",
                                       "--due-before", "next week"])
    assert result.exit_code == ExitCode.USAGE and "calendar" in result.output
    assert not isinstance(result.exception, OverflowError)


def test_issuer_made_of_punctuation_matches_nothing_silently_never_everything(analyst_db: Path) -> None:
    result = CliRunner().invoke(main, ["tasks", "--db", str(analyst_db), "--issuer", "%", "--format", "json"])
    assert result.exit_code == ExitCode.USAGE and "no letters or digits" in result.output


def test_canned_query_like_treats_percent_literally(analyst_db: Path) -> None:
    datasette = make_datasette(analyst_db)

    async def fetch() -> list:
        await datasette.invoke_startup()
        response = await datasette.client.get("/congvan/tasks_by_responsible.json?_shape=array&responsible=%25")
        return response.json()

    assert asyncio.run(fetch()) == []


def test_long_quoted_phrase_with_d_words_is_fast(sample_db: Path) -> None:
    from pipeline.analyst.search import fts_query, search
    from pipeline.core.database import open_readonly

    phrase = '"' + " ".join(["đề nghị đơn vị đôn đốc"] * 4) + '"'  # 20 words, each with a d/đ
    assert len(fts_query(phrase)) < 1000  # linear in the words, not 2^20 phrases
    started = time.monotonic()
    search(open_readonly(sample_db), phrase)
    assert time.monotonic() - started < 2


def test_phrase_with_d_words_still_checks_word_order(sample_db: Path) -> None:
    from pipeline.analyst.search import search
    from pipeline.core.database import open_readonly

    db = open_readonly(sample_db)
    forward = search(db, '"co quan don vi"')
    assert forward, "the sample letters write `cơ quan, đơn vị`"
    assert search(db, '"don vi co quan"') != forward or not search(db, '"vi don quan co"')
    assert search(db, '"vi don quan co"') == []
    assert search(db, '"dong y"') == search(db, '"đồng ý"')
