"""One test's environment, the same for both front doors.

:class:`~flask_testcase.TestCase` (``case.py``) and the pytest plugin
(``pytest_plugin.py``) each say what a test asks for in a :class:`Settings`, and
:func:`open_environment` builds it, in the one order of :data:`STEPS`:

0. **guard** (:func:`guard_connections`), entered by the front door before it makes
   the app and left after everything else: every connection SQLAlchemy hands out
   during the test reaches a test database (and, while an isolation is active, one of
   its own), or is refused; in strict mode a test that did not ask for a database gets
   none.
1. **config**: the overrides (class decorators, ``@pytest.mark.options``), first, so
   that every later step (and the database step above all) reads the test's config;
   ``app.config`` is put back as it was when the test ends.
2. **client class**: ``app.test_client_class`` (and the response class) for the test.
3. **contexts**: an app context of the test's own, then a test request context. A
   context of the same app that is already pushed (an ``app`` fixture that yields
   inside ``with app.app_context():``, a ``setUpClass`` that pushed one) is never the
   test's: Flask would reuse it, and with it its database session.
4. **client**: ``client`` and ``runner``.
5. **records**: the templates rendered and the messages flashed (``sender=app``).
6. **database**: the test joins its database transaction (a new isolation, or a
   savepoint over class-level or module-level data that is already isolated).
7. **mail**: the outbox, for an app with Flask-Mail or Flask-Mailman.
8. **tasks**: the Celery tasks and RQ jobs enqueued, when either is imported.
9. **live server**: the server serves the test's app.
10. **browser**: a twill browser bound to the app.
11. **current**: the records :mod:`flask_testcase.asserts` reads.

Each step registers its undo the moment it succeeds, on one
:class:`contextlib.ExitStack`; :meth:`TestEnvironment.close` undoes them in reverse,
and a step that raises undoes the ones before it. Logging in needs no step: the
helpers write the client's session when called.

:class:`SharedData` is the level below the tests: data made once for several tests
(``setUpTestData``, :func:`~flask_testcase.pytest_plugin.data_fixture`), in a
transaction that outlives them; each test's database step then nests in it.

This module imports SQLAlchemy only for a test that has a database.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import os
import sys
import typing as t

import flask

from . import _current
from ._requests import _FreshContextRequests
from ._requests import isolate_test_client
from ._requests import set_for_test
from .capture import record_flashed_messages
from .capture import record_templates
from .capture import silence_templates

if t.TYPE_CHECKING:
    from collections.abc import Callable
    from collections.abc import Mapping
    from collections.abc import Sequence

    from flask.testing import FlaskClient
    from flask.testing import FlaskCliRunner

    from ._stacks import Stack
    from .capture import FlashedMessage
    from .capture import RenderedTemplate
    from .isolation import DatabaseIsolation
    from .mail import SentEmail
    from .tasks import EnqueuedTask

__all__ = [
    "STEPS",
    "DatabaseSettings",
    "Settings",
    "SharedData",
    "TestEnvironment",
    "guard_connections",
    "open_environment",
]

# Hides this module's frames from unittest tracebacks, so a failure points at the test.
__unittest = True

_T = t.TypeVar("_T")


@dataclasses.dataclass(frozen=True)
class DatabaseSettings:
    """The database a test isolates, and how its front door names things in errors."""

    #: Where the app's engines are: its Flask-SQLAlchemy or Flask-SQLAlchemy-Lite
    #: instance, a :class:`~flask_testcase.SQLAlchemyDatabase`, or a tuple of them.
    db: t.Any
    create_schema: bool = True
    #: How the schema is made (:mod:`flask_testcase.schema`).
    schema_from: str | None = "models"
    migrations_directory: str | os.PathLike[str] | None = None
    schema_hook: Callable[[], object] | None = None
    allow_any_database: bool = False
    #: Primary keys start after the highest one again, in each test.
    reset_sequences: bool = False
    #: Real-commit mode: commits are real, and the tables written are emptied after
    #: the test (:doc:`/real-commits`).
    real_commits: bool = False
    #: How the front door names ``db`` in errors (``"UserTests.db"``).
    label: str = "db"
    #: How the front door's user sets ``allow_any_database``, for errors.
    opt_in: str = "pass allow_any_database=True to database_isolation()"

    def stack(self) -> Stack:
        """Where ``db``'s engines, tables and sessions are.

        :raises TypeError: ``db`` is not of a form the library knows.
        """
        from ._stacks import stack_for

        return stack_for(self.db, self.label)

    def new_isolation(self, owner: str, *, shared: bool = False) -> DatabaseIsolation:
        from .isolation import DatabaseIsolation

        return DatabaseIsolation(
            self.db,
            create_schema=self.create_schema,
            schema_from=self.schema_from,
            migrations_directory=self.migrations_directory,
            schema_hook=self.schema_hook,
            allow_any_database=self.allow_any_database,
            owner=owner,
            opt_in=self.opt_in,
            db_label=self.label,
            reset_sequences=self.reset_sequences,
            real_commits=self.real_commits,
            shared=shared,
        )


@dataclasses.dataclass(frozen=True)
class Settings:
    """What one test asks of its environment; each front door fills it in."""

    #: The test, named in errors (its id).
    owner: str
    #: :class:`~flask_testcase.override_config` settings (class decorators), applied
    #: in order, with its checks, before anything else reads the config.
    config_overrides: Sequence[Mapping[str, t.Any]] = ()
    #: Plain config updates applied after them, unchecked (``@pytest.mark.options``,
    #: the live server's ``SERVER_NAME``).
    config: Sequence[Mapping[str, t.Any]] = ()
    #: When false, templates render as empty strings (renders are still recorded).
    render_templates: bool = True
    #: Make the app's responses (for the test) a subclass given by this function of
    #: the app's response class (the plugin's responses compare to status codes).
    response_class: Callable[[type], type] | None = None
    #: Hand out the client with the contexts of its last request kept (entered, as
    #: pytest-flask's fixture is); a ``with client:`` block still works.
    client_keeps_contexts: bool = False
    #: The database to isolate; None for none.
    database: DatabaseSettings | None = None
    #: With no ``database``, nest in data that is already isolated for the app's
    #: databases (a module's data fixture), so that the test's writes are undone too.
    join_shared_data: bool = True
    #: Data shared by the tests of a class, made on first use (TestCase's
    #: ``setUpTestData``).
    class_data: SharedData | None = None
    #: Serve the app on a live server for the test: called with the app, the owner and
    #: whether requests must be served one at a time; returns what to enter.
    live_server: Callable[[flask.Flask, str, bool], t.ContextManager[t.Any]] | None = None
    #: A browser bound to the app (TwillTestCase's twill), entered for the test.
    browser: Callable[[flask.Flask], t.ContextManager[t.Any]] | None = None
    #: The guard's reach (:func:`guard_connections`): let connections to databases not
    #: named for tests through.
    allow_any_database: bool = False
    #: How the front door's user sets ``allow_any_database``, for errors.
    guard_opt_in: str = "set allow_any_database = True on the test class"
    #: Strict mode: the test did not ask for a database, and may not connect to one.
    refuse_connections: bool = False
    #: How the front door's user asks for a database, for the strict refusal.
    ask_for_database: str = "set db on the test class"
    #: How the front door's user adds a database to the test's isolation, for errors.
    include_database: str = (
        "give every stack the app uses as a tuple (db = (db, SQLAlchemyDatabase(engine,"
        " Base.metadata)))"
    )


class TestEnvironment:
    """One test's app, client, contexts, records and database, built by
    :func:`open_environment` and undone by :meth:`close`."""

    __test__ = False  # not a test class, whatever pytest's name rules say

    #: The app under test.
    app: flask.Flask
    #: The test client (an isolated client: each request in a fresh context).
    client: FlaskClient
    #: ``app.test_cli_runner()``.
    runner: FlaskCliRunner
    #: Every template rendered during the test, in order.
    templates: list[RenderedTemplate]
    #: Every message flashed during the test, in order.
    flashed_messages: list[FlashedMessage]

    def __init__(self, app: flask.Flask, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        #: The test's database isolation, if any.
        self.isolation: DatabaseIsolation | None = None
        #: The outbox, when the app has Flask-Mail or Flask-Mailman.
        self.outbox: list[SentEmail] | None = None
        #: The tasks enqueued, when Celery or RQ is imported.
        self.tasks: list[EnqueuedTask] | None = None
        #: What the live server step entered (the pytest ``LiveServer``'s handle).
        self.live_server: t.Any = None
        #: What the browser step entered (a :class:`~flask_testcase.Twill`).
        self.browser: t.Any = None
        self._stack = contextlib.ExitStack()

    def enter(self, cm: t.ContextManager[_T]) -> _T:
        """Enter ``cm`` and undo it when the environment closes."""
        return self._stack.enter_context(cm)

    def undo(self, callback: Callable[..., object], *args: t.Any) -> None:
        """Call ``callback(*args)`` when the environment closes."""
        self._stack.callback(callback, *args)

    def close(self) -> None:
        """Undo every step, last first."""
        self._stack.close()


class _Step(t.NamedTuple):
    name: str
    run: Callable[[TestEnvironment, Settings], None]


def guard_connections(settings: Settings) -> t.ContextManager[None]:
    """The guard step, which the front door enters before it makes the app (so that
    ``create_app`` is guarded too) and leaves after everything else is undone: while it
    is entered, every connection SQLAlchemy hands out (any engine, any pool) must reach
    a test database, and while a database isolation is active, be one of its own
    (:mod:`flask_testcase.isolation._reach`). With SQLAlchemy not imported it costs
    nothing; the config step listens once ``create_app`` has imported it."""
    from .isolation import _reach

    return _reach.guarding(
        _reach.GuardPolicy(
            owner=settings.owner,
            allow_any_database=settings.allow_any_database,
            opt_in=settings.guard_opt_in,
            refuse_all=settings.refuse_connections and settings.database is None,
            ask=settings.ask_for_database,
            include=settings.include_database,
        )
    )


def open_environment(app: flask.Flask, settings: Settings) -> TestEnvironment:
    """Build the environment of one test for ``app``, step by step (:data:`STEPS`).

    If a step raises, the steps before it are undone and the error propagates.
    """
    env = TestEnvironment(app, settings)
    try:
        for step in STEPS:
            step.run(env, settings)
    except BaseException:
        env.close()
        raise
    return env


# -- the steps, in order ------------------------------------------------------------


def _config(env: TestEnvironment, settings: Settings) -> None:
    app = env.app
    if "sqlalchemy" in sys.modules:
        # create_app may have imported SQLAlchemy after the guard step began.
        from .isolation import _reach

        _reach.ensure_installed()
    env.undo(_restore_config, app, dict(app.config))
    if settings.config_overrides:
        from .config import override_config

        for overrides in settings.config_overrides:
            applied = override_config(overrides, app=app)
            applied.enable()
            env.undo(applied.disable)
    for updates in settings.config:
        # Undone by the restore above.
        app.config.update(updates)


def _client_class(env: TestEnvironment, settings: Settings) -> None:
    app = env.app
    env.undo(isolate_test_client(app))
    if settings.response_class is not None:
        env.undo(set_for_test(app, "response_class", settings.response_class(app.response_class)))


def _contexts(env: TestEnvironment, settings: Settings) -> None:
    app = env.app
    inherited = _active_app(app)
    if inherited:
        # Flask (before 3.2) would reuse this context for the test's request context,
        # and Flask-SQLAlchemy with it the session that context holds, begun outside
        # the test. End that session's transaction (it may hold a connection), and
        # give the test an app context of its own.
        _end_session_transaction(app, settings.database)
        own = app.app_context()
        own.push()
        env.undo(_pop_context, own, _active_contexts())
    ctx = app.test_request_context()
    ctx.push()
    env.undo(_pop_context, ctx, _active_contexts())


def _clients(env: TestEnvironment, settings: Settings) -> None:
    app = env.app
    client = env.client = app.test_client()
    env.runner = app.test_cli_runner()
    if settings.client_keeps_contexts:
        if isinstance(client, _FreshContextRequests):
            client.keep_contexts()
            env.undo(client.release_contexts)
        else:  # the app set another client class after our step: just enter it
            client.__enter__()
            env.undo(client.__exit__, None, None, None)


def _records(env: TestEnvironment, settings: Settings) -> None:
    app = env.app
    env.templates = env.enter(record_templates(app))
    env.flashed_messages = env.enter(record_flashed_messages(app))
    if not settings.render_templates:
        env.enter(silence_templates(app))


def _database(env: TestEnvironment, settings: Settings) -> None:
    app = env.app
    database = settings.database
    if database is None:
        if not settings.join_shared_data:
            return
        outer = _covering_isolation(app)
        if outer is None:
            return
        env.isolation = _nest(env, outer, reset_sequences=False, owner=settings.owner)
        if outer.real_commits:
            env.undo(_release_kept_contexts, env, outer.stack)
        _remove_test_session(env, outer.stack)
        return
    if settings.class_data is not None:
        settings.class_data.begin_once(app, database)
    outer = _covering_isolation(app, database.stack())
    if outer is None:
        isolation = database.new_isolation(settings.owner)
        isolation.start(app)
        env.undo(isolation.end)
    else:
        _check_mode(settings.owner, database, outer)
        isolation = _nest(
            env, outer, reset_sequences=database.reset_sequences, owner=settings.owner
        )
    env.isolation = isolation
    if isolation.real_commits:
        # The tables are emptied when the isolation (or level) ends: the sessions of
        # the client's kept contexts must have given their connections back by then.
        env.undo(_release_kept_contexts, env, isolation.stack)
    _remove_test_session(env, isolation.stack)


def _mail(env: TestEnvironment, settings: Settings) -> None:
    from .mail import has_mail

    if has_mail(env.app):
        from .mail import record_mail

        env.outbox = env.enter(record_mail(env.app))


def _tasks(env: TestEnvironment, settings: Settings) -> None:
    import sys

    if "celery" in sys.modules or "rq" in sys.modules:
        from .tasks import record_tasks

        env.tasks = env.enter(record_tasks())


def _live_server(env: TestEnvironment, settings: Settings) -> None:
    if settings.live_server is not None:
        serialize = env.isolation is not None and env.isolation.serializes_threads
        env.live_server = env.enter(settings.live_server(env.app, settings.owner, serialize))


def _browser(env: TestEnvironment, settings: Settings) -> None:
    if settings.browser is not None:
        env.browser = env.enter(settings.browser(env.app))


def _make_current(env: TestEnvironment, settings: Settings) -> None:
    env.undo(
        _current.push(
            env.templates, env.flashed_messages, env.isolation, client=env.client, app=env.app
        )
    )


#: The steps of every test's environment, in the order they run (each is undone in
#: the reverse order).
STEPS: tuple[_Step, ...] = (
    _Step("config", _config),
    _Step("client class", _client_class),
    _Step("contexts", _contexts),
    _Step("client", _clients),
    _Step("records", _records),
    _Step("database", _database),
    _Step("mail", _mail),
    _Step("tasks", _tasks),
    _Step("live server", _live_server),
    _Step("browser", _browser),
    _Step("current", _make_current),
)


# -- shared data ----------------------------------------------------------------------


class SharedData:
    """Data made once for several tests, in a transaction kept open for them and rolled
    back by :meth:`end`: a ``TestCase`` class's ``setUpTestData``, a pytest
    :func:`~flask_testcase.pytest_plugin.data_fixture`'s scope. Each test's database
    step nests a savepoint in it.

    :param owner: who makes the data, named in errors.
    :param make: makes the data, called once in an app context of its own; its
        session (``db.session``, the scoped sessions of a
        :class:`~flask_testcase.SQLAlchemyDatabase`) is committed after it returns. Its
        result is :attr:`value`.
    """

    def __init__(self, owner: str, make: Callable[[], t.Any]) -> None:
        self.owner = owner
        self._make = make
        self._stack = contextlib.ExitStack()
        self._begun = False
        #: What ``make`` returned.
        self.value: t.Any = None
        #: What ``make`` (or the isolation) raised, if it did.
        self.error: BaseException | None = None
        #: The isolation the data lives in.
        self.isolation: DatabaseIsolation | None = None

    def begin(self, app: flask.Flask, database: DatabaseSettings) -> t.Any:
        """Isolate ``database`` for ``app`` (or nest in the isolation that already has
        its databases) and make the data; return it."""
        self._begun = True
        try:
            outer = _covering_isolation(app, database.stack())
            if outer is None:
                isolation = database.new_isolation(self.owner, shared=True)
                isolation.start(app)
                self._stack.callback(isolation.end)
            else:
                isolation = outer
                self._stack.enter_context(outer.route(app))
                self._stack.enter_context(outer.savepoint())
            self.isolation = isolation
            # A context of its own: what the hook pushes or sets never reaches a test.
            self.value = contextvars.Context().run(_make_data, app, isolation, self._make)
        except BaseException as e:
            self.error = e
            raise
        return self.value

    def begin_once(self, app: flask.Flask, database: DatabaseSettings) -> None:
        """:meth:`begin` for the first test that needs the data; a later test whose
        first one failed to make it gets an error pointing at that one."""
        if not self._begun:
            self.begin(app, database)
        elif self.error is not None:
            raise RuntimeError(
                f"{self.owner} raised in an earlier test of the class ({self.error!r}); see that"
                " test's error"
            )

    def end(self) -> None:
        """Roll the data back (safe to call twice, or when it was never made)."""
        self._stack.close()
        self.isolation = None


def _make_data(app: flask.Flask, isolation: DatabaseIsolation, make: Callable[[], _T]) -> _T:
    with app.app_context(), isolation.stack.data_session():
        return make()


# -- helpers -------------------------------------------------------------------------


def _covering_isolation(app: flask.Flask, db: t.Any = None) -> DatabaseIsolation | None:
    """The active isolation that has every database of ``db`` (None: of whatever it
    isolates) for ``app``, or None."""
    isolation = sys.modules.get("flask_testcase.isolation")
    if isolation is None:
        # Nothing was ever isolated in this process.
        return None
    found: DatabaseIsolation | None = isolation.covering(db, app)
    return found


def _check_mode(owner: str, database: DatabaseSettings, outer: DatabaseIsolation) -> None:
    """A real-commit test cannot nest in data made in one rollback transaction (its
    commits would be savepoints); refuse, saying how to make the data real too."""
    if database.real_commits and not outer.real_commits:
        raise ValueError(
            f"{owner} asks for real commits, but it runs over data that {outer.owner} made"
            " in a transaction that is rolled back (rollback mode), where nothing can be"
            " committed for real. Give that data real commits too: real_commits = True on"
            " the TestCase class, or pytestmark = pytest.mark.real_commits in the module"
            " (or class) of the data fixture."
        )


def _nest(
    env: TestEnvironment, outer: DatabaseIsolation, *, reset_sequences: bool, owner: str
) -> DatabaseIsolation:
    env.enter(outer.route(env.app))
    env.enter(outer.savepoint(reset_sequences=reset_sequences, owner=owner))
    return outer


def _release_kept_contexts(env: TestEnvironment, stack: Stack) -> None:
    """Pop the contexts the client kept (their sessions go), then remove the session of
    the test's own context, which they hid."""
    client = getattr(env, "client", None)
    if isinstance(client, _FreshContextRequests) and client._keeps_contexts:
        client.release_contexts()
        stack.remove_sessions()


def _remove_test_session(env: TestEnvironment, stack: Stack) -> None:
    # The session of the test's own context began before the isolation (if anything
    # used it): start it afresh inside, and remove it before the isolation ends.
    stack.remove_sessions()
    env.undo(stack.remove_sessions)


def _active_app(app: flask.Flask) -> bool:
    """Whether an app context of ``app`` is pushed now."""
    return flask.has_app_context() and flask.current_app._get_current_object() is app  # type: ignore[attr-defined]


def _end_session_transaction(app: flask.Flask, database: DatabaseSettings | None) -> None:
    from ._stacks import stack_for

    db = database.db if database is not None else app.extensions.get("sqlalchemy")
    if db is not None:
        stack_for(db).end_session_transactions()


def _active_contexts() -> tuple[object, object] | None:
    """The active app context and request (or ``None``), through Flask's public proxies.

    Flask 3.2 merged the request context into the app context; before, a request
    context pushed for the same app reuses the app context. Together the two
    objects tell whether the context on top is the one the environment pushed.
    """
    if not flask.has_app_context():
        return None
    app_ctx = t.cast("t.Any", flask.globals.app_ctx)._get_current_object()
    if not flask.has_request_context():
        return app_ctx, None
    return app_ctx, t.cast("t.Any", flask.request)._get_current_object()


def _pop_context(ctx: t.Any, pushed: tuple[object, object] | None) -> None:
    active = _active_contexts()
    # Flask refuses to pop a context from under one pushed later, with an error that
    # differs between versions (AssertionError up to 3.1, RuntimeError from 3.2) and
    # names neither the cause nor the fix. Report it before Flask would, as an error
    # in the test (not a failed check). With no context at all, Flask's own error
    # says what happened.
    if active is not None and (pushed is None or any(a is not b for a, b in zip(active, pushed))):
        raise RuntimeError(
            "The test left an application or request context pushed on top of the"
            " test's own context. Pop every context the test pushes, or use"
            " 'with app.app_context():'."
        )
    ctx.pop()


def _restore_config(app: flask.Flask, config: dict[str, t.Any]) -> None:
    if app.config != config:
        app.config.clear()
        app.config.update(config)
