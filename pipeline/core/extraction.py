"""The extractor plug-in contract: what an extractor reads and what it returns.

An extractor is a class registered under the entry point group
`congvan.extractors` (the built-ins in `extractors/builtin.py` are registered
the same way, in congvan's pyproject.toml).  Each run of the extract stage
makes one instance of every registered extractor and calls them in `order`;
each sees the fields the earlier ones found (`Evidence.found`), so references
can leave out the letter's own number, say.

A third-party extractor adds new record keys by naming them in `columns`
(key -> SQLite column type); they appear in `congvan extract --json` and
`congvan export` after the contract's keys and are stored as columns of the
`documents` table.  Structured values are stored as JSON text.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, runtime_checkable


@dataclass
class Evidence:
    """What the extract stage knows about one letter when an extractor runs."""

    text: str  # the full restored text, pages joined by blank lines
    word_confidence: Mapping[str, float] = field(default_factory=dict)  # OCR word form -> lowest 0..1
    slot_readings: Mapping[str, list[str]] = field(default_factory=dict)  # focused re-reads of header slots
    found: dict[str, Any] = field(default_factory=dict)  # fields found by the extractors run before
    confidence: dict[str, float] = field(default_factory=dict)  # their confidences so far
    context: dict[str, Any] = field(default_factory=dict)  # more inputs of later stages (page layout, tables)


@runtime_checkable
class Extractor(Protocol):
    """One field family.  `extract` returns record keys -> values, and may
    return `confidence` (key -> 0..1) for the keys it filled."""

    name: ClassVar[str]
    order: ClassVar[int]  # lower runs first; the built-ins use 10..60, plug-ins default to 100
    columns: ClassVar[Mapping[str, type]]  # new record keys (not the contract's) -> column type

    def extract(self, evidence: Evidence) -> dict[str, Any]: ...
