"""The guides' database fixtures, with no plugin: one app for the session, a fresh
test client for each test, and a ``db`` fixture that creates every table before each
test and drops them after it.

``BENCH_DATABASE_URL`` (set by the runner) names the database.
"""

from __future__ import annotations

import os
import typing as t

import pytest

from benchmarks.app import create_app
from benchmarks.app import db as _db

if t.TYPE_CHECKING:
    from collections.abc import Iterator

    from flask import Flask
    from flask.testing import FlaskClient
    from flask_sqlalchemy import SQLAlchemy


@pytest.fixture(scope="session")
def app() -> Iterator[Flask]:
    app = create_app(os.environ["BENCH_DATABASE_URL"])
    yield app
    with app.app_context():
        _db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def db(app: Flask) -> Iterator[SQLAlchemy]:
    with app.app_context():
        _db.create_all()
        yield _db
        _db.session.remove()
        _db.drop_all()
