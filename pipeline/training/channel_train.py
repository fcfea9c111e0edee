"""Learn the confusion channels from rendered-and-OCR'd train documents.

One channel per reader whose misreadings the restorer undoes:

* `eng`, `vie`: `tesseract -l eng` / `-l vie` on corpus pages rendered by
  `synth` (the English model's garble, Tesseract's Vietnamese slips);
* `trueocr`: the `neural` engine (TrueOCR's line detector and recogniser, as
  congvan runs it) on the same kind of pages.  Its slips are others than
  Tesseract's: marks dropped or swapped on a vowel (`vể` for `về`, `sổ` for
  `số`, `khân` for `khẩn`), rarely a letter; the restorer uses this channel
  on text read by an engine built on TrueOCR (`OcrEngine.confusions`).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

from pipeline.core.vietnamese import VIETNAMESE_MARKED, nfc, strip_diacritics
from pipeline.stages.restore.channel import Channel, default_cost
from pipeline.training import synth
from pipeline.training.corpus import iter_corpus

EDGE = ".,;:!?()[]{}\"'“”‘’«»…—–-*•·|<>"
LETTERS = sorted(set("abcdefghijklmnopqrstuvwxyz") | {c for c in VIETNAMESE_MARKED if c.islower()})

# (language, degradation levels) of the synthetic pages
SETUPS = {"eng": (0, 0, 1), "vie": (1, 2, 2)}
# The TrueOCR channel's pages: clean, fair and poor scans alike (it reads clean print almost
# without a slip, so a third of clean pages would teach it little but the identity).
NEURAL_LEVELS = (0, 1, 2, 1, 2)
# Rendered pages for the TrueOCR channel: it reads a page in about 0.3 CPU s, so more than Tesseract's.
NEURAL_PAGES = 150


def pick_pages(corpus: Path, n: int, held_out: bool, seed: int = 7, files=("admin", "congbao", "vbpl", "viwiki"),
               lines_per_page: int = 24) -> list[list[str]]:
    """`n` pages of lines from documents of the chosen split, spread over the corpus files."""
    pages: list[list[str]] = []
    per_file = max(1, n // len(files))
    for name in files:
        got = 0
        for k, doc in enumerate(iter_corpus(corpus, held_out=held_out, files=(name,))):
            if (k * 7919 + seed) % 13 != 0:
                continue
            lines = synth.page_lines(doc.text, max_lines=lines_per_page)
            if len(lines) < 8:
                continue
            pages.append(lines)
            got += 1
            if got >= per_file:
                break
    return pages[:n]


def _clean(w: str) -> str:
    return nfc(w.strip(EDGE).lower())


def word_pairs(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """(true word, OCR word) pairs, lower case, edge punctuation off.

    Words are matched by a diff over the two token lists (compared without
    marks), so a stray mark or a split word costs one pair, not the line.
    """
    import difflib

    out = []
    for truth, ocr in pairs:
        t = [w for w in truth.split() if w.strip(EDGE)]
        o = [w for w in ocr.split() if w.strip(EDGE)]
        if len(t) == len(o):
            matched = list(zip(t, o))
        else:
            ta = [strip_diacritics(_clean(w)) for w in t]
            oa = [strip_diacritics(_clean(w)) for w in o]
            matched = []
            sm = difflib.SequenceMatcher(None, ta, oa, autojunk=False)
            for tag, i1, i2, j1, j2 in sm.get_opcodes():
                if tag == "equal" or (tag == "replace" and i2 - i1 == j2 - j1):
                    matched.extend(zip(t[i1:i2], o[j1:j2]))
        for a, b in matched:
            a2, b2 = _clean(a), _clean(b)
            if not a2 or not b2 or not any(ch.isalpha() for ch in a2):
                continue
            if any(ch.isdigit() for ch in a2):
                continue
            out.append((a2, b2))
    return out


def make_parallel(
    corpus: Path, build: Path, pages: int, log=print, held_out: bool = False
) -> dict[str, list[tuple[str, str]]]:
    fonts = synth.available_fonts()
    chosen = pick_pages(corpus, pages, held_out=held_out)
    log(f"  parallel: {len(chosen)} pages (eng), {len(chosen) * 2 // 3} (vie), fonts {len(fonts)}")
    cache = build / "ocr"
    result: dict[str, list[tuple[str, str]]] = {}
    for lang, levels in SETUPS.items():
        line_pairs: list[tuple[str, str]] = []
        todo = chosen if lang == "eng" else chosen[: len(chosen) * 2 // 3]
        for k, lines in enumerate(todo):
            font = fonts[k % len(fonts)]
            degrade = levels[k % len(levels)]
            text = synth.ocr_page(lines, lang, font, seed=k, degrade=degrade, cache=cache)
            line_pairs.extend(synth.align_lines(lines, text))
            if (k + 1) % 8 == 0:
                log(f"  parallel: {lang} {k + 1}/{len(todo)} pages")
        result[lang] = word_pairs(line_pairs)
        log(f"  parallel: {lang}: {len(line_pairs)} lines, {len(result[lang])} word pairs")
    return result


class _LazyNeural:
    """The `neural` engine, built on the first page that is not in the cache (it loads four ONNX models)."""

    def __init__(self) -> None:
        self._engine = None

    def read(self, image: np.ndarray) -> str:
        if self._engine is None:
            from pipeline.engines.neural import NeuralEngine

            self._engine = NeuralEngine()
        return self._engine.read_page(image, 300, timeout_s=120).text


def neural_page(lines: list[str], font: str, seed: int, degrade: int, cache: Path | None,
                reader: _LazyNeural) -> str:
    """The `neural` engine's text of the rendered page, cached by content under `cache`.

    The page is rendered at 300 dpi as for Tesseract; the engine reads it at
    200 dpi, as it reads every page.
    """
    key = hashlib.sha1(json.dumps([lines, "trueocr", font, seed, degrade, synth.DEGRADE_VERSION]).encode()).hexdigest()
    f = cache / f"trueocr-{key[:16]}.txt" if cache is not None else None
    if f is not None and f.exists():
        return f.read_text(encoding="utf-8")
    out = reader.read(np.asarray(synth.render(lines, font, seed=seed, degrade=degrade), dtype=np.uint8))
    if f is not None:
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(out, encoding="utf-8")
    return out


def make_neural_parallel(corpus: Path, build: Path, pages: int = NEURAL_PAGES, log=print,
                         held_out: bool = False) -> list[tuple[str, str]]:
    """(true word, TrueOCR word) pairs from `pages` rendered corpus pages of the chosen split."""
    fonts = synth.available_fonts()
    chosen = pick_pages(corpus, pages, held_out=held_out, seed=11)
    reader = _LazyNeural()
    line_pairs: list[tuple[str, str]] = []
    for k, lines in enumerate(chosen):
        text = neural_page(lines, fonts[k % len(fonts)], 1000 + k, NEURAL_LEVELS[k % len(NEURAL_LEVELS)],
                           build / "ocr", reader)
        line_pairs.extend(synth.align_lines(lines, text))
        if (k + 1) % 25 == 0:
            log(f"  parallel: trueocr {k + 1}/{len(chosen)} pages")
    pairs = word_pairs(line_pairs)
    log(f"  parallel: trueocr: {len(chosen)} pages, {len(line_pairs)} lines, {len(pairs)} word pairs")
    return pairs


def align(obs: str, true: str, ch: Channel) -> tuple[list[tuple[str, str]], int]:
    """Best alignment's operations (true char, observed segment) and insertion count."""
    n, m = len(true), len(obs)
    inf = 1e9
    D = [[inf] * (m + 1) for _ in range(n + 1)]
    B: list[list[tuple[int, int, str] | None]] = [[None] * (m + 1) for _ in range(n + 1)]
    D[0][0] = 0.0
    for i in range(n + 1):
        for j in range(m + 1):
            if i == 0 and j == 0:
                continue
            best, bp = inf, None
            if j >= 1 and D[i][j - 1] + ch.ins_cost < best:
                best, bp = D[i][j - 1] + ch.ins_cost, (i, j - 1, "ins")
            if i >= 1:
                x = true[i - 1]
                for L in (0, 1, 2):
                    if j - L < 0:
                        continue
                    c = D[i - 1][j - L] + ch.op_cost(x, obs[j - L:j])
                    if c < best:
                        best, bp = c, (i - 1, j - L, "op")
            D[i][j], B[i][j] = best, bp
    ops, ins = [], 0
    i, j = n, m
    while (i, j) != (0, 0):
        pi, pj, kind = B[i][j]
        if kind == "ins":
            ins += 1
        else:
            ops.append((true[i - 1], obs[pj:j]))
        i, j = pi, pj
    return ops[::-1], ins


def estimate(pairs: list[tuple[str, str]], params: dict, rounds: int = 3, log=print) -> Channel:
    ch = Channel({}, params)
    for r in range(rounds):
        counts: dict[str, Counter] = defaultdict(Counter)
        n_ins = n_obs = 0
        for true, obs in pairs:
            if len(true) > 12 or len(obs) > 14:
                continue
            ops, ins = align(obs, true, ch)
            for x, s in ops:
                counts[x][s] += 1
            n_ins += ins
            n_obs += len(obs)
        ops_table: dict[str, dict[str, float]] = {}
        for x, row in counts.items():
            total = sum(row.values())
            ops_table[x] = {s: round(-math.log((c + 0.05) / (total + 1.0)), 3) for s, c in row.items() if c >= 1}
        for x in LETTERS:
            row = ops_table.setdefault(x, {})
            for s in {x, strip_diacritics(x)}:
                row.setdefault(s, round(default_cost(x, s) + (1.0 if x in counts else 0.0), 3))
        p = dict(params)
        p["ins_cost"] = round(-math.log((n_ins + 1) / (n_obs + 10)), 3)
        ch = Channel(ops_table, p)
        log(f"  channel: round {r + 1}: {sum(sum(c.values()) for c in counts.values())} ops, ins_cost {p['ins_cost']}")
    return ch


# Search and decoding parameters of each channel.  TrueOCR's text is marked text read
# with slips, as Tesseract `vie`'s is: the same parameters, but a word the vocabulary does
# not know is not kept for free (`keep_cost`, as for English-OCR garble): TrueOCR writes
# well-formed marks, so an unknown word is a slip (`Sõ` for `Số`) far more often than a
# rare word.  Chosen on the 117 train pages: restored CER 1.42% with keep_cost 0, 1.32% with
# 3, 1.25% with 9, 1.24% with 12 (held-out pages, measured once after: 1.57% -> 1.37% with 9).
PARAMS = {
    "eng": {"budget": 11.0, "key_margin": 6.0, "keep_cost": 9.0, "change_penalty": 0.0, "symbol_vowel_sub": 4.5},
    "vie": {"budget": 12.0, "keep_cost": 0.0, "change_penalty": 3.0, "generic_vowel_sub": 7.0},
    "trueocr": {"budget": 12.0, "keep_cost": 9.0, "change_penalty": 3.0, "generic_vowel_sub": 7.0},
}


def train_channels(pairs: dict[str, list[tuple[str, str]]], out: Path, log=print) -> None:
    for lang, wp in pairs.items():
        ch = estimate(wp, PARAMS[lang], log=log)
        ch.save(out / f"channel_{lang}.json")
        log(f"  channel: wrote channel_{lang}.json ({len(ch.ops)} chars)")


def train_neural_channel(corpus: Path, build: Path, out: Path, pages: int = NEURAL_PAGES, log=print) -> None:
    """models/restore/channel_trueocr.json from `pages` rendered train pages read by the `neural` engine."""
    train_channels({"trueocr": make_neural_parallel(corpus, build, pages, log=log)}, out, log=log)
