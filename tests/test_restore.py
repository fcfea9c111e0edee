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


def test_cli_module(capsys, monkeypatch):
    import io

    from pipeline.stages.restore.__main__ import main

    monkeypatch.setattr("sys.stdin", io.StringIO("Ke hoach so 24/KH-UBND\n"))
    assert main([]) == 0
    assert capsys.readouterr().out == "Kế hoạch số 24/KH-UBND\n"
