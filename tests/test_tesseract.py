"""Both ways of calling Tesseract (tesserocr in process, the `tesseract` command) read the same page alike."""

from __future__ import annotations

import pytest
from pagemaker import render_page

from pipeline.engines import tesseract

LINES = """Giao Phòng Nội vụ chủ trì xây dựng Đề cương kiểm tra,
trình Chủ tịch Ủy ban nhân dân huyện trước ngày 15/3/2024."""

ENGINES = ["cli"] + (["tesserocr"] if tesseract.has_tesserocr() else [])


@pytest.fixture(params=ENGINES)
def engine(request) -> str:
    return request.param


def _words(data: dict[str, list]) -> list[str]:
    return [t.strip() for t in data["text"] if t.strip()]


def test_word_table_has_text_boxes_and_confidences(engine: str) -> None:
    data = tesseract.image_to_data(render_page(LINES, font_pt=14), "vie", 3, dpi=300, api=engine)
    words = _words(data)
    assert "Phòng" in words and "15/3/2024." in words
    assert set(tesseract.COLUMNS) <= set(data)
    assert len({len(column) for column in data.values()}) == 1  # one row per entry in every column
    word_rows = [i for i, t in enumerate(data["text"]) if t.strip()]
    assert all(0 <= data["conf"][i] <= 100 and data["width"][i] > 0 for i in word_rows)
    assert [data["line_num"][i] for i in word_rows][-1] > [data["line_num"][i] for i in word_rows][0]


def test_whitelist_limits_what_is_read(engine: str) -> None:
    data = tesseract.image_to_data(render_page("Số: 122/KH-UBND", font_pt=20), "eng", 4, whitelist="0123456789/",
                                     api=engine)
    assert set("".join(_words(data))) <= set("0123456789/")
    assert "122/" in "".join(_words(data))


def test_a_page_past_its_time_limit_is_stopped(engine: str) -> None:
    with pytest.raises(tesseract.PageTimedOut):
        tesseract.image_to_data(render_page(LINES * 8, font_pt=12), "vie", 3, dpi=300, timeout=0.001, api=engine)


def test_a_language_that_is_not_installed_is_a_clear_failure(engine: str) -> None:
    with pytest.raises(tesseract.OcrFailed, match="(?i)klingon|tlh|language|data"):
        tesseract.image_to_data(render_page(LINES, font_pt=14), "tlh", 3, api=engine)


@pytest.mark.parametrize("name", ["tesseract", "tesseract-cli"])
def test_engines_read_a_page_into_words_with_boxes_on_their_lines(name: str) -> None:
    from pipeline.engines import get_engine

    engine = get_engine(name)
    reading = engine.read_page(render_page(LINES, font_pt=14), 300, timeout_s=60)
    assert "Phòng Nội vụ" in reading.text and "15/3/2024." in reading.text
    lines = reading.text.split("\n")
    assert all(w.text in lines[w.line].split() and w.box and w.box[2] > 0 for w in reading.words)
    assert reading.mean_confidence > 80
    assert ("command" in engine.version()) == (name == "tesseract-cli" or not tesseract.has_tesserocr())
