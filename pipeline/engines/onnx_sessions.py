"""ONNX Runtime sessions as congvan's engines open them: the digit recogniser's graph and TrueOCR's models."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import onnxruntime


def cpu_session(path: Path, threads: int = 1) -> onnxruntime.InferenceSession:
    """A CPU session of the graph at `path`, its operators on `threads` threads.

    One thread by default: pages are read in parallel by worker processes, one
    per core.  The graph is optimised fully, and ONNX Runtime's memory arena is
    on, so one run's buffers serve the next (TrueOCR opens its own sessions
    without it; see `ARENA_MODELS` in pipeline/engines/neural.py).
    """
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.enable_cpu_mem_arena = True
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
