"""Extraction from the dev letters with known text, rendered as scans and as phone photos (issue 18).

    python -m benchmarks.rendered_extract --dev ../shared/dev --engines tesseract,neural

The dev set holds one real phone capture, too few to tell engines apart on
photos.  The born-digital and e-signed letters (`*digital*.pdf`, `*esign*.pdf`
that are not scans) have a text layer and hand-made gold: here every page of
each is rendered by poppler at 200 dpi and degraded as `make bench-ocr`
degrades page one (benchmarks/ocr.py: `as_scan`, `as_photo`: tilt and grain;
perspective, shadow, blur, 1600 px, JPEG 55), put back together as an
image-only PDF, and read by the real pipeline (load -> ocr with each engine
-> restore -> extract).  The records are scored against the gold with
benchmarks/extract.py's scoring, beside the record the text layer itself
gives (what a perfect reading would score: the ceiling).

Figures: per letter and kind, the mean field score per engine; the mean over
letters; wrong non-null numbers and dates.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.ocr import KINDS, as_photo, as_scan

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "ocr-rendered-extract.md"
DPI = 200


def letters_with_text(dev: Path) -> list[tuple[Path, dict[str, Any]]]:
    """(pdf, gold) for the dev letters whose pages carry a real text layer."""
    found = []
    for pdf in sorted((dev / "inbox").glob("*.pdf")):
        if "scan" in pdf.name or not ("digital" in pdf.name or "esign" in pdf.name):
            continue
        gold = dev / "gold" / f"{pdf.stem}.json"
        if gold.exists():
            found.append((pdf, json.loads(gold.read_text(encoding="utf-8"))))
    return found


def render_pages(pdf: Path, dpi: int = DPI) -> list[np.ndarray]:
    """Every page of `pdf` as grey uint8 pixels (poppler), in order."""
    import cv2

    with tempfile.TemporaryDirectory() as folder:
        subprocess.run(["pdftoppm", "-r", str(dpi), "-gray", "-png", str(pdf), f"{folder}/page"], check=True)
        return [cv2.imread(str(path), cv2.IMREAD_GRAYSCALE) for path in sorted(Path(folder).glob("page*.png"))]


def degraded_pdf(pages: list[np.ndarray], kind: str, seed: int, out: Path) -> Path:
    """`pages` made into `kind` (scan or photo) images, saved as one image-only PDF at `out`."""
    import cv2
    from PIL import Image

    images = []
    for number, page in enumerate(pages):
        if kind == "scan":
            images.append(Image.fromarray(as_scan(page, seed * 100 + number)))
        else:
            photo = as_photo(page, seed * 100 + number)
            ok, jpeg = cv2.imencode(".jpg", photo, [cv2.IMWRITE_JPEG_QUALITY, 55])
            images.append(Image.fromarray(cv2.imdecode(jpeg, cv2.IMREAD_GRAYSCALE)))
    # A photo carries no resolution; a scan its 200 dpi.
    resolution = float(DPI) if kind == "scan" else 72.0
    images[0].save(out, save_all=True, append_images=images[1:], resolution=resolution)
    return out


def record_of(path: Path, pool, engine: str | None) -> dict[str, Any]:
    """The pipeline's record of `path`, read with `engine` (None: its text layer as loaded)."""
    from pipeline.stages.extract import extract
    from pipeline.stages.load import identify, load
    from pipeline.stages.ocr import ocr_document
    from pipeline.stages.restore import restore

    document = load(identify(path))
    text = ocr_document(document, pool, engine=engine) if engine else ocr_document(document, pool)
    record = asdict(extract(restore(text)))
    record.pop("text", None)
    return record


def run(dev: Path, engines: list[str], jobs: int) -> str:
    from benchmarks.extract import score
    from pipeline.stages.ocr import make_pool

    letters = letters_with_text(dev)
    columns = ["text layer"] + [f"{kind} `{engine}`" for kind in KINDS for engine in engines]
    rows: dict[str, dict[str, float]] = {}
    wrong: dict[str, int] = {column: 0 for column in columns}
    with tempfile.TemporaryDirectory() as folder, make_pool(jobs) as pool:
        for seed, (pdf, gold) in enumerate(letters):
            scores, bad = score(record_of(pdf, pool, None), gold)
            rows.setdefault(pdf.stem, {})["text layer"] = sum(scores.values()) / max(1, len(scores))
            wrong["text layer"] += len(bad)
            pages = render_pages(pdf)
            for kind in KINDS:
                image_pdf = degraded_pdf(pages, kind, seed, Path(folder) / f"{pdf.stem}-{kind}.pdf")
                for engine in engines:
                    column = f"{kind} `{engine}`"
                    scores, bad = score(record_of(image_pdf, pool, engine), gold)
                    rows[pdf.stem][column] = sum(scores.values()) / max(1, len(scores))
                    wrong[column] += len(bad)
                    print(f"  {pdf.stem} {column}: {rows[pdf.stem][column]:.3f}", file=sys.stderr, flush=True)
    lines = [f"{len(letters)} dev letters with a text layer, every page rendered at {DPI} dpi and degraded "
             "(benchmarks/ocr.py's scan and photo), read by the whole pipeline; mean field score "
             "(benchmarks/extract.py's scoring).", "",
             "| letter | " + " | ".join(columns) + " |", "|---|" + "---:|" * len(columns)]
    for name, by_column in rows.items():
        lines.append(f"| {name} | " + " | ".join(f"{by_column[c]:.3f}" for c in columns) + " |")
    lines.append("| **mean** | " + " | ".join(
        f"**{statistics.mean(r[c] for r in rows.values()):.3f}**" for c in columns) + " |")
    lines.append("| wrong numbers / dates | " + " | ".join(str(wrong[c]) for c in columns) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dev", type=Path, default=ROOT.parent / "shared" / "dev")
    parser.add_argument("--engines", default="tesseract,neural")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    table = run(args.dev, args.engines.split(","), args.jobs)
    print("\n" + table)
    command = "python -m benchmarks.rendered_extract " + " ".join(argv if argv is not None else sys.argv[1:])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(f"# Extraction from rendered scans and photos (issue 18)\n\nCommand: `{command}`\n\n"
                        f"{table}\n", encoding="utf-8")


if __name__ == "__main__":
    main()
