"""Tasks: each obligation, with who does it, with whom, by when, and how often.

The body is cut into items at its bullets and enumerators (`-`, `+`, `1.`,
`a)`).  An item that asks for something (a duty verb or a deadline) is a task.
A numbered duty whose sub-items are `a) Đơn vị chủ trì: ...` / `b) Đơn vị phối
hợp: ...` (the common appendix form) is one task.  Deadlines follow the rule
table below; a recurring duty keeps its words in `recurrence` and gives no
deadline of its own (`ngày 30/12 hằng năm` is every year, not one date).
"""

from __future__ import annotations

import re

from extractors.confidence import WordConfidence, digits_trusted
from extractors.dates import DATE, PERIOD_DEADLINES, match_to_iso, parts_to_iso, period_end
from extractors.header import BODY_START
from extractors.spans import starts_with_unit, unit_before_duty
from extractors.tables import deadline_from_cell
from extractors.text import clean_lines
from pipeline.core.types import Task

# Deadline rules, tried in order; the first that matches gives the deadline.
# (name, pattern); `date` rules carry a full date, `period` rules a period whose end is the deadline.
TIME_OF_DAY = r"(?:\d{1,2}\s*(?:giờ|h)\s*(?:\d{1,2}\s*(?:phút)?)?\s*,?\s*)"
DEADLINE_DATE_RULES: list[tuple[str, re.Pattern[str]]] = [
    ("before", re.compile(
        # `trude`, `trudc`: how an English OCR model reads `trước` when the restorer misses it.
        rf"(?:trước|tr[uư][ớơóòọd][ce]c?|chậm nhất|hạn chót|không quá|không muộn hơn|xong trước|đến trước"
        # `gửi ... trong ngày 10 tháng 01 năm 2026`: by the end of that day
        rf"|hạn cuối|trong(?=\s+ngày\s*\d))\s*(?:là\s*)?(?:vào\s*)?"
        rf"{TIME_OF_DAY}?(?:ngày\s*)?{DATE}", re.I)),
    ("label", re.compile(
        rf"Thời\s+(?:gian|hạn)(?:\s+(?:hoàn thành|thực hiện|nộp|gửi|báo cáo))?\s*:\s*"
        rf"(?:trước\s+)?(?:ngày\s*)?{DATE}", re.I)),
    ("until", re.compile(rf"(?:đến|tới)\s+hết\s+(?:ngày\s*)?{DATE}", re.I)),
]
# A period's end: `trong tháng 6/2021`, `đến hết tháng 9/2021`, `trong quý 4/2021`, `Thời gian thực hiện: Quý III/2021`.
PERIOD_TRIGGER = re.compile(
    r"(?:trong|trước|hết|cuối|xong|hoàn thành|thực hiện|hạn|Thời\s+(?:gian|hạn)[^:]{0,20}:)\s*"
    r"(?:năm\s+\d{4}\s*,?\s*)?$", re.I)
# Recurring duties: kept as words, removed before deadlines are read.
RECURRENCE_RE = re.compile(
    r"(?:định kỳ\s+)?(?:vào\s+)?ngày\s+\d{1,2}(?:/\d{1,2}|\s+tháng\s+\d{1,2})\s+(?:hằng|hàng)\s+năm"
    r"|định kỳ\s+(?:hằng|hàng|mỗi)\s+(?:quý|tháng|năm|tuần|ngày)"
    # `Định kỳ phát sóng mỗi tháng 02 chuyên mục`: the words between say what recurs
    r"|định kỳ\s+[^.;:,]{1,30}?\s(?:hằng|hàng|mỗi)\s+(?:quý|tháng|năm|tuần|ngày)"
    r"|(?:hằng|hàng)\s+(?:quý|tháng|tuần)\b"
    # `gửi báo cáo trước 17h00 hằng ngày`: a time of day every day
    rf"|(?:trước|vào|lúc|từ)\s+{TIME_OF_DAY}(?:hằng|hàng)\s+ngày"
    r"|định kỳ\s+\d+\s+tháng",
    re.I,
)
# What makes an item an obligation.
DUTY_RE = re.compile(
    r"\b(giao|yêu cầu|đề nghị|chủ trì|phối hợp|thực hiện|báo cáo|hoàn thành|tham mưu|xây dựng|chịu trách nhiệm|"
    r"có trách nhiệm|phải|đôn đốc|triển khai|tổ chức|gửi|cung cấp|rà soát|theo dõi|kiểm tra|ban hành|khẩn trương|"
    r"tiếp tục|tăng cường|bảo đảm|đảm bảo|nghiên cứu|tuyên truyền|hướng dẫn|phấn đấu|lập|thống kê|công nhận)\b",
    re.I,
)
NOT_TASK = re.compile(r"^(Căn cứ|Theo đề nghị|Trên đây|Nơi nhận|Lưu|Kính gửi|Thực hiện\s+(?:Văn bản|Công văn|Kế hoạch"
                      r"|Quyết định)\s+số)", re.I)
PERIOD_ITEM = re.compile(r"chốt số liệu\s+(?:tính\s+)?từ", re.I)
# (Bullets include the glyphs of symbol fonts, which a text layer gives as private-use characters.)
ITEM_START = re.compile(r"^(?:Điều\s+\d+\.\s+|\(\d{1,2}\)\s+|\d{1,2}(?:\.\d{1,2})+\s+(?=[A-ZĐ])"
                        r"|[\-–—+•*▪●■◦\ue000-\uf8ff]\s*|\d{1,2}"
                        r"(?:\.\d{1,2})*\.\s+|[a-zđ][).]\s+|[IVX]{1,5}\.\s+|[A-Z]\.\s+)")
ENUMERATOR = re.compile(r"^(?:\d{1,2}(?:\.\d{1,2})+(?=\s+[A-ZĐ])|\d{1,2}(?:\.\d{1,2})*\.|[IVX]{1,5}\.|[A-Z]\.)\s+")
SUB_ITEM = re.compile(r"^[a-zđ][).]\s+")
TABLE_ROW = re.compile(r"\S\s\|\s.*\s\|\s")
END_OF_BODY = re.compile(r"^(Nơi nhận|TM\.|KT\.|TL\.)", re.I)

RESPONSIBLE_LABEL = re.compile(r"(?:(?:Đơn vị|Cơ quan|Bộ phận)\s+thực hiện|(?:Đơn vị|Cơ quan)?\s*chủ trì"
                               r"(?:\s+thực hiện)?)\s*:\s*(?P<x>[^;\n]+?)"
                               r"(?=\s*(?:[;.]|$|[a-zđ]\)\s|[\-–—+•]\s*(?:Đơn vị|Cơ quan|Thời|Kết quả"
                               r"|Sản phẩm)))", re.I)
COOPERATING_LABEL = re.compile(r"(?:Đơn vị|Cơ quan)?\s*phối hợp(?:\s+thực hiện)?\s*:\s*(?P<x>[^;\n]+?)"
                               r"(?=\s*(?:[;.]|$|[a-zđ]\)\s|[\-–—+•]\s*(?:Đơn vị|Cơ quan|Thời|Kết quả"
                               r"|Sản phẩm)))", re.I)
GIAO_RE = re.compile(r"\b(?:Giao|giao cho|yêu cầu|đề nghị)\s+(?:cho\s+)?(?P<rest>.{3,300})", re.I)
COOPERATE_WITH = re.compile(r"phối hợp\s+(?:chặt chẽ\s+)?(?:với\s+)(?P<x>.{3,200})", re.I)
COOPERATE_END = re.compile(r"\s(?:thực hiện|tổ chức|xây dựng|tham mưu|triển khai|để|trong|trước|và các cơ quan"
                           r"|rà soát|hướng dẫn|kiểm tra|tổng hợp|báo cáo)\b|[;:.(]")
COLON_UNIT = re.compile(r"^(?P<x>[^:]{3,80}):\s")


def _items(text: str) -> list[str]:
    """Body items: a new item at each bullet/enumerator or after a sentence-ending line."""
    items: list[str] = []
    current: list[str] = []
    lines = clean_lines(text)
    # The header (number, title, subject) holds no duties: start at the body.
    start = next((i for i, line in enumerate(lines) if BODY_START.match(line)), 0)
    for line in lines[start:]:
        if END_OF_BODY.match(line):
            break
        if not line:
            continue
        if TABLE_ROW.search(line):
            # A table row printed as `cell | cell | cell` (a Word file's table): an item of its own.
            if current:
                items.append(" ".join(current))
            items.append(line)
            current = []
            continue
        previous = current[-1] if current else ""
        # A short enumerated heading without end punctuation closes before an uppercase line.
        heading = (len(current) == 1 and ENUMERATOR.match(previous) and len(previous) < 60
                   and not previous.endswith((".", ";", ","))) if current else False
        starts = ITEM_START.match(line) or ((previous.endswith((".", ":", ";")) or heading) and line[:1].isupper())
        if starts and current:
            items.append(" ".join(current))
            current = []
        current.append(line)
    if current:
        items.append(" ".join(current))
    return [re.sub(r"\s+", " ", i).strip() for i in items]


def deadline_match(text: str) -> tuple[str, str] | None:
    """(ISO deadline, the words it was read from) of one obligation; None when it states none."""
    text = RECURRENCE_RE.sub(" ", text)
    best: tuple[int, str, str] | None = None
    for _, pattern in DEADLINE_DATE_RULES:
        for match in pattern.finditer(text):
            iso = match_to_iso(match)
            if iso and (best is None or match.start() < best[0]):
                best = (match.start(), iso, match.group(0))
            break
    for kind, pattern in PERIOD_DEADLINES:
        for match in pattern.finditer(text):
            if not PERIOD_TRIGGER.search(text[max(0, match.start() - 40): match.start()]):
                continue
            end = period_end(kind, match)
            if end and (best is None or match.start() < best[0]):
                best = (match.start(), end, match.group(0))
            break
    return (best[1], best[2]) if best else None


# `trước ngày 20/5/2021 và 20/11/2021`: a second date joined to a deadline is a deadline too.
JOINED_DATE = re.compile(rf"\s*(?:,|và|hoặc)\s*(?:{TIME_OF_DAY})?(?:ngày\s*)?{DATE}", re.I)
# A schedule's row: `25/11: Hạn đăng ký nhóm`, `- Ngày 05/12: Nộp đề án ...`; it sets a deadline when
# what it lists is one (a closing date, a submission), not an event (`07/12: Chung kết`).
SCHEDULE_ROW = re.compile(
    r"^(?:Ngày\s+)?(?P<d>\d{1,2})/(?P<m>\d{1,2})(?:/(?P<y>(?:19|20)\d{2}))?\s*:\s*(?P<x>.+)", re.I)
SCHEDULE_DUE = re.compile(r"\b(?:hạn|nộp|gửi|hoàn thành|hoàn thiện)\b", re.I)


def all_deadlines(text: str) -> list[tuple[str, str]]:
    """Every deadline one obligation states, in order: `(ISO, words)`; the first is `deadline_match`'s."""
    first = deadline_match(text)
    if first is None:
        return []
    found = [first]
    bare = RECURRENCE_RE.sub(" ", text)
    for _, pattern in DEADLINE_DATE_RULES:
        for match in pattern.finditer(bare):
            iso = match_to_iso(match)
            if iso and iso not in {f[0] for f in found}:
                found.append((iso, match.group(0)))
            joined = JOINED_DATE.match(bare, match.end())
            while joined:
                iso = match_to_iso(joined)
                if iso and iso not in {f[0] for f in found}:
                    found.append((iso, joined.group(0)))
                joined = JOINED_DATE.match(bare, joined.end())
    return found


def schedule_deadline(body: str, year: int | None, month: int | None = None) -> tuple[str, str] | None:
    """(ISO, words) of a schedule row that sets a deadline; the year is the row's, else the letter's
    (the next one for a month well before the letter's: a schedule runs forward)."""
    row = SCHEDULE_ROW.match(body)
    if not row or not SCHEDULE_DUE.search(row.group("x")[:40]):
        return None
    y = int(row.group("y")) if row.group("y") else year
    if y is None:
        return None
    if not row.group("y") and month is not None and int(row.group("m")) < month - 2:
        y += 1
    iso = parts_to_iso(row.group("d"), row.group("m"), str(y))
    return (iso, row.group(0)[:row.start("x")]) if iso else None


def find_deadline(text: str) -> str | None:
    """The deadline one obligation states, ISO; None when it states none."""
    found = deadline_match(text)
    return found[0] if found else None


def find_recurrence(text: str) -> str | None:
    match = RECURRENCE_RE.search(text)
    if not match:
        return None
    start = max(text.rfind(sep, 0, match.start()) for sep in (";", ". ", "(", ":"))
    comma = text.rfind(",", 0, match.start())
    if comma > start and not text[comma + 1: match.start()].strip():
        start = comma  # `Riêng đối với ..., hằng quý có ít nhất 01 tin`: the recurring clause opens at the comma
    end_candidates = [i for i in (text.find(sep, match.end()) for sep in (";", ". ", ")")) if i >= 0]
    # A comma before a capital starts another clause with its own subject (`..., Sở Nội vụ thông báo`);
    # one before a small letter runs on (`01 tin, bài về ...`).
    clause_end = re.compile(r",\s+(?=[A-ZĐÀ-Ỹ][a-zà-ỹđ])").search(text, match.end())
    if clause_end and text[clause_end.end()].isupper():
        end_candidates.append(clause_end.start())
    end = min(end_candidates) if end_candidates else len(text)
    return text[start + 1 if start >= 0 else 0: end].strip(" .;,()") or None


def _clean_unit(unit: str | None) -> str | None:
    if not unit:
        return None
    unit = re.sub(r"\s+", " ", unit).strip(" ,;:.-")
    return unit if 2 <= len(unit) <= 160 else None


def _responsible(body: str) -> tuple[str | None, str | None]:
    labelled = RESPONSIBLE_LABEL.search(body)
    cooperating_label = COOPERATING_LABEL.search(body)
    responsible = _clean_unit(labelled.group("x")) if labelled else None
    cooperating = _clean_unit(cooperating_label.group("x")) if cooperating_label else None
    if not responsible:
        giao = GIAO_RE.search(body)
        if giao:
            responsible = _clean_unit(unit_before_duty(giao.group("rest")))
    if not responsible:
        colon = COLON_UNIT.match(body)
        if colon and unit_before_duty(colon.group("x") + " thực hiện"):
            responsible = _clean_unit(colon.group("x"))
    if not responsible:
        responsible = _clean_unit(unit_before_duty(body))
    if not cooperating:
        with_ = COOPERATE_WITH.search(body)
        if with_:
            tail = with_.group("x")
            stop = COOPERATE_END.search(tail)
            cooperating = _clean_unit(tail[: stop.start()] if stop else tail[:120])
    return responsible, cooperating


def _split_deadline_sentences(item: str) -> list[str]:
    """An item with several dated duties gives one task per dated sentence."""
    sentences = [s.strip() for s in re.split(r"(?<=[.;])\s+(?=[A-ZĐÀ-Ỹ])", item) if s.strip()]
    dated = [s for s in sentences if find_deadline(s)]
    if len(dated) <= 1:
        return [item]
    parts, current = [], []
    for sentence in sentences:
        current.append(sentence)
        if find_deadline(sentence):
            parts.append(" ".join(current))
            current = []
    if current:
        parts[-1] = parts[-1] + " " + " ".join(current)
    return parts


# A labelled field of a duty block: `- Thời gian hoàn thành: ...`, `- Đơn vị chủ trì: ...`, `b) Kết quả: ...`.
FIELD_ITEM = re.compile(
    r"^(?:[\-–—+•*]\s*|[a-zđ][).]\s+)?(?:(?:Đơn vị|Cơ quan|Bộ phận)\s+)?(?:chủ trì|phối hợp|Thời (?:gian|hạn)"
    r"|Sản phẩm|Kết quả)"
    r"[^:]{0,30}:", re.I)
# Where the fields start inside a grouped item: the duty's own words end there.
FIELD_START = re.compile(
    r"\s(?:[\-–—+•*]|[a-zđ][).])\s*(?:(?:Đơn vị|Cơ quan|Bộ phận)\s+)?(?:chủ trì|phối hợp|Thời (?:gian|hạn)|Sản phẩm"
    r"|Kết quả)"
    r"[^:]{0,30}:", re.I)
# What may stand between a duty and its fields: detail bullets, numbered steps, other fields.
DETAIL_ITEM = re.compile(r"^(?:[\-–—+•*]\s*|\(\d{1,2}\)\s)")
NUMBERED_STEP = re.compile(r"^\(\d{1,2}\)\s")
TIME_FIELD = re.compile(r"Thời\s+(?:gian|hạn)[^:]{0,30}:\s*(?P<x>[^;\n]+?)(?=\s*(?:;|$|\s[\-–—+•*]\s"
                        r"|\s[a-zđ]\)\s))", re.I)


def _group_appendix_items(items: list[str]) -> list[str]:
    """A duty block is one item: `1. Duty` + `a) Đơn vị chủ trì: X` + `b) Đơn vị phối hợp: Y`, or
    `1.1. Duty` + its detail bullets + `- Thời gian hoàn thành: ...` + `- Đơn vị chủ trì: ...`."""
    grouped: list[str] = []
    anchor: int | None = None  # index in `grouped` of the last enumerated duty
    for item in items:
        block = grouped[anchor:] if anchor is not None else []
        if FIELD_ITEM.match(item) and block and all(DETAIL_ITEM.match(i) for i in block[1:]):
            # The field, and the detail bullets between the duty and it, belong to the duty;
            # numbered steps inside it (`(1) Tổ chức hiệp thương lần thứ nhất: ...`) stay duties of their own.
            steps = [i for i in block[1:] if NUMBERED_STEP.match(i)]
            grouped[anchor:] = [" ".join([i for i in block if i not in steps] + [item])] + steps
            continue
        if SUB_ITEM.match(item) and grouped and FIELD_ITEM.match(item) and ENUMERATOR.match(grouped[-1]):
            grouped[-1] = f"{grouped[-1]} {item}"
            continue
        if ENUMERATOR.match(item):
            anchor = len(grouped)
        grouped.append(item)
    return grouped


def extract_tasks(text: str, wc: WordConfidence | None = None, issue_date: str | None = None) -> list[Task]:
    """Tasks of a letter; with OCR confidences, a deadline read from poorly read digits is left None.

    `issue_date` (ISO) gives a schedule's rows without a year (`25/11: Hạn đăng ký`) theirs.
    """
    wc = wc or WordConfidence(None)
    year = int(issue_date[:4]) if issue_date else None
    month = int(issue_date[5:7]) if issue_date else None
    tasks: list[Task] = []
    scope: tuple[int, str] | None = None  # (depth, unit) of a heading `3. Trung tâm Quản lý chất lượng:`
    items = _group_appendix_items(_items(text))
    for index, item in enumerate(items):
        body = ITEM_START.sub("", item, count=1).strip()
        depth = _depth(item)
        following = _depth(items[index + 1]) if index + 1 < len(items) else None
        if depth is not None:
            if scope is not None and depth <= scope[0]:
                scope = None
            heading_unit = _heading_unit(body)
            if heading_unit:
                scope = (depth, heading_unit)
        if len(body) < 12 or NOT_TASK.match(body) or PERIOD_ITEM.search(body) or TABLE_ROW.search(body):
            # (a table's row is read as a row, by extractors/tables.py, not as prose)
            continue
        scheduled = schedule_deadline(body, year, month)
        if scheduled:
            responsible, cooperating = _responsible(body)
            deadline = scheduled[0] if digits_trusted(wc, scheduled[1]) else None
            tasks.append(Task(text=body, responsible=responsible or (scope[1] if scope else None),
                              cooperating=cooperating, deadline=deadline, recurrence=None))
            continue
        colon = COLON_UNIT.match(body)
        addressed = bool(colon and starts_with_unit(colon.group("x")) and not colon.group("x").startswith("Về "))
        if not (DUTY_RE.search(body) or find_deadline(body) or addressed):
            continue  # (`Văn phòng UBND tỉnh: Cập nhật ...` is a duty by its form: a unit, a colon, what it does)
        if body.endswith(":") and len(body.split()) <= 10:
            continue  # an intro label (`Nội dung báo cáo:`)
        if not find_deadline(body) and not re.search(r"[.;]$", body) and (
                re.match(r"^[IVX]{1,5}\.\s", item) or body.startswith("Về ")):
            continue  # a section heading (`I. Về xây dựng, ban hành ... năm 2021`)
        if len(body.split()) <= 12 and not find_deadline(body) and not re.search(r"[.;]$", body) \
                and ENUMERATOR.match(item):
            continue  # a heading (`2. Thời điểm ban hành Kế hoạch`), not a duty
        if depth and following and following > depth and not re.search(r"[.;:]$", body) and not find_deadline(body):
            continue  # `7. Tổng kết công tác bầu cử ...` over `7.1`, `7.2`: a heading of duties, not one
        fields = FIELD_START.search(body)
        if fields and TIME_FIELD.search(body[fields.start():]):
            tasks.append(_block_task(body, fields.start(), wc, scope))
            continue
        for part in _split_deadline_sentences(body):
            responsible, cooperating = _responsible(part)
            if responsible is None and scope is not None:
                responsible = scope[1]
            found = all_deadlines(part) or [None]  # type: ignore[list-item]
            # One task per due date (`báo cáo trước ngày 20/5/2021 và 20/11/2021`), as recurring duties get.
            for due in found:
                deadline = due[0] if due and digits_trusted(wc, due[1]) else None
                tasks.append(Task(text=part, responsible=responsible, cooperating=cooperating,
                                  deadline=deadline, recurrence=find_recurrence(part)))
    return tasks


def _block_task(body: str, fields_at: int, wc: WordConfidence, scope: tuple[int, str] | None) -> Task:
    """A duty block: the duty's words, then labelled fields (time, lead unit, partners, result)."""
    fields = body[fields_at:]
    responsible, cooperating = _responsible(fields)
    if responsible is None and scope is not None:
        responsible = scope[1]
    time_words = TIME_FIELD.search(fields)
    time = deadline_from_cell(time_words.group("x") if time_words else None)
    if time.deadline and not digits_trusted(wc, time.deadline[:4]):
        time.deadline = None
    text = body[:fields_at].strip(" ;:.-")
    return Task(text=text, responsible=responsible, cooperating=cooperating, deadline=time.deadline,
                recurrence=time.recurrence, start=time.start)


def _depth(item: str) -> int | None:
    """How deep an enumerated item sits: `3.` is 1, `3.1.` is 2; a Roman or letter heading is 0."""
    match = ENUMERATOR.match(item)
    if not match:
        return None
    label = match.group(0).strip()
    if re.match(r"^(?:[IVX]{1,5}|[A-Z])\.$", label):
        return 0
    return label.rstrip(".").count(".") + 1


def _heading_unit(body: str) -> str | None:
    """The unit a heading names (`Trung tâm Quản lý chất lượng:`, `Các sở, ban, ngành; UBND các xã`), else None."""
    heading = body.rstrip().rstrip(":").strip()
    if not heading or len(heading.split()) > 25 or re.search(r"[.;]$", heading) and not body.rstrip().endswith(":"):
        return None
    if not starts_with_unit(heading) or DUTY_RE.search(heading):
        return None  # not a unit, or a duty follows the unit: a sentence, not a heading
    return _clean_unit(heading)
