"""Benchmarks: `make bench` (never part of the test run). See docs/performance.md."""
