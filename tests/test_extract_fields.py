"""Deadlines, references, periods, tasks and signer on real phrasing from the dev letters."""

import pytest

from extractors.dates import parse_date
from extractors.periods import extract_periods
from extractors.references import extract_references
from extractors.signer import extract_signer
from extractors.tasks import extract_tasks, find_deadline, find_recurrence


@pytest.mark.parametrize("phrase,deadline", [
    ("Báo cáo cho UBND thị xã trước ngày 15/06/2021.", "2021-06-15"),
    ("Báo cáo cho UBND thị xã trước 30/5/2021 (thông qua phòng Nội vụ)", "2021-05-30"),
    ("Hoàn thành trước ngày 15/01/2021.", "2021-01-15"),
    ("ký ban hành văn bản trong tháng 6/2021; sơ kết định kỳ vào ngày 30/12 hằng năm.", "2021-06-30"),
    ("Thời gian thực hiện từ tháng 5/2021 đến hết tháng 9/2021.", "2021-09-30"),
    ("Thời gian thực hiện trong quý 4/2021.", "2021-12-31"),
    ("báo cáo UBND thị xã trước 14 giờ 00 ngày 29/7/2020.", "2020-07-29"),
    ("c) Thời gian hoàn thành: Quý III/2024.", "2024-09-30"),
    ("trình Hội đồng xem xét trong quý II/2026.", "2026-06-30"),
    ("hoàn thành trong tháng 11/2024.", "2024-11-30"),
    ("Hoàn thành trong năm 2021 theo kế hoạch, từ 01/12/2021 đến 14/12/2021", None),
    ("sơ kết định kỳ vào ngày 30/12 hằng năm", None),
])
def test_deadline_normalisation(phrase, deadline):
    assert find_deadline(phrase) == deadline


def test_recurrence_keeps_its_words():
    text = "Phấn đấu ký ban hành văn bản trong tháng 6/2021; sơ kết định kỳ vào ngày 30/12 hằng năm."
    assert find_recurrence(text) == "sơ kết định kỳ vào ngày 30/12 hằng năm"
    words = "định kỳ hàng quý hoặc đột xuất khi có yêu cầu"
    assert find_recurrence(f"({words})") == words


def test_dates_need_all_parts():
    assert parse_date("ngày 14 tháng 05 năm 2021") == "2021-05-14"
    assert parse_date("ngày 31/2/2021") is None
    assert parse_date("ngày 13 tháng 0Ì năm 2023") is None


def test_references_with_dates_issuers_and_sloppy_repeat():
    text = ("Thực hiện Văn bản số 8444/UBND-PC ngày 15/12/2020 của UBND tỉnh \n\n"
            "về việc xây dựng kế hoạch; Kế hoạch \n\n"
            "số 513/KH-UBND ngày 31/12/2020 của UBND tỉnh về cải cách hành chính; Kế hoạch số 10/KH-UBND-NV ngày "
            "22/1/2021của UBND huyện. Lưu ý: tại Kế hoạch số 10/KH-UBND ngày 22/01/2020 của UBND huyện; "
            "Căn cứ Nghị định số 91/2017/NĐ-CP ngày 31/7/2017; theo Thông báo số 496-TB/TU của Tỉnh ủy.")
    refs = extract_references(text)
    assert [(r.doc_number, r.date) for r in refs] == [
        ("8444/UBND-PC", "2020-12-15"), ("513/KH-UBND", "2020-12-31"), ("10/KH-UBND-NV", "2021-01-22"),
        ("91/2017/NĐ-CP", "2017-07-31"), ("496-TB/TU", None)]
    assert refs[0].doc_type == "Văn bản" and refs[0].issuer == "UBND tỉnh"
    assert refs[3].doc_type == "Nghị định" and refs[4].doc_type == "Thông báo"


def test_reference_worded_date_and_issuer_with_va():
    text = ("Căn cứ Quyết định số 2011/QĐ-UBND ngày 30/12/2020 của Ủy ban nhân dân huyện về việc ban hành;\n"
            "Về việc đính chính Thông tư số 10/2022/TT-BKHĐT\n"
            "ngày 15 tháng 6 năm 2022 của Bộ trưởng Bộ Kế hoạch và Đầu tư\n"
            "quy định chi tiết; Căn cứ Luật Chứng khoán số 54/2019/QH14 được sửa đổi")
    refs = extract_references(text)
    assert refs[0].issuer == "Ủy ban nhân dân huyện" and refs[0].date == "2020-12-30"
    assert (refs[1].doc_number, refs[1].date, refs[1].issuer) == \
        ("10/2022/TT-BKHĐT", "2022-06-15", "Bộ trưởng Bộ Kế hoạch và Đầu tư")
    assert (refs[2].doc_number, refs[2].doc_type) == ("54/2019/QH14", "Luật")


SEED002_PERIODS = """Thời hạn nhận báo cáo chậm nhất là ngày 13 của tháng cuối kỳ báo cáo

(không tính báo cáo năm). Thời điểm chốt số liệu của từng loại báo cáo cụ thể

như sau:

 - Báo cáo Quý I/2021: Thời gian chốt số liệu tính từ ngày 15/12/2020 đến

ngày 10/3/2021.

 - Báo cáo 6 tháng đầu năm 2021: Thời gian chốt số liệu tính từ ngày

15/12/2020 đến ngày 10/6/2021.

 - Báo cáo tổng hợp năm 2021: Thời hạn nhận báo cáo chậm nhất là ngày

15/11/2021. Theo đó, thời gian chốt số liệu tính từ ngày 15/12/2020 đến ngày

20/11/2021; đồng thời báo cáo riêng số liệu ước đạt từ ngày 15/11/2021 đến ngày 14/12/2021.
"""


def test_reporting_periods_and_due_rule():
    periods = extract_periods(SEED002_PERIODS)
    assert [(p.label, p.start, p.end, p.due) for p in periods] == [
        ("Quý I/2021", "2020-12-15", "2021-03-10", "2021-03-13"),
        ("6 tháng đầu năm 2021", "2020-12-15", "2021-06-10", "2021-06-13"),
        ("năm 2021", "2020-12-15", "2021-11-20", "2021-11-15"),
    ]


def test_appendix_duties_one_task_each():
    text = ("Thực hiện Kế hoạch số 640/KH-UBND ngày 22/3/2024 của UBND tỉnh.\n"
            "1. Xây dựng kho dữ liệu dùng chung của huyện.\na) Đơn vị chủ trì: Phòng Văn hóa và Thông tin.\n"
            "b) Đơn vị phối hợp: Văn phòng HĐND và UBND huyện.\nc) Thời gian hoàn thành: Quý III/2024.\n"
            "2. Số hóa hồ sơ thủ tục hành chính.\na) Đơn vị chủ trì: UBND các xã, thị trấn.\n"
            "b) Đơn vị phối hợp: Phòng Tư pháp.\nc) Thời gian hoàn thành: trước ngày 30/11/2024.\n")
    tasks = extract_tasks(text)
    duties = [(t.responsible, t.cooperating, t.deadline) for t in tasks if t.responsible]
    assert duties == [("Phòng Văn hóa và Thông tin", "Văn phòng HĐND và UBND huyện", "2024-09-30"),
                      ("UBND các xã, thị trấn", "Phòng Tư pháp", "2024-11-30")]


def test_responsible_from_giao_and_subject_and_cooperating():
    text = ("Căn cứ Kế hoạch số 24/KH-UBND;\n"
            " Giao Phòng Nội vụ cơ quan thường trực về CCHC theo dõi kết quả thực hiện (định kỳ hàng quý hoặc "
            "đột xuất khi có yêu cầu).\n"
            "1. Phòng Tài chính - Kế hoạch chủ trì, phối hợp với Kho bạc Nhà nước thị xã rà soát tiến độ giải ngân; "
            "báo cáo UBND thị xã trước 14 giờ 00 ngày 29/7/2024.\n")
    tasks = extract_tasks(text)
    assert tasks[0].responsible == "Phòng Nội vụ" and tasks[0].recurrence.startswith("định kỳ hàng quý")
    assert tasks[0].deadline is None
    assert (tasks[1].responsible, tasks[1].cooperating, tasks[1].deadline) == (
        "Phòng Tài chính - Kế hoạch", "Kho bạc Nhà nước thị xã", "2024-07-29")


def test_signer_block_and_first_block_of_gazette_copy():
    text = ("Căn cứ Nghị định;\nĐiều 3. Thi hành./.\n\nKT. BỘ TRƯỞNG\nTHỨ TRƯỞNG\n\nTrần Quốc Phương\n\n"
            "Phụ lục\nTL. BỘ TRƯỞNG\nVỤ TRƯỞNG\nNguyễn Văn An\n")
    signer = extract_signer(text)
    assert (signer.name, signer.title, signer.authority) == ("Trần Quốc Phương", "THỨ TRƯỞNG", "KT. BỘ TRƯỞNG")
    merged = "Thực hiện Kế hoạch.\nNơi nhận: TL. CHỦ TỊCH\n- Các phòng; CHÁNH VĂN PHÒNG\n- Lưu: VT. Phạm Thụy Luân\n"
    assert extract_signer(merged).name == "Phạm Thụy Luân"
    assert extract_signer("Kính gửi: Sở Nội vụ.\nĐề nghị thực hiện./.\nNơi nhận:\n- Như trên;\n- Lưu: VT.") is None
