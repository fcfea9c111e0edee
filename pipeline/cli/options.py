"""Options shared by several commands."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def ocr_engine_option(command: F) -> F:
    """`--ocr-engine NAME`: which installed OCR engine reads the pages."""
    return click.option(
        "--ocr-engine", "ocr_engine", default=None, metavar="NAME",
        help="OCR engine: tesseract, tesseract-cli, neural, combined, cascade, or an installed plug-in "
             "[default: `ocr_engine` in the config file, $CONGVAN_OCR_ENGINE, else neural].",
    )(command)


def resolve_ocr_engine(option: str | None) -> str:
    """The engine to use (option > environment > config file > default); a usage error when not installed."""
    from pipeline.core.errors import UsageError
    from pipeline.core.settings import load_settings
    from pipeline.engines import check_engine

    try:
        return check_engine(load_settings().with_options(ocr_engine=option).ocr_engine)
    except UsageError as error:
        raise click.BadParameter(str(error), param_hint="'--ocr-engine'") from error


def check_ocr_engine(name: str) -> str:
    """`name` (from the settings: option > environment > config file) when installed, else a usage error."""
    from pipeline.core.errors import UsageError
    from pipeline.engines import check_engine

    try:
        return check_engine(name)
    except UsageError as error:
        raise click.BadParameter(str(error), param_hint="'--ocr-engine'") from error
