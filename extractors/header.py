"""Header fields (Decree 30/2020/NĐ-CP, Article 8): number, type, issuer, place, date, subject.

The header is the block above the body: issuer lines and the national motto
(often merged by OCR on one line, left column then right), `Số: 122/KH-UBND`,
`Phước Long, ngày 14 tháng 05 năm 2021`, the type's title line and the
trích yếu (`V/v ...` for a công văn).  Every field is read from its own slot;
what the page does not state stays None.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from extractors.confidence import CODE_TRUST, DIGIT_TRUST, WordConfidence, combine
from extractors.dates import parse_date, parts_to_iso, valid_dmy
from extractors.slots import (
    HAND_AGREE,
    HAND_TRUST,
    HandValue,
    code_vote,
    date_parts,
    date_readings,
    hand_number_ok,
    hand_value,
    number_readings,
    vote,
)
from extractors.text import clean_lines, flatten, is_upper_line, normalize_code, sentence_case_name, strip_motto
from pipeline.core.vietnamese import hand_day_month_ok, strip_diacritics

# Type codes of Decree 30 Appendix III, and the title words they stand for.
TYPE_CODES = {
    "NQ": "Nghị quyết", "QĐ": "Quyết định", "CT": "Chỉ thị", "QC": "Quy chế", "QYĐ": "Quy định",
    "TC": "Thông cáo", "TB": "Thông báo", "HD": "Hướng dẫn", "HĐ": "Hướng dẫn", "CTr": "Chương trình",
    "KH": "Kế hoạch", "PA": "Phương án", "ĐA": "Đề án", "DA": "Dự án", "BC": "Báo cáo",
    "BB": "Biên bản", "TTr": "Tờ trình", "HĐ ": "Hợp đồng", "CĐ": "Công điện", "BGN": "Bản ghi nhớ",
    "GM": "Giấy mời", "GGT": "Giấy giới thiệu", "GNP": "Giấy nghỉ phép", "PG": "Phiếu gửi",
    "PC": "Phiếu chuyển", "TT": "Thông tư", "NĐ": "Nghị định", "KL": "Kết luận",
}
TITLE_WORDS = sorted({
    "KẾ HOẠCH", "QUYẾT ĐỊNH", "THÔNG BÁO", "CÔNG VĂN", "BÁO CÁO", "TỜ TRÌNH", "CHỈ THỊ", "NGHỊ QUYẾT",
    "HƯỚNG DẪN", "GIẤY MỜI", "KẾT LUẬN", "CÔNG ĐIỆN", "THÔNG TƯ", "NGHỊ ĐỊNH", "QUY CHẾ", "QUY ĐỊNH",
    "ĐỀ ÁN", "CHƯƠNG TRÌNH", "PHƯƠNG ÁN", "BIÊN BẢN", "THÔNG CÁO",
}, key=len, reverse=True)

# `Số:` as printed and as OCR reads it (`S6:`, `Sô`, `So`).
NUMBER_RE = re.compile(
    r"(?:^|(?<=\s))S[ốoôóồỗộọò6ổ]\s*[:.;]?\s*(?P<num>[^\s/]{0,8}?)\s*"
    # Code parts may carry digits after their first letter: `CV-PA83`, `C04-P6`, `KH-TCTLNTW-C04`.
    r"(?P<code>(?:/\s*(?:19|20)\d{2}\s*)?/\s*[A-Za-zĐđÐ][A-Za-zĐđÐ0-9&\-]*(?:\s*-\s*[A-ZĐÐ][A-Za-zĐđÐ0-9&]*)*)"
)
# The date slot: `Hà Nội, ngày` even when what follows is handwriting OCR could not read.
DATE_SLOT_RE = re.compile(r"(?P<pre>[^,\n]{0,60}?)\s*[,.]\s*ng[àaá]y", re.I)
ATTACHED_RE = re.compile(
    r"Kèm\s+theo\s+(?P<type>[A-ZĐ][\w]*(?:\s+[\w]+)?)\s+số\s+(?P<code>[\w\s]{0,8}/[\w/\-Đđ]+)\s+ngày\s+(?P<date>\S+(?:\s+tháng\s+\d{1,2}\s+năm\s+\d{4})?)")
DATE_LINE_RE = re.compile(
    r"(?P<pre>[^,\n]{0,60}?)\s*,?\s*ng[àa]y\s*(?P<d>[^\s]{0,4}?)\s*th[áa]ng\s*(?P<m>[^\s]{0,4}?)\s*n[ăa]m\s*(?P<y>\d{4})",
    re.I,
)
STAMP_DATE_RE = re.compile(
    r"(?:Thời gian ký|Ngày ký)\s*:\s*"
    r"(?:(?P<d>\d{1,2})[./\-](?P<m>\d{1,2})[./\-](?P<y>\d{4})|(?P<y2>\d{4})-(?P<m2>\d{2})-(?P<d2>\d{2}))",
    re.I,
)
PRINTED_YEAR_RE = re.compile(r"\bn[ăa]m\s+((?:19|20)\d\d)\b")
# Where the body starts: the header ends before any of these.
BODY_START = re.compile(r"^(Căn cứ|Kính gửi|Thực hiện|Theo đề nghị|Điều \d|I\.|1\.|Nhằm|Để)\b", re.I)
SUBJECT_STOP = re.compile(r"^(Căn cứ|Kính gửi|Thực hiện|Theo|Điều \d|Phần|Chương|[IVX]+\.|\d+\.|Nhằm|Để)\b")
# A trích yếu may itself open with these words (`KẾ HOẠCH / Thực hiện công tác bầu cử ...`): right
# under the title, a short line that does not introduce a list is the subject, not the body.
SUBJECT_MAY_OPEN = re.compile(r"^(?:Thực hiện|Nhằm|Để)\b(?!.*[:;,]$).{0,150}$")
PLACE_UNITS_RE = re.compile(r"^(THÀNH PHỐ|THỊ XÃ|THỊ TRẤN|TỈNH|HUYỆN|QUẬN|PHƯỜNG|XÃ|TP\.?)\b")
BARE_COUNCILS = re.compile(r"^(ỦY|UỶ) BAN NHÂN DÂN$|^HỘI ĐỒNG NHÂN DÂN$|^UBND$")
# The right column's date line merged after the subject (`..., ngày 14 tháng 05 năm 2021`).
MERGED_DATE_RE = re.compile(
    r"(?:[A-ZĐ][^\s,]*\s+){0,4}[A-ZĐ][^\s,]*\s*,\s*ng[àa]y\s*\S{0,4}\s*th[áa]ng\s*\S{0,4}\s*n[ăa]m\s*\d{4}")
HEADER_LINES = 45
# Địa danh of date lines, to mend one wrong letter of OCR (`Tà Nội` -> `Hà Nội`).
# Only whole names within one edit are mended; anything else is kept as read.
KNOWN_PLACES = [
    "Hà Nội", "Thành phố Hồ Chí Minh", "TP. Hồ Chí Minh", "Hải Phòng", "Đà Nẵng", "Cần Thơ", "Huế",
    "An Giang", "Bà Rịa - Vũng Tàu", "Bắc Giang", "Bắc Kạn", "Bạc Liêu", "Bắc Ninh", "Bến Tre", "Bình Định",
    "Bình Dương", "Bình Phước", "Bình Thuận", "Cà Mau", "Cao Bằng", "Đắk Lắk", "Đắk Nông", "Điện Biên",
    "Đồng Nai", "Đồng Tháp", "Gia Lai", "Hà Giang", "Hà Nam", "Hà Tĩnh", "Hải Dương", "Hậu Giang",
    "Hòa Bình", "Hưng Yên", "Khánh Hòa", "Kiên Giang", "Kon Tum", "Lai Châu", "Lâm Đồng", "Lạng Sơn",
    "Lào Cai", "Long An", "Nam Định", "Nghệ An", "Ninh Bình", "Ninh Thuận", "Phú Thọ", "Phú Yên",
    "Quảng Bình", "Quảng Nam", "Quảng Ngãi", "Quảng Ninh", "Quảng Trị", "Sóc Trăng", "Sơn La", "Tây Ninh",
    "Thái Bình", "Thái Nguyên", "Thanh Hóa", "Tiền Giang", "Trà Vinh", "Tuyên Quang", "Vĩnh Long",
    "Vĩnh Phúc", "Yên Bái", "Phước Long", "Cao Lộc", "Buôn Ma Thuột", "Vinh", "Quy Nhơn", "Nha Trang",
]


def _one_edit(a: str, b: str) -> bool:
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b)) == 1
    short, long_ = sorted((a, b), key=len)
    return any(long_[:i] + long_[i + 1:] == short for i in range(len(long_)))


def _edits(a: str, b: str) -> int:
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
    return row[-1]


def mend_place(place: str | None, prefix: str = "") -> tuple[str | None, bool]:
    """(place, mended): a known place name one OCR letter away replaces the reading.

    With the words before it (`lù Nội`), a known name ending in the same word
    and two letters away is taken (`Hà Nội`); anything else is kept as read.
    """
    if place in KNOWN_PLACES:
        return place, False
    if place:
        for known in KNOWN_PLACES:
            if len(known) >= 5 and _one_edit(place, known):
                return known, True
    words = prefix.strip(" ,.").split()
    for k in range(1, min(4, len(words)) + 1):
        candidate = " ".join(words[-k:])
        for known in KNOWN_PLACES:
            parts = known.split()
            if len(parts) == k and k >= 2 and parts[-1] == words[-1] and _edits(candidate.lower(), known.lower()) <= 2:
                return known, True
    return place, False  # the header sits in the first lines of page one


@dataclass
class Header:
    doc_number: str | None = None
    doc_type: str | None = None
    issuer: str | None = None
    place: str | None = None
    issue_date: str | None = None
    subject: str | None = None
    confidence: dict[str, float] = field(default_factory=dict)


def _is_place_word(word: str) -> bool:
    return bool(word) and word[0].isupper() and not any(c.isdigit() for c in word) and "/" not in word


def _place_from(prefix: str) -> str | None:
    """The run of Capitalised words just before `, ngày`: `Số: 122 /KH-UBND Phước Long` -> `Phước Long`."""
    words = prefix.strip(" ,").split()
    run: list[str] = []
    for word in reversed(words):
        if not _is_place_word(word) or word.rstrip(":") in {"Số", "S6", "V/v"} or len(run) >= 5:
            break
        run.insert(0, word)
    while run and is_upper_line(run[0]) and len(run[0]) > 3 and not run[0].startswith("TP"):
        run.pop(0)  # the tail of an all-caps issuer line merged on the same line
    # `Thành phố Hồ Chí Minh`, `Thị xã ...`: the unit's second word is lower case but part of the place.
    before = words[: len(words) - len(run)] if run else []
    if run and len(before) >= 2 and f"{before[-2]} {before[-1]}" in ("Thành phố", "Thị xã", "Thị trấn"):
        run = before[-2:] + run
    return " ".join(run) or None


def _plausible_code(code: str) -> bool:
    """Decree 30 ký hiệu: `QĐ-UBND`, `UBND-NV`, `2023/TB-LPQT`, or a bare type code (`TTr`).

    OCR that drops the dash (`SGDĐTVP`) leaves a code no office writes.
    """
    last = code.split("/")[-1]
    first = last.split("-")[0]
    # `QĐĐ-UBND`, `KHH-UBND`: a type code with a letter read twice.
    doubled = first not in TYPE_CODES and any(first[:i] + first[i + 1:] in TYPE_CODES and first[i] == first[i - 1]
                                              for i in range(1, len(first)))
    # Every part of a code is letters first (`C04-P6`, `PC04`): `0D-STTTT`, `3S2B-STTTT` are
    # the clerk's ink and the code's `QĐ`, `TB` read together.
    leads_with_letter = last[:1].isalpha()
    return leads_with_letter and not doubled and ("-" in last or last in TYPE_CODES or len(last) <= 5)


# How surely OCR must read a code's dotted part (`.PB`) for it to be the code's and not a speck.
DOTTED_CODE_TRUST = 0.90


def _dotted_part(line: str, match: re.Match[str], wc: WordConfidence) -> str | None:
    """The dotted part after the slot's code (`.PB` of `230/KH-THPT.PB`), "" when none; None when OCR read it unsurely.

    Kept where the text is exact (a text layer), or where OCR read the word
    holding it surely (`/KH-THPT.PB` at 1.00); read unsurely a dot is as often a
    speck or a misread letter (`TB-I.PQT` for `TB-LPQT`), and then the code is not
    known whole.
    """
    dotted = re.match(r"\.[A-ZĐ]{1,8}\b", line[match.end("code"):])
    if dotted is None:
        return ""
    if not wc.is_ocr:
        return dotted.group(0)
    whole = line[match.start("code"):match.end("code") + dotted.end()].lstrip("/ ")
    read_as = [value for word, value in wc.table.items() if whole in word]  # the OCR word(s) holding it
    return dotted.group(0) if read_as and min(read_as) >= DOTTED_CODE_TRUST else None


@dataclass
class NumberSlot:
    """What the page pass read in the header's `Số:` slot."""

    doc_number: str | None  # stored only when read well
    type_code: str | None
    confidence: float
    raw: str | None  # the slot as OCR read it, with its code whole
    code: str | None  # the printed code whole (`KH-THPT.PB`); None where its dotted part is unsure
    digits: str | None  # the number's characters as read, well or not (`3070.`, `€ÉÊ`)


def _number(lines: list[str], wc: WordConfidence) -> NumberSlot:
    """The `Số:` slot of the header's lines, as the page pass read it."""
    for line in lines:
        match = NUMBER_RE.search(line)
        if not match:
            continue
        code = normalize_code(match.group("code")).lstrip("/")
        type_code = next((p for p in code.split("/")[-1].split("-")[:1] if p in TYPE_CODES), None)
        digits = match.group("num")
        dotted = _dotted_part(line, match, wc)
        if dotted is None:  # a code is never stored cut short
            return NumberSlot(None, type_code, 0.3, line[match.start():], None, digits)
        code += dotted
        raw_num = digits.rstrip(".,")  # `3070. /KH-UBND`
        if not raw_num or not raw_num.isdigit():
            # A handwritten number OCR cannot read: the slot is there, the number is not.
            return NumberSlot(None, type_code, 0.0, match.group(0) + dotted, code, digits)
        value = f"{int(raw_num):0{len(raw_num) if raw_num.startswith('0') else 1}d}/{code}"
        # The number and its code as OCR read them (`1520/SGDĐTVP` at 0.55 lost its dash).
        slot = line[match.start("num"):match.end("code")]
        separate = bool(re.match(r"\d+\s", slot))  # `409 /QĐ-BTC`: a handwritten number in a printed slot
        ocr = wc.word(raw_num) if separate else wc.span(slot)
        threshold = DIGIT_TRUST if separate else CODE_TRUST
        raw = match.group(0) + dotted  # the slot with its code whole
        if wc.is_ocr and ((ocr is not None and ocr < threshold) or not _plausible_code(code)):
            # Read, but not well enough to store: null, and a confidence that says so.
            return NumberSlot(None, type_code, round((ocr if ocr is not None else 0.5) / 2, 2), raw, code, digits)
        return NumberSlot(value, type_code, combine("explicit", ocr), raw, code, digits)
    return NumberSlot(None, None, 0.0, None, None, None)


def _cited_date(text: str, doc_type: str | None, code: str | None) -> str | None:
    """The date an appendix gives its own letter: `Kèm theo Quyết định số 409 /QĐ-BTC ngày 21/01/2026`."""
    flat = flatten(text)
    for match in ATTACHED_RE.finditer(flat):
        kind, cited = match.group("type"), normalize_code(match.group("code"))
        if (doc_type and kind.lower() == doc_type.lower()) or (code and cited.endswith(code)):
            iso = parse_date(match.group("date"))
            if iso:
                return iso
    return None


def _cited_numbers(text: str, doc_type: str | None) -> list[str]:
    """Numbers the letter's own appendix gives it: `Kèm theo Quyết định số 409 _/QĐ-BTC ngày ...`."""
    found = []
    for match in ATTACHED_RE.finditer(flatten(text)):
        if doc_type and match.group("type").lower() == doc_type.lower():
            raw = re.sub(r"[\s_]+", "", match.group("code"))
            if re.match(r"^\d+/", raw):
                found.append(normalize_code(raw))
    return found


def _rereads_support_day(readings: dict[str, list[str]], day: str) -> bool:
    """Whether the focused rereads of the date slot (when there are any) read `day` at least once in four."""
    if not readings.get("date") and not readings.get("day"):
        return True
    days, _, _ = date_readings(readings.get("date", []), readings.get("day", []), None)
    digits = [r.token for r in days if r.token.isdigit()]
    if len(digits) < 4:
        return True  # too few readings to overrule the page
    return sum(int(token) == int(day) for token in digits) * 4 >= len(digits)


def _reread_date(readings: dict[str, list[str]], page: tuple[str, str, str] | None) -> tuple[str | None, float]:
    """(ISO date, confidence) from the focused rereads of the date line, when day, month and year each agree."""
    if not readings.get("date"):
        return None, 0.0
    days, months, years = date_readings(readings.get("date", []), readings.get("day", []), page)
    votes = [vote(days), vote(months), vote(years)]
    if any(v.value is None for v in votes):
        return None, 0.0
    d, m, y = (int(v.value) for v in votes)  # type: ignore[arg-type]
    if not (1 <= m <= 12 and 1900 <= y <= 2100 and valid_dmy(d, m, y)):
        return None, 0.0
    return parts_to_iso(str(d), str(m), str(y)), min(v.confidence for v in votes)


def _date(lines: list[str], text: str, wc: WordConfidence, doc_type: str | None, code: str | None,
          readings: dict[str, list[str]] | None = None, signed_text: str | None = None
          ) -> tuple[str | None, str | None, float, float, int | None]:
    """(place, issue_date, place confidence, date confidence, line index)."""
    for index, line in enumerate(lines):
        slot = DATE_SLOT_RE.search(line)
        if not slot:
            continue
        place, mended = mend_place(_place_from(slot.group("pre")), slot.group("pre"))
        place_conf = combine("fallback" if mended else "explicit", None if mended else wc.span(place)) if place else 0.0
        match = DATE_LINE_RE.search(line)
        d, m, y = (match.group("d"), match.group("m"), match.group("y")) if match else ("", "", "")
        ocr = min((v for v in (wc.word(d), wc.word(m), wc.word(y)) if v is not None), default=None)
        month = int(m) if m.isdigit() and 1 <= int(m) <= 12 else None
        readable = match and d.isdigit() and month is not None and valid_dmy(int(d), month, int(y))
        trusted = not (wc.is_ocr and ocr is not None and ocr < DIGIT_TRUST)
        if readable and trusted and not _rereads_support_day(readings or {}, d):
            # The close rereads of the slot never read this day: a handwritten day the
            # page pass read with false confidence (`ngày13` for a written 29).
            trusted = False
        # OCR that glued the day to `ngày` (`ngày13`) read the hand as one word: the
        # confidence found for `13` is another word's.  Such a day, or one the digit
        # recogniser reads otherwise, stands only where the recogniser reads the same.
        hand_day = hand_value(readings, "day")
        hand_says = hand_day.value if hand_day is not None else None
        hand_month = hand_value(readings, "month")
        if match and d.isdigit() and wc.is_ocr:
            glued = re.search(r"ng[àa]y\d", match.group(0), re.I) is not None
            if (hand_says is not None and int(hand_says) != int(d)) or (glued and hand_says != d.lstrip("0")
                                                                          and hand_says != d):
                trusted = False
            # So does a month the recogniser reads otherwise (`tháng 2` for a written 12).
            if hand_month is not None and hand_month.value is not None and month != int(hand_month.value):
                trusted = False
        if readable and trusted:
            return place, parts_to_iso(d, m, y), place_conf, combine("explicit", ocr), index
        # Day or month unreadable (handwritten): the date the letter's own appendix
        # gives it may stand in, when it agrees with the month read; else no date at all.
        cited = _cited_date(text, doc_type, code)
        if cited and (month is None or int(cited[5:7]) == month):
            return place, cited, place_conf, combine("fallback", None), index
        # The page pass's own reading of the slot counts as one more vote (`ngáy T3 tháng 01 năm 2023`).
        page_parts = (d, m, y) if match else date_parts(line[slot.end() - 4:])
        reread, reread_conf = _reread_date(readings or {}, page_parts)
        # The digit recogniser's reading of the handwritten day (and month), when sure.
        # (the signature's caption may sit outside the letter's text: `signed_text` has it)
        # Where the handwriting garbled the printed words between (`ngày #Š nh Ế năm 2025`),
        # the year printed after `năm` is still the page's; day and month are the hand's.
        year_only = PRINTED_YEAR_RE.search(line[slot.start():])
        hand_page = (d, m, y) if match else ("", "", year_only.group(1)) if year_only else None
        hand, hand_conf = _hand_date(readings or {}, hand_page, wc,
                                     text if signed_text is None else f"{text}\n{signed_text}")
        if hand and (reread is None or reread == hand):
            return place, hand, place_conf, hand_conf, index
        if reread and not hand:
            return place, reread, place_conf, reread_conf, index
        # No day read: the e-signature's day is not put in its place.  A signing day is
        # evidence for a day the page shows (above), never the answer alone: a copy is
        # signed later than the letter it copies (`SAO Y ... 25/07/2025` on a letter of 24/7).
        low = round(ocr, 2) if ocr is not None else 0.1
        return place, None, place_conf, min(low, 0.3), index
    return None, None, 0.0, 0.0, None


def _issuer(lines: list[str], stop: int) -> tuple[str | None, str | None]:
    """(issuer, raw lines) from the all-caps lines above the number/title."""
    parts: list[str] = []
    for line in lines[:stop]:
        if not line:
            continue
        if BODY_START.match(line) or NUMBER_RE.search(line) or DATE_LINE_RE.search(line):
            break
        left = strip_motto(line)
        if not left or not is_upper_line(left) or left in TITLE_WORDS:
            if parts and left in TITLE_WORDS:
                break
            continue
        if left not in parts:
            parts.append(left)
    parts = parts[:3]
    if not parts:
        return None, None
    names: list[str] = []
    for part in parts:
        if names and (PLACE_UNITS_RE.match(part) or BARE_COUNCILS.match(names[-1])):
            names[-1] = f"{names[-1]} {part}"
        else:
            names.append(part)
    return " / ".join(mend_body_case(sentence_case_name(n)) for n in names), " ".join(parts)


VOWELS = set("aeiouyăâêôơư")
# `Việt Nam` keeps its capitals inside a body's name (`Ủy ban MTTQ Việt Nam xã Lương Minh`).
COUNTRY = re.compile(r"\bviệt nam\b")
# A standing body printed under its committee (`ỦY BAN MTTQ VIỆT NAM XÃ LƯƠNG MINH` / `BAN THƯỜNG
# TRỰC`) is named with it: `Ban Thường trực Ủy ban MTTQ Việt Nam xã Lương Minh`.
STANDING_BODY = re.compile(r"^(?:Ban\s+)?(?:Thường\s+trực|Thường\s+vụ|Chấp\s+hành)$", re.I)


def mend_body_case(name: str) -> str:
    """A body's name as sentence-cased from capitals, with its acronyms (a word with no vowel:
    `MTTQ`, `BCĐ`) and the country's name capitalised again."""
    words = [w.upper() if len(w) >= 2 and w.isalpha() and not set(strip_diacritics(w).lower()) & VOWELS else w
             for w in name.split()]
    return COUNTRY.sub("Việt Nam", " ".join(words))


def name_with_committee(issuer: str | None, parent: str | None) -> str | None:
    """The issuer's full name: a standing body (`Ban Thường trực`) is its committee's."""
    if issuer and parent and STANDING_BODY.match(issuer.strip()):
        return f"{issuer.strip()} {parent}"
    return issuer


def _title(lines: list[str]) -> tuple[str | None, int | None]:
    for index, line in enumerate(lines[:HEADER_LINES]):
        bare = line.strip(" :.")
        if line.endswith(":"):
            continue  # `QUYẾT ĐỊNH:` opens the articles, it is not the title
        for title in TITLE_WORDS:
            # OCR drops a mark now and then (`QUYÉT ĐỊNH`): compare without marks.
            if strip_diacritics(bare).upper() == strip_diacritics(title):
                return title, index
    return None, None


def _subject(lines: list[str], start: int, capitalise: bool = True) -> str | None:
    """Lines from `start` until a blank after text, an all-caps line or the body."""
    collected: list[str] = []
    for line in lines[start:start + 14]:
        if not line:
            if collected:
                break
            continue
        line = MERGED_DATE_RE.sub("", line).strip()  # merged right column
        if not line:
            continue
        if (SUBJECT_STOP.match(line) and (collected or not SUBJECT_MAY_OPEN.match(line))) \
                or (is_upper_line(line) and collected):
            break
        if is_upper_line(line) and not collected:
            continue
        collected.append(line)
    subject = re.sub(r"\s+", " ", " ".join(collected)).strip(" .;")
    if capitalise:
        subject = subject[:1].upper() + subject[1:]
    return subject or None


def _vv_subject(lines: list[str]) -> tuple[str | None, int | None]:
    for index, line in enumerate(lines[:HEADER_LINES]):
        match = re.search(r"\b(V/v|V/V|v/v)\s*:?\s*(.*)$", line)
        if not match or BODY_START.match(line):
            continue
        first = "V/v " + MERGED_DATE_RE.sub("", match.group(2)).strip()
        rest = _subject(lines, index + 1, capitalise=False) if index + 1 < len(lines) and lines[index + 1] else None
        if rest and (rest.startswith("Kính") or NUMBER_RE.search(rest)):
            rest = None
        return re.sub(r"\s+", " ", f"{first} {rest or ''}").strip(" .;"), index
    return None, None


def _reread_number(readings: dict[str, list[str]], page_num: str | None, page_code: str | None
                   ) -> tuple[str | None, float, bool]:
    """(doc number, confidence, voted) from the focused rereads of the `Số:` slot.

    `voted` says the readings agreed on a number at all (a number the page pass
    read differently is then not kept).  The code is the page pass's when it is a
    The code is the one the letter-reading recognisers give most, exactly (three times at least).
    """
    raw = readings.get("number") or []
    if not raw:
        return None, 0.0, False
    result = vote(number_readings(raw, page_num))
    if result.value is None:
        return None, 0.0, False
    # The code is printed and reads well in most rereads; the page pass's code
    # (`TB-I.PQT`, cut at the stray dot) is only a fallback when they give none.
    voted, count = code_vote(raw)
    voted = normalize_code(voted).lstrip("/") if voted else None
    code = voted if voted and count >= 3 and _plausible_code(voted) else None
    if not code:
        return None, 0.0, True
    return f"{result.value}/{code}", result.confidence, True


# `Văn bản số 4532/UBND-KSTTHC`, `theo Công văn số 275 /STTTT-CNTT`: a printed citation of a
# number.  `Số:` with its colon (the header's own slot) is not one.
CITED_NUMBER_RE = re.compile(r"\bs[ốô]\s+(?P<num>\d{1,5})\s*/\s*(?P<code>[\wĐđ][\wĐđ/\-]*)", re.I)
# A citation and the recogniser agreeing: two independent readings (print and hand) of the same number.
CITED_AGREE_CONFIDENCE = 0.90


def _citations(text: str) -> list[tuple[str, str]]:
    """(number, code) pairs the text cites (`Văn bản số 4532/UBND-KSTTHC` -> ("4532", "UBND-KSTTHC"))."""
    return [(match.group("num"), normalize_code(match.group("code")).rstrip("/.-"))
            for match in CITED_NUMBER_RE.finditer(flatten(text))]


def _cited_hand_number(hand: HandValue, code: str | None, slot_text: str, cited_text: str) -> tuple[str, str] | None:
    """(number, code): the hand's digits, where the letter's text cites that very number with its code.

    A second letter bound after the first (`Văn bản số 4532/UBND-KSTTHC, ngày 07/12/2011`)
    or a footer prints the number the clerk wrote by hand.  The citation alone is no
    evidence (a letter cites other letters of the same office and code), and a weak
    reading alone is not enough (it may be a digit off); both reading the same digits is.
    The cited code must be the letter's own: the one read whole, else (a code the page
    pass cut at a space, `UBND- KSTTHC`) the printed slot with its spaces removed.
    At least two digits: one digit matching a citation by chance is too likely.
    """
    candidate = hand.value or hand.candidate
    confidence = hand.confidence if hand.value else hand.candidate_confidence
    if candidate is None or not hand_number_ok(candidate) or len(candidate) < 2 or confidence < HAND_AGREE:
        return None
    # `//2/UBND- KSTTHC Phú Thọ` -> tokens `Số:`, `//2/UBND-KSTTHC`, `Phú`, ...
    printed = [normalize_code(token) for token in re.sub(r"\s*([/\-])\s*", r"\1", slot_text).split()]
    if slot_text:
        cited_text = cited_text.replace(slot_text, "", 1)  # the header's own slot is no citation of itself
    for number, cited_code in _citations(cited_text):
        if number != candidate or not _plausible_code(cited_code):
            continue
        if cited_code == code or (code is None and any(token.endswith(f"/{cited_code}") for token in printed)):
            return candidate, cited_code
    return None


def _so_line(head: list[str]) -> str:
    """The header's `Số: ...` line as OCR gave it, also where NUMBER_RE finds no number in it."""
    return next((line for line in head if re.match(r"\s*s[ốôo]\s*[:;]", line, re.I)), "")


# The page pass and the recogniser reading the same digits, each unsure on its own.
PAGE_AGREE_CONFIDENCE = 0.85
# The least each reader's own confidence may be for the two to count as agreeing: both
# must lean to their reading (a `9` read as `3` by both at 0.51 and 0.73 was seen on
# held-out pages: shapes that fool one reader fool the other too).
PAGE_AGREE_FLOOR = 0.60
HAND_AGREE_WITH_PAGE = 0.70
# A reading with one digit more than the page pass's, every binarisation giving it.
DROPPED_DIGIT_TRUST = 0.95


def _is_subsequence(short: str, long: str) -> bool:
    """Whether `short` is `long` with characters left out (`390` of `3980`)."""
    rest = iter(long)
    return all(char in rest for char in short)


def _page_dropped_digit(page_digits: str, hand: HandValue, raw: list[str]) -> bool:
    """Whether the page pass read the hand with one digit lost (`390` for a written `3980`).

    A line reader loses a faint or crowded digit of a clerk's number (`43` -> `3`,
    `3980` -> `390`); the recogniser, which segments the slot's ink glyph by glyph,
    sees it.  Its reading stands over the page's only when it is sure in every
    binarisation, adds exactly one digit to the page's digits in the same order, and
    Tesseract's rereads do not agree on a third number.
    """
    if hand.value is None or hand.confidence < DROPPED_DIGIT_TRUST or not hand_number_ok(hand.value):
        return False
    if len(hand.variants) < 3 or any(variant != hand.value for variant in hand.variants):
        return False
    if len(hand.value) != len(page_digits) + 1 or not _is_subsequence(page_digits, hand.value):
        return False
    tess = vote(number_readings(raw, None)) if raw else None
    return tess is None or tess.value is None or tess.value == hand.value


def _hand_number(number: str | None, confidence: float, readings: dict[str, list[str]], code: str | None,
                 cited_text: str = "", slot_text: str = "", unsure_page: tuple[str, float] | None = None
                 ) -> tuple[str | None, float, bool]:
    """(doc number, confidence, from the hand) with the digit recogniser's reading of the `Số:` slot.

    A sure reading fills a number the page pass could not read, with the printed
    code kept whole (the page pass's, else the one the rereads agree on); so does a
    weaker one (HAND_AGREE) that a printed citation elsewhere in the letter reads the
    same (`_cited_hand_number`), or that the page pass read the same, unsure too
    (`unsure_page`: its digits and their confidence, where it gave no number).  A
    reading that differs from the page pass's number leaves the number null (one of
    them misread a hand), unless the page pass lost a digit the recogniser sees
    (`_page_dropped_digit`).
    """
    hand = hand_value(readings, "number")
    if hand is None or (hand.value is None and hand.candidate is None):
        return number, confidence, False
    if number is not None:
        page_digits, page_code = number.split("/", 1)
        if _page_dropped_digit(page_digits, hand, readings.get("number") or []):
            return f"{hand.value}/{page_code}", round(hand.confidence, 2), True
        if hand.value is None:
            # No sure reading, but most binarisations read other digits, not unsure ones
            # (`43` where the page pass read `3`, its `4` lost at `Số:`): one of the two misread.
            if hand.candidate and hand.candidate != page_digits and hand.candidate_confidence >= HAND_AGREE:
                return None, min(confidence, 0.3), False
            return number, confidence, False
        if page_digits == hand.value:
            return number, max(confidence, hand.confidence if hand.trusted else 0.0), True
        return None, min(confidence, 0.3), False
    if code is not None and code.endswith("-"):
        code = None  # `TTr- CAT-PC04` read as two words: the code was cut at the space, never stored so
    raw = readings.get("number") or []
    if code is None and raw:
        voted, count = code_vote(raw)
        voted = normalize_code(voted).lstrip("/") if voted else None
        code = voted if voted and count >= 3 and _plausible_code(voted) else None
    cited = _cited_hand_number(hand, code, slot_text, cited_text)
    if cited is not None:
        code = cited[1]
    agreed = cited is None and _page_agrees(hand, unsure_page)
    value = cited[0] if cited else hand.candidate if agreed else hand.value
    if value is None:
        return number, confidence, False
    if cited is None and not agreed and (not hand.trusted or not hand_number_ok(value)):
        return None, min(confidence, round(hand.confidence / 2, 2)), False
    tess = vote(number_readings(raw, None)) if raw else None
    if tess is not None and tess.value is not None and tess.value != value:
        return None, 0.3, False  # Tesseract's rereads agree on another number
    if code is None:
        return None, 0.3, False  # the code is not read: a number is never stored cut short
    if cited is not None:
        return f"{value}/{code}", max(CITED_AGREE_CONFIDENCE, round(hand.confidence, 2)), True
    if agreed and not hand.trusted:
        return f"{value}/{code}", PAGE_AGREE_CONFIDENCE, True
    return f"{value}/{code}", round(hand.confidence, 2), True


def _page_agrees(hand: HandValue, unsure_page: tuple[str, float] | None) -> bool:
    """Whether the page pass, unsure, read the digits the recogniser reads, unsure too.

    Two readers of different make (a line recogniser over the page, a digit classifier
    over the slot's glyphs) giving the same two or more digits are evidence neither is
    alone; a single digit agreeing by chance is too likely.
    """
    if unsure_page is None or hand.candidate is None:
        return False
    digits, page_confidence = unsure_page
    return (digits == hand.candidate and len(digits) >= 2 and hand_number_ok(digits)
            and hand.candidate_confidence >= HAND_AGREE_WITH_PAGE and page_confidence >= PAGE_AGREE_FLOOR)


# A day only some binarisations read, the same as the signature's day; below a day the
# recogniser reads in every binarisation and the signature confirms (0.95).
SIGNED_VARIANT_CONFIDENCE = 0.80


def _signed_day_in_variants(day: HandValue, stamped: list[tuple[int, int, int]]) -> str | None:
    """The signature's day, where the binarisations disagree on the slot but those giving a day read it.

    `25` / `85` / `25` / `85` / `85` on an e-signed letter `Thời gian ký: 25.02.2021`: no
    day is `85`, so the only day the hand is read as is the signature's.  The signature
    alone is no evidence (the issue date is not always the signing day), nor are two of
    five binarisations; both together are, and only when no binarisation reads another
    valid day and at least two read the signature's.  The month and year are checked
    against the signature by the caller.
    """
    signed = {sd for sd, _, _ in stamped}
    days = [v for v in day.variants if v and "?" not in v and hand_day_month_ok(v, 31)]
    if len(signed) != 1 or len(days) < 2 or len({int(v) for v in days}) != 1:
        return None
    value = days[0]
    return value if int(value) in signed else None


def _hand_date(readings: dict[str, list[str]], page: tuple[str, str, str] | None, wc: WordConfidence, text: str
               ) -> tuple[str | None, float]:
    """(ISO date, confidence) from the recogniser's handwritten day and month and the printed year.

    The month is the printed one when the page pass read it well (then a
    handwritten reading must agree), else the handwritten one.  Each handwritten
    part must be sure (HAND_TRUST), unless a digital signature of the letter
    (`Thời gian ký: 25.02.2021`) gives the same day and month: a second,
    independent reading, and then HAND_AGREE is enough.  The date may not be
    after the signature's day in the same month.
    """
    day, month = hand_value(readings, "day"), hand_value(readings, "month")
    stamped = [(int(g["d"] or g["d2"]), int(g["m"] or g["m2"]), int(g["y"] or g["y2"]))
               for g in (match.groupdict() for match in STAMP_DATE_RE.finditer(text))]
    from_variants = False
    if day is not None and day.value is None and page is not None:
        signed_day = _signed_day_in_variants(day, stamped)
        if signed_day is not None:
            day, from_variants = replace(day, value=signed_day, confidence=HAND_AGREE), True
    if page is None or day is None or day.value is None or not hand_day_month_ok(day.value, 31):
        return None, 0.0
    d, m, y = page
    year_conf = wc.word(y)
    if not (y.isdigit() and len(y) == 4) or (year_conf is not None and year_conf < DIGIT_TRUST):
        return None, 0.0
    if d.isdigit() and int(d) != int(day.value):
        # The page pass read other digits there: that stands against the hand unless the
        # page pass was itself unsure (Tesseract reads a clerk's digits badly) and the
        # recogniser is sure on its own.
        page_conf = wc.word(d)
        if page_conf is None or page_conf >= DIGIT_TRUST or not day.trusted:
            return None, 0.0
    day_value, year = int(day.value), int(y)
    parts = [day]
    printed = m.isdigit() and 1 <= int(m) <= 12 and (wc.word(m) or 1.0) >= DIGIT_TRUST
    if printed:
        if month is not None and month.value is not None and int(month.value) != int(m):
            return None, 0.0
        month_value = int(m)
    elif month is not None and month.value is not None and hand_day_month_ok(month.value, 12):
        month_value = int(month.value)
        parts.append(month)
    else:
        return None, 0.0
    if not valid_dmy(day_value, month_value, year):
        return None, 0.0
    for sd, sm, sy in stamped:
        if sm == month_value and sy == year and sd < day_value:
            return None, 0.0  # signed before it was issued: a misread day
    signed_same = (day_value, month_value, year) in stamped
    if from_variants and not signed_same:
        return None, 0.0  # the signature's day was in another month or year
    floor = HAND_AGREE if signed_same else HAND_TRUST
    if any(part.confidence < floor for part in parts):
        return None, 0.0
    confs = [part.confidence for part in parts]
    if from_variants:
        confs = [min(c, SIGNED_VARIANT_CONFIDENCE) for c in confs]
    elif signed_same:
        confs = [max(c, 0.95) for c in confs]  # hand and signature agree
    return parts_to_iso(str(day_value), str(month_value), y), round(min(confs), 2)


def extract_header(text: str, word_confidence: dict[str, float] | None = None,
                   slot_readings: dict[str, list[str]] | None = None, *, cited_text: str | None = None,
                   signed_text: str | None = None) -> Header:
    """Header fields; `slot_readings` are focused OCR rereads of the number and date slots, if any.

    `cited_text` (default `text`) is where the letter's own number and date may be
    cited (`Kèm theo Quyết định số 109/QĐ-BTC ngày ...`): the letter with its
    appendices, while `text` holds the letter alone, so an appendix or a second
    letter bound after it never fills a header slot.
    """
    wc = WordConfidence(word_confidence)
    cited_text = text if cited_text is None else cited_text
    lines = clean_lines(text)
    head = lines[:HEADER_LINES]
    header = Header()
    conf = header.confidence

    slot = _number(head, wc)
    number, type_code, conf["doc_number"], number_raw = slot.doc_number, slot.type_code, slot.confidence, slot.raw
    header.doc_number = number

    title, title_index = _title(lines)
    code = slot.code
    readings = slot_readings or {}
    page_num = slot.digits  # the page pass's digits, read well or not
    from_reread = False
    if readings.get("number") and wc.is_ocr:
        reread, reread_conf, voted = _reread_number(readings, page_num, code)
        if number is None and reread:
            header.doc_number, number, conf["doc_number"] = reread, reread, reread_conf
            from_reread = True
        elif number and voted and reread != number:
            # The rereads agree on another number than the page pass read: keep neither.
            header.doc_number, number = None, None
            conf["doc_number"] = min(conf["doc_number"], 0.3)
    if wc.is_ocr and hand_value(readings, "number") is not None:
        page_code = code if code and _plausible_code(code) else None
        page_digits = (page_num or "").rstrip(".,")
        page_digits_conf = wc.word(page_digits) if number is None and page_digits.isdigit() else None
        unsure_page = (page_digits, page_digits_conf) if page_digits_conf is not None else None
        number, conf["doc_number"], from_hand = _hand_number(number, conf["doc_number"], readings, page_code,
                                                                  cited_text, number_raw or _so_line(head),
                                                                  unsure_page)
        header.doc_number = number
        from_reread = from_reread or from_hand
    kind = title.capitalize() if title else TYPE_CODES.get(type_code or "")
    place, issue_date, place_conf, date_conf, date_index = _date(head, cited_text, wc, kind, code, readings,
                                                                 signed_text)
    header.place, header.issue_date = place, issue_date
    conf["place"], conf["issue_date"] = place_conf, date_conf
    if number and not from_reread and wc.is_ocr and date_index is not None and (issue_date is None or date_conf < 0.9):
        # The date slot is handwriting OCR could not read: the number beside it
        # was filled by the same hand at registration.  Keep it only when the
        # text elsewhere (`Kèm theo Quyết định số 109/QĐ-BTC`) reads the same.
        cited = _cited_numbers(cited_text, kind)
        if not cited or any(c != number for c in cited):
            header.doc_number = None
            conf["doc_number"] = min(conf["doc_number"], 0.3)

    vv, vv_index = _vv_subject(lines)
    if title and title_index is not None:
        header.doc_type = title.capitalize()
        conf["doc_type"] = combine("explicit", None)
        header.subject = _subject(lines, title_index + 1)
    elif type_code:
        header.doc_type = TYPE_CODES[type_code]
        conf["doc_type"] = combine("inferred", None)
    elif vv or any(re.match(r"^Kính\s+gửi", line, re.I) for line in lines):
        # A công văn has no title line; its V/v or its Kính gửi says what it is.
        header.doc_type = "Công văn"
        conf["doc_type"] = combine("inferred", None)
    if vv and not header.subject:
        header.subject = vv
    conf["subject"] = combine("explicit", wc.span(header.subject, "mean")) if header.subject else 0.0

    stops = [i for i in (title_index, vv_index, date_index) if i is not None]
    number_line = next((i for i, line in enumerate(head) if NUMBER_RE.search(line)), None)
    if number_line is not None:
        stops.append(number_line + 1)
    issuer, issuer_raw = _issuer(head, min(stops) if stops else 12)
    header.issuer = issuer
    conf["issuer"] = combine("explicit", wc.span(issuer_raw)) if issuer else 0.0
    return header


# ----------------------------------------------------------------------------- from the page's zones

# Words that open the name of a body (cơ quan, tổ chức) in a header, compared without marks.
# A header line that opens with one starts a new body; any other line continues the name above
# (`CỤC CẢNH SÁT ĐIỀU TRA` / `TỘI PHẠM VỀ MA TÚY`, `ỦY BAN NHÂN DÂN` / `THÀNH PHỐ HÀ NỘI`).
BODY_OPENERS = [
    "BO", "SO", "CUC", "VU", "UY BAN", "UBND", "HOI DONG", "HDND", "VAN PHONG", "TRUONG", "BAN", "TO", "TRUNG TAM",
    "CONG AN", "THU TUONG", "CHINH PHU", "CHI CUC", "TONG CUC", "PHONG", "DANG UY", "HOC VIEN", "VIEN", "BENH VIEN",
    "KHO BAC", "NGAN HANG", "TOA AN", "VIEN KIEM SAT", "TINH UY", "THANH UY", "HUYEN UY", "DOAN", "HOI", "CONG TY",
    "TAP DOAN", "DAI HOC", "BO CHI HUY", "BAN QUAN LY", "THANH TRA", "MAT TRAN", "BHXH", "BAO HIEM", "KIEM TOAN",
]
_OPENER_RE = re.compile(r"^(?:" + "|".join(sorted(BODY_OPENERS, key=len, reverse=True)) + r")\b")


def _opens_body(line: str) -> bool:
    return bool(_OPENER_RE.match(strip_diacritics(line).upper().strip(" -_.,:;|")))


def header_bodies(left_lines: list[str]) -> tuple[str | None, str | None]:
    """(issuer, issuer_parent) from the header's left column, read top down to `Số:`.

    Decree 30 prints the managing body (cơ quan chủ quản) above the issuing
    body; each may wrap onto several lines.  The lowest body is the issuer.
    """
    names: list[list[str]] = []
    for raw in left_lines:
        if NUMBER_RE.search(raw) or re.match(r"^\W{0,3}(V/v|Về\s+việc)\b", raw, re.I):
            break
        line = strip_motto(raw).strip(" -_=.,:;|\u2014\u2013")
        line = re.sub(r"^(UBND|HĐND)(?=[^\W\d_])", r"\1 ", line)  # `UBNDTỈNH PHÚ THỌ`: OCR lost the space
        if not line or not is_upper_line(line) or len(re.sub(r"\W", "", line)) < 2:
            continue
        if names and not _opens_body(line):
            names[-1].append(line)
        elif names and BARE_COUNCILS.match(" ".join(names[-1])) and PLACE_UNITS_RE.match(line):
            names[-1].append(line)
        else:
            names.append([line])
    if not names:
        return None, None
    cased = [mend_body_case(_mend_body_place(sentence_case_name(" ".join(parts)))) for parts in names]
    return cased[-1], (cased[-2] if len(cased) >= 2 else None)


_BODY_PLACE = re.compile(
    r"(?P<unit>\b(?:tỉnh|thành phố|huyện|quận|thị xã|thị trấn)\s+)(?P<place>[^\W\d_][\w ]*)$", re.I)


def _mend_body_place(name: str) -> str:
    """`Ủy ban nhân dân tỉnh Bén Tre` -> `... tỉnh Bến Tre`: a known place one OCR letter away."""
    match = _BODY_PLACE.search(name)
    if not match:
        return name
    mended, changed = mend_place(match.group("place"))
    return name[: match.start("place")] + mended if changed and mended else name


def subject_from_zones(left_lines: list[str], title_lines: list[str]) -> str | None:
    """The trích yếu: a công văn's `V/v ...` under its number, else the line(s) under the title.

    Under the title, the subject runs until a line in capitals (the issuing
    authority of a Quyết định: `THỦ TƯỚNG CHÍNH PHỦ`) or the body.
    """
    number_at = next((i for i, line in enumerate(left_lines) if NUMBER_RE.search(line)), None)
    for index, line in enumerate(left_lines):
        match = re.match(r"^\W{0,3}(V\s*/\s*v|V/V|Về\s+việc)\s*:?\s*(?P<rest>.*)$", line, re.I)
        # A công văn's trích yếu: `V/v ...`, or the mixed-case lines under its `Số:` (`Về Chương trình ...`).
        under_number = number_at is not None and index > number_at and not is_upper_line(line)
        if match or under_number:
            first = line
            if match:
                lead = "V/v " if re.sub(r"\s", "", match.group(1)).lower() == "v/v" else "Về việc "
                first = lead + match.group("rest").strip()
            parts = [first] + [rest for rest in left_lines[index + 1:] if rest.strip() and not NUMBER_RE.search(rest)]
            return re.sub(r"\s+", " ", " ".join(parts)).strip(" .;") or None
    collected: list[str] = []
    for index, line in enumerate(title_lines):
        text = line.strip()
        if index == 0 and _is_title_text(text):
            continue
        if not text or SUBJECT_STOP.match(text):
            break
        if is_upper_line(text):
            if collected:
                break
            continue
        collected.append(text)
    subject = re.sub(r"\s+", " ", " ".join(collected)).strip(" .;")
    return subject[:1].upper() + subject[1:] if subject else None


def _is_title_text(text: str) -> bool:
    bare = re.sub(r"[^A-Z]", "", strip_diacritics(text).upper())
    return any(bare == re.sub(r"[^A-Z]", "", strip_diacritics(t)) for t in TITLE_WORDS)
