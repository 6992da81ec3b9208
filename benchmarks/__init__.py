"""Benchmarks: speed and memory figures, kept apart from the tests.

`python -m benchmarks` (or `make bench`) runs every module named `benchmarks/bench_*.py` that
defines `main()`, in name order. `main()` returns rows: a list of dicts with the same keys
(a module's first row names its columns). Each module's rows are printed as one table.
"""
