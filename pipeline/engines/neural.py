"""`neural`: TrueOCR's line detector and CTC line recogniser (ONNX Runtime, CPU).

TrueOCR (PyPI `trueocr`, Apache-2.0, pinned in pyproject.toml) ships four
small ONNX models inside its wheel (about 8 MB, nothing downloaded at run
time): a text-line detector, an orientation classifier, a reading-order model
and a Vietnamese CTC line recogniser.  On the dev letters it reads pages with
a third to a half of Tesseract's character errors at several times its speed
(BENCHMARKS.md, "OCR engines").

congvan calls the models itself rather than `TrueOCR.predict` for two reasons:

* word boxes: TrueOCR returns one box per line; here each character is
  placed at its CTC timestep, so every word gets its own box (and a
  confidence, the mean peak probability of its characters x 100), as the
  header slots, layout and table stages need;
* geometry: the page is read at 200 dpi at most (the recogniser reads lines
  32 px high; finer pages only cost detection time), turned and deskewed by
  TrueOCR's own models rather than congvan's preprocess stage (its ink-row
  deskew holds on phone photos with a dark desk round the sheet, where a
  bounding-box deskew goes wrong), and the straightened image is handed back
  with the words so their boxes have a page to refer to.

A page still read with low confidence is read again turned by 180 degrees
(`upright_confidence`), as with Tesseract.
"""

from __future__ import annotations

import math
import re
import time
import unicodedata
from dataclasses import dataclass, replace
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np

from pipeline.core.errors import MissingDependency
from pipeline.core.types import Word
from pipeline.core.vietnamese import SO_WORD_RE
from pipeline.engines import OcrFailed, PageReading, PageTimedOut
from pipeline.engines.ink_boxes import fit_words
from pipeline.engines.onnx_sessions import cpu_session

# The recogniser's mean peak probability on upright print is 0.93-0.99; on a
# page upside down, far lower (x 100, Tesseract's scale).
UPRIGHT_CONFIDENCE = 80.0
# Pages finer than this are read shrunk to it (boxes are given back in the
# page's own pixels): the recogniser reads lines 32 px high anyway, and on the
# dev pages 200 dpi reads as well as 300 at half the detection cost.
READ_DPI = 200
# The page handed back as the frame of the words (`straighten(keep_dpi=True)`) is at most this
# fine, the resolution the `tesseract` engine's pages and the slot, table and stamp readers
# are made for; a 600 dpi scan would only make them slower.
FRAME_DPI = 300
# Lines read in one ONNX call (TrueOCR groups them by width).
BATCH = 32
# Lines whose boxes overlap vertically by more than this share of the lower
# one's height are one text line (a header's two columns; split detections).
SAME_ROW = 0.5
# A horizontal gap wider than this x the line height starts a new block (the
# letter header's two columns); blocks are separated by a blank line.
COLUMN_GAP = 4.0
# Small print: lines lower than this share of the page's median line height (an
# e-signature's caption, `Người ký: ... Email: ... Thời gian ký: ...`, set at 6-7 pt
# beside 13-14 pt text) are found again on their region enlarged.  TrueOCR's detector
# sees the page shrunk to 1024 px, where such lines are 4-5 px high and run together
# (qd1373: four caption lines found as three, one of them two lines' garble).
SMALL_PRINT = 0.7
# ... enlarged to about the median line height, by at most this factor.
SMALL_PRINT_ZOOM = 3.0
# Pages with fewer lines have no median to speak of.
SMALL_PRINT_MIN_LINES = 8
# The line recogniser and the line detector run with ONNX Runtime's memory arena, which
# TrueOCR leaves off: buffers of one batch are reused by the next instead of allocated
# anew, about a tenth less CPU a page for about 200 MB more per worker (its size levels
# off within a few pages: batches are bounded by TrueOCR's widest line and largest batch).
ARENA_MODELS = ("rec.onnx", "det.onnx")


@dataclass(frozen=True)
class LineReading:
    """One detected line: its box (x0, y0, x1, y1), text, confidence 0..100 and words with boxes."""

    box: tuple[int, int, int, int]
    text: str
    confidence: float
    words: list[tuple[str, float, tuple[int, int, int, int]]]


def _import_trueocr():  # type: ignore[no-untyped-def,unused-ignore]
    try:
        import trueocr
        from trueocr import page, preprocess, recognizer
    except ImportError as error:
        raise MissingDependency(f"the neural OCR engine needs the package trueocr ({error}); "
                                "pip install 'trueocr==0.1.1'") from error
    return trueocr, page, preprocess, recognizer


class NeuralEngine:
    """`neural`: TrueOCR's ONNX models, one thread per worker process."""

    name = "neural"
    reads_grey = True
    # The page as loaded is straightened by TrueOCR's own deskew and orientation model (`straighten`),
    # not by the preprocess stage: the word boxes are on `PageReading.image`.
    straightens = True
    upright_confidence = UPRIGHT_CONFIDENCE
    # The restorer's channel learned from this engine's readings of rendered corpus pages (its mark slips).
    confusions = "trueocr"

    def __init__(self, threads: int = 1, model_dir: Path | None = None) -> None:
        trueocr, page, preprocess, recognizer = _import_trueocr()
        folder = Path(model_dir or Path(trueocr.__file__).parent / "models")
        self._pre = preprocess
        self._vertical = page.VERTICAL
        self._page = page.PageEngine(folder, threads=threads)
        self._rec = recognizer.Recognizer(folder, threads=threads)
        # TrueOCR's own sessions of these two are replaced (opening them again costs about 60 ms a worker).
        self._rec.session = cpu_session(folder / ARENA_MODELS[0], threads)
        self._page.det = cpu_session(folder / ARENA_MODELS[1], threads)

    def version(self) -> str:
        try:
            return f"trueocr {version('trueocr')} ({self._rec.name}, onnxruntime {version('onnxruntime')})"
        except PackageNotFoundError:
            return f"trueocr ({self._rec.name})"

    # -- reading ---------------------------------------------------------------------------

    def detect(self, gray: np.ndarray) -> list[tuple[int, int, int, int]]:
        """Line boxes (x0, y0, x1, y1) in the pixels of `gray`."""
        height, width = gray.shape
        boxes = []
        for x0, y0, x1, y1, _ in self._page.detect(gray):
            box = (max(0, math.floor(x0)), max(0, math.floor(y0)),
                   min(width, math.ceil(x1)), min(height, math.ceil(y1)))
            if box[2] > box[0] and box[3] > box[1]:
                boxes.append(box)
        return boxes

    def recognise(self, gray: np.ndarray, boxes: list[tuple[int, int, int, int]]) -> list[LineReading]:
        """Each box read as one line, its characters placed at their CTC timesteps."""
        rec, pre = self._rec, self._pre
        crops = [pre.prepare_image(gray[y0:y1, x0:x1], max_width=rec.max_width, pad_y=rec.pad_y, pad_x=rec.pad_x)
                 for x0, y0, x1, y1 in boxes]
        out: list[LineReading | None] = [None] * len(crops)
        for selected in pre.width_batches([c.shape[1] for c in crops], max_batch=BATCH):
            tensor, widths = pre.pad_batch([crops[i] for i in selected])
            ids, conf, lengths = rec.session.run(["ids", "conf", "lengths"], {"x": tensor, "widths": widths})
            for j, index in enumerate(selected):
                length = int(lengths[j])
                out[index] = self._line(boxes[index], ids[j, :length], conf[j, :length])
        return [line for line in out if line is not None]

    def _line(self, box: tuple[int, int, int, int], seq: np.ndarray, conf: np.ndarray) -> LineReading:
        """Greedy CTC decoding (blank = 0) with the timestep of each character kept."""
        x0, y0, x1, y1 = box
        h = max(1, y1 - y0)
        keep = (seq != 0) & np.concatenate(([True], seq[1:] != seq[:-1]))
        steps = np.flatnonzero(keep)
        chars = [self._rec.chars[int(seq[t]) - 1] for t in steps]
        # The recogniser saw the line widened by pad_x x its height on each side (prepare_gray).
        left = x0 - self._rec.pad_x * h
        span = (x1 - x0) + 2 * self._rec.pad_x * h
        step = span / max(1, len(seq))
        words: list[tuple[str, float, tuple[int, int, int, int]]] = []
        current: list[int] = []

        def edge(k: int, side: int) -> float:
            """x of the boundary between emitted character k and its neighbour on `side` (-1, +1)."""
            n = k + side
            if n < 0:
                return x0
            if n >= len(steps):
                return x1
            return left + ((steps[k] + steps[n]) / 2 + 0.5) * step

        def emit(part: list[int]) -> None:
            text = unicodedata.normalize("NFC", "".join(chars[k] for k in part))
            wx0 = int(max(x0, edge(part[0], -1)))
            wx1 = int(min(x1, edge(part[-1], +1)))
            score = float(np.mean([conf[steps[k]] for k in part])) * 100
            words.append((text, round(score, 2), (wx0, y0, max(1, wx1 - wx0), h)))

        def flush() -> None:
            if not current:
                return
            part = list(current)
            current.clear()
            while True:  # a token may hold more than one dropped space (`Sốf/TTr-`: `Số f /TTr-`)
                raw = "".join(chars[k] for k in part)
                previous = words[-1][0] if words else ""
                cut = ((missing_space(raw) or glued_syllables(raw) or date_word_cut(raw)
                        or number_slot_cut(raw, previous)) if unicodedata.normalize("NFC", raw) == raw else 0)
                if not cut:
                    emit(part)
                    return
                emit(part[:cut])
                part = part[cut:]

        for k, char in enumerate(chars):
            if char.isspace():
                flush()
            else:
                current.append(k)
        flush()
        text = re.sub(r"\s+", " ", " ".join(w[0] for w in words)).strip()
        confidence = float(conf[keep].mean()) * 100 if keep.any() else 0.0
        return LineReading(box=box, text=text, confidence=round(confidence, 2), words=words)

    def read_lines(self, image: np.ndarray, *, timeout_s: float, dpi: int | None = None) -> list[LineReading]:
        """The page's lines in reading order (rows top to bottom, columns left to right).

        A page finer than READ_DPI (`dpi`) is read from a copy shrunk to it; the
        lines' boxes are given in `image`'s own pixels all the same.
        """
        import cv2

        started = time.monotonic()
        gray: np.ndarray = np.ascontiguousarray(image if image.ndim == 2 else image[..., 0], dtype=np.uint8)
        if dpi and dpi > READ_DPI * 1.1:
            gray = cv2.resize(gray, None, fx=READ_DPI / dpi, fy=READ_DPI / dpi, interpolation=cv2.INTER_AREA)
        factor = image.shape[1] / gray.shape[1]
        try:
            boxes = self.detect(gray)
            if time.monotonic() - started > timeout_s:
                raise PageTimedOut(f"the neural engine stopped after {timeout_s:g} s")
            lines = self.recognise(gray, boxes) if boxes else []
            lines = self.small_print(gray, lines)
        except PageTimedOut:
            raise
        except Exception as error:  # ONNX Runtime's own errors, named in one line
            raise OcrFailed(f"trueocr: {type(error).__name__}: {error}") from error
        ordered = [line for line in self.reading_order(lines, gray.shape) if line.text]
        return ordered if factor == 1 else [scaled(line, factor) for line in ordered]

    def small_print(self, gray: np.ndarray, lines: list[LineReading]) -> list[LineReading]:
        """`lines` with those in regions of small print read again from the region enlarged.

        A region's new reading replaces its old lines when it holds more
        confidently read characters (characters x confidence); else the old stand.
        """
        import cv2

        if len(lines) < SMALL_PRINT_MIN_LINES:
            return lines
        height = float(np.median([line.box[3] - line.box[1] for line in lines]))
        small = [line for line in lines if line.box[3] - line.box[1] < SMALL_PRINT * height]
        if not small:
            return lines
        out = list(lines)
        # A line's first or last letters may lie outside its small box: the region reaches further sideways.
        for x0, y0, x1, y1 in _regions([line.box for line in small], round(2 * height), round(height / 2), gray.shape):
            inside = [line for line in out if line in small and _centre_inside(line.box, (x0, y0, x1, y1))]
            low = float(np.median([float(line.box[3] - line.box[1]) for line in inside] or [height]))
            zoom = min(SMALL_PRINT_ZOOM, height / max(low, 1.0))
            crop = cv2.resize(gray[y0:y1, x0:x1], None, fx=zoom, fy=zoom, interpolation=cv2.INTER_CUBIC)
            # On a white sheet of the page's size: the detector shrinks what it is given to a fixed size,
            # so the enlarged lines come to it as high as the page's own lines.
            sheet = np.full((max(gray.shape[0], crop.shape[0]), max(gray.shape[1], crop.shape[1])), 255, np.uint8)
            sheet[:crop.shape[0], :crop.shape[1]] = crop
            crop = sheet
            boxes = self.detect(crop)
            again = [_placed(line, 1 / zoom, x0, y0) for line in self.recognise(crop, boxes)] if boxes else []
            # Only the small lines are read again: a piece of an ordinary line the region takes in stays as read.
            kept = [line for line in out if line not in inside]
            again = [line for line in again if not any(_centre_inside(line.box, other.box) for other in kept)]
            if _sure_chars(again) > _sure_chars(inside):
                out = kept + again
        return out

    def reading_order(self, lines: list[LineReading], shape: tuple[int, ...]) -> list[LineReading]:
        """TrueOCR's reading-order model (a letter header's left column before its right one)."""
        if len(lines) < 2:
            return lines
        boxes = np.asarray([line.box for line in lines], np.float32).reshape(-1, 4)
        try:
            order = self._page.reading_order(boxes, [line.text for line in lines], (shape[1], shape[0]))
        except Exception:  # the geometric order is a sound reading of a letter too
            return order_lines(lines)
        return [lines[i] for i in order] if sorted(order) == list(range(len(lines))) else order_lines(lines)

    def straighten(self, image: np.ndarray, dpi: int, keep_dpi: bool = True) -> tuple[np.ndarray, int, int]:
        """The page turned upright and deskewed by TrueOCR's own models, at its own resolution.

        Returns (image, clockwise degrees turned, dpi of the image).  TrueOCR's
        deskew follows the rows of ink, which holds on photos (a dark desk
        round the sheet, a shadow) where a bounding-box deskew goes wrong.
        With `keep_dpi` the page keeps its resolution, FRAME_DPI at most (`read_lines` reads a copy at READ_DPI):
        it is the frame of the word boxes, in which the header slots, tables,
        red stamps and signer block are read again by Tesseract, as on the
        `tesseract` engine's 300 dpi pages (at 200 dpi the stamp `HỎA TỐC`
        of ct11 was not read at all).  Without, it is shrunk to READ_DPI first.
        """
        import cv2

        from pipeline.stages.preprocess import flatten_sheet

        gray: np.ndarray = np.ascontiguousarray(
            image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), dtype=np.uint8)
        # A phone photo of the whole sheet on a desk: perspective undone first (lines tilted differently
        # across the page are what TrueOCR's single deskew angle cannot straighten).
        gray = flatten_sheet(gray)
        limit = FRAME_DPI if keep_dpi else READ_DPI
        if dpi > limit * 1.1:
            gray = cv2.resize(gray, None, fx=limit / dpi, fy=limit / dpi, interpolation=cv2.INTER_AREA)
            dpi = limit
        straight, quarter_turns, _ = self._page.upright(gray, turn=True)
        # TrueOCR turns by quarter_turns x 90 degrees clockwise; VERTICAL (columns) by 90 counter-clockwise.
        turned = 270 if quarter_turns == self._vertical else (90 * quarter_turns) % 360
        return straight, turned, dpi

    def read_page(self, image: np.ndarray, dpi: int, *, timeout_s: float) -> PageReading:
        straight, turned, dpi = self.straighten(image, dpi)
        # Each word's box shrunk to its ink (TrueOCR gives only the line's), as Tesseract's are.
        lines = self.read_lines(straight, timeout_s=timeout_s, dpi=dpi)
        reading = page_reading([fitted(line, straight) for line in lines])
        return PageReading(text=reading.text, words=reading.words, image=straight, rotated_by=turned)


# The recogniser sometimes drops a space the page has: after a colon
# (`Số:142/QĐ-UBND`), a comma or a semicolon before a word (`Giao,ngày`,
# `2030;Nghị`), between a word and a number (`ngày29`) or a number and a
# lower-case word (`18tháng`).  Print never joins them, so the word is cut
# there (the header slots look for `Số:` and `ngày` as words of their own).
# A comma between digits (`1,5`) and codes in capitals (`10A`, `QĐ-TTg`) are left alone.
# `Số` run into the code after it (`Số2011/QĐ-UBND`; ttr298's handwritten number read as
# `Sốf/TTr-`) is cut after `Số`, so the header's number slot is found and read again.
# `S6:` is `Số:` with its `ố` read as `6` (the slot finders take `S6` for `Số` too), cut from
# what follows as `Số:` is (`S6:.152/KH-SYT`: the clerk's number and the code, glued).
_MISSING_SPACE = re.compile(r"^(?:[^\W\d_]{1,12}:(?=[^\s/:])|S6[:;](?=[^\s/:])|[^\W\d_]{2,12}(?=\d+[.,;:)]*$)"
                            r"|S[ốôóồổỗộo](?![cmnptiuy])(?=[^\s:]*/)|[^\s,;]*[^\W_][,;](?=[^\W\d_])|\d{1,4}(?=[a-zà-ỹđ]{2,}$))")


# A handwritten number between `Số` and its printed code, read as a letter or two glued to the
# code (`f/TTr-` for `298/TTr-`): cut before the slash, so the number's ink has a word of its own
# and the code's word starts at its slash, as Tesseract's words place them.  Codes are capitals
# (`HD/BTGDVTU`), so only a run with a small letter that is no syllable is cut; `V/v` has no
# capital after its slash.
_NUMBER_AS_LETTERS = re.compile(r"^[^\W\d_]{1,3}(?=/[A-ZĐ])")


def missing_space(token: str) -> int:
    """Where a space was dropped inside `token` (characters before the cut), or 0."""
    token = unicodedata.normalize("NFC", token)
    found = _MISSING_SPACE.match(token)
    if found and found.end() < len(token):
        return len(found.group(0))
    letters = _NUMBER_AS_LETTERS.match(token)
    if not letters or not any(c.islower() for c in letters.group(0)):
        return 0
    from pipeline.core.vietnamese import is_syllable_shape

    return 0 if is_syllable_shape(letters.group(0)) else len(letters.group(0))  # `nhà/Đất` is two words


# The date line's printed words run into the dotted leaders and the clerk's digits between
# them (`ngày.3..tháng`, `..năm`, `tháng72Q`, `-2Ịtháng01`): print sets them apart, so each
# is cut out as a word of its own (the header's slot finder looks for `ngày`, `tháng` and
# `năm` as words).  Not where a small letter touches it (`ngàyl`, a hand 1 read as `l`, is
# left whole for the slot finder to see as glued; `thángiêng` is no date word).
_DATE_WORD = re.compile(r"[nN]gày|tháng|năm")


def date_word_cut(token: str) -> int:
    """Where `token` is to be cut to free a glued `ngày`, `tháng` or `năm` (characters before the cut), or 0."""
    token = unicodedata.normalize("NFC", token)
    for found in _DATE_WORD.finditer(token):
        before = token[found.start() - 1] if found.start() else ""
        after = token[found.end()] if found.end() < len(token) else ""
        if before.islower() or after.islower():
            continue
        if found.start() > 0:
            return found.start()
        return found.end() if token[found.end():].strip(".,;:") else 0
    return 0


# The header's number run into its code (`390/C04-P6`, the clerk's `3980` read as `390`): cut at
# the code's slash, so the code's word starts at its slash and its box tells the slot finder
# where the number ends (a box spanning both leaves it to guess the slash by counting letters).
# Only right after `Số:`; a code with a year (`105/2021/NĐ-CP`) has a digit after its slash.
_NUMBER_BEFORE_CODE = re.compile(r"^[^\s/]{1,8}(?=/[A-ZĐ])")


def number_slot_cut(token: str, previous: str) -> int:
    """Where `token`, the word after `previous`, is cut between a letter's number and its code, or 0."""
    if not SO_WORD_RE.match(previous):
        return 0
    found = _NUMBER_BEFORE_CODE.match(unicodedata.normalize("NFC", token))
    return found.end() if found else 0


# The recogniser also runs two syllables together where the print has a narrow space
# (`SỞY TẾ` for `SỞ Y TẾ`, `HỒ CHÍMINH`, `côngnhiệm`, `OngNguyễn`): a word that is no
# Vietnamese syllable and not in the restorer's vocabulary is cut where both parts are
# syllables it knows, so the header's issuer (`SỞ Y TẾ` under its parent) reads as printed.
_SYLLABLES: frozenset[str] | None = None


def _syllables() -> frozenset[str]:
    """The restorer's vocabulary (its words of letters, lower case), loaded once."""
    global _SYLLABLES
    if _SYLLABLES is None:
        from pipeline.core.resources import model_dir
        from pipeline.stages.restore.lm import read_vocab

        words, _ = read_vocab(model_dir() / "restore" / "vocab.tsv.gz")
        _SYLLABLES = frozenset(w for w in words if w.isalpha())
    return _SYLLABLES


def glued_syllables(token: str) -> int:
    """Where `token` (letters only) is two known syllables run together (characters before the cut), or 0.

    Not cut: a syllable or a word the vocabulary knows (`nghiêng`, `email`), anything
    with a non-letter but trailing punctuation (`Nơinhận:`), and a word that splits
    more than one way (the cut would be a guess).
    """
    token = token.rstrip(".,;:!?)")
    if len(token) < 3 or not token.isalpha():
        return 0
    from pipeline.core.vietnamese import is_syllable_shape

    low = token.lower()
    known = _syllables()
    if is_syllable_shape(low) or low in known:
        return 0
    cuts = [k for k in range(1, len(low)) if low[:k] in known and low[k:] in known
            and is_syllable_shape(low[:k]) and is_syllable_shape(low[k:])]
    return cuts[0] if len(cuts) == 1 else 0


def scaled(line: LineReading, factor: float) -> LineReading:
    """The line with its boxes multiplied by `factor`."""
    def box(b: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
        return (round(b[0] * factor), round(b[1] * factor), round(b[2] * factor), round(b[3] * factor))

    return LineReading(box=box(line.box), text=line.text, confidence=line.confidence,
                       words=[(text, conf, box(b)) for text, conf, b in line.words])


def fitted(line: LineReading, page: np.ndarray) -> LineReading:
    """The line with each word's box shrunk to the ink under it (pipeline/engines/ink_boxes.py)."""
    grey = page if page.ndim == 2 else page[..., 0]
    boxes = fit_words(grey, line.box, [box for _, _, box in line.words])
    return replace(line, words=[(text, conf, box) for (text, conf, _), box in zip(line.words, boxes)])


def _placed(line: LineReading, factor: float, dx: int, dy: int) -> LineReading:
    """A line read on an enlarged crop, brought back onto the page: boxes x `factor`, then moved by (dx, dy)."""
    def box(b: tuple[int, int, int, int], corners: bool) -> tuple[int, int, int, int]:
        x, y, a, b2 = (round(v * factor) for v in b)
        return (x + dx, y + dy, a + dx, b2 + dy) if corners else (x + dx, y + dy, max(1, a), max(1, b2))

    return LineReading(box=box(line.box, True), text=line.text, confidence=line.confidence,
                       words=[(text, conf, box(b, False)) for text, conf, b in line.words])


def _regions(boxes: list[tuple[int, int, int, int]], pad_x: int, pad_y: int, shape: tuple[int, ...],
             ) -> list[tuple[int, int, int, int]]:
    """Boxes (x0, y0, x1, y1) grown by the pads and merged where they touch, clipped to the page."""
    grown = [(max(0, b[0] - pad_x), max(0, b[1] - pad_y), min(shape[1], b[2] + pad_x), min(shape[0], b[3] + pad_y))
             for b in boxes]
    merged = True
    while merged:
        merged = False
        for i in range(len(grown)):
            for j in range(i + 1, len(grown)):
                a, b = grown[i], grown[j]
                if a[0] <= b[2] and b[0] <= a[2] and a[1] <= b[3] and b[1] <= a[3]:
                    grown[i] = (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))
                    del grown[j]
                    merged = True
                    break
            if merged:
                break
    return grown


def _centre_inside(box: tuple[int, int, int, int], region: tuple[int, int, int, int]) -> bool:
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    return region[0] <= cx <= region[2] and region[1] <= cy <= region[3]


def _sure_chars(lines: list[LineReading]) -> float:
    """Characters read, each counted by its line's confidence (0..1)."""
    return sum(len(line.text.replace(" ", "")) * line.confidence / 100 for line in lines)


def order_lines(lines: list[LineReading]) -> list[LineReading]:
    """Reading order of a letter: rows top to bottom, boxes of one row left to right."""
    rows: list[list[LineReading]] = []
    for line in sorted(lines, key=lambda item: (item.box[1] + item.box[3]) / 2):
        if rows:
            last = rows[-1]
            top, bottom = min(o.box[1] for o in last), max(o.box[3] for o in last)
            overlap = min(bottom, line.box[3]) - max(top, line.box[1])
            if overlap > SAME_ROW * min(line.box[3] - line.box[1], bottom - top):
                last.append(line)
                continue
        rows.append([line])
    return [line for row in rows for line in sorted(row, key=lambda item: item.box[0])]


def page_reading(lines: list[LineReading]) -> PageReading:
    """Lines as a page: one text line per detected line; a blank line where a column or paragraph breaks."""
    text_lines: list[str] = []
    words: list[Word] = []
    previous: LineReading | None = None
    for line in lines:
        if previous is not None and _breaks(previous, line):
            text_lines.append("")
        for text, confidence, box in line.words:
            words.append(Word(text=text, confidence=confidence, line=len(text_lines), box=box))
        text_lines.append(line.text)
        previous = line
    return PageReading(text="\n".join(text_lines), words=words)


def _breaks(previous: LineReading, line: LineReading) -> bool:
    """A new block: back up the page (the next column), a column to the right, or a gap of over a line height."""
    height = max(1, previous.box[3] - previous.box[1])
    if line.box[1] < previous.box[1] - height / 2:
        return True
    if line.box[0] - previous.box[2] > COLUMN_GAP * height and line.box[1] < previous.box[3]:
        return True
    return line.box[1] - previous.box[3] > 1.2 * height
