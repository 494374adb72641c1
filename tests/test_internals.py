"""Each private API of SQLAlchemy and Flask-SQLAlchemy that isolation relies on
(flask_testcase._internals) still exists in the installed releases, with the shape we
use. A new release that moves one fails here by name, not somewhere deep in a test."""

from __future__ import annotations

import inspect

import pytest
import sqlalchemy as sa
from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from flask_sqlalchemy import record_queries
from sqlalchemy.engine import Connection
from sqlalchemy.engine.default import DefaultDialect

from flask_testcase import _internals


def test_the_installed_releases_are_supported() -> None:
    _internals.check_versions()


def test_an_unsupported_release_is_refused_with_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    _internals.check_versions.cache_clear()
    monkeypatch.setattr(_internals, "_version", lambda name: (9, 1))
    try:
        with pytest.raises(RuntimeError) as info:
            _internals.check_versions()
    finally:
        _internals.check_versions.cache_clear()
    assert str(info.value) == (
        "flask_testcase's database isolation supports sqlalchemy from 2.0 up to (not"
        " including) 2.2, found 9.1. Install a supported release (pip install"
        " 'sqlalchemy<2.2') or a flask-testcase release that supports it."
    )


def test_flask_sqlalchemy_keeps_each_apps_engines_in_app_engines() -> None:
    db = SQLAlchemy()
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite://"
    assert _internals.app_engines(db, app) is None
    db.init_app(app)
    with app.app_context():
        assert _internals.app_engines(db, app) is db.engines
        assert _internals.bind_key(db, db.engine) is None
    assert _internals.bind_key(db, sa.create_engine("sqlite://")) is _internals.NOT_FOUND


def test_flask_sqlalchemy_records_queries_with_listen_and_record_end() -> None:
    assert callable(record_queries._listen)
    assert callable(record_queries._record_end)
    engine = sa.create_engine("sqlite://")
    _internals.listen_record_queries(engine)
    _internals.listen_record_queries(engine)  # once only
    assert sa.event.contains(engine, "after_cursor_execute", record_queries._record_end)


def test_dialects_set_characteristics_through_one_method() -> None:
    parameters = list(inspect.signature(DefaultDialect._set_connection_characteristics).parameters)
    assert parameters == ["self", "connection", "characteristics"]
    patch = _internals.CharacteristicsPatch(_internals.joined_connection_class())
    original = DefaultDialect._set_connection_characteristics
    patch.install()
    try:
        assert patch.installed
        assert DefaultDialect._set_connection_characteristics is not original
    finally:
        patch.restore()
    assert not patch.installed
    assert DefaultDialect._set_connection_characteristics is original


def test_connection_has_the_hooks_a_joined_connection_overrides() -> None:
    for name in ("_begin_impl", "_commit_impl", "_rollback_impl", "_savepoint_impl"):
        assert callable(getattr(Connection, name)), name
    assert "_allow_revalidate" in inspect.signature(Connection.__init__).parameters
    engine = sa.create_engine("sqlite://")
    try:
        with engine.connect() as conn:
            assert conn._transaction is None
            assert conn._dbapi_connection is not None
    finally:
        # Python 3.13 warns about a SQLite connection left to the garbage collector.
        engine.dispose()
