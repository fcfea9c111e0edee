"""References: every document the letter cites, with number, type, date and issuer.

A citation is a số và ký hiệu (`2011/QĐ-UBND`, `91/2017/NĐ-CP`, party style
`496-TB/TU`), named by the type word before it (`Quyết định số ...`,
`Luật Chứng khoán số ...`), dated by `ngày ...` right after it and issued
`của ...` the body that follows.  The letter's own number and its appendix's
`Kèm theo Quyết định số ...` are not references.
"""

from __future__ import annotations

import re

from extractors.confidence import WordConfidence, digits_trusted
from extractors.dates import DATE, match_to_iso
from extractors.header import TYPE_CODES
from extractors.text import flatten, normalize_code
from pipeline.core.types import Reference

# Type words as printed before a cited number, longest first so `Nghị quyết`
# wins over `Quyết`.
TYPE_WORDS = sorted([
    "Quyết định", "Kế hoạch", "Văn bản", "Công văn", "Nghị định", "Thông tư liên tịch", "Thông tư",
    "Thông báo", "Nghị quyết", "Chỉ thị", "Luật", "Bộ luật", "Pháp lệnh", "Hướng dẫn", "Báo cáo",
    "Tờ trình", "Quy định", "Quy chế", "Đề án", "Chương trình", "Kết luận", "Công điện", "Hiến pháp",
], key=len, reverse=True)
TYPE_RE = re.compile(r"\b(" + "|".join(TYPE_WORDS) + r")\b", re.I)

# A số và ký hiệu: number, optional year, code of letters joined by dashes; or
# the party's `496-TB/TU`.  Digits glued to letters are not numbers.
NUMBER_RE = re.compile(
    r"(?<![\w/])(?P<num>\d{1,5})\s?(?:/\s?(?P<year>(?:19|20)\d{2}))?\s?/\s?"
    r"(?P<code>[A-ZĐÐ][A-Za-zĐđÐ&]*\d*(?:\s?-\s?[A-ZĐÐ][A-Za-zĐđÐ&0-9]*)*)"
    r"|(?<![\w/])(?P<pnum>\d{1,5})\s?-\s?(?P<pcode>[A-ZĐ]{1,5}/[A-ZĐ]{1,6})"  # (`57 -NQ/TW` as OCR spaces it)
)
# A code cut at a line's end: a dash left hanging (`Quyết định số 38/2020/QĐ-` in a table cell whose
# next words are another column's), or joined to a word of the next line (`27/2013/TT-\nTrong`).
# A code OCR broke with a stray mark (`98/TT:-BNNMT` for `98/TTr-BNNMT`) is not stored either.
HANGING_DASH = re.compile(r"^(?:\s?-(?!\s?[A-ZĐÐ0-9])|[:;,.]-)")
SENTENCE_WORD = re.compile(r"(?:\s-\s?|-\s)[A-ZĐ][a-zà-ỹđ]{2,}(?=\s|$)")
SO_RE = re.compile(r"\bs[ốô6o]\s*$", re.I)  # `số` right before the number
DATE_AFTER_RE = re.compile(rf"^\s*,?\s*(?:ban hành\s+)?ng[àa]y\.?\s+{DATE}", re.I)
ISSUER_AFTER_RE = re.compile(r"^\s*,?\s*(?:của|do)\s+(?P<issuer>[^,;.()\n]{2,120})")
# Where an issuer's name ends: the verb or topic that follows it.
ISSUER_STOP = re.compile(
    r"\s(?:về|v/v|V/v|quy định|ban hành|phê duyệt|hướng dẫn|thực hiện|được|sửa đổi|tiếp tục|đã|tại|"
    r"cho|nêu|đối với|triển khai|giao|tổ chức|công bố|trên|có|là|thành lập|chỉ đạo|gửi)\b"
    r"|\s(?=(?:" + "|".join(TYPE_WORDS) + r")\s+(?:số|\S+\s+năm))|\snăm\s\d|\s\d"
)
SELF_RE = re.compile(r"(Kèm theo|ban hành kèm theo)\s+\S+(?:\s+\S+)?\s+số\s*$", re.I)
LOOKBACK = 90


def _type_before(before: str, code: str) -> str | None:
    """The type word closest before the number (within the clause), else the code's type."""
    window = re.split(r"[;.:]\s", before[-LOOKBACK:])[-1]
    found = list(TYPE_RE.finditer(window))
    first = code.split("/")[-1].split("-")[0]
    if found and (len(window) - found[-1].end() <= 20 or first not in TYPE_CODES):
        word = found[-1].group(1)
        return word[:1].upper() + word[1:].lower()
    return TYPE_CODES.get(first)


def _issuer_after(after: str) -> str | None:
    match = ISSUER_AFTER_RE.match(after)
    if not match:
        return None
    issuer = match.group("issuer")
    stop = ISSUER_STOP.search(" " + issuer)
    if stop:
        issuer = issuer[: max(0, stop.start() - 1)]
    issuer = issuer.strip()
    return issuer if len(issuer) >= 3 else None


def _same_document(a: str, b: str) -> bool:
    """`10/KH-UBND` cited sloppily for `10/KH-UBND-NV`: one is the other with a tail."""
    return a == b or a.startswith(b + "-") or b.startswith(a + "-")


def _same_act(a: Reference, b: Reference) -> bool:
    """One act cited twice with a typo in its code (`26/2020/NĐ-CP`, then `26/2020/NĐ-TTg`, both
    `ngày 28/02/2020`): the same number, year and type and the same date."""
    head_a, head_b = (a.doc_number or "").rsplit("-", 1)[0], (b.doc_number or "").rsplit("-", 1)[0]
    return bool(a.date) and a.date == b.date and head_a == head_b and head_a.count("/") == 2


# `..., ngày` right after a number: the citation states its date, whether or not it could be read.
DATE_SLOT_RE = re.compile(r"^\s*,?\s*(?:ban hành\s+)?ng[àa]y\b", re.I)


def extract_references(text: str, own_number: str | None = None, wc: WordConfidence | None = None,
                       unread: list[str] | None = None) -> list[Reference]:
    """Cited documents; with OCR confidences, a date read from poor digits is dropped.

    `unread` collects the numbers of citations whose date is printed but could not be
    read (`ngày l6 tháng 11 năm 201]`): the list is then less sure than its words' confidence.

    Numbers are not gated: the confidence table keeps each word form's lowest
    reading in the document, and a law cited five times is read badly once.
    """
    wc = wc or WordConfidence(None)
    flat = flatten(text)
    found: list[Reference] = []
    for match in NUMBER_RE.finditer(flat):
        if match.group("pnum"):
            number = f"{match.group('pnum')}-{match.group('pcode')}"
        else:
            year = f"/{match.group('year')}" if match.group("year") else ""
            number = normalize_code(f"{match.group('num')}{year}/{match.group('code')}")
        before, after = flat[: match.start()], flat[match.end():]
        if not match.group("pnum") and (HANGING_DASH.match(after) or SENTENCE_WORD.search(match.group(0))):
            continue  # an incomplete code is no number to store
        if not (SO_RE.search(before) or TYPE_RE.search(before[-25:])):
            continue  # a fraction or a page ratio, not a citation
        if SELF_RE.search(before[-60:]) or (own_number and number == own_number):
            continue
        date_match = DATE_AFTER_RE.match(after)
        date = match_to_iso(date_match) if date_match and digits_trusted(wc, date_match.group(0)) else None
        if date is None and unread is not None and DATE_SLOT_RE.match(after):
            unread.append(number)
        issuer = _issuer_after(after[date_match.end():] if date_match else after)
        reference = Reference(doc_number=number, doc_type=_type_before(before, number), date=date, issuer=issuer)
        known = next((r for r in found if _same_document(r.doc_number or "", number)
                      and (r.date is None or date is None or r.date == date or r.doc_number != number)), None)
        if known:
            if len(number) > len(known.doc_number or ""):
                known.doc_number = number
            known.date = known.date or date
            known.issuer = known.issuer or issuer
            known.doc_type = known.doc_type or reference.doc_type
            continue
        if any(_same_act(r, reference) for r in found):
            continue
        found.append(reference)
    return found
