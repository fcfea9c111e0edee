"""One `Settings` per command: the config file and environment, then the options given.

Built here, once, and passed down (jobs, stages); nothing below the CLI reads
the environment or a config file for its settings.
"""

from __future__ import annotations

from typing import Any

import click

from pipeline.cli.errors import CliState
from pipeline.core.settings import DEFAULT_DB, Settings, load_settings

# Shown in each --db help: the default is the config's or $CONGVAN_DB's before the built-in one.
DB_HELP = f"[default: $CONGVAN_DB, the config file's db, else {DEFAULT_DB}]"


def settings_for(ctx: click.Context, **options: Any) -> Settings:
    """Defaults < config file < CONGVAN_* < these options (None: not given)."""
    state = ctx.find_object(CliState)
    config = state.config if state else None
    settings = load_settings(config).with_options(**options)
    if state is not None:
        state.settings = settings  # names the database in a database error (cli.errors)
    return settings
