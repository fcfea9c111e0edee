"""The extractor's use of handwritten slot readings (extractors/header.py, extractors/slots.py): sure or nothing."""

import json

from extractors.header import extract_header
from extractors.slots import HAND_TRUST, hand_value

HEAD = """BỘ CÔNG AN CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
TỔ CÔNG TÁC LIÊN NGÀNH TW Độc lập - Tự do - Hạnh phúc

Số: /KH-TCTLNTW-C04 Hà Nội, ngày tháng 02 năm 2026

KẾ HOẠCH
Kiểm soát các hoạt động hợp pháp liên quan đến ma túy
"""
# The page pass read the printed words well and no digit in the slots.
CONF = {"Số:": 0.95, "/KH-TCTLNTW-C04": 0.9, "Hà": 0.96, "Nội,": 0.93, "ngày": 0.9, "tháng": 0.96, "02": 0.93,
        "năm": 0.96, "2026": 0.96, "KẾ": 0.9, "HOẠCH": 0.96}


def hand(slot, value, confidence, reason=""):
    return {f"hand_{slot}": [json.dumps({"name": slot, "value": value, "confidence": confidence,
                                         "box": [640, 300, 180, 120], "digits": [], "variants": [], "reason": reason})]}


def readings(number=("996", 0.97), day=("24", 0.96)):
    out = {}
    if number:
        out.update(hand("number", *number))
    if day:
        out.update(hand("day", *day))
    return out


def test_sure_handwritten_number_keeps_the_printed_code_whole():
    header = extract_header(HEAD, CONF, readings())
    assert header.doc_number == "996/KH-TCTLNTW-C04"
    assert header.confidence["doc_number"] >= HAND_TRUST


def test_handwritten_day_with_the_printed_month_and_year():
    header = extract_header(HEAD, CONF, readings())
    assert header.issue_date == "2026-02-24"
    assert 0.9 <= header.confidence["issue_date"] <= 1.0


def test_unsure_reading_stays_null_with_a_low_confidence():
    header = extract_header(HEAD, CONF, readings(number=("445", 0.62), day=("29", 0.5)))
    assert header.doc_number is None and header.issue_date is None
    assert header.confidence["doc_number"] < 0.5


def test_no_value_read_is_no_value():
    header = extract_header(HEAD, CONF, {**hand("number", None, 0.0, "variants disagree"),
                                         **hand("day", None, 0.0, "a glyph is not a digit")})
    assert header.doc_number is None and header.issue_date is None


def test_impossible_day_is_not_stored():
    header = extract_header(HEAD, CONF, readings(day=("30", 0.99)))  # 30 February
    assert header.issue_date is None


def test_day_after_the_digital_signature_is_a_misreading():
    signed = HEAD + "\nNgười ký: Bộ Công an\nThời gian ký: 21.02.2026 10:12:01 +07:00\n"
    # (the signature's own day may stand in, as a fallback, but never the misread 24)
    assert extract_header(signed, CONF, readings(day=("24", 0.99))).issue_date != "2026-02-24"
    assert extract_header(signed, CONF, readings(day=("21", 0.99))).issue_date == "2026-02-21"


def test_tesseract_rereads_agreeing_on_another_number_leave_it_null():
    tess = {"number": [f"{r}|v{i}|991 /KH-TCTLNTW-C04" for i, r in enumerate(["vie", "eng", "eng", "digits", "vie"])]}
    header = extract_header(HEAD, CONF, {**readings(), **tess})
    assert header.doc_number is None


def test_page_pass_number_contradicted_by_the_hand_is_dropped():
    text = HEAD.replace("Số: /KH", "Số: 445 /KH")
    conf = {**CONF, "445": 0.93}
    header = extract_header(text, conf, readings(number=("115", 0.7)))
    assert header.doc_number is None


def test_hand_readings_keep_their_box_for_the_review_desk():
    value = hand_value(readings(), "number")
    assert value is not None and value.box == (640, 300, 180, 120) and value.trusted


def test_born_digital_text_ignores_hand_readings():
    text = HEAD.replace("Số: /KH", "Số: 12/KH").replace("ngày tháng", "ngày 03 tháng")
    header = extract_header(text, None, readings(number=("996", 0.99), day=("24", 0.99)))
    assert header.doc_number == "12/KH-TCTLNTW-C04" and header.issue_date == "2026-02-03"


def test_a_less_sure_day_is_taken_when_the_signature_gives_the_same_day():
    signed = HEAD + "\nNgười ký: Bộ Công an\nThời gian ký: 24.02.2026 10:12:01 +07:00\n"
    header = extract_header(signed, CONF, readings(day=("24", 0.6)))
    assert header.issue_date == "2026-02-24" and header.confidence["issue_date"] >= 0.9
    # the same unsure reading without the signature stays null
    assert extract_header(HEAD, CONF, readings(day=("24", 0.6))).issue_date is None


def test_a_day_glued_to_ngay_by_ocr_is_not_trusted_on_another_word_confidence():
    text = HEAD.replace("Số: /KH", "Số: /KH").replace("ngày tháng 02", "ngày13 tháng 02") + "\nĐiều 13. ...\n"
    conf = {**CONF, "ngày13": 0.21, "13": 0.95}  # `13` read well elsewhere on the page
    assert extract_header(text, conf, readings(day=None)).issue_date is None
    assert extract_header(text, conf, {**hand("day", None, 0.0, "variants disagree")}).issue_date is None
    assert extract_header(text, conf, readings(day=("13", 0.9))).issue_date == "2026-02-13"


def test_handwritten_day_and_month_confirmed_by_the_signature():
    text = HEAD.replace("tháng 02 năm", "tháng năm") + "\nThời gian ký: 25.02.2026 15:12:01 +07:00\n"
    conf = {k: v for k, v in CONF.items() if k != "02"}
    both = {**readings(day=("25", 0.55)), **hand("month", "02", 0.74)}
    assert extract_header(text, conf, both).issue_date == "2026-02-25"
    # without the signature, the same readings are not sure enough
    unsigned = HEAD.replace("tháng 02 năm", "tháng năm")
    assert extract_header(unsigned, conf, both).issue_date is None
    # a signature on another month confirms nothing
    other = unsigned + "\nThời gian ký: 25.03.2026 15:12:01 +07:00\n"
    assert extract_header(other, conf, both).issue_date != "2026-02-25"


TTR_HEAD = """CÔNG AN TỈNH LÂM ĐỒNG CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
PHÒNG CẢNH SÁT Độc lập - Tự do - Hạnh phúc

Số: /TTr- CAT-PC04 Lâm Đồng, ngày tháng 10 năm 2025

TỜ TRÌNH
Về việc xin chủ trương
"""
TTR_CONF = {"Số:": 0.95, "/TTr-": 0.9, "CAT-PC04": 0.9, "Lâm": 0.96, "Đồng,": 0.93, "ngày": 0.9, "tháng": 0.96,
            "10": 0.93, "năm": 0.96, "2025": 0.96}


def test_a_code_cut_at_a_space_is_never_stored_with_a_handwritten_number():
    # The page pass read `/TTr- CAT-PC04` as two words: its code stops at `TTr-`.
    header = extract_header(TTR_HEAD, TTR_CONF, hand("number", "298", 0.95))
    assert header.doc_number is None
    # The close rereads of the slot agree on the whole code: the number is stored with it.
    rereads = {"number": ["vie|grey x1|/TTr- CAT-PC04"] * 3 + ["eng|otsu x1|/TTr- CAT-PC04"]}
    header = extract_header(TTR_HEAD, TTR_CONF, {**hand("number", "298", 0.95), **rereads})
    assert header.doc_number == "298/TTr-CAT-PC04"


def test_a_sure_hand_day_stands_against_an_unsure_page_pass_day_but_not_a_sure_one():
    head = HEAD.replace("ngày tháng 02", "ngày 01 tháng 02")
    unsure = {**CONF, "01": 0.55}  # Tesseract's reading of the clerk's `07`, and it says it is unsure
    header = extract_header(head, unsure, readings(number=None, day=("07", 0.86)))
    assert header.issue_date == "2026-02-07"
    header = extract_header(head, unsure, readings(number=None, day=("07", 0.70)))  # the hand unsure too
    assert header.issue_date is None
    header = extract_header(head, {**CONF, "01": 0.95}, readings(number=None, day=("07", 0.86)))
    assert header.issue_date != "2026-02-07"  # the page pass sure of its 01: the two readers disagree


def hand_candidate(slot, candidate, confidence, variants, reason):
    """A slot the recogniser gave no value for, with what most binarisations read (`read 4532 at 0.63`)."""
    return {f"hand_{slot}": [json.dumps({"name": slot, "value": None, "confidence": 0.0, "box": [640, 300, 180, 120],
                                         "digits": [], "variants": variants, "reason": reason,
                                         "candidate": candidate, "candidate_confidence": confidence})]}


CITING = """UBND TỈNH PHÚ THỌ CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
Độc lập - Tự do - Hạnh phúc

Số: //2/UBND- KSTTHC Phú Thọ, ngày tháng 12 năm 2011

V/v triển khai rà soát quy định
Thực hiện Nghị quyết số 30c/NQ-CP ngày 08/11/2011 của Chính phủ.
"""
BOUND = "\nVĂN PHÒNG\nThực hiện Văn bản số 4532/UBND-KSTTHC, ngày 07/12/2011 của UBND tỉnh.\n"


def test_a_weak_hand_number_the_letter_cites_in_print_is_stored_with_its_whole_code():
    number = hand_candidate("number", "4532", 0.63, ["4532", "4?32", "4532", "4?3?", "4532"], "a glyph is not a digit")
    header = extract_header(CITING, {"Số:": 0.9}, number, cited_text=CITING + BOUND)
    assert header.doc_number == "4532/UBND-KSTTHC" and header.confidence["doc_number"] >= 0.9


def test_a_citation_of_another_number_or_code_confirms_nothing():
    number = hand_candidate("number", "4522", 0.63, ["4522"] * 5, "a glyph is not a digit")
    assert extract_header(CITING, {"Số:": 0.9}, number, cited_text=CITING + BOUND).doc_number is None
    other_code = BOUND.replace("4532/UBND-KSTTHC", "4532/UBND-NV")
    number = hand_candidate("number", "4532", 0.63, ["4532"] * 5, "a glyph is not a digit")
    assert extract_header(CITING, {"Số:": 0.9}, number, cited_text=CITING + other_code).doc_number is None
    # nor does a citation without the hand, or with a reading too weak
    assert extract_header(CITING, {"Số:": 0.9}, {}, cited_text=CITING + BOUND).doc_number is None
    weak = hand_candidate("number", "4532", 0.3, ["4532"] * 5, "a glyph is not a digit")
    assert extract_header(CITING, {"Số:": 0.9}, weak, cited_text=CITING + BOUND).doc_number is None


def test_disagreeing_day_variants_taken_only_where_the_valid_ones_read_the_signature_day():
    # day and month both handwritten (the printed month's fallback to the signature does not apply)
    unsigned = HEAD.replace("tháng 02 năm", "tháng năm")
    conf = {k: v for k, v in CONF.items() if k != "02"}
    signed = unsigned + "\nThời gian ký: 25.02.2026 15:12:01 +07:00\n"
    month = hand("month", "02", 0.91)
    day = hand_candidate("day", None, 0.0, ["25", "85", "25", "85", "85"], "variants disagree")
    header = extract_header(signed, conf, {**day, **month})
    assert header.issue_date == "2026-02-25" and header.confidence["issue_date"] <= 0.8
    # another valid day among the variants, the signature on another day, or no signature: null
    mixed = hand_candidate("day", None, 0.0, ["25", "24", "25", "85", "25"], "variants disagree")
    assert extract_header(signed, conf, {**mixed, **month}).issue_date is None
    assert extract_header(signed.replace("25.02", "26.02"), conf, {**day, **month}).issue_date is None
    assert extract_header(unsigned, conf, {**day, **month}).issue_date is None
    # the hand's month must be the signature's
    assert extract_header(signed, conf, {**day, **hand("month", "03", 0.95)}).issue_date is None


def test_a_date_line_the_hand_garbled_still_gives_the_hand_date_with_the_printed_year():
    # Ink either side made the page pass read `ngày 28 tháng 8 năm` as `ngày #Š nh Ế năm`:
    # the year is still printed, day and month are the recogniser's, each sure.
    text = HEAD.replace("ngày tháng 02 năm 2026", "ngày #Š nh Ế năm 2026")
    conf = {**CONF, "#Š": 0.1, "nh": 0.2, "Ế": 0.3}
    both = {**readings(day=("28", 0.92)), **hand("month", "8", 0.99)}
    assert extract_header(text, conf, both).issue_date == "2026-08-28"
    # an unsure month leaves it null
    unsure = {**readings(day=("28", 0.92)), **hand("month", "8", 0.6)}
    assert extract_header(text, conf, unsure).issue_date is None


def test_a_code_read_with_the_clerks_ink_is_no_code():
    """`Số: 5/0D-STTTT`: the hand's `2` and the code's `QĐ` read together; no code starts with a digit."""
    text = HEAD.replace("Số: /KH-TCTLNTW-C04", "Số: 5/0D-STTTT")
    conf = {**CONF, "5/0D-STTTT": 0.86}
    header = extract_header(text, conf, {})
    assert header.doc_number is None
    # the hand's sure reading still needs the code: never stored with a code cut or garbled
    assert extract_header(text, conf, readings(number=("25", 0.97))).doc_number is None


def test_a_month_the_hand_reads_otherwise_leaves_the_page_pass_date_untrusted():
    """`tháng 2` read cleanly where the clerk wrote 12: an engine dropped the `1` at the printed word."""
    head = HEAD.replace("ngày tháng 02", "ngày 25 tháng 2")
    conf = {**CONF, "25": 0.97, "2": 0.97}
    assert extract_header(head, conf, readings(number=None, day=("25", 0.95))).issue_date == "2026-02-25"
    header = extract_header(head, conf, {**readings(number=None, day=("25", 0.95)), **hand("month", "12", 0.96)})
    assert header.issue_date != "2026-02-25"


def test_a_page_pass_number_the_recogniser_mostly_reads_otherwise_is_dropped():
    """TrueOCR read `3` where the clerk wrote `43`; the recogniser gave no sure value but most of
    its binarisations read 43: the two disagree, so the number is left null."""
    text = HEAD.replace("Số: /KH", "Số: 3 /KH").replace("ngày tháng", "ngày 24 tháng")
    conf = {**CONF, "3": 0.97, "24": 0.97}
    disagreeing = hand_candidate("number", "43", 0.62, ["43", "43", "43", "4?", "3"], "variants disagree")
    assert extract_header(text, conf, disagreeing).doc_number is None
    agreeing = hand_candidate("number", "3", 0.62, ["3", "3", "3", "?", "3"], "variants disagree")
    assert extract_header(text, conf, agreeing).doc_number == "3/KH-TCTLNTW-C04"
    faint = hand_candidate("number", "43", 0.2, ["43", "43", "43", "4?", "3"], "variants disagree")
    assert extract_header(text, conf, faint).doc_number == "3/KH-TCTLNTW-C04"  # a weak dissent is no evidence


def hand_read(slot, value, confidence, variants):
    """A slot the recogniser read: its value (also its candidate) and what each binarisation read."""
    return {f"hand_{slot}": [json.dumps({"name": slot, "value": value, "confidence": confidence,
                                         "box": [640, 300, 180, 120], "digits": [], "variants": variants,
                                         "reason": "", "candidate": value, "candidate_confidence": confidence})]}


def test_a_digit_the_page_pass_lost_is_taken_from_a_recogniser_sure_in_every_binarisation():
    """`390` on the page where the clerk wrote `3980`: the recogniser reads the glyph the
    line reader lost; anything short of a sure, unanimous reading leaves the number null."""
    text = HEAD.replace("Số: /KH", "Số: 390 /KH").replace("ngày tháng", "ngày 24 tháng")
    conf = {**CONF, "390": 0.97, "24": 0.97}
    sure = hand_read("number", "3980", 0.98, ["3980"] * 5)
    header = extract_header(text, conf, sure)
    assert header.doc_number == "3980/KH-TCTLNTW-C04" and header.confidence["doc_number"] >= 0.95
    wavering = hand_read("number", "3980", 0.98, ["3980", "3980", "3980", "3980", "390"])
    assert extract_header(text, conf, wavering).doc_number is None
    reordered = hand_read("number", "3098", 0.98, ["3098"] * 5)  # not the page's digits in order, plus one
    assert extract_header(text, conf, reordered).doc_number is None


def test_an_unsure_page_number_and_an_unsure_hand_reading_the_same_digits_are_stored():
    """Two readers of different make each leaning to `275` (0.69 on the page, 0.79 in the recogniser)."""
    text = HEAD.replace("Số: /KH", "Số: 275 /KH").replace("ngày tháng", "ngày 24 tháng")
    conf = {**CONF, "275": 0.69, "24": 0.97}
    header = extract_header(text, conf, hand_read("number", "275", 0.79, ["275"] * 5))
    assert header.doc_number == "275/KH-TCTLNTW-C04"
    assert 0.8 <= header.confidence["doc_number"] < 0.9  # below what a sure reading gets
    # Either reader barely leaning, or the two reading other digits, is no agreement.
    assert extract_header(text, conf, hand_read("number", "275", 0.51, ["275"] * 5)).doc_number is None
    assert extract_header(text, conf, hand_read("number", "276", 0.79, ["276"] * 5)).doc_number is None
    weak_page = {**conf, "275": 0.4}
    assert extract_header(text, weak_page, hand_read("number", "275", 0.79, ["275"] * 5)).doc_number is None

