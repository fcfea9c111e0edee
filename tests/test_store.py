"""Stage store: one atomic document, child rows, FTS without diacritics."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.core.types import Record, Reference, ReportingPeriod, Signer, Task
from pipeline.stages.store import iter_records, open_db, record_failure, store

SPEC_KEYS = ["source", "sha256", "pages", "text_source", "doc_number", "doc_type", "issuer", "issuer_parent",
             "place", "issue_date", "subject", "recipients", "references", "reporting_periods", "tasks", "signer",
             "signature", "received", "urgency", "confidence", "text"]


def make_record(sha: str = "a" * 64, number: str = "35/KH-UBND", cites: str = "2011/QĐ-UBND",
                issue_date: str = "2024-02-28", cites_date: str | None = "2023-12-30") -> Record:
    return Record(
        source="inbox/kh-35.pdf", sha256=sha, pages=2, text_source="ocr", doc_number=number,
        doc_type="Kế hoạch", issuer="Ủy ban nhân dân huyện Cao Lộc", place="Cao Lộc", issue_date=issue_date,
        subject="Kiểm tra công tác cải cách hành chính năm 2024",
        recipients=["Sở Nội vụ tỉnh Lạng Sơn", "UBND các xã, thị trấn"],
        references=[Reference(cites, "Quyết định", cites_date, "Ủy ban nhân dân tỉnh Lạng Sơn")],
        reporting_periods=[ReportingPeriod("Quý I/2024", "2023-12-15", "2024-03-10", "2024-03-13")],
        tasks=[Task("xây dựng Đề cương kiểm tra", "Phòng Nội vụ", None, "2024-03-15", None)],
        signer=Signer("Vũ Hòa Bình", "PHÓ CHỦ TỊCH", "KT. CHỦ TỊCH"),
        confidence={"doc_number": 0.93},
        text="Căn cứ số kế hoạch cải cách hành chính của Ủy ban nhân dân huyện Cao Lộc",
    )


@pytest.fixture
def db(tmp_path: Path):
    return open_db(tmp_path / "congvan.db")


def test_record_round_trips_in_the_contract_shape(db) -> None:
    store(db, make_record())
    (exported,) = list(iter_records(db))
    assert list(exported) == SPEC_KEYS
    assert exported["tasks"][0]["deadline"] == "2024-03-15"
    assert exported["reporting_periods"][0]["due"] == "2024-03-13"
    assert exported["signer"] == {"name": "Vũ Hòa Bình", "title": "PHÓ CHỦ TỊCH", "authority": "KT. CHỦ TỊCH"}
    assert exported["confidence"] == {"doc_number": 0.93}


def test_same_sha256_adds_no_rows(db) -> None:
    first = store(db, make_record())
    assert store(db, make_record()) == first
    assert db["documents"].count == 1 and db["tasks"].count == 1 and db["recipients"].count == 2


def test_full_text_search_works_without_diacritics(db) -> None:
    store(db, make_record())
    hits = db.execute(
        "select documents.doc_number from documents_fts join documents on documents.rowid = documents_fts.rowid "
        "where documents_fts match ?", ["so ke hoach cai cach"]
    ).fetchall()
    assert hits == [("35/KH-UBND",)]


def test_references_link_to_cited_documents_in_either_order(db) -> None:
    citing = store(db, make_record("a" * 64, "35/KH-UBND", cites="2011/QĐ-UBND"))
    cited = store(db, make_record("b" * 64, "2011/QĐ-UBND", cites="1/QĐ-TTg", issue_date="2023-12-30"))
    row = db.execute('select document_id from "references" where citing_document_id = ?', [citing]).fetchone()
    assert row == (cited,)


def test_a_failed_write_leaves_no_half_document(db, monkeypatch: pytest.MonkeyPatch) -> None:
    import pipeline.stages.store as store_module

    def explode(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(store_module, "_link_references", explode)
    with pytest.raises(RuntimeError):
        store(db, make_record())
    assert db["documents"].count == 0 and db["tasks"].count == 0 and db["recipients"].count == 0


def test_failures_are_recorded(db) -> None:
    record_failure(db, "inbox/x.pdf", "encrypted PDF (a password is needed to open it)", "load")
    (row,) = db["failures"].rows
    assert row["source"] == "inbox/x.pdf" and row["stage"] == "load" and row["failed_at"]


def test_foreign_keys_and_wal_are_on(db) -> None:
    assert db.execute("pragma journal_mode").fetchone()[0] == "wal"
    assert {fk.other_table for fk in db["tasks"].foreign_keys} == {"documents"}
