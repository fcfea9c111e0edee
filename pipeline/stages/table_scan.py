"""Ruled tables on a scanned page: find the grid from its lines, OCR each cell on its own.

Read as a whole page, a task table comes out as lines read across its columns
(`Thời gian | Đơn vị chủ trì/phối hợp TT Nội dung công việc ...`).  Here the
table's ruling lines are found with OpenCV (long horizontal and vertical runs
of ink, kept by morphological opening), the rows and columns are where those
lines run, and each cell is cropped inside its borders and read by Tesseract
alone (`psm 6`, one block of text).

A border missing between two slots is a merged cell: missing on the left,
the slot is covered by the cell to its left (None in the grid); missing on
top, it continues the cell above (whose text it repeats), the shape of
`core.types.Table`.  Only a table whose header names a duty column, or a
headerless table (the next page of one), has all its cells read: a list of
participants costs only its header row.
"""

from __future__ import annotations

import cv2
import numpy as np

from pipeline.core.types import Table
from pipeline.core.vietnamese import nfc
from pipeline.engines import tesseract

LANGUAGE = "vie"
CELL_LAYOUT = 6  # psm 6: one uniform block of text
SHORT_LAYOUT = 8  # psm 8: one word
CELL_TIMEOUT_S = 20.0
MIN_ROWS = 2
MIN_COLUMNS = 2
MAX_CELLS = 1500  # a grid this big is a form or a drawing, not a task table
LINE_COVERAGE = 0.4  # share of the table's width (height) a ruling line must run
BORDER_PRESENT = 0.5  # share of a cell's side its border must cover to exist
HEADER_ROWS = 3


def cv2_error() -> type[Exception]:
    """OpenCV's error type (for callers that catch it without importing cv2)."""
    return cv2.error


def _masks(image: np.ndarray, dpi: int) -> tuple[np.ndarray, np.ndarray]:
    """Horizontal and vertical ruling-line masks (255 on a line)."""
    ink = cv2.adaptiveThreshold(image, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, 31, 15)
    h_len = max(20, int(dpi * 0.35))
    v_len = max(15, int(dpi * 0.12))
    gap = max(3, dpi // 60)  # a noisy scan breaks a line into dashes: close small gaps first
    horizontal = cv2.morphologyEx(ink, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (gap, 1)))
    horizontal = cv2.morphologyEx(horizontal, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (h_len, 1)))
    vertical = cv2.morphologyEx(ink, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (1, gap)))
    vertical = cv2.morphologyEx(vertical, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, v_len)))
    return horizontal, vertical


def _positions(profile: np.ndarray, threshold: float) -> list[int]:
    """Centres of the runs of a projection profile above `threshold`."""
    above = profile >= threshold
    positions: list[int] = []
    start = None
    for i, flag in enumerate(above):
        if flag and start is None:
            start = i
        elif not flag and start is not None:
            positions.append((start + i - 1) // 2)
            start = None
    if start is not None:
        positions.append((start + len(above) - 1) // 2)
    return positions


def _merge_close(positions: list[int], distance: int) -> list[int]:
    merged: list[int] = []
    for p in positions:
        if merged and p - merged[-1] < distance:
            merged[-1] = (merged[-1] + p) // 2
        else:
            merged.append(p)
    return merged


def rule_angle(horizontal: np.ndarray, min_width: int) -> float:
    """The slope, in degrees, of the page's long horizontal rules (median of each rule's fitted line)."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(horizontal)
    angles = []
    for index in range(1, count):
        if stats[index][2] < min_width:
            continue
        x, y, w, h = (int(v) for v in stats[index][:4])
        ys, xs = np.nonzero(labels[y:y + h, x:x + w] == index)
        xs, ys = xs + x, ys + y
        if len(xs) < 50:
            continue
        vx, vy = cv2.fitLine(np.column_stack([xs, ys]).astype(np.float32), cv2.DIST_L2, 0, 0.01, 0.01)[:2, 0]
        angles.append(float(np.degrees(np.arctan2(vy, vx))))
    return float(np.median(angles)) if angles else 0.0


def has_table_rules(image: np.ndarray, dpi: int) -> bool:
    """A cheap look at a quarter of the pixels: three long horizontal rules and two vertical ones at least
    (counted as connected strokes, so that a slightly skewed rule still counts as one)."""
    small = cv2.resize(image, (image.shape[1] // 2, image.shape[0] // 2), interpolation=cv2.INTER_AREA)
    horizontal, vertical = _masks(small, dpi // 2)
    horizontal = cv2.dilate(horizontal, np.ones((5, 1), np.uint8))
    vertical = cv2.dilate(vertical, np.ones((1, 5), np.uint8))
    _, _, h_stats, _ = cv2.connectedComponentsWithStats(horizontal)
    _, _, v_stats, _ = cv2.connectedComponentsWithStats(vertical)
    long_rows = int(np.count_nonzero(h_stats[1:, 2] >= small.shape[1] * 0.25))
    long_columns = int(np.count_nonzero(v_stats[1:, 3] >= dpi // 4))
    return long_rows >= 3 and long_columns >= 2


def level_rules(image: np.ndarray, dpi: int) -> np.ndarray:
    """The page turned so that its table rules run level: a scan's last fraction of a degree of skew
    spreads a rule over many pixel rows of a wide table, and its rows are then not found."""
    horizontal, _ = _masks(image, dpi)
    angle = rule_angle(horizontal, image.shape[1] // 4)
    if abs(angle) < 0.03 or abs(angle) > 5:
        return image
    height, width = image.shape
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), angle, 1.0)
    return cv2.warpAffine(image, matrix, (width, height), flags=cv2.INTER_LINEAR, borderValue=255)


def find_grids(image: np.ndarray, dpi: int) -> list[tuple[list[int], list[int], np.ndarray, np.ndarray]]:
    """(row lines, column lines, horizontal mask, vertical mask) of each ruled table on a level page."""
    horizontal, vertical = _masks(image, dpi)
    lines = cv2.dilate(cv2.bitwise_or(horizontal, vertical), np.ones((5, 5), np.uint8))
    count, _, stats, _ = cv2.connectedComponentsWithStats(lines)
    height, width = image.shape
    grids = []
    for index in range(1, count):
        x, y, w, h = (int(v) for v in stats[index][:4])
        if w < width * 0.3 or h < dpi * 0.4:
            continue
        h_region = horizontal[y:y + h, x:x + w]
        v_region = vertical[y:y + h, x:x + w]
        min_gap = max(8, dpi // 15)
        rows = _merge_close(_positions((h_region > 0).sum(axis=1) / w, LINE_COVERAGE), min_gap)
        columns = _merge_close(_positions((v_region > 0).sum(axis=0) / h, LINE_COVERAGE * 0.6), min_gap)
        if len(rows) < MIN_ROWS + 1 or len(columns) < MIN_COLUMNS + 1:
            continue
        if (len(rows) - 1) * (len(columns) - 1) > MAX_CELLS:
            continue
        grids.append(([y + r for r in rows], [x + c for c in columns], horizontal, vertical))
    grids.sort(key=lambda grid: grid[0][0])
    return grids


def _border(mask: np.ndarray, fixed: int, start: int, end: int, along_x: bool, reach: int) -> bool:
    """Whether a ruling line runs along most of [start, end) at `fixed` (give or take `reach`)."""
    if end - start < 4:
        return True
    inset = max(2, (end - start) // 10)
    if along_x:
        strip = mask[max(0, fixed - reach): fixed + reach + 1, start + inset: end - inset]
        covered = (strip > 0).any(axis=0)
    else:
        strip = mask[start + inset: end - inset, max(0, fixed - reach): fixed + reach + 1]
        covered = (strip > 0).any(axis=1)
    return bool(covered.size == 0 or covered.mean() >= BORDER_PRESENT)


def _read_cell(image: np.ndarray, box: tuple[int, int, int, int], dpi: int, pad: int) -> str:
    x0, y0, x1, y1 = box
    crop = image[y0 + pad: y1 - pad, x0 + pad: x1 - pad]
    if crop.size == 0 or crop.shape[0] < 8 or crop.shape[1] < 8:
        return ""
    if (crop < 128).mean() < 0.003:
        return ""  # an empty cell
    framed = cv2.copyMakeBorder(crop, 12, 12, 12, 12, cv2.BORDER_CONSTANT, value=255)
    text = _ocr(framed, dpi, CELL_LAYOUT)
    if not text and crop.shape[1] < dpi * 0.6:
        text = _ocr(framed, dpi, SHORT_LAYOUT)  # a lone `I`, `II`, `5` in a narrow cell: one word
    return text


def _ocr(image: np.ndarray, dpi: int, layout: int) -> str:
    try:
        data = tesseract.image_to_data(image, LANGUAGE, layout, dpi=dpi, timeout=CELL_TIMEOUT_S)
    except (tesseract.OcrFailed, tesseract.PageTimedOut):
        return ""
    lines: dict[tuple[int, int, int], list[str]] = {}
    for i, token in enumerate(data["text"]):
        token = (token or "").strip()
        if token and float(data["conf"][i]) >= 0:
            lines.setdefault((data["block_num"][i], data["par_num"][i], data["line_num"][i]), []).append(token)
    return nfc("\n".join(" ".join(words) for _, words in sorted(lines.items())))


def _read_row(image: np.ndarray, dpi: int, grid: list[list[str | None]], left: list[list[bool]],
              top: list[list[bool]], rows: list[int], columns: list[int], r: int, reach: int) -> None:
    """Fill row `r` of `grid`: each cell that starts there read, the slots merged into another marked."""
    n_rows, n_cols = len(grid), len(grid[0])
    for c in range(n_cols):
        if not left[r][c]:
            grid[r][c] = None  # covered from the left
            continue
        if not top[r][c]:
            grid[r][c] = grid[r - 1][c]  # continues the cell above
            continue
        right = c + 1
        while right < n_cols and not left[r][right]:
            right += 1
        down = r + 1
        while down < n_rows and not top[down][c]:
            down += 1
        box = (columns[c], rows[r], columns[right], rows[down])
        grid[r][c] = _read_cell(image, box, dpi, pad=reach + 2)


def read_tables(image: np.ndarray, dpi: int, page: int = 1) -> list[Table]:
    """The ruled tables of a page image (grayscale, upright), each cell OCR'd alone."""
    from extractors.tables import find_columns  # the header's roles decide whether the rest is read

    tables: list[Table] = []
    if not has_table_rules(image, dpi):
        return tables  # most letters: no ruled table, and this look cost a fraction of the full search
    reach = max(3, dpi // 50)
    image = level_rules(image, dpi)
    for rows, columns, horizontal, vertical in find_grids(image, dpi):
        n_rows, n_cols = len(rows) - 1, len(columns) - 1
        # Which slot borders exist: a missing one is a merged cell.
        left = [[c == 0 or _border(vertical, columns[c], rows[r], rows[r + 1], False, reach) for c in range(n_cols)]
                for r in range(n_rows)]
        top = [[r == 0 or _border(horizontal, rows[r], columns[c], columns[c + 1], True, reach) for c in range(n_cols)]
               for r in range(n_rows)]
        grid: list[list[str | None]] = [[None] * n_cols for _ in range(n_rows)]

        head = min(HEADER_ROWS, n_rows)
        for r in range(head):
            _read_row(image, dpi, grid, left, top, rows, columns, r, reach)
        columns_found = find_columns(Table(rows=[list(row) for row in grid[:head]], source="scan", page=page))
        if columns_found is not None and not columns_found.is_task_table:
            continue  # a header, but not of a duty list: leave the table alone
        if columns_found is None and n_cols < 3:
            continue  # a layout frame (header, signature block), not a data table
        for r in range(head, n_rows):
            _read_row(image, dpi, grid, left, top, rows, columns, r, reach)
        tables.append(Table(rows=grid, source="scan", page=page))
    return tables
