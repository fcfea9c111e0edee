"""Stage 6, store: Record -> rows of the SQLite database (sqlite-utils).

Tables: `documents` (one row per input, keyed by sha256), `recipients`,
`references`, `reporting_periods`, `tasks`, `pages`, `changes` (spans the
restorer changed), `failures`.  Child rows point at `documents.id`.  Dates are
ISO text.  `documents_fts` indexes subject and text with
`unicode61 remove_diacritics 2`, so `so ke hoach` finds `số kế hoạch`.

A document is written in one transaction: after a crash it is either all
there or not there at all.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from pipeline.core.types import Record, RestoredText
from pipeline.core.vietnamese import strip_diacritics

FTS_TOKENIZER = "unicode61 remove_diacritics 2"
SCHEMA_VERSION = 1

_CHILD_TABLES: dict[str, dict[str, type]] = {
    "recipients": {"position": int, "name": str},
    "references": {"position": int, "doc_number": str, "doc_type": str, "date": str, "issuer": str},
    "reporting_periods": {"position": int, "label": str, "start": str, "end": str, "due": str, "owner": str,
                          "receiver": str},
    "tasks": {"position": int, "text": str, "responsible": str, "cooperating": str, "start": str, "deadline": str,
              "recurrence": str, "source": str},
    "pages": {"number": int, "text": str, "source": str, "mean_confidence": float, "rotated_by": int},
    "changes": {"start": int, "end": int, "before": str, "after": str},
}


_DOCUMENT_SCHEMA: dict[str, type] = {
    "id": int, "sha256": str, "source": str, "pages": int, "text_source": str,
    "doc_number": str, "doc_type": str, "issuer": str, "issuer_parent": str, "place": str,
    "issue_date": str, "subject": str, "signer_name": str, "signer_title": str, "signer_authority": str,
    "signature": str, "received_number": str, "received_date": str, "urgency": str,
    "confidence": str, "restorer": str, "text": str, "ingested_at": str,
}

# A task or reporting due date joined with its letter: the rows of `congvan
# tasks`, the calendar and the analyst's web view (pipeline/analyst/).
_ITEMS_TEMPLATE = """
select 'task' as kind, t.deadline, t.responsible, t.cooperating, t.text, t.recurrence,
       d.id as document_id, d.doc_number, d.doc_type, d.issue_date, d.issuer, d.subject, d.source,
       'task-' || substr(d.sha256, 1, 16) || '-' || t.position as uid,
       t.id as task_id, t.done_at
  from tasks t join documents d on d.id = t.document_id
union all
select 'report', p.due, {owner}, null,
       'Báo cáo ' || coalesce(p.label, '') ||
         case when p.start is not null or p."end" is not null
              then ' (số liệu ' || coalesce(p.start, '?') || ' → ' || coalesce(p."end", '?') || ')' else '' end
         {receiver},
       null,
       d.id, d.doc_number, d.doc_type, d.issue_date, d.issuer, d.subject, d.source,
       'report-' || substr(d.sha256, 1, 16) || '-' || p.position, null, null
  from reporting_periods p join documents d on d.id = p.document_id
"""
ITEMS_SQL = _ITEMS_TEMPLATE.format(owner="null", receiver="")
# A report's owner (who sends it) as its responsible, and whom it goes to in its text, where the
# database has them (issue 17; an older database gains the columns on its next write).
ITEMS_SQL_WITH_OWNER = _ITEMS_TEMPLATE.format(
    owner="p.owner", receiver="|| case when p.receiver is not null then ', gửi ' || p.receiver else '' end")


def items_sql(db: Database) -> str:
    """The listing's SQL for this database: with report owners when its reporting_periods has them."""
    return ITEMS_SQL_WITH_OWNER if "owner" in db.table("reporting_periods").columns_dict else ITEMS_SQL


def _task_deadlines(items: str) -> str:
    # Dated items only: Datasette sorts nulls first, and an undated task is no deadline.
    return f"""select items.*, substr(items.deadline, 1, 7) as deadline_month
  from ({items}) as items
 where items.deadline is not null"""


# Views the analyst's web view (Datasette) facets on.  Made here, by the
# writer, so that `congvan serve` and the other readers never write.
VIEWS = {"task_deadlines": _task_deadlines(ITEMS_SQL)}


def views(db: Database) -> dict[str, str]:
    """VIEWS as this database's columns allow (report owners where it has them)."""
    return {"task_deadlines": _task_deadlines(items_sql(db))}


def now_iso() -> str:
    return datetime.now(UTC).astimezone().isoformat(timespec="seconds")


def open_db(path: Path | str) -> Database:
    """Open (creating if needed) a congvan database in WAL mode."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    db = Database(path)
    db.enable_wal()
    db.execute("PRAGMA foreign_keys = ON")
    db.execute("PRAGMA busy_timeout = 30000")
    ensure_schema(db)
    ensure_views(db)
    return db


def ensure_views(db: Database) -> None:
    """Create the views, or bring them up to date; writes nothing when they are."""
    for name, sql in views(db).items():
        current = db.execute("select sql from sqlite_master where type = 'view' and name = ?", [name]).fetchone()
        if current is None or sql not in current[0]:
            with db.atomic():  # a reader never sees the view missing
                db.create_view(name, sql, replace=True)


def ensure_schema(db: Database) -> None:
    if "documents" in db.table_names():
        _upgrade(db)
        return
    with db.atomic():
        db.table("documents").create(
            _DOCUMENT_SCHEMA,
            pk="id",
            not_null={"sha256", "source"},
        )
        db.table("documents").create_index(["sha256"], unique=True)
        for name in ("doc_number", "issue_date", "issuer", "doc_type"):
            db.table("documents").create_index([name])
        for table, columns in _CHILD_TABLES.items():
            owner = "citing_document_id" if table == "references" else "document_id"
            spec: dict[str, Any] = {"id": int, owner: int, **columns}
            foreign_keys = [(owner, "documents", "id")]
            if table == "references":
                # The cited document, when it is in the database too: analysts
                # walk the chain of directives through it.
                spec["document_id"] = int
                foreign_keys.append(("document_id", "documents", "id"))
            db.table(table).create(spec, pk="id", foreign_keys=foreign_keys)
            db.table(table).create_index([owner])
        db.table("tasks").create_index(["deadline"])
        db.table("references").create_index(["doc_number"])
        db.table("failures").create(
            {"id": int, "source": str, "sha256": str, "stage": str, "cause": str, "failed_at": str, "moved_to": str},
            pk="id",
        )
        db.table("metadata").create({"key": str, "value": str}, pk="key")
        db.table("metadata").insert({"key": "schema_version", "value": str(SCHEMA_VERSION)})
    db.table("documents").enable_fts(["subject", "text"], tokenize=FTS_TOKENIZER, create_triggers=True)
    _upgrade(db)


# The analysts' list of letters: what identifies each one and whether it needs
# a person's look (an identity field missing or read with low confidence and
# not yet corrected or confirmed); not the full text nor the SHA-256.
REVIEW_THRESHOLD = 0.6
DOCUMENT_LIST_SQL = f"""select d.id, d.doc_number, d.issue_date, d.issuer, d.subject, d.doc_type,
       case
         when exists (select 1 from json_each('["doc_number","issue_date","issuer","subject"]') f
                       where (d."doc_number" is null and f.value = 'doc_number'
                              or d.issue_date is null and f.value = 'issue_date'
                              or d.issuer is null and f.value = 'issuer'
                              or d.subject is null and f.value = 'subject'
                              or coalesce(json_extract(d.confidence, '$.' || f.value), 1) < {REVIEW_THRESHOLD})
                         and not exists (select 1 from corrections c where c.document_id = d.id
                                          and c.task_id is null and c.field = f.value))
         then 'cần rà soát / to review'
         when exists (select 1 from corrections c where c.document_id = d.id) then 'đã sửa / corrected'
         else 'đã đọc / read' end as state,
       (select count(*) from tasks t where t.document_id = d.id) as tasks,
       (select count(*) from tasks t where t.document_id = d.id and t.done_at is not null) as tasks_done,
       d.ingested_at
  from documents d"""


def _upgrade(db: Database) -> None:
    """Bring a database made by an older congvan up to date, additively: the
    corrections table, the task status columns, the document list view.
    Writes nothing when all is there."""
    from pipeline.stages.corrections import ensure_tables

    tables = db.table_names()
    views = db.view_names()
    if "corrections" in tables and "done_at" in db.table("tasks").columns_dict and "document_list" in views:
        return
    with db.atomic():
        ensure_tables(db)
        db.create_view("document_list", DOCUMENT_LIST_SQL, replace=True)


def document_id(db: Database, sha256: str) -> int | None:
    row = db.execute("select id from documents where sha256 = ?", [sha256]).fetchone()
    return row[0] if row else None


def store(db: Database, record: Record, restored: RestoredText | None = None, *, replace: bool = False) -> int:
    """Write one record and its child rows atomically; return documents.id.

    Storing a sha256 that is already there writes nothing and returns its id,
    unless `replace` (`congvan ingest --reprocess`): then the document keeps its
    id (so citations of it and its corrections stay attached), its fields and
    child rows are rewritten from the new record, and every correction
    recorded for it is put back on top (corrections.reapply).
    """
    existing = document_id(db, record.sha256)
    if existing is not None and not replace:
        return existing
    signer = record.signer
    row = {
        "sha256": record.sha256, "source": record.source, "pages": record.pages,
        "text_source": record.text_source, "doc_number": record.doc_number, "doc_type": record.doc_type,
        "issuer": record.issuer, "issuer_parent": record.issuer_parent, "place": record.place,
        "issue_date": record.issue_date, "subject": record.subject,
        "signer_name": signer.name if signer else None,
        "signer_title": signer.title if signer else None,
        "signer_authority": signer.authority if signer else None,
        "signature": json.dumps(vars(record.signature), ensure_ascii=False) if record.signature else None,
        "received_number": record.received.number if record.received else None,
        "received_date": record.received.date if record.received else None,
        "urgency": record.urgency,
        "confidence": json.dumps(record.confidence, ensure_ascii=False),
        "restorer": restored.restorer if restored else None,
        "text": record.text, "ingested_at": now_iso(),
        **{key: _column_value(value) for key, value in record.extra.items()},
    }
    with db.atomic():
        documents = db.table("documents")
        if existing is not None:
            from pipeline.stages.corrections import reapply

            # The file keeps the path it was first read from (the inbox may have moved it since).
            row.pop("source")
            documents.update(existing, row, alter=True)
            for table in _CHILD_TABLES:
                owner = "citing_document_id" if table == "references" else "document_id"
                db.execute(f'delete from "{table}" where {owner} = ?', [existing])
            _insert_children(db, existing, record, restored)
            reapply(db, existing)
            relink_document(db, existing)
            return existing
        # alter=True: a database made by an older congvan gains the new columns
        # on its first write instead of failing.
        documents.insert(row, alter=True)
        new_id = documents.last_pk
        if not isinstance(new_id, int):  # pk="id" is an integer primary key: insert sets it
            raise RuntimeError(f"documents insert gave no integer id for {record.source} (got {new_id!r})")
        _insert_children(db, new_id, record, restored)
        _link_references(db, new_id)
    return new_id


def _column_value(value: Any) -> Any:
    """A plug-in field as a column: scalars as they are, anything else as JSON text."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if hasattr(value, "__dataclass_fields__"):
        value = asdict(value)
    elif isinstance(value, list):
        value = [asdict(v) if hasattr(v, "__dataclass_fields__") else v for v in value]
    return json.dumps(value, ensure_ascii=False)


def _insert_children(db: Database, doc_id: int, record: Record, restored: RestoredText | None) -> None:
    db.table("recipients").insert_all(
        {"document_id": doc_id, "position": i, "name": name} for i, name in enumerate(record.recipients)
    )
    db.table("references").insert_all(
        {"citing_document_id": doc_id, "position": i, **vars(ref),
         "document_id": _find_document(db, ref, exclude=doc_id, citing_date=record.issue_date)}
        for i, ref in enumerate(record.references)
    )
    db.table("reporting_periods").insert_all(
        ({"document_id": doc_id, "position": i, **vars(p)} for i, p in enumerate(record.reporting_periods)),
        alter=True,
    )
    db.table("tasks").insert_all(
        ({"document_id": doc_id, "position": i, **vars(t)} for i, t in enumerate(record.tasks)), alter=True)
    if restored is not None:
        # width/height/slots (the review desk's crops) are new columns: an older database gains them here.
        pages = db.table("pages")
        for column, kind in (("width", int), ("height", int), ("slots", str), ("slot_readings", str)):
            if column not in pages.columns_dict:
                pages.add_column(column, kind)
        pages.insert_all(
            ({"document_id": doc_id, "number": p.number, "text": p.text, "source": p.source,
              "mean_confidence": p.mean_confidence, "rotated_by": p.rotated_by,
              "width": p.width or None, "height": p.height or None, "slots": _slot_boxes(p.header_readings),
              "slot_readings": _slot_readings(p.header_readings)}
             for p in restored.document.pages),
        )
        db.table("changes").insert_all(
            {"document_id": doc_id, "start": c.start, "end": c.end, "before": c.before, "after": c.after}
            for c in restored.changes
        )


def _hand_slots(readings: dict[str, list[str]]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(slot name, SlotReading data) for each of the handwriting stage's readings (`hand_*`, JSON)."""
    for key, values in readings.items():
        if not key.startswith("hand_") or not values:
            continue
        try:
            data = json.loads(values[0])
        except ValueError:
            continue
        if isinstance(data, dict):
            yield key[len("hand_"):], data


def _slot_boxes(readings: dict[str, list[str]]) -> str | None:
    """`{"number": [left, top, width, height], "day": ..., "month": ...}` (JSON) from the
    handwriting stage's slot readings (`hand_*`, SlotReading JSON with the slot's box on
    the OCR'd page); the review desk crops a doubtful number or date there.  None without any."""
    boxes: dict[str, list[int]] = {}
    for name, data in _hand_slots(readings):
        box = data.get("box")
        if isinstance(box, list) and len(box) == 4 and all(isinstance(v, int | float) for v in box):
            boxes[name] = [int(v) for v in box]
    return json.dumps(boxes) if boxes else None


def _slot_readings(readings: dict[str, list[str]]) -> str | None:
    """`{"number": {"digits": "275", "confidence": 0.78, "sure": false, "reason": ...}, ...}` (JSON):
    what the digit recogniser read in each handwritten slot, sure or not.  The review desk
    shows it beside the slot's crop, so an archivist checks a reading instead of typing it;
    a reading the extractor did not take is never a value of the record.  None without any."""
    found: dict[str, dict[str, object]] = {}
    for name, data in _hand_slots(readings):
        digits = data.get("value") or data.get("candidate")
        if not isinstance(digits, str) or not digits.isdigit():
            continue
        sure = data.get("value") == digits
        confidence = data.get("confidence") if sure else data.get("candidate_confidence")
        found[name] = {"digits": digits, "confidence": round(float(confidence or 0.0), 2),
                       "sure": sure, "reason": str(data.get("reason") or "")}
        if data.get("read_as"):  # the glyphs alone read no valid day or month (`94` for 24)
            found[name]["read_as"] = str(data["read_as"])
    return json.dumps(found, ensure_ascii=False) if found else None


def _year(iso: str | None) -> str | None:
    return iso[:4] if iso and len(iso) >= 4 and iso[:4].isdigit() else None


# Words that every issuer shares: they say nothing about which one it is.
_COMMON_ISSUER_WORDS = {"uy", "ban", "nhan", "dan", "ubnd", "tinh", "huyen", "xa", "so", "phong", "thanh", "pho"}


def _issuer_words(name: str | None) -> set[str]:
    folded = strip_diacritics((name or "").replace("đ", "d").replace("Đ", "D")).casefold()
    return {w for w in re.findall(r"\w+", folded) if len(w) > 1 and w not in _COMMON_ISSUER_WORDS}


def _score(ref_date: str | None, ref_issuer: str | None, citing_date: str | None,
           doc_date: str | None, doc_issuer: str | None) -> int | None:
    """How well a stored letter fits a citation of its number; None: it cannot be the one.

    Numbers restart every year, so `122/KH-UBND ngày 14/5/2024` is never the
    122/KH-UBND of 2021: with a cited date, the stored letter must be of that
    year (the same day scores higher; a different day of the year is taken
    for a misread day, since a number is unique within an issuer's year).  Without a
    cited date, a letter issued after the citing one cannot be meant.  The
    issuer, where both are known, outweighs the day between letters of one
    year: a number is unique within an issuer's year, so the same issuer on
    another day is a misread day, the same day from another issuer another letter.
    """
    score = 0
    if ref_date and doc_date:
        if _year(ref_date) != _year(doc_date):
            return None
        # Same year: the same letter, the day perhaps misread on one side.
        score += 4 if ref_date == doc_date else 2
    elif not ref_date and citing_date and doc_date and doc_date > citing_date:
        return None
    if ref_issuer and doc_issuer:
        score += 8 if _issuer_words(ref_issuer) & _issuer_words(doc_issuer) else 0
    return score


def _find_document(db: Database, ref: Any, exclude: int, citing_date: str | None = None) -> int | None:
    """The stored letter a citation means: same number (exact), and a date and
    issuer that fit (_score); the best fit, then the latest before the citing letter."""
    if not ref.doc_number:
        return None
    rows = db.execute("select id, issue_date, issuer from documents where doc_number = ? and id != ?",
                      [ref.doc_number, exclude]).fetchall()
    best: tuple[int, str, int] | None = None
    for doc_id, issue_date, issuer in rows:
        score = _score(ref.date, ref.issuer, citing_date, issue_date, issuer)
        if score is None:
            continue
        key = (score, issue_date or "", -doc_id)
        if best is None or key > best:
            best = key
    return -best[2] if best else None


def _link_references(db: Database, doc_id: int) -> None:
    """Earlier letters that cite this one (number, and a date and issuer that fit) now point at it."""
    row = db.execute("select doc_number, issue_date, issuer from documents where id = ?", [doc_id]).fetchone()
    if row is None or not row[0]:
        return
    doc_number, issue_date, issuer = row
    candidates = db.execute(
        """select r.id, r.date, r.issuer, c.issue_date from "references" r
             join documents c on c.id = r.citing_document_id
            where r.doc_number = ? and r.document_id is null and r.citing_document_id != ?""",
        [doc_number, doc_id]).fetchall()
    for ref_id, ref_date, ref_issuer, citing_date in candidates:
        if _score(ref_date, ref_issuer, citing_date, issue_date, issuer) is not None:
            db.execute('update "references" set document_id = ? where id = ?', [doc_id, ref_id])


def relink_document(db: Database, doc_id: int) -> None:
    """After this letter's number, date or issuer changed (a correction, a
    reprocess): citations of it are checked again, and its own citations too."""
    citing_date = db.execute("select issue_date from documents where id = ?", [doc_id]).fetchone()
    citing_date = citing_date[0] if citing_date else None
    db.execute('update "references" set document_id = null where document_id = ?', [doc_id])
    from pipeline.core.types import Reference

    rows = db.execute('select id, doc_number, doc_type, date, issuer from "references" where citing_document_id = ?',
                      [doc_id]).fetchall()
    for ref_id, number, doc_type, ref_date, ref_issuer in rows:
        target = _find_document(db, Reference(number, doc_type, ref_date, ref_issuer), doc_id, citing_date)
        db.execute('update "references" set document_id = ? where id = ?', [target, ref_id])
    _link_references(db, doc_id)
    # Citations elsewhere that were linked to nothing may now fit this letter,
    # and those unlinked above may fit another letter with the same number.
    for (ref_id, number, doc_type, ref_date, ref_issuer, citing_id, cdate) in db.execute(
            """select r.id, r.doc_number, r.doc_type, r.date, r.issuer, r.citing_document_id, c.issue_date
                 from "references" r join documents c on c.id = r.citing_document_id
                where r.document_id is null and r.doc_number in
                      (select doc_number from documents where id = ?)""", [doc_id]).fetchall():
        target = _find_document(db, Reference(number, doc_type, ref_date, ref_issuer), citing_id, cdate)
        if target is not None:
            db.execute('update "references" set document_id = ? where id = ?', [target, ref_id])


def record_failure(db: Database, source: str, cause: str, stage: str, sha256: str | None = None,
                   moved_to: str | None = None) -> None:
    with db.atomic():
        db.table("failures").insert({
            "source": source, "sha256": sha256, "stage": stage, "cause": cause,
            "failed_at": now_iso(), "moved_to": moved_to,
        })


def iter_records(db: Database) -> Iterator[dict[str, Any]]:
    """Every stored document as the record of shared/spec/record.md."""
    def children(table: str, owner: str, doc_id: int, columns: Sequence[str]) -> list[dict[str, Any]]:
        quoted = ", ".join(f'"{c}"' for c in columns)
        rows = db.execute(f'select {quoted} from "{table}" where {owner} = ? order by position', [doc_id])
        return [dict(zip(columns, row)) for row in rows]

    # done_at: when a person marked the task done (congvan done), null while open.
    task_columns = [c for c in ("text", "responsible", "cooperating", "start", "deadline", "recurrence", "source",
                                "done_at") if c in db.table("tasks").columns_dict]
    period_columns: list[str] = [c for c in ("label", "start", "end", "due", "owner", "receiver")
                                 if c in db.table("reporting_periods").columns_dict]
    # Columns that extractor plug-ins added (they are not in the schema congvan creates).
    plugin_columns = [c for c in db.table("documents").columns_dict if c not in _DOCUMENT_SCHEMA]
    for doc in db.table("documents").rows_where(order_by="id"):
        signer = None
        if any(doc[k] for k in ("signer_name", "signer_title", "signer_authority")):
            signer = {"name": doc["signer_name"], "title": doc["signer_title"], "authority": doc["signer_authority"]}
        yield {
            "source": doc["source"], "sha256": doc["sha256"], "pages": doc["pages"],
            "text_source": doc["text_source"], "doc_number": doc["doc_number"], "doc_type": doc["doc_type"],
            "issuer": doc["issuer"], "issuer_parent": doc.get("issuer_parent"), "place": doc["place"],
            "issue_date": doc["issue_date"], "subject": doc["subject"],
            "recipients": [r["name"] for r in children("recipients", "document_id", doc["id"], ["name"])],
            "references": children("references", "citing_document_id", doc["id"],
                                   ["doc_number", "doc_type", "date", "issuer"]),
            "reporting_periods": children("reporting_periods", "document_id", doc["id"], period_columns),
            "tasks": children("tasks", "document_id", doc["id"], task_columns),
            "signer": signer,
            "signature": json.loads(doc["signature"]) if doc.get("signature") else None,
            "received": {"number": doc.get("received_number"), "date": doc.get("received_date")}
            if doc.get("received_number") or doc.get("received_date") else None,
            "urgency": doc.get("urgency"),
            "confidence": json.loads(doc["confidence"] or "{}"),
            "text": doc["text"],
            **{column: doc[column] for column in plugin_columns},
        }
