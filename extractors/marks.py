"""Marks on a letter that are not its own text, and the fields some of them give.

Other hands write on a letter after it is signed: the e-signature caption a
signing tool prints (`Ký bởi: Sở Tư pháp / Email: ... / Thời gian ký:
25.02.2021 15:12:01 +07:00`), the `SAO Y` line of an electronic copy, the
receiving office's arrival stamp (`ĐẾN  Số: 1015  Ngày: 05/9/25`), an urgency
stamp (`HỎA TỐC`).  These rules say whether a line is such a mark and read
the record's `signature`, `received` and `urgency` from it.  They work on text
alone; pipeline/stages/layout/marks.py adds where on the page a mark stands.
"""

from __future__ import annotations

import re

from extractors.dates import parts_to_iso
from pipeline.core.types import Received, Signature
from pipeline.core.vietnamese import strip_diacritics

# Caption labels of Vietnamese signing tools (VGCA, VNPT SmartCA, Viettel-CA, the Government portal).
# A label opens its line (after a few specks of the logo beside it); `(email: ...)` in a sentence is no caption.
CAPTION_LABEL = re.compile(r"^.{0,10}?\b(?:Người\s+ký|Ký\s+bởi|Email|Cơ\s+quan|Thời\s+gian\s+ký|Ngày\s+ký)\s*:")
EMAIL = re.compile(r"[\w.\-]+@[\w\-]+(?:\.[\w\-]+)+")
# `25.02.2021 15:12:01 +07:00`, `25/07/2025 10:25:14 +07:00`: a signing tool's timestamp, never a letter's date.
TIMESTAMP = re.compile(
    r"(?P<d>\d{1,2})[./\-](?P<m>\d{1,2})[./\-](?P<y>(?:19|20)\d{2})\s*[, ]\s*"
    r"(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2}))?(?:\s*[+~\-]?\s*(?P<oh>\d{2}):?(?P<om>\d{2}))?")
COPY_LINE = re.compile(r"^\W{0,3}S\S?A\S?O\s+Y\b", re.I)  # `SAO Y; VĂN PHÒNG ...`, read `SẠAO Y`
# The arrival stamp's own words (`ĐẾN`, read `ĐỀN`, `DEN`), and the slots printed on it.
ARRIVAL_WORD = re.compile(r"(?:^|[^\w])(?:Đ|D)[ẾỀEÉÈ]N(?:[^\w]|$)")
STAMP_SLOT = re.compile(
    r"^\W{0,3}(?:Số|Só|Sô|So|Ngày|Ngay|Giờ|Gio|Chuyển|Chuyen|Lưu\s+hồ\s+sơ|Số\s+và\s+ký\s+hiệu)\b", re.I)
URGENCY = {"HOA TOC": "Hỏa tốc", "THUONG KHAN": "Thượng khẩn", "KHAN": "Khẩn"}


def _bare(text: str) -> str:
    return re.sub(r"[^A-Z ]", "", strip_diacritics(text).upper()).strip()


def is_caption_line(text: str) -> bool:
    """A line of an e-signature caption or an electronic copy's `SAO Y` line."""
    bare_email = EMAIL.search(text) and len(text) - len(EMAIL.search(text).group(0)) < 20  # type: ignore[union-attr]
    return bool(CAPTION_LABEL.search(text) or bare_email or TIMESTAMP.search(text)
                or COPY_LINE.match(text) or re.search(r"đã\s+ký\s+lên\s+văn\s+bản", text, re.I))


def is_arrival_word(text: str) -> bool:
    """The `ĐẾN` of an arrival stamp: the word alone in capitals (not `đến` in a sentence)."""
    return bool(ARRIVAL_WORD.search(text)) and len(text) <= 60 and not re.search(r"\bđến\b", text)


def is_stamp_slot(text: str) -> bool:
    return bool(STAMP_SLOT.match(text))


# The urgency words inside a stamp's reading (its frame and specks read as other marks around them).
URGENCY_IN = [(re.compile(r"\bHOA\s*TOC\b"), "Hỏa tốc"), (re.compile(r"\bTHUONG\s*KHAN\b"), "Thượng khẩn"),
              (re.compile(r"(?:^|\|)\W*KHAN\W*(?:$|\|)"), "Khẩn")]


def urgency_in_stamp(text: str) -> str | None:
    """`Hỏa tốc` from a red stamp's reading (`È HÓA TôC | S= 9ợ!`): the words may come with the frame's specks."""
    bare = " | ".join(_bare(part) for part in text.split("|"))
    return next((label for pattern, label in URGENCY_IN if pattern.search(bare)), None)


def urgency_of(text: str) -> str | None:
    """`HỎA TỐC`, `THƯỢNG KHẨN`, `KHẨN` standing alone (a stamp or a printed mark)."""
    bare = _bare(text)
    return URGENCY.get(bare)


def signature_from_caption(lines: list[str]) -> Signature | None:
    """The signer, organisation and time a printed e-signature caption states.

    `Người ký`/`Ký bởi` name the signer, `Cơ quan` the organisation; a boxed
    caption without labels gives the organisation in capitals above its e-mail.
    The time is taken only when it is a complete timestamp.
    """
    signed_by = organisation = signed_at = None
    unlabelled: list[str] = []
    for line in lines:
        label = re.search(r"(Người\s+ký|Ký\s+bởi|Cơ\s+quan)\s*:\s*(?P<value>.+)$", line)
        if re.search(r"(Email|Thời\s+gian\s+ký|Ngày\s+ký)\s*:", line) and not label:
            label = None
        if label:
            value = EMAIL.sub("", label.group("value")).strip(" ,;:_")
            if label.group(1).lower().startswith("cơ"):
                organisation = organisation or value or None
            else:
                signed_by = signed_by or value or None
        elif COPY_LINE.match(line):
            parts = [p.strip() for p in line.split(";")]
            if len(parts) >= 2 and parts[1]:
                organisation = organisation or parts[1]
        elif not EMAIL.search(line) and not TIMESTAMP.search(line):
            unlabelled.append(line.strip())
        stamp = TIMESTAMP.search(line)
        if stamp and signed_at is None:
            signed_at = _iso_timestamp(stamp)
    if organisation is None and signed_by is None and unlabelled:
        organisation = " ".join(unlabelled).strip() or None
    if not (signed_by or organisation or signed_at):
        return None
    return Signature(signed_by=signed_by, organisation=organisation, signed_at=signed_at, source="caption")


def _iso_timestamp(match: re.Match[str]) -> str | None:
    day = parts_to_iso(match.group("d"), match.group("m"), match.group("y"))
    hour, minute, second = int(match.group("H")), int(match.group("M")), int(match.group("S") or 0)
    if day is None or hour > 23 or minute > 59 or second > 59:
        return None
    stamp = f"{day}T{hour:02d}:{minute:02d}:{second:02d}"
    if match.group("oh"):
        stamp += f"+{match.group('oh')}:{match.group('om')}"
    return stamp


def received_from_stamp(lines: list[str]) -> Received | None:
    """The arrival number and date written on a `ĐẾN` stamp, when they read cleanly.

    They are often handwritten; a number is kept only as digits, a date only
    as a complete `dd/mm/yy(yy)`.
    """
    number = date = None
    for line in lines:
        slot = re.search(r"\bS[ốoô]\s*[:.]?\s*(?P<n>\d{1,6})\b", line)
        if slot and number is None:
            number = slot.group("n")
        day = re.search(r"Ngày\s*[:.]?\s*(?P<d>\d{1,2})\s*[/.\-]\s*(?P<m>\d{1,2})\s*[/.\-]\s*(?P<y>\d{2}|\d{4})\b",
                        line, re.I)
        if day and date is None:
            year = day.group("y")
            year = f"20{year}" if len(year) == 2 else year
            date = parts_to_iso(day.group("d"), day.group("m"), year)
    if number is None and date is None:
        return None
    return Received(number=number, date=date)
