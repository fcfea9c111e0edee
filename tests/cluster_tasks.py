"""Task functions for tests/test_cluster.py, imported by the Dask workers too.

The tests start their workers with this folder on PYTHONPATH, so a task given
to `pipeline.jobs.cluster.connect(task=...)` is found on the worker by name.
Nothing here is in the package: production code has no test hooks.
"""

from __future__ import annotations

import os
from pathlib import Path

from pipeline.core.settings import Settings
from pipeline.jobs.cluster import DocumentJob, DocumentResult, process_document

POISON_PREFIX = "poison"


def poisoned(job: DocumentJob, settings: Settings) -> DocumentResult:
    """The real task, except that a file named poison* kills the worker process reading it."""
    if Path(job.path).name.startswith(POISON_PREFIX):
        os._exit(13)  # as a crash in native code would: no exception, no result, the process is gone
    return process_document(job, settings)


def models_loaded() -> bool:
    """On a worker: the restorer's model is in memory (congvan's worker plugin loaded it)."""
    from pipeline.stages import restore

    return restore._engine is not None
