"""Vietnamese dates and deadlines, shared by every field family.

A date is parsed by dateparser (`languages=['vi']`, day-month-year order), and
only after a regex has found a complete day/month/year in the text: a date the
text does not state in full is never completed by guessing.  Period phrases
(`trong tháng 6/2021`, `quý 4/2021`, `6 tháng đầu năm 2021`) end on the last
day of their period, which is what an analyst means by their deadline.
"""

from __future__ import annotations

import calendar
import re
from datetime import date
from functools import lru_cache

import dateparser

DATEPARSER_SETTINGS = {"DATE_ORDER": "DMY", "REQUIRE_PARTS": ["day", "month", "year"],
                       "PREFER_DATES_FROM": "past"}

# A numeric date `30/3/2021`, `15-06-2021`, `12.08.2022`; 2-digit years are not used in letters.
NUMERIC_DATE = r"(?P<d>\d{1,2})\s*[/.\-]\s*(?P<m>\d{1,2})\s*[/.\-]\s*(?P<y>(?:19|20)\d{2})"
# The decree's written form `ngày 14 tháng 05 năm 2021` (the `ngày` is optional in running text).
WORDED_DATE = r"(?P<d2>\d{1,2})\s+tháng\s+(?P<m2>\d{1,2})\s+năm\s+(?P<y2>(?:19|20)\d{2})"
DATE = rf"(?:{NUMERIC_DATE}|{WORDED_DATE})"
DATE_RE = re.compile(DATE)

ROMAN = {"I": 1, "II": 2, "III": 3, "IV": 4}
QUARTER = r"(?P<q>IV|III|II|I|[1-4])"
YEAR = r"(?P<qy>(?:19|20)\d{2})"

# Period phrases that set a deadline at their end.  Order matters: the most
# specific first.  Each pattern names the groups end_of_period understands.
PERIOD_DEADLINES: list[tuple[str, re.Pattern[str]]] = [
    # `trong quý 4/2021`, `Quý III/2021`, `quý IV năm 2021`
    ("quarter", re.compile(rf"\bquý\s+{QUARTER}\s*(?:/|năm|-)\s*{YEAR}", re.I)),
    # `6 tháng đầu năm 2021` ends in June, `6 tháng cuối năm` in December, `9 tháng` in September
    ("months", re.compile(r"\b(?P<n>6|9)\s+tháng\s+(?P<half>đầu|cuối)?\s*năm\s+(?P<ny>(?:19|20)\d{2})", re.I)),
    # `trong tháng 6/2021`, `đến hết tháng 9/2021`, `tháng 6 năm 2021`
    ("month", re.compile(r"\btháng\s+(?P<mm>\d{1,2})\s*(?:/|năm|-)\s*(?P<my>(?:19|20)\d{2})", re.I)),
]


@lru_cache(maxsize=4096)
def _dateparser(text: str) -> date | None:
    parsed = dateparser.parse(text, languages=["vi"], settings=DATEPARSER_SETTINGS)
    return parsed.date() if parsed else None


def valid_dmy(day: int, month: int, year: int) -> bool:
    if not (1 <= month <= 12 and 1900 <= year <= 2100):
        return False
    return 1 <= day <= calendar.monthrange(year, month)[1]


def parts_to_iso(day: str, month: str, year: str) -> str | None:
    """ISO date from the three parts the text states, or None when they are not a date."""
    try:
        d, m, y = int(day), int(month), int(year)
    except ValueError:
        return None
    if not valid_dmy(d, m, y):
        return None
    parsed = _dateparser(f"{d:02d}/{m:02d}/{y}")
    return parsed.isoformat() if parsed else date(y, m, d).isoformat()


def match_to_iso(match: re.Match[str]) -> str | None:
    groups = match.groupdict()
    if groups.get("d") is not None:
        return parts_to_iso(groups["d"], groups["m"], groups["y"])
    if groups.get("d2") is not None:
        return parts_to_iso(groups["d2"], groups["m2"], groups["y2"])
    return None


def parse_date(text: str) -> str | None:
    """The first complete date in `text` as ISO, else None."""
    for match in DATE_RE.finditer(text):
        iso = match_to_iso(match)
        if iso:
            return iso
    return None


def find_dates(text: str) -> list[tuple[int, int, str]]:
    """Every complete date in `text`: (start, end, iso)."""
    found = []
    for match in DATE_RE.finditer(text):
        iso = match_to_iso(match)
        if iso:
            found.append((match.start(), match.end(), iso))
    return found


def month_end(year: int, month: int) -> str | None:
    if not (1 <= month <= 12 and 1900 <= year <= 2100):
        return None
    return date(year, month, calendar.monthrange(year, month)[1]).isoformat()


def quarter_number(text: str) -> int | None:
    text = text.upper()
    if text in ROMAN:
        return ROMAN[text]
    return int(text) if text.isdigit() and 1 <= int(text) <= 4 else None


def period_end(kind: str, match: re.Match[str]) -> str | None:
    """Last day of the period a PERIOD_DEADLINES match names."""
    g = match.groupdict()
    if kind == "quarter":
        q = quarter_number(g["q"])
        return month_end(int(g["qy"]), q * 3) if q else None
    if kind == "months":
        n = int(g["n"])
        last_month = 12 if (g.get("half") or "").lower() == "cuối" else n
        return month_end(int(g["ny"]), last_month)
    if kind == "month":
        return month_end(int(g["my"]), int(g["mm"]))
    return None


def last_month_of_period(label: str) -> tuple[int, int] | None:
    """(year, month) of the last month of a reporting period label, None for a year."""
    for kind, pattern in PERIOD_DEADLINES:
        match = pattern.search(label)
        if match:
            end = period_end(kind, match)
            if end:
                return int(end[:4]), int(end[5:7])
    return None


def day_in_month(year: int, month: int, day: int) -> str | None:
    return date(year, month, day).isoformat() if valid_dmy(day, month, year) else None
