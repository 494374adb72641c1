"""Each private API of another library that flask_testcase relies on (SQLAlchemy,
Flask-SQLAlchemy, twill, unittest; all in flask_testcase._internals) still exists in the
installed releases, with the shape we use. A new release that moves one fails here by
name, not somewhere deep in a test."""

from __future__ import annotations

import inspect
import typing as t
import unittest

import pytest
import sqlalchemy as sa
from _stack_apps import require_lite
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


def test_flask_sqlalchemy_lite_keeps_each_apps_engines_in_app_state() -> None:
    require_lite()
    from flask_sqlalchemy_lite import SQLAlchemy as Lite

    db = Lite()
    app = Flask(__name__)
    app.config["SQLALCHEMY_ENGINES"] = {"default": "sqlite://"}
    assert _internals.lite_state(db, app) is None
    db.init_app(app)
    state = _internals.lite_state(db, app)
    with app.app_context():
        assert state.engines is db.engines
        assert state.sessionmaker is db.sessionmaker
        assert state.async_engines == {}
        assert _internals.lite_sessions() == []
        sessions = [db.session, db.get_session("other")]
        assert _internals.lite_sessions() == sessions
    assert _internals.lite_states(db) == [state]


def test_an_unsupported_flask_sqlalchemy_lite_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    _internals.check_versions.cache_clear()
    real = _internals._version

    def version(name: str) -> tuple[int, int]:
        return (0, 3) if name == "flask-sqlalchemy-lite" else real(name)

    monkeypatch.setattr(_internals, "_version", version)
    try:
        with pytest.raises(RuntimeError) as info:
            _internals.check_versions("flask-sqlalchemy-lite")
    finally:
        _internals.check_versions.cache_clear()
    assert str(info.value) == (
        "flask_testcase's database isolation supports flask-sqlalchemy-lite from 0.2 up to"
        " (not including) 0.3, found 0.3. Install a supported release (pip install"
        " 'flask-sqlalchemy-lite<0.3') or a flask-testcase release that supports it."
    )


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


def test_a_connection_keeps_its_pool_connection_in_dbapi_connection() -> None:
    engine = sa.create_engine("sqlite://")
    try:
        conn = engine.connect()
        assert _internals.pool_connection(conn) is conn._dbapi_connection
        assert _internals.pool_connection(conn) is conn.connection
        conn.close()
        assert _internals.pool_connection(conn) is None
        conn = engine.connect()
        conn.invalidate()
        assert _internals.pool_connection(conn) is None
        conn.close()
    finally:
        engine.dispose()


def test_a_checked_out_connection_knows_its_pools_dialect_through_pool() -> None:
    engine = sa.create_engine("sqlite://")
    seen: list[str | None] = []

    def checkout(dbapi_connection: t.Any, record: t.Any, fairy: t.Any) -> None:
        assert fairy._pool is engine.pool
        seen.append(_internals.pool_backend(fairy))

    sa.event.listen(engine.pool, "checkout", checkout)
    try:
        with engine.connect():
            pass
    finally:
        engine.dispose()
    assert seen == ["sqlite"]
    # A pool made without an engine has no dialect to name.
    import sqlite3

    pool = sa.pool.QueuePool(lambda: sqlite3.connect(":memory:"))
    bare: list[str | None] = []
    sa.event.listen(
        pool, "checkout", lambda d, r, fairy: bare.append(_internals.pool_backend(fairy))
    )
    pool.connect().close()
    pool.dispose()
    assert bare == [None]


def test_has_events_makes_a_connection_dispatch_to_listeners_on_its_class() -> None:
    class Listened(Connection):
        pass

    seen: list[str] = []
    sa.event.listen(Listened, "before_cursor_execute", lambda *args: seen.append(args[2]))
    engine = sa.create_engine("sqlite://")
    try:
        with engine.connect() as plain:
            conn = Listened(engine, connection=plain.connection, _allow_revalidate=False)
            assert hasattr(conn, "_has_events")
            conn._has_events = True
            conn.exec_driver_sql("SELECT 1")
            assert seen == ["SELECT 1"]
    finally:
        engine.dispose()


def test_a_joined_connection_names_its_savepoints_through_savepoint_impl() -> None:
    assert list(inspect.signature(Connection._savepoint_impl).parameters) == ["self", "name"]
    engine = sa.create_engine("sqlite://")
    try:
        with engine.connect() as conn:
            conn.begin()
            assert conn._savepoint_impl("ftc_named") == "ftc_named"
    finally:
        engine.dispose()


def test_connection_init_takes_its_dbapi_connection_from_engine_raw_connection() -> None:
    engine = sa.create_engine("sqlite://")
    original = engine.raw_connection
    calls: list[bool] = []

    def raw_connection() -> t.Any:
        calls.append(_internals.connecting_directly())
        return original()

    engine.raw_connection = raw_connection  # type: ignore[method-assign]
    try:
        assert not _internals.connecting_directly()
        conn = _internals.connect_directly(type(engine).connect, engine)
        assert calls == [True]
        assert not _internals.connecting_directly()
        conn.close()
        with engine.connect():
            assert calls == [True, False]
        # A connection given its DB-API connection asks for none.
        with engine.connect() as plain:
            Connection(engine, connection=plain.connection, _allow_revalidate=False)
            assert calls == [True, False, False]
    finally:
        engine.dispose()


def test_connect_directly_forgets_the_flag_when_connecting_fails() -> None:
    def fails(engine: t.Any) -> t.Any:
        assert _internals.connecting_directly()
        raise ConnectionError("no server")

    with pytest.raises(ConnectionError):
        _internals.connect_directly(fails, sa.create_engine("sqlite://"))
    assert not _internals.connecting_directly()


def test_twill_keeps_script_namespaces_in_local_dict_stack() -> None:
    from twill import namespaces

    stack = _internals.twill_local_stack()
    assert stack is namespaces._local_dict_stack
    before = list(stack)
    local = namespaces.new_local_dict()
    try:
        assert stack[-1] is local
    finally:
        namespaces.pop_local_dict()
    assert stack == before


def test_twill_debug_commands_swaps_log_commands() -> None:
    from twill import commands
    from twill import parse

    saved = _internals.twill_command_logger()
    assert saved is parse._log_commands
    try:
        commands.debug("commands", "1")
        assert _internals.twill_command_logger() is not saved
    finally:
        _internals.set_twill_command_logger(saved)
    assert parse._log_commands is saved


def test_an_unsupported_twill_is_refused_with_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    _internals.check_twill_version.cache_clear()
    monkeypatch.setattr(_internals, "_version", lambda name: (4, 0))
    try:
        with pytest.raises(RuntimeError) as info:
            _internals.twill_local_stack()
    finally:
        _internals.check_twill_version.cache_clear()
    assert str(info.value) == (
        "flask_testcase's twill support supports twill from 3.2 up to (not including) 4.0,"
        " found 4.0. Install a supported release (pip install 'twill<4.0') or a"
        " flask-testcase release that supports it."
    )


def test_unittest_collects_class_cleanup_errors_in_teardown_exceptions() -> None:
    class Case(unittest.TestCase):
        pass

    error = ValueError("cleanup failed")

    def fail() -> None:
        raise error

    Case.addClassCleanup(fail)
    Case.doClassCleanups()
    assert [exc for _, exc, _ in Case.tearDown_exceptions] == [error]  # type: ignore[attr-defined]
    taken = _internals.take_class_cleanup_errors(Case)
    assert [exc for _, exc, _ in taken] == [error]
    assert Case.tearDown_exceptions == []  # type: ignore[attr-defined]
    assert _internals.take_class_cleanup_errors(Case) == []


def test_flask_login_makes_session_identifiers_with_session_identifier_generator() -> None:
    import flask
    from flask_login import LoginManager

    app = flask.Flask(__name__)
    manager = LoginManager(app)
    generate = _internals.session_identifier_generator(manager)
    with app.test_request_context(environ_base={"REMOTE_ADDR": "10.0.0.1"}):
        # What session protection compares: made from the address and the user agent.
        assert generate() == manager._session_identifier_generator()
        assert isinstance(generate(), str) and generate()


def test_a_flask_login_without_it_is_refused_with_a_report_request() -> None:
    class Manager:
        pass

    with pytest.raises(RuntimeError, match=r"relies on LoginManager\._session_identifier_gen"):
        _internals.session_identifier_generator(Manager())
