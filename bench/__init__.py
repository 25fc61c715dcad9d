"""Benchmarks: run by hand (`make bench`), never by CI. Each prints what it measured and against what."""
