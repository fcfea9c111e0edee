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

FileKind = Literal["pdf", "image", "text", "docx", "odt", "doc"]
# `docx` and `odt`: read from a Word or OpenDocument file's own XML (a legacy
# `.doc` is converted to .docx by LibreOffice first, and reads as `docx`).
TextSource = Literal["ocr", "pdf-text-layer", "text-file", "docx", "odt"]
TableSource = Literal["docx", "odt", "pdf", "scan"]


@dataclass
class Table:
    """A table as printed: a grid of cell texts, row by row, header rows included.

    A merged cell's text stands in its first grid column; the columns a
    horizontally merged cell also covers hold None.  A vertically merged cell
    (one `Chủ trì` for three duties, one duty with two products) repeats its
    text in each row it covers, since it applies to each.  Lines inside a cell
    are kept (`Lãnh đạo\nSở Y tế`).
    """

    rows: list[list[str | None]]
    source: TableSource
    page: int | None = None  # 1-based page it starts on, where the input has pages


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
    # A text layer's words with their boxes (pixels at RASTER_DPI), for the layout stage.
    words: list[Word] = field(default_factory=list)
    width: int = 0  # page size in the words' pixels; 0 when unknown
    height: int = 0
    tables: list[Table] = field(default_factory=list)  # tables read as structure (Word, PDF drawing)
    source: TextSource | None = None  # where `text` came from, when not the file kind's default


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
    # The frame of the word boxes (the OCR'd image, or a text layer at 300 dpi); 0 when unknown.
    width: int = 0
    height: int = 0
    tables: list[Table] = field(default_factory=list)
    # The OCR engine that read the page (its registered name); "" for a page that was not OCR'd.
    # The restorer undoes that engine's own kind of misreadings (`OcrEngine.confusions`).
    engine: str = ""


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
        order: tuple[TextSource, ...] = ("ocr", "pdf-text-layer", "docx", "odt", "text-file")
        return next((source for source in order if source in sources), "text-file")

    @property
    def tables(self) -> list[Table]:
        """Every page's tables, in page order."""
        return [table for page in self.pages for table in page.tables]

    def header_readings(self) -> dict[str, list[str]]:
        """The first page's alternative readings of the header slots ({} when none)."""
        for page in self.pages:
            if page.header_readings:
                return page.header_readings
        return {}

    def word_confidences(self) -> dict[str, float]:
        """Lowest OCR confidence (0..1) seen for each word form, for field confidences.

        Only OCR'd pages count: a text layer's words are exact, and their
        presence must not make a born-digital letter look OCR'd.
        """
        confidences: dict[str, float] = {}
        for page in self.pages:
            if page.source != "ocr":
                continue
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
    # What the layout found worth saying (`page 2 starts another letter`); not a record key:
    # the record says it as confidence["single_letter"], and logs may show it.
    notes: list[str] = field(default_factory=list)

    def to_json_dict(self) -> dict[str, Any]:
        """The contract's keys in order, then the plug-ins' keys."""
        data = asdict(self)
        data.pop("notes")
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
    # What the layout found worth saying (`page 2 starts another letter; ...`); not a record key:
    # the record says it as confidence["single_letter"] (0.0: the file holds another letter too).
    notes: list[str] = field(default_factory=list)


# ----------------------------------------------------------------------------- page model and layout
#
# The layout stage (pipeline/stages/layout/) turns each page's words into
# lines of one column each and sorts them into the zones Decree 30/2020/NĐ-CP
# prescribes; marks other hands put on the page (stamps, signature captions)
# are kept apart.  Extractors read their zone instead of one flat stream.

Box = tuple[int, int, int, int]  # left, top, right, bottom in the page's pixels

ZoneName = Literal[
    "header_left",   # managing body, issuing body, `Số:`, a công văn's trích yếu (`V/v ...`)
    "header_right",  # quốc hiệu, tiêu ngữ, `Địa danh, ngày ... tháng ... năm ...`
    "title",         # tên loại and trích yếu (`QUYẾT ĐỊNH` / `Về việc ...`)
    "addressees",    # `Kính gửi:` (or a công điện's addressees)
    "body",
    "recipients",    # `Nơi nhận:`, bottom left of the last page
    "signer",        # quyền hạn, chức vụ, name: bottom right of the last page
    "appendix",      # pages after the letter: Phụ lục, a second letter
]
MarkKind = Literal["e-signature", "copy", "received", "urgency", "page-number"]


@dataclass
class TextLine:
    """Words on one visual line of one column of a page, left to right."""

    text: str
    page: int
    box: Box
    confidence: float | None = None  # mean OCR word confidence 0..1; None for a text layer
    words: list[Word] = field(default_factory=list)

    @property
    def height(self) -> int:
        return self.box[3] - self.box[1]


@dataclass
class Mark:
    """Ink that is not the letter's own text: a signature caption, a stamp, a page number."""

    kind: MarkKind
    lines: list[TextLine]

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)


@dataclass
class Layout:
    """A letter read as pages: its zones, in page order, and the marks kept out of them."""

    zones: dict[str, list[TextLine]] = field(default_factory=dict)
    marks: list[Mark] = field(default_factory=list)
    letter_pages: int = 0  # pages of the (first) letter; later pages are appendix or another letter
    notes: list[str] = field(default_factory=list)  # what the layout found worth saying (`2 letters in one file`)

    def lines(self, zone: str) -> list[TextLine]:
        return self.zones.get(zone, [])

    def text(self, *zones: str) -> str:
        """The zones' lines, one per line; a blank line between zones."""
        blocks = ["\n".join(line.text for line in self.lines(zone)) for zone in zones]
        return "\n\n".join(block for block in blocks if block)

    def reading_text(self) -> str:
        """The letter's own text in reading order: each header column whole, then the page below."""
        return self.text("header_left", "header_right", "title", "addressees", "body", "recipients", "signer")

    def marks_of(self, kind: MarkKind) -> list[Mark]:
        return [mark for mark in self.marks if mark.kind == kind]
