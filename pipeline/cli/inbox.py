"""`congvan inbox`: one unattended pass over a drop folder (see pipeline/inbox.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from pipeline.cli.options import check_ocr_engine, ocr_engine_option
from pipeline.cli.settings import DB_HELP, settings_for


@click.command()
@click.argument("inbox_dir", metavar="DIR", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--db", "db_path", default=None, type=click.Path(path_type=Path),
              help=f"SQLite database to write; the run lock is DB.lock beside it {DB_HELP}.")
@click.option("--done", "done_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where stored and duplicate files go, in YYYY/MM/ [default: DIR/../done].")
@click.option("--failed", "failed_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where failed files go, each with a .error.txt saying why [default: DIR/../failed].")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None,
              help="OCR worker processes [default: all cores].")
@click.option("--settle", "settle_s", type=click.FloatRange(min=0), default=None,
              help="Seconds a file must have been left unchanged before it is read (a scanner may still be writing) "
                   "[default: 60].")
@click.option("--page-timeout", "page_timeout_s", type=click.FloatRange(min=0.001), default=None,
              help="Give up on a page after this many seconds of OCR; its document fails [default: 180].")
@click.option("--log-json", is_flag=True, help="Log JSON lines (one per document, then a summary) instead of text.")
@click.option("--dry-run", is_flag=True,
              help="List what would be processed, and what would happen to it; change nothing.")
@click.option("--scheduler", metavar="ADDRESS", default=None,
              help="Run the documents on a Dask cluster: tcp://HOST:8786, or local:N for N worker processes here "
                   "[settings: scheduler, CONGVAN_SCHEDULER].")
@ocr_engine_option
@click.pass_context
def inbox(ctx: click.Context, inbox_dir: Path, db_path: Path | None, done_dir: Path | None, failed_dir: Path | None,
          jobs: int | None, settle_s: float | None, page_timeout_s: float | None, log_json: bool,
          dry_run: bool, scheduler: str | None, ocr_engine: str | None) -> None:
    """One pass over a drop folder: read new letters, file them, say what happened.

    Safe to run twice (a second run while one is going exits with code 3),
    safe to kill (the next run finishes the job).  Each document is committed
    on its own, then its file is moved to DONE/YYYY/MM/; a file already in the
    database goes there too (a duplicate); a file that fails goes to FAILED/
    with FILE.error.txt beside it.  Nothing is ever deleted.  SIGTERM finishes
    the current document and stops.

    \b
    Exit codes: 0 all good, 1 some files failed, 2 usage error,
                3 another run holds the lock, 4 the database, its lock
                file or the disk cannot be used, 6 the Dask cluster was lost,
                70 internal error.
    \b
    Example (crontab, every night at 01:30):
      30 1 * * * cd /srv/congvan && .venv/bin/congvan inbox /srv/letters/inbox \\
                   --db data/congvan.db >> logs/inbox.log 2>&1
    """
    from pipeline.jobs.inbox import InboxOptions, run_inbox

    settings = settings_for(ctx, db=db_path, jobs=jobs, settle_s=settle_s, page_timeout_s=page_timeout_s,
                            scheduler=scheduler, ocr_engine=ocr_engine)
    check_ocr_engine(settings.ocr_engine)
    options = InboxOptions(inbox=inbox_dir, settings=settings, done_dir=done_dir, failed_dir=failed_dir,
                           dry_run=dry_run, log_json=log_json)
    sys.exit(run_inbox(options))
