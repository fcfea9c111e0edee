"""Field extractors: one module per field family, joined here.

`extract_fields` reads the full restored text of one letter (pages joined by
blank lines) and returns the directive record's fields.  A field the text does
not state stays None / []: never a guess.  `word_confidence` (OCR word form ->
lowest confidence 0..1) lowers `confidence` and keeps badly read handwritten
numbers and dates out of the record.

    header.py      number, type, issuer, place, issue date, subject
    recipients.py  Kính gửi / Nơi nhận
    references.py  cited documents
    periods.py     reporting periods and their due dates
    tasks.py       obligations, deadlines, recurrence
    tables.py      obligations from task tables (one a row), by the header's column roles
    signer.py      authority, title, name
    dates.py       Vietnamese dates and period ends (dateparser)
    spans.py       unit names (spaCy Matcher over underthesea tokens)
    confidence.py  field confidences from OCR word confidences
"""

from __future__ import annotations

from extractors.confidence import WordConfidence, combine
from extractors.header import extract_header
from extractors.periods import extract_periods
from extractors.recipients import extract_recipients
from extractors.references import extract_references
from extractors.signer import extract_signer
from extractors.tables import extract_table_tasks, is_from_table, table_words
from extractors.tasks import extract_tasks
from pipeline.core.types import Fields, Table, Task

__all__ = ["extract_fields"]


def extract_fields(text: str, word_confidence: dict[str, float] | None = None,
                   slot_readings: dict[str, list[str]] | None = None, *,
                   tables: list[Table] | None = None) -> Fields:
    """`slot_readings`: focused OCR rereads of the header's number and date slots
    (`PageText.header_readings`, see pipeline/header_read.py and slots.py).
    `tables`: the document's tables read as structure (Word files, PDF drawings);
    a task table gives one task a row (`source="table"`)."""
    wc = WordConfidence(word_confidence)
    header = extract_header(text, word_confidence, slot_readings)
    confidence = dict(header.confidence)

    recipients = extract_recipients(text)
    references = extract_references(text, own_number=header.doc_number, wc=wc)
    periods = extract_periods(text, wc)
    tasks = _all_tasks(text, wc, tables or [])
    signer = extract_signer(text)

    confidence["recipients"] = combine("explicit", wc.span(" ".join(recipients), "mean")) if recipients else 0.0
    confidence["references"] = combine("explicit", wc.span(" ".join(r.doc_number or "" for r in references))) \
        if references else 0.0
    confidence["reporting_periods"] = combine("explicit", None) if periods else 0.0
    confidence["tasks"] = combine("inferred", wc.span(" ".join(t.text for t in tasks), "mean")) if tasks else 0.0
    confidence["signer"] = combine("explicit", wc.span(signer.name)) if signer and signer.name else 0.0
    return Fields(
        doc_number=header.doc_number,
        doc_type=header.doc_type,
        issuer=header.issuer,
        place=header.place,
        issue_date=header.issue_date,
        subject=header.subject,
        recipients=recipients,
        references=references,
        reporting_periods=periods,
        tasks=tasks,
        signer=signer,
        confidence=confidence,
    )


def _all_tasks(text: str, wc: WordConfidence, tables: list[Table]) -> list[Task]:
    """Prose tasks, then table tasks; prose "tasks" that are a task table read as text are dropped."""
    table_tasks = extract_table_tasks(tables)
    prose = extract_tasks(text, wc)
    if table_tasks:
        shingles = table_words(tables)
        prose = [task for task in prose if not is_from_table(task.text, shingles)]
    return prose + table_tasks

