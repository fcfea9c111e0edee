"""Task-table benchmark (issue 14): rows found, responsible unit right, deadline right.

    python -m benchmarks.tasks --dev ../shared/dev               # Word plans, their PDF renderings, whole dev set
    python -m benchmarks.tasks --dev ../shared/dev --no-dev-set  # only the table rows (fast, no OCR)

For each dev Word plan with golded task rows (`table_tasks` in its gold file):

* `docx`: the Word file itself, through the real pipeline (load -> ocr -> restore -> extract);
* `pdf`: the same document rendered by this benchmark to a born-digital PDF
  (fpdf2, every paragraph and table in order, landscape, the header row
  repeated on each page, merged cells kept as spans), through the pipeline;
* `scan 200 dpi`: that PDF printed to 200 dpi greyscale pages with skew,
  noise and specks (a multi-page TIFF), through the pipeline: OCR of each
  page, the ruled tables found and read cell by cell (`--no-scans` skips it).

A golded row is found when a table task's text starts with the row's text
(both whitespace- and case-folded; for OCR'd text, its opening within a few
letters, ratio >= 0.9), first unused match in order.  Its
responsible unit is right when it equals the gold's (case-folded, spaces and
end punctuation ignored); its deadline when the ISO dates are equal (a null
gold deadline needs a null).

Over the whole dev set (`--dev-set`, on by default) it also counts tasks with
a responsible unit, before (the extractors of `--baseline`, a git revision,
on the same texts; a Word file was refused then) and after, and writes a
sample of 50 responsible units to the results file for checking by hand.
OCR text is cached under build/tasks-cache/ by input hash.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import subprocess
import sys
import tempfile
import time
import unicodedata
from dataclasses import asdict
from difflib import SequenceMatcher
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "build" / "tasks-cache"
RESULTS = ROOT / "benchmarks" / "results" / "tasks.md"
FONTS = ["/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "/usr/share/fonts/truetype/freefont/FreeSans.ttf"]
TARGET = 0.90


def _norm(text: str | None) -> str:
    text = unicodedata.normalize("NFC", text or "").casefold()
    return re.sub(r"\s+", " ", text).strip(" .;,:")


# ----------------------------------------------------------------------------- scoring

def _same_start(text: str, want: str) -> bool:
    """A task's text opens with the golded words (an OCR'd one within a few letters: ratio >= 0.9)."""
    text = _norm(text)
    if text.startswith(want):
        return True
    return len(text) >= len(want) * 0.9 and SequenceMatcher(None, text[:len(want)], want).ratio() >= 0.9


def score_rows(tasks: list[dict[str, Any]], gold: list[dict[str, Any]], source: str = "table") -> dict[str, Any]:
    """Rows found, responsible right and deadline right (of the rows found), with the misses."""
    table_tasks = [t for t in tasks if t.get("source") == source]
    used: set[int] = set()
    found = responsible = deadline = 0
    misses: list[str] = []
    for row in gold:
        want = _norm(row["text"])
        index = next((i for i, t in enumerate(table_tasks) if i not in used and _same_start(t["text"], want)), None)
        if index is None:
            misses.append(f"{row.get('row', row['text'][:40])}: not found")
            continue
        used.add(index)
        task = table_tasks[index]
        found += 1
        if _norm(task["responsible"]) == _norm(row["responsible"]):
            responsible += 1
        else:
            label = row.get("row", row["text"][:40])
            misses.append(f"{label}: responsible {task['responsible']!r} != {row['responsible']!r}")
        if task["deadline"] == row["deadline"]:
            deadline += 1
        else:
            misses.append(f"{row.get('row', row['text'][:40])}: deadline {task['deadline']!r} != {row['deadline']!r}")
    return {"gold": len(gold), "found": found, "responsible": responsible, "deadline": deadline,
            "table_tasks": len(table_tasks), "misses": misses}


# ----------------------------------------------------------------------------- the pipeline

def record_tasks(path: Path) -> list[dict[str, Any]]:
    """The tasks the real pipeline records for one input."""
    from pipeline.stages.extract import extract
    from pipeline.stages.load import load
    from pipeline.stages.ocr import ocr_document
    from pipeline.stages.restore import restore

    record = extract(restore(ocr_document(load(path))))
    return [asdict(task) for task in record.tasks]


def render_pdf(docx_path: Path, out: Path) -> Path:
    """The Word file drawn as a born-digital PDF: paragraphs and tables in order, landscape A4."""
    import docx
    from docx.table import Table as DocxTable
    from docx.text.paragraph import Paragraph
    from fpdf import FPDF
    from fpdf.fonts import FontFace

    from pipeline.stages.load_office import _docx_grid

    font = next((f for f in FONTS if Path(f).exists()), None)
    if font is None:
        raise SystemExit("no font with Vietnamese glyphs (fonts-dejavu-core); run `make install`")
    pdf = FPDF(orientation="L", format="A4")
    pdf.set_auto_page_break(True, margin=12)
    pdf.add_font("body", "", font)
    pdf.add_font("body", "B", font)
    pdf.set_font("body", size=10)
    pdf.add_page()
    document = docx.Document(str(docx_path))
    for item in document.iter_inner_content():
        if isinstance(item, Paragraph):
            text = re.sub(r"[ \t]+", " ", item.text).strip()
            if text:
                pdf.set_font("body", size=10)
                pdf.multi_cell(0, 5, text, new_x="LMARGIN", new_y="NEXT")
        elif isinstance(item, DocxTable):
            grid, continued = _docx_grid(item)
            if not grid:
                continue
            width = len(grid[0])
            lengths = [max((len((row[c] or "")) for row in grid), default=1) for c in range(width)]
            total = sum(min(max(n, 15), 120) for n in lengths)
            widths = [min(max(n, 15), 120) / total * 273 for n in lengths]
            pdf.set_font("body", size=8 if width >= 3 else 10)
            with pdf.table(col_widths=widths, text_align="LEFT", line_height=4, repeat_headings=1,
                           first_row_as_headings=width >= 3, headings_style=FontFace(emphasis="BOLD"),
                           borders_layout="ALL" if width >= 3 else "NONE") as table:
                for r, row in enumerate(grid):
                    cells = table.row()
                    c = 0
                    while c < width:
                        if continued[r][c]:
                            c += 1
                            continue  # covered by a cell merged from above
                        span = 1
                        while c + span < width and row[c + span] is None and not continued[r][c + span]:
                            span += 1
                        down = 1
                        while r + down < len(grid) and continued[r + down][c]:
                            down += 1
                        cells.cell(row[c] or "", colspan=span, rowspan=down)
                        c += span
            pdf.ln(3)
    pdf.output(str(out))
    return out


def render_scan(pdf_path: Path, out: Path, dpi: int = 200, seed: int = 14) -> Path:
    """The PDF printed and scanned: every page at `dpi`, a little skew, grey noise and specks (multi-page TIFF)."""
    import numpy as np
    from pdf2image import convert_from_path
    from PIL import Image

    rng = np.random.default_rng(seed)
    frames = []
    for page in convert_from_path(str(pdf_path), dpi=dpi, grayscale=True):
        page = page.rotate(float(rng.uniform(-0.6, 0.6)), resample=Image.BILINEAR, fillcolor=255, expand=False)
        pixels = np.asarray(page, dtype=np.float32)
        pixels = pixels * 0.9 + 12 + rng.normal(0, 18, pixels.shape)
        specks = rng.random(pixels.shape) < 0.0015
        pixels[specks] = 40
        frames.append(Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)))
    frames[0].save(out, save_all=True, append_images=frames[1:], dpi=(dpi, dpi), compression="tiff_deflate")
    return out


def _ocr_code() -> bytes:
    """The code that decides what OCR reads (and which tables it reads cell by cell): part of the cache key."""
    return b"".join((ROOT / part).read_bytes() for part in
                    ("pipeline/stages/table_scan.py", "pipeline/stages/ocr.py", "pipeline/stages/preprocess.py",
                     "extractors/tables.py"))


def scan_tasks(path: Path) -> list[dict[str, Any]]:
    """The tasks of a scan through load -> ocr -> restore -> extract, the OCR cached by content and code."""
    from extractors import extract_fields
    from pipeline.core.types import Table

    doc = _document_text(path, salt=_ocr_code())
    tables = [Table(rows=t["rows"], source=t["source"], page=t["page"]) for t in doc["tables"]]
    fields = extract_fields(doc["text"], doc["word_confidence"], doc["header_readings"], tables=tables)
    return [asdict(task) for task in fields.tasks]


# ----------------------------------------------------------------------------- the whole dev set

def _document_text(path: Path, salt: bytes = b"") -> dict[str, Any]:
    """Restored text and tables of an input, cached by its hash (OCR is the slow part)."""
    from pipeline.stages.load import load
    from pipeline.stages.ocr import make_pool, ocr_document
    from pipeline.stages.restore import restore

    digest = hashlib.sha256(path.read_bytes() + salt).hexdigest()[:16]
    cache = CACHE / f"{path.name}.{digest}.json"
    if cache.exists():
        return json.loads(cache.read_text())
    document = load(path)
    if document.needs_ocr:
        with make_pool(2) as pool:
            text = ocr_document(document, pool)
    else:
        text = ocr_document(document)
    restored = restore(text)
    data = {"text": restored.text, "word_confidence": text.word_confidences(), "kind": document.source.kind,
            "tables": [asdict(t) for t in text.tables], "header_readings": text.header_readings()}
    CACHE.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps(data, ensure_ascii=False))
    return data


BASELINE_SCRIPT = """
import json, sys
from extractors import extract_fields
from dataclasses import asdict
from difflib import SequenceMatcher
data = json.load(sys.stdin)
out = {}
for name, doc in data.items():
    fields = extract_fields(doc["text"], doc["word_confidence"], doc["header_readings"])
    out[name] = [asdict(t) for t in fields.tasks]
json.dump(out, sys.stdout, ensure_ascii=False)
"""


def baseline_tasks(revision: str, docs: dict[str, dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Tasks by the extractors of a git revision on the same texts (a Word file: refused then, no tasks)."""
    with tempfile.TemporaryDirectory(prefix="congvan-baseline-") as folder:
        archive = subprocess.run(["git", "archive", revision, "extractors"], cwd=ROOT, capture_output=True, check=True)
        subprocess.run(["tar", "-x", "-C", folder], input=archive.stdout, check=True)
        readable = {name: doc for name, doc in docs.items() if doc["kind"] not in ("docx", "odt", "doc")}
        result = subprocess.run([sys.executable, "-c", BASELINE_SCRIPT], input=json.dumps(readable).encode(),
                                capture_output=True, check=True, cwd=folder,  # `python -c` puts the cwd first
                                env={"PYTHONPATH": f"{folder}:{ROOT}", "PATH": "/usr/bin:/bin"})
    out: dict[str, list[dict[str, Any]]] = json.loads(result.stdout)
    return {name: out.get(name, []) for name in docs}


def after_tasks(docs: dict[str, dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    from extractors import extract_fields
    from pipeline.core.types import Table

    out = {}
    for name, doc in docs.items():
        tables = [Table(rows=t["rows"], source=t["source"], page=t["page"]) for t in doc["tables"]]
        fields = extract_fields(doc["text"], doc["word_confidence"], doc["header_readings"], tables=tables)
        out[name] = [asdict(t) for t in fields.tasks]
    return out


# ----------------------------------------------------------------------------- report

def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "-"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dev", type=Path, default=ROOT.parent / "shared" / "dev")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--no-dev-set", dest="dev_set", action="store_false", help="skip the whole-dev-set count")
    parser.add_argument("--no-scans", dest="scans", action="store_false",
                        help="skip the 200 dpi scanned renderings (OCR, minutes)")
    parser.add_argument("--baseline", default="1dca4ea", help="git revision whose extractors are `before`")
    args = parser.parse_args(argv)
    started = time.time()
    lines = ["# Task tables (issue 14)", "", f"`python -m benchmarks.tasks --dev {args.dev}`", ""]
    lines += ["| document | set | golded rows | found | responsible right | deadline right |",
              "|---|---|---:|---:|---:|---:|"]
    totals: dict[str, dict[str, int]] = {}
    details: list[str] = []
    golds = sorted(p for p in (args.dev / "gold").glob("*.json") if json.loads(p.read_text()).get("table_tasks"))
    with tempfile.TemporaryDirectory(prefix="congvan-bench-tasks-") as folder:
        for gold_path in golds:
            gold = json.loads(gold_path.read_text())
            source = next((p for p in (args.dev / "inbox").glob(gold_path.stem + ".*")), None)
            if source is None or source.suffix.lower() not in (".docx", ".odt", ".doc"):
                continue
            pdf = render_pdf(source, Path(folder) / f"{source.stem}.pdf")
            renderings = {"docx": source, "pdf": pdf}
            if args.scans:
                renderings["scan 200 dpi"] = render_scan(pdf, Path(folder) / f"{source.stem}.tif")
            for kind, path in renderings.items():
                print(f"reading {path.name} ({kind})", file=sys.stderr, flush=True)
                tasks = scan_tasks(path) if kind.startswith("scan") else record_tasks(path)
                score = score_rows(tasks, gold["table_tasks"])
                total = totals.setdefault(kind, {"gold": 0, "found": 0, "responsible": 0, "deadline": 0})
                for key in total:
                    total[key] += score[key]
                found = score["found"]
                lines.append(f"| {source.name} | {kind} | {score['gold']} | {_pct(found, score['gold'])} | "
                             f"{_pct(score['responsible'], found)} | {_pct(score['deadline'], found)} |")
                details += [f"- {source.name} ({kind}), {score['table_tasks']} table tasks: "
                            + ("; ".join(score["misses"][:12]) or "no misses")]
    # Duty blocks in prose (a numbered duty, then `- Thời gian hoàn thành`, `- Đơn vị chủ trì`), golded as `tasks`.
    for gold_path in sorted((args.dev / "gold").glob("*.json")):
        gold = json.loads(gold_path.read_text())
        source = next((p for p in (args.dev / "inbox").glob(gold_path.stem + ".*")), None)
        if not gold.get("tasks") or source is None or source.suffix.lower() not in (".docx", ".odt", ".doc"):
            continue
        score = score_rows(record_tasks(source), gold["tasks"], source="text")
        found = score["found"]
        lines.append(f"| {source.name} | prose duty blocks | {score['gold']} | {_pct(found, score['gold'])} | "
                     f"{_pct(score['responsible'], found)} | {_pct(score['deadline'], found)} |")
        details += [f"- {source.name} (prose duty blocks): " + ("; ".join(score["misses"]) or "no misses")]
    for kind, total in totals.items():
        found = total["found"]
        lines.append(f"| **all** | {kind} | {total['gold']} | **{_pct(found, total['gold'])}** | "
                     f"**{_pct(total['responsible'], found)}** | **{_pct(total['deadline'], found)}** |")
    lines += ["", "Misses:", ""] + details
    ok = all(t["found"] >= TARGET * t["gold"] and t["responsible"] >= TARGET * t["found"]
             and t["deadline"] >= TARGET * t["found"] for t in totals.values())

    if args.dev_set:
        inputs = sorted(p for p in (args.dev / "inbox").iterdir() if p.is_file())
        docs = {}
        for path in inputs:
            print(f"reading {path.name}", file=sys.stderr, flush=True)
            docs[path.name] = _document_text(path, salt=_ocr_code())
        before, after = baseline_tasks(args.baseline, docs), after_tasks(docs)
        lines += ["", "## Whole dev set: tasks with a responsible unit", "",
                  f"Before = the extractors at `{args.baseline}` on the same texts (Word files were refused then).", "",
                  "| | documents with tasks | tasks | with a responsible unit | share |", "|---|---:|---:|---:|---:|"]
        for label, found in (("before", before), ("after", after)):
            tasks = [t for ts in found.values() for t in ts]
            with_unit = sum(1 for t in tasks if t["responsible"])
            lines.append(f"| {label} | {sum(1 for ts in found.values() if ts)} | {len(tasks)} | {with_unit} | "
                         f"{_pct(with_unit, len(tasks))} |")
        lines += ["", "| document | tasks before | with unit before | tasks after | with unit after |",
                  "|---|---:|---:|---:|---:|"]
        for name in docs:
            b, a = before[name], after[name]
            lines.append(f"| {name} | {len(b)} | {sum(1 for t in b if t['responsible'])} | {len(a)} | "
                         f"{sum(1 for t in a if t['responsible'])} |")
        for label, found in (("before", before), ("after", after)):
            units = sorted({(name, t["responsible"]) for name, ts in found.items() for t in ts if t["responsible"]})
            sample = random.Random(14).sample(units, min(50, len(units)))
            lines += ["", f"Sample of 50 distinct responsible units ({label}), to check by hand:", ""]
            lines += [f"- `{name}`: {unit}" for name, unit in sorted(sample)]
    lines += ["", f"({time.time() - started:.0f} s)"]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
