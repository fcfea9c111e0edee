"""Text helpers every field family shares: lines, codes, casing, noise.

OCR and PDF text layers bring the same letter in different shapes: the two
header columns merged on one line, running headers of the Công báo, page
numbers, digital-signature stamps.  These helpers give each extractor the
same clean view.
"""

from __future__ import annotations

import re
import unicodedata

# Lines that are never part of the letter itself (gazette headers, page
# numbers, the signature stamp of the portal that published the copy).
NOISE_LINES = [
    re.compile(r"^\s*CÔNG\s*BÁO\s*/.*$", re.I),
    re.compile(r"^\s*\d{1,4}\s*$"),
    re.compile(r"^\W*(Người ký|Ký bởi|Email|Cơ quan|Thời gian ký|Ngày ký)\s*:.*$", re.I),
    re.compile(r"^.*đã ký lên văn bản này.*$", re.I),
]

# Section headings of the Công báo that stand above the letter's own header.
GAZETTE_SECTIONS = {"DIEU UOC QUOC TE", "VAN BAN QUY PHAM PHAP LUAT", "VAN BAN HOP NHAT", "VAN BAN KHAC",
                    "VAN BAN QUY PHAM PHAP LUAT KHAC", "PHAN I", "PHAN II", "CONG BAO"}

MOTTO = [
    re.compile(r"C[ỘO]NG\s+H(?:ÒA|OÀ|OA)\s+X[ÃA]\s+H[ỘO]I\s+CH[ỦU]\s+NGH[ĨI]A\s+VI[ỆE]T\s+NAM", re.I),
    re.compile(r"Đ[ộo]c\s+l[ậa]p\s*[-–—]+\s*T[ựu]\s+do\s*[-–—]+\s*H[ạa]nh\s+ph[úu]c", re.I),
    re.compile(r"^[\s\-–—_=.]{3,}$"),
]

# Letters read as Đ by no OCR: in codes, `D`, `Ð` (eth) and `P` stand for it.
# Only these known code words are rewritten, so `KH-UBND` stays untouched.
CODE_WORDS = {
    "QD": "QĐ", "QP": "QĐ", "QÐ": "QĐ", "Qđ": "QĐ",
    "ND": "NĐ", "NÐ": "NĐ", "NP": "NĐ",
    "HDND": "HĐND", "HÐND": "HĐND",
    "BKHDT": "BKHĐT", "BKHÐT": "BKHĐT",
    "BGDDT": "BGDĐT", "SGDDT": "SGDĐT", "BLDTBXH": "BLĐTBXH",
    "TLD": "TLĐ", "DTN": "ĐTN", "HD": "HĐ",
}


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def is_junk(line: str) -> bool:
    """OCR noise from stamps, rules and specks: few real words (`À - + .À z Ậ Á :^`, `à ^ .À L4 ẤÂ F\\ .^`).

    A line with a number of two digits or more (a date, a code, a page
    number) is kept; a lone digit is a speck as often as not.
    """
    if not line or re.search(r"\d\d", line):
        return False
    chars = len(line.replace(" ", ""))
    word_chars = sum(len(w) for w in re.findall(r"[^\W\d_]{2,}|\d", line))
    return word_chars < 0.5 * chars


def clean_lines(text: str) -> list[str]:
    """The text's lines, NFC, stripped, noise lines emptied (kept as blanks so offsets of blocks hold)."""
    from pipeline.core.vietnamese import strip_diacritics

    lines = []
    for raw in nfc(text).replace("\r", "").split("\n"):
        line = raw.replace("\u00a0", " ").replace("\t", " ").strip()
        if any(p.match(line) for p in NOISE_LINES) or is_junk(line):
            line = ""
        elif strip_diacritics(line).upper().strip(" ,.:") in GAZETTE_SECTIONS:
            line = ""
        lines.append(line)
    return lines


def flatten(text: str) -> str:
    """Whole text on one line: dates and numbers split across lines join again."""
    return re.sub(r"\s+", " ", " ".join(line for line in clean_lines(text) if line)).strip()


# The motto as OCR garbles it, matched on the text without marks (same length).
MOTTO_LOOSE = [
    re.compile(r"C[O0]NG\s+H\S{0,3}\s+X\S{0,2}\s+H\S{0,3}\s+CH\S{0,2}\s+NGH\S{0,2}\s+VI\S{0,3}\s+NAM"),
    re.compile(r"D\S{0,2}C\s+L\S{0,2}P\s*[-–—~]+\s*T\S{0,2}\s+DO\s*[-–—~]+\s*H\S{0,3}\s+PH\S{0,2}C"),
]


def strip_motto(line: str) -> str:
    from pipeline.core.vietnamese import strip_diacritics

    for pattern in MOTTO_LOOSE:
        bare = strip_diacritics(line).upper()
        if len(bare) == len(line):
            match = pattern.search(bare)
            if match:
                line = line[: match.start()] + " " + line[match.end():]
    for pattern in MOTTO:
        line = pattern.sub(" ", line)
    return re.sub(r"\s+", " ", line).strip(" -–—_")


def normalize_code(code: str) -> str:
    """`834 /QP-UBND` -> `834/QĐ-UBND`: no spaces, Đ restored in known code words."""
    # `QĐÐ`: OCR emits Đ and the look-alike eth for one glyph; it is one Đ.
    code = re.sub(r"ĐÐ|ÐĐ", "Đ", re.sub(r"\s+", "", nfc(code)))
    code = code.replace("Ð", "Đ").strip(".,;:")
    parts = re.split(r"([/\-])", code)
    return "".join(CODE_WORDS.get(p, p) for p in parts)


def is_upper_line(line: str) -> bool:
    letters = [c for c in line if c.isalpha()]
    return len(letters) >= 2 and sum(c.isupper() for c in letters) / len(letters) >= 0.85


# Casing of an all-caps header: body words keep a capital on their name's
# first syllable, place names are title-cased after their unit word.
FIXED_PHRASES = [
    (re.compile(r"^(ỦY|UỶ)\s+BAN\s+NHÂN\s+DÂN\b", re.I), "Ủy ban nhân dân"),
    (re.compile(r"^UY\s+BAN\s+NHAN\s+DAN\b", re.I), "Ủy ban nhân dân"),
    (re.compile(r"^UBND\b"), "Ủy ban nhân dân"),
    (re.compile(r"^HĐND\b"), "Hội đồng nhân dân"),
    (re.compile(r"^HỘI\s+ĐỒNG\s+NHÂN\s+DÂN\b", re.I), "Hội đồng nhân dân"),
    (re.compile(r"^HOI\s+DONG\s+NHAN\s+DAN\b", re.I), "Hội đồng nhân dân"),
]
PLACE_UNITS = ["thành phố", "thị xã", "thị trấn", "tỉnh", "huyện", "quận", "phường", "xã"]
BODY_WORDS = ["văn phòng", "tổng cục", "ủy ban", "bộ", "sở", "cục", "vụ", "ban", "phòng", "trung tâm",
              "chi cục", "trường", "viện", "học viện", "công an", "bộ chỉ huy", "kho bạc", "ngân hàng"]
KEEP_UPPER = {"UBND", "HĐND", "CCHC", "TP", "LĐTB&XH", "LĐTBXH", "KHCN", "CNTT", "VHTTDL", "GDĐT"}


def _cap(word: str) -> str:
    return word[:1].upper() + word[1:]


def sentence_case_name(text: str) -> str:
    """`ỦY BAN NHÂN DÂN THỊ XÃ PHƯỚC LONG` -> `Ủy ban nhân dân thị xã Phước Long`."""
    text = re.sub(r"\s+", " ", nfc(text)).strip()
    if not is_upper_line(text):
        return text
    head = ""
    from pipeline.core.vietnamese import strip_diacritics

    # Matched without marks, so an OCR slip (`ỦY BAN NHÂN DẪN`) still gets the body's own spelling.
    bare_text = strip_diacritics(text)
    for pattern, replacement in FIXED_PHRASES:
        match = pattern.match(bare_text) if len(bare_text) == len(text) else pattern.match(text)
        if match:
            head, text = replacement, text[match.end():].strip()
            break
    words = text.split()
    bare_units = {strip_diacritics(u): u for u in PLACE_UNITS}
    out: list[str] = []
    i = 0
    mode = "name"  # "name": capitalise only starts; "place": title-case all
    capitalise_next = not head
    while i < len(words):
        word = words[i]
        lower = word.lower()
        two = " ".join(w.lower() for w in words[i:i + 2])
        unit = next((u for u in PLACE_UNITS if u == two or (u == lower and " " not in u)), None)
        if unit is None:  # `THÀNH PHÔ`: a unit word read with a wrong mark takes its own spelling
            unit = bare_units.get(strip_diacritics(two)) if " " in two else None
            if unit is not None and " " not in unit:
                unit = None
        if word in KEEP_UPPER:
            out.append(word)
            i += 1
            continue
        if unit:
            n = len(unit.split())
            piece = unit
            out.append(_cap(piece) if capitalise_next else piece)
            i += n
            mode, capitalise_next = "place", True
            continue
        body = next((b for b in BODY_WORDS if " ".join(w.lower() for w in words[i:i + len(b.split())]) == b), None)
        if body and i == 0 and not head:
            n = len(body.split())
            out.append(_cap(" ".join(w.lower() for w in words[i:i + n])))
            i += n
            capitalise_next = True
            continue
        if lower == "và" and mode == "name":
            out.append("và")
            capitalise_next = True
        elif mode == "place" or capitalise_next:
            out.append(_cap(lower))
            capitalise_next = False
        else:
            out.append(lower)
        i += 1
    body_text = " ".join(out)
    return f"{head} {body_text}".strip() if head else body_text


def tidy_item(text: str) -> str:
    """A list item without its bullet and end punctuation."""
    text = re.sub(r"\s+", " ", text).strip()
    text = re.sub(r"^[\-–—+•*·=~]+\s*", "", text)
    return text.strip(" ;,.").strip()
