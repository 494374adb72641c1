"""The names pytest-flask-sqlalchemy defines, on flask_testcase's isolation: the
``_db`` fixture (the user's, returning their Flask-SQLAlchemy instance), ``db_session``
and ``db_engine``, and the ini options ``mocked-engines``, ``mocked-sessions`` and
``mocked-sessionmakers``.

pytest-flask-sqlalchemy (1.1.0, 2022) does not work with Flask-SQLAlchemy 3. Its users
switch by uninstalling it: :mod:`flask_testcase.pytest_plugin` registers this module
under the plugin's own name (so that ``pytest_plugins = ["pytest-flask-sqlalchemy"]``
in a conftest keeps working) when pytest-flask-sqlalchemy is not installed. A test
that uses ``_db`` (directly, or through these fixtures or a fixture of the user's) then
runs in the database isolation of the ``_db`` instance, exactly as one that uses the
plugin's ``db``.
"""

from __future__ import annotations

import contextlib
import typing as t

import flask
import pytest

if t.TYPE_CHECKING:
    from collections.abc import Iterator

    from sqlalchemy.engine import Engine

__all__ = ["NAME", "TestEngine", "loads"]

#: The name pytest-flask-sqlalchemy registers under, which this module takes.
NAME = "pytest-flask-sqlalchemy"

_MOCKED = {
    "mocked-engines": "SQLAlchemy Engine",
    "mocked-sessions": "SQLAlchemy Session",
    "mocked-sessionmakers": "SQLAlchemy Sessionmaker",
}


def loads(pluginmanager: pytest.PytestPluginManager) -> bool:
    """Whether pytest-flask-sqlalchemy itself is (or is about to be) loaded."""
    import importlib.util
    import os

    if pluginmanager.has_plugin(NAME) and not pluginmanager.has_plugin(__name__):
        return True
    return (
        not pluginmanager.is_blocked(NAME)
        and not os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD")
        and importlib.util.find_spec("pytest_flask_sqlalchemy") is not None
    )


def pytest_addoption(parser: pytest.Parser) -> None:
    for name, kind in _MOCKED.items():
        parser.addini(
            name,
            type="args",
            help=(
                f"import paths of {kind} objects replaced, for each test that uses"
                " db_session or db_engine, by the test's (pytest-flask-sqlalchemy's"
                " option, on flask_testcase's isolation)."
            ),
        )


# -- the fixtures ------------------------------------------------------------------------


@pytest.fixture
def _db(app: flask.Flask) -> t.Any:
    """pytest-flask-sqlalchemy's ``_db``: write your own in conftest.py, returning your
    Flask-SQLAlchemy instance. This one takes the app's
    (``app.extensions["sqlalchemy"]``)."""
    db = app.extensions.get("sqlalchemy")
    if db is None:
        raise NotImplementedError(
            "_db fixture not defined. flask_testcase serves pytest-flask-sqlalchemy's"
            " fixtures (db_session, db_engine) on the database your _db fixture returns:"
            " define one in conftest.py that returns your Flask-SQLAlchemy instance, or"
            f" call db.init_app(app) so that the app {app.name!r} has one."
        )
    return db


@pytest.fixture
def db_session(request: pytest.FixtureRequest, _db: t.Any, app: flask.Flask) -> Iterator[t.Any]:
    """The session of the test's database (Flask-SQLAlchemy's ``db.session``), inside
    the test's transaction; what it commits is rolled back after the test. The
    ``mocked-sessions`` and ``mocked-sessionmakers`` objects are replaced by it (and
    by a session factory handing it out) for the test."""
    env = _isolated(request)
    session = env.isolation.stack.test_session("_db")
    with contextlib.ExitStack() as patches:
        _patch(patches, request, "mocked-sessions", session)
        _patch(patches, request, "mocked-sessionmakers", _SessionFactory(session))
        yield session


@pytest.fixture
def db_engine(request: pytest.FixtureRequest, _db: t.Any, app: flask.Flask) -> Iterator[t.Any]:
    """The engine of the test's database (the default bind), whose every connection
    joins the test's transaction, with pytest-flask-sqlalchemy's ``execute()``. The
    ``mocked-engines`` objects are replaced by it for the test."""
    env = _isolated(request)
    engines = env.isolation.stack.engines(app) or {}
    key = env.isolation.stack.default_key(engines)
    engine = TestEngine(engines[key])
    with contextlib.ExitStack() as patches:
        _patch(patches, request, "mocked-engines", engine)
        yield engine


def _isolated(request: pytest.FixtureRequest) -> t.Any:
    env = request.getfixturevalue("_flask_testcase")
    if env is None or env.isolation is None:  # pragma: no cover - the plugin isolates _db
        raise RuntimeError("flask_testcase did not isolate _db for this test")
    return env


def _patch(
    stack: contextlib.ExitStack, request: pytest.FixtureRequest, option: str, new: t.Any
) -> None:
    from unittest import mock

    for path in request.config.getini(option):
        try:
            stack.enter_context(mock.patch(path, new=new))
        except (ImportError, AttributeError) as e:
            raise pytest.UsageError(
                f"{option} names {path!r}, which cannot be imported ({e}); write it as"
                " 'package.module.attribute'."
            ) from e


class _SessionFactory:
    """What a ``mocked-sessionmakers`` path names during a test: calling it gives the
    test's session; ``configure()`` does nothing."""

    def __init__(self, session: t.Any) -> None:
        self._session = session

    def __call__(self, **kwargs: t.Any) -> t.Any:
        from sqlalchemy.orm import scoped_session

        session = self._session
        return session() if isinstance(session, scoped_session) else session

    def configure(self, **kwargs: t.Any) -> None:
        pass

    def __repr__(self) -> str:
        return f"<flask_testcase session factory for {self._session!r}>"


class TestEngine:
    """The ``db_engine`` fixture: the test's engine, unchanged (``connect()``,
    ``begin()``, ``raw_connection()``, ``dialect``... all join the test's transaction),
    plus pytest-flask-sqlalchemy's ``execute()``."""

    __test__ = False

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def execute(self, statement: t.Any, *args: t.Any, **kwargs: t.Any) -> t.Any:
        """Run ``statement`` (a string is raw SQL) on a connection of its own in the
        test's transaction, committed at once (a savepoint released), and return its
        result, its rows already read."""
        import sqlalchemy as sa

        if isinstance(statement, str):
            statement = sa.text(statement)
        with self.engine.connect() as conn:
            result: t.Any = conn.execute(statement, *args, **kwargs)
            if result.returns_rows:
                result = result.freeze()()
            conn.commit()
        return result

    def __getattr__(self, name: str) -> t.Any:
        return getattr(self.engine, name)

    def __repr__(self) -> str:
        return f"<flask_testcase db_engine {self.engine!r}>"
