"""Batch jobs over many files: `ingest` (a list of paths) and `inbox` (the
nightly consume folder), with the run lock that keeps two runs apart."""
