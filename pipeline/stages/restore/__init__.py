"""Stage 4, restore: DocumentText -> RestoredText.

Turns Vietnamese text whose diacritics were stripped, garbled by an English
OCR model, or slightly misread by `tesseract -l vie` back into the real text:
a noisy-channel restorer (learned character-confusion channels + a syllable
trigram language model with modified Kneser-Ney smoothing + Viterbi
decoding).  See engine.py; `python -m pipeline.training.restore_models` rebuilds the
models under models/restore/.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.core.resources import model_dir as shipped_model_dir
from pipeline.core.types import Change, DocumentText, RestoredText, Table
from pipeline.core.vietnamese import VIETNAMESE_MARKED, looks_vietnamese, words

if TYPE_CHECKING:  # pragma: no cover
    from pipeline.stages.restore.engine import Engine

RESTORER = "ngram-noisy-channel-v1"

_engine: Engine | None = None
_lock = threading.Lock()
_VIE_ONLY = re.compile("[" + "".join(sorted(VIETNAMESE_MARKED - set("áàâãéèêíìóòôõúùýÁÀÂÃÉÈÊÍÌÓÒÔÕÚÙÝ"))) + "]")
_GARBLED = re.compile(r"(?<![\w/\-])[^\W\d_]+\d+[^\W\d_]*(?![\w/\-])|(?<![\w/\-])\d[^\W\d_]+(?![\w/\-])")


def get_engine(model_dir: Path | None = None) -> Engine:
    """The process-wide engine, loaded on first use."""
    global _engine
    if model_dir is not None:
        from pipeline.stages.restore.engine import Engine

        return Engine(Path(model_dir))
    if _engine is None:
        with _lock:
            if _engine is None:
                from pipeline.stages.restore.engine import Engine

                _engine = Engine(shipped_model_dir() / "restore")
    return _engine


def needs_restoration(text: str) -> bool:
    """Cheap check: stripped or garbled Vietnamese (not good born-digital text)."""
    toks = words(text)
    if len(toks) < 3:
        return False
    # share of words with a mark only Vietnamese uses (ă ơ ư đ ạ ế ...)
    vie_only = sum(1 for w in toks if _VIE_ONLY.search(w)) / len(toks)
    if vie_only < 0.2:
        return looks_vietnamese(text, min_words=3)
    # marked text with garble (digits inside words: `s6`, `x4`)
    return len(_GARBLED.findall(text)) >= max(2, len(toks) // 100)


def restore_text(text: str, confusions: str | None = None) -> tuple[str, list[Change]]:
    """Restored text and the spans changed (offsets into the restored text).

    `confusions`: the confusion channel of the OCR engine that read the text
    (`pipeline.engines.confusions_of`); None: Tesseract `vie`'s.
    """
    if not text.strip():
        return text, []
    return get_engine().restore(text, channel=confusions)


def ocr_confusions(document: DocumentText) -> str | None:
    """The confusion channel of the engine that read most of the document's OCR'd pages (None: none was)."""
    engines = Counter(page.engine for page in document.pages if page.source == "ocr" and page.engine)
    if not engines:
        return None
    from pipeline.engines import confusions_of

    return confusions_of(engines.most_common(1)[0][0])


def restore(document: DocumentText) -> RestoredText:
    """Restore a document's text; good born-digital text skips the engine.

    The cells of tables read from a scan (`Table.source == "scan"`) are
    restored too, in place: `Sở Tự pháp` read by OCR is `Sở Tư pháp`.
    """
    _restore_scanned_tables(document)
    text = document.text
    if document.text_source != "ocr" and not needs_restoration(text):
        return RestoredText(document=document, text=text, changes=[], restorer=RESTORER)
    text, changes = restore_text(text, ocr_confusions(document))
    return RestoredText(document=document, text=text, changes=changes, restorer=RESTORER)


_CELL_BREAK = "\n\n"


def _restore_scanned_tables(document: DocumentText) -> None:
    for page in document.pages:
        for index, table in enumerate(page.tables):
            if table.source != "scan":
                continue
            cells = [(r, c, cell) for r, row in enumerate(table.rows) for c, cell in enumerate(row) if cell]
            if not cells:
                continue
            # One call for the whole table (cells apart by blank lines); one per cell if the parts do not come back.
            joined = _CELL_BREAK.join(re.sub(r"\n\s*\n", "\n", cell) for _, _, cell in cells)
            parts = restore_text(joined)[0].split(_CELL_BREAK)
            if len(parts) != len(cells):
                parts = [restore_text(cell)[0] for _, _, cell in cells]
            rows = [list(row) for row in table.rows]
            for (r, c, _), part in zip(cells, parts):
                rows[r][c] = part.strip()
            page.tables[index] = Table(rows=rows, source=table.source, page=table.page)


__all__ = ["restore", "restore_text", "ocr_confusions", "needs_restoration", "get_engine", "RESTORER"]
