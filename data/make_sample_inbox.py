"""Build data/inbox, the sample inbox that `make run` ingests.

The letters are the project's own gold letters (tests/letters/, written from
held-out corpus phrasing), in every input form congvan reads: a text file, a
born-digital PDF, a scanned PDF, a skewed JPEG photo and a multi-page TIFF.
The outputs are committed; rerun this only to change the sample.

    .venv/bin/python data/make_sample_inbox.py
"""

from __future__ import annotations

import sys
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from pagemaker import born_digital_pdf  # noqa: E402

from benchmarks.extract import letter_text, render_letter  # noqa: E402

LETTERS = ROOT / "tests" / "letters"
INBOX = ROOT / "data" / "inbox"


def main() -> None:
    INBOX.mkdir(parents=True, exist_ok=True)
    build = ROOT / "build" / "sample"
    (INBOX / "kh-cchc-caoloc.txt").write_text(letter_text(LETTERS / "kh-cchc-caoloc.txt") + "\n", encoding="utf-8")
    born_digital_pdf(letter_text(LETTERS / "cv-sgddt-danang.txt"), INBOX / "cv-sgddt-danang.pdf")

    scan = [Image.open(render_letter(LETTERS / "qd-totcongtac.txt", build / "qd.tiff", seed=1))]
    scan[0].convert("RGB").save(INBOX / "qd-totcongtac-scan.pdf", resolution=300)

    photo = Image.open(render_letter(LETTERS / "tb-ketluan.txt", build / "tb.tiff", seed=2))
    photo = photo.rotate(1.5, resample=Image.BICUBIC, expand=True, fillcolor=255)
    photo = photo.resize((photo.width * 2 // 3, photo.height * 2 // 3))  # a 200 dpi phone photo
    photo.save(INBOX / "tb-ketluan-photo.jpg", quality=80, dpi=(200, 200))

    fax = Image.open(render_letter(LETTERS / "kh-matuy-xa.txt", build / "kh.tiff", seed=3))
    frames = []
    for index in range(getattr(fax, "n_frames", 1)):
        fax.seek(index)
        page = fax.resize((fax.width * 2 // 3, fax.height * 2 // 3))  # 200 dpi, bilevel: a fax
        frames.append(page.point(lambda v: 255 if v > 150 else 0).convert("1"))
    frames[0].save(INBOX / "kh-matuy-xa-fax.tiff", save_all=True, append_images=frames[1:],
                   compression="group4", dpi=(200, 200))
    for path in sorted(INBOX.iterdir()):
        print(f"{path.relative_to(ROOT)}  {path.stat().st_size // 1024} KB")


if __name__ == "__main__":
    main()
