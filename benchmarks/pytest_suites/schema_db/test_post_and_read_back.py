"""The database test on the 26-table schema (:mod:`benchmarks.schema_app`): POST a row,
follow the redirect and read it back, with the plugin's ``db``.

``BENCH_TESTS`` (set by the runner) says how many copies of the test to run; each ten
write to the next table, as the unittest suites' classes do.
"""

from __future__ import annotations

import os
import typing as t

import pytest

from benchmarks.schema_app import KINDS
from benchmarks.suites import pytest_post_and_read_back

if t.TYPE_CHECKING:
    from flask.testing import FlaskClient


@pytest.mark.parametrize("i", range(int(os.environ.get("BENCH_TESTS", "10"))))
def test_post_and_read_back(client: FlaskClient, db: t.Any, i: int) -> None:
    pytest_post_and_read_back(client, i, KINDS)
