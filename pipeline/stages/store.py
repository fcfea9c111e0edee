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
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from pipeline.core.types import Record, RestoredText

FTS_TOKENIZER = "unicode61 remove_diacritics 2"
SCHEMA_VERSION = 1

_CHILD_TABLES: dict[str, dict[str, type]] = {
    "recipients": {"position": int, "name": str},
    "references": {"position": int, "doc_number": str, "doc_type": str, "date": str, "issuer": str},
    "reporting_periods": {"position": int, "label": str, "start": str, "end": str, "due": str},
    "tasks": {"position": int, "text": str, "responsible": str, "cooperating": str, "start": str, "deadline": str,
              "recurrence": str, "source": str},
    "pages": {"number": int, "text": str, "source": str, "mean_confidence": float, "rotated_by": int},
    "changes": {"start": int, "end": int, "before": str, "after": str},
}


# A task or reporting due date joined with its letter: the rows of `congvan
# tasks`, the calendar and the analyst's web view (pipeline/analyst/).
ITEMS_SQL = """
select 'task' as kind, t.deadline, t.responsible, t.cooperating, t.text, t.recurrence,
       d.id as document_id, d.doc_number, d.doc_type, d.issue_date, d.issuer, d.subject, d.source,
       'task-' || substr(d.sha256, 1, 16) || '-' || t.position as uid
  from tasks t join documents d on d.id = t.document_id
union all
select 'report', p.due, null, null,
       'Báo cáo ' || coalesce(p.label, '') ||
         case when p.start is not null or p."end" is not null
              then ' (số liệu ' || coalesce(p.start, '?') || ' → ' || coalesce(p."end", '?') || ')' else '' end,
       null,
       d.id, d.doc_number, d.doc_type, d.issue_date, d.issuer, d.subject, d.source,
       'report-' || substr(d.sha256, 1, 16) || '-' || p.position
  from reporting_periods p join documents d on d.id = p.document_id
"""

# Views the analyst's web view (Datasette) facets on.  Made here, by the
# writer, so that `congvan serve` and the other readers never write.  Dated
# items only: Datasette sorts nulls first, and an undated task is no deadline.
VIEWS = {
    "task_deadlines": f"""select items.*, substr(items.deadline, 1, 7) as deadline_month
  from ({ITEMS_SQL}) as items
 where items.deadline is not null""",
}


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
    for name, sql in VIEWS.items():
        current = db.execute("select sql from sqlite_master where type = 'view' and name = ?", [name]).fetchone()
        if current is None or sql not in current[0]:
            with db.atomic():  # a reader never sees the view missing
                db.create_view(name, sql, replace=True)


def ensure_schema(db: Database) -> None:
    if "documents" in db.table_names():
        return
    with db.atomic():
        db["documents"].create(
            {
                "id": int, "sha256": str, "source": str, "pages": int, "text_source": str,
                "doc_number": str, "doc_type": str, "issuer": str, "issuer_parent": str, "place": str,
                "issue_date": str, "subject": str, "signer_name": str, "signer_title": str, "signer_authority": str,
                "signature": str, "received_number": str, "received_date": str, "urgency": str,
                "confidence": str, "restorer": str, "text": str, "ingested_at": str,
            },
            pk="id",
            not_null={"sha256", "source"},
        )
        db["documents"].create_index(["sha256"], unique=True)
        for name in ("doc_number", "issue_date", "issuer", "doc_type"):
            db["documents"].create_index([name])
        for table, columns in _CHILD_TABLES.items():
            owner = "citing_document_id" if table == "references" else "document_id"
            spec: dict[str, Any] = {"id": int, owner: int, **columns}
            foreign_keys = [(owner, "documents", "id")]
            if table == "references":
                # The cited document, when it is in the database too: analysts
                # walk the chain of directives through it.
                spec["document_id"] = int
                foreign_keys.append(("document_id", "documents", "id"))
            db[table].create(spec, pk="id", foreign_keys=foreign_keys)
            db[table].create_index([owner])
        db["tasks"].create_index(["deadline"])
        db["references"].create_index(["doc_number"])
        db["failures"].create(
            {"id": int, "source": str, "sha256": str, "stage": str, "cause": str, "failed_at": str, "moved_to": str},
            pk="id",
        )
        db["metadata"].create({"key": str, "value": str}, pk="key")
        db["metadata"].insert({"key": "schema_version", "value": str(SCHEMA_VERSION)})
    db["documents"].enable_fts(["subject", "text"], tokenize=FTS_TOKENIZER, create_triggers=True)


def document_id(db: Database, sha256: str) -> int | None:
    row = db.execute("select id from documents where sha256 = ?", [sha256]).fetchone()
    return row[0] if row else None


def store(db: Database, record: Record, restored: RestoredText | None = None) -> int:
    """Write one record and its child rows atomically; return documents.id.

    Storing a sha256 that is already there writes nothing and returns its id.
    """
    existing = document_id(db, record.sha256)
    if existing is not None:
        return existing
    signer = record.signer
    with db.atomic():
        documents = db["documents"]
        # alter=True: a database made by an older congvan gains the new columns
        # on its first write instead of failing.
        documents.insert({
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
        }, alter=True)
        new_id = documents.last_pk
        _insert_children(db, new_id, record, restored)
        _link_references(db, new_id, record.doc_number)
    return new_id


def _insert_children(db: Database, doc_id: int, record: Record, restored: RestoredText | None) -> None:
    db["recipients"].insert_all(
        {"document_id": doc_id, "position": i, "name": name} for i, name in enumerate(record.recipients)
    )
    db["references"].insert_all(
        {"citing_document_id": doc_id, "position": i, **vars(ref),
         "document_id": _find_document(db, ref.doc_number, exclude=doc_id)}
        for i, ref in enumerate(record.references)
    )
    db["reporting_periods"].insert_all(
        {"document_id": doc_id, "position": i, **vars(p)} for i, p in enumerate(record.reporting_periods)
    )
    db["tasks"].insert_all(({"document_id": doc_id, "position": i, **vars(t)} for i, t in enumerate(record.tasks)),
                           alter=True)
    if restored is not None:
        db["pages"].insert_all(
            {"document_id": doc_id, "number": p.number, "text": p.text, "source": p.source,
             "mean_confidence": p.mean_confidence, "rotated_by": p.rotated_by}
            for p in restored.document.pages
        )
        db["changes"].insert_all(
            {"document_id": doc_id, "start": c.start, "end": c.end, "before": c.before, "after": c.after}
            for c in restored.changes
        )


def _find_document(db: Database, doc_number: str | None, exclude: int) -> int | None:
    if not doc_number:
        return None
    row = db.execute(
        "select id from documents where doc_number = ? and id != ? order by id limit 1", [doc_number, exclude]
    ).fetchone()
    return row[0] if row else None


def _link_references(db: Database, doc_id: int, doc_number: str | None) -> None:
    """Earlier letters that cited this one now point at it."""
    if doc_number:
        db.execute(
            'update "references" set document_id = ? where doc_number = ? and document_id is null and citing_document_id != ?',
            [doc_id, doc_number, doc_id],
        )


def record_failure(db: Database, source: str, cause: str, stage: str, sha256: str | None = None,
                   moved_to: str | None = None) -> None:
    with db.atomic():
        db["failures"].insert({
            "source": source, "sha256": sha256, "stage": stage, "cause": cause,
            "failed_at": now_iso(), "moved_to": moved_to,
        })


def iter_records(db: Database) -> Iterator[dict[str, Any]]:
    """Every stored document as the record of shared/spec/record.md."""
    def children(table: str, owner: str, doc_id: int, columns: list[str]) -> list[dict[str, Any]]:
        quoted = ", ".join(f'"{c}"' for c in columns)
        rows = db.execute(f'select {quoted} from "{table}" where {owner} = ? order by position', [doc_id])
        return [dict(zip(columns, row)) for row in rows]

    task_columns = [c for c in ("text", "responsible", "cooperating", "start", "deadline", "recurrence", "source")
                    if c in db["tasks"].columns_dict]
    for doc in db["documents"].rows_where(order_by="id"):
        signer = None
        if any(doc[k] for k in ("signer_name", "signer_title", "signer_authority")):
            signer = {"name": doc["signer_name"], "title": doc["signer_title"], "authority": doc["signer_authority"]}
        yield {
            "source": doc["source"], "sha256": doc["sha256"], "pages": doc["pages"],
            "text_source": doc["text_source"], "doc_number": doc["doc_number"], "doc_type": doc["doc_type"],
            "issuer": doc["issuer"], "issuer_parent": doc.get("issuer_parent"), "place": doc["place"],
            "issue_date": doc["issue_date"], "subject": doc["subject"],
            "recipients": [r["name"] for r in children("recipients", "document_id", doc["id"], ["name"])],
            "references": children("references", "citing_document_id", doc["id"], ["doc_number", "doc_type", "date", "issuer"]),
            "reporting_periods": children("reporting_periods", "document_id", doc["id"], ["label", "start", "end", "due"]),
            "tasks": children("tasks", "document_id", doc["id"], task_columns),
            "signer": signer,
            "signature": json.loads(doc["signature"]) if doc.get("signature") else None,
            "received": {"number": doc.get("received_number"), "date": doc.get("received_date")}
            if doc.get("received_number") or doc.get("received_date") else None,
            "urgency": doc.get("urgency"),
            "confidence": json.loads(doc["confidence"] or "{}"),
            "text": doc["text"],
        }
