"""Rebuild every restore artefact from the corpus (train split only).

    python -m pipeline.training.restore_models --corpus ../shared/corpus --out models

Steps: (1) syllable trigram LM (modified Kneser-Ney) + vocabulary; (2)
parallel OCR data: corpus lines rendered with several fonts and
degradations, read back by `tesseract -l eng` and `-l vie`, aligned word by
word (cached under build/restore/); (3) character-confusion channels learned
from those pairs, and TrueOCR's (`channel_trueocr.json`) from pages read by
the `neural` engine; (4) the English-OCR candidate table (table.py): finished
candidate lists of likely garbled forms.  Artefacts go to <out>/restore/.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import time
from collections import Counter
from pathlib import Path

import numpy as np

from pipeline.core.vietnamese import is_syllable_shape, strip_diacritics
from pipeline.stages.restore import lm as lmmod
from pipeline.training.corpus import iter_corpus

WEIGHTS = {"admin": 4, "congbao": 1, "vbpl": 1, "viwiki": 1}
MIN_WORD_COUNT = 3
CAPS_RE = re.compile(r"(?<![\w])[A-ZĐ]{2,8}(?![\w])")


def abbreviations(caps: Counter, min_count: int = 5) -> dict[str, str]:
    """Stripped or OCR-garbled form -> written form of ALL-CAPS abbreviations (`HDND` -> `HĐND`)."""
    table: dict[str, str] = {}
    best: dict[str, tuple[int, str]] = {}
    for form, c in caps.items():
        if c < min_count or is_syllable_shape(form):
            continue
        key = strip_diacritics(form)
        if c > best.get(key, (0, ""))[0]:
            best[key] = (c, form)
    for key, (_c, form) in best.items():
        if form != key:
            table[key] = form
    # English-OCR reads Đ as P, B or D: map those variants unless they are real abbreviations
    for _c, form in list(best.values()):
        if "Đ" not in form:
            continue
        for sub in ("P", "B", "D"):
            variant = form.replace("Đ", sub)
            if variant not in best and variant not in table:
                table[variant] = form
    return table


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def build_lm(corpus: Path, out: Path, max_docs: int | None = None, min_count3: int = 2) -> None:
    counter = lmmod.Counter3()
    caps: Counter = Counter()
    n = 0
    for doc in iter_corpus(corpus, held_out=False):
        counter.add_document(doc.text, WEIGHTS.get(doc.corpus, 1))
        if doc.corpus != "viwiki":
            caps.update(CAPS_RE.findall(doc.text))
        n += 1
        if n % 20000 == 0:
            log(f"  lm: read {n:,} documents ({doc.corpus})")
        if max_docs and n >= max_docs:
            break
    stream = counter.stream()
    words = sorted(counter.word_ids, key=counter.word_ids.get)
    counts = np.bincount(stream, minlength=len(words))
    log(f"  lm: {n:,} train documents, {len(stream):,} tokens, {len(words):,} types")
    # vocabulary: specials + words seen MIN_WORD_COUNT times, by frequency
    keep = [i for i in range(len(words)) if i < len(lmmod.SPECIALS) or counts[i] >= MIN_WORD_COUNT]
    keep_sorted = list(range(len(lmmod.SPECIALS))) + sorted(keep[len(lmmod.SPECIALS):], key=lambda i: -counts[i])
    remap = np.full(len(words), lmmod.UNK_ID, dtype=np.int32)
    for new, old in enumerate(keep_sorted):
        remap[old] = new
    stream = remap[stream]
    vocab = [words[i] for i in keep_sorted]
    vcounts = np.bincount(stream, minlength=len(vocab))
    log(f"  lm: vocabulary {len(vocab):,} words")
    model = lmmod.train_kn(stream, len(vocab), min_count3=min_count3, log=log)
    out.mkdir(parents=True, exist_ok=True)
    lmmod.save_lm(out / "lm3.npz", model)
    with gzip.open(out / "vocab.tsv.gz", "wt", encoding="utf-8") as f:
        for w, c in zip(vocab, vcounts):
            f.write(f"{w}\t{int(c)}\n")
    (out / "tables.json").write_text(json.dumps({"abbrev": abbreviations(caps)}, ensure_ascii=False, indent=0),
                                     encoding="utf-8")
    log(f"  lm: wrote {out / 'lm3.npz'} ({(out / 'lm3.npz').stat().st_size / 1e6:.1f} MB)")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, required=True)
    ap.add_argument("--out", type=Path, default=Path("models"))
    ap.add_argument("--build", type=Path, default=Path("build/restore"))
    ap.add_argument("--max-docs", type=int, default=None, help="cap on train documents (quick runs)")
    ap.add_argument("--skip-lm", action="store_true")
    ap.add_argument("--min-count3", type=int, default=2, help="trigrams seen fewer times are pruned")
    ap.add_argument("--skip-channel", action="store_true")
    ap.add_argument("--pages", type=int, default=60, help="rendered pages per OCR language for the channel")
    ap.add_argument("--skip-table", action="store_true")
    ap.add_argument("--only-trueocr-channel", action="store_true",
                    help="rebuild channel_trueocr.json alone (a minute; nothing else is touched)")
    ap.add_argument("--workers", type=int, default=2, help="processes for the candidate table")
    args = ap.parse_args(argv)
    out = args.out / "restore"
    t0 = time.time()
    if args.only_trueocr_channel:
        from pipeline.training import channel_train

        log("TrueOCR's confusion channel only (render + the neural engine)")
        channel_train.train_neural_channel(args.corpus, args.build, out, log=log)
        return
    if not args.skip_lm:
        log("step 1/4: language model")
        build_lm(args.corpus, out, args.max_docs, args.min_count3)
    pairs = None
    if not args.skip_channel or not args.skip_table:
        from pipeline.training import channel_train

        log("step 2/4: parallel OCR data (render + tesseract eng/vie)")
        pairs = channel_train.make_parallel(args.corpus, args.build, args.pages, log=log)
    if not args.skip_channel:
        log("step 3/4: confusion channels")
        channel_train.train_channels(pairs, out, log=log)
        channel_train.train_neural_channel(args.corpus, args.build, out, log=log)
    if not args.skip_table:
        from pipeline.stages.restore.table import build_table

        log("step 4/4: English-OCR candidate table")
        build_table(out, observed=[o for _, o in pairs.get("eng", [])], workers=args.workers, log=log)
    log(f"done in {time.time() - t0:.0f}s")


if __name__ == "__main__":
    main()
