"""OCR engines benchmark: character error rate and pages per minute on real letters with known text.

    python -m benchmarks.ocr --inbox ../shared/dev/inbox --jobs 2 --out benchmarks/results/ocr.md

Pages: page one of each born-digital letter of the dev inbox (`*digital*.pdf`,
`*esign*.pdf` that are not scans): their text layer is the ground truth.  Each
is rendered by poppler and turned into

* a 200 dpi scan: grey, a slight tilt, paper grain (PNG, 200 dpi recorded);
* a phone photo: perspective, a shadow across the page, blur, about 1600 px on
  the long side, JPEG quality 55 (no resolution recorded).

(The dev inbox's `seed001-garbled-ocr.txt` is OCR output without its page
image, so there is nothing to read again; it is not used here.)

Readers, each over all pages in one run, `--jobs` processes at a time:

* `tesseract -l vie`: the command on the image file, as a user would run it;
* `TrueOCR raw`: `trueocr.load_model(threads=1).predict(file)` (its own deskew
  and orientation);
* congvan's OCR stage (`ocr_document`: load, preprocess, engine, header
  slots) with each engine named in `--engines`, and each of those followed by
  the restorer (the text congvan extracts from).

Figures: character error rate (Levenshtein distance over the reference
length, whitespace runs as one space; reading order counts) per page kind,
median and mean over pages; wall-clock pages per minute with `--jobs`
processes; and CPU seconds per page (the processes' own user + system time:
steady under contention from other work on the machine).  Speed is given
twice, for every reader alike: *cold*, a fresh pool reading the pages once
(worker start-up and model loading included, as for a small batch), and
*steady*, the same pages read again by the same warm workers (as deep in a
long batch; `--cold-only` skips it).  The restorer's cost is reported apart.
With `--rounds N` every reader is timed N times, the readers taking turns
round by round, so that a slow spell of a shared machine falls on all of
them: the speed table gives each reader's median, and a second table each
engine's pages per minute over the command's in the same round, per round
and their median.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
KINDS = ("scan", "photo")


# -- text metrics ------------------------------------------------------------------------


def cer(hypothesis: str, reference: str) -> float:
    """Character error rate, whitespace runs counted as one space (NFC text)."""
    import unicodedata

    from benchmarks.restore import cer as plain_cer

    return plain_cer(unicodedata.normalize("NFC", hypothesis), unicodedata.normalize("NFC", reference))


# Typographic variants no reader can tell apart at 200 dpi, and rules drawn with characters.
_VARIANTS = str.maketrans({"–": "-", "—": "-", "“": '"', "”": '"', "‘": "'", "’": "'"})
_RULES = re.compile(r"_{3,}|\.{4,}|…{2,}")


def folded(text: str) -> str:
    """`text` with rules and leaders typed as characters (`_____`, `.....`) dropped and dashes and quotes folded.

    A text layer holds the underline below a letter's header as a run of
    underscores and its en dashes and curly quotes as such; on the page the
    first is a line and the others are a few pixels apart from `-` and `"`.
    """
    return _RULES.sub(" ", text).translate(_VARIANTS)


def folded_cer(hypothesis: str, reference: str) -> float:
    """`cer` on both texts `folded`."""
    return cer(folded(hypothesis), folded(reference))


# -- pages -------------------------------------------------------------------------------


@dataclass(frozen=True)
class BenchPage:
    name: str  # letter-kind
    kind: str  # scan | photo
    path: Path
    truth: str


def truth_letters(inbox: Path, count: int) -> list[tuple[Path, str]]:
    """(pdf, text of page one) for born-digital letters whose first page has a real text layer."""
    from pipeline.stages.load import identify, load

    found = []
    for path in sorted(inbox.glob("*.pdf")):
        if "scan" in path.name or not ("digital" in path.name or "esign" in path.name):
            continue
        page = load(identify(path)).pages[0]
        if page.text and len(page.text) > 600:
            found.append((path, page.text))
        if len(found) >= count:
            break
    return found


def render(pdf: Path, dpi: int) -> np.ndarray:
    """Page one of `pdf` as grey uint8 pixels (poppler)."""
    import cv2

    with tempfile.TemporaryDirectory() as folder:
        subprocess.run(["pdftoppm", "-r", str(dpi), "-gray", "-png", "-f", "1", "-l", "1", "-singlefile",
                        str(pdf), f"{folder}/page"], check=True)
        return cv2.imread(f"{folder}/page.png", cv2.IMREAD_GRAYSCALE)


def as_scan(page: np.ndarray, seed: int) -> np.ndarray:
    """A flatbed scan: a tilt under a degree, paper grain, toner a little uneven."""
    import cv2

    rng = np.random.default_rng(seed)
    h, w = page.shape
    turn = cv2.getRotationMatrix2D((w / 2, h / 2), float(rng.uniform(-0.8, 0.8)), 1.0)
    out = cv2.warpAffine(page, turn, (w, h), flags=cv2.INTER_LINEAR, borderValue=255).astype(np.float32)
    out = out * 0.92 + 12 + rng.normal(0, 7, out.shape)  # grey paper, grain
    return np.clip(out, 0, 255).astype(np.uint8)


def as_photo(page: np.ndarray, seed: int) -> np.ndarray:
    """A phone photo of the page: perspective, a shadow, blur, 1600 px long side, JPEG later."""
    import cv2

    rng = np.random.default_rng(seed)
    h, w = page.shape
    margin = int(0.06 * w)
    canvas = np.full((h + 2 * margin, w + 2 * margin), 70, np.uint8)  # a dark desk around the sheet
    canvas[margin:margin + h, margin:margin + w] = page
    ch, cw = canvas.shape
    corners = np.float32([[margin, margin], [margin + w, margin], [margin + w, margin + h], [margin, margin + h]])
    jitter = rng.uniform(-0.035, 0.035, (4, 2)) * np.float32([w, h])
    warp = cv2.getPerspectiveTransform(corners, (corners + jitter).astype(np.float32))
    out = cv2.warpPerspective(canvas, warp, (cw, ch), flags=cv2.INTER_LINEAR, borderValue=70).astype(np.float32)
    # Light falling off across the page, and a soft shadow (a hand, a phone) over one corner.
    yy, xx = np.mgrid[0:ch, 0:cw].astype(np.float32)
    angle = rng.uniform(0, 2 * np.pi)
    ramp = (np.cos(angle) * xx / cw + np.sin(angle) * yy / ch)
    light = 0.72 + 0.28 * (ramp - ramp.min()) / max(1e-6, np.ptp(ramp))
    cx, cy = rng.choice([0.1, 0.9]) * cw, rng.choice([0.1, 0.9]) * ch
    shadow = 1 - 0.35 * np.exp(-(((xx - cx) / (0.35 * cw)) ** 2 + ((yy - cy) / (0.35 * ch)) ** 2))
    out = out * light * shadow
    out = cv2.GaussianBlur(out, (0, 0), float(rng.uniform(0.8, 1.3)))
    out += rng.normal(0, 4, out.shape)
    scale = 1600 / max(out.shape)
    out = cv2.resize(np.clip(out, 0, 255).astype(np.uint8), None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    return out


def make_pages(letters: list[tuple[Path, str]], work: Path) -> list[BenchPage]:
    import cv2
    from PIL import Image

    pages = []
    for index, (pdf, truth) in enumerate(letters):
        clean = render(pdf, 200)
        name = pdf.stem
        scan = work / f"{name}-scan.png"
        Image.fromarray(as_scan(clean, index)).save(scan, dpi=(200, 200))
        photo = work / f"{name}-photo.jpg"
        cv2.imwrite(str(photo), as_photo(clean, index), [cv2.IMWRITE_JPEG_QUALITY, 55])
        pages += [BenchPage(name, "scan", scan, truth), BenchPage(name, "photo", photo, truth)]
    return pages


# -- readers -----------------------------------------------------------------------------


def _children_cpu() -> float:
    """CPU seconds of this process's children that have ended (the `tesseract` commands)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _workers_cpu(pool: ProcessPoolExecutor) -> float:
    """CPU seconds of a process pool's live workers so far."""
    import psutil

    total = 0.0
    for process in (getattr(pool, "_processes", None) or {}).values():
        try:
            times = psutil.Process(process.pid).cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system
    return total


@dataclass
class Pass:
    """One pass of a reader over every page: wall seconds and CPU seconds of its processes."""

    seconds: float
    cpu: float


@dataclass
class Result:
    reader: str
    texts: list[str]
    cold: Pass  # a fresh pool: worker start-up and model loading included
    steady: Pass | None = None  # the same pages again on the same, warm, workers
    engine: str | None = None  # the congvan engine that read the texts (None: a peer)
    restore_only: bool = False  # the restorer's own cost, apart (`+ restore` rows)
    rounds: list[tuple[Pass, Pass | None]] = field(default_factory=list)  # (cold, steady) of every round


def _median_pass(passes: list[Pass]) -> Pass:
    return Pass(statistics.median(p.seconds for p in passes), statistics.median(p.cpu for p in passes))


def over_rounds(rounds: list[Result]) -> Result:
    """One reader's rounds as one result: the first round's texts, the median cold and steady passes."""
    first = rounds[0]
    steadies = [r.steady for r in rounds if r.steady is not None]
    return Result(first.reader, first.texts, _median_pass([r.cold for r in rounds]),
                  _median_pass(steadies) if steadies else None, first.engine,
                  rounds=[(r.cold, r.steady) for r in rounds])


def _tesseract_command(path: Path) -> str:
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    done = subprocess.run(["tesseract", str(path), "-", "-l", "vie"], capture_output=True, text=True, env=env)
    return done.stdout


_TRUEOCR = None


def _trueocr_start() -> None:
    global _TRUEOCR
    import trueocr

    _TRUEOCR = trueocr.load_model(threads=1)


def _trueocr_read(path: Path) -> str:
    return _TRUEOCR.predict(str(path)).text  # type: ignore[attr-defined]


def run_tesseract(pages: list[BenchPage], jobs: int, steady: bool) -> tuple[list[str], Pass, Pass | None]:
    """The command on each page file, `jobs` at a time (it loads its model every time: no warm state)."""
    def one_pass(pool: ThreadPoolExecutor) -> tuple[list[str], Pass]:
        cpu, started = _children_cpu(), time.perf_counter()
        texts = list(pool.map(_tesseract_command, [p.path for p in pages]))
        return texts, Pass(time.perf_counter() - started, _children_cpu() - cpu)

    with ThreadPoolExecutor(jobs) as pool:
        texts, cold = one_pass(pool)
        again = one_pass(pool)[1] if steady else None
    return texts, cold, again


def _pool_passes(pool: ProcessPoolExecutor, started: float, read: Callable[[], list[str]], steady: bool,
                 ) -> tuple[list[str], Pass, Pass | None]:
    """The first pass (from `started`, the pool's creation) and, when `steady`, a second one on the warm workers."""
    texts = read()
    cold = Pass(time.perf_counter() - started, _workers_cpu(pool))
    if not steady:
        return texts, cold, None
    cpu, again = _workers_cpu(pool), time.perf_counter()
    read()
    return texts, cold, Pass(time.perf_counter() - again, _workers_cpu(pool) - cpu)


def run_trueocr(pages: list[BenchPage], jobs: int, steady: bool) -> tuple[list[str], Pass, Pass | None]:
    started = time.perf_counter()
    with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn"),
                             initializer=_trueocr_start) as pool:
        return _pool_passes(pool, started, lambda: list(pool.map(_trueocr_read, [p.path for p in pages])), steady)


def run_congvan(pages: list[BenchPage], jobs: int, engine: str, steady: bool,
                ) -> tuple[list[str], Pass, Pass | None]:
    from pipeline.stages.load import identify, load
    from pipeline.stages.ocr import collect_pages, make_pool, submit_pages

    started = time.perf_counter()
    with make_pool(jobs) as pool:
        def read() -> list[str]:
            pending = [submit_pages(load(identify(p.path)), pool, engine=engine) for p in pages]
            return [collect_pages(item).text for item in pending]

        return _pool_passes(pool, started, read, steady)


def measured(reader: str, run: Callable[[], tuple[list[str], Pass, Pass | None]], engine: str | None = None,
             ) -> Result:
    texts, cold, steady = run()
    result = Result(reader, texts, cold, steady, engine)
    warm = f"; steady {steady.seconds:.1f} s, {steady.cpu:.1f} CPU s" if steady else ""
    print(f"  {reader}: cold {cold.seconds:.1f} s, {cold.cpu:.1f} CPU s{warm}", file=sys.stderr)
    return result


def restored(result: Result) -> Result:
    from pipeline.engines import confusions_of
    from pipeline.stages.restore import get_engine, restore_text

    get_engine()  # loaded before the clock starts: the cost per page is what is reported
    # The restorer undoes the misreadings of the engine that read the text, as the restore stage does.
    confusions = confusions_of(result.engine) if result.engine else None
    cpu, started = time.process_time(), time.perf_counter()
    texts = [restore_text(text, confusions)[0] for text in result.texts]
    return Result(f"{result.reader} + restore", texts, Pass(time.perf_counter() - started, time.process_time() - cpu),
                  engine=result.engine, restore_only=True)


# -- report ------------------------------------------------------------------------------


def report(pages: list[BenchPage], results: list[Result], jobs: int) -> str:
    count = len(pages)
    letters = sorted({p.name for p in pages})
    lines = [
        f"{count} pages: page one of {len(letters)} born-digital dev letters ({', '.join(letters)}), "
        f"each as a 200 dpi scan and as a phone photo; text layer = truth; {jobs} processes, "
        f"{os.cpu_count()} cores on the machine.",
        "",
        "Pages/min and CPU s/page: **cold** = a fresh pool of workers reading every page once, worker "
        "start-up and model loading included (a small batch); **steady** = the same pages read again by the "
        "same, already warm, workers (model loading amortised over a long batch). The `tesseract` command "
        "loads its model on every page, so it has no warm state to reuse.",
        "",
        "| reader | CER scans, median (mean) | CER photos, median (mean) | pages/min cold | pages/min steady "
        "| CPU s/page cold | CPU s/page steady |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for result in results:
        cells = []
        for kind in KINDS:
            values = [cer(text, page.truth) for text, page in zip(result.texts, pages) if page.kind == kind]
            cells.append(f"{100 * statistics.median(values):.2f}% ({100 * statistics.mean(values):.2f}%)")
        if result.restore_only:
            speed = f"restorer only | | +{result.cold.cpu / count:.2f} |"
        else:
            steady = result.steady
            speed = (f"{60 * count / result.cold.seconds:.1f} | "
                     + (f"{60 * count / steady.seconds:.1f}" if steady else "") + f" | {result.cold.cpu / count:.2f} | "
                     + (f"{steady.cpu / count:.2f}" if steady else ""))
        lines.append(f"| {result.reader} | {cells[0]} | {cells[1]} | {speed} |")
    lines += relative_speed(results)
    lines += ["", "The same texts with rules typed as characters (`_____` under the header in the text layer) "
              "dropped and dashes and quotes folded (`–` to `-`, `“` to `\"`) on both sides (`folded_cer`):", "",
              "| reader | CER scans, median (mean) | CER photos, median (mean) |", "|---|---:|---:|"]
    for result in results:
        cells = []
        for kind in KINDS:
            values = [folded_cer(text, page.truth) for text, page in zip(result.texts, pages) if page.kind == kind]
            cells.append(f"{100 * statistics.median(values):.2f}% ({100 * statistics.mean(values):.2f}%)")
        lines.append(f"| {result.reader} | {cells[0]} | {cells[1]} |")
    lines += ["", "Per page (CER):", "", "| page | " + " | ".join(r.reader for r in results) + " |",
              "|---|" + "---:|" * len(results)]
    for i, page in enumerate(pages):
        lines.append(f"| {page.name} {page.kind} | "
                     + " | ".join(f"{100 * cer(r.texts[i], page.truth):.1f}%" for r in results) + " |")
    return "\n".join(lines)


def relative_speed(results: list[Result]) -> list[str]:
    """Each reader's pages/min over the command's in the same round (cold; steady), per round and median."""
    command = next((r for r in results if r.reader.startswith("`tesseract")), None)
    if command is None or len(command.rounds) < 2:
        return []

    def ratio(own: Pass | None, base: Pass | None) -> float | None:
        return base.seconds / own.seconds if own and base else None  # same pages: pages/min over pages/min

    rounds = len(command.rounds)
    lines = ["", f"Pages/min over the `tesseract -l vie` command's in the same round ({rounds} rounds, "
             "the readers taking turns), cold; steady:", "",
             "| reader | " + " | ".join(f"round {k + 1}" for k in range(rounds)) + " | median |",
             "|---|" + "---:|" * (rounds + 1)]
    for result in results:
        if result is command or result.restore_only or not result.rounds:
            continue
        pairs = [(ratio(cold, base_cold), ratio(warm, base_warm))
                 for (cold, warm), (base_cold, base_warm) in zip(result.rounds, command.rounds)]
        cells = [f"{c:.2f}" + (f"; {w:.2f}" if w is not None else "") for c, w in pairs if c is not None]
        colds = [c for c, _ in pairs if c is not None]
        warms = [w for _, w in pairs if w is not None]
        median = f"{statistics.median(colds):.2f}" + (f"; {statistics.median(warms):.2f}" if warms else "")
        lines.append(f"| {result.reader} | " + " | ".join(cells) + f" | **{median}** |")
    return lines


# -- extraction with each engine ---------------------------------------------------------


def extraction(dev: Path, engines: list[str], jobs: int, only: str | None) -> str:
    """Field scores (benchmarks/extract.py's `score`) of the dev letters that need OCR, per engine."""
    import json
    from dataclasses import asdict

    from benchmarks.extract import score
    from extractors import extract_fields
    from pipeline.stages.load import identify, load
    from pipeline.stages.ocr import make_pool, ocr_document
    from pipeline.stages.restore import restore_text

    inputs = []
    for gold_path in sorted((dev / "gold").glob("*.json")):
        found = [p for p in (dev / "inbox").glob(gold_path.stem + ".*") if p.suffix.lower() != ".docx"]
        if found and (only is None or only in found[0].name):
            document = load(identify(found[0]))
            if document.needs_ocr:
                inputs.append((found[0], json.loads(gold_path.read_text(encoding="utf-8"))))
    rows: dict[str, dict[str, float]] = {}
    seconds: dict[str, float] = {}
    pages: dict[str, int] = {}
    with make_pool(jobs) as pool:
        for engine in engines:
            started = time.perf_counter()
            pages[engine] = 0
            for path, gold in inputs:
                text = ocr_document(load(identify(path)), pool, engine=engine)
                pages[engine] += sum(1 for page in text.pages if page.source == "ocr")
                restored, _ = restore_text(text.text)
                record = asdict(extract_fields(restored, text.word_confidences(), text.header_readings()))
                scores, _wrong = score(record, gold)
                rows.setdefault(path.stem, {})[engine] = sum(scores.values()) / max(1, len(scores))
                print(f"  {engine} {path.name}: {rows[path.stem][engine]:.3f}", file=sys.stderr)
            seconds[engine] = time.perf_counter() - started
    lines = [f"Extraction (mean field score, benchmarks/extract.py's scoring) on the {len(inputs)} dev letters "
             f"that need OCR, {jobs} processes:", "",
             "| letter | " + " | ".join(f"`{e}`" for e in engines) + " |", "|---|" + "---:|" * len(engines)]
    for name, by_engine in rows.items():
        lines.append(f"| {name} | " + " | ".join(f"{by_engine[e]:.3f}" for e in engines) + " |")
    lines.append("| **mean** | " + " | ".join(
        f"**{statistics.mean(r[e] for r in rows.values()):.3f}**" for e in engines) + " |")
    lines.append("| pages/min (whole pipeline to record) | " + " | ".join(
        f"{60 * pages[e] / seconds[e]:.1f}" for e in engines) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--inbox", type=Path, default=ROOT.parent / "shared" / "dev" / "inbox")
    parser.add_argument("--letters", type=int, default=6, help="born-digital letters used (two pages each)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--engines", default="tesseract,neural,cascade,combined",
                        help="congvan engines, comma-separated")
    parser.add_argument("--restore", default="tesseract,neural,cascade,combined",
                        help="engines whose text is also measured after the restorer")
    parser.add_argument("--no-peers", action="store_true", help="skip plain tesseract and raw TrueOCR")
    parser.add_argument("--cold-only", action="store_true",
                        help="read the pages once per reader (no steady-state second pass)")
    parser.add_argument("--rounds", type=int, default=1,
                        help="time every reader this many times, taking turns; report medians")
    parser.add_argument("--keep", type=Path, default=None, help="keep the rendered pages and readings here")
    parser.add_argument("--out", type=Path, default=None, help="Also write the tables as Markdown here.")
    parser.add_argument("--extract", type=Path, default=None, metavar="DEV",
                        help="instead: extraction scores of DEV's letters that need OCR, per engine in --engines")
    parser.add_argument("--only", default=None, help="with --extract: letters whose name holds this")
    args = parser.parse_args(argv)
    if args.extract:
        table = extraction(args.extract, args.engines.split(","), args.jobs, args.only)
        print("\n" + table)
        if args.out:
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(f"# OCR engines: extraction\n\n{table}\n", encoding="utf-8")
        return

    from pipeline.engines import get_engine

    with tempfile.TemporaryDirectory() as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        pages = make_pages(truth_letters(args.inbox, args.letters), work)
        steady = not args.cold_only
        readers: list[tuple[str, Callable[[], tuple[list[str], Pass, Pass | None]], str | None]] = []
        if not args.no_peers:
            readers.append(("`tesseract -l vie` (command)", lambda: run_tesseract(pages, args.jobs, steady), None))
            readers.append(("TrueOCR 0.1.1 raw", lambda: run_trueocr(pages, args.jobs, steady), None))
        for engine in args.engines.split(","):
            readers.append((f"congvan `{engine}`",
                            lambda engine=engine: run_congvan(pages, args.jobs, engine, steady), engine))
        timed: dict[str, list[Result]] = {name: [] for name, _, _ in readers}
        for round_number in range(max(1, args.rounds)):
            if args.rounds > 1:
                print(f"round {round_number + 1} of {args.rounds}", file=sys.stderr)
            for name, run, engine in readers:
                timed[name].append(measured(name, run, engine))
        restore_for = set(args.restore.split(",")) if args.restore else set()
        results: list[Result] = []
        for name, _, engine in readers:
            results.append(over_rounds(timed[name]))
            if engine in restore_for:
                results.append(restored(results[-1]))
        if args.keep:
            for result in results:
                safe = "".join(c if c.isalnum() else "_" for c in result.reader)
                for page, text in zip(pages, result.texts):
                    (work / f"{page.path.stem}.{safe}.txt").write_text(text, encoding="utf-8")
    versions = ", ".join(f"{name}: {get_engine(name).version()}" for name in args.engines.split(","))
    table = report(pages, results, args.jobs) + f"\n\nEngines: {versions}."
    print("\n" + table)
    if args.out:
        command = "python -m benchmarks.ocr " + " ".join(argv if argv is not None else sys.argv[1:])
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(f"# OCR engines benchmark\n\nCommand: `{command}`\n\n{table}\n", encoding="utf-8")


if __name__ == "__main__":
    main()
