"""Issue 14: Word files as input, and task tables as tasks (who, with whom, by when)."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from extractors import extract_fields
from extractors.tables import deadline_from_cell, extract_table_tasks, find_columns, role_of
from pipeline.core.errors import BadInput
from pipeline.core.types import Table
from pipeline.stages.extract import extract
from pipeline.stages.load import identify, load
from pipeline.stages.ocr import ocr_document
from pipeline.stages.restore import restore
from tests.pagemaker import font_path

if TYPE_CHECKING:
    import numpy as np

DEV = Path(__file__).resolve().parents[2] / "shared" / "dev"

HEADER = ["STT", "Thời hạn hoàn thành", "Đơn vị chủ trì", "Nội dung công việc", "Đơn vị phối hợp", "Ghi chú"]
ROWS = [
    ["I", "Cải cách thể chế", "", "", "", ""],
    ["1", "Quý II/2026", "Sở Tư pháp", "Rà soát văn bản quy phạm pháp luật của tỉnh", "Văn phòng UBND tỉnh", ""],
    ["2", "Thường xuyên", "Sở Nội vụ", "Theo dõi, đôn đốc việc thực hiện kế hoạch", "", ""],
    ["3", "29/6/2026 - 09/7/2026", "Lãnh đạo\nSở Y tế", "Tổ chức đợt kiểm tra các cơ sở khám bệnh", "Công an tỉnh", ""],
    ["II", "Cải cách thủ tục hành chính", "", "", "", ""],
    ["1", "tháng 5/2026", "Văn phòng UBND tỉnh", "Công bố danh mục thủ tục hành chính", "Các sở, ban, ngành", ""],
    ["2", "trước ngày 01/01/2030", "Sở Khoa học và Công nghệ", "Hoàn thành hệ thống thông tin báo cáo", "", ""],
]


def _rows_by_text(tasks):
    return {t.text: t for t in tasks}


def make_docx(path: Path) -> Path:
    """A plan as offices write it: header table, title, subject, body, and a task table with merged cells."""
    import docx
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    document = docx.Document()
    header = document.add_table(rows=2, cols=2)
    header.cell(0, 0).text = "ỦY BAN NHÂN DÂN\nTỈNH LÂM ĐỒNG"
    header.cell(0, 1).text = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc"
    header.cell(1, 0).text = "Số: 35/KH-UBND"
    header.cell(1, 1).text = "Lâm Đồng, ngày 12 tháng 3 năm 2026"
    for text in ("KẾ HOẠCH", "Kiểm tra công tác cải cách hành chính năm 2026"):
        document.add_paragraph(text).alignment = WD_ALIGN_PARAGRAPH.CENTER
    for text in ("Căn cứ Quyết định số 282/QĐ-TTg ngày 12/02/2026 của Thủ tướng Chính phủ;",
                 "Ủy ban nhân dân tỉnh ban hành Kế hoạch kiểm tra như sau:",
                 "1. Giao Sở Nội vụ chủ trì, phối hợp với các sở, ngành tổ chức kiểm tra trước ngày 30/6/2026.",
                 "(Phân công nhiệm vụ theo Phụ lục đính kèm)"):
        document.add_paragraph(text).alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    table = document.add_table(rows=1 + len(ROWS), cols=len(HEADER))
    for c, text in enumerate(HEADER):
        table.cell(0, c).text = text
    for r, row in enumerate(ROWS, start=1):
        for c, text in enumerate(row):
            table.cell(r, c).text = text
    # Section rows are merged across the table; one duty has two products (the STT and the duty merged down).
    for r, row in enumerate(ROWS, start=1):
        if row[0] in ("I", "II"):
            merged = table.cell(r, 1).merge(table.cell(r, len(HEADER) - 1))
            merged.text = row[1]
    document.add_paragraph("Nơi nhận:\n- Bộ Nội vụ;\n- Lưu: VT.")
    document.add_paragraph("KT. CHỦ TỊCH\nPHÓ CHỦ TỊCH\nNguyễn Văn An")
    document.save(str(path))
    return path


# ----------------------------------------------------------------------------- Word files

def test_a_docx_is_typed_by_its_content_and_read_with_its_tables(tmp_path: Path) -> None:
    path = make_docx(tmp_path / "ke-hoach.docx")
    renamed = path.rename(tmp_path / "ke-hoach.doc")  # Word saves .docx content under .doc names too
    assert identify(renamed).kind == "docx"
    document = load(renamed)
    assert len(document.pages) == 1 and document.pages[0].source == "docx"
    assert [len(t.rows) for t in document.pages[0].tables] == [2, 1 + len(ROWS)]
    text = document.pages[0].text or ""
    assert text.index("Số: 35/KH-UBND") < text.index("KẾ HOẠCH") < text.index("Căn cứ") < text.index("Nơi nhận")


def test_a_docx_plan_gives_a_full_record_and_its_table_tasks(tmp_path: Path) -> None:
    record = extract(restore(ocr_document(load(make_docx(tmp_path / "ke-hoach.docx")))))
    assert record.text_source == "docx" and record.pages == 1
    assert record.doc_number == "35/KH-UBND" and record.issue_date == "2026-03-12"
    assert record.issuer == "Ủy ban nhân dân tỉnh Lâm Đồng" and record.doc_type == "Kế hoạch"
    assert record.subject == "Kiểm tra công tác cải cách hành chính năm 2026"
    table = [t for t in record.tasks if t.source == "table"]
    assert [t.text for t in table] == [row[3] for row in ROWS if row[0] not in ("I", "II")]  # sections are groups
    by_text = _rows_by_text(table)
    first = by_text["Rà soát văn bản quy phạm pháp luật của tỉnh"]
    assert (first.responsible, first.cooperating, first.deadline) == ("Sở Tư pháp", "Văn phòng UBND tỉnh", "2026-06-30")
    ranged = by_text["Tổ chức đợt kiểm tra các cơ sở khám bệnh"]
    assert (ranged.responsible, ranged.start, ranged.deadline) == ("Lãnh đạo Sở Y tế", "2026-06-29", "2026-07-09")
    recurring = by_text["Theo dõi, đôn đốc việc thực hiện kế hoạch"]
    assert recurring.deadline is None and recurring.recurrence == "Thường xuyên" and recurring.cooperating is None
    assert by_text["Công bố danh mục thủ tục hành chính"].deadline == "2026-05-31"
    assert by_text["Hoàn thành hệ thống thông tin báo cáo"].deadline == "2030-01-01"
    prose = [t for t in record.tasks if t.source == "text"]
    assert any(t.responsible == "Sở Nội vụ" and t.deadline == "2026-06-30" for t in prose)
    assert not any("|" in t.text for t in prose)  # the table is not read again as prose


def test_an_odt_is_read_with_its_merged_cells(tmp_path: Path) -> None:
    ns = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
          'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
          'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"')

    def cell(text: str, extra: str = "") -> str:
        return f"<table:table-cell {extra}><text:p>{text}</text:p></table:table-cell>"

    rows = [
        cell("TT") + cell("Nội dung") + cell("Cơ quan chủ trì") + cell("Thời gian"),
        cell("1") + cell("Tổng hợp báo cáo quý", 'table:number-rows-spanned="2"') + cell("Sở Nội vụ")
        + cell("Quý I/2026"),
        cell("2") + "<table:covered-table-cell/>" + cell("Sở Tài chính") + cell("Quý II/2026"),
        cell("II. Nhiệm vụ khác", 'table:number-columns-spanned="4"') + "<table:covered-table-cell/>" * 3,
    ]
    content = (f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {ns}><office:body><office:text>'
               "<text:p>KẾ HOẠCH</text:p><text:p>Báo cáo <text:span>năm 2026</text:span></text:p><table:table>"
               + "".join(f"<table:table-row>{r}</table:table-row>" for r in rows)
               + "</table:table></office:text></office:body></office:document-content>")
    path = tmp_path / "plan.odt"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.text")
        archive.writestr("content.xml", content)
    document = load(path)
    assert document.source.kind == "odt" and document.pages[0].source == "odt"
    assert "Báo cáo năm 2026" in (document.pages[0].text or "")
    grid = document.pages[0].tables[0].rows
    assert grid[2][1] == "Tổng hợp báo cáo quý"  # merged down: the duty applies to both rows
    assert grid[3] == ["II. Nhiệm vụ khác", None, None, None]
    tasks = extract_table_tasks(document.pages[0].tables)
    assert [(t.responsible, t.deadline) for t in tasks] == [("Sở Nội vụ", "2026-03-31"), ("Sở Tài chính", "2026-06-30")]


def test_a_legacy_doc_without_libreoffice_is_refused_in_one_line(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "cong-van.doc"
    ole2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    path.write_bytes(ole2 + b"\x00" * 504 + "WordDocument".encode("utf-16-le") + b"\x00" * 64)
    assert identify(path).kind == "doc"
    monkeypatch.setattr("shutil.which", lambda name: None)
    with pytest.raises(BadInput) as error:
        load(path)
    assert "install LibreOffice" in str(error.value) and "\n" not in str(error.value)


def test_a_zip_that_is_not_a_word_file_is_still_refused(tmp_path: Path) -> None:
    path = tmp_path / "photos.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("a.txt", "x" * 10)
    with pytest.raises(BadInput):
        identify(path)


# ----------------------------------------------------------------------------- columns and deadlines

@pytest.mark.parametrize("header, role", [
    ("Nội dung nhiệm vụ", "task"), ("Nhiệm vụ", "task"), ("Công việc", "task"),
    ("Cơ quan chủ trì", "responsible"), ("Đơn vị chủ trì/phối hợp", "responsible"),
    ("Trách nhiệm thực hiện", "responsible"), ("Đơn vị thực hiện", "responsible"),
    ("Cơ quan phối hợp", "cooperating"), ("Thời gian hoàn thành", "deadline"), ("Thời hạn", "deadline"),
    ("Thời gian thực hiện", "deadline"), ("Sản phẩm", "product"), ("Ghi chú", "note"), ("TT", "number"),
    ("Theo dõi, kiểm tra, đôn đốc", "follow"), ("Đơn vị tính", "budget"), ("Tên văn bản", "task"),
    ("Cơ quan chủ trì soạn thảo", "responsible"), ("Thời hạn trình", "deadline"), ("Hình thức văn bản", "product"),
    ("Họ và tên", "person"), ("Nội dụng", "task"),
])
def test_column_roles_come_from_the_headers_meaning(header: str, role: str) -> None:
    assert role_of(header) == role


def test_tables_that_are_not_duty_lists_are_left_alone() -> None:
    participants = Table(rows=[["STT", "Họ và tên", "Chức vụ", "Ghi chú"], ["1", "Nguyễn Văn An", "Trưởng phòng", ""]],
                         source="docx")
    budget = Table(rows=[["STT", "Nội dung chi", "Đơn vị tính", "Số lượng", "Thành tiền"],
                         ["1", "In tài liệu", "bộ", "100", "2.000.000"]], source="docx")
    assert extract_table_tasks([participants, budget]) == []
    assert find_columns(budget) is not None and not find_columns(budget).is_task_table  # type: ignore[union-attr]


def test_a_two_row_header_is_read_as_one() -> None:
    table = Table(rows=[["TT", "Nội dung", "Cơ quan thực hiện", None, "Thời gian"],
                        ["TT", "Nội dung", "Chủ trì", "Phối hợp", "Thời gian"],
                        ["(1)", "(2)", "(3)", "(4)", "(5)"],
                        ["1", "Xây dựng kế hoạch", "Sở Nội vụ", "Sở Tài chính", "Năm 2026"]], source="pdf")
    [task] = extract_table_tasks([table])
    assert (task.responsible, task.cooperating, task.deadline) == ("Sở Nội vụ", "Sở Tài chính", "2026-12-31")


@pytest.mark.parametrize("cell, year, start, deadline, recurring", [
    ("Quý II/2026", None, None, "2026-06-30", False),
    ("tháng 5/2026", None, None, "2026-05-31", False),
    ("Năm 2026", None, None, "2026-12-31", False),
    ("Trong quý I năm 2026", None, None, "2026-03-31", False),
    ("trước ngày 01/01/2030", None, None, "2030-01-01", False),
    ("29/6/2026 - 09/7/2026", None, "2026-06-29", "2026-07-09", False),
    ("Từ tháng 11/2025 đến tháng 4/2026", None, "2025-11-01", "2026-04-30", False),
    ("Quý IV/2025 và Quý I/2026", None, None, "2026-03-31", False),
    ("Năm 2026-2027", None, "2026-01-01", "2027-12-31", False),
    ("Quý II, III/2026", None, None, None, False),  # a list the rules do not read: null, not a guess
    ("Ban hành kế hoạch chậm nhất là ngày 15/4/2026 và tổ chức thực hiện", None, None, "2026-04-15", False),
    ("Từ 20 giờ 15 phút - 20 giờ 45 phút ngày 23 tháng 1", 2026, None, "2026-01-23", False),
    ("Từ 20 giờ 15 phút - 20 giờ 45 phút ngày 23 tháng 1", None, None, None, False),  # no year is assumed
    ("Bắt đầu thực hiện từ năm 2026", None, "2026-01-01", None, False),
    ("Theo Điều 17 Nghị định số 52/2015/NĐ-CP ngày 28/5/2015 của Chính phủ", None, None, None, False),
    ("Thường xuyên", None, None, None, True),
    ("Hằng năm", None, None, None, True),
    ("Trước ngày 05 của tháng liền kề", None, None, None, True),
    ("Ban hành kế hoạch trong tháng 01 hằng năm", None, None, None, True),
])
def test_deadlines_come_from_the_cells_words(cell: str, year: int | None, start: str | None,
                                             deadline: str | None, recurring: bool) -> None:
    found = deadline_from_cell(cell, year)
    assert (found.start, found.deadline, found.recurrence is not None) == (start, deadline, recurring)


# ----------------------------------------------------------------------------- born-digital PDF tables

def test_a_pdf_task_table_over_two_pages_with_its_header_repeated(tmp_path: Path) -> None:
    from fpdf import FPDF

    pdf = FPDF(orientation="L", format="A4")
    pdf.add_font("body", "", font_path())
    pdf.add_font("body", "B", font_path())
    pdf.set_font("body", size=10)
    pdf.add_page()
    pdf.multi_cell(0, 6, "ỦY BAN NHÂN DÂN TỈNH LÂM ĐỒNG\nSố: 12/KH-UBND\nLâm Đồng, ngày 05 tháng 01 năm 2026\n"
                         "KẾ HOẠCH\nTuyên truyền cải cách hành chính năm 2026\n"
                         "Căn cứ Kế hoạch số 1/KH-UBND ngày 02/01/2026 của Ủy ban nhân dân tỉnh; "
                         "Ủy ban nhân dân tỉnh ban hành kế hoạch tuyên truyền như sau:")
    units = ["Sở Công Thương", "Sở Y tế", "Sở Tài chính", "Công an tỉnh", "Sở Xây dựng", "Sở Tư pháp"]
    rows = [["TT", "Nội dung", "Trách nhiệm thực hiện", "Thời gian (Năm 2026)"]]
    for n in range(1, 31):
        rows.append([str(n), f"Chương trình đối thoại số {n} về cải cách hành chính", f"Lãnh đạo {units[n % 6]}",
                     f"ngày {n % 28 + 1} tháng {n % 12 + 1}"])
    with pdf.table(col_widths=(12, 120, 70, 60), repeat_headings=1, line_height=7) as table:
        for row in rows:
            cells = table.row()
            for text in row:
                cells.cell(text)
    path = tmp_path / "plan.pdf"
    pdf.output(str(path))
    document = load(path)
    assert sum(len(page.tables) for page in document.pages) >= 2  # one table per page
    record = extract(restore(ocr_document(document)))
    tasks = [t for t in record.tasks if t.source == "table"]
    assert len(tasks) == 30  # the repeated header row is not a task
    assert (tasks[0].responsible, tasks[0].deadline) == ("Lãnh đạo Sở Y tế", "2026-02-02")
    assert (tasks[29].text, tasks[29].deadline) == ("Chương trình đối thoại số 30 về cải cách hành chính", "2026-07-03")


# ----------------------------------------------------------------------------- the dev Word files

@pytest.mark.skipif(not DEV.exists(), reason="../shared/dev is not beside this checkout")
@pytest.mark.parametrize("name", sorted(p.name for p in (DEV / "inbox").glob("*.docx")) if DEV.exists() else [])
def test_every_dev_word_file_gives_its_header_record(name: str) -> None:
    gold = json.loads((DEV / "gold" / name).with_suffix(".json").read_text(encoding="utf-8"))
    record = extract(restore(ocr_document(load(DEV / "inbox" / name))))
    assert record.text_source == "docx"
    for field in ("doc_number", "issue_date", "doc_type", "subject", "place"):
        assert getattr(record, field) == gold[field], field
    if gold.get("table_tasks"):
        found = [t for t in record.tasks if t.source == "table"]
        assert len(found) == gold["rows_total"]


def test_extract_fields_takes_tables_as_an_optional_keyword() -> None:
    table = Table(rows=[["STT", "Nhiệm vụ", "Chủ trì"], ["1", "Lập danh sách cử tri", "UBND xã"]], source="docx")
    assert extract_fields("KẾ HOẠCH\nBầu cử").tasks == []
    [task] = extract_fields("KẾ HOẠCH\nBầu cử", tables=[table]).tasks
    assert (task.text, task.responsible, task.source) == ("Lập danh sách cử tri", "UBND xã", "table")


# ----------------------------------------------------------------------------- scanned tables

def _ruled_table_image(rows: list[list[str]], widths: list[int], dpi: int = 200, merge_first_column_of: int = -1,
                       noise: float = 12.0) -> np.ndarray:
    """A page image with a ruled table drawn on it, as a 200 dpi scan would show it."""
    import numpy as np
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(font_path(), size=int(9 * dpi / 72))
    row_height = int(0.42 * dpi)
    left, top = int(0.5 * dpi), int(0.8 * dpi)
    width = left * 2 + sum(widths)
    page = Image.new("L", (width, top * 2 + row_height * len(rows)), 255)
    draw = ImageDraw.Draw(page)
    draw.text((left, int(0.3 * dpi)), "PHỤ LỤC PHÂN CÔNG NHIỆM VỤ", fill=0, font=font)
    xs = [left]
    for w in widths:
        xs.append(xs[-1] + w)
    for r, row in enumerate(rows):
        y = top + r * row_height
        for c, text in enumerate(row):
            draw.text((xs[c] + 8, y + 10), text, fill=0, font=font)
    bottom = top + row_height * len(rows)
    for r in range(len(rows) + 1):
        y = top + r * row_height
        start = xs[1] if r == merge_first_column_of else xs[0]  # no border under a merged first cell
        draw.line([(start, y), (xs[-1], y)], fill=0, width=2)
    for x in xs:
        draw.line([(x, top), (x, bottom)], fill=0, width=2)
    pixels = np.asarray(page, dtype=np.float32) + np.random.default_rng(1).normal(0, noise, (page.height, page.width))
    return np.clip(pixels, 0, 255).astype(np.uint8)


def test_a_scanned_ruled_table_is_read_cell_by_cell() -> None:
    from pipeline.stages.table_scan import read_tables

    rows = [["TT", "Nội dung công việc", "Đơn vị chủ trì", "Thời gian"],
            ["1", "Rà soát văn bản", "Sở Tư pháp", "Quý II/2026"],
            ["", "Báo cáo kết quả", "Sở Nội vụ", "tháng 5/2026"]]
    image = _ruled_table_image(rows, [150, 700, 450, 350], merge_first_column_of=2)
    [table] = read_tables(image, 200)
    assert len(table.rows) == 3 and len(table.rows[0]) == 4
    assert table.rows[2][0] == table.rows[1][0]  # the merged STT cell continues down
    tasks = extract_table_tasks([table])
    assert [(t.responsible, t.deadline) for t in tasks] == [("Sở Tư pháp", "2026-06-30"), ("Sở Nội vụ", "2026-05-31")]


def test_a_scanned_table_that_is_not_a_duty_list_is_not_read_past_its_header() -> None:
    from pipeline.stages.table_scan import read_tables

    rows = [["STT", "Họ và tên", "Chức vụ"], ["1", "Nguyễn Văn An", "Trưởng phòng"]]
    assert read_tables(_ruled_table_image(rows, [150, 700, 450]), 200) == []


# ----------------------------------------------------------------------------- responsible units in prose

def test_a_duty_block_in_prose_is_one_task_with_its_fields() -> None:
    from extractors.tasks import extract_tasks

    text = """Căn cứ Luật Bầu cử; Ban Thường trực ban hành kế hoạch như sau:
II. NỘI DUNG, TIẾN ĐỘ, PHÂN CÔNG
1.1. Xây dựng kế hoạch tuyên truyền bầu cử
- Bảo đảm thống nhất với hướng dẫn của cấp trên.
- Thời gian hoàn thành: Quý IV/2025 và Quý I/2026;
- Đơn vị chủ trì: Văn phòng UBND xã
- Đơn vị phối hợp: Công an xã.
- Kết quả: Kế hoạch được ban hành.
1.2. Tổng kết công tác bầu cử
- Thời gian hoàn thành: Từ tháng 11/2025 đến tháng 4/2026.
- Đơn vị chủ trì: Ban Thường trực Ủy ban MTTQ Việt Nam xã"""
    first, second = extract_tasks(text)
    assert first.text == "Xây dựng kế hoạch tuyên truyền bầu cử - Bảo đảm thống nhất với hướng dẫn của cấp trên"
    assert (first.responsible, first.cooperating, first.deadline) == ("Văn phòng UBND xã", "Công an xã", "2026-03-31")
    assert (second.text, second.start, second.deadline) == ("Tổng kết công tác bầu cử", "2025-11-01", "2026-04-30")
    assert second.responsible == "Ban Thường trực Ủy ban MTTQ Việt Nam xã"


def test_a_heading_that_names_a_unit_gives_it_to_the_duties_under_it() -> None:
    from extractors.tasks import extract_tasks

    text = """Căn cứ Kế hoạch số 1/KH-UBND; Ủy ban nhân dân tỉnh giao nhiệm vụ như sau:
IV. TỔ CHỨC THỰC HIỆN
1. Sở Nội vụ:
a) Chủ trì tổ chức cuộc thi tìm hiểu cải cách hành chính.
b) Tổng hợp, báo cáo kết quả trước ngày 15/12/2026.
2. Báo và Phát thanh, Truyền hình tỉnh
a) Xây dựng chuyên mục đối thoại về cải cách hành chính.
3. Văn phòng UBND tỉnh: Cập nhật thủ tục hành chính trên Cổng dịch vụ công."""
    tasks = extract_tasks(text)
    by_start = {t.text[:12]: t for t in tasks}
    assert by_start["Chủ trì tổ c"].responsible == "Sở Nội vụ"
    assert (by_start["Tổng hợp, bá"].responsible, by_start["Tổng hợp, bá"].deadline) == ("Sở Nội vụ", "2026-12-15")
    assert by_start["Xây dựng chu"].responsible == "Báo và Phát thanh, Truyền hình tỉnh"
    assert by_start["Văn phòng UB"].responsible == "Văn phòng UBND tỉnh"


@pytest.mark.parametrize("sentence, unit", [
    ("Bộ Ngoại giao trân trọng thông báo tới các cơ quan đại diện", "Bộ Ngoại giao"),
    ("các thành viên Tổ công tác chịu trách nhiệm trước Trưởng ban", "các thành viên Tổ công tác"),
    ("Ban Quản lý các khu công nghiệp chủ trì thực hiện", "Ban Quản lý các khu công nghiệp"),
    ("Cơ quan, đơn vị được giao nhiệm vụ theo dõi thường xuyên kiểm tra", "Cơ quan, đơn vị"),
    ("Báo đảm bố trí đầy đủ lãnh đạo", None),  # OCR of `Bảo đảm`, not a newspaper
])
def test_unit_names_are_whole_and_never_a_fragment_of_the_sentence(sentence: str, unit: str | None) -> None:
    from extractors.spans import unit_before_duty

    assert unit_before_duty(sentence) == unit


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed")
def test_a_legacy_doc_is_converted_by_libreoffice(tmp_path: Path) -> None:
    import subprocess

    source = make_docx(tmp_path / "ke-hoach.docx")
    subprocess.run(["soffice", f"-env:UserInstallation=file://{tmp_path}/profile", "--headless", "--convert-to", "doc",
                    "--outdir", str(tmp_path / "out"), str(source)], capture_output=True, timeout=180, check=True)
    document = load(tmp_path / "out" / "ke-hoach.doc")
    assert document.source.kind == "doc" and document.pages[0].source == "docx"
    assert "Số: 35/KH-UBND" in (document.pages[0].text or "")
    assert len(extract_table_tasks(document.pages[0].tables)) == 5


def test_a_pdf_table_continued_on_the_next_page_without_its_header() -> None:
    page1 = Table(rows=[["STT", "Nội dung công việc", "Cơ quan chủ trì", "Thời hạn"],
                        ["1", "Xây dựng kế hoạch kiểm tra công tác", "Sở Nội vụ", "Quý I/2026"]], source="pdf", page=1)
    # The rest of row 1, broken by the page:
    page2 = Table(rows=[["", "cải cách hành chính năm 2026", "", ""],
                        ["2", "Tổng hợp báo cáo kết quả", "Văn phòng UBND tỉnh", "tháng 12/2026"]],
                  source="pdf", page=2)
    first, second = extract_table_tasks([page1, page2])
    assert first.text == "Xây dựng kế hoạch kiểm tra công tác cải cách hành chính năm 2026"
    assert (first.responsible, first.deadline) == ("Sở Nội vụ", "2026-03-31")
    assert (second.responsible, second.deadline) == ("Văn phòng UBND tỉnh", "2026-12-31")
