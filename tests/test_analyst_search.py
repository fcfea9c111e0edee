"""pipeline.analyst.search: accent-insensitive FTS5 with d/đ expansion, and `congvan search`."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from pipeline.analyst.search import HIT_END, HIT_START, fts_query, plain_snippet, search
from pipeline.cli.main import main
from pipeline.stages.store import open_db


def test_fts_query_expands_d_and_quotes_everything() -> None:
    assert fts_query("dong") == '("dong" OR "đong")'
    assert fts_query('ke hoach "cai cach"') == '"ke" AND "hoach" AND "cai cach"'
    # Punctuation in a number becomes a phrase, never FTS5 syntax.
    # ... matched in order: a few d/đ spellings are ORed phrases (FTS5 checks the order itself).
    assert fts_query("2011/QĐ-UBND") == (
        '("2011 qd ubnd" OR "2011 qd ubnđ" OR "2011 qđ ubnd" OR "2011 qđ ubnđ")')
    assert fts_query('"dao tao"') == '("dao tao" OR "đao tao")'
    for hostile in ['a OR', 'x"(', "NEAR(a b)", "-x*"]:
        fts_query(hostile)  # no exception; the quoting makes it literal
    with pytest.raises(ValueError):
        fts_query(" ,;- ")


@pytest.mark.parametrize("typed, number", [
    ("ke hoach cai cach", "2011/QĐ-UBND"),
    ("dong bo", "2011/QĐ-UBND"),        # Đồng bộ: đ is not a diacritic to the tokenizer
    ("dieu dong", "479/UBND-NV"),       # Điều động: two d's
    ("ĐIỀU ĐỘNG", "479/UBND-NV"),
    ("2011/QĐ-UBND", "35/KH-UBND"),
])
def test_search_finds_without_accents(analyst_db, typed: str, number: str) -> None:
    rows = search(open_db(analyst_db), typed)
    assert number in [r["doc_number"] for r in rows]


def test_search_rows_have_snippet_and_letter(analyst_db) -> None:
    db = open_db(analyst_db)
    # Both words anywhere: `Đồng bộ` (1) and `Điều động cán bộ` (3); as a phrase only 1.
    assert sorted(r["document_id"] for r in search(db, "dong bo")) == [1, 3]
    rows = search(db, '"dong bo"')
    assert len(rows) == 1
    row = rows[0]
    assert (row["doc_number"], row["issue_date"], row["issuer"]) == (
        "2011/QĐ-UBND", "2023-12-30", "Ủy ban nhân dân tỉnh Lạng Sơn")
    assert f"{HIT_START}Đồng bộ{HIT_END}" in row["snippet"]  # neighbouring hits merged
    assert plain_snippet(row["snippet"]).count("[Đồng bộ]") == 1
    assert search(open_db(analyst_db), "khong co tu nay") == []


def test_search_sample_database(sample_db) -> None:
    db = open_db(sample_db)
    rows = search(db, "ke hoach cai cach")
    numbers = [r["doc_number"] for r in rows]
    assert "35/KH-UBND" in numbers
    for row in rows:  # every hit really contains the words, accents aside
        text = db.execute("select coalesce(subject, '') || ' ' || text from documents where id = ?",
                          [row["document_id"]]).fetchone()[0]
        from pipeline.analyst.query import fold
        assert all(word in fold(text) for word in ("ke", "hoach", "cai", "cach"))
    assert [r["doc_number"] for r in search(db, "Da Nang")] == ["1520/SGDĐT-VP"]


def test_search_command(sample_db) -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["search", "ke hoach cai cach", "--db", str(sample_db)])
    assert result.exit_code == 0, result.output
    assert "35/KH-UBND" in result.output and "28/02/2024" in result.output
    assert "cải cách" in result.output.lower()
    as_json = runner.invoke(main, ["search", "kiem tra", "--db", str(sample_db), "--format", "json", "-n", "2"])
    rows = json.loads(as_json.output)
    assert 1 <= len(rows) <= 2 and all(HIT_START not in r["snippet"] and "[" in r["snippet"] for r in rows)
    empty = runner.invoke(main, ["search", "--db", str(sample_db), "--", "---"])
    assert empty.exit_code == 2
