"""Field extractors: one module per field family, run through one registry.

`extract_fields` reads the full restored text of one letter (pages joined by
blank lines) and returns the directive record's fields.  A field the text does
not state stays None / []: never a guess.  `word_confidence` (OCR word form ->
lowest confidence 0..1) lowers `confidence` and keeps badly read handwritten
numbers and dates out of the record.

The field families are extractor plug-ins (`pipeline.core.extraction`),
registered under the entry point group `congvan.extractors`; the built-ins are
in builtin.py.  With a `layout` (pipeline/stages/layout: the letter's zones on
its pages) in the context, each field is read from its zone: issuer and number
from the header's left column, place and date from its right column, the
subject under the title, recipients from `Kính gửi`, the signer from the
bottom right block; stamps and e-signature captions are kept out of all of
them and give `signature`, `received` and `urgency`.  `signatures` are the
PDF's own digital signatures.  The rules are in:

    header.py      number, type, issuer, place, issue date, subject
    recipients.py  Kính gửi / Nơi nhận
    references.py  cited documents
    periods.py     reporting periods and their due dates
    tasks.py       obligations, deadlines, recurrence
    tables.py      obligations from task tables (one a row), by the header's column roles
    signer.py      authority, title, name
    marks.py       e-signature captions, arrival stamps, urgency
    dates.py       Vietnamese dates and period ends (dateparser)
    spans.py       unit names (a duty-verb lookup over underthesea tokens)
    confidence.py  field confidences from OCR word confidences
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields as dataclass_fields
from typing import Any

from pipeline.core.extraction import Evidence, Extractor
from pipeline.core.plugins import EXTRACTORS_GROUP, registered
from pipeline.core.types import Fields

__all__ = ["ExtractorFailed", "extract_fields", "extractors"]

# Keys the Fields dataclass holds itself; anything else an extractor returns is a plug-in's field.
CONTRACT_KEYS = frozenset(f.name for f in dataclass_fields(Fields)) - {"extra", "confidence"}


class ExtractorFailed(Exception):
    """An extractor raised; the extract stage names it in the document's failure."""

    def __init__(self, name: str, error: BaseException) -> None:
        super().__init__(f"extractor {name!r} failed: {type(error).__name__}: {error}")
        self.name = name


def extractors() -> list[Extractor]:
    """One instance of every registered extractor, in the order they run."""
    found: list[Extractor] = []
    claimed: dict[str, str] = {}
    for name, factory in registered(EXTRACTORS_GROUP).items():
        extractor = factory()
        for column in getattr(extractor, "columns", {}):
            if column in CONTRACT_KEYS or column in claimed:
                owner = claimed.get(column, "the record contract")
                raise ValueError(f"extractor {name!r} claims the key {column!r}, which belongs to {owner}")
            claimed[column] = name
        found.append(extractor)
    return sorted(found, key=lambda e: (getattr(e, "order", 100), e.name))


def extract_fields(text: str, word_confidence: Mapping[str, float] | None = None,
                   slot_readings: Mapping[str, list[str]] | None = None, **context: Any) -> Fields:
    """Run every extractor over one letter.  `slot_readings`: focused OCR re-reads of
    the header's number and date slots (`PageText.header_readings`, see
    pipeline/stages/header_read.py and slots.py); `context`: more inputs that
    later stages provide (page layout, tables), handed on in `Evidence.context`."""
    evidence = Evidence(text=text, word_confidence=word_confidence or {}, slot_readings=slot_readings or {},
                        context=context)
    for extractor in extractors():
        try:
            result = dict(extractor.extract(evidence))
        except Exception as error:  # a field family's bug fails the document, named, not the run
            raise ExtractorFailed(extractor.name, error) from error
        evidence.confidence.update(result.pop("confidence", {}) or {})
        evidence.found.update(result)
    contract = {k: v for k, v in evidence.found.items() if k in CONTRACT_KEYS}
    extra = {k: v for k, v in evidence.found.items() if k not in CONTRACT_KEYS}
    return Fields(**contract, confidence=evidence.confidence, extra=extra)
