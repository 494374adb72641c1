"""A pytest plugin that times the test loop (collection and startup excluded).

Loaded by the runner with ``-p benchmarks.pytest_timer``; it writes
``{"seconds": ..., "tests": ..., "failed": ...}`` to the file named by
``BENCH_TIMER_FILE``.
"""

from __future__ import annotations

import json
import os
import time
import typing as t

import pytest

if t.TYPE_CHECKING:
    from collections.abc import Generator


@pytest.hookimpl(wrapper=True)
def pytest_runtestloop(session: pytest.Session) -> Generator[None, object, object]:
    start = time.perf_counter()
    try:
        return (yield)
    finally:
        seconds = time.perf_counter() - start
        with open(os.environ["BENCH_TIMER_FILE"], "w", encoding="utf-8") as f:
            counts = {"tests": session.testscollected, "failed": session.testsfailed}
            json.dump({"seconds": seconds, **counts}, f)
