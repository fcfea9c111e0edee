"""Stage 1, load: a path on disk -> a LoadedDocument of pages.

The file type is decided by the bytes, never the name.  A PDF page keeps its
text layer when that layer is real Vietnamese; a page whose layer is missing,
a scanner stamp, English-model OCR garble, or junk from a font whose glyphs
map to the wrong characters is rasterised at 300 dpi for OCR.  Images
(multi-page TIFF included) become one page per frame.

No page is rasterised past the pixel budget (`Settings.max_page_pixels`): an
oversized PDF page is rendered at a lower resolution when that still reads,
and fails with its size otherwise; an image over the budget fails likewise.
"""

from __future__ import annotations

import html
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pdf2image import convert_from_path, pdfinfo_from_path
from pdf2image.exceptions import PDFPageCountError, PDFSyntaxError
from PIL import Image, UnidentifiedImageError

from pipeline.core.errors import BadInput
from pipeline.core.files import sha256_of
from pipeline.core.settings import DEFAULT_MAX_PAGE_PIXELS
from pipeline.core.types import InputFile, LoadedDocument, Page, Word
from pipeline.core.vietnamese import is_good_vietnamese_text, is_syllable_shape, nfc, words
from pipeline.stages.load_office import load_office, sniff_office
from pipeline.stages.load_tables import pdf_tables

RASTER_DPI = 300
MAX_BYTES = 200 * 1024 * 1024  # a letter is never this big; a 2 GB file is a mistake
MAX_PAGES = 300
# Below this a page's text is too small for Tesseract; an oversized page that
# would need less to fit the pixel budget fails instead of reading as noise.
MIN_RASTER_DPI = 150
# A text layer with at least this many words is judged; under this share of
# real Vietnamese syllables it is junk (a font whose glyphs map to the wrong
# characters: `.ӂ +2Ҥ&+` for `KẾ HOẠCH`, TCVN3's `Uû ban nh©n d©n`).
GARBLED_MIN_WORDS = 10
GARBLED_BELOW = 0.6
# A page needs this much text of its own before its text layer is trusted; a
# scan's layer often holds only the digital-signature stamp or the page header.
MIN_TEXT_LAYER_CHARS = 200
# A page whose images cover less than this share of it (a logo, a seal, a
# signature) is not a scan: its text layer, however short, is all there is.
SCAN_COVERAGE = 0.1

_MAGIC: list[tuple[bytes, str, str]] = [
    (b"%PDF-", "pdf", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image", "image/png"),
    (b"\xff\xd8\xff", "image", "image/jpeg"),
    (b"II*\x00", "image", "image/tiff"),
    (b"MM\x00*", "image", "image/tiff"),
    (b"BM", "image", "image/bmp"),
    (b"GIF8", "image", "image/gif"),
]
_EXTENSION_KIND = {
    ".pdf": "pdf", ".png": "image", ".jpg": "image", ".jpeg": "image", ".tif": "image",
    ".tiff": "image", ".bmp": "image", ".gif": "image", ".webp": "image", ".txt": "text",
    ".docx": "docx", ".odt": "odt", ".doc": "doc",
}
# Word saves either format under either name; a .doc that is really a .docx (or the reverse) is read as what it is.
_INTERCHANGEABLE = {frozenset({"doc", "docx"})}
_MIME_NAME = {"application/pdf": "a PDF", "image/png": "a PNG image", "image/jpeg": "a JPEG image",
              "image/tiff": "a TIFF image", "image/bmp": "a BMP image", "image/gif": "a GIF image",
              "image/webp": "a WebP image", "text/plain": "a text file",
              "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "a Word .docx file",
              "application/vnd.oasis.opendocument.text": "an OpenDocument text file",
              "application/msword": "a legacy Word .doc file"}


def _sniff(head: bytes) -> tuple[str, str] | None:
    for magic, kind, mime in _MAGIC:
        if head.startswith(magic):
            return kind, mime
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image", "image/webp"
    # A PDF may carry a few junk bytes before its header; readers accept 1 KB.
    if b"%PDF-" in head[:1024]:
        return "pdf", "application/pdf"
    return None


def identify(path: Path) -> InputFile:
    """Hash and type a file by its content; reject what congvan cannot read."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as error:
        raise BadInput(path, f"cannot read file ({error.strerror})") from error
    if size == 0:
        raise BadInput(path, "empty file (0 bytes)")
    if size > MAX_BYTES:
        raise BadInput(path, f"file too large ({size / 2**20:.0f} MB; limit {MAX_BYTES // 2**20} MB)")
    try:
        with path.open("rb") as handle:
            head = handle.read(4096)
        sniffed = _sniff(head) or sniff_office(path, head)
        if sniffed is None:
            if _decode_text(path.read_bytes()) is None:
                raise BadInput(path, f"not a PDF, an image or UTF-8 text ({_describe(head)})")
            sniffed = ("text", "text/plain")
    except OSError as error:  # no read permission, an I/O error on a failing disk
        raise BadInput(path, f"cannot read file ({error.strerror or error})") from error
    kind, mime = sniffed
    claimed = _EXTENSION_KIND.get(path.suffix.lower())
    if claimed is not None and claimed != kind and frozenset({claimed, kind}) not in _INTERCHANGEABLE:
        # Content decides the type, but a name that lies is reported rather
        # than guessed around: the sender mislabelled it and should know.
        raise BadInput(path, f"named {path.suffix} but the content is {_MIME_NAME.get(mime, mime)}")
    return InputFile(path=path, sha256=sha256_of(path), size=size, kind=kind, mime=mime)  # type: ignore[arg-type]


def _describe(head: bytes) -> str:
    """What a file that is none of congvan's kinds looks like, for its failure message."""
    if head.startswith(b"PK\x03\x04"):
        if b"word/" in head:
            return "a Word file (.docx)"
        if b"xl/" in head:
            return "an Excel file (.xlsx)"
        return "a ZIP archive"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return "an old Office file (.doc/.xls)"
    if head.startswith(b"{\\rtf"):
        return "an RTF document"
    return "unknown binary data"


def load(source: InputFile | Path, *, max_page_pixels: int = DEFAULT_MAX_PAGE_PIXELS) -> LoadedDocument:
    """Read an identified file into pages (text to keep or images to OCR)."""
    if not isinstance(source, InputFile):
        source = identify(Path(source))
    if source.kind == "text":
        return _load_text(source)
    if source.kind == "image":
        return _load_image(source, max_page_pixels)
    if source.kind in ("docx", "odt", "doc"):
        return load_office(source)
    return _load_pdf(source, max_page_pixels)


def _decode_text(data: bytes) -> str | None:
    if b"\x00" in data and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None
    for encoding in ("utf-8-sig", "utf-16"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None


def _load_text(source: InputFile) -> LoadedDocument:
    text = _decode_text(source.path.read_bytes())
    if text is None:
        raise BadInput(source.path, "not UTF-8 text")
    text = nfc(text.replace("\r\n", "\n"))
    if not text.strip():
        raise BadInput(source.path, "text file holds no text")
    return LoadedDocument(source=source, pages=[Page(number=1, text=text)])


def _megapixels(pixels: float) -> str:
    return f"{pixels / 1e6:.0f} Mpx" if pixels >= 1e7 else f"{pixels / 1e6:.1f} Mpx"


def _check_image_size(source: InputFile, image: Image.Image, frame: int, max_pixels: int) -> None:
    # Judged from the header, before a pixel is decoded.
    if image.width * image.height > max_pixels:
        where = f"frame {frame + 1} is " if frame else ""
        pixels = image.width * image.height
        raise BadInput(source.path, f"image too large: {where}{image.width}x{image.height} pixels "
                                    f"({_megapixels(pixels)}; the limit is {_megapixels(max_pixels)})")


def _load_image(source: InputFile, max_pixels: int = DEFAULT_MAX_PAGE_PIXELS) -> LoadedDocument:
    try:
        with Image.open(source.path) as image:
            pages = []
            frame = 0
            while True:
                image.seek(frame)
                _check_image_size(source, image, frame, max_pixels)
                pages.append(Page(number=frame + 1, image=_to_gray(image), dpi=_image_dpi(image)))
                frame += 1
                if frame >= getattr(image, "n_frames", 1):
                    break
                if frame >= MAX_PAGES:
                    raise BadInput(source.path, f"too many pages (over {MAX_PAGES})")
    except BadInput:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError) as error:
        raise BadInput(source.path, f"unreadable or truncated image ({error})") from error
    return LoadedDocument(source=source, pages=pages)


def _to_gray(image: Image.Image) -> np.ndarray:
    if image.mode in ("RGBA", "LA", "P"):
        background = Image.new("RGB", image.size, "white")
        rgba = image.convert("RGBA")
        background.paste(rgba, mask=rgba.getchannel("A"))
        image = background
    return np.asarray(image.convert("L"), dtype=np.uint8).copy()


def _image_dpi(image: Image.Image) -> int:
    """The image's resolution; without metadata, guess from an A4 page width."""
    dpi = image.info.get("dpi")
    if dpi and dpi[0] and 50 <= float(dpi[0]) <= 1200:
        return int(round(float(dpi[0])))
    short_side = min(image.width, image.height)
    return max(50, int(round(short_side / 8.27)))


def _pdf_page_count(source: InputFile) -> int:
    with source.path.open("rb") as handle:
        handle.seek(max(0, source.size - 2048))
        tail = handle.read()
    if b"%%EOF" not in tail:
        raise BadInput(source.path, "truncated PDF (no end-of-file marker)")
    try:
        info = pdfinfo_from_path(str(source.path))
    except (PDFPageCountError, PDFSyntaxError) as error:
        message = str(error).lower()
        if "incorrect password" in message or "encrypt" in message:
            raise BadInput(source.path, "encrypted PDF (a password is needed to open it)") from error
        if "page count 0" in message:
            raise BadInput(source.path, "PDF has no pages") from error
        raise BadInput(source.path, f"damaged PDF ({str(error).strip().splitlines()[-1]})") from error
    pages = int(info.get("Pages", 0) or 0)
    if pages == 0:
        raise BadInput(source.path, "PDF has no pages")
    if pages > MAX_PAGES:
        raise BadInput(source.path, f"too many pages ({pages}; limit {MAX_PAGES})")
    return pages


def _pdf_text_layer(source: InputFile, page_count: int) -> list[str]:
    """Each page's text layer, in reading order (poppler's pdftotext)."""
    result = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(source.path), "-"],
        capture_output=True, timeout=120, check=False,
    )
    pages = result.stdout.decode("utf-8", "replace").split("\f")
    pages = [nfc(p) for p in pages[:page_count]]
    return pages + [""] * (page_count - len(pages))


def _pdf_page_sizes(source: InputFile, page_count: int) -> list[tuple[float, float]]:
    """Each page's size in points (poppler's pdfinfo); A4 where it cannot say."""
    sizes = [(595.0, 842.0)] * page_count
    info = subprocess.run(["pdfinfo", "-f", "1", "-l", str(page_count), str(source.path)],
                          capture_output=True, timeout=60, check=False)
    for line in info.stdout.decode("utf-8", "replace").splitlines():
        # `Page    1 size: 595.276 x 841.89 pts (A4)`
        parts = line.split()
        if len(parts) >= 6 and parts[0] == "Page" and parts[2] == "size:" and parts[4] == "x":
            try:
                number, width, height = int(parts[1]), float(parts[3]), float(parts[5])
            except ValueError:
                continue
            if 1 <= number <= page_count and width > 0 and height > 0:
                sizes[number - 1] = (width, height)
    return sizes


def raster_dpi(width_pt: float, height_pt: float, max_pixels: int, wanted: int = RASTER_DPI) -> int:
    """The resolution to render a page at: `wanted`, or less so it fits `max_pixels`."""
    area = (width_pt / 72.0) * (height_pt / 72.0)
    return max(1, min(wanted, int((max_pixels / max(area, 1e-6)) ** 0.5)))


def layer_is_garbled(layer: str) -> bool:
    """Whether a text layer is junk rather than words (see GARBLED_BELOW).

    Real syllables are counted: Vietnamese, with or without its marks, is
    nearly all syllable-shaped words and upper-case abbreviations (UBND, HĐND);
    glyphs mapped to the wrong code points make few of either, whatever the
    junk looks like (other scripts, symbols inside words, Latin-1 letters).
    """
    tokens = words(layer)
    if len(tokens) < GARBLED_MIN_WORDS:
        return False
    real = sum(1 for t in tokens if is_syllable_shape(t) or _abbreviation(t))
    return real / len(tokens) < GARBLED_BELOW


def _abbreviation(token: str) -> bool:
    return 2 <= len(token) <= 8 and all("A" <= c <= "Z" or c == "Đ" for c in token)


def _pdf_image_coverage(source: InputFile, page_count: int,
                        sizes: list[tuple[float, float]] | None = None) -> list[float]:
    """Share of each page's area covered by embedded images (poppler's pdfimages).

    A scanned page is one page-sized image; a born-digital page has at most a
    logo or a signature.
    """
    coverage = [0.0] * page_count
    sizes = sizes or _pdf_page_sizes(source, page_count)
    listing = subprocess.run(["pdfimages", "-list", str(source.path)], capture_output=True, timeout=120, check=False)
    for line in listing.stdout.decode("utf-8", "replace").splitlines()[2:]:
        cells = line.split()
        if len(cells) < 14 or cells[2] != "image":
            continue
        try:
            page, width, height = int(cells[0]), int(cells[3]), int(cells[4])
            x_ppi, y_ppi = float(cells[12]), float(cells[13])
        except ValueError:
            continue
        if 1 <= page <= page_count and x_ppi > 0 and y_ppi > 0:
            width_pt, height_pt = sizes[page - 1]
            page_area = (width_pt / 72.0) * (height_pt / 72.0)
            coverage[page - 1] += (width / x_ppi) * (height / y_ppi) / page_area
    return coverage


# Words whose tops lie within this share of their height sit on one text line.
_SAME_LINE = 0.5


_BBOX_PAGE = re.compile(r'<page width="(?P<w>[\d.]+)" height="(?P<h>[\d.]+)">(?P<body>.*?)</page>', re.S)
_BBOX_WORD = re.compile(r'<word xMin="(?P<x0>[\d.\-]+)" yMin="(?P<y0>[\d.\-]+)" xMax="(?P<x1>[\d.\-]+)" '
                        r'yMax="(?P<y1>[\d.\-]+)">(?P<text>.*?)</word>', re.S)


def _pdf_words(source: InputFile, page_count: int) -> list[tuple[list[Word], int, int]]:
    """Each page's text-layer words with boxes in pixels at RASTER_DPI, and the page size.

    The layout stage reads these the way it reads Tesseract's words, so a
    born-digital letter and a scan of it meet the same zone rules.  They come
    from poppler's `pdftotext -bbox`, the same reading as the page's text
    (a number a signing tool stamped into the `Số:` slot included).
    """
    empty: list[tuple[list[Word], int, int]] = [([], 0, 0)] * page_count
    try:
        result = subprocess.run(["pdftotext", "-bbox", "-enc", "UTF-8", str(source.path), "-"],
                                capture_output=True, timeout=120, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return empty
    scale = RASTER_DPI / 72.0
    pages: list[tuple[list[Word], int, int]] = []
    for page in _BBOX_PAGE.finditer(result.stdout.decode("utf-8", "replace")):
        raw = []
        for match in _BBOX_WORD.finditer(page.group("body")):
            x0, y0, x1, y1 = (float(match.group(k)) * scale for k in ("x0", "y0", "x1", "y1"))
            raw.append((x0, y0, x1, y1, nfc(html.unescape(match.group("text")))))
        words: list[Word] = []
        # Lines as (middle, height); a word joins a recent line it sits level with (two
        # columns interleave in top order, so not only the last line is open).
        lines: list[tuple[float, float]] = []
        for x0, y0, x1, y1, text in sorted(raw, key=lambda w: (round(w[1]), w[0])):
            height, middle = y1 - y0, (y0 + y1) / 2
            line = next((i for i in range(len(lines) - 1, max(-1, len(lines) - 6), -1)
                         if abs(middle - lines[i][0]) <= _SAME_LINE * max(min(height, lines[i][1]), 1.0)), None)
            if line is None:
                lines.append((middle, height))
                line = len(lines) - 1
            words.append(Word(text=text, confidence=100.0, line=line,
                              box=(int(x0), int(y0), max(1, int(x1 - x0)), max(1, int(height)))))
        words.sort(key=lambda w: (w.line, w.box[0] if w.box else 0))  # a line reads left to right
        pages.append((words, int(float(page.group("w")) * scale), int(float(page.group("h")) * scale)))
    return pages[:page_count] + empty[len(pages):]


# Share of dark pixels above which a page without text or images has something drawn on it.
INK_SHARE = 0.002


def _has_ink(source: InputFile, number: int) -> bool:
    """Whether a page is drawn on, seen at a glance (40 dpi): text as vector glyphs is."""
    try:
        images = convert_from_path(str(source.path), dpi=40, first_page=number, last_page=number, grayscale=True)
    except (PDFPageCountError, PDFSyntaxError, OSError):
        return False
    if not images:
        return False
    pixels = np.asarray(images[0].convert("L"), dtype=np.uint8)
    return bool((pixels < 128).mean() > INK_SHARE)


def _load_pdf(source: InputFile, max_pixels: int = DEFAULT_MAX_PAGE_PIXELS) -> LoadedDocument:
    page_count = _pdf_page_count(source)
    layers = _pdf_text_layer(source, page_count)
    sizes = _pdf_page_sizes(source, page_count)
    coverage = _pdf_image_coverage(source, page_count, sizes)
    pages: list[Page] = []
    layer_words: list[tuple[list[Word], int, int]] | None = None
    for number, (layer, covered, size) in enumerate(zip(layers, coverage, sizes, strict=True), start=1):
        good_layer = len(layer.strip()) >= MIN_TEXT_LAYER_CHARS and is_good_vietnamese_text(layer)
        # A page with neither images nor text is blank, or drawn in vector
        # glyphs (Print-to-PDF): then only its picture holds the letter, and it is
        # OCR'd.  Only before the first text layer, where the letter opens: a
        # drawn page after text pages is a cover or a printer's colophon.
        drawn = covered < SCAN_COVERAGE and not layer.strip() and not any(p.text for p in pages) \
            and _has_ink(source, number)
        if good_layer or (covered < SCAN_COVERAGE and not drawn and not layer_is_garbled(layer)):
            if layer_words is None:
                layer_words = _pdf_words(source, page_count)
            page_words, width, height = layer_words[number - 1]
            pages.append(Page(number=number, text=layer, words=page_words, width=width, height=height))
        else:
            pages.append(Page(number=number, image=None, dpi=_fitting_dpi(source, number, size, max_pixels)))
    # Tables drawn on the pages kept as text (a task table's rows, read as rows).
    drawn_tables = pdf_tables(source.path, [page.number for page in pages if page.text is not None])
    for page in pages:
        page.tables = drawn_tables.get(page.number, [])
    return LoadedDocument(source=source, pages=pages)


def _fitting_dpi(source: InputFile, number: int, size: tuple[float, float], max_pixels: int) -> int:
    """The dpi page `number` is rendered at for OCR, or BadInput when no readable one fits the budget."""
    dpi = raster_dpi(*size, max_pixels)
    if dpi < MIN_RASTER_DPI:
        width_in, height_in = size[0] / 72.0, size[1] / 72.0
        pixels = width_in * height_in * MIN_RASTER_DPI ** 2
        raise BadInput(source.path, f"page {number} is too large to read: {width_in:.0f} x {height_in:.0f} inches "
                                    f"({_megapixels(pixels)} at {MIN_RASTER_DPI} dpi; the limit is "
                                    f"{_megapixels(max_pixels)})")
    return dpi


@dataclass(frozen=True)
class PdfPageRef:
    """Where to rasterise one PDF page from; cheap to send to a worker process."""

    path: Path
    number: int
    dpi: int = RASTER_DPI
    max_pixels: int = DEFAULT_MAX_PAGE_PIXELS


def rasterise_pdf_page(ref: PdfPageRef) -> np.ndarray:
    """One PDF page as a grayscale array at `ref.dpi` (pdf2image over poppler).

    The page size is asked again first (load chose `ref.dpi` from it, but a
    PdfPageRef may be made by hand): nothing past `ref.max_pixels` is rendered.
    """
    info = subprocess.run(["pdfinfo", "-f", str(ref.number), "-l", str(ref.number), str(ref.path)],
                          capture_output=True, timeout=60, check=False)
    for line in info.stdout.decode("utf-8", "replace").splitlines():
        parts = line.split()
        if len(parts) >= 6 and parts[0] == "Page" and parts[2] == "size:":
            try:
                width_pt, height_pt = float(parts[3]), float(parts[5])
            except ValueError:
                continue
            pixels = (width_pt / 72.0 * ref.dpi) * (height_pt / 72.0 * ref.dpi)
            if pixels > ref.max_pixels:
                raise BadInput(ref.path, f"page {ref.number} at {ref.dpi} dpi would be {_megapixels(pixels)}, "
                                         f"over the limit of {_megapixels(ref.max_pixels)}", stage="load")
    try:
        images = convert_from_path(
            str(ref.path), dpi=ref.dpi, first_page=ref.number, last_page=ref.number, grayscale=True
        )
    except (PDFPageCountError, PDFSyntaxError) as error:
        raise BadInput(ref.path, f"page {ref.number} cannot be rendered ({error})", stage="load") from error
    if not images:
        raise BadInput(ref.path, f"page {ref.number} cannot be rendered", stage="load")
    return np.asarray(images[0].convert("L"), dtype=np.uint8).copy()
