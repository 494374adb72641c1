"""One app for the session; flask_testcase's plugin provides ``client`` and ``db``
(each test in a transaction rolled back afterwards).

``BENCH_DATABASE_URL`` (set by the runner) names the database.
"""

from __future__ import annotations

import os
import typing as t

import pytest

from benchmarks.app import create_app

if t.TYPE_CHECKING:
    from flask import Flask


@pytest.fixture(scope="session")
def app() -> Flask:
    return create_app(os.environ["BENCH_DATABASE_URL"])
