"""congvan's Dask worker plugin: each worker process loads the models once.

`pipeline.jobs.cluster.connect` registers it with the scheduler, which runs
`setup` on every worker connected now and on every worker that joins later
(one a nanny restarted after a crash included), so no document pays for
loading the restorer's language model or Tesseract's `vie` data.

It also gives each worker the settings a local OCR process gets
(`pipeline.stages.ocr._worker_init`, less the signal handling, which is the
nanny's): one thread for Tesseract (OMP) and OpenCV, since the cluster's
parallelism is one document per worker thread.

A worker can load it at start instead, with
`dask worker ... --preload pipeline.jobs.cluster_plugin`.
"""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path
from typing import Any

from distributed import WorkerPlugin

from pipeline.core.types import DocumentText, InputFile, PageText

log = logging.getLogger("congvan")

WARM_UP_TEXT = """UBND HUYỆN CAO LỘC
Số: 1/KH-UBND
Cao Lộc, ngày 02 tháng 01 năm 2024
KẾ HOẠCH
Giao Phòng Nội vụ chủ trì, phối hợp với các cơ quan báo cáo kết quả trước ngày 15/01/2024.
"""


def warm_up() -> None:
    """Load what every document needs: thread limits, the restorer, Tesseract `vie`, the extractors."""
    os.environ["OMP_THREAD_LIMIT"] = "1"
    try:
        import cv2

        cv2.setNumThreads(1)
    except ImportError:
        pass
    import numpy as np

    from pipeline.engines import tesseract
    from pipeline.stages import extract, ocr  # noqa: F401  (imports the extractors and their models)
    from pipeline.stages.restore import get_engine, restore

    get_engine()
    # A blank page loads the engine for the language and layout every page uses.
    tesseract.image_to_data(np.full((32, 32), 255, dtype=np.uint8), ocr.LANGUAGE, ocr.PAGE_LAYOUT)
    # A few lines through the extractors load what they load on first use
    # (underthesea's word segmenter for task owners, dateparser's Vietnamese).
    sample = DocumentText(
        source=InputFile(Path("warm-up.txt"), "0" * 64, len(WARM_UP_TEXT), "text", "text/plain"),
        pages=[PageText(number=1, text=WARM_UP_TEXT, source="text-file")],
    )
    extract.extract(restore(sample))


class CongvanWorkerPlugin(WorkerPlugin):
    """Warms a worker up once, off its event loop (it keeps answering the scheduler)."""

    name = "congvan"
    idempotent = False  # a new registration (a newer client) re-runs it; loading twice is cached and cheap

    async def setup(self, worker: Any) -> None:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, warm_up)
        log.info("congvan: worker %s ready (models loaded)", getattr(worker, "address", "?"))


async def dask_setup(worker: Any) -> None:
    """`dask worker --preload pipeline.jobs.cluster_plugin`: warm up as the worker starts."""
    await asyncio.get_running_loop().run_in_executor(None, warm_up)
