"""The same tests, written the way each harness's users write them.

Every suite is built for a given number of tests, spread over test classes of
:data:`TESTS_PER_CLASS` tests each (a class per feature, as real suites are laid out),
so that per-class work (an app made once per class) is paid as often as it would be.

Three kinds of test, each written once per harness:

- *one request*: ``GET /about`` (a template with inheritance) and check status and body;
- *database*: ``POST`` a row to one of the 20 tables through the app, follow the
  redirect and read it back (two requests), with the database isolated per test;
- *live server*: one HTTP request over a socket to the app served by a live server.

A *skip* suite measures what a test skipped with ``@unittest.skip`` costs.
"""

from __future__ import annotations

import contextlib
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
    **attrs: t.Any,
) -> unittest.TestSuite:
    """Return a suite of ``n`` tests running ``body``, in subclasses of ``base``.

    :param base: the harness's test case class.
    :param body: the test method, shared by every test.
    :param n: how many tests.
    :param per_class: tests per generated class.
    :param attrs: more class attributes for every generated class.
    """
    suite = unittest.TestSuite()
    loader = unittest.TestLoader()
    for k, start in enumerate(range(0, n, per_class)):
        names = {f"test_{i:05d}": body for i in range(start, min(n, start + per_class))}
        cls = type(
            f"{base.__name__}_{k:03d}",
            (base,),
            {**names, "kind": KINDS[k % len(KINDS)], "__module__": base.__module__, **attrs},
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


def _app_ctx_id() -> int:
    return id(flask.globals.app_ctx._get_current_object())  # type: ignore[attr-defined]


def _sqlite_savepoints(engine: sa.Engine) -> None:
    """The SQLAlchemy docs' fix for pysqlite, whose own transaction handling breaks
    SAVEPOINT: let SQLAlchemy emit BEGIN itself."""

    @sa.event.listens_for(engine, "connect")
    def do_connect(dbapi_connection: t.Any, connection_record: t.Any) -> None:
        dbapi_connection.isolation_level = None

    @sa.event.listens_for(engine, "begin")
    def do_begin(connection: sa.Connection) -> None:
        connection.exec_driver_sql("BEGIN")


def database_suites(uri: str) -> dict[str, SuiteFactory]:
    """The database suites against ``uri``, by harness name."""

    class DropAllCase(unittest.TestCase):
        """The pattern Flask tutorials teach: a fresh app and schema for every test."""

        def setUp(self) -> None:
            self.app = create_app(uri)
            self.app_context = self.app.app_context()
            self.app_context.push()
            db.create_all()
            self.client = self.app.test_client()

        def tearDown(self) -> None:
            db.session.remove()
            db.drop_all()
            # Without this each test's pool keeps a connection open until the cyclic
            # garbage collector frees the app, and PostgreSQL runs out of connections.
            db.engine.dispose()
            self.app_context.pop()
            del self.app, self.app_context, self.client

    class RollbackRecipeCase(unittest.TestCase):
        """The SQLAlchemy docs' "join a session into an external transaction" recipe,
        written by hand as a per-class fixture (app made once per class)."""

        app: t.ClassVar[flask.Flask]
        engine: t.ClassVar[sa.Engine]

        @classmethod
        def setUpClass(cls) -> None:
            cls.app = create_app(uri)
            with cls.app.app_context():
                cls.engine = db.engine
                if cls.engine.dialect.name == "sqlite":
                    _sqlite_savepoints(cls.engine)
                db.create_all()

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
            self.original_session = db.session
            db.session = sa_orm.scoped_session(
                sa_orm.sessionmaker(
                    bind=self.connection,
                    join_transaction_mode="create_savepoint",
                    query_cls=db.Query,
                ),
                scopefunc=_app_ctx_id,
            )
            self.client = self.app.test_client()

        def tearDown(self) -> None:
            # Each request removed its own session when its app context ended.
            db.session = self.original_session
            self.transaction.rollback()
            self.connection.close()
            del self.client

    def flask_testcase_db(per_class: bool) -> type[unittest.TestCase]:
        import flask_testcase

        class FlaskTestCaseDB(flask_testcase.TestCase):
            app_per_class = per_class
            db = db

            def create_app(self) -> flask.Flask:
                return create_app(uri)

        return FlaskTestCaseDB

    return {
        "create_drop_all": lambda n: build_suite(DropAllCase, post_and_read_back, n),
        "rollback_recipe": lambda n: build_suite(RollbackRecipeCase, post_and_read_back, n),
        "flask_testcase": lambda n: build_suite(flask_testcase_db(False), post_and_read_back, n),
        "flask_testcase_per_class": lambda n: build_suite(
            flask_testcase_db(True), post_and_read_back, n
        ),
    }


def count_rows(uri: str) -> int:
    """Rows in all 20 tables, counted on a fresh connection: after an isolated suite
    this must be 0, whatever the tests did."""
    engine = sa.create_engine(uri, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            inspector = sa.inspect(connection)
            total = 0
            for table in db.metadata.sorted_tables:
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
