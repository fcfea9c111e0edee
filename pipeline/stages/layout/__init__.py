"""Stage 4b, layout: a letter's pages -> its zones (pipeline/core/types.py `Layout`).

Born-digital and scanned letters meet the same rules: words with boxes come
from Tesseract or from the PDF text layer (stages/load.py), become lines of
one column (lines.py), lose the marks other hands put on the page (marks.py)
and are sorted into the zones Decree 30/2020/NĐ-CP prescribes (zones.py).
Where a scan's signer zone shows no name (a seal or a signature over it), the
block is read again from the page's pixels (signer_block.py).
OCR'd words take their restored spelling (stage 4) where restoration kept
the word count, so zone text reads like the restored text.
"""

from __future__ import annotations

from difflib import SequenceMatcher

from extractors.marks import urgency_in_stamp
from pipeline.core.types import DocumentText, Layout, Mark, TextLine
from pipeline.stages.layout.lines import page_lines
from pipeline.stages.layout.signer_block import read_signer_again
from pipeline.stages.layout.zones import PageLines, find_zones, is_title_line
from pipeline.stages.stamp_read import red_stamp_texts

__all__ = ["layout_document", "is_title_line"]


def _restored_word_texts(document: DocumentText, restored_text: str | None) -> dict[int, list[str]]:
    """Per OCR'd page, its words' texts as the restorer spelled them (page number -> texts)."""
    if not restored_text or restored_text == document.text:
        return {}
    owners: list[tuple[int, int] | None] = []
    tokens: list[str] = []
    for page in document.pages:
        page_tokens = page.text.split()
        aligned = page.source == "ocr" and len(page_tokens) == len(page.words)
        for index, token in enumerate(page_tokens):
            tokens.append(token)
            owners.append((page.number, index) if aligned else None)
    restored = restored_text.split()
    texts = {page.number: [w.text for w in page.words] for page in document.pages if page.source == "ocr"}
    matcher = SequenceMatcher(None, tokens, restored, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag not in ("equal", "replace") or i2 - i1 != j2 - j1:
            continue
        for offset in range(i2 - i1):
            owner = owners[i1 + offset]
            if owner is not None:
                texts[owner[0]][owner[1]] = restored[j1 + offset]
    return texts


# Below this share of the text's words carrying boxes, zones drawn from the boxes would miss
# most of the letter: it is read as a text stream instead.
WORDS_COVERED = 0.8


def layout_document(document: DocumentText, restored_text: str | None = None) -> Layout | None:
    """The letter's zones, or None when the pages' word boxes do not carry the letter's
    text (a text file; an engine that gives a page's text but few of its words)."""
    if not any(page.words for page in document.pages):
        return None
    text_words = sum(len(page.text.split()) for page in document.pages if page.words)
    boxed_words = sum(len(page.words) for page in document.pages)
    if boxed_words < WORDS_COVERED * text_words:
        return None
    texts = _restored_word_texts(document, restored_text)
    pages = [PageLines(page.number, page.width or 2480, page.height or 3508, page_lines(page, texts.get(page.number)))
             for page in document.pages if page.words]
    layout = find_zones(pages)
    if READ_SIGNER_AGAIN:
        read_signer_again(layout, document, pages)
    if READ_STAMPS and not layout.marks_of("urgency"):
        layout.marks += urgency_stamps(document)
    return layout


def urgency_stamps(document: DocumentText) -> list[Mark]:
    """Urgency marks stamped in red on page one of a colour scan, at whatever angle (stamp_read.py)."""
    first = next((page for page in document.pages if page.number == 1), None)
    if first is None:
        return []
    marks = []
    for text, box in red_stamp_texts(document.source.path, first):
        label = urgency_in_stamp(text)
        if label:
            marks.append(Mark(kind="urgency", lines=[TextLine(text=label.upper(), page=1, box=box)]))
    return marks[:1]


# A scanned letter whose signer zone shows no name has its signer block read again, in colour
# (pipeline/stages/signer_read.py; about a second).  Off: the zones as the page pass read them.
READ_SIGNER_AGAIN = True
# Page one of a colour scan has its red framed stamps read at their own angle (`HỎA TỐC`; under a second).
READ_STAMPS = True
