"""A second, colour-aware reading of the signer block (bottom right of the letter's last page).

Decree 30/2020/NĐ-CP puts the signer's printed name under the signature
and the seal.  On a scan, the red seal and the (often blue) signature cross
the name, and the page-wide OCR pass reads the block as specks or not at
all.  Here the block is cut out of the page again, in colour where the
source has it, and read a few ways:

- a colour scan loses its coloured ink first: in the red channel a red seal
  is as light as the paper, and pixels of strong colour (a blue signature)
  are set to white, so only the black print of the name is left;
- a grey scan has no colour to tell the seal by; the seal is printed lighter
  than the name, so the crop is also binarised at darker thresholds.

Each variant is read by Tesseract as one block; the readings are returned,
best first, for the signer extractor to read a name from
(`extractors/signer.py`).  Only OCR'd pages are read again: a text layer
already holds the name.  Nothing here is cached with the OCR pass: it runs
when the layout is read, and only when the page pass found no name.
"""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np

from pipeline.core.types import Box, PageText
from pipeline.engines import OcrFailed, PageTimedOut
from pipeline.engines.tesseract import image_to_data, words_to_text
from pipeline.stages.preprocess import rotate_right_angle

log = logging.getLogger(__name__)

# Share of strongly coloured pixels above which a crop is a colour scan (a seal, a blue signature).
COLOUR_SHARE = 0.002
SATURATED = 70  # HSV saturation of coloured ink; paper and black print stay far below it
# Grey scans: the name is printed black; a seal stamped over it is lighter.
DARK_THRESHOLDS = (110, 80)
BLOCK_LAYOUT = 6  # Tesseract: one uniform block of text
SPARSE_LAYOUT = 11  # Tesseract: sparse text (lines among a seal's and a signature's strokes)
TIMEOUT_S = 20.0
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp", ".gif"}


def page_in_colour(path: Path, page: PageText, scale: float = 1.0) -> np.ndarray | None:
    """Page `page.number` of `path` as RGB, turned and scaled to the frame its OCR word boxes are in
    (times `scale`: a quick look at a quarter of it costs a sixteenth).

    None when the source cannot be read again (moved, or not a PDF or an image).
    """
    if not page.width or not page.height or not path.exists():
        return None
    turned = page.rotated_by % 180 == 90
    frame = (max(1, round(page.width * scale)), max(1, round(page.height * scale)))
    width = frame[1] if turned else frame[0]  # the page's width before it was turned upright
    try:
        if path.suffix.lower() == ".pdf":
            from pdf2image import convert_from_path

            images = convert_from_path(str(path), first_page=page.number, last_page=page.number, size=(width, None))
            if not images:
                return None
            image = np.asarray(images[0].convert("RGB"))
        elif path.suffix.lower() in IMAGE_SUFFIXES:
            from PIL import Image

            with Image.open(path) as picture:
                picture.seek(page.number - 1)
                image = np.asarray(picture.convert("RGB"))
        else:
            return None
    except (OSError, ValueError, EOFError, RuntimeError) as error:  # pdf2image raises its own errors as these
        log.debug("%s page %d not rendered again: %s", path, page.number, error)
        return None
    image = rotate_right_angle(image, page.rotated_by)
    if image.shape[:2] != (frame[1], frame[0]):
        image = cv2.resize(image, frame, interpolation=cv2.INTER_AREA)
    return image


def variants(crop: np.ndarray) -> list[tuple[str, np.ndarray, int]]:
    """(name, binary image, Tesseract layout) of the crop, the likeliest to read the name first."""
    grey = cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY)
    saturation = cv2.cvtColor(crop, cv2.COLOR_RGB2HSV)[..., 1]
    coloured = (saturation > SATURATED) & (grey > 40)

    def otsu(image: np.ndarray) -> np.ndarray:
        return cv2.threshold(image, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)[1]

    if coloured.mean() > COLOUR_SHARE:
        red = crop[..., 0].copy()  # red ink is as bright as paper in the red channel
        red[coloured & (crop[..., 2] > crop[..., 0])] = 255  # blue ink is not: it goes too
        no_colour = grey.copy()
        no_colour[coloured] = 255
        return [("red", otsu(red), BLOCK_LAYOUT), ("no-colour", otsu(no_colour), BLOCK_LAYOUT),
                ("red sparse", otsu(red), SPARSE_LAYOUT)]
    found = [("grey", otsu(grey), BLOCK_LAYOUT)]
    found += [(f"dark {t}", np.where(grey < t, 0, 255).astype(np.uint8), BLOCK_LAYOUT) for t in DARK_THRESHOLDS]
    return found


def read_signer_block(path: Path, page: PageText, region: Box) -> list[tuple[str, list[tuple[str, float]]]]:
    """Readings of `region` (left, top, right, bottom in the page's word-box frame) of an OCR'd page:
    `[(variant, [(line text, mean word confidence 0..1), ...]), ...]`; [] when it cannot be read again."""
    if page.source != "ocr":
        return []
    image = page_in_colour(path, page)
    if image is None:
        return []
    left, top, right, bottom = (max(0, int(v)) for v in region)
    crop = image[top:bottom, left:right]
    if crop.size == 0 or min(crop.shape[:2]) < 20:
        return []
    readings: list[tuple[str, list[tuple[str, float]]]] = []
    for name, binary, layout in variants(crop):
        try:
            _, words = words_to_text(image_to_data(binary, "vie", layout, dpi=300, timeout=TIMEOUT_S))
        except (PageTimedOut, OcrFailed) as error:
            log.debug("signer block of %s, %s: not read (%s)", path, name, error)
            continue
        lines: dict[int, list] = {}
        for word in words:
            lines.setdefault(word.line, []).append(word)
        readings.append((name, [(" ".join(w.text for w in ws), sum(max(0.0, w.confidence) for w in ws) / 100 / len(ws))
                                for ws in lines.values()]))
    return readings
