"""Stage 5, extract: RestoredText -> Record (shared/spec/record.md).

The field rules live in `extractors/`, one extractor plug-in per field family
(`congvan.extractors` entry points); this stage runs them and joins their
fields to the file's identity.
"""

from __future__ import annotations

from extractors import ExtractorFailed, extract_fields
from pipeline.core.errors import BadInput
from pipeline.core.types import Record, RestoredText


def extract(restored: RestoredText) -> Record:
    document = restored.document
    try:
        fields = extract_fields(restored.text, document.word_confidences(), document.header_readings())
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
