"""OCR benchmark: congvan's OCR against plain Tesseract and OCRmyPDF.

    python -m benchmarks.ocr --inbox ../shared/dev/inbox --corpus ../shared/corpus

1. Speed, on the scanned pages of the dev inbox: `congvan ingest --jobs J`
   (rasterise, preprocess, OCR, restore, extract, store) against
   `pdftoppm | xargs -P J tesseract -l vie` on the same pages, and
   `ocrmypdf -l vie --jobs J` where installed.  Runs alternate A, B, C, A, B,
   C... so drift hits each alike; medians and the ratio are printed.
2. Accuracy, on pages rendered from *held-out* corpus documents (known
   text), degraded like scans: character error rate of plain Tesseract, of
   congvan's OCR stage, and of congvan's OCR plus restoration.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.restore import cer
from pipeline.stages.load import identify, load
from pipeline.training.corpus import iter_corpus

ROOT = Path(__file__).resolve().parents[1]
CONGVAN = [sys.executable, "-m", "pipeline.cli.main"]


def scanned_pages(inbox: Path) -> dict[Path, list[int]]:
    """The pages congvan OCRs (no trusted text layer) in each inbox PDF."""
    pages: dict[Path, list[int]] = {}
    for path in sorted(inbox.glob("*.pdf")):
        document = load(identify(path))
        numbers = [p.number for p in document.pages if p.text is None]
        if numbers:
            pages[path] = numbers
    return pages


def timed(command: str, env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, shell=True, check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def page_subset(path: Path, numbers: list[int], work: Path) -> Path:
    """A PDF holding only `numbers` of `path`, so every reader gets the same pages."""
    parts = []
    for number in numbers:
        part = work / f"{path.stem}-p{number}.pdf"
        subprocess.run(["pdfseparate", "-f", str(number), "-l", str(number), str(path), str(part)], check=True)
        parts.append(str(part))
    subset = work / f"{path.stem}-bench.pdf"
    subprocess.run(["pdfunite", *parts, str(subset)], check=True)
    return subset


def speed(pages: dict[Path, list[int]], jobs: int, runs: int, work: Path) -> list[tuple[str, float, int]]:
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    total = sum(len(n) for n in pages.values())
    subsets = [page_subset(path, numbers, work) for path, numbers in pages.items()]
    files = " ".join(f"'{p}'" for p in subsets)
    raster = work / "png"
    tesseract_script = f"rm -rf '{raster}' && mkdir -p '{raster}' && " + " && ".join(
        f"pdftoppm -r 300 -gray -png '{p}' '{raster}/{p.stem}'" for p in subsets
    ) + f" && ls '{raster}'/*.png | xargs -P {jobs} -I{{}} tesseract {{}} {{}} -l vie"
    commands = {
        f"congvan ingest --jobs {jobs}": f"rm -f '{work}/b.db'* && {' '.join(CONGVAN)} ingest {files} --db '{work}/b.db' --jobs {jobs} -q",
        f"pdftoppm + tesseract -l vie, xargs -P {jobs}": tesseract_script,
    }
    if shutil.which("ocrmypdf"):
        commands[f"ocrmypdf -l vie --jobs {jobs}"] = " && ".join(
            f"ocrmypdf -q -l vie --jobs {jobs} --force-ocr --output-type pdf '{p}' '{work}/o.pdf'" for p in subsets
        )
    seconds: dict[str, list[float]] = {name: [] for name in commands}
    for run in range(runs):
        for name, command in commands.items():
            seconds[name].append(timed(command, env))
            print(f"  run {run + 1}/{runs} {name}: {seconds[name][-1]:.1f} s", file=sys.stderr)
    return [(name, statistics.median(values), total) for name, values in seconds.items()]


def held_out_pages(corpus: Path, count: int) -> list[list[str]]:
    from pipeline.training.synth import page_lines

    pages = []
    for document in iter_corpus(corpus, held_out=True, files=("admin", "vbpl")):
        lines = page_lines(document.text, max_lines=18)
        if sum(len(line) for line in lines) > 600:
            pages.append(lines)
        if len(pages) >= count:
            break
    return pages


def accuracy(corpus: Path, count: int, work: Path) -> dict[str, list[float]]:
    import numpy as np

    from pipeline.stages.ocr import read_image
    from pipeline.stages.restore import restore_text
    from pipeline.training.synth import FONTS, render

    results: dict[str, list[float]] = {"tesseract -l vie": [], "congvan ocr": [], "congvan ocr + restore": []}
    fonts = [f for f in FONTS if Path(f).exists()]
    for index, lines in enumerate(held_out_pages(corpus, count)):
        truth = "\n".join(lines)
        image = render(lines, fonts[index % len(fonts)], seed=index, degrade=1 + index % 2)
        png = work / f"page-{index}.png"
        image.save(png, dpi=(300, 300))
        plain = subprocess.run(["tesseract", str(png), "-", "-l", "vie"], capture_output=True, text=True).stdout
        ours = read_image(np.asarray(image.convert("L")), 300).text
        results["tesseract -l vie"].append(cer(plain, truth))
        results["congvan ocr"].append(cer(ours, truth))
        results["congvan ocr + restore"].append(cer(restore_text(ours)[0], truth))
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--inbox", type=Path, default=ROOT.parent / "shared" / "dev" / "inbox")
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--max-pages", type=int, default=8, help="scanned pages timed (first N of the inbox)")
    parser.add_argument("--cer-pages", type=int, default=8)
    parser.add_argument("--out", type=Path, default=None, help="Also write the tables as Markdown here.")
    args = parser.parse_args(argv)

    pages = scanned_pages(args.inbox)
    budget, chosen = args.max_pages, {}
    for path, numbers in pages.items():
        if budget > 0:
            chosen[path] = numbers[:budget]
            budget -= len(chosen[path])
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        rows = speed(chosen, args.jobs, args.runs, work)
        cers = accuracy(args.corpus, args.cer_pages, work)
    total = rows[0][2]
    lines = [
        f"OCR speed: {total} scanned pages of {', '.join(p.name for p in chosen)}; "
        f"{args.jobs} jobs; median of {args.runs} runs ({os.cpu_count()} cores)",
        "",
        f"| {'command':<40} | median s | pages/s | time vs congvan |",
        f"|{'-' * 42}|---------:|--------:|----------------:|",
    ]
    ours = rows[0][1]
    for name, seconds, count in rows:
        lines.append(f"| {name:<40} | {seconds:8.1f} | {count / seconds:7.3f} | {seconds / ours:15.2f} |")
    lines += [
        "",
        f"Character error rate on {len(cers['congvan ocr'])} rendered held-out pages (degraded scans)",
        "",
        f"| {'reader':<25} | median CER | mean CER |",
        f"|{'-' * 27}|-----------:|---------:|",
    ]
    for name, values in cers.items():
        lines.append(f"| {name:<25} | {100 * statistics.median(values):9.2f}% | {100 * statistics.mean(values):7.2f}% |")
    report = "\n".join(lines)
    print("\n" + report)
    if args.out:
        command = "python -m benchmarks.ocr " + " ".join(argv if argv is not None else sys.argv[1:])
        args.out.write_text(f"# OCR benchmark\n\nCommand: `{command}`\n\n{report}\n", encoding="utf-8")

if __name__ == "__main__":
    main()
