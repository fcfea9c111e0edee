"""The handwritten-digit recogniser and the slot reader (pipeline/engines/digits.py, pipeline/stages/handwriting.py)."""

import json

import numpy as np
import pytest

from extractors.slots import HAND_TRUST
from pipeline.core.resources import model_dir
from pipeline.core.types import Word
from pipeline.engines.digits import MODEL_FILE, OTHER, load_model, normalise
from pipeline.stages.handwriting import Slot, SlotReading, find_slots, read_handwriting, read_slot


@pytest.fixture(scope="module")
def model():
    loaded = load_model()
    assert loaded is not None, "models/digits/digits.npz is shipped (make models-digits rebuilds it)"
    return loaded


def test_model_ships_small(model):
    path = model_dir() / MODEL_FILE
    assert path.stat().st_size < 1_000_000
    assert model.meta["classes"] == "0123456789x"
    assert model.meta["validation_accuracy"] > 0.9


def test_normalise_centres_the_ink_in_28x28():
    ink = np.zeros((90, 40), np.float32)
    ink[10:80, 15:22] = 1.0  # a tall stroke, a `1`
    out = normalise(ink)
    assert out.shape == (28, 28)
    rows, cols = np.nonzero(out > 0.5)
    assert rows.min() >= 3 and rows.max() <= 24  # 20 px high, centred
    assert abs((cols.min() + cols.max()) / 2 - 13.5) <= 1.5


def _pen_digit(digit: int, seed: int) -> np.ndarray:
    from pipeline.training.digits_synth import Synth

    synth = Synth.make(seed, held_out=True)
    return normalise(synth.degrade(synth.strokes(digit), dots=False))


def test_clear_pen_digits_are_read(model):
    batch = np.stack([_pen_digit(d, 500 + d) for d in range(10)])
    predicted = model.probabilities(batch).argmax(axis=1)
    assert (predicted == np.arange(10)).sum() >= 8


def test_printed_letters_and_slashes_are_not_digits(model):
    from pipeline.training.digits_synth import Synth

    synth = Synth.make(91)
    glyphs = [normalise(synth.degrade(synth.font_glyph(text, synth.print_fonts[0]), dots=False))
              for text in ("/", "K", "H", "U", "N", "Đ", "T")]
    predicted = model.probabilities(np.stack(glyphs)).argmax(axis=1)
    assert (predicted == OTHER).sum() >= 5


def test_rendered_slots_are_read_right_or_not_at_all(model):
    """On handwriting the model never saw, a value it is sure of is right but rarely (held-out risk ~3%).

    Pen-stroke digits only, so the images are the same with or without the
    handwriting fonts and scikit-learn installed (CI has neither).
    """
    from benchmarks.handwriting import render_slot
    from pipeline.training.digits_synth import PRINT_FONT_PATTERNS, Synth, _find

    synth = Synth(np.random.default_rng(4242), [], _find(PRINT_FONT_PATTERNS))
    rng = np.random.default_rng(4243)
    sure = wrong = 0
    for k in range(24):
        value = str(rng.integers(1, 10)) + "".join(str(rng.integers(10)) for _ in range(k % 3))
        grey, box, cap = render_slot(synth, rng, value)
        reading = read_slot(grey, Slot("number", box, cap), model)
        if reading.value is not None and reading.confidence >= HAND_TRUST:
            sure += 1
            wrong += reading.value != value
    assert wrong <= 1
    assert sure >= 12


def _word(text, left, top, width, height, line=3, confidence=95.0):
    return Word(text=text, confidence=confidence, line=line, box=(left, top, width, height))


def test_slots_found_between_printed_words():
    words = [
        _word("Số:", 472, 455, 71, 55), _word("M_", 570, 458, 56, 51, confidence=20),
        _word("/CT-UBND", 680, 468, 273, 41),
        _word("Hà", 1300, 502, 60, 45, line=4), _word("Nội,", 1370, 502, 80, 50, line=4),
        _word("ngày--†", 1496, 502, 190, 63, line=4, confidence=0), _word("tháng", 1698, 510, 133, 54, line=4),
        _word("7", 1853, 511, 23, 40, line=4), _word("năm", 1890, 524, 97, 28, line=4),
        _word("2025", 2007, 510, 114, 41, line=4),
    ]
    slots = {s.name: s for s in find_slots(words, 3500)}
    number = slots["number"]
    assert 540 <= number.box[0] <= 545 and 680 <= number.box[2] <= 690
    day = slots["day"]
    assert day.estimated == (True, False)  # `ngày` was glued to the ink: its end is estimated
    assert day.box[0] < 1698 and day.box[2] == 1698
    assert slots["month"].box[0] == 1831 and slots["month"].box[2] == 1890


def test_an_arrival_stamp_number_without_a_code_is_not_the_letter_number():
    words = [_word("Số:...46.44...........", 313, 559, 400, 52)]
    assert find_slots(words, 3500) == []


def test_blank_slot_says_nothing(model):
    grey = np.full((200, 900), 235, np.uint8)
    reading = read_slot(grey, Slot("number", (100, 40, 600, 160), 40), model)
    assert reading.value is None and reading.reason


def test_readings_are_kept_as_json_with_their_box(model):
    from benchmarks.handwriting import render_slot
    from pipeline.training.digits_synth import Synth

    grey, box, cap = render_slot(Synth.make(7, held_out=True), np.random.default_rng(8), "52")
    grey = np.vstack([grey, np.full((1000, grey.shape[1]), 235, np.uint8)])  # the rest of the page
    words = [_word("Số:", 20, box[1] + cap, box[0] - 20, cap + 10),
             _word("/KH-UBND", box[2] - 5, box[1] + cap, 300, cap)]
    out = read_handwriting(grey, words, model)
    data = json.loads(out["hand_number"][0])
    reading = SlotReading.from_json(out["hand_number"][0])
    assert reading.name == "number" and len(data["box"]) == 4 and len(data["variants"]) >= 2
