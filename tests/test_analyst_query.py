"""pipeline.analyst.query: dates, task listings, citations, the chain of directives."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date

import pytest

from pipeline.analyst import query
from pipeline.analyst.query import DateRange, parse_date
from pipeline.stages.store import iter_records, open_db

FRIDAY = date(2026, 11, 20)


@pytest.mark.parametrize("text, expected", [
    ("2021-06-30", date(2021, 6, 30)),
    ("30/6/2021", date(2021, 6, 30)),
    ("1/7/2021", date(2021, 7, 1)),  # day first, as Vietnamese letters write it
    ("30-06-2021", date(2021, 6, 30)),
    ("30 tháng 6 năm 2021", date(2021, 6, 30)),
    ("today", FRIDAY),
    ("hôm nay", FRIDAY),
    ("tomorrow", date(2026, 11, 21)),
    ("in 2 weeks", date(2026, 12, 4)),
])
def test_parse_date_days(text: str, expected: date) -> None:
    assert parse_date(text, today=FRIDAY) == expected


@pytest.mark.parametrize("text, first, last", [
    ("next week", date(2026, 11, 23), date(2026, 11, 29)),
    ("tuần sau", date(2026, 11, 23), date(2026, 11, 29)),
    ("this week", date(2026, 11, 16), date(2026, 11, 22)),
    ("this month", date(2026, 11, 1), date(2026, 11, 30)),
    ("next month", date(2026, 12, 1), date(2026, 12, 31)),
])
def test_parse_date_ranges(text: str, first: date, last: date) -> None:
    span = parse_date(text, today=FRIDAY)
    assert isinstance(span, DateRange) and (span.first, span.last) == (first, last)


def test_next_month_crosses_the_year() -> None:
    assert parse_date("tháng sau", today=date(2026, 12, 20)) == (date(2027, 1, 1), date(2027, 1, 31))


@pytest.mark.parametrize("text", ["blah blah", "31/2/2021"])
def test_parse_date_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_date(text, today=FRIDAY)


def test_fold_and_match_key() -> None:
    assert query.fold("Đồng bộ KẾ HOẠCH") == "dong bo ke hoach"
    assert query.match_key("Ủy ban nhân dân || huyện Cao Lộc ||") == query.match_key("UBND huyện Cao Lộc")


def deadlines(rows: list[dict]) -> list[str | None]:
    return [row["deadline"] for row in rows]


def test_tasks_sorted_with_letter_and_undated_last(analyst_db) -> None:
    rows = query.tasks(open_db(analyst_db))
    assert deadlines(rows) == ["2024-03-15", "2024-03-20", "2024-03-25", "2024-04-05", "2024-06-20", "2024-12-31", None]
    first = rows[0]
    assert (first["kind"], first["responsible"], first["doc_number"], first["issue_date"]) == (
        "task", "Phòng Nội vụ", "35/KH-UBND", "2024-02-28")
    report = rows[1]
    assert report["kind"] == "report" and report["doc_number"] == "479/UBND-NV" and "Quý I/2024" in report["text"]
    assert rows[-1]["recurrence"] == "định kỳ hằng quý"
    assert len({row["uid"] for row in rows}) == len(rows)


def test_tasks_bounds_are_inclusive_and_accept_any_format(analyst_db) -> None:
    db = open_db(analyst_db)
    assert deadlines(query.tasks(db, due_after="15/3/2024", due_before="2024-03-25")) == [
        "2024-03-15", "2024-03-20", "2024-03-25"]
    assert deadlines(query.tasks(db, due_before=date(2024, 3, 20), reports=False)) == ["2024-03-15"]


def test_tasks_next_week_is_the_whole_week(analyst_db) -> None:
    # Monday 11 March 2024 is "today": next week is 18-24 March.
    db = open_db(analyst_db)
    rows = query.tasks(db, due_after="next week", due_before="next week", today=date(2024, 3, 11))
    assert deadlines(rows) == ["2024-03-20"]
    rows = query.tasks(db, due_after="today", due_before="next week", today=date(2024, 3, 11))
    assert deadlines(rows) == ["2024-03-15", "2024-03-20"]


def test_tasks_overdue(analyst_db) -> None:
    rows = query.tasks(open_db(analyst_db), overdue=True, today=date(2024, 3, 25))
    assert deadlines(rows) == ["2024-03-15", "2024-03-20"]  # due today is not overdue yet


def test_tasks_responsible_and_issuer_ignore_accents_and_ubnd(analyst_db) -> None:
    db = open_db(analyst_db)
    assert deadlines(query.tasks(db, responsible="phong noi vu")) == ["2024-03-15"]
    assert deadlines(query.tasks(db, responsible="VĂN PHÒNG HĐND")) == ["2024-03-25"]
    by_province = query.tasks(db, issuer="UBND tỉnh")
    assert [r["doc_number"] for r in by_province] == ["2011/QĐ-UBND"]
    assert {r["doc_number"] for r in query.tasks(db, issuer="uy ban nhan dan huyen cao loc")} == {"35/KH-UBND"}


def test_citing_normalises_the_number(analyst_db) -> None:
    db = open_db(analyst_db)
    rows = query.citing(db, "2011/qđ-ubnd ")
    assert [(r["doc_number"], r["cites"], r["cited_document_id"]) for r in rows] == [
        ("35/KH-UBND", "2011/QĐ-UBND", 1), ("479/UBND-NV", "2011/QD-UBND", None)]
    assert query.citing(db, "999/QĐ-UBND") == []


def test_chain_of_directives(analyst_db) -> None:
    chain = query.cited_by_chain(open_db(analyst_db), 3)
    assert [(r["doc_number"], r["depth"], r["cited_from"]) for r in chain] == [
        ("35/KH-UBND", 1, 3), ("2011/QĐ-UBND", 2, 2)]


def test_chain_survives_a_cycle(analyst_db) -> None:
    db = open_db(analyst_db)
    db["references"].insert(dict(citing_document_id=1, position=0, doc_number="479/UBND-NV", document_id=3))
    chain = query.cited_by_chain(db, 3)
    assert {r["doc_number"]: r["depth"] for r in chain} == {"35/KH-UBND": 1, "2011/QĐ-UBND": 2, "479/UBND-NV": 3}


def test_records_csv_round_trips_nested_fields(analyst_db) -> None:
    records = list(iter_records(open_db(analyst_db)))
    rows = list(csv.DictReader(io.StringIO(query.records_csv(records))))
    assert [r["doc_number"] for r in rows] == ["2011/QĐ-UBND", "35/KH-UBND", "479/UBND-NV"]
    assert json.loads(rows[2]["reporting_periods"])[0]["due"] == "2024-03-20"
    assert json.loads(rows[1]["tasks"])[0]["responsible"] == "Phòng Nội vụ"


# --- against the database the pipeline builds from the sample letters ---------------------------

def test_sample_tasks_agree_with_the_database(sample_db) -> None:
    db = open_db(sample_db)
    rows = query.tasks(db)
    n_tasks = db.execute("select count(*) from tasks").fetchone()[0]
    n_periods = db.execute("select count(*) from reporting_periods").fetchone()[0]
    # A recurring duty whose words set dates is one row per due date of its year, not one (issue 17).
    occurrences = [r for r in rows if re.search(r"-\d{4}-\d{2}-\d{2}$", r["uid"])]
    expanded = {r["uid"].rsplit("-", 3)[0] for r in occurrences}
    assert n_tasks > 10 and len(rows) == n_tasks + n_periods + len(occurrences) - len(expanded)
    dated = [d for d in deadlines(rows) if d]
    assert dated == sorted(dated) and deadlines(rows)[len(dated):] == [None] * (len(rows) - len(dated))
    for row in rows:  # every row carries its letter
        expected = db.execute("select doc_number, issue_date from documents where id = ?",
                              [row["document_id"]]).fetchone()
        assert (row["doc_number"], row["issue_date"]) == tuple(expected)
    quarter = query.tasks(db, due_after="1/4/2024", due_before="30/6/2024")
    assert quarter and all("2024-04-01" <= r["deadline"] <= "2024-06-30" for r in quarter)
    expected_quarter = db.execute(
        "select (select count(*) from tasks where deadline between '2024-04-01' and '2024-06-30')"
        " + (select count(*) from reporting_periods where due between '2024-04-01' and '2024-06-30')").fetchone()[0]
    assert len(quarter) == expected_quarter + sum("2024-04-01" <= r["deadline"] <= "2024-06-30" for r in occurrences)


def test_sample_reference_links_to_a_document_in_the_database(sample_db) -> None:
    db = open_db(sample_db)
    plan = db.execute("select id from documents where doc_number = '35/KH-UBND'").fetchone()
    assert plan, "the sample's plan 35/KH-UBND was not extracted"
    rows = query.citing(db, "35/KH-UBND")
    assert rows and all(r["cited_document_id"] == plan[0] for r in rows)
    chain = query.cited_by_chain(db, rows[0]["document_id"])
    assert chain[0]["document_id"] == plan[0] and chain[0]["depth"] == 1
    assert [r["doc_number"] for r in query.citing(db, "2011/QĐ-UBND")] == ["35/KH-UBND"]
