"""Field rules that real letters asked for (issue 12): each test is a form seen across letters.

Signer names half hidden by a seal, a standing body's name, obligations
with several due dates, schedule rows, recurring clauses, citations cut at a
line's end.
"""

from __future__ import annotations

from extractors.header import mend_body_case, name_with_committee
from extractors.references import extract_references
from extractors.signer import extract_signer, loose_name, mend_surname, signer_from_zone
from extractors.tables import deadline_from_cell
from extractors.tasks import extract_tasks, find_recurrence

# --- signer -------------------------------------------------------------------------------------


def test_a_surname_that_lost_its_first_letters_under_a_seal_is_mended_only_when_one_fits() -> None:
    assert mend_surname("guyễn Hoài Nam") == "Nguyễn Hoài Nam"
    assert mend_surname("rần Sỹ Thanh") == "Trần Sỹ Thanh"
    assert mend_surname("Ñguyễn Hoài Nam") == "Nguyễn Hoài Nam"  # the first letter's marks misread
    assert mend_surname("Tấn Hồng Hà") == "Tấn Hồng Hà"  # no surname ends with it: left as read
    assert mend_surname("Lê Văn Tám") == "Lê Văn Tám"


def test_a_name_read_among_seal_specks_is_found_in_the_signer_zone() -> None:
    assert loose_name("——Ñguyễn Hoài Nam") == "Nguyễn Hoài Nam"
    assert loose_name("* Trần Sỹ Thanh . |") == "Trần Sỹ Thanh"
    assert loose_name("Đ Công") is None and loose_name("Lam; -") is None
    signer = signer_from_zone(["KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC", "2— ~", "guyễn Hoài Nam"])
    assert signer is not None
    assert (signer.authority, signer.title, signer.name) == ("KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC", "Nguyễn Hoài Nam")


def test_under_an_authority_and_a_title_a_name_with_a_rare_surname_is_the_signer() -> None:
    text = "Nơi nhận:\n- Lưu: VT.\nTM. BAN THƯỜNG TRỰC\nCHỦ TỊCH\nLan Thị Vân"
    signer = extract_signer(text)
    assert signer is not None and signer.name == "Lan Thị Vân" and signer.authority == "TM. BAN THƯỜNG TRỰC"


# --- issuer -------------------------------------------------------------------------------------


def test_a_standing_body_is_named_with_its_committee() -> None:
    parent = "Ủy ban MTTQ Việt Nam xã Lương Minh"
    assert name_with_committee("Ban Thường trực", parent) == "Ban Thường trực Ủy ban MTTQ Việt Nam xã Lương Minh"
    assert name_with_committee("Phòng Nội vụ", "Ủy ban nhân dân huyện Lâm Hà") == "Phòng Nội vụ"


def test_acronyms_and_the_country_keep_their_capitals_in_a_body_name() -> None:
    assert mend_body_case("Ủy ban Mttq việt nam xã Lương Minh") == "Ủy ban MTTQ Việt Nam xã Lương Minh"
    assert mend_body_case("Ủy ban nhân dân tỉnh Phú Thọ") == "Ủy ban nhân dân tỉnh Phú Thọ"


# --- tasks, deadlines, recurrence ---------------------------------------------------------------


def test_an_obligation_with_two_due_dates_gives_a_task_for_each() -> None:
    text = ("Căn cứ Kế hoạch số 10/KH-UBND.\n- Các đơn vị thực hiện báo cáo kết quả thực hiện định kỳ "
            "trước ngày 20/5/2021 và 20/11/2021 hoặc theo đề nghị của Văn phòng Sở.")
    assert sorted(t.deadline for t in extract_tasks(text) if t.deadline) == ["2021-05-20", "2021-11-20"]


def test_within_a_named_day_is_a_deadline() -> None:
    text = ("Căn cứ Kế hoạch số 10/KH-UBND.\n1. Bộ Công an gửi báo cáo về Văn phòng Chính phủ "
            "trong ngày 10 tháng 01 năm 2026.")
    assert [t.deadline for t in extract_tasks(text)] == ["2026-01-10"]


def test_a_schedules_closing_rows_are_deadlines_its_events_are_not() -> None:
    text = ("Căn cứ Kế hoạch số 10/KH-UBND.\nV. LỊCH TỔ CHỨC\n\uf0d8 20/11: Hội thảo khởi nghiệp khối 10-12.\n"
            "\uf0d8 25/11: Hạn đăng ký nhóm; hướng dẫn Business Model Canvas.\n"
            "\uf0d8 07/12: Chung kết cấp trường.\n\uf0d8 05/01: Nộp đề án về Sở.")
    due = sorted(t.deadline for t in extract_tasks(text, issue_date="2025-11-14") if t.deadline)
    assert due == ["2025-11-25", "2026-01-05"]  # a schedule runs forward into the next year


def test_a_recurring_duty_keeps_its_own_clause() -> None:
    text = ("Định kỳ phát sóng mỗi tháng 02 chuyên mục vào tối thứ Sáu tuần thứ 2 và tuần thứ 4 hàng tháng, "
            "Sở Nội vụ thông báo trước nội dung của chuyên mục")
    assert find_recurrence(text) == ("Định kỳ phát sóng mỗi tháng 02 chuyên mục vào tối thứ Sáu tuần thứ 2 "
                                     "và tuần thứ 4 hàng tháng")
    text = "Riêng đối với các đơn vị sự nghiệp, hằng quý có ít nhất 01 tin, bài về CCHC gửi đăng trên Trang"
    assert find_recurrence(text) == "hằng quý có ít nhất 01 tin, bài về CCHC gửi đăng trên Trang"
    assert find_recurrence("gửi báo cáo về UBND Thành phố trước 17h00 hằng ngày để theo dõi") \
        == "gửi báo cáo về UBND Thành phố trước 17h00 hằng ngày để theo dõi"


def test_a_time_cell_recurs_in_its_recurring_clauses_only() -> None:
    cell = deadline_from_cell("Ban hành kế hoạch trong tháng 01 hằng năm và tổ chức thực hiện")
    assert cell.recurrence == "Ban hành kế hoạch trong tháng 01 hằng năm" and cell.deadline is None
    assert deadline_from_cell("Hằng năm").recurrence == "Hằng năm"


# --- references ---------------------------------------------------------------------------------


def test_citations_cut_or_broken_at_a_line_end_are_not_stored() -> None:
    text = ("- Quyết định số 38/2020/QĐ-\nxem xét tính đầy đủ\n- Thông tư số 27/2013/TT-\nTrong thời hạn 07 ngày\n"
            "Tờ trình số 98/TT:-BNNMT ngày 26 tháng 6 năm 2025.\nNghị quyết số 57 -NQ/TW ngày 22/12/2024.")
    assert [(r.doc_number, r.date) for r in extract_references(text)] == [("57-NQ/TW", "2024-12-22")]


def test_one_act_cited_twice_with_a_typo_in_its_code_is_one_reference() -> None:
    text = ("theo Nghị định số 26/2020/NĐ-CP ngày 28/02/2020 của Chính phủ; và Nghị định số "
            "26/2020/NĐ-TTg ngày 28/02/2020 của Chính phủ về Quy định chi tiết")
    assert [r.doc_number for r in extract_references(text)] == ["26/2020/NĐ-CP"]


def test_a_citation_whose_printed_date_could_not_be_read_is_reported() -> None:
    unread: list[str] = []
    text = "Căn cứ Quyết định số 2729/QĐ-UBND ngày l6 tháng 11 năm 201] của UBND tỉnh"
    references = extract_references(text, unread=unread)
    assert [(r.doc_number, r.date) for r in references] == [("2729/QĐ-UBND", None)]
    assert unread == ["2729/QĐ-UBND"]
