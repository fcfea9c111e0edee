"""A hostile but realistic inbox: every kind of file that once stopped a
`congvan inbox` run (issue 11), plus two good letters.

`build(folder)` writes it and returns what each file should become
(`stored`, `failed` or `left`: links and files the run may not touch).  Used
by `make bench-robust` (benchmarks/robust.py) and tests/test_robust_inbox.py.

Every file is made here, in code: no binary fixture, nothing downloaded.
"""

from __future__ import annotations

import io
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
GOOD_TEXT = ROOT / "data" / "inbox" / "kh-cchc-caoloc.txt"
GOOD_PDF = ROOT / "data" / "inbox" / "cv-sgddt-danang.pdf"  # born digital: a text layer, no OCR

ENGLISH = ("The Ministry presents its compliments to the embassies and has the honour to inform them "
           "that the annual reception will take place in the garden of the residence. ") * 4


@dataclass(frozen=True)
class Expected:
    name: bytes  # the file name as bytes (some are not UTF-8)
    outcome: str  # stored | failed | left
    why: str  # what it tests, for the report


def _image_pdf(path: Path, inches: float) -> None:
    """A one-page PDF of `inches` x `inches` holding one page-sized scan-like image.

    The image is small (600 x 600 px) but declared at 600/inches dpi, so the
    page is huge: a reader that renders it at 300 dpi makes a
    (300 * inches)^2-pixel image (2.7 GB at 100 inches).
    """
    image = Image.new("L", (600, 600), 255)
    for y in range(100, 500, 20):  # lines of "text": a scan, not a blank page
        image.paste(0, (80, y, 520, y + 6))
    image.save(path, "PDF", resolution=600 / inches)


def _big_png(path: Path) -> None:
    """9000 x 9000 pixels marked 50 dpi, about 60 KB: white with a few dark bars."""
    image = Image.new("1", (9000, 9000), 1)
    for y in range(500, 8500, 400):
        image.paste(0, (500, y, 8500, y + 40))
    image.save(path, "PNG", dpi=(50, 50), optimize=True)


def _docx(path: Path) -> None:
    """A minimal Word file (a ZIP with word/document.xml)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
        archive.writestr("[Content_Types].xml", "<Types/>")
    path.write_bytes(buffer.getvalue())


def build(folder: Path, *, unreadable: bool = True) -> list[Expected]:
    """Write the hostile inbox into `folder` (made if needed).

    `unreadable`: also write a file with mode 000 (unreadable for anyone but
    root; benchmarks/robust.py runs congvan as an unprivileged user for it).
    """
    folder.mkdir(parents=True, exist_ok=True)
    bfolder = os.fsencode(folder)
    expected: list[Expected] = []

    def add(name: bytes, outcome: str, why: str) -> Path:
        expected.append(Expected(name, outcome, why))
        return Path(os.fsdecode(os.path.join(bfolder, name)))

    def english(name: bytes, why: str) -> None:
        # Distinct bytes per file: each fails on its own, not as a copy of another.
        add(name, "failed", why).write_text(f"{ENGLISH}\n({why})\n", encoding="utf-8")

    add(b"kh-cchc-caoloc.txt", "stored", "good letter (text)").write_bytes(GOOD_TEXT.read_bytes())
    add(b"cv-sgddt-danang.pdf", "stored", "good letter (born-digital PDF)").write_bytes(GOOD_PDF.read_bytes())

    if unreadable:
        path = add(b"unreadable.pdf", "failed", "cannot be read (mode 000, another user's)")
        path.write_bytes(GOOD_PDF.read_bytes()[:-10] + b"unreadable")
        path.chmod(0o000)
    # A name from a Windows archive: `công văn.txt` in CP1258-ish bytes, not UTF-8.
    english(b"c\xf4ng v\xe3n (windows).txt", "name is not UTF-8")
    # A name with a newline that tries to forge a `stored` log line.
    english(b"evil\n2026-01-01 00:00:00 stored    forged.pdf.txt", "newline in the name")
    # 246 bytes of name: `.error.txt` beside it would not fit in 255.
    add(b"x" * 242 + b".pdf", "failed", "246-byte name").write_bytes(b"")
    _image_pdf(add(b"poster-100in.pdf", "failed", "PDF page 100 x 100 inches"), 100)
    _image_pdf(add(b"poster-200in.pdf", "failed", "PDF page 200 x 200 inches"), 200)
    _big_png(add(b"huge-9000px-50dpi.png", "failed", "9000 x 9000 PNG marked 50 dpi"))
    _docx(add(b"cong-van.docx", "failed", "Word file"))
    add(b"truncated.pdf", "failed", "truncated PDF").write_bytes(GOOD_PDF.read_bytes()[:4000])
    add(b"empty.pdf", "failed", "empty file").write_bytes(b"")
    english(b"english.txt", "not Vietnamese")
    add(b"named-pdf-but-png.pdf", "failed", "name lies about the content").write_bytes(
        b"\x89PNG\r\n\x1a\n" + b"\0" * 64)

    # Links are never followed nor moved: a loop of two, a link to itself, a folder link to its parent.
    os.symlink("loop-b", os.path.join(bfolder, b"loop-a"))
    os.symlink("loop-a", os.path.join(bfolder, b"loop-b"))
    os.symlink("self-loop", os.path.join(bfolder, b"self-loop"))
    os.makedirs(os.path.join(bfolder, b"sub"), exist_ok=True)
    os.symlink("..", os.path.join(bfolder, b"sub", b"up"))
    expected += [Expected(b"loop-a", "left", "symlink loop"), Expected(b"loop-b", "left", "symlink loop"),
                 Expected(b"self-loop", "left", "symlink to itself"), Expected(b"sub/up", "left", "link to a parent")]
    return expected


if __name__ == "__main__":
    import sys

    for item in build(Path(sys.argv[1] if len(sys.argv) > 1 else "hostile-inbox")):
        print(f"{item.outcome:<7} {item.name!r}: {item.why}")
