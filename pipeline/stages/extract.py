"""Stage 5, extract: RestoredText -> Record (shared/spec/record.md).

The field rules live in `extractors/`, one module per field family; this
stage only joins them to the file's identity.
"""

from __future__ import annotations

from extractors import extract_fields
from pipeline.core.types import Record, RestoredText


def extract(restored: RestoredText) -> Record:
    document = restored.document
    fields = extract_fields(restored.text, document.word_confidences(), document.header_readings(),
                            tables=document.tables)
    return Record(
        source=str(document.source.path),
        sha256=document.source.sha256,
        pages=len(document.pages),
        text_source=document.text_source,
        text=restored.text,
        **vars(fields),
    )
