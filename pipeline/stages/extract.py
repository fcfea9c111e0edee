"""Stage 5, extract: RestoredText -> Record (shared/spec/record.md).

The field rules live in `extractors/`, one extractor plug-in per field family
(`congvan.extractors` entry points).  This stage reads the letter's layout
(stages/layout: zones from the page model) and the PDF's own digital
signatures, hands them to the extractors, and joins their fields to the
file's identity.  When the layout finds a second letter bound after the
first, the record is the first letter's and `confidence["single_letter"]` is 0.0.
"""

from __future__ import annotations

import logging

from extractors import ExtractorFailed, extract_fields
from pipeline.core.errors import BadInput
from pipeline.core.types import Layout, Record, RestoredText
from pipeline.stages.layout import layout_document
from pipeline.stages.signatures import read_pdf_signatures

# The layout stage can be switched off to compare with the text-stream reading (benchmarks).
USE_LAYOUT = True

log = logging.getLogger(__name__)


def _layout(restored: RestoredText) -> Layout | None:
    """The letter's zones; a page model the rules cannot place is read as a text stream instead."""
    if not USE_LAYOUT:
        return None
    try:
        return layout_document(restored.document, restored.text)
    except (ValueError, IndexError, KeyError, TypeError, ZeroDivisionError) as error:
        # The layout only refines where fields are read from: without it the letter
        # is still read (as one stream), so one odd page does not cost the record.
        log.warning("%s: layout not read (%s: %s); fields read from the text stream",
                    restored.document.source.path, type(error).__name__, error)
        return None


def extract(restored: RestoredText) -> Record:
    document = restored.document
    layout = _layout(restored)
    signatures = read_pdf_signatures(document.source.path) if document.source.kind == "pdf" else []
    try:
        fields = extract_fields(restored.text, document.word_confidences(), document.header_readings(),
                                layout=layout, signatures=signatures, tables=document.tables)
    except ExtractorFailed as error:
        raise BadInput(document.source.path, str(error), stage="extract") from error
    return Record(
        source=str(document.source.path),
        sha256=document.source.sha256,
        pages=len(document.pages),
        text_source=document.text_source,
        text=restored.text,
        **vars(fields),
    )
