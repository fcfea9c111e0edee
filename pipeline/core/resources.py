"""Where the shipped models and data files are, installed or in a checkout.

The trained artefacts in the repository's `models/` ship in the wheel as the
package `congvan_models` (see pyproject.toml), so they are found through
`importlib.resources` wherever congvan is installed; `CONGVAN_MODEL_DIR`
points at another folder with the same layout (a model rebuilt by
`make models` elsewhere, say).
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

MODEL_DIR_ENV = "CONGVAN_MODEL_DIR"


def model_dir(override: Path | str | None = None) -> Path:
    """The folder holding the trained models (`restore/lm3.npz`, ...)."""
    if override:
        return Path(override)
    from_env = os.environ.get(MODEL_DIR_ENV)
    if from_env:
        return Path(from_env)
    # A wheel installs real files, and an editable install maps the package to
    # the checkout's models/, so the traversable is always a real path here.
    return Path(str(resources.files("congvan_models")))


def package_file(package: str, name: str) -> Path:
    """A data file shipped inside one of congvan's own packages."""
    return Path(str(resources.files(package) / name))
