"""The `congvan` command line: one sub-command per job, each a thin layer over
the Python API of `pipeline.jobs`, `pipeline.stages` and `pipeline.analyst`."""
