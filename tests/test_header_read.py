"""The close re-reading of header slots runs only where the main OCR pass was unsure."""

from __future__ import annotations

from pipeline.core.types import Word
from pipeline.stages.header_read import locate_slots


def line(texts_and_confidences: list[tuple[str, float]], top: int = 100) -> list[Word]:
    words, left = [], 100
    for text, confidence in texts_and_confidences:
        words.append(Word(text, confidence, line=0, box=(left, top, 20 * len(text), 40)))
        left += 20 * len(text) + 15
    return words


def test_cleanly_read_number_and_date_are_not_read_again() -> None:
    words = line([("Số:", 95), ("35/KH-UBND", 93), ("Cao", 96), ("Lộc,", 96), ("ngày", 96), ("28", 95),
                  ("tháng", 96), ("02", 96), ("năm", 96), ("2024", 96)])
    assert locate_slots(words, page_height=3500) == {}


def test_doubtful_handwritten_slots_are_read_again() -> None:
    words = line([("Số:", 90), ("J2/2023/TB-I.PQT", 41), ("Hà", 93), ("Nội,", 92), ("ngáy", 60), ("T3", 22),
                  ("tháng", 91), ("0Ì", 30), ("năm", 95), ("2023", 94)])
    assert set(locate_slots(words, page_height=3500)) >= {"number", "date"}


def test_printed_code_with_d_stroke_is_not_read_again_but_a_doubtful_one_is() -> None:
    assert locate_slots(line([("Số:", 93), ("1520/SGDĐT-VP", 60)]), page_height=3500) == {}
    assert "number" in locate_slots(line([("Số:", 92), ("403/QĐ-BTC", 35)]), page_height=3500)
    assert "number" in locate_slots(line([("Số:", 93), ("125/QĐÐ-HQHN", 59)]), page_height=3500)


def test_a_printed_word_read_with_less_confidence_does_not_send_a_clean_date_to_be_read_again() -> None:
    # TrueOCR reads a printed `năm` at 77-88 beside digits at 100: the digits are what a hand may have written.
    clean = line([("ngày", 99), ("10", 100), ("tháng", 100), ("01", 100), ("năm", 87), ("2026", 100)])
    assert locate_slots(clean, page_height=3500) == {}
    doubtful = line([("ngày", 99), ("10", 71), ("tháng", 100), ("01", 100), ("năm", 99), ("2026", 100)])
    assert "date" in locate_slots(doubtful, page_height=3500)
