"""The review desk: a Datasette plugin (routes, templates, cell rendering).

Registered under Datasette's `datasette` entry point (pyproject.toml), so
`congvan serve` and a plain `datasette congvan.db` both load it.  It acts only
on a database that has congvan's `documents` table.

Pages (all under /-/desk):

    /-/desk                      the review queue (oldest first) and every letter with its state
    /-/desk/doc/N                a letter: its page images beside its fields and their
                                 confidences, edit forms, tasks (done/reopen), the letters
                                 it cites and the letters citing it, its corrections
    /-/desk/doc/N/page/P.png     page P rendered from the kept original (pages.py)
    /-/desk/doc/N/crop/FIELD.png where FIELD is printed on page 1
    /-/desk/task/N               a task: its letter, at the task
    POST /-/desk/doc/N/correct   store a correction (Datasette's CSRF token required)
    POST /-/desk/task/N/done|reopen

Cells: anywhere a column names a letter (`document_id`, `citing_document_id`,
`cited_document_id` in views and canned queries, `doc_number` in the documents
table) links to its desk page; a `task_id` links to its task; the documents
table shows a short excerpt of `text` and `sha256` so a row fits a screen.
"""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

from datasette import hookimpl
from datasette.utils.asgi import Response
from markupsafe import Markup, escape

from pipeline.analyst.desk.pages import FIELD_SLOTS, HEADER_REGIONS, PageImages, Region, slot_region

# The SQL functions of the canned queries and the search box's hook: one plugin, one entry point.
from pipeline.analyst.desk.sql import asgi_wrapper, filters_from_request, prepare_connection  # noqa: F401
from pipeline.stages.corrections import DOCUMENT_FIELDS, IDENTITY_FIELDS, TASK_FIELDS
from pipeline.stages.store import REVIEW_THRESHOLD

PLUGIN = "congvan-desk"
BY_COOKIE = "congvan_by"
# Fields whose slot the desk crops from the page when they are null or doubtful.
CROPPED = ("doc_number", "issue_date")
_LETTER_COLUMNS = {"document_id", "citing_document_id", "cited_document_id"}
_TEXT_EXCERPT = 140


@hookimpl
def startup(datasette: Any) -> None:
    """Datasette 0.65's default error handler prints every exception, a 404
    for a mistyped URL included, through rich's traceback printer; rich 14+
    raises there (no exception being handled), so a bad URL was answered 500
    and left a traceback in the log.  Without rich the handler renders the
    same 404/400 page and prints a traceback only for a real 500.  Done at
    startup, when Datasette has registered that module as a plugin: importing
    it while Datasette loads this plugin would register it with no hooks."""
    import datasette.handle_exception as default_handler

    default_handler.rich = None


# ---------------------------------------------------------------- helpers

async def _database(datasette: Any) -> Any:
    """The first database with congvan's documents table, or None."""
    for name, db in datasette.databases.items():
        if name.startswith("_"):
            continue
        if "documents" in await db.table_names():
            return db
    return None


def _config(datasette: Any) -> dict[str, Any]:
    return datasette.plugin_config(PLUGIN) or {}


def _writable(datasette: Any, db: Any) -> bool:
    """Whether the desk may write: `congvan serve` says (it checked the file and
    its folder); under a plain `datasette`, whether Datasette opened it mutable."""
    return bool(db.is_mutable and _config(datasette).get("writable", True))


def _threshold(datasette: Any) -> float:
    return float(_config(datasette).get("threshold", REVIEW_THRESHOLD))


def _pages(datasette: Any, db: Any) -> PageImages:
    images = getattr(datasette, "_congvan_pages", None)
    if images is None:
        from pathlib import Path

        config = _config(datasette)
        base = Path(db.path).resolve().parent if getattr(db, "path", None) else None
        cache = config.get("cache_dir")
        images = PageImages(config.get("originals", []), Path(cache) if cache else None, base=base)
        datasette._congvan_pages = images
    return images


async def _rows(db: Any, sql: str, params: Any = ()) -> list[dict[str, Any]]:
    results = await db.execute(sql, params)
    return [dict(row) for row in results.rows]


async def _has(db: Any, table: str) -> bool:
    return table in await db.table_names()


def _confidence(doc: dict[str, Any]) -> dict[str, float]:
    try:
        data = json.loads(doc.get("confidence") or "{}")
    except ValueError:
        return {}
    return {k: float(v) for k, v in data.items() if isinstance(v, int | float)}


def _doubtful(doc: dict[str, Any], confirmed: set[str], threshold: float) -> list[str]:
    """Identity fields that are null or read below the threshold and not yet corrected or confirmed."""
    confidence = _confidence(doc)
    return [f for f in IDENTITY_FIELDS
            if f not in confirmed and (doc.get(f) is None or confidence.get(f, 1.0) < threshold)]


async def _confirmed(db: Any) -> dict[int, set[str]]:
    if not await _has(db, "corrections"):
        return {}
    out: dict[int, set[str]] = {}
    for row in await _rows(db, "select distinct document_id, field from corrections where task_id is null"):
        out.setdefault(row["document_id"], set()).add(row["field"])
    return out


async def _letters(datasette: Any, db: Any) -> list[dict[str, Any]]:
    """Every letter with its state; oldest ingested first."""
    confirmed = await _confirmed(db)
    corrected = set(confirmed)
    if await _has(db, "corrections"):
        corrected |= {r["document_id"] for r in await _rows(db, "select distinct document_id from corrections")}
    threshold = _threshold(datasette)
    letters = await _rows(db, """select id, doc_number, doc_type, issue_date, issuer, subject, confidence, ingested_at,
                                        (select count(*) from tasks t where t.document_id = d.id) as tasks
                                   from documents d order by ingested_at, id""")
    for doc in letters:
        doc["doubtful"] = _doubtful(doc, confirmed.get(doc["id"], set()), threshold)
        doc["state"] = ("to_review" if doc["doubtful"] else "corrected" if doc["id"] in corrected else "read")
    return letters


_STATE_LABELS = {"to_review": "cần rà soát / to review", "corrected": "đã sửa / corrected", "read": "đã đọc / read"}


def _by(request: Any) -> str:
    actor = request.actor or {}
    # The cookie holds the name URL-quoted: cookies are Latin-1, names are Vietnamese.
    return str(actor.get("id") or urllib.parse.unquote(request.cookies.get(BY_COOKIE) or ""))


async def _render(datasette: Any, request: Any, template: str, context: dict[str, Any], status: int = 200) -> Response:
    html = await datasette.render_template(template, {"state_labels": _STATE_LABELS, **context}, request=request)
    return Response.html(html, status=status)


async def _not_found(datasette: Any, request: Any, what: str) -> Response:
    return await _render(datasette, request, "desk_error.html", {"message": what}, status=404)


_SQLITE_MAX_INT = 2**63 - 1


def _id(request: Any, name: str) -> int | None:
    """A numeric id from the URL (the routes accept digits only), or None when
    no row can have it (SQLite integers stop at 2^63-1): a 404, never a 500."""
    value = int(request.url_vars[name])
    return value if value <= _SQLITE_MAX_INT else None


def _vn(iso: str | None) -> str:
    if not iso or len(iso) < 10:
        return iso or ""
    return f"{iso[8:10]}/{iso[5:7]}/{iso[0:4]}"


# ---------------------------------------------------------------- pages

async def queue_page(datasette: Any, request: Any) -> Response:
    db = await _database(datasette)
    if db is None:
        return await _not_found(datasette, request, "Không có cơ sở dữ liệu congvan / no congvan database here")
    letters = await _letters(datasette, db)
    queue = [d for d in letters if d["state"] == "to_review"]
    return await _render(datasette, request, "desk_queue.html", {
        "db_name": db.name, "queue": queue, "letters": letters, "threshold": _threshold(datasette),
        "field_labels": DOCUMENT_FIELDS, "vn": _vn,
    })


async def document_page(datasette: Any, request: Any) -> Response:
    db = await _database(datasette)
    doc_id = _id(request, "doc_id")
    docs = await _rows(db, "select * from documents where id = ?", [doc_id]) if db and doc_id is not None else []
    if not docs or doc_id is None:
        number = request.url_vars["doc_id"]
        return await _not_found(datasette, request, f"Không có văn bản #{number} / no letter #{number}")
    doc = docs[0]
    confidence = _confidence(doc)
    confirmed = (await _confirmed(db)).get(doc_id, set())
    threshold = _threshold(datasette)
    doubtful = _doubtful(doc, confirmed, threshold)
    tasks = await _rows(db, "select * from tasks where document_id = ? order by position", [doc_id])
    cites = await _rows(db, """select r.*, d.doc_number as target_number, d.issue_date as target_date
                                 from "references" r left join documents d on d.id = r.document_id
                                where r.citing_document_id = ? order by r.position""", [doc_id])
    cited_by = await _rows(db, """select distinct c.id, c.doc_number, c.doc_type, c.issue_date, c.issuer
                                    from "references" r join documents c on c.id = r.citing_document_id
                                   where r.document_id = ? order by c.issue_date, c.id""", [doc_id])
    corrections = (await _rows(db, "select * from corrections where document_id = ? order by at desc, id desc",
                               [doc_id]) if await _has(db, "corrections") else [])
    letters = await _letters(datasette, db)
    queue = [d["id"] for d in letters if d["state"] == "to_review"]
    prev_id, next_id = _neighbours([d["id"] for d in letters], set(queue), doc_id)
    images = _pages(datasette, db)
    renderable = await _in_thread(images.can_render, doc["source"], doc["sha256"])
    slotted = {name for name in CROPPED if await _slot_region(db, doc_id, name) is not None}
    hand_readings = await _hand_readings(db, doc_id)
    fields = []
    for name, label in DOCUMENT_FIELDS.items():
        value = doc.get(name)
        score = confidence.get(name)
        low = score is not None and score < threshold
        fields.append({
            "name": name, "label": label, "value": value, "confidence": score, "low": low,
            "doubtful": name in doubtful, "confirmed": name in confirmed,
            "crop": renderable and name in CROPPED and (value is None or low) and name not in confirmed,
            "hand_reading": hand_reading(name, hand_readings) if name in slotted and value is None else None,
            "crop_where": "ô viết tay của trường này ở trang 1 / this field's handwritten slot on page 1"
            if name in slotted else
            "vùng in trường này ở đầu trang 1 / where this field is printed in page 1's header"
            if name in HEADER_REGIONS else "đầu trang 1 / page 1 header",
        })
    return await _render(datasette, request, "desk_document.html", {
        "db_name": db.name, "doc": doc, "fields": fields, "tasks": tasks, "cites": cites, "cited_by": cited_by,
        "corrections": corrections, "renderable": renderable, "pages": list(range(1, (doc.get("pages") or 1) + 1)),
        "in_queue": doc_id in queue, "queue_left": len(queue),
        "prev_id": prev_id, "next_id": next_id,
        "task_fields": {k: v for k, v in TASK_FIELDS.items() if k != "status"},
        "writable": _writable(datasette, db), "by": _by(request), "threshold": threshold, "vn": _vn,
        "message": request.args.get("saved"),
    })


def _neighbours(order: list[int], queue: set[int], doc_id: int) -> tuple[int | None, int | None]:
    """Previous and next letter: in the review queue while it has letters (a
    letter just fixed has left it, and Next goes on to the following one to
    review), else among all letters; oldest first."""
    if doc_id not in order:
        return None, None
    position = order.index(doc_id)
    wanted = (lambda i: i in queue) if queue else (lambda i: True)
    before = next((i for i in reversed(order[:position]) if wanted(i)), None)
    after = next((i for i in order[position + 1:] if wanted(i)), None)
    return before, after


async def _in_thread(fn: Any, *args: Any) -> Any:
    import asyncio

    return await asyncio.get_running_loop().run_in_executor(None, fn, *args)


async def page_image(datasette: Any, request: Any) -> Response:
    return await _image(datasette, request, lambda images, doc: images.page_png(
        doc["source"], doc["sha256"], int(request.url_vars["page"])))


async def _hand_readings(db: Any, doc_id: int | None) -> dict[str, dict[str, Any]]:
    """What the digit recogniser read in page one's handwritten slots (pages.slot_readings), sure or not."""
    if doc_id is None or not await _has(db, "pages"):
        return {}
    if "slot_readings" not in {c.name for c in await db.table_column_details("pages")}:
        return {}  # a database from before the store kept them
    rows = await _rows(db, "select slot_readings from pages where document_id = ? and number = 1", [doc_id])
    try:
        data = json.loads(rows[0]["slot_readings"]) if rows and rows[0]["slot_readings"] else {}
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def hand_reading(field: str, readings: dict[str, dict[str, Any]]) -> str | None:
    """The recogniser's reading of a null field's slots, for the archivist to check against the crop
    (`ngày 14 (0.73), tháng 12 (0.99)`; `ngày 24 (0.76; 94)` where the glyphs alone read 94, no
    day, and 24 is the likeliest day); None when it read nothing there."""
    names = {"number": "số", "day": "ngày", "month": "tháng"}
    parts = []
    for slot in FIELD_SLOTS.get(field, ()):
        reading = readings.get(slot)
        if not isinstance(reading, dict) or not str(reading.get("digits", "")).isdigit():
            continue
        try:
            confidence = float(reading.get("confidence") or 0.0)
        except (TypeError, ValueError):
            confidence = 0.0
        # Where the glyphs alone read no valid value, what they read too (`ngày 24 (0.76; 94)`).
        read_as = f"; {reading['read_as']}" if str(reading.get("read_as", "")).isdigit() else ""
        parts.append(f"{names[slot]} {reading['digits']} ({confidence:.2f}{read_as})")
    return ", ".join(parts) or None


async def _slot_region(db: Any, doc_id: int | None, field: str) -> Region | None:
    """Where the handwriting stage found the field's slot on page one (pages.slots), if it kept it."""
    if doc_id is None or field not in FIELD_SLOTS or not await _has(db, "pages"):
        return None
    columns = {c.name for c in await db.table_column_details("pages")}
    if not {"slots", "width", "height"} <= columns:
        return None  # a database from before the desk kept slot boxes
    rows = await _rows(db, "select slots, width, height, rotated_by from pages where document_id = ? and number = 1",
                       [doc_id])
    if not rows or not rows[0]["slots"] or rows[0]["rotated_by"]:
        return None  # a rotated page's boxes are on the turned image, not the original
    try:
        slots = json.loads(rows[0]["slots"])
    except ValueError:
        return None
    return slot_region(field, slots if isinstance(slots, dict) else None, rows[0]["width"], rows[0]["height"])


async def crop_image(datasette: Any, request: Any) -> Response:
    field = request.url_vars["field"]
    if field not in DOCUMENT_FIELDS:
        return Response.text(f"no such field: {field}", status=404)
    db = await _database(datasette)
    region = await _slot_region(db, _id(request, "doc_id"), field) if db else None
    return await _image(datasette, request, lambda images, doc: images.crop_png(
        doc["source"], doc["sha256"], field, region))


async def _image(datasette: Any, request: Any, make: Any) -> Response:
    db = await _database(datasette)
    doc_id = _id(request, "doc_id")
    docs = await _rows(db, "select source, sha256 from documents where id = ?",
                       [doc_id]) if db and doc_id is not None else []
    data = await _in_thread(make, _pages(datasette, db), docs[0]) if docs else None
    if data is None:
        return Response.text("no image: the original file was not found or has no such page", status=404)
    return Response(data, content_type="image/png", headers={"Cache-Control": "private, max-age=3600"})


async def task_page(datasette: Any, request: Any) -> Response:
    db = await _database(datasette)
    task_id = _id(request, "task_id")
    rows = await _rows(db, "select document_id from tasks where id = ?", [task_id]) if db and task_id else []
    if not rows:
        number = request.url_vars["task_id"]
        return await _not_found(datasette, request, f"Không có nhiệm vụ #{number} / no task #{number}")
    return Response.redirect(f"/-/desk/doc/{rows[0]['document_id']}#task-{task_id}")


# ---------------------------------------------------------------- writes

def _forged(request: Any) -> Response | None:
    """403 unless the POST came from a desk page.  Datasette's CSRF check
    (asgi-csrf) compares the form's token with the `ds_csrftoken` cookie, but
    lets a POST without any cookie through; a browser sends none on a
    cross-site POST (SameSite=Lax) while it still sends the Basic password of
    `serve --password`.  So a write without the cookie is refused here."""
    if "ds_csrftoken" not in request.cookies:
        return Response.text("CSRF token missing: submit the form from the desk page", status=403)
    return None


async def _form(request: Any) -> dict[str, str]:
    body = await request.post_body()
    fields = urllib.parse.parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True)
    return {k: v[-1] for k, v in fields.items()}


def _who(request: Any, form: dict[str, str]) -> str:
    return (form.get("by") or "").strip() or _by(request) or "desk"


async def _write(datasette: Any, request: Any, doc_id: int, action: Any, form: dict[str, str]) -> Response:
    from sqlite_utils import Database

    from pipeline.core.errors import CongvanError

    db = await _database(datasette)
    if db is None:
        return await _not_found(datasette, request, "no congvan database")
    if not _writable(datasette, db):
        return await _render(datasette, request, "desk_error.html", {
            "message": "Cơ sở dữ liệu mở chỉ đọc / the database is served read-only; corrections need it writable"},
            status=403)

    def run(conn: Any) -> Any:
        return action(Database(conn))

    try:
        change = await db.execute_write_fn(run, block=True)
    except CongvanError as error:
        return await _render(datasette, request, "desk_error.html",
                             {"message": error.one_line(), "back": f"/-/desk/doc/{doc_id}"}, status=400)
    verb = "confirmed" if not change.changed else "saved"
    target = form.get("next") or f"/-/desk/doc/{doc_id}"
    if not target.startswith("/-/desk/"):
        target = f"/-/desk/doc/{doc_id}"
    sep = "&" if "?" in target else "?"
    anchor = f"#task-{change.task_id}" if change.task_id else f"#field-{change.field}"
    response = Response.redirect(f"{target}{sep}saved={urllib.parse.quote(change.field + ' ' + verb)}{anchor}")
    if form.get("by"):
        response.set_cookie(BY_COOKIE, urllib.parse.quote(form["by"].strip()), max_age=3600 * 24 * 365,
                            samesite="lax")
    return response


async def correct_view(datasette: Any, request: Any) -> Response:
    if request.method != "POST":
        return Response.text("POST a correction", status=405)
    if (refused := _forged(request)) is not None:
        return refused
    from pipeline.stages import corrections

    doc_id = _id(request, "doc_id")
    if doc_id is None:
        return await _not_found(datasette, request, f"no letter #{request.url_vars['doc_id']}")
    form = await _form(request)
    field, value, who = form.get("field", ""), form.get("value", ""), _who(request, form)
    task = (form.get("task_id") or "").strip()
    if task and not (task.isascii() and task.isdigit() and int(task) <= _SQLITE_MAX_INT):
        return await _render(datasette, request, "desk_error.html",
                             {"message": f"task_id {task!r}: not a task number", "back": f"/-/desk/doc/{doc_id}"},
                             status=400)

    def action(sdb: Any) -> Any:
        if task:
            owner = sdb.execute("select document_id from tasks where id = ?", [int(task)]).fetchone()
            if owner is None or owner[0] != doc_id:
                raise corrections.UsageError(f"task {task} is not a task of letter #{doc_id}")
            return corrections.correct_task(sdb, int(task), field, value, who)
        return corrections.correct_document(sdb, doc_id, field, value, who)

    return await _write(datasette, request, doc_id, action, form)


async def task_status_view(datasette: Any, request: Any) -> Response:
    if request.method != "POST":
        return Response.text("POST to mark a task done or open", status=405)
    if (refused := _forged(request)) is not None:
        return refused
    from pipeline.stages import corrections

    db = await _database(datasette)
    task_id = _id(request, "task_id")
    rows = await _rows(db, "select document_id from tasks where id = ?", [task_id]) if db and task_id else []
    if not rows or task_id is None:
        return await _not_found(datasette, request, f"no task #{request.url_vars['task_id']}")
    form = await _form(request)
    done = request.url_vars["action"] == "done"
    who = _who(request, form)
    return await _write(datasette, request, rows[0]["document_id"],
                        lambda sdb: corrections.set_task_done(sdb, task_id, done, who), form)


# ---------------------------------------------------------------- hooks

@hookimpl
def register_routes() -> list[tuple[str, Any]]:
    return [
        (r"^/-/desk/?$", queue_page),
        (r"^/-/desk/doc/(?P<doc_id>\d+)/?$", document_page),
        (r"^/-/desk/doc/(?P<doc_id>\d+)/page/(?P<page>\d+)\.png$", page_image),
        (r"^/-/desk/doc/(?P<doc_id>\d+)/crop/(?P<field>[a-z_]+)\.png$", crop_image),
        (r"^/-/desk/doc/(?P<doc_id>\d+)/correct$", correct_view),
        (r"^/-/desk/task/(?P<task_id>\d+)/?$", task_page),
        (r"^/-/desk/task/(?P<task_id>\d+)/(?P<action>done|reopen)$", task_status_view),
    ]


@hookimpl
def actor_from_request(datasette: Any, request: Any) -> dict[str, str] | None:
    """The user name given to `serve --password`'s login (auth.py) is the actor: the desk records it."""
    from pipeline.analyst.desk.auth import USER_SCOPE_KEY

    user = request.scope.get(USER_SCOPE_KEY)
    return {"id": user} if user else None


@hookimpl
def menu_links(datasette: Any, actor: Any) -> list[dict[str, str]]:
    return [{"href": "/-/desk", "label": "Bàn rà soát / Review desk"}]


# Real tables whose foreign keys Datasette links itself (to the row page).
_FK_TABLES = {"tasks", "references", "recipients", "reporting_periods", "pages", "changes", "corrections"}


@hookimpl
def render_cell(row: Any, value: Any, column: str, table: str | None, database: str, datasette: Any) -> Any:
    if value is None:
        return None
    if table == "documents":
        if column == "text" and isinstance(value, str) and len(value) > _TEXT_EXCERPT:
            excerpt = " ".join(value[:_TEXT_EXCERPT].split())
            # The whole text is on the letter's desk page (and the row's JSON).
            return Markup(f'<span class="excerpt">{escape(excerpt)}…</span>')
        if column == "sha256" and isinstance(value, str):
            return Markup(f'<code title="{escape(value)}">{escape(value[:12])}…</code>')
        if column == "doc_number" and "id" in row.keys():
            return Markup(f'<a href="/-/desk/doc/{int(row["id"])}">{escape(value)}</a>')
        return None
    if table in _FK_TABLES and column in ("document_id", "citing_document_id") and isinstance(value, int):
        # Datasette's table view links these to the letter's row itself (and
        # wins over this hook); a row's own page would show a bare number: there
        # the cell links to the letter's desk page, labelled with its number.
        if table == "references" and column == "document_id" and "doc_number" in row.keys() and row["doc_number"]:
            return Markup(f'<a href="/-/desk/doc/{value}">{escape(row["doc_number"])}</a>')

        async def letter_link() -> Markup:
            number = None
            db = datasette.get_database(database)
            found = await db.execute("select doc_number from documents where id = ?", [value])
            if found.rows:
                number = found.rows[0][0]
            return Markup(f'<a href="/-/desk/doc/{value}">{escape(number or f"#{value}")}</a>')

        return letter_link()
    if column in _LETTER_COLUMNS and isinstance(value, int):
        label = None
        keys = row.keys()
        if column == "document_id" and "doc_number" in keys:
            label = row["doc_number"]
        elif column == "cited_document_id" and "cites" in keys:
            label = row["cites"]
        text = f"{label} (#{value})" if label else f"#{value}"
        return Markup(f'<a href="/-/desk/doc/{value}">{escape(text)}</a>')
    if column == "task_id" and isinstance(value, int):
        return Markup(f'<a href="/-/desk/task/{value}">nhiệm vụ / task {value}</a>')
    if column == "id" and table == "document_list" and isinstance(value, int):
        return Markup(f'<a href="/-/desk/doc/{value}">{value}</a>')
    return None
