"""The house's rules (issue 10), checked on the source itself.

Imports run one way: core <- extractors <- stages <- jobs <- cli, with the OCR
engines beside the stages and the analyst's side reading the store.  Nothing
shipped imports the training room (it is not in the wheel).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# room -> the rooms its modules may import from (itself included)
ALLOWED = {
    "pipeline.core": {"pipeline.core"},
    "extractors": {"pipeline.core", "extractors"},
    "pipeline.engines": {"pipeline.core", "pipeline.engines"},
    "pipeline.stages": {"pipeline.core", "extractors", "pipeline.engines", "pipeline.stages"},
    "pipeline.jobs": {"pipeline.core", "extractors", "pipeline.engines", "pipeline.stages", "pipeline.jobs"},
    "pipeline.analyst": {"pipeline.core", "pipeline.stages", "pipeline.analyst"},
    "pipeline.cli": {"pipeline.core", "extractors", "pipeline.engines", "pipeline.stages", "pipeline.jobs",
                     "pipeline.analyst", "pipeline.cli"},
}
ROOMS = sorted(ALLOWED, key=len, reverse=True)
# The crossings allowed: the `combined` OCR engine asks the restorer's syllable language model
# which engine's reading of a line is likelier, and binarises the straightened page for its
# Tesseract pass with the preprocess stage's own function (both pure; neither calls back).
ALLOWED_MODULES = {"pipeline.engines": ("pipeline.stages.restore", "pipeline.stages.preprocess")}


def room_of(module: str) -> str | None:
    if module == "pipeline":
        return "pipeline.core"  # the package's __init__ holds only the version
    return next((room for room in ROOMS if module == room or module.startswith(room + ".")), None)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):  # function-level imports count too
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path}: relative import; the house uses absolute imports"
            if node.module:
                found.add(node.module)
                found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {m for m in found if m.split(".")[0] in ("pipeline", "extractors")}


SHIPPED = sorted(p for p in [*ROOT.glob("pipeline/**/*.py"), *ROOT.glob("extractors/**/*.py")]
                 if "training" not in p.parts)


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_run_one_way(path: Path) -> None:
    own = room_of(module_name(path))
    assert own is not None, f"{path} is in no room"
    for target in imported_modules(path):
        target_room = room_of(target)
        if target_room is None:
            assert not target.startswith("pipeline.training"), f"{path} imports the training room: {target}"
            continue
        if target.startswith(ALLOWED_MODULES.get(own, ())):
            continue
        assert target_room in ALLOWED[own], f"{module_name(path)} ({own}) must not import {target} ({target_room})"


def test_the_stage_chain_is_readable_from_the_folder() -> None:
    stages = {p.stem if p.is_file() else p.name for p in (ROOT / "pipeline" / "stages").iterdir()
              if not p.name.startswith("__")}
    assert {"load", "preprocess", "ocr", "layout", "restore", "extract", "store"} <= stages
