"""OCR engines as plug-ins: choosing one by name, a third party's engine, the neural and combined engines."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from pagemaker import render_page, rotate

from pipeline import engines
from pipeline.core import plugins
from pipeline.core.errors import UsageError
from pipeline.core.settings import load_settings
from pipeline.core.types import Word
from pipeline.stages.ocr import read_image

LINES = """KẾ HOẠCH
Kiểm tra công tác cải cách hành chính năm 2024
Giao Phòng Nội vụ chủ trì xây dựng Đề cương kiểm tra,
trình Chủ tịch Ủy ban nhân dân huyện trước ngày 15/3/2024."""

FAKE_ENGINE = r'''
import numpy as np
from pipeline.core.types import Word
from pipeline.engines import PageReading

TEXT = ("ỦY BAN NHÂN DÂN HUYỆN CAO LỘC\nSố: 77/QĐ-UBND\nQUYẾT ĐỊNH\n"
        "Về việc thành lập tổ công tác kiểm tra cải cách hành chính năm 2024")


class FakeEngine:
    """Reads every page as the same letter head, and counts the pages it was given."""

    name = "fake"
    reads_grey = True
    upright_confidence = 0.0
    pages = []

    def read_page(self, image: np.ndarray, dpi: int, *, timeout_s: float) -> PageReading:
        FakeEngine.pages.append((image.shape, dpi))
        word = Word(text="Fake", confidence=99.0, line=0, box=(10, 10, 40, 12))
        return PageReading(text=TEXT, words=[word, Word("reading", 98.0, 0, (60, 10, 70, 12))])

    def version(self) -> str:
        return "fake 1.0"
'''


@pytest.fixture
def fake_engine_installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A package `fake_ocr_engine` installed (a dist-info on sys.path) registering engine `fake`."""
    (tmp_path / "fake_ocr_engine.py").write_text(textwrap.dedent(FAKE_ENGINE), encoding="utf-8")
    info = tmp_path / "fake_ocr_engine-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: fake-ocr-engine\nVersion: 1.0\n", encoding="utf-8")
    (info / "entry_points.txt").write_text("[congvan.ocr_engines]\nfake = fake_ocr_engine:FakeEngine\n",
                                           encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    plugins.refresh()
    engines._built.clear()
    yield
    monkeypatch.undo()
    plugins.refresh()
    engines._built.clear()


def test_the_built_in_engines_are_installed_through_entry_points() -> None:
    found = engines.installed()
    assert {"tesseract", "tesseract-cli", "neural", "combined", "cascade"} <= set(found)
    assert isinstance(engines.get_engine("tesseract"), engines.OcrEngine)


def test_an_engine_from_another_package_is_used_without_core_changes(fake_engine_installed) -> None:
    assert "fake" in engines.installed()
    page = read_image(render_page(LINES, font_pt=14), 300, engine="fake")
    assert page.text.startswith("ỦY BAN NHÂN DÂN HUYỆN CAO LỘC")
    assert [w.text for w in page.words] == ["Fake", "reading"]
    assert page.mean_confidence == 98.5
    fake = engines.get_engine("fake")
    assert fake.pages and fake.pages[0][1] == 300  # type: ignore[attr-defined]


def test_the_chosen_engine_reads_a_whole_document(fake_engine_installed, tmp_path: Path) -> None:
    from pagemaker import save_image

    from pipeline.stages.load import identify, load
    from pipeline.stages.ocr import ocr_document

    path = tmp_path / "letter.png"
    save_image(render_page(LINES, font_pt=14), path)
    text = ocr_document(load(identify(path)), engine="fake")
    assert "Số: 77/QĐ-UBND" in text.text


def test_cli_reads_with_the_engine_named_on_the_command_line(fake_engine_installed, tmp_path: Path) -> None:
    from pagemaker import save_image

    from pipeline.cli.main import main

    path = tmp_path / "letter.png"
    save_image(render_page(LINES, font_pt=14), path)
    result = CliRunner().invoke(main, ["extract", str(path), "--ocr-engine", "fake", "--jobs", "1", "--json"])
    assert result.exit_code == 0, result.output
    assert '"doc_number": "77/QĐ-UBND"' in result.output


def test_an_unknown_engine_is_a_usage_error_naming_the_installed_ones() -> None:
    with pytest.raises(UsageError, match="unknown OCR engine 'abbyy'.*installed: .*neural.*tesseract"):
        engines.get_engine("abbyy")


def test_the_engine_is_a_setting_from_the_config_file_environment_or_option(tmp_path: Path) -> None:
    config = tmp_path / "congvan.toml"
    config.write_text('ocr_engine = "neural"\n', encoding="utf-8")
    assert load_settings(config, environ={}).ocr_engine == "neural"
    assert load_settings(config, environ={"CONGVAN_OCR_ENGINE": "combined"}).ocr_engine == "combined"
    assert load_settings(config, environ={}).with_options(ocr_engine="tesseract-cli").ocr_engine == "tesseract-cli"


def test_cli_rejects_an_unknown_engine_before_doing_anything(tmp_path: Path) -> None:
    from pipeline.cli.main import main

    letter = tmp_path / "letter.txt"
    letter.write_text("Kính gửi: Ủy ban nhân dân huyện\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["extract", str(letter), "--ocr-engine", "abbyy"])
    assert result.exit_code == 2
    assert "unknown OCR engine 'abbyy'" in result.output and "neural" in result.output


# -- neural ---------------------------------------------------------------------------------------


def _cer(text: str, truth: str) -> float:
    import difflib

    return 1 - difflib.SequenceMatcher(a=" ".join(text.split()), b=" ".join(truth.split()), autojunk=False).ratio()


def test_neural_engine_reads_vietnamese_with_word_boxes_on_their_lines() -> None:
    page = read_image(render_page(LINES, font_pt=14), 300, engine="neural")
    assert "hành chính" in page.text and "15/3/2024" in page.text
    assert _cer(page.text, LINES) < 0.03
    assert page.mean_confidence > 85
    lines = page.text.split("\n")
    for word in page.words:
        assert word.text in lines[word.line].split()
        assert word.box is not None and word.box[2] > 0 and word.box[3] > 0
    # Words of a line run left to right without overlapping much.
    line = [w for w in page.words if w.line == page.words[-1].line]
    assert all(a.box[0] + a.box[2] <= b.box[0] + 0.3 * b.box[2] for a, b in zip(line, line[1:]))  # type: ignore[index]


def test_neural_engine_gives_its_words_on_the_page_at_its_own_resolution() -> None:
    # It reads at 200 dpi, but the header slots, tables and stamps are read again on the page it hands
    # back, at the resolution Tesseract reads: 300 dpi pages stay 300 dpi, finer ones come down to 300.
    page = render_page(LINES, font_pt=14)
    for dpi, factor in ((300, 1.0), (600, 0.5)):
        reading = engines.get_engine("neural").read_page(page, dpi, timeout_s=60)
        assert reading.image is not None and abs(reading.image.shape[1] - page.shape[1] * factor) <= 2
        word = next(w for w in reading.words if w.text == "chính")
        assert word.box is not None and 40 * factor <= word.box[3] <= 110 * factor  # 14 pt at 300 dpi: ~58 px


def test_neural_engine_turns_an_upside_down_page() -> None:
    page = read_image(rotate(render_page(LINES, font_pt=14), 180), 300, engine="neural")
    assert page.rotated_by == 180
    assert "hành chính" in page.text and _cer(page.text, LINES) < 0.03


def test_neural_engine_word_boxes_find_the_header_slots() -> None:
    from pipeline.stages.header_read import locate_slots

    header = "Số: 122/KH-UBND\nCao Lộc, ngày 15 tháng 3 năm 2024"
    image = render_page(header, font_pt=16)
    reading = engines.get_engine("neural").read_page(image, 300, timeout_s=60)
    words = [Word(w.text, 40.0, w.line, w.box) for w in reading.words]  # as if read poorly: the slots are re-read
    assert {"number", "date"} <= set(locate_slots(words, image.shape[0] * 3))


def _esigned_page(dpi: int = 200) -> np.ndarray:
    """An A4 page at `dpi`: an e-signature's caption in 5.5 pt small print above a letter in 13 pt."""
    from pagemaker import LETTER, font_path
    from PIL import Image, ImageDraw, ImageFont

    page = Image.new("L", (int(8.27 * dpi), int(11.69 * dpi)), 255)
    draw = ImageDraw.Draw(page)
    small = ImageFont.truetype(font_path(), size=int(5.5 * dpi / 72))
    body = ImageFont.truetype(font_path(), size=int(13 * dpi / 72))
    for i, line in enumerate(ESIGN_CAPTION):
        draw.text((int(1.5 * dpi), int(0.2 * dpi) + i * int(small.size * 1.15)), line, font=small, fill=0)
    for i, line in enumerate(LETTER.splitlines()):
        draw.text((int(0.8 * dpi), int(1.0 * dpi) + i * int(body.size * 1.45)), line, font=body, fill=0)
    return np.asarray(page)


ESIGN_CAPTION = ["Người ký: Cổng Thông tin điện tử Chính phủ", "Email: thongtinchinhphu@chinhphu.vn",
                 "Cơ quan: Văn phòng Chính phủ", "Thời gian ký: 12.08.2022 15:12:53 +07:00"]


def test_neural_engine_reads_small_print_beside_the_body_text() -> None:
    reading = engines.get_engine("neural").read_page(_esigned_page(), 200, timeout_s=60)
    lines = reading.text.split("\n")
    # Each caption line read whole, on a line of its own (found again on the region enlarged).
    for caption in ESIGN_CAPTION:
        assert min(_cer(line, caption) for line in lines) < 0.1, caption
    assert "Cao Lộc, ngày 28 tháng 02 năm 2024" in reading.text
    # Their words' boxes are on the page, above the letter.
    caption_words = [w for w in reading.words if w.line < 4]
    assert caption_words and all(w.box is not None and 0 <= w.box[1] < 0.2 * 200 + 60 for w in caption_words)


# -- combined ------------------------------------------------------------------------------------


def _line(words: list[str], confidence: float = 95.0):
    from pipeline.engines.neural import LineReading

    boxes = [(100 + 120 * i, 100, 100, 40) for i in range(len(words))]
    return LineReading(box=(100, 100, 100 + 120 * len(words), 140), text=" ".join(words), confidence=confidence,
                       words=[(w, confidence, b) for w, b in zip(words, boxes)])


def test_combined_keeps_the_likelier_reading_of_each_stretch() -> None:
    from pipeline.engines.combined import CombinedEngine

    engine = CombinedEngine.__new__(CombinedEngine)  # the judge only: no models loaded
    engine._judge = None
    neural = _line("Căn cứ Luật Tô chức chính quyền địa phương".split())
    tess = [Word(t, 90.0, 0, (100 + 120 * i, 100, 100, 40))
            for i, t in enumerate("Căn cứ Luật Tổ chức chính quyên địa phương".split())]
    merged = engine.merge(neural, tess)
    assert merged.text == "Căn cứ Luật Tổ chức chính quyền địa phương"
    # Tesseract's extra noise (a stamp read as letters) is not let in.
    noisy = tess + [Word("ĐẾN", 30.0, 0, (100 + 120 * 10, 100, 100, 40))]
    assert engine.merge(neural, noisy).text.endswith("địa phương")


def test_combined_engine_reads_a_page() -> None:
    page = read_image(render_page(LINES, font_pt=14), 300, engine="combined")
    assert "cải cách hành chính" in page.text and "15/3/2024" in page.text
    assert _cer(page.text, LINES) < 0.02
    assert all(w.box for w in page.words)


def test_engines_that_cannot_reread_slots_fall_back_to_tesseract(fake_engine_installed) -> None:
    reader = engines.slot_reader(engines.get_engine("fake"))
    data = reader.read_data(np.full((60, 200), 255, np.uint8), "eng", 7, timeout_s=10, whitelist="0123456789/")
    assert "text" in data


def test_a_number_the_engines_read_differently_is_not_trusted() -> None:
    """qd109: the recogniser read a handwritten `109` as `409` at 0.9+; Tesseract's reading must be the judge."""
    from pipeline.engines.combined import UNCONFIRMED_DIGITS, CombinedEngine

    engine = CombinedEngine.__new__(CombinedEngine)
    engine._judge = None
    neural = _line(["Số:", "409/QĐ-BTC"], confidence=97.0)
    label = Word("Số:", 92.0, 0, (100, 100, 100, 40))
    same = engine.merge(neural, [label, Word("409/QĐ-BTC", 61.0, 0, (220, 100, 100, 40))])
    assert [round(w[1]) for w in same.words] == [97, 61]  # the digits take Tesseract's (calibrated) confidence
    other = engine.merge(neural, [label, Word("109/QĐ-BTC", 93.0, 0, (220, 100, 100, 40))])
    assert other.words[1][0] == "409/QĐ-BTC" and other.words[1][1] <= UNCONFIRMED_DIGITS
    # Tesseract read nothing there, even on the word's own crop: not trusted either.
    alone = engine.merge(neural, [label], reread=lambda box: [])
    assert alone.words[1][1] <= UNCONFIRMED_DIGITS and alone.words[0][1] == 97.0
    # ... but confirmed when the word's crop reads the same.
    confirmed = engine.merge(neural, [label], reread=lambda box: [Word("409/QĐ-BTC", 88.0, 0, box)])
    assert confirmed.words[1][1] == 88.0


def _cut(word: str) -> str:
    from pipeline.engines.neural import glued_syllables, missing_space

    k = missing_space(word) or glued_syllables(word)
    return f"{word[:k]} {word[k:]}" if k else word


def test_syllables_run_together_are_cut_where_they_split_one_way_only() -> None:
    assert [_cut(w) for w in ("SỞY", "CHÍMINH", "côngnhiệm", "THỊXÃ")] == ["SỞ Y", "CHÍ MINH", "công nhiệm", "THỊ XÃ"]
    # Syllables, words the vocabulary knows, abbreviations and addresses stay whole.
    for word in ("nghiêng", "Nguyễn", "email", "UBND", "HĐND", "BGDĐT", "thongtinchinhphu", "V/v"):
        assert _cut(word) == word
    # `Số` run into the code after it, the header's number slot (a handwritten number misread as `f`).
    assert _cut("Số2011/QĐ-UBND") == "Số 2011/QĐ-UBND" and _cut("Sốf/TTr-") == "Số f/TTr-"
    assert _cut("Sống") == "Sống"
    # A handwritten number read as a letter glued to the printed code: cut before the code's slash,
    # and a colon run into what follows (`Số:#532/UBND-`); a web address, `V/v` and codes stay whole.
    assert _cut("f/TTr-") == "f /TTr-" and _cut("Số:#532/UBND-") == "Số: #532/UBND-"
    assert _cut("Nơinhận:") == "Nơi nhận:"
    for word in ("https://dichvucong.gov.vn", "HD/BTGDVTU", "04/HD/BTGDVTU", "10:30"):
        assert _cut(word) == word


def test_dropped_spaces_are_put_back_after_commas_and_between_a_number_and_a_word() -> None:
    from pipeline.engines.neural import missing_space

    def cut(token: str) -> tuple[str, str] | None:
        at = missing_space(token)
        return (token[:at], token[at:]) if at else None

    assert cut("Giao,ngày") == ("Giao,", "ngày")
    assert cut("2030;Nghị") == ("2030;", "Nghị")
    assert cut("18tháng") == ("18", "tháng")
    assert cut("Số:142/QĐ-UBND") == ("Số:", "142/QĐ-UBND")
    # `Số:` read `S6:` with the clerk's number and the code glued on: cut as `Số:` is.
    assert cut("S6:.152/KH-SYT") == ("S6:", ".152/KH-SYT") and cut("S6:") is None
    # Decimals, codes and a trailing comma are left alone.
    assert cut("12,5%") is None and cut("2764/QĐ-TTg") is None and cut("10A") is None and cut("Hà Nội,") is None


def _photographed(page: np.ndarray) -> np.ndarray:
    """`page` on a dark desk, seen at an angle (a perspective warp), with light falling off."""
    import cv2

    h, w = page.shape
    margin = w // 12
    desk = np.full((h + 2 * margin, w + 2 * margin), 60, np.uint8)
    desk[margin:margin + h, margin:margin + w] = page
    corners = np.float32([[margin, margin], [margin + w, margin], [margin + w, margin + h], [margin, margin + h]])
    moved = corners + np.float32([[0.03 * w, 0.02 * h], [-0.02 * w, -0.01 * h], [0.01 * w, 0.02 * h], [-0.02 * w, 0]])
    warp = cv2.getPerspectiveTransform(corners, moved)
    out = cv2.warpPerspective(desk, warp, desk.shape[::-1], borderValue=60).astype(np.float32)
    out *= np.linspace(0.75, 1.0, out.shape[1], dtype=np.float32)[None, :]
    return out.astype(np.uint8)


def test_a_photographed_sheet_is_flattened_and_a_scan_left_alone() -> None:
    from pipeline.stages.preprocess import find_sheet, flatten_sheet

    page = render_page(LINES, font_pt=14, dpi=150)
    assert find_sheet(page) is None and flatten_sheet(page) is page
    photo = _photographed(page)
    flat = flatten_sheet(photo)
    assert flat.shape != photo.shape
    # The sheet's own proportions come back, and no desk is left round it.
    assert abs(flat.shape[0] / flat.shape[1] - page.shape[0] / page.shape[1]) < 0.05
    assert np.percentile(flat[:, :8], 50) > 150 and np.percentile(flat[-8:, :], 50) > 150


@pytest.mark.slow
def test_cascade_reads_a_photo_and_asks_tesseract_only_about_doubtful_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    from pipeline.engines.cascade import CascadeEngine

    engine = engines.get_engine("cascade")
    assert isinstance(engine, CascadeEngine)
    asked: list[tuple[int, int, int, int]] = []
    read_crop = engine.read_crop

    def counting(page, box, dpi, *, timeout_s):  # type: ignore[no-untyped-def]
        asked.append(box)
        return read_crop(page, box, dpi, timeout_s=timeout_s)

    monkeypatch.setattr(engine, "read_crop", counting)
    page = read_image(_photographed(render_page(LINES, font_pt=14, dpi=150)), 150, engine="cascade")
    assert "cải cách hành chính" in page.text and "15/3/2024" in page.text
    assert _cer(page.text, LINES) < 0.03
    # Four lines: the one with a date is checked; clean print without digits is not.
    assert 1 <= len(asked) < 4


def test_date_words_run_into_the_dotted_line_and_the_hand_are_cut_out() -> None:
    from pipeline.engines.neural import date_word_cut

    def cut(token: str) -> list[str]:
        parts = []
        while (at := date_word_cut(token)):
            parts.append(token[:at])
            token = token[at:]
        return parts + [token]

    assert cut("ngày.3..tháng") == ["ngày", ".3..", "tháng"]
    assert cut("..năm") == ["..", "năm"]
    assert cut("ngày-2Ịtháng01") == ["ngày", "-2Ị", "tháng", "01"]
    assert cut("thángS") == ["tháng", "S"]  # a hand 5 read as a capital
    # A small letter touching it is part of a word (`hằngnăm`), or a hand 1 the slot finder sees as glued (`ngàyl`);
    # punctuation after a date word is the sentence's.
    for token in ("hằngnăm", "thángiêng", "ngàyl", "ngày,", "tháng.", "Ngày"):
        assert cut(token) == [token]


def test_neural_word_boxes_hug_the_ink_of_each_word() -> None:
    """TrueOCR gives a line one box; each word's box is shrunk to its own ink, as Tesseract's are."""
    header = "Cao Lộc, ngày 15 tháng 3 năm 2024"
    image = render_page(header, font_pt=16)
    reading = engines.get_engine("neural").read_page(image, 300, timeout_s=60)
    words = {w.text: w.box for w in reading.words if w.box is not None}
    assert {"ngày", "năm"} <= set(words)
    nam, ngay = words["năm"], words["ngày"]
    assert nam[3] < 0.8 * ngay[3]  # `năm` has no ascender nor descender; `ngày` has both
    ink = reading.image[nam[1]:nam[1] + nam[3], nam[0]:nam[0] + nam[2]]
    assert ink.min() < 100 and ink[:, 0].min() < 160 and ink[:, -1].min() < 160  # its edges are the ink's


def test_the_number_after_so_is_cut_from_its_code_at_the_slash() -> None:
    """`Số: 390/C04-P6` (a clerk's `3980` read as `390`): the code's word starts at its slash,
    so its box tells the slot finder where the handwritten number ends."""
    from pipeline.engines.neural import number_slot_cut

    assert number_slot_cut("390/C04-P6", "Số:") == 3
    assert number_slot_cut("68/KH-STTTT", "Số") == 2
    # A code with its year, a code alone, and a number cited in the body stay whole.
    assert number_slot_cut("105/2021/NĐ-CP", "Số:") == 0
    assert number_slot_cut("/KH-UBND", "Số:") == 0
    assert number_slot_cut("4963/KH-UBND", "hoạch") == 0
