"""Trained artefacts shipped as package data (installed as `congvan_models`).

Rebuilt by `make models`; found at run time through `importlib.resources`
(`pipeline.core.resources.model_dir`), or in `CONGVAN_MODEL_DIR` when set.
"""
