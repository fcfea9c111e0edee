"""Benchmark `congvan inbox`: OCR throughput against plain Tesseract, and a rerun over known files.

    python -m benchmarks.inbox [--pages 24] [--runs 3] [--jobs 2] [--rerun-files 200] [--out FILE]

1. Throughput.  `--pages` A4 pages of Vietnamese letters (tests/letters/*.txt),
   rendered at 300 dpi with DejaVu Serif, one PNG per page, are read by
   (a) `xargs -P JOBS tesseract -l vie --oem 1 --psm 3` (the system's
       Tesseract command: the issue's peer),
   (b) bare tesserocr, JOBS processes (benchmarks/plain_tesserocr.py: the
       engine congvan uses, with none of the pipeline),
   (c) `congvan inbox --jobs JOBS --settle 0` into a fresh database (the default engine), and
   (d) the same with CONGVAN_OCR_ENGINE=tesseract (tesserocr, the engine of (b))
       and with CONGVAN_OCR_ENGINE=tesseract-cli (congvan driving the system's
       Tesseract command, the engine of (a)),
   wall clock of each whole command (start-up, model loading, preprocessing,
   restoration, extraction, commits and moves included), OMP_THREAD_LIMIT=1
   for all.  Median of `--runs`, the readers alternating.  Target: (c)'s
   pages/min >= 0.9 x (a)'s.  (d) against (b) and (a) gives congvan's own
   overhead over the same engine.
2. Rerun.  `--rerun-files` letters are ingested once, then the same files are
   dropped into the inbox again (copies an archivist re-sends, or files left
   behind by a run killed between commit and move) and `congvan inbox` is
   timed over them: each is hashed, found, and moved to done/ as a duplicate.
   Done once with text letters and once with scanned-page PNGs.  Target < 2 s.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LETTERS = ROOT / "tests" / "letters"
FONTS = ["/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf", "/usr/share/fonts/truetype/freefont/FreeSerif.ttf"]


def _font(size: int):
    from PIL import ImageFont

    for path in FONTS:
        if Path(path).exists():
            return ImageFont.truetype(path, size)
    raise SystemExit("no font with Vietnamese glyphs (fonts-dejavu-core); run `make install`")


def letter_lines(path: Path) -> list[str]:
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line[2:] if line.startswith(">>") else line
        lines.append("      ".join(part.strip() for part in line.split("||")))
    return lines


def render_pages(count: int, out: Path) -> list[Path]:
    """`count` A4 pages at 300 dpi, 12 pt text, one PNG each (clean print, as a good scanner gives)."""
    from PIL import Image, ImageDraw

    out.mkdir(parents=True, exist_ok=True)
    font = _font(50)  # 12 pt at 300 dpi
    width, height, margin, line_height = 2480, 3508, 240, 72
    letters = sorted(LETTERS.glob("*.txt"))
    if not letters:
        raise SystemExit(f"no letters in {LETTERS}")
    pages: list[Path] = []
    source = 0
    while len(pages) < count:
        lines = letter_lines(letters[source % len(letters)])
        source += 1
        page = Image.new("L", (width, height), 255)
        draw = ImageDraw.Draw(page)
        y = margin
        for line in lines:
            if y > height - margin - line_height:
                break
            # Long lines are wrapped at the right margin.
            words, current = line.split(), ""
            for word in words:
                trial = f"{current} {word}".strip()
                if draw.textlength(trial, font=font) > width - 2 * margin and current:
                    draw.text((margin, y), current, font=font, fill=0)
                    y += line_height
                    current = word
                else:
                    current = trial
            draw.text((margin, y), current, font=font, fill=0)
            y += line_height
        # A footer makes every page distinct (a repeated page would be a duplicate, not read again).
        draw.text((margin, height - margin), f"Trang {len(pages) + 1}", font=font, fill=0)
        path = out / f"page-{len(pages) + 1:03d}.png"
        page.save(path, dpi=(300, 300))
        pages.append(path)
    return pages


def _env() -> dict[str, str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CONGVAN_FAULT_") and k != "CONGVAN_PLUGINS"}
    environment["OMP_THREAD_LIMIT"] = "1"
    return environment


def children_cpu() -> float:
    """CPU seconds (user + system) of every finished descendant so far: less sensitive than wall
    time to other work on a shared machine."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def time_tesseract(pages: list[Path], jobs: int) -> float:
    listing = "\n".join(str(p) for p in pages) + "\n"
    began = time.perf_counter()
    subprocess.run(
        ["xargs", "-P", str(jobs), "-I{}", "tesseract", "{}", "-", "-l", "vie", "--oem", "1", "--psm", "3",
         "--dpi", "300"],
        input=listing.encode(), env=_env(), check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    return time.perf_counter() - began


def time_plain_tesserocr(pages: list[Path], jobs: int) -> float:
    began = time.perf_counter()
    subprocess.run([sys.executable, "-m", "benchmarks.plain_tesserocr", "--jobs", str(jobs), *map(str, pages)],
                   cwd=ROOT, env=_env(), check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - began


def inbox_command(inbox: Path, db: Path, jobs: int) -> list[str]:
    return [sys.executable, "-m", "pipeline.cli.main", "inbox", str(inbox), "--db", str(db), "--settle", "0",
            "--jobs", str(jobs), "--log-json"]


def time_inbox(inbox: Path, db: Path, jobs: int, **env: str) -> tuple[float, str]:
    began = time.perf_counter()
    result = subprocess.run(inbox_command(inbox, db, jobs), cwd=ROOT, env={**_env(), **env}, capture_output=True,
                            text=True)
    seconds = time.perf_counter() - began
    if result.returncode not in (0, 1):
        raise SystemExit(f"congvan inbox failed ({result.returncode}):\n{result.stderr}")
    return seconds, result.stdout.strip().splitlines()[-1]


def time_pipeline(pages: list[Path], jobs: int, work: Path, **env: str) -> tuple[float, str]:
    shutil.rmtree(work, ignore_errors=True)
    inbox = work / "inbox"
    inbox.mkdir(parents=True)
    for page in pages:
        shutil.copy2(page, inbox / page.name)
    took, summary = time_inbox(inbox, work / "congvan.db", jobs, **env)
    read = json.loads(summary)
    if read["pages_ocr"] != len(pages) or read["stored"] != len(pages):
        raise SystemExit(f"the pipeline did not read every page once: {summary}")
    return took, summary


def letter_variants(count: int) -> list[tuple[str, str]]:
    """`count` distinct letters (name, text): the letters of tests/letters with their number changed."""
    letters = sorted(LETTERS.glob("*.txt"))
    out = []
    for i in range(count):
        base = letters[i % len(letters)]
        text = base.read_text(encoding="utf-8")
        out.append((f"{base.stem}-{i:03d}.txt", text + f"\n(Bản sao số {i + 1} gửi kèm.)\n"))
    return out


def time_rerun(files: list[Path], jobs: int, work: Path, runs: int) -> tuple[list[float], str, float]:
    """Ingest `files` once, then time runs over the same files dropped again; returns (seconds, summary, first)."""
    shutil.rmtree(work, ignore_errors=True)
    inbox, db = work / "inbox", work / "congvan.db"
    inbox.mkdir(parents=True)
    for f in files:
        shutil.copy2(f, inbox / f.name)
    first, _ = time_inbox(inbox, db, jobs)
    seconds, summary = [], ""
    for _ in range(runs):
        shutil.rmtree(work / "done", ignore_errors=True)
        for f in files:
            shutil.copy2(f, inbox / f.name)
        took, summary = time_inbox(inbox, db, jobs)
        seconds.append(took)
    return seconds, summary, first


def throughput(pages: list[Path], jobs: int, runs: int, work: Path) -> list[str]:
    """Report lines: each reader over the same pages, alternating, wall clock and CPU seconds."""
    from pipeline.engines import DEFAULT_ENGINE, get_engine
    from pipeline.engines.tesseract import engine_version

    command = subprocess.run(["tesseract", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    summaries: dict[str, str] = {}

    def pipeline(key: str, **env: str):
        def run() -> float:
            took, summaries[key] = time_pipeline(pages, jobs, work / key, **env)
            return took
        return run

    readers = {  # key -> (label, engine, timed run)
        "command": (f"`xargs -P {jobs} tesseract -l vie --oem 1 --psm 3`", command,
                    lambda: time_tesseract(pages, jobs)),
        "bare": (f"bare tesserocr, {jobs} processes (benchmarks/plain_tesserocr.py)", engine_version(),
                 lambda: time_plain_tesserocr(pages, jobs)),
        "congvan": (f"`congvan inbox --jobs {jobs}` (whole command, the default engine `{DEFAULT_ENGINE}`)",
                    get_engine(DEFAULT_ENGINE).version(), pipeline("congvan")),
        "congvan-tesserocr": (f"`CONGVAN_OCR_ENGINE=tesseract congvan inbox --jobs {jobs}`", engine_version(),
                              pipeline("congvan-tesserocr", CONGVAN_OCR_ENGINE="tesseract")),
        "congvan-cli": (f"`CONGVAN_OCR_ENGINE=tesseract-cli congvan inbox --jobs {jobs}`", command,
                        pipeline("congvan-cli", CONGVAN_OCR_ENGINE="tesseract-cli")),
    }
    wall: dict[str, list[float]] = {key: [] for key in readers}
    cpu: dict[str, list[float]] = {key: [] for key in readers}
    for run in range(runs):
        for key, (_, _, timed) in readers.items():
            before = children_cpu()
            wall[key].append(timed())
            cpu[key].append(children_cpu() - before)
        print(f"run {run + 1}: " + ", ".join(f"{key} {wall[key][-1]:.1f} s" for key in readers), flush=True)
    median_wall = {key: statistics.median(v) for key, v in wall.items()}
    median_cpu = {key: statistics.median(v) for key, v in cpu.items()}

    def ratio(ours: str, peer: str) -> str:  # > 1: ours is faster
        wall, cpu = median_wall[peer] / median_wall[ours], median_cpu[peer] / median_cpu[ours]
        return f"{wall:.2f} by wall clock, {cpu:.2f} by CPU"

    lines = [
        f"## Throughput: {len(pages)} rendered A4 pages (300 dpi PNG), --jobs {jobs}, OMP_THREAD_LIMIT=1", "",
        "| reader | engine | runs (s) | median (s) | pages/min | CPU s (median) |", "|---|---|---|---|---|---|",
    ]
    for key, (label, engine, _) in readers.items():
        lines.append(f"| {label} | {engine} | {', '.join(f'{t:.1f}' for t in wall[key])} | {median_wall[key]:.1f} "
                     f"| {len(pages) / median_wall[key] * 60:.1f} | {median_cpu[key]:.1f} |")
    lines += [
        "", "Throughput ratios (peer's median time / ours; >= 1: congvan is as fast or faster):", "",
        f"- **congvan inbox vs the `tesseract` command (target >= 0.9): {ratio('congvan', 'command')}**",
        f"- congvan inbox on tesserocr vs bare tesserocr (same engine; congvan's own overhead): "
        f"{ratio('congvan-tesserocr', 'bare')}",
        f"- congvan inbox on the `tesseract` command vs the command alone (same engine): "
        f"{ratio('congvan-cli', 'command')}",
        "", f"Last pipeline summary: `{summaries.get('congvan', '')}`", "",
    ]
    print("\n".join(lines), flush=True)
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=24)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--rerun-files", type=int, default=200)
    parser.add_argument("--skip-throughput", action="store_true")
    parser.add_argument("--out", type=Path, default=None, help="Also write the results as Markdown here.")
    args = parser.parse_args(argv)

    report: list[str] = [
        "# congvan inbox benchmark", "",
        f"Command: `python -m benchmarks.inbox --pages {args.pages} --runs {args.runs} --jobs {args.jobs} "
        f"--rerun-files {args.rerun_files}`", "",
        f"Machine: {platform.node()}, {os.cpu_count()} CPUs visible ({platform.processor() or platform.machine()}), "
        f"Python {platform.python_version()}, "
        + subprocess.run(["tesseract", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
        + f"; measured {time.strftime('%Y-%m-%d %H:%M')}.", "",
    ]
    with tempfile.TemporaryDirectory(prefix="congvan-bench-") as tmp:
        tmp_path = Path(tmp)
        pages = render_pages(args.pages, tmp_path / "pages")
        if not args.skip_throughput:
            report += throughput(pages, args.jobs, args.runs, tmp_path)

        for label, files in (("text letters", None), ("scanned-page PNGs", "png")):
            work = tmp_path / f"rerun-{files or 'txt'}"
            if files == "png":
                if args.skip_throughput:
                    continue
                # The pages read above are in the pipeline's database only; read them once more here.
                sources = [pages[i % len(pages)] for i in range(args.rerun_files)]
                copies = tmp_path / "png-copies"
                copies.mkdir()
                inputs = []
                for i, page in enumerate(sources):
                    target = copies / f"scan-{i:03d}.png"
                    shutil.copy2(page, target)
                    inputs.append(target)
            else:
                letters_dir = tmp_path / "letters"
                letters_dir.mkdir()
                inputs = []
                for name, text in letter_variants(args.rerun_files):
                    (letters_dir / name).write_text(text, encoding="utf-8")
                    inputs.append(letters_dir / name)
            size = sum(f.stat().st_size for f in inputs)
            seconds, summary, first = time_rerun(inputs, args.jobs, work, args.runs)
            lines = [
                f"## Rerun over {len(inputs)} {label} already in the database ({size / 2**20:.1f} MB)", "",
                f"First run (ingesting them): {first:.1f} s.  Reruns, whole command: "
                f"{', '.join(f'{s:.2f}' for s in seconds)} s; "
                f"median **{statistics.median(seconds):.2f} s** (target < 2 s).",
                "", f"Last rerun summary: `{summary}`", "",
            ]
            print("\n".join(lines), flush=True)
            report += lines
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text("\n".join(report), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
