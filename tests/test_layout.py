"""The layout stage: letters read as pages (issue 12).

Pages are built as word boxes, the way Tesseract or a PDF text layer hands
them over, so the zone rules are tested without OCR.  Each test is a trap a
real letter sets: the two header columns on one OCR line, an e-signature
caption above the header, an arrival stamp over the date line, the first
recipient on the `Kính gửi` line, a seal's specks around the signer's name.
"""

from __future__ import annotations

from pathlib import Path

from extractors import extract_fields
from pipeline.core.types import DocumentText, InputFile, PageText, Word
from pipeline.stages.layout import layout_document
from pipeline.stages.signatures import _pdf_time, read_pdf_signatures

WIDTH, HEIGHT = 2480, 3508
CHAR, LINE_HEIGHT = 24, 50  # a character's width and a line's height in pixels at 300 dpi


def _page(number: int, rows: list[tuple[int, int, str]] | list[tuple[int, int, str, float]]) -> PageText:
    """A page of OCR words from (x, y, text[, confidence]) rows; one Tesseract line per row."""
    words: list[Word] = []
    for line, row in enumerate(rows):
        x, y, text = row[0], row[1], row[2]
        confidence = row[3] if len(row) > 3 else 93.0  # type: ignore[misc]
        for token in text.split():
            width = CHAR * len(token)
            words.append(Word(text=token, confidence=confidence, line=line, box=(x, y, width, LINE_HEIGHT)))
            x += width + CHAR
    text = "\n".join(row[2] for row in rows)
    return PageText(number=number, text=text, source="ocr", mean_confidence=93.0, words=words,
                    width=WIDTH, height=HEIGHT)


def _document(*pages: PageText) -> DocumentText:
    source = InputFile(path=Path("letter.pdf"), sha256="0" * 64, size=1, kind="pdf", mime="application/pdf")
    return DocumentText(source=source, pages=list(pages))


def _fields(document: DocumentText):
    layout = layout_document(document)
    assert layout is not None
    return extract_fields(document.text, document.word_confidences(), layout=layout), layout


HEADER = [
    (1650, 60, "Ký bởi: Sở Tư pháp"),
    (1650, 110, "Email: stp@tphcm.gov.vn"),
    (1650, 160, "Cơ quan: Thành phố Hồ Chí Minh"),
    (1650, 210, "Thời gian ký: 25.02.2021 15:12:01 +07:00"),
    (480, 300, "ỦY BAN NHÂN DÂN"),
    (1200, 300, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"),
    (420, 370, "THÀNH PHỐ HỒ CHÍ MINH"),
    (1380, 370, "Độc lập - Tự do - Hạnh phúc"),
    (560, 440, "SỞ TƯ PHÁP"),
]
BODY = [
    (500, 1300, "Sở Tư pháp nhận được Phiếu chuyển số 3578/PC-VP ngày 09 tháng 02 năm 2021 của"),
    (380, 1380, "Văn phòng Ủy ban nhân dân Thành phố về việc chuyển Quyết định số 81/QĐ-TTg"),
    (380, 1460, "đề nghị các cơ quan, đơn vị triển khai thực hiện theo quy định."),
]
CLOSING = [
    (360, 2400, "Nơi nhận:"),
    (1560, 2400, "KT. GIÁM ĐỐC"),
    (360, 2460, "- Như trên;"),
    (1560, 2460, "PHÓ GIÁM ĐỐC"),
    (360, 2520, "- Lưu: VT, VB."),
    (1600, 2600, "zJ&n 2À", 5.0),  # the seal and the signature, read as specks
    (1560, 2800, "Nguyễn Thị Hồng Hạnh"),
]


def _letter(date_row: tuple[int, int, str] = (1230, 580, "Thành phố Hồ Chí Minh, ngày 25 tháng 02 năm 2021"),
            extra: list | None = None) -> DocumentText:
    rows = HEADER + [
        (500, 580, "Số: 687/STP-VB"),
        date_row,
        (400, 660, "V/v triển khai Chương trình hỗ trợ"),
        (400, 720, "pháp lý liên ngành cho doanh nghiệp"),
        (900, 900, "Kính gửi: - Các Sở, ban ngành Thành phố;"),
        (1205, 980, "- Ủy ban nhân dân Thành phố Thủ Đức và Ủy"),
        (1205, 1040, "ban nhân dân các quận - huyện."),
    ] + BODY + CLOSING + (extra or [])
    return _document(_page(1, rows))


def test_header_columns_are_read_apart_and_caption_is_not_the_issuer() -> None:
    fields, layout = _fields(_letter())
    assert fields.issuer == "Sở Tư pháp"
    assert fields.issuer_parent == "Ủy ban nhân dân thành phố Hồ Chí Minh"
    assert fields.doc_number == "687/STP-VB"
    assert fields.issue_date == "2021-02-25"
    assert fields.place == "Thành phố Hồ Chí Minh"
    assert fields.subject == "V/v triển khai Chương trình hỗ trợ pháp lý liên ngành cho doanh nghiệp"
    assert [line.text for line in layout.lines("header_right")][0] == "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"


def test_caption_becomes_the_signature() -> None:
    fields, _ = _fields(_letter())
    assert fields.signature is not None
    assert fields.signature.signed_by == "Sở Tư pháp"
    assert fields.signature.organisation == "Thành phố Hồ Chí Minh"
    assert fields.signature.signed_at == "2021-02-25T15:12:01+07:00"
    assert fields.signature.source == "caption"


def test_a_line_read_across_both_header_columns_is_cut() -> None:
    # OCR joined the issuer and the motto: `THỦ TƯỚNG CHÍNH PHỦ CỘNG HOÀ XÃ HỘI ...` on one line.
    rows = [
        (394, 253, "THỦ TƯỚNG CHÍNH PHỦ CỘNG HOÀ XÃ HỘI CHỦ NGHĨA VIỆT NAM"),
        (1333, 328, "Độc lập - Tự do - Hạnh phúc"),
        (514, 453, "Số: 1360/QĐ-TTg"),
        (1276, 448, "Hà Nội, ngày 26 tháng 6 năm 2025"),
        (1131, 600, "QUYẾT ĐỊNH"),
        (874, 680, "Về việc công nhận tỉnh Đồng Tháp"),
        (700, 760, "hoàn thành nhiệm vụ xây dựng nông thôn mới"),
        (949, 900, "THỦ TƯỚNG CHÍNH PHỦ"),
    ] + [(493, 1000, "Căn cứ Luật Tổ chức Chính phủ ngày 18 tháng 02 năm 2025;")]
    # The caps words are spaced like the rest of the line: only the column edge tells them apart.
    page = _page(1, rows)
    fields, layout = _fields(_document(page))
    assert fields.issuer == "Thủ tướng Chính phủ" or fields.issuer == "Thủ tướng chính phủ"
    assert "CỘNG" not in " ".join(line.text for line in layout.lines("header_left"))
    assert fields.doc_number == "1360/QĐ-TTg"
    assert fields.doc_type == "Quyết định"
    assert fields.subject == "Về việc công nhận tỉnh Đồng Tháp hoàn thành nhiệm vụ xây dựng nông thôn mới"


def test_arrival_stamp_is_received_never_the_letters_own_number_or_date() -> None:
    stamp = [
        (1800, 640, "UBND TỈNH LÂM ĐỒNG"),
        (1800, 700, "ĐẾN"),
        (1800, 760, "Số: 1015"),
        (1800, 820, "Ngày: 05/9/25"),
        (1800, 880, "Chuyển:"),
    ]
    # The letter's own number slot is empty (to be handwritten): the stamp's 1015 must not fill it.
    document = _letter(extra=stamp)
    document.pages[0].words = [w for w in document.pages[0].words if w.text != "687/STP-VB"]
    fields, layout = _fields(document)
    assert fields.doc_number is None
    assert fields.received is not None and fields.received.number == "1015"
    assert fields.received.date == "2025-09-05"
    assert fields.issue_date == "2021-02-25"
    assert not any("1015" in line.text for line in layout.lines("header_right"))


def test_first_recipient_on_the_kinh_gui_line_and_wrapped_items() -> None:
    fields, _ = _fields(_letter())
    assert fields.recipients == ["Các Sở, ban ngành Thành phố",
                                 "Ủy ban nhân dân Thành phố Thủ Đức và Ủy ban nhân dân các quận - huyện"]


def test_signer_name_is_found_under_the_seal() -> None:
    fields, layout = _fields(_letter())
    assert fields.signer is not None
    assert fields.signer.name == "Nguyễn Thị Hồng Hạnh"
    assert fields.signer.authority == "KT. GIÁM ĐỐC"
    assert fields.signer.title == "PHÓ GIÁM ĐỐC"
    assert all("zJ&n" not in line.text for line in layout.lines("signer"))


def test_urgency_stamp_is_a_field_not_subject_text() -> None:
    fields, _ = _fields(_letter(extra=[(150, 820, "HỎA TỐC")]))
    assert fields.urgency == "Hỏa tốc"
    assert "TỐC" not in (fields.subject or "")


def test_a_second_letter_in_the_file_is_said_and_kept_out() -> None:
    second = _page(2, [
        (480, 300, "ỦY BAN NHÂN DÂN"),
        (1200, 300, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"),
        (560, 440, "VĂN PHÒNG"),
        (500, 580, "Số: 620/VP-KSTTHC"),
        (1230, 580, "Phú Thọ, ngày 07 tháng 12 năm 2011"),
        (380, 900, "Thực hiện Văn bản số 4532/UBND-KSTTHC, Văn phòng hướng dẫn như sau."),
    ])
    document = _letter()
    document.pages.append(second)
    fields, layout = _fields(document)
    assert fields.doc_number == "687/STP-VB"
    assert layout.letter_pages == 1
    assert any("another letter" in note for note in fields.notes)
    assert fields.confidence["single_letter"] == 0.0
    assert fields.signer is not None and fields.signer.name == "Nguyễn Thị Hồng Hạnh"


def test_cong_dien_addressees_stand_where_kinh_gui_would() -> None:
    rows = [
        (393, 255, "VĂN PHÒNG CHÍNH PHỦ"),
        (1108, 255, "CỘNG HOÀ XÃ HỘI CHỦ NGHĨA VIỆT NAM"),
        (1336, 318, "Độc lập - Tự do - Hạnh phúc"),
        (528, 446, "Số: 58/CĐ-VPCP"),
        (1298, 441, "Hà Nội, ngày 10 tháng 01 năm 2026"),
        (1131, 575, "CÔNG ĐIỆN"),
        (740, 642, "Phiên họp lần thứ nhất Ban Chỉ đạo quốc gia về dữ liệu."),
        (878, 815, "VĂN PHÒNG CHÍNH PHỦ điện:"),
        (534, 888, "- Các đồng chí thành viên Ban Chỉ đạo quốc gia về dữ liệu;"),
        (534, 950, "- Chủ tịch Ủy ban nhân dân các tỉnh, thành phố trực thuộc Trung ương."),
        (504, 1150, "Thực hiện ý kiến chỉ đạo của Thủ tướng Chính phủ, Văn phòng Chính phủ trân trọng"),
        (354, 1220, "kính mời Đồng chí dự Phiên họp lần thứ nhất Ban Chỉ đạo quốc gia về dữ liệu."),
    ]
    fields, _ = _fields(_document(_page(1, rows)))
    assert fields.doc_type == "Công điện"
    assert fields.subject == "Phiên họp lần thứ nhất Ban Chỉ đạo quốc gia về dữ liệu"
    assert fields.recipients == ["Các đồng chí thành viên Ban Chỉ đạo quốc gia về dữ liệu",
                                 "Chủ tịch Ủy ban nhân dân các tỉnh, thành phố trực thuộc Trung ương"]


def test_text_files_have_no_layout() -> None:
    source = InputFile(path=Path("a.txt"), sha256="0" * 64, size=1, kind="text", mime="text/plain")
    document = DocumentText(source=source, pages=[PageText(number=1, text="Số: 1/UBND", source="text-file")])
    assert layout_document(document) is None


def test_born_digital_pdf_words_carry_boxes_and_read_through_layout(tmp_path: Path) -> None:
    from fpdf import FPDF

    from pipeline.stages.load import load
    from pipeline.stages.ocr import ocr_document
    from tests.pagemaker import font_path

    pdf = FPDF(format="A4")
    pdf.add_font("Serif", "", font_path())
    pdf.set_font("Serif", size=12)
    pdf.add_page()
    for x, y, text in [(25, 20, "BỘ TÀI CHÍNH"), (100, 20, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"),
                       (112, 26, "Độc lập - Tự do - Hạnh phúc"), (28, 38, "Số: 109/QĐ-BTC"),
                       (105, 38, "Hà Nội, ngày 21 tháng 01 năm 2026"), (90, 52, "QUYẾT ĐỊNH"),
                       (60, 60, "Về việc ban hành Quy chế làm việc của Bộ Tài chính"),
                       (30, 75, "Căn cứ Nghị định số 29/2025/NĐ-CP ngày 24 tháng 02 năm 2025 của Chính phủ;"),
                       (30, 120, "Nơi nhận:"), (120, 120, "BỘ TRƯỞNG"), (30, 126, "- Như Điều 3;"),
                       (30, 132, "- Lưu: VT, VP."), (118, 150, "Nguyễn Văn Thắng")]:
        pdf.text(x, y, text)
    path = tmp_path / "qd.pdf"
    pdf.output(str(path))

    loaded = load(path)
    assert loaded.pages[0].words and all(w.box for w in loaded.pages[0].words)
    document = ocr_document(loaded)
    fields, layout = _fields(document)
    assert fields.issuer == "Bộ Tài chính"
    assert fields.doc_number == "109/QĐ-BTC" and fields.issue_date == "2026-01-21"
    assert fields.subject == "Về việc ban hành Quy chế làm việc của Bộ Tài chính"
    assert fields.signer is not None and fields.signer.name == "Nguyễn Văn Thắng"
    assert read_pdf_signatures(path) == []  # unsigned: no signature, and no guess


def test_pdf_signing_time_keeps_its_offset() -> None:
    assert _pdf_time("D:20260110154353+07'00'") == "2026-01-10T15:43:53+07:00"
    assert _pdf_time("garbage") is None


def test_caption_rules_read_labels_and_pass_over_sentences() -> None:
    from extractors.marks import is_caption_line, received_from_stamp, signature_from_caption, urgency_of

    boxed = signature_from_caption(["TRUNG TÂM CÔNG BÁO VÀ TIN HỌC", "ttcbth@quangngai.gov.vn",
                                    "24.01.2025 20:01:14 +07:00"])
    assert boxed is not None and boxed.organisation == "TRUNG TÂM CÔNG BÁO VÀ TIN HỌC"
    assert boxed.signed_at == "2025-01-24T20:01:14+07:00" and boxed.signed_by is None
    copy = signature_from_caption(["SAO Y; VĂN PHÒNG ỦY BAN NHÂN DÂN; 25/07/2025 10:25:14 +07:00"])
    assert copy is not None and copy.organisation == "VĂN PHÒNG ỦY BAN NHÂN DÂN"
    # An e-mail inside a sentence of the body is no caption.
    assert not is_caption_line("phạm về ma túy, Bộ Công an (email: precursor.vietnam@sodc.gov.vn) để phối hợp.")
    assert is_caption_line("Thời gian ký: 25.02.2021 15:12:01")
    # A stamp's handwriting that does not read as digits gives nothing, not a guess.
    assert received_from_stamp(["Số:...46.44...........", "Ngày: (2 12402..."]) is None
    assert urgency_of("THƯỢNG KHẨN") == "Thượng khẩn" and urgency_of("khẩn trương triển khai") is None


def test_place_in_a_body_name_is_mended_like_the_date_line_place() -> None:
    from extractors.header import header_bodies

    assert header_bodies(["UBND TỈNH BÉN TRE", "SỞ THÔNG TIN VÀ TRUYỀN THÔNG", "Số: 666/TB-STTTT"]) == \
        ("Sở Thông tin và Truyền thông", "Ủy ban nhân dân tỉnh Bến Tre")
    assert header_bodies(["ỦY BAN NHÂN DÂN", "TỈNH HÀ NAM"]) == ("Ủy ban nhân dân tỉnh Hà Nam", None)


# A công văn whose trích yếu line ends past the right header column's edge.
CAO_LOC_ROWS = [
    (480, 300, "ỦY BAN NHÂN DÂN"),
    (1200, 300, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"),
    (440, 370, "HUYỆN CAO LỘC"),
    (1380, 370, "Độc lập - Tự do - Hạnh phúc"),
    (500, 500, "Số: 61/UBND-VP"),
    (1230, 500, "Cao Lộc, ngày 11 tháng 3 năm 2024"),
    (300, 580, "V/v triển khai kế hoạch kiểm tra công tác cải cách"),  # ends past the right column's edge
    (420, 640, "hành chính năm 2024"),
    (900, 800, "Kính gửi: Các cơ quan, đơn vị thuộc huyện."),
    (380, 900, "Thực hiện Kế hoạch số 35/KH-UBND ngày 28/02/2024 của Ủy ban nhân dân huyện về kiểm tra,"),
]


def test_a_long_trich_yeu_line_past_the_column_edge_stays_in_the_subject() -> None:
    fields, _ = _fields(_document(_page(1, CAO_LOC_ROWS)))
    assert fields.subject == "V/v triển khai kế hoạch kiểm tra công tác cải cách hành chính năm 2024"
    assert fields.recipients == ["Các cơ quan, đơn vị thuộc huyện"]
    assert fields.issuer == "Ủy ban nhân dân huyện Cao Lộc" and fields.issuer_parent is None


def test_a_persons_certificate_names_the_signer_the_page_does_not_show() -> None:
    from pipeline.core.types import Signature

    text = "ỦY BAN NHÂN DÂN\nTHỊ TRẤN NGÃI GIAO\nSố: 142/QĐ-UBND\n\nNgãi Giao, ngày 29 tháng 3 năm 2024\n"
    person = Signature(signed_by="Nguyễn Xuân Quang", organisation=None, signed_at="2024-04-02T11:10:53+07:00",
                       source="pdf-signature")
    office = Signature(signed_by="VĂN PHÒNG CHÍNH PHỦ", organisation="VĂN PHÒNG CHÍNH PHỦ", signed_at=None,
                       source="pdf-signature")
    fields = extract_fields(text, signatures=[person])
    assert fields.signer is not None and fields.signer.name == "Nguyễn Xuân Quang"
    assert fields.confidence["signer"] < 0.9  # evidence, not the printed name
    assert extract_fields(text, signatures=[office]).signer is None


def test_evenly_wide_word_spaces_past_the_column_edge_do_not_cut_the_subject() -> None:
    # A neural engine places word boxes by estimate and leaves spaces over half a line high between
    # ordinary words (TrueOCR): a trích yếu line reaching past the right column's edge stays whole.
    page = _page(1, CAO_LOC_ROWS)
    wide_spaces, x, line = [], 0, -1
    for word in page.words:
        assert word.box is not None
        if word.line != line:
            line, x = word.line, word.box[0]
        wide_spaces.append(Word(word.text, word.confidence, word.line, (x, word.box[1], word.box[2], word.box[3])))
        x += word.box[2] + int(0.6 * LINE_HEIGHT)
    page.words = wide_spaces
    fields, _ = _fields(_document(page))
    assert fields.subject == "V/v triển khai kế hoạch kiểm tra công tác cải cách hành chính năm 2024"
    assert fields.recipients == ["Các cơ quan, đơn vị thuộc huyện"]


def test_the_kinh_gui_line_is_never_cut_at_the_column_edge() -> None:
    # Word boxes fitted to the ink leave the space after `gửi:` wider than the line's others
    # (the colon's own side bearing), and `Đồng` standing higher than `Kính`: it is no column
    # gap, and the first recipient stays on the line (a piece cut off would sort above it).
    rows = HEADER + [(500, 580, "Số: 687/STP-VB"), (1230, 580, "Thành phố Hồ Chí Minh, ngày 25 tháng 02 năm 2021"),
                     (400, 660, "V/v triển khai Chương trình hỗ trợ")] + BODY + CLOSING
    page = _page(1, rows)
    x, y = 770, 900
    for token in "Kính gửi: Đồng chí Chủ tịch UBND tỉnh Lâm Đồng".split():
        top = y - 12 if token == "Đồng" else y  # the capital's stroke and its mark stand above `Kính`
        page.words.append(Word(token, 93.0, 99, (x, top, CHAR * len(token), LINE_HEIGHT + y - top)))
        x += CHAR * len(token) + (int(0.75 * LINE_HEIGHT) if token == "gửi:" else int(0.45 * LINE_HEIGHT))
    fields, _ = _fields(_document(page))
    assert fields.recipients == ["Đồng chí Chủ tịch UBND tỉnh Lâm Đồng"]
