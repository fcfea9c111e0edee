"""Recipients: each `Kính gửi` line, else each `Nơi nhận` line but `Lưu` and `Như trên`.

`Kính gửi:` takes one recipient on its own line or a dashed list below it.
`Nơi nhận:` is the bottom-left list; OCR often merges the signer column to
its right on the same line, so the signer part (authority, title in
capitals, a wide column gap) is cut off each item.
"""

from __future__ import annotations

import re

from extractors.text import clean_lines, tidy_item

KINH_GUI = re.compile(r"^\s*K[íi]nh\s+g[ửu]i\s*:?\s*(?P<rest>.*)$", re.I)
NOI_NHAN = re.compile(r"^\s*N[ơo]i\s+nh[ậa]n\s*:?\s*(?P<rest>.*)$", re.I)
# Items that are not recipients (spec: without `Lưu`, `Như trên`).
SKIP_ITEM = re.compile(r"^(Lưu|Như\s+trên|Như\s+Điều|Như\s+khoản|Như\s+kính\s+gửi)\b", re.I)
# Where the signer column starts on a merged line.
SIGNER_COLUMN = re.compile(
    r"\s(?:TM|KT|TL|TUQ|Q)\.\s|\s{3,}|\s(?:CHỦ TỊCH|PHÓ CHỦ TỊCH|GIÁM ĐỐC|PHÓ GIÁM ĐỐC|BỘ TRƯỞNG|THỨ TRƯỞNG|"
    r"TRƯỞNG PHÒNG|CHÁNH VĂN PHÒNG|VỤ TRƯỞNG|CHI CỤC TRƯỞNG|TỔNG CỤC TRƯỞNG|CỤC TRƯỞNG|HIỆU TRƯỞNG|BÍ THƯ)\b"
)
BULLET = re.compile(r"^[\-–—+•*·=~]")
MAX_ITEMS = 30


def _cut_signer(line: str) -> str:
    match = SIGNER_COLUMN.search(" " + line)
    return line[: max(0, match.start() - 1)] if match else line


def _kinh_gui(lines: list[str]) -> list[str]:
    for index, line in enumerate(lines):
        match = KINH_GUI.match(line)
        if not match:
            continue
        items: list[str] = []
        rest = tidy_item(match.group("rest"))
        if rest:
            items.append(rest)
        for follow in lines[index + 1: index + 1 + MAX_ITEMS]:
            if not follow:
                continue
            if BULLET.match(follow):
                items.append(tidy_item(follow))
                continue
            if items and not rest and items[-1] and not re.search(r"[;.]$", follow) and follow[:1].islower():
                items[-1] = f"{items[-1]} {tidy_item(follow)}"  # an item wrapped onto the next line
                continue
            break
        return [i for i in items if i]
    return []


def _noi_nhan(lines: list[str]) -> list[str]:
    items: list[str] = []
    for index, line in enumerate(lines):
        match = NOI_NHAN.match(line)
        if not match:
            continue
        candidates = [match.group("rest")] + lines[index + 1: index + 1 + MAX_ITEMS]
        for position, raw in enumerate(candidates):
            raw = _cut_signer(raw or "")
            if not raw.strip():
                continue
            if not BULLET.match(raw.strip()):
                if position:
                    break
                continue  # text right of `Nơi nhận:` without a bullet is the signer column
            item = tidy_item(raw)
            if not item:
                continue
            if re.match(r"^Lưu\b", item, re.I):
                break  # `Lưu: VT` closes the list
            if SKIP_ITEM.match(item):
                continue
            items.append(item)
        break
    return items


def extract_recipients(text: str) -> list[str]:
    lines = clean_lines(text)
    return _kinh_gui(lines) or _noi_nhan(lines)


def addressees_from_zone(lines: list[str]) -> list[str]:
    """Recipients from the `Kính gửi` zone: the first may stand on the label's line, items
    open with a dash, a line without one continues the item above.  A công điện's
    addressees follow the line that ends in `điện:`."""
    items: list[str] = []
    for index, line in enumerate(lines):
        text = line.strip()
        if index == 0:
            match = KINH_GUI.match(text)
            rest = match.group("rest") if match else ""
            if rest.strip():
                items.append(rest)
            continue
        if BULLET.match(text) or not items:
            items.append(text)
        else:
            items[-1] = f"{items[-1]} {text}"
    return [item for item in (tidy_item(i) for i in items) if item and not SKIP_ITEM.match(item)]


def noi_nhan_from_zone(lines: list[str]) -> list[str]:
    """The `Nơi nhận` list of its zone: a dashed item per recipient, a line without a dash
    continuing the item above, `Lưu` closing the list."""
    items: list[str] = []
    for index, line in enumerate(lines):
        text = line.strip()
        if index == 0:
            match = NOI_NHAN.match(text)
            text = match.group("rest").strip() if match else text
            if not text:
                continue
        if re.match(r"^\W{0,3}Lưu\b", text, re.I):
            break
        if BULLET.match(text) or not items:
            items.append(text)
        else:
            items[-1] = f"{items[-1]} {text}"
    return [item for item in (tidy_item(i) for i in items) if item and not SKIP_ITEM.match(item)]


def recipients_from_zones(addressees: list[str], noi_nhan: list[str]) -> list[str]:
    """`Kính gửi` recipients, else the `Nơi nhận` list (spec: without `Lưu`, `Như trên`)."""
    return addressees_from_zone(addressees) if addressees else noi_nhan_from_zone(noi_nhan)
