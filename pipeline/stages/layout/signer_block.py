"""Where the signer block stands on a scan, and its second reading when the page pass missed the name.

Decree 30/2020/NĐ-CP sets the block at the bottom right of the letter's last
page, level with `Nơi nhận`: the authority (`TM.`, `KT.`, `TL.`, `Q.`), the
title, then the space for the signature and seal, then the printed name.
The region read again runs from just above the block's first line (or, when
the page pass read nothing there, from above `Nơi nhận`) down over the
signature space, across the right part of the page.  The reading whose name
has a known surname wins, then the surer one; its lines become the layout's
`signer_read` zone, which the signer extractor reads when the `signer` zone
gives no name.
"""

from __future__ import annotations

from extractors.signer import SURNAMES, mend_surname, signer_from_zone
from pipeline.core.types import Box, DocumentText, Layout, Signer, TextLine
from pipeline.stages.layout.lines import median
from pipeline.stages.layout.zones import PageLines
from pipeline.stages.signer_read import read_signer_block

# Lines of print from the block's first line to the bottom of the region read: the
# signature space is three to six lines, the name one, and the seal may push it lower.
BLOCK_HEIGHT_LINES = 18
# The block's column: right of the page's middle (the `Nơi nhận` list stands left of it).
RIGHT_COLUMN = 0.45
NO_SIGNER = Signer(name=None, title=None, authority=None)


def has_printed_name(lines: list[str]) -> bool:
    """Whether the zone's lines give a name that starts with a known surname."""
    signer = signer_from_zone(lines)
    return bool(signer and signer.name and signer.name.split()[0] in SURNAMES)


def signer_region(layout: Layout, pages: list[PageLines]) -> tuple[int, Box] | None:
    """(page number, region in its word-box frame) of the signer block, or None when no closing was found."""
    signer, recipients = layout.lines("signer"), layout.lines("recipients")
    anchor = signer or recipients
    if not anchor:
        return None
    page = next((p for p in pages if p.number == anchor[0].page), None)
    if page is None:
        return None
    height = median([ln.height for ln in page.lines if ln.height > 0], 0.014 * page.height)
    if signer:
        top = min(ln.box[1] for ln in signer) - height
        left = min(ln.box[0] for ln in signer) - 3 * height
    else:  # nothing read right of `Nơi nhận`: the block stands level with it, a line or two higher,
        # under the body's last line
        label = recipients[0].box[1]
        above = [ln.box[3] for ln in page.lines if ln.box[3] < label and ln not in recipients]
        top = max(label - 2 * height, max(above, default=0) + 2)
        left = 0.5 * page.width
    left = max(left, RIGHT_COLUMN * page.width)
    bottom = min(page.height, top + BLOCK_HEIGHT_LINES * height)
    return page.number, (int(left), int(max(0, top)), page.width, int(bottom))


def _rank(lines: list[str], confidence: float) -> tuple[int, float]:
    signer = signer_from_zone(lines)
    name = mend_surname(signer.name) if signer and signer.name else None
    return (2 if name and name.split()[0] in SURNAMES else 1 if name else 0), confidence


def read_signer_again(layout: Layout, document: DocumentText, pages: list[PageLines]) -> None:
    """Add the `signer_read` zone: the signer block of a scan read again, when the page pass read no name."""
    if not layout.zones or has_printed_name([ln.text for ln in layout.lines("signer")]):
        return
    found = signer_region(layout, pages)
    if found is None:
        return
    number, region = found
    page = next((p for p in document.pages if p.number == number), None)
    if page is None or page.source != "ocr":
        return
    readings = read_signer_block(document.source.path, page, region)
    best: tuple[tuple[int, float], list[tuple[str, float]]] | None = None
    for _, lines in readings:
        texts = [text for text, _ in lines]
        # How surely the name's own line was read (a signer block's other lines are its capitals).
        named = [conf for text, conf in lines if (signer_from_zone([text]) or NO_SIGNER).name]
        rank = _rank(texts, max(named, default=0.0))
        if rank[0] and (best is None or rank > best[0]):
            best = (rank, lines)
    if best is None:
        return
    layout.zones["signer_read"] = [TextLine(text=text, page=number, box=region, confidence=round(conf, 3), words=[])
                                   for text, conf in best[1]]
