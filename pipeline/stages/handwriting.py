"""Reading the handwritten number and day/month of a letter's header, or saying nothing.

The clerk fills `Số: ____ /KH-UBND` and `ngày __ tháng __ năm 2025` by hand
at registration.  Here, on page one at the scan's full resolution:

1. the slots are found from the page pass's word boxes: the number between
   `Số:` and the printed code's slash, the day between `ngày` and `tháng`,
   the month between `tháng` and `năm` (OCR often glues the handwriting to a
   printed word, `ngày$tháng`; then the printed word's width is estimated
   from `năm`, which is always printed, and an estimated edge that cuts a
   glyph moves to the side the glyph belongs to: a printed letter out, a
   clear digit in; a `tháng` garbled by the ink either side is still found
   by its width);
2. the slot's ink is cut into glyphs: long straight rules (a stamp's frame,
   an underline) taken out first, then connected components, pieces above one
   another merged (a 5's bar, a 7's cross), dots, colons and rules dropped,
   two digits touching split where the ink is thinnest;
3. each glyph is read by the project's digit recogniser
   (pipeline/engines/digits.py), under several binarisations;
4. a slot gets a value only when the variants read the same digits (at most
   one dissenting; a variant reading more digits than the field holds
   abstains), every glyph is a digit (not `other`), no ink is left unread, no
   digit stands just past an estimated edge, and the value is well formed;
   its confidence is the product of the glyphs' mean probabilities, times
   the share of variants that agree.

The extractor (extractors/header.py) then weighs the value against what else
the page says (the month printed, a signature's day, the arrival stamp).
Each slot's result keeps its box on the page, for the review desk.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import asdict, dataclass, field, replace

import numpy as np

from pipeline.core.types import Word
from pipeline.core.vietnamese import hand_day_month_ok, strip_diacritics
from pipeline.engines.digits import OTHER, DigitModel, load_model, normalise

log = logging.getLogger(__name__)
HEADER_PART = 0.4
NUMBER_ANCHOR = re.compile(r"^S[ốoôóồỗộọò6ổƠơỏ]", re.I)
CODE_WORD = re.compile(r"/\s*[A-ZĐa-z]|^[A-ZĐ]{1,6}[a-z]?-[A-ZĐ0-9]")
DAY_ANCHOR = re.compile(r"^[nN][gq][àaáảạăâ][yv]")
MONTH_ANCHOR = re.compile(r"th[áaàảạă]n[gq]", re.I)
YEAR_ANCHOR = re.compile(r"^n[ăaâ]m", re.I)
GLUED_YEAR = re.compile(r"n[ăâ]m", re.I)
YEAR = re.compile(r"^(19|20)\d\d[.,]?$")
# Printed widths relative to the width of `năm` (measured on dev scans: ngày 1.15, tháng 1.35).
NGAY_PER_NAM = 1.16
THANG_PER_NAM = 1.42
# Readings of a slot: (Otsu's threshold scaled by, stroke thickening, image scale).
VARIANTS = ((1.0, 0, 1.0), (0.8, 0, 1.0), (1.15, 0, 1.0), (1.0, 1, 1.0), (1.0, 0, 0.6))
MAX_DIGITS = {"number": 5, "day": 2, "month": 2}
MIN_AGREEING = 3
MAX_DISSENT = 1


@dataclass
class Slot:
    name: str  # number, day, month
    box: tuple[int, int, int, int]  # left, top, right, bottom on the page
    ref_height: int  # height of the line's printed capitals
    # Where the printed code's slash is not known from the words (`€ÉÊ/TB-STTTT`
    # glued to the ink): look for it right of this x; the slot ends there.
    slash_after: int | None = None
    # Whether each edge (left, right) comes from a printed word's own box, or
    # was estimated (the word was glued to the ink): a digit just past an
    # estimated edge means the slot may be cut short.
    estimated: tuple[bool, bool] = (False, False)
    # The printed line's baseline and capital height on the page (for telling print from ink), when known.
    baseline: int | None = None
    cap_height: int | None = None
    # The printed code after the number as the page pass read it, when it is a word of its own
    # (`KH-SYT`, its slash lost), with that word's OCR confidence (0..1).
    code: str | None = None
    code_confidence: float = 0.0


@dataclass
class SlotReading:
    """What the recogniser made of one slot (kept in the record for the review desk)."""

    name: str
    value: str | None  # the digits, when every variant agreed and every glyph was a digit
    confidence: float  # product over glyphs of the mean probability of the digit read
    box: tuple[int, int, int, int]  # left, top, width, height on page one
    digits: list[list[float]] = field(default_factory=list)  # per glyph: probability of each class
    variants: list[str] = field(default_factory=list)  # the string each binarisation read (`?`: not a digit)
    reason: str = ""  # why no value
    page: int = 1  # the header's slots are on page one
    code: str | None = None  # the printed code beside the number, as the page pass read it (Slot.code)
    code_confidence: float = 0.0
    # The digits most binarisations read and their confidence, also where no value is given
    # (`read 4532 at 0.63`): the extractor may accept them when an independent printed
    # citation of the letter's number (`Văn bản số 4532/UBND-KSTTHC`) reads the same.
    candidate: str | None = None
    candidate_confidence: float = 0.0
    # What the glyphs read as one by one where that is no day or month (`94`), when the value
    # is the likeliest valid one instead (`24`: see `valid_reading`).
    read_as: str | None = None

    def to_json(self) -> str:
        data = asdict(self)
        data["box"] = [int(v) for v in self.box]
        data["confidence"] = float(self.confidence)
        data["digits"] = [[round(float(p), 3) for p in row] for row in self.digits]
        return json.dumps(data, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> SlotReading:
        data = json.loads(text)
        data["box"] = tuple(data["box"])
        return cls(**data)


# ----------------------------------------------------------------------------- finding the slots

def _same_line(words: list[Word], start: int, limit: int = 12) -> list[Word]:
    first = words[start]
    return [w for w in words[start + 1:start + 1 + limit] if w.line == first.line and w.box is not None]


def _right(word: Word) -> int:
    assert word.box is not None
    return word.box[0] + word.box[2]


def find_slots(words: list[Word], page_height: int) -> list[Slot]:
    """The number, day and month slots of the header, where the page pass's words place them."""
    slots: list[Slot] = []
    header = [w for w in words if w.box is not None and w.box[1] < page_height * HEADER_PART]
    number = _number_slot(header)
    if number:
        slots.append(number)
    slots += _date_slots(header)
    return slots


# `Ð` (eth): Tesseract's reading of `Đ` in a code as often as `Đ` itself (`@QÐ-STTTT`).
CODE_SLASH = re.compile(r"/(?=[A-ZĐÐ])")
CODE_CAPS = re.compile(r"[A-ZĐÐ][A-ZĐÐ0-9]{0,6}[a-z]?-[A-ZĐÐ0-9]")


def _opens_number_slot(word: Word, words: list[Word]) -> bool:
    """Whether `word` is the header's `Số:`, not `số` citing a letter in a sentence (`Kế hoạch số 4963/KH-UBND`).

    The header's is written with a capital and a colon and opens its line; OCR may
    lose one of them (`số:`, `Số`), never all three.
    """
    if word.box is None or not NUMBER_ANCHOR.match(word.text) or len(word.text) > 14:
        return False
    if word.text[0] == "S" or re.match(r"^.{2}[:;.]", word.text):
        return True
    height = max(word.box[3], 1)
    return not any(w.line == word.line and w.box is not None and w is not word
                   and 0 <= word.box[0] - _right(w) < 3 * height for w in words)


def _number_slot(words: list[Word]) -> Slot | None:
    for i, word in enumerate(words):
        if not _opens_number_slot(word, words) or word.box is None:
            continue
        if CODE_SLASH.search(word.text) or CODE_CAPS.search(word.text[2:]):
            continue  # number and code glued to `Số`: no reliable place to cut
        rest = _same_line(words, i, 4)
        code = next((w for w in rest[:3] if CODE_SLASH.search(w.text) or CODE_CAPS.search(w.text)), None)
        if code is None or code.box is None:
            continue
        ref = max(20, min(int(min(code.box[3], 0.8 * word.box[3])), 70))
        # Left: after the printed `Số:` (about 1.7 capitals' height wide; less when the
        # OCR word also swallowed handwriting, `Số298` read `Số.`).
        left = min(_right(word), word.box[0] + int(1.7 * ref))
        left_estimated = _right(word) - left > 0.3 * ref
        top = min(word.box[1], code.box[1])
        bottom = max(word.box[1] + word.box[3], code.box[1] + code.box[3])
        band = (top - int(0.9 * ref), bottom + int(0.5 * ref))
        slash = CODE_SLASH.search(code.text)
        if (slash and slash.start() == 0) or (not slash and CODE_CAPS.match(code.text)):
            # `/CT-UBND`, or `KH-SYT` whose slash OCR lost: the code starts at the word.
            right = code.box[0] + (int(0.15 * ref) if slash else 0)
            if right - left < 0.6 * ref:
                return None
            return Slot("number", (left, band[0], right, band[1]), ref, estimated=(left_estimated, False),
                        baseline=code.box[1] + code.box[3], cap_height=code.box[3],
                        code=code.text.lstrip("/").rstrip(".,;"), code_confidence=round(code.confidence / 100, 2))
        # Handwriting glued before the code (`//2/UBND-`, `€ÉÊ/TB-STTTT`, `49ÿC04-P6`):
        # the slash is searched for in the ink, right of where the word's letters put it.
        at = slash.start() if slash else CODE_CAPS.search(code.text).start()  # type: ignore[union-attr]
        estimate = _right(code) - int(code.box[2] * (len(code.text) - at) / max(len(code.text), 1))
        return Slot("number", (left, band[0], _right(code), band[1]), ref, slash_after=estimate - int(0.5 * ref),
                    estimated=(left_estimated, False))  # the code word's box holds ink too: no print line
    return None


def _wide(word: Word, expected: float) -> bool:
    """An anchor word much wider than printed: OCR glued handwriting to it."""
    return word.box is not None and word.box[2] > 1.25 * expected


def _date_slots(words: list[Word]) -> list[Slot]:
    lines: dict[int, list[Word]] = {}
    for word in words:
        lines.setdefault(word.line, []).append(word)
    for line in sorted(lines):
        row = [w for w in lines[line] if w.box is not None]
        ngay_at = next((k for k, w in enumerate(row) if DAY_ANCHOR.match(w.text)), None)
        if ngay_at is None:
            continue
        after = row[ngay_at:]
        nam = next((w for w in after[1:] if YEAR_ANCHOR.match(w.text)), None)
        if nam is None:
            if GLUED_YEAR.search(" ".join(w.text for w in after)[4:]) or any(
                    YEAR.match(w.text) for w in after[1:]):  # a year word of its own, not a caption's `2026-02-05`
                # the date line, its `năm` glued to the hand (`ngàyZ3...tháng.h..năm`) or
                # misread (`@Š điáng CÔ đẦxn 2025`)
                return []
            continue
        # The header's date line is the first with `ngày … năm`: no later line is tried, also
        # where its `tháng` cannot be told (the hand garbled it).  A later one is the body's
        # (`Căn cứ Luật ... ngày 19 tháng 6 năm 2015`), in the top part of many a decision:
        # its printed digits read as surely as a clerk's would give the letter another date.
        if not any(MONTH_ANCHOR.search(w.text) for w in after[:-1]):
            thang = _misread_thang(after[1:after.index(nam)], nam)
            if thang is None:
                return []
            after = [w if w is not thang else Word("tháng", thang.confidence, thang.line, thang.box)
                     for w in after]
        return _date_line_slots(after, nam)
    return []


THANG_LETTERS = set("thang")


def _misread_thang(between: list[Word], nam: Word) -> Word | None:
    """The printed `tháng` OCR misread (`nh`, `thá`): the one word between `ngày` and `năm`
    as wide as `tháng` is printed, its letters all letters of `tháng`.

    The handwriting either side makes the page pass garble the word between; its
    width, measured against the `năm` of the same line, still tells it.
    """
    assert nam.box is not None
    expected = THANG_PER_NAM * nam.box[2]
    fits = [w for w in between if w.box is not None and 0.8 * expected <= w.box[2] <= 1.3 * expected
            and len(w.text) >= 2 and set(strip_diacritics(w.text).lower()) <= THANG_LETTERS]
    return fits[0] if len(fits) == 1 else None


def _date_line_slots(after: list[Word], nam: Word) -> list[Slot]:
    assert nam.box is not None
    ngay = after[0]
    assert ngay.box is not None
    thang = next((w for w in after if MONTH_ANCHOR.search(w.text) and w is not nam), None)
    nam_width = float(nam.box[2]) if len(nam.text) <= 4 else nam.box[3] * 2.5
    ref = max(20, min(int(nam.box[3]), 60))
    ngay_glued = _wide(ngay, NGAY_PER_NAM * nam_width) or len(ngay.text) > 4  # `ngàyl`: a hand 1 read into the word
    ngay_end = ngay.box[0] + int(NGAY_PER_NAM * nam_width) if ngay_glued else _right(ngay)
    top = min(nam.box[1], ngay.box[1])
    bottom = nam.box[1] + nam.box[3]
    band = (top - int(0.9 * ref), bottom + int(0.6 * ref))
    slots = []
    if thang is None or thang.box is None:
        return []
    thang_width = THANG_PER_NAM * nam_width
    start_glued = end_glued = False
    if thang is ngay or not MONTH_ANCHOR.match(thang.text):  # `ngày$tháng`, `thángO†` read as `xthang`
        thang_start, thang_end = _right(thang) - int(thang_width), _right(thang)
        start_glued = True
    elif _wide(thang, thang_width) or len(thang.text) > 5:  # `tháng02`, `tháng.!` glued to the month
        thang_start, thang_end = thang.box[0], thang.box[0] + int(thang_width)
        end_glued = True
    else:
        thang_start, thang_end = thang.box[0], _right(thang)
    if thang_start - ngay_end >= 0.5 * ref:
        slots.append(Slot("day", (ngay_end, band[0], thang_start, band[1]), ref, estimated=(ngay_glued, start_glued)))
    if nam.box[0] - thang_end >= 0.5 * ref:
        slots.append(Slot("month", (thang_end, band[0], nam.box[0], band[1]), ref, estimated=(end_glued, False)))
    return slots


# ----------------------------------------------------------------------------- cutting the ink

@dataclass
class Glyph:
    left: int
    right: int
    ink: np.ndarray  # the glyph's ink alone (0..1), cropped to its box
    top: int = 0


def _ink(crop: np.ndarray) -> tuple[np.ndarray, float]:
    """Ink darkness 0..1 from grey, with Otsu's threshold expressed on that scale."""
    import cv2

    grey = crop.astype(np.float32)
    paper = float(np.percentile(grey, 90))
    dark = float(np.percentile(grey, 1))
    span = max(paper - dark, 30.0)
    ink = np.clip((paper - grey) / span, 0, 1)
    level, _ = cv2.threshold((ink * 255).astype(np.uint8), 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return ink, max(float(level) / 255, 0.2)


def segment(crop: np.ndarray, ref: int, scale: float = 1.0, thicken: int = 0) -> list[Glyph]:
    """The slot's glyphs, left to right."""
    import cv2

    ink, level = _ink(crop)
    mask: np.ndarray = (ink > level * scale).astype(np.uint8)
    if thicken:
        mask = cv2.dilate(mask, np.ones((2, 2), np.uint8))
    # Long straight horizontal runs (a stamp's frame, an underline, a table rule under the
    # line) are taken out first: touching the letters either side, they would join the
    # printed words and the hand into one blob.  No digit has a flat stroke two capitals long.
    rules = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((1, max(8, 2 * ref)), np.uint8))
    if rules.any():
        mask[cv2.dilate(rules, np.ones((3, 1), np.uint8)) > 0] = 0
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    parts = []
    height = crop.shape[0]
    for k in range(1, count):
        x, y, w, h, area = stats[k]
        if area < max(6, 0.015 * ref * ref):
            continue  # specks, the dotted line's dots
        if (w > 4 * ref and h < 0.5 * ref) or (w > 2.5 * ref and area < 0.2 * w * ref):
            continue  # a rule (long and thin, though it may sag or carry a dot)
        if h >= height - 2 and w < 0.2 * ref:
            continue  # a vertical line through the whole band (a frame, a fold)
        parts.append([x, x + w, y, y + h, [k]])
    # merge pieces that stand over one another (a 5's bar, a 7's cross, a broken stroke)
    parts.sort(key=lambda p: p[0])
    merged: list[list] = []
    for part in parts:
        if merged:
            last = merged[-1]
            overlap = min(last[1], part[1]) - max(last[0], part[0])
            gap = max(part[2] - last[3], last[2] - part[3])  # vertical distance; < 0 when they overlap
            if overlap > 0.5 * min(last[1] - last[0], part[1] - part[0]) and gap < 0.3 * ref:
                merged[-1] = [min(last[0], part[0]), max(last[1], part[1]), min(last[2], part[2]),
                              max(last[3], part[3]), last[4] + part[4]]
                continue
        merged.append(part)
    glyphs = []
    for x0, x1, y0, y1, ks in merged:
        if y1 - y0 < 0.45 * ref or max(stats[k][3] for k in ks) < 0.4 * ref:
            continue  # a colon (two dots stacked), a period, a dash, a stray mark
        region = np.isin(labels[y0:y1, x0:x1], ks)
        if thicken:
            region = cv2.dilate(region.astype(np.uint8), np.ones((2, 2), np.uint8)).astype(bool)
        glyphs.append(Glyph(x0, x1, np.where(region, np.maximum(ink[y0:y1, x0:x1], level), 0).astype(np.float32), y0))
    return glyphs


# Slants at which touching digits are cut: handwriting leans, so the gap between
# two digits is often a slanted line, not a column.
CUT_SHEARS = (0.0, 0.3, -0.2)


def _shear(ink: np.ndarray, shear: float) -> np.ndarray:
    """The ink sheared so that a line leaning by `shear` (dx per dy, top to the right) stands upright."""
    import cv2

    if shear == 0.0:
        return ink
    h, w = ink.shape
    pad = int(abs(shear) * h) + 1
    offset = -shear * h if shear < 0 else 0.0
    matrix = np.array([[1.0, shear, offset], [0.0, 1.0, 0.0]], np.float32)  # x' = x + shear * y + offset
    return cv2.warpAffine(ink, matrix, (w + pad, h))


def _splits(glyph: Glyph, parts: int) -> list[list[np.ndarray]]:
    """Ways to cut a wide glyph into `parts` at the thinnest columns, upright or along the slant."""
    out = []
    for shear in CUT_SHEARS:
        ink = _shear(glyph.ink, shear)
        width = ink.shape[1]
        profile = (ink > 0.2).sum(axis=0).astype(float)
        if parts == 2:
            lo, hi = int(width * 0.3), int(width * 0.7)
            if hi - lo < 2:
                continue
            order = np.argsort(profile[lo:hi])[:3] + lo
            for cut in order:
                out.append([ink[:, :cut], ink[:, cut:]])
        elif parts == 3:
            a = int(np.argmin(profile[int(width * 0.22):int(width * 0.45)])) + int(width * 0.22)
            b = int(np.argmin(profile[int(width * 0.55):int(width * 0.78)])) + int(width * 0.55)
            out.append([ink[:, :a], ink[:, a:b], ink[:, b:]])
    return out


# ----------------------------------------------------------------------------- reading

# Each glyph is also read slanted both ways and turned a little; the probabilities
# are averaged, so a reading that holds only for the glyph exactly as drawn loses weight.
JITTERS = ((0.0, 0.0), (0.18, 0.0), (-0.18, 0.0), (0.0, 8.0), (0.0, -8.0))


def glyph_probabilities(model: DigitModel, images: np.ndarray) -> np.ndarray:
    """(n, 11) probabilities of normalised glyphs, averaged over small slants and turns."""
    import cv2

    if len(images) == 0:
        return np.zeros((0, OTHER + 1), np.float32)
    centre = (images.shape[2] / 2, images.shape[1] / 2)
    batches = []
    for shear, angle in JITTERS:
        matrix = cv2.getRotationMatrix2D(centre, angle, 1.0)
        matrix[0, 1] += shear
        matrix[0, 2] -= shear * centre[1]
        batches.append(np.stack([cv2.warpAffine(im, matrix, (im.shape[1], im.shape[0])) for im in images]))
    probs = model.probabilities(np.concatenate(batches))
    return probs.reshape(len(JITTERS), len(images), -1).mean(axis=0)


SPLIT_SURE = 0.7


def _read_glyphs(model: DigitModel, glyphs: list[Glyph], ref: int) -> list[np.ndarray]:
    """Class probabilities per glyph; a wide glyph not read as one digit is split into two or three."""
    probs = glyph_probabilities(model, np.stack([normalise(g.ink) for g in glyphs])) if glyphs else np.zeros((0, 11))
    out: list[np.ndarray] = []
    for glyph, p in zip(glyphs, probs):
        aspect = glyph.ink.shape[1] / max(glyph.ink.shape[0], 1)
        # Not one digit (`other`), or an unsure digit at least as wide as high: maybe two touching.
        # (An unsure narrow digit stays one: cut, its strokes read as two digits all too often.)
        if (p.argmax() == OTHER and aspect > 0.75) or (p.max() < 0.6 and aspect > 1.0):
            best: list[np.ndarray] | None = None
            best_score = float(p[:OTHER].max())
            for parts in (2, 3) if aspect > 1.7 else (2,):  # three digits touching make a long blob
                for pieces in _splits(glyph, parts):
                    if any(piece.shape[1] < 3 for piece in pieces):
                        continue
                    pp = glyph_probabilities(model, np.stack([normalise(piece) for piece in pieces]))
                    if (pp.argmax(axis=1) == OTHER).any():
                        continue
                    score = float(pp[:, :OTHER].max(axis=1).min())
                    # a cut must make clear digits (many cuts are tried: one that only
                    # scrapes past the whole glyph's reading is chance, not two digits)
                    if score > max(best_score, SPLIT_SURE):
                        best, best_score = list(pp), score
            if best is not None:
                out += best
                continue
        out.append(p)
    return out


def slash_like(glyph: Glyph, ref: int) -> bool:
    """A printed slash: about a capital high, thin, and its ink on one rising diagonal."""
    h, w = glyph.ink.shape
    if not (0.7 * ref <= h <= 1.9 * ref and 0.12 <= w / max(h, 1) <= 0.8):
        return False
    ys, xs = np.nonzero(glyph.ink > 0.3)
    if len(xs) < 8 or xs.std() == 0:
        return False
    return float(np.corrcoef(xs, -ys)[0, 1]) > 0.8


def _slot_glyphs(crop: np.ndarray, slot: Slot, margin: int, scale: float, thicken: int, size: float = 1.0
                 ) -> tuple[list[Glyph], list[Glyph], list[Glyph], str]:
    """(the slot's glyphs, glyphs of the printed code after its slash, glyphs just outside, problem).

    `crop` reaches `margin` pixels past the slot on both sides, so a glyph the
    slot's edge cuts is seen whole: it belongs to the slot when its middle does.
    """
    if size != 1.0:
        import cv2

        crop = cv2.resize(crop, None, fx=size, fy=size, interpolation=cv2.INTER_AREA)
    ref = max(8, int(slot.ref_height * size))
    margin = int(margin * size)
    inner = (margin, crop.shape[1] - margin)
    everything = segment(crop, ref, scale, thicken)
    glyphs = [g for g in everything if inner[0] <= (g.left + g.right) / 2 < inner[1]]
    outside = [g for g in everything if g not in glyphs]
    if slot.slash_after is not None:
        at = _printed_run(glyphs)
        if at is None:
            return [], [], [], "the printed code not told from the ink"
        # The code, its slash first where one was seen (`_printed_run` stops at it), is not the number.
        return glyphs[:at], glyphs[at:], [g for g in outside if g.right <= inner[0] + 1], ""
    if slot.name == "number" and glyphs and glyphs[-1].right >= inner[1] - 0.6 * ref and slash_like(glyphs[-1], ref):
        glyphs = glyphs[:-1]  # the slash OCR lost (`KH-SYT`)
    if slot.name == "number" and glyphs:
        last = _digit_against_slash(glyphs[-1], outside, ref)
        if last is not None:
            glyphs, outside = glyphs + [last], [g for g in outside if g is not last]
    return glyphs, [], outside, ""


def _digit_against_slash(last: Glyph, outside: list[Glyph], ref: int) -> Glyph | None:
    """A glyph past the slot's end, written up against the code's slash: the number's last digit.

    The code begins with its slash, so nothing printed stands between the number
    and the slash; a clerk's last digit drawn close to it (`741/TB`) falls past the
    slot's end where OCR took it into the code's word.  It must stand next to the
    slash, at least a digit's height, not itself slash-shaped.
    """
    after = sorted((g for g in outside if g.left >= last.right - 1), key=lambda g: g.left)
    if len(after) < 2 or slash_like(after[0], ref) or not slash_like(after[1], ref):
        return None
    glyph, slash = after[0], after[1]
    if glyph.ink.shape[0] < 0.6 * ref or slash.left - glyph.right > 0.15 * ref:
        return None
    return glyph


DESCENDER = 0.45  # how much taller than the capitals a printed letter with a tail (`Q`) may be


def _printed_run(glyphs: list[Glyph]) -> int | None:
    """Where the printed code starts in a slot that runs into it: the index of its first glyph.

    Printed capitals share one height and one top line; walking left from the
    code's end, the run stops at the first glyph that does not, which must be
    clearly handwriting (taller, or off the line), else there is no telling.
    """
    if len(glyphs) < 4:
        return None
    tail = glyphs[-3:]
    height = float(np.median([g.ink.shape[0] for g in tail]))
    top = float(np.median([g.top for g in tail]))
    at = len(glyphs)
    for k in range(len(glyphs) - 1, -1, -1):
        g = glyphs[k]
        if slash_like(g, int(height)):
            return k if k < len(glyphs) - 1 else None  # the code starts at its slash
        # On the capitals' top line: a capital, or one with a tail below the line (`Q` of `/QĐ-`,
        # which read as a `0` after the slash's `1` when taken for the hand: `97` -> `9710`).
        on_line = abs(g.top - top) <= 0.25 * height
        if on_line and -0.2 * height <= g.ink.shape[0] - height <= DESCENDER * height:
            at = k
            continue
        if g.ink.shape[0] > 1.25 * height or abs(g.top - top) > 0.35 * height:
            return at if at < len(glyphs) else None
        return None
    return None


def _edge_letters(model: DigitModel, glyphs: list[Glyph], crop_width: int, margin: int, ref: int,
                  estimated: tuple[bool, bool]) -> list[Glyph]:
    """The glyphs less a printed letter at an estimated end (`t` of a `tháng` glued to the ink).

    Only a narrow glyph, clearly not a digit, no taller than print, at an edge
    whose place was estimated: anything else stays, and a slot with a
    non-digit in it gives no value.
    """
    def printed_letter(g: Glyph, side: int) -> bool:
        near = g.left <= margin + 0.4 * ref if side == 0 else g.right >= crop_width - margin - 0.4 * ref
        height, width = g.ink.shape
        if not estimated[side] or not near or height >= 1.2 * ref or width > 0.9 * height:
            return False
        p = model.probabilities(normalise(g.ink)[None])[0]
        return bool(p.argmax() == OTHER and p[OTHER] > 0.8)

    def fragment(g: Glyph, side: int) -> bool:
        # An accent or a stroke's tail of the printed word (`à` of a glued `ngày`): much
        # shorter than the slot's tallest glyph, at an estimated edge.
        tallest = max(k.ink.shape[0] for k in glyphs)
        return estimated[side] and len(glyphs) > 1 and g.ink.shape[0] < 0.55 * tallest

    while glyphs and (printed_letter(glyphs[0], 0) or fragment(glyphs[0], 0)):
        glyphs = glyphs[1:]
    while glyphs and (printed_letter(glyphs[-1], 1) or fragment(glyphs[-1], 1)):
        glyphs = glyphs[:-1]
    return glyphs


def _broken_ink(crop: np.ndarray, read: list[Glyph], margin: int, ref: int) -> bool:
    """A faded digit broken into specks, none big enough to be a glyph, where nothing was read.

    The specks are joined by a small dilation; a dotted line's dots stay a flat
    row, scanner noise stays single specks, but a broken digit stands a digit high.
    """
    import cv2

    ink, level = _ink(crop)
    mask = cv2.dilate((ink > 0.6 * level).astype(np.uint8), np.ones((5, 5), np.uint8))
    count, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    for k in range(1, count):
        x, y, w, h, area = stats[k]
        if not (margin <= x + w / 2 < crop.shape[1] - margin) or h < 0.6 * ref or w > 2 * ref:
            continue
        if any(min(x + w, g.right) - max(x, g.left) > 0.3 * w for g in read):
            continue  # the ink of a glyph that was read
        if area < 0.12 * ref * ref:
            continue
        return True
    return False


def _runs_into_code(outside: list[Glyph], slot: Slot, crop_width: int, margin: int, crop_top: int,
                    size: float) -> bool:
    """Ink across the number slot's end that is neither the code's slash nor its print.

    A digit run into the code (`5/KH`, its middle past the slot's end) would
    otherwise be dropped and the number read short (`75` -> `7`).  The code's
    slash run into its first letter (`/T`) sits on the printed line: that is print.
    """
    if slot.baseline is None or slot.cap_height is None:
        return False  # no printed line known to tell the code's print from the hand by
    ref = max(8, int(slot.ref_height * size))
    end = crop_width - margin
    return any(g.left < end - 0.1 * ref < g.right and not slash_like(g, ref) and not _printed(g, slot, crop_top, size)
               for g in outside)


def _digit_over_slash(model: DigitModel, last: Glyph, outside: list[Glyph], ref: int) -> bool:
    """Whether the glyph after the number's digits, where the code's slash stands, reads as a digit.

    A clerk's last digit drawn over the slash (`544/QĐ`) joins it into one glyph
    that is no slash; read without it the number is a digit short.  The slash
    run into the code's first letter (`/T`) is no digit to the recogniser, and a
    slash alone, however rough its edge, stays narrow (under half its height; a
    scanned one is read as `1`, `5` or `7` when it fails `slash_like`).
    """
    after = sorted((g for g in outside if g.left >= last.right - 1 and g.left - last.right < 1.5 * ref),
                   key=lambda g: g.left)
    if not after or slash_like(after[0], ref) or after[0].ink.shape[0] < 0.6 * ref:
        return False
    height, width = after[0].ink.shape
    if width < 0.5 * height:
        return False
    p = model.probabilities(normalise(after[0].ink)[None])[0]
    return bool(p[:OTHER].max() >= 0.5)


def _printed(glyph: Glyph, slot: Slot, crop_top: int, size: float) -> bool:
    """A glyph sitting on the printed line's baseline, no taller than its capitals: print, not the hand."""
    if slot.baseline is None or slot.cap_height is None:
        return False
    bottom = crop_top + (glyph.top + glyph.ink.shape[0]) / size
    return abs(bottom - slot.baseline) <= 0.2 * slot.cap_height and glyph.ink.shape[0] / size <= 1.05 * slot.cap_height


CLEAR_DIGIT = 0.9  # a glyph an estimated edge cuts is taken into the slot when read as a digit this surely


def snap_estimated_edges(grey: np.ndarray, slot: Slot, model: DigitModel) -> Slot:
    """The slot with each estimated edge moved off the glyph it cuts, to the side that glyph belongs.

    An edge estimated from a printed word's usual width (the word was glued to the
    ink) is off by a letter or so, by font and italics.  A glyph it cuts goes out of
    the slot when it is narrow and the recogniser reads it as no digit (`t` of
    `tháng`, `y` of `ngày`), into it when it reads as a clear digit; otherwise the
    estimate stands.
    """
    if not any(slot.estimated):
        return slot
    left, top, right, bottom = slot.box
    reach = slot.ref_height
    lo, hi = max(0, left - reach), min(grey.shape[1], right + reach)
    band = grey[max(0, top):bottom, lo:hi]
    if band.size == 0:
        return slot
    glyphs = segment(band, slot.ref_height)
    edges = [left, right]
    for side in (0, 1):
        at = edges[side] - lo
        cut = [g for g in glyphs if g.left + 2 <= at <= g.right - 2]
        if not slot.estimated[side] or len(cut) != 1:
            continue
        glyph = cut[0]
        p = glyph_probabilities(model, normalise(glyph.ink)[None])[0]
        height, width = glyph.ink.shape
        keep = p.argmax() != OTHER and p.max() >= CLEAR_DIGIT
        # Left out only as a printed letter is: one narrow glyph, more likely no digit than
        # a digit (two digits touching are `other` too, but wide: they stay for the splitter).
        leave = p[OTHER] >= 0.5 and width <= 0.9 * height
        if keep or leave:
            # left edge: keeping the glyph moves the edge to the glyph's left; right edge: to its right
            if side == 0:
                edges[side] = int(lo) + int(glyph.left - 1 if keep else glyph.right + 1)
            else:
                edges[side] = int(lo) + int(glyph.right + 1 if keep else glyph.left - 1)
    if edges[1] - edges[0] < 0.5 * slot.ref_height:
        return slot
    return replace(slot, box=(edges[0], top, edges[1], bottom))


def _next_outside(outside: list[Glyph], glyphs: list[Glyph], estimated: tuple[bool, bool], reach: float
                  ) -> list[Glyph]:
    """The glyph outside the slot next to its first glyph (left edge estimated) and to its last (right)."""
    out = []
    if estimated[0]:
        before = [g for g in outside if g.left < glyphs[0].left and g.right > glyphs[0].left - reach]
        if before:
            out.append(max(before, key=lambda g: g.right))
    if estimated[1]:
        after = [g for g in outside if g.right > glyphs[-1].right and g.left < glyphs[-1].right + reach]
        if after:
            out.append(min(after, key=lambda g: g.left))
    return out


# A glyph read as a digit that no day or month can have there (the `9` of `94`) is read as
# the likeliest digit that makes the field valid only when the recogniser itself gave that digit
# this much: a real second choice (a looped `2` read `9` at 0.61 and `2` at 0.32), not a trace.
VALID_SECOND_CHOICE = 0.2


# The largest value each date slot may hold.
FIELD_TOP = {"day": 31, "month": 12}


def valid_values(name: str, length: int) -> list[str]:
    """The strings of `length` digits a day or month slot may hold (hand_day_month_ok: `0` only as a pad, `02`)."""
    if length not in (1, 2):
        return []
    return [v for v in (f"{k:0{length}d}" for k in range(10 ** length)) if hand_day_month_ok(v, FIELD_TOP[name])]


def _glyphs_read(probs: list[np.ndarray] | np.ndarray) -> str:
    """Each glyph's likeliest class, one by one: its digit, or `?` for `other`."""
    return "".join(str(int(np.argmax(row))) if np.argmax(row) != OTHER else "?" for row in probs)


def _joint(probs: list[np.ndarray] | np.ndarray, digits: str) -> float:
    """The probability the glyphs give to reading exactly `digits` (the product over glyphs)."""
    return float(np.prod([row[int(d)] for row, d in zip(probs, digits)]))


def valid_reading(name: str, probs: list[np.ndarray] | np.ndarray, second_choice: float = VALID_SECOND_CHOICE
                  ) -> tuple[str, float] | None:
    """(the likeliest valid day or month for these glyphs, its probability given that the value is valid).

    The field's constraint is evidence the recogniser does not have: the first
    digit of a two-digit day is 0-3, of a month 0 or 1.  Among the values the
    field allows, with as many digits as there are glyphs, the one whose digits
    the glyphs give the highest joint probability is taken, and its probability
    renormalised over the allowed values.  None where a digit it needs was no
    real choice of the recogniser's (below `second_choice`), or nothing fits.
    """
    if name not in ("day", "month") or not len(probs):
        return None
    scores = {v: _joint(probs, v) for v in valid_values(name, len(probs))}
    total = sum(scores.values())
    if not scores or total <= 0:
        return None
    best = max(scores, key=lambda v: scores[v])
    if any(int(d) != int(np.argmax(row)) and row[int(d)] < second_choice for row, d in zip(probs, best)):
        return None
    return best, scores[best] / total


def _valid_or_mended(name: str, variant: str, probs: list[np.ndarray]) -> str:
    """A variant's digits, or the valid day or month they most likely are where they are none (`94` -> `24`).

    For counting which binarisations agree only: whether the value may be
    given is decided on the agreeing variants' mean probabilities.
    """
    if name not in ("day", "month") or not variant.isdigit() or len(variant) > MAX_DIGITS[name]:
        return variant
    if hand_day_month_ok(variant, FIELD_TOP[name]):
        return variant
    mended = valid_reading(name, probs, second_choice=0.0)
    return mended[0] if mended else variant


def read_slot(grey: np.ndarray, slot: Slot, model: DigitModel) -> SlotReading:
    slot = snap_estimated_edges(grey, slot, model)
    left, top, right, bottom = slot.box
    top, left = max(0, top), max(0, left)
    # Past an estimated edge the printed letter there (`ố` of a glued `Số`, `y` of `ngày`) is
    # seen whole, so that the recogniser can tell it from a digit the estimate cut off.
    margin = min(left, int((1.6 if any(slot.estimated) else 0.8) * slot.ref_height))
    crop = grey[top:bottom, left - margin:right + margin]
    box = (left, top, right - left, bottom - top)
    reading = SlotReading(slot.name, None, 0.0, box, code=slot.code, code_confidence=slot.code_confidence)
    if crop.size == 0 or crop.shape[1] < 2 * margin + 4:
        reading.reason = "empty slot"
        return reading
    per_variant: list[list[np.ndarray]] = []
    problems = set()
    for scale, thicken, size in VARIANTS:
        glyphs, code, outside, problem = _slot_glyphs(crop, slot, margin, scale, thicken, size)
        if problem:
            problems.add(problem)
        width, edge = int(crop.shape[1] * size), int(margin * size)
        # (Thickened ink joins the printed slash to the code's first letter: not looked at there.)
        if slot.name == "number" and slot.slash_after is None and not thicken and _runs_into_code(
                outside, slot, width, edge, top, size):
            problems.add("ink runs into the code")
        ref = max(8, int(slot.ref_height * size))
        if slot.name == "number" and slot.slash_after is None and not thicken and glyphs and _digit_over_slash(
                model, glyphs[-1], outside, ref):
            problems.add("ink over the code's slash")
        glyphs = _edge_letters(model, glyphs, width, edge, ref, slot.estimated)
        probs = _read_glyphs(model, glyphs, ref)
        # A digit just outside the slot: the slot's edge (estimated where OCR glued
        # the ink to a printed word) may have cut the value short.  Only the glyph
        # next to the value on each estimated side counts (a value's digits run on
        # without a letter between), and none when the slot already holds as many
        # digits as the field has (a day or month of two: `y` of `ngày` is no third).
        holds_all = slot.name != "number" and len(probs) >= MAX_DIGITS[slot.name]
        near = [] if holds_all or not glyphs else _next_outside(outside, glyphs, slot.estimated, ref * 1.2)
        tall = float(np.median([g.ink.shape[0] for g in glyphs])) if glyphs else 0.0
        near = [g for g in near if g.ink.shape[0] >= 0.75 * tall and not _printed(g, slot, top, size)]
        if near:
            near_probs = model.probabilities(np.stack([normalise(g.ink) for g in near]))
            if (near_probs[:, :OTHER].max(axis=1) > 0.5).any():
                problems.add("a digit at the slot's edge")
        per_variant.append(probs)
        reading.variants.append(_glyphs_read(probs))
        if scale == 1.0 and thicken == 0 and size == 1.0:
            # Ink too faint for this threshold but plainly there (a light stroke, a pale
            # digit beside a dark one): reading only the dark glyphs would cut the value.
            faint = [g for g in segment(crop, slot.ref_height, 0.4, 0)
                     if margin <= (g.left + g.right) / 2 < crop.shape[1] - margin
                     and not any(min(g.right, k.right) - max(g.left, k.left) > 0 for k in glyphs + code)]
            if faint or _broken_ink(crop, glyphs + code, margin, slot.ref_height):
                problems.add("faint ink left unread")
        if glyphs and size == 1.0:
            reading.box = (left - margin + glyphs[0].left, top, glyphs[-1].right - glyphs[0].left, bottom - top)
    # A variant with a non-digit glyph abstains (its binarisation merged or broke the ink);
    # the others must all read the same digits, and at least MIN_AGREEING of them.
    # So does one that reads more digits than the field holds (`021` for a month: a flourish
    # under the `2` cut off as a digit): no value could come of it.
    decided = [_valid_or_mended(slot.name, v, probs) for v, probs in zip(reading.variants, per_variant)]
    full = [(v, probs) for v, probs in zip(decided, per_variant)
            if v and "?" not in v and (len(v) <= MAX_DIGITS[slot.name] or slot.name == "number")]
    # One binarisation may break or merge a stroke: the value most variants read stands when
    # at most MAX_DISSENT of them read other digits, and its confidence shrinks by their share.
    counts = {v: sum(1 for w, _ in full if w == v) for v, _ in full}
    value = max(counts, key=lambda v: counts[v]) if counts else ""
    agreeing = [(v, probs) for v, probs in full if v == value]
    dissent = len(full) - len(agreeing)
    if problems:
        reading.reason = "; ".join(sorted(problems))
    elif not any(reading.variants):
        reading.reason = "no ink"
    elif dissent > MAX_DISSENT or (dissent and dissent >= len(agreeing)):
        reading.reason = "variants disagree"
    elif len(value) > MAX_DIGITS[slot.name] or (len(agreeing) < MIN_AGREEING and any(
            len(v) > MAX_DIGITS[slot.name] and "?" not in v for v in reading.variants)):
        reading.reason = "too many glyphs"
    elif len(agreeing) < MIN_AGREEING:
        reading.reason = "a glyph is not a digit"
    if agreeing and dissent <= MAX_DISSENT:
        mean = np.mean(np.stack([np.stack(probs) for _, probs in agreeing]), axis=0)  # glyphs x classes
        reading.digits = mean.tolist()
        share = len(agreeing) / len(full)
        confidence = round(share * _joint(mean, value), 4)
        glyphs_read = _glyphs_read(mean)
        if slot.name != "number" and not hand_day_month_ok(glyphs_read, FIELD_TOP[slot.name]):
            mended = valid_reading(slot.name, mean)
            if mended is not None and mended[0] == value:
                # The glyphs alone read no valid day or month: the value's probability given that it is one.
                reading.read_as, confidence = glyphs_read, round(share * mended[1], 4)
            else:
                reading.reason = "; ".join(filter(None, [reading.reason, f"{glyphs_read} is no {slot.name}"]))
                if "?" not in glyphs_read:  # the desk shows what the glyphs read, not a value made to fit
                    value = glyphs_read
                    confidence = round(share * _joint(mean, value), 4)
        reading.candidate, reading.candidate_confidence = value, confidence
        if not reading.reason:
            reading.value, reading.confidence = value, confidence
        else:
            reading.reason += f" (read {value} at {confidence:.2f})"
    return reading


def read_handwriting(grey: np.ndarray, words: list[Word], model: DigitModel | None = None) -> dict[str, list[str]]:
    """`{"hand_number": [json], "hand_day": [...], "hand_month": [...]}` for the slots found ({} without a model)."""
    model = model or load_model()
    if model is None:
        return {}
    out: dict[str, list[str]] = {}
    for slot in find_slots(words, grey.shape[0]):
        try:
            out[f"hand_{slot.name}"] = [read_slot(grey, slot, model).to_json()]
        except Exception as error:  # an optional second reading never costs the page its OCR
            log.warning("handwriting: %s slot not read (%s: %s)", slot.name, type(error).__name__, error)
    return out
