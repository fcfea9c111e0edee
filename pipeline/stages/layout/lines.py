"""Words -> lines of one column each.

Tesseract and PDF text layers both give words with boxes; a "line" of either
may run across the page's two columns (the header's `Số: 58/CĐ-VPCP` and
`Hà Nội, ngày 10 tháng 01 năm 2026` sit on one baseline).  A line is cut
where the gap between two words is far wider than a space, so each piece
belongs to one column and the zone rules can place it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from pipeline.core.types import PageText, TextLine, Word

# A gap wider than this many line heights separates two columns.  A space in
# justified body text is under one height; the header's column gap is many.
COLUMN_GAP = 2.2


def median(values: Sequence[float], default: float = 0.0) -> float:
    """The upper median of `values` (the layout's one median), `default` when there are none."""
    ordered = sorted(values)
    return float(ordered[len(ordered) // 2]) if ordered else default


def make_line(words: list[Word], page: int, ocr: bool) -> TextLine:
    boxes = [w.box for w in words if w.box]
    box = (min(b[0] for b in boxes), min(b[1] for b in boxes),
           max(b[0] + b[2] for b in boxes), max(b[1] + b[3] for b in boxes))
    confidence = None
    if ocr:
        values = [max(0.0, w.confidence) / 100.0 for w in words]
        confidence = round(sum(values) / len(values), 3)
    return TextLine(text=" ".join(w.text for w in words), page=page, box=box, confidence=confidence, words=words)


def page_lines(page: PageText, texts: list[str] | None = None) -> list[TextLine]:
    """The page's lines, each within one column, top to bottom then left to right.

    `texts` replaces the words' texts (the restored forms of OCR words), index for index.
    """
    grouped: dict[int, list[Word]] = defaultdict(list)
    for index, word in enumerate(page.words):
        if word.box is None or not word.text.strip():
            continue
        if texts is not None and texts[index] != word.text:
            word = Word(text=texts[index], confidence=word.confidence, line=word.line, box=word.box)
        grouped[word.line].append(word)
    ocr = page.source == "ocr"
    lines: list[TextLine] = []
    for words in grouped.values():
        words.sort(key=lambda w: w.box[0] if w.box else 0)
        height = max(median([w.box[3] for w in words if w.box]), 1.0)
        run: list[Word] = [words[0]]
        for word in words[1:]:
            previous = run[-1]
            assert word.box is not None and previous.box is not None
            gap = word.box[0] - (previous.box[0] + previous.box[2])
            if gap > COLUMN_GAP * height:
                lines.append(make_line(run, page.number, ocr))
                run = []
            run.append(word)
        lines.append(make_line(run, page.number, ocr))
    lines.sort(key=lambda line: (line.box[1], line.box[0]))
    return lines
