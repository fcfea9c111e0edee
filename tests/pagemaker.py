"""Render small letter pages in code, so tests need no binary fixtures.

Pages are drawn with a font that has Vietnamese glyphs (DejaVu Serif or
FreeSerif, installed by `make install`), at 300 dpi, optionally rotated,
skewed or noised like a real scan; `born_digital_pdf` writes a PDF with a
real text layer through fpdf2.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

FONT_PATHS = [
    "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf",
    "/usr/share/fonts/truetype/freefont/FreeSerif.ttf",
    "/usr/share/fonts/truetype/noto/NotoSerif-Regular.ttf",
]

LETTER = """ỦY BAN NHÂN DÂN HUYỆN CAO LỘC
Số: 35/KH-UBND
Cao Lộc, ngày 28 tháng 02 năm 2024
KẾ HOẠCH
Kiểm tra công tác cải cách hành chính năm 2024
Căn cứ Quyết định số 2011/QĐ-UBND ngày 30/12/2023 của Ủy ban
nhân dân tỉnh Lạng Sơn về việc ban hành Kế hoạch cải cách hành
chính năm 2024; Ủy ban nhân dân huyện ban hành Kế hoạch như sau:
1. Giao Phòng Nội vụ chủ trì xây dựng Đề cương kiểm tra, trình
Chủ tịch UBND huyện phê duyệt trước ngày 15/3/2024.
2. Các cơ quan, đơn vị gửi báo cáo về Phòng Nội vụ trước ngày
05/4/2024 để tổng hợp.
Nơi nhận:
- Sở Nội vụ tỉnh Lạng Sơn;
- UBND các xã, thị trấn;
- Lưu: VT, NV."""

ENGLISH = """MINISTRY OF FOREIGN AFFAIRS
The Ministry presents its compliments to the embassies and has the honour
to inform them that the agreement on cooperation between the two governments
entered into force on the date of its signature. All departments are requested
to report on the implementation before the end of each quarter, and to send
their comments to the Department of Treaties and Law in good time."""


def font_path() -> str:
    for path in FONT_PATHS:
        if Path(path).exists():
            return path
    raise FileNotFoundError("no font with Vietnamese glyphs; run `make install`")


def render_page(text: str = LETTER, dpi: int = 300, font_pt: int = 13, width_in: float = 8.27,
                margin_in: float = 0.8, noise: float = 0.0, seed: int = 0) -> np.ndarray:
    """A white page with `text` in black, one line per line, as grayscale."""
    font = ImageFont.truetype(font_path(), size=int(font_pt * dpi / 72))
    line_height = int(font.size * 1.45)
    lines = text.splitlines()
    width = int(width_in * dpi)
    height = int(2 * margin_in * dpi + line_height * len(lines))
    page = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(page)
    for i, line in enumerate(lines):
        draw.text((int(margin_in * dpi), int(margin_in * dpi) + i * line_height), line, font=font, fill=0)
    array = np.asarray(page, dtype=np.float32)
    if noise:
        array += np.random.default_rng(seed).normal(0, noise, array.shape)
    return np.clip(array, 0, 255).astype(np.uint8)


def rotate(image: np.ndarray, degrees: float) -> np.ndarray:
    """Rotate counter-clockwise by `degrees`, padding with white."""
    return np.asarray(Image.fromarray(image).rotate(degrees, expand=True, fillcolor=255))


def save_image(image: np.ndarray, path: Path, dpi: int = 300) -> Path:
    Image.fromarray(image).save(path, dpi=(dpi, dpi))
    return path


def save_tiff(images: list[np.ndarray], path: Path, dpi: int = 300) -> Path:
    frames = [Image.fromarray(i) for i in images]
    frames[0].save(path, save_all=True, append_images=frames[1:], dpi=(dpi, dpi), compression="tiff_deflate")
    return path


def scanned_pdf(images: list[np.ndarray], path: Path, dpi: int = 300) -> Path:
    """A PDF of page images and nothing else, as a scanner writes it."""
    frames = [Image.fromarray(i).convert("RGB") for i in images]
    frames[0].save(path, save_all=True, append_images=frames[1:], resolution=dpi)
    return path


def born_digital_pdf(text: str, path: Path, password: str | None = None,
                     scan_under: np.ndarray | None = None, invisible: bool = False) -> Path:
    """A PDF with a real text layer (fpdf2), optionally encrypted.

    With `scan_under`, the page is a scan image with `text` laid over it
    (`invisible=True`: a hidden OCR layer, as scanners write them).
    """
    from fpdf import FPDF
    from fpdf.enums import TextMode

    pdf = FPDF(format="A4")
    pdf.add_font("Serif", "", font_path())
    pdf.set_font("Serif", size=12)
    pdf.add_page()
    if scan_under is not None:
        tmp = path.with_suffix(".scan.png")
        save_image(scan_under, tmp)
        pdf.image(str(tmp), x=0, y=0, w=210)
        tmp.unlink()
    if invisible:
        pdf.text_mode = TextMode.INVISIBLE
    pdf.multi_cell(0, 6, text)
    if password:
        pdf.set_encryption(owner_password="owner-" + password, user_password=password)
    pdf.output(str(path))
    return path


def zero_page_pdf(path: Path) -> Path:
    """A syntactically valid PDF whose page tree is empty."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [] /Count 0 >>"]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    path.write_bytes(bytes(out))
    return path
