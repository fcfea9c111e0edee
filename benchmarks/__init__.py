"""Benchmarks of each pipeline stage; `make bench-*` runs them."""
