"""The guard's reach (issue 19, item 1): every SQLAlchemy connection made during a test,
through either front door, reaches a test database or is refused; while a test's
isolation is active, one outside it is refused too; the strict opt-in refuses every
connection of a test that did not ask for a database. The guard is there from before
``create_app`` until the test's teardown, and gone afterwards however the test ended.

Each scenario is a real pytest run (pytester) of a ``TestCase`` class and of plugin
functions; what it left is checked afterwards from a brand-new NullPool connection.
Each failed on the code before the fix.
"""

from __future__ import annotations

import os
import sys
import tempfile
import textwrap
import typing as t

import flask_sqlalchemy  # noqa: F401 (imported by the outer run: see test_both_doors)
import pytest
import sqlalchemy as sa
from _dbs import SERVERS
from _dbs import backend_params
from _dbs import require
from _dbs import url_for

# The outer tests make and read databases not named for tests, from outside.
pytestmark = pytest.mark.allow_any_database

APP = """
import sqlalchemy as sa
from flask import Flask
from flask_sqlalchemy import SQLAlchemy

db = SQLAlchemy()
REPORTING = {}


def create_app(url, reporting=None):
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = url
    db.init_app(app)
    if reporting is not None:
        # An engine beside db, as an app makes for a reporting database.
        REPORTING["engine"] = sa.create_engine(reporting)
    return app


def write(engine):
    with engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO t (name) VALUES ('test')")


def write_session():
    db.session.execute(sa.text("INSERT INTO t (name) VALUES ('test')"))
    db.session.commit()
"""

HEADER = """
import pytest
import sqlalchemy as sa
from flask_testcase import IsolationError, NotATestDatabaseError, TestCase
from reachapp import REPORTING, create_app, db, write, write_session
"""


def run_inner(pytester: pytest.Pytester, code: str, *, passed: int, **names: t.Any) -> None:
    pytester.makepyfile(reachapp=APP)
    constants = "".join(f"{key} = {value!r}\n" for key, value in names.items())
    pytester.makepyfile(test_reach=HEADER + constants + textwrap.dedent(code))
    policies = _policies()
    before = list(policies)
    result = pytester.runpytest("-p", "no:flask", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=passed)
    # Every guard of the inner run is gone; the outer test's own is left.
    assert policies == before


def _policies() -> list[t.Any]:
    try:
        from flask_testcase.isolation import _reach
    except ImportError:  # the code before the fix, which the tests must fail on
        return []
    return _reach._policies


def fresh(url: str) -> sa.Engine:
    return sa.create_engine(url, poolclass=sa.pool.NullPool)


def rows(url: str) -> list[tuple[t.Any, ...]]:
    """The rows of ``t``, from a brand-new connection."""
    engine = fresh(url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.exec_driver_sql("SELECT id, name FROM t ORDER BY id")]
    finally:
        engine.dispose()


def make_table(url: str, *, row: bool) -> None:
    engine = fresh(url)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP TABLE IF EXISTS t")
            key = {"postgresql": "SERIAL", "sqlite": "INTEGER"}.get(
                conn.dialect.name, "INTEGER AUTO_INCREMENT"
            )
            conn.exec_driver_sql(f"CREATE TABLE t (id {key} PRIMARY KEY, name VARCHAR(20))")
            if row:
                conn.exec_driver_sql("INSERT INTO t (name) VALUES ('real')")
    finally:
        engine.dispose()


NOT_FOR_TESTS = [p for p in backend_params() if p.id in {"sqlite_file", "postgresql", "mysql"}]


@pytest.fixture
def production(request: pytest.FixtureRequest) -> t.Iterator[str]:
    """A database whose name does not mark it for tests (on SQLite a file outside the
    temporary directory), with a table ``t`` of one row; removed after the test."""
    backend = request.param
    name = f"state_production{os.getpid()}"
    if backend == "sqlite_file":
        folder = os.path.join("/var/tmp", name)
        assert not folder.startswith(tempfile.gettempdir() + os.sep)
        os.makedirs(folder, exist_ok=True)
        url = f"sqlite:///{folder}/production.db"
        make_table(url, row=True)
        try:
            yield url
        finally:
            os.remove(f"{folder}/production.db")
            os.rmdir(folder)
        return
    require(backend)
    base = sa.engine.make_url(SERVERS[backend])
    admin_url = (
        base.set(database="postgres") if backend == "postgresql" else base._replace(database=None)
    )
    admin = sa.create_engine(admin_url, poolclass=sa.pool.NullPool, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}")
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    url = base.set(database=name).render_as_string(hide_password=False)
    make_table(url, row=True)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}")
        admin.dispose()


def backend_of(url: str) -> str:
    return "sqlite_file" if url.startswith("sqlite") else sa.engine.make_url(url).get_backend_name()


# -- an engine beside db, and a test without db, on a database not for tests -----------

OUTSIDE_DB = """
class Reporting(TestCase):
    db = db

    def create_app(self):
        return create_app(URL, PRODUCTION)

    def test_the_reporting_engine_is_refused(self):
        with pytest.raises(NotATestDatabaseError, match="watches every SQLAlchemy connection"):
            write(REPORTING["engine"])


class NoDb(TestCase):
    def create_app(self):
        return create_app(PRODUCTION)

    def test_a_test_without_db_is_refused_too(self):
        with pytest.raises(NotATestDatabaseError, match="set allow_any_database = True on NoDb"):
            write_session()


@pytest.fixture
def app():
    return create_app(URL, PRODUCTION)


def test_plugin_the_reporting_engine_is_refused(app, db):
    with pytest.raises(NotATestDatabaseError, match="watches every SQLAlchemy connection"):
        write(REPORTING["engine"])


def test_plugin_a_test_without_db_is_refused_too(app):
    with pytest.raises(NotATestDatabaseError, match="@pytest.mark.allow_any_database"):
        write(REPORTING["engine"])
"""


@pytest.mark.parametrize("production", NOT_FOR_TESTS, indirect=True)
def test_a_connection_to_a_database_not_for_tests_is_refused_wherever_it_comes_from(
    pytester: pytest.Pytester, production: str
) -> None:
    url = url_for(backend_of(production), "reach")
    run_inner(pytester, OUTSIDE_DB, passed=4, URL=url, PRODUCTION=production)
    # From outside: the row that was there, and nothing else.
    assert rows(production) == [(1, "real")]


OPTED_IN = """
class Reporting(TestCase):
    allow_any_database = True

    def create_app(self):
        return create_app(PRODUCTION)

    def test_it(self):
        assert db.session.execute(sa.text("SELECT name FROM t")).scalar() == "real"
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def app():
    return create_app(URL, PRODUCTION)


@pytest.mark.allow_any_database
def test_plugin_it(app):
    with REPORTING["engine"].connect() as conn:
        assert conn.exec_driver_sql("SELECT name FROM t").scalar() == "real"
    REPORTING["engine"].dispose()
"""


@pytest.mark.parametrize("production", NOT_FOR_TESTS, indirect=True)
def test_the_explicit_opt_in_lets_it_through(pytester: pytest.Pytester, production: str) -> None:
    url = url_for(backend_of(production), "reach")
    run_inner(pytester, OPTED_IN, passed=2, URL=url, PRODUCTION=production)
    assert rows(production) == [(1, "real")]


# -- another test database, outside the test's isolation -------------------------------

OTHER_TEST_DATABASE = """
class Other(TestCase):
    db = db

    def create_app(self):
        return create_app(URL, OTHER)

    def test_it(self):
        with pytest.raises(IsolationError, match=r"set db|Other.db = \\(db, SQLAlchemyDatabase"):
            write(REPORTING["engine"])


@pytest.fixture
def app():
    return create_app(URL, OTHER)


def test_plugin_it(app, db):
    with pytest.raises(IsolationError, match="a db fixture of your own, as a tuple"):
        write(REPORTING["engine"])
"""


@pytest.mark.parametrize("backend", backend_params())
def test_another_test_database_outside_the_isolation_is_refused_naming_how_to_include_it(
    pytester: pytest.Pytester, backend: str
) -> None:
    url = url_for(backend, "reach")
    other = url_for(backend, "reach_other")
    if other != "sqlite://":
        make_table(other, row=False)
    run_inner(pytester, OTHER_TEST_DATABASE, passed=2, URL=url, OTHER=other)
    if other != "sqlite://":
        assert rows(other) == []


# -- strict mode ------------------------------------------------------------------------

STRICT = """
class Strict(TestCase):
    strict_database = True

    def create_app(self):
        return create_app(URL)

    def test_it(self):
        with pytest.raises(IsolationError, match="did not ask for a database.*set db on Strict"):
            db.session.execute(sa.text("SELECT 1"))


class Asked(TestCase):
    strict_database = True
    db = db

    def create_app(self):
        return create_app(URL)

    def test_it(self):
        assert db.session.execute(sa.text("SELECT 1")).scalar() == 1


@pytest.fixture
def app():
    return create_app(URL)


def test_plugin_refused(app):
    with pytest.raises(IsolationError, match="did not ask for a database.*use the db fixture"):
        db.session.execute(sa.text("SELECT 1"))


def test_plugin_refused_without_app():
    engine = sa.create_engine(URL)
    with pytest.raises(IsolationError, match="did not ask for a database"):
        engine.connect()


def test_plugin_asked(db):
    assert db.session.execute(sa.text("SELECT 1")).scalar() == 1


@pytest.mark.strict_database(False)
def test_plugin_let_off(app):
    assert db.session.execute(sa.text("SELECT 1")).scalar() == 1
    db.session.remove()
    db.engine.dispose()
"""


@pytest.mark.parametrize("backend", backend_params())
def test_strict_mode_refuses_every_connection_of_a_test_that_did_not_ask(
    pytester: pytest.Pytester, backend: str
) -> None:
    pytester.makeini("[pytest]\nflask_strict_database = true\n")
    run_inner(pytester, STRICT, passed=6, URL=url_for(backend, "reach"))


# -- gone after the test, however it ended ------------------------------------------------

RAISING = """
import atexit, sys, unittest
import sqlalchemy as sa
from flask import Flask
from flask_testcase import TestCase
from flask_testcase.isolation import _reach

sa.create_engine("sqlite://")  # SQLAlchemy imported: the guard listens during a test
seen = []


class Probe(TestCase):
    def create_app(self):
        seen.append(_reach.listening())
        return Flask(__name__)


class CreateAppRaises(Probe):
    def create_app(self):
        super().create_app()
        raise RuntimeError("create_app")

    def test_it(self):
        pass


class SetUpRaises(Probe):
    def setUp(self):
        raise RuntimeError("setUp")

    def test_it(self):
        pass


class TestRaises(Probe):
    def test_it(self):
        raise RuntimeError("test")


class TearDownRaises(Probe):
    def tearDown(self):
        raise RuntimeError("tearDown")

    def test_it(self):
        pass


result = unittest.main(module=__name__, exit=False, verbosity=0).result
print("ERRORS", len(result.errors), "SEEN", seen, "AFTER", _reach.listening(), _reach._policies)
"""

PYTEST_RAISING = """
import pytest
import sqlalchemy as sa
from flask import Flask
from flask_testcase.isolation import _reach

seen = []


@pytest.fixture
def app():
    seen.append(_reach.listening())
    return Flask(__name__)


@pytest.fixture
def broken(app):
    raise RuntimeError("fixture")


@pytest.fixture
def broken_app():
    raise RuntimeError("app")


def test_app_raises(broken_app, app):
    pass


def test_fixture_raises(broken):
    pass


def test_body_raises(app):
    raise RuntimeError("test")


def test_last(app):
    pass


def pytest_sessionfinish():
    pass
"""

PYTEST_CONFTEST = """
from flask_testcase.isolation import _reach


def pytest_unconfigure(config):
    print("AFTER", _reach.listening(), _reach._policies)
"""


def test_the_guard_is_removed_however_a_test_case_ends(pytester: pytest.Pytester) -> None:
    script = pytester.makepyfile(raising=RAISING)
    result = pytester.run(sys.executable, str(script))
    line = next(line for line in result.outlines if line.startswith("ERRORS"))
    # Four errors, the guard listening while each app was made, and gone after.
    assert line == "ERRORS 4 SEEN [True, True, True, True] AFTER False []", result.outlines


def test_the_guard_is_removed_however_a_plugin_test_ends(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(PYTEST_CONFTEST)
    pytester.makepyfile(test_raising=PYTEST_RAISING)
    result = pytester.runpytest_subprocess("-p", "no:flask", "-p", "no:cacheprovider", "-s")
    result.assert_outcomes(passed=1, failed=1, errors=2)
    assert "AFTER False []" in result.outlines, result.outlines
