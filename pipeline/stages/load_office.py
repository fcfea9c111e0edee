"""Word and OpenDocument files: their text and their tables, read from the file's own XML.

Offices circulate plans as Word files.  A `.docx` is read with python-docx:
page headers first, then the body's paragraphs and tables in document order,
then the footers.  A `.odt` is read from its `content.xml` with the standard
library.  A legacy `.doc` is converted to `.docx` by LibreOffice when it is
installed (`soffice --headless --convert-to docx`), and refused with the one
line that says what to install when it is not.

The whole document is one page of text (`text_source` `docx` / `odt`).  Each
table is also kept as a `Table` (a grid of cell texts, see core/types.py), so
that a task table's rows reach the extractors as rows, not as text read across
its columns.  In the text, a table of three columns or more prints one row a
line with ` | ` between cells; a two-column layout table (the header's
issuer | national motto, the `Nơi nhận` | signature block) prints its cells one
after the other, the way the page is read.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import zipfile
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from pipeline.core.errors import BadInput
from pipeline.core.types import InputFile, LoadedDocument, Page, Table
from pipeline.core.vietnamese import nfc

# Zip members that say what an office file is.
DOCX_PART = "word/document.xml"
ODT_MIMETYPE = b"application/vnd.oasis.opendocument.text"
# An OLE2 compound file (legacy Office); a Word one has a `WordDocument` stream.
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
WORD_STREAM = "WordDocument".encode("utf-16-le")
SOFFICE_TIMEOUT_S = 180
# A Word page header holding only a page number (`12`) or nothing is not text.
_PAGE_NUMBER = re.compile(r"^\s*(?:Trang\s*)?\d{0,4}\s*(?:/\s*\d{1,4})?\s*$", re.I)
_SPACES = re.compile(r"[ \t\u00a0\u2002-\u200b]+")


def sniff_office(path: Path, head: bytes) -> tuple[str, str] | None:
    """(kind, mime) of a Word / OpenDocument text file, by content; None for anything else."""
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(path) as archive:
                names = set(archive.namelist())
                if DOCX_PART in names:
                    return "docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
                if "mimetype" in names and archive.read("mimetype").strip() == ODT_MIMETYPE:
                    return "odt", ODT_MIMETYPE.decode()
        except (zipfile.BadZipFile, OSError, KeyError):
            return None
        return None
    if head.startswith(OLE2_MAGIC):
        with path.open("rb") as handle:
            data = handle.read(4 * 2**20)
        if WORD_STREAM in data:
            return "doc", "application/msword"
    return None


def load_office(source: InputFile) -> LoadedDocument:
    """A Word (.docx, or .doc through LibreOffice) or OpenDocument file as one page of text and its tables."""
    if source.kind == "doc":
        with tempfile.TemporaryDirectory(prefix="congvan-doc-") as folder:
            converted = convert_doc(source.path, Path(folder))
            text, tables = read_docx(converted, source.path)
        text_source = "docx"
    elif source.kind == "odt":
        text, tables = read_odt(source.path)
        text_source = "odt"
    else:
        text, tables = read_docx(source.path, source.path)
        text_source = "docx"
    if not text.strip():
        raise BadInput(source.path, f"the {text_source} file holds no text")
    page = Page(number=1, text=text, tables=tables, source=text_source)  # type: ignore[arg-type]
    return LoadedDocument(source=source, pages=[page])


def convert_doc(path: Path, folder: Path) -> Path:
    """A legacy .doc converted to .docx in `folder` by LibreOffice."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        raise BadInput(path, "a legacy Word .doc file: install LibreOffice (apt-get install libreoffice-writer-nogui) "
                             "to read it, or save it as .docx")
    # The input is copied to a plain name: LibreOffice names its output after the input.
    plain = folder / "input.doc"
    shutil.copyfile(path, plain)
    profile = folder / "profile"  # a private profile: no clash with a running LibreOffice
    try:
        subprocess.run(
            [soffice, f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", "docx",
             "--outdir", str(folder), str(plain)],
            capture_output=True, timeout=SOFFICE_TIMEOUT_S, check=False,
        )
    except subprocess.TimeoutExpired as error:
        raise BadInput(path, f"LibreOffice took over {SOFFICE_TIMEOUT_S} s to convert the .doc file") from error
    converted = folder / "input.docx"
    if not converted.exists():
        raise BadInput(path, "LibreOffice could not convert the .doc file (damaged or not a Word document)")
    return converted


def _clean(text: str) -> str:
    lines = [_SPACES.sub(" ", line).strip() for line in nfc(text).replace("\r", "\n").split("\n")]
    return "\n".join(line for line in lines if line)


def _render_table(grid: list[list[str | None]], continued: list[list[bool]]) -> list[str]:
    """A table as lines of text: one row a line for a data table, cell by cell for a layout table."""
    width = max((len(row) for row in grid), default=0)
    lines: list[str] = []
    for row, repeats in zip(grid, continued):
        cells = [cell for cell, repeat in zip(row, repeats) if cell is not None and not repeat]
        if width >= 3:
            line = " | ".join(cell.replace("\n", " ") for cell in cells)
            if line.strip(" |"):
                lines.append(line)
        else:
            lines.extend(line for cell in cells for line in cell.split("\n") if line)
    return lines


# --- .docx (python-docx) -------------------------------------------------------------------------

def read_docx(path: Path, reported: Path) -> tuple[str, list[Table]]:
    """Text (headers, body, footers) and tables of a .docx; `reported` names the file in errors."""
    import docx  # python-docx; imported here so that PDF-only runs never pay for it
    from docx.opc.exceptions import PackageNotFoundError
    from docx.table import Table as DocxTable
    from docx.text.paragraph import Paragraph

    try:
        document = docx.Document(str(path))
    except (PackageNotFoundError, KeyError, ValueError, zipfile.BadZipFile, ElementTree.ParseError) as error:
        raise BadInput(reported, f"damaged Word file ({error})") from error
    except Exception as error:  # lxml's XMLSyntaxError and friends: a broken part
        raise BadInput(reported, f"damaged Word file ({type(error).__name__}: {error})") from error

    lines: list[str] = []
    tables: list[Table] = []

    block: list[Any] = [None]  # the alignment of the block of paragraphs being written

    def new_block(kind: Any) -> None:
        # A blank line where the page changes block: the centred title and
        # subject above the justified body, a table after text.  (The header
        # extractor ends a subject at a blank line.)
        if block[0] is not None and kind != block[0] and lines and lines[-1]:
            lines.append("")
        block[0] = kind

    def add_paragraph(paragraph: Any) -> None:
        text = _clean(paragraph.text)
        if text:
            new_block("centre" if _centred(paragraph) else "text")
            lines.extend(text.split("\n"))

    def add_table(table: Any) -> None:
        grid, continued = _docx_grid(table)
        if not grid:
            return
        tables.append(Table(rows=grid, source="docx", page=1))
        new_block(("table", id(table)))
        lines.extend(_render_table(grid, continued))

    seen_parts: set[int] = set()
    header_lines: list[str] = []
    footer_lines: list[str] = []
    for section in document.sections:
        for part, sink in ((section.header, header_lines), (section.footer, footer_lines)):
            try:
                if part.is_linked_to_previous or id(part.part) in seen_parts:
                    continue
                seen_parts.add(id(part.part))
            except (AttributeError, KeyError, ValueError):
                continue
            for paragraph in part.paragraphs:
                text = _clean(paragraph.text)
                if text and not _PAGE_NUMBER.match(text):
                    sink.extend(text.split("\n"))

    lines.extend(header_lines)
    for item in document.iter_inner_content():
        if isinstance(item, Paragraph):
            add_paragraph(item)
        elif isinstance(item, DocxTable):
            add_table(item)
    lines.extend(footer_lines)
    return "\n".join(lines), tables


def _centred(paragraph: Any) -> bool:
    """Whether a paragraph is centred, by its own format or its style's (inherited)."""
    from docx.enum.text import WD_PARAGRAPH_ALIGNMENT

    alignment = paragraph.alignment
    style = paragraph.style
    while alignment is None and style is not None:
        alignment = style.paragraph_format.alignment
        style = style.base_style
    return bool(alignment == WD_PARAGRAPH_ALIGNMENT.CENTER)


def _docx_grid(table: Any) -> tuple[list[list[str | None]], list[list[bool]]]:
    """The table's grid (see `Table`) and, per slot, whether it continues a vertical merge from above."""
    grid: list[list[str | None]] = []
    continued: list[list[bool]] = []
    above: list[Any] = []  # the row above's cell elements (kept alive, so `is` compares elements)
    for row in table.rows:
        try:
            cells = list(row.cells)
        except (IndexError, ValueError):  # a malformed row (more cells than the grid): skip it
            continue
        row_text: list[str | None] = []
        row_continued: list[bool] = []
        for column, cell in enumerate(cells):
            tc = cell._tc
            if column > 0 and cells[column - 1]._tc is tc:
                row_text.append(None)  # covered by a cell merged from the left
                row_continued.append(False)
                continue
            repeat = column < len(above) and above[column] is tc
            row_text.append(grid[-1][column] if repeat else _cell_text(cell))
            row_continued.append(repeat)
        above = [cell._tc for cell in cells]
        grid.append(row_text)
        continued.append(row_continued)
    return _pad(grid, continued)


def _cell_text(cell: Any) -> str:
    parts = [_clean(paragraph.text) for paragraph in cell.paragraphs]
    for inner in cell.tables:  # a table nested in a cell: its cells' text, in order
        for row in inner.rows:
            parts.extend(_clean(c.text) for c in row.cells)
    return "\n".join(part for part in parts if part)


# --- .odt (content.xml) --------------------------------------------------------------------------

_ODF_TEXT = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
_ODF_TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
_ODF_OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
_ODF_STYLE = "urn:oasis:names:tc:opendocument:xmlns:style:1.0"


def _q(namespace: str, name: str) -> str:
    return f"{{{namespace}}}{name}"


def read_odt(path: Path) -> tuple[str, list[Table]]:
    """Text (page headers, body, footers) and tables of an OpenDocument text file."""
    try:
        with zipfile.ZipFile(path) as archive:
            content = ElementTree.fromstring(archive.read("content.xml"))
            styles = ElementTree.fromstring(archive.read("styles.xml")) if "styles.xml" in archive.namelist() else None
    except (zipfile.BadZipFile, KeyError, ElementTree.ParseError, OSError) as error:
        raise BadInput(path, f"damaged OpenDocument file ({error})") from error
    lines: list[str] = []
    tables: list[Table] = []
    header_lines: list[str] = []
    footer_lines: list[str] = []
    if styles is not None:
        for kind, sink in (("header", header_lines), ("footer", footer_lines)):
            for part in styles.iter(_q(_ODF_STYLE, kind)):
                for paragraph in part.iter():
                    if paragraph.tag in (_q(_ODF_TEXT, "p"), _q(_ODF_TEXT, "h")):
                        text = _clean(_odf_text(paragraph))
                        if text and not _PAGE_NUMBER.match(text):
                            sink.extend(text.split("\n"))
    body = content.find(f"{_q(_ODF_OFFICE, 'body')}/{_q(_ODF_OFFICE, 'text')}")
    if body is not None:
        _odf_walk(body, lines, tables)
    return "\n".join(header_lines + lines + footer_lines), tables


def _odf_text(element: ElementTree.Element) -> str:
    """The text of a paragraph: spans, `text:s` spaces, tabs and line breaks included."""
    out: list[str] = [element.text or ""]
    for child in element:
        if child.tag == _q(_ODF_TEXT, "s"):
            out.append(" " * int(child.get(_q(_ODF_TEXT, "c"), "1")))
        elif child.tag == _q(_ODF_TEXT, "tab"):
            out.append("\t")
        elif child.tag == _q(_ODF_TEXT, "line-break"):
            out.append("\n")
        elif child.tag in (_q(_ODF_TEXT, "note"),):
            pass  # footnotes are not part of the running text
        else:
            out.append(_odf_text(child))
        out.append(child.tail or "")
    return "".join(out)


def _odf_walk(element: ElementTree.Element, lines: list[str], tables: list[Table]) -> None:
    for child in element:
        if child.tag in (_q(_ODF_TEXT, "p"), _q(_ODF_TEXT, "h")):
            text = _clean(_odf_text(child))
            if text:
                lines.extend(text.split("\n"))
        elif child.tag == _q(_ODF_TABLE, "table"):
            grid, continued = _odf_grid(child)
            if grid:
                tables.append(Table(rows=grid, source="odt", page=1))
                lines.extend(_render_table(grid, continued))
        else:  # lists, sections, frames: their paragraphs in order
            _odf_walk(child, lines, tables)


def _odf_cell_text(cell: ElementTree.Element) -> str:
    sub_lines: list[str] = []
    _odf_walk(cell, sub_lines, [])
    return "\n".join(sub_lines)


def _odf_grid(table: ElementTree.Element) -> tuple[list[list[str | None]], list[list[bool]]]:
    rows = [row for row in table.iter(_q(_ODF_TABLE, "table-row"))
            if _nearest_table(table, row)]
    grid: list[list[str | None]] = []
    continued: list[list[bool]] = []
    pending: dict[int, tuple[str, int]] = {}  # column -> (text, rows still covered) of a vertical merge
    for row in rows:
        row_text: list[str | None] = []
        flags: list[bool] = []
        column = 0
        for cell in row:
            if cell.tag not in (_q(_ODF_TABLE, "table-cell"), _q(_ODF_TABLE, "covered-table-cell")):
                continue
            repeat = int(cell.get(_q(_ODF_TABLE, "number-columns-repeated"), "1"))
            repeat = min(repeat, 64)  # a style row repeated 1024 times to the sheet's edge
            for _ in range(repeat):
                if cell.tag == _q(_ODF_TABLE, "covered-table-cell"):
                    if column in pending:
                        text, left = pending[column]
                        row_text.append(text)
                        flags.append(True)
                        if left <= 1:
                            del pending[column]
                        else:
                            pending[column] = (text, left - 1)
                    else:
                        row_text.append(None)
                        flags.append(False)
                else:
                    text = _odf_cell_text(cell)
                    row_text.append(text)
                    flags.append(False)
                    span = int(cell.get(_q(_ODF_TABLE, "number-rows-spanned"), "1"))
                    if span > 1:
                        pending[column] = (text, span - 1)
                column += 1
        grid.append(row_text)
        continued.append(flags)
    return _pad(grid, continued)


def _pad(grid: list[list[str | None]], continued: list[list[bool]]
         ) -> tuple[list[list[str | None]], list[list[bool]]]:
    """Every row as wide as the widest (rows with fewer cells are padded with covered slots)."""
    width = max((len(cells) for cells in grid), default=0)
    for cells, flags in zip(grid, continued):
        cells.extend([None] * (width - len(cells)))
        flags.extend([False] * (width - len(flags)))
    return grid, continued


def _nearest_table(table: ElementTree.Element, row: ElementTree.Element) -> bool:
    """Whether `row` belongs to `table` itself rather than to a table nested in one of its cells."""
    for nested in table.iter(_q(_ODF_TABLE, "table")):
        if nested is table:
            continue
        if any(r is row for r in nested.iter(_q(_ODF_TABLE, "table-row"))):
            return False
    return True
