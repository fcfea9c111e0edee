"""Stage load: type by content, text layers kept or re-OCR'd, bad input named."""

from __future__ import annotations

from pathlib import Path

import pytest
from pagemaker import ENGLISH, LETTER, born_digital_pdf, render_page, save_image, save_tiff, scanned_pdf, zero_page_pdf

from pipeline.core.errors import BadInput
from pipeline.stages import load as load_module
from pipeline.stages.load import identify, load


def cause_of(path: Path) -> str:
    with pytest.raises(BadInput) as caught:
        load(identify(path))
    assert str(path) in caught.value.one_line()
    assert "\n" not in caught.value.one_line()
    return caught.value.cause


def test_text_file_is_one_page_of_text(tmp_path: Path) -> None:
    path = tmp_path / "letter.txt"
    path.write_text(LETTER, encoding="utf-8")
    document = load(identify(path))
    assert document.source.kind == "text"
    assert len(document.pages) == 1 and document.pages[0].text.startswith("ỦY BAN")
    assert not document.needs_ocr


def test_type_comes_from_content_not_name(tmp_path: Path) -> None:
    path = save_image(render_page(), tmp_path / "scan.png").rename(tmp_path / "scan-without-extension")
    assert identify(path).kind == "image"


def test_born_digital_pdf_keeps_its_text_layer(tmp_path: Path) -> None:
    document = load(identify(born_digital_pdf(LETTER, tmp_path / "digital.pdf")))
    assert not document.needs_ocr
    assert "Kiểm tra công tác cải cách hành chính" in document.pages[0].text


def test_scanned_pdf_pages_go_to_ocr(tmp_path: Path) -> None:
    document = load(identify(scanned_pdf([render_page(), render_page()], tmp_path / "scan.pdf")))
    assert [p.number for p in document.pages] == [1, 2]
    assert document.needs_ocr and all(p.text is None for p in document.pages)


def test_garbage_text_layer_over_a_scan_is_reocrd(tmp_path: Path) -> None:
    garble = "Ké hoach cai cach hanh chinh nim 2021 cia huyén Pirc Co s6 122 x4 dugc. " * 12
    pdf = born_digital_pdf(garble, tmp_path / "scanner.pdf", scan_under=render_page(), invisible=True)
    document = load(identify(pdf))
    assert document.pages[0].text is None, "an English-model OCR layer must not be trusted"


def test_multi_page_tiff_gives_a_page_per_frame(tmp_path: Path) -> None:
    path = save_tiff([render_page(), render_page(font_pt=11)], tmp_path / "fax.tiff")
    document = load(identify(path))
    assert len(document.pages) == 2 and document.pages[1].image is not None


def test_low_resolution_image_dpi_is_read_from_metadata(tmp_path: Path) -> None:
    path = save_image(render_page(dpi=100), tmp_path / "photo.png", dpi=100)
    assert load(identify(path)).pages[0].dpi == 100


def test_zero_byte_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.pdf"
    path.write_bytes(b"")
    assert cause_of(path) == "empty file (0 bytes)"


def test_truncated_pdf(tmp_path: Path) -> None:
    whole = born_digital_pdf(LETTER, tmp_path / "whole.pdf").read_bytes()
    path = tmp_path / "truncated.pdf"
    path.write_bytes(whole[: len(whole) // 2])
    assert "truncated PDF" in cause_of(path)


def test_encrypted_pdf(tmp_path: Path) -> None:
    path = born_digital_pdf(LETTER, tmp_path / "locked.pdf", password="secret")
    assert "encrypted PDF" in cause_of(path)


def test_pdf_that_is_really_a_jpeg(tmp_path: Path) -> None:
    path = tmp_path / "letter.pdf"
    save_image(render_page(), tmp_path / "letter.jpg").rename(path)
    assert cause_of(path) == "named .pdf but the content is a JPEG image"


def test_zero_page_pdf(tmp_path: Path) -> None:
    assert cause_of(zero_page_pdf(tmp_path / "nothing.pdf")) == "PDF has no pages"


def test_huge_file_is_refused_before_reading(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(load_module, "MAX_BYTES", 1000)
    path = tmp_path / "huge.txt"
    path.write_text(ENGLISH * 10, encoding="utf-8")
    assert "file too large" in cause_of(path)


def test_binary_junk_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "letter.docx"
    path.write_bytes(b"PK\x03\x04" + bytes(range(256)) * 4)
    assert cause_of(path) == "not a PDF, an image or UTF-8 text (a ZIP archive)"


def test_truncated_image(tmp_path: Path) -> None:
    whole = save_image(render_page(), tmp_path / "whole.png").read_bytes()
    path = tmp_path / "cut.png"
    path.write_bytes(whole[:2000])
    assert "unreadable or truncated image" in cause_of(path)
