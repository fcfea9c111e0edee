"""Tables drawn in a born-digital PDF, read as grids of cells (pdfplumber's table finder).

A plan's task table printed to PDF keeps its ruling lines as drawing
operations and its words in the text layer.  pdfplumber finds the table from
the lines and gives each cell's words; the grid is then put in the shape of
`core.types.Table`: a slot covered by a cell merged from the left is None, a
slot covered by a cell merged from above repeats that cell's text.  Only pages
whose text layer is kept are read; a scanned page's tables are for OCR.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from pipeline.core.types import Table
from pipeline.core.vietnamese import nfc

log = logging.getLogger(__name__)
# Fewer ruling lines than this on a page: no table worth the table finder's time.
MIN_EDGES = 6
# pdfminer parses a page in about a tenth of a second: a 300-page gazette would pay half a minute.
# Task tables sit in a plan's body or appendix; past this many pages, tables are not looked for.
MAX_TABLE_PAGES = 80
TABLE_SETTINGS = {"vertical_strategy": "lines", "horizontal_strategy": "lines", "snap_tolerance": 3,
                  "intersection_tolerance": 4}


def pdf_tables(path: Path, pages: list[int]) -> dict[int, list[Table]]:
    """Tables on the given 1-based pages, keyed by page; {} when pdfplumber cannot read the file."""
    pages = pages[:MAX_TABLE_PAGES]
    if not pages:
        return {}
    try:
        import pdfplumber
    except ImportError:  # an install without it reads PDFs as before
        return {}
    found: dict[int, list[Table]] = {}
    try:
        with pdfplumber.open(str(path)) as pdf:
            for number in pages:
                if not 1 <= number <= len(pdf.pages):
                    continue
                page = pdf.pages[number - 1]
                try:
                    if len(page.lines) + len(page.rects) < MIN_EDGES:
                        continue
                    grids = [_grid(table, number) for table in page.find_tables(TABLE_SETTINGS)]
                except Exception as error:  # a malformed page: its text is still read, its tables are not
                    log.debug("no tables from page %d of %s: %s", number, path, error)
                    continue
                tables = [t for t in grids if t is not None]
                if tables:
                    found[number] = tables
                page.flush_cache()
    except Exception as error:  # pdfminer's own parse errors: the text layer was read by poppler anyway
        log.debug("pdfplumber cannot read %s: %s", path, error)
        return {}
    return found


def _grid(table: Any, page: int) -> Table | None:
    texts = table.extract()
    rows = table.rows
    if len(texts) < 2 or not rows:
        return None
    width = max(len(r) for r in texts)
    boxes: list[list[tuple[float, float, float, float] | None]] = [list(r.cells) + [None] * (width - len(r.cells))
                                                                  for r in rows]
    grid: list[list[str | None]] = []
    for r, row in enumerate(texts):
        out: list[str | None] = []
        for c in range(width):
            cell = row[c] if c < len(row) else None
            if cell is not None:
                out.append(nfc(cell).strip())
                continue
            out.append(_covered(grid, boxes, r, c))
        grid.append(out)
    if width < 2:
        return None
    return Table(rows=grid, source="pdf", page=page)


def _covered(grid: list[list[str | None]], boxes: list[list[Any]], r: int, c: int) -> str | None:
    """A missing slot: the text of the cell merged down into it, else None (merged from the left)."""
    row_box = next((b for b in boxes[r] if b is not None), None)
    if row_box is None:
        return None
    for k in range(r - 1, -1, -1):
        above = boxes[k][c]
        if above is None:
            continue
        # The nearest real cell above reaches down over this row: a vertical merge.
        return grid[k][c] if above[3] > row_box[1] + 1 else None
    return None
