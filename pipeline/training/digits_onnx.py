"""Write the digit recogniser's weights (digits.npz) as an ONNX graph (digits.onnx) beside them.

    python -m pipeline.training.digits_onnx models/digits

The numpy inference in pipeline/engines/digits.py spends most of its time
laying out im2col matrices for a few glyphs at a time; ONNX Runtime (already
the neural OCR engine's runtime) computes the same network about five times
faster per glyph.  The graph is built here node by node from the weights with
`onnx.helper` rather than traced from a PyTorch module, so that it is made
from exactly what the npz holds, and it records the weights' hash
(`weights_sha256`): a graph left behind by an older training run is never
used for newer weights.  `make models-digits` writes both files.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from pipeline.engines.digits import CLASSES, MODEL_FILE, ONNX_FILE, SIZE, DigitModel, weights_sha256

OPSET = 17
LAYERS = ("c1", "c2", "c3")


def graph_bytes(model: DigitModel) -> bytes:
    """The serialised ONNX model: input `x` (n, 28, 28), output `logits` (members, n, 11)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    nodes, initialisers, member_outputs = [], [], []
    nodes.append(helper.make_node("Unsqueeze", ["x", "channel_axis"], ["x4"]))
    initialisers.append(numpy_helper.from_array(np.array([1], np.int64), "channel_axis"))
    initialisers.append(numpy_helper.from_array(np.array([0], np.int64), "member_axis"))
    for k, member in enumerate(model.members):
        prefix = member["prefix"]

        def weight(name: str, prefix: str = prefix, k: int = k) -> str:
            key = f"m{k}.{name}"
            initialisers.append(numpy_helper.from_array(model.weights[prefix + name].astype(np.float32), key))
            return key

        x = "x4"
        for layer in LAYERS:  # 3x3 'same' convolution, ReLU, 2x2 max-pooling (floor), as digits.py computes
            out = f"m{k}.{layer}"
            nodes.append(helper.make_node("Conv", [x, weight(f"{layer}.w"), weight(f"{layer}.b")], [out + ".conv"],
                                          kernel_shape=[3, 3], pads=[1, 1, 1, 1]))
            nodes.append(helper.make_node("Relu", [out + ".conv"], [out + ".relu"]))
            nodes.append(helper.make_node("MaxPool", [out + ".relu"], [out], kernel_shape=[2, 2], strides=[2, 2]))
            x = out
        nodes.append(helper.make_node("Flatten", [x], [f"m{k}.flat"], axis=1))  # channels first, as f1 expects
        nodes.append(helper.make_node("Gemm", [f"m{k}.flat", weight("f1.w"), weight("f1.b")], [f"m{k}.f1"], transB=1))
        nodes.append(helper.make_node("Relu", [f"m{k}.f1"], [f"m{k}.hidden"]))
        nodes.append(helper.make_node("Gemm", [f"m{k}.hidden", weight("f2.w"), weight("f2.b")], [f"m{k}.logits"],
                                      transB=1))
        nodes.append(helper.make_node("Unsqueeze", [f"m{k}.logits", "member_axis"], [f"m{k}.out"]))
        member_outputs.append(f"m{k}.out")
    nodes.append(helper.make_node("Concat", member_outputs, ["logits"], axis=0))
    graph = helper.make_graph(
        nodes, "congvan_digits",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", SIZE, SIZE])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [len(model.members), "n", len(CLASSES)])],
        initialisers)
    onnx_model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="congvan")
    onnx_model.ir_version = 8  # readable by every onnxruntime the project supports
    helper.set_model_props(onnx_model, {"weights_sha256": weights_sha256(model.weights)})
    onnx.checker.check_model(onnx_model)
    return onnx_model.SerializeToString()


def write_onnx(folder: Path) -> Path:
    """Write `folder`/digits.onnx from `folder`/digits.npz; its path."""
    source = folder / Path(MODEL_FILE).name
    target = folder / Path(ONNX_FILE).name
    target.write_bytes(graph_bytes(DigitModel.load(source)))
    return target


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, nargs="?", default=Path("models/digits"))
    args = parser.parse_args(argv)
    target = write_onnx(args.folder)
    print(f"wrote {target} ({target.stat().st_size / 1024:.0f} kB)")


if __name__ == "__main__":
    main()
