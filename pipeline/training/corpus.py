"""The training corpus, split by document into train and held-out parts.

Every model of congvan trains on `train` documents only; every accuracy figure
in BENCHMARKS.md is measured on `held_out` documents only.  The split is a
hash of (file, document index), so it is the same on every machine and run.

Document boundaries (shared/corpus/README.md): the legal files (`congbao`,
`vbpl`) start a document at each national-motto header line; `admin` and
`viwiki` have no marked boundaries (one paragraph per line), so runs of
BLOCK_LINES consecutive lines stand in for documents there.
"""

from __future__ import annotations

import hashlib
import lzma
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

HEADER = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
BLOCK_LINES = 40
HELD_OUT_PERCENT = 10
CORPUS_FILES = ("admin", "congbao", "vbpl", "viwiki")


@dataclass(frozen=True)
class CorpusDocument:
    corpus: str  # file stem: admin, congbao, vbpl, viwiki
    index: int
    lines: tuple[str, ...]

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    @property
    def held_out(self) -> bool:
        return is_held_out(self.corpus, self.index)


def is_held_out(corpus: str, index: int) -> bool:
    digest = hashlib.sha1(f"{corpus}:{index}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % 100 < HELD_OUT_PERCENT


def _open(path: Path) -> Iterator[str]:
    opener = lzma.open if path.suffix == ".xz" else open
    with opener(path, "rt", encoding="utf-8") as handle:  # type: ignore[operator]
        for line in handle:
            yield line.rstrip("\n")


def iter_documents(path: Path) -> Iterator[CorpusDocument]:
    """The documents of one corpus file, in order."""
    corpus = path.name.split(".")[0]
    by_header = corpus in ("congbao", "vbpl")
    index = 0
    current: list[str] = []
    for line in _open(path):
        boundary = (HEADER in line.upper()) if by_header else len(current) >= BLOCK_LINES
        if boundary and any(line.strip() for line in current):
            # The issuer's name often stands on the lines just above the motto.
            carried: list[str] = []
            if by_header:
                while current and current[-1].strip() and current[-1].isupper() and len(carried) < 3:
                    carried.insert(0, current.pop())
            yield CorpusDocument(corpus, index, tuple(current))
            index += 1
            current = carried
        current.append(line)
    if any(line.strip() for line in current):
        yield CorpusDocument(corpus, index, tuple(current))


def iter_corpus(
    corpus_dir: Path, held_out: bool | None = None, files: tuple[str, ...] = CORPUS_FILES
) -> Iterator[CorpusDocument]:
    """Documents of every corpus file; `held_out` True/False picks one part, None both."""
    for name in files:
        path = Path(corpus_dir) / f"{name}.txt.xz"
        if not path.exists():
            continue
        for document in iter_documents(path):
            if held_out is None or document.held_out == held_out:
                yield document
