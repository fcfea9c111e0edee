"""The analyst's questions as functions: what is due, who owes it, who cites what.

Every function takes an open `sqlite_utils.Database` (store.open_db) and
returns plain dicts, so the CLI (cli_analyst), the calendar, the Datasette
view (the listing's SQL is store.py's `items_sql`) and the tests share one implementation.
Dates are ISO text in the database, so comparing them as strings orders them
correctly.
"""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from sqlite_utils import Database

from pipeline.stages.store import items_sql

__all__ = [
    "DateRange", "parse_date", "day_of", "fold", "match_key", "tasks", "citing", "cited_by_chain", "records_csv",
    "rows_csv",
]

# A task or reporting due date joined with its letter: the columns of every
# listing (`congvan tasks` CSV/JSON, the ICS events, the Datasette view).
TASK_COLUMNS = [
    "kind", "deadline", "responsible", "cooperating", "text", "recurrence",
    "document_id", "doc_number", "doc_type", "issue_date", "issuer", "subject", "source", "uid",
    # The task's id (for `congvan done`/`correct --task`) and when it was marked done; null for report dates.
    "task_id", "done_at",
]


class DateRange(tuple):
    """(first, last) day of a phrase such as `next week`; both inclusive."""

    @property
    def first(self) -> date:
        return self[0]

    @property
    def last(self) -> date:
        return self[1]


def fold(text: str | None) -> str:
    """Lower case without diacritics, `đ` as `d`: for accent-insensitive matching.

    `đ` is a letter of its own in Unicode (no combining mark to strip), so it
    is mapped by hand.
    """
    if not text:
        return ""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


# Phrases that name a span of days rather than a day; `--due-before "next week"`
# means the last day of next week, `--due-after "next week"` its first day.
_WEEK_PHRASES = {
    0: ("this week", "tuần này"),
    1: ("next week", "tuần sau", "tuần tới"),
    -1: ("last week", "tuần trước"),
}
_MONTH_PHRASES = {
    0: ("this month", "tháng này"),
    1: ("next month", "tháng sau", "tháng tới"),
    -1: ("last month", "tháng trước"),
}
_DMY = re.compile(r"^\s*(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})\s*$")


def _span(text: str, today: date) -> DateRange | None:
    key = " ".join(text.lower().split())
    try:
        return _span_of(key, today)
    except OverflowError as error:  # `next week` from 9999-12-30
        raise ValueError(f"{text!r} from {today.isoformat()} falls past the last date the calendar holds") from error


def _span_of(key: str, today: date) -> DateRange | None:
    for offset, phrases in _WEEK_PHRASES.items():
        if key in phrases:
            monday = today - timedelta(days=today.weekday()) + timedelta(weeks=offset)
            return DateRange((monday, monday + timedelta(days=6)))
    for offset, phrases in _MONTH_PHRASES.items():
        if key in phrases:
            month_index = today.year * 12 + today.month - 1 + offset
            first = date(month_index // 12, month_index % 12 + 1, 1)  # ValueError past year 9999
            following = date((month_index + 1) // 12, (month_index + 1) % 12 + 1, 1)
            return DateRange((first, following - timedelta(days=1)))
    return None


# Calendar periods as spans (issue 17): `quý 3/2021`, `Q2 2021`, `tháng 6/2021`, `2021-06`, `June 2021`, `2021`.
_MONTH_NAMES = {name: number for number, names in enumerate(
    ("january jan", "february feb", "march mar", "april apr", "may", "june jun", "july jul", "august aug",
     "september sep sept", "october oct", "november nov", "december dec"), start=1) for name in names.split()}
_YEAR = r"((?:19|20)\d{2})"
_QUARTER = r"(IV|III|II|I|[1-4])"
_PERIOD_SPANS: list[tuple[str, re.Pattern[str]]] = [
    ("quarter", re.compile(rf"^(?:quý|quy|quí|qui|q)\s*{_QUARTER}\s*(?:/|-|năm|nam|\s)\s*{_YEAR}$", re.I)),
    ("quarter_iso", re.compile(rf"^{_YEAR}\s*-?\s*q\s*([1-4])$", re.I)),
    ("month", re.compile(rf"^(?:tháng|thang|th\.?)?\s*(\d{{1,2}})\s*(?:/|-|năm|nam|\s)\s*{_YEAR}$", re.I)),
    ("month_iso", re.compile(rf"^{_YEAR}-(\d{{1,2}})$")),
    ("month_name", re.compile(rf"^([a-z]+)\.?,?\s+{_YEAR}$", re.I)),
    ("half", re.compile(rf"^6\s+tháng\s+(đầu|cuối)\s+năm\s+{_YEAR}$", re.I)),
    ("year", re.compile(rf"^(?:năm|nam|year)?\s*{_YEAR}$", re.I)),
]
_ROMAN = {"I": 1, "II": 2, "III": 3, "IV": 4}


def _months(year: int, first: int, last: int) -> DateRange | None:
    if not (1 <= first <= last <= 12):
        return None
    following = date(year + (last == 12), last % 12 + 1, 1)
    return DateRange((date(year, first, 1), following - timedelta(days=1)))


def _period_span(text: str) -> DateRange | None:
    """The days of a quarter, month, half or year the phrase names; None when it names none."""
    key = " ".join(text.split())
    for kind, pattern in _PERIOD_SPANS:
        match = pattern.match(key)
        if not match:
            continue
        if kind == "quarter":
            q = _ROMAN.get(match.group(1).upper()) or int(match.group(1))
            return _months(int(match.group(2)), 3 * q - 2, 3 * q)
        if kind == "quarter_iso":
            q = int(match.group(2))
            return _months(int(match.group(1)), 3 * q - 2, 3 * q)
        if kind == "month":
            return _months(int(match.group(2)), int(match.group(1)), int(match.group(1)))
        if kind == "month_iso":
            return _months(int(match.group(1)), int(match.group(2)), int(match.group(2)))
        if kind == "month_name":
            number = _MONTH_NAMES.get(match.group(1).lower())
            if number:
                return _months(int(match.group(2)), number, number)
            continue
        if kind == "half":
            first = 1 if match.group(1).lower() == "đầu" else 7
            return _months(int(match.group(2)), first, first + 5)
        return _months(int(match.group(1)), 1, 12)
    return None


def parse_date(text: str | date, *, today: date | None = None) -> date | DateRange:
    """A day from `2021-06-30`, `30/6/2021`, `hôm nay`, `in 2 weeks`…, or a
    DateRange for `this/next/last week|month` (`tuần sau`, `tháng này`…) and for
    a named quarter, month, half or year (`quý 3/2021`, `Q2 2021`, `tháng 6/2021`,
    `2021-06`, `June 2021`, `6 tháng đầu năm 2021`, `2021`).

    Day-first like Vietnamese writing (`1/7/2021` is 1 July).  Raises
    ValueError when nothing sensible can be read.
    """
    if isinstance(text, date):
        return text
    today = today or date.today()
    span = _span(text, today) or _period_span(text)
    if span is not None:
        return span
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        pass
    match = _DMY.match(text)
    if match:
        day, month, year = map(int, match.groups())
        return date(year, month, day)  # ValueError for 31/2/2021: good
    import dateparser  # slow to import; only phrases need it

    try:
        parsed = dateparser.parse(
        text, languages=["vi", "en"],
        settings={"DATE_ORDER": "DMY", "RELATIVE_BASE": datetime.combine(today, datetime.min.time())},
        )
    except (OverflowError, ValueError) as error:
        raise ValueError(f"cannot read {text!r} as a date from {today.isoformat()} ({error})") from error
    if parsed is None:
        raise ValueError(f"cannot read {text!r} as a date (try 2021-06-30, 30/6/2021 or 'next week')")
    return parsed.date()


def day_of(text: str | date | None, *, today: date | None = None) -> date:
    """The day `--today` and the web queries' `today` mean: empty is today;
    `24/7/2024`, `2024-07-24`, `hôm nay`, `tuần sau`... as parse_date reads
    them; a span (`tháng 7/2024`, `next week`) is its first day.  Raises
    ValueError when nothing sensible can be read."""
    if text is None or (isinstance(text, str) and not text.strip()):
        return today or date.today()
    parsed = parse_date(text, today=today)
    return parsed.first if isinstance(parsed, DateRange) else parsed


def _bound(value: str | date | None, *, upper: bool, today: date) -> str | None:
    if value is None:
        return None
    parsed = parse_date(value, today=today)
    if isinstance(parsed, DateRange):
        parsed = parsed.last if upper else parsed.first
    return parsed.isoformat()


# Letters write `UBND` and `Ủy ban nhân dân` interchangeably; names are
# compared with the abbreviations spelt out.
_ABBREVIATIONS = {"ubnd": "uy ban nhan dan", "hdnd": "hoi dong nhan dan"}


def match_key(text: str | None) -> str:
    """Folded words joined by single spaces, abbreviations spelt out: `Ủy ban
    nhân dân || huyện Cao Lộc` and `UBND huyện Cao Lộc` give the same key."""
    return " ".join(_ABBREVIATIONS.get(w, w) for w in re.findall(r"\w+", fold(text)))


def _register_fold(db: Database) -> None:
    db.register_function(fold, deterministic=True, replace=True, name="congvan_fold")
    db.register_function(match_key, deterministic=True, replace=True, name="congvan_match_key")




def tasks(
    db: Database,
    *,
    due_before: str | date | None = None,
    due_after: str | date | None = None,
    overdue: bool = False,
    responsible: str | None = None,
    issuer: str | None = None,
    reports: bool = True,
    today: date | None = None,
) -> list[dict[str, Any]]:
    """Tasks (and, with `reports`, reporting-period due dates) with their letter,
    sorted by deadline; undated tasks come last.

    Bounds are inclusive: `due_before="2024-03-31"` keeps a deadline on the
    31st.  A range phrase (`next week`) as `due_before` means its last day, as
    `due_after` its first.  `overdue` keeps deadlines before today of tasks not marked done.  Any date
    filter drops undated tasks.  `responsible` and `issuer` match whole words
    of the name, ignoring case, diacritics and `UBND`/`Ủy ban nhân dân`
    (`phong noi vu` finds `Phòng Nội vụ`, `ubnd huyen` finds `Ủy ban nhân dân huyện`).
    A quarter, month or year (`quý 3/2021`, `tháng 6/2021`, `2021`) as a bound
    is its span: `due_after="quý 3/2021", due_before="quý 3/2021"` is July-September.
    A recurring task whose words set due dates (`định kỳ hằng quý, trước ngày 20
    tháng cuối quý`) is one row per due date of its letter's year, marked by its
    `recurrence` and the period's label in front of its text.
    """
    today = today or date.today()
    where, params = [], []  # filters on who and what
    dated, dated_params = [], []  # filters on the deadline
    if not reports:
        where.append("kind = 'task'")
    if (before := _bound(due_before, upper=True, today=today)) is not None:
        dated.append("deadline <= ?")
        dated_params.append(before)
    if (after := _bound(due_after, upper=False, today=today)) is not None:
        dated.append("deadline >= ?")
        dated_params.append(after)
    if overdue:
        # A task marked done (congvan done, the desk) is not overdue.
        dated.append("deadline < ? and done_at is null")
        dated_params.append(today.isoformat())
    for column, needle in (("responsible", responsible), ("issuer", issuer)):
        if needle is not None and not match_key(needle):
            # `%` or `-` alone would match every row, those without a value too.
            raise ValueError(f"--{column} {needle!r} has no letters or digits to match")
        if needle:
            # Padded with spaces so `xa` matches the word `xã`, not `thị xã`'s
            # neighbours inside other words.
            where.append(f"instr(' ' || congvan_match_key({column}) || ' ', ?) > 0")
            params.append(f" {match_key(needle)} ")
    _register_fold(db)
    rows = _select(db, where + dated, params + dated_params)
    # Recurring duties (`định kỳ hằng quý, trước ngày 20 tháng cuối quý`): one row per due date of
    # their letter's year instead of one undated row (pipeline/analyst/recurring.py).
    from pipeline.analyst.recurring import expand

    expanded = expand(db, _select(db, [*where, "kind = 'task'", "deadline is null", "recurrence is not null"],
                                  params))
    rows = [row for row in rows if not expanded.get(row["uid"])]
    for found in expanded.values():
        rows += [row for row in found if (before is None or row["deadline"] <= before)
                 and (after is None or row["deadline"] >= after)
                 and (not overdue or (row["deadline"] < today.isoformat() and not row.get("done_at")))]
    rows.sort(key=lambda r: (r["deadline"] is None, r["deadline"] or "", r["issue_date"] or "",
                             r["document_id"] or 0, r["uid"]))
    return rows


def _select(db: Database, where: list[str], params: list[Any]) -> list[dict[str, Any]]:
    sql = f"select * from ({items_sql(db)})"
    if where:
        sql += " where " + " and ".join(where)
    sql += " order by deadline is null, deadline, issue_date, document_id, uid"
    cursor = db.execute(sql, params)
    names = [c[0] for c in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor]


def _number_key(doc_number: str | None) -> str:
    # `2011/QĐ-UBND`, `2011/QD-UBND` (stripped text) and `2011/qđ-ubnd ` are one number.
    return fold(doc_number).replace(" ", "")


def citing(db: Database, doc_number: str) -> list[dict[str, Any]]:
    """Letters that cite `doc_number`, oldest first, with the cited document's id
    when that document is in the database too (references.document_id)."""
    _register_fold(db)
    cursor = db.execute(
        """select c.id as document_id, c.doc_number, c.doc_type, c.issue_date, c.issuer, c.subject,
                  r.doc_number as cites, r.doc_type as cites_type, r.date as cites_date,
                  r.document_id as cited_document_id
             from "references" r join documents c on c.id = r.citing_document_id
            where replace(congvan_fold(r.doc_number), ' ', '') = ?
            order by c.issue_date is null, c.issue_date, c.id""",
        [_number_key(doc_number)],
    )
    names = [c[0] for c in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor]


def cited_by_chain(db: Database, document_id: int, *, max_depth: int = 20) -> list[dict[str, Any]]:
    """Walk up the chain of directives: the documents this one cites, the ones
    those cite, and so on, as far as they are in the database.

    Each row is a cited document with `depth` (1 = cited directly) and
    `cited_from` (the id of the document that cites it).  Each document is
    listed once, at its smallest depth, so a cycle (A cites B, B cites A)
    ends; `max_depth` bounds the walk.
    """
    cursor = db.execute(
        """with recursive chain(id, depth, cited_from) as (
               select r.document_id, 1, r.citing_document_id from "references" r
                where r.citing_document_id = ? and r.document_id is not null
               union
               select r.document_id, chain.depth + 1, r.citing_document_id
                 from "references" r join chain on r.citing_document_id = chain.id
                where r.document_id is not null and chain.depth < ?
           )
           select d.id as document_id, d.doc_number, d.doc_type, d.issue_date, d.issuer, d.subject,
                  min(chain.depth) as depth, chain.cited_from
             from chain join documents d on d.id = chain.id
            group by d.id order by depth, d.issue_date""",
        [document_id, max_depth],
    )
    names = [c[0] for c in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor]


# The record keys (shared/spec/record.md) that are lists or objects: CSV cells
# hold them as JSON so nothing is lost.
_NESTED = ("recipients", "references", "reporting_periods", "tasks", "signer", "confidence")


def records_csv(records: Iterable[dict[str, Any]]) -> str:
    """Records as CSV, one row per document; nested fields as JSON text."""
    out = io.StringIO()
    writer: csv.DictWriter | None = None
    for record in records:
        row = {k: json.dumps(v, ensure_ascii=False) if k in _NESTED else v for k, v in record.items()}
        if writer is None:
            writer = csv.DictWriter(out, fieldnames=list(row), lineterminator="\n")
            writer.writeheader()
        writer.writerow(row)
    return out.getvalue()


def rows_csv(rows: list[dict[str, Any]], columns: list[str] | None = None) -> str:
    """Any list of dicts (e.g. from `tasks`) as CSV with a header."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns or (list(rows[0]) if rows else TASK_COLUMNS),
                            extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()
