"""Diacritic restoration (issue 3), with the committed models/restore artefacts."""

from __future__ import annotations

import pytest

from pipeline.core.types import Change, DocumentText, InputFile, PageText
from pipeline.stages.restore import needs_restoration, restore, restore_text


def test_issue_example_stripped():
    out, _ = restore_text("Ke hoach cai cach hanh chinh nam 2021 cua huyen Duc Co")
    assert out == "Kế hoạch cải cách hành chính năm 2021 của huyện Đức Cơ"


def test_issue_example_garbled():
    out, _ = restore_text("Ké hoach cai cach hanh chinh nim 2021 cia huyén Pirc Co")
    assert out == "Kế hoạch cải cách hành chính năm 2021 của huyện Đức Cơ"


@pytest.mark.parametrize(
    "garbled, expected",
    [
        ("Can ct Quyét dinh s6 834/QP-UBND ngay 30/3/2021 ctia UBND tinh",
         "Căn cứ Quyết định số 834/QĐ-UBND ngày 30/3/2021 của UBND tỉnh"),
        ("UBND thi x4 xay dung ké hoach nhiém vu, dugc xép loai Kha",
         "UBND thị xã xây dựng kế hoạch nhiệm vụ, được xếp loại Khá"),
        ("Pé thuc hién duoc muc tiéu dé ra", "Để thực hiện được mục tiêu đề ra"),
    ],
)
def test_seed_style_garble(garbled, expected):
    out, _ = restore_text(garbled)
    assert out == expected


def test_caps_header():
    out, _ = restore_text("CONG HOA XA HOI CHU NGHIA VIET NAM\nDoc lap - Tu do - Hanh phuc")
    assert out == "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc"


def test_numbers_codes_abbreviations_layout_kept():
    text = "So: 122/KH-UBND ngay 14/5/2021 cua UBND va HDND tinh (CCHC),\n\n  2. Thuc hien;  "
    out, _ = restore_text(text)
    assert "122/KH-UBND" in out and "14/5/2021" in out and "UBND" in out and "(CCHC)," in out
    assert "HĐND" in out
    assert out.endswith("\n\n  2. Thực hiện;  ")
    assert out.startswith("Số: ")


def test_correct_text_unchanged():
    text = ("Căn cứ Luật Tổ chức chính quyền địa phương ngày 19 tháng 6 năm 2015;\n"
            "Ủy ban nhân dân tỉnh ban hành Kế hoạch thực hiện công tác cải cách hành chính năm 2022.")
    out, changes = restore_text(text)
    assert out == text
    assert changes == []


def test_changes_spans_point_into_restored_text():
    out, changes = restore_text("Ke hoach so 24/KH-UBND cua huyen Duc Co")
    assert changes
    for c in changes:
        assert isinstance(c, Change)
        assert out[c.start:c.end] == c.after
        assert c.before != c.after
    assert [c.before for c in changes][:2] == ["Ke", "hoach"]


def test_restore_document_and_needs_restoration():
    src = InputFile(path=__import__("pathlib").Path("x.txt"), sha256="0", size=1, kind="text", mime="text/plain")
    page = PageText(number=1, text="Ke hoach cai cach hanh chinh nam 2021", source="text-file")
    doc = DocumentText(source=src, pages=[page])
    res = restore(doc)
    assert res.text == "Kế hoạch cải cách hành chính năm 2021"
    assert res.restorer.startswith("ngram-noisy-channel")
    assert needs_restoration("Ke hoach cai cach hanh chinh nam 2021 cua huyen Duc Co")
    assert not needs_restoration("Kế hoạch cải cách hành chính năm 2021 của huyện Đức Cơ")
    assert needs_restoration("Ké hoach cai cach hanh chinh nim 2021 cia huyén Pirc Co")


def test_empty_and_punctuation_only():
    assert restore_text("") == ("", [])
    assert restore_text(" \n.,;\n") == (" \n.,;\n", [])


def test_vietnamese_ocr_residuals():
    out, _ = restore_text("CỘNG HÒA XÃ HỌI CHỦ NGHĨA VIỆT NAM")
    assert out == "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
    out, _ = restore_text("Tăng cường công tác phòng, chẳng địch COVID-19 trên địa bàn tỉnh")
    assert out == "Tăng cường công tác phòng, chống dịch COVID-19 trên địa bàn tỉnh"


# Lines as TrueOCR read them off rendered held-out corpus pages: its slips are on the marks.
TRUEOCR_READ = [
    ("Thực hiện quy định tai Luât Giá số 16/2023/QH15 được sửa đối, bố sung",
     "Thực hiện quy định tại Luật Giá số 16/2023/QH15 được sửa đổi, bổ sung"),
    ("(5) Tên cơ quan nhà nước có thâm quyến đinh khung giá hoặc giá tõi đa",
     "(5) Tên cơ quan nhà nước có thẩm quyền định khung giá hoặc giá tối đa"),
    ("chi tiết bảng giá tại Phu lục kèm theo đõi với trường hợp có nhiếu mặt",
     "chi tiết bảng giá tại Phụ lục kèm theo đối với trường hợp có nhiều mặt"),
]


@pytest.mark.parametrize("read,truth", TRUEOCR_READ)
def test_text_read_by_trueocr_is_restored_with_its_own_confusions(read, truth):
    assert restore_text(read, confusions="trueocr")[0] == truth


def test_the_restore_stage_uses_the_confusions_of_the_engine_that_read_the_pages():
    from pipeline.stages.restore import ocr_confusions

    src = InputFile(path=__import__("pathlib").Path("x.png"), sha256="0", size=1, kind="image", mime="image/png")
    read, truth = TRUEOCR_READ[0]
    by_neural = DocumentText(source=src, pages=[PageText(number=1, text=read, source="ocr", engine="neural")])
    assert ocr_confusions(by_neural) == "trueocr"
    assert restore(by_neural).text == truth
    for engine in ("cascade", "combined"):
        assert ocr_confusions(DocumentText(source=src, pages=[PageText(1, read, "ocr", engine=engine)])) == "trueocr"
    by_tesseract = DocumentText(source=src, pages=[PageText(number=1, text=read, source="ocr", engine="tesseract")])
    assert ocr_confusions(by_tesseract) == "vie"
    # A text layer, or a page whose engine is unknown here: Tesseract's channel, as before.
    assert ocr_confusions(DocumentText(source=src, pages=[PageText(1, read, "pdf-text-layer")])) is None
    assert ocr_confusions(DocumentText(source=src, pages=[PageText(1, read, "ocr", engine="abbyy")])) == "vie"


def test_cli_module(capsys, monkeypatch):
    import io

    from pipeline.stages.restore.__main__ import main

    monkeypatch.setattr("sys.stdin", io.StringIO("Ke hoach so 24/KH-UBND\n"))
    assert main([]) == 0
    assert capsys.readouterr().out == "Kế hoạch số 24/KH-UBND\n"
