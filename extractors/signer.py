"""Signer block: authority (`TM.`, `KT.`, `TL.`, `Q.`, `TUQ.` line), title, name.

The block sits at the end of the letter's body, right of `Nơi nhận`:

    KT. BỘ TRƯỞNG          <- authority (who the signer signs for)
    THỨ TRƯỞNG             <- title
    (signature, seal)
    Trần Quốc Phương       <- name

A Công báo copy may hold several letters or a long annex after the first
letter, so the first block after the body is taken, not the last one.  A
name is a line of 2-5 capitalised words starting with a Vietnamese surname.
"""

from __future__ import annotations

import re

from extractors.text import clean_lines, is_upper_line
from pipeline.core.types import Signer

AUTHORITY_RE = re.compile(r"^(?:TM|KT|TL|TUQ|Q|QUYỀN)\s*\.\s*\S.*$")
TITLE_RE = re.compile(
    r"^(?:PHÓ\s+)?(?:CHỦ TỊCH|GIÁM ĐỐC|BỘ TRƯỞNG|THỨ TRƯỞNG|TRƯỞNG PHÒNG|TRƯỞNG BAN|CHÁNH VĂN PHÒNG|VỤ TRƯỞNG|"
    r"CỤC TRƯỞNG|TỔNG CỤC TRƯỞNG|BÍ THƯ|HIỆU TRƯỞNG|THỦ TRƯỞNG|TỔNG GIÁM ĐỐC|CHÁNH THANH TRA|TRƯỞNG|THỦ TƯỚNG)\b.*$"
)
SURNAMES = {
    "Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô",
    "Dương", "Lý", "Đinh", "Đoàn", "Lâm", "Mai", "Trịnh", "Trương", "Cao", "Lương", "Hà", "Tạ", "Tô", "Châu",
    "Thái", "Lưu", "Kiều", "Quách", "Chu", "Đào", "Triệu", "Vương", "Tăng", "Từ", "Hứa", "Nông", "La", "Lò",
    "Hầu", "Thân", "Khúc", "Âu", "Diệp", "Giang", "Tôn", "Mạc", "Lại", "Kim", "Nghiêm", "Phùng", "Đàm",
    "Lục", "Ninh", "Bạch", "Trình", "Văn", "Doãn", "Khổng", "Lã", "Mông", "Ông", "Thạch", "Y",
}
NAME_WORD = r"[A-ZĐÀ-Ỹ][a-zà-ỹđ]+"
NAME_RE = re.compile(rf"(?P<name>{NAME_WORD}(?:\s+{NAME_WORD}){{1,4}})\s*$")
BLOCK_SPAN = 14  # lines from the authority line to the name, seal and signature between


def _name(line: str) -> str | None:
    match = NAME_RE.search(line)
    if not match:
        return None
    words = match.group("name").split()
    # The surname starts the name; words before it belong to a merged left column.
    for i, word in enumerate(words):
        if word in SURNAMES and len(words) - i >= 2:
            return " ".join(words[i:])
    return None


def _block(lines: list[str], start: int) -> Signer | None:
    """Capital lines from `start` up to a name: authority lines, then the title as the last one."""
    upper: list[str] = []
    for line in lines[start: start + BLOCK_SPAN]:
        if not line:
            continue
        name = _name(line)
        if name and not is_upper_line(line):
            authorities = [u for u in upper if AUTHORITY_RE.match(u)]
            title = upper[-1] if upper and not AUTHORITY_RE.match(upper[-1]) else None
            # A department line under `KT. VỤ TRƯỞNG` belongs to that authority.
            middle = [u for u in upper[:-1] if not AUTHORITY_RE.match(u)] if title else []
            authority = " / ".join(authorities) if authorities else None
            if authority and middle:
                authority = f"{authority} {' '.join(middle)}"
            return Signer(name=name, title=title, authority=authority)
        if is_upper_line(line):
            upper.append(line)
            continue
        return None  # running text: not a signer block
    return None


def extract_signer(text: str) -> Signer | None:
    lines = clean_lines(text)
    body_start = next((i for i, line in enumerate(lines) if re.match(r"^(Căn cứ|Kính gửi|Thực hiện|Điều 1)", line)), 0)
    for index in range(body_start, len(lines)):
        line = lines[index]
        if AUTHORITY_RE.match(line) or (TITLE_RE.match(line) and is_upper_line(line)
                                        and index + 1 < len(lines) and not lines[index - 1].endswith(",")):
            signer = _block(lines, index)
            if signer:
                return signer
    # No block: the last name in the closing lines (`- Lưu: VT. Phạm Thụy Luân`).
    for line in reversed(lines[-25:]):
        name = _name(line) if line else None
        if name:
            return Signer(name=name, title=None, authority=None)
    return None


# A name read under a seal may lose its first letters (`gô Thanh Bình`): in the signer
# zone, a run of 2-5 capitalised words at the line's end is the name even without a surname.
LOOSE_NAME_RE = re.compile(rf"^(?:[a-zà-ỹđ]{{1,4}}\s+)?(?P<name>{NAME_WORD}(?:\s+{NAME_WORD}){{1,4}})\s*\.?$")


def signer_from_zone(lines: list[str]) -> Signer | None:
    """Authority, title and name from the signer zone (bottom right of the letter's last page).

    The zone holds `TM./KT./TL.` lines, the title in capitals, then (under
    signature and seal) the name; seal text and OCR specks around it are
    neither capitals of a title nor a name, and are passed over.
    """
    authorities: list[str] = []
    titles: list[str] = []
    name: str | None = None
    for raw in lines:
        line = raw.strip(" .,;:-_|")
        if not line:
            continue
        if AUTHORITY_RE.match(line):
            authorities.append(line)
            continue
        if is_upper_line(line) and not any(c.isdigit() for c in line):
            if name is None and len(line.split()) <= 8:
                titles.append(line)
            continue
        if any(c.isdigit() for c in line) or ":" in line:
            continue
        found = _name(line)
        if found is None:
            loose = LOOSE_NAME_RE.match(line)
            # The lost letters' remnant stays: `gô Thanh Bình` is nearer the name than `Thanh Bình`.
            found = (line[:1].upper() + line[1:]).rstrip(" .") if loose else None
        if found:
            name = found  # the lowest name wins: the printed name is under the signature
    if name is None and not authorities and not titles:
        return None
    return Signer(name=name, title=titles[-1] if titles else None, authority=" / ".join(authorities) or None)
