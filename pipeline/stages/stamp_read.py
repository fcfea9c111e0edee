"""Red rectangular stamps on page one of a colour scan, read at their own angle (`HỎA TỐC`, `KHẨN`).

Decree 30/2020/NĐ-CP has the urgency (`KHẨN`, `THƯỢNG KHẨN`, `HỎA TỐC`) and
secrecy marks stamped near the header, in red, inside a frame; by hand they
land at any angle, and the page-wide OCR pass, which reads level lines, reads
them as specks.  Here the red ink of page one is found (a colour mask), each
blob shaped like a framed line of text (a long, narrow rectangle, not a round
seal) is turned level by its own minimum-area rectangle and read as one line
by Tesseract, both ways up.  Only OCR'd colour pages are read; a grey scan has
no red to find.
"""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np

from pipeline.core.types import Box, PageText
from pipeline.engines import OcrFailed, PageTimedOut
from pipeline.engines.tesseract import image_to_data, words_to_text
from pipeline.stages.signer_read import page_in_colour

log = logging.getLogger(__name__)

# A stamp's frame: its long side a twentieth to a third of the page's width, two to ten times its short side.
MIN_LONG, MAX_LONG = 0.05, 0.35
MIN_ASPECT, MAX_ASPECT = 1.8, 10.0
STAMP_PART = 0.6  # stamps near the header: the top of page one
SINGLE_LINE = 7  # Tesseract: the image is one line of text
TIMEOUT_S = 10.0
MAX_STAMPS = 4
GLANCE = 0.25  # the page is first looked at at a quarter of its size, for red ink at all
MIN_RED = 0.0005  # share of red pixels below which there is no stamp to read


def red_ink(image: np.ndarray) -> np.ndarray:
    """255 where the pixel is red ink (a seal, a stamp), else 0."""
    r, g, b = (image[..., i].astype(np.int16) for i in range(3))
    return (((r > 110) & (r - g > 50) & (r - b > 40)) * 255).astype(np.uint8)


def stamp_boxes(mask: np.ndarray) -> list[tuple[tuple[float, float], tuple[float, float], float]]:
    """Minimum-area rectangles (centre, size, angle) of the red blobs shaped like a framed line."""
    height, width = mask.shape
    side = max(3, width // 150)  # joins a stamp's letters and frame into one blob
    closed = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, np.ones((side, side), np.uint8))
    contours, _ = cv2.findContours(closed, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    found = []
    for contour in contours:
        (cx, cy), (w, h), angle = cv2.minAreaRect(contour)
        long, short = max(w, h), min(w, h)
        if not MIN_LONG * width <= long <= MAX_LONG * width or short < 1 or cy > STAMP_PART * height:
            continue
        if MIN_ASPECT <= long / short <= MAX_ASPECT:
            found.append(((cx, cy), (w, h), angle))
    return sorted(found, key=lambda r: -r[1][0] * r[1][1])[:MAX_STAMPS]


def _level(mask: np.ndarray, rect: tuple[tuple[float, float], tuple[float, float], float]) -> np.ndarray:
    """The stamp turned level, its red ink black on white."""
    (cx, cy), (w, h), angle = rect
    long, short = max(w, h), min(w, h)
    turn = angle if w >= h else angle - 90
    matrix = cv2.getRotationMatrix2D((cx, cy), turn, 1.0)
    level = cv2.warpAffine(mask, matrix, (mask.shape[1], mask.shape[0]), flags=cv2.INTER_NEAREST)
    x0, y0 = max(0, int(cx - long / 2)), max(0, int(cy - short / 2))
    ink = level[y0:int(cy + short / 2), x0:int(cx + long / 2)]
    if ink.size:
        # The frame's sides are lines far longer than a letter: taken out, or Tesseract reads no line.
        rows, cols = ink.shape
        frame = cv2.bitwise_or(cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((1, max(3, cols // 2)), np.uint8)),
                               cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((max(3, rows // 2), 1), np.uint8)))
        ink = cv2.subtract(ink, cv2.dilate(frame, np.ones((3, 3), np.uint8)))
    return cv2.copyMakeBorder(255 - ink, 20, 20, 20, 20, cv2.BORDER_CONSTANT, value=255)


def red_stamp_texts(path: Path, page: PageText) -> list[tuple[str, Box]]:
    """(text read both ways up, box on the page) of each red framed stamp on an OCR'd colour page."""
    if page.source != "ocr":
        return []
    glance = page_in_colour(path, page, scale=GLANCE)
    if glance is None or red_ink(glance).mean() < MIN_RED * 255:
        return []  # a grey scan, or no red worth a stamp: not rendered in full
    image = page_in_colour(path, page)
    if image is None:
        return []
    mask = red_ink(image)
    found: list[tuple[str, Box]] = []
    for rect in stamp_boxes(mask):
        crop = _level(mask, rect)
        points = cv2.boxPoints(rect)
        box = (int(points[:, 0].min()), int(points[:, 1].min()), int(points[:, 0].max()), int(points[:, 1].max()))
        texts = []
        for upright in (crop, cv2.rotate(crop, cv2.ROTATE_180)):
            try:
                texts.append(words_to_text(image_to_data(upright, "vie", SINGLE_LINE, dpi=300,
                                                         timeout=TIMEOUT_S))[0].strip())
            except (PageTimedOut, OcrFailed) as error:
                log.debug("stamp on %s page %d not read: %s", path, page.number, error)
        found.append((" | ".join(t for t in texts if t), box))
    return found
