"""The one-request test, written for a plugin's ``client`` fixture (pytest-flask's or
flask_testcase's: the same file runs under either).

``BENCH_TESTS`` (set by the runner) says how many copies of the test to run.
"""

from __future__ import annotations

import os
import typing as t

import pytest

if t.TYPE_CHECKING:
    from flask.testing import FlaskClient


@pytest.mark.parametrize("i", range(int(os.environ.get("BENCH_TESTS", "10"))))
def test_one_request(client: FlaskClient, i: int) -> None:
    response = client.get("/about")
    assert response.status_code == 200
    assert b"<h1>About</h1>" in response.data
