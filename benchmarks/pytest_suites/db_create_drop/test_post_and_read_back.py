"""The database test: POST a row to one of the 20 tables, follow the redirect and read
it back; the same file runs with the guides' ``db`` fixture and with the plugin's.

``BENCH_TESTS`` (set by the runner) says how many copies of the test to run; each ten
write to the next table, as the unittest suites' classes do.
"""

from __future__ import annotations

import os
import typing as t

import pytest

from benchmarks.suites import KINDS
from benchmarks.suites import TESTS_PER_CLASS

if t.TYPE_CHECKING:
    from flask.testing import FlaskClient


@pytest.mark.parametrize("i", range(int(os.environ.get("BENCH_TESTS", "10"))))
def test_post_and_read_back(client: FlaskClient, db: t.Any, i: int) -> None:
    kind = KINDS[i // TESTS_PER_CLASS % len(KINDS)]
    name = f"{kind} {i:05d}"
    response = client.post(f"/{kind}/", data={"name": name})
    assert response.status_code in (302, 303)  # 303 from Flask 3.2
    response = client.get(response.location)
    assert response.status_code == 200
    assert name.encode() in response.data
