"""Benchmark scripts (`python -m bench.api`) and their recorded results (RESULTS.md)."""
