"""Restore fast paths: the precomputed English-OCR candidate table and the sparse trigram Viterbi
must give exactly what the slow paths give."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from pipeline.restore import get_engine
from pipeline.restore import lm as lmmod
from pipeline.restore.engine import MAX_CANDIDATES, Slot
from pipeline.restore.table import PB


@pytest.fixture(scope="module")
def engine():
    return get_engine()


def test_table_loaded_and_current(engine):
    # a table whose fingerprint (channel, vocabulary, TABLE_VERSION) does not match is not used
    assert engine.table is not None, "models/restore/cand_eng.npz missing or stale: python -m pipeline.restore.train --skip-lm --skip-channel"


def test_table_entries_equal_live_search(engine):
    ch = engine.channels["eng"]
    forms = ["cia", "dugc", "x4", "nhiém", "huyén", "ctia", "quyét", "hoach", "trudng", "dé"]
    t = engine.table
    all_forms = t.forms
    step = max(1, len(all_forms) // 40)
    forms += [f for k, f in enumerate(all_forms) if k % step == 0]
    for f in forms:
        pb = f.startswith(PB)
        low = f[1:] if pb else f
        hit = t.get(low, pb)
        assert hit is not None, f
        live = ch.candidates(low, MAX_CANDIDATES, capital_pb=pb)
        assert [(i, w) for i, w, _ in hit] == [(i, w) for i, w, _ in live], f
        assert np.allclose([c for *_, c in hit], [c for *_, c in live], atol=1e-4), f


def _brute(engine, slots):
    """Exhaustive trigram scoring of every candidate sequence (tiny inputs only)."""
    lm = engine.lm
    best, arg = -1e18, None
    for combo in itertools.product(*[range(len(s.cands)) for s in slots]):
        ids = [lmmod.BOS_ID, lmmod.BOS_ID] + [s.cands[c][0] for s, c in zip(slots, combo)]
        total = -sum(s.cands[c][2] for s, c in zip(slots, combo))
        for t in range(2, len(ids)):
            u, v, w = (np.array([x]) for x in ids[t - 2:t + 1])
            lp2, _, f2uv = lm.bigram(u, v)
            lp2vw, _, f2vw = lm.bigram(v, w)
            _, bow_uv, _ = lm.bigram(u, v)
            lp3, f3 = lm.trigram_keys(u, v, w)
            total += float(lp3[0]) if (f3[0] and f2uv[0] and f2vw[0]) else float(bow_uv[0] + lp2vw[0])
        if total > best + 1e-4:
            best, arg = total, list(combo)
    return arg


@pytest.mark.parametrize("text, mode", [
    ("Ké hoach cai cach hanh chinh nim 2021 cia huyén", "eng"),
    ("Uy ban nhan dan tinh ban hanh ke hoach", "strip"),
])
def test_sparse_viterbi_equals_exhaustive(engine, text, mode):
    slots = engine.slots(text, mode)
    # keep it small: at most 3 candidates per slot
    slots = [Slot(s.start, s.end, s.text, s.cands[:3], s.fixed) for s in slots][:7]
    assert engine.decode(slots) == _brute(engine, slots)
