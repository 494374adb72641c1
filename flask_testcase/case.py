""":class:`TestCase`: the unittest front door to the test environment
(:mod:`flask_testcase._environment`), which builds the app, client, contexts, records
and database isolation of each test in one order for both front doors.

This module adapts unittest to it: it runs the environment before the user's
``setUp`` and undoes it after the user's cleanups, keeps a per-class app and
class-level data for the class, and exposes what the environment built as attributes.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import gc
import os
import sys
import typing as t
import unittest

import flask
from flask.testing import FlaskClient

from . import _internals
from ._environment import DatabaseSettings
from ._environment import Settings
from ._environment import SharedData
from ._environment import guard_connections
from ._environment import open_environment
from ._flask_testing import FlaskTestingAliases
from .assertions import AssertionsMixin
from .forms import FormsMixin
from .login import LoginMixin
from .mail import MailMixin
from .tasks import TasksMixin

if t.TYPE_CHECKING:
    from collections.abc import Callable
    from collections.abc import Iterator

    from flask.testing import FlaskCliRunner

    from ._environment import TestEnvironment
    from .capture import FlashedMessage
    from .capture import RenderedTemplate
    from .config import override_config
    from .isolation import DatabaseIsolation
    from .webtest import TestApp

__all__ = ["TestCase"]

__unittest = True

_CLASS_APP = "_flask_testcase_class_app"
_CLASS_DATA = "_flask_testcase_class_data"
_TESTAPP = "_flask_testcase_testapp"


class TestCase(
    LoginMixin,
    FormsMixin,
    MailMixin,
    TasksMixin,
    AssertionsMixin,
    FlaskTestingAliases,
    unittest.TestCase,
):
    """A :class:`unittest.TestCase` for a Flask application.

    Write :meth:`create_app`; each test then gets :attr:`app`, :attr:`client`,
    :attr:`runner`, a pushed request context, and the lists :attr:`templates` and
    :attr:`flashed_messages`. This setup runs before your ``setUp`` and is undone
    after your ``tearDown`` and cleanups, so neither needs to call ``super()``.
    A skipped test builds nothing. The steps and their order are those of the
    lifecycle chapter of the documentation, the same as under the pytest plugin.
    """

    #: When false, templates render as empty strings; renders are still recorded
    #: with their context, so template assertions keep working.
    render_templates: t.ClassVar[bool] = True

    #: Run :func:`gc.collect` after each test (Flask-Testing's option).
    run_gc_after_test: t.ClassVar[bool] = False

    #: Call :meth:`create_app` once per test class instead of once per test. Each
    #: test still gets a fresh client, contexts and records, and ``app.config`` is
    #: restored after each test; state extensions keep on the app is shared.
    app_per_class: t.ClassVar[bool] = False

    #: The class decorators' config overrides, base classes' first; set by
    #: :class:`~flask_testcase.override_config` and applied before anything else.
    config_overrides: t.ClassVar[tuple[override_config, ...]] = ()

    #: The app's database: its :class:`flask_sqlalchemy.SQLAlchemy` or
    #: Flask-SQLAlchemy-Lite instance, a :class:`~flask_testcase.SQLAlchemyDatabase`
    #: for plain SQLAlchemy, or a tuple of them; when set, each test runs in a
    #: transaction rolled back afterwards (see the database chapter).
    db: t.ClassVar[t.Any] = None

    #: Make the schema once per database per run (false: the tables are there; the
    #: same as ``schema_from = None``).
    create_schema: t.ClassVar[bool] = True

    #: How the schema is made, once per database per run, outside any test's
    #: transaction: ``"models"`` (``create_all`` of ``db``'s models, which skips tables
    #: that exist), ``"migrations"`` (the app's migrations upgraded to their heads, on
    #: every bind they cover; reused between runs while the scripts are unchanged) or
    #: None. See :doc:`/migrations`.
    schema_from: t.ClassVar[str | None] = "models"

    #: The migrations directory for ``schema_from = "migrations"`` and
    #: :class:`~flask_testcase.MigrationChecks`; default: Flask-Migrate's
    #: (``Migrate(app, db, directory=...)``, ``migrations``).
    migrations_directory: t.ClassVar[str | os.PathLike[str] | None] = None

    #: A function called with no arguments once the schema of the run's databases is
    #: built (not for a reused database), in an app context whose ``db`` reaches them:
    #: reference rows every test sees, extensions, SQL files. A plain function, a
    #: ``staticmethod`` or a ``classmethod``.
    schema_hook: t.ClassVar[Callable[[], object] | None] = None

    #: Run tests (and :attr:`create_schema`) against a database whose name does not
    #: mark it as a test database (see :func:`~flask_testcase.is_test_database`).
    #: Without it such a database is refused with
    #: :class:`~flask_testcase.NotATestDatabaseError` before anything touches it.
    allow_any_database: t.ClassVar[bool] = False

    #: Strict mode (Django's ``SimpleTestCase``): a test of a class without :attr:`db`
    #: may not connect to any database; a connection it (or its app) asks for raises
    #: :class:`~flask_testcase.IsolationError` naming how to ask for one. Off by
    #: default: then such a test may use test databases, unisolated. Either way every
    #: connection made during a test must reach a test database (see the database
    #: chapter, "The guard's reach").
    strict_database: t.ClassVar[bool] = False

    #: Make primary keys start from 1 in each test (after the highest id in tables
    #: that hold rows, such as class-level data), as in a fresh database, for tests
    #: that hard-code ids. Rollback alone does not reset PostgreSQL sequences or
    #: MySQL counters. Costs one statement per test on PostgreSQL and one ``ALTER
    #: TABLE`` per table per test on MySQL/MariaDB (not possible there together with
    #: :meth:`setUpTestData`); SQLite needs nothing.
    reset_sequences: t.ClassVar[bool] = False

    #: Real-commit mode (Django's ``TransactionTestCase``): the test and the app commit
    #: for real, where other connections, threads and processes see the rows (a Celery
    #: or RQ worker, a server in a subprocess, locking and isolation-level tests), and
    #: the live server serves requests concurrently, each on a connection of its own.
    #: After each test the tables it wrote are emptied, their sequences reset and the
    #: rows of :attr:`schema_hook` and :meth:`setUpTestData` put back. Slower than the
    #: default rollback (see :doc:`/real-commits`).
    real_commits: t.ClassVar[bool] = False

    #: The application under test, returned by :meth:`create_app`.
    app: flask.Flask
    #: The app's test client; each request runs in a fresh context, and each response
    #: is a :class:`~flask_testcase.RecordedResponse` with its own request's records.
    client: FlaskClient
    #: ``app.test_cli_runner()``, for invoking CLI commands.
    runner: FlaskCliRunner
    #: Every template rendered during the test, in order.
    templates: list[RenderedTemplate]
    #: Every message flashed during the test, in order.
    flashed_messages: list[FlashedMessage]

    #: The attributes each test sets on the test case (and removes afterwards); a
    #: class attribute of the same name would be hidden by them.
    _fixture_names: t.ClassVar[tuple[str, ...]] = (
        "app",
        "client",
        "runner",
        "templates",
        "flashed_messages",
    )

    def create_app(self) -> flask.Flask:
        """Return the Flask application to test. Subclasses must override it.

        It is called for each test (once per class with :attr:`app_per_class`).
        """
        cls = type(self)
        bases = ", ".join(base.__name__ for base in cls.__bases__)
        raise NotImplementedError(
            f"{cls.__name__} must define create_app() returning the Flask app to test,"
            " e.g.\n\n"
            f"    class {cls.__name__}({bases}):\n"
            f"        def create_app(self):\n"
            f"            return create_app('testing')\n"
        )

    @classmethod
    def setUpTestData(cls) -> None:
        """Create data shared by every test of the class. Override it.

        Called once per class, before the first test's ``setUp``, inside a transaction
        that stays open for the class and is rolled back after its last test; each
        test runs in a savepoint on top, so changes a test makes to this data are
        undone after that test. It runs in an app context of its own (the first
        test's app), and its session (``db.session``; the scoped sessions of a
        :class:`~flask_testcase.SQLAlchemyDatabase`) is committed after it returns. The instances
        it creates are detached afterwards: keep their primary keys (``cls.user_id =
        user.id``) and load them in the test with ``db.session.get()``. If it
        raises, the first test reports the error and the class's other tests fail
        with a pointer to it.

        While a class with this hook runs, its connections stay checked out; they
        are returned after the class.
        """

    # -- running ---------------------------------------------------------------

    def run(self, result: unittest.TestResult | None = None) -> unittest.TestResult | None:
        # The whole test runs in a copy of the caller's contextvars: whatever the
        # test leaves pushed, the runner and the next test never see it.
        def run_then_clean_up() -> unittest.TestResult | None:
            try:
                return super(TestCase, self).run(result)
            except BaseException:
                # unittest lets KeyboardInterrupt and SystemExit escape without running
                # cleanups: run them, or a database isolation stays installed and a
                # later test's writes would go to this test's connection.
                _clean_up_after_interrupt(self)
                raise

        with _setup_runs_ours_first(self):
            return contextvars.copy_context().run(run_then_clean_up)

    def debug(self) -> None:
        def debug_then_clean_up() -> None:
            # unittest's debug() leaves cleanups pending when the test raises;
            # ours must still run, in the context they were registered in.
            try:
                super(TestCase, self).debug()
            finally:
                self.doCleanups()

        with _setup_runs_ours_first(self):
            contextvars.copy_context().run(debug_then_clean_up)

    @classmethod
    def tearDownClass(cls) -> None:
        """Run the class cleanups (the per-class app, class-level database data).

        unittest, pytest and nose2 also run them after ``tearDownClass``; nose and
        pynose predate class cleanups and never do, so we run them here. A class
        that overrides ``tearDownClass`` calls ``super().tearDownClass()``.
        """
        super().tearDownClass()
        cls.doClassCleanups()
        # doClassCleanups() collects errors that unittest would report on its own
        # later call (which nose never makes): raise the first one now.
        errors = _internals.take_class_cleanup_errors(cls)
        if errors:
            raise errors[0][1]

    # -- the environment ----------------------------------------------------------

    def _make_app(self) -> flask.Flask:
        app = self.create_app()
        if not isinstance(app, flask.Flask):
            hint = " Did create_app() forget to return it?" if app is None else ""
            raise TypeError(
                f"{type(self).__name__}.create_app() must return a flask.Flask instance,"
                f" got {app!r} ({type(app).__name__}).{hint}"
            )
        return app

    def _get_app(self) -> flask.Flask:
        cls = type(self)
        if not cls.app_per_class:
            return self._make_app()
        app: flask.Flask | None = cls.__dict__.get(_CLASS_APP)
        if app is None:
            app = self._make_app()
            setattr(cls, _CLASS_APP, app)
            cls.addClassCleanup(delattr, cls, _CLASS_APP)
        return app

    def _environment_settings(self) -> Settings:
        """What this test asks of its environment; subclasses add their features."""
        cls = type(self)
        name = cls.__name__
        database = None
        class_data = None
        if cls.db is not None:
            database = DatabaseSettings(
                cls.db,
                create_schema=cls.create_schema,
                schema_from=cls.schema_from,
                migrations_directory=cls.migrations_directory,
                # Read from the class: a plain function stays unbound.
                schema_hook=cls.schema_hook,
                allow_any_database=cls.allow_any_database,
                reset_sequences=cls.reset_sequences,
                real_commits=cls.real_commits,
                label=f"{name}.db",
                opt_in=f"set allow_any_database = True on {name}",
            )
            if _has_class_data(cls):
                class_data = _class_data(cls)
        return Settings(
            owner=f"{name}.{self._testMethodName}",
            config_overrides=[override.settings for override in cls.config_overrides],
            render_templates=cls.render_templates,
            database=database,
            class_data=class_data,
            allow_any_database=cls.allow_any_database,
            guard_opt_in=f"set allow_any_database = True on {name}",
            refuse_connections=cls.strict_database,
            ask_for_database=(
                f"set db on {name} (the app's database, isolated), or strict_database ="
                f" False on {name}"
            ),
            include_database=(
                f"give every stack the app uses as a tuple ({name}.db = (db,"
                " SQLAlchemyDatabase(engine, Base.metadata)))"
            ),
        )

    def _pre_setup(self) -> None:
        """Build the test's environment; it registers its undo as one cleanup, and
        each of its steps undoes what it did if a later one fails."""
        _check_names_are_free(type(self))
        if self.run_gc_after_test:
            self.addCleanup(gc.collect)
        self.addCleanup(self._forget_fixtures)
        settings = self._environment_settings()
        # Before the app is made, after everything is undone (cleanups run last first).
        guard = guard_connections(settings)
        guard.__enter__()
        self.addCleanup(guard.__exit__, None, None, None)
        env = open_environment(self._get_app(), settings)
        self.addCleanup(env.close)
        self._use_environment(env)

    def _use_environment(self, env: TestEnvironment) -> None:
        """Expose what ``env`` built as attributes of the test case."""
        self._environment = env
        self.app = env.app
        self.client = env.client
        self.runner = env.runner
        self.templates = env.templates
        self.flashed_messages = env.flashed_messages

    @property
    def testapp(self) -> TestApp:
        """A :class:`flask_testcase.webtest.TestApp` (WebTest, with per-response records)
        of :attr:`app`, made when first read in a test and forgotten after it; its
        requests are recorded and isolated like :attr:`client`'s. Needs WebTest
        (``pip install 'flask-testcase[webtest]'``). Assigning one of your own
        replaces it for the test."""
        if _TESTAPP not in vars(self):
            from .webtest import TestApp

            self.testapp = TestApp(self.app)
        testapp: TestApp = vars(self)[_TESTAPP]
        return testapp

    @testapp.setter
    def testapp(self, value: t.Any) -> None:
        vars(self)[_TESTAPP] = value
        self.addCleanup(vars(self).pop, _TESTAPP, None)

    def _forget_fixtures(self) -> None:
        # Runners keep finished test cases alive (pytest until the session ends, a
        # failure's traceback holds ``self``); dropping these lets the app go.
        for name in (*self._fixture_names, "_environment"):
            vars(self).pop(name, None)

    # -- what the assertion mixins read --------------------------------------------

    @property
    def _isolation(self) -> DatabaseIsolation | None:
        env: TestEnvironment | None = vars(self).get("_environment")
        return None if env is None else env.isolation

    @property
    def _outbox(self) -> list[t.Any] | None:
        env: TestEnvironment | None = vars(self).get("_environment")
        return None if env is None else env.outbox

    @property
    def _tasks(self) -> list[t.Any] | None:
        env: TestEnvironment | None = vars(self).get("_environment")
        return None if env is None else env.tasks


def _check_names_are_free(cls: type[TestCase]) -> None:
    """Refuse a class attribute of the user's that a test's own attribute would hide
    (a Selenium driver kept in ``cls.client``, say)."""
    for name in cls._fixture_names:
        for klass in cls.__mro__:
            if name not in vars(klass):
                continue
            if klass.__module__.startswith("flask_testcase.") or vars(klass)[name] is None:
                break
            value = vars(klass)[name]
            raise TypeError(
                f"{klass.__name__}.{name} is set on the class ({value!r:.60}), and"
                f" flask_testcase.TestCase sets self.{name} for each test (the test's"
                f" {_WHAT[name]}), which would hide it. Rename the class attribute"
                f" (e.g. cls.{_RENAME.get(name, 'my_' + name)})."
            )


_WHAT = {
    "app": "app, from create_app()",
    "client": "test client",
    "runner": "CLI runner",
    "templates": "templates rendered",
    "flashed_messages": "messages flashed",
    "twill": "Twill",
    "browser": "twill browser",
}
_RENAME = {"client": "browser_driver", "browser": "web_driver", "app": "shared_app"}


def _has_class_data(cls: type[TestCase]) -> bool:
    hook = getattr(cls.setUpTestData, "__func__", None)
    return hook is not TestCase.setUpTestData.__func__  # type: ignore[attr-defined]


def _class_data(cls: type[TestCase]) -> SharedData:
    """The class's :class:`SharedData`, made for its first test and ended by a class
    cleanup."""
    data: SharedData | None = cls.__dict__.get(_CLASS_DATA)
    if data is None:
        data = SharedData(f"{cls.__name__}.setUpTestData()", cls.setUpTestData)
        setattr(cls, _CLASS_DATA, data)
        cls.addClassCleanup(_end_class_data, cls, data)
    return data


def _end_class_data(cls: type, data: SharedData) -> None:
    try:
        data.end()
    finally:
        if cls.__dict__.get(_CLASS_DATA) is data:
            delattr(cls, _CLASS_DATA)


@contextlib.contextmanager
def _setup_runs_ours_first(case: TestCase) -> Iterator[None]:
    """Shadow ``setUp`` on the instance with one that runs ``_pre_setup`` first.

    unittest then reports an error in ``create_app`` exactly like one in ``setUp``
    (skips, expected failures and cleanups included), and never calls it for a
    skipped test.
    """
    user_setup = case.setUp

    def setUp() -> None:
        case._pre_setup()
        user_setup()

    vars(case)["setUp"] = setUp
    try:
        yield
    finally:
        vars(case).pop("setUp", None)


def _clean_up_after_interrupt(case: TestCase) -> None:
    try:
        case.doCleanups()
        type(case).doClassCleanups()
    finally:
        isolation = sys.modules.get("flask_testcase.isolation")
        if isolation is not None:
            isolation.end_all()


def _replace_settings(settings: Settings, **changes: t.Any) -> Settings:
    """``settings`` with ``changes``: how a subclass adds its feature."""
    return dataclasses.replace(settings, **changes)
