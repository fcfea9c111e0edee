"""`cascade`: the neural engine reads the page; Tesseract re-reads only the lines it doubts.

`combined` reads every page twice (TrueOCR and a whole-page Tesseract pass)
and costs about Tesseract's time.  Most lines do not need it: TrueOCR reads
clean print at a mean peak probability of 0.97-1.00 and the restorer's
language model finds the reading likely.  Here a line is handed to Tesseract
(psm 7, one text line, on its own crop of the straightened page, upscaled to
about 300 dpi and binarised as the `tesseract` engine's pages are) only when

* the recogniser is unsure of it (line confidence under `CHECK_CONFIDENCE`),
* or the restorer's language model does not know one of its words (glued
  syllables such as `SỞYTẾ`, a misread mark), or finds the line unlikely
  (log P per character under `CHECK_LM_SCORE`),
* or it holds digits: numbers, dates and references, where a wrong reading
  is worse than none, and where the number and date slots are often
  handwritten (the recogniser's probabilities on handwriting are not
  calibrated, Tesseract's are, and the slot re-reading and the extractor
  decide on those confidences).

The two readings of a checked line are judged stretch by stretch by the
language model exactly as in `combined` (`CombinedEngine.merge`).  Word
confidences follow `calibrate`: a word with digits takes the lower of the two
engines' confidences, so a number stored from the page pass is one Tesseract
confirms with its own, calibrated, confidence.
"""

from __future__ import annotations

import numpy as np

from pipeline.core.types import Word
from pipeline.engines import OcrFailed, PageReading, PageTimedOut
from pipeline.engines.combined import CombinedEngine, calibrate
from pipeline.engines.neural import LineReading, page_reading
from pipeline.engines.tesseract import LANGUAGE, words_to_text

# A line read with a lower mean peak probability (x 100) is checked by Tesseract.
CHECK_CONFIDENCE = 95.0
# A line whose language-model score (log P per character, `LineJudge.lm_score`) is under this is checked too.
CHECK_LM_SCORE = -2.0
# Tesseract reads line crops at this resolution (its LSTM reads marks badly under ~25 px per capital).
LINE_DPI = 300
# Crop margins round a line box, as shares of its height (marks above, descenders below).
PAD_Y = 0.3
PAD_X = 0.6
# A box taller than this x the page's median line height holds two lines (a merged detection): psm 6.
TALL_LINE = 1.7
SINGLE_LINE, BLOCK = 7, 6


class CascadeEngine(CombinedEngine):
    """`cascade`: TrueOCR's reading, with Tesseract's judged in on the lines TrueOCR doubts."""

    name = "cascade"

    def version(self) -> str:
        return (f"{self.neural.version()} + {self.tesseract.version()} on doubtful lines, "
                "judged by the restorer's trigram model")

    def read_page(self, image: np.ndarray, dpi: int, *, timeout_s: float) -> PageReading:
        straight, turned, straight_dpi = self.neural.straighten(image, dpi)
        lines = self.neural.read_lines(straight, timeout_s=timeout_s)
        heights = sorted(line.box[3] - line.box[1] for line in lines)
        median = heights[len(heights) // 2] if heights else 0
        out = []
        for line in lines:
            if self.doubtful(line):
                words = self.read_line(straight, line.box, straight_dpi, tall=line.box[3] - line.box[1] > TALL_LINE
                                       * median, timeout_s=timeout_s)
                out.append(self.merge(line, words) if words else calibrate(line, []))
            else:
                out.append(line)
        reading = page_reading(out)
        return PageReading(text=reading.text, words=reading.words, image=straight, rotated_by=turned)

    def doubtful(self, line: LineReading) -> bool:
        """Whether Tesseract should read `line` too (see the module's docstring)."""
        if line.confidence < CHECK_CONFIDENCE or any(c.isdigit() for c in line.text):
            return True
        return self.judge.unknown_words(line.text) > 0 or self.judge.lm_score(line.text) < CHECK_LM_SCORE

    def read_line(self, page: np.ndarray, box: tuple[int, int, int, int], dpi: int, *, tall: bool,
                  timeout_s: float) -> list[Word]:
        """Tesseract's words on the line's crop, their boxes on `page`; [] when it reads nothing."""
        import cv2

        from pipeline.stages.preprocess import clean

        x0, y0, x1, y1 = box
        h = max(1, y1 - y0)
        top, left = max(0, int(y0 - PAD_Y * h)), max(0, int(x0 - PAD_X * h))
        crop = page[top:min(page.shape[0], int(y1 + PAD_Y * h)), left:min(page.shape[1], int(x1 + PAD_X * h))]
        if crop.size == 0:
            return []
        scale = max(1.0, LINE_DPI / max(dpi, 1))
        if scale > 1.05:
            crop = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
        try:
            data = self.tesseract.read_data(clean(crop), LANGUAGE, BLOCK if tall else SINGLE_LINE,
                                            timeout_s=timeout_s)
        except (OcrFailed, PageTimedOut):  # the neural reading of the line stands
            return []
        _, words = words_to_text(data)
        return [Word(w.text, w.confidence, w.line,
                     (left + round(w.box[0] / scale), top + round(w.box[1] / scale),
                      max(1, round(w.box[2] / scale)), max(1, round(w.box[3] / scale))) if w.box else None)
                for w in words if w.confidence >= 0]
