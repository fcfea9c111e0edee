"""Header fields and recipients on real phrasing from the dev letters."""

from pathlib import Path

import pytest

from extractors import extract_fields
from extractors.header import extract_header
from extractors.recipients import extract_recipients
from extractors.text import normalize_code, sentence_case_name

SEED001_HEAD = """ỦY BAN NHÂN DÂN CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM

THỊ XÃ PHƯỚC LONG Độc lập — Tự do — Hạnh phúc
Số: 122 /KH-UBND Phước Long, ngày 14 tháng 05 năm 2021
KẾ HOẠCH

Nhiệm vụ, giải pháp đẩy mạnh Cải cách hành chính năm 2021

Căn cứ Quyết định số 834/QĐ-UBND ngày 30/3/2021 của UBND tỉnh
"""


def test_merged_two_column_header():
    h = extract_header(SEED001_HEAD)
    assert h.doc_number == "122/KH-UBND"
    assert h.doc_type == "Kế hoạch"
    assert h.issuer == "Ủy ban nhân dân thị xã Phước Long"
    assert h.place == "Phước Long"
    assert h.issue_date == "2021-05-14"
    assert h.subject == "Nhiệm vụ, giải pháp đẩy mạnh Cải cách hành chính năm 2021"


def test_cong_van_number_and_vv_subject():
    text = ("UBND HUYỆN CAO LỘC CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\n"
            "PHÒNG NỘI VỤ Độc lập - Tự do - Hạnh phúc\n"
            "S6479 /UBND-NV Cao Lộc, ngày 28 tháng 02 năm 2024\n"
            "V/v báo cáo công tác cải cách hành chính\nquý I năm 2024\n\n"
            "Kính gửi: UBND các xã, thị trấn.\n\nThực hiện Kế hoạch số 14/KH-UBND ngày 15/01/2024")
    h = extract_header(text)
    assert h.doc_number == "479/UBND-NV"
    assert h.doc_type == "Công văn"
    assert h.subject == "V/v báo cáo công tác cải cách hành chính quý I năm 2024"
    assert h.place == "Cao Lộc" and h.issue_date == "2024-02-28"
    assert h.issuer == "Ủy ban nhân dân huyện Cao Lộc / Phòng Nội vụ"
    assert extract_recipients(text) == ["UBND các xã, thị trấn"]


def test_no_header_gives_null_not_guess():
    text = (" Kính gửi:   \n\n    - Các phòng, ban, ngành; đơn vị cấp huyện; \n\n- UBND các xã, thị trấn. \n\n \n\n"
            "Thực hiện Văn bản số 8444/UBND-PC ngày 15/12/2020 của UBND tỉnh \n")
    f = extract_fields(text)
    assert f.doc_number is None and f.issue_date is None and f.issuer is None and f.place is None
    assert f.doc_type == "Công văn"
    assert f.recipients == ["Các phòng, ban, ngành; đơn vị cấp huyện", "UBND các xã, thị trấn"]


def test_handwritten_number_low_confidence_is_null_and_date_from_appendix():
    text = ("BỘ TÀI CHÍNH CỘNG HOÀ XÃ HỘI CHỦ NGHĨA VIỆT NAM\n. x Độc lập - Tự do - Hạnh phúc\n"
            "Số: 409 /QĐ-BTC Hà Nội, ngày. thángØ{ năm@0#¿6\nQUYÉT ĐỊNH\n\nvề việc công bố văn bản\n\n"
            "Căn cứ Luật số 64/2025/QH15;\n\n(Kèm theo Quyết định số 409 _/QĐ-BTC ngày 21/01/2026 của Bộ Tài chính)\n")
    confidences = {"409": 0.66, "Số:": 0.96, "/QĐ-BTC": 0.83, "Hà": 0.97, "Nội,": 0.96, "21/01/2026": 0.95}
    f = extract_fields(text, confidences)
    assert f.doc_number is None and f.confidence["doc_number"] < 0.7
    assert f.issue_date == "2026-01-21" and f.confidence["issue_date"] <= 0.6
    assert f.doc_type == "Quyết định" and f.issuer == "Bộ Tài chính" and f.place == "Hà Nội"


def test_gazette_stamp_is_not_the_issue_date():
    text = ("BỘ NGOẠI GIAO CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc\n"
            "Số: 02/2023/TB-LPQT Hà Nội, ngày 13 tháng 0Ì năm 2023\nTHÔNG BÁO\nVề việc điều ước quốc tế có hiệu lực\n\n"
            "Thời gian ký: 06.02.2023 09:00:00 +07:00\n")
    f = extract_fields(text, {"13": 0.5, "0Ì": 0.2, "2023": 0.9})
    assert f.issue_date is None and f.confidence["issue_date"] < 0.5
    # The number beside an unreadable handwritten date was filled by the same hand: not trusted alone.
    assert f.doc_number is None and f.confidence["doc_number"] <= 0.3 and f.doc_type == "Thông báo"


def test_stamp_noise_with_a_stray_digit_is_not_part_of_the_subject():
    # Page one of the tb02 scan: the seal under THÔNG BÁO reads as a line of specks with an `L4` in it.
    text = ("BỘ NGOẠI GIAO CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc\n"
            "Số: 02/2023/TB-LPQT Hà Nội, ngày 18 tháng 01 năm 2023\n\nTHÔNG BÁO\n\n"
            "à ^ .À L4 ẤÂ F\\ .^\nVề việc điều ước quốc tế có hiệu lực\n\nThực hiện quy định tại Điều 56\n")
    assert extract_fields(text).subject == "Về việc điều ước quốc tế có hiệu lực"


@pytest.mark.parametrize("raw,code", [("834/QP-UBND", "834/QĐ-UBND"), ("91/2017/ND-CP", "91/2017/NĐ-CP"),
                                      ("1373/QĐ-BKHDT", "1373/QĐ-BKHĐT"), ("10 /KH-UBND-NV", "10/KH-UBND-NV")])
def test_code_normalisation(raw, code):
    assert normalize_code(raw) == code


def test_sentence_case():
    assert sentence_case_name("BỘ KẾ HOẠCH VÀ ĐẦU TƯ") == "Bộ Kế hoạch và Đầu tư"
    assert sentence_case_name("SỞ NỘI VỤ") == "Sở Nội vụ"
    assert sentence_case_name("UBND THÀNH PHỐ ĐÀ NẴNG") == "Ủy ban nhân dân thành phố Đà Nẵng"


def test_noi_nhan_without_luu_and_nhu_tren():
    text = ("Nơi nhận:\n\n- Sở Nội vụ\n\n- CT, PCT UBND thị xã;\n- Như trên;\n-LĐVP, CVK;\n\n"
            "- Lưu: VT. Phạm Thụy Luân\n")
    assert extract_recipients(text) == ["Sở Nội vụ", "CT, PCT UBND thị xã", "LĐVP, CVK"]


def test_qd1373_text_layer_header(shared_dev: Path):
    h = extract_header((shared_dev / "gold" / "qd1373-bkhdt-digital.text-layer.txt").read_text())
    assert (h.doc_number, h.issue_date, h.place) == ("1373/QĐ-BKHĐT", "2022-07-29", "Hà Nội")
    assert h.issuer == "Bộ Kế hoạch và Đầu tư"
    assert h.subject.startswith("Về việc đính chính Thông tư số 10/2022/TT-BKHĐT ngày 15 tháng 6 năm 2022")


def test_code_that_lost_its_dash_is_not_stored():
    text = ("UBND THÀNH PHỐ ĐÀ NẴNG CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\n"
            "SỞ GIÁO DỤC VÀ ĐÀO TẠO Độc lập - Tự do - Hạnh phúc\n\n"
            "Số: 1520/SGDĐTVP Đà Nẵng, ngày 05 tháng 9 năm 2024\nV/v triển khai nhiệm vụ năm học 2024-2025\n")
    f = extract_fields(text, {"Số:": 0.93, "1520/SGDĐTVP": 0.55, "Đà": 0.96, "Nẵng,": 0.96, "05": 0.96, "9": 0.95,
                              "2024": 0.96})
    assert f.doc_number is None and f.confidence["doc_number"] < 0.5
    assert f.issue_date == "2024-09-05"
    # The same code glued to a right number, read at 0.53, is kept (Đ costs Tesseract confidence).
    g = extract_fields(text.replace("1520/SGDĐTVP", "125/QĐ-HQHN"), {"125/QĐ-HQHN": 0.53})
    assert g.doc_number == "125/QĐ-HQHN" and g.confidence["doc_number"] < 0.6


def test_poorly_read_quarter_gives_no_deadline():
    from extractors.confidence import WordConfidence
    from extractors.tasks import extract_tasks

    text = "Căn cứ Kế hoạch.\n3. Đoàn kiểm tra tiến hành kiểm tra tại các cơ quan, đơn vị trong quý\n1/2024.\n"
    assert extract_tasks(text)[0].deadline == "2024-03-31"
    assert extract_tasks(text, WordConfidence({"quý": 0.96, "1/2024.": 0.56}))[0].deadline is None


def test_eth_and_doubled_letters_in_codes():
    assert normalize_code("125/QĐÐ-HQHN") == "125/QĐ-HQHN"
    text = "BỘ TÀI CHÍNH\nSố: 125/QĐĐ-BTC Hà Nội, ngày 12 tháng 3 năm 2025\nQUYẾT ĐỊNH\nVề việc\n"
    assert extract_fields(text, {"125/QĐĐ-BTC": 0.9}).doc_number is None


def test_confident_handwritten_number_contradicted_by_appendix_is_null():
    text = ("BỘ TÀI CHÍNH CỘNG HOÀ XÃ HỘI CHÚ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc\n"
            "Số: 403 /QD-BTC Hà Nội, ngày‹2f thángO† năm@06\n\nQUYẾT ĐỊNH\nvề việc công bố văn bản\n\n"
            "(Kèm theo Quyết định số 409 _/QĐ-BTC ngày 21/01/2026 của Bộ Tài chính)\n")
    f = extract_fields(text, {"403": 0.87, "409": 0.6, "Hà": 0.95, "Nội,": 0.95, "21/01/2026": 0.95})
    assert f.doc_number is None and f.confidence["doc_number"] <= 0.3
    assert f.issue_date == "2026-01-21" and f.place == "Hà Nội"
    # Read the same in both places, it stands.
    g = extract_fields(text.replace("409 _/", "403 /"), {"403": 0.87, "Hà": 0.95, "Nội,": 0.95, "21/01/2026": 0.95})
    assert g.doc_number == "403/QĐ-BTC"


def test_place_mended_from_two_letter_slip():
    f = extract_header("BỘ NGOẠI GIAO\nSố: 02/2023/TB-LPQT\nlù Nội. ngáy T3 tháng 01 năm 2023\nTHÔNG BÁO\nVề việc\n",
                       {"lù": 0.4})
    assert f.place == "Hà Nội" and f.issue_date is None


def test_codes_with_digits_keep_them() -> None:
    """`CV-PA83`, `C04-P6`: a unit code's digits are part of the number, never cut (a cut code is a wrong number)."""
    for text, number in [("Số: 445 /CV-PA83\nĐà Nẵng, ngày 26 tháng 4 năm 2018", "445/CV-PA83"),
                         ("Số: 3980/C04-P6\nHà Nội, ngày 28 tháng 8 năm 2025", "3980/C04-P6"),
                         ("Số: 996/KH-TCTLNTW-C04\nHà Nội, ngày 24 tháng 02 năm 2026", "996/KH-TCTLNTW-C04")]:
        assert extract_header(text).doc_number == number


def test_an_ocr_code_with_a_dotted_part_is_kept_whole_or_not_stored() -> None:
    """`230/KH-THPT.PB`: the dotted part read surely is the code's; read unsurely it may be a
    misread letter, and the number is left null rather than stored with its code cut short."""
    text = "SỞ GIÁO DỤC VÀ ĐÀO TẠO\nTRƯỜNG THPT PHƯỚC BỬU\nSố: 230/KH-THPT.PB\n\nKẾ HOẠCH\nTổ chức ôn tập\n"
    sure = extract_header(text, {"Số:": 0.99, "230/KH-THPT.PB": 0.99, "KẾ": 0.99, "HOẠCH": 0.99})
    assert sure.doc_number == "230/KH-THPT.PB"
    unsure = extract_header(text, {"Số:": 0.99, "230/KH-THPT.PB": 0.62, "KẾ": 0.99, "HOẠCH": 0.99})
    assert unsure.doc_number is None and unsure.doc_type == "Kế hoạch"


def test_a_handwritten_number_beside_a_dotted_code_keeps_the_code_whole() -> None:
    """The page pass could not read the clerk's `230`; the recogniser did: the code it is stored
    with is the printed one whole (`KH-THPT.PB`), never the part before the dot."""
    import json

    text = "SỞ GIÁO DỤC VÀ ĐÀO TẠO\nTRƯỜNG THPT PHƯỚC BỬU\nSố:230 /KH-THPT.PB\n\nKẾ HOẠCH\nTổ chức ôn tập\n"
    hand = {"hand_number": [json.dumps({"name": "number", "value": "230", "confidence": 0.97, "box": [1, 2, 3, 4],
                                        "digits": [], "variants": ["230"] * 5, "reason": ""})]}
    conf = {"Số:230": 0.30, "/KH-THPT.PB": 0.91, "KẾ": 0.99, "HOẠCH": 0.99}
    assert extract_header(text, conf, hand).doc_number == "230/KH-THPT.PB"
    assert extract_header(text, {**conf, "/KH-THPT.PB": 0.6}, hand).doc_number is None
