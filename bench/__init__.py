"""Benchmarks run by `make bench` (python -m bench): ours against a baseline, side by side, in one run."""
