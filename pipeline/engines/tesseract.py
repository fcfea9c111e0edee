"""Tesseract engines: one loaded recogniser per worker process.

Two ways to call the same recogniser, one result shape (Tesseract's TSV word
table as a dict of columns, as `pytesseract.image_to_data` returns it):

* `tesseract` (tesserocr): a binding of Tesseract's C++ API.  Each language
  model is loaded once per worker process and kept between pages, the page is
  handed over as raw pixels (no image file written and decoded again), and a
  recognition past its deadline is cancelled in place.  Its wheel bundles its
  own Tesseract (5.5 at the time of writing), which reads our pages with about
  a third less CPU than Debian's 5.3 command (BENCHMARKS.md).  The language
  data still comes from the system's tessdata (Debian's tesseract-ocr-vie).
  Where tesserocr cannot be imported, this engine calls the command instead.
* `tesseract-cli`: the `tesseract` command through pytesseract, always.

Both engines also re-read the header slots (`SlotReader`): Tesseract is the
recogniser that can be held to a character whitelist (digits and `/`).
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import tempfile
import time
from typing import Literal

import numpy as np

from pipeline.core.types import Word
from pipeline.engines import OcrFailed, PageReading, PageTimedOut

Api = Literal["tesserocr", "cli"]
LANGUAGE = "vie"
# psm 3: full automatic layout, which keeps the two-column letter header apart.
PAGE_LAYOUT = 3
# Upright Vietnamese print reads at a mean word confidence of 80-95; text
# read upside down or sideways scores far lower.
UPRIGHT_CONFIDENCE = 70.0

COLUMNS = ("level", "page_num", "block_num", "par_num", "line_num", "word_num",
           "left", "top", "width", "height", "conf", "text")
# Folders where distributions put tessdata; the `tesseract` command is asked when none has the language.
TESSDATA_DIRS = ("/usr/share/tesseract-ocr/5/tessdata", "/usr/share/tesseract-ocr/4.00/tessdata",
                 "/usr/share/tessdata", "/usr/local/share/tessdata", "/opt/homebrew/share/tessdata")


def has_tesserocr() -> bool:
    """Whether Tesseract's C++ API binding can be imported here."""
    try:
        import tesserocr  # noqa: F401
    except ImportError:
        return False
    return True


def default_api() -> Api:
    """`tesserocr` where it can be imported, else `cli` (the command)."""
    return "tesserocr" if has_tesserocr() else "cli"


def engine_version(api: Api | None = None) -> str:
    """The Tesseract version that reads pages, e.g. `tesseract 5.5.4 (tesserocr)`."""
    if (api or default_api()) == "tesserocr":
        import tesserocr

        return f"{tesserocr.tesseract_version().splitlines()[0]} (tesserocr)"
    import pytesseract

    return f"tesseract {pytesseract.get_tesseract_version()} (command)"


@functools.lru_cache(maxsize=1)
def tessdata_dir() -> str | None:
    """The folder holding `*.traineddata`: $TESSDATA_PREFIX, a known folder, or the command's own."""
    candidates = [os.environ["TESSDATA_PREFIX"]] if os.environ.get("TESSDATA_PREFIX") else []
    candidates += TESSDATA_DIRS
    for folder in candidates:
        if os.path.exists(os.path.join(folder, "vie.traineddata")):
            return folder
    if shutil.which("tesseract"):
        listing = subprocess.run(["tesseract", "--list-langs"], capture_output=True, text=True).stdout
        quoted = re.search(r'"([^"]+)"', listing)
        if quoted:
            return quoted.group(1)
    return None


def image_to_data(image: np.ndarray, lang: str, psm: int, dpi: int | None = None, timeout: float = 180.0,
                  whitelist: str | None = None, api: Api | None = None) -> dict[str, list]:
    """Tesseract's word table for a greyscale (or binary) uint8 image.

    Raises PageTimedOut after `timeout` seconds and OcrFailed when Tesseract
    cannot read the image or the language is not installed.
    """
    if image.ndim == 3:
        import cv2

        image = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    image = np.ascontiguousarray(image, dtype=np.uint8)
    if (api or default_api()) == "tesserocr":
        return _with_tesserocr(image, lang, psm, dpi, timeout, whitelist)
    return _with_command(image, lang, psm, dpi, timeout, whitelist)


@functools.lru_cache(maxsize=8)
def _api(lang: str, psm: int, whitelist: str | None):
    """A loaded engine per (language, layout mode, whitelist), kept for the life of the process."""
    import tesserocr

    try:
        api = tesserocr.PyTessBaseAPI(path=tessdata_dir() or "", lang=lang, psm=psm, oem=tesserocr.OEM.LSTM_ONLY)
    except RuntimeError as error:
        raise OcrFailed(f"cannot load Tesseract language '{lang}' ({error}); install tesseract-ocr-{lang}") from error
    if whitelist:
        api.SetVariable("tessedit_char_whitelist", whitelist)
    return api


def _with_tesserocr(image: np.ndarray, lang: str, psm: int, dpi: int | None, timeout: float,
                    whitelist: str | None) -> dict[str, list]:
    api = _api(lang, psm, whitelist)
    height, width = image.shape
    api.SetImageBytes(image.tobytes(), width, height, 1, width)
    if dpi:
        api.SetSourceResolution(int(dpi))
    try:
        # False when cancelled at the deadline (or, rarely, when recognition fails).
        if not api.Recognize(timeout=max(1, int(timeout * 1000))):
            raise PageTimedOut(f"Tesseract stopped after {timeout:g} s")
        return parse_tsv(api.GetTSVText(0))
    finally:
        api.Clear()  # drop the page's results now rather than at the next page


def _with_command(image: np.ndarray, lang: str, psm: int, dpi: int | None, timeout: float,
                  whitelist: str | None) -> dict[str, list]:
    import cv2
    import pytesseract

    config = f"--oem 1 --psm {psm}" + (f" --dpi {dpi}" if dpi else "")
    if whitelist:
        config += f" -c tessedit_char_whitelist={whitelist}"
    # An uncompressed PNM file: pytesseract would otherwise PNG-encode the
    # page first, a tenth of a second of CPU per page for nothing.
    with tempfile.TemporaryDirectory(prefix="congvan-ocr-") as folder:
        page_file = os.path.join(folder, "page.pnm")
        cv2.imwrite(page_file, image)
        try:
            return pytesseract.image_to_data(page_file, lang=lang, config=config,
                                             output_type=pytesseract.Output.DICT, timeout=timeout)
        except pytesseract.TesseractError as error:
            raise OcrFailed(error.message.strip() or f"tesseract exited with {error.status}") from error
        except RuntimeError as error:  # pytesseract's own timeout
            raise PageTimedOut(f"Tesseract stopped after {timeout:g} s") from error


def parse_tsv(tsv: str) -> dict[str, list]:
    """Tesseract's TSV rows (without header) as columns: numbers as int, `conf` as float."""
    table: dict[str, list] = {name: [] for name in COLUMNS}
    for row in tsv.splitlines():
        cells = row.split("\t")
        if len(cells) < len(COLUMNS) - 1:
            continue
        cells += [""] * (len(COLUMNS) - len(cells))
        for name, cell in zip(COLUMNS[:-2], cells):
            table[name].append(int(cell))
        table["conf"].append(float(cells[10]))
        table["text"].append(cells[11])
    return table


def words_to_text(data: dict[str, list]) -> tuple[str, list[Word]]:
    """Rebuild lines and paragraphs from Tesseract's word table."""
    lines: list[str] = []
    words: list[Word] = []
    current_key = None
    current: list[str] = []
    last_block = None
    for i, token in enumerate(data["text"]):
        token = (token or "").strip()
        if not token:
            continue
        key = (data["block_num"][i], data["par_num"][i], data["line_num"][i])
        if key != current_key:
            if current:
                lines.append(" ".join(current))
            if last_block is not None and key[:2] != last_block:
                lines.append("")  # a blank line between paragraphs, as in the letter
            current, current_key, last_block = [], key, key[:2]
        current.append(token)
        box = (data["left"][i], data["top"][i], data["width"][i], data["height"][i]) if "left" in data else None
        words.append(Word(text=token, confidence=float(data["conf"][i]), line=len(lines), box=box))
    if current:
        lines.append(" ".join(current))
    return "\n".join(lines), words


class TesseractEngine:
    """`tesseract`: Tesseract `vie` through tesserocr (the command where tesserocr is missing)."""

    name = "tesseract"
    reads_grey = False
    confusions = "vie"  # the restorer's channel learned from Tesseract `vie`'s readings
    upright_confidence = UPRIGHT_CONFIDENCE

    def __init__(self, api: Api | None = None, lang: str = LANGUAGE, psm: int = PAGE_LAYOUT) -> None:
        self.api: Api = api or default_api()
        self.lang, self.psm = lang, psm

    def read_page(self, image: np.ndarray, dpi: int, *, timeout_s: float) -> PageReading:
        began = time.monotonic()
        try:
            data = image_to_data(image, self.lang, self.psm, dpi=dpi, timeout=timeout_s, api=self.api)
        except PageTimedOut as error:
            # tesserocr answers "not recognised" both at the deadline and when
            # Tesseract refuses an image outright; only the clock tells them apart.
            spent = time.monotonic() - began
            if spent < timeout_s * 0.9:
                raise OcrFailed(f"Tesseract refused the page after {spent:.1f} s "
                                f"({image.shape[1]}x{image.shape[0]} pixels at {dpi} dpi)") from error
            raise
        text, words = words_to_text(data)
        return PageReading(text=text, words=words)

    def read_data(self, image: np.ndarray, lang: str, psm: int, *, timeout_s: float,
                  whitelist: str | None = None) -> dict[str, list]:
        return image_to_data(image, lang, psm, timeout=timeout_s, whitelist=whitelist, api=self.api)

    @property
    def slot_reader(self) -> TesseractEngine:
        return self

    def version(self) -> str:
        return engine_version(self.api)


class TesseractCliEngine(TesseractEngine):
    """`tesseract-cli`: the `tesseract` command through pytesseract (the system's Tesseract)."""

    name = "tesseract-cli"

    def __init__(self, lang: str = LANGUAGE, psm: int = PAGE_LAYOUT) -> None:
        super().__init__(api="cli", lang=lang, psm=psm)
