"""Reporting-period benchmark (issue 17): the period grammar on dev letters and corpus sentences.

    python -m benchmarks.periods --dev ../shared/dev [--out benchmarks/results/periods.md]

Two sets:

- the dev letters whose gold states `reporting_periods`, through the real
  pipeline (OCR cached by benchmarks.extract), scored on the record's
  `reporting_periods`;
- the period sentences of tests/periods_gold/corpus_sentences.jsonl (held-out
  corpus documents, golded by hand), scored on everything the grammar reads
  from each sentence for its year (`period_grammar.scan`), the `dev` part
  (seen while writing the grammar), the `heldout` part (kept aside) and the
  `fresh` part (golded after the grammar was written) separately.

A period matches when its label names the same period (kind, number, and year
when both state one; else the labels agree fuzzily) and start, end and due are
equal (a key the gold leaves out is not judged).  F1 is micro, over periods.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from benchmarks.extract import matched, similar
from extractors.period_grammar import parse_label

ROOT = Path(__file__).resolve().parent.parent
GOLD = ROOT / "tests" / "periods_gold" / "corpus_sentences.jsonl"
RESULTS = ROOT / "benchmarks" / "results" / "periods.md"
FIELDS = ("start", "end", "due")


def same_label(predicted: str, gold: str) -> bool:
    p, g = parse_label(predicted), parse_label(gold)
    if p and g:
        return p[:2] == g[:2] and (p[2] is None or g[2] is None or p[2] == g[2])
    return similar(predicted, gold) >= 0.85


def match(predicted: dict[str, Any], gold: dict[str, Any]) -> bool:
    return same_label(predicted["label"], gold["label"]) and all(
        predicted.get(k) == gold[k] for k in FIELDS if k in gold)


def counts(predicted: list[dict[str, Any]], gold: list[dict[str, Any]]) -> tuple[int, int, int]:
    """(hits, predicted, gold), each gold period matched at most once."""
    return matched(predicted, gold, match), len(predicted), len(gold)


def f1(hits: int, npred: int, ngold: int) -> tuple[float, float, float]:
    if npred == 0 and ngold == 0:
        return 1.0, 1.0, 1.0
    precision = hits / npred if npred else 0.0
    recall = hits / ngold if ngold else 0.0
    return precision, recall, (2 * precision * recall / (precision + recall) if hits else 0.0)


def sentence_rows(split: str) -> list[tuple[str, list[dict[str, Any]], list[dict[str, Any]]]]:
    from extractors.period_grammar import scan

    rows = []
    for line in GOLD.read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        if item["split"] != split:
            continue
        predicted = [{"label": c.label, "start": c.start, "end": c.end, "due": c.due}
                     for c in scan(item["text"], item["year"])]
        rows.append((item["id"], predicted, item["periods"]))
    return rows


def dev_rows(dev: Path) -> list[tuple[str, list[dict[str, Any]], list[dict[str, Any]]]]:
    from benchmarks.extract import record_for_input

    rows = []
    for gold_path in sorted((dev / "gold").glob("*.json")):
        gold = json.loads(gold_path.read_text(encoding="utf-8"))
        if not gold.get("reporting_periods"):
            continue
        inputs = [p for p in (dev / "inbox").glob(gold_path.stem + ".*")]
        if not inputs:
            continue
        record = record_for_input(inputs[0])
        rows.append((gold_path.stem, record["reporting_periods"], gold["reporting_periods"]))
    return rows


def table(title: str, rows: list[tuple[str, list[dict[str, Any]], list[dict[str, Any]]]]) -> tuple[list[str], float]:
    lines = [f"### {title}", "", "| item | gold | found | right | F1 |", "|---|---|---|---|---|"]
    total = [0, 0, 0]
    misses = []
    for name, predicted, gold in rows:
        hits, npred, ngold = counts(predicted, gold)
        total = [total[0] + hits, total[1] + npred, total[2] + ngold]
        lines.append(f"| {name} | {ngold} | {npred} | {hits} | {f1(hits, npred, ngold)[2]:.2f} |")
        if hits < max(npred, ngold):
            misses.append(name)
    precision, recall, score = f1(*total)
    lines += [f"| **all ({len(rows)})** | {total[2]} | {total[1]} | {total[0]} | **{score:.3f}** |", "",
              f"precision {precision:.3f}, recall {recall:.3f}, F1 {score:.3f}"
              + (f"; not all right: {', '.join(misses)}" if misses else ""), ""]
    return lines, score


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dev", type=Path, default=ROOT.parent / "shared" / "dev")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--no-dev-letters", action="store_true", help="only the corpus sentences (no OCR)")
    args = parser.parse_args(argv)
    out = ["# Reporting-period benchmark", "", "Command: `make bench-periods`", ""]
    scores = {}
    if not args.no_dev_letters:
        lines, scores["dev letters"] = table("Dev letters with reporting periods (record, through the pipeline)",
                                             dev_rows(args.dev))
        out += lines
    for split, title in (("dev", "Corpus sentences, seen while writing the grammar"),
                         ("heldout", "Corpus sentences, held out"),
                         ("fresh", "Corpus paragraphs golded after the grammar was written")):
        lines, scores[split] = table(title, sentence_rows(split))
        out += lines
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(out), encoding="utf-8")
    print("\n".join(out))
    print(" ".join(f"{k}: {v:.3f}" for k, v in scores.items()), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
