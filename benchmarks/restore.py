"""Benchmark of the diacritic restorer (issue 3), on held-out documents only.

    python -m benchmarks.restore --corpus ../shared/corpus --dev ../shared/dev

Prints a table and writes it to benchmarks/results/restore.md:
  * stripped admin/legal text: syllable accuracy, ours vs a bigram-Viterbi
    baseline trained on the same train split (cached under build/restore/);
  * English-model garble: CER raw -> restored on held-out rendered pages
    (`tesseract -l eng`) and on seed001-garbled-ocr.txt against gold_text;
  * `tesseract -l vie` on degraded held-out pages: CER before/after, pages improved;
  * speed (syllables/s, one core), model load time, peak RSS (fresh process).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from pipeline.core.vietnamese import strip_diacritics  # noqa: E402
from pipeline.stages.restore import RESTORER, get_engine  # noqa: E402
from pipeline.stages.restore import lm as lmmod  # noqa: E402
from pipeline.training import synth  # noqa: E402
from pipeline.training.channel_train import pick_pages  # noqa: E402
from pipeline.training.corpus import iter_corpus  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


def levenshtein(a: str, b: str) -> int:
    """Edit distance, one numpy row at a time."""
    if not a:
        return len(b)
    if not b:
        return len(a)
    bb = np.frombuffer(b.encode("utf-32-le"), dtype=np.uint32)
    idx = np.arange(len(b) + 1, dtype=np.int64)
    prev = idx.copy()
    for i, ch in enumerate(a.encode("utf-32-le").decode("utf-32-le"), 1):
        cost = (bb != ord(ch)).astype(np.int64)
        t = np.empty_like(prev)
        t[0] = i
        t[1:] = np.minimum(prev[1:] + 1, prev[:-1] + cost)
        prev = np.minimum.accumulate(t - idx) + idx
    return int(prev[-1])


def norm(text: str) -> str:
    return " ".join(text.split())


def cer(hyp: str, ref: str) -> float:
    ref, hyp = norm(ref), norm(hyp)
    return levenshtein(hyp, ref) / max(1, len(ref))


# ------------------------------------------------------------------ baseline


class BigramOnly:
    """The trained trigram model's tables used as a plain bigram model."""

    def __init__(self, path: Path):
        z = np.load(path)
        self.V = int(z["V"][0])
        self.lp1 = z["lp1"].astype(np.float32)
        self.bow1 = z["bow1"].astype(np.float32)
        self.k2 = z["k2"]
        self.lp2 = z["lp2"].astype(np.float32)
        self.k3 = np.zeros(1, np.int64) - 1

    def bigram(self, v, w):
        keys = v.astype(np.int64) * self.V + w
        pos = np.minimum(np.searchsorted(self.k2, keys), len(self.k2) - 1)
        found = self.k2[pos] == keys
        lp = np.where(found, self.lp2[pos], self.bow1[v] + self.lp1[w])
        return lp, np.zeros(len(keys), np.float32), np.zeros(len(keys), bool)

    def trigram_keys(self, u, v, w):
        return np.zeros(len(u), np.float32), np.zeros(len(u), bool)


def train_baseline(corpus: Path, engine, path: Path, log) -> None:
    """Bigram Kneser-Ney (highest order on raw counts) over the same train split and vocabulary."""
    log("training the bigram baseline (train split, same vocabulary) ...")
    ids = engine.ids
    buf: list[int] = []
    for doc in iter_corpus(corpus, held_out=False):
        buf.append(lmmod.BOS_ID)
        buf.extend(ids.get(t, lmmod.UNK_ID) for t in lmmod.lm_tokens(doc.text))
    s = np.asarray(buf, dtype=np.int64)
    V = np.int64(len(engine.vocab))
    ok = s[1:] != lmmod.BOS_ID
    k2, c2 = np.unique(s[:-1][ok] * V + s[1:][ok], return_counts=True)
    cont = np.bincount(k2 % V, minlength=int(V)).astype(np.float64)
    p1 = (cont + 0.1) / (cont.sum() + 0.1 * V)
    d = lmmod._discounts(c2)
    v2 = k2 // V
    tot = np.bincount(v2, weights=c2.astype(float), minlength=int(V))
    n1 = np.bincount(v2, weights=(c2 == 1).astype(float), minlength=int(V))
    n2 = np.bincount(v2, weights=(c2 == 2).astype(float), minlength=int(V))
    n3 = np.bincount(v2, weights=(c2 >= 3).astype(float), minlength=int(V))
    gamma = np.where(tot > 0, (d[0] * n1 + d[1] * n2 + d[2] * n3) / np.maximum(tot, 1e-9), 1.0)
    p2 = np.maximum(c2 - lmmod._disc(c2.astype(float), d), 0) / tot[v2] + gamma[v2] * p1[k2 % V]
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, V=np.array([V]), lp1=np.log(p1).astype(np.float32), bow1=np.log(gamma).astype(np.float32),
             k2=k2, lp2=np.log(p2).astype(np.float32))


# ------------------------------------------------------------------ parts


def held_out_docs(corpus: Path, files: tuple[str, ...], max_syllables: int, seed: int = 3):
    """Held-out documents spread over `files`, up to `max_syllables` per file."""
    out = []
    for name in files:
        n = 0
        for doc in iter_corpus(corpus, held_out=True, files=(name,)):
            text = "\n".join(line for line in doc.lines if line.strip())
            ws = len(WORD.findall(text))
            if ws < 20:
                continue
            if n + ws > max_syllables:
                lines, m = [], n
                for line in text.split("\n"):
                    m += len(WORD.findall(line))
                    if m > max_syllables:
                        break
                    lines.append(line)
                text = "\n".join(lines)
                ws = len(WORD.findall(text))
            out.append((name, text))
            n += ws
            if n >= max_syllables:
                break
    return out


def syllable_accuracy(engine, docs, mode="strip") -> tuple[dict[str, tuple[int, int]], float, int]:
    res: dict[str, list[int]] = {}
    t0 = time.process_time()  # CPU time of this process: one core, whatever else runs
    syl = 0
    for name, text in docs:
        stripped = strip_diacritics(text)
        out, _ = engine.restore(stripped, mode=mode)
        ref, hyp = WORD.findall(text), WORD.findall(out)
        syl += len(ref)
        r = res.setdefault(name, [0, 0])
        if len(ref) != len(hyp):
            r[1] += len(ref)
            continue
        r[0] += sum(a == b for a, b in zip(ref, hyp))
        r[1] += len(ref)
    elapsed = time.process_time() - t0
    return {k: (v[0], v[1]) for k, v in res.items()}, elapsed, syl


def ocr_pages(corpus: Path, lang: str, n: int, degrade: int, cache: Path, log):
    pages = pick_pages(corpus, n, held_out=True, seed=11, files=("admin", "congbao", "vbpl"))
    fonts = synth.available_fonts()
    out = []
    for k, lines in enumerate(pages):
        font = fonts[k % len(fonts)]
        text = synth.ocr_page(lines, lang, font, seed=1000 + k, degrade=degrade, cache=cache)
        out.append(("\n".join(lines), text, Path(font).stem))
        if (k + 1) % 4 == 0:
            log(f"  {lang}: {k + 1}/{len(pages)} pages OCR'd")
    return out


def measure_process(sample: str) -> dict:
    code = (
        "import time, resource, sys, json\n"
        "t=time.perf_counter()\n"
        "from pipeline.stages.restore import get_engine\n"
        "e=get_engine(); load=time.perf_counter()-t\n"
        "text=open(sys.argv[1], encoding='utf-8').read()\n"
        "e.restore(text)\n"
        "print(json.dumps({'load_s': load, 'rss_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss/1024}))\n"
    )
    tmp = ROOT / "build" / "restore" / "rss_sample.txt"
    tmp.parent.mkdir(parents=True, exist_ok=True)
    tmp.write_text(sample, encoding="utf-8")
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    res = subprocess.run([sys.executable, "-c", code, str(tmp)], capture_output=True, text=True, cwd=ROOT, env=env)
    return json.loads(res.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, required=True)
    ap.add_argument("--dev", type=Path, required=True)
    ap.add_argument("--syllables", type=int, default=20000, help="stripped-text syllables per corpus file")
    ap.add_argument("--eng-pages", type=int, default=9)
    ap.add_argument("--vie-pages", type=int, default=9)
    ap.add_argument("--reps", type=int, default=5, help="timed passes over the English-OCR pages (median)")
    ap.add_argument("--cache", type=Path, default=ROOT / "build" / "restore" / "bench-ocr")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "restore.md")
    args = ap.parse_args(argv)

    def log(msg: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)

    engine = get_engine()
    rows: list[str] = []

    # 1. stripped text
    log("stripped held-out text ...")
    docs = held_out_docs(args.corpus, ("admin", "congbao", "vbpl"), args.syllables)
    ours, elapsed, nsyl = syllable_accuracy(engine, docs)
    base_path = ROOT / "build" / "restore" / "baseline_lm2.npz"
    if not base_path.exists():
        train_baseline(args.corpus, engine, base_path, log)
    real_lm = engine.lm
    engine.lm = BigramOnly(base_path)
    engine._cand_cache.clear()
    try:
        base, _, _ = syllable_accuracy(engine, docs)
    finally:
        engine.lm = real_lm
        engine._cand_cache.clear()
    rows.append("### Stripped text (all marks removed), syllable accuracy\n")
    rows.append("| held-out text | syllables | bigram Viterbi baseline | ours |")
    rows.append("|---|---:|---:|---:|")
    tot_o = [0, 0]
    tot_b = [0, 0]
    for name in ours:
        o, b = ours[name], base[name]
        tot_o = [tot_o[0] + o[0], tot_o[1] + o[1]]
        tot_b = [tot_b[0] + b[0], tot_b[1] + b[1]]
        rows.append(f"| {name} | {o[1]:,} | {100 * b[0] / b[1]:.2f}% | {100 * o[0] / o[1]:.2f}% |")
    rows.append(f"| **all** | {tot_o[1]:,} | {100 * tot_b[0] / tot_b[1]:.2f}% | **{100 * tot_o[0] / tot_o[1]:.2f}%** |")
    speed = nsyl / elapsed

    # 2. English-model garble
    log("English-OCR garble pages ...")
    rows.append("\n### English-model OCR garble (`tesseract -l eng`), character error rate\n")
    rows.append("| input | raw CER | restored CER |")
    rows.append("|---|---:|---:|")
    eng = ocr_pages(args.corpus, "eng", args.eng_pages, 0, args.cache, log)
    raw_e = ref_e = res_e = 0
    eng_syl = sum(len(WORD.findall(ocr)) for _, ocr, _ in eng)
    # speed: the pages restored `--reps` times, each time from an empty candidate cache;
    # the median CPU time is reported (a few hundred ms per pass, so one pass is noisy)
    eng_times = []
    hits = misses = 0
    for _rep in range(args.reps):
        engine._cand_cache.clear()
        t0 = time.process_time()
        for _, ocr, _ in eng:
            engine.restore(ocr)
        eng_times.append(time.process_time() - t0)
    if getattr(engine, "table", None) is not None:
        forms = {(k[0].lower(), k[0][:1] in ("P", "B")) for k in engine._cand_cache if k[1] == "eng"}
        hits = sum(engine.table.get(f, pb) is not None for f, pb in forms)
        misses = len(forms) - hits
    engine._cand_cache.clear()
    eng_time = sorted(eng_times)[len(eng_times) // 2]
    for truth, ocr, _font in eng:
        out, _ = engine.restore(ocr)
        n = len(norm(truth))
        raw_e += cer(ocr, truth) * n
        res_e += cer(out, truth) * n
        ref_e += n
    rows.append(f"| {len(eng)} held-out rendered pages (6 fonts, clean) | {100 * raw_e / ref_e:.2f}% "
                f"| **{100 * res_e / ref_e:.2f}%** |")
    seed_in = (args.dev / "inbox" / "seed001-garbled-ocr.txt").read_text(encoding="utf-8")
    seed_gold = (args.dev / "gold_text" / "seed001-garbled-ocr.txt").read_text(encoding="utf-8")
    seed_out, _ = engine.restore(seed_in)
    rows.append(f"| seed001-garbled-ocr.txt vs gold_text | {100 * cer(seed_in, seed_gold):.2f}% "
                f"| **{100 * cer(seed_out, seed_gold):.2f}%** |")

    # 3. tesseract -l vie on degraded pages
    log("Vietnamese-OCR degraded pages ...")
    vie = ocr_pages(args.corpus, "vie", args.vie_pages, 2, args.cache, log)
    rows.append("\n### `tesseract -l vie` on degraded held-out pages, character error rate\n")
    rows.append("| page | font | before | after |")
    rows.append("|---|---|---:|---:|")
    improved = 0
    tb = ta = tn = 0.0
    for k, (truth, ocr, font) in enumerate(vie):
        out, _ = engine.restore(ocr)
        b, a = cer(ocr, truth), cer(out, truth)
        n = len(norm(truth))
        tb, ta, tn = tb + b * n, ta + a * n, tn + n
        improved += a < b
        rows.append(f"| {k + 1} | {font} | {100 * b:.2f}% | {100 * a:.2f}% |")
    rows.append(f"| **all** ({improved}/{len(vie)} pages improved) | | {100 * tb / tn:.2f}% "
                f"| **{100 * ta / tn:.2f}%** |")

    # 4. clean text must stay clean
    clean_changed = clean_total = 0
    for _name, text in docs[:40]:
        out, ch = engine.restore(text)
        clean_changed += len(ch)
        clean_total += len(WORD.findall(text))

    # 5. speed / load / memory
    log("speed, load time, memory ...")
    proc = measure_process("\n".join(strip_diacritics(t) for _, t in docs[:20]))
    rows.append("\n### Correct text, speed and footprint\n")
    rows.append("| measure | value |")
    rows.append("|---|---:|")
    rows.append(f"| already-correct held-out text: words changed | {clean_changed} of {clean_total:,} |")
    rows.append(f"| speed, stripped text, one core (per CPU second) | {speed:,.0f} syllables/s |")
    rows.append(f"| speed, English-OCR garble pages ({int(eng_syl):,} syllables), cold caches, one core "
                f"(per CPU second, median of {args.reps}) | {eng_syl / max(eng_time, 1e-9):,.0f} syllables/s |")
    rows.append(f"| ... all {args.reps} passes | "
                + ", ".join(f"{eng_syl / max(t, 1e-9):,.0f}" for t in eng_times) + " |")
    rows.append(f"| ... word forms found in the precomputed candidate table | {hits} of {hits + misses} |")
    rows.append(f"| model load (fresh process) | {proc['load_s']:.2f} s |")
    rows.append(f"| peak RSS (load + restore 20 documents) | {proc['rss_mb']:.0f} MB |")
    size = sum(f.stat().st_size for f in (ROOT / "models" / "restore").glob("*")) / 1e6
    rows.append(f"| models/restore on disk | {size:.1f} MB |")

    cmd = "python -m benchmarks.restore " + " ".join(argv if argv is not None else sys.argv[1:])
    header = [
        f"## Diacritic restoration ({RESTORER})\n",
        f"Measured by `{cmd}` on {time.strftime('%Y-%m-%d')}, held-out documents only "
        f"(split of pipeline/training/corpus.py). Machine: {os.cpu_count()} CPU cores, no GPU.\n",
    ]
    notes = [
        "\nNotes: pages are held-out corpus text (form lines and tables left out) rendered at 300 dpi with "
        "FreeSerif, DejaVu Serif/Sans, Noto Serif/Sans and FreeSans (pipeline/training/synth.py); English-model "
        "pages are clean renders, Vietnamese-model pages are poor scans (half resolution, noise, hard threshold). "
        "CER is edit distance over whitespace-normalised text / reference length. Speeds are syllables per CPU "
        "second of the benchmark process (one core), so other jobs on the machine do not count (they still slow it "
        "through shared caches: passes vary by ~15%); the garble speed starts each pass from an empty per-word "
        "candidate cache: forms in the precomputed table (models/restore/cand_eng.npz, built from train data only) "
        "are a look-up, the rest are searched live. Model load includes that table.",
    ]
    table = "\n".join(header + rows + notes) + "\n"
    print(table)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(table, encoding="utf-8")
    log(f"wrote {args.out}")


if __name__ == "__main__":
    main()
