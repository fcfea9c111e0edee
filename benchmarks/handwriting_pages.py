"""Held-out letters with handwritten slots, read whole by each OCR engine (issue 13, issue 18).

    python -m benchmarks.handwriting_pages [--pages 40] [--engines tesseract,neural]

The project's own page ones, made afresh from a seed the digit recogniser
never trained on: a Decree 30 header in two columns (issuer, `Số: ___/CODE`;
the national motto, `Place, ngày ___ tháng ___ năm YYYY`), a title and a few
lines of body text, printed in a serif font with Vietnamese glyphs.  The
number, the day and the month are written into their slots by hand (held-out
handwriting fonts and MNIST digits, degraded as the training shapes are, at
a clerk's size, sometimes over printed dots), and the page is scanned (paper
tone, noise, blur, a small tilt).

Each page goes through the real pipeline (load -> ocr with the engine ->
restore -> extract), so this measures what the dev letters measure, slot
finding included, on letters nobody tuned a rule on: per engine, numbers and
dates right, wrong and null.  Pages are cached in build/handwriting-pages/.
"""

from __future__ import annotations

import argparse
import glob
import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
PAGES = ROOT / "build" / "handwriting-pages"
RESULTS = ROOT / "benchmarks" / "results" / "handwriting-pages.md"
# Neither the recogniser's training seeds nor benchmarks/handwriting.py's.  The first set is the one
# the slot finder's fixes of session 6 were found on; the second was made after the first fixes (two
# of its wrong dates were looked at), the third after all of them, measured before anyone looked; the
# last two in session 8, to check that session's changes.
SEEDS = (90411, 90412, 90413, 90414, 90415)
SEED = SEEDS[0]
WIDTH, HEIGHT = 2480, 3508  # A4 at 300 dpi

ISSUERS = [("ỦY BAN NHÂN DÂN", "TỈNH LÂM ĐỒNG", "UBND"), ("UBND TỈNH PHÚ THỌ", "SỞ Y TẾ", "SYT"),
           ("ỦY BAN NHÂN DÂN", "HUYỆN CAO LỘC", "UBND"), ("BỘ TÀI CHÍNH", "CỤC THUẾ", "CT"),
           ("UBND TỈNH BẾN TRE", "SỞ THÔNG TIN VÀ TRUYỀN THÔNG", "STTTT"),
           ("ỦY BAN NHÂN DÂN", "THÀNH PHỐ HÀ NỘI", "UBND"), ("UBND QUẬN 3", "PHÒNG GIÁO DỤC", "PGDĐT")]
PLACES = ["Lâm Đồng", "Phú Thọ", "Cao Lộc", "Hà Nội", "Bến Tre", "Đà Nẵng", "Thành phố Hồ Chí Minh"]
KINDS = [("KH", "KẾ HOẠCH", "Triển khai công tác chuyển đổi số năm 2025"),
         ("TB", "THÔNG BÁO", "Kết luận của Chủ tịch tại cuộc họp giao ban"),
         ("QĐ", "QUYẾT ĐỊNH", "Về việc thành lập Tổ công tác liên ngành")]
BODY = ["Căn cứ Luật Tổ chức chính quyền địa phương ngày 19 tháng 6 năm 2015;",
        "Thực hiện chỉ đạo của cấp trên về việc tăng cường công tác quản lý nhà nước,",
        "cơ quan ban hành kế hoạch thực hiện với các nội dung cụ thể như sau:",
        "I. MỤC ĐÍCH, YÊU CẦU",
        "1. Nâng cao hiệu quả phối hợp giữa các cơ quan, đơn vị trên địa bàn.",
        "2. Các đơn vị báo cáo kết quả thực hiện trước ngày 15 hằng tháng."]


@dataclass
class Truth:
    doc_number: str
    issue_date: str


def _font(patterns: list[str]) -> str:
    for pattern in patterns:
        found = sorted(glob.glob(f"/usr/share/fonts/**/{pattern}", recursive=True))
        if found:
            return found[0]
    raise SystemExit(f"no font for {patterns}: run `make train-deps`")


class Page:
    """A white A4 sheet on which printed text and handwritten ink are laid as ink (0..1)."""

    def __init__(self) -> None:
        from PIL import ImageFont

        self.ink = np.zeros((HEIGHT, WIDTH), np.float32)
        regular = _font(["LiberationSerif-Regular.ttf", "FreeSerif.ttf"])
        bold = _font(["LiberationSerif-Bold.ttf", "FreeSerifBold.ttf"])
        italic = _font(["LiberationSerif-Italic.ttf", "FreeSerifItalic.ttf"])
        self.faces = {(kind, size): ImageFont.truetype(path, size) for kind, path in
                      (("regular", regular), ("bold", bold), ("italic", italic)) for size in (50, 54, 58, 62)}

    def text(self, x: int, baseline: int, text: str, kind: str, size: int) -> int:
        """Draws `text` with its baseline at `baseline`; returns the x where it ends."""
        from PIL import Image, ImageDraw

        face = self.faces[(kind, size)]
        left, top, right, bottom = face.getbbox(text)
        image = Image.new("L", (right + 4, size * 2), 0)
        ascent = face.getmetrics()[0]
        ImageDraw.Draw(image).text((0, 0), text, fill=255, font=face)
        ink = np.asarray(image, np.float32) / 255
        y = baseline - ascent
        h, w = ink.shape
        region = self.ink[y:y + h, x:x + w]
        self.ink[y:y + h, x:x + w] = np.maximum(region, ink[:region.shape[0], :region.shape[1]])
        return x + right

    def centred(self, centre: int, baseline: int, text: str, kind: str, size: int) -> tuple[int, int]:
        width = self.faces[(kind, size)].getlength(text)
        left = int(centre - width / 2)
        return left, self.text(left, baseline, text, kind, size)

    def width(self, text: str, kind: str, size: int) -> int:
        return int(self.faces[(kind, size)].getlength(text))

    def dots(self, x0: int, x1: int, baseline: int) -> None:
        for x in range(x0, x1, 14):
            self.ink[baseline - 3:baseline + 1, x:x + 4] = 0.9

    def hand(self, synth, rng: np.random.Generator, digits: str, x0: int, baseline: int, cap: int) -> str:
        """The digits by hand from x0, sitting about on the baseline; returns the digits drawn (the
        degradation may fade one to nothing: the truth is what the page shows)."""
        import cv2

        hand_size = rng.uniform(1.1, 1.8) * cap
        x = x0
        drawn = ""
        for digit in digits:
            ink = synth.degrade(synth.digit_shape(int(digit)), dots=False)
            ys, xs = np.nonzero(ink > 0.1)
            if len(ys) == 0:
                continue
            drawn += digit
            ink = ink[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
            ink = ink / max(float(ink.max()), 1e-3)
            h, w = ink.shape
            scale = rng.uniform(0.9, 1.1) * hand_size / h
            ink = cv2.resize(ink, (max(2, int(w * scale)), max(2, int(h * scale))))
            h, w = ink.shape
            top = baseline - h + int(rng.integers(-cap // 5, cap // 4))
            x = max(x0, x - int(w * rng.uniform(0.0, 0.1)))
            region = self.ink[top:top + h, x:x + w]
            self.ink[top:top + h, x:x + w] = np.maximum(region, ink[:region.shape[0], :region.shape[1]])
            x += w + int(rng.integers(0, cap // 3))
        return drawn

    def scanned(self, rng: np.random.Generator) -> np.ndarray:
        import cv2

        paper, pen = rng.uniform(215, 250), rng.uniform(15, 70)
        grey = paper - self.ink * (paper - pen)
        tilt = rng.uniform(-0.6, 0.6)
        matrix = cv2.getRotationMatrix2D((WIDTH / 2, HEIGHT / 2), tilt, 1.0)
        grey = cv2.warpAffine(grey, matrix, (WIDTH, HEIGHT), borderValue=float(paper))
        grey = cv2.GaussianBlur(grey, (0, 0), rng.uniform(0.4, 1.0))
        grey = grey + rng.normal(0, rng.uniform(2, 8), grey.shape)
        return np.clip(grey, 0, 255).astype(np.uint8)


def make_page(synth, rng: np.random.Generator) -> tuple[np.ndarray, Truth]:
    """One page one with a handwritten number, day and month, and the truth."""
    import calendar

    page = Page()
    size = int(rng.choice([50, 54, 58]))
    cap = int(size * 0.66)
    parent, issuer, org = ISSUERS[int(rng.integers(len(ISSUERS)))]
    kind, title, subject = KINDS[int(rng.integers(len(KINDS)))]
    code = f"{kind}-{org}"
    left_centre, right_centre = 640, 1700
    y = 260
    page.centred(left_centre, y, parent, "regular", size)
    page.centred(right_centre, y, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "bold", size)
    y += int(size * 1.3)
    page.centred(left_centre, y, issuer, "bold", size)
    page.centred(right_centre, y, "Độc lập - Tự do - Hạnh phúc", "bold", size)
    y += int(size * 2.4)
    number = str(int(rng.integers(1, 10))) + "".join(str(int(rng.integers(10))) for _ in range(int(rng.integers(0, 4))))
    year = int(rng.choice([2024, 2025, 2026]))
    month = int(rng.integers(1, 13))
    day = int(rng.integers(1, calendar.monthrange(year, month)[1] + 1))
    # `Số: ____/KH-UBND`, the gap wide enough for a clerk's number, sometimes dotted
    gap = int(cap * rng.uniform(3.2, 4.5))
    start = page.width("Số: ", "regular", size)
    x0 = int(left_centre - (start + gap + page.width("/" + code, "regular", size)) / 2)
    after_so = page.text(x0, y, "Số:", "regular", size) + int(size * 0.3)
    if rng.random() < 0.4:
        page.dots(after_so, after_so + gap, y)
    number = page.hand(synth, rng, number, after_so + int(rng.integers(0, cap)), y, cap) or number
    page.text(after_so + gap, y, "/" + code, "regular", size)
    # `Place, ngày __ tháng __ năm YYYY`, italic
    place = PLACES[int(rng.integers(len(PLACES)))]
    day_text = f"{day:02d}" if day < 10 and rng.random() < 0.5 else str(day)
    month_text = f"{month:02d}" if month < 3 or (month < 10 and rng.random() < 0.3) else str(month)
    slot = int(cap * rng.uniform(3.0, 3.6))
    parts = [f"{place}, ngày", "tháng", f"năm {year}"]
    total = sum(page.width(p, "italic", size) for p in parts) + 2 * slot
    x = int(right_centre - total / 2)
    dotted = rng.random() < 0.4
    drawn = []
    for part, hand_text in zip(parts, [day_text, month_text, None]):
        x = page.text(x, y, part, "italic", size)
        if hand_text is None:
            break
        if dotted:
            page.dots(x + 6, x + slot - 6, y)
        drawn.append(page.hand(synth, rng, hand_text, x + int(rng.integers(4, cap // 3 + 5)), y, cap) or hand_text)
        x += slot
    if all(d.isdigit() for d in drawn) and 1 <= int(drawn[1]) <= 12 and \
            1 <= int(drawn[0]) <= calendar.monthrange(year, int(drawn[1]))[1]:
        day, month = int(drawn[0]), int(drawn[1])
    y += int(size * 3)
    page.centred(WIDTH // 2, y, title, "bold", size + 4)
    y += int(size * 1.4)
    page.centred(WIDTH // 2, y, subject, "bold", size)
    y += int(size * 2.2)
    for line in BODY:
        page.text(220, y, line, "regular", size)
        y += int(size * 1.5)
    return page.scanned(rng), Truth(f"{number}/{code}", f"{year:04d}-{month:02d}-{day:02d}")


def build_pages(count: int, seed: int = SEED) -> list[tuple[Path, Truth]]:
    """The pages as PNG files (made once per seed and count), with their truth."""
    from PIL import Image

    from pipeline.training.digits_synth import Synth

    folder = PAGES / f"seed{seed}-n{count}"
    truth_file = folder / "truth.json"
    if truth_file.exists():
        truths = json.loads(truth_file.read_text())
        return [(folder / name, Truth(**t)) for name, t in truths.items()]
    folder.mkdir(parents=True, exist_ok=True)
    synth = Synth.make(seed, held_out=True)
    rng = np.random.default_rng(seed + 1)
    out: dict[str, dict[str, str]] = {}
    for k in range(count):
        grey, truth = make_page(synth, rng)
        name = f"page{k:03d}.png"
        Image.fromarray(grey).save(folder / name, dpi=(300, 300))
        out[name] = truth.__dict__
    truth_file.write_text(json.dumps(out, ensure_ascii=False, indent=1))
    return [(folder / name, Truth(**t)) for name, t in out.items()]


def read_pages(pages: list[tuple[Path, Truth]], engine: str
               ) -> tuple[dict[str, dict[str, int]], list[str], list[tuple[str, float, bool]]]:
    """Numbers and dates right / wrong / null with `engine`, a line per page, and each stored value
    as (field, confidence, right).

    The OCR pass is cached by input, stage code and engine as for the dev letters
    (benchmarks/handwriting.py: `_document_text`); the digit recogniser reads afresh.
    """
    from benchmarks.handwriting import _document_text
    from extractors import extract_fields
    from pipeline.stages.restore import restore_text

    totals = {f: {"right": 0, "wrong": 0, "null": 0} for f in ("doc_number", "issue_date")}
    rows = []
    stored: list[tuple[str, float, bool]] = []
    for path, truth in pages:
        text, confidences, _, readings = _document_text(path, engine)
        restored, _ = restore_text(text)
        fields = extract_fields(restored, confidences, readings)
        verdicts = []
        for name, expected in (("doc_number", truth.doc_number), ("issue_date", truth.issue_date)):
            got = getattr(fields, name)
            verdict = "null" if got is None else "right" if got == expected else "wrong"
            totals[name][verdict] += 1
            if got is not None:
                stored.append((name, fields.confidence.get(name, 0.0), verdict == "right"))
            verdicts.append(f"{expected} -> {got} ({verdict}, {fields.confidence.get(name, 0):.2f})")
        rows.append(f"| `{engine}` | {path.name} | " + " | ".join(verdicts) + " |")
    return totals, rows, stored


def risk_table(stored: list[tuple[str, float, bool]], engine: str) -> list[str]:
    """How many values `engine` stores at each confidence floor, and how many of those are wrong."""
    lines = ["", f"Stored values by confidence, `{engine}`, all seeds (a floor keeps what is at or above it):", "",
             "| floor | numbers stored | wrong | dates stored | wrong |", "|---|---:|---:|---:|---:|"]
    for floor in (0.0, 0.8, 0.85, 0.9, 0.95, 0.98):
        cells = []
        for name in ("doc_number", "issue_date"):
            kept = [right for field, conf, right in stored if field == name and conf >= floor]
            cells += [str(len(kept)), str(sum(1 for right in kept if not right))]
        lines.append(f"| {floor:.2f} | " + " | ".join(cells) + " |")
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=40)
    parser.add_argument("--engines", default="tesseract,neural")
    parser.add_argument("--seeds", default=",".join(str(s) for s in SEEDS))
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    lines = ["# Held-out letters with handwritten slots, read whole (issue 13)", "",
             f"Command: `python -m benchmarks.handwriting_pages --pages {args.pages} --engines {args.engines} "
             f"--seeds {args.seeds}`", "",
             f"{args.pages} page ones per seed made by the project (held-out handwriting) through load -> ocr "
             f"-> restore -> extract. Seed {SEEDS[0]}: the set session 6's slot-finder fixes were found on; "
             f"seed {SEEDS[1]}: made after the first of them, not tuned on; seed {SEEDS[2]}: made after all of "
             f"them; seeds {SEEDS[3]} and {SEEDS[4]}: made in session 8 to check its changes (one page of "
             f"{SEEDS[3]} raised the floors of the page-and-recogniser agreement).", "",
             "| seed | engine | numbers right | wrong | null | dates right | wrong | null |",
             "|---|---|---:|---:|---:|---:|---:|---:|"]
    details = ["", "Each page: number (truth -> read), date (truth -> read).", "",
               "| engine | page | number | date |", "|---|---|---|---|"]
    stored: dict[str, list[tuple[str, float, bool]]] = {}
    for seed in (int(s) for s in args.seeds.split(",")):
        pages = build_pages(args.pages, seed)
        for engine in args.engines.split(","):
            start = time.perf_counter()
            totals, rows, values = read_pages(pages, engine)
            stored.setdefault(engine, []).extend(values)
            n, d = totals["doc_number"], totals["issue_date"]
            lines.append(f"| {seed} | `{engine}` | {n['right']} | {n['wrong']} | {n['null']} | {d['right']} | "
                         f"{d['wrong']} | {d['null']} |")
            details += [row.replace("| `", f"| {seed} `", 1) for row in rows]
            print(lines[-1], f"({time.perf_counter() - start:.0f} s)", flush=True)
    for engine, values in stored.items():
        lines += risk_table(values, engine)
    lines += details
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
