"""Finding the marks on a page: where other hands' ink stands, so zones leave it out.

The text rules live in extractors/marks.py; here they are joined with the
page's geometry: an e-signature caption is a cluster of caption lines (and
the organisation printed in capitals right above its e-mail), an arrival
stamp is the rectangle around its `ĐẾN` and the slots printed under it, a
page number is a bare number in the top or bottom margin.  Words inside a
stamp's rectangle are taken out of the lines they were read into, since OCR
often joins a stamp to the letter's text beside it.
"""

from __future__ import annotations

import re

from extractors.marks import CAPTION_LABEL, COPY_LINE, EMAIL, TIMESTAMP, is_caption_line, is_stamp_slot, urgency_of
from extractors.text import is_junk, is_upper_line
from pipeline.core.types import Box, Mark, TextLine
from pipeline.stages.layout.lines import make_line

# Slots of an arrival stamp that never start a letter's own line (`Số:`, `Ngày:` do, so they need a `ĐẾN` near).
STAMP_ONLY = re.compile(r"^\W{0,3}(?:Chuyển|Chuyen|Giờ|Lưu\s+hồ\s+sơ|Số\s+và\s+ký\s+hiệu)\b", re.I)
# The stamp's `ĐẾN` as one word (read `ĐỀN)`, `DEN`), in capitals.
ARRIVAL_ALONE = re.compile(r"\W{0,2}[ĐD][ẾỀEÉÈ]N\W{0,2}")
# Lines worth keeping however badly read: the header's number and date slots (handwriting reads low).
SLOT_WORDS = re.compile(r"S[ốoôóồ6]\s*[:.]|ng[àaá]y|th[áa]ng|n[ăa]m", re.I)
# An OCR line this unsure and this short is a speck, a seal or a signature stroke.
SPECK_CONFIDENCE = 0.35
SPECK_LENGTH = 16
# Printed lines read below this mean confidence do not occur on the dev scans; handwritten notes do.
NOTE_CONFIDENCE = 0.3
# OCR words this much shorter than the page's lines are not the letter's print.
SPECK_HEIGHT = 0.4


def _median_height(lines: list[TextLine]) -> float:
    heights = sorted(line.height for line in lines if line.height > 0)
    return float(heights[len(heights) // 2]) if heights else 40.0


def _inside(box: Box, rect: Box) -> bool:
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    return rect[0] <= cx <= rect[2] and rect[1] <= cy <= rect[3]


def _union(boxes: list[Box]) -> Box:
    return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))


def _caption_marks(lines: list[TextLine], height: float, page_width: int) -> tuple[list[Mark], set[int]]:
    """E-signature captions and `SAO Y` lines, with the capitals printed above an e-mail."""
    # A caption is a narrow box; an e-mail or a time inside a sentence of the body is not one.
    taken = {i for i, line in enumerate(lines) if is_caption_line(line.text)
             and (CAPTION_LABEL.search(line.text) or line.box[2] - line.box[0] < 0.45 * page_width)}
    if not taken:
        return [], set()
    # A boxed caption: `TRUNG TÂM CÔNG BÁO VÀ TIN HỌC` / e-mail / time; its name stands just above the e-mail.
    for i in sorted(taken):
        if not (EMAIL.search(lines[i].text) or TIMESTAMP.search(lines[i].text)):
            continue
        for j in range(i - 1, max(-1, i - 4), -1):
            above = lines[j]
            close = 0 <= lines[i].box[1] - above.box[3] < 1.6 * height
            overlap = above.box[0] < lines[i].box[2] and lines[i].box[0] < above.box[2]
            if j in taken or not (close and overlap and is_upper_line(above.text)):
                break
            taken.add(j)
    # Pieces of the caption read on its own lines (`CHINHPHU.VN` beside the time) sit inside its box.
    rect = _union([lines[i].box for i in taken])
    for i, line in enumerate(lines):
        if i not in taken and _inside(line.box, rect) and len(line.text) < 40:
            taken.add(i)
    clusters: list[list[int]] = []
    for i in sorted(taken, key=lambda k: lines[k].box[1]):
        if clusters and lines[i].box[1] - max(lines[k].box[3] for k in clusters[-1]) < 2.5 * height:
            clusters[-1].append(i)
        else:
            clusters.append([i])
    marks = []
    for cluster in clusters:
        copy = any(COPY_LINE.match(lines[k].text) for k in cluster)
        ordered = [lines[k] for k in sorted(cluster, key=lambda k: lines[k].box[1])]
        marks.append(Mark(kind="copy" if copy else "e-signature", lines=ordered))
    return marks, taken


def _stamp_rects(lines: list[TextLine], height: float) -> list[Box]:
    """Rectangles of arrival stamps: each `ĐẾN` with the stamp's slots and the receiving office above it."""
    rects: list[Box] = []
    for anchor in lines:
        word = next((w for w in anchor.words if ARRIVAL_ALONE.fullmatch(w.text)), None)
        if word is None or word.box is None:
            continue
        x0, y0 = word.box[0], word.box[1]
        parts: list[Box] = [(x0, y0, x0 + word.box[2], y0 + word.box[3])]
        after = anchor.text[anchor.text.find(word.text) + len(word.text):]
        slots = [line for line in lines if abs(line.box[0] - x0) < 8 * height and 0 <= line.box[1] - y0 < 6 * height
                 and (is_stamp_slot(line.text) or STAMP_ONLY.match(line.text))]
        # `ĐẾN NĂM 2030` in a heading is not a stamp: a stamp has its slots (`Số:`, `Ngày:`, `Chuyển:`).
        if not slots and not re.match(r"^\W{0,3}(Số|Ngày|Giờ)", after, re.I):
            continue
        for line in lines:
            near_x = abs(line.box[0] - x0) < 8 * height
            below = 0 <= line.box[1] - y0 < 6 * height
            above = 0 < y0 - line.box[3] < 2.5 * height
            narrow = line.box[2] - line.box[0] < 14 * height
            if near_x and below and narrow and (is_stamp_slot(line.text) or STAMP_ONLY.match(line.text)):
                parts.append(line.box)
            elif above and near_x and narrow and is_upper_line(line.text) and not SLOT_WORDS.search(line.text):
                parts.append(line.box)  # the receiving office's name heads the stamp
        rect = _union(parts)
        rects.append((rect[0] - int(0.3 * height), rect[1] - int(0.3 * height),
                      rect[2] + int(0.3 * height), rect[3] + int(0.3 * height)))
    return rects


def separate_marks(lines: list[TextLine], page_width: int, page_height: int) -> tuple[list[Mark], list[TextLine]]:
    """(marks, the letter's own lines) of one page."""
    height = _median_height(lines)
    marks, taken = _caption_marks(lines, height, page_width)
    rest = [line for i, line in enumerate(lines) if i not in taken]

    # Arrival stamps: their words leave whatever line OCR read them into.
    rects = _stamp_rects(rest, height)
    if rects:
        stamp_lines: list[TextLine] = []
        kept: list[TextLine] = []
        for line in rest:
            inside = [w for w in line.words if w.box and any(_inside((w.box[0], w.box[1], w.box[0] + w.box[2],
                                                                      w.box[1] + w.box[3]), r) for r in rects)]
            if not inside:
                kept.append(line)
                continue
            stamp_lines.append(make_line(inside, line.page, line.confidence is not None))
            outside = [w for w in line.words if w not in inside]
            if outside:
                kept.append(make_line(outside, line.page, line.confidence is not None))
        marks.append(Mark(kind="received", lines=sorted(stamp_lines, key=lambda ln: ln.box[1])))
        rest = kept

    own: list[TextLine] = []
    for line in rest:
        text = line.text.strip()
        if urgency_of(text):
            marks.append(Mark(kind="urgency", lines=[line]))
        elif re.fullmatch(r"[-–—\s]*\d{1,3}[-–—\s]*", text) and (line.box[1] < 0.09 * page_height
                                                               or line.box[3] > 0.92 * page_height):
            marks.append(Mark(kind="page-number", lines=[line]))
        elif is_junk(text) or (line.confidence is not None and line.confidence < SPECK_CONFIDENCE
                               and len(text) <= SPECK_LENGTH and not SLOT_WORDS.search(text)):
            continue  # specks, seal rims, signature strokes
        elif line.confidence is not None and line.height < SPECK_HEIGHT * height and len(text) <= SPECK_LENGTH:
            continue  # print far smaller than the page's: a stamp's fine print or noise read as words
        elif line.confidence is not None and line.confidence < NOTE_CONFIDENCE and not SLOT_WORDS.search(text):
            continue  # however long, a line this unsure is handwriting in the margin or a stamp's ink
        else:
            own.append(line)
    own.sort(key=lambda line: (line.box[1], line.box[0]))
    return marks, own
