"""Benchmarks: `python -m bench [name ...]` (see README). Each prints a table with ratios
against a baseline measured in the same run on the same server."""
