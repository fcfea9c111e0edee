"""Votes over alternative readings of the header's number and date slots.

`pipeline/header_read.py` reads the `Số:` slot and the `ngày … tháng … năm …`
line again from the page image, in many variants and with several recognisers
(`vie`, `eng`, `digits`); the page-wide pass counts as one more reading
(`page`).  A digit field (the number, the day, month or year) is accepted
only when the readings agree:

- a reading *supports* a value when it has the value's length and every digit
  it shows is the value's digit at that place (`{8` supports `18`: one glyph
  unread, one agreeing); it *contradicts* it when it shows a digit that
  differs or has another length (`2` against `02`: a glyph lost or added);
  a reading with no digit at all abstains;
- the value needs at least MIN_SUPPORT supporting readings, from at least two
  different recognisers, at least one reading it exactly, and contradictions
  at most MAX_CONTRADICTION of the supports.

Anything short of that is no value: the caller leaves the field null.  Wrong
non-null numbers and dates are the worst outcome; a split vote is not a guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MIN_SUPPORT = 3
MAX_CONTRADICTION = 0.25
MIN_RECOGNISERS = 2


@dataclass(frozen=True)
class Reading:
    reader: str  # vie, eng, digits, page
    variant: str
    token: str  # the glyphs read in the field's place, spaces removed


@dataclass(frozen=True)
class Vote:
    value: str | None
    support: int
    contradiction: int
    readers: tuple[str, ...]

    @property
    def confidence(self) -> float:
        """How clear the vote was (0..1); 0 when no value was accepted."""
        if self.value is None:
            return 0.0
        return round(min(0.9, 0.5 + 0.4 * (self.support - self.contradiction) / max(self.support, 1)), 2)


def _relation(token: str, value: str) -> int:
    """+1 supports, -1 contradicts, 0 abstains."""
    if not any(c.isdigit() for c in token):
        return 0
    if len(token) != len(value):
        return -1
    return 1 if all(t == v for t, v in zip(token, value) if t.isdigit()) else -1


def vote(readings: list[Reading]) -> Vote:
    """The digit string the readings agree on, or Vote(None, ...)."""
    candidates = sorted({r.token for r in readings if r.token.isdigit()})
    best = Vote(None, 0, 0, ())
    for value in candidates:
        relations = [(_relation(r.token, value), r) for r in readings]
        support = [r for rel, r in relations if rel > 0]
        contradiction = sum(1 for rel, _ in relations if rel < 0)
        readers = tuple(sorted({r.reader for r in support}))
        if len(support) > best.support:
            best = Vote(value, len(support), contradiction, readers)
    if (best.value is None or best.support < MIN_SUPPORT or len(best.readers) < MIN_RECOGNISERS
            or best.contradiction > MAX_CONTRADICTION * best.support):
        return Vote(None, best.support, best.contradiction, best.readers)
    return best


def split_reading(raw: str) -> tuple[str, str, str]:
    """`eng|otsu x2|02/2023/TB-LPQT` -> (reader, variant, text)."""
    reader, variant, text = (raw.split("|", 2) + ["", ""])[:3]
    return reader, variant, text


# ----------------------------------------------------------------------------- the number slot

def number_parts(text: str) -> tuple[str, str] | None:
    """(number glyphs, code) of a `Số:` slot reading: `409 /QĐ-BTC` -> ('409', 'QĐ-BTC')."""
    text = re.sub(r"^\s*S[ốoôóồỗộọò6ổ]\s*[:.;]", "", text.strip())
    if "/" not in text:
        return None
    head, code = text.split("/", 1)
    chunks = head.split()
    return (chunks[-1] if chunks else ""), re.sub(r"\s+", "", code)


def number_readings(raw: list[str], page_token: str | None) -> list[Reading]:
    out = []
    for item in raw:
        reader, variant, text = split_reading(item)
        parts = number_parts(text)
        if parts:
            out.append(Reading(reader, variant, parts[0]))
    if page_token is not None:
        out.append(Reading("page", "page", page_token))
    return out


def code_vote(raw: list[str]) -> tuple[str | None, int]:
    """The code most readings (of the letter-reading recognisers) give exactly, with its count."""
    counts: dict[str, set[str]] = {}
    tally: dict[str, int] = {}
    for item in raw:
        reader, variant, text = split_reading(item)
        parts = number_parts(text)
        if reader == "digits" or not parts or not parts[1]:
            continue
        tally[parts[1]] = tally.get(parts[1], 0) + 1
        counts.setdefault(parts[1], set()).add(reader)
    if not tally:
        return None, 0
    code = max(tally, key=lambda c: (tally[c], len(counts[c])))
    return code, tally[code]


# ----------------------------------------------------------------------------- the date line

_MONTH_WORD = re.compile(r"^th\S{0,3}n[gq]", re.I)
_YEAR_WORD = re.compile(r"^n\S{0,2}m", re.I)
_LEAD_WORD = re.compile(r"^[^\W\d_]{2,5}")


def date_parts(text: str) -> tuple[str, str, str] | None:
    """(day, month, year) glyphs of a date-line reading: `neav {8 thang OL nam 2023` -> ('{8', 'OL', '2023')."""
    tokens = text.split()
    month_at = next((i for i, t in enumerate(tokens) if i > 0 and _MONTH_WORD.match(t)), None)
    if month_at is None:
        return None
    year_at = next((i for i in range(month_at + 1, len(tokens)) if _YEAR_WORD.match(tokens[i])), None)
    if year_at is None:
        return None
    first = _LEAD_WORD.sub("", tokens[0], count=1)  # `ngày24` -> `24`
    day = first + "".join(tokens[1:month_at])
    month = _MONTH_WORD.sub("", tokens[month_at], count=1) + "".join(tokens[month_at + 1:year_at])
    year = _YEAR_WORD.sub("", tokens[year_at], count=1) + "".join(tokens[year_at + 1:])
    return day, month, year


def date_readings(raw_date: list[str], raw_day: list[str], page: tuple[str, str, str] | None
                  ) -> tuple[list[Reading], list[Reading], list[Reading]]:
    days, months, years = [], [], []
    for item in raw_date:
        reader, variant, text = split_reading(item)
        parts = date_parts(text)
        if parts:
            days.append(Reading(reader, variant, parts[0]))
            months.append(Reading(reader, variant, parts[1]))
            years.append(Reading(reader, variant, parts[2]))
    for item in raw_day:  # the day's own word, cropped alone
        reader, variant, text = split_reading(item)
        days.append(Reading(reader, "day " + variant, re.sub(r"\s+", "", text)))
    if page is not None:
        for store, token in zip((days, months, years), page):
            store.append(Reading("page", "page", token))
    return days, months, years


# ----------------------------------------------------------------------------- handwriting

# A handwritten value is stored only when the recogniser's confidence (the
# product of its digits' calibrated probabilities, the binarisations agreeing)
# reaches this.  Chosen on held-out handwriting made by the project (not on the
# dev letters, benchmarks/handwriting.py): at 0.80, 74% of slots are read and
# 3.0% of those are wrong; higher thresholds do not lower that (3.2-3.4%),
# because the errors left are segmentation errors (a digit lost or two merged)
# that the digit probabilities do not see; the structural checks (agreement of
# the binarisations, ink past a slot's edge, faint or broken ink, the
# signature's day) are what guard against those.
HAND_TRUST = 0.80
# A day the digital signature also gives (`Thời gian ký: 25.02.2021`) needs only this much.
HAND_AGREE = 0.50


@dataclass(frozen=True)
class HandValue:
    """A handwritten slot as the digit recogniser read it (pipeline/stages/handwriting.py)."""

    slot: str  # number, day, month
    value: str | None
    confidence: float
    box: tuple[int, ...]  # left, top, width, height on the page
    reason: str
    page: int = 1
    code: str | None = None  # the printed code beside the number slot, as the page pass read that word
    code_confidence: float = 0.0
    candidate: str | None = None  # the digits most binarisations read, also where no value is given
    candidate_confidence: float = 0.0
    variants: tuple[str, ...] = ()  # what each binarisation read (`?`: a glyph not a digit)

    @property
    def trusted(self) -> bool:
        return self.value is not None and self.confidence >= HAND_TRUST


def hand_value(readings: dict[str, list[str]] | None, slot: str) -> HandValue | None:
    """The recogniser's reading of `slot` from the page's header readings, if any."""
    import json

    raw = (readings or {}).get(f"hand_{slot}") or []
    if not raw:
        return None
    try:
        data = json.loads(raw[0])
        return HandValue(slot, data.get("value"), float(data.get("confidence", 0.0)), tuple(data.get("box", ())),
                         data.get("reason", ""), int(data.get("page", 1)), data.get("code"),
                         float(data.get("code_confidence", 0.0)), data.get("candidate"),
                         float(data.get("candidate_confidence", 0.0)), tuple(data.get("variants", ())))
    except (ValueError, TypeError, AttributeError):
        return None


def hand_number_ok(value: str) -> bool:
    """A registration number: 1-5 digits, no leading zero."""
    return value.isdigit() and 1 <= len(value) <= 5 and not value.startswith("0")
