"""Field extractors: one module per field family, joined here.

`extract_fields` reads the full restored text of one letter (pages joined by
blank lines) and returns the directive record's fields.  A field the text does
not state stays None / [].
"""

from __future__ import annotations

from pipeline.types import Fields

from .header import extract_header
from .recipients import extract_recipients


def extract_fields(text: str, word_confidence: dict[str, float] | None = None) -> Fields:
    header = extract_header(text, word_confidence)
    fields = Fields(
        doc_number=header.doc_number,
        doc_type=header.doc_type,
        issuer=header.issuer,
        place=header.place,
        issue_date=header.issue_date,
        subject=header.subject,
        recipients=extract_recipients(text),
        confidence=dict(header.confidence),
    )
    return fields
