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


def test_a_dot_after_the_number_or_in_the_code_is_still_a_clean_print() -> None:
    assert locate_slots(line([("Số:", 93), ("3070.", 96), ("/KH-UBND", 100)]), page_height=3500) == {}
    assert locate_slots(line([("Số:", 93), ("230", 100), ("/KH-THPT.PB", 100)]), page_height=3500) == {}


def _reread_slots(words: list[Word], hand: dict[str, tuple[str | None, float]], monkeypatch) -> set[str]:
    """The slots Tesseract reads again, the digit recogniser reading each slot as `hand` says."""
    import json

    import numpy as np

    from pipeline.stages import header_read

    readings = {f"hand_{slot}": [json.dumps({"value": value, "confidence": confidence})]
                for slot, (value, confidence) in hand.items()}
    monkeypatch.setattr(header_read, "read_handwriting", lambda image, words: dict(readings))
    reread: list[int] = []
    monkeypatch.setattr(header_read, "read_stacked",
                        lambda images, reader, slot_reader: reread.append(1) or [f"{len(reread)}" for _ in images])
    found = header_read.read_header_slots(np.full((3500, 2480), 235, np.uint8), words)
    return {key for key in found if not key.startswith("hand_")}


def test_a_slot_the_recogniser_surely_reads_as_the_page_pass_did_is_not_read_again(monkeypatch) -> None:
    # The page pass unsure of a clerk's `35` and `28`: the slots are doubtful...
    words = line([("Số:", 95), ("35", 40), ("/KH-UBND", 93), ("Cao", 96), ("Lộc,", 96), ("ngày", 96), ("28", 60),
                  ("tháng", 96), ("02", 96), ("năm", 96), ("2024", 96)])
    sure = {"number": ("35", 0.97), "day": ("28", 0.95), "month": ("2", 0.99)}
    # ...but the recogniser reads the same digits surely: nothing to settle.
    assert _reread_slots(words, sure, monkeypatch) == set()
    # Another number, or the same one unsure, is for Tesseract's rereads to settle.
    assert _reread_slots(words, {**sure, "number": ("36", 0.97)}, monkeypatch) == {"number"}
    assert _reread_slots(words, {**sure, "number": ("35", 0.85)}, monkeypatch) == {"number"}
    assert _reread_slots(words, {**sure, "day": ("26", 0.95)}, monkeypatch) >= {"date"}


def test_a_superscript_digit_in_a_slot_is_no_number_to_compare(monkeypatch) -> None:
    # `²` is a digit to str.isdigit but no number to int(): the slot is simply read again.
    words = line([("ngày", 96), ("²", 60), ("tháng", 96), ("02", 96), ("năm", 96), ("2024", 96)])
    assert "date" in _reread_slots(words, {"day": ("2", 0.97), "month": ("2", 0.99)}, monkeypatch)
