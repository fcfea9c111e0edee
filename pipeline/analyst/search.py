"""Full-text search over the letters (FTS5 table `documents_fts`, store.py).

The index uses `unicode61 remove_diacritics 2`, so the tokenizer already makes
`ke hoach cai cach` match `kế hoạch cải cách`, on both the query and the text.
Except for one letter: `đ`/`Đ` is a letter of its own, not `d` with a
diacritic, so the index keeps `đồng` as `đong` and `dong` would not find it.

Each query word with a `d` or `đ` therefore matches either spelling of that
word, ORed (`dong` → `dong` OR `đong`): two spellings per word (a Vietnamese
syllable has one `d`/`đ`, its first letter), so the query grows with the
number of words, never with their product.  A quoted phrase (or a number
such as `2011/QĐ-UBND`) with a few such words is the OR of its spellings
(`"dao tao"` → `"dao tao" OR "đao tao"`), up to _MAX_PHRASE_SPELLINGS: FTS5
checks the order itself.  A phrase with more is matched word by word in the
index, then its words' order is checked on the folded text (`query.fold`:
no marks, `đ` as `d`) of each candidate: a 20-word phrase costs 20 terms,
where expanding the phrase itself would cost 2^20.

The web view's search box runs the same query (pipeline/analyst/desk/sql.py).
"""

from __future__ import annotations

import itertools
import re
from typing import Any

from sqlite_utils import Database

from pipeline.analyst.query import fold

__all__ = ["fts_query", "search", "phrases", "has_phrases"]

# Markers sqlite's snippet() puts around each hit; control characters that never
# occur in letters, so the CLI can turn them into styling and nothing else.
HIT_START, HIT_END = "\x02", "\x03"
# A word with more d's than this is not expanded further (2^n variants);
# Vietnamese words have one, a code such as `QĐ-ĐBDT` a few.
_MAX_D = 3
# A phrase with up to this many spellings is matched as their OR (FTS5 checks the order).
_MAX_PHRASE_SPELLINGS = 8
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


def _word(word: str) -> str:
    spellings = _d_variants(word.lower())
    quoted = ['"' + spelling + '"' for spelling in spellings]
    return quoted[0] if len(quoted) == 1 else "(" + " OR ".join(quoted) + ")"


def _terms(query: str) -> list[list[str]]:
    """The query's terms, each a list of words (one word, or a phrase)."""
    terms = []
    for quoted, bare in _TERM.findall(query):
        words = re.findall(r"\w+", quoted or bare)
        if words:
            terms.append(words)
    if not terms:
        raise ValueError(f"nothing to search for in {query!r}")
    return terms


def _spellings(words: list[str]) -> list[str] | None:
    """Every d/đ spelling of a phrase, or None when there are more than _MAX_PHRASE_SPELLINGS."""
    variants = [_d_variants(word.lower()) for word in words]
    count = 1
    for spellings in variants:
        count *= len(spellings)
    if count > _MAX_PHRASE_SPELLINGS:
        return None
    return [" ".join(choice) for choice in itertools.product(*variants)]


def _needs_order_check(words: list[str]) -> bool:
    """A phrase of several words with too many d/đ spellings: matched word by word, its order checked afterwards."""
    return len(words) > 1 and any(c in "dDđĐ" for c in "".join(words)) and _spellings(words) is None


def fts_query(query: str) -> str:
    """Turn what an analyst types into an FTS5 MATCH expression.

    Every term must occur (AND).  A term with punctuation such as
    `2011/QĐ-UBND` is the phrase `2011 qđ ubnd` (the tokenizer splits it the
    same way); `"cải cách hành chính"` in double quotes is a phrase.  A
    phrase with d/đ words is the OR of its spellings, or, with too many,
    its words ANDed (see the module's note).
    Nothing the user types is passed through as FTS5 syntax, so no query can
    be a syntax error.  Raises ValueError for a query with no words.
    """
    parts: list[str] = []
    for words in _terms(query):
        if _needs_order_check(words):
            parts.extend(_word(word) for word in words)
        elif len(words) == 1:
            parts.append(_word(words[0]))
        else:
            quoted = ['"' + spelling + '"' for spelling in _spellings(words) or []]
            parts.append(quoted[0] if len(quoted) == 1 else "(" + " OR ".join(quoted) + ")")
    return " AND ".join(parts)


def _folded_words(text: str | None) -> str:
    return " " + " ".join(re.findall(r"\w+", fold(text))) + " "


def phrases(query: str) -> list[str]:
    """The phrases whose word order `search` checks on the folded text, folded and space-padded."""
    return [" " + " ".join(fold(word) for word in words) + " " for words in _terms(query) if _needs_order_check(words)]


def has_phrases(wanted: list[str], subject: str | None, text: str | None) -> bool:
    """Whether a letter's subject and text hold every phrase of `phrases(query)`, in order."""
    if not wanted:
        return True
    folded = _folded_words(subject) + _folded_words(text)
    return all(phrase in folded for phrase in wanted)


def search(db: Database, query: str, limit: int = 20) -> list[dict[str, Any]]:
    """Documents matching `query`, best first, each with a snippet around the hits.

    Rows: document_id, doc_number, doc_type, issue_date, issuer, subject,
    source, snippet (hits between HIT_START and HIT_END), rank (bm25; lower
    is better).
    """
    wanted = phrases(query)
    cursor = db.execute(
        f"""select d.id as document_id, d.doc_number, d.doc_type, d.issue_date, d.issuer, d.subject, d.source,
                   snippet(documents_fts, -1, '{HIT_START}', '{HIT_END}', '…', 16) as snippet,
                   documents_fts.rank as rank, d.text as _text
              from documents_fts join documents d on d.id = documents_fts.rowid
             where documents_fts match ?
             order by documents_fts.rank""" + ("" if wanted else " limit ?"),
        [fts_query(query)] + ([] if wanted else [limit]),
    )
    names = [c[0] for c in cursor.description]
    rows = []
    for row in (dict(zip(names, values, strict=True)) for values in cursor):
        if not has_phrases(wanted, row["subject"], row.pop("_text")):
            continue
        # Neighbouring hits read as one: `[kế hoạch]`, not `[kế] [hoạch]`.
        row["snippet"] = (row["snippet"] or "").replace(f"{HIT_END} {HIT_START}", " ")
        rows.append(row)
        if len(rows) >= limit:
            break
    return rows


def plain_snippet(snippet: str, start: str = "[", end: str = "]") -> str:
    """The snippet with its hit markers replaced (for CSV/JSON/plain output)."""
    return snippet.replace(HIT_START, start).replace(HIT_END, end).replace("\n", " ")
