"""`combined`: the neural engine and Tesseract read the page; the language model judges, line by line.

The engines are wrong in different places: TrueOCR slips on diacritics and
sometimes runs two words together (`sổ` for `số`, `côngnhiệm`), Tesseract
breaks on photos and stamps.  Here both read the page; TrueOCR's lines (its
detector finds them well, in reading order) are the skeleton, and Tesseract's
words are gathered into the same lines by their boxes.  Where the two
readings of a line differ, the differing stretch is judged by

    score = log P_LM(syllables of the stretch in its line) / characters
            + CONFIDENCE_WEIGHT x log(engine confidence of the stretch)

with the restorer's syllable trigram model (models/restore/lm3.npz): the
reading the language finds likelier wins, stretch by stretch, so the better
reading wins within a line, not page by page.  Numbers, codes and punctuation
the model cannot judge stay as the neural engine read them unless Tesseract
read the same characters.

It costs a Tesseract reading on top of the neural one (BENCHMARKS.md: about
Tesseract's speed); the `neural` engine alone is the fast choice.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable

import numpy as np

from pipeline.core.types import Word
from pipeline.engines import OcrFailed, PageReading, PageTimedOut, lines_of
from pipeline.engines.neural import LineReading, NeuralEngine, page_reading
from pipeline.engines.tesseract import LANGUAGE, TesseractEngine, words_to_text

# How much an engine's own confidence counts beside the language model.
CONFIDENCE_WEIGHT = 1.0
# log P of a word the model does not know.  The model's own <unk> is a frequent
# class (every rare word of the corpus), likelier than many real syllables, so a
# misread like `Sõ` would beat `Số`; an unknown word costs this instead.
UNKNOWN_WORD_LOGPROB = -20.0
# A Tesseract word belongs to the neural line whose box holds its centre,
# the box widened by this share of the line height.
LINE_SLACK = 0.15
# A Tesseract line that lies on no neural line is put in when its words'
# mean confidence reaches this (below it, it is mostly stamp and seal noise).
ORPHAN_CONFIDENCE = 75.0
# Where the two readings of a line share less than this (difflib ratio on
# words without marks), the whole line is judged rather than stretch by stretch.
WHOLE_LINE_RATIO = 0.5
# ... on lines of at least this many words: on a short line one word read as two
# (`SỞY TẾ` against `SỞ Y TẾ`) already brings the share under half.
WHOLE_LINE_MIN_WORDS = 4
# Margins round a box Tesseract re-reads alone, as shares of its height.  TrueOCR's
# line boxes already hold the marks and descenders; more above takes in the foot of
# the line above, which Tesseract then reads into this one (`SỞ Y TẾ` as `_SỞYTẾ.`).
CROP_PAD_Y = 0.15
CROP_PAD_X = 0.6
# The most confidence (0..100) a word with digits keeps where Tesseract read
# other digits there, or none even on the word's own crop: under the header
# slots' "read cleanly" floor and the extractor's trust in a number, so such a
# number is re-read and voted on (or left null) rather than stored.
UNCONFIRMED_DIGITS = 40.0
# Tesseract reads a line's or a word's crop as a block of text (page segmentation
# mode 6): as one line (7) it returns nothing at all for some crops that take in
# a sliver of the line above or below; as a block it reads the sliver apart,
# and only the words whose centre lies on the box are kept.
CROP_LAYOUT = 6
# The page both engines read, and the frame of the words, stays at READ_DPI (200) here, unlike the
# `neural` engine's (the page's own resolution): measured on the dev letters, `cascade` on a 300 dpi
# frame lost cv275's date and deadline (its Tesseract line and slot re-readings changed), 0.904 -> 0.892.
FRAME_AT_SOURCE_DPI = False

Box = tuple[int, int, int, int]
# Tesseract's words on the crop of a word box (left, top, width, height) of the straightened page.
Reread = Callable[[Box], list[Word]]


def _has_digit(text: str) -> bool:
    return any(c.isdigit() for c in text)


def _checked(word: tuple[str, float, Box], seen: list[Word], reread: Reread | None = None) -> tuple[str, float, Box]:
    """A word with its confidence calibrated against Tesseract's reading `seen` of the same stretch.

    The recogniser's peak probabilities are near 1 on anything it has read,
    handwriting included (qd109: a handwritten `109` read `409` at 0.9+);
    Tesseract's confidences fall on what it cannot read.  A word with digits
    (numbers and dates: a wrong one is worse than none) therefore takes
    Tesseract's confidence where Tesseract read the same characters, and at
    most `UNCONFIRMED_DIGITS` where it read others.  Where Tesseract read
    nothing there, the word's own crop is read by it first (`reread`).  Words
    without digits are left as they are.
    """
    text, conf, box = word
    if not _has_digit(text):
        return word
    if not seen and reread is not None:
        seen = reread(box)
    if not seen:
        return text, min(conf, UNCONFIRMED_DIGITS), box
    tess = _mean([w.confidence for w in seen])
    core = text.strip(".,;:()")
    agreed = core in "".join(w.text for w in seen)
    return text, round(min(conf, tess if agreed else min(tess, UNCONFIRMED_DIGITS)), 2), box


def calibrate(line: LineReading, others: list[Word], reread: Reread | None = None) -> LineReading:
    """`line` with its words with digits checked against Tesseract's `others` on the line (see `_checked`)."""
    if not any(_has_digit(w[0]) for w in line.words):
        return line
    words = [_checked(w, [o for o in others if _overlaps(o.box, w[2])], reread) for w in line.words]
    return LineReading(box=line.box, text=line.text, confidence=line.confidence, words=words)


def _overlaps(a: Box | None, b: Box) -> bool:
    """Whether two (left, top, width, height) boxes share some of their width."""
    return a is not None and min(a[0] + a[2], b[0] + b[2]) > max(a[0], b[0])


class LineJudge:
    """Scores readings of a line with the restorer's syllable trigram model."""

    def __init__(self) -> None:
        import pipeline.stages.restore as restore
        from pipeline.core.resources import model_dir
        from pipeline.stages.restore import lm as lmmod

        self._tokens = lmmod.lm_tokens
        self._unk, self._bos = lmmod.UNK_ID, lmmod.BOS_ID
        loaded = restore._engine
        if loaded is not None:  # this process restores too: share its model
            self._lm, self._ids = loaded.lm, loaded.ids
            return
        # Only the trigram model and its vocabulary (a worker needs no channels or candidate tables):
        # a third of the restorer's load time and memory.
        folder = model_dir() / "restore"
        self._lm = lmmod.NgramLM(folder / "lm3.npz")
        vocab, _ = lmmod.read_vocab(folder / "vocab.tsv.gz")
        self._ids = dict(zip(vocab, range(len(vocab))))

    def logprob(self, text: str) -> tuple[float, int]:
        """Total log P of the text's tokens (trigram with back-off) and the number of tokens."""
        tokens = self._tokens(text)
        ids = [self._ids.get(tok, self._unk) for tok in tokens]
        if not ids:
            return 0.0, 0
        seq = np.asarray([self._bos, self._bos] + ids, dtype=np.int64)
        u, v, w = seq[:-2], seq[1:-1], seq[2:]
        lp2, _, _ = self._lm.bigram(v, w)
        _, bow_uv, _ = self._lm.bigram(u, v)
        lp3, found3 = self._lm.trigram_keys(u, v, w)
        lp = np.where(found3, lp3, bow_uv + lp2)
        unknown = np.asarray([i == self._unk and tok.isalpha() for i, tok in zip(ids, tokens)])
        lp = np.where(unknown, UNKNOWN_WORD_LOGPROB, lp)
        return float(lp.sum()), len(ids)

    def unknown_words(self, text: str) -> int:
        """How many of the text's words (letters only) the model does not know: a misread or glued syllables."""
        return sum(1 for tok in self._tokens(text) if tok.isalpha() and self._ids.get(tok, self._unk) == self._unk)

    def lm_score(self, text: str) -> float:
        """Log-probability per character (not counting spaces); -inf for an empty text."""
        chars = sum(1 for c in text if not c.isspace())
        if not chars:
            return -math.inf
        return self.logprob(text)[0] / chars

    def score(self, text: str, confidence: float) -> float:
        """Log-probability per character, plus the weighted log of a 0..100 confidence."""
        chars = sum(1 for c in text if not c.isspace())
        if not chars:
            return -math.inf
        total, _ = self.logprob(text)
        return total / chars + CONFIDENCE_WEIGHT * math.log(max(confidence, 1.0) / 100.0)


def _centre_in(word: Word, box: tuple[int, int, int, int]) -> bool:
    if word.box is None:
        return False
    x0, y0, x1, y1 = box
    slack = LINE_SLACK * (y1 - y0)
    cx, cy = word.box[0] + word.box[2] / 2, word.box[1] + word.box[3] / 2
    return x0 - slack <= cx <= x1 + slack and y0 - slack <= cy <= y1 + slack


def _scaled_box(box: tuple[int, int, int, int] | None, factor: float) -> tuple[int, int, int, int] | None:
    if box is None:
        return None
    return (round(box[0] * factor), round(box[1] * factor), round(box[2] * factor), round(box[3] * factor))


def _as_line(words: list[Word]) -> LineReading:
    boxes = [w.box for w in words if w.box is not None]
    box = (min(b[0] for b in boxes), min(b[1] for b in boxes),
           max(b[0] + b[2] for b in boxes), max(b[1] + b[3] for b in boxes))
    return LineReading(box=box, text=" ".join(w.text for w in words),
                       confidence=round(_mean([w.confidence for w in words]), 2),
                       words=[(w.text, w.confidence, w.box or box) for w in words])


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0


class CombinedEngine:
    """`combined`: TrueOCR's lines, Tesseract's words where the language model prefers them."""

    name = "combined"
    reads_grey = True
    straightens = True
    upright_confidence = NeuralEngine.upright_confidence
    # Most of the text is TrueOCR's (Tesseract's wins a stretch only where the language model prefers it).
    confusions = NeuralEngine.confusions

    def __init__(self) -> None:
        self.neural = NeuralEngine()
        self.tesseract = TesseractEngine()
        self._judge: LineJudge | None = None

    @property
    def judge(self) -> LineJudge:
        if self._judge is None:
            self._judge = LineJudge()
        return self._judge

    @property
    def slot_reader(self) -> TesseractEngine:
        return self.tesseract

    def version(self) -> str:
        return f"{self.neural.version()} + {self.tesseract.version()}, judged by the restorer's trigram model"

    def read_page(self, image: np.ndarray, dpi: int, *, timeout_s: float) -> PageReading:
        import cv2

        from pipeline.stages.preprocess import TARGET_DPI, clean

        straight, turned, straight_dpi = self.neural.straighten(image, dpi, keep_dpi=FRAME_AT_SOURCE_DPI)
        lines = self.neural.read_lines(straight, timeout_s=timeout_s, dpi=straight_dpi)
        # Tesseract reads the same straightened page binarised at 300 dpi, as the `tesseract` engine would;
        # its boxes are brought back onto the straightened page.
        scale = TARGET_DPI / straight_dpi
        big = cv2.resize(straight, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC) if scale > 1.1 else straight
        scale = big.shape[1] / straight.shape[1]
        tess = self.tesseract.read_page(clean(big), round(straight_dpi * scale), timeout_s=timeout_s)
        words = [Word(w.text, w.confidence, w.line, _scaled_box(w.box, 1 / scale)) for w in tess.words]
        reading = page_reading(self.combine(lines, lines_of(words), self.rereader(straight, straight_dpi, timeout_s)))
        return PageReading(text=reading.text, words=reading.words, image=straight, rotated_by=turned)

    def rereader(self, page: np.ndarray, dpi: int, timeout_s: float) -> Reread:
        """Reads a word box (left, top, width, height) of `page` again with Tesseract, as one word."""
        def reread(box: Box) -> list[Word]:
            return self.read_crop(page, (box[0], box[1], box[0] + box[2], box[1] + box[3]), dpi,
                                  timeout_s=timeout_s)
        return reread

    def read_crop(self, page: np.ndarray, box: Box, dpi: int, *, timeout_s: float) -> list[Word]:
        """Tesseract's words on the crop of `box` (x0, y0, x1, y1) of `page`, their boxes on `page`.

        The crop is padded (marks above, descenders below), brought to about
        300 dpi and binarised as the `tesseract` engine's pages are; only the
        words whose centre lies within the box's height are kept.  [] when
        Tesseract reads nothing there or fails.
        """
        import cv2

        from pipeline.stages.preprocess import TARGET_DPI, clean

        x0, y0, x1, y1 = box
        h = max(1, y1 - y0)
        top, left = max(0, int(y0 - CROP_PAD_Y * h)), max(0, int(x0 - CROP_PAD_X * h))
        crop = page[top:min(page.shape[0], int(y1 + CROP_PAD_Y * h)), left:min(page.shape[1], int(x1 + CROP_PAD_X * h))]
        if crop.size == 0:
            return []
        scale = max(1.0, TARGET_DPI / max(dpi, 1))
        if scale > 1.05:
            crop = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
        try:
            data = self.tesseract.read_data(clean(crop), LANGUAGE, CROP_LAYOUT, timeout_s=timeout_s)
        except (OcrFailed, PageTimedOut):  # the neural reading stands
            return []
        _, words = words_to_text(data)
        out = []
        for word in words:
            if word.box is None or word.confidence < 0:
                continue
            placed = (left + round(word.box[0] / scale), top + round(word.box[1] / scale),
                      max(1, round(word.box[2] / scale)), max(1, round(word.box[3] / scale)))
            if y0 <= placed[1] + placed[3] / 2 <= y1:
                out.append(Word(word.text, word.confidence, word.line, placed))
        return out

    def combine(self, lines: list[LineReading], tess_lines: list[list[Word]], reread: Reread | None = None,
                ) -> list[LineReading]:
        """Each neural line with the stretches where Tesseract's reading is likelier put in.

        A Tesseract word goes to the neural line holding its centre.  Tesseract
        lines none of whose words found a neural line (a blurred stretch the
        neural detector missed) are put in as lines of their own, after the
        neural line above them, when they read confidently.
        """
        out = []
        taken: dict[int, list[Word]] = {}
        orphans: list[list[Word]] = []
        for tess_line in tess_lines:
            left_over = []
            for word in tess_line:
                index = next((i for i, line in enumerate(lines) if _centre_in(word, line.box)), None)
                if index is None:
                    left_over.append(word)
                else:
                    taken.setdefault(index, []).append(word)
            if left_over and len(left_over) == len(tess_line):
                orphans.append(left_over)
        for index, line in enumerate(lines):
            # In Tesseract's line order, then left to right: a neural box that took in two blurred lines
            # gets Tesseract's two lines one after the other, not their words interleaved.
            other = sorted(taken.get(index, []), key=lambda w: (w.line, w.box[0] if w.box else 0))
            out.append(self.merge(line, other, reread) if other else calibrate(line, [], reread))
        for orphan in orphans:
            if _mean([w.confidence for w in orphan]) < ORPHAN_CONFIDENCE or sum(len(w.text) for w in orphan) < 4:
                continue
            line = _as_line(orphan)
            above = [i for i, other in enumerate(out) if other.box[3] <= line.box[1] + (line.box[3] - line.box[1]) / 2
                     and min(other.box[2], line.box[2]) > max(other.box[0], line.box[0])]
            out.insert(max(above) + 1 if above else 0, line)
        return out

    def merge(self, line: LineReading, other: list[Word], reread: Reread | None = None) -> LineReading:
        """Align the two word sequences; where they differ, keep the stretch the judge scores higher.

        Words with digits get calibrated confidences (`_checked`), their crops
        re-read by `reread` where Tesseract's line has nothing in their place.
        """
        if not other:
            return calibrate(line, [], reread)
        ours = line.words
        a = [w[0] for w in ours]
        b = [w.text for w in other]
        if a == b:
            # The same words: their numbers are as sure as Tesseract's confidence in them.
            return LineReading(box=line.box, text=line.text, confidence=line.confidence,
                               words=[_checked(w, [o]) for w, o in zip(ours, other)])
        # Align on words without marks and case: the readings differ mostly in diacritics.
        from pipeline.core.vietnamese import strip_diacritics

        matcher = difflib.SequenceMatcher(a=[strip_diacritics(x).lower() for x in a],
                                          b=[strip_diacritics(x).lower() for x in b], autojunk=False)
        if matcher.ratio() < WHOLE_LINE_RATIO and min(len(a), len(b)) >= WHOLE_LINE_MIN_WORDS:
            whole = _as_line(other)
            judge = self.judge
            if judge.score(whole.text, whole.confidence) > judge.score(line.text, line.confidence):
                return LineReading(box=line.box, text=whole.text, confidence=whole.confidence, words=whole.words)
            return calibrate(line, other, reread)
        words: list[tuple[str, float, tuple[int, int, int, int]]] = []
        for op, i0, i1, j0, j1 in matcher.get_opcodes():
            mine = ours[i0:i1]
            theirs = other[j0:j1]
            if op == "equal":
                # Same letters: the marks may still differ word by word.
                for (text, conf, box), word in zip(mine, theirs):
                    kept = self._choose([(text, conf, box)], [word], a, i0, line) if text != word.text \
                        else (text, max(conf, word.confidence), box)
                    words.append(_checked(kept, [word]))
                    i0 += 1
                continue
            if not mine or not theirs:
                # One engine saw words the other did not: keep the neural reading (its line finder is the
                # better one); Tesseract's extra words on a neural line are mostly noise from stamps.
                words.extend(_checked(w, [], reread) for w in mine)
                continue
            pick = self._pick(mine, theirs, a, i0, i1, line)
            words.extend(_checked(w, theirs) for w in pick)
        text = " ".join(w[0] for w in words)
        return LineReading(box=line.box, text=text, confidence=round(_mean([w[1] for w in words]), 2), words=words)

    def _context(self, a: list[str], i0: int, i1: int, middle: str) -> str:
        """The stretch with two words of the neural line either side, for the trigram model."""
        return " ".join(a[max(0, i0 - 2):i0] + [middle] + a[i1:i1 + 2])

    def _pick(self, mine: list[tuple[str, float, tuple[int, int, int, int]]], theirs: list[Word],
              a: list[str], i0: int, i1: int, line: LineReading,
              ) -> list[tuple[str, float, tuple[int, int, int, int]]]:
        mine_text = " ".join(w[0] for w in mine)
        theirs_text = " ".join(w.text for w in theirs)
        if mine_text.replace(" ", "") == theirs_text.replace(" ", "") or len(theirs_text) <= 2 * len(mine_text) + 4:
            judge = self.judge
            ours_score = judge.score(self._context(a, i0, i1, mine_text), _mean([w[1] for w in mine]))
            their_score = judge.score(self._context(a, i0, i1, theirs_text), _mean([w.confidence for w in theirs]))
            if their_score > ours_score:
                return [(w.text, w.confidence, w.box or line.box) for w in theirs]
        return mine

    def _choose(self, mine: list[tuple[str, float, tuple[int, int, int, int]]], theirs: list[Word],
                a: list[str], i: int, line: LineReading) -> tuple[str, float, tuple[int, int, int, int]]:
        return self._pick(mine, theirs, a, i, i + 1, line)[0]
