"""Every use of another library's private API, in one place.

Database isolation, the twill integration and the unittest lifecycle need a few things
their libraries do not offer publicly. Each is reached through a function here,
:func:`check_versions` (:func:`check_twill_version` for twill) refuses versions they
were not checked against, and ``tests/test_internals.py`` fails loudly, by name, when
a new release moves one of them:

- Flask-SQLAlchemy keeps each app's engines in ``SQLAlchemy._app_engines`` (its public
  ``engines`` property returns the same mapping, but only for ``current_app``):
  :func:`app_engines`, :func:`bind_key`;
- Flask-SQLAlchemy-Lite keeps each app's engines and sessionmaker in
  ``SQLAlchemy._app_state`` (its public ``engines`` needs an app context of that app,
  whose teardown would run the app's handlers) and an app context's sessions in
  ``g._sqlalchemy_sessions``: :func:`lite_state`, :func:`lite_states`,
  :func:`lite_sessions`;
- Flask-SQLAlchemy's ``SQLALCHEMY_RECORD_QUERIES`` listens with
  ``record_queries._listen`` / ``_record_end``: :func:`listen_record_queries`;
- SQLAlchemy's ``Connection`` is subclassed by :func:`joined_connection_class`, which
  overrides the transaction hooks ``_begin_impl``, ``_commit_impl``,
  ``_rollback_impl`` and ``_savepoint_impl``, sets ``_has_events`` (so that events
  reach listeners on the class) and reads and clears ``_transaction`` and
  ``_dbapi_connection``; isolation reads the latter through :func:`pool_connection`;
- SQLAlchemy's ``Connection.__init__`` takes its DB-API connection from
  ``engine.raw_connection()``, which isolation patches: :func:`connect_directly` makes
  a connection whose call the patch knows (:func:`connecting_directly`);
- every connection characteristic (``isolation_level`` above all) is applied through
  ``DefaultDialect._set_connection_characteristics``, which isolation intercepts for
  joined connections (:class:`CharacteristicsPatch`);
- the guard's reach asks which dialect a checked-out connection's pool was made for
  (``_ConnectionFairy._pool._dialect``): :func:`pool_backend`;
- twill keeps the stack of script namespaces in ``twill.namespaces._local_dict_stack``
  and the logger of ``debug commands`` in ``twill.parse._log_commands``:
  :func:`twill_local_stack`, :func:`twill_command_logger`,
  :func:`set_twill_command_logger`;
- unittest's ``doClassCleanups()`` collects errors in the class attribute
  ``tearDown_exceptions``: :func:`take_class_cleanup_errors`;
- Flask-Login keeps the function its session protection compares identifiers made
  by (an app may replace it) in ``LoginManager._session_identifier_generator``:
  :func:`session_identifier_generator`.

This module imports SQLAlchemy, Flask-SQLAlchemy and twill when its functions are
called.
"""

from __future__ import annotations

import functools
import importlib.metadata
import threading
import typing as t

from ._classes import class_factory

if t.TYPE_CHECKING:
    from collections.abc import Callable
    from collections.abc import MutableMapping

    import flask
    from sqlalchemy.engine import Connection
    from sqlalchemy.engine import Engine

    from .isolation._joined import JoinedConnections
    from .isolation._joined import JoinedState

    class Joined(Connection):
        """What :func:`joined_connection_class` makes, as type checkers see it."""

        hooks: JoinedConnections
        state: JoinedState

        def __init__(
            self, engine: Engine, hooks: JoinedConnections, state: JoinedState, dialect: t.Any
        ) -> None: ...
        def set_characteristics(self, characteristics: t.Mapping[str, t.Any]) -> None: ...
        def cut_off(self) -> None: ...


__all__ = [
    "CharacteristicsPatch",
    "app_engines",
    "bind_key",
    "check_twill_version",
    "check_versions",
    "checkout_pool",
    "connect_directly",
    "connecting_directly",
    "joined_connection_class",
    "listen_record_queries",
    "lite_sessions",
    "lite_state",
    "lite_states",
    "pool_backend",
    "pool_connection",
    "session_identifier_generator",
    "set_twill_command_logger",
    "take_class_cleanup_errors",
    "twill_command_logger",
    "twill_local_stack",
]

#: The releases whose private API this module was written and tested against:
#: (lowest supported, first unsupported).
SUPPORTED = {
    "sqlalchemy": ((2, 0), (2, 2)),
    "flask-sqlalchemy": ((3, 0), (3, 2)),
    "flask-sqlalchemy-lite": ((0, 2), (0, 3)),
    "twill": ((3, 2), (4, 0)),
}


def _version(distribution: str) -> tuple[int, int]:
    parts = importlib.metadata.version(distribution).split(".")
    return int(parts[0]), int("".join(c for c in parts[1] if c.isdigit()) or 0)


@functools.cache
def check_versions(*extensions: str) -> None:
    """Raise :class:`RuntimeError` for a SQLAlchemy release, or one of ``extensions``
    (``"flask-sqlalchemy"``...), outside :data:`SUPPORTED`, naming the versions that
    work."""
    for name in ("sqlalchemy", *extensions):
        _check_version(name, "database isolation")


@functools.cache
def check_twill_version() -> None:
    """Raise :class:`RuntimeError` for a twill release outside :data:`SUPPORTED`."""
    _check_version("twill", "twill support")


def _check_version(name: str, feature: str) -> None:
    low, high = SUPPORTED[name]
    found = _version(name)
    if not low <= found < high:
        shown = ".".join(map(str, found))
        raise RuntimeError(
            f"flask_testcase's {feature} supports {name} from"
            f" {'.'.join(map(str, low))} up to (not including)"
            f" {'.'.join(map(str, high))}, found {shown}. Install a supported"
            f" release (pip install '{name}<{'.'.join(map(str, high))}') or a"
            " flask-testcase release that supports it."
        )


def app_engines(db: t.Any, app: flask.Flask) -> MutableMapping[str | None, Engine] | None:
    """The mutable mapping of bind key to engine ``db`` made for ``app``, or None when
    ``db.init_app(app)`` was never called."""
    check_versions("flask-sqlalchemy")
    registry = db._app_engines
    return registry.get(app)  # type: ignore[no-any-return]


#: What :func:`bind_key` returns for an engine ``db`` did not make.
NOT_FOUND: t.Any = object()


def bind_key(db: t.Any, engine: Engine) -> t.Any:
    """The bind key under which ``db`` made ``engine`` for some app, or
    :data:`NOT_FOUND`."""
    for engines in list(db._app_engines.values()):
        for key, candidate in list(engines.items()):
            if candidate is engine:
                return key
    return NOT_FOUND


def lite_state(db: t.Any, app: flask.Flask) -> t.Any:
    """What Flask-SQLAlchemy-Lite's ``db`` keeps for ``app`` (``engines``, a mutable
    dict of name to engine, ``async_engines``, ``sessionmaker``), or None when
    ``db.init_app(app)`` was never called."""
    check_versions("flask-sqlalchemy-lite")
    return db._app_state.get(app)


def lite_states(db: t.Any) -> list[t.Any]:
    """What Flask-SQLAlchemy-Lite's ``db`` keeps for each app it was set up on."""
    return list(db._app_state.values())


def lite_sessions() -> list[t.Any]:
    """The sessions Flask-SQLAlchemy-Lite made in the current app context
    (``db.session`` and each ``db.get_session(name)``)."""
    from flask import g

    sessions: dict[str, t.Any] = g.get("_sqlalchemy_sessions") or {}
    return list(sessions.values())


def listen_record_queries(engine: Engine) -> None:
    """Make ``flask_sqlalchemy.record_queries.get_recorded_queries()`` see the
    statements run on ``engine`` (Flask-SQLAlchemy listens on the app's own engines,
    which a test sets aside for the run's)."""
    from flask_sqlalchemy import record_queries
    from sqlalchemy import event

    if not event.contains(engine, "after_cursor_execute", record_queries._record_end):
        record_queries._listen(engine)


def pool_connection(conn: Connection) -> t.Any:
    """The pool's connection under ``conn`` (SQLAlchemy's ``_dbapi_connection``, None once
    closed or invalidated), without the checks of the public ``connection`` property."""
    return conn._dbapi_connection


def checkout_pool(fairy: t.Any) -> t.Any:
    """The pool a checked-out connection ``fairy`` came from
    (``_ConnectionFairy._pool``), or None."""
    return getattr(fairy, "_pool", None)


def pool_backend(fairy: t.Any) -> str | None:
    """The dialect name (``"postgresql"``, ``"sqlite"``...) of the pool a checked-out
    connection ``fairy`` (a pool ``checkout`` event's third argument) came from:
    SQLAlchemy's ``_ConnectionFairy._pool._dialect``; None for a pool made without an
    engine."""
    dialect = getattr(checkout_pool(fairy), "_dialect", None)
    name = getattr(dialect, "name", None)
    return name if isinstance(name, str) else None


_direct = threading.local()


def connect_directly(connect: Callable[[Engine], Connection], engine: Engine) -> Connection:
    """``connect(engine)``, SQLAlchemy's own ``Engine.connect``, such that
    :func:`connecting_directly` is true while it runs: SQLAlchemy's ``Connection``
    takes its DB-API connection from ``engine.raw_connection()``, which must then be
    the pool's, not one that joins a test's transaction."""
    _direct.on = True
    try:
        return connect(engine)
    finally:
        _direct.on = False


def connecting_directly() -> bool:
    """Whether this thread is inside :func:`connect_directly`."""
    return getattr(_direct, "on", False)


class CharacteristicsPatch:
    """Routes connection characteristics (``isolation_level="AUTOCOMMIT"`` and the
    like) set on a joined connection to that connection, instead of to the database
    connection it shares with the test: on SQLite, switching that connection to
    autocommit commits the test's transaction; on PostgreSQL and MySQL it fails or
    commits too.

    Installed on :class:`sqlalchemy.engine.default.DefaultDialect` while any isolation
    is active; :meth:`restore` puts the original method back.
    """

    def __init__(self, joined: type[Connection]) -> None:
        from sqlalchemy.engine.default import DefaultDialect

        self._cls = DefaultDialect
        self._original = DefaultDialect._set_connection_characteristics
        original: t.Any = self._original

        def _set_connection_characteristics(
            dialect: t.Any, connection: t.Any, characteristics: t.Mapping[str, t.Any]
        ) -> None:
            if isinstance(connection, joined):
                connection.set_characteristics(characteristics)  # type: ignore[attr-defined]
            else:
                original(dialect, connection, characteristics)

        self._patched = _set_connection_characteristics

    def install(self) -> None:
        self._cls._set_connection_characteristics = self._patched  # type: ignore[method-assign]

    def restore(self) -> None:
        self._cls._set_connection_characteristics = self._original  # type: ignore[method-assign]

    @property
    def installed(self) -> bool:
        return vars(self._cls).get("_set_connection_characteristics") is self._patched


class JoinedHooks(t.Protocol):
    """What a joined connection asks of the isolation that made it
    (:class:`~flask_testcase.isolation._joined.JoinedConnections`)."""

    def begin(self, conn: t.Any) -> None: ...
    def commit(self, conn: t.Any) -> None: ...
    def rollback(self, conn: t.Any) -> None: ...
    def statement(self, conn: t.Any) -> t.ContextManager[None]: ...
    def executing(self, conn: t.Any, statement: str) -> None: ...
    def savepoint_name(self) -> str: ...
    def shared_connection(self, conn: t.Any) -> t.Any: ...


@class_factory
def joined_connection_class() -> type[Joined]:
    """The :class:`~sqlalchemy.engine.Connection` subclass handed out for
    ``engine.connect()`` during an isolated test.

    It runs over the test's database connection (``state.main``) without owning it:
    its transaction is whatever its ``hooks``
    (:class:`~flask_testcase.isolation._joined.JoinedConnections`) make of it (a
    savepoint in the test's transaction), its statements pass through
    ``hooks.statement()`` (which serialises threads), and closing it leaves the shared
    database connection open. What isolation keeps for it is its ``state``
    (:class:`~flask_testcase.isolation._joined.JoinedState`).
    """
    from sqlalchemy.engine import Connection

    class JoinedConnection(Connection):
        def __init__(
            self, engine: Engine, hooks: JoinedHooks, state: JoinedState, dialect: t.Any
        ) -> None:
            self.hooks = hooks
            self.state = state
            super().__init__(engine, connection=state.main.connection, _allow_revalidate=False)
            # The run's engine has connected and so knows the server; an engine that
            # never connected (an app's own) has an uninitialised dialect.
            self.dialect = dialect
            # Dispatch events even when the engine has no listeners of its own:
            # isolation listens on this class (SQLAlchemy 2.0 copies the engine's
            # flag here, 2.1 reads the class's).
            self._has_events = True
            if not state.autocommit:
                state.autocommit = getattr(engine.dialect, "isolation_level", None) == "AUTOCOMMIT"

        # -- what isolation calls ------------------------------------------------

        def set_characteristics(self, characteristics: t.Mapping[str, t.Any]) -> None:
            level = characteristics.get("isolation_level")
            if level is None:
                return
            if self.in_transaction() and bool(level == "AUTOCOMMIT") != self.state.autocommit:
                from sqlalchemy import exc

                raise exc.InvalidRequestError(
                    "This connection has already begun a transaction; isolation_level"
                    " may not be altered unless rollback() or commit() is called first."
                )
            # Other levels cannot change inside the test's transaction; they are
            # accepted and the test's transaction keeps its own.
            self.state.autocommit = level == "AUTOCOMMIT"

        @property
        def connection(self) -> t.Any:
            # The DB-API connection, guarded: its commit() would end the test's
            # transaction (SQLAlchemy itself uses _dbapi_connection).
            super().connection  # noqa: B018 (raises as SQLAlchemy's does when closed)
            return self.hooks.shared_connection(self)

        def cut_off(self) -> None:
            """Forget the shared connection without any SQL: its test has ended."""
            self._dbapi_connection = None

        def detach(self) -> None:
            # SQLAlchemy's detach() takes the DB-API connection out of its pool, to be
            # closed instead of returned: here that is the test's own connection.
            from .isolation import IsolationError

            raise IsolationError(
                "connection.detach() would take the test's database connection out of"
                " its pool, and this connection shares it with the test: the test's"
                " transaction, and with it the rollback that undoes the test, would go"
                " with it. Isolation cannot allow that; close the connection instead"
                " (connection.close()), which leaves the test's connection in place."
            )

        # -- SQLAlchemy's hooks --------------------------------------------------

        def _begin_impl(self, transaction: t.Any) -> None:
            self.hooks.begin(self)

        def _commit_impl(self) -> None:
            self.hooks.commit(self)

        def _rollback_impl(self) -> None:
            if self._dbapi_connection is not None:
                self.hooks.rollback(self)

        def execute(self, *args: t.Any, **kwargs: t.Any) -> t.Any:
            with self.hooks.statement(self):
                return super().execute(*args, **kwargs)

        def exec_driver_sql(self, *args: t.Any, **kwargs: t.Any) -> t.Any:
            with self.hooks.statement(self):
                return super().exec_driver_sql(*args, **kwargs)

        def scalar(self, *args: t.Any, **kwargs: t.Any) -> t.Any:
            with self.hooks.statement(self):
                return super().scalar(*args, **kwargs)

        def _savepoint_impl(self, name: str | None = None) -> str:
            # Names must differ from every other connection's on the same database
            # connection: MySQL silently replaces an older savepoint of the same name.
            return super()._savepoint_impl(name or self.hooks.savepoint_name())

        def close(self) -> None:
            try:
                if self._transaction is not None:
                    self._transaction.close()
            finally:
                self._dbapi_connection = None

    from sqlalchemy import event

    def before_cursor_execute(conn: t.Any, cursor: t.Any, statement: str, *args: t.Any) -> None:
        conn.hooks.executing(conn, statement)

    event.listen(JoinedConnection, "before_cursor_execute", before_cursor_execute)
    return t.cast("type[Joined]", JoinedConnection)


def twill_local_stack() -> list[t.Any]:
    """twill's stack of script namespaces (``twill.namespaces._local_dict_stack``), a
    list shared by every user of twill."""
    check_twill_version()
    from twill import namespaces

    stack: list[t.Any] = namespaces._local_dict_stack
    return stack


def twill_command_logger() -> t.Any:
    """What twill logs each command with (``twill.parse._log_commands``), which
    ``debug commands 1`` changes for everyone."""
    check_twill_version()
    from twill import parse

    return parse._log_commands


def set_twill_command_logger(logger: t.Any) -> None:
    """Put back what :func:`twill_command_logger` returned."""
    from twill import parse

    parse._log_commands = logger


def take_class_cleanup_errors(cls: type) -> list[tuple[t.Any, BaseException]]:
    """The errors ``cls.doClassCleanups()`` collected, removed from the class.

    unittest keeps them in the undocumented class attribute ``tearDown_exceptions``
    (a list of ``sys.exc_info()`` tuples) and reports them on its own later call,
    which nose and pynose never make.
    """
    errors: list[t.Any] = list(getattr(cls, "tearDown_exceptions", []))
    cls.tearDown_exceptions = []  # type: ignore[attr-defined]
    return errors


def session_identifier_generator(manager: t.Any) -> t.Callable[[], t.Any]:
    """The function Flask-Login's ``manager`` makes session-protection identifiers with
    (``LoginManager._session_identifier_generator``; Flask-Login's own
    ``FlaskLoginClient`` calls it too)."""
    generate = getattr(manager, "_session_identifier_generator", None)
    if generate is None:
        from flask_login import __version__

        raise RuntimeError(
            "flask_testcase.force_login() relies on LoginManager."
            f"_session_identifier_generator, which Flask-Login {__version__} does not"
            " have; please report this to flask-testcase."
        )
    return t.cast("t.Callable[[], t.Any]", generate)
