"""Field confidences from OCR word confidences.

A field is as sure as the least sure word it was read from: Tesseract's
confidence for a handwritten `109` is low even when the printed words around
it are high.  Born-digital text has no OCR confidences; its fields get the
rule's own confidence.  Words the restorer changed are not in the OCR table
under their restored form; they are looked up without marks as a fallback.
"""

from __future__ import annotations

import re

from pipeline.vietnamese import strip_diacritics

# Below this, a value read by OCR is not trusted enough to store (the field is
# left null and its confidence says why).
TRUST_THRESHOLD = 0.60
# Digits in the number and date slots are held to more: printed digits read
# at 0.9 and above, a handwritten `109` read as `409` at 0.66.
DIGIT_TRUST = 0.80
# Rule confidences: how sure a rule is on perfect text.
RULE_CONFIDENCE = {
    "explicit": 0.97,   # the decree's own slot (Số:, the date line, the title line)
    "inferred": 0.80,   # from a neighbouring clue (V/v -> Công văn, type code)
    "fallback": 0.60,   # from elsewhere in the text (signature stamp, a later citation)
    "missing": 0.0,     # not stated, or not readable
}

_TOKEN = re.compile(r"[^\s,;:()]+")


class WordConfidence:
    """Lookup of the lowest OCR confidence of word forms (0..1)."""

    def __init__(self, table: dict[str, float] | None):
        self.table = dict(table or {})
        self.stripped: dict[str, float] = {}
        for word, value in self.table.items():
            key = strip_diacritics(word).lower()
            self.stripped[key] = min(value, self.stripped.get(key, 1.0))

    @property
    def is_ocr(self) -> bool:
        return bool(self.table)

    def word(self, token: str) -> float | None:
        token = token.strip(".,;:")
        if not token:
            return None
        if token in self.table:
            return self.table[token]
        key = strip_diacritics(token).lower()
        if key in self.stripped:
            return self.stripped[key]
        # OCR often glues punctuation or splits a code: try its pieces.
        pieces = [p for p in re.split(r"[/\-]", token) if p]
        values = [self.table.get(p) for p in pieces if p in self.table]
        return min(values) if values else None

    def span(self, text: str | None, how: str = "min") -> float | None:
        """Lowest (or mean, for long free text) confidence over the words of `text`.

        None when no word is known.  A long subject shares common words with
        the whole page, whose lowest reading anywhere says little about it.
        """
        if not text or not self.table:
            return None
        values = [v for v in (self.word(t) for t in _TOKEN.findall(text)) if v is not None]
        if not values:
            return None
        return min(values) if how == "min" else sum(values) / len(values)


def combine(rule: str | float, ocr: float | None) -> float:
    base = RULE_CONFIDENCE[rule] if isinstance(rule, str) else rule
    value = base if ocr is None else base * (0.5 + 0.5 * ocr) if ocr >= TRUST_THRESHOLD else min(base, ocr)
    return round(max(0.0, min(1.0, value)), 2)
