"""Deadlines as an iCalendar (RFC 5545) file a calendar application imports.

One all-day event per task deadline, per reporting-period due date and per
due date of a recurring duty (`định kỳ hằng quý, trước ngày 20 tháng cuối
quý` gives four, see pipeline/analyst/recurring.py), with the letter's number,
date, issuer and subject in the description and a reminder (VALARM) the day
before at 09:00; on request one calendar per responsible unit
(`calendars_by_unit`), for each unit to subscribe to its own.  UIDs are
built from the document's sha256 and the item's position, so importing a
newer export updates the events instead of duplicating them; DTSTAMP is the
time the document was ingested, so the same database gives the same file.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

from icalendar import Alarm, Calendar, Event
from sqlite_utils import Database

from pipeline import __version__
from pipeline.analyst.query import fold, tasks

__all__ = ["to_ics", "calendars_by_unit", "unit_slug", "NO_UNIT"]

CALENDAR_NAME = "congvan: hạn công việc / deadlines"
_SUMMARY_CHARS = 90


def _stamp(db: Database, document_id: int) -> datetime:
    row = db.execute("select ingested_at from documents where id = ?", [document_id]).fetchone()
    try:
        return datetime.fromisoformat(row[0]).astimezone(UTC)
    except (TypeError, ValueError):
        return datetime(1970, 1, 1, tzinfo=UTC)


def _short(text: str, limit: int = _SUMMARY_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _letter_line(item: dict) -> str:
    """`Công văn số 479/UBND-NV ngày 2024-03-06` with the parts the letter has."""
    words = [item["doc_type"] or "Văn bản"]
    words.append(f"số {item['doc_number']}" if item["doc_number"] else "(không rõ số)")
    if item["issue_date"]:
        try:
            words.append(f"ngày {date.fromisoformat(item['issue_date']):%d/%m/%Y}")
        except ValueError:
            words.append(f"ngày {item['issue_date']}")
    return " ".join(words)


# Reminders: days before the deadline, at 09:00 local time of that day.
DEFAULT_REMIND_DAYS = (1,)
_REMIND_AT_HOUR = 9


def _due_in(days: int) -> str:
    return "today" if days == 0 else "tomorrow" if days == 1 else f"in {days} days"


def _alarm(days: int, summary: str) -> Alarm:
    """A VALARM that pops up `days` days before an all-day event, at 09:00.

    An all-day event starts at 00:00 of its day, so `days` before at 09:00
    is a trigger of -(days*24 - 9) hours relative to the start."""
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("trigger", -timedelta(hours=days * 24 - _REMIND_AT_HOUR))
    when = "hôm nay" if days == 0 else f"còn {days} ngày"
    alarm.add("description", f"{summary} ({when} / due {_due_in(days)})")
    return alarm


def unit_slug(unit: str | None) -> str:
    """A file name for a responsible unit: `Phòng Nội vụ` -> `phong-noi-vu`."""
    slug = "-".join(re.findall(r"[a-z0-9]+", fold(unit or "")))
    return slug[:80] or "chua-ro-don-vi"


def calendars_by_unit(db: Database, remind_days: Sequence[int] = DEFAULT_REMIND_DAYS) -> dict[str, str]:
    """One calendar per responsible unit: {unit name: VCALENDAR text}.

    A unit's calendar holds the deadlines it is responsible for; report due
    dates and tasks with no responsible unit go to `(chưa rõ đơn vị / no unit)`.
    """
    units: dict[str, str] = {}
    for item in tasks(db):
        if item["deadline"]:
            name = item["responsible"] or NO_UNIT
            units.setdefault(fold(name), name)
    return {name: to_ics(db, remind_days=remind_days, only_unit=name) for name in sorted(units.values())}


NO_UNIT = "(chưa rõ đơn vị / no unit)"


def to_ics(db: Database, remind_days: Sequence[int] = DEFAULT_REMIND_DAYS, only_unit: str | None = None) -> str:
    """Every dated task and reporting due date as a VCALENDAR text (CRLF lines).

    Each event has a reminder (VALARM) `remind_days` days before, at 09:00
    (default: the day before; empty: none).  `only_unit`: only the items whose
    responsible unit is this name (accents and case ignored; NO_UNIT: those
    without one); the calendar's name says which unit.
    """
    calendar = Calendar()
    calendar.add("prodid", f"-//congvan//congvan {__version__}//VI")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", f"{CALENDAR_NAME} – {only_unit}" if only_unit else CALENDAR_NAME)
    stamps: dict[int, datetime] = {}
    for item in tasks(db):
        if not item["deadline"]:
            continue  # no day to put it on; recurring duties without a date stay out
        if only_unit is not None and fold(item["responsible"] or NO_UNIT) != fold(only_unit):
            continue
        try:
            day = date.fromisoformat(item["deadline"])
        except ValueError:
            continue  # a malformed date from extraction must not break the whole file
        if item["document_id"] not in stamps:
            stamps[item["document_id"]] = _stamp(db, item["document_id"])
        who = f"{item['responsible']}: " if item["responsible"] else ""
        if who and fold(item["text"]).startswith(fold(item["responsible"])):
            who = ""  # `Phòng Y tế: Phòng Y tế chủ trì…` says it twice
        prefix = "Hạn báo cáo" if item["kind"] == "report" else "Hạn"
        if item["recurrence"]:
            prefix += " định kỳ"  # one event per due date of a recurring report (query.tasks expands them)
        description = [item["text"], "", _letter_line(item)]
        if item["issuer"]:
            description.append(f"Cơ quan ban hành: {item['issuer']}")
        if item["subject"]:
            description.append(f"Trích yếu: {item['subject']}")
        if item["cooperating"]:
            description.append(f"Phối hợp: {item['cooperating']}")
        if item["recurrence"]:
            description.append(f"Định kỳ: {item['recurrence']}")
        event = Event()
        event.add("uid", f"{item['uid']}@congvan")
        event.add("dtstamp", stamps[item["document_id"]])
        event.add("dtstart", day)  # a date, not a datetime: an all-day event
        event.add("dtend", day + timedelta(days=1))
        number = f" {item['doc_number']}" if item["doc_number"] else ""
        summary = _short(f"{prefix}{number} – {who}{item['text']}")
        event.add("summary", summary)
        event.add("description", "\n".join(description))
        event.add("categories", ["congvan", "báo cáo" if item["kind"] == "report" else "nhiệm vụ"])
        event.add("transp", "TRANSPARENT")  # a deadline does not make anyone busy
        for days in sorted(set(remind_days), reverse=True) if not item.get("done_at") else ():  # done: no nagging
            event.add_component(_alarm(days, summary))
        calendar.add_component(event)
    return calendar.to_ical().decode("utf-8")
