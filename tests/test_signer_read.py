"""The signer block read again on a scan (issue 12): a red seal and a blue signature over the name.

A page is drawn the way a signed paper letter is scanned: the signer's
capitals and printed name in black, then a red seal ring and a blue
signature stroke across the name.  The page pass is simulated by word boxes
that hold only the title (what Tesseract reads through a seal); the block is
then read again from the page's pixels.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageChops, ImageDraw, ImageFont

from extractors import extract_fields
from pipeline.core.types import DocumentText, InputFile, Layout, PageText, TextLine, Word
from pipeline.stages.layout.signer_block import read_signer_again, signer_region
from pipeline.stages.layout.zones import PageLines
from pipeline.stages.signer_read import read_signer_block
from tests.pagemaker import font_path

WIDTH, HEIGHT = 1240, 1754  # A4 at 150 dpi: the page's word-box frame
TITLE_BOX = (760, 900, 940, 930)


def _signed_page(path: Path, grey: bool = False) -> Path:
    page = Image.new("RGB", (WIDTH, HEIGHT), "white")
    draw = ImageDraw.Draw(page)
    font = ImageFont.truetype(font_path(), 26)
    draw.text((120, 900), "Nơi nhận:", font=font, fill="black")
    draw.text((120, 940), "- Như trên;", font=font, fill="black")
    draw.text((TITLE_BOX[0], TITLE_BOX[1]), "CHỦ TỊCH", font=font, fill="black")
    draw.text((730, 1130), "Trần Văn Bình", font=font, fill="black")
    # Ink over ink darkens (a scan of stamped paper): the seal, a red ring over the name's first
    # letters, and the signature, a blue stroke across it, are multiplied onto the print.
    ink = Image.new("RGB", (WIDTH, HEIGHT), "white")
    pen = ImageDraw.Draw(ink)
    pen.ellipse((560, 960, 780, 1180), outline=(235, 80, 80), width=12)
    pen.line((700, 1165, 980, 1125), fill=(60, 90, 220), width=5)
    page = ImageChops.multiply(page, ink)
    if grey:
        page = page.convert("L")
    page.save(path)
    return path


def _ocr_page(title_only: bool = True) -> PageText:
    words = [Word("CHỦ", 91.0, 0, (760, 900, 80, 30)), Word("TỊCH", 90.0, 0, (850, 900, 90, 30)),
             Word("Nơi", 95.0, 1, (120, 900, 50, 30)), Word("nhận:", 95.0, 1, (175, 900, 80, 30))]
    return PageText(number=1, text="CHỦ TỊCH\nNơi nhận:", source="ocr", mean_confidence=90.0, words=words,
                    width=WIDTH, height=HEIGHT)


def test_the_name_under_a_red_seal_and_a_blue_signature_is_read_again(tmp_path: Path) -> None:
    path = _signed_page(tmp_path / "signed.png")
    readings = read_signer_block(path, _ocr_page(), (700, 860, WIDTH, 1300))
    texts = [text for _, lines in readings for text, _ in lines]
    assert readings and readings[0][0] == "red"  # a colour scan loses its coloured ink first
    assert any("Văn Bình" in text for text in texts)


def test_a_text_layer_or_a_missing_file_is_not_read_again(tmp_path: Path) -> None:
    page = _ocr_page()
    assert read_signer_block(tmp_path / "gone.png", page, (700, 860, WIDTH, 1300)) == []
    layer = PageText(number=1, text="x", source="pdf-text-layer", width=WIDTH, height=HEIGHT)
    assert read_signer_block(_signed_page(tmp_path / "signed.png"), layer, (700, 860, WIDTH, 1300)) == []


def test_the_letters_signer_comes_from_the_block_read_again(tmp_path: Path) -> None:
    path = _signed_page(tmp_path / "signed.png")
    title = TextLine(text="CHỦ TỊCH", page=1, box=TITLE_BOX, confidence=0.9)
    label = TextLine(text="Nơi nhận:", page=1, box=(120, 900, 255, 930), confidence=0.95)
    layout = Layout(zones={"signer": [title], "recipients": [label]}, letter_pages=1)
    pages = [PageLines(1, WIDTH, HEIGHT, [label, title])]
    page, region = signer_region(layout, pages) or (0, (0, 0, 0, 0))
    assert page == 1 and region[1] < TITLE_BOX[1] and region[3] > 1160 and region[0] >= 0.45 * WIDTH
    source = InputFile(path=path, sha256="0" * 64, size=1, kind="image", mime="image/png")
    read_signer_again(layout, DocumentText(source=source, pages=[_ocr_page()]), pages)
    assert layout.lines("signer_read")
    fields = extract_fields("CHỦ TỊCH", layout=layout)
    assert fields.signer is not None and fields.signer.name == "Trần Văn Bình"
    assert fields.signer.title == "CHỦ TỊCH"
    assert 0.0 < fields.confidence["signer"] < 0.9  # read again through a seal: shown, not vouched for


def test_a_grey_scan_is_read_at_darker_thresholds(tmp_path: Path) -> None:
    path = _signed_page(tmp_path / "grey.png", grey=True)
    readings = read_signer_block(path, _ocr_page(), (700, 860, WIDTH, 1300))
    assert [name for name, _ in readings][:1] == ["grey"]
    assert any("Bình" in text for _, lines in readings for text, _ in lines)


def test_the_colour_page_is_turned_like_the_ocr_frame(tmp_path: Path) -> None:
    from pipeline.stages.signer_read import page_in_colour

    path = _signed_page(tmp_path / "signed.png")
    upside_down = PageText(number=1, text="", source="ocr", width=WIDTH, height=HEIGHT, rotated_by=180)
    image = page_in_colour(path, upside_down)
    assert image is not None and image.shape == (HEIGHT, WIDTH, 3)
    original = np.asarray(Image.open(path).convert("RGB"))
    assert np.array_equal(image, original[::-1, ::-1])


def _stamped_page(path: Path, words: str, angle: float) -> Path:
    """Page one with a red framed stamp turned by `angle` degrees beside the header."""
    page = Image.new("RGB", (WIDTH, HEIGHT), "white")
    ImageDraw.Draw(page).text((120, 120), "ỦY BAN NHÂN DÂN", font=ImageFont.truetype(font_path(), 26), fill="black")
    stamp = Image.new("RGB", (300, 90), "white")
    pen = ImageDraw.Draw(stamp)
    pen.rectangle((2, 2, 297, 87), outline=(220, 40, 50), width=5)
    pen.text((30, 22), words, font=ImageFont.truetype(font_path(), 40), fill=(220, 40, 50))
    turned = stamp.rotate(angle, expand=True, fillcolor="white")
    page.paste(turned, (150, 400))
    page.save(path)
    return path


def test_a_red_urgency_stamp_at_an_angle_is_the_letters_urgency(tmp_path: Path) -> None:
    from pipeline.stages.layout import urgency_stamps

    page = PageText(number=1, text="", source="ocr", width=WIDTH, height=HEIGHT)

    def stamped(words: str, angle: float) -> DocumentText:
        path = _stamped_page(tmp_path / f"{angle}.png", words, angle)
        source = InputFile(path=path, sha256="0" * 64, size=1, kind="image", mime="image/png")
        return DocumentText(source=source, pages=[page])

    assert [m.text for m in urgency_stamps(stamped("HỎA TỐC", 55))] == ["HỎA TỐC"]
    assert [m.text for m in urgency_stamps(stamped("KHẨN", -20))] == ["KHẨN"]
    # A red stamp saying something else (`MẬT`) gives no urgency.
    assert urgency_stamps(stamped("TÀI LIỆU MẬT", -30)) == []
