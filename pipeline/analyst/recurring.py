"""Recurring duties as one row per due date, from what extraction found.

The extract stage stores, for each letter with recurring duties whose words
set dates, the record key `recurring_reports` (extractors/recurring.py): one
`{task, label, due, recurrence}` per due date of the letter's year (or its
plan's years).  `expand` replaces each such undated task row of a listing by
one row per due date: the period's label in front of its text, its owner
(`responsible`) and words (`recurrence`) kept, a uid of its own.  A database
from before that key, or a task without dates, keeps its one undated row.
"""

from __future__ import annotations

import json
from typing import Any

from sqlite_utils import Database

__all__ = ["expand"]


def _dates(db: Database, document_ids: set[int]) -> dict[tuple[int, int], list[dict[str, Any]]]:
    """(document id, task position) -> its due dates."""
    if not document_ids or "recurring_reports" not in db.table("documents").columns_dict:
        return {}
    marks = ", ".join("?" for _ in document_ids)
    found: dict[tuple[int, int], list[dict[str, Any]]] = {}
    for doc_id, text in db.execute(
            f"select id, recurring_reports from documents where id in ({marks}) and recurring_reports is not null",
            sorted(document_ids)):
        try:
            items = json.loads(text)
        except (TypeError, ValueError):
            continue  # a damaged value must not break the listing
        for item in items if isinstance(items, list) else []:
            if isinstance(item, dict) and item.get("due") and isinstance(item.get("task"), int):
                found.setdefault((doc_id, item["task"]), []).append(item)
    return found


def _position(uid: str) -> int | None:
    tail = uid.rsplit("-", 1)[-1]
    return int(tail) if tail.isdigit() else None


def expand(db: Database, rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """uid of each undated recurring task row -> its rows, one per due date (absent: no dates)."""
    candidates = [r for r in rows if r["kind"] == "task" and not r["deadline"] and r["recurrence"]]
    dates = _dates(db, {r["document_id"] for r in candidates})
    out: dict[str, list[dict[str, Any]]] = {}
    for row in candidates:
        position = _position(row["uid"])
        items = dates.get((row["document_id"], position), []) if position is not None else []
        if items:
            out[row["uid"]] = [{**row, "deadline": item["due"], "text": f"[{item['label']}] {row['text']}",
                                "recurrence": item.get("recurrence") or row["recurrence"],
                                "uid": f"{row['uid']}-{item['due']}"} for item in items]
    return out
