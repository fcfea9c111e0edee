"""OCR engines: each turns a page image into words with boxes and confidences.

Engines are plug-ins: a class registered under the entry point group
`congvan.ocr_engines` (`name = "package.module:EngineClass"`).  The built-in
engines register through the same path, in congvan's own pyproject.toml:

- `tesseract`: Tesseract `vie` through its C++ API (tesserocr), kept loaded per
  worker process; the `tesseract` command when tesserocr cannot be imported;
- `tesseract-cli`: the `tesseract` command (pytesseract) always;
- `neural` (the default): TrueOCR's ONNX line detector and CTC line recogniser;
- `combined`: both read the whole page, the restorer's syllable language
  model choosing the better reading line by line;
- `cascade`: TrueOCR reads the page and Tesseract re-reads only the lines it
  doubts (low confidence, a word the language model does not know, digits),
  judged as in `combined`.

An engine is chosen by `Settings.ocr_engine` (`--ocr-engine`, `ocr_engine` in
the config file, `CONGVAN_OCR_ENGINE`); `get_engine(name)` builds it once per
process.  A site adds its own engine from another package without a line
changed here:

    [project.entry-points."congvan.ocr_engines"]
    myocr = "mypackage.ocr:MyEngine"

where `MyEngine()` has the attributes and methods of `OcrEngine` below.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np

from pipeline.core.errors import MissingDependency, UsageError
from pipeline.core.plugins import OCR_ENGINES_GROUP, registered
from pipeline.core.settings import DEFAULT_OCR_ENGINE
from pipeline.core.types import Word

DEFAULT_ENGINE = DEFAULT_OCR_ENGINE
# Who re-reads header slots for engines that cannot (it can be held to digits).
SLOT_READER_ENGINE = "tesseract"
# The restorer's confusion channel for an engine that names none: Tesseract `vie`'s misreadings.
DEFAULT_CONFUSIONS = "vie"


class OcrFailed(RuntimeError):
    """The engine could not read the image (its own error message)."""


class PageTimedOut(RuntimeError):
    """The engine was stopped after the page's time limit."""


@dataclass(frozen=True)
class PageReading:
    """One engine's reading of one page image.

    `words` carry boxes (left, top, width, height) in the pixels of the image
    the engine was given, a confidence 0..100 (Tesseract's scale: a neural
    engine maps its probabilities onto it) and the index of their line in
    `text`'s lines, so layout, header slots and tables work whatever engine
    read the page.  `text` is the page in reading order, one line per text
    line and a blank line between paragraphs where the engine knows them.
    """

    text: str
    words: list[Word] = field(default_factory=list)
    # Set by an engine that straightens pages itself (`straightens`): the page
    # as it read it (the words' boxes are on this image) and the clockwise
    # quarter turns it applied.
    image: np.ndarray | None = field(default=None, repr=False, compare=False)
    rotated_by: int = 0

    @property
    def mean_confidence(self) -> float:
        confidences = [w.confidence for w in self.words if w.confidence >= 0]
        return sum(confidences) / len(confidences) if confidences else 0.0


@runtime_checkable
class OcrEngine(Protocol):
    """What the OCR stage asks of an engine.

    Attributes:
        name: the name it is registered under.
        reads_grey: True to be handed the grey page (deskewed, turned upright,
            not binarised); False for the preprocessed black-and-white page.
        upright_confidence: under this mean word confidence the page is read
            again turned by 180 degrees and the better reading kept (0: never).
            An engine may name other turns to try, in order, in `retry_turns`
            (clockwise degrees; default `(180,)`).

    Optional: `straightens = True` for an engine that turns and deskews pages
    itself; it is then handed the page as loaded (grey, not preprocessed) and
    returns the image its boxes are on in `PageReading.image`.  `confusions`:
    the name of the restorer's OCR confusion channel that knows this engine's
    misreadings (`models/restore/channel_<name>.json`; default `vie`,
    Tesseract's).
    """

    name: str
    reads_grey: bool
    upright_confidence: float

    def read_page(self, image: np.ndarray, dpi: int, *, timeout_s: float) -> PageReading:
        """Read a greyscale uint8 page; raise OcrFailed or PageTimedOut."""
        ...

    def version(self) -> str:
        """What reads the pages, e.g. `tesseract 5.5.1 (tesserocr)`, for logs and benchmarks."""
        ...


@runtime_checkable
class SlotReader(Protocol):
    """Close re-reading of small crops (the header's number and date slots).

    Returns Tesseract's word table (a dict of columns `left`, `top`, `width`,
    `height`, `conf`, `text`, ...) for `image`, read as language `lang` in
    page-segmentation mode `psm`, restricted to `whitelist` when given.  An
    engine that offers this has a `slot_reader` attribute; engines without
    one have the slots re-read by Tesseract.
    """

    def read_data(self, image: np.ndarray, lang: str, psm: int, *, timeout_s: float,
                  whitelist: str | None = None) -> dict[str, list]:
        ...


def installed() -> dict[str, Any]:
    """name -> engine class of every installed engine (entry points `congvan.ocr_engines`)."""
    return registered(OCR_ENGINES_GROUP)


def confusions_of(name: str) -> str:
    """The restorer's confusion channel for text the engine `name` read (`DEFAULT_CONFUSIONS` for one unknown here)."""
    factory = installed().get(name)
    return str(getattr(factory, "confusions", DEFAULT_CONFUSIONS)) if factory is not None else DEFAULT_CONFUSIONS


def check_engine(name: str) -> str:
    """`name` when an engine of that name is installed; UsageError listing the installed ones otherwise."""
    engines = installed()
    if name not in engines:
        raise UsageError(f"unknown OCR engine {name!r} (installed: {', '.join(sorted(engines)) or 'none'})")
    return name


_built: dict[str, OcrEngine] = {}


def get_engine(name: str = DEFAULT_ENGINE) -> OcrEngine:
    """The engine registered as `name`, built once per process (models stay loaded between pages)."""
    if name not in _built:
        factory = installed()[check_engine(name)]
        try:
            engine = factory()
        except ImportError as error:
            raise MissingDependency(f"OCR engine {name!r} needs a package that is not installed: {error}") from error
        if not isinstance(engine, OcrEngine):
            raise MissingDependency(f"OCR engine {name!r} ({factory!r}) lacks the OcrEngine attributes and methods")
        _built[name] = engine
    return _built[name]


def slot_reader(engine: OcrEngine) -> SlotReader:
    """Who re-reads header slots for pages `engine` read: the engine itself when it can, else Tesseract."""
    own = getattr(engine, "slot_reader", None)
    if isinstance(own, SlotReader):
        return own
    fallback = getattr(get_engine(SLOT_READER_ENGINE), "slot_reader", None)
    if not isinstance(fallback, SlotReader):
        raise MissingDependency(f"no engine can re-read header slots (the {SLOT_READER_ENGINE!r} engine cannot)")
    return fallback


def lines_of(words: list[Word]) -> list[list[Word]]:
    """Words grouped by their `line`, in line order."""
    lines: dict[int, list[Word]] = {}
    for word in words:
        lines.setdefault(word.line, []).append(word)
    return [lines[k] for k in sorted(lines)]


__all__ = ["DEFAULT_CONFUSIONS", "DEFAULT_ENGINE", "OcrEngine", "OcrFailed", "PageReading", "PageTimedOut",
           "SlotReader", "check_engine", "confusions_of", "get_engine", "installed", "lines_of", "slot_reader"]
