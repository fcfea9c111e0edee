"""Plug-in points: extractors, OCR engines and run hooks, found by entry point.

Three entry point groups (the models: docling's engine plug-ins, sqlite-utils'
and Datasette's pluggy hooks):

- `congvan.extractors`: `name = "package.module:ExtractorClass"`; each adds
  fields to the record (`Extractor` below).  The built-in field families are
  registered the same way in congvan's own pyproject.toml.
- `congvan.ocr_engines`: `name = "package.module:EngineClass"`; an engine
  turns a page image into words with boxes and confidences (`pipeline.engines`).
- `congvan.plugins`: a module with pluggy hook implementations (`RunHooks`),
  called around each document of a run.  `--plugin MODULE_OR_FILE` (settings
  `plugins`) loads one more without installing it: how the tests inject faults.

Entry points are read once per process; a broken plug-in fails with one line
naming it (`MissingDependency`), never a traceback deep inside a run.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Iterable
from functools import cache
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from types import ModuleType
from typing import Any

import pluggy

from pipeline.core.errors import MissingDependency, UsageError

EXTRACTORS_GROUP = "congvan.extractors"
OCR_ENGINES_GROUP = "congvan.ocr_engines"
HOOKS_GROUP = "congvan.plugins"

hookspec = pluggy.HookspecMarker("congvan")
hookimpl = pluggy.HookimplMarker("congvan")


class RunHooks:
    """What a `congvan.plugins` plug-in may implement (all optional)."""

    @hookspec
    def congvan_document_started(self, path: Path) -> None:
        """The run takes this file in hand (after the settle and duplicate checks)."""

    @hookspec
    def congvan_page_ocr_started(self, path: Path, page: int) -> None:
        """An OCR worker starts reading a page (called in the worker process)."""

    @hookspec
    def congvan_before_store(self, path: Path, record: Any) -> None:
        """A record is about to be committed; raising here fails the document."""

    @hookspec
    def congvan_document_stored(self, path: Path, document_id: int, record: Any) -> None:
        """A record was committed (before its file is moved out of the inbox)."""


def load_entry_point(entry: EntryPoint, group: str) -> Any:
    try:
        return entry.load()
    except Exception as error:  # any import failure of third-party code: name it in one line
        raise MissingDependency(
            f"plug-in {entry.name!r} ({entry.value}) in {group} cannot be loaded: {type(error).__name__}: {error}"
        ) from error


@cache
def _entry_points(group: str) -> tuple[EntryPoint, ...]:
    # Sorted so that two runs (and two workers) see plug-ins in the same order.
    return tuple(sorted(entry_points(group=group), key=lambda e: (e.name, e.value)))


def registered(group: str) -> dict[str, Any]:
    """name -> loaded object of every entry point in `group` (first wins on a clash)."""
    found: dict[str, Any] = {}
    for entry in _entry_points(group):
        found.setdefault(entry.name, load_entry_point(entry, group))
    return found


def refresh() -> None:
    """Forget the entry points read so far (tests that install a plug-in at run time)."""
    _entry_points.cache_clear()
    importlib.invalidate_caches()


def import_plugin(spec: str) -> ModuleType:
    """A plug-in module named by import path (`pkg.mod`) or file (`path/to/plugin.py`)."""
    if spec.endswith(".py") or "/" in spec:
        path = Path(spec)
        if not path.is_file():
            raise UsageError(f"--plugin {spec}: no such file")
        name = f"congvan_plugin_{path.stem}"
        if name in sys.modules:
            return sys.modules[name]
        module_spec = importlib.util.spec_from_file_location(name, path)
        if module_spec is None or module_spec.loader is None:
            raise UsageError(f"--plugin {spec}: not a Python file")
        module = importlib.util.module_from_spec(module_spec)
        sys.modules[name] = module
        try:
            module_spec.loader.exec_module(module)
        except Exception as error:
            raise MissingDependency(f"--plugin {spec}: {type(error).__name__}: {error}") from error
        return module
    try:
        return importlib.import_module(spec)
    except ImportError as error:
        raise UsageError(f"--plugin {spec}: {error}") from error


def hooks(extra_plugins: Iterable[str] = ()) -> pluggy.PluginManager:
    """A plugin manager with the installed `congvan.plugins` and the given modules
    (one per process and list of modules: an OCR worker asks for it at every page)."""
    return _hooks(tuple(extra_plugins))


@cache
def _hooks(extra_plugins: tuple[str, ...]) -> pluggy.PluginManager:
    manager = pluggy.PluginManager("congvan")
    manager.add_hookspecs(RunHooks)
    for name, plugin in registered(HOOKS_GROUP).items():
        manager.register(plugin, name=name)
    for spec in extra_plugins:
        module = import_plugin(spec)
        if manager.is_registered(module):
            continue
        manager.register(module, name=spec)
    return manager
