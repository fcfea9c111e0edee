"""Stage 5, extract: RestoredText -> Record (shared/spec/record.md).

The field rules live in `extractors/`, one module per field family; this
stage reads the letter's layout (stages/layout: zones from the page model)
and the PDF's own digital signatures, and joins the fields to the file's
identity.  When the layout finds a second letter bound after the first, the
record is the first letter's and `confidence["single_letter"]` is 0.0.
"""

from __future__ import annotations

from extractors import extract_fields
from pipeline.core.types import Record, RestoredText
from pipeline.stages.layout import layout_document
from pipeline.stages.signatures import read_pdf_signatures

# The layout stage can be switched off to compare with the text-stream reading (benchmarks).
USE_LAYOUT = True


def extract(restored: RestoredText) -> Record:
    document = restored.document
    layout = layout_document(document, restored.text) if USE_LAYOUT else None
    signatures = read_pdf_signatures(document.source.path) if document.source.kind == "pdf" else []
    fields = extract_fields(restored.text, document.word_confidences(), document.header_readings(),
                            layout=layout, signatures=signatures)
    values = vars(fields)
    values.pop("notes")  # said in the record as confidence["single_letter"]
    return Record(
        source=str(document.source.path),
        sha256=document.source.sha256,
        pages=len(document.pages),
        text_source=document.text_source,
        text=restored.text,
        **values,
    )
