"""Votes over focused rereads of the header's number and date slots (extractors/slots.py, pipeline/header_read.py)."""

from pathlib import Path

import numpy as np
import pytest

from extractors.header import extract_header
from extractors.slots import Reading, date_parts, number_parts, vote

HEAD = """BỘ NGOẠI GIAO CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
Độc lập - Tự do - Hạnh phúc

Số: J2/2023/TB-I.PQT
Hà Nội. ngáy T3 tháng 01 năm 2023

THÔNG BÁO
Về việc điều ước quốc tế có hiệu lực
"""
# OCR word confidences as the page pass gave them (the slots read badly).
CONF = {"Số:": 0.93, "J2/2023/TB-I.PQT": 0.54, "ngáy": 0.16, "T3": 0.48, "tháng": 0.8, "01": 0.74, "năm": 0.71,
        "2023": 0.95, "THÔNG": 0.87, "Hà": 0.9, "Nội.": 0.87}


def _r(reader, *tokens):
    return [Reading(reader, f"v{i}", t) for i, t in enumerate(tokens)]


def test_vote_needs_agreement_across_recognisers():
    assert vote(_r("eng", "18", "18", "{8", "18") + _r("digits", "18")).value == "18"
    # One recogniser alone, however often, is not enough.
    assert vote(_r("eng", "24", "24", "24", "24", "24")).value is None


def test_vote_a_lost_glyph_contradicts():
    # `2` against `J2`/`02`: readings disagree on how many glyphs there are -> no number.
    readings = _r("vie", "2", "2", "J2", "2", "J2") + _r("eng", "2", ")2", "02", "2") + _r("digits", "2", "02")
    assert vote(readings).value is None


def test_vote_split_digits_give_nothing():
    assert vote(_r("vie", "403", "403", "409", "409") + _r("eng", "AOS", "ADS") + _r("digits", "03", "3")).value is None


def test_parts_of_readings():
    assert number_parts("409 /QĐ-BTC") == ("409", "/QĐ-BTC"[1:])
    assert number_parts("Số: 02/2023/TB-LPQT") == ("02", "2023/TB-LPQT")
    assert date_parts("neav {8 thang OL nam 2023") == ("{8", "OL", "2023")
    assert date_parts("ngày24 thangO1 nam 2026") == ("24", "O1", "2026")
    assert date_parts("Hà Nội") is None


def _readings(day_tokens, number_tokens):
    date = [f"{r}|v{i}|ngay {d} thang 01 nam 2023" for i, (r, d) in enumerate(day_tokens)]
    number = [f"{r}|v{i}|{n}/2023/TB-LPQT" for i, (r, n) in enumerate(number_tokens)]
    return {"date": date, "number": number}


def test_header_takes_agreeing_rereads():
    readings = _readings([("eng", "18"), ("eng", "18"), ("vie", "18"), ("vie", "1ð"), ("eng", "{8")],
                         [("eng", "02"), ("eng", "02"), ("vie", "02"), ("digits", "02")])
    h = extract_header(HEAD, CONF, readings)
    assert h.issue_date == "2023-01-18"
    assert h.doc_number == "02/2023/TB-LPQT"
    assert 0 < h.confidence["issue_date"] < 0.97


def test_header_stays_null_on_split_rereads():
    readings = _readings([("eng", "18"), ("eng", "13"), ("vie", "13"), ("vie", "18")],
                         [("eng", "02"), ("eng", "2"), ("vie", "2"), ("digits", "02")])
    h = extract_header(HEAD, CONF, readings)
    assert h.issue_date is None and h.doc_number is None
    assert h.confidence["issue_date"] <= 0.3


def test_header_without_rereads_unchanged():
    h = extract_header(HEAD, CONF)
    assert h.issue_date is None and h.doc_number is None


HANDWRITING_FONT = Path("/usr/share/fonts/opentype/urw-base35/Z003-MediumItalic.otf")


@pytest.mark.slow
@pytest.mark.skipif(not HANDWRITING_FONT.exists(), reason="no script font for handwriting-like digits")
@pytest.mark.parametrize("number,day,month", [("1187", "19", "6"), ("45", "03", "11"), ("309", "27", "02")])
def test_rendered_header_with_script_digits_is_right_or_null(number, day, month):
    """A letter head whose number and day are written in a script font: never a wrong number or date."""
    from PIL import Image, ImageDraw, ImageFont

    from extractors import extract_fields
    from pipeline.stages.ocr import read_image

    serif = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf", 40)
    hand = ImageFont.truetype(str(HANDWRITING_FONT), 58)
    page = Image.new("L", (2480, 3508), 255)
    draw = ImageDraw.Draw(page)
    draw.text((300, 240), "ỦY BAN NHÂN DÂN", font=serif, fill=0)
    draw.text((1250, 240), "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", font=serif, fill=0)
    draw.text((1400, 310), "Độc lập - Tự do - Hạnh phúc", font=serif, fill=0)
    draw.text((300, 420), "Số:", font=serif, fill=0)
    draw.text((390, 405), number, font=hand, fill=30)
    draw.text((390 + draw.textlength(number, font=hand) + 10, 420), "/QĐ-UBND", font=serif, fill=0)
    x = 1250
    for part, font in (("Bình Phước, ngày", serif), (day, hand), ("tháng", serif), (month, hand), ("năm 2024", serif)):
        draw.text((x, 420 if font is serif else 405), part, font=font, fill=0 if font is serif else 30)
        x += draw.textlength(part, font=font) + 14
    draw.text((1000, 560), "QUYẾT ĐỊNH", font=serif, fill=0)
    draw.text((600, 630), "Về việc thành lập Tổ công tác", font=serif, fill=0)
    draw.text((300, 760), "Căn cứ Luật Tổ chức chính quyền địa phương ngày 19 tháng 6 năm 2015;", font=serif, fill=0)
    text = read_image(np.asarray(page), 300, 1)
    confidences = {w.text: w.confidence / 100 for w in text.words}
    fields = extract_fields(text.text, confidences, text.header_readings)
    assert fields.doc_number in (None, f"{number}/QĐ-UBND")
    assert fields.issue_date in (None, f"2024-{int(month):02d}-{int(day):02d}")
