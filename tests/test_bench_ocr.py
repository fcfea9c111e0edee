"""The OCR engines benchmark's report (benchmarks/ocr.py): what `make bench-ocr` tells a reader."""

from __future__ import annotations

from pathlib import Path

from benchmarks.ocr import BenchPage, Pass, Result, cer, folded_cer, over_rounds, report


def _pages() -> list[BenchPage]:
    truth = "Số: 12/UBND-VP\nKính gửi: Sở Nội vụ"
    return [BenchPage("letter", kind, Path(f"letter-{kind}.png"), truth) for kind in ("scan", "photo")]


def test_speed_is_reported_cold_and_steady_for_every_reader_alike() -> None:
    pages = _pages()
    truth = pages[0].truth
    results = [
        Result("`tesseract -l vie` (command)", [truth, truth], Pass(6.0, 2.0), Pass(6.0, 2.0)),
        Result("congvan `neural`", [truth, truth.replace("Số", "Sổ")], Pass(12.0, 4.0), Pass(3.0, 1.0), "neural"),
        Result("congvan `neural` + restore", [truth, truth], Pass(0.1, 0.02), engine="neural", restore_only=True),
    ]
    table = report(pages, results, jobs=2)
    assert "pages/min cold | pages/min steady | CPU s/page cold | CPU s/page steady" in table
    # 2 pages: 60 x 2 / 12 s cold, 60 x 2 / 3 s steady; CPU 4 / 2 and 1 / 2 seconds a page.
    assert "| congvan `neural` | 0.00% (0.00%) |" in table and "| 10.0 | 40.0 | 2.00 | 0.50 |" in table
    assert "| restorer only | | +0.01 |" in table


def test_rounds_give_medians_and_each_rounds_ratio_to_the_command() -> None:
    """`--rounds 3`: a slow spell in one round (the machine busy elsewhere) moves neither median."""
    pages = _pages()
    truth = pages[0].truth
    command = over_rounds([Result("`tesseract -l vie` (command)", [truth, truth], Pass(s, 2.0), Pass(s, 2.0))
                           for s in (6.0, 6.0, 12.0)])
    neural = over_rounds([Result("congvan `neural`", [truth, truth], Pass(c, 1.0), Pass(w, 0.5), "neural")
                          for c, w in ((4.0, 3.0), (4.0, 3.0), (4.0, 3.0))])
    table = report(pages, [command, neural], jobs=2)
    # medians: the command 6 s a pass (20 pages/min), neural 4 s cold and 3 s steady (30 and 40)
    assert "| `tesseract -l vie` (command) | 0.00% (0.00%) | 0.00% (0.00%) | 20.0 | 20.0 |" in table
    assert "| 30.0 | 40.0 |" in table
    assert "| round 1 | round 2 | round 3 | median |" in table
    assert "| congvan `neural` | 1.50; 2.00 | 1.50; 2.00 | 3.00; 4.00 | **1.50; 2.00** |" in table


def test_character_error_rate_counts_marks_and_folds_only_typography() -> None:
    assert cer("Sổ: 12", "Số: 12") == 1 / 6
    assert cer("a  b\nc", "a b c") == 0.0
    assert folded_cer('Độc lập - Tự do - "Hạnh phúc"', "Độc lập – Tự do – “Hạnh phúc”\n________") == 0.0


def test_rendered_letters_come_back_as_image_only_pages_in_order(tmp_path) -> None:
    """benchmarks/rendered_extract.py: every page degraded, one PDF the pipeline must OCR page by page."""
    import numpy as np

    from benchmarks.rendered_extract import degraded_pdf
    from pipeline.stages.load import identify, load

    pages = [np.full((1100, 780), 255, np.uint8) for _ in range(3)]
    for number, page in enumerate(pages):
        page[200 + 100 * number:240 + 100 * number, 100:600] = 0  # a bar lower on each page
    for kind in ("scan", "photo"):
        document = load(identify(degraded_pdf(pages, kind, seed=1, out=tmp_path / f"letter-{kind}.pdf")))
        assert document.needs_ocr and len(document.pages) == 3
        assert all(page.text is None for page in document.pages)
