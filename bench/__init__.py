"""Benchmarks: each prints its figures and their ratio to a baseline measured in the same run.

Run them with `make bench`; they never run in the test suite and never assert on timings.
"""
