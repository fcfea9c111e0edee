"""Reporting periods: each construction of the period grammar, and whole letters."""

from __future__ import annotations

from pathlib import Path

import pytest

from extractors.period_grammar import normalise_label, parse_label, scan
from extractors.periods import extract_periods, letter_year, recurring_reports

SHARED = Path(__file__).resolve().parents[2] / "shared"


def rows(periods: list) -> list[tuple]:
    return [(p.label, p.start, p.end, p.due) for p in periods]


# ----------------------------------------------------------------------------- labels

@pytest.mark.parametrize(("bent", "label"), [
    ("Quý I1/2023", "Quý II/2023"),
    ("Quy 2/2023", "Quý II/2023"),
    ("quí IV năm 2023", "Quý IV năm 2023"),
    ("Quý lII / 2021", "Quý III/2021"),
    ("6 tháng đầu năm 2021", "6 tháng đầu năm 2021"),
])
def test_labels_bent_by_ocr_are_put_right(bent: str, label: str) -> None:
    assert normalise_label(bent) == label


@pytest.mark.parametrize(("label", "key"), [
    ("Quý III/2021", ("quarter", 3, 2021)),
    ("6 tháng đầu năm 2021", ("half", 1, 2021)),
    ("6 tháng cuối năm 2021", ("half", 2, 2021)),
    ("9 tháng năm 2023", ("nine", 1, 2023)),
    ("kỳ 12 tháng", ("year", 1, None)),
    ("năm 2021", ("year", 1, 2021)),
    ("tháng 6/2021", ("month", 6, 2021)),
])
def test_labels_name_their_period(label: str, key: tuple) -> None:
    assert parse_label(label) == key


# ----------------------------------------------------------------------------- windows and dues

def test_named_reports_each_with_its_window_and_the_letters_due_rule() -> None:
    text = (
        "Thời hạn gửi báo cáo chậm nhất ngày 12 của tháng cuối kỳ báo cáo. Cụ thể:\n"
        "- Báo cáo quý II/2023: Thời gian chốt số liệu tính từ ngày 15/3/2023 đến ngày 14/6/2023.\n"
        "- Báo cáo 9 tháng năm 2023: Thời gian chốt số liệu tính từ ngày 15/12/2022 đến ngày 14/9/2023.\n"
        "- Báo cáo năm 2023: Thời gian chốt số liệu tính từ ngày 15/12/2022 đến ngày 14/12/2023.\n"
    )
    assert rows(extract_periods(text)) == [
        ("Quý II/2023", "2023-03-15", "2023-06-14", "2023-06-12"),
        ("9 tháng năm 2023", "2022-12-15", "2023-09-14", "2023-09-12"),
        ("năm 2023", "2022-12-15", "2023-12-14", "2023-12-12"),
    ]


def test_a_window_relative_to_the_period_and_a_stated_due() -> None:
    text = ("Báo cáo quý I: Thời gian chốt số liệu tính từ ngày 15 tháng 12 của năm trước kỳ báo cáo "
            "đến ngày 14 tháng 3 của kỳ báo cáo; gửi báo cáo về Sở Nội vụ trước ngày 18/3/2023.")
    periods = extract_periods(text, issue_date="2023-02-01")
    assert rows(periods) == [("Quý I/2023", "2022-12-15", "2023-03-14", "2023-03-18")]
    assert periods[0].receiver == "Sở Nội vụ" and periods[0].owner is None  # no sender named: none guessed


def test_one_rule_gives_every_period_of_the_year() -> None:
    text = ("Báo cáo quý, 6 tháng, 9 tháng và năm: thời gian chốt số liệu tính từ ngày 15 của tháng cuối "
            "quý trước đến ngày 14 của tháng cuối kỳ báo cáo; gửi trước ngày 20 tháng cuối quý.")
    found = rows(extract_periods(text, year=2024))
    assert ("Quý I/2024", "2023-12-15", "2024-03-14", "2024-03-20") in found
    assert ("Quý III/2024", "2024-06-15", "2024-09-14", "2024-09-20") in found
    assert ("6 tháng đầu năm 2024", "2023-12-15", "2024-06-14", "2024-06-20") in found
    assert ("9 tháng năm 2024", "2023-12-15", "2024-09-14", "2024-09-20") in found
    assert ("năm 2024", "2023-12-15", "2024-12-14", "2024-12-20") in found
    assert len(found) == 7


def test_periods_listed_in_one_sentence_each_with_window_and_due() -> None:
    text = ("4. Các đơn vị, địa phương báo cáo kết quả công tác kỳ 6 tháng (từ ngày 15/12/2025 đến ngày "
            "14/6/2026, gửi trước ngày 20/6/2026) và kỳ 12 tháng (từ ngày 15/12/2025 đến\nngày 14/12/2026, "
            "gửi trước ngày 20/12/2026) gửi về Cục Cảnh sát điều tra tội phạm về ma túy.")
    periods = extract_periods(text, year=2026)
    assert rows(periods) == [
        ("kỳ 6 tháng", "2025-12-15", "2026-06-14", "2026-06-20"),
        ("kỳ 12 tháng", "2025-12-15", "2026-12-14", "2026-12-20"),
    ]
    assert {(p.owner, p.receiver) for p in periods} == {("Các đơn vị, địa phương",
                                                         "Cục Cảnh sát điều tra tội phạm về ma túy")}


def test_a_due_of_the_item_wins_over_the_rule_and_exceptions_are_kept() -> None:
    text = ("Thời hạn nhận báo cáo chậm nhất là ngày 13 của tháng cuối kỳ báo cáo (không tính báo cáo năm).\n"
            "- Báo cáo Quý I/2021: Thời gian chốt số liệu tính từ ngày 15/12/2020 đến ngày 10/3/2021.\n"
            "- Báo cáo tổng hợp năm 2021: Thời hạn nhận báo cáo chậm nhất là ngày 15/11/2021. Theo đó, thời "
            "gian chốt số liệu tính từ ngày 15/12/2020 đến ngày 20/11/2021; đồng thời báo cáo riêng số liệu "
            "ước đạt từ ngày 15/11/2021 đến ngày 14/12/2021 trong báo cáo năm.\n"
            "- Báo cáo năm 2021: Thời gian chốt số liệu tính từ ngày 15/12/2020 đến ngày 14/12/2021.\n")
    assert rows(extract_periods(text)) == [
        ("Quý I/2021", "2020-12-15", "2021-03-10", "2021-03-13"),
        ("năm 2021", "2020-12-15", "2021-11-20", "2021-11-15"),
        ("năm 2021", "2020-12-15", "2021-12-14", None),
    ]


def test_spans_of_dates_that_are_not_cut_off_windows_are_not_periods() -> None:
    text = ("- Tổ chức tuyên truyền từ ngày 01/3/2024 đến ngày 30/3/2024.\n"
            "- Hoàn thành kế hoạch năm 2024 trước ngày 15/02/2024.\n")
    assert extract_periods(text) == []


@pytest.mark.parametrize(("sentence", "year", "expected"), [
    ("Báo cáo quý: Trước ngày 15 của tháng cuối quý thuộc kỳ báo cáo;", 2025,
     [("Quý I/2025", "2025-03-15"), ("Quý II/2025", "2025-06-15"), ("Quý III/2025", "2025-09-15"),
      ("Quý IV/2025", "2025-12-15")]),
    ("Định kỳ hằng quý, trước ngày 10 tháng đầu tiên quý tiếp theo, quỹ báo cáo.", 2025,
     [("Quý I/2025", "2025-04-10"), ("Quý II/2025", "2025-07-10"), ("Quý III/2025", "2025-10-10"),
      ("Quý IV/2025", "2026-01-10")]),
    ("Ủy ban nhân dân cấp tỉnh báo cáo gửi Bộ Tài chính trước ngày 15 tháng 7 hằng năm.", 2026,
     [("năm 2026", "2026-07-15")]),
    ("Trước ngày 15 tháng 01 hằng năm báo cáo Sở Nội vụ về tình hình của năm trước.", 2025,
     [("năm 2024", "2025-01-15")]),
    ("Báo cáo định kỳ 06 tháng (trước ngày 15 tháng 6), hằng năm (trước ngày 15 tháng 12).", 2022,
     [("6 tháng đầu năm 2022", "2022-06-15"), ("năm 2022", "2022-12-15")]),
    ("Định kỳ hằng tháng, trước ngày 05 của tháng liền kề, báo cáo Sở Nội vụ.", 2026,
     [(f"tháng {m}/2026", f"{2026 + (m == 12)}-{m % 12 + 1:02d}-05") for m in range(1, 13)]),
    ("Kiểm tra chậm nhất trong tháng 6 hằng năm; báo cáo kết quả chậm nhất trong tháng 8 hằng năm.", 2026,
     [("năm 2026", "2026-06-30"), ("năm 2026", "2026-08-31")]),
    ("Gửi báo cáo trước ngày 15 tháng 6 và 15 tháng 12 hằng năm.", 2026,
     [("năm 2026", "2026-06-15"), ("năm 2026", "2026-12-15")]),
    ("Doanh nghiệp công bố thông tin định kỳ 06 tháng trong thời hạn 60 ngày kể từ ngày kết thúc 06 tháng "
     "đầu năm tài chính.", 2026, [("6 tháng đầu năm 2026", "2026-08-29")]),
    ("Chậm nhất ngày 20 của tháng/cuối quý báo cáo đối với báo cáo định kỳ hằng tháng, quý.", 2025,
     [(f"tháng {m}/2025", f"2025-{m:02d}-20") for m in range(1, 13)]
     + [(f"Quý {r}/2025", f"2025-{3 * i:02d}-20") for i, r in enumerate(["I", "II", "III", "IV"], 1)]),
    ("Đối chiếu định kỳ (tháng, trừ tháng 12 không cần thực hiện) chậm nhất ngày 10 tháng sau.", 2025,
     [(f"tháng {m}/2025", f"2025-{m + 1:02d}-10") for m in range(1, 12)]),
    ("(Thời hạn thực hiện báo cáo: Trước ngày 20 của tháng sau kỳ báo cáo)", 2026, []),
    ("Báo cáo quý: 01 lần/01 quý (báo cáo quý I thay cho báo cáo tháng 3);", 2025, []),
])
def test_due_dates_of_recurring_reports(sentence: str, year: int, expected: list) -> None:
    assert [(c.label, c.due) for c in scan(sentence, year)] == expected


def test_recurring_duties_become_the_due_dates_of_the_letters_year() -> None:
    monthly = recurring_reports("Hằng tháng, trước ngày 20, UBND các xã gửi báo cáo về UBND huyện "
                                "(qua Phòng Nội vụ).", 2026)
    assert [c.due for c in monthly] == [f"2026-{m:02d}-20" for m in range(1, 13)]
    assert {c.recurrence for c in monthly} == {"Hằng tháng"}
    pair = recurring_reports("Báo cáo định kỳ 6 tháng và năm gửi trước ngày 15 tháng 6 và ngày 15 tháng 12.", 2026)
    assert [(c.label, c.due, c.recurrence) for c in pair] == [
        ("6 tháng đầu năm 2026", "2026-06-15", "6 tháng và năm"), ("năm 2026", "2026-12-15", "6 tháng và năm")]
    assert [c.due for c in recurring_reports("UBND các xã báo cáo kết quả vào ngày 25 hằng tháng.", 2024)][:2] == [
        "2024-01-25", "2024-02-25"]
    assert [(c.label, c.due) for c in recurring_reports("Các đơn vị báo cáo vào ngày 30/12 hằng năm.", 2024)] == [
        ("năm 2024", "2024-12-30")]
    assert recurring_reports("Hội nghị giao ban tổ chức vào ngày 15/3/2024 hằng tháng.", 2024) == []
    assert recurring_reports("Hoàn thành trước ngày 20, báo cáo kết quả.", 2026) == []
    assert recurring_reports("Định kỳ hằng quý báo cáo trước ngày 20 tháng cuối quý.", None) == []


def test_the_letters_year() -> None:
    assert letter_year("Hà Nội, ngày 24 tháng 02 năm 2026\nKẾ HOẠCH") == 2026
    assert letter_year("Báo cáo Quý I/2021 ... Báo cáo năm 2021", None) == 2021
    assert letter_year("x", "2024-03-01") == 2024


@pytest.mark.skipif(not (SHARED / "dev" / "inbox" / "seed002-digital.txt").exists(), reason="no shared dev set")
def test_seed002_letter() -> None:
    text = (SHARED / "dev" / "inbox" / "seed002-digital.txt").read_text(encoding="utf-8")
    periods = extract_periods(text)
    assert rows(periods) == [
        ("Quý I/2021", "2020-12-15", "2021-03-10", "2021-03-13"),
        ("6 tháng đầu năm 2021", "2020-12-15", "2021-06-10", "2021-06-13"),
        ("Quý III/2021", "2021-06-15", "2021-09-10", "2021-09-13"),
        ("năm 2021", "2020-12-15", "2021-11-20", "2021-11-15"),
        ("năm 2021", "2020-12-15", "2021-12-14", None),
    ]
    # Section 1 is `Đối với UBND các xã, thị trấn`, section 2 `Đối với các phòng ...`; both report to Phòng Nội vụ.
    assert [p.owner for p in periods[:4]] == ["UBND các xã, thị trấn"] * 4
    assert periods[4].owner is not None and periods[4].owner.startswith("các phòng được UBND huyện giao")
    assert {p.receiver for p in periods} == {"Phòng Nội vụ"}


def test_a_table_of_reports_read_row_by_row() -> None:
    text = ("STT Loại báo cáo Thời gian chốt số liệu Thời hạn gửi\n"
            "1 Báo cáo quý I Từ 15/12/2023 đến 14/3/2024 Trước 18/3/2024\n"
            "2 Báo cáo 6 tháng Từ 15/12/2023 đến 14/6/2024 Trước 18/6/2024\n")
    assert rows(extract_periods(text, year=2024)) == [
        ("Quý I", "2023-12-15", "2024-03-14", "2024-03-18"),
        ("6 tháng", "2023-12-15", "2024-06-14", "2024-06-18"),
    ]


def test_words_bent_by_ocr_still_parse() -> None:
    text = "- Báo cáo Quỷ 1I/2024: thời gian chốt sổ liệu tù ngày 15/3/2024 đên ngày 14/6/2024; hạn gửi: trước 18/6."
    assert rows(extract_periods(text)) == [("Quý II/2024", "2024-03-15", "2024-06-14", "2024-06-18")]


def test_a_labelled_due_and_a_long_report_name() -> None:
    assert rows(extract_periods("Kỳ báo cáo: Quý I năm 2024 (từ 01/01/2024 đến 31/3/2024). Thời hạn gửi báo cáo: "
                                "ngày 05/4/2024.")) == [("Quý I năm 2024", "2024-01-01", "2024-03-31", "2024-04-05")]
    assert rows(extract_periods("- Báo cáo kết quả công tác cải cách hành chính năm 2024 (số liệu tính từ ngày "
                                "15/12/2023 đến ngày 14/12/2024).")) == [("năm 2024", "2023-12-15", "2024-12-14", None)]
