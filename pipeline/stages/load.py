"""Stage 1, load: a path on disk -> a LoadedDocument of pages.

The file type is decided by the bytes, never the name.  A PDF page keeps its
text layer when that layer is real Vietnamese; a page whose layer is missing,
a scanner stamp, or English-model OCR garble is rasterised at 300 dpi for OCR.
Images (multi-page TIFF included) become one page per frame.
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
from pipeline.core.types import InputFile, LoadedDocument, Page, Word
from pipeline.core.vietnamese import is_good_vietnamese_text, nfc
from pipeline.stages.load_office import load_office, sniff_office
from pipeline.stages.load_tables import pdf_tables

RASTER_DPI = 300
MAX_BYTES = 200 * 1024 * 1024  # a letter is never this big; a 2 GB file is a mistake
MAX_PAGES = 300
MAX_PIXELS = 20000 * 20000
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
    with path.open("rb") as handle:
        head = handle.read(4096)
    sniffed = _sniff(head) or sniff_office(path, head)
    if sniffed is None:
        if _decode_text(path.read_bytes()) is None:
            raise BadInput(path, "not a PDF, an image or UTF-8 text")
        sniffed = ("text", "text/plain")
    kind, mime = sniffed
    claimed = _EXTENSION_KIND.get(path.suffix.lower())
    if claimed is not None and claimed != kind and frozenset({claimed, kind}) not in _INTERCHANGEABLE:
        # Content decides the type, but a name that lies is reported rather
        # than guessed around: the sender mislabelled it and should know.
        raise BadInput(path, f"named {path.suffix} but the content is {_MIME_NAME.get(mime, mime)}")
    return InputFile(path=path, sha256=sha256_of(path), size=size, kind=kind, mime=mime)  # type: ignore[arg-type]


def load(source: InputFile | Path) -> LoadedDocument:
    """Read an identified file into pages (text to keep or images to OCR)."""
    if not isinstance(source, InputFile):
        source = identify(Path(source))
    if source.kind == "text":
        return _load_text(source)
    if source.kind == "image":
        return _load_image(source)
    if source.kind in ("docx", "odt", "doc"):
        return load_office(source)
    return _load_pdf(source)


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


def _load_image(source: InputFile) -> LoadedDocument:
    try:
        with Image.open(source.path) as image:
            if image.width * image.height > MAX_PIXELS:
                raise BadInput(source.path, f"image too large ({image.width}x{image.height} pixels)")
            pages = []
            frame = 0
            while True:
                image.seek(frame)
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


def _pdf_image_coverage(source: InputFile, page_count: int) -> list[float]:
    """Share of each page's area covered by embedded images (poppler's pdfimages).

    A scanned page is one page-sized image; a born-digital page has at most a
    logo or a signature.
    """
    coverage = [0.0] * page_count
    info = subprocess.run(["pdfinfo", str(source.path)], capture_output=True, timeout=60, check=False)
    width_pt, height_pt = 595.0, 842.0  # A4 when pdfinfo cannot say
    for line in info.stdout.decode("utf-8", "replace").splitlines():
        if line.startswith("Page size:"):
            parts = line.split()
            width_pt, height_pt = float(parts[2]), float(parts[4])
    page_area = (width_pt / 72.0) * (height_pt / 72.0)
    listing = subprocess.run(["pdfimages", "-list", str(source.path)], capture_output=True, timeout=120, check=False)
    for line in listing.stdout.decode("utf-8", "replace").splitlines()[2:]:
        cells = line.split()
        if len(cells) < 14 or cells[2] != "image":
            continue
        try:
            page, width, height, x_ppi, y_ppi = int(cells[0]), int(cells[3]), int(cells[4]), float(cells[12]), float(cells[13])
        except ValueError:
            continue
        if 1 <= page <= page_count and x_ppi > 0 and y_ppi > 0:
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


def _load_pdf(source: InputFile) -> LoadedDocument:
    page_count = _pdf_page_count(source)
    layers = _pdf_text_layer(source, page_count)
    coverage = _pdf_image_coverage(source, page_count)
    pages: list[Page] = []
    layer_words: list[tuple[list[Word], int, int]] | None = None
    for number, (layer, covered) in enumerate(zip(layers, coverage), start=1):
        good_layer = len(layer.strip()) >= MIN_TEXT_LAYER_CHARS and is_good_vietnamese_text(layer)
        # A page with neither images nor text is blank, or drawn in vector
        # glyphs (Print-to-PDF): then only its picture holds the letter, and it is
        # OCR'd.  Only before the first text layer, where the letter opens: a
        # drawn page after text pages is a cover or a printer's colophon.
        drawn = covered < SCAN_COVERAGE and not layer.strip() and not any(p.text for p in pages) \
            and _has_ink(source, number)
        if good_layer or (covered < SCAN_COVERAGE and not drawn):
            if layer_words is None:
                layer_words = _pdf_words(source, page_count)
            words, width, height = layer_words[number - 1]
            pages.append(Page(number=number, text=layer, words=words, width=width, height=height))
        else:
            pages.append(Page(number=number, image=None, dpi=RASTER_DPI))
    # Tables drawn on the pages kept as text (a task table's rows, read as rows).
    drawn = pdf_tables(source.path, [page.number for page in pages if page.text is not None])
    for page in pages:
        page.tables = drawn.get(page.number, [])
    return LoadedDocument(source=source, pages=pages)


@dataclass(frozen=True)
class PdfPageRef:
    """Where to rasterise one PDF page from; cheap to send to a worker process."""

    path: Path
    number: int
    dpi: int = RASTER_DPI


def rasterise_pdf_page(ref: PdfPageRef) -> np.ndarray:
    """One PDF page as a grayscale array at `ref.dpi` (pdf2image over poppler)."""
    try:
        images = convert_from_path(
            str(ref.path), dpi=ref.dpi, first_page=ref.number, last_page=ref.number, grayscale=True
        )
    except (PDFPageCountError, PDFSyntaxError) as error:
        raise BadInput(ref.path, f"page {ref.number} cannot be rendered ({error})", stage="load") from error
    if not images:
        raise BadInput(ref.path, f"page {ref.number} cannot be rendered", stage="load")
    return np.asarray(images[0].convert("L"), dtype=np.uint8).copy()
