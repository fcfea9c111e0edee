"""The one place where exceptions become what a user sees: a line and an exit code.

* A `CongvanError` prints its one line (`congvan: ...`) and exits with its
  `exit_code` (README, "Exit codes").
* SQLite and disk trouble that reached the CLI unwrapped (a corrupt file, a
  full disk) is a `DatabaseError`, the same way.
* A first Ctrl-C that reaches here exits with ExitCode.INTERRUPTED (130).
* Anything else is a bug: its traceback goes once to stderr (logger
  `congvan`, which a cron job's `2>>` sends to the log), then one line, and
  ExitCode.INTERNAL (70).

Click's own usage errors keep click's message and exit code 2.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from pipeline.core.errors import CongvanError, ExitCode, database_error

log = logging.getLogger("congvan")


@dataclass
class CliState:
    """What the group's options leave for the commands (click's `ctx.obj`)."""

    config: Path | None = None
    settings: Any = None  # the last Settings built (names the database in a database error)
    extra: dict[str, Any] = field(default_factory=dict)


class _Stderr(logging.StreamHandler):
    """Writes to whatever `sys.stderr` is now (a test's capture, a redirected stream), not the one at set-up."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


def setup_logging() -> None:
    """Tracebacks and warnings of the `congvan` logger go to stderr, once each."""
    if not log.handlers:
        handler = _Stderr()
        handler.setFormatter(logging.Formatter("congvan: %(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.WARNING)
        log.propagate = False


def fail(message: str, code: int) -> None:
    """Print `congvan: message` on stderr and end the process with `code`."""
    click.echo(f"congvan: {message}", err=True)
    raise click.exceptions.Exit(int(code))


def report(error: BaseException, db: Path | str | None) -> None:
    """Turn `error` into its line and exit code (never returns)."""
    if isinstance(error, CongvanError):
        fail(error.one_line(), error.exit_code)
    trouble = database_error(error, db or "the database")
    if trouble is not None:
        fail(trouble.one_line(), trouble.exit_code)
    log.error("internal error (a bug; please report it with this traceback)", exc_info=error)
    first = (str(error).strip().splitlines() or [""])[0]
    fail(f"internal error: {type(error).__name__}" + (f": {first}" if first else "") + f" (exit {ExitCode.INTERNAL:d})",
         ExitCode.INTERNAL)


class CongvanGroup(click.Group):
    """A click group whose commands' exceptions all pass through `report`."""

    def invoke(self, ctx: click.Context) -> Any:
        setup_logging()
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except KeyboardInterrupt:
            fail("interrupted", ExitCode.INTERRUPTED)
        except Exception as error:
            state = ctx.obj if isinstance(ctx.obj, CliState) else None
            settings = state.settings if state else None
            report(error, getattr(settings, "db", None))
        return None
