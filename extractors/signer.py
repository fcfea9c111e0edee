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
import unicodedata

from extractors.text import clean_lines, is_upper_line
from pipeline.core.types import Signer
from pipeline.core.vietnamese import strip_diacritics

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
        # Under an authority's or a title's capitals, a name-shaped line is the name even
        # when its surname is not in the list (`TM. BAN THƯỜNG TRỰC / CHỦ TỊCH / Lan Thị Vân`).
        name = _name(line) or (loose_name(line) if upper else None)
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


def _bare(word: str) -> str:
    """The word without its marks, lower case (`Ñguyễn` -> `nguyen`)."""
    decomposed = unicodedata.normalize("NFD", strip_diacritics(word))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def mend_surname(name: str) -> str:
    """A name whose surname lost or blurred its first letters under a seal or a signature
    stroke (`guyễn Hoài Nam`, `rần Sỹ Thanh`, `Ñguyễn Hoài Nam`), with the surname whole again.

    Mended only when exactly one surname fits: one that reads the same with its
    first letter's marks ignored, else one that ends with the letters read (two
    or more).  `Tấn`, which no surname ends with, is left as read.
    """
    words = name.split()
    if len(words) < 2 or words[0] in SURNAMES:
        return name
    first = re.sub(r"^\W+", "", words[0])
    if len(first) < 2:
        return name
    same = [s for s in SURNAMES if _bare(s) == _bare(first) and s[1:] == first[1:]]
    ends = [s for s in SURNAMES if len(s) > len(first) and s.casefold().endswith(first.casefold())]
    found = same if same else ends
    return " ".join([found[0], *words[1:]]) if len(found) == 1 else name


def _proper(word: str) -> bool:
    """`Thanh`: a capital, then small letters (a name's word as printed)."""
    return word.isalpha() and word[:1].isupper() and (len(word) == 1 or word[1:].islower())


def loose_name(line: str) -> str | None:
    """A name read under a seal, whose surname may have lost or blurred its first letters.

    In the signer zone a line of 2-5 words whose last ones are a name's
    (`Hoài Nam`) is the name even when its first word is no known surname:
    `guyễn Hoài Nam` is mended to `Nguyễn Hoài Nam`, `gô Thanh Bình` to
    `Ngô Thanh Bình`; a remnant no surname fits is kept as read (it is nearer
    the name than the given names alone).  Specks before the name are dropped.
    """
    words = re.sub(r"^[^\w]+|[^\w]+$", "", line).split()
    if not 2 <= len(words) <= 5 or not all(_proper(w) for w in words[1:]) or not words[0].isalpha():
        return None
    first = words[0]
    if not (_proper(first) or first.islower()) or not 2 <= len(first) <= 7:
        return None
    return mend_surname(" ".join([first[:1].upper() + first[1:], *words[1:]]))


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
        found = _name(line) or loose_name(line)
        if found:
            name = found  # the lowest name wins: the printed name is under the signature
    if name is None and not authorities and not titles:
        return None
    return Signer(name=name, title=titles[-1] if titles else None, authority=" / ".join(authorities) or None)
