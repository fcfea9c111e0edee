"""The typed values that flow between the pipeline's stages.

One document flows one way:

    InputFile --load--> LoadedDocument --preprocess--> LoadedDocument (clean images)
        --ocr--> DocumentText --restore--> RestoredText --extract--> Record --store--> rows

Each stage is a plain function from one of these values to the next, so each
can be tested alone.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

FileKind = Literal["pdf", "image", "text"]
TextSource = Literal["ocr", "pdf-text-layer", "text-file"]


@dataclass(frozen=True)
class InputFile:
    """A file as found on disk, identified by the hash of its bytes."""

    path: Path
    sha256: str
    size: int
    kind: FileKind
    mime: str


@dataclass
class Page:
    """One page of a loaded document: a text layer to use, or an image to OCR."""

    number: int  # 1-based
    text: str | None = None  # set when the page's own text is good (text file, PDF text layer)
    image: np.ndarray | None = None  # grayscale uint8, set when the page must be OCR'd
    dpi: int = 300


@dataclass
class LoadedDocument:
    source: InputFile
    pages: list[Page]

    @property
    def needs_ocr(self) -> bool:
        return any(page.text is None for page in self.pages)


@dataclass(frozen=True)
class Word:
    text: str
    confidence: float  # 0..100 as Tesseract reports it
    line: int  # index of the line on its page
    box: tuple[int, int, int, int] | None = None  # left, top, width, height on the OCR'd page image


@dataclass
class PageText:
    number: int
    text: str
    source: TextSource
    mean_confidence: float | None = None  # None for text that was not OCR'd
    words: list[Word] = field(default_factory=list)
    rotated_by: int = 0
    # Alternative readings of header slots (`number`, `date`, `day`), see pipeline/header_read.py.
    header_readings: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class DocumentText:
    source: InputFile
    pages: list[PageText]

    @property
    def text(self) -> str:
        return "\n\n".join(page.text for page in self.pages)

    @property
    def text_source(self) -> TextSource:
        """The document's main source: `ocr` as soon as one page was OCR'd."""
        sources = {page.source for page in self.pages}
        order: tuple[TextSource, ...] = ("ocr", "pdf-text-layer", "text-file")
        return next((source for source in order if source in sources), "text-file")

    def header_readings(self) -> dict[str, list[str]]:
        """The first page's alternative readings of the header slots ({} when none)."""
        for page in self.pages:
            if page.header_readings:
                return page.header_readings
        return {}

    def word_confidences(self) -> dict[str, float]:
        """Lowest OCR confidence (0..1) seen for each word form, for field confidences."""
        confidences: dict[str, float] = {}
        for page in self.pages:
            for word in page.words:
                value = max(0.0, min(1.0, word.confidence / 100.0))
                confidences[word.text] = min(value, confidences.get(word.text, 1.0))
        return confidences


@dataclass(frozen=True)
class Change:
    """A span of the restored text that restoration changed."""

    start: int  # offsets into the restored text
    end: int
    before: str
    after: str


@dataclass
class RestoredText:
    document: DocumentText
    text: str
    changes: list[Change] = field(default_factory=list)
    restorer: str = "none"


@dataclass
class Reference:
    doc_number: str | None
    doc_type: str | None
    date: str | None
    issuer: str | None


@dataclass
class ReportingPeriod:
    label: str
    start: str | None
    end: str | None
    due: str | None
    owner: str | None = None  # who sends the report (`UBND các xã, thị trấn`), when the letter says
    receiver: str | None = None  # whom it goes to (`UBND huyện (qua Phòng Nội vụ)`)


TaskSource = Literal["text", "table"]


@dataclass
class Task:
    text: str
    responsible: str | None
    cooperating: str | None
    deadline: str | None
    recurrence: str | None
    start: str | None = None  # the first day of a ranged duty (`29/6/2026 - 09/7/2026`)
    source: TaskSource = "text"  # where it was read: prose, or a row of a task table


@dataclass
class Signer:
    name: str | None
    title: str | None
    authority: str | None


@dataclass
class Signature:
    """A digital signature: from the PDF's signature field, or its printed caption."""

    signed_by: str | None
    organisation: str | None
    signed_at: str | None  # ISO 8601 with its offset, `2025-01-24T20:01:14+07:00`
    source: Literal["pdf-signature", "caption"]


@dataclass
class Received:
    """The receiving office's arrival stamp (`ĐẾN`, `CV ĐẾN Số: ... Ngày: ...`)."""

    number: str | None
    date: str | None


@dataclass
class Record:
    """The directive record of shared/spec/record.md; keys are the contract."""

    source: str
    sha256: str
    pages: int
    text_source: TextSource
    doc_number: str | None = None
    doc_type: str | None = None
    issuer: str | None = None
    issuer_parent: str | None = None
    place: str | None = None
    issue_date: str | None = None
    subject: str | None = None
    recipients: list[str] = field(default_factory=list)
    references: list[Reference] = field(default_factory=list)
    reporting_periods: list[ReportingPeriod] = field(default_factory=list)
    tasks: list[Task] = field(default_factory=list)
    signer: Signer | None = None
    signature: Signature | None = None
    received: Received | None = None
    urgency: str | None = None
    confidence: dict[str, float] = field(default_factory=dict)
    text: str = ""
    extra: dict[str, Any] = field(default_factory=dict)  # keys added by extractor plug-ins

    def to_json_dict(self) -> dict[str, Any]:
        """The contract's keys in order, then the plug-ins' keys."""
        data = asdict(self)
        data.update(data.pop("extra"))
        return data


@dataclass
class Fields:
    """What the extract stage finds in a text; the record minus file identity."""

    doc_number: str | None = None
    doc_type: str | None = None
    issuer: str | None = None
    issuer_parent: str | None = None
    place: str | None = None
    issue_date: str | None = None
    subject: str | None = None
    recipients: list[str] = field(default_factory=list)
    references: list[Reference] = field(default_factory=list)
    reporting_periods: list[ReportingPeriod] = field(default_factory=list)
    tasks: list[Task] = field(default_factory=list)
    signer: Signer | None = None
    signature: Signature | None = None
    received: Received | None = None
    urgency: str | None = None
    confidence: dict[str, float] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)  # keys added by extractor plug-ins
