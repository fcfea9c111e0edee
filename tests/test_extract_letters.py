"""Own gold letters (tests/letters): text fast, rendered scans slow."""

import json
from pathlib import Path

import pytest

from benchmarks.extract import letter_text, record_for_input, record_for_text, render_letter, score

LETTERS = sorted(Path(__file__).parent.joinpath("letters").glob("*.json"))


def test_at_least_ten_letters_of_each_kind():
    kinds = {json.loads(p.read_text())["doc_type"] for p in LETTERS}
    assert len(LETTERS) >= 10 and {"Kế hoạch", "Công văn", "Quyết định", "Thông báo"} <= kinds


@pytest.mark.parametrize("gold_path", LETTERS, ids=[p.stem for p in LETTERS])
def test_letter_text(gold_path):
    gold = json.loads(gold_path.read_text())
    record = record_for_text(letter_text(gold_path.with_suffix(".txt")))
    scores, wrong = score(record, gold)
    assert not wrong
    assert sum(scores.values()) / len(scores) >= 0.95, scores
    for expected in gold.get("tasks_gold", []):
        assert any(t["responsible"] == expected["responsible"] and t["cooperating"] == expected["cooperating"]
                   and t["deadline"] == expected["deadline"] for t in record["tasks"]), expected


@pytest.mark.slow
@pytest.mark.parametrize("gold_path", LETTERS, ids=[p.stem for p in LETTERS])
def test_letter_scan(gold_path, tmp_path):
    gold = json.loads(gold_path.read_text())
    tiff = render_letter(gold_path.with_suffix(".txt"), tmp_path / f"{gold_path.stem}.tiff", seed=1)
    scores, wrong = score(record_for_input(tiff), gold)
    assert not wrong, wrong
    assert sum(scores.values()) / len(scores) >= 0.90, scores
