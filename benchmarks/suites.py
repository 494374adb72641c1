"""The same tests, written the way each harness's users write them.

Every suite is built for a given number of tests, spread over test classes of
:data:`TESTS_PER_CLASS` tests each (a class per feature, as real suites are laid out),
so that per-class work (an app made once per class) is paid as often as it would be.

Three kinds of test, each written once per harness:

- *one request*: ``GET /about`` (a template with inheritance) and check status and body;
- *database*: ``POST`` a row to one of the 20 tables through the app, follow the
  redirect and read it back (two requests), with the database isolated per test; the
  same on the 26-table schema of :mod:`benchmarks.schema_app`, built by migrations;
- *live server*: one HTTP request over a socket to the app served by a live server.

A *skip* suite measures what a test skipped with ``@unittest.skip`` costs.
"""

from __future__ import annotations

import contextlib
import logging
import typing as t
import unittest
import urllib.request

import flask
import sqlalchemy as sa
import sqlalchemy.orm as sa_orm

from .app import MODELS
from .app import create_app
from .app import db

if t.TYPE_CHECKING:
    from collections.abc import Callable
    from collections.abc import Iterator

__all__ = ["KINDS", "TESTS_PER_CLASS", "SuiteFactory", "build_suite"]

#: Tests in each generated test class.
TESTS_PER_CLASS = 10

#: The tables the database tests write to, one per test class in turn.
KINDS = sorted(MODELS)

#: Builds a :class:`unittest.TestSuite` of ``n`` tests.
SuiteFactory = t.Callable[[int], unittest.TestSuite]


def build_suite(
    base: type[unittest.TestCase],
    body: Callable[[t.Any], None],
    n: int,
    per_class: int = TESTS_PER_CLASS,
    kinds: t.Sequence[str] = KINDS,
    **attrs: t.Any,
) -> unittest.TestSuite:
    """Return a suite of ``n`` tests running ``body``, in subclasses of ``base``.

    :param base: the harness's test case class.
    :param body: the test method, shared by every test.
    :param n: how many tests.
    :param per_class: tests per generated class.
    :param kinds: the tables the classes' tests write to, one per class in turn.
    :param attrs: more class attributes for every generated class.
    """
    suite = unittest.TestSuite()
    loader = unittest.TestLoader()
    for k, start in enumerate(range(0, n, per_class)):
        names = {f"test_{i:05d}": body for i in range(start, min(n, start + per_class))}
        cls = type(
            f"{base.__name__}_{k:03d}",
            (base,),
            {**names, "kind": kinds[k % len(kinds)], "__module__": base.__module__, **attrs},
        )
        suite.addTests(loader.loadTestsFromTestCase(cls))
    return suite


# -- the test bodies ------------------------------------------------------------------


def one_request(self: t.Any) -> None:
    response = self.client.get("/about")
    self.assertEqual(response.status_code, 200)
    self.assertIn(b"<h1>About</h1>", response.data)


def post_and_read_back(self: t.Any) -> None:
    name = f"{self.kind} {self._testMethodName}"
    response = self.client.post(f"/{self.kind}/", data={"name": name})
    # Flask's redirect() answers 302 up to 3.1 and 303 from 3.2.
    self.assertIn(response.status_code, (302, 303))
    response = self.client.get(response.location)
    self.assertEqual(response.status_code, 200)
    self.assertIn(name.encode(), response.data)


def pytest_post_and_read_back(client: t.Any, i: int, kinds: t.Sequence[str] = KINDS) -> None:
    """:func:`post_and_read_back` for the pytest suites: test ``i`` of a run, writing to
    the next table every :data:`TESTS_PER_CLASS` tests as the unittest classes do."""
    kind = kinds[i // TESTS_PER_CLASS % len(kinds)]
    name = f"{kind} {i:05d}"
    response = client.post(f"/{kind}/", data={"name": name})
    assert response.status_code in (302, 303)  # 303 from Flask 3.2
    response = client.get(response.location)
    assert response.status_code == 200
    assert name.encode() in response.data


def live_request(self: t.Any) -> None:
    with urllib.request.urlopen(self.get_server_url() + "/about", timeout=10) as response:
        self.assertEqual(response.status, 200)
        self.assertIn(b"<h1>About</h1>", response.read())


def skipped(self: t.Any) -> None:
    raise AssertionError("a skipped test ran")


# -- one request -----------------------------------------------------------------------


class FloorCase(unittest.TestCase):
    """Plain unittest, one app and one test client per class: the floor."""

    app: t.ClassVar[flask.Flask]
    client: t.ClassVar[flask.testing.FlaskClient]

    @classmethod
    def setUpClass(cls) -> None:
        cls.app = create_app()
        cls.client = cls.app.test_client()

    @classmethod
    def tearDownClass(cls) -> None:
        del cls.app, cls.client


class SetUpCase(unittest.TestCase):
    """Plain unittest, the app made in ``setUp``."""

    def setUp(self) -> None:
        self.app = create_app()
        self.client = self.app.test_client()

    def tearDown(self) -> None:
        del self.app, self.client


def flask_testing_case() -> type[unittest.TestCase]:
    import flask_testing

    class FlaskTestingCase(flask_testing.TestCase):  # type: ignore[misc]
        def create_app(self) -> flask.Flask:
            return create_app()

    return FlaskTestingCase


def flask_testcase_case(per_class: bool) -> type[unittest.TestCase]:
    import flask_testcase

    class FlaskTestCaseCase(flask_testcase.TestCase):
        app_per_class = per_class

        def create_app(self) -> flask.Flask:
            return create_app()

    return FlaskTestCaseCase


def request_suites() -> dict[str, SuiteFactory]:
    """The one-request suites, by harness name."""
    return {
        "floor": lambda n: build_suite(FloorCase, one_request, n),
        "unittest_setup": lambda n: build_suite(SetUpCase, one_request, n),
        "flask_testing": lambda n: build_suite(flask_testing_case(), one_request, n),
        "flask_testcase": lambda n: build_suite(flask_testcase_case(False), one_request, n),
        "flask_testcase_per_class": lambda n: build_suite(
            flask_testcase_case(True), one_request, n
        ),
    }


# -- skipped tests ---------------------------------------------------------------------


class _CountingApps:
    """Counts ``create_app()`` calls, to prove a skipped test builds nothing."""

    calls = 0

    def create_app(self) -> flask.Flask:
        type(self).calls += 1
        return create_app()


def skip_suites() -> dict[str, SuiteFactory]:
    import flask_testcase

    class UnittestSkip(unittest.TestCase):
        pass

    class FlaskTestCaseSkip(_CountingApps, flask_testcase.TestCase):  # type: ignore[misc]
        pass

    body = unittest.skip("benchmark")(skipped)
    return {
        "unittest_skip": lambda n: build_suite(UnittestSkip, body, n),
        "flask_testcase_skip": lambda n: build_suite(FlaskTestCaseSkip, body, n),
    }


def apps_created_by_skipped_tests() -> int:
    return _CountingApps.calls


# -- database --------------------------------------------------------------------------


def app_ctx_id() -> int:
    return id(flask.globals.app_ctx._get_current_object())  # type: ignore[attr-defined]


def sqlite_savepoints(engine: sa.Engine) -> None:
    """The SQLAlchemy docs' fix for pysqlite, whose own transaction handling breaks
    SAVEPOINT: let SQLAlchemy emit BEGIN itself."""

    @sa.event.listens_for(engine, "connect")
    def do_connect(dbapi_connection: t.Any, connection_record: t.Any) -> None:
        dbapi_connection.isolation_level = None

    @sa.event.listens_for(engine, "begin")
    def do_begin(connection: sa.Connection) -> None:
        connection.exec_driver_sql("BEGIN")


def database_suites(uri: str) -> dict[str, SuiteFactory]:
    """The database suites against ``uri`` on the 20-table app, by harness name: on
    Flask-SQLAlchemy, and on the other stacks (:func:`_stack_suites`)."""
    return {**_database_suites(uri, create_app, db, KINDS), **_stack_suites(uri)}


def _database_suites(
    uri: str, make_app: Callable[..., flask.Flask], the_db: t.Any, kinds: t.Sequence[str]
) -> dict[str, SuiteFactory]:
    """The database harnesses for the app ``make_app(uri)``, whose Flask-SQLAlchemy is
    ``the_db``; the tests write to ``kinds``."""

    class DropAllCase(unittest.TestCase):
        """The pattern Flask tutorials teach: a fresh app and schema for every test."""

        def setUp(self) -> None:
            self.app = make_app(uri)
            self.app_context = self.app.app_context()
            self.app_context.push()
            the_db.create_all()
            self.client = self.app.test_client()

        def tearDown(self) -> None:
            the_db.session.remove()
            the_db.drop_all()
            # Without this each test's pool keeps a connection open until the cyclic
            # garbage collector frees the app, and PostgreSQL runs out of connections.
            the_db.engine.dispose()
            self.app_context.pop()
            del self.app, self.app_context, self.client

    class RollbackRecipeCase(unittest.TestCase):
        """The SQLAlchemy docs' "join a session into an external transaction" recipe,
        written by hand as a per-class fixture (app made once per class): one
        connection, one outer transaction, sessions joined on savepoints. The schema is
        made once per database (an in-memory SQLite database is one per engine)."""

        app: t.ClassVar[flask.Flask]
        engine: t.ClassVar[sa.Engine]

        @classmethod
        def setUpClass(cls) -> None:
            cls.app = make_app(uri)
            with cls.app.app_context():
                cls.engine = the_db.engine
                if cls.engine.dialect.name == "sqlite":
                    sqlite_savepoints(cls.engine)
                schema_once(cls.engine, the_db.metadata)

        @classmethod
        def tearDownClass(cls) -> None:
            cls.engine.dispose()
            del cls.app, cls.engine

        def setUp(self) -> None:
            self.connection = self.engine.connect()
            self.transaction = self.connection.begin()
            # Flask-SQLAlchemy 3.1's Session.get_bind ignores a bind given to the
            # session, so the app's db.session is swapped for a plain SQLAlchemy
            # session on the test's connection, scoped per app context like the
            # original (each request gets its own, removed when the request ends).
            self.original_session = the_db.session
            the_db.session = sa_orm.scoped_session(
                sa_orm.sessionmaker(
                    bind=self.connection,
                    join_transaction_mode="create_savepoint",
                    query_cls=the_db.Query,
                ),
                scopefunc=app_ctx_id,
            )
            self.client = self.app.test_client()

        def tearDown(self) -> None:
            # Each request removed its own session when its app context ended.
            the_db.session = self.original_session
            self.transaction.rollback()
            self.connection.close()
            del self.client

    def suite(base: type[unittest.TestCase]) -> SuiteFactory:
        return lambda n: build_suite(base, post_and_read_back, n, kinds=kinds)

    return {
        "create_drop_all": suite(DropAllCase),
        "rollback_recipe": suite(RollbackRecipeCase),
        "flask_testcase": lambda n: suite(flask_testcase_db(False, make_app, the_db, uri))(n),
        "flask_testcase_per_class": lambda n: suite(flask_testcase_db(True, make_app, the_db, uri))(
            n
        ),
    }


def _stack_suites(uri: str) -> dict[str, SuiteFactory]:
    """The same tests on the 20-table app rebuilt on Flask-SQLAlchemy-Lite and on plain
    SQLAlchemy (:mod:`benchmarks.stack_app`): each stack's hand-written rollback recipe
    and flask_testcase, with ``db`` in the form each stack takes."""

    class LiteRecipeCase(unittest.TestCase):
        """The same recipe for the Flask-SQLAlchemy-Lite app, written by hand: its
        ``sessionmaker`` makes its sessions on the test's connection. (Its own
        ``db.test_isolation()`` recurses on SQLAlchemy 2.1 once app code commits.)"""

        app: t.ClassVar[flask.Flask]
        engine: t.ClassVar[sa.Engine]
        sessionmaker: t.ClassVar[t.Any]

        @classmethod
        def setUpClass(cls) -> None:
            from . import stack_app

            cls.app = stack_app.create_lite_app(uri)
            with cls.app.app_context():
                cls.engine = stack_app.lite_db.engine
                cls.sessionmaker = stack_app.lite_db.sessionmaker
            if cls.engine.dialect.name == "sqlite":
                sqlite_savepoints(cls.engine)
            stack_app.metadata.create_all(cls.engine)

        @classmethod
        def tearDownClass(cls) -> None:
            cls.engine.dispose()
            del cls.app, cls.engine, cls.sessionmaker

        def setUp(self) -> None:
            self.connection = self.engine.connect()
            self.transaction = self.connection.begin()
            self.sessionmaker.configure(
                bind=self.connection, join_transaction_mode="create_savepoint"
            )
            self.client = self.app.test_client()

        def tearDown(self) -> None:
            self.sessionmaker.configure(bind=self.engine)
            self.sessionmaker.kw.pop("join_transaction_mode", None)
            self.transaction.rollback()
            self.connection.close()
            del self.client

    class PlainRecipeCase(unittest.TestCase):
        """The SQLAlchemy docs' "join a session into an external transaction" recipe for
        the plain SQLAlchemy app, written by hand, app made once per class."""

        app: t.ClassVar[flask.Flask]
        engine: t.ClassVar[sa.Engine]

        @classmethod
        def setUpClass(cls) -> None:
            from . import stack_app

            cls.app = stack_app.create_plain_app(uri)
            cls.engine = cls.app.extensions["bench.engine"]
            if cls.engine.dialect.name == "sqlite":
                sqlite_savepoints(cls.engine)
            stack_app.metadata.create_all(cls.engine)

        @classmethod
        def tearDownClass(cls) -> None:
            cls.engine.dispose()
            del cls.app, cls.engine

        def setUp(self) -> None:
            from . import stack_app

            self.connection = self.engine.connect()
            self.transaction = self.connection.begin()
            # The app's scoped session makes its sessions on the test's connection
            # (each request removes its own when its app context ends).
            stack_app.plain_session.configure(
                bind=self.connection, join_transaction_mode="create_savepoint"
            )
            self.client = self.app.test_client()

        def tearDown(self) -> None:
            from . import stack_app

            stack_app.plain_session.remove()
            stack_app.plain_session.configure(bind=self.engine)
            stack_app.plain_session.session_factory.kw.pop("join_transaction_mode", None)
            self.transaction.rollback()
            self.connection.close()
            del self.client

    def flask_testcase_stack(kind: str, per_class: bool) -> type[unittest.TestCase]:
        """The same tests on the app built on Flask-SQLAlchemy-Lite or plain SQLAlchemy
        (:mod:`benchmarks.stack_app`), with ``db`` in the form each stack takes."""
        import flask_testcase

        from . import stack_app

        if kind == "lite":
            database: t.Any = flask_testcase.SQLAlchemyDatabase(
                stack_app.lite_db, stack_app.metadata
            )
            make = stack_app.create_lite_app
        else:
            database = flask_testcase.SQLAlchemyDatabase(
                lambda app: app.extensions["bench.engine"],
                stack_app.metadata,
                sessions=stack_app.plain_session,
            )
            make = stack_app.create_plain_app

        class FlaskTestCaseStack(flask_testcase.TestCase):
            app_per_class = per_class
            db = database

            def create_app(self) -> flask.Flask:
                return make(uri)

        FlaskTestCaseStack.__name__ = f"FlaskTestCase_{kind}"
        return FlaskTestCaseStack

    def suite(base: type[unittest.TestCase]) -> SuiteFactory:
        return lambda n: build_suite(base, post_and_read_back, n)

    lite: dict[str, SuiteFactory] = {
        "lite_rollback_recipe": suite(LiteRecipeCase),
        "flask_testcase_lite": lambda n: suite(flask_testcase_stack("lite", False))(n),
        "flask_testcase_lite_per_class": lambda n: suite(flask_testcase_stack("lite", True))(n),
    }
    plain: dict[str, SuiteFactory] = {
        "plain_rollback_recipe": suite(PlainRecipeCase),
        "flask_testcase_plain": lambda n: suite(flask_testcase_stack("plain", False))(n),
        "flask_testcase_plain_per_class": lambda n: suite(flask_testcase_stack("plain", True))(n),
    }
    # Flask-SQLAlchemy-Lite needs Python 3.10 and Flask 3: without it, its rows are left
    # out (and its targets not measured).
    from . import stack_app

    return {**(lite if stack_app.lite_db is not None else {}), **plain}


def flask_testcase_db(
    per_class: bool,
    make_app: Callable[..., flask.Flask],
    the_db: t.Any,
    uri: str,
    **options: t.Any,
) -> type[unittest.TestCase]:
    """flask_testcase's database isolation of ``the_db`` for ``make_app(uri)``.

    :param options: more class attributes (the database options of
        :class:`flask_testcase.TestCase`).
    """
    import flask_testcase

    class FlaskTestCaseDB(flask_testcase.TestCase):
        app_per_class = per_class
        db = the_db

        def create_app(self) -> flask.Flask:
            return make_app(uri)

    for name, value in options.items():
        setattr(FlaskTestCaseDB, name, value)
    return FlaskTestCaseDB


#: Engines whose database has the benchmark's schema, by URL (an in-memory SQLite
#: database is one per engine: it is keyed by the engine instead).
_SCHEMA_MADE: set[object] = set()


def schema_once(engine: sa.Engine, metadata: sa.MetaData) -> None:
    """``create_all`` once per database, as a hand-written session fixture does."""
    memory = engine.dialect.name == "sqlite" and engine.url.database in (None, "", ":memory:")
    key = id(engine) if memory else engine.url.render_as_string(hide_password=False)
    if key not in _SCHEMA_MADE:
        metadata.create_all(engine)
        _SCHEMA_MADE.add(key)


# -- the 26-table schema built by migrations ------------------------------------------


@contextlib.contextmanager
def logging_kept() -> Iterator[None]:
    """Put the process's logging back as it was: the ``env.py`` Flask-Migrate generates
    calls :func:`logging.config.fileConfig` on every migration command, which disables
    every logger that exists and adds a handler to the root logger."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    loggers = {
        name: (logger.disabled, logger.level, logger.handlers[:], logger.propagate)
        for name, logger in logging.Logger.manager.loggerDict.items()
        if isinstance(logger, logging.Logger)
    }
    try:
        yield
    finally:
        root.handlers[:], root.level = handlers, level
        for name, logger in logging.Logger.manager.loggerDict.items():
            if not isinstance(logger, logging.Logger):
                continue
            if name in loggers:
                logger.disabled, logger.level, logger.handlers[:], logger.propagate = loggers[name]
            else:
                logger.disabled = False


#: The switch of issue 21 (the schema built by running the app's migrations once per
#: database per run), as set on a TestCase: ``schema_from = "migrations"``. The
#: harnesses that use it are "not available yet" until flask_testcase has it; if the
#: feature lands under another name, change it here.
MIGRATIONS_SWITCH = ("schema_from", "migrations")

#: The switch of issue 23 (real-commit mode: commits are real, the tables written are
#: emptied afterwards), as set on a TestCase: ``real_commits = True``.
REAL_COMMIT_SWITCH: tuple[str, t.Any] | None = ("real_commits", True)


def schema_suites(uri: str) -> dict[str, SuiteFactory]:
    """The suites on the 26-table schema (:mod:`benchmarks.schema_app`) against ``uri``,
    by harness name: the peers and floors (create_all/drop_all per test, migrating per
    test, the hand-written rollback recipe) and flask_testcase's isolation."""
    from . import schema_app

    make_app, the_db, kinds = schema_app.create_app, schema_app.db, schema_app.KINDS

    class MigrateCase(unittest.TestCase):
        """Migrating per test, as some suites do: ``upgrade`` to head in ``setUp``,
        ``downgrade`` to base in ``tearDown``, through Flask-Migrate."""

        def setUp(self) -> None:
            import flask_migrate

            self.app = make_app(uri)
            self.app_context = self.app.app_context()
            self.app_context.push()
            with logging_kept():
                flask_migrate.upgrade()
            self.client = self.app.test_client()

        def tearDown(self) -> None:
            import flask_migrate

            the_db.session.remove()
            with logging_kept():
                flask_migrate.downgrade(revision="base")
            the_db.engine.dispose()
            self.app_context.pop()
            del self.app, self.app_context, self.client

    def ours(per_class: bool, switch: tuple[str, t.Any] | None, feature: str) -> SuiteFactory:
        def factory(n: int) -> unittest.TestSuite:
            import flask_testcase

            if switch is None or not hasattr(flask_testcase.TestCase, switch[0]):
                raise NotImplementedError(f"{feature} is not built yet")
            base = flask_testcase_db(per_class, make_app, the_db, uri, **dict([switch]))
            return build_suite(base, post_and_read_back, n, kinds=kinds)

        return factory

    return {
        **_database_suites(uri, make_app, the_db, kinds),
        "migrate_per_test": lambda n: build_suite(MigrateCase, post_and_read_back, n, kinds=kinds),
        # The schema built from the migrations by flask_testcase (issue 21).
        "flask_testcase_migrations": ours(True, MIGRATIONS_SWITCH, "schema from migrations"),
        # Real-commit mode (issue 23).
        "flask_testcase_real_commit": ours(True, REAL_COMMIT_SWITCH, "real-commit mode"),
    }


def count_rows(uri: str, metadata: sa.MetaData | None = None) -> int:
    """Rows in every table of ``metadata`` (the 20-table app's by default), counted on a
    fresh connection: after an isolated suite this must be 0, whatever the tests did."""
    engine = sa.create_engine(uri, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            inspector = sa.inspect(connection)
            total = 0
            for table in (db.metadata if metadata is None else metadata).sorted_tables:
                if inspector.has_table(table.name):
                    total += connection.scalar(sa.select(sa.func.count()).select_from(table))
            return total
    finally:
        engine.dispose()


# -- live server -----------------------------------------------------------------------


def live_server_suites() -> dict[str, SuiteFactory]:
    import flask_testing

    class FlaskTestingLive(flask_testing.LiveServerTestCase):  # type: ignore[misc]
        def create_app(self) -> flask.Flask:
            # Port 0: the OS picks a free port, so runs never collide.
            return create_app(LIVESERVER_PORT=0)

    suites: dict[str, SuiteFactory] = {
        "flask_testing_live": lambda n: build_suite(FlaskTestingLive, live_request, n),
    }
    with contextlib.suppress(ImportError):
        from flask_testcase import LiveServerTestCase  # type: ignore[attr-defined]

        class FlaskTestCaseLive(LiveServerTestCase):  # type: ignore[misc]
            def create_app(self) -> flask.Flask:
                return create_app()

        class FlaskTestCaseLivePerClass(FlaskTestCaseLive):
            app_per_class = True

        suites["flask_testcase_live"] = lambda n: build_suite(FlaskTestCaseLive, live_request, n)
        suites["flask_testcase_live_per_class"] = lambda n: build_suite(
            FlaskTestCaseLivePerClass, live_request, n
        )
    return suites
