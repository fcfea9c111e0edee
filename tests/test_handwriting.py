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


def test_a_letter_cited_in_a_sentence_is_no_number_slot():
    """`... Kế hoạch số 4963/KH-UBND ngày ...` in the body, high on the page: `số` inside a
    sentence cites another letter; the header's `Số:` opens its line (capital, colon)."""
    cited = [_word("hoạch", 300, 958, 150, 45), _word("số", 470, 958, 60, 45), _word("4963/KH-UBND", 550, 958, 330, 45)]
    assert find_slots(cited, 3500) == []
    own = [_word("số:", 472, 455, 71, 55), _word("/CT-UBND", 680, 468, 273, 41)]  # OCR lost the capital only
    assert [s.name for s in find_slots(own, 3500)] == ["number"]


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


def test_a_garbled_thang_still_parts_day_from_month():
    # The hand either side made the page pass read `tháng` as `nh`; as wide as `tháng`
    # is printed beside this `năm`, it still parts the day from the month.
    words = [_word("Hà", 1316, 484, 70, 41, line=4), _word("Nội,", 1401, 485, 92, 48, line=4),
             _word("ngày", 1516, 485, 113, 53, line=4), _word("#Š", 1649, 464, 76, 58, line=4, confidence=10),
             _word("nh", 1749, 486, 132, 176, line=4, confidence=20), _word("Ế", 1922, 465, 25, 57, line=4),
             _word("năm", 1985, 489, 97, 37, line=4), _word("2025", 2100, 487, 113, 40, line=4)]
    slots = {s.name: s for s in find_slots(words, 3500)}
    assert slots["day"].box[0] == 1629 and slots["day"].box[2] == 1749
    assert slots["month"].box[0] == 1881 and slots["month"].box[2] == 1985


def test_a_word_of_other_letters_or_width_is_not_taken_for_thang():
    words = [_word("ngày", 1516, 485, 113, 53, line=4), _word("Hội", 1749, 486, 132, 50, line=4),
             _word("năm", 1985, 489, 97, 37, line=4), _word("2025", 2100, 487, 113, 40, line=4)]
    assert find_slots(words, 3500) == []


def _slot_page(value: str, seed: int = 8) -> tuple[np.ndarray, tuple[int, int, int, int], int]:
    from benchmarks.handwriting import render_slot
    from pipeline.training.digits_synth import PRINT_FONT_PATTERNS, Synth, _find

    synth = Synth(np.random.default_rng(seed), [], _find(PRINT_FONT_PATTERNS))
    return render_slot(synth, np.random.default_rng(seed + 1), value)


def test_a_rule_under_the_slot_touching_print_does_not_swallow_the_digit(model):
    # A stamp's frame or an underline runs under the month and touches the printed
    # letters either side: without it the digit reads as it does on bare paper.
    grey, box, cap = _slot_page("8", seed=21)
    bare = read_slot(grey, Slot("month", box, cap), model)
    ruled = grey.copy()
    y = box[3] - 4
    ruled[y:y + 4, max(0, box[0] - 60):box[2] + 60] = 40
    ruled[box[1] + cap // 2:y, max(0, box[0] - 14):box[0] - 8] = 40  # a letter's stem down to the rule
    ruled[box[1] + cap // 2:y, box[2] + 8:box[2] + 14] = 40
    assert bare.value == "8"
    assert read_slot(ruled, Slot("month", box, cap), model).value == "8"


def _paste(grey: np.ndarray, ink: np.ndarray, left: int, bottom: int, height: int) -> tuple[int, int]:
    """Ink (0..1) scaled to `height` and printed dark on the page with its foot at `bottom`: (left, right)."""
    import cv2

    ys, xs = np.nonzero(ink > 0.2)
    ink = ink[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
    width = max(2, round(ink.shape[1] * height / ink.shape[0]))
    ink = cv2.resize(ink.astype(np.float32), (width, height))
    region = grey[bottom - height:bottom, left:left + width]
    region[:] = np.minimum(region, (235 - 200 * np.clip(ink, 0, 1)).astype(np.uint8))
    return left, left + width


def test_an_estimated_edge_leaves_out_a_printed_letter_it_cuts_and_takes_in_a_digit(model):
    from pipeline.stages.handwriting import snap_estimated_edges
    from pipeline.training.digits_synth import PRINT_FONT_PATTERNS, Synth, _find

    synth = Synth(np.random.default_rng(5), [], _find(PRINT_FONT_PATTERNS))
    grey = np.full((120, 500), 235, np.uint8)
    first = _paste(grey, synth.strokes(2), 140, 90, 50)  # the hand's `24`
    last = _paste(grey, synth.strokes(4), first[1] + 6, 90, 50)
    letter = _paste(grey, synth.font_glyph("t", synth.print_fonts[0]), last[1] + 10, 90, 34)  # `t` of a glued `tháng`
    cut_letter = (letter[0] + letter[1]) // 2
    cut_digit = first[0] + 8
    slot = Slot("day", (cut_digit, 20, cut_letter, 110), 38, estimated=(True, True))
    snapped = snap_estimated_edges(grey, slot, model).box
    assert snapped[0] < first[0] and last[1] <= snapped[2] < letter[0]
    # an edge taken from a printed word's own box is never moved
    fixed = Slot("day", (cut_digit, 20, cut_letter, 110), 38)
    assert snap_estimated_edges(grey, fixed, model).box == fixed.box


def test_an_ensemble_model_file_loads_and_reads_as_its_members_do(model, tmp_path):
    """`make models-digits --members N` writes N networks in one file; two copies of the
    shipped network read every glyph as the network alone does."""
    from pipeline.engines.digits import DigitModel

    weights = {f"m{k}.{name}": value for k in (0, 1) for name, value in model.weights.items()}
    members = [{"prefix": f"m{k}.", "temperature": model.meta.get("temperature", 1.0)} for k in (0, 1)]
    path = tmp_path / "digits.npz"
    np.savez_compressed(path, **weights, meta=np.array(json.dumps({"members": members, "ensemble_temperature": 1.0})))
    ensemble = DigitModel.load(path)
    glyphs = np.stack([_pen_digit(d, 700 + d) for d in range(10)])
    assert np.allclose(ensemble.probabilities(glyphs), model.probabilities(glyphs), atol=1e-4)


def test_a_garbled_header_date_line_never_hands_over_a_body_date():
    """The header's date line is the first with `ngày … năm`; a later one is the body's citation."""
    words = [
        _word("Đà", 1300, 470, 60, 45, line=4), _word("Nẵng,", 1370, 470, 110, 50, line=4),
        # the clerk's day and month glued to the printed words: no `tháng` to place the slots by
        _word("ngàyZ3...tháng.h..năm", 1496, 470, 560, 63, line=4, confidence=40),
        _word("2026", 2080, 478, 114, 41, line=4),
        _word("Căn", 220, 1010, 90, 45, line=9), _word("cứ", 320, 1010, 50, 45, line=9),
        _word("ngày", 1300, 1010, 100, 55, line=9), _word("19", 1420, 1012, 50, 41, line=9),
        _word("tháng", 1490, 1010, 130, 55, line=9), _word("6", 1640, 1012, 25, 41, line=9),
        _word("năm", 1690, 1020, 97, 30, line=9), _word("2015;", 1800, 1012, 120, 48, line=9),
    ]
    assert not [s for s in find_slots(words, 3508) if s.name in ("day", "month")]


def test_a_header_date_line_whose_nam_is_misread_still_is_the_date_line():
    words = [
        _word("Hà", 1300, 470, 60, 45, line=4), _word("Nội,", 1370, 470, 80, 50, line=4),
        _word("ngày", 1470, 470, 100, 55, line=4), _word("@Š", 1590, 470, 60, 50, line=4, confidence=10),
        _word("điáng", 1670, 470, 130, 55, line=4, confidence=20), _word("CÔ", 1820, 470, 60, 50, line=4),
        _word("đẦxn", 1900, 470, 100, 45, line=4, confidence=10), _word("2025", 2020, 478, 114, 41, line=4),
        _word("ngày", 1300, 1010, 100, 55, line=9), _word("19", 1420, 1012, 50, 41, line=9),
        _word("tháng", 1490, 1010, 130, 55, line=9), _word("6", 1640, 1012, 25, 41, line=9),
        _word("năm", 1690, 1020, 97, 30, line=9), _word("2015;", 1800, 1012, 120, 48, line=9),
    ]
    assert not [s for s in find_slots(words, 3508) if s.name in ("day", "month")]


def test_a_month_glued_to_thang_is_looked_for_inside_the_word():
    """`tháng.!`: OCR took the clerk's thin `4` into the printed word; the month slot starts where
    `tháng` itself would end, not after the glued word."""
    words = [
        _word("Lâm", 1218, 435, 100, 40, line=4), _word("Đồng,", 1337, 428, 128, 59, line=4),
        _word("ngày", 1487, 437, 105, 50, line=4), _word("ÍÓ", 1645, 431, 47, 52, line=4, confidence=20),
        _word("tháng.!", 1717, 437, 168, 51, line=4, confidence=57), _word("năm", 1966, 439, 95, 39, line=4),
        _word("2026", 2079, 438, 114, 40, line=4),
    ]
    month = next(s for s in find_slots(words, 3508) if s.name == "month")
    assert month.box[0] < 1717 + 168 - 20 and month.estimated[0]


def test_a_hand_one_read_into_ngay_is_looked_for_inside_the_word():
    """`ngàyl 5`: the recogniser took the clerk's `1` of `15` for a letter of `ngày`; the day
    slot starts where `ngày` itself would end (estimated), so the `1` is read with the `5`."""
    words = [
        _word("Lâm", 1218, 435, 100, 40, line=4), _word("Đồng,", 1337, 428, 128, 59, line=4),
        _word("ngàyl", 1487, 437, 127, 50, line=4), _word("5", 1640, 431, 30, 52, line=4),
        _word("tháng", 1717, 437, 133, 51, line=4), _word("năm", 1966, 439, 95, 39, line=4),
        _word("2026", 2079, 438, 114, 40, line=4),
    ]
    day = next(s for s in find_slots(words, 3508) if s.name == "day")
    assert day.estimated[0] and day.box[0] < 1487 + 127 - 5


def test_the_numpy_network_computes_what_the_trained_layers_define(model):
    """The fast channels-last inference gives the logits of the network written out layer by
    layer (PyTorch's layout: weights (out, in, 3, 3), 'same' padding, 2x2 max-pool, flatten
    channels first), so a model trained by `make models-digits` reads as it was validated."""
    w = model.weights
    glyphs = np.stack([_pen_digit(d, 900 + d) for d in range(10)])

    def conv_relu_pool(x, kernel, bias):  # x (n, c, h, w), one output position at a time
        n, c, h, wd = x.shape
        pad = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
        out = np.zeros((n, len(kernel), h, wd), np.float64)
        for y in range(h):
            for x0 in range(wd):
                window = pad[:, :, y:y + 3, x0:x0 + 3]
                out[:, :, y, x0] = np.einsum("ncij,kcij->nk", window, kernel) + bias
        out = np.maximum(out, 0)[:, :, :h // 2 * 2, :wd // 2 * 2]
        return out.reshape(n, len(kernel), h // 2, 2, wd // 2, 2).max(axis=(3, 5))

    x = glyphs[:, None].astype(np.float64)
    for name in ("c1", "c2", "c3"):
        x = conv_relu_pool(x, w[f"{name}.w"], w[f"{name}.b"])
    x = np.maximum(x.reshape(len(x), -1) @ w["f1.w"].T + w["f1.b"], 0)
    expected = x @ w["f2.w"].T + w["f2.b"]
    assert np.allclose(model.logits(glyphs), expected, atol=1e-3)
    assert (model.logits(glyphs).argmax(axis=1) == expected.argmax(axis=1)).all()


def _glyph_probs(*choices: dict[int, float]) -> list[np.ndarray]:
    """Per-glyph class probabilities from {digit: probability}; the rest of the mass on `other`."""
    rows = []
    for choice in choices:
        row = np.zeros(OTHER + 1)
        for digit, p in choice.items():
            row[digit] = p
        row[OTHER] = 1.0 - row.sum()
        rows.append(row)
    return rows


def test_a_day_read_as_no_day_is_its_likeliest_valid_day():
    """A clerk's looped `2` read as `9` (0.61) with `2` its second choice (0.32): no day starts
    with 9, so the day is 24, and it is likely given that it is a day at all."""
    from pipeline.stages.handwriting import valid_reading

    value, confidence = valid_reading("day", _glyph_probs({9: 0.61, 2: 0.32, 5: 0.04}, {4: 0.99}))
    assert value == "24"
    assert confidence > 0.9


def test_a_digit_the_recogniser_barely_considered_is_not_taken_to_make_a_day_valid():
    """`94` with `2` at only 0.03: the glyph is no looped 2, and no value is made up."""
    from pipeline.stages.handwriting import valid_reading

    assert valid_reading("day", _glyph_probs({9: 0.95, 2: 0.03}, {4: 0.99})) is None
    assert valid_reading("month", _glyph_probs({8: 0.94, 0: 0.01}, {3: 0.99})) is None  # `83` is no month


def test_a_month_read_as_seventeen_is_twelve_where_the_second_glyph_leans_to_two():
    from pipeline.stages.handwriting import valid_reading

    value, _ = valid_reading("month", _glyph_probs({1: 0.97}, {7: 0.6, 2: 0.35}))
    assert value == "12"


def test_the_shipped_onnx_graph_reads_as_the_numpy_network(model):
    """ONNX Runtime runs the recogniser (about a fifth of the numpy layers' CPU a glyph); the
    graph shipped beside digits.npz must compute the same network, or readings would change."""
    assert model.session is not None, "models/digits/digits.onnx ships (python -m pipeline.training.digits_onnx)"
    glyphs = np.stack([_pen_digit(d, 800 + d) for d in range(10)])
    (fast,) = model.member_logits(glyphs)
    assert np.allclose(fast, model.logits(glyphs), atol=1e-4)


def test_a_graph_left_from_other_weights_is_not_used(model, tmp_path, caplog):
    """Weights retrained without their graph rewritten are read by the numpy layers, and the log says so."""
    from pipeline.engines.digits import ONNX_FILE, DigitModel

    weights = dict(model.weights)
    weights["f2.b"] = weights["f2.b"] + np.linspace(-1, 1, len(weights["f2.b"]), dtype=np.float32)
    np.savez_compressed(tmp_path / "digits.npz", **weights, meta=np.array(json.dumps(model.meta)))
    (tmp_path / "digits.onnx").write_bytes((model_dir() / ONNX_FILE).read_bytes())
    with caplog.at_level("WARNING"):
        retrained = DigitModel.load(tmp_path / "digits.npz")
    assert retrained.session is None
    assert "make models-digits" in caplog.text
    glyphs = np.stack([_pen_digit(d, 850 + d) for d in range(10)])
    assert np.allclose(retrained.member_logits(glyphs)[0], retrained.logits(glyphs))


def test_the_exporter_writes_every_member_of_an_ensemble(model, tmp_path):
    """`make models-digits --members N` writes one graph whose members read as the numpy ensemble does."""
    pytest.importorskip("onnx")
    from pipeline.engines.digits import DigitModel
    from pipeline.training.digits_onnx import write_onnx

    weights = {f"m{k}.{name}": value * (1.0 + 0.1 * k) for k in (0, 1) for name, value in model.weights.items()}
    members = [{"prefix": f"m{k}.", "temperature": 1.0 + k} for k in (0, 1)]
    meta = {"members": members, "ensemble_temperature": 0.8}
    np.savez_compressed(tmp_path / "digits.npz", **weights, meta=np.array(json.dumps(meta)))
    numpy_only = DigitModel.load(tmp_path / "digits.npz")
    write_onnx(tmp_path)
    ensemble = DigitModel.load(tmp_path / "digits.npz")
    assert numpy_only.session is None and ensemble.session is not None
    glyphs = np.stack([_pen_digit(d, 870 + d) for d in range(10)])
    assert np.allclose(ensemble.probabilities(glyphs), numpy_only.probabilities(glyphs), atol=1e-5)
