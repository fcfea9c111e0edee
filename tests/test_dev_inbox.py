"""The real letters of ../shared/dev: what issue 2 promises on them.

Skipped where ../shared is not beside the checkout.  The born-digital PDF and
the text file need no OCR and run in the fast suite; ingesting all five
(22 scanned pages) is marked slow.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.cli.main import main

DEV = Path(__file__).resolve().parents[2] / "shared" / "dev"
pytestmark = pytest.mark.skipif(not DEV.exists(), reason="../shared/dev is not beside this checkout")


def extract_json(name: str) -> dict:
    result = CliRunner().invoke(main, ["extract", str(DEV / "inbox" / name), "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


@pytest.mark.parametrize("name", ["qd1373-bkhdt-digital.pdf", "seed002-digital.txt"])
def test_header_fields_match_gold(name: str) -> None:
    gold = json.loads((DEV / "gold" / name.rsplit(".", 1)[0]).with_suffix(".json").read_text(encoding="utf-8"))
    record = extract_json(name)
    for field in ("doc_number", "issue_date", "issuer", "doc_type"):
        if field in gold:
            assert record[field] == gold[field], field
    if "recipients" in gold:
        assert record["recipients"] == gold["recipients"]


def test_born_digital_pdf_uses_its_text_layer_not_ocr() -> None:
    record = extract_json("qd1373-bkhdt-digital.pdf")
    assert record["text_source"] == "pdf-text-layer"
    assert "Về việc đính chính Thông tư số 10/2022/TT-BKHĐT" in record["text"]


@pytest.mark.slow
def test_ingest_stores_all_five(tmp_path: Path) -> None:
    db_path = tmp_path / "dev.db"
    result = CliRunner().invoke(main, ["ingest", str(DEV / "inbox"), "--db", str(db_path)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "5 documents stored" in result.output
