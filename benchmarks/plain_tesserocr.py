"""The bare engine congvan reads pages with: tesserocr, one loaded Tesseract per process, no pipeline.

    python -m benchmarks.plain_tesserocr --jobs 2 PAGE.png ...

The peer that isolates congvan's own overhead from the engine's speed: what a
user of tesserocr would write to read the same pages with the same
parallelism (word table out, as congvan asks for), and nothing else.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os

_api = None


def _start() -> None:
    global _api
    import tesserocr

    from pipeline.engines.tesseract import tessdata_dir

    _api = tesserocr.PyTessBaseAPI(path=tessdata_dir() or "", lang="vie", psm=tesserocr.PSM.AUTO,
                                   oem=tesserocr.OEM.LSTM_ONLY)


def read(path: str) -> int:
    _api.SetImageFile(path)
    _api.SetSourceResolution(300)
    return len(_api.GetTSVText(0))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("pages", nargs="+")
    args = parser.parse_args()
    with multiprocessing.get_context("spawn").Pool(args.jobs, initializer=_start) as pool:
        read_chars = sum(pool.imap_unordered(read, args.pages))
    print(read_chars)


if __name__ == "__main__":
    main()
