"""Reporting periods: the data cut-off windows of periodic reports, and when each is due.

The language is parsed by the grammar in `period_grammar.py`; this module cuts
a letter into passages (bullets and enumerated items), finds the letter's year
and its due-date rule, and keeps what the record calls a reporting period.

- `- Báo cáo Quý I/2021: Thời gian chốt số liệu tính từ ngày 15/12/2020 đến
  ngày 10/3/2021` gives label, start and end; a list of named reports gives one
  period each, and `kỳ 6 tháng (từ ... đến ..., gửi trước ngày 20/6/2026)` its due.
- A window stated relative to the period (`từ ngày 15 tháng 12 của năm trước kỳ
  báo cáo đến ngày 14 tháng 3 của kỳ báo cáo`) is read for the period's year, taken
  from the label or, when the label states none, from the letter's year.
- One rule for several periods (`Báo cáo quý, 6 tháng và năm: chốt số liệu từ
  ngày 15 của tháng cuối quý trước đến ngày 14 của tháng cuối kỳ báo cáo`) gives
  every period of that year.
- A due date set once for the letter (`chậm nhất là ngày 13 của tháng cuối kỳ
  báo cáo (không tính báo cáo năm)`) goes to every named period without its own.

`reporting_periods` holds the periods with a window (the spec's data cut-off
windows).  A recurring duty with only a due date (`định kỳ hằng quý, trước
ngày 20 tháng cuối quý`) stays a task with its words in `recurrence`;
`recurring_reports` turns such words into the due dates of one year, which is
what the analyst's task list and calendar show (pipeline/analyst/query.py).
"""

from __future__ import annotations

import re
from collections import Counter

from extractors.confidence import WordConfidence, digits_trusted
from extractors.period_grammar import Concrete, DayRef, Stream, due_at, exclusions, scan
from extractors.text import clean_lines
from pipeline.core.types import ReportingPeriod

__all__ = ["extract_periods", "recurring_reports", "letter_year", "passages"]

# A new passage at each bullet or enumerator, as letters lay out their lists.
ITEM_START = re.compile(r"^(?:[\-–—+•*]\s*|\d{1,2}(?:\.\d{1,2})*\.\s+|[a-zđ][).]\s+|[IVX]{1,5}\.\s+)")
# The letter's own date line (`Hà Nội, ngày 24 tháng 02 năm 2026`).
DATE_LINE = re.compile(r"ngày\s+\d{1,2}\s+tháng\s+\d{1,2}\s+năm\s+((?:19|20)\d{2})", re.I)
LABEL_YEAR = re.compile(r"(?:quý\s+\w+|tháng|năm)\s*(?:/|năm)?\s*((?:19|20)\d{2})", re.I)


def passages(text: str) -> list[str]:
    """The letter's bullets and items, each one passage of flowing text."""
    items: list[str] = []
    current: list[str] = []
    for line in clean_lines(text):
        if not line:
            continue
        if ITEM_START.match(line) and current:
            items.append(" ".join(current))
            current = []
        current.append(line)
    if current:
        items.append(" ".join(current))
    return [re.sub(r"\s+", " ", item).strip() for item in items]


def letter_year(text: str, issue_date: str | None = None) -> int | None:
    """The year periods without one are read in: the issue date's, else the date line's
    near the top, else the year most period labels state (`Quý I/2021`, `năm 2021`)."""
    if issue_date and re.match(r"\d{4}-", issue_date):
        return int(issue_date[:4])
    top = DATE_LINE.search(text[:1500])
    if top:
        return int(top.group(1))
    years = Counter(int(m.group(1)) for m in LABEL_YEAR.finditer(text))
    return years.most_common(1)[0][0] if years else None


def _rule(items: list[str]) -> tuple[DayRef, frozenset[str]] | None:
    """The letter's due-date rule: a due relative to the period (`ngày 13 của tháng cuối kỳ báo cáo`)
    in a passage that names no period of its own."""
    for item in items:
        if not re.search(r"kỳ|quý|tháng cuối|tháng sau|tháng đầu", item, re.I):
            continue
        text, excluded = exclusions(item)
        s = Stream(text)
        for i in range(len(s.toks)):
            found = due_at(s, i)
            if found and found[0].month and found[0].month.mode not in ("abs", "bare") \
                    and not found[0].month.kinds:
                if not any(c.explicit for c in scan(item, 2000)):
                    return found[0], excluded
    return None


# `1. Đối với UBND các xã, thị trấn` / `b) Đối với các phòng ... thực hiện báo cáo như sau:`: whose reports follow.
OWNER_HEADING = re.compile(
    r"^(?:\d{1,2}(?:\.\d{1,2})*\.|[a-zđ][).])\s*Đối với\s+(?P<x>.+?)(?:\s+(?:thực hiện|như sau)\b.*)?:?$", re.I)
SECTION = re.compile(r"^(?:[IVX]{1,5}\.|Phần\s|Chương\s|Điều\s+\d+)", re.I)
UNIT = r"(?:Ủy ban|UBND|Sở|Phòng|Bộ|Cục|Văn phòng|Ban|Thường trực|Chi cục|Trung tâm|Tổng cục|Hội đồng|Công an)"
# `gửi UBND huyện (qua Phòng Nội vụ)`, `gửi về Cục Cảnh sát ..., Bộ Công an`, `gửi đến Phòng Nội vụ qua hệ thống`.
RECEIVER = re.compile(
    rf"\bgửi\s+(?:(?:báo cáo|kết quả)\s+)?(?:về|đến|cho|tới)?\s*(?P<to>{UNIT}\b[^;:.(),]*?(?:,\s*{UNIT}\b[^;:.(),]*?)?)"
    r"(?:\s*\((?P<via>(?:qua|thông qua)\s[^)]{3,80})\))?"
    r"(?=\s*(?:\(|để|trước|chậm|qua|theo|trong|thông qua|,|;|\.|$))")


def _clean(unit: str | None, limit: int = 160) -> str | None:
    if not unit:
        return None
    unit = re.sub(r"\s+", " ", unit).strip(" ,;:.-")
    return unit if 2 <= len(unit) <= limit else None


def _owner(items: list[str], index: int) -> str | None:
    """Who sends the reports of passage `index`: the unit opening it (`Các đơn vị, địa phương báo cáo ...`),
    else the nearest `Đối với <unit>` heading above it in its section."""
    from extractors.spans import unit_before_duty

    body = ITEM_START.sub("", items[index], count=1)
    unit = unit_before_duty(body)
    if unit:
        return _clean(unit)
    for k in range(index, max(-1, index - 25), -1):
        heading = OWNER_HEADING.match(items[k])
        if heading:
            return _clean(re.sub(r"\s*\([^)]*\)\s*", " ", heading.group("x")))
        if k < index and SECTION.match(items[k]):
            break
    return None


def _receiver(items: list[str], index: int) -> str | None:
    """Whom the reports of passage `index` go to: `gửi ...` in it, else in the passages above it
    back to the owner's heading (`gửi UBND huyện (qua Phòng Nội vụ)`)."""
    for k in range(index, max(-1, index - 25), -1):
        found = RECEIVER.search(items[k])
        if found:
            to = _clean(found.group("to"), 120)
            if to and found.group("via"):
                to = f"{to} ({found.group('via').strip()})"
            return to
        if k < index and (OWNER_HEADING.match(items[k]) or SECTION.match(items[k])):
            break
    return None


def _trusted(wc: WordConfidence, item: str, c: Concrete) -> bool:
    """A period whose dates or label were read from poorly read digits is not stored."""
    dates = " ".join(re.findall(r"\d{1,2}\s*/\s*\d{1,2}(?:\s*/\s*\d{4})?", item))
    return digits_trusted(wc, dates) and digits_trusted(wc, c.label)


def extract_periods(text: str, wc: WordConfidence | None = None, *, issue_date: str | None = None,
                    year: int | None = None) -> list[ReportingPeriod]:
    """Reporting periods with their windows and due dates, in the order the letter gives them.

    `issue_date` / `year`: the year periods without one are read in (found in
    the text when not given).  With OCR confidences, a period read from poor
    digits is not stored.
    """
    wc = wc or WordConfidence(None)
    items = passages(text)
    year = year or letter_year(text, issue_date)
    rule = _rule(items)
    periods: list[ReportingPeriod] = []
    seen: set[tuple[str, str | None, str | None, str | None]] = set()
    for index, item in enumerate(items):
        if not re.search(r"\bt[ừùúuư]\b", item, re.I):
            continue  # no window in it (`từ`, or as OCR bends it)
        owner = receiver = None
        for c in scan(item, year, rule=rule[0] if rule else None,
                      rule_excludes=rule[1] if rule else frozenset()):
            if not (c.start or c.end) or not _trusted(wc, item, c):
                continue
            key = (c.label, c.start, c.end, c.due)
            if key in seen:
                continue
            seen.add(key)
            if owner is None and receiver is None:
                owner, receiver = _owner(items, index), _receiver(items, index)
            periods.append(ReportingPeriod(label=c.label, start=c.start, end=c.end, due=c.due,
                                           owner=owner, receiver=receiver))
    return periods


def recurring_reports(text: str, year: int | None) -> list[Concrete]:
    """The due dates a recurring duty's words set in `year`: `định kỳ hằng quý, trước ngày 20 tháng
    cuối quý` -> Quý I-IV with their dues; `trước ngày 15 tháng 7 hằng năm` -> one.  Each keeps the
    words that make it recur in `recurrence`.  [] when the words set no date."""
    if year is None:
        return []
    found = [c for c in scan(text, year) if c.due and (not c.explicit or c.recurrence)]
    return found
