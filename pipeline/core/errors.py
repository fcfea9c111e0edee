"""Errors a user sees: one line naming the file and the cause."""

from __future__ import annotations

from pathlib import Path


class BadInput(Exception):
    """An input congvan cannot turn into a record; the batch goes on without it.

    `stage` says where it failed (load, ocr, restore, extract), `cause` is the
    short human reason printed and stored in the `failures` table.
    """

    def __init__(self, path: Path | str, cause: str, stage: str = "load") -> None:
        super().__init__(f"{path}: {cause}")
        self.path = str(path)
        self.cause = cause
        self.stage = stage

    def one_line(self) -> str:
        return f"{self.path}: {self.cause}"
