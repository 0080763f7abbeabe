"""Benchmarks: `make bench` prints the tables and writes docs/performance.md. Dev-only."""
