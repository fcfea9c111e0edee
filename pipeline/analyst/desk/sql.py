"""The analysts' questions in the web view answered by the CLI's own code.

Datasette runs the canned queries (datasette_metadata.json) and the table
search box as SQL; this module gives that SQL the Python the CLI uses, as
SQL functions registered on every connection (`prepare_connection`), and
turns the documents table's search box into `congvan search`'s query
(`filters_from_request`):

    congvan_today(:today)      the day `--today` means (query.day_of): empty is
                               today, `24/7/2024`, `hôm nay`, `tháng 7/2024`...
    congvan_days(:days)        a whole number of days, 14 when empty
    congvan_match_key(text)    `--responsible`'s accent-insensitive words (query.match_key)
    congvan_fold(text)         lower case, no marks, đ as d (query.fold)
    congvan_has_phrases(q, subject, text)
                               the word-order check of a d/đ phrase (search.has_phrases)

A `today` or `days` that cannot be read is answered 400 with the reason
before the query runs (`asgi_wrapper`); the functions raise as well, so no
query quietly compares deadlines with a string (`24/7/2024` once made every
deadline "overdue").
"""

from __future__ import annotations

import functools
import json
import re
import sqlite3
import urllib.parse
from typing import Any

from datasette import hookimpl

_DEFAULT_DAYS = 14


def congvan_today(text: str | None) -> str:
    from pipeline.analyst.query import day_of

    try:
        return day_of(text).isoformat()
    except ValueError as error:
        raise ValueError(f"today: {error}") from error


def congvan_days(text: Any) -> int:
    if text is None or str(text).strip() == "":
        return _DEFAULT_DAYS
    try:
        days = int(str(text).strip())
    except ValueError:
        raise ValueError(f"days: {text!r} is not a whole number of days") from None
    if not 0 <= days <= 36600:
        raise ValueError(f"days: {days} is out of range (0 to 36600)")
    return days


@functools.lru_cache(maxsize=64)
def _wanted(query: str) -> tuple[str, ...]:
    from pipeline.analyst.search import phrases

    try:
        return tuple(phrases(query))
    except ValueError:
        return ()  # no words: nothing to check (fts_query refused it already)


def congvan_has_phrases(query: str | None, subject: str | None, text: str | None) -> bool:
    from pipeline.analyst.search import has_phrases

    return has_phrases(list(_wanted(query or "")), subject, text)  # the query parsed once, not per row


def register(conn: sqlite3.Connection) -> None:
    """Register the functions on a connection (also for tests and notebooks)."""
    from pipeline.analyst.query import fold, match_key

    conn.create_function("congvan_today", 1, congvan_today)
    conn.create_function("congvan_days", 1, congvan_days, deterministic=True)
    conn.create_function("congvan_match_key", 1, match_key, deterministic=True)
    conn.create_function("congvan_fold", 1, fold, deterministic=True)
    conn.create_function("congvan_has_phrases", 3, congvan_has_phrases, deterministic=True)


@hookimpl
def prepare_connection(conn: sqlite3.Connection) -> None:
    register(conn)


# The search box of the documents table.  The metadata sets its searchmode to
# `raw`, so Datasette matches `documents_fts` against the `search` parameter
# as given; this hook (called after Datasette's own, trylast) replaces that
# parameter with `congvan search`'s FTS5 expression, so `dong` finds `đồng`,
# a phrase's d/đ words are checked in order, and no typed text is an FTS5
# syntax error.  One implementation for the web box and the CLI: search.py.
@hookimpl(trylast=True)
def filters_from_request(request: Any, database: str, table: str, datasette: Any) -> Any:
    from datasette.filters import FilterArguments

    from pipeline.analyst.search import fts_query, phrases

    if table != "documents" or datasette.table_metadata(database, table).get("searchmode") != "raw":
        return None
    if "_searchmode" in request.args:
        return None  # Datasette's own `escaped`/`raw` modes, asked for by name
    searches = {key: request.args[key] for key in request.args.keys()
                if key.startswith("_search") and key != "_searchmode"}
    if not searches:
        return None
    if "_search" in searches:  # Datasette reads `_search` alone when it is there
        searches = {"_search": searches["_search"]}
    params: dict[str, str] = {}
    where: list[str] = []
    for index, (key, value) in enumerate(searches.items()):
        name = "search" if key == "_search" else f"search_{index}"
        try:
            params[name] = fts_query(value)
        except ValueError:
            params[name] = '"congvan_no_words"'
            where.append("0")  # nothing to search for: no row, rather than an FTS5 syntax error
            continue
        if phrases(value):  # a long d/đ phrase: its word order is checked row by row
            params[f"congvan_{name}"] = value
            where.append(f"congvan_has_phrases(:congvan_{name}, subject, text)")
    return FilterArguments(where, params=params)


__all__ = ["register", "congvan_today", "congvan_days", "congvan_has_phrases"]


# The canned queries that read :today and :days (datasette_metadata.json), by the last part of their URL.
_DATED_QUERY = re.compile(r"/(upcoming_deadlines|overdue_tasks|tasks_by_responsible)(\.json|\.csv)?$")


def _unreadable(query_string: bytes) -> str | None:
    """Why the request's `today` or `days` cannot be read, or None."""
    params = urllib.parse.parse_qs(query_string.decode("utf-8", errors="replace"))
    try:
        for value in params.get("today", [])[-1:]:
            congvan_today(value)
        for value in params.get("days", [])[-1:]:
            congvan_days(value)
    except ValueError as error:
        return str(error)
    return None


@hookimpl
def asgi_wrapper(datasette: Any) -> Any:
    def wrap(app: Any) -> Any:
        async def checked(scope: dict[str, Any], receive: Any, send: Any) -> None:
            if scope.get("type") == "http" and _DATED_QUERY.search(str(scope.get("path", ""))):
                reason = _unreadable(scope.get("query_string", b""))
                if reason is not None:
                    if str(scope["path"]).endswith(".json"):
                        body, kind = json.dumps({"ok": False, "error": reason}, ensure_ascii=False), "application/json"
                    else:
                        body, kind = f"400 Bad Request: {reason}\n", "text/plain"
                    data = body.encode("utf-8")
                    await send({"type": "http.response.start", "status": 400,
                                "headers": [(b"content-type", f"{kind}; charset=utf-8".encode()),
                                            (b"content-length", str(len(data)).encode())]})
                    await send({"type": "http.response.body", "body": data})
                    return
            await app(scope, receive, send)
        return checked
    return wrap
