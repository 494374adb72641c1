"""One app with the 26-table schema for the session; flask_testcase's plugin provides
``client`` and ``db`` (each test in a transaction rolled back afterwards), the schema
made with ``create_all`` once per database.

When the plugin can build the schema from the app's migrations (issue 21), a second
suite beside this one turns that on, and the runner gets a harness for it.

``BENCH_DATABASE_URL`` (set by the runner) names the database.
"""

from __future__ import annotations

import os
import typing as t

import pytest

from benchmarks.schema_app import create_app

if t.TYPE_CHECKING:
    from flask import Flask


@pytest.fixture(scope="session")
def app() -> Flask:
    return create_app(os.environ["BENCH_DATABASE_URL"])
