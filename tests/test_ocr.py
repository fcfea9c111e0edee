"""Stage ocr: rendered Vietnamese pages read back, whichever way up they were."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pagemaker import render_page, rotate, save_image

from pipeline.core.errors import BadInput
from pipeline.stages.load import identify, load
from pipeline.stages.ocr import make_pool, ocr_document, read_image

SHORT = """KẾ HOẠCH
Kiểm tra công tác cải cách hành chính năm 2024
Giao Phòng Nội vụ chủ trì xây dựng Đề cương kiểm tra,
trình Chủ tịch Ủy ban nhân dân huyện trước ngày 15/3/2024."""


def small_page(**kwargs) -> np.ndarray:
    return render_page(SHORT, font_pt=14, **kwargs)


def test_reads_vietnamese_with_marks_and_word_confidences() -> None:
    page = read_image(small_page())
    assert "cải cách hành chính" in page.text
    assert "15/3/2024" in page.text
    assert page.mean_confidence > 80
    assert page.words and all(0 <= w.confidence <= 100 for w in page.words)


def test_upside_down_page_is_turned_and_read() -> None:
    page = read_image(rotate(small_page(), 180))
    assert page.rotated_by == 180
    assert "cải cách hành chính" in page.text


@pytest.mark.parametrize("degrees", [90, 270])
def test_sideways_page_is_turned_and_read(degrees: int) -> None:
    page = read_image(rotate(small_page(), degrees))
    assert page.rotated_by in (90, 270)
    assert "cải cách hành chính" in page.text


def test_pages_are_read_in_parallel_and_kept_in_order(tmp_path: Path) -> None:
    from pagemaker import scanned_pdf

    page_two = render_page("Trang hai của công văn\nĐề nghị các đơn vị báo cáo đúng hạn.", font_pt=14)
    pdf = scanned_pdf([small_page(), page_two],
                      tmp_path / "two-pages.pdf")
    with make_pool(2) as pool:
        text = ocr_document(load(identify(pdf)), pool)
    assert [p.number for p in text.pages] == [1, 2]
    assert text.text_source == "ocr"
    # (the raw reading, before the restorer: `KỄ HOẠCH` with the neural engine's one slip)
    assert "HOẠCH" in text.pages[0].text and "Trang hai" in text.pages[1].text


def test_image_of_nothing_is_a_clear_failure(tmp_path: Path) -> None:
    path = save_image(np.full((2000, 1500), 250, np.uint8), tmp_path / "blank.png")
    with pytest.raises(BadInput, match="no text found"):
        ocr_document(load(identify(path)))
