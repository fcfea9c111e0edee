"""Tasks from task tables: one Task a row, with its unit, its partners and its deadline.

A plan lists its duties in a table, often in an appendix:

    STT | Nội dung nhiệm vụ | Cơ quan chủ trì | Cơ quan phối hợp | Thời gian hoàn thành | Sản phẩm

Each column's role is read from its header's meaning, in whatever order the
columns come (`nội dung` / `nhiệm vụ` / `công việc`; `chủ trì` / `trách nhiệm`
/ `đơn vị thực hiện`; `phối hợp`; `thời gian` / `thời hạn` / `tiến độ`;
`sản phẩm`; `ghi chú`; `theo dõi`).  A header over two rows (`Cơ quan thực
hiện` above `Chủ trì | Phối hợp`) is read as one.  A table with no duty column,
or with neither a unit nor a time column (a list of participants, a budget),
is not a task table and is left alone.

Numbered section rows (`I`, `II`, `A.`, a row merged across the table) are
groups, not tasks.  A table continued on the next page (its header repeated,
or no header at all and the same columns) is read as one table.

Deadlines come from the cell's own words (`deadline_from_cell`): `Quý II/2026`
ends on 2026-06-30, `tháng 5/2026` on 2026-05-31, `Năm 2026` on 2026-12-31,
`trước ngày 01/01/2030` on that day; a range (`29/6/2026 - 09/7/2026`, `Từ
tháng 11/2025 đến tháng 4/2026`) gives `start` and `deadline`; `Thường xuyên`,
`Hằng năm`, `Trước ngày 05 của tháng liền kề` recur and have no deadline.  A
year printed only in the column header (`Thời gian (Năm 2026)`) completes the
cells' `ngày 23 tháng 1`; no other year is ever assumed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from extractors.dates import DATE, PERIOD_DEADLINES, match_to_iso, parts_to_iso, period_end
from pipeline.core.types import Table, Task
from pipeline.core.vietnamese import strip_diacritics

# --- column roles --------------------------------------------------------------------------------

# Tried in order: the first role whose pattern is found in the header wins.  Both are compared
# without their marks, lower-cased: OCR of a header cell reads `Nội dụng` as often as `Nội dung`.
_ROLE_WORDS: list[tuple[str, str]] = [
    ("number", r"^(?:s\.?\s*tt|stt|tt|số\s*(?:tt|thứ tự)|thứ tự|số)\.?$"),
    ("note", r"ghi\s*chú"),
    # A list of people (participants, a delegation): not a list of duties.
    ("person", r"họ\s*(?:và|,)?\s*tên|năm\s*sinh|giới\s*tính|điện\s*thoại"),
    ("position", r"chức\s*(?:vụ|danh)"),
    ("budget", r"kinh\s*phí|thành\s*tiền|số\s*tiền|đơn\s*giá|dự\s*toán|nguồn\s*vốn|đơn\s*vị\s*tính"
               r"|số\s*lượng"),
    ("follow", r"theo\s*dõi|đôn\s*đốc|giám\s*sát"),
    ("deadline", r"thời\s*(?:gian|hạn|điểm)|tiến\s*độ|mốc|hạn\s*(?:chót|hoàn thành)"
                 r"|ngày\s*(?:hoàn thành|thực hiện)|lịch"),
    ("cooperating", r"phối\s*hợp"),
    ("responsible", r"chủ\s*trì|trách\s*nhiệm|phụ\s*trách|đơn\s*vị|cơ\s*quan|bộ\s*phận|người\s*thực\s*hiện"
                    r"|thực\s*hiện|phân\s*công"),
    ("product", r"sản\s*phẩm|kết\s*quả|hình\s*thức\s*văn\s*bản|cấp\s*(?:ban hành|trình)"),
    ("task", r"nội\s*dung|nhiệm\s*vụ|công\s*việc|hoạt\s*động|đề\s*án|chỉ\s*tiêu|giải\s*pháp"
             r"|tên\s*(?:văn\s*bản|dự\s*án|chương\s*trình|báo\s*cáo|kế\s*hoạch)|việc\s*cần\s*làm"),
]
ROLE_RULES: list[tuple[str, re.Pattern[str]]] = [(role, re.compile(strip_diacritics(words).lower()))
                                                 for role, words in _ROLE_WORDS]

# A header cell is short; a data cell that happens to say `thực hiện` is not a header.
MAX_HEADER_CHARS = 80
# `(1) (2) (3)` or `1 2 3`: the column-number row under some headers.
COLUMN_NUMBERS = re.compile(r"^\(?\d{1,2}\)?$")
ROMAN_SECTION = re.compile(r"^(?:[IVXL]{1,6}|[A-ZĐ])\s*[.)]?$")
SECTION_TEXT = re.compile(r"^(?:Phần\s+|Mục\s+)?(?:[IVXL]{1,6}|[A-ZĐ])\s*[.)/-]\s+\S")
YEAR_IN_HEADER = re.compile(r"\bnăm\s+((?:19|20)\d{2})\b", re.I)
_SPACE = re.compile(r"\s+")


def _flat(text: str | None) -> str:
    return _SPACE.sub(" ", text or "").strip()


def role_of(header: str) -> str | None:
    """The role a column header names (`task`, `responsible`, `cooperating`, `deadline`, ...), or None."""
    text = strip_diacritics(_flat(header)).lower().strip(" :.*")
    if not text or len(text) > MAX_HEADER_CHARS:
        return None
    if ROLE_RULES[0][1].search(text.replace(" ", "")):  # `ST\nT`: a narrow column wraps its header mid-word
        return "number"
    for role, pattern in ROLE_RULES:
        if pattern.search(text):
            # `Chủ trì, phối hợp` in one column: the unit that leads comes first.
            if role == "cooperating" and re.search(r"chu\s*tri", text):
                return "responsible"
            return role
    return None


@dataclass
class Columns:
    """Column index of each role in a task table, and what its header says."""

    roles: dict[str, int]
    header_rows: int  # rows at the top that are header (and column-number) rows
    width: int
    year: int | None = None  # a year the time column's header states (`Thời gian (Năm 2026)`)
    header: list[str] = field(default_factory=list)

    @property
    def is_task_table(self) -> bool:
        return "task" in self.roles and ("responsible" in self.roles or "deadline" in self.roles)


def _row_roles(row: list[str | None]) -> dict[int, str]:
    return {i: role for i, cell in enumerate(row) if cell and (role := role_of(cell))}


def find_columns(table: Table) -> Columns | None:
    """The roles of a table's columns from its header rows; None when no header names a duty column."""
    rows = table.rows
    for start in range(min(4, len(rows))):
        first = _row_roles(rows[start])
        if len(set(first.values()) - {"number"}) < 2:
            continue
        header_texts = [_flat(c) for c in rows[start]]
        end = start + 1
        # A second header row (`Chủ trì | Phối hợp` under `Cơ quan thực hiện`), then a column-number row.
        while end < len(rows) and end < start + 3:
            row = rows[end]
            filled = [_flat(c) for c in row if c]
            if filled and all(COLUMN_NUMBERS.match(c) for c in filled):
                end += 1
                continue
            sub = _row_roles(row)
            long_cell = any(len(c) > MAX_HEADER_CHARS for c in filled)
            if sub and not long_cell and not _is_number(rows[end][_first_key(first, "number", 0)]):
                for i, cell in enumerate(row):
                    text = _flat(cell)
                    if text and text not in header_texts[i]:
                        header_texts[i] = f"{header_texts[i]} {text}".strip()
                end += 1
                continue
            break
        roles: dict[str, int] = {}
        for i, text in enumerate(header_texts):
            role = role_of(text)
            if role and role not in roles:
                roles[role] = i
        year = None
        if "deadline" in roles:
            found = YEAR_IN_HEADER.search(header_texts[roles["deadline"]])
            year = int(found.group(1)) if found else None
        return Columns(roles=roles, header_rows=end, width=len(rows[start]), year=year, header=header_texts)
    return None


def _first_key(roles: dict[int, str], wanted: str, default: int) -> int:
    return next((i for i, role in roles.items() if role == wanted), default)


def _is_number(cell: str | None) -> bool:
    return bool(re.match(r"^\d{1,3}(?:\.\d{1,3})*\.?$", _flat(cell)))


# --- deadlines from a time cell ------------------------------------------------------------------

# Words of a duty that recurs or runs on: no one deadline.
RECURRING = re.compile(
    r"thường\s*xuyên|h[ằà]ng\s+(?:năm|quý|tháng|tuần|ngày|kỳ)|định\s*kỳ|liền\s*kề|mỗi\s+(?:năm|quý|tháng|tuần)"
    r"|liên\s*tục|trong\s+tháng$|khi\s+có\s+yêu\s+cầu", re.I)
# A citation's own date (`Nghị định số 52/2015/NĐ-CP ngày 28/5/2015`) is not a deadline.
CITED_DATE = re.compile(r"(?:số\s*)?\d+[\w/.-]*/[\w.-]*[A-ZĐ][\w.-]*\s*,?\s*(?:ngày\s*)?" + DATE, re.I)
BY_REFERENCE = re.compile(r"^(?:Theo|Thực hiện theo|Căn cứ)\b", re.I)
DAY_MONTH = re.compile(r"(?:ngày\s*)?(?P<d>\d{1,2})\s*(?:/|tháng\s*)(?P<m>\d{1,2})(?!\s*[/\d]|\s*năm)", re.I)
YEAR_ONLY = re.compile(r"(?<![/\d])(?:năm\s+)(?P<y>(?:19|20)\d{2})\b|^(?P<y2>(?:19|20)\d{2})$", re.I)
YEAR_RANGE = re.compile(r"(?P<a>(?:19|20)\d{2})\s*[-–—]\s*(?P<b>(?:19|20)\d{2})")
RANGE_MARK = re.compile(r"\s[-–—]\s|\d[-–—]\d|\bđến\b|\btới\b", re.I)
# `từ năm 2026`, `bắt đầu từ ngày 01/3/2026` right before the only date: a start, not an end.
STARTS_FROM = re.compile(r"\b(?:từ|bắt đầu)\s*(?:ngày|tháng|năm|quý)?\s*$", re.I)


@dataclass
class CellTime:
    start: str | None = None
    deadline: str | None = None
    recurrence: str | None = None


def _points(text: str, year: int | None) -> list[tuple[int, str, str]]:
    """(offset, first day, last day) of each date or period the words name."""
    found: list[tuple[int, str, str]] = []
    taken: list[tuple[int, int]] = []

    def free(a: int, b: int) -> bool:
        return all(b <= s or a >= e for s, e in taken)

    for match in re.finditer(DATE, text):
        iso = match_to_iso(match)
        if iso:
            found.append((match.start(), iso, iso))
            taken.append(match.span())
    for kind, pattern in PERIOD_DEADLINES:
        for match in pattern.finditer(text):
            if not free(*match.span()):
                continue
            end = period_end(kind, match)
            if end:
                first = _period_start(kind, match, end)
                found.append((match.start(), first, end))
                taken.append(match.span())
    for match in YEAR_RANGE.finditer(text):
        if free(*match.span()):
            found.append((match.start(), f"{match.group('a')}-01-01", f"{match.group('a')}-12-31"))
            found.append((match.start("b"), f"{match.group('b')}-01-01", f"{match.group('b')}-12-31"))
            taken.append(match.span())
    for match in YEAR_ONLY.finditer(text):
        if free(*match.span()):
            y = match.group("y") or match.group("y2")
            found.append((match.start(), f"{y}-01-01", f"{y}-12-31"))
            taken.append(match.span())
    if year is not None:  # `ngày 23 tháng 1` under `Thời gian (Năm 2026)`
        for match in DAY_MONTH.finditer(text):
            if free(*match.span()):
                iso = parts_to_iso(match.group("d"), match.group("m"), str(year))
                if iso:
                    found.append((match.start(), iso, iso))
                    taken.append(match.span())
    return sorted(found)


def _period_start(kind: str, match: re.Match[str], end: str) -> str:
    year, month = int(end[:4]), int(end[5:7])
    if kind == "quarter":
        return f"{year}-{month - 2:02d}-01"
    if kind == "months":
        second_half = int(match.group("n")) == 6 and (match.group("half") or "").lower() == "cuối"
        return f"{year}-{7 if second_half else 1:02d}-01"
    return f"{year}-{month:02d}-01"


def recurring_clauses(words: str) -> str:
    """The clauses of a time cell that recur, without the ones joined to them that do not:
    `Ban hành kế hoạch trong tháng 01 hằng năm và tổ chức thực hiện` recurs in its first
    clause only (clauses are cut at `;` and at `và`)."""
    clauses = [c.strip(" ,.;") for c in re.split(r";|\s+và\s+", words) if c.strip(" ,.;")]
    recurring = [c for c in clauses if RECURRING.search(CITED_DATE.sub(" ", c))]
    if not recurring or len(recurring) == len(clauses):
        return words
    return "; ".join(recurring)


def deadline_from_cell(text: str | None, year: int | None = None) -> CellTime:
    """Start, deadline and recurrence of a table's time cell (see the module's notes)."""
    words = _flat(text)
    if not words:
        return CellTime()
    if BY_REFERENCE.match(words):  # `Theo các mốc thời gian tại Quyết định số ...`: the dates are elsewhere
        return CellTime()
    bare = CITED_DATE.sub(" ", words)
    if RECURRING.search(bare):
        # `Hằng năm`, `trong tháng 01 hằng năm`, `Trước ngày 31/01 năm liền kề`: it recurs, no one deadline.
        return CellTime(recurrence=recurring_clauses(words))
    points = _points(bare, year)
    if not points:
        return CellTime()
    first, last = points[0], points[-1]
    start: str | None = None
    if len(points) > 1 and RANGE_MARK.search(bare[first[0]:last[0] + 1]):
        start = first[1]
    elif len(points) == 1 and STARTS_FROM.search(bare[:first[0]]):
        # `Bắt đầu thực hiện từ năm 2026`: a start, and no end.
        return CellTime(start=first[1])
    deadline = max(p[2] for p in points)
    return CellTime(start=start, deadline=deadline)


# --- rows to tasks -------------------------------------------------------------------------------

def _unit(text: str | None) -> str | None:
    unit = _flat(text).strip(" ;,.-–")
    return unit if len(unit) >= 2 else None


def _is_section(row: list[str | None], columns: Columns) -> bool:
    """A group row: `I | Cải cách thể chế |  |  |`, or one cell merged across the table."""
    roles = columns.roles
    filled = [i for i, cell in enumerate(row) if cell is not None and _flat(cell)]
    if not filled:
        return True
    texts = {_flat(row[i]) for i in filled}
    if len(texts) == 1 and len(filled) >= 1 and all(row[i] is None or not _flat(row[i]) or _flat(row[i]) in texts
                                                      for i in range(len(row))):
        # One text across the row (merged, or repeated by the reader): a heading unless it is a duty's only cell.
        only = next(iter(texts))
        if len(filled) > 1 or row.count(None) >= 2 or SECTION_TEXT.match(only):
            return True
    number = _flat(row[roles["number"]]) if "number" in roles else ""
    duty_cells = [roles[r] for r in ("responsible", "deadline", "cooperating", "product") if r in roles]
    empty_duty = all(not _flat(row[i]) for i in duty_cells)
    if number and ROMAN_SECTION.match(number) and empty_duty:
        return True
    if "number" in roles and not _is_number(number) and empty_duty and duty_cells:
        return True  # a group title alone in its row (its `I` lost or misread by OCR, or never printed)
    task = _flat(row[roles["task"]])
    return bool(SECTION_TEXT.match(task) and empty_duty)


def tasks_from_table(table: Table, columns: Columns | None = None) -> list[Task]:
    """The duties of one task table, row by row; [] for a table that is not a task table."""
    columns = columns or find_columns(table)
    if columns is None or not columns.is_task_table:
        return []
    return _rows_to_tasks(table.rows[columns.header_rows:], columns)


def _rows_to_tasks(rows: Iterable[list[str | None]], columns: Columns) -> list[Task]:
    roles = columns.roles
    tasks: list[Task] = []
    for row in rows:
        row = list(row) + [None] * (columns.width - len(row))
        if _same_as_header(row, columns) or _is_section(row, columns):
            continue
        text = _flat(row[roles["task"]])
        if len(text) < 4:
            continue
        responsible = _unit(row[roles["responsible"]]) if "responsible" in roles else None
        cooperating = _unit(row[roles["cooperating"]]) if "cooperating" in roles else None
        if responsible and "cooperating" not in roles:
            responsible, split = _split_lead(responsible)
            cooperating = cooperating or split
        time = deadline_from_cell(row[roles["deadline"]], columns.year) if "deadline" in roles else CellTime()
        tasks.append(Task(text=text, responsible=responsible, cooperating=cooperating, deadline=time.deadline,
                          recurrence=time.recurrence, start=time.start, source="table"))
    return tasks


LEAD_LABELS = re.compile(
    r"^\s*(?:-\s*)?Chủ\s*trì\s*:\s*(?P<lead>.+?)\s*[;.]?\s*(?:-\s*)?Phối\s*hợp\s*:\s*(?P<with>.+)$", re.I | re.S)


def _split_lead(cell: str) -> tuple[str | None, str | None]:
    """`Chủ trì: X; Phối hợp: Y` in one unit column -> (X, Y)."""
    match = LEAD_LABELS.match(cell)
    if not match:
        return re.sub(r"^\s*Chủ\s*trì\s*:\s*", "", cell, flags=re.I) or None, None
    return _unit(match.group("lead")), _unit(match.group("with"))


def _same_as_header(row: list[str | None], columns: Columns) -> bool:
    """A header row printed again (on each page of a long table)."""
    texts = [_flat(c) for c in row]
    return bool(columns.header) and sum(1 for a, b in zip(texts, columns.header) if a and a == b) >= 2


# --- all tables of a document ---------------------------------------------------------------------

def extract_table_tasks(tables: list[Table]) -> list[Task]:
    """Tasks of every task table; a table with no header that follows a task table of the same
    width (the next page of it) continues that table."""
    tasks: list[Task] = []
    previous: Columns | None = None
    for table in tables:
        if not table.rows:
            continue
        columns = find_columns(table)
        if columns is None and previous is not None and _continues(table, previous):
            rows = table.rows
            if tasks and rows and _is_split_row(rows[0], previous):
                _join_split_row(tasks[-1], rows[0], previous)  # a row broken by the page break
                rows = rows[1:]
            tasks.extend(_rows_to_tasks(rows, previous))
            continue
        if columns is not None and columns.is_task_table:
            rows = table.rows[columns.header_rows:]
            if tasks and previous is not None and rows and columns.roles == previous.roles \
                    and table.source in ("pdf", "scan") and _is_split_row(rows[0], columns):
                _join_split_row(tasks[-1], rows[0], columns)  # the same, under a repeated header
                rows = rows[1:]
            tasks.extend(_rows_to_tasks(rows, columns))
            previous = columns
        else:
            previous = None if columns is not None else previous
    return tasks


def _is_split_row(row: list[str | None], columns: Columns) -> bool:
    """The rest of the last row of the page before: no number of its own, and a duty that goes on in lower case."""
    number = _flat(row[columns.roles["number"]]) if "number" in columns.roles and columns.roles["number"] < len(row) \
        else ""
    task_index = columns.roles["task"]
    text = _flat(row[task_index]) if task_index < len(row) else ""
    return not number and bool(text) and text[:1].islower()


def _join_split_row(task: Task, row: list[str | None], columns: Columns) -> None:
    """Add the rest of a row broken over two pages to the task its first part made."""
    roles = columns.roles

    def cell(role: str) -> str:
        index = roles.get(role)
        return _flat(row[index]) if index is not None and index < len(row) else ""

    task.text = f"{task.text} {cell('task')}".strip()
    if cell("responsible"):
        task.responsible = _unit(f"{task.responsible or ''} {cell('responsible')}")
    if cell("cooperating"):
        task.cooperating = _unit(f"{task.cooperating or ''} {cell('cooperating')}")
    if cell("deadline") and task.deadline is None and task.recurrence is None:
        time = deadline_from_cell(cell("deadline"), columns.year)
        task.start, task.deadline, task.recurrence = time.start, time.deadline, time.recurrence


def _continues(table: Table, previous: Columns) -> bool:
    return max(len(r) for r in table.rows) == previous.width and table.source in ("pdf", "scan")


def table_words(tables: list[Table]) -> set[tuple[str, ...]]:
    """Five-word shingles of the task tables' cells, to tell prose tasks that are only a table read as text."""
    shingles: set[tuple[str, ...]] = set()
    previous: Columns | None = None
    for table in tables:
        columns = find_columns(table)
        if columns is not None:
            previous = columns if columns.is_task_table else None
        if previous is None:
            continue
        for row in table.rows:
            # Each cell alone (a PDF text layer reads a column's lines together), and the row read across.
            for text in [*row, " ".join(cell for cell in row if cell)]:
                words = re.findall(r"\w+", (text or "").lower())
                shingles.update(tuple(words[i:i + 5]) for i in range(len(words) - 4))
    return shingles


def is_from_table(text: str, shingles: set[tuple[str, ...]]) -> bool:
    """Whether a prose task is mostly words of a task table (the table's text read across)."""
    if not shingles:
        return False
    words = re.findall(r"\w+", text.lower())
    grams = [tuple(words[i:i + 5]) for i in range(len(words) - 4)]
    if not grams:
        return False
    return sum(1 for g in grams if g in shingles) / len(grams) >= 0.5


__all__ = ["extract_table_tasks", "tasks_from_table", "find_columns", "role_of", "deadline_from_cell",
           "table_words", "is_from_table"]
