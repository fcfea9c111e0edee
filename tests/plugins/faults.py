"""Fault injection for the kill tests, as a run-hook plug-in (OCRmyPDF's model).

Loaded only where a test asks for it: `CONGVAN_PLUGINS=tests/plugins/faults.py`
(the settings' `plugins`); congvan's own code has no test hooks.  What it does
is set by the test through these variables, read here, in test code:

    CONGVAN_FAULT_DOC_DELAY_S=0.3      name the document in hand on stderr, then sleep
                                       before it is stored (a wide window mid-run)
    CONGVAN_FAULT_KILL_AFTER_COMMIT=N  SIGKILL the run right after its Nth commit,
                                       before the file is moved
    CONGVAN_FAULT_ANNOUNCE_PAGES=1     an OCR worker says on stderr that a page is being read
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

from pipeline.core.plugins import hookimpl

_commits = 0


@hookimpl
def congvan_before_store(path: Path, record: Any) -> None:
    delay = os.environ.get("CONGVAN_FAULT_DOC_DELAY_S")
    if delay:
        os.write(2, f"congvan-test: finishing {path}\n".encode())
        time.sleep(float(delay))


@hookimpl
def congvan_document_stored(path: Path, document_id: int, record: Any) -> None:
    global _commits
    _commits += 1
    kill_after = os.environ.get("CONGVAN_FAULT_KILL_AFTER_COMMIT")
    if kill_after and _commits >= int(kill_after):
        os.kill(os.getpid(), signal.SIGKILL)


@hookimpl
def congvan_page_ocr_started(path: Path, page: int) -> None:
    if os.environ.get("CONGVAN_FAULT_ANNOUNCE_PAGES"):
        os.write(2, f"congvan-test: reading page {page}\n".encode())
