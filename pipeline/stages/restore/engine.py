"""The restoration engine: tokenise, generate candidates, decode, re-case.

A text is cut into whitespace-separated chunks; each chunk into leading
punctuation, a core and trailing punctuation.  Cores that are numbers, codes
(`834/QĐ-UBND`) or ALL-CAPS abbreviations are fixed (with a few learned
repairs); every other core gets candidate syllables from the channel of the
document's input kind (stripped, English-OCR garble, Vietnamese OCR), and a
trigram Viterbi over the whole text picks the best sequence.  Only word cores
are rewritten, so spacing, line breaks, punctuation and digits stay as they are.
"""

from __future__ import annotations

import itertools
import json
import operator
import re
import struct
from array import array
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, cast

import numpy as np
import numpy.typing as npt

from pipeline.core.types import Change
from pipeline.core.vietnamese import VIETNAMESE_MARKED, has_diacritics, is_syllable_shape, nfc, strip_diacritics
from pipeline.stages.restore import lm as lmmod
from pipeline.stages.restore.channel import Channel

if TYPE_CHECKING:  # pragma: no cover
    from pipeline.stages.restore.table import CandidateTable

CHUNK_RE = re.compile(r"\S+")
EDGE_PUNCT = set(".,;:!?()[]{}\"'“”‘’«»…—–-*•·|<>")
NUMBERISH = re.compile(r"^[\d.,/:%+\-–]+$")
LETTERS = re.compile(r"[^\W\d_]", re.UNICODE)
CODE_SEP = re.compile(r"[/\-–]")
GARBLE_CHARS = frozenset("0123456789&@$¢§£¥|!{}")
EDGE_CHARS = "".join(EDGE_PUNCT)
# a chunk (run of non-space) as leading edge punctuation, core, trailing edge punctuation;
# the core is empty or ends in a character that is neither space nor edge punctuation
_EDGE_ESCAPED = "".join(re.escape(c) for c in sorted(EDGE_PUNCT))
CHUNK_PARTS_RE = re.compile(rf"(?=\S)([{_EDGE_ESCAPED}]*)((?:\S*[^\s{_EDGE_ESCAPED}])?)([{_EDGE_ESCAPED}]*)(?!\S)")
# letters with marks that an English OCR model writes for Vietnamese vowels
LETTER_RUN = re.compile(r"[^\W\d_]+", re.UNICODE)
VIE_ONLY = re.compile("[" + "".join(sorted(VIETNAMESE_MARKED - set("áàâãéèêíìóòôõúùýÁÀÂÃÉÈÊÍÌÓÒÔÕÚÙÝ"))) + "]")
ENG_MARKS = re.compile("[áàâãäåéèêëíìîïóòôõöúùûüýÿ¢]", re.IGNORECASE)
MAX_CANDIDATES = 8
# The confusion channels (models/restore/channel_<name>.json): English-model garble, Tesseract `vie`'s
# slips, TrueOCR's slips.  The last two read the same input kind, marked text (`vie`).
CHANNELS = ("eng", "vie", "trueocr")
# Per mode: candidates whose channel cost is more than this above the best
# one's are dropped before decoding (the word as written is always kept).  Off:
# {"eng": 8.0} left the 51 train pages' CER unchanged and made garble ~10%
# faster, but cost 0.06 points of CER on the held-out bench pages.
CAND_MARGIN: dict[str, float] = {}
RARE_RATIO = 500
NEG = np.float32(-1e9)
_FIRST, _THIRD = operator.itemgetter(0), operator.itemgetter(2)  # a candidate's lm id, channel cost
_MAX = np.maximum.reduce  # ndarray.max without its Python-level wrapper (same reduction)
_PACK_I32, _ZERO_F32 = struct.Struct("=i").pack, array("f", [0.0]).tobytes()


def apply_case(word: str, pattern: str) -> str:
    if pattern.islower():  # no capital at all (the common case): nothing to copy
        return word
    letters = [c for c in pattern if c.isalpha()]
    if len(letters) >= 2:
        upper = sum(c.isupper() for c in letters)
        # ALL-CAPS, also when OCR lowered one letter (`NGHiA`)
        if upper == len(letters) or (len(letters) >= 4 and upper >= len(letters) - 1):
            return word.upper()
    if pattern[:1].isupper() or (not pattern[:1].isalpha() and letters and letters[0].isupper()):
        return word[:1].upper() + word[1:]
    return word


class Cands(list[tuple[int, str, float]]):
    """A slot's candidates, (lm id, lower-case form, channel cost) tuples, with the
    ids and costs also packed (int32 / float32 bytes): the decoder reads a page's
    candidates with two joins instead of a Python step per candidate."""

    __slots__ = ("ids", "costs")
    # packed copies: bytes, or memoryviews of the candidate table's arrays (table.py)
    ids: bytes | memoryview
    costs: bytes | memoryview

    @classmethod
    def of(cls, cands: Iterable[tuple[int, str, float]], ids: bytes | memoryview | None = None,
           costs: bytes | memoryview | None = None) -> Cands:
        """From (lm id, form, cost) tuples (any iterable); `ids`, `costs`: packed already
        (both, else both are packed here)."""
        out = cls(cands)
        if ids is None or costs is None:
            ids, costs = array("i", map(_FIRST, out)).tobytes(), array("f", map(_THIRD, out)).tobytes()
        out.ids, out.costs = ids, costs
        return out

    @classmethod
    def single(cls, i: int, form: str) -> Cands:
        """The one candidate (i, form, 0.0) of a fixed token."""
        out = cls(((i, form, 0.0),))
        out.ids, out.costs = _PACK_I32(i), _ZERO_F32
        return out


@dataclass(slots=True)
class Slot:
    start: int  # offsets of the core in the input text
    end: int
    text: str  # the core as written
    cands: list[tuple[int, str, float]]  # (lm id, lower-case form, channel cost); a Cands from slots()
    fixed: bool


class Engine:
    def __init__(self, model_dir: Path, use_table: bool = True):
        self.lm = lmmod.NgramLM(model_dir / "lm3.npz")
        vocab, counts = lmmod.read_vocab(model_dir / "vocab.tsv.gz")
        self.ids = dict(zip(vocab, range(len(vocab))))
        keys = strip_diacritics("\n".join(vocab)).split("\n")
        by_key: dict[str, list[int]] = {}
        for i in range(len(lmmod.SPECIALS), len(vocab)):
            if vocab[i].isalpha():
                k = keys[i]
                lst = by_key.get(k)
                if lst is None:
                    by_key[k] = [i]
                else:
                    lst.append(i)
        # ids come in frequency order; forms far rarer than the key's best one
        # (`truong` next to `trường`: typos, stripped quotations) are dropped
        for key, ids in by_key.items():
            if len(ids) > 1:
                top = counts[ids[0]]
                by_key[key] = [i for i in ids if counts[i] * RARE_RATIO >= top]
        # tuples (and a tuple vocabulary): containers of atoms the cyclic GC stops
        # tracking, so a collection during a restore does not walk the model
        self.by_key: dict[str, tuple[int, ...]] = {k: tuple(v) for k, v in by_key.items()}
        self.vocab: tuple[str, ...] = tuple(vocab)
        self.counts = np.asarray(counts, dtype=np.int64)
        extra = {}
        p = model_dir / "tables.json"
        if p.exists():
            extra = json.loads(p.read_text(encoding="utf-8"))
        self.abbrev: dict[str, str] = extra.get("abbrev", {})
        self.channels = {name: Channel.load(model_dir / f"channel_{name}.json", self) for name in CHANNELS
                         if (model_dir / f"channel_{name}.json").exists()}
        self._cand_cache: dict[tuple[str, str], Cands] = {}
        # precomputed English-OCR candidate lists (table.py); None: every form searched live
        self.table: CandidateTable | None = None
        if use_table and "eng" in self.channels:
            from pipeline.stages.restore.table import load_table

            self.table = load_table(model_dir, self)
            if self.table is not None:
                # syllable-key prefixes for the live search of forms not in the table (stored: ~20 ms)
                self.channels["eng"]._prefixes = self.table.prefixes()

    # ------------------------------------------------------------ input kind

    def detect_mode(self, text: str) -> str:
        """`vie` (marked text, maybe OCR'd), `eng` (English-OCR garble) or `strip`."""
        # Words with a mark no English model writes (ă ơ ư đ ạ ả ế ...): over half
        # of running Vietnamese, none in English-OCR output or stripped text.
        if VIE_ONLY.search(text):  # none at all: not `vie` (English-OCR and stripped text: skip the count)
            toks = LETTER_RUN.findall(text)
            if toks and sum(1 for w in toks if VIE_ONLY.search(w)) >= 0.2 * len(toks):
                return "vie"
        evidence = 0.0
        n = 0
        by_key = self.by_key
        for chunk in CHUNK_RE.findall(text):
            core = chunk.strip(EDGE_CHARS)
            if core.isalpha():  # most words: letters only, so no garble character and no code
                n += 1
                if ENG_MARKS.search(core):
                    evidence += 1.0
                elif not core.isupper() and core.lower() not in by_key:
                    evidence += 0.5  # `cia`, `dugc`: no syllable strips to it
                continue
            if not core or not LETTERS.search(core):
                continue
            n += 1
            if ENG_MARKS.search(core):
                evidence += 1.0
            elif not GARBLE_CHARS.isdisjoint(core) and not CODE_SEP.search(core):
                evidence += 1.0
        return "eng" if evidence >= max(1.0, 0.02 * n) else "strip"

    # ------------------------------------------------------------ candidates

    def candidates(self, core: str, mode: str, channel: str | None = None) -> Cands:
        """`core`'s candidates for input kind `mode`, from the confusion channel `channel` (default: the mode's)."""
        channel = channel or mode
        key = (core, channel)
        hit = self._cand_cache.get(key)
        if hit is not None:
            return hit
        low = core.lower()
        out: list[tuple[int, str, float]]
        if mode == "strip" or channel not in self.channels:
            if has_diacritics(low):
                i = self.ids.get(low, lmmod.UNK_ID)
                out = [(i, low, 0.0)]
            else:
                ids = self.by_key.get(low, ())
                out = [(i, self.vocab[i], 0.0) for i in ids[:MAX_CANDIDATES]]
                if not out:
                    out = [(lmmod.UNK_ID, low, 0.0)]
        else:
            pb = mode == "eng" and core[:1] in ("P", "B")
            hit = self.table.get(low, pb) if mode == "eng" and self.table is not None else None
            out = hit if hit is not None else self.channels[channel].candidates(low, MAX_CANDIDATES, capital_pb=pb)
            margin = CAND_MARGIN.get(mode)
            if margin is not None and len(out) > 2:
                top = min(c for _, _, c in out) + margin
                out = [x for x in out if x[2] <= top or x[1] == low]
            if not out:
                out = [(self.ids.get(low, lmmod.UNK_ID), low, 0.0)]
        if type(out) is not Cands:  # the table's hits come packed already
            out = Cands.of(out)
        if len(self._cand_cache) > 200_000:
            self._cand_cache.clear()
        self._cand_cache[key] = out
        return out

    # ------------------------------------------------------------ tokenising

    def slots(self, text: str, mode: str, channel: str | None = None) -> list[Slot]:
        channel = channel or mode
        slots: list[Slot] = []
        append = slots.append
        cache = self._cand_cache
        short_ok = mode != "vie"
        for m in CHUNK_PARTS_RE.finditer(text):
            lead, core, trail = m.group(1, 2, 3)
            if lead:
                base = m.start(1)
                for k, ch in enumerate(lead):
                    self._fixed(slots, ch, base + k)
            if core:
                start = m.start(2)
                if core.isalpha() and not core.isupper() and (short_ok or len(core) > 1):
                    # the common case, a word not in capitals: none of _core's checks applies
                    cands = cache.get((core, channel))
                    if cands is None:
                        cands = self.candidates(core, mode, channel)
                    append(Slot(start, start + len(core), core, cands, len(cands) == 1 and cands[0][1] == core.lower()))
                else:
                    self._core(slots, core, start, mode, channel)
            if trail:
                base = m.start(3)
                for k, ch in enumerate(trail):
                    self._fixed(slots, ch, base + k)
        return slots

    def _fixed(self, slots: list[Slot], s: str, start: int, replacement: str | None = None) -> None:
        if replacement is None and s in EDGE_PUNCT:
            toks = [s]  # one punctuation character is its own LM token (no regex pass)
        else:
            toks = lmmod.lm_tokens(replacement if replacement is not None else s)
        for t in toks or [lmmod.UNK]:
            slots.append(Slot(start, start + len(s), s, Cands.single(self.ids.get(t, lmmod.UNK_ID), t), True))
        if replacement is not None and replacement != s:
            slots[-1].cands = Cands.single(slots[-1].cands[0][0], replacement)
            slots[-1].fixed = False  # a repair: reported as a change

    def _core(self, slots: list[Slot], core: str, start: int, mode: str, channel: str | None = None) -> None:
        """A core that is not a plain lower-case word (slots() takes those)."""
        if NUMBERISH.match(core):
            self._fixed(slots, core, start)
            return
        has_letters = bool(LETTERS.search(core))
        if not has_letters:
            if mode == "eng" and core in ("¢", "&", "@"):
                pass  # a lone garbled vowel (`¢` for `ở`)
            else:
                self._fixed(slots, core, start)
                return
        if CODE_SEP.search(core[1:-1] if len(core) > 2 else ""):
            fixed = self.fix_code(core, mode)
            self._fixed(slots, core, start, fixed if fixed != core else None)
            return
        is_word = core.isalpha()
        letters = [c for c in core if c.isalpha()]
        amp = "&" in core and core.replace("&", "").isalpha()
        if (is_word or amp) and len(letters) >= 2 and core.isupper() and not is_syllable_shape(core):
            fixed = core
            if mode != "vie":
                fixed = "&".join(self.abbrev.get(p, p) for p in core.split("&"))
                if mode == "strip" and strip_diacritics(fixed) != core:
                    fixed = core
            self._fixed(slots, core, start, fixed if fixed != core else None)
            return
        if not is_word and mode != "eng":
            self._fixed(slots, core, start)
            return
        if "." in core or "'" in core or (
            mode == "vie" and (len(core) == 1 or (core.isupper() and not has_diacritics(core)))
        ):
            self._fixed(slots, core, start)
            return
        cands = self.candidates(core, mode, channel)
        slots.append(Slot(start, start + len(core), core, cands, len(cands) == 1 and cands[0][1] == core.lower()))

    def fix_code(self, core: str, mode: str) -> str:
        parts = re.split(r"([/\-–])", core)
        out = []
        for p in parts:
            q = p
            if p in ("QD", "QÐ", "Qđ") or (mode == "eng" and p in ("QP", "Qb", "QB", "Qp", "OD", "OP")):
                q = "QĐ"
            elif mode != "vie" and p.isalpha() and p.isupper() and len(p) >= 2:
                q = self.abbrev.get(p, p)
                if mode == "strip" and strip_diacritics(q) != p:
                    q = p
            out.append(q)
        return "".join(out)

    # ------------------------------------------------------------ decoding

    def decode(self, slots: list[Slot], chunk: int = 400, force: int = 3000) -> list[int]:
        """Viterbi over the whole text, cut into independent pieces.

        Where two consecutive slots have a single candidate the trigram state
        is known, so the text is cut there (exactly, with those two as the
        next piece's context); memory stays bounded on long documents.
        """
        n = len(slots)
        choice: list[int] = []
        start = 0
        ctx = (lmmod.BOS_ID, lmmod.BOS_ID)
        while start < n:
            end = n
            j = start + chunk
            while j < n:
                if (len(slots[j - 1].cands) == 1 and len(slots[j - 2].cands) == 1) or j - start >= force:
                    end = j
                    break
                j += 1
            choice.extend(self._decode(slots[start:end], ctx))
            if end < n:
                ctx = (slots[end - 2].cands[choice[end - 2]][0], slots[end - 1].cands[choice[end - 1]][0])
            start = end
        return choice

    def _decode(self, slots: list[Slot], ctx: tuple[int, int]) -> list[int]:
        """Trigram Viterbi; returns the chosen candidate index of each slot.

        All LM look-ups of the text are done in three batched searches first
        (bigram pairs, then the trigram triples whose both bigrams exist);
        the dynamic programme then walks small per-position tensors.
        """
        lm = self.lm
        n = len(slots)
        if n == 0:
            return []
        # two context positions in front (<s> <s> at the start of a text)
        T = n + 2
        cand_lists = [s.cands for s in slots]
        K = np.empty(T, dtype=np.int64)
        K[:2] = 1
        K[2:] = list(map(len, cand_lists))
        off = np.zeros(T + 1, dtype=np.int64)
        np.cumsum(K, out=off[1:])
        # ids and channel costs of every candidate: joined from the packed copies when every
        # slot has them (slots() makes Cands), else read in C loops (map + itemgetter: no
        # Python code and no GC-tracked temporaries per candidate)
        n_cands = int(off[-1]) - 2
        W = np.empty(n_cands + 2, dtype=np.int64)
        W[:2] = ctx
        CH = np.zeros(n_cands + 2, dtype=np.float32)
        if all(type(c) is Cands for c in cand_lists):
            packed = cast(list[Cands], cand_lists)  # checked just above
            W[2:] = np.frombuffer(b"".join([c.ids for c in packed]), dtype=np.int32)
            CH[2:] = np.frombuffer(b"".join([c.costs for c in packed]), dtype=np.float32)
        else:
            chain = itertools.chain.from_iterable
            W[2:] = np.fromiter(map(_FIRST, chain(cand_lists)), dtype=np.int64, count=n_cands)
            CH[2:] = np.fromiter(map(_THIRD, chain(cand_lists)), dtype=np.float64, count=n_cands)
        np.negative(CH, out=CH)
        # ---- bigram pairs for t >= 1: (j in t-1, k in t), in position, then j, then k
        # order; built by repeats from the candidates of t-1 (no integer division)
        pos_c = np.repeat(np.arange(T), K)  # position of each candidate
        loc_c = np.arange(n_cands + 2) - off[pos_c]  # its index at that position
        n_left = int(off[T - 1])  # candidates at positions 0 .. T-2: left ends of pairs
        K_next = K[pos_c[:n_left] + 1]
        first_pair = np.cumsum(K_next) - K_next  # first pair of each left candidate
        jg = np.repeat(np.arange(n_left), K_next)  # left candidate of each pair
        tt2 = pos_c[jg] + 1  # position of each pair's right candidate
        pair_j = loc_c[jg]
        pair_k = np.arange(len(jg)) - first_pair[jg]
        kg = off[tt2] + pair_k
        with_context = getattr(lm, "bigram_with_context", None)
        if with_context is not None:
            lp2, bow2, f2, ctx2 = with_context(W[jg], W[kg])
        else:  # a model that does not tell trigram contexts (the bench's bigram baseline)
            lp2, bow2, f2 = lm.bigram(W[jg], W[kg])
            ctx2 = f2
        lp2 = lp2.astype(np.float32, copy=False)
        bow2 = bow2.astype(np.float32, copy=False)
        # ---- trigrams for t >= 2: only triples (i in t-2, j in t-1, k in t) whose
        # bigram (i, j) is a stored trigram context and (j, k) is stored can have a
        # stored trigram; every other triple backs off: bow(i, j) + lp(k | j), added by
        # broadcasting below
        hi = len(jg) - int(K[T - 2] * K[T - 1])  # pairs at positions 1 .. T-2
        pij = np.flatnonzero(ctx2[:hi])  # pairs (i, j) that are trigram contexts
        tq = tt2[pij]  # position of (i, j): t-1
        Kc = K[tq + 1]
        rep = np.repeat(pij, Kc)
        tq = np.repeat(tq, Kc)
        kst = np.arange(len(rep)) - np.repeat(np.cumsum(Kc) - Kc, Kc)  # k local
        pjk = first_pair[kg[rep]] + kst  # the pair (j, k)
        ok = np.flatnonzero(f2[pjk])  # positions, not a mask: one pass for the four gathers
        rep, tq, kst, pjk = rep[ok], tq[ok], kst[ok], pjk[ok]
        jl = pair_k[rep]
        if len(rep):
            il = pair_j[rep]
            lp3, f3 = lm.trigram_keys(W[jg[rep]], W[kg[rep]], W[kg[pjk]])
            f3 = np.flatnonzero(f3)
            rep, tq, kst, jl, il, lp3 = rep[f3], tq[f3], kst[f3], jl[f3], il[f3], lp3[f3]
            lp3 = lp3.astype(np.float32)
        # ---- Viterbi over states (j at t-1, k at t), independent pieces in lockstep:
        # after two single-candidate positions the state is known, so a piece
        # starts there; all pieces advance one position per step
        one = K == 1
        starts = np.flatnonzero(one[1:-1] & one[:-2]) + 2  # t with K[t-1] == K[t-2] == 1
        starts = np.concatenate(([2], starts[starts >= 3]))
        ends = np.append(starts[1:], T)
        order = np.argsort(starts - ends, kind="stable")  # longest first, ties in text order
        st = starts[order]
        ln = (ends - starts)[order]
        P = len(st)
        Lmax = int(ln[0])
        # active pieces at step d: those longer than d
        nact = (P - np.cumsum(np.bincount(ln, minlength=Lmax + 1))[:Lmax]).tolist()
        # every decoded position in step-major order (step d: the active pieces, longest
        # first, so they are a prefix of the pieces); row `bs[d] + r` is piece r at step d
        ar = np.arange(Lmax)
        live = ar[:, None] < ln[None, :]  # (step, piece)
        rows_t = (st[None, :] + ar[:, None])[live]
        bs = [0] + np.cumsum(nact).tolist()
        R = len(rows_t)
        row_of = np.zeros(T, dtype=np.int64)
        row_of[rows_t] = np.arange(R)
        # ---- per-row transition tensor A[r, i, j, k] (padding: NEG): back-off
        # bow(i, j) + lp(k | j) everywhere, then the stored trigrams lp(k | i j); a
        # step is then max_i score(i, j) + A(i, j, k), plus the channel term of k
        Km = int(K.max())
        KK = Km * Km
        # per row: bow(i, j) of the pair before and lp(k | j) of its own pair, scattered
        # straight into row order (pair 0 is the context pair <s> <s>, position 1; the
        # first `hi` pairs are those at positions 1 .. T-2, the left pair of some row);
        # a step adds them in the same order as a dense tensor would (float32 sums, so
        # ties between quantised log-probs break the same way)
        pair_cell = pair_j * Km + pair_k
        B: npt.NDArray[np.float32] = np.zeros(R * KK, dtype=np.float32)
        B[row_of[tt2[:hi] + 1] * KK + pair_cell[:hi]] = bow2[:hi]
        B = B.reshape(R, Km, Km)  # (R, i, j)
        L: npt.NDArray[np.float32] = np.full(R * KK, NEG, dtype=np.float32)
        L[row_of[tt2[1:]] * KK + pair_cell[1:]] = lp2[1:]
        L = L.reshape(R, 1, Km, Km)  # (R, 1, j, k)
        if len(rep):
            rr = row_of[tq + 1]
            de = np.searchsorted(bs, rr, side="right") - 1  # step of each stored trigram
            rl = rr - np.asarray(bs)[de]  # its piece rank = row within the step
            eo = np.argsort(de, kind="stable")
            e_tot = (((rl * Km + il) * Km + jl) * Km + kst)[eo]
            e_sc = ((rl * Km + il) * Km + jl)[eo]
            e_lp = lp3[eo]
            eb = np.searchsorted(de[eo], np.arange(Lmax + 1)).tolist()
        else:
            eb = [0] * (Lmax + 1)
        CHB: npt.NDArray[np.float32] = np.full(R * Km, NEG, dtype=np.float32)
        CHB[row_of[pos_c[2:]] * Km + loc_c[2:]] = CH[2:]  # candidates 0, 1: the context
        CHB = CHB.reshape(R, 1, Km)  # (R, 1, k)
        score = np.full((P, Km, Km), NEG, dtype=np.float32)
        score[:, 0, 0] = 0.0
        backs: list[np.ndarray] = []
        s_out: list[np.ndarray] = []
        for d, n in enumerate(nact):
            sc = score[:n]
            b0, b1 = bs[d], bs[d + 1]
            # back-off everywhere: score(i, j) + bow(i, j) + lp(k | j) ...
            tot = (sc + B[b0:b1])[:, :, :, None] + L[b0:b1]  # (n, i, j, k)
            e0, e1 = eb[d], eb[d + 1]
            if e1 > e0:  # ... then the stored trigrams: score(i, j) + lp(k | i j)
                tot.reshape(-1)[e_tot[e0:e1]] = sc.reshape(-1)[e_sc[e0:e1]] + e_lp[e0:e1]
            backs.append(tot)
            score = _MAX(tot, axis=1)  # argmax only on the traced path (a full argmax costs 4x the max)
            score += CHB[b0:b1]
            s_out.append(score)
        # trace back, all pieces at once (longest first: the active ones are a prefix)
        out = np.zeros((P, Lmax), dtype=np.int64)
        cj = np.zeros(P, dtype=np.int64)
        ck = np.zeros(P, dtype=np.int64)
        pieces = np.arange(P)
        for d in range(Lmax - 1, -1, -1):
            n = nact[d]
            n0 = nact[d + 1] if d + 1 < Lmax else 0
            if n > n0:  # pieces whose last position is d
                J0, K0 = np.divmod(s_out[d][n0:n].reshape(n - n0, -1).argmax(axis=1), Km)
                ck[n0:n] = K0
                cj[n0:n] = J0
                out[n0:n, d] = K0
                if d >= 1:
                    out[n0:n, d - 1] = J0
            if d >= 2:
                ci = backs[d][pieces[:n], :, cj[:n], ck[:n]].argmax(axis=1)
                out[:n, d - 2] = ci
                ck[:n] = cj[:n]
                cj[:n] = ci
        choice = np.zeros(T, dtype=np.int64)
        mask = ar[None, :] < ln[:, None]
        choice[(st[:, None] + ar[None, :])[mask]] = out[mask]
        return choice[2:].tolist()

    def restore(self, text: str, mode: str | None = None, channel: str | None = None) -> tuple[str, list[Change]]:
        """The restored text and its changes.

        `mode`: the input kind (`vie`, `eng`, `strip`; detected when None).
        `channel`: the confusion channel of the OCR engine that read marked text
        (`trueocr`; `OcrEngine.confusions`); Tesseract's `vie` when None or not shipped.
        """
        text = nfc(text)
        if mode is None:
            mode = self.detect_mode(text)
        slots = self.slots(text, mode, channel if mode == "vie" and channel in self.channels else mode)
        choice = self.decode(slots)
        pieces: list[str] = []
        changes: list[Change] = []
        pos = 0
        out_len = 0
        last_end = -1
        for slot, c in zip(slots, choice):
            if slot.fixed or slot.start < last_end:
                continue
            _, form, cost = slot.cands[c]
            written = slot.text.lower()
            if form == written and cost == 0.0 or form.lower() == written:
                continue  # the word as written (its casing included) stays
            new = apply_case(form, slot.text) if form != slot.text else form
            if new == slot.text:
                continue
            pieces.append(text[pos:slot.start])
            out_len += slot.start - pos
            changes.append(Change(out_len, out_len + len(new), slot.text, new))
            pieces.append(new)
            out_len += len(new)
            pos = slot.end
            last_end = slot.end
        pieces.append(text[pos:])
        return "".join(pieces), changes
