"""Restore fast paths: the precomputed English-OCR candidate table and the sparse trigram Viterbi
must give exactly what the slow paths give."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from pipeline.stages.restore import get_engine
from pipeline.stages.restore import lm as lmmod
from pipeline.stages.restore.engine import MAX_CANDIDATES, Cands, Slot
from pipeline.stages.restore.table import PB


@pytest.fixture(scope="module")
def engine():
    return get_engine()


def test_table_loaded_and_current(engine):
    # a table whose fingerprint (channel, vocabulary, TABLE_VERSION) does not match is not used
    assert engine.table is not None, ("models/restore/cand_eng.npz missing or stale: "
                                      "python -m pipeline.training.restore_models --skip-lm --skip-channel")


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


def test_hashed_keys_match_a_sorted_search():
    rng = np.random.default_rng(0)
    table = np.unique(rng.integers(0, 10**12, 5000))
    index = lmmod.HashedKeys(table)
    queries = np.concatenate([table[::7], rng.integers(0, 10**12, 3000), [0, 10**12]])
    pos, found = index.find(queries)
    at = np.minimum(np.searchsorted(table, queries), len(table) - 1)
    expect = table[at] == queries
    assert np.array_equal(found, expect)
    assert np.array_equal(pos[found], at[expect])
    empty = lmmod.HashedKeys(np.zeros(0, np.int64))
    assert not empty.find(queries)[1].any()


def test_trigram_contexts_cover_every_stored_trigram(engine):
    # the decoder only looks up triples whose first pair is flagged as a context
    lm = engine.lm
    k3 = lm.k3.keys[::997]
    u, v, w = k3 // lm.V // lm.V, k3 // lm.V % lm.V, k3 % lm.V
    _, _, found, is_context = lm.bigram_with_context(u, v)
    assert found.all() and is_context.all()
    assert lm.trigram_keys(u, v, w)[1].all()


def test_decode_same_with_and_without_packed_candidates(engine):
    text = "Ké hoach cai cach hanh chinh nim 2021 cia huyén, Uy ban nhan dan tinh ban hanh."
    slots = engine.slots(text, "eng")
    assert all(type(s.cands) is Cands for s in slots)
    plain = [Slot(s.start, s.end, s.text, list(s.cands), s.fixed) for s in slots]
    assert engine.decode(slots) == engine.decode(plain)


def test_word_cost_with_shared_rows_is_the_same(engine):
    ch = engine.channels["eng"]
    for obs in ("truodc", "nwéc", "clung", "x4"):
        rows = {}
        for key in ch.keys_for(obs):
            for i in engine.by_key[key][:8]:
                w = engine.vocab[i]
                assert ch.word_cost(obs, w, rows) == ch.word_cost(obs, w)
