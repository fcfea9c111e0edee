"""Plug-in points (issue 10): a third-party extractor adds a field to the record
and to the database through its entry point, with no line of congvan changed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from extractors import extract_fields, extractors
from pipeline.core import plugins
from pipeline.core.types import InputFile, Record
from pipeline.stages.store import iter_records, open_db, store

PLUGINS = Path(__file__).parent / "plugins"
LETTER = """\
UBND TỈNH LÂM ĐỒNG || CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
SỞ NỘI VỤ || Độc lập - Tự do - Hạnh phúc
Số: 12/SNV-VP || Lâm Đồng, ngày 05 tháng 3 năm 2026
V/v cử cán bộ đầu mối

Kính gửi: Các sở, ban, ngành.

Đề nghị các cơ quan gửi danh sách trước ngày 20/3/2026.
Mọi chi tiết liên hệ Văn phòng Sở, ĐT: 0263.3822.456; Fax: (0263) 3822 457.
"""


@pytest.fixture
def contacts_installed(monkeypatch: pytest.MonkeyPatch):
    """The test plug-in's folder on sys.path, as `pip install` would put it."""
    monkeypatch.syspath_prepend(str(PLUGINS))
    plugins.refresh()
    yield
    monkeypatch.undo()
    plugins.refresh()


def test_builtin_field_families_come_through_the_entry_points() -> None:
    names = [e.name for e in extractors()]
    assert names == ["header", "recipients", "references", "periods", "tasks", "recurring", "signer", "marks"]


def test_a_plugin_field_reaches_the_record_and_the_database(contacts_installed, tmp_path: Path) -> None:
    assert "contacts" in [e.name for e in extractors()]
    fields = extract_fields(LETTER)
    assert fields.doc_number == "12/SNV-VP"  # the built-ins still run first
    assert fields.extra == {"contact_phones": ["02633822456", "02633822457"]}
    record = Record(source="x.txt", sha256="b" * 64, pages=1, text_source="text-file", **vars(fields))
    as_json = record.to_json_dict()
    assert list(as_json)[-1] == "contact_phones"  # after the contract's keys

    db = open_db(tmp_path / "congvan.db")
    store(db, record)
    assert "contact_phones" in db["documents"].columns_dict
    (exported,) = iter_records(db)
    assert json.loads(exported["contact_phones"]) == ["02633822456", "02633822457"]


def test_without_the_plugin_the_record_has_no_such_key() -> None:
    assert "contact_phones" not in Record(source="x", sha256="c" * 64, pages=1, text_source="text-file",
                                          **vars(extract_fields(LETTER))).to_json_dict()


def test_the_cli_shows_a_plugin_field(tmp_path: Path) -> None:
    letter = tmp_path / "letter.txt"
    letter.write_text(LETTER, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(PLUGINS), os.environ.get("PYTHONPATH", "")])}
    out = subprocess.run([sys.executable, "-m", "pipeline.cli", "extract", str(letter), "--json"],
                         capture_output=True, text=True, env=env, check=True)
    assert json.loads(out.stdout)["contact_phones"] == ["02633822456", "02633822457"]


def test_a_failing_plugin_extractor_fails_the_document_by_name(contacts_installed, monkeypatch) -> None:
    from congvan_contacts import ContactsExtractor

    from pipeline.core.errors import BadInput
    from pipeline.core.types import DocumentText, PageText, RestoredText
    from pipeline.stages.extract import extract

    def broken(self, evidence):
        raise KeyError("phone")

    monkeypatch.setattr(ContactsExtractor, "extract", broken)
    source = InputFile(path=Path("in/letter.txt"), sha256="d" * 64, size=1, kind="text", mime="text/plain")
    document = DocumentText(source=source, pages=[PageText(number=1, text=LETTER, source="text-file")])
    with pytest.raises(BadInput) as failure:
        extract(RestoredText(document=document, text=LETTER))
    assert failure.value.stage == "extract"
    assert "extractor 'contacts' failed: KeyError" in failure.value.cause
