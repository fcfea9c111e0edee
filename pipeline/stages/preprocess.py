"""Stage 2, preprocess: a raw page image -> a straight, clean one.

OpenCV does the pixel work.  Steps, in order:

1. upscale low-resolution photos and faxes to ~300 dpi (Tesseract reads
   Vietnamese marks badly under ~25 px per capital letter);
2. turn a page that lies on its side by 90 degrees (from the ink profile; the
   ocr stage then settles 90 vs 270 and 0 vs 180 by Tesseract's confidence,
   which is cheaper and surer than Tesseract's OSD on sparse letter pages);
3. deskew the remaining small angle (from the text lines' minimum-area boxes);
4. denoise (median) and binarise: Otsu on even scans, adaptive on photos.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from pipeline.core.settings import DEFAULT_MAX_PAGE_PIXELS

TARGET_DPI = 300
MAX_DESKEW_DEGREES = 10.0
# Tesseract's own line finder absorbs a skew this small; turning a whole
# 300 dpi page costs more than it gains.
MIN_DESKEW_DEGREES = 0.3


@dataclass
class PreparedImage:
    image: np.ndarray  # grayscale uint8, text dark on white
    dpi: int
    rotated_by: int = 0  # clockwise degrees applied to make the page upright
    deskewed_by: float = 0.0
    blank: bool = False  # no ink worth reading on the page


def upscale(image: np.ndarray, dpi: int, max_pixels: int = DEFAULT_MAX_PAGE_PIXELS) -> tuple[np.ndarray, int]:
    """Bring a low-resolution page up to ~TARGET_DPI, never past `max_pixels`.

    The budget wins over the resolution: a huge image that claims a low dpi
    (a 9000 x 9000 PNG "at 50 dpi") is read as it is rather than blown up
    six-fold into gigabytes.
    """
    if dpi >= TARGET_DPI * 0.8:
        return image, dpi
    pixels = image.shape[0] * image.shape[1]
    scale = min(TARGET_DPI / max(dpi, 1), (max_pixels / max(pixels, 1)) ** 0.5)
    if scale <= 1.05:
        return image, dpi
    resized = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
    return resized, int(round(dpi * scale))


def is_blank(image: np.ndarray) -> bool:
    """A page with (almost) no ink: an empty scan, a photo of a wall.

    Judged at half resolution: letters survive it, and it costs a quarter.
    """
    if image.size == 0:
        return True
    small = cv2.resize(image, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    if small.std() < 4:
        return True
    _, ink = cv2.threshold(small, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    count, _, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    # Letters are many small components; noise is few or tiny.
    areas, heights = stats[1:, cv2.CC_STAT_AREA], stats[1:, cv2.CC_STAT_HEIGHT]
    glyph_like = np.count_nonzero((areas > 2) & (heights < small.shape[0] / 10))
    return bool(glyph_like < 30)


def rotate_right_angle(image: np.ndarray, degrees: int) -> np.ndarray:
    """Rotate clockwise by 0, 90, 180 or 270 degrees."""
    turns = {0: None, 90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_COUNTERCLOCKWISE}
    code = turns[degrees % 360]
    return image if code is None else cv2.rotate(image, code)


def _line_profile_strength(ink: np.ndarray) -> float:
    """How strongly ink falls into horizontal bands (text lines)."""
    rows = ink.mean(axis=1)
    return float(rows.std() / (rows.mean() + 1e-6))


def detect_quarter_turn(image: np.ndarray) -> int:
    """90 when the page lies on its side, else 0 (upright or upside down).

    Text lines make the row profile of ink striped; on a page turned by 90
    degrees the stripes run the other way.  No OCR, so every page affords it.
    """
    small = cv2.resize(image, None, fx=0.25, fy=0.25, interpolation=cv2.INTER_AREA)
    _, ink = cv2.threshold(small, 0, 1, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    ink = ink.astype(np.float32)
    return 90 if _line_profile_strength(ink.T) > _line_profile_strength(ink) * 1.3 else 0


def estimate_skew(image: np.ndarray) -> float:
    """Small skew angle in degrees (positive: text rises to the right)."""
    _, ink = cv2.threshold(image, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    # Smear letters into text lines so that the lines, not glyphs, set the angle.
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (max(15, image.shape[1] // 60), 3))
    lines = cv2.morphologyEx(ink, cv2.MORPH_CLOSE, kernel)
    contours, _ = cv2.findContours(lines, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    angles, weights = [], []
    for contour in contours:
        (_, _), (w, h), angle = cv2.minAreaRect(contour)
        if w < h:
            w, h, angle = h, w, angle - 90
        if w < image.shape[1] * 0.15 or h == 0 or w / h < 5:
            continue
        if angle < -45:
            angle += 90
        elif angle > 45:
            angle -= 90
        angles.append(angle)
        weights.append(w)
    if not angles:
        return 0.0
    order = np.argsort(angles)
    cumulative = np.cumsum(np.asarray(weights)[order])
    median = float(np.asarray(angles)[order][np.searchsorted(cumulative, cumulative[-1] / 2)])
    return -median if abs(median) <= MAX_DESKEW_DEGREES else 0.0


def rotate_small(image: np.ndarray, degrees: float) -> np.ndarray:
    if abs(degrees) < MIN_DESKEW_DEGREES:
        return image
    height, width = image.shape
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), -degrees, 1.0)
    return cv2.warpAffine(image, matrix, (width, height), flags=cv2.INTER_CUBIC, borderValue=255)


def uneven_light(image: np.ndarray) -> bool:
    """True for photos with shadows or gradients, where one global threshold fails."""
    small = cv2.resize(image, None, fx=0.125, fy=0.125, interpolation=cv2.INTER_AREA)
    background = cv2.dilate(small, np.ones((7, 7), np.uint8))  # ink removed, paper left
    return float(np.percentile(background, 95) - np.percentile(background, 5)) > 40


def clean(image: np.ndarray) -> np.ndarray:
    """Denoise and binarise: global Otsu on even scans, adaptive on uneven photos.

    Adaptive thresholding on a clean scan adds speckle that Tesseract reads
    as extra words, so it is kept for the photos that need it.

    Handing Tesseract the grey page instead (its LSTM reads grey pixels) was
    measured: better on clean rendered pages (CER 0.94% vs 1.22%), worse on
    the real dev scans (`Về việc` read `Và việc` on qd109, losing its
    subject), so scans stay binarised.
    """
    denoised = cv2.medianBlur(image, 3)
    if uneven_light(denoised):
        return cv2.adaptiveThreshold(denoised, 255, cv2.ADAPTIVE_THRESH_GAUSSIAN_C, cv2.THRESH_BINARY, 41, 15)
    return cv2.threshold(denoised, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)[1]


def preprocess_page(image: np.ndarray, dpi: int = TARGET_DPI, detect_rotation: bool = True,
                    max_pixels: int = DEFAULT_MAX_PAGE_PIXELS) -> PreparedImage:
    image, dpi = upscale(image, dpi, max_pixels)
    if is_blank(image):
        return PreparedImage(image=image, dpi=dpi, blank=True)
    rotated_by = detect_quarter_turn(image) if detect_rotation else 0
    image = rotate_right_angle(image, rotated_by)
    skew = estimate_skew(image)
    if abs(skew) < MIN_DESKEW_DEGREES:
        skew = 0.0
    image = rotate_small(image, skew)
    return PreparedImage(image=clean(image), dpi=dpi, rotated_by=rotated_by, deskewed_by=skew)


# A phone photo of a sheet on a desk: the sheet is the largest bright
# quadrilateral, covering between these shares of the frame (a scan fills it).
SHEET_MIN_AREA = 0.3
SHEET_MAX_AREA = 0.97
# ... and the desk round it is darker than the paper by at least this (grey levels).
SHEET_CONTRAST = 40
SHEET_FIND_SIDE = 800  # px: the long side the sheet is looked for at


def find_sheet(image: np.ndarray) -> np.ndarray | None:
    """The corners (top-left, top-right, bottom-right, bottom-left) of a photographed sheet, or None.

    Found only where the whole sheet is in the frame against a darker
    surround (a desk, a table): the largest bright region, simplified to four
    corners.  A scan, or a photo cropped inside the sheet, gives None.
    """
    scale = min(1.0, SHEET_FIND_SIDE / max(image.shape[:2]))
    small = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else image
    blurred = cv2.GaussianBlur(small, (5, 5), 0)
    _, bright = cv2.threshold(blurred, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    # Close the text and the lines of the letter into the paper around them.
    side = max(5, max(small.shape) // 40)
    bright = cv2.morphologyEx(bright, cv2.MORPH_CLOSE, np.ones((side, side), np.uint8))
    contours, _ = cv2.findContours(bright, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return None
    sheet = max(contours, key=cv2.contourArea)
    area = cv2.contourArea(sheet) / (small.shape[0] * small.shape[1])
    if not SHEET_MIN_AREA <= area <= SHEET_MAX_AREA:
        return None
    # The least quadrilateral round the region: a corner lost in a shadow (darker than the
    # threshold) is put back where the sheet's straight edges meet.
    corners = cv2.approxPolyN(cv2.convexHull(sheet), 4, epsilon_percentage=-1, ensure_convex=True).reshape(-1, 2)
    if len(corners) != 4:
        return None
    inside = np.zeros(small.shape, np.uint8)
    cv2.fillConvexPoly(inside, corners.astype(np.int32), 1)
    paper, desk = small[inside == 1], small[inside == 0]
    if desk.size == 0 or float(np.median(paper)) - float(np.median(desk)) < SHEET_CONTRAST:
        return None
    points = corners.astype(np.float32) / scale
    # Order: the top-left has the smallest x + y, the bottom-right the largest; top-right the smallest y - x.
    total, diff = points.sum(axis=1), (points[:, 1] - points[:, 0])
    order = [np.argmin(total), np.argmin(diff), np.argmax(total), np.argmax(diff)]
    if len(set(order)) < 4:  # a sheet turned near 45 degrees: no corner is clearly top-left
        return None
    return np.asarray(points[order], dtype=np.float32)


def flatten_sheet(image: np.ndarray) -> np.ndarray:
    """A photographed sheet warped flat to a rectangle (perspective undone); the image itself when none is found.

    Perspective tilts the lines of a photo differently across the page, which
    no single deskew angle straightens: a line detector's boxes then take in
    two lines at once at the far side of the page.
    """
    corners = find_sheet(image)
    if corners is None:
        return image
    tl, tr, br, bl = corners
    width = int(round(max(np.linalg.norm(tr - tl), np.linalg.norm(br - bl))))
    height = int(round(max(np.linalg.norm(bl - tl), np.linalg.norm(br - tr))))
    if width < 100 or height < 100:
        return image
    target = np.asarray([[0, 0], [width - 1, 0], [width - 1, height - 1], [0, height - 1]], dtype=np.float32)
    warp = cv2.getPerspectiveTransform(corners, target)
    return cv2.warpPerspective(image, warp, (width, height), flags=cv2.INTER_LINEAR, borderValue=255)
