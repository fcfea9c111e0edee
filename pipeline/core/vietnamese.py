"""Small facts about written Vietnamese that several stages share.

Written by hand because no maintained library exposes them: underthesea
tokenises and normalises, but has no "is this a Vietnamese syllable" test or a
reversible diacritic stripper that keeps `đ` apart from `d`.
"""

from __future__ import annotations

import re
import unicodedata

# Every vowel with every tone, grouped by base letter; the first of each row is
# the bare letter.  Used to strip and to recognise marks.
_VOWEL_ROWS = [
    "aàáảãạ", "ăằắẳẵặ", "âầấẩẫậ", "eèéẻẽẹ", "êềếểễệ", "iìíỉĩị",
    "oòóỏõọ", "ôồốổỗộ", "ơờớởỡợ", "uùúủũụ", "ưừứửữự", "yỳýỷỹỵ",
]
_BASE = {"ă": "a", "â": "a", "ê": "e", "ô": "o", "ơ": "o", "ư": "u"}

_STRIP: dict[str, str] = {"đ": "d", "Đ": "D"}
for row in _VOWEL_ROWS:
    base = _BASE.get(row[0], row[0])
    for char in row:
        _STRIP[char] = base
        _STRIP[char.upper()] = base.upper()
_STRIP_TABLE = str.maketrans(_STRIP)

VIETNAMESE_MARKED = frozenset(c for c, b in _STRIP.items() if c != b)

# A Vietnamese syllable without its marks: optional onset, one to three
# vowels, optional coda.  Loose on purpose (it accepts some non-words) because
# it only has to tell Vietnamese from other languages.
_SYLLABLE = re.compile(
    r"^(ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdghklmnprstvx])?"
    r"(a|e|i|o|u|y|ai|ao|au|ay|eo|eu|ia|ie|iu|oa|oe|oi|oo|ua|ue|ui|uo|uu|uy|"
    r"ieu|oai|oay|oeo|uoi|uou|uya|uye|uyu|yeu|ye)"
    r"(ch|ng|nh|[cmnpt])?$"
)
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
# The header's `Số:` as a word of its own, as OCR reads it: its `ố` read without or with
# another mark, or as `6`; the colon lost or read as a dot or a semicolon.
SO_WORD_RE = re.compile(r"^S[ốoôóồỗộọò6ổ][:.;]?$")


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def strip_diacritics(text: str) -> str:
    """`Kế hoạch Đức Cơ` -> `Ke hoach Duc Co`; length and casing are kept."""
    return nfc(text).translate(_STRIP_TABLE)


def has_diacritics(word: str) -> bool:
    return any(char in VIETNAMESE_MARKED for char in word)


def is_syllable_shape(word: str) -> bool:
    """True when `word`, marks removed, is shaped like a Vietnamese syllable."""
    return bool(_SYLLABLE.match(strip_diacritics(word).lower()))


def words(text: str) -> list[str]:
    return _WORD.findall(text)


def syllable_shape_ratio(text: str) -> float:
    """Share of alphabetic words shaped like Vietnamese syllables (0..1)."""
    tokens = [w for w in words(text) if not w.isupper() or len(w) > 1]
    if not tokens:
        return 0.0
    return sum(is_syllable_shape(w) for w in tokens) / len(tokens)


def diacritic_ratio(text: str) -> float:
    """Share of alphabetic words that carry a Vietnamese mark or `đ` (0..1).

    Running Vietnamese text sits around 0.5-0.7; text with its marks stripped
    or OCR'd by an English model sits near 0.
    """
    tokens = words(text)
    if not tokens:
        return 0.0
    return sum(has_diacritics(w) for w in tokens) / len(tokens)


def looks_vietnamese(text: str, min_words: int = 20) -> bool:
    """Whether a text is Vietnamese, with or without its marks.

    English, French or a garbage text layer falls well under 0.75 of syllable-
    shaped words; Vietnamese, even stripped or garbled by OCR, stays over it.
    """
    tokens = words(text)
    if len(tokens) < min_words:
        return False
    return syllable_shape_ratio(text) >= 0.75


def is_good_vietnamese_text(text: str) -> bool:
    """A text layer worth keeping: Vietnamese, with its marks in place."""
    return looks_vietnamese(text) and diacritic_ratio(text) >= 0.25


def hand_day_month_ok(value: str, top: int) -> bool:
    """A day (top 31) or month (top 12) as a clerk writes it: one or two digits, `0` only as a leading pad (`02`).

    Shared by the slot reader (pipeline/stages/handwriting.py), which reads the
    likeliest valid value where the glyphs read none, and the extractor, which stores only these.
    """
    return value.isdigit() and 1 <= len(value) <= 2 and 1 <= int(value) <= top
