"""One settings object for a run, built from defaults, a config file, the
environment and the command line (later ones win), then passed down.

Nothing reads the environment or a module global deep inside the pipeline:
a stage gets what it needs from the `Settings` it is handed.

Config file (TOML): `--config FILE`, else `$CONGVAN_CONFIG`, else
`./congvan.toml`, else `~/.config/congvan/congvan.toml`; keys are the field
names below, e.g.

    db = "/srv/congvan/data/congvan.db"
    jobs = 2
    page_timeout_s = 120
    ocr_engine = "neural"

Environment: `CONGVAN_<FIELD>` in capitals (`CONGVAN_DB`, `CONGVAN_JOBS`,
`CONGVAN_OCR_ENGINE`, `CONGVAN_SCHEDULER`, ...).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from pipeline.core.errors import UsageError

DEFAULT_DB = Path("data/congvan.db")
DEFAULT_SETTLE_S = 60.0
DEFAULT_PAGE_TIMEOUT_S = 180.0
# Registered under `congvan.ocr_engines`.  `neural` (TrueOCR) is the default since session 7:
# about twice the pages per minute of `tesseract`, half the character errors or less on scans
# and photos, the dev letters and rendered photos extracted better with no wrong number or date,
# and more handwritten numbers and dates right on held-out page ones (figures: BENCHMARKS.md,
# headlines of sessions 7 and 8).  `--ocr-engine tesseract` (or a config file) reads with
# Tesseract alone; header slots the two readers disagree on are re-read by Tesseract with either.
DEFAULT_OCR_ENGINE = "neural"
# The largest page image congvan rasterises or upscales, in pixels: an A4 page
# at 400 dpi (3308 x 4677 = 15.5 Mpx) fits; one 8-bit page of this size is
# 40 MB, so a 2-core, 4 GB machine holds a few in flight with room to spare.
DEFAULT_MAX_PAGE_PIXELS = 40_000_000


@dataclass(frozen=True)
class Settings:
    db: Path = DEFAULT_DB
    jobs: int | None = None  # OCR worker processes; None: all cores
    page_timeout_s: float = DEFAULT_PAGE_TIMEOUT_S
    settle_s: float = DEFAULT_SETTLE_S
    max_page_pixels: int = DEFAULT_MAX_PAGE_PIXELS
    ocr_engine: str = DEFAULT_OCR_ENGINE
    model_dir: Path | None = None  # None: the models shipped in the package
    scheduler: str | None = None  # a Dask scheduler address, or `local:N`
    plugins: tuple[str, ...] = field(default_factory=tuple)  # modules or .py files loaded as plug-ins

    def with_options(self, **options: Any) -> Settings:
        """A copy with the options that were given (None means 'not given')."""
        given = {k: v for k, v in options.items() if v is not None}
        return replace(self, **_coerce(given, source="option"))


_CONFIG_NAMES = (Path("congvan.toml"), Path.home() / ".config" / "congvan" / "congvan.toml")


def _coerce(values: Mapping[str, Any], source: str) -> dict[str, Any]:
    known = {f.name: f for f in fields(Settings)}
    out: dict[str, Any] = {}
    for name, value in values.items():
        if name not in known:
            raise UsageError(f"{source}: unknown setting {name!r} (known: {', '.join(sorted(known))})")
        try:
            if name in ("db", "model_dir"):
                out[name] = Path(value)
            elif name in ("jobs", "max_page_pixels"):
                out[name] = int(value)
            elif name in ("page_timeout_s", "settle_s"):
                out[name] = float(value)
            elif name == "plugins":
                out[name] = tuple(value.split(",")) if isinstance(value, str) else tuple(value)
            else:
                out[name] = str(value)
        except (TypeError, ValueError) as error:
            raise UsageError(f"{source}: setting {name!r}: {error}") from error
    return out


def _is_file(path: Path) -> bool:
    """A default config file that is there; one we may not even look at (another user's home) is not."""
    try:
        return path.is_file()
    except OSError:
        return False


def load_settings(config: Path | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Defaults, then the config file, then `CONGVAN_*` variables."""
    environ = os.environ if environ is None else environ
    settings = Settings()
    path = config or (Path(environ["CONGVAN_CONFIG"]) if environ.get("CONGVAN_CONFIG") else None)
    if path is None:
        path = next((p for p in _CONFIG_NAMES if _is_file(p)), None)
    if path is not None:
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
            raise UsageError(f"{path}: cannot read the config file: {error}") from error
        settings = replace(settings, **_coerce(data, source=str(path)))
    from_env = {f.name: environ[f"CONGVAN_{f.name.upper()}"] for f in fields(Settings)
                if environ.get(f"CONGVAN_{f.name.upper()}")}
    return replace(settings, **_coerce(from_env, source="environment"))
