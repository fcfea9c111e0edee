"""`cascade`: the neural engine reads the page; Tesseract re-reads only the lines it doubts.

`combined` reads every page twice (TrueOCR and a whole-page Tesseract pass)
and costs about Tesseract's time.  Most lines do not need it: TrueOCR reads
clean print at a mean peak probability of 0.97-1.00 and the restorer's
language model finds the reading likely.  Here a line is handed to Tesseract
(on its own crop of the straightened page, upscaled to about 300 dpi and
binarised as the `tesseract` engine's pages are: `CombinedEngine.read_crop`) only when

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

from pipeline.engines import PageReading
from pipeline.engines.combined import FRAME_AT_SOURCE_DPI, CombinedEngine, calibrate
from pipeline.engines.neural import LineReading, page_reading

# A line read with a lower mean peak probability (x 100) is checked by Tesseract.
CHECK_CONFIDENCE = 95.0
# A line whose language-model score (log P per character, `LineJudge.lm_score`) is under this is checked too.
CHECK_LM_SCORE = -2.0


class CascadeEngine(CombinedEngine):
    """`cascade`: TrueOCR's reading, with Tesseract's judged in on the lines TrueOCR doubts."""

    name = "cascade"

    def version(self) -> str:
        return (f"{self.neural.version()} + {self.tesseract.version()} on doubtful lines, "
                "judged by the restorer's trigram model")

    def read_page(self, image: np.ndarray, dpi: int, *, timeout_s: float) -> PageReading:
        straight, turned, straight_dpi = self.neural.straighten(image, dpi, keep_dpi=FRAME_AT_SOURCE_DPI)
        lines = self.neural.read_lines(straight, timeout_s=timeout_s, dpi=straight_dpi)
        reread = self.rereader(straight, straight_dpi, timeout_s)
        out = []
        for line in lines:
            if self.doubtful(line):
                words = self.read_crop(straight, line.box, straight_dpi, timeout_s=timeout_s)
                out.append(self.merge(line, words, reread) if words else calibrate(line, [], reread))
            else:
                out.append(line)
        reading = page_reading(out)
        return PageReading(text=reading.text, words=reading.words, image=straight, rotated_by=turned)

    def doubtful(self, line: LineReading) -> bool:
        """Whether Tesseract should read `line` too (see the module's docstring)."""
        if line.confidence < CHECK_CONFIDENCE or any(c.isdigit() for c in line.text):
            return True
        return self.judge.unknown_words(line.text) > 0 or self.judge.lm_score(line.text) < CHECK_LM_SCORE
