"""The zones of Decree 30/2020/NĐ-CP on a letter's pages.

    page 1   header left  (cơ quan chủ quản, cơ quan ban hành, Số:, V/v ...)   header right (quốc hiệu,
                                                                                tiêu ngữ, địa danh, ngày)
             title + trích yếu (centred)           Kính gửi: ...
             body ...
    last     Nơi nhận: (bottom left)               signer block (bottom right: TM./KT./TL., chức vụ, name)
    after    appendices (Phụ lục), or a second letter bound into the same file

The header's two columns are told apart by where the right column starts
(the motto and the date line are set there); a line OCR read across both is
cut at its widest gap near that edge.  The letter ends on the page of its
`Nơi nhận` (or, without one, of its signer's authority line).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pipeline.core.types import Layout, TextLine
from pipeline.core.vietnamese import strip_diacritics
from pipeline.stages.layout.lines import make_line, median
from pipeline.stages.layout.marks import separate_marks


@dataclass
class PageLines:
    number: int
    width: int
    height: int
    lines: list[TextLine]


def _bare(text: str) -> str:
    return strip_diacritics(text).upper()


# The right header column's own lines: quốc hiệu, tiêu ngữ, the place-and-date line.
RIGHT_ANCHOR = re.compile(r"C\S?NG\s+H\S{0,3}\s+X\S?\s+H\S{0,2}I|\bL\S?P\s*-\s*T\S?\s+DO\b|H\S{0,2}NH\s+PH\S?C|"
                          r"\bNG\S{0,2}Y\b.{0,20}\bTH\S{0,2}NG\b")
NUMBER_LINE = re.compile(r"^\W{0,3}S[ốoôóồỗộọò6ổ]\S{0,2}\s*[:.;]", re.I)
DATE_LINE = re.compile(r"ng\S{0,2}y.{0,24}th\S{0,2}ng", re.I)
KINH_GUI = re.compile(r"^\W{0,3}K[íi]nh\s+g[ửu]i", re.I)
CONG_DIEN = re.compile(r"\bđiện\s*:\s*$", re.I)  # `VĂN PHÒNG CHÍNH PHỦ điện:` heads a công điện's addressees
NOI_NHAN = re.compile(r"^\W{0,3}N[ơo]i\s+nh[ậa]n", re.I)
AUTHORITY = re.compile(r"^\W{0,2}(?:TM|KT|TL|TUQ|Q)\s*[.,]\s*\S")
BODY_START = re.compile(r"^\W{0,3}(Căn\s+cứ|Kính\s+gửi|Thực\s+hiện|Theo\s+đề\s+nghị|Điều\s+\d|Nhằm|Để|Trong|"
                        r"Ngày|Vừa\s+qua|Qua|Tiếp\s+theo|Phúc\s+đáp|Sở\s|Ủy\s+ban|UBND)", re.I)
# What ends a title block: the body's openings (not `Ngày`, which a wrapped trích yếu may start with).
TITLE_STOP = re.compile(r"^\W{0,3}((?i:Căn\s+cứ|Kính\s+gửi|Thực\s+hiện|Theo\s+đề\s+nghị|Điều\s+\d|Nhằm|Để|Phúc\s+đáp|"
                        r"Tiếp\s+theo)|[IVX]+\.|\d+\.|Ngày\s+\d)")
TITLES = ["KE HOACH", "QUYET DINH", "THONG BAO", "CONG VAN", "BAO CAO", "TO TRINH", "CHI THI", "NGHI QUYET",
          "HUONG DAN", "GIAY MOI", "KET LUAN", "CONG DIEN", "THONG TU", "NGHI DINH", "QUY CHE", "QUY DINH",
          "DE AN", "CHUONG TRINH", "PHUONG AN", "BIEN BAN", "THONG CAO", "PHU LUC"]
TITLE_BLOCK_LINES = 8  # title, up to five lines of trích yếu, the authority's line
_TITLE_KEYS = {t.replace(" ", "") for t in TITLES}


def is_title_line(text: str) -> bool:
    """A type's title on its own line (`QUYẾT ĐỊNH`, `__ KÉHOẠCH`), not `QUYẾT ĐỊNH:` opening the articles."""
    if text.rstrip().endswith(":"):
        return False
    key = re.sub(r"[^A-Z]", "", _bare(text))
    return key in _TITLE_KEYS


def _split_x(page: PageLines) -> float:
    """Where the header's right column starts on page one."""
    anchors = [line.box[0] for line in page.lines if line.box[1] < 0.35 * page.height
               and line.box[0] > 0.3 * page.width and RIGHT_ANCHOR.search(_bare(line.text))]
    return min(anchors) - 0.01 * page.width if anchors else 0.45 * page.width


def _cut(line: TextLine, split: float, width: int) -> list[TextLine]:
    """A header line read across both columns, cut at its widest word gap near the column edge."""
    if not (line.box[0] < split - 0.02 * width and line.box[2] > split + 0.02 * width) or len(line.words) < 2:
        return [line]
    if KINH_GUI.match(line.text):
        return [line]  # the addressee line runs under both columns: `Kính gửi:` and its first recipient are one
    ocr = line.confidence is not None
    # The quốc hiệu always opens the right column: cut before it, however narrow the gap.
    bare = [_bare(w.text) for w in line.words]
    motto = next((i for i in range(1, len(bare) - 1) if re.fullmatch(r"C\S?NG", bare[i])
                  and re.fullmatch(r"H\S{0,3}", bare[i + 1])), None)
    if motto is not None:
        return [make_line(line.words[:motto], line.page, ocr), make_line(line.words[motto:], line.page, ocr)]
    gaps = []
    every_gap: list[float] = []
    for i in range(1, len(line.words)):
        left, right = line.words[i - 1].box, line.words[i].box
        if left is None or right is None:
            continue
        gap = right[0] - (left[0] + left[2])
        every_gap.append(gap)
        middle = (left[0] + left[2] + right[0]) / 2
        if split - 0.15 * width <= middle <= split + 0.06 * width:
            gaps.append((gap, i))
    if not gaps:
        return [line]
    gap, cut = max(gaps)
    # The space between the columns stands out from the line's own word spacing.  Judged
    # against the whole line's spaces: engines that place word boxes by estimate (TrueOCR's
    # line recogniser) leave spaces of half a line's height between ordinary words.
    typical = median(every_gap, 0.0)
    if gap < 1.4 * max(typical, 1.0) or gap < 0.35 * line.height:
        return [line]
    return [make_line(line.words[:cut], line.page, ocr), make_line(line.words[cut:], line.page, ocr)]


@dataclass
class _Margins:
    left: float
    right: float

    def centred(self, line: TextLine, width: int) -> bool:
        inset_left, inset_right = line.box[0] - self.left, self.right - line.box[2]
        centre = (line.box[0] + line.box[2]) / 2
        return inset_left > 0.04 * width and inset_right > 0.04 * width and \
            abs(centre - (self.left + self.right) / 2) < 0.07 * width

    def inset(self, line: TextLine, width: int) -> bool:
        """Short of both margins: a centred line, or a title's wrapped line (body lines run to the right margin)."""
        return line.box[0] - self.left > 0.03 * width and self.right - line.box[2] > 0.03 * width


def _margins(pages: list[PageLines]) -> _Margins:
    wide = [line for page in pages for line in page.lines if line.box[2] - line.box[0] > 0.55 * page.width]
    width = pages[0].width if pages else 2480
    return _Margins(left=median([ln.box[0] for ln in wide], 0.12 * width),
                    right=median([ln.box[2] for ln in wide], 0.9 * width))


def _header(page: PageLines, margins: _Margins) -> tuple[list[TextLine], list[TextLine], list[TextLine]]:
    """(header left, header right, the page's lines below the header) of page one."""
    split = _split_x(page)
    band = [part for line in page.lines if line.box[1] < 0.45 * page.height for part in _cut(line, split, page.width)]
    def is_anchor(line: TextLine) -> bool:
        """The number slot on the left, the motto or the date line on the right."""
        if NUMBER_LINE.match(line.text) and line.box[0] < split:
            return True
        right_side = line.box[0] >= split - 0.03 * page.width
        return right_side and bool(DATE_LINE.search(line.text) or RIGHT_ANCHOR.search(_bare(line.text)))

    anchors = [line for line in band if line.box[1] < 0.35 * page.height and is_anchor(line)]
    title_top = next((line.box[1] for line in page.lines if line.box[1] < 0.45 * page.height
                      and (is_title_line(line.text) or KINH_GUI.match(line.text))), None)
    if anchors:
        bottom = max(line.box[3] for line in anchors)
        if title_top is not None:
            bottom = min(bottom, title_top - 1)
    else:
        bottom = title_top - 1 if title_top is not None else int(0.15 * page.height)
    left: list[TextLine] = []
    right: list[TextLine] = []
    rest: list[TextLine] = []
    open_below = True  # below the anchors, the left column runs on (a công văn's trích yếu) until the page's text
    for line in sorted(band, key=lambda ln: (ln.box[1], ln.box[0])):
        centre_y = (line.box[1] + line.box[3]) / 2
        # A trích yếu line may run a little past the column edge; a body line runs to the margin.
        in_left = line.box[2] <= split + 0.1 * page.width and (line.box[0] + line.box[2]) / 2 < split
        in_right = line.box[0] >= split - 0.03 * page.width
        if centre_y <= bottom:
            (left if (line.box[0] + line.box[2]) / 2 < split else right).append(line)
            continue
        stop = KINH_GUI.match(line.text) or is_title_line(line.text) or CONG_DIEN.search(line.text) \
            or not (in_left or in_right) or margins.centred(line, page.width) and not in_left
        if open_below and not stop and (in_left or in_right):
            (left if in_left else right).append(line)
            continue
        open_below = False
        rest.append(line)
    rest += [line for line in page.lines if line.box[1] >= 0.45 * page.height]
    return left, right, rest


def _title_and_addressees(lines: list[TextLine], margins: _Margins, width: int
                          ) -> tuple[list[TextLine], list[TextLine], list[TextLine]]:
    """(title zone, addressees, body) from the lines under page one's header."""
    title: list[TextLine] = []
    index = 0
    if lines and is_title_line(lines[0].text):
        title.append(lines[0])
        index = 1
    # The trích yếu and the issuing authority's line under the title are centred (and
    # stand there too when a stamp hid the title itself).
    # A long trích yếu wraps nearly full width: after a title (or a first inset line) the
    # block runs on while its lines follow closely, up to the body's first words.
    height = median([ln.height for ln in lines[:12]], 50.0)
    block = bool(title) or bool(lines) and margins.inset(lines[0], width)
    while index < len(lines) and block and len(title) < TITLE_BLOCK_LINES and not TITLE_STOP.match(lines[index].text) \
            and not KINH_GUI.match(lines[index].text) and not CONG_DIEN.search(lines[index].text):
        if title and lines[index].box[1] - title[-1].box[3] > 1.8 * height and not margins.inset(lines[index], width):
            break
        title.append(lines[index])
        index += 1
    rest = lines[index:]
    for start, line in enumerate(rest[:6]):
        if KINH_GUI.match(line.text) or CONG_DIEN.search(line.text):
            addressees = _addressee_block(rest, start, width)
            body = rest[:start] + rest[start + len(addressees):]
            return title, addressees, body
    return title, [], rest


def _addressee_block(lines: list[TextLine], start: int, width: int) -> list[TextLine]:
    """The `Kính gửi:` line and the lines of its list (bulleted, or wrapped under the first recipient).

    The list's left edge is the first recipient's: on the label's line when it
    stands there, else the next line's start.  A line that starts left of it
    (the body's paragraph) or far below ends the list.
    """
    head = lines[start]
    block = [head]
    height = median([ln.height for ln in lines], 50.0)
    label = re.match(r"^\W{0,3}K[íi]nh\s+g[ửu]i\s*:?", head.text, re.I)
    label_words = len(label.group(0).split()) if label else len(head.words)
    first_item = head.words[label_words] if len(head.words) > label_words else None
    item_x = first_item.box[0] if first_item is not None and first_item.box else None
    previous = head
    for line in lines[start + 1:]:
        if item_x is None:
            item_x = line.box[0]
        gap = line.box[1] - previous.box[3]
        body = BODY_START.match(line.text) and not line.text.lstrip().startswith("-")
        if gap > 2.2 * height or body or line.box[0] < item_x - 0.012 * width:
            break
        if line.box[0] > item_x + 0.1 * width:
            continue  # far right of the list's edge: a stamp's or a note's text beside it, not an item
        block.append(line)
        previous = line
    return block


def _closing(pages: list[PageLines], first_letter_page: int) -> tuple[int | None, list[TextLine], list[TextLine]]:
    """(page of the closing, Nơi nhận lines, signer lines)."""
    for page in pages:
        if page.number < first_letter_page:
            continue
        for line in page.lines:
            # The label heads a narrow column; `Nơi nhận hồ sơ ...` in a body sentence runs wide.
            if NOI_NHAN.match(line.text) and line.box[0] < 0.4 * page.width and line.box[2] < 0.55 * page.width and (
                    page.number > first_letter_page or line.box[1] > 0.25 * page.height):
                height = median([ln.height for ln in page.lines], 50.0)
                top = line.box[1]
                recipients = [ln for ln in page.lines if ln.box[1] >= top - 5 and ln.box[0] < 0.35 * page.width
                              and ln.box[2] < 0.62 * page.width]
                cut = next((i for i, ln in enumerate(recipients) if re.match(r"^\W{0,3}Lưu\b", ln.text)), None)
                recipients = recipients[:cut + 1] if cut is not None else recipients
                signer = [ln for ln in page.lines if ln.box[1] >= top - 5 * height and ln.box[0] >= 0.38 * page.width
                          and ln not in recipients]
                return page.number, recipients, signer
    # No `Nơi nhận`: the signer's authority line (`TM. ỦY BAN NHÂN DÂN`) on the right closes the letter.
    for page in pages:
        if page.number < first_letter_page:
            continue
        for line in page.lines:
            if AUTHORITY.match(line.text) and line.box[0] > 0.35 * page.width and (
                    page.number > first_letter_page or line.box[1] > 0.3 * page.height):
                signer = [ln for ln in page.lines if ln.box[1] >= line.box[1] - 5 and ln.box[0] >= 0.35 * page.width]
                return page.number, [], signer
    return None, [], []


def _starts_letter(page: PageLines) -> bool:
    """A page opening with a header of its own (quốc hiệu and `Số:`): a second letter in the file."""
    top = [line for line in page.lines if line.box[1] < 0.3 * page.height]
    motto = any(re.search(r"C\S?NG\s+H\S{0,3}\s+X\S?\s+H", _bare(line.text)) for line in top)
    number = any(NUMBER_LINE.match(line.text) for line in top)
    return motto and number


def find_zones(pages: list[PageLines]) -> Layout:
    """Sort every page's lines into the letter's zones, marks apart."""
    layout = Layout()
    clean: list[PageLines] = []
    for page in pages:
        marks, own = separate_marks(page.lines, page.width, page.height)
        layout.marks += marks
        clean.append(PageLines(page.number, page.width, page.height, own))
    clean = [page for page in clean if page.lines]
    if not clean:
        return layout
    margins = _margins(clean)
    first = clean[0]
    left, right, below = _header(first, margins)
    title, addressees, body_first = _title_and_addressees(below, margins, first.width)
    closing_page, recipients, signer = _closing(clean, first.number)
    last = closing_page or clean[-1].number
    closing_ids = {id(line) for line in recipients + signer}
    body = [line for line in body_first if id(line) not in closing_ids and line.page <= last]
    appendix: list[TextLine] = []
    for page in clean[1:]:
        target = body if page.number <= last else appendix
        target += [line for line in page.lines if id(line) not in closing_ids]
    layout.zones = {"header_left": left, "header_right": right, "title": title, "addressees": addressees,
                    "body": body, "recipients": recipients, "signer": signer, "appendix": appendix}
    layout.letter_pages = last
    later = [page for page in clean if page.number > last]
    second = next((page for page in later if _starts_letter(page)), None)
    if second is not None:
        layout.notes.append(f"page {second.number} starts another letter; the record is the first letter's "
                            f"(pages 1-{last})")
    elif later:
        layout.notes.append(f"pages {later[0].number}-{later[-1].number} follow the signature (appendix)")
    return layout


__all__ = ["PageLines", "find_zones", "is_title_line"]
