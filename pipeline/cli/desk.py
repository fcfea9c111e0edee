"""The review desk's commands: `correct`, `done`, `reopen`.

They mirror the desk's web forms (`congvan serve`): each writes the new value
through to the row and records it in the `corrections` table (who, when, old
and new value), so `congvan export`, `congvan tasks` and the web view show it
and `congvan ingest --reprocess` keeps it (pipeline/stages/corrections.py).
"""

from __future__ import annotations

import getpass
import inspect
import sys
from pathlib import Path

import click

from pipeline.core.errors import CongvanError

DEFAULT_DB = "data/congvan.db"

_db_option = click.option(
    "--db", "db_path", default=DEFAULT_DB, show_default=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path), help="SQLite database to correct.",
)
_by_option = click.option("--by", "by", default=None, metavar="NAME",
                          help="Who makes the correction [default: your login name].")


def _who(by: str | None) -> str:
    if by:
        return by
    try:
        return getpass.getuser()
    except Exception:  # no login name in a bare container
        return "cli"


def _fail(error: CongvanError) -> None:
    click.echo(f"congvan: {error.one_line()}", err=True)
    sys.exit(int(error.exit_code))


def _show(value: str | None) -> str:
    return "null" if value is None else repr(value)


def _field_help() -> str:
    from pipeline.stages.corrections import DOCUMENT_FIELDS, TASK_FIELDS

    return ("Document fields: " + ", ".join(DOCUMENT_FIELDS) + ".  Task fields (with --task): "
            + ", ".join(TASK_FIELDS) + ".")


@click.command(epilog="\b\n" + "\n".join([
    "Examples:",
    "  congvan correct 35/KH-UBND issue_date 28/2/2024",
    "  congvan correct 3f2a9c1d doc_number 479/UBND-NV --by 'Nguyễn Thị Lan'",
    "  congvan correct 2 deadline 20/3/2024 --task 7",
    "  congvan correct 2 subject -          (an empty value: null)",
]))
@click.argument("document")
@click.argument("field")
@click.argument("value")
@_db_option
@click.option("--task", "task", default=None, metavar="TASK",
              help="Correct a task of the document: its id (as the desk shows it) or uid (task-…-N).")
@_by_option
def correct(document: str, field: str, value: str, db_path: Path, task: str | None, by: str | None) -> None:
    """Set FIELD of DOCUMENT to VALUE and keep the correction.

    DOCUMENT is an id, a SHA-256 prefix (8+ digits) or a number such as
    35/KH-UBND.  Dates may be written 30/6/2024 or 2024-06-30; `-` or an
    empty VALUE sets the field to null.  The old value, the new one, who and
    when go into the `corrections` table; re-reading the file with
    `congvan ingest --reprocess` keeps the correction.
    """
    from pipeline.stages import corrections
    from pipeline.stages.store import open_db

    try:
        db = open_db(db_path)
        doc_id = corrections.resolve_document(db, document)
        if task is not None:
            task_id = corrections.resolve_task(db, task)
            owner = db.execute("select document_id from tasks where id = ?", [task_id]).fetchone()[0]
            if owner != doc_id:
                raise corrections.UsageError(f"task {task} belongs to document #{owner}, not #{doc_id}")
            change = corrections.correct_task(db, task_id, field, value, _who(by))
            where = f"task {task_id} of document #{doc_id}"
        else:
            change = corrections.correct_document(db, doc_id, field, value, _who(by))
            where = f"document #{doc_id}"
    except CongvanError as error:
        _fail(error)
        return
    verb = "corrected" if change.changed else "confirmed"
    click.echo(f"{where}: {field} {verb}: {_show(change.old_value)} -> {_show(change.new_value)} "
               f"(by {change.by}, {change.at})")


correct.help = inspect.cleandoc(correct.help or "") + "\n\n" + _field_help()


def _set_done(task: str, db_path: Path, by: str | None, done: bool) -> None:
    from pipeline.stages import corrections
    from pipeline.stages.store import open_db

    try:
        db = open_db(db_path)
        task_id = corrections.resolve_task(db, task)
        change = corrections.set_task_done(db, task_id, done, _who(by))
    except CongvanError as error:
        _fail(error)
        return
    row = db.execute("select t.text, d.doc_number from tasks t join documents d on d.id = t.document_id"
                     " where t.id = ?", [task_id]).fetchone()
    text = " ".join((row[0] or "").split())
    text = text if len(text) <= 70 else text[:69] + "…"
    state = "done" if done else "open"
    note = "" if change.changed else f" (it was already {state})"
    click.echo(f"task {task_id} ({row[1] or 'no number'}: {text}): {state}{note}")


@click.command()
@click.argument("task")
@_db_option
@_by_option
def done(task: str, db_path: Path, by: str | None) -> None:
    """Mark TASK done: it leaves the overdue lists (`congvan tasks --overdue`, the web view).

    TASK is a task id (as the desk and `congvan tasks --format json` show it)
    or its uid (task-<sha256 prefix>-<position>).

    \b
    Example:
      congvan done 7 --by "Phòng Nội vụ"
    """
    _set_done(task, db_path, by, True)


@click.command()
@click.argument("task")
@_db_option
@_by_option
def reopen(task: str, db_path: Path, by: str | None) -> None:
    """Mark TASK open again (undo `congvan done`).

    \b
    Example:
      congvan reopen 7
    """
    _set_done(task, db_path, by, False)
