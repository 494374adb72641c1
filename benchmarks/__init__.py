"""Benchmarks: the same test suites under flask_testcase and its peers, side by side.

Run ``python -m benchmarks`` from the repository root (``--help`` for options). These
are measurements, not tests: nothing here fails on timing.
"""
