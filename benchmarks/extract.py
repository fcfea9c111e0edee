"""Field-extraction benchmark: per-field scores against gold records.

    python -m benchmarks.extract --dev ../shared/dev            # dev gold + own letters (text)
    python -m benchmarks.extract --dev ../shared/dev --scans    # own letters also rendered as scans and OCR'd

Dev documents go through the real pipeline (load -> ocr -> restore ->
extract); OCR text is cached under build/extract-cache/ by input hash, so
reruns are fast.  A document with a hand-restored text in dev/gold_text/ also
gets a second row on that text, marked `(gold_text)`: it is not the headline.

Metric (issue 4): exact match for number, type and dates; fuzzy >= 0.85 for
names and subject; F1 for lists (recipients, references, periods); deadlines
as a set (F1); tasks as found/`tasks_min` (capped at 1); recurring duties as
recall.  A wrong non-null number or date is flagged: it is the worst outcome.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import sys
import time
import unicodedata
from dataclasses import asdict
from difflib import SequenceMatcher
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "build" / "extract-cache"
LETTERS = ROOT / "tests" / "letters"
RESULTS = ROOT / "benchmarks" / "results" / "extract.md"
FUZZY = 0.85
EXACT_FIELDS = ["doc_number", "doc_type", "issue_date"]
FUZZY_FIELDS = ["issuer", "issuer_parent", "place", "subject"]
COLUMNS = ["doc_number", "doc_type", "issuer", "issuer_parent", "place", "issue_date", "subject", "signer",
           "recipients", "references", "reporting_periods", "deadlines", "tasks", "recurring", "urgency"]
SHORT = {"doc_number": "number", "doc_type": "type", "issue_date": "date", "reporting_periods": "periods",
         "recipients": "recip", "references": "refs", "deadlines": "deadl", "recurring": "recur",
         "issuer_parent": "parent", "urgency": "urg"}
# Sources whose letters were not looked at while the layout rules were written (issue 12): their
# score says how the rules carry to letters from elsewhere.
HELD_OUT_SOURCES = {"hpbaotho/04-quanly-vanban-quanhuyen", "aerovfx/thptphuocbuu", "Shingokun/AI_HCMUT_PROJECT",
                    "LaHieu11/baucu-luongminh"}
KINDS = ["born-digital", "e-signed", "scan", "phone capture", "Word", "text"]


# ----------------------------------------------------------------------------- scoring

def _norm(text: str | None) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", text or "")).strip().lower()


def similar(a: str | None, b: str | None) -> float:
    return SequenceMatcher(None, _norm(a), _norm(b)).ratio()


def matched(predicted: list[Any], gold: list[Any], match) -> int:
    """How many predictions match a gold item, each gold item matched at most once."""
    used: set[int] = set()
    hits = 0
    for p in predicted:
        for i, g in enumerate(gold):
            if i not in used and match(p, g):
                used.add(i)
                hits += 1
                break
    return hits


def f1(predicted: list[Any], gold: list[Any], match) -> float:
    if not predicted and not gold:
        return 1.0
    if not predicted or not gold:
        return 0.0
    hits = matched(predicted, gold, match)
    precision, recall = hits / len(predicted), hits / len(gold)
    return 0.0 if hits == 0 else 2 * precision * recall / (precision + recall)


def deadlines_of(record: dict[str, Any]) -> list[str]:
    found = {t["deadline"] for t in record.get("tasks", []) if t.get("deadline")}
    found |= {p["due"] for p in record.get("reporting_periods", []) if p.get("due")}
    return sorted(found)


def score(record: dict[str, Any], gold: dict[str, Any]) -> tuple[dict[str, float], list[str]]:
    """Per-field scores (only fields the gold states) and the wrong non-null numbers/dates."""
    scores: dict[str, float] = {}
    wrong: list[str] = []
    for key in EXACT_FIELDS:
        if key in gold:
            # Where the hand is ambiguous the gold lists the other readings it accepts (`doc_number_alternatives`).
            accepted = [gold[key], *gold.get(f"{key}_alternatives", [])]
            ok = (any(_norm(record.get(key)) == _norm(value) for value in accepted) if gold[key] is not None
                  else record.get(key) is None)
            scores[key] = float(ok)
            if key != "doc_type" and record.get(key) is not None and not ok:
                wrong.append(f"{key}={record.get(key)} (gold {gold[key]})")
    for key in FUZZY_FIELDS:
        if key in gold:
            if gold[key] is None:
                scores[key] = float(record.get(key) is None)
            else:
                scores[key] = float(similar(record.get(key), gold[key]) >= FUZZY)
    if "urgency" in gold:
        scores["urgency"] = float(_norm(record.get("urgency")) == _norm(gold["urgency"]))
    if "signer" in gold:
        name = (record.get("signer") or {}).get("name")
        scores["signer"] = float(similar(name, gold["signer"]) >= FUZZY) if gold["signer"] else float(name is None)
    if "recipients" in gold:
        scores["recipients"] = f1(record.get("recipients", []), gold["recipients"], lambda p, g: similar(p, g) >= FUZZY)
    refs = record.get("references", [])
    if "references" in gold:
        def ref_match(p, g):
            return p["doc_number"] == g["doc_number"] and (g.get("date") is None or p.get("date") == g["date"])
        scores["references"] = f1(refs, gold["references"], ref_match)
        for g in gold["references"]:
            for p in refs:
                if p["doc_number"] == g["doc_number"] and p.get("date") and g.get("date") and p["date"] != g["date"]:
                    wrong.append(f"reference {g['doc_number']} date={p['date']} (gold {g['date']})")
    elif "references_include" in gold:
        numbers = {r["doc_number"] for r in refs}
        scores["references"] = sum(n in numbers for n in gold["references_include"]) / len(gold["references_include"])
    if "reporting_periods" in gold:
        def period_match(p, g):
            return similar(p["label"], g["label"]) >= FUZZY and p.get("start") == g.get("start") \
                and p.get("end") == g.get("end")
        scores["reporting_periods"] = f1(record.get("reporting_periods", []), gold["reporting_periods"], period_match)
    if "deadlines" in gold:
        predicted = deadlines_of(record)
        scores["deadlines"] = f1(predicted, gold["deadlines"], lambda p, g: p == g)
        wrong += [f"deadline {d} (not in gold)" for d in predicted if d not in gold["deadlines"]]
    if gold.get("tasks_min"):
        scores["tasks"] = min(1.0, len(record.get("tasks", [])) / gold["tasks_min"])
    if gold.get("recurring"):
        recurrences = [t.get("recurrence") for t in record.get("tasks", []) if t.get("recurrence")]
        found = sum(any(similar(r, g) >= FUZZY for r in recurrences) for g in gold["recurring"])
        scores["recurring"] = found / len(gold["recurring"])
    return scores, wrong


# ----------------------------------------------------------------------------- getting records

# The OCR stage's code: a change to any of these (or of the engine chosen) re-reads the cached pages.
OCR_STAGE_FILES = ["pipeline/stages/load.py", "pipeline/stages/ocr.py", "pipeline/stages/preprocess.py",
                   "pipeline/stages/header_read.py", "pipeline/stages/table_scan.py",
                   "pipeline/stages/handwriting.py", "models/digits/digits.npz", "models/digits/digits.onnx",
                   *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "pipeline" / "engines").glob("*.py"))]


def _page_to_json(page) -> dict[str, Any]:
    data = asdict(page)
    data["words"] = [[w.text, w.confidence, w.line, list(w.box) if w.box else None] for w in page.words]
    return data


def _page_from_json(data: dict[str, Any]):
    from pipeline.core.types import PageText, Word

    words = [Word(text=t, confidence=c, line=line, box=tuple(box) if box else None)
             for t, c, line, box in data["words"]]
    return PageText(**{**data, "words": words})


def cached_document(path: Path):
    """The DocumentText (page models included) of an input through load + ocr.

    Text layers are loaded afresh each time (cheap); OCR'd pages are cached
    under build/extract-cache/ by the input's hash and the OCR stage's code,
    page by page, so a changed load stage only reads the pages it now sends to OCR.
    """
    from pipeline.core.settings import load_settings
    from pipeline.core.types import DocumentText, LoadedDocument
    from pipeline.stages.load import load
    from pipeline.stages.ocr import _jobs_for, make_pool, ocr_document, read_page

    engine = load_settings().ocr_engine
    stage = b"".join((ROOT / name).read_bytes() for name in OCR_STAGE_FILES if (ROOT / name).exists())
    stage += engine.encode()
    digest = hashlib.sha256(path.read_bytes() + stage).hexdigest()[:16]
    cache = CACHE / f"{path.name}.{digest}.pages.json"
    cached: dict[str, Any] = json.loads(cache.read_text()) if cache.exists() else {}
    document = load(path)
    missing = [p for p in document.pages if p.text is None and str(p.number) not in cached]
    if missing:
        jobs = _jobs_for(LoadedDocument(source=document.source, pages=missing), load_settings(), engine)
        with make_pool(min(2, len(jobs))) as pool:
            for page in pool.map(read_page, jobs):
                cached[str(page.number)] = _page_to_json(page)
        CACHE.mkdir(parents=True, exist_ok=True)
        cache.write_text(json.dumps(cached, ensure_ascii=False))
    text_pages = {p.number: p for p in ocr_document(LoadedDocument(
        source=document.source, pages=[p for p in document.pages if p.text is not None])).pages} \
        if any(p.text is not None for p in document.pages) else {}
    pages = [text_pages.get(p.number) or _page_from_json(cached[str(p.number)]) for p in document.pages]
    return DocumentText(source=document.source, pages=pages)


def record_for_input(path: Path) -> dict[str, Any]:
    """The record the real pipeline makes of one input (restore + extract stages)."""
    from pipeline.core.errors import BadInput
    from pipeline.stages.extract import extract
    from pipeline.stages.restore import restore

    try:
        document = cached_document(path)
    except BadInput as error:  # a kind of file the pipeline cannot read yet: an empty record
        print(f"  {path.name}: {error}", file=sys.stderr)
        return {}
    record = asdict(extract(restore(document)))
    record.pop("text", None)
    return record


def record_for_text(text: str, confidences: dict[str, float] | None = None) -> dict[str, Any]:
    from extractors import extract_fields

    return asdict(extract_fields(text, confidences))


# ----------------------------------------------------------------------------- own letters

def letter_text(path: Path) -> str:
    """Plain text of a letter file: `left || right` header rows merge as OCR reads them, `>>` centres."""
    lines = []
    for line in path.read_text(encoding="utf-8").split("\n"):
        line = line.replace(">>", "", 1) if line.startswith(">>") else line
        lines.append(re.sub(r"\s*\|\|\s*", " ", line).rstrip())
    return "\n".join(lines)


def _font(size: int, bold: bool = False):
    from PIL import ImageFont

    for name in (["DejaVuSerif-Bold.ttf", "FreeSerifBold.ttf"] if bold else ["DejaVuSerif.ttf", "FreeSerif.ttf"]):
        for folder in ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/truetype/freefont"):
            candidate = Path(folder) / name
            if candidate.exists():
                return ImageFont.truetype(str(candidate), size)
    return ImageFont.load_default()


def render_letter(path: Path, out: Path, seed: int = 0) -> Path:
    """Render a letter as an A4 300 dpi scan (slight rotation and noise) to a multi-page TIFF."""
    import numpy as np
    from PIL import Image, ImageDraw, ImageFilter

    rng = random.Random(seed)
    width, height, margin_x, margin_y = 2480, 3508, 236, 236
    font, bold = _font(46), _font(46, bold=True)
    line_height = 70
    pages: list[Image.Image] = []
    page = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(page)
    y = margin_y
    for raw in path.read_text(encoding="utf-8").split("\n"):
        if y > height - margin_y - line_height or raw.strip() == "<<page>>":
            pages.append(page)
            page = Image.new("L", (width, height), 255)
            draw = ImageDraw.Draw(page)
            y = margin_y
            if raw.strip() == "<<page>>":
                continue
        if "||" in raw:  # two columns: issuer/number or Nơi nhận on the left, motto/date/signer on the right
            left, right = (part.strip() for part in raw.split("||", 1))
            small, small_bold = _font(40), _font(40, bold=True)
            for text, centre in ((left, margin_x + 440), (right, margin_x + 1420)):
                use = small_bold if text.isupper() else small
                w = draw.textlength(text, font=use)
                x = margin_x if (text.startswith("-") or text.startswith("Nơi nhận")) else centre - w / 2
                draw.text((max(margin_x, x), y), text, font=use, fill=0)
        elif raw.startswith(">>"):
            text = raw[2:].strip()
            use = bold if text.isupper() else font
            draw.text(((width - draw.textlength(text, font=use)) / 2, y), text, font=use, fill=0)
        else:
            draw.text((margin_x, y), raw, font=font, fill=0)
        y += line_height
    pages.append(page)
    scans = []
    for page in pages:
        page = page.rotate(rng.uniform(-0.6, 0.6), resample=Image.BICUBIC, fillcolor=255)
        page = page.filter(ImageFilter.GaussianBlur(0.6))
        array = np.asarray(page, dtype=np.float32)
        array += np.random.default_rng(seed).normal(0, 12, array.shape)
        scans.append(Image.fromarray(np.clip(array, 0, 255).astype(np.uint8)))
    out.parent.mkdir(parents=True, exist_ok=True)
    scans[0].save(out, save_all=True, append_images=scans[1:], dpi=(300, 300), compression="tiff_deflate")
    return out


# ----------------------------------------------------------------------------- tables

def table(rows: list[tuple[str, dict[str, float], list[str]]]) -> tuple[str, float, int]:
    header = "| document | " + " | ".join(SHORT.get(c, c) for c in COLUMNS) + " | mean | wrong |"
    lines = [header, "|" + "---|" * (len(COLUMNS) + 3)]
    all_scores: list[float] = []
    wrong_total = 0
    for name, scores, wrong in rows:
        cells = [f"{scores[c]:.2f}" if c in scores else "-" for c in COLUMNS]
        mean = sum(scores.values()) / len(scores) if scores else 0.0
        all_scores += list(scores.values())
        wrong_total += len(wrong)
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {mean:.3f} | {len(wrong)} |")
    overall = sum(all_scores) / len(all_scores) if all_scores else 0.0
    lines.append("| **mean** | " + " | ".join(
        (lambda vals: f"{sum(vals) / len(vals):.2f}" if vals else "-")([s[c] for _, s, _ in rows if c in s])
        for c in COLUMNS) + f" | **{overall:.3f}** | {wrong_total} |")
    return "\n".join(lines), overall, wrong_total


def source_kinds(dev: Path) -> dict[str, tuple[str, str]]:
    """name -> (kind, source repository) from dev/SOURCES.md's tables."""
    found: dict[str, tuple[str, str]] = {}
    sources = dev / "SOURCES.md"
    if not sources.exists():
        return found
    for line in sources.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 4 or "." not in cells[0] or cells[0] in ("name", "---"):
            continue
        name, described, repo = cells[0], cells[1].lower(), cells[3]
        if name.endswith(".docx") or "word" in described:
            kind = "Word"
        elif name.endswith(".txt"):
            kind = "text"
        elif "phone" in described:
            kind = "phone capture"
        elif "scan" in described or "image pdf" in described or name.endswith("-scan.pdf"):
            kind = "scan"
        elif "signature" in described or "esign" in name:
            kind = "e-signed"
        else:
            kind = "born-digital"
        found[name.rsplit(".", 1)[0]] = (kind, repo or "(not recorded)")
    return found


LIST_FIELDS = {"recipients", "references", "reporting_periods", "deadlines", "tasks", "recurring"}


def calibration(records: list[tuple[dict[str, Any], dict[str, float]]], lists: bool = False) -> str:
    """How often a field given a confidence is right, per confidence band (fields with a value only).

    Single values (number, date, issuer, signer...) are right or wrong; lists
    (recipients, references...) score an F1, so their table gives the mean
    F1 per band and counts as right those at 1.0.
    """
    bands = [(0.9, 1.01, ">= 0.90"), (0.6, 0.9, "0.60-0.89"), (0.0, 0.6, "< 0.60")]
    counts = {label: [0, 0] for _, _, label in bands}
    f1_sums = {label: 0.0 for _, _, label in bands}
    for record, scores in records:
        for key, value in scores.items():
            if (key in LIST_FIELDS) != lists:
                continue
            stated = record.get(key)
            if key == "signer":
                stated = (stated or {}).get("name")
            if key not in (record.get("confidence") or {}) or stated in (None, [], ""):
                continue
            confidence = record["confidence"][key]
            for low, high, label in bands:
                if low <= confidence < high:
                    counts[label][0] += 1
                    counts[label][1] += value >= 0.999
                    f1_sums[label] += value
    lines = ["| confidence | fields | right | share right |" + (" mean F1 |" if lists else ""),
             "|---|---|---|---|" + ("---|" if lists else "")]
    for _, _, label in bands:
        total, right = counts[label]
        share = f"{right / total:.1%}" if total else "-"
        extra = (f" {f1_sums[label] / total:.2f} |" if total else " - |") if lists else ""
        lines.append(f"| {label} | {total} | {right} | {share} |{extra}")
    return "\n".join(lines)


def group_table(rows: list[tuple[str, dict[str, float], list[str]]], key) -> str:
    """Mean score per group (kind, source split): documents, mean, wrong numbers/dates."""
    groups: dict[str, list[tuple[str, dict[str, float], list[str]]]] = {}
    for row in rows:
        groups.setdefault(key(row[0]), []).append(row)
    lines = ["| group | documents | mean | wrong |", "|---|---|---|---|"]
    for name, members in groups.items():
        values = [v for _, scores, _ in members for v in scores.values()]
        mean = sum(values) / len(values) if values else 0.0
        lines.append(f"| {name} | {len(members)} | {mean:.3f} | {sum(len(w) for _, _, w in members)} |")
    return "\n".join(lines)


DEV_RECORDS: list[tuple[dict[str, Any], dict[str, float]]] = []
ALTERNATIVE_READINGS: list[str] = []  # dev numbers read as a gold `doc_number_alternatives`


def run_dev(dev: Path) -> list[tuple[str, dict[str, float], list[str]]]:
    rows = []
    for gold_path in sorted((dev / "gold").glob("*.json")):
        name = gold_path.stem
        gold = json.loads(gold_path.read_text())
        inputs = [p for p in (dev / "inbox").glob(name + ".*")]
        if not inputs:
            print(f"  {name}: no input in inbox, skipped", file=sys.stderr)
            continue
        started = time.time()
        record = record_for_input(inputs[0])
        scores, wrong = score(record, gold)
        rows.append((name, scores, wrong))
        DEV_RECORDS.append((record, scores))
        if record.get("doc_number") and record.get("doc_number") in gold.get("doc_number_alternatives", []):
            ALTERNATIVE_READINGS.append(f"- {name}: doc_number={record['doc_number']} is the gold's alternative "
                                        f"reading where the hand is ambiguous (gold {gold['doc_number']}), "
                                        "counted right")
        print(f"  {name}: {time.time() - started:.1f}s", file=sys.stderr)
        gold_text = dev / "gold_text" / f"{name}.txt"
        if gold_text.exists():
            scores, wrong = score(record_for_text(gold_text.read_text()), gold)
            rows.append((f"{name} (gold_text)", scores, wrong))
    return rows


def run_letters(scans: bool) -> tuple[list, list]:
    text_rows, scan_rows = [], []
    for gold_path in sorted(LETTERS.glob("*.json")):
        letter = gold_path.with_suffix(".txt")
        if not letter.exists():
            continue
        gold = json.loads(gold_path.read_text())
        scores, wrong = score(record_for_text(letter_text(letter)), gold)
        text_rows.append((letter.stem, scores, wrong))
        if scans:
            started = time.time()
            seed = int(hashlib.sha1(letter.name.encode()).hexdigest()[:6], 16)
            tiff = render_letter(letter, ROOT / "build" / "letters" / f"{letter.stem}.tiff", seed=seed)
            scores, wrong = score(record_for_input(tiff), gold)
            scan_rows.append((f"{letter.stem} (scan)", scores, wrong))
            print(f"  {letter.stem} scan: {time.time() - started:.1f}s", file=sys.stderr)
    return text_rows, scan_rows


def _wrong_lines(rows) -> list[str]:
    return [f"- {name}: {w}" for name, _, wrongs in rows for w in wrongs]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dev", type=Path, default=ROOT.parent / "shared" / "dev")
    parser.add_argument("--scans", action="store_true", help="also render own letters as scans and OCR them")
    parser.add_argument("--no-write", action="store_true", help=f"do not write {RESULTS.relative_to(ROOT)}")
    parser.add_argument("--out", type=Path, default=None,
                        help=f"write the tables here instead of {RESULTS.relative_to(ROOT)} "
                             "(the dev headline: benchmarks/results/extract-dev.md)")
    parser.add_argument("--no-layout", action="store_true",
                        help="read letters as one text stream (the extractors before the layout stage), to compare")
    args = parser.parse_args(argv)
    if args.no_layout:
        from pipeline.stages import extract as extract_stage

        extract_stage.USE_LAYOUT = False
        args.no_write = True

    sections = []
    dev_rows = run_dev(args.dev)
    headline = [r for r in dev_rows if "(gold_text)" not in r[0]]
    text, mean, wrong = table(headline)
    sections.append(("Dev set through the pipeline (headline)", text, mean, wrong,
                     _wrong_lines(headline) + ALTERNATIVE_READINGS))
    kinds = source_kinds(args.dev)
    by_kind = group_table(headline, lambda name: kinds.get(name, ("?", ""))[0])
    def split(name: str) -> str:
        kind, repo = kinds.get(name, ("", ""))
        side = "held-out sources" if repo in HELD_OUT_SOURCES else "developed-on sources"
        return f"{side}, Word files" if kind == "Word" else f"{side}, PDFs, images and text"

    by_source = group_table(headline, split)
    def repository(name: str) -> str:
        repo = kinds.get(name, ("", "(not recorded)"))[1]
        return f"{repo} (held out)" if repo in HELD_OUT_SOURCES else repo

    sections.append(("Dev set by kind of document", by_kind, None, None, []))
    sections.append(("Dev set by source: developed on / held out (" + ", ".join(sorted(HELD_OUT_SOURCES)) + ")",
                     by_source, None, None, []))
    sections.append(("Dev set by source repository", group_table(headline, repository), None, None, []))
    sections.append(("Confidence calibration on the dev set: single values (number, type, issuer, parent, place, "
                     "date, subject, signer, urgency) given a value", calibration(DEV_RECORDS), None, None, []))
    sections.append(("Confidence calibration on the dev set: lists (recipients, references, periods, tasks)",
                     calibration(DEV_RECORDS, lists=True), None, None, []))
    extra = [r for r in dev_rows if "(gold_text)" in r[0]]
    if extra:
        text2, mean2, wrong2 = table(extra)
        sections.append(("Dev documents on their hand-restored gold_text (not the headline)", text2, mean2, wrong2,
                         _wrong_lines(extra)))
    text_rows, scan_rows = run_letters(args.scans)
    if text_rows:
        t, m, w = table(text_rows)
        sections.append(("Own gold letters (tests/letters), text", t, m, w, _wrong_lines(text_rows)))
    if scan_rows:
        t, m, w = table(scan_rows)
        sections.append(("Own gold letters rendered as scans, through the pipeline", t, m, w, _wrong_lines(scan_rows)))

    from pipeline.core.settings import load_settings

    command = f"CONGVAN_OCR_ENGINE={load_settings().ocr_engine} python -m benchmarks.extract --dev {args.dev}" \
        + (" --scans" if args.scans else "") + (f" --out {args.out}" if args.out else "")
    out = [f"# Extraction benchmark\n\nCommand: `{command}`\n",
           "Metric: exact for number/type/date, fuzzy >= 0.85 for issuer/place/subject/signer name, F1 for "
           "recipients/references/periods/deadline set, tasks = found/tasks_min (cap 1), recurring = recall; "
           "`wrong` counts wrong non-null numbers/dates.\n"]
    for title, text, mean, wrong, wrong_lines in sections:
        summary = f"\nmean {mean:.3f}, wrong non-null numbers/dates: {wrong}\n" if mean is not None else ""
        out.append(f"## {title}\n\n{text}\n{summary}")
        if wrong_lines:
            out.append("\n".join(wrong_lines) + "\n")
    report = "\n".join(out)
    print(report)
    if args.out and not args.no_write:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(report)
    elif not args.no_write:
        existing = RESULTS.read_text() if RESULTS.exists() else ""
        if args.scans or "rendered as scans" not in existing:
            RESULTS.parent.mkdir(parents=True, exist_ok=True)
            RESULTS.write_text(report)
        else:
            print(f"(kept {RESULTS.relative_to(ROOT)}: it holds a --scans run; pass --scans to refresh it)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
