"""Isolation for every way a Flask app talks to SQL (issue 20): Flask-SQLAlchemy-Lite
and plain SQLAlchemy (an engine and scoped session made at import time, or an engine
made in ``create_app``), on SQLite (memory and file), PostgreSQL and MariaDB, through
``TestCase`` (inner classes run through a real ``unittest`` result) and the pytest
plugin (pytester, ``-p no:flask``).

Isolation is proven from outside: after the inner run, rows are counted on a brand-new
NullPool connection (in memory, on the run's one connection, checked to be outside any
transaction) and the pool is checked to have every connection back.
"""

from __future__ import annotations

import json
import textwrap
import typing as t
import unittest
import urllib.request

import pytest
import sqlalchemy as sa
from _dbs import backend_params
from _dbs import url_for
from _stack_apps import NEW
from _stack_apps import load
from _stack_apps import source
from flask import Flask

from flask_testcase import IsolationError
from flask_testcase import LiveServerTestCase
from flask_testcase import NotATestDatabaseError
from flask_testcase import TestCase
from flask_testcase._stacks import stack_for
from flask_testcase.isolation._registry import databases as run_databases
from flask_testcase.isolation._registry import index

#: (stack, backend) pairs the tests run: every new stack on every backend.
STACKS = [pytest.param(kind, id=kind) for kind in NEW]


@pytest.fixture(params=STACKS)
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(params=backend_params())
def url(request: pytest.FixtureRequest) -> str:
    return url_for(request.param, "stacks")


@pytest.fixture
def app_module(kind: str, url: str) -> t.Any:
    return load(kind, url)


def run(case: type[unittest.TestCase]) -> unittest.TestResult:
    suite = unittest.defaultTestLoader.loadTestsFromTestCase(case)
    result = unittest.TestResult()
    suite.run(result)
    return result


def problems(result: unittest.TestResult) -> list[str]:
    return [text for _, text in result.errors + result.failures]


def make_case(module: t.Any, base: type[TestCase] = TestCase, **members: t.Any) -> type[TestCase]:
    def create_app(self: TestCase) -> Flask:
        return t.cast(Flask, module.create_app())

    return type("Inner", (base,), {"db": module.DATABASE, "create_app": create_app, **members})


def home(module: t.Any, url: str) -> sa.Engine:
    """The run's engine of the module's in-memory database."""
    stack = stack_for(module.DATABASE)
    key = None if module.DATABASE.__class__.__module__.startswith("flask_sqlalchemy") else "default"
    return run_databases[index(sa.make_url(url), stack, key)].engine


def fresh_count(module: t.Any, url: str, table: str = "stack_item") -> int:
    """Rows in ``table`` seen from outside any test transaction."""
    query = sa.text(f"SELECT count(*) FROM {table}")
    if url == "sqlite://":
        with home(module, url).connect() as conn:
            assert not conn.connection.driver_connection.in_transaction
            return int(conn.scalar(query))
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            return int(conn.scalar(query))
    finally:
        engine.dispose()


def assert_nothing_left(module: t.Any, url: str) -> None:
    if url == "sqlite://":
        pool = home(module, url).pool
        if hasattr(pool, "checkedout"):
            assert pool.checkedout() == 0, pool.status()
    assert fresh_count(module, url) == 0, "rows left in stack_item"


# -- TestCase ----------------------------------------------------------------------------


class TestEveryStackThroughTestCase:
    def test_every_way_of_writing_is_rolled_back(self, app_module: t.Any, url: str) -> None:
        m = app_module

        def test_1_write(self: TestCase) -> None:
            s = m.session()
            s.add(m.Item(name="body"))
            s.commit()
            self.assertEqual(self.client.post("/items", data={"name": "view"}).text, "2")
            self.assertEqual(self.client.post("/rollback").text, "2")
            self.assertEqual(self.client.post("/nested").text, "3")
            self.assertEqual(self.client.post("/thread").json, {"errors": [], "count": 4})
            self.assertEqual(self.client.post("/raw").text, "5")
            with m.engine().begin() as conn:
                conn.execute(sa.insert(m.Item).values(name="begin"))
            self.assertEqual(self.runner.invoke(args=["add-item"]).exit_code, 0)
            self.assertEqual(m.count(), 7)

        def test_2_then_empty(self: TestCase) -> None:
            self.assertEqual(m.count(), 0)
            self.assertEqual(self.client.get("/count").text, "0")

        result = run(make_case(m, test_1_write=test_1_write, test_2_then_empty=test_2_then_empty))
        assert problems(result) == []
        assert result.testsRun == 2
        assert_nothing_left(m, url)

    def test_class_data_is_fresh_in_each_test_and_gone_after(
        self, kind: str, app_module: t.Any, url: str
    ) -> None:
        m = app_module

        def setUpTestData(cls: type[TestCase]) -> None:
            s = m.session()
            s.add_all([m.Item(name="ada"), m.Item(name="grace")])
            if kind == "plain_factory":
                # No scoped session to commit for it: the hook commits its own.
                s.commit()

        def test_1_changes(self: TestCase) -> None:
            self.assertEqual(m.count(), 2)
            s = m.session()
            s.execute(sa.delete(m.Item).where(m.Item.name == "ada"))
            s.commit()
            self.client.post("/items", data={"name": "new"})
            self.assertEqual(m.count(), 2)

        def test_2_sees_them_again(self: TestCase) -> None:
            self.assertEqual(self.client.get("/items").json, ["ada", "grace"])

        case = make_case(
            m,
            setUpTestData=classmethod(setUpTestData),
            test_1_changes=test_1_changes,
            test_2_sees_them_again=test_2_sees_them_again,
        )
        result = run(case)
        assert problems(result) == []
        assert_nothing_left(m, url)

    def test_assert_num_queries_counts_the_apps_statements(
        self, app_module: t.Any, url: str
    ) -> None:
        m = app_module

        def test_it(self: TestCase) -> None:
            with self.assertNumQueries(2):  # the INSERT and the count
                self.client.post("/items", data={"name": "counted"})
            with self.assertRaises(AssertionError) as caught, self.assertNumQueries(0):
                self.client.get("/count")
            self.assertIn("1 != 0 : 1 queries executed, 0 expected", str(caught.exception))

        result = run(make_case(m, test_it=test_it))
        assert problems(result) == []
        assert_nothing_left(m, url)

    def test_reset_sequences_starts_ids_from_one(self, app_module: t.Any, url: str) -> None:
        m = app_module
        seen: list[t.Any] = []

        def test_1(self: TestCase) -> None:
            self.client.post("/items", data={"name": "a"})
            self.client.post("/items", data={"name": "b"})
            seen.append(self.client.get("/ids").json)

        def test_2(self: TestCase) -> None:
            self.client.post("/items", data={"name": "c"})
            seen.append(self.client.get("/ids").json)

        result = run(make_case(m, reset_sequences=True, test_1=test_1, test_2=test_2))
        assert problems(result) == []
        assert seen == [[1, 2], [1]]
        assert_nothing_left(m, url)

    def test_commit_as_sql_is_refused(self, app_module: t.Any, url: str) -> None:
        m = app_module
        refused: list[str] = []

        def test_it(self: TestCase) -> None:
            m.session().add(m.Item(name="kept out"))
            m.session().commit()
            with m.engine().connect() as conn, self.assertRaises(IsolationError) as caught:
                conn.exec_driver_sql("COMMIT")
            refused.append(str(caught.exception))

        result = run(make_case(m, test_it=test_it))
        assert problems(result) == []
        assert "refuses this statement" in refused[0]
        assert_nothing_left(m, url)

    def test_the_live_server_sees_the_tests_data(self, app_module: t.Any, url: str) -> None:
        m = app_module
        seen: list[t.Any] = []

        def test_it(self: LiveServerTestCase) -> None:
            s = m.session()
            s.add(m.Item(name="in the test"))
            s.commit()
            base = self.get_server_url()
            request = urllib.request.Request(base + "/items", data=b"name=served", method="POST")
            with urllib.request.urlopen(request, timeout=10) as response:
                seen.append(response.read().decode())
            with urllib.request.urlopen(base + "/items", timeout=10) as response:
                seen.append(json.loads(response.read()))

        result = run(make_case(m, LiveServerTestCase, test_it=test_it))
        assert problems(result) == []
        assert seen == ["2", ["in the test", "served"]]
        assert_nothing_left(m, url)

    def test_the_schema_is_made_once_per_run(self, app_module: t.Any, url: str) -> None:
        m = app_module
        metadata = stack_for(m.DATABASE).metadatas["default"]
        created: list[object] = []

        def listener(target: t.Any, connection: t.Any, **kw: t.Any) -> None:
            created.append(target)

        sa.event.listen(metadata, "before_create", listener)
        try:
            for _ in range(2):
                result = run(make_case(m, test_1=lambda self: None, test_2=lambda self: None))
                assert problems(result) == []
        finally:
            sa.event.remove(metadata, "before_create", listener)
        assert created == [metadata]
        assert_nothing_left(m, url)


# -- the pytest plugin -----------------------------------------------------------------

CONFTEST = """
import pytest
from stackapp import create_app


@pytest.fixture(scope="module")
def app():
    return create_app()
"""

WRITES = """
import json
import urllib.request

import pytest
import sqlalchemy as sa
from stackapp import Item, count, engine, session


def test_1_writes(client, runner, db):
    s = session()
    s.add(Item(name="body"))
    s.commit()
    assert client.post("/items", data={"name": "view"}).text == "2"
    assert client.post("/rollback").text == "2"
    assert client.post("/nested").text == "3"
    assert client.post("/thread").json == {"errors": [], "count": 4}
    assert client.post("/raw").text == "5"
    with engine().begin() as conn:
        conn.execute(sa.insert(Item).values(name="begin"))
    assert runner.invoke(args=["add-item"]).exit_code == 0
    assert count() == 7


def test_2_then_empty(client, db):
    assert count() == 0
    assert client.get("/count").text == "0"


def test_3_num_queries(client, db, assertNumQueries):
    with assertNumQueries(2):
        client.post("/items", data={"name": "counted"})


@pytest.mark.reset_sequences
def test_4_ids_from_one(client, db):
    client.post("/items", data={"name": "a"})
    assert client.get("/ids").json == [1]


@pytest.mark.reset_sequences
def test_5_ids_from_one_again(client, db):
    client.post("/items", data={"name": "b"})
    assert client.get("/ids").json == [1]


def test_6_live_server_sees_the_data(live_server, db):
    s = session()
    s.add(Item(name="in the test"))
    s.commit()
    with urllib.request.urlopen(live_server.url("/items"), timeout=10) as response:
        assert json.loads(response.read()) == ["in the test"]
"""

DATA = """
import sqlalchemy as sa
from flask_testcase.pytest_plugin import data_fixture
from stackapp import Item, count, session


@data_fixture(scope="module")
def people(db):
    s = session()
    s.add_all([Item(name="ada"), Item(name="grace")])
    s.commit()
    return ["ada", "grace"]


def test_1_changes(client, people, db):
    assert count() == 2
    s = session()
    s.execute(sa.delete(Item).where(Item.name == "ada"))
    s.commit()
    client.post("/items", data={"name": "new"})
    assert count() == 2


def test_2_sees_them_again(client, people):
    assert client.get("/items").json == people
"""


def run_plugin(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest("-p", "no:flask", "-p", "no:cacheprovider", *args)


class TestEveryStackThroughThePlugin:
    def test_the_db_fixture_named_in_the_ini_file_isolates_every_test(
        self, pytester: pytest.Pytester, kind: str, url: str
    ) -> None:
        pytester.makepyfile(stackapp=source(kind, url))
        pytester.makeconftest(CONFTEST)
        pytester.makeini("[pytest]\nflask_db = stackapp:DATABASE\n")
        pytester.makepyfile(test_writes=WRITES, test_data=DATA)
        before = set(run_databases)
        result = run_plugin(pytester)
        result.assert_outcomes(passed=8)
        if url == "sqlite://":
            made = [run_databases[k] for k in set(run_databases) - before if k[0] == url]
            assert made, "the run made its in-memory database"
            for database in made:
                with database.engine.connect() as conn:
                    assert not conn.connection.driver_connection.in_transaction
                    assert conn.scalar(sa.text("SELECT count(*) FROM stack_item")) == 0
        else:
            assert fresh_count(None, url) == 0


class TestFlaskSQLAlchemyLiteAsIs:
    """The Lite instance itself, without its models' tables."""

    def test_testcase_with_create_schema_off_is_isolated(self, url: str) -> None:
        m = load("lite", url)
        # The table exists: made by an isolation that knew the tables.
        assert problems(run(make_case(m, test_it=lambda self: None))) == []

        def test_it(self: TestCase) -> None:
            self.client.post("/items", data={"name": "as is"})
            self.assertEqual(m.count(), 1)

        case = make_case(m, test_it=test_it, create_schema=False)
        case.db = m.db
        if url == "sqlite://":
            # Each Lite app has its own in-memory database, without the table.
            return
        assert problems(run(case)) == []
        assert fresh_count(m, url) == 0

    def test_the_plugins_db_fixture_finds_it_and_asks_for_the_tables(
        self, pytester: pytest.Pytester
    ) -> None:
        pytester.makepyfile(stackapp=source("lite", "sqlite://"))
        pytester.makeconftest(CONFTEST)
        pytester.makepyfile(test_it="def test_it(db):\n    pass\n")
        result = run_plugin(pytester)
        result.assert_outcomes(errors=1)
        result.stdout.fnmatch_lines(
            [
                "*ValueError: test_it.py::test_it: db is a Flask-SQLAlchemy-Lite"
                " instance, which does not know your models' tables, so flask_testcase"
                " cannot create them: name them with"
                " flask_testcase.SQLAlchemyDatabase(db, Model.metadata) in its place, or"
                " turn schema creation off (create_schema = False) when the tables are"
                " made otherwise.*"
            ]
        )


# -- bad input ---------------------------------------------------------------------------


class TestGuard:
    @pytest.mark.parametrize("kind", NEW)
    def test_a_database_not_named_for_tests_is_refused_before_connecting(
        self, kind: str, tmp_path: t.Any, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.chdir(tmp_path)
        m = load(kind, "sqlite:///production.db")
        result = run(make_case(m, test_it=lambda self: None))
        assert len(result.errors) == 1
        assert NotATestDatabaseError.__name__ in result.errors[0][1]
        assert "production" in result.errors[0][1]
        assert not (tmp_path / "production.db").exists()
        assert not list(tmp_path.rglob("production.db"))

    def test_the_plain_refusal_says_where_sqlite_opens_a_relative_path(
        self, tmp_path: t.Any, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.chdir(tmp_path)
        m = load("plain_import", "sqlite:///production.db")
        result = run(make_case(m, test_it=lambda self: None))
        assert (
            "NotATestDatabaseError: flask_testcase refuses to use the database"
            " 'production.db' (sqlite:///production.db, the engine 'default') for tests:"
            " 'sqlite:///production.db' is a relative SQLite path, which SQLite opens from"
            " the working directory (production.db); a relative path counts as a test"
            " database only by its name (test.db, test_*.db or *_test.db). Use sqlite://"
            " (in memory), a name marked for tests, or an absolute path under the"
            " temporary directory; or set allow_any_database = True on Inner to use it"
            " anyway."
        ) in result.errors[0][1]

    def test_the_lite_refusal_names_its_setting(self) -> None:
        m = load("lite", "postgresql+psycopg://u@127.0.0.1:1/production")
        result = run(make_case(m, test_it=lambda self: None))
        assert (
            "NotATestDatabaseError: flask_testcase refuses to use the database"
            " 'production' (postgresql+psycopg://u@127.0.0.1:1/production, the engine"
            " 'default') for tests: its name does not mark it as a test database"
        ) in result.errors[0][1]

    def test_a_lite_config_changed_after_init_app_is_named(self, tmp_path: t.Any) -> None:
        m = load("lite", "postgresql+psycopg://u@127.0.0.1:1/production")

        def create_app(self: TestCase) -> Flask:
            app = m.create_app()
            app.config["SQLALCHEMY_ENGINES"] = {"default": "sqlite://"}
            return t.cast(Flask, app)

        case = make_case(m, test_it=lambda self: None)
        case.create_app = create_app  # type: ignore[method-assign]
        result = run(case)
        assert (
            "the engine Flask-SQLAlchemy-Lite made connects to it, but"
            " app.config[\"SQLALCHEMY_ENGINES['default']\"] is now 'sqlite://'. The config"
            " was changed after db.init_app(app)"
        ) in result.errors[0][1]


def textof(result: unittest.TestResult) -> str:
    assert len(result.errors) == 1, problems(result)
    return result.errors[0][1]


def _dedent(text: str) -> str:
    return textwrap.dedent(text).strip()
