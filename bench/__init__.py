"""Benchmarks: run by hand (`make bench`), never by CI; each prints what it measured."""
