"""Corrections: a person's fix of a field, kept in the database with its history.

A correction is **written through** to the row (`documents.doc_number`,
`tasks.deadline`, …) and recorded in the `corrections` table (document, task,
field, old value, new value, who, when).  Written through rather than applied
on read because every reader of the database (Datasette's tables, facets and
canned queries, full-text search, `congvan tasks`, the exports, a notebook)
then sees the corrected value with no join to remember; the table is the
history, and the source from which `congvan ingest --reprocess` puts every fix
back after re-extraction has rewritten the rows (`reapply`).

Task corrections are tied to the task's position in its letter (and its text
at the time), because re-extraction gives tasks new ids.  Marking a task done
or reopening it is a correction of the task's `status` (`done` / `open`); the
task row carries `done_at` and `done_by`.  A correction whose new value equals
the old one confirms a field: the review queue no longer asks about it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlite_utils import Database

from pipeline.core.errors import UsageError

__all__ = [
    "DOCUMENT_FIELDS", "TASK_FIELDS", "DATE_FIELDS", "Correction", "ensure_tables", "resolve_document",
    "resolve_task", "normalise", "correct_document", "correct_task", "set_task_done", "history",
    "reapply", "confirmed_fields",
]

# Field -> label shown in the desk and in `congvan correct --help`.
DOCUMENT_FIELDS: dict[str, str] = {
    "doc_number": "Số, ký hiệu / Number",
    "issue_date": "Ngày ban hành / Date",
    "issuer": "Cơ quan ban hành / Issuer",
    "subject": "Trích yếu / Subject",
    "doc_type": "Loại văn bản / Type",
    "issuer_parent": "Cơ quan chủ quản / Parent authority",
    "place": "Địa danh / Place",
    "signer_name": "Người ký / Signed by",
    "signer_title": "Chức vụ / Signer's title",
    "signer_authority": "Thẩm quyền ký / Authority",
    "received_number": "Số đến / Received number",
    "received_date": "Ngày đến / Received date",
    "urgency": "Độ khẩn / Urgency",
}
TASK_FIELDS: dict[str, str] = {
    "text": "Nội dung / Task",
    "responsible": "Chủ trì / Responsible",
    "cooperating": "Phối hợp / Cooperating",
    "start": "Bắt đầu / Start",
    "deadline": "Hạn / Deadline",
    "recurrence": "Định kỳ / Recurrence",
    "status": "Trạng thái / Status (done, open)",
}
DATE_FIELDS = frozenset({"issue_date", "received_date", "start", "deadline"})
# The fields that identify a letter: the review queue asks about these.
IDENTITY_FIELDS = ("doc_number", "issue_date", "issuer", "subject")

_TASK_REF = re.compile(r"^task-([0-9a-f]{16})-(\d+)$")
_DMY = re.compile(r"^\s*(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})\s*$")


@dataclass(frozen=True)
class Correction:
    document_id: int
    task_id: int | None
    field: str
    old_value: str | None
    new_value: str | None
    by: str
    at: str

    @property
    def changed(self) -> bool:
        return self.old_value != self.new_value


def _now() -> str:
    return datetime.now(UTC).astimezone().isoformat(timespec="seconds")


def ensure_tables(db: Database) -> None:
    """Create `corrections` and the task status columns when missing (old databases gain them)."""
    if "corrections" not in db.table_names():
        db.table("corrections").create(
            {"id": int, "document_id": int, "task_id": int, "task_position": int, "task_text": str,
             "field": str, "old_value": str, "new_value": str, "by": str, "at": str},
            pk="id", foreign_keys=[("document_id", "documents", "id")],
        )
        db.table("corrections").create_index(["document_id"])
    if "tasks" in db.table_names():
        columns = db["tasks"].columns_dict
        for column in ("done_at", "done_by"):
            if column not in columns:
                db.execute(f'alter table tasks add column "{column}" text')


def resolve_document(db: Database, ref: str | int) -> int:
    """The id of the document named by `ref`: an id, a SHA-256 prefix (8+ hex
    digits) or a number such as `35/KH-UBND` (case, spaces and Đ/D ignored).
    Raises UsageError when nothing or more than one document matches."""
    text = str(ref).strip()
    if text.isdigit() and "/" not in text:
        row = db.execute("select id from documents where id = ?", [int(text)]).fetchone()
        if row:
            return int(row[0])
    if re.fullmatch(r"[0-9a-fA-F]{8,64}", text):
        rows = db.execute("select id from documents where sha256 like ?", [text.lower() + "%"]).fetchall()
        if len(rows) == 1:
            return int(rows[0][0])
        if len(rows) > 1:
            raise UsageError(f"{text}: {len(rows)} documents have a SHA-256 starting so; give more digits")
    key = _number_key(text)
    rows = [(i, n, d) for i, n, d in db.execute("select id, doc_number, issue_date from documents")
            if n and _number_key(n) == key]
    if len(rows) == 1:
        return int(rows[0][0])
    if len(rows) > 1:
        which = ", ".join(f"#{i} ({d or 'no date'})" for i, _, d in rows)
        raise UsageError(f"{text}: {len(rows)} documents have this number: {which}; give the id")
    raise UsageError(f"{text}: no document with this id, SHA-256 prefix or number")


def resolve_task(db: Database, ref: str | int) -> int:
    """The id of a task named by its id or its uid (`task-<sha256[:16]>-<position>`,
    as `congvan tasks --format csv` and the calendar show it)."""
    text = str(ref).strip()
    match = _TASK_REF.match(text)
    if match:
        row = db.execute(
            "select t.id from tasks t join documents d on d.id = t.document_id"
            " where substr(d.sha256, 1, 16) = ? and t.position = ?", [match[1], int(match[2])]).fetchone()
    elif text.isdigit():
        row = db.execute("select id from tasks where id = ?", [int(text)]).fetchone()
    else:
        raise UsageError(f"{text}: a task is named by its id or its uid (task-…-N)")
    if not row:
        raise UsageError(f"{text}: no such task")
    return int(row[0])


def _number_key(number: str) -> str:
    folded = number.replace("đ", "d").replace("Đ", "D")
    return re.sub(r"\s+", "", folded).casefold()


def normalise(field: str, value: str | None) -> str | None:
    """The value as stored: trimmed, empty as null, dates as ISO (`30/6/2024`
    and `2024-06-30` both give `2024-06-30`).  Raises UsageError for a date
    that is not one or a status other than done/open."""
    if value is None:
        return None
    text = " ".join(value.split())
    if text in ("", "-", "null"):
        return None
    if field in DATE_FIELDS:
        match = _DMY.match(text)
        try:
            day = date(int(match[3]), int(match[2]), int(match[1])) if match else date.fromisoformat(text)
        except ValueError as error:
            raise UsageError(f"{field}: {text!r} is not a date (write 30/6/2024 or 2024-06-30)") from error
        return day.isoformat()
    if field == "status" and text not in ("done", "open"):
        raise UsageError(f"status: {text!r}; write done or open")
    return text


def _insert(db: Database, correction: Correction, task_position: int | None = None,
            task_text: str | None = None) -> Correction:
    db.table("corrections").insert({
        "document_id": correction.document_id, "task_id": correction.task_id, "task_position": task_position,
        "task_text": task_text, "field": correction.field, "old_value": correction.old_value,
        "new_value": correction.new_value, "by": correction.by, "at": correction.at,
    })
    return correction


def correct_document(db: Database, document_id: int, field: str, value: str | None, by: str) -> Correction:
    """Set a document field, record the correction; links of citations follow a
    corrected number or date."""
    if field not in DOCUMENT_FIELDS:
        raise UsageError(f"{field}: not a document field ({', '.join(DOCUMENT_FIELDS)})")
    new = normalise(field, value)
    ensure_tables(db)
    with db.atomic():
        row = db.execute(f'select "{field}" from documents where id = ?', [document_id]).fetchone()
        if row is None:
            raise UsageError(f"#{document_id}: no such document")
        correction = Correction(document_id, None, field, row[0], new, by, _now())
        db.execute(f'update documents set "{field}" = ? where id = ?', [new, document_id])
        _insert(db, correction)
        if field in ("doc_number", "issue_date", "issuer") and correction.changed:
            from pipeline.stages.store import relink_document

            relink_document(db, document_id)
    return correction


def _task(db: Database, task_id: int) -> dict[str, Any]:
    cursor = db.execute("select * from tasks where id = ?", [task_id])
    row = cursor.fetchone()
    if row is None:
        raise UsageError(f"task {task_id}: no such task")
    return dict(zip([c[0] for c in cursor.description], row, strict=True))


def correct_task(db: Database, task_id: int, field: str, value: str | None, by: str) -> Correction:
    """Set a task field (or its status: done/open) and record the correction."""
    if field not in TASK_FIELDS:
        raise UsageError(f"{field}: not a task field ({', '.join(TASK_FIELDS)})")
    new = normalise(field, value)
    if field == "status" and new is None:
        raise UsageError("status: write done or open")
    ensure_tables(db)
    with db.atomic():
        task = _task(db, task_id)
        at = _now()
        old: str | None
        if field == "status":
            old = "done" if task.get("done_at") else "open"
            db.execute("update tasks set done_at = ?, done_by = ? where id = ?",
                       [at, by, task_id] if new == "done" else [None, None, task_id])
        else:
            old = task.get(field)
            db.execute(f'update tasks set "{field}" = ? where id = ?', [new, task_id])
        correction = Correction(task["document_id"], task_id, field, old, new, by, at)
        _insert(db, correction, task["position"], task["text"])
    return correction


def set_task_done(db: Database, task_id: int, done: bool, by: str) -> Correction:
    return correct_task(db, task_id, "status", "done" if done else "open", by)


def history(db: Database, document_id: int) -> list[dict[str, Any]]:
    """Every correction of a document and its tasks, newest first."""
    if "corrections" not in db.table_names():
        return []
    cursor = db.execute("select * from corrections where document_id = ? order by at desc, id desc", [document_id])
    names = [c[0] for c in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor]


def confirmed_fields(db: Database, document_id: int) -> set[str]:
    """Document fields a person has corrected or confirmed."""
    if "corrections" not in db.table_names():
        return set()
    rows = db.execute("select distinct field from corrections where document_id = ? and task_id is null",
                      [document_id])
    return {row[0] for row in rows}


def reapply(db: Database, document_id: int) -> int:
    """Put every recorded correction of a document back on its rows (after
    re-extraction rewrote them); the latest correction of a field wins.  A task
    correction finds its task by the text it had, else by its position; one
    whose task is gone is kept in the history and skipped.  Returns how many
    values were written.  Call inside the transaction that rewrote the rows."""
    if "corrections" not in db.table_names():
        return 0
    ensure_tables(db)
    latest: dict[tuple[Any, ...], dict[str, Any]] = {}
    cursor = db.execute("select * from corrections where document_id = ? order by at, id", [document_id])
    names = [c[0] for c in cursor.description]
    for values in cursor.fetchall():
        row = dict(zip(names, values, strict=True))
        key = (row["task_position"], row["field"]) if row["task_id"] is not None or row["task_position"] is not None \
            else (None, row["field"])
        latest[key] = row
    written = 0
    for (position, field), row in latest.items():
        if position is None:
            if field in DOCUMENT_FIELDS:
                db.execute(f'update documents set "{field}" = ? where id = ?', [row["new_value"], document_id])
                written += 1
            continue
        task = db.execute("select id from tasks where document_id = ? and text = ? order by position limit 1",
                          [document_id, row["task_text"]]).fetchone() if row["task_text"] else None
        if task is None:
            task = db.execute("select id from tasks where document_id = ? and position = ?",
                              [document_id, position]).fetchone()
        if task is None:
            continue
        task_id = task[0]
        if field == "status":
            done = row["new_value"] == "done"
            db.execute("update tasks set done_at = ?, done_by = ? where id = ?",
                       [row["at"], row["by"], task_id] if done else [None, None, task_id])
        elif field in TASK_FIELDS:
            db.execute(f'update tasks set "{field}" = ? where id = ?', [row["new_value"], task_id])
        # Every correction of this task now points at its new id.
        db.execute("update corrections set task_id = ? where document_id = ? and task_position = ? and field = ?",
                   [task_id, document_id, position, field])
        written += 1
    if any(field in ("doc_number", "issue_date", "issuer") and position is None for position, field in latest):
        from pipeline.stages.store import relink_document

        relink_document(db, document_id)
    return written
