"""The analyst's commands: `tasks`, `search`, `cites`, `serve`, and the csv/ics
formats of `export`.  Each is a thin shell around pipeline.analyst.query, .search,
.calendar and .serve; the work and its tests live there.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from pipeline.cli.settings import DB_HELP, settings_for
from pipeline.core.errors import UsageError

# Every CSV the commands print starts with a UTF-8 byte order mark: Excel then
# reads the Vietnamese as UTF-8 (without it, as the local code page: mojibake).
# Python reads it with encoding="utf-8-sig"; pandas and LibreOffice skip it.
BOM = "\ufeff"
# `congvan search --format csv`: the columns even when nothing matched.
SEARCH_COLUMNS = ["document_id", "doc_number", "doc_type", "issue_date", "issuer", "subject", "source", "snippet",
                  "rank"]

_db_option = click.option(
    "--db", "db_path", default=None, type=click.Path(path_type=Path),
    help=f"SQLite database to read (never written: read-only files and mounts are fine) {DB_HELP}.",
)


def _db(db_path: Path | None) -> Path:
    """The database the command reads: --db, else the settings' (config file, $CONGVAN_DB, default)."""
    return settings_for(click.get_current_context(), db=db_path).db


def _open(db_path: Path | None):  # -> sqlite_utils.Database
    """The database, opened read-only: these commands never write."""
    from pipeline.core.database import open_readonly

    return open_readonly(_db(db_path))


class DateParam(click.ParamType):
    """`2021-06-30`, `30/6/2021`, `next week`, `tuần sau`, `hôm nay`…"""

    name = "DATE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        from pipeline.analyst.query import parse_date

        if not isinstance(value, str):
            return value
        # Relative phrases are resolved later, against --today; only check here.
        try:
            parse_date(value)
        except ValueError as error:
            self.fail(str(error), param, ctx)
        return value


def _today(value: str | None) -> date:
    from pipeline.analyst.query import day_of

    try:
        return day_of(value)  # the same reading as the web queries' `today` (desk/sql.py)
    except ValueError as error:
        raise UsageError(f"--today: {error}") from error


def _iso(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None  # a malformed date from extraction is shown as stored, never a crash


def _vn_date(iso: str | None) -> str:
    day = _iso(iso)
    return day.strftime("%d/%m/%Y") if day else (iso or "—")


def _letter(row: dict[str, Any]) -> str:
    number = row["doc_number"] or "(không số)"
    return f"{number}\n{_vn_date(row['issue_date'])}" if row["issue_date"] else number


def _due_in(deadline: str | None, today: date) -> Text:
    day = _iso(deadline)
    if day is None:
        return Text("")
    days = (day - today).days
    if days < 0:
        return Text(f"quá {-days} ngày", style="red")
    return Text("hôm nay" if days == 0 else f"{days} ngày", style="yellow" if days <= 7 else "")


@click.command()
@_db_option
@click.option("--due-before", type=DateParam(), help="Deadline on or before DATE (a week/month phrase: its last day).")
@click.option("--due-after", type=DateParam(), help="Deadline on or after DATE (a week/month phrase: its first day).")
@click.option("--overdue", is_flag=True, help="Deadline before today.")
@click.option("--responsible", metavar="TEXT", help="Responsible unit contains these words (accents, case ignored).")
@click.option("--issuer", metavar="TEXT", help="Issuing authority contains these words (UBND = Ủy ban nhân dân).")
@click.option("--reports/--no-reports", default=True, show_default=True,
              help="Include the due dates of periodic reports (reporting periods).")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
@click.option("--today", "today_text", type=DateParam(), default=None,
              help="Pretend today is DATE (for --overdue, 'next week' and the days-left column).")
def tasks(db_path: Path | None, due_before: str | None, due_after: str | None, overdue: bool, responsible: str | None,
          issuer: str | None, reports: bool, fmt: str, today_text: str | None) -> None:
    """Tasks and report due dates with their letter, sorted by deadline.

    Dates: 2021-06-30, 30/6/2021 (day first), or phrases such as
    "next week", "tuần sau", "this month", "hôm nay", "in 2 weeks".
    Bounds are inclusive.  Undated tasks are listed last and dropped by any
    date filter.

    \b
    Examples:
      congvan tasks --due-after today --due-before "next week"
      congvan tasks --overdue --responsible "phong noi vu"
      congvan tasks --issuer "UBND tỉnh" --due-after 1/7/2024 --format csv > q3.csv
    """
    from pipeline.analyst.query import TASK_COLUMNS, rows_csv
    from pipeline.analyst.query import tasks as query_tasks

    today = _today(today_text)
    try:
        rows = query_tasks(_open(db_path), due_before=due_before, due_after=due_after, overdue=overdue,
                           responsible=responsible, issuer=issuer, reports=reports, today=today)
    except ValueError as error:  # a date past the calendar's end, a filter with nothing to match
        raise UsageError(str(error)) from error
    if fmt == "json":
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if fmt == "csv":
        click.echo(BOM + rows_csv(rows, TASK_COLUMNS), nl=False)
        return
    table = Table(title=f"{len(rows)} nhiệm vụ / tasks", show_lines=True, title_justify="left")
    table.add_column("Hạn\nDue", no_wrap=True)
    table.add_column("Còn\nLeft", no_wrap=True)
    table.add_column("Chủ trì\nResponsible", ratio=1)
    table.add_column("Nội dung\nTask", ratio=3)
    table.add_column("Văn bản\nLetter", no_wrap=True)
    for row in rows:
        text = row["text"] + (f"\n[định kỳ: {row['recurrence']}]" if row["recurrence"] else "")
        left = Text("xong / done", style="green") if row.get("done_at") else _due_in(row["deadline"], today)
        table.add_row(_vn_date(row["deadline"]), left,
                      row["responsible"] or "", Text(text), _letter(row))
    Console(highlight=False).print(table)


@click.command()
@click.argument("query")
@_db_option
@click.option("--limit", "-n", type=click.IntRange(min=1), default=20, show_default=True)
@click.option("--format", "fmt", type=click.Choice(["text", "csv", "json"]), default="text", show_default=True)
def search(query: str, db_path: Path | None, limit: int, fmt: str) -> None:
    """Full-text search, accent-insensitive: `ke hoach cai cach` finds `kế hoạch cải cách`.

    All words must occur; "double quotes" make a phrase; a number such as
    2011/QĐ-UBND is matched as written.

    \b
    Examples:
      congvan search "ke hoach cai cach"
      congvan search 2011/QĐ-UBND --format json
    """
    from pipeline.analyst.query import rows_csv
    from pipeline.analyst.search import HIT_END, HIT_START, plain_snippet
    from pipeline.analyst.search import search as fts_search

    try:
        rows = fts_search(_open(db_path), query, limit=limit)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="QUERY") from error
    if fmt in ("csv", "json"):
        for row in rows:
            row["snippet"] = plain_snippet(row["snippet"])
        if fmt == "json":
            click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        else:
            click.echo(BOM + rows_csv(rows, SEARCH_COLUMNS), nl=False)
        return
    console = Console(highlight=False)
    if not rows:
        console.print(f"Không tìm thấy / no match: {query}")
    for row in rows:
        head = Text(row["doc_number"] or "(không số)", style="bold")
        for part in (row["doc_type"], _vn_date(row["issue_date"]) if row["issue_date"] else None, row["issuer"]):
            if part:
                head.append(f" · {part}")
        console.print(head)
        if row["subject"]:
            console.print(Text(f"  {row['subject']}", style="italic"))
        snippet = Text("  ")
        for i, piece in enumerate(row["snippet"].replace("\n", " ").replace(HIT_END, HIT_START).split(HIT_START)):
            snippet.append(piece, style="bold yellow" if i % 2 else "")  # odd pieces are hits
        console.print(snippet)
        console.print(Text(f"  {row['source']}", style="dim"))
        console.print()


@click.command()
@click.argument("doc_number")
@_db_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def cites(doc_number: str, db_path: Path | None, fmt: str) -> None:
    """Letters that cite DOC_NUMBER (`Căn cứ…`, `Thực hiện…`).

    Case, spaces and Đ/D do not matter: 2011/qd-ubnd finds 2011/QĐ-UBND.

    \b
    Example:
      congvan cites 2011/QĐ-UBND
    """
    from pipeline.analyst.query import citing

    rows = citing(_open(db_path), doc_number)
    if fmt == "json":
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not rows:
        click.echo(f"No letter in the database cites {doc_number}.")
    for row in rows:
        line = f"{row['doc_number'] or '(không số)'}  {_vn_date(row['issue_date'])}  {row['issuer'] or '-'}"
        if row["cited_document_id"] is not None:
            line += f"  (cited document is #{row['cited_document_id']})"
        click.echo(line)


@click.command()
@_db_option
@click.option("--port", "-p", type=click.IntRange(1, 65535), default=8001, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Interface to listen on; anything but loopback requires --password.")
@click.option("--password", envvar="CONGVAN_SERVE_PASSWORD", default=None,
              help="Password every request must carry (HTTP Basic: any user name, which the desk records "
                   "as who corrects; or 'Authorization: Bearer PASSWORD').  [env: CONGVAN_SERVE_PASSWORD]")
@click.option("--originals", multiple=True, type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="A folder where the desk also looks for original files (repeatable); the inbox's "
                   "done/ folders are searched anyway.")
def serve(db_path: Path | None, port: int, host: str, password: str | None, originals: tuple[Path, ...]) -> None:
    """Browse the database in Datasette on http://127.0.0.1:PORT, with the review desk.

    Facets on issuer, document type, responsible unit and deadline month;
    canned queries for upcoming deadlines, overdue tasks, tasks by responsible
    unit and documents citing a number.  The review desk (/-/desk) shows each
    letter's scan beside its fields, takes corrections and marks tasks done.

    \b
    Example:
      congvan serve --db data/congvan.db --port 8001
      congvan serve --host 0.0.0.0 --password "$(cat ~/.congvan-pass)" --originals /srv/scans
    """
    from pipeline.analyst.desk.auth import is_loopback
    from pipeline.analyst.serve import serve as run

    path = _db(db_path)
    shown = "127.0.0.1" if host in ("127.0.0.1", "localhost") else host
    if not is_loopback(host) and not password:
        raise UsageError(f"serving on {host} opens the letters to the network: give --password "
                         "(or CONGVAN_SERVE_PASSWORD), or serve on 127.0.0.1")

    def ready() -> None:
        click.echo(f"Serving {path} at http://{shown}:{port}/ (review desk: http://{shown}:{port}/-/desk; "
                   f"Ctrl-C to stop)" + ("; password required" if password else ""))

    run(path, port=port, on_ready=ready, host=host, password=password, originals=originals)


def export_calendars(db_path: Path, folder: Path, remind_days: tuple[int, ...] = (1,)) -> None:
    """`congvan export --format ics --per-unit DIR`: one UNIT.ics per responsible unit."""
    from pipeline.analyst.calendar import calendars_by_unit, unit_slug

    folder.mkdir(parents=True, exist_ok=True)
    calendars = calendars_by_unit(_open(db_path), remind_days)
    used: set[str] = set()
    for unit, text in calendars.items():
        name = unit_slug(unit)
        while name in used:
            name += "-2"
        used.add(name)
        path = folder / f"{name}.ics"
        path.write_text(text, encoding="utf-8", newline="")
        click.echo(f"{path}  {text.count('BEGIN:VEVENT')} deadlines  {unit}")


def export_text(db_path: Path, fmt: str, remind_days: tuple[int, ...] = (1,)) -> str:
    """`congvan export` in csv or ics: the whole output as one string."""
    from pipeline.core.database import open_readonly

    db = open_readonly(db_path)
    if fmt == "csv":
        from pipeline.analyst.query import records_csv
        from pipeline.stages.store import iter_records

        return BOM + records_csv(iter_records(db))
    if fmt == "ics":
        from pipeline.analyst.calendar import to_ics

        return to_ics(db, remind_days=remind_days)
    raise ValueError(f"unknown export format {fmt!r}")
