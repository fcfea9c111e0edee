"""Synthetic OCR pages: render corpus text, degrade it, read it back with Tesseract.

Used twice: by training, to learn the character-confusion channels from
(true line, OCR line) pairs of *train* documents, and by the benchmark, on
*held-out* documents.  Everything is deterministic given a seed.
"""

from __future__ import annotations

import hashlib
import json
import random
import subprocess
import tempfile
import textwrap
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

FONTS = [
    "/usr/share/fonts/truetype/freefont/FreeSerif.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf",
    "/usr/share/fonts/truetype/noto/NotoSerif-Regular.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/freefont/FreeSans.ttf",
    "/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf",
]
PAGE_W, MARGIN = 2480, 180
DEGRADE_VERSION = 4  # part of the OCR cache key


def available_fonts() -> list[str]:
    return [f for f in FONTS if Path(f).exists()]


def page_lines(text: str, width_chars: int = 72, max_lines: int = 32) -> list[str]:
    out: list[str] = []
    for para in text.split("\n"):
        para = " ".join(para.split())
        if not para:
            continue
        # skip form lines (dot leaders, rules) and tables: not running text
        if sum(c.isalpha() or c == " " for c in para) < 0.8 * len(para) or len(para) < 12:
            continue
        out.extend(textwrap.wrap(para, width_chars, break_long_words=False))
        if len(out) >= max_lines:
            break
    return out[:max_lines]


def render(lines: list[str], font_path: str, size: int = 46, seed: int = 0, degrade: int = 0) -> Image.Image:
    """A grayscale page; degrade 0 clean, 1 mild, 2 poor scan."""
    rng = random.Random(seed)
    font = ImageFont.truetype(font_path, size)
    line_h = int(size * 1.6)
    height = MARGIN * 2 + line_h * max(len(lines), 1)
    img = Image.new("L", (PAGE_W, height), 255)
    draw = ImageDraw.Draw(img)
    y = MARGIN
    for line in lines:
        draw.text((MARGIN, y), line, font=font, fill=0)
        y += line_h
    if degrade <= 0:
        return img
    arr = np.asarray(img, dtype=np.float32)
    nrng = np.random.default_rng(seed)
    if degrade == 1:
        # a fair scan at lower resolution: blur, resample, sensor noise
        img = Image.fromarray(arr.astype(np.uint8)).filter(ImageFilter.GaussianBlur(rng.uniform(0.6, 1.0)))
        scale = rng.uniform(0.65, 0.8)
        small = img.resize((int(img.width * scale), int(img.height * scale)), Image.BILINEAR)
        img = small.resize(img.size, Image.BILINEAR)
        arr = np.asarray(img, dtype=np.float32) + nrng.normal(0, 8, arr.shape)
    elif degrade >= 2:
        # a poor scan: low resolution, noise, then a hard threshold that
        # breaks thin strokes and drops small marks (`HỘI` -> `HỌI`)
        small = img.resize((img.width // 2, img.height // 2), Image.BILINEAR).filter(ImageFilter.GaussianBlur(0.8))
        a = np.asarray(small, dtype=np.float32) + nrng.normal(0, 20, (small.height, small.width))
        a = np.where(a < rng.uniform(135, 150), 0, 255).astype(np.uint8)
        arr = np.asarray(Image.fromarray(a).resize(img.size, Image.NEAREST), dtype=np.float32)
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))


def tesseract(img: Image.Image, lang: str, psm: int = 6) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        p = Path(tmp) / "page.png"
        img.save(p)
        res = subprocess.run(
            ["tesseract", str(p), "stdout", "-l", lang, "--psm", str(psm)],
            capture_output=True, text=True, env={"OMP_THREAD_LIMIT": "1", "PATH": "/usr/bin:/bin"},
        )
        return res.stdout


def ocr_page(lines: list[str], lang: str, font: str, seed: int, degrade: int, cache: Path | None) -> str:
    """OCR text of the rendered page, cached by content under `cache`."""
    key = hashlib.sha1(json.dumps([lines, lang, font, seed, degrade, DEGRADE_VERSION]).encode()).hexdigest()[:16]
    if cache is not None:
        f = cache / f"{lang}-{key}.txt"
        if f.exists():
            return f.read_text(encoding="utf-8")
    out = tesseract(render(lines, font, seed=seed, degrade=degrade), lang)
    if cache is not None:
        cache.mkdir(parents=True, exist_ok=True)
        f.write_text(out, encoding="utf-8")
    return out


def align_lines(truth: list[str], ocr: str) -> list[tuple[str, str]]:
    """Pairs (true line, OCR line) when the OCR kept the line structure."""
    got = [line for line in ocr.split("\n") if line.strip()]
    if len(got) == len(truth):
        return list(zip(truth, got))
    import difflib

    from pipeline.core.vietnamese import strip_diacritics

    a = [strip_diacritics(line).lower() for line in truth]
    pairs = []
    used = set()
    for t_line, ta in zip(truth, a):
        best, best_r = None, 0.6
        for k, g in enumerate(got):
            if k in used:
                continue
            r = difflib.SequenceMatcher(None, ta, strip_diacritics(g).lower(), autojunk=False).ratio()
            if r > best_r:
                best, best_r = k, r
        if best is not None:
            used.add(best)
            pairs.append((t_line, got[best]))
    return pairs
