"""Recurring duties made concrete: the due dates a recurring task sets in its letter's year.

A task whose words recur (`định kỳ hằng quý, trước ngày 20 tháng cuối quý`,
`trước ngày 15 tháng 7 hằng năm`) keeps its words in `recurrence` and no
deadline, as the record contract asks (one date would be a guess).  This
extractor (entry point `recurring`, run after `tasks`) reads those words with
the period grammar (periods.recurring_reports) for the year of the letter, or
for each year of a plan whose subject states them (`giai đoạn 2026 - 2030`),
and adds the record key `recurring_reports`: one `{task, label, due,
recurrence}` per due date, `task` being the task's index in `tasks`.  The
analyst's task list and calendar show one row per due date from it
(pipeline/analyst/recurring.py).  A letter without such dates gets no key.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from extractors.periods import letter_year, recurring_reports
from pipeline.core.extraction import Evidence
from pipeline.core.types import Task

__all__ = ["RecurringReportsExtractor", "occurrences", "plan_years"]

# `Kế hoạch cải cách hành chính giai đoạn 2026 - 2030`: a plan's duties recur in each of its years.
PLAN_YEARS = re.compile(
    r"(?:giai đoạn|từ năm|năm)\s+((?:19|20)\d{2})\s*(?:[-–—]|đến(?: năm)?)\s*((?:19|20)\d{2})", re.I)
MAX_PLAN_YEARS = 10


def plan_years(subject: str | None, year: int | None) -> list[int]:
    """The years recurring duties are given dates for: a plan's stated span, else the letter's year."""
    span = PLAN_YEARS.search(subject or "")
    if span:
        first, last = int(span.group(1)), int(span.group(2))
        if 0 <= last - first < MAX_PLAN_YEARS:
            return list(range(first, last + 1))
    return [year] if year else []


def occurrences(task: Task, years: list[int]) -> list[dict[str, Any]]:
    """`{label, due, recurrence}` for each due date an undated recurring task sets in `years`;
    `recurrence`: the words that set the dates (`hằng quý`), else the task's."""
    if task.deadline or not task.recurrence:
        return []
    words = task.text if task.recurrence in task.text else f"{task.recurrence}, {task.text}"
    return [{"label": c.label, "due": c.due, "recurrence": c.recurrence or task.recurrence}
            for year in years for c in recurring_reports(words, year)]


class RecurringReportsExtractor:
    """The due dates of recurring duties in the letter's year (or its plan's years)."""

    name: ClassVar[str] = "recurring"
    order: ClassVar[int] = 55  # after `tasks` (50)
    columns: ClassVar[dict[str, type]] = {"recurring_reports": str}

    def extract(self, evidence: Evidence) -> dict[str, Any]:
        tasks: list[Task] = evidence.found.get("tasks") or []
        year = letter_year(evidence.text, evidence.found.get("issue_date"))
        years = plan_years(evidence.found.get("subject"), year)
        found = [{"task": index, **occurrence}
                 for index, task in enumerate(tasks) for occurrence in occurrences(task, years)]
        return {"recurring_reports": found} if found else {}
