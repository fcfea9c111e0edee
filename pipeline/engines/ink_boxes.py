"""Word boxes fitted to the ink a word covers on the page.

The neural engine places a word where its characters fell in the CTC
timesteps and gives it the whole detected line's height (the line box is
padded and holds the ascenders, marks and descenders of every word on it).
Tesseract's boxes, by contrast, hug each word's ink.  The header slots read
heights and edges off the words next to the clerk's handwriting (`Số:`, the
code, `ngày`, `tháng`, `năm`): a `năm` 78 px high instead of 37 makes the
slot finder take the printed capitals for twice their size, and a word's
edge a few timesteps off lets printed letters into the slot.  So each word's
box is shrunk to the ink under it; no library does this for a box from a
CTC alignment, hence by hand (a threshold, two projections).
"""

from __future__ import annotations

import numpy as np

Box = tuple[int, int, int, int]  # left, top, width, height
# A line crop with less contrast than this (grey levels) is blank or a smudge: its words keep their boxes.
MIN_CONTRAST = 40
# Rows of ink separated by at most this share of the line's height belong to one word
# (a mark above its letter, the dot of an `i`); a wider gap is another line's ink in the box.
MARK_GAP = 0.2
# Rows with fewer ink pixels than this are speckle (a column counts with one: a thin serif is the word's edge).
MIN_INK = 2


def ink_mask(crop: np.ndarray) -> np.ndarray | None:
    """The crop's dark pixels (Otsu's threshold), or None when it has no contrast to speak of."""
    import cv2

    if crop.size == 0 or int(crop.max()) - int(crop.min()) < MIN_CONTRAST:
        return None
    _, mask = cv2.threshold(np.ascontiguousarray(crop, dtype=np.uint8), 0, 1, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    return mask.astype(bool)


def _main_band(rows: np.ndarray, max_gap: int) -> tuple[int, int] | None:
    """The run of ink rows (with gaps up to `max_gap`) holding the most ink: (first, last)."""
    inked = np.flatnonzero(rows >= MIN_INK)
    if inked.size == 0:
        return None
    breaks = np.flatnonzero(np.diff(inked) > max_gap + 1)
    starts = np.concatenate(([0], breaks + 1))
    ends = np.concatenate((breaks, [inked.size - 1]))
    best = max(range(len(starts)), key=lambda k: int(rows[inked[starts[k]]:inked[ends[k]] + 1].sum()))
    return int(inked[starts[best]]), int(inked[ends[best]])


def fit_box(mask: np.ndarray, box: Box, origin: tuple[int, int]) -> Box:
    """`box` (page pixels) shrunk to the ink of `mask` (the line's crop at `origin`) under it."""
    left, _, width, _ = box
    x0 = max(0, left - origin[0])
    x1 = min(mask.shape[1], left + width - origin[0])
    if x1 <= x0:
        return box
    part = mask[:, x0:x1]
    band = _main_band(part.sum(axis=1), max(2, int(MARK_GAP * mask.shape[0])))
    if band is None:
        return box
    part = part[band[0]:band[1] + 1]
    cols = np.flatnonzero(part.sum(axis=0) >= 1)
    if cols.size == 0:
        return box
    new_left = origin[0] + x0 + int(cols[0])
    new_top = origin[1] + band[0]
    return (new_left, new_top, int(cols[-1] - cols[0]) + 1, band[1] - band[0] + 1)


def fit_words(grey: np.ndarray, line_box: tuple[int, int, int, int], boxes: list[Box]) -> list[Box]:
    """Each word box of the line (x0, y0, x1, y1 on `grey`) shrunk to the ink under it."""
    x0, y0, x1, y1 = (max(0, v) for v in line_box)
    mask = ink_mask(grey[y0:y1, x0:x1])
    if mask is None:
        return boxes
    return [fit_box(mask, box, (x0, y0)) for box in boxes]
