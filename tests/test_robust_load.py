"""Issue 11, the loading side: a pixel budget, garbled text layers, honest messages."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from benchmarks.hostile_inbox import _big_png, _image_pdf
from pipeline.core.errors import BadInput
from pipeline.stages import load as load_stage
from pipeline.stages.load import identify, layer_is_garbled, load, raster_dpi
from pipeline.stages.preprocess import upscale

LETTER_LAYER = """ỦY BAN NHÂN DÂN HUYỆN CAO LỘC
Số: 35/KH-UBND Cao Lộc, ngày 28 tháng 02 năm 2024
KẾ HOẠCH Kiểm tra công tác cải cách hành chính năm 2024
Căn cứ Quyết định số 2011/QĐ-UBND của Ủy ban nhân dân tỉnh Lạng Sơn về việc ban hành Kế hoạch"""


def test_pdf_page_of_100_inches_fails_with_its_size_before_anything_is_rendered(tmp_path: Path,
                                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    pdf = tmp_path / "poster.pdf"
    _image_pdf(pdf, 100)
    monkeypatch.setattr(load_stage, "convert_from_path", lambda *a, **k: pytest.fail("rendered"))
    with pytest.raises(BadInput, match=r"page 1 is too large to read: 100 x 100 inches .*limit is 40 Mpx"):
        load(identify(pdf))


def test_pdf_page_of_200_inches_fails_too(tmp_path: Path) -> None:
    pdf = tmp_path / "poster.pdf"
    _image_pdf(pdf, 200)
    with pytest.raises(BadInput, match="200 x 200 inches"):
        load(identify(pdf))


def test_large_page_within_reach_is_rendered_at_a_lower_dpi_inside_the_budget(tmp_path: Path) -> None:
    pdf = tmp_path / "a1.pdf"
    _image_pdf(pdf, 30)  # 30 x 30 inches: 81 Mpx at 300 dpi, fits at 210 dpi
    document = load(identify(pdf))
    dpi = document.pages[0].dpi
    assert 150 <= dpi < 300 and (30 * dpi) ** 2 <= 40_000_000
    assert raster_dpi(8.27 * 72, 11.69 * 72, 40_000_000) == 300  # A4 keeps 300 dpi


def test_budget_is_a_setting(tmp_path: Path) -> None:
    pdf = tmp_path / "a4ish.pdf"
    _image_pdf(pdf, 10)
    with pytest.raises(BadInput, match="limit is 1.0 Mpx"):
        load(identify(pdf), max_page_pixels=1_000_000)


def test_png_of_9000_pixels_at_50_dpi_fails_with_its_size_and_is_never_upscaled(tmp_path: Path) -> None:
    png = tmp_path / "huge.png"
    _big_png(png)
    assert png.stat().st_size < 100_000
    with pytest.raises(BadInput, match=r"image too large: 9000x9000 pixels \(81 Mpx; the limit is 40 Mpx\)"):
        load(identify(png))


def test_upscaling_stops_at_the_budget() -> None:
    image = np.full((3000, 3000), 255, dtype=np.uint8)  # 9 Mpx "at 50 dpi": six-fold would be 324 Mpx
    scaled, dpi = upscale(image, 50, max_pixels=36_000_000)
    assert scaled.shape[0] * scaled.shape[1] <= 36_000_000 and dpi == 100
    small = np.full((550, 413), 255, dtype=np.uint8)  # a fax at 50 dpi still goes to 300
    assert upscale(small, 50)[1] == 300


@pytest.mark.parametrize("junk", [
    # A signing tool's font: glyphs mapped to Cyrillic and symbols (`KẾ HOẠCH`).
    ".ӂ +2Ҥ&+ ӄ ӆ Ӈ ӈ Ӊ ӊ Ӌ ӌ ҧ Ҩ ҩ Ҫ ҫ Ҭ ҭ Ү ү Ұ ұ Ҳ ҳ Ҵ ҵ Ҷ ҷ Ҹ ҹ",
    # TCVN3 (ABC) bytes read as Latin-1.
    "Uû ban nh©n d©n huyÖn Cao Léc. KÕ ho¹ch kiÓm tra c«ng t¸c c¶i c¸ch hµnh chÝnh n¨m 2024 "
    "Bé tr­ëng Bé Néi vô yªu cÇu c¸c c¬ quan ®¬n vÞ",
])
def test_garbled_text_layers_of_any_kind_are_detected(junk: str) -> None:
    assert layer_is_garbled(junk)


def test_real_vietnamese_layers_with_or_without_marks_are_kept() -> None:
    assert not layer_is_garbled(LETTER_LAYER)
    from pipeline.core.vietnamese import strip_diacritics

    assert not layer_is_garbled(strip_diacritics(LETTER_LAYER))
    assert not layer_is_garbled("Trang 2")  # too short to judge


def test_born_digital_page_with_a_garbled_layer_goes_to_ocr(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pagemaker import LETTER, born_digital_pdf

    pdf = born_digital_pdf(LETTER, tmp_path / "signed.pdf")
    junk = ".ӂ +2Ҥ&+ " * 30
    monkeypatch.setattr(load_stage, "_pdf_text_layer", lambda source, count: [junk] * count)
    page = load(identify(pdf)).pages[0]
    assert page.text is None and page.dpi == 300  # rasterised for OCR, not rejected as "not Vietnamese"


def test_an_office_file_congvan_does_not_read_names_its_kind(tmp_path: Path) -> None:
    import zipfile

    sheet = tmp_path / "bang-tinh.xlsx"
    with zipfile.ZipFile(sheet, "w") as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
    with pytest.raises(BadInput, match=r"\(an Excel file \(\.xlsx\)\)$"):
        identify(sheet)


def test_refused_page_is_not_reported_as_a_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    from pipeline.engines import tesseract

    def refuses(*_args: object, **_kwargs: object) -> dict:
        raise tesseract.PageTimedOut("Tesseract stopped after 180 s")

    monkeypatch.setattr(tesseract, "image_to_data", refuses)
    engine = tesseract.TesseractEngine(api=object())  # type: ignore[arg-type]  (never called: refuses)
    with pytest.raises(tesseract.OcrFailed, match="refused the page"):
        engine.read_page(np.full((100, 100), 255, dtype=np.uint8), 300, timeout_s=180)
