"""A small grammar of Vietnamese reporting periods, cut-off windows and due dates.

Why a hand-written grammar: dateparser, and every date library we know, reads
one date at a time (`15/12/2020`, `ngày 15 tháng 12 năm 2020`).  Letters state
dates *relative to a reporting period* (`ngày 15 tháng 12 của năm trước kỳ báo
cáo`, `ngày 14 của tháng cuối kỳ`, `ngày 10 tháng đầu tiên quý tiếp theo`) and
name periods in lists (`hằng quý, 6 tháng và năm`): the meaning of a date
depends on the period it is read for, which no date parser models.  So the
language is parsed here into small values (a `Period`, a `DayRef` that is a
function of a period), and only the final calendar step (a day in a month,
dates as ISO) is done with the standard library / dateparser helpers in
`extractors.dates`.

The grammar works on tokens of restored text, comparing words without their
diacritics (`quý`, `quí`, `Quy` are one word) so that what OCR or restoration
bent still parses:

    label      := 'quý' QNUM ['/' YEAR | 'năm' YEAR]
                | ('6'|'06') 'tháng' ['đầu'|'cuối'] ['năm' YEAR]
                | ('9'|'09') 'tháng' ['năm' YEAR]
                | 'kỳ' NUM 'tháng' | 'tháng' NUM ('/' | 'năm') YEAR | 'năm' YEAR
    kinds      := kind ((',' | 'và' | 'hoặc' | '/') ['hằng'] kind)*        after 'báo cáo', 'định kỳ', 'hằng'
    kind       := 'tháng' | 'quý' | ('6'|'06') 'tháng' | ('9'|'09') 'tháng' | 'năm'
    window     := ['tính'] 'từ' day 'đến' ['hết'] day
    due        := ('trước' | 'chậm nhất' ['là'] ['vào'] ['đến' ['hết']] | 'hạn' | 'vào ngày') day
                | ('trong' | 'chậm nhất trong' | 'hết') 'tháng' NUM [yearref]          (the month's last day)
    day        := ['ngày'] NUM '/' NUM '/' YEAR
                | ['ngày'] NUM '/' NUM [yearref]
                | ['ngày'] NUM ['(' words ')'] ['của'] month
    month      := 'tháng' NUM [yearref]
                | 'tháng' 'cuối' ['của'] ('kỳ'|'quý'|'năm') ['trước'] [...]
                | 'tháng' 'đầu' ['tiên'] ['của'] ('quý'|'kỳ') ('tiếp theo'|'kế tiếp'|'sau')
                | 'tháng' ('sau'|'tiếp theo') ['kỳ báo cáo'] | 'tháng' 'trước' ['kỳ báo cáo'] | 'tháng' 'báo cáo'
                | 'tháng' kinds                                  (`của tháng, quý, 6 tháng và năm báo cáo`)
    yearref    := ['của'] 'năm' YEAR | ['của'] 'năm' 'trước' [...] | ['của'] ('kỳ báo cáo' | 'năm báo cáo')
                | 'năm' ('sau' | 'kế tiếp') | 'hằng năm' | 'hàng năm'

`scan(text, year)` reads one passage (a sentence or a bullet) and returns the
concrete periods it sets, each with its window and due date.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

from extractors.dates import day_in_month, parts_to_iso

__all__ = ["Period", "Concrete", "DayRef", "MonthRef", "YearRef", "Stream", "Token", "tokenize", "scan",
           "due_at", "exclusions", "parse_label", "normalise_label", "period_label", "periods_of_year", "fold_word"]

ROMAN = ["I", "II", "III", "IV"]


# ----------------------------------------------------------------------------- periods

@dataclass(frozen=True)
class Period:
    """A reporting period: `kind` month (index 1-12), quarter (1-4), half (1-2), nine, year."""

    kind: str
    index: int
    year: int

    @property
    def first_month(self) -> int:
        """Months counted from year 0 (year * 12 + month - 1), so arithmetic crosses years."""
        base = self.year * 12
        return {"month": base + self.index - 1, "quarter": base + 3 * (self.index - 1),
                "half": base + 6 * (self.index - 1)}.get(self.kind, base)

    @property
    def last_month(self) -> int:
        span = {"month": 1, "quarter": 3, "half": 6, "nine": 9, "year": 12}[self.kind]
        return self.first_month + span - 1


def period_label(period: Period) -> str:
    """The label congvan writes for a period it generated: `Quý II/2023`, `6 tháng đầu năm 2023`."""
    y = period.year
    if period.kind == "quarter":
        return f"Quý {ROMAN[period.index - 1]}/{y}"
    if period.kind == "month":
        return f"tháng {period.index}/{y}"
    if period.kind == "half":
        return f"6 tháng {'đầu' if period.index == 1 else 'cuối'} năm {y}"
    if period.kind == "nine":
        return f"9 tháng năm {y}"
    return f"năm {y}"


def periods_of_year(kind: str, year: int) -> list[Period]:
    count = {"month": 12, "quarter": 4}.get(kind, 1)
    return [Period(kind, i, year) for i in range(1, count + 1)]


def _month_day(month_index: int, day: int | None) -> str | None:
    """ISO date of `day` in an absolute month index; None day = the month's last day."""
    year, month = divmod(month_index, 12)
    month += 1
    if day is None:
        following = date(year + (month == 12), month % 12 + 1, 1)
        return (following - timedelta(days=1)).isoformat()
    return day_in_month(year, month, day)


# ----------------------------------------------------------------------------- tokens

@dataclass(frozen=True)
class Token:
    text: str
    fold: str  # lower case, no diacritics, `đ` as `d`
    start: int
    end: int


def fold_word(word: str) -> str:
    decomposed = unicodedata.normalize("NFD", word.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


_TOKEN = re.compile(r"[^\W_]+|[^\w\s]")
# A run like `I1`, `lII`, `1V`: a roman numeral OCR mixed with digits; kept whole.
_ROMANISH = re.compile(r"[IVXl1|]+", re.I)
_LETTERS_DIGITS = re.compile(r"\d+|[^\W\d_]+")


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    for match in _TOKEN.finditer(text):
        word = match.group(0)
        if (word.isalnum() and not word.isdigit() and not word.isalpha()
                and not _ROMANISH.fullmatch(word)):
            for part in _LETTERS_DIGITS.finditer(word):  # `ngày15` -> `ngày`, `15`
                tokens.append(Token(part.group(0), fold_word(part.group(0)),
                                    match.start() + part.start(), match.start() + part.end()))
            continue
        tokens.append(Token(word, fold_word(word), match.start(), match.end()))
    return tokens


# ----------------------------------------------------------------------------- the parser

class Stream:
    """Tokens of one passage, with the small matching helpers the rules share."""

    def __init__(self, text: str):
        self.text = text
        self.toks = tokenize(text)

    def fold(self, i: int) -> str:
        return self.toks[i].fold if 0 <= i < len(self.toks) else ""

    def words(self, i: int, *phrases: str) -> int | None:
        """Position after the first phrase (folded words) that matches at `i`."""
        for phrase in phrases:
            parts = phrase.split()
            if all(self.fold(i + k) == p for k, p in enumerate(parts)):
                return i + len(parts)
        return None

    def opt(self, i: int, *phrases: str) -> int:
        found = self.words(i, *phrases)
        return i if found is None else found

    def number(self, i: int, low: int, high: int) -> tuple[int, int] | None:
        t = self.fold(i)
        if t.isdigit() and len(t) <= 4 and low <= int(t) <= high:
            return int(t), i + 1
        return None

    def year(self, i: int) -> tuple[int, int] | None:
        t = self.fold(i)
        if t.isdigit() and len(t) == 4 and 1900 <= int(t) <= 2100:
            return int(t), i + 1
        return None

    def span(self, i: int, j: int) -> str:
        if i >= j:
            return ""
        return self.text[self.toks[i].start: self.toks[j - 1].end]


# Year references: offsets from the period's year, or a stated year.
@dataclass(frozen=True)
class YearRef:
    offset: int = 0
    absolute: int | None = None
    recurring: bool = False  # `hằng năm`

    def resolve(self, period: Period) -> int:
        return self.absolute if self.absolute is not None else period.year + self.offset


@dataclass(frozen=True)
class MonthRef:
    """`month` of `year` (mode abs), or a month relative to the period."""

    mode: str  # abs | last | first | after | before_first | bare (`ngày 20` alone: in the month itself)
    month: int = 0
    year: YearRef | None = None
    kinds: tuple[str, ...] = ()  # `của tháng, quý, 6 tháng và năm báo cáo`: the kinds this ref names

    def resolve(self, period: Period) -> int:
        if self.mode == "abs":
            year = (self.year or YearRef()).resolve(period)
            return year * 12 + self.month - 1
        if self.mode in ("last", "bare"):
            return period.last_month
        if self.mode == "first":  # first month of the following period (`tháng đầu tiên quý tiếp theo`)
            return period.last_month + 1
        if self.mode == "after":  # the month after the period
            return period.last_month + 1
        if self.mode == "before_first":  # last month of the previous quarter/period
            return period.first_month - 1
        raise ValueError(self.mode)


@dataclass(frozen=True)
class DayRef:
    day: int | None  # None: the month's last day
    month: MonthRef | None = None
    fixed: str | None = None  # a complete date the text states
    offset_days: int = 0  # `trong thời hạn 60 ngày kể từ ngày kết thúc ...`: days after that day

    @property
    def relative(self) -> bool:
        return self.fixed is None and self.month is not None and (
            self.month.mode != "abs" or self.month.year is None or self.month.year.absolute is None)

    @property
    def recurring(self) -> bool:
        return bool(self.month and self.month.year and self.month.year.recurring)

    def resolve(self, period: Period) -> str | None:
        if self.fixed:
            return self.fixed
        if self.month is None:
            return None
        found = _month_day(self.month.resolve(period), self.day)
        if found and self.offset_days:
            return (date.fromisoformat(found) + timedelta(days=self.offset_days)).isoformat()
        return found


_KIND_WORDS = {"thang": "month", "quy": "quarter", "qui": "quarter", "nam": "year"}


def kind_at(s: Stream, i: int) -> tuple[str, int] | None:
    """One period kind word: `quý`, `tháng`, `6 tháng` (half), `9 tháng`, `năm` (not a stated year)."""
    t = s.fold(i)
    if t in ("6", "06", "9", "09") and s.fold(i + 1) == "thang":
        j = s.opt(i + 2, "dau nam", "dau")
        return ("half" if t.endswith("6") else "nine"), j
    if t in ("12",) and s.fold(i + 1) == "thang":
        return "year", i + 2
    if t in _KIND_WORDS:
        nxt = s.fold(i + 1)
        if nxt.isdigit() or s.year(i + 1) or quarter_number(s.toks[i + 1].text if i + 1 < len(s.toks) else "") \
                and t in ("quy", "qui"):
            return None  # `tháng 6`, `năm 2021`, `quý I`: a named period, not a kind
        if t == "nam" and nxt in ("truoc", "sau", "ke", "duong", "hoc", "tai", "ngan") \
                and not (nxt == "truoc" and (s.fold(i + 2) == "ngay" or s.number(i + 2, 1, 31))):
            return None  # `năm trước`, `năm sau`: a year reference, not the yearly kind
        return _KIND_WORDS[t], i + 1
    return None


def kinds_at(s: Stream, i: int) -> tuple[list[str], int] | None:
    """`hằng quý, 6 tháng và năm` / `tháng, quý, 6 tháng và năm`: a list of kinds."""
    first = kind_at(s, i)
    if not first:
        return None
    kinds, j = [first[0]], first[1]
    while True:
        k = s.words(j, ",", "va", "hoac", "/", ", va")
        if k is None:
            break
        k = s.opt(k, "hang", "hang nam") if s.fold(k) == "hang" and s.fold(k + 1) != "nam" else s.opt(k, "hang")
        nxt = kind_at(s, k)
        if not nxt:
            break
        kinds.append(nxt[0])
        j = nxt[1]
    return kinds, j


def quarter_number(text: str) -> int | None:
    """1-4 from `I`..`IV`, `1`..`4`, or their OCR forms (`I1`, `Il`, `1V`, `lII`)."""
    raw = text.strip()
    if raw.isdigit():
        value = int(raw)
        if 1 <= value <= 4:
            return value
        return {"11": 2, "111": 3}.get(raw)
    roman = re.sub(r"[l1|!]", "I", raw).upper()
    return ROMAN.index(roman) + 1 if roman in ROMAN else None


def year_ref(s: Stream, i: int) -> tuple[YearRef, int] | None:
    j = s.opt(i, "cua", "thuoc")
    if s.words(j, "hang nam", "moi nam"):
        return YearRef(recurring=True), j + 2
    k = s.words(j, "nam")
    if k is not None:
        stated = s.year(k)
        if stated:
            return YearRef(absolute=stated[0]), stated[1]
        m = s.words(k, "truoc lien ke", "truoc")
        if m is not None:
            return YearRef(offset=-1), s.opt(m, "ky bao cao", "nam bao cao", "bao cao")
        m = s.words(k, "ke tiep sau nam bao cao", "ke tiep", "sau nam bao cao", "sau", "tiep theo")
        if m is not None:
            return YearRef(offset=1), m
        m = s.words(k, "bao cao", "lap bao cao", "duong lich", "ke hoach")
        if m is not None:
            return YearRef(), m
        return None
    k = s.words(j, "ky bao cao")
    if k is not None and j != i:  # `của kỳ báo cáo`
        return YearRef(), k
    return None


def month_ref(s: Stream, i: int) -> tuple[MonthRef, int] | None:
    j = s.opt(i, "cua")
    k = s.words(j, "thang")
    if k is None:
        return None
    num = s.number(k, 1, 12)
    if num:
        ref = year_ref(s, num[1])
        if ref:
            return MonthRef("abs", num[0], ref[0]), ref[1]
        return MonthRef("abs", num[0], None), num[1]
    # `tháng/cuối quý báo cáo`: the month itself for a monthly report, the last month of the quarter else.
    m = s.words(k, "/ cuoi", "cuoi cung cua", "cuoi cua", "cuoi")
    if m is not None:
        n = s.words(m, "ky", "quy", "nam", "thang")
        if n is None:
            return None
        if s.words(n, "truoc") is not None:
            return MonthRef("before_first"), n + 1
        n = s.opt(n, "thuoc ky bao cao", "cua ky bao cao", "ky bao cao", "bao cao")
        return MonthRef("last"), n
    m = s.words(k, "dau tien cua", "dau tien", "dau cua", "dau")
    if m is not None:
        n = s.words(m, "quy", "ky", "thang")
        if n is None:
            return None
        n2 = s.words(n, "tiep theo", "ke tiep", "sau", "lien ke")
        if n2 is None:
            return None
        return MonthRef("first"), n2
    m = s.words(k, "sau ky bao cao", "tiep theo ky bao cao", "lien ke sau", "lien sau", "lien ke", "sau", "tiep theo",
                "ke tiep")
    if m is not None:
        return MonthRef("after"), m
    m = s.words(k, "truoc ky bao cao", "lien truoc ky bao cao", "truoc ky", "lien truoc", "truoc")
    if m is not None:  # `ngày 15 tháng trước kỳ báo cáo`: the month before the period starts
        return MonthRef("before_first"), m
    m = s.words(k, "bao cao")
    if m is not None:
        return MonthRef("last", kinds=("month",)), m
    # `của tháng, quý, 6 tháng và năm báo cáo` / `của tháng/cuối quý báo cáo`: the last month of each kind
    listed = kinds_at(s, i if s.fold(i) != "cua" else i + 1)
    if listed and len(listed[0]) > 1:
        end = s.opt(listed[1], "bao cao")
        return MonthRef("last", kinds=tuple(listed[0])), end
    return None


def day_ref(s: Stream, i: int) -> tuple[DayRef, int] | None:
    j = s.opt(i, "ngay")
    d = s.number(j, 1, 31)
    if not d:
        return None
    day, k = d
    # `15/12/2020`, `15/12` (+ a year reference)
    if s.fold(k) in ("/", "-", ".") and s.number(k + 1, 1, 12):
        month, m = s.number(k + 1, 1, 12)  # type: ignore[misc]
        if s.fold(m) in ("/", "-", ".") and s.year(m + 1):
            year, n = s.year(m + 1)  # type: ignore[misc]
            iso = parts_to_iso(str(day), str(month), str(year))
            return (DayRef(day, fixed=iso), n) if iso else None
        stated = year_ref(s, m)
        if stated:
            return DayRef(day, MonthRef("abs", month, stated[0])), stated[1]
        return DayRef(day, MonthRef("abs", month, None)), m
    # `ngày 25 (hai mươi lăm) của ...`
    if s.fold(k) == "(":
        close = next((x for x in range(k + 1, min(k + 8, len(s.toks))) if s.fold(x) == ")"), None)
        if close is not None:
            k = close + 1
    month = month_ref(s, k)
    if not month:
        if s.fold(k) in ("/", "-", ".", "thang", "nam", "cua", "quy") or s.fold(k).isdigit():
            return None
        # `hằng tháng, trước ngày 20`: a day of the period's own month, for a monthly duty only.
        return DayRef(day, MonthRef("bare")), k
    ref, end = month
    if ref.mode == "abs" and ref.year and ref.year.absolute is not None:
        iso = parts_to_iso(str(day), str(ref.month), str(ref.year.absolute))
        return (DayRef(day, fixed=iso), end) if iso else None
    return DayRef(day, ref), end


# Words that make `từ ... đến ...` a data cut-off window rather than any span of dates.
_WINDOW_TRIGGERS = ("chot so lieu", "so lieu", "ky so lieu", "ky bao cao", "thoi gian bao cao")


def window_at(s: Stream, i: int) -> tuple[tuple[DayRef, DayRef], int] | None:
    j = s.opt(i, "duoc tinh", "duoc tong hop", "tinh", "tong hop")
    k = s.words(j, "tu")
    if k is None:
        return None
    start = day_ref(s, k)
    if not start:
        return None
    m = s.words(start[1], "den het", "den", "toi")
    if m is None:
        return None
    end = day_ref(s, s.opt(m, "het"))
    if not end:
        return None
    return (start[0], end[0]), end[1]


_DUE_OPENERS = ("truoc", "cham nhat la vao ngay", "cham nhat la ngay", "cham nhat vao ngay", "cham nhat la vao",
                "cham nhat la", "cham nhat vao", "cham nhat den het", "cham nhat den", "cham nhat", "han chot",
                "khong qua", "khong muon hon", "han cuoi", "vao ngay", "dinh ky vao ngay", "dinh ky ngay")
# `Thời hạn gửi báo cáo: ngày 20/3/2024`, `Hạn nộp: 20/3/2024`: a labelled due.
_DUE_LABELS = ("thoi han gui bao cao", "thoi han nop bao cao", "thoi han nhan bao cao", "thoi han bao cao",
               "thoi han gui", "thoi han nop", "han gui bao cao", "han nop bao cao", "han gui", "han nop", "thoi han")


def _days_after_end(s: Stream, i: int) -> tuple[DayRef, int] | None:
    """`trong thời hạn 60 ngày kể từ ngày kết thúc 06 tháng đầu năm tài chính` / `... kết thúc quý`:
    calendar days after the period's last day (working days are not counted: holidays are not known)."""
    j = s.words(i, "trong thoi han", "trong vong", "cham nhat")
    if j is None:
        return None
    days = s.number(j, 1, 365)
    if not days or s.fold(days[1]) != "ngay" or s.fold(days[1] + 1) == "lam":
        return None
    k = s.words(days[1] + 1, "ke tu ngay ket thuc", "ke tu khi ket thuc", "sau khi ket thuc", "ke tu ket thuc")
    if k is None:
        return None
    found = kind_at(s, k) or (("year", k + 1) if s.fold(k) == "nam" else None)
    if not found:
        return None
    end = s.opt(found[1], "dau nam tai chinh", "tai chinh", "dau nam", "bao cao")
    kinds = (found[0],) if found[0] != "year" else ("year",)
    return DayRef(None, MonthRef("last", kinds=kinds), offset_days=days[0]), end


def due_at(s: Stream, i: int) -> tuple[DayRef, int] | None:
    after_end = _days_after_end(s, i)
    if after_end:
        return after_end
    # `trong tháng 01 hằng năm`, `chậm nhất trong tháng 6 hằng năm`: the month's last day.
    k = s.words(i, "cham nhat trong", "cham nhat la trong", "trong", "truoc het", "het")
    if k is not None and s.fold(k) == "thang" and s.number(k + 1, 1, 12):
        month = month_ref(s, k)
        if month and month[0].mode == "abs":
            ref = month[0]
            if ref.year and ref.year.absolute is not None:
                fixed = _month_day(ref.year.absolute * 12 + ref.month - 1, None)
                return DayRef(None, ref, fixed=fixed), month[1]
            return DayRef(None, ref), month[1]
    j = s.words(i, *_DUE_OPENERS)
    if j is None:
        k = s.words(i, *_DUE_LABELS)
        if k is None or s.fold(k) != ":":
            return None
        j = s.opt(k + 1, *_DUE_OPENERS)
    if s.fold(j - 1) == "ngay":
        j -= 1  # the opener ended on `ngày`: day_ref reads it again
    if s.fold(j) == "ngay" or s.number(j, 1, 31):
        found = day_ref(s, j)
        if found:
            return found
    return None


def label_at(s: Stream, i: int) -> tuple[Period | None, str, int] | None:
    """A named period: (period or None when its year is not stated, kind-with-index key, end)."""
    t = s.fold(i)
    if t in ("quy", "qui") and i + 1 < len(s.toks):
        q = quarter_number(s.toks[i + 1].text)
        if q:
            j = i + 2
            year = None
            k = s.words(j, "/", "-", "nam")
            if k is not None and s.year(k):
                year, j = s.year(k)  # type: ignore[misc]
            return (Period("quarter", q, year) if year else None), f"quarter:{q}", j
    if t in ("6", "06", "9", "09") and s.fold(i + 1) == "thang":
        half = 1
        j = i + 2
        if s.words(j, "cuoi nam") is not None:
            half, j = 2, j + 2
        elif s.words(j, "dau nam") is not None:
            j += 2
        else:
            j = s.opt(j, "nam") if s.year(j + 1) else j
        year = None
        if s.fold(j - 1) == "nam" and s.year(j):
            year, j = s.year(j)  # type: ignore[misc]
        kind = "half" if t.endswith("6") else "nine"
        index = half if kind == "half" else 1
        return (Period(kind, index, year) if year else None), f"{kind}:{index}", j
    if t == "ky" and s.number(i + 1, 1, 12) and s.fold(i + 2) == "thang":
        n = int(s.fold(i + 1))
        named = {6: "half", 9: "nine", 12: "year", 3: "quarter"}.get(n)
        if named:
            return None, f"{named}:1", i + 3
    if t == "thang":
        m = s.number(i + 1, 1, 12)
        if m:
            k = s.words(m[1], "/", "-", "nam")
            if k is not None and s.year(k):
                year, j = s.year(k)  # type: ignore[misc]
                return Period("month", m[0], year), f"month:{m[0]}", j
    if t == "nam" and s.year(i + 1):
        year, j = s.year(i + 1)  # type: ignore[misc]
        return Period("year", 1, year), "year:1", j
    return None


def parse_label(text: str) -> tuple[str, int, int | None] | None:
    """(kind, index, year or None) of a period label, or None when it names none."""
    s = Stream(text)
    for i in range(len(s.toks)):
        found = label_at(s, i)
        if found:
            period, key, _ = found
            kind, index = key.split(":")
            return kind, int(index), period.year if period else None
        if s.fold(i) == "thang" and s.number(i + 1, 1, 12):  # `tháng 12` with no year
            return "month", int(s.fold(i + 1)), None
        kinds = kind_at(s, i)
        if kinds and s.fold(i) not in ("nam",):
            return kinds[0], 1, None
    if re.search(r"\bnăm\b", text, re.I):
        return "year", 1, None
    return None


_QUARTER_LABEL = re.compile(r"\b(Q[^\W\d_]{1,2})\s*([IVXl1|!]{1,4}|[1-4])\b(\s*(?:/|-|năm)\s*(?:19|20)\d{2})?", re.I)


def normalise_label(label: str) -> str:
    """A label as the letter writes it, with what OCR or restoration bent put right:
    `Quý I1/2021`, `Quy 2/2021` and `quí II/2021` -> `Quý II/2021`; spaces and bullets tidied."""
    label = re.sub(r"\s+", " ", label).strip(" -–•:;,.")

    def quarter(match: re.Match[str]) -> str:
        q = quarter_number(match.group(2))
        if not q or fold_word(match.group(1)) not in ("quy", "qui"):  # `Quý`, `Quy`, `quí`, `Quỷ`
            return match.group(0)
        tail = match.group(3) or ""
        year = re.search(r"\d{4}", tail)
        if year and re.match(r"\s*(?:/|-)", tail):
            tail = f"/{year.group(0)}"
        return f"Quý {ROMAN[q - 1]}{tail}"

    return _QUARTER_LABEL.sub(quarter, label)


# ----------------------------------------------------------------------------- scanning a passage

@dataclass
class Concrete:
    """One period a passage sets, with its window and due date (ISO, or None)."""

    label: str
    start: str | None
    end: str | None
    due: str | None
    period: Period | None = None
    recurrence: str | None = None  # the words that make it recur (`hằng quý, 6 tháng và năm`)
    explicit: bool = True  # named by the letter (`Báo cáo Quý I/2021`), not generated from a rule


@dataclass
class _Group:
    """Labels or kinds listed together, and what the passage says about them."""

    labels: list[tuple[Period | None, str, str]] = field(default_factory=list)  # (period, key, words)
    kinds: list[str] = field(default_factory=list)
    kind_words: str = ""
    window: tuple[DayRef, DayRef] | None = None
    dues: list[DayRef] = field(default_factory=list)
    year_offset: int = 0


_LABEL_CONTEXT = ("bao cao", "ky", "tong hop", "dinh ky", "so lieu", "chot")
_EXCEPT = re.compile(r"\((?:không tính|trừ|ngoại trừ)\s+([^)]*)\)"
                     r"|,?\s*(?:không tính|trừ|ngoại trừ)\s+((?:báo cáo\s+)?(?:quý\s+\w+|năm|tháng\s+\d+))", re.I)


def exclusions(text: str) -> tuple[str, frozenset[str]]:
    """The passage without its exceptions, and the keys (`year:1`, `quarter:4`) they leave out:
    `(không tính báo cáo năm)`, `trừ quý 4`."""
    keys: set[str] = set()

    def drop(match: re.Match[str]) -> str:
        words = match.group(1) or match.group(2) or ""
        found = parse_label(words)
        if found:
            keys.add(f"{found[0]}:{found[1]}")
        return " " * len(match.group(0))

    return _EXCEPT.sub(drop, text), frozenset(keys)


def _kinds_context(s: Stream, i: int) -> bool:
    """A kind list counts after `báo cáo`, `định kỳ`, at `hằng`/`hàng`/`mỗi`, or opening a passage or bracket."""
    before = " ".join(s.fold(x) for x in range(max(0, i - 2), i))
    return (s.fold(i) in ("hang", "moi") or i == 0 or s.fold(i - 1) in ("(", ":")
            or before.endswith(("bao cao", "dinh ky", "ky bao cao")))


def _due_list(s: Stream, i: int, first: DayRef) -> tuple[list[DayRef], int]:
    """`chậm nhất ngày 10 tháng đầu tiên của quý sau (đối với ...), ngày 10/02 năm sau`: dues in a row."""
    dues, j = [first], i
    while True:
        k = j
        if s.fold(k) == "(":
            close = next((x for x in range(k + 1, min(k + 25, len(s.toks))) if s.fold(x) == ")"), None)
            if close is None:
                break
            k = close + 1
        k2 = s.words(k, ", va", ",", "va")
        if k2 is None or s.fold(k2) != "ngay" and not s.number(k2, 1, 31):
            break
        nxt = day_ref(s, k2)
        if not nxt:
            break
        dues.append(nxt[0])
        j = nxt[1]
    if len(dues) > 1 and dues[-1].recurring:
        # `trước ngày 15 tháng 6 và 15 tháng 12 hằng năm`: `hằng năm` is said once for every date.
        dues = [replace(d, month=replace(d.month, year=dues[-1].month.year))  # type: ignore[union-attr]
                if d.month and d.month.mode == "abs" and d.month.year is None else d for d in dues]
    return dues, j


def scan(text: str, year: int | None, *, rule: DayRef | None = None,
         rule_excludes: frozenset[str] = frozenset()) -> list[Concrete]:
    """The concrete periods one passage sets, read for `year` (the letter's year).

    `rule`: a due date the letter sets elsewhere for every period
    (`chậm nhất là ngày 13 của tháng cuối kỳ báo cáo`), given to named periods
    without a due of their own, except the kinds in `rule_excludes`.
    """
    text, excluded = exclusions(text)
    s = Stream(text)
    groups: list[_Group] = []
    current: _Group | None = None
    closed = False  # the current group got a window/due: a new label opens a new group
    i, n = 0, len(s.toks)
    pending_dues: list[DayRef] = []  # dues read before any label of the passage
    pending_window: tuple[DayRef, DayRef] | None = None
    last_label_end = -10
    while i < n:
        found_window = window_at(s, i)
        if found_window:
            context = " ".join(s.fold(x) for x in range(max(0, i - 14), i))
            near = " ".join(s.fold(x) for x in range(max(0, i - 3), i))
            triggered = any(t in context for t in _WINDOW_TRIGGERS) or i - last_label_end <= 2
            if triggered and "uoc dat" not in near and "uoc thuc hien" not in near:
                if current is not None and current.window is None:
                    current.window = found_window[0]
                    closed = True
                elif current is None and pending_window is None and any(
                        t in context for t in ("chot so lieu", "bao cao", "thong ke")):
                    pending_window = found_window[0]  # a report's window with no period named (yet)
            i = found_window[1]
            continue
        found_due = due_at(s, i)
        if found_due:
            dues, i = _due_list(s, found_due[1], found_due[0])
            if current is not None:
                current.dues.extend(dues)
                closed = True
            else:
                pending_dues.extend(dues)
            continue
        label = label_at(s, i) if not (s.fold(i) == "ky" and s.fold(i - 1) == "dinh") else None
        several = kinds_at(s, s.opt(i, "hang", "moi")) if label and label[0] is None else None
        if label and s.fold(i) != "ky" and _kinds_context(s, i) and several and len(several[0]) > 1:
            label = None  # `báo cáo 6 tháng và năm`: kinds of report, read for the letter's year
        if label:
            before = " ".join(s.fold(x) for x in range(max(0, i - 12), i))
            if s.fold(i) == "ky" or i == 0 or any(c in before for c in _LABEL_CONTEXT):
                if current is None or closed or (current.kinds and not current.labels):
                    current = _Group()
                    groups.append(current)
                    closed = False
                current.labels.append((label[0], label[1], s.span(i, label[2])))
                last_label_end = label[2]
                i = label[2]
                continue
        if _kinds_context(s, i):
            kinds = kinds_at(s, s.opt(i, "hang", "moi"))
            if kinds:
                start = i
                if current is None or closed or current.labels:
                    current = _Group()
                    groups.append(current)
                    closed = False
                current.kinds.extend(k for k in kinds[0] if k not in current.kinds)
                current.kind_words = (current.kind_words + ", " if current.kind_words else "") + s.span(start, kinds[1])
                last_label_end = kinds[1]
                i = kinds[1]
                continue
        if s.words(i, "cua 6 thang dau nam va cua nam truoc", "cua nam truoc") is not None:
            # `báo cáo ... của năm trước`: the yearly report is on the year before its due date.
            for g in groups:
                if g.kinds == ["year"]:
                    g.year_offset = -1
        i += 1

    if not groups:
        # Only dues and windows.  `của tháng, quý, 6 tháng và năm báo cáo` names its kinds; a yearly
        # recurring due (`trước ngày 15 tháng 7 hằng năm`) or a window with year references
        # (`từ ngày 15 tháng 12 năm trước đến ngày 14 tháng 12 năm lập báo cáo`) is the year's period.
        listed = [k for d in pending_dues if d.month for k in d.month.kinds]
        yearly_window = pending_window if pending_window and _yearly(pending_window) else None
        if listed:
            groups.append(_Group(kinds=list(dict.fromkeys(listed)), dues=pending_dues))
        elif any(d.recurring for d in pending_dues) or yearly_window:
            recurring = [d for d in pending_dues if d.recurring]
            groups.append(_Group(kinds=["year"], kind_words="hằng năm" if recurring else "",
                                 dues=recurring, window=yearly_window))
            if recurring and re.search(r"của năm trước\b", text):
                groups[-1].year_offset = -1
    else:
        first = groups[0]
        if pending_dues and not first.dues:
            first.dues = pending_dues
        if pending_window and first.window is None:
            first.window = pending_window
    out: list[Concrete] = []
    for group in groups:
        out.extend(_concretise(group, year, rule, rule_excludes, excluded))
    return out


def _yearly(window: tuple[DayRef, DayRef]) -> bool:
    start = window[0].resolve(Period("year", 1, 2001))
    end = window[1].resolve(Period("year", 1, 2001))
    if not start or not end:
        return False
    days = (date.fromisoformat(end) - date.fromisoformat(start)).days
    return 300 <= days <= 400 and (window[0].relative or window[1].relative)


def _resolve_window(window: tuple[DayRef, DayRef], period: Period) -> tuple[str | None, str | None]:
    start, end = window[0].resolve(period), window[1].resolve(period)
    # `từ ngày 15/12 đến ngày 14/3` with no year said: the start is in the year before.
    if start and end and start > end and window[0].month and window[0].month.mode == "abs" \
            and window[0].month.year is None:
        start = window[0].resolve(Period(period.kind, period.index, period.year - 1))
    return start, end


def _applies(ref: DayRef, kind: str) -> bool:
    if ref.month and ref.month.mode == "bare":
        return kind == "month"  # `hằng tháng, trước ngày 20`
    return not (ref.month and ref.month.kinds) or kind in ref.month.kinds


def _due(ref: DayRef, period: Period, year_offset: int) -> str | None:
    """`ref` read for `period`; a report on the year before (`của năm trước`) is due in the letter's year."""
    if year_offset and ref.month and ref.month.mode == "abs":
        return ref.resolve(Period(period.kind, period.index, period.year - year_offset))
    return ref.resolve(period)


def _concretise(group: _Group, year: int | None, rule: DayRef | None,
                rule_excludes: frozenset[str], excluded: frozenset[str]) -> list[Concrete]:
    results: list[Concrete] = []
    if group.labels:
        for period, key, words in group.labels:
            kind, index = key.split(":")
            if period is None and year is not None:
                period = Period(kind, int(index), year)
            dues = group.dues[:1] or ([rule] if rule and key not in rule_excludes else [])
            start = end = None
            if group.window and period:
                start, end = _resolve_window(group.window, period)
            elif group.window:
                start, end = group.window[0].fixed, group.window[1].fixed
            due = (dues[0].resolve(period) if period else dues[0].fixed) if dues else None
            if not (start or end or due):
                continue  # a period named in passing (`báo cáo quý I thay cho báo cáo tháng 3`)
            relative = any(d.relative for d in dues) or bool(
                group.window and (group.window[0].relative or group.window[1].relative))
            label = normalise_label(words)
            if period and relative and not re.search(r"\d{4}", words):
                label = period_label(period)  # a rule read for this year: say which year
            results.append(Concrete(label, start, end, due, period, None, True))
        return results
    if not group.kinds or year is None:
        return results
    # A complete date is one occasion, not a rule for every period of a kind.
    dues = [d for d in group.dues if not d.fixed]
    if not dues and rule and group.window:
        dues = [rule]
        excluded = excluded | rule_excludes
    if not dues and not group.window:
        return results
    paired = len(dues) == len(group.kinds) > 1 and not any(d.month and d.month.kinds for d in dues)
    for position, kind in enumerate(group.kinds):
        kind_dues = [dues[position]] if paired else [d for d in dues if _applies(d, kind)]
        if not (kind == "year" and all(d.recurring for d in kind_dues)):
            kind_dues = kind_dues[:1]  # several `... hằng năm` dates are several occasions a year
        if not kind_dues and not group.window:
            continue
        for period in periods_of_year(kind, year + (group.year_offset if kind == "year" else 0)):
            if f"{period.kind}:{period.index}" in excluded:
                continue
            start = end = None
            if group.window:
                start, end = _resolve_window(group.window, period)
            for ref in kind_dues or [None]:  # type: ignore[list-item]
                due = _due(ref, period, group.year_offset if kind == "year" else 0) if ref else None
                results.append(Concrete(period_label(period), start, end, due, period, group.kind_words or None,
                                        False))
    return results
