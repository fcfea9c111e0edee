"""Syllable n-gram language model: modified Kneser-Ney, pruned, stored compactly.

Training counts n-grams with numpy over integer ids (no Python dict per
n-gram), so the ~30M-syllable corpus trains in about a minute.  The stored
model is ARPA-like: log-probs of kept n-grams (already interpolated) and
back-off weights of their contexts, keyed by packed ids in sorted int64
arrays (delta-coded on disk, looked up through a hash-bucket index built at
load: HashedKeys).  Log-probs are natural logs,
quantised to uint8 on disk (step 0.1 nat on [-25.5, 0]).
"""

from __future__ import annotations

import re
import zlib
from pathlib import Path

import numpy as np

BOS, UNK, NUM = "<s>", "<unk>", "<num>"
SPECIALS = (BOS, UNK, NUM)
BOS_ID, UNK_ID, NUM_ID = 0, 1, 2

# Words (letters only), digit runs, single punctuation characters.
TOKEN_RE = re.compile(r"[^\W\d_]+|\d+|[^\w\s]", re.UNICODE)

Q_STEP = 0.1
Q_MIN = -25.5


def read_vocab(path: Path) -> tuple[list[str], list[int]]:
    """The vocabulary file (`vocab.tsv.gz`: word TAB count per line, ids in file order): (words, counts)."""
    import gzip

    with gzip.open(path, "rt", encoding="utf-8") as handle:
        fields = handle.read().rstrip("\n").replace("\t", "\n").split("\n")  # word, count, word, count, ...
    return fields[0::2], list(map(int, fields[1::2]))


def lm_tokens(text: str) -> list[str]:
    """Tokens as the LM sees them: lowercased words, <num>, punctuation."""
    out = []
    for tok in TOKEN_RE.findall(text):
        c = tok[0]
        if c.isdigit():
            out.append(NUM)
        elif c.isalpha():
            out.append(tok.lower())
        else:
            out.append(tok)
    return out


def _quant(lp: np.ndarray) -> np.ndarray:
    return np.clip(np.round((lp - Q_MIN) / Q_STEP), 0, 255).astype(np.uint8)


def _dequant(q: np.ndarray) -> np.ndarray:
    return (q.astype(np.float32) * Q_STEP + Q_MIN).astype(np.float32)


# ---------------------------------------------------------------- training


class Counter3:
    """Accumulates token-id streams and counts uni/bi/trigrams with numpy."""

    def __init__(self) -> None:
        self.word_ids: dict[str, int] = {s: i for i, s in enumerate(SPECIALS)}
        self.chunks: list[np.ndarray] = []
        self._buf: list[int] = []

    def add_document(self, text: str, weight: int = 1) -> None:
        ids = self.word_ids
        seq = [BOS_ID]
        for tok in lm_tokens(text):
            i = ids.get(tok)
            if i is None:
                i = ids[tok] = len(ids)
            seq.append(i)
        for _ in range(weight):
            self._buf.extend(seq)
        if len(self._buf) > 2_000_000:
            self.chunks.append(np.asarray(self._buf, dtype=np.int32))
            self._buf = []

    def stream(self) -> np.ndarray:
        if self._buf:
            self.chunks.append(np.asarray(self._buf, dtype=np.int32))
            self._buf = []
        return np.concatenate(self.chunks) if self.chunks else np.zeros(0, np.int32)


def _discounts(counts: np.ndarray) -> tuple[float, float, float]:
    n = [int(np.sum(counts == k)) for k in (1, 2, 3, 4)]
    n = [max(x, 1) for x in n]
    y = n[0] / (n[0] + 2 * n[1])
    d1 = 1 - 2 * y * n[1] / n[0]
    d2 = 2 - 3 * y * n[2] / n[1]
    d3 = 3 - 4 * y * n[3] / n[2]
    return (max(d1, 0.05), max(d2, 0.05), max(d3, 0.05))


def _disc(c: np.ndarray, d: tuple[float, float, float]) -> np.ndarray:
    out = np.where(c >= 3, d[2], np.where(c == 2, d[1], d[0])).astype(np.float64)
    return np.where(c <= 0, 0.0, out)


def _group_sum(groups: np.ndarray, values: np.ndarray, size: int) -> np.ndarray:
    return np.bincount(groups, weights=values, minlength=size)


def train_kn(stream: np.ndarray, vocab_size: int, min_count3: int = 2, min_count2: int = 1,
             log=print) -> dict[str, np.ndarray]:
    """Interpolated modified Kneser-Ney trigram over an id stream (ids < vocab_size)."""
    V = np.int64(vocab_size)
    s = stream.astype(np.int64)
    # Do not count n-grams that cross into a new document (<s> in the middle).
    a, b, c = s[:-2], s[1:-1], s[2:]
    ok3 = (b != BOS_ID) & (c != BOS_ID)
    k3, c3 = np.unique((a[ok3] * V + b[ok3]) * V + c[ok3], return_counts=True)
    ok2 = s[1:] != BOS_ID
    k2, c2 = np.unique(s[:-1][ok2] * V + s[1:][ok2], return_counts=True)
    log(f"  lm: {len(s):,} tokens, {len(k2):,} bigrams, {len(k3):,} trigrams")

    # ---- unigram: continuation counts N1+(. w)
    w2 = k2 % V
    cont1 = np.bincount(w2, minlength=vocab_size).astype(np.float64)
    cont1[BOS_ID] = 0
    p1 = (cont1 + 0.1) / (cont1.sum() + 0.1 * vocab_size)  # tiny floor for unseen words
    lp1 = np.log(p1)

    # ---- bigram continuation counts N1+(. v w) from trigram types
    k3_bc = k3 % (V * V)
    bc_keys, bc_cont = np.unique(k3_bc, return_counts=True)
    # Bigrams preceded only by <s> or nothing still need a count: use raw count then.
    pos = np.searchsorted(bc_keys, k2)
    pos = np.minimum(pos, len(bc_keys) - 1)
    found = bc_keys[pos] == k2
    ckn2 = np.where(found, bc_cont[pos], c2).astype(np.float64)
    d2 = _discounts(ckn2.astype(np.int64))
    v2 = k2 // V
    tot2 = _group_sum(v2, ckn2, vocab_size)
    n1 = _group_sum(v2, (ckn2 == 1).astype(float), vocab_size)
    n2 = _group_sum(v2, (ckn2 == 2).astype(float), vocab_size)
    n3 = _group_sum(v2, (ckn2 >= 3).astype(float), vocab_size)
    gamma2 = np.where(tot2 > 0, (d2[0] * n1 + d2[1] * n2 + d2[2] * n3) / np.maximum(tot2, 1e-9), 1.0)
    p2 = np.maximum(ckn2 - _disc(ckn2, d2), 0) / tot2[v2] + gamma2[v2] * p1[w2]
    log(f"  lm: discounts bigram {tuple(round(x, 3) for x in d2)}")

    # ---- trigram, raw counts
    d3 = _discounts(c3)
    ab = k3 // V
    ab_keys, ab_inv = np.unique(ab, return_inverse=True)
    tot3 = _group_sum(ab_inv, c3.astype(float), len(ab_keys))
    m1 = _group_sum(ab_inv, (c3 == 1).astype(float), len(ab_keys))
    m2 = _group_sum(ab_inv, (c3 == 2).astype(float), len(ab_keys))
    m3 = _group_sum(ab_inv, (c3 >= 3).astype(float), len(ab_keys))
    gamma3 = (d3[0] * m1 + d3[1] * m2 + d3[2] * m3) / tot3
    # lower-order p2(w|b) for every trigram (all its bigrams exist in k2)
    pos = np.searchsorted(k2, k3_bc)
    p2_of3 = p2[pos]
    p3 = np.maximum(c3 - _disc(c3.astype(float), d3), 0) / tot3[ab_inv] + gamma3[ab_inv] * p2_of3
    log(f"  lm: discounts trigram {tuple(round(x, 3) for x in d3)}")

    # ---- prune and recompute back-off weights (SRILM style)
    keep3 = c3 >= min_count3
    keep2 = c2 >= min_count2
    # a bigram that is the context or suffix of a kept trigram must stay
    need = np.zeros(len(k2), bool)
    need[np.searchsorted(k2, k3_bc[keep3])] = True
    need[np.searchsorted(k2, ab[keep3])] = True
    keep2 |= need
    # bow for bigram contexts (a,b): (1 - sum kept p3) / (1 - sum kept p2(w|b))
    ab_k = ab_inv[keep3]
    s3 = _group_sum(ab_k, p3[keep3], len(ab_keys))
    s2 = _group_sum(ab_k, p2_of3[keep3], len(ab_keys))
    bow3 = np.log(np.maximum(1 - s3, 1e-9)) - np.log(np.maximum(1 - s2, 1e-9))
    # bow for unigram contexts b
    vk = v2[keep2]
    s2b = _group_sum(vk, p2[keep2], vocab_size)
    s1b = _group_sum(vk, p1[w2[keep2]], vocab_size)
    bow2 = np.log(np.maximum(1 - s2b, 1e-9)) - np.log(np.maximum(1 - s1b, 1e-9))

    # bigram table carries its own bow as context (for trigram back-off)
    k2k = k2[keep2]
    lp2 = np.log(p2[keep2])
    pos = np.searchsorted(ab_keys, k2k)
    pos = np.minimum(pos, len(ab_keys) - 1)
    has_ctx = ab_keys[pos] == k2k
    bow_ctx = np.where(has_ctx, bow3[pos], 0.0)
    log(f"  lm: kept {keep2.sum():,} bigrams, {keep3.sum():,} trigrams")
    return {
        "lp1": lp1.astype(np.float32),
        "bow1": bow2.astype(np.float32),
        "k2": k2k,
        "lp2": lp2,
        "bow2": bow_ctx,
        "k3": k3[keep3],
        "lp3": np.log(p3[keep3]),
        "V": np.array([vocab_size]),
    }


def _pack_keys(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sorted int64 keys as 4-byte delta planes (zlib) plus the rare big deltas."""
    d = np.diff(keys, prepend=np.int64(0))
    big = np.nonzero(d >= 2**32)[0]
    small = np.where(d >= 2**32, 0, d).astype(np.uint32)
    planes = small.view(np.uint8).reshape(-1, 4).T.copy()
    blob = np.frombuffer(zlib.compress(planes.tobytes(), 6), np.uint8)
    return blob, big.astype(np.int64), d[big]


def _unpack_keys(blob: np.ndarray, big_pos: np.ndarray, big_val: np.ndarray, n: int) -> np.ndarray:
    p = np.frombuffer(zlib.decompress(blob.tobytes()), dtype=np.uint8).reshape(4, n)
    d = p[0].astype(np.int64)
    d |= p[1].astype(np.int64) << 8
    d |= p[2].astype(np.int64) << 16
    d |= p[3].astype(np.int64) << 24
    d[big_pos] = big_val
    return np.cumsum(d, out=d)


def save_lm(path: Path, model: dict[str, np.ndarray]) -> None:
    arrays = {
        "V": model["V"],
        "lp1": model["lp1"].astype(np.float32),
        "bow1": model["bow1"].astype(np.float16),
        "n2": np.array([len(model["k2"])]),
        "lp2": _quant(model["lp2"]),
        "bow2": np.clip(np.round(model["bow2"] / Q_STEP), -128, 127).astype(np.int8),
        "n3": np.array([len(model["k3"])]),
        "lp3": _quant(model["lp3"]),
    }
    for name in ("k2", "k3"):
        blob, pos, val = _pack_keys(model[name])
        arrays[name], arrays[name + "_bigpos"], arrays[name + "_bigval"] = blob, pos, val
    # numeric arrays only (np.load refuses pickles anyway); naming allow_pickle also
    # tells mypy that **arrays does not fill that bool parameter
    np.savez_compressed(path, allow_pickle=False, **arrays)


class HashedKeys:
    """Membership and position of int64 keys in a sorted table, by hash bucket.

    A page's decoding asks for some 10^5 n-grams, most of them not stored;
    a binary search over the 1.4M bigram / 1.9M trigram keys costs ~20
    cache misses each, a bucket look-up one or two.  Built at load (~0.1 s
    per table): keys are grouped by the top bits of a multiplicative hash
    (about two buckets per key), `start` marks each bucket's run, `perm`
    maps a grouped key back to its row in the table.
    """

    MULT = np.uint64(0x9E3779B97F4A7C15)  # 2^64 / golden ratio, odd: a bijection on uint64

    def __init__(self, table: np.ndarray):
        n = len(table)
        bits = max(4, int(max(n, 1)).bit_length() + 1)
        self.shift = np.uint64(64 - bits)
        row_bits = max(1, int(max(n - 1, 1)).bit_length())
        # (bucket, row) packed in one uint64 and sorted: an argsort by bucket at sort speed
        packed = np.ascontiguousarray(table, dtype=np.int64).view(np.uint64) * self.MULT
        packed >>= self.shift
        packed <<= np.uint64(row_bits)
        packed |= np.arange(n, dtype=np.uint64)
        packed.sort()
        self.perm = (packed & np.uint64((1 << row_bits) - 1)).astype(np.int32)
        bucket = (packed >> np.uint64(row_bits)).astype(np.int32)
        del packed
        # start[b]: first slot of bucket b or later (an empty bucket gets the next one's
        # start): each bucket's end marked after it, then a running maximum
        start = np.zeros((1 << bits) + 1, dtype=np.int32)
        if n:
            last = np.flatnonzero(bucket[1:] != bucket[:-1])  # last slot of every bucket but the final one
            start[bucket[last] + 1] = last + 1
            start[bucket[-1] + 1:] = n
            np.maximum.accumulate(start, out=start)
        self.start = start
        self.keys = table[self.perm]

    def find(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(row in the table, found) per key; the row is 0 where not found."""
        keys = np.ascontiguousarray(keys, dtype=np.int64)
        b = (keys.view(np.uint64) * self.MULT) >> self.shift
        b = b.astype(np.intp)
        lo = self.start[b]
        hi = self.start[b + 1]
        pos = np.zeros(len(keys), dtype=np.intp)
        found = np.zeros(len(keys), dtype=bool)
        todo = np.flatnonzero(lo < hi)
        lo, hi, wanted = lo[todo], hi[todo], keys[todo]
        while len(todo):  # walk every bucket one slot per round (buckets hold <= ~8 keys)
            hit = self.keys[lo] == wanted
            at = np.flatnonzero(hit)
            done = todo[at]
            pos[done] = self.perm[lo[at]]
            found[done] = True
            lo += 1
            hit |= lo >= hi
            more = np.flatnonzero(~hit)  # not found and bucket not exhausted
            todo, lo, hi, wanted = todo[more], lo[more], hi[more], wanted[more]
        return pos, found


class NgramLM:
    """Runtime trigram model: batched look-ups of log P(w | u v)."""

    def __init__(self, path: Path):
        z = np.load(path)
        self.V = int(z["V"][0])
        self.lp1 = z["lp1"].astype(np.float32)
        self.bow1 = z["bow1"].astype(np.float32)
        k2 = _unpack_keys(z["k2"], z["k2_bigpos"], z["k2_bigval"], int(z["n2"][0]))
        k3 = _unpack_keys(z["k3"], z["k3_bigpos"], z["k3_bigval"], int(z["n3"][0]))
        # bigrams that are the context (u v) of some stored trigram: only a triple whose
        # first pair is one can be a stored trigram, so the decoder looks up no other
        ctx = k3 // self.V  # sorted, as k3 is
        ctx = ctx[np.flatnonzero(np.diff(ctx, prepend=np.int64(-1)))]
        at = np.minimum(np.searchsorted(k2, ctx), max(len(k2) - 1, 0))
        self.is_context = np.zeros(len(k2), dtype=bool)
        self.is_context[at[k2[at] == ctx]] = True
        # only the hashed indexes are kept: the sorted key arrays are not needed after
        self.k2 = HashedKeys(k2)
        self.lp2 = _dequant(z["lp2"])
        self.bow2 = z["bow2"].astype(np.float32) * Q_STEP
        self.k3 = HashedKeys(k3)
        self.lp3 = _dequant(z["lp3"])
        self.order = 3

    def bigram(self, v: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """log P(w|v), the bow of (v,w) as a context, and whether (v,w) is stored."""
        lp, bow, found, _ = self.bigram_with_context(v, w)
        return lp, bow, found

    def bigram_with_context(self, v: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, ...]:
        """bigram(), and whether (v,w) is the context of a stored trigram."""
        keys = v.astype(np.int64) * self.V + w
        pos, found = self.k2.find(keys)
        lp = np.where(found, self.lp2[pos], self.bow1[v] + self.lp1[w])
        bow = np.where(found, self.bow2[pos], 0.0)
        return lp, bow, found, found & self.is_context[pos]

    def trigram_keys(self, u: np.ndarray, v: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        keys = (u.astype(np.int64) * self.V + v) * self.V + w
        pos, found = self.k3.find(keys)
        return self.lp3[pos], found
