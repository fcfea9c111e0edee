"""Field confidences from OCR word confidences.

A field is as sure as the least sure word it was read from: Tesseract's
confidence for a handwritten `109` is low even when the printed words around
it are high.  Born-digital text has no OCR confidences; its fields get the
rule's own confidence.  Words the restorer changed are not in the OCR table
under their restored form; they are looked up without marks as a fallback.
"""

from __future__ import annotations

import re

from pipeline.core.vietnamese import strip_diacritics

# Below this, a value read by OCR is not trusted enough to store (the field is
# left null and its confidence says why).
TRUST_THRESHOLD = 0.60
# Digits in the number and date slots are held to more: printed digits read
# at 0.9 and above, a handwritten `109` read as `409` at 0.66.
DIGIT_TRUST = 0.80
# A number glued to its code (`125/QĐ-HQHN`) reads lower as one OCR word even
# when right (Đ and the dash cost Tesseract confidence); its shape is checked too.
CODE_TRUST = 0.45
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
        for candidate in (token, token.strip(".,;:()")):
            if candidate and candidate in self.table:
                return self.table[candidate]
        token = token.strip(".,;:()")
        if not token:
            return None
        key = strip_diacritics(token).lower()
        if key in self.stripped:
            return self.stripped[key]
        # OCR glues punctuation to words and a number to its code (`1520/SGDĐTVP`):
        # a word read inside a longer OCR word has that word's confidence.
        if any(c.isdigit() for c in token) and len(token) >= 2:
            values = [v for k, v in self.table.items() if token in k]
            if values:
                return min(values)
        pieces = [p for p in re.split(r"[/\-]", token) if p]
        values = [self.table[p] for p in pieces if p in self.table]
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


def digits_trusted(wc: WordConfidence, text: str | None, threshold: float = TRUST_THRESHOLD) -> bool:
    """Whether every number-bearing word of `text` was read well enough to store (always, for digital text).

    Printed body digits misread by OCR (`quý II/2024` as `quý 1/2024` at 0.56)
    fall under TRUST_THRESHOLD; the handwritten header slots use DIGIT_TRUST.
    """
    if not text or not wc.is_ocr:
        return True
    for token in _TOKEN.findall(text):
        if any(c.isdigit() for c in token):
            value = wc.word(token)
            if value is not None and value < threshold:
                return False
    return True


def combine(rule: str | float, ocr: float | None) -> float:
    base = RULE_CONFIDENCE[rule] if isinstance(rule, str) else rule
    value = base if ocr is None else base * (0.5 + 0.5 * ocr) if ocr >= TRUST_THRESHOLD else min(base, ocr)
    return round(max(0.0, min(1.0, value)), 2)


# A list (recipients, references, periods) is right only when every item is: each item
# read by a rule carries its own small chance of a slip (an item split in two, a wrapped
# line joined to the wrong one).  Measured on the dev letters (benchmarks/results/extract-dev.md,
# lists table): lists of up to four items given >= 0.90 were all exactly right, longer ones
# one time in five not; about 2% per item.
ITEM_SLIP = 0.02


def list_confidence(confidence: float, items: int) -> float:
    """A list's confidence from its items' reading confidence: lower the more items it has."""
    if items <= 0:
        return 0.0
    return round(confidence * (1.0 - ITEM_SLIP) ** (items - 1), 2)
