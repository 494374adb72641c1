"""The fixtures of the database test on the 26-table schema, in one of two shapes
(``BENCH_FIXTURES``, set by the runner):

- ``plugin``: one app for the session; flask_testcase's plugin provides ``client`` and
  ``db`` (each test in a transaction rolled back afterwards), the schema made once per
  database: with ``create_all``, or from the app's migrations when the runner adds
  ``-o schema_from=migrations`` (a database a first run migrated is reused as it is).
- ``recipe``: no plugin; the SQLAlchemy documentation's "join a session into an
  external transaction" recipe written as pytest fixtures, as the unittest recipe is:
  one app for the session with the schema made once, and for each test one
  connection, one outer transaction and ``db.session`` swapped for a session joined
  to it on savepoints. The floor of the pytest front door.

``BENCH_DATABASE_URL`` (set by the runner) names the database.
"""

from __future__ import annotations

import os
import typing as t

import pytest
import sqlalchemy.orm as sa_orm

from benchmarks.schema_app import create_app
from benchmarks.schema_app import db as _db
from benchmarks.suites import app_ctx_id
from benchmarks.suites import schema_once
from benchmarks.suites import sqlite_savepoints

if t.TYPE_CHECKING:
    from collections.abc import Iterator

    from flask import Flask
    from flask.testing import FlaskClient
    from flask_sqlalchemy import SQLAlchemy

FIXTURES = os.environ.get("BENCH_FIXTURES", "plugin")

if FIXTURES == "plugin":

    @pytest.fixture(scope="session")
    def app() -> Flask:
        return create_app(os.environ["BENCH_DATABASE_URL"])

elif FIXTURES == "recipe":

    @pytest.fixture(scope="session")
    def app() -> Iterator[Flask]:
        app = create_app(os.environ["BENCH_DATABASE_URL"])
        with app.app_context():
            engine = _db.engine
            if engine.dialect.name == "sqlite":
                sqlite_savepoints(engine)
            schema_once(engine, _db.metadata)
        yield app
        engine.dispose()

    @pytest.fixture
    def client(app: Flask) -> FlaskClient:
        return app.test_client()

    @pytest.fixture
    def db(app: Flask) -> Iterator[SQLAlchemy]:
        with app.app_context():
            connection = _db.engine.connect()
        transaction = connection.begin()
        original = _db.session
        _db.session = sa_orm.scoped_session(
            sa_orm.sessionmaker(
                bind=connection, join_transaction_mode="create_savepoint", query_cls=_db.Query
            ),
            scopefunc=app_ctx_id,
        )
        yield _db
        _db.session = original
        transaction.rollback()
        connection.close()

else:
    raise ValueError(f"BENCH_FIXTURES={FIXTURES!r}: use 'plugin' or 'recipe'")
