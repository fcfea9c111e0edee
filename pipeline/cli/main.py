"""The `congvan` command line; each command mirrors a Python function.

Exit codes: `pipeline.core.errors.ExitCode`, documented in the README; every
exception becomes its line and code in one place, `pipeline.cli.errors`.

Settings: the group's `--config FILE` (else $CONGVAN_CONFIG, ./congvan.toml,
~/.config/congvan/congvan.toml), then `CONGVAN_*` variables, then each
command's options, built once per command (`settings_for`) and passed down.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from pipeline import __version__
from pipeline.cli.errors import CliState, CongvanGroup
from pipeline.cli.options import check_ocr_engine, ocr_engine_option
from pipeline.cli.settings import DB_HELP, settings_for
from pipeline.core.errors import DatabaseError, ExitCode, RunLocked, UsageError
from pipeline.core.settings import Settings

if TYPE_CHECKING:
    from pipeline.jobs.ingest import Outcome, Summary

err = Console(stderr=True, highlight=False)


@click.group(cls=CongvanGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="congvan")
@click.option("--config", type=click.Path(dir_okay=False, path_type=Path), default=None, envvar="CONGVAN_CONFIG",
              help="Settings file (TOML: db, jobs, page_timeout_s, settle_s, max_page_pixels, ...) "
                   "[default: ./congvan.toml, else ~/.config/congvan/congvan.toml].")
@click.pass_context
def main(ctx: click.Context, config: Path | None) -> None:
    """Digitise Vietnamese official letters into a database of tasks and deadlines.

    \b
    Example:
      congvan ingest inbox/ --db data/congvan.db
      congvan extract inbox/cv-479.pdf --json
    """
    ctx.obj = CliState(config=config)


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--db", "db_path", default=None, type=click.Path(path_type=Path),
              help=f"SQLite database to write {DB_HELP}.")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None,
              help="OCR worker processes [default: all cores].")
@click.option("--failed", "failed_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Move files that fail into this folder, each with a .error.txt saying why.")
@click.option("--page-timeout", "page_timeout_s", type=click.FloatRange(min=0.001), default=None,
              help="Give up on a page after this many seconds of OCR; its document fails [default: 180].")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar; failures and the summary only.")
@click.option("--reprocess", is_flag=True,
              help="Read files already in the database again and rewrite their rows (after a better model); "
                   "ids and every correction (congvan correct, the desk) are kept.")
@click.option("--scheduler", metavar="ADDRESS", default=None,
              help="Run the documents on a Dask cluster: tcp://HOST:8786, or local:N for N worker processes here "
                   "[settings: scheduler, CONGVAN_SCHEDULER].")
@ocr_engine_option
@click.pass_context
def ingest(ctx: click.Context, paths: tuple[Path, ...], db_path: Path | None, jobs: int | None,
           failed_dir: Path | None, page_timeout_s: float | None, quiet: bool, reprocess: bool = False,
           scheduler: str | None = None, ocr_engine: str | None = None) -> None:
    """Read letters (PDF, images, text; files or folders) into the database.

    A file already in the database (same SHA-256) is skipped without OCR.
    Each failure prints one line naming the file and the cause and is
    recorded in the `failures` table; the batch goes on.

    \b
    Example:
      congvan ingest data/inbox scans/2024-03.pdf --db data/congvan.db --jobs 2
      congvan ingest --reprocess done/2024/03/ --db data/congvan.db
    """
    from pipeline.jobs.ingest import collect_files
    from pipeline.jobs.lock import Locked, RunLock, lock_path_for

    settings = settings_for(ctx, db=db_path, jobs=jobs, page_timeout_s=page_timeout_s, scheduler=scheduler,
                            ocr_engine=ocr_engine)
    check_ocr_engine(settings.ocr_engine)
    if settings.db.is_dir():
        raise UsageError(f"--db {settings.db} is a folder; give the database file, e.g. {settings.db / 'congvan.db'}")
    files = collect_files(paths)
    # The same lock as `congvan inbox`: two runs on one database would read the same new file twice.
    lock = RunLock(lock_path_for(settings.db))
    try:
        lock.acquire()
    except Locked as error:
        raise RunLocked(f"{error}; nothing was done (exit {ExitCode.LOCKED:d})") from None
    try:
        _ingest_locked(files, settings, failed_dir, quiet, reprocess)
    finally:
        lock.release()


def _ingest_locked(files: list[Path], settings: Settings, failed_dir: Path | None, quiet: bool,
                   reprocess: bool = False) -> None:
    from pipeline.core.files import shown
    from pipeline.jobs.cluster import open_runner
    from pipeline.jobs.ingest import Ingestor
    from pipeline.stages.store import open_db

    db_path = settings.db
    db = open_db(db_path)
    progress = Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), TextColumn("{task.fields[current]}"),
        console=err, disable=quiet or not err.is_terminal, transient=False,
    )
    with progress, open_runner(settings.scheduler) as runner, \
            Ingestor(db, failed_dir=failed_dir, settings=settings, reprocess=reprocess, runner=runner) as ingestor:
        task = progress.add_task("ingest", total=len(files), rate="", current="")

        def on_page(_page: object) -> None:
            seconds = max(ingestor.summary.seconds, 1e-6)
            progress.update(task, rate=f"{ingestor.summary.pages_ocr / seconds:.2f} pages/s")

        def on_outcome(outcome: Outcome) -> None:
            progress.update(task, advance=1, current=outcome.path.name)
            if outcome.status == "failed" and outcome.error is not None:
                line = f"congvan: {shown(outcome.path)}: {shown(outcome.error.cause)}"
                progress.console.print(line, style="red", markup=False, soft_wrap=True)

        ingestor.on_page, ingestor.on_outcome = on_page, on_outcome
        try:
            summary = ingestor.run(files)
        except DatabaseError:
            # The database error ends the run with its own line (cli.errors); before it, say
            # what the run did, so an archivist knows which files are in and which are not.
            done = ingestor.summary
            finished = len(done.outcomes)
            click.echo(_summary_line(done, len(files), db_path, reprocess)
                       + f"; stopped by a database error after {finished} of {len(files)} files,"
                       f" the other {len(files) - finished} left where they are")
            raise
    click.echo(_summary_line(summary, len(files), db_path, reprocess))
    sys.exit(ExitCode.INPUT_FAILED if summary.count("failed") else ExitCode.OK)


def _summary_line(summary: Summary, files: int, db_path: Path, reprocess: bool) -> str:
    rate = summary.pages_ocr / summary.seconds if summary.seconds else 0.0
    return (
        f"{files} files: {summary.count('stored')} documents stored, "
        + (f"{summary.count('reprocessed')} reprocessed (corrections kept), " if reprocess else "")
        + f"{summary.count('duplicate')} already in the database, {summary.count('failed')} failed; "
        f"{summary.tasks} tasks, {summary.deadlines} deadlines; "
        f"{summary.pages_ocr} pages OCR'd in {summary.seconds:.1f} s ({rate:.2f} pages/s) -> {db_path}"
        + (f"; {summary.internal_errors} internal errors (a bug: tracebacks above)" if summary.internal_errors else "")
    )


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the record as JSON (shared/spec/record.md).")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None,
              help="OCR worker processes for a multi-page scan.")
@click.option("--page-timeout", "page_timeout_s", type=click.FloatRange(min=0.001), default=None,
              help="Give up on a page after this many seconds of OCR [default: 180].")
@ocr_engine_option
@click.pass_context
def extract(ctx: click.Context, file: Path, as_json: bool, jobs: int | None, page_timeout_s: float | None,
            ocr_engine: str | None) -> None:
    """Print the record of one letter; no database is touched.

    \b
    Example:
      congvan extract inbox/qd1373.pdf --json | jq .doc_number
    """
    from pipeline.jobs.ingest import process_file
    from pipeline.stages.ocr import make_pool

    settings = settings_for(ctx, jobs=jobs, page_timeout_s=page_timeout_s, ocr_engine=ocr_engine)
    check_ocr_engine(settings.ocr_engine)
    with make_pool(settings.jobs) as pool:
        record, _ = process_file(file, pool, settings)  # a BadInput is its one line and exit 1 (cli.errors)
    if as_json:
        click.echo(json.dumps(record.to_json_dict(), ensure_ascii=False, indent=2))
        return
    data = record.to_json_dict()
    for key in ("doc_number", "doc_type", "issuer", "place", "issue_date", "subject"):
        click.echo(f"{key:>12}: {data[key] if data[key] is not None else '-'}")
    click.echo(f"{'recipients':>12}: " + ("; ".join(record.recipients) or "-"))
    click.echo(f"{'references':>12}: " + (", ".join(r.doc_number or "?" for r in record.references) or "-"))
    for task in record.tasks:
        click.echo(f"{'task':>12}: [{task.deadline or 'no deadline'}] {task.responsible or '?'}: {task.text[:90]}")


@main.command()
@click.argument("file", default="-", type=click.File("r", encoding="utf-8"))
@click.option("--changes", is_flag=True, help="Print the changed spans (JSON lines) to stderr.")
def restore(file: TextIO, changes: bool) -> None:
    """Restore the diacritics of garbled or stripped Vietnamese text.

    Reads FILE (or standard input) and writes the restored text to standard output.

    \b
    Example:
      echo "Ke hoach cai cach hanh chinh nim 2021" | congvan restore
    """
    from pipeline.stages.restore import restore_text

    restored, spans = restore_text(file.read())
    sys.stdout.write(restored)
    if changes:
        for span in spans:
            click.echo(json.dumps(vars(span), ensure_ascii=False), err=True)


@main.command()
@click.option("--db", "db_path", default=None, type=click.Path(path_type=Path),
              help=f"SQLite database to read {DB_HELP}.")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv", "ics"]), default="jsonl", show_default=True)
@click.option("--remind", "remind", type=click.IntRange(min=0), multiple=True, metavar="DAYS",
              help="ics: a reminder DAYS days before each deadline, at 09:00 (repeatable) [default: 1].")
@click.option("--no-remind", is_flag=True, help="ics: no reminders.")
@click.option("--per-unit", "per_unit", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="ics: write one calendar per responsible unit into this folder (UNIT.ics) instead.")
@click.pass_context
def export(ctx: click.Context, db_path: Path | None, fmt: str, remind: tuple[int, ...] = (),
           no_remind: bool = False, per_unit: Path | None = None) -> None:
    """Print every stored document as a record, one JSON object per line;
    csv: one row per document (lists as JSON); ics: a calendar of deadlines.

    \b
    Example:
      congvan export --format jsonl --db data/congvan.db > records.jsonl
      congvan export --format ics > deadlines.ics
      congvan export --format ics --remind 7 --remind 1 --per-unit calendars/
    """
    from pipeline.core.database import open_readonly
    from pipeline.stages.store import iter_records

    db_path = settings_for(ctx, db=db_path).db
    if fmt != "jsonl":
        from pipeline.cli.analyst import export_calendars, export_text

        reminders = () if no_remind else (remind or (1,))
        if per_unit is not None:
            if fmt != "ics":
                raise click.UsageError("--per-unit makes calendars: use it with --format ics")
            export_calendars(db_path, per_unit, reminders)
            return
        sys.stdout.write(export_text(db_path, fmt, reminders))
        return
    for record in iter_records(open_readonly(db_path)):
        click.echo(json.dumps(record, ensure_ascii=False))


# Commands that live in their own modules register here, one line each.
from pipeline.cli.inbox import inbox  # noqa: E402

main.add_command(inbox)

from pipeline.cli.analyst import cites, search, serve, tasks  # noqa: E402

main.add_command(tasks)
main.add_command(search)
main.add_command(cites)
main.add_command(serve)

from pipeline.cli.desk import correct, done, reopen  # noqa: E402

main.add_command(correct)
main.add_command(done)
main.add_command(reopen)


if __name__ == "__main__":
    main()
