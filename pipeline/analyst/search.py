"""Full-text search over the letters (FTS5 table `documents_fts`, store.py).

The index uses `unicode61 remove_diacritics 2`, so the tokenizer already makes
`ke hoach cai cach` match `kế hoạch cải cách`, on both the query and the text.
Except for one letter: `đ`/`Đ` is a letter of its own, not `d` with a
diacritic, so the index keeps `đồng` as `đong` and `dong` would not find it.
Every query word with a `d` or `đ` is therefore expanded into all its d/đ
spellings, ORed: `dong` → (`dong` OR `đong`).
"""

from __future__ import annotations

import itertools
import re
from typing import Any

from sqlite_utils import Database

__all__ = ["fts_query", "search"]

# Markers sqlite's snippet() puts around each hit; control characters that never
# occur in letters, so the CLI can turn them into styling and nothing else.
HIT_START, HIT_END = "\x02", "\x03"
# A word with more d's than this is not expanded further (2^n variants).
_MAX_D = 4
_TERM = re.compile(r'"([^"]*)"|(\S+)')


def _d_variants(word: str) -> list[str]:
    positions = [i for i, c in enumerate(word) if c in "dDđĐ"][:_MAX_D]
    variants = []
    for choice in itertools.product("dđ", repeat=len(positions)):
        letters = list(word)
        for position, letter in zip(positions, choice, strict=True):
            letters[position] = letter
        variants.append("".join(letters))
    return variants


def _phrase(words: list[str]) -> str:
    """An FTS5 phrase (words in sequence) for every d/đ spelling, ORed."""
    spellings = [_d_variants(word.lower()) for word in words]
    phrases = ['"' + " ".join(combo) + '"' for combo in itertools.product(*spellings)]
    return phrases[0] if len(phrases) == 1 else "(" + " OR ".join(phrases) + ")"


def fts_query(query: str) -> str:
    """Turn what an analyst types into an FTS5 MATCH expression.

    Every term must occur (AND).  A term with punctuation such as
    `2011/QĐ-UBND` becomes the phrase `2011 qđ ubnd` (the tokenizer splits
    it the same way); `"cải cách hành chính"` in double quotes is a phrase.
    Nothing the user types is passed through as FTS5 syntax, so no query
    can be a syntax error.  Raises ValueError for a query with no words.
    """
    parts = []
    for quoted, bare in _TERM.findall(query):
        words = re.findall(r"\w+", quoted or bare)
        if words:
            parts.append(_phrase(words))
    if not parts:
        raise ValueError(f"nothing to search for in {query!r}")
    return " AND ".join(parts)


def search(db: Database, query: str, limit: int = 20) -> list[dict[str, Any]]:
    """Documents matching `query`, best first, each with a snippet around the hits.

    Rows: document_id, doc_number, doc_type, issue_date, issuer, subject,
    source, snippet (hits between HIT_START and HIT_END), rank (bm25; lower
    is better).
    """
    cursor = db.execute(
        f"""select d.id as document_id, d.doc_number, d.doc_type, d.issue_date, d.issuer, d.subject, d.source,
                   snippet(documents_fts, -1, '{HIT_START}', '{HIT_END}', '…', 16) as snippet,
                   documents_fts.rank as rank
              from documents_fts join documents d on d.id = documents_fts.rowid
             where documents_fts match ?
             order by documents_fts.rank limit ?""",
        [fts_query(query), limit],
    )
    names = [c[0] for c in cursor.description]
    rows = [dict(zip(names, row, strict=True)) for row in cursor]
    for row in rows:
        # Neighbouring hits read as one: `[kế hoạch]`, not `[kế] [hoạch]`.
        row["snippet"] = (row["snippet"] or "").replace(f"{HIT_END} {HIT_START}", " ")
    return rows


def plain_snippet(snippet: str, start: str = "[", end: str = "]") -> str:
    """The snippet with its hit markers replaced (for CSV/JSON/plain output)."""
    return snippet.replace(HIT_START, start).replace(HIT_END, end).replace("\n", " ")
