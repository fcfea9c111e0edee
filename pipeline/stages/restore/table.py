"""Precomputed candidate table for English-OCR garble (built at training time).

Building a garbled word's candidates (channel.Channel.candidates: a
uniform-cost search over syllable keys, then an alignment per word) costs
about a millisecond, and nearly every word form on a page is new to a fresh
process.  This table holds the finished candidate lists of the word forms an
English OCR model is likely to write:

  * every vocabulary word pushed forwards through the learned channel (its
    cheapest `PER_WORD` misreadings within `MARGIN` nats of the best one),
  * the forms actually observed in the parallel (rendered + OCR'd) train pages,
  * every syllable key (the word without marks).

Each entry is exactly what the live search returns (same function, same
models), so a hit changes no result; a form not in the table falls back to
the live search.  A fingerprint of the channel, the vocabulary and
TABLE_VERSION guards against a stale table: on a mismatch it is not used.
"""

from __future__ import annotations

import hashlib
import heapq
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from pipeline.stages.restore.engine import Cands

if TYPE_CHECKING:  # pragma: no cover
    from pipeline.stages.restore.engine import Engine

TABLE_VERSION = 1
MARGIN = 6.0
PER_WORD = 30
PB = "\x00"  # key prefix: the form was written with a capital P or B (channel capital_pb)
FILE = "cand_eng.npz"
SAMPLE = 64  # forms per block of the two-level search in CandidateTable.get


def fingerprint(engine: Engine, channel_path: Path) -> str:
    h = hashlib.sha1()
    h.update(f"v{TABLE_VERSION}\n".encode())
    h.update(Path(channel_path).read_bytes())
    h.update("\n".join(engine.vocab).encode("utf-8"))
    return h.hexdigest()


def forward_garbles(word: str, ops: dict[str, dict[str, float]], extra: dict[str, list[tuple[str, float]]],
                    margin: float = MARGIN, limit: int = PER_WORD) -> list[str]:
    """The cheapest readings of `word` under the channel, best first (k-best over per-letter choices)."""
    opts = []
    for x in word:
        row = dict(ops.get(x) or {x: 0.05})
        for s, c in extra.get(x, ()):
            if c < row.get(s, 1e9):
                row[s] = c
        opts.append(sorted(row.items(), key=lambda kv: kv[1]))
    n = len(opts)
    base = sum(o[0][1] for o in opts)
    start = (0,) * n
    heap = [(base, start)]
    seen = {start}
    out: list[str] = []
    while heap and len(out) < limit:
        c, idx = heapq.heappop(heap)
        if c > base + margin:
            break
        out.append("".join(opts[i][k][0] for i, k in enumerate(idx)))
        for i in range(n):
            k = idx[i] + 1
            if k < len(opts[i]):
                ni = idx[:i] + (k,) + idx[i + 1:]
                if ni not in seen:
                    seen.add(ni)
                    heapq.heappush(heap, (c - opts[i][k - 1][1] + opts[i][k][1], ni))
    return out


def table_forms(engine: Engine, observed: Sequence[str] = ()) -> list[str]:
    """Word forms (lower case) the table should hold, `PB`-prefixed variants included."""
    from pipeline.stages.restore.channel import SYMBOLS, VOWEL_SET

    ch = engine.channels["eng"]
    extra: dict[str, list[tuple[str, float]]] = {}
    sym = ch.params.get("symbol_vowel_sub")
    if sym:
        for v in VOWEL_SET:
            extra[v] = [(s, sym) for s in SYMBOLS[:3]]  # & @ ¢: what the English model writes
    forms: set[str] = set(engine.by_key)
    for w in engine.vocab:
        if w.isalpha():
            forms.update(forward_garbles(w, ch.ops, extra))
    for o in observed:
        if o and len(o) <= 12:
            forms.add(o.lower())
    forms = {f for f in forms if f and not f.isspace() and "\n" not in f and PB not in f}
    out = sorted(forms)
    # the PB-prefixed forms go after the plain ones: two sorted runs, which CandidateTable bisects
    out += [PB + f for f in out if f[0] in "pb"]
    return out


_worker_engine: Engine | None = None  # one per pool worker (_init)


def _init(model_dir: str) -> None:
    global _worker_engine
    from pipeline.stages.restore.engine import Engine

    _worker_engine = Engine(Path(model_dir), use_table=False)


def _work(forms: list[str]) -> list[list[tuple[int, float]]]:
    if _worker_engine is None:
        raise RuntimeError("_work runs in a pool worker started with initializer=_init")
    ch = _worker_engine.channels["eng"]
    from pipeline.stages.restore.engine import MAX_CANDIDATES

    res = []
    for f in forms:
        pb = f.startswith(PB)
        obs = f[1:] if pb else f
        res.append([(i, c) for i, _, c in ch.candidates(obs, MAX_CANDIDATES, capital_pb=pb)])
    return res


def build_table(model_dir: Path, observed: Sequence[str] = (), workers: int = 2,
                log: Callable[[str], object] = print) -> Path:
    """Compute every form's candidates with the live search and write `FILE`."""
    import multiprocessing as mp

    from pipeline.stages.restore.engine import Engine

    engine = Engine(Path(model_dir), use_table=False)
    forms = table_forms(engine, observed)
    log(f"  table: {len(forms):,} forms")
    chunks = [forms[i:i + 2000] for i in range(0, len(forms), 2000)]
    results: list[list[tuple[int, float]]] = []
    with mp.get_context("spawn").Pool(workers, initializer=_init, initargs=(str(model_dir),)) as pool:
        for k, r in enumerate(pool.imap(_work, chunks)):
            results.extend(r)
            if (k + 1) % 20 == 0:
                log(f"  table: {len(results):,}/{len(forms):,}")
    off = np.zeros(len(forms) + 1, dtype=np.int32)
    np.cumsum([len(r) for r in results], out=off[1:])
    ids = np.fromiter((i for r in results for i, _ in r), dtype=np.int32, count=int(off[-1]))
    cost = np.fromiter((c for r in results for _, c in r), dtype=np.float32, count=int(off[-1]))
    path = Path(model_dir) / FILE
    blob = np.frombuffer("\n".join(forms).encode("utf-8"), dtype=np.uint8)
    fp = np.frombuffer(fingerprint(engine, Path(model_dir) / "channel_eng.json").encode(), dtype=np.uint8)
    # prefixes of syllable keys, which the live search (a miss) needs: stored, so no miss builds them
    pre = sorted({key[:k] for key in engine.by_key for k in range(1, len(key) + 1)})
    pblob = np.frombuffer("\n".join(pre).encode("utf-8"), dtype=np.uint8)
    np.savez_compressed(path, forms=blob, off=off, ids=ids, cost=cost, fp=fp, prefixes=pblob)
    log(f"  table: wrote {path} ({path.stat().st_size / 1e6:.1f} MB, {len(ids):,} candidates)")
    return path


class CandidateTable:
    """Runtime side: form -> candidate list, a binary search over the sorted forms.

    The file lists the plain forms sorted, then the `PB`-prefixed ones sorted
    (table_forms).  Bisecting those two runs costs a few us a look-up (a page
    looks up some 80 forms); a dict of the 448k forms cost 0.3 s of every model
    load.  Tuples of strings, which the cyclic GC stops tracking (a list would be
    walked by every full collection).
    """

    def __init__(self, path: Path, engine: Engine):
        z = np.load(path)
        blob = z["forms"].tobytes()
        cut = 0 if blob.startswith(PB.encode()) else blob.find(b"\n" + PB.encode())  # where the PB forms begin
        if cut == 0:
            self.plain, self.pb = (), tuple(blob.decode("utf-8").split("\n"))
        elif cut < 0:
            self.plain, self.pb = tuple(blob.decode("utf-8").split("\n")), ()
        else:
            self.plain = tuple(blob[:cut].decode("utf-8").split("\n"))
            self.pb = tuple(blob[cut + 1:].decode("utf-8").split("\n"))
        # every SAMPLE-th form: a first search there (a small, soon cached list), then
        # one within a block of SAMPLE forms: ~6 cold string compares a look-up, not ~19
        self._plain_sample, self._pb_sample = self.plain[::SAMPLE], self.pb[::SAMPLE]
        self.off = z["off"].astype(np.int64)  # an array, not a list: nothing for the GC to walk
        self.ids = z["ids"]
        self.cost = z["cost"]
        # memoryviews of the same arrays: indexing and slicing them gives Python ints and
        # floats directly, at a fraction of the cost of numpy scalars and views
        self._off_mv, self._ids_mv, self._cost_mv = memoryview(self.off), memoryview(self.ids), memoryview(self.cost)
        self.fp = z["fp"].tobytes().decode()
        self.vocab = engine.vocab
        self._z = z

    def prefixes(self) -> dict[str, None]:
        # a dict of str -> None: like a set, but untracked by the cyclic GC
        return dict.fromkeys(self._z["prefixes"].tobytes().decode("utf-8").split("\n"))

    @property
    def forms(self) -> tuple[str, ...]:
        """Every form in file order (row k of the candidate arrays)."""
        return self.plain + self.pb

    def get(self, low: str, capital_pb: bool) -> Cands | None:
        if capital_pb:
            forms, sample, key, base = self.pb, self._pb_sample, PB + low, len(self.plain)
        else:
            forms, sample, key, base = self.plain, self._plain_sample, low, 0
        r = bisect_right(sample, key)  # sample[r - 1] <= key < sample[r]
        if r == 0:
            return None
        lo = (r - 1) * SAMPLE
        hi = min(lo + SAMPLE, len(forms))
        k = bisect_left(forms, key, lo, hi)
        if k == hi or forms[k] != key:
            return None
        k += base
        a, b = self._off_mv[k], self._off_mv[k + 1]
        ids_view, costs_view = self._ids_mv[a:b], self._cost_mv[a:b]
        ids = ids_view.tolist()
        words = list(map(self.vocab.__getitem__, ids))
        if 1 in ids:  # 1 = <unk>: the form itself, kept
            words = [low if i == 1 else w for i, w in zip(ids, words)]
        # int32 ids and float32 costs as stored: the decoder's packed copies
        return Cands.of(zip(ids, words, costs_view.tolist()), ids_view, costs_view)


def load_table(model_dir: Path, engine: Engine) -> CandidateTable | None:
    path = Path(model_dir) / FILE
    chan = Path(model_dir) / "channel_eng.json"
    if not path.exists() or not chan.exists():
        return None
    t = CandidateTable(path, engine)
    if t.fp != fingerprint(engine, chan):
        return None
    return t


__all__ = ["build_table", "load_table", "CandidateTable", "forward_garbles", "table_forms"]
