"""Recurring duties made concrete: one row per due date of the letter's year.

A task whose words recur (`định kỳ hằng quý, trước ngày 20 tháng cuối quý`,
`trước ngày 15 tháng 7 hằng năm`) is stored with its words in `recurrence`
and no deadline, as the record contract asks.  The analyst wants the dates:
`occurrences` reads the task's words with the period grammar
(extractors/periods.recurring_reports) for the year of its letter (each year
of a plan whose subject states them: `giai đoạn 2026 - 2030`) and gives one
row per due date, the label of the period in front of the text, the owner
(`responsible`) and the words that set it (`recurrence`) kept.  A task whose
words set no date stays one undated row.
"""

from __future__ import annotations

import re
from typing import Any

from extractors.periods import recurring_reports

__all__ = ["occurrences", "expand"]


# `Kế hoạch cải cách hành chính giai đoạn 2026 - 2030`: a plan's duties recur in each of its years.
PLAN_YEARS = re.compile(
    r"(?:giai đoạn|từ năm|năm)\s+((?:19|20)\d{2})\s*(?:[-–—]|đến(?: năm)?)\s*((?:19|20)\d{2})", re.I)
MAX_PLAN_YEARS = 10


def _years(row: dict[str, Any]) -> list[int]:
    """The years a recurring duty's dates are given for: the plan's years when its subject states a span
    (`giai đoạn 2026 - 2030`), else the letter's year, else the one year its words name."""
    span = PLAN_YEARS.search(row.get("subject") or "")
    if span:
        first, last = int(span.group(1)), int(span.group(2))
        if 0 <= last - first < MAX_PLAN_YEARS:
            return list(range(first, last + 1))
    issue = row.get("issue_date") or ""
    if re.match(r"(?:19|20)\d{2}-", issue):
        return [int(issue[:4])]
    stated = re.findall(r"\b((?:19|20)\d{2})\b", row.get("text") or "")
    return [int(stated[0])] if len(set(stated)) == 1 else []  # one year named: the plan's year


def occurrences(row: dict[str, Any]) -> list[dict[str, Any]]:
    """The due dates an undated recurring task row sets in its letter's year; [] when none."""
    if row.get("kind") != "task" or row.get("deadline") or not row.get("recurrence"):
        return []
    words = row["text"]
    if row["recurrence"] not in words:  # a table row keeps `Định kỳ hằng tháng` apart from its duty
        words = f"{row['recurrence']}, {words}"
    found = [c for year in _years(row) for c in recurring_reports(words, year)]
    out = []
    for c in found:
        copy = dict(row)
        copy["deadline"] = c.due
        copy["text"] = f"[{c.label}] {row['text']}"
        copy["recurrence"] = row["recurrence"] or c.recurrence
        copy["uid"] = f"{row['uid']}-{c.due}"
        out.append(copy)
    return out


def expand(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows with each recurring task that sets dates replaced by its dated occurrences."""
    out: list[dict[str, Any]] = []
    for row in rows:
        out.extend(occurrences(row) or [row])
    return out
