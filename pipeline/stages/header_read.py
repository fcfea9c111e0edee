"""A focused second reading of the letter's header slots (`Số: ...` and `..., ngày ... tháng ... năm ...`).

The page-wide OCR pass reads a handwritten or low-resolution number or day
badly (`J2/2023/TB-I.PQT`, `ngáy T3`).  Here the slots are found from the
word boxes of that pass, cropped, upscaled and binarised several ways, and
each variant is read again by more than one recogniser (Tesseract `vie`,
`eng`, and `eng` held to digits), and the handwritten digits by the project's
own digit recogniser (pipeline/stages/handwriting.py).  The readings are only *collected* here;
`extractors/header.py` decides by vote whether they agree well enough to be
stored, so a split vote leaves the field null.

To keep it cheap, all variants of a slot are stacked into one image and read
in one Tesseract call per recogniser (each variant is one text line of it).
"""

from __future__ import annotations

import json
import re

import numpy as np

from pipeline.core.types import Word
from pipeline.core.vietnamese import SO_WORD_RE
from pipeline.engines import OcrFailed, PageTimedOut, SlotReader
from pipeline.stages.handwriting import read_handwriting

# Recognisers: name -> (language, characters it may read; None: any).  All
# read with psm 4: one column of lines of varying size (the stacked variants).
READERS = {
    "vie": ("vie", None),
    "eng": ("eng", None),
    "digits": ("eng", "0123456789/"),
}
STACK_LAYOUT = 4
# Which recognisers read which slot.  The date line has words, so no digits-only reader.
SLOT_READERS = {"number": ("vie", "eng", "digits"), "date": ("vie", "eng"), "day": ("eng", "digits")}
# A slot's crop is read as it is and enlarged twice.  Tesseract's LSTM reads every line scaled to
# 36 px high, so enlarging helps its thresholding and segmentation of a small slot, not the detail
# it sees.  A third scale (3x) was dropped in session 9: with the default engine, no stored value
# changed on 200 held-out handwritten page ones or on the dev letters (with `tesseract`, two right
# and two wrong numbers fewer), and it took nearly half of those pages' CPU (BENCHMARKS.md,
# "Headline, session 9").
SCALES = (1.0, 2.0)
DATE_WORD_RE = re.compile(r"^[nN][gq][àaáảạăâ][yv]", re.I)
MONTH_WORD_RE = re.compile(r"^th[áaàảạă]n[gq]", re.I)
HEADER_PART = 0.4  # the slots sit in the top part of page one
TIMEOUT_S = 30
# Read the handwritten digits of unread slots with the digit recogniser (pipeline/stages/handwriting.py).
READ_HANDWRITING = True
# A slot the page pass read and the digit recogniser reads the same, this surely, is not
# read again by Tesseract: two readers of different make already agree on its digits.
HAND_CONFIRMS = 0.90


def _line_words(words: list[Word], start: int) -> list[Word]:
    """Words after `start` on its line, up to the first wide gap (the other column)."""
    first = words[start]
    out: list[Word] = []
    if first.box is None:
        return out
    right = first.box[0] + first.box[2]
    height = max(first.box[3], 1)
    for word in words[start + 1:]:
        if word.line != first.line or word.box is None:
            break
        if word.box[0] - right > 3 * height:
            break
        out.append(word)
        right = word.box[0] + word.box[2]
    return out


# The main pass read a slot well when it is well formed and every word of it
# is read with at least this confidence; the close re-reading (several CPU
# seconds) is then skipped.  The number's floor is low because printed codes
# with `Đ` (`1520/SGDĐT-VP`) read at 55-65 while being right; a handwritten
# number that still reads well formed is cross-checked by the extractor
# (appendix `Kèm theo ... số`, the date beside it) instead.
CLEAN_NUMBER_CONFIDENCE = 50.0
CLEAN_DATE_CONFIDENCE = 90.0
# (`3070./KH-UBND`: a dot after the number; `230/KH-THPT.PB`: a dotted part of the code)
CLEAN_NUMBER_RE = re.compile(r"^\d{1,5}\.?(/\d{4})?/[A-ZĐ]{1,12}([-.][A-ZĐ0-9]{1,12})*$")
CODE_WITHOUT_SLASH_RE = re.compile(r"[A-ZĐ]{1,8}\d{0,3}-[A-ZĐ0-9]{1,8}")
CLEAN_DATE_RE = re.compile(r"^(0?[1-9]|[12]\d|3[01]) tháng (0?[1-9]|1[0-2]) năm (19|20)\d\d$")


def _read_cleanly(slot_words: list[Word], pattern: re.Pattern[str], joiner: str, floor: float) -> bool:
    """Whether the slot's first words form a well-formed value, its digits all read confidently.

    Prefixes are tried because a one-column OCR line runs on past the slot
    (`35/KH-UBND Cao Lộc, ngày ...`).  Only the words with digits are held to
    the floor: they are what a clerk may have written by hand; the printed
    `tháng` and `năm` are told by the pattern (TrueOCR reads a printed `năm`
    at 77-88, its breve costing it, where the digits beside it read at 100).
    """
    for end in range(1, len(slot_words) + 1):
        text = joiner.join(w.text for w in slot_words[:end]).rstrip(".,;")
        if pattern.match(text):
            return all(w.confidence >= floor for w in slot_words[:end] if any(c.isdigit() for c in w.text))
    return False


def locate_slots(words: list[Word], page_height: int) -> dict[str, tuple[int, int, int, int]]:
    """Boxes (left, top, right, bottom) of the number slot, the date line and the day, when found.

    Slots the main pass already read cleanly are left out.
    """
    return {slot: box for slot, box in _scan_slots(words, page_height).items() if box is not None}


def _scan_slots(words: list[Word], page_height: int) -> dict[str, tuple[int, int, int, int] | None]:
    """Each slot found, with its box, or None where the main pass read it cleanly."""
    slots: dict[str, tuple[int, int, int, int] | None] = {}
    for i, word in enumerate(words):
        if word.box is None or word.box[1] > page_height * HEADER_PART:
            continue
        if "number" not in slots and SO_WORD_RE.match(word.text):
            rest = _line_words(words, i)
            head = "".join(w.text for w in rest[:3])
            # the code's slash, or a code whose slash the ink swallowed (`49ÿC04-P6`)
            if rest and ("/" in head or CODE_WITHOUT_SLASH_RE.search(head)):
                if _read_cleanly(rest[:3], CLEAN_NUMBER_RE, "", CLEAN_NUMBER_CONFIDENCE):
                    slots["number"] = None  # found, and read well
                else:
                    slots["number"] = _union(rest[:3])
        if "date" not in slots and DATE_WORD_RE.match(word.text):
            rest = _line_words(words, i)
            if any(re.match(r"^n[ăa]m", w.text, re.I) for w in rest):
                if _read_cleanly(rest[:5], CLEAN_DATE_RE, " ", CLEAN_DATE_CONFIDENCE):
                    slots["date"] = None  # found, and read well
                    continue
                slots["date"] = _union([word] + rest[:6])
                # The day, when OCR kept it a word of its own between `ngày` and `tháng`.
                if len(rest) >= 2 and MONTH_WORD_RE.match(rest[1].text) and not DATE_WORD_RE.match(rest[0].text):
                    slots["day"] = _union(rest[:1])
    return slots


def _union(words: list[Word]) -> tuple[int, int, int, int]:
    boxes = [w.box for w in words if w.box is not None]
    return (min(b[0] for b in boxes), min(b[1] for b in boxes),
            max(b[0] + b[2] for b in boxes), max(b[1] + b[3] for b in boxes))


def variants(crop: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """The crop upscaled and binarised several ways (grey, Otsu, smoothed Otsu, thickened ink)."""
    import cv2

    out = []
    for scale in SCALES:
        image = crop if scale == 1 else cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
        _, otsu = cv2.threshold(image, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
        blur = cv2.GaussianBlur(image, (3, 3), 0)
        _, smooth = cv2.threshold(blur, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
        thick = cv2.erode(otsu, np.ones((2, 2), np.uint8))
        out += [(f"grey x{scale:g}", image), (f"otsu x{scale:g}", otsu), (f"smooth x{scale:g}", smooth),
                (f"thick x{scale:g}", thick)]
    return out


def _stack(images: list[np.ndarray]) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Images one under another on white, with the y-range of each."""
    gap = max(im.shape[0] for im in images)
    width = max(im.shape[1] for im in images) + 2 * gap
    height = sum(im.shape[0] for im in images) + gap * (len(images) + 1)
    canvas = np.full((height, width), 255, dtype=np.uint8)
    ranges = []
    y = gap
    for im in images:
        canvas[y:y + im.shape[0], gap:gap + im.shape[1]] = im
        ranges.append((y, y + im.shape[0]))
        y += im.shape[0] + gap
    return canvas, ranges


def read_stacked(images: list[np.ndarray], reader: str, slot_reader: SlotReader | None = None) -> list[str]:
    """One reading per image, all read in one call of `slot_reader` (Tesseract by default)."""
    if slot_reader is None:
        from pipeline.engines import SLOT_READER_ENGINE, get_engine
        from pipeline.engines import slot_reader as reader_of

        slot_reader = reader_of(get_engine(SLOT_READER_ENGINE))
    canvas, ranges = _stack(images)
    lang, whitelist = READERS[reader]
    data = slot_reader.read_data(canvas, lang, STACK_LAYOUT, timeout_s=TIMEOUT_S, whitelist=whitelist)
    found: list[list[tuple[int, str]]] = [[] for _ in images]
    for i, token in enumerate(data["text"]):
        token = (token or "").strip()
        if not token:
            continue
        middle = data["top"][i] + data["height"][i] / 2
        for k, (top, bottom) in enumerate(ranges):
            if top - 5 <= middle <= bottom + 5:
                found[k].append((data["left"][i], token))
                break
    return [" ".join(t for _, t in sorted(words)) for words in found]


def grey_page(image: np.ndarray, dpi: int, prepared, rotated_by: int) -> np.ndarray:
    """The page as the OCR pass saw it (same size, turn and deskew), but grey, before binarisation.

    The preprocess stage's Otsu threshold breaks thin low-resolution glyphs
    (a 96 dpi `0` reads as `J`); the slots are re-binarised from grey here.
    """
    from pipeline.stages.preprocess import rotate_right_angle, rotate_small, upscale

    grey = rotate_small(rotate_right_angle(upscale(image, dpi)[0], prepared.rotated_by), prepared.deskewed_by)
    if rotated_by != prepared.rotated_by:  # the page read better turned by 180 degrees
        grey = rotate_right_angle(grey, 180)
    return grey if grey.shape == prepared.image.shape else prepared.image


def read_header_slots(image: np.ndarray, words: list[Word], slot_reader: SlotReader | None = None,
                      ) -> dict[str, list[str]]:
    """Readings of each header slot found: `{slot: ["reader|variant|text", ...]}`; {} when none is found.

    `words` (with boxes on `image`) may come from any engine; the slots are
    re-read by `slot_reader` (Tesseract by default: it can be held to digits).
    """
    slots = locate_slots(words, image.shape[0])
    hand = hand_readings(image, words) if READ_HANDWRITING else {}
    for slot in confirmed_by_hand(words, image.shape[0], hand):
        slots.pop(slot, None)
    readings: dict[str, list[str]] = {}
    for slot, (left, top, right, bottom) in slots.items():
        pad = max(4, int((bottom - top) * 0.35))
        crop = image[max(0, top - pad):bottom + pad, max(0, left - pad):right + pad]
        if crop.size == 0:
            continue
        named = variants(crop)
        for reader in SLOT_READERS[slot]:
            try:
                texts = read_stacked([im for _, im in named], reader, slot_reader)
            except (PageTimedOut, OcrFailed):  # no readings
                continue
            readings.setdefault(slot, []).extend(f"{reader}|{name}|{text}" for (name, _), text in zip(named, texts))
    readings.update(hand)
    return readings


def page_slot_digits(words: list[Word], page_height: int) -> dict[str, str]:
    """The digits the page pass read in the header's slots: `{"number": "3070", "day": "9", "month": "9"}`.

    The number's are the leading digits of the word after `Số:` (`3070.` -> `3070`);
    the day is the one word between `ngày` and `tháng`, the month the word after
    `tháng`, each only when it is digits alone.
    """
    found: dict[str, str] = {}
    for i, word in enumerate(words):
        if word.box is None or word.box[1] > page_height * HEADER_PART:
            continue
        if "number" not in found and SO_WORD_RE.match(word.text):
            rest = _line_words(words, i)
            digits = re.match(r"[0-9]+", rest[0].text) if rest else None
            found["number"] = digits.group(0) if digits else ""
        if "day" not in found and DATE_WORD_RE.match(word.text):
            rest = _line_words(words, i)
            texts = [w.text.rstrip(".,") for w in rest]
            if len(texts) >= 3 and MONTH_WORD_RE.match(texts[1]):
                found["day"] = texts[0] if re.fullmatch(r"[0-9]+", texts[0]) else ""
                found["month"] = texts[2] if re.fullmatch(r"[0-9]+", texts[2]) else ""
    return found


def confirmed_by_hand(words: list[Word], page_height: int, hand: dict[str, list[str]]) -> set[str]:
    """The slots (`number`; `date` and `day` together) whose digits the recogniser reads as the page pass did.

    Tesseract's close rereads (a third of a neural page's CPU) settle a slot the two
    read differently; where they agree and the recogniser is sure, they would only
    repeat it.
    """
    page = page_slot_digits(words, page_height)

    def agrees(slot: str) -> bool:
        raw = hand.get(f"hand_{slot}")
        if not raw or not page.get(slot):
            return False
        reading = json.loads(raw[0])
        value, confidence = reading.get("value"), float(reading.get("confidence") or 0.0)
        return (isinstance(value, str) and value.isdecimal() and confidence >= HAND_CONFIRMS
                and int(value) == int(page[slot]))

    confirmed = {"number"} if agrees("number") else set()
    if agrees("day") and agrees("month"):
        confirmed |= {"date", "day"}
    return confirmed


def hand_readings(image: np.ndarray, words: list[Word]) -> dict[str, list[str]]:
    """The project's digit recogniser's readings of the handwritten slots (`hand_number`, `hand_day`, `hand_month`).

    Every slot it finds is read, also one the page pass read cleanly: an engine can
    read a clerk's digits as other digits with full confidence (TrueOCR's `403` for a
    written `109`, `3` for `43`), and the extractor leaves a number or date null
    where the two readings differ.  Its own slot finder also finds slots
    `locate_slots` misses (`KH-SYT` whose slash OCR lost, `49ÿC04-P6` glued to the ink).
    """
    return read_handwriting(image, words)
