"""Memory: run many one-request tests in one process and report how its RSS grows.

Run by the runner in a fresh process per harness (``python -m benchmarks.memory
HARNESS TESTS``) so that what other suites allocated does not blur the figure. It
prints one JSON object: the RSS after the first :data:`WARM_UP` tests and at the end,
each measured right after :func:`gc.collect` so that garbage not yet collected is not
mistaken for memory kept alive.
"""

from __future__ import annotations

import gc
import json
import os
import sys
import unittest

from .suites import request_suites

__all__ = ["WARM_UP", "main", "rss_bytes"]

#: Tests run before the first measurement (imports, caches and allocator warm-up).
WARM_UP = 100


def rss_bytes() -> int:
    """The resident set size of this process, from ``/proc`` (Linux) or ``getrusage``."""
    try:
        with open("/proc/self/statm", encoding="ascii") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        import resource

        # The peak, not the current size, where /proc is missing (macOS: bytes).
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return int(peak if sys.platform == "darwin" else peak * 1024)


class _MeasuringResult(unittest.TestResult):
    def __init__(self) -> None:
        super().__init__()
        self.after_warm_up: int | None = None

    def stopTest(self, test: unittest.TestCase) -> None:
        super().stopTest(test)
        if self.testsRun == WARM_UP:
            gc.collect()
            self.after_warm_up = rss_bytes()


def main(argv: list[str] | None = None) -> int:
    harness, tests = (argv if argv is not None else sys.argv[1:])[:2]
    n = int(tests)
    suite = request_suites()[harness](n)
    result = _MeasuringResult()
    suite.run(result)
    gc.collect()
    end = rss_bytes()
    if not result.wasSuccessful():
        failure = (result.errors + result.failures)[0][1]
        print(json.dumps({"error": failure}))
        return 1
    print(
        json.dumps(
            {
                "harness": harness,
                "tests": n,
                "rss_after_warm_up": result.after_warm_up,
                "rss_end": end,
                "growth_mb": None
                if result.after_warm_up is None
                else (end - result.after_warm_up) / 2**20,
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
