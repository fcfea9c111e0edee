"""Reporting periods: the data cut-off windows of periodic reports, and when each is due.

`- Báo cáo Quý I/2021: Thời gian chốt số liệu tính từ ngày 15/12/2020 đến ngày
10/3/2021` gives label, start and end.  Its due date is either stated inside
the item (`Thời hạn nhận báo cáo chậm nhất là ngày 15/11/2021`) or set by a
rule for the letter (`chậm nhất là ngày 13 của tháng cuối kỳ báo cáo (không
tính báo cáo năm)`), which puts it on that day of the period's last month.
"""

from __future__ import annotations

import re

from extractors.confidence import WordConfidence, digits_trusted
from extractors.dates import DATE, day_in_month, last_month_of_period, match_to_iso, parse_date
from extractors.text import flatten
from pipeline.core.types import ReportingPeriod

PERIOD_RE = re.compile(
    r"Báo cáo\s+(?P<label>[^:;]{3,70}?)\s*:\s*(?P<gap>(?:(?!(?-i:Báo cáo)\s).){0,220}?)"
    r"chốt số liệu\s+(?:tính\s+|được tính\s+)?từ\s+(?:ngày\s+)?(?P<start>" + DATE.replace("?P<", "?P<s_") + r")"
    r"\s+đến\s+(?:hết\s+)?(?:ngày\s+)?(?P<end>" + DATE.replace("?P<", "?P<e_") + r")",
    re.I,
)
DUE_IN_ITEM = re.compile(r"(?:chậm nhất|hạn)\s+(?:là\s+)?(?:ngày\s+)?(?P<date>\d{1,2}/\d{1,2}/\d{4})", re.I)
DUE_RULE = re.compile(r"chậm nhất\s+(?:là\s+)?(?:vào\s+)?ngày\s+(?P<day>\d{1,2})\s+(?:của\s+)?tháng\s+cuối\s+(?:kỳ|quý)", re.I)
# Words before the period name that are not part of its label.
LABEL_PREFIX = re.compile(r"^(?:tổng hợp|định kỳ|kết quả|tình hình|CCHC|công tác)\s+", re.I)
YEAR_LABEL = re.compile(r"^năm\s+\d{4}$", re.I)


def _iso(match: re.Match[str], prefix: str) -> str | None:
    groups = {k[len(prefix):]: v for k, v in match.groupdict().items() if k.startswith(prefix)}
    fake = _Groups(groups)
    return match_to_iso(fake)  # type: ignore[arg-type]


class _Groups:
    """Adapter so match_to_iso reads prefixed groups of a bigger match."""

    def __init__(self, groups: dict[str, str | None]):
        self.groups = groups

    def groupdict(self) -> dict[str, str | None]:
        return self.groups


def _label(raw: str) -> str:
    label = re.sub(r"\s+", " ", raw).strip(" -")
    while LABEL_PREFIX.match(label):
        label = LABEL_PREFIX.sub("", label, count=1)
    return label


def extract_periods(text: str, wc: WordConfidence | None = None) -> list[ReportingPeriod]:
    """Reporting periods; with OCR confidences, a period read from poor digits is not stored."""
    wc = wc or WordConfidence(None)
    flat = flatten(text)
    rule = DUE_RULE.search(flat)
    rule_day = int(rule.group("day")) if rule else None
    periods: list[ReportingPeriod] = []
    for match in PERIOD_RE.finditer(flat):
        label = _label(match.group("label"))
        start = _iso(match, "s_") if digits_trusted(wc, match.group("start")) else None
        end = _iso(match, "e_") if digits_trusted(wc, match.group("end")) else None
        due = None
        stated = DUE_IN_ITEM.search(match.group("gap"))
        if stated:
            due = parse_date(stated.group("date"))
        elif rule_day and not YEAR_LABEL.match(label) and digits_trusted(wc, label):
            last = last_month_of_period(label)
            if last:
                due = day_in_month(last[0], last[1], rule_day)
        periods.append(ReportingPeriod(label=label, start=start, end=end, due=due))
    return periods
