"""Page images for the desk: found from the kept original, rendered at screen
resolution, cached on disk.

The database keeps where a file was read from (`documents.source`); `congvan
inbox` then moves the file to `done/YYYY/MM/` beside the inbox.  So the
original is looked for at its source path, then under every `done` folder
beside one of its parent folders, then under the folders given to `congvan
serve --originals`; a candidate counts only if its SHA-256 is the document's.
Rendering (pdf2image for PDFs, Pillow for images) happens once per page: the
PNG is cached under `$CONGVAN_CACHE_DIR/desk` (default `~/.cache/congvan/desk`).

The "slot crop" of a doubtful number or date is the slot itself where the
handwriting stage found it on page one: its box (SlotReading.box, on the
OCR'd page) is kept in `pages.slots` with that page's frame
(`pages.width`/`height`; store.py), and `slot_region` turns it into a part of
the page with the words around it.  Where no box was kept (a born-digital
letter, a database from before, a rotated page) the crop is the part of the
first page's header where Vietnamese letters print the field (Decree
30/2020: the number under the issuer on the left, the place and date on the
right).
"""

from __future__ import annotations

import io
import os
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from pipeline.core.files import sha256_of

__all__ = ["SCREEN_DPI", "HEADER_REGIONS", "PageImages", "slot_region"]

SCREEN_DPI = 100  # an A4 page 827 px wide: readable beside the fields, small to send
MAX_WIDTH = 1000
_IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp", ".gif"}

# Where a field sits on page 1, as fractions (left, top, right, bottom) of the page.
HEADER_REGIONS: dict[str, tuple[float, float, float, float]] = {
    "doc_number": (0.0, 0.04, 0.55, 0.26),
    "issuer": (0.0, 0.02, 0.55, 0.20),
    "issue_date": (0.40, 0.04, 1.0, 0.26),
    "place": (0.40, 0.04, 1.0, 0.26),
    "subject": (0.0, 0.14, 1.0, 0.40),
    "doc_type": (0.0, 0.14, 1.0, 0.40),
}
HEADER = (0.0, 0.0, 1.0, 0.40)

# The handwriting stage's slots (pages.slots) that hold each field.
FIELD_SLOTS = {"doc_number": ("number",), "issue_date": ("day", "month")}
Region = tuple[float, float, float, float]


def slot_region(field: str, slots: dict[str, list[int]] | None, width: int | None,
                height: int | None) -> Region | None:
    """Where the field's handwritten slots are on page one, as fractions
    (left, top, right, bottom) of the page, widened to show the printed words
    beside them (`Số: 12 /KH-UBND`, `ngày 14 tháng 5 năm 2024`); None without a box."""
    try:
        boxes = [[int(v) for v in slots[name]] for name in FIELD_SLOTS.get(field, ()) if slots and name in slots]
        width, height = int(width or 0), int(height or 0)
    except (TypeError, ValueError):
        return None  # not what store.py writes: no slot crop rather than an error page
    if not boxes or any(len(b) != 4 for b in boxes) or not width or not height:
        return None
    left = min(b[0] for b in boxes)
    top = min(b[1] for b in boxes)
    right = max(b[0] + b[2] for b in boxes)
    bottom = max(b[1] + b[3] for b in boxes)
    line = max(bottom - top, 1)
    # A line above and below, a few words' width on each side.
    left, right = left - 4 * line, right + 4 * line
    top, bottom = top - line, bottom + line
    region = (max(left / width, 0.0), max(top / height, 0.0), min(right / width, 1.0), min(bottom / height, 1.0))
    return region if region[0] < region[2] and region[1] < region[3] else None


def default_cache_dir() -> Path:
    base = os.environ.get("CONGVAN_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "congvan")
    return Path(base) / "desk"


class PageImages:
    """Finds originals and renders their pages; safe to share between threads."""

    def __init__(self, originals: Sequence[Path | str] = (), cache_dir: Path | None = None,
                 base: Path | None = None) -> None:
        self.originals = [Path(p) for p in originals]
        self.cache_dir = cache_dir or default_cache_dir()
        self.base = base  # relative sources are tried from here too (the database's folder)
        self._found: dict[str, Path | None] = {}
        self._lock = threading.Lock()

    def _candidates(self, source: str) -> Iterable[Path]:
        path = Path(source)
        yield path
        if not path.is_absolute() and self.base is not None:
            yield self.base / path
            yield self.base.parent / path
        name = path.name
        seen: set[Path] = set()
        roots = [a / "done" for a in [path.parent, *path.parents][1:]] + self.originals
        if self.base is not None:
            roots += [self.base / "done", self.base.parent / "done"]
        for root in roots:
            try:
                root = root.resolve()
            except OSError:
                continue
            if root in seen or not root.is_dir():
                continue
            seen.add(root)
            # The inbox files by month (done/YYYY/MM/NAME), renaming a clash NAME.1.pdf…
            yield from sorted(root.rglob(name))
            stem, suffix = path.stem, path.suffix
            yield from sorted(p for p in root.rglob(f"{stem}*{suffix}") if p.name != name)

    def original(self, source: str, sha256: str) -> Path | None:
        """The kept original of a document, or None when it cannot be found."""
        with self._lock:
            if sha256 in self._found:
                return self._found[sha256]
        found = None
        for candidate in self._candidates(source):
            try:
                if candidate.is_file() and sha256_of(candidate) == sha256:
                    found = candidate
                    break
            except OSError:
                continue
        with self._lock:
            self._found[sha256] = found
        return found

    def can_render(self, source: str, sha256: str) -> bool:
        path = self.original(source, sha256)
        return path is not None and (path.suffix.lower() == ".pdf" or path.suffix.lower() in _IMAGE_SUFFIXES)

    def page_png(self, source: str, sha256: str, number: int) -> bytes | None:
        """Page `number` (1-based) as a PNG at screen resolution, or None (no original, no such page, text file)."""
        cached = self.cache_dir / f"{sha256}-p{number}.png"
        if cached.is_file():
            return cached.read_bytes()
        path = self.original(source, sha256)
        if path is None:
            return None
        image = _render(path, number)
        if image is None:
            return None
        data = _png(image)
        try:
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            partial = cached.with_suffix(f".{os.getpid()}.{threading.get_ident()}.part")
            partial.write_bytes(data)
            partial.replace(cached)
        except OSError:
            pass  # a read-only cache only costs a re-render
        return data

    def crop_png(self, source: str, sha256: str, field: str, region: Region | None = None) -> bytes | None:
        """The region of page 1 where `field` is: `region` (slot_region) when known, else
        where letters print it (HEADER_REGIONS; the header for other fields)."""
        from PIL import Image

        page = self.page_png(source, sha256, 1)
        if page is None:
            return None
        image = Image.open(io.BytesIO(page))
        left, top, right, bottom = region or HEADER_REGIONS.get(field, HEADER)
        width, height = image.size
        return _png(image.crop((int(left * width), int(top * height), int(right * width), int(bottom * height))))


def _render(path: Path, number: int) -> Any:  # PIL.Image.Image | None
    from PIL import Image, ImageSequence

    suffix = path.suffix.lower()
    if suffix == ".pdf":
        from pdf2image import convert_from_path, pdfinfo_from_path

        try:
            if number > int(pdfinfo_from_path(str(path)).get("Pages", 0)):
                return None
            pages = convert_from_path(str(path), dpi=SCREEN_DPI, first_page=number, last_page=number)
        except Exception:  # an unreadable PDF shows no image; the desk says so
            return None
        image = pages[0] if pages else None
    elif suffix in _IMAGE_SUFFIXES:
        try:
            with Image.open(path) as opened:
                frames = [frame.copy() for frame in ImageSequence.Iterator(opened)]
        except OSError:
            return None
        if number > len(frames):
            return None
        image = frames[number - 1]
    else:
        return None
    if image is None:
        return None
    image = image.convert("RGB") if image.mode not in ("L", "RGB") else image
    if image.width > MAX_WIDTH:
        image = image.resize((MAX_WIDTH, round(image.height * MAX_WIDTH / image.width)))
    return image


def _png(image: Any) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
