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
import sqlalchemy.orm
from _dbs import backend_params
from _dbs import url_for
from _stack_apps import NEW
from _stack_apps import load
from _stack_apps import require_lite
from _stack_apps import source
from flask import Flask

from flask_testcase import IsolationError
from flask_testcase import LiveServerTestCase
from flask_testcase import NotATestDatabaseError
from flask_testcase import SQLAlchemyDatabase
from flask_testcase import TestCase
from flask_testcase import database_isolation
from flask_testcase._stacks import ACCEPTED
from flask_testcase._stacks import stack_for
from flask_testcase.isolation._patches import EnginePatches
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

# What a run's in-memory databases hold when its tests are done, outside any
# transaction: written to counts.json as [in_transaction, rows] per database.
MEMORY_COUNTS = """

def pytest_sessionstart(session):
    from flask_testcase.isolation._registry import databases

    session.config._known = set(databases)


def pytest_sessionfinish(session):
    import json
    import sqlalchemy as sa
    from flask_testcase.isolation._registry import databases

    counts = []
    for where, database in databases.items():
        if where[0] == "sqlite://" and where not in session.config._known:
            with database.engine.connect() as conn:
                busy = conn.connection.driver_connection.in_transaction
                counts.append([busy, conn.scalar(sa.text("SELECT count(*) FROM stack_item"))])
    with open("counts.json", "w") as f:
        json.dump(counts, f)
"""

WRITES = """
import json
import urllib.request

import pytest
import sqlalchemy as sa
import sqlalchemy.orm
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
import sqlalchemy.orm
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
        pytester.makeconftest(CONFTEST + MEMORY_COUNTS)
        pytester.makeini("[pytest]\nflask_db = stackapp:DATABASE\n")
        pytester.makepyfile(test_writes=WRITES, test_data=DATA)
        result = run_plugin(pytester)
        result.assert_outcomes(passed=8)
        if url == "sqlite://":
            # Counted by the run itself once its tests are done: its in-memory
            # databases end with it.
            counts = json.loads((pytester.path / "counts.json").read_text())
            assert counts == [[False, 0]]
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


class TestWhatDbMayBe:
    @pytest.mark.parametrize(
        ("value", "hint"),
        [
            (
                sa.create_engine("sqlite://"),
                " For an engine of plain SQLAlchemy write SQLAlchemyDatabase(engine,"
                " Base.metadata, sessions=db_session).",
            ),
            (
                sa.orm.sessionmaker(),
                " A session factory does not say which tables to create: write"
                " SQLAlchemyDatabase(engine, Base.metadata, sessions=it).",
            ),
            (
                sa.MetaData(),
                " For plain SQLAlchemy write SQLAlchemyDatabase(engine, metadata).",
            ),
        ],
        ids=["engine", "sessionmaker", "metadata"],
    )
    def test_a_part_of_plain_sqlalchemy_on_its_own_says_how_to_wrap_it(
        self, value: t.Any, hint: str
    ) -> None:
        with pytest.raises(TypeError) as info:
            stack_for(value, "UserTests.db")
        assert str(info.value) == (
            f"UserTests.db must be the app's database, {ACCEPTED}; got {value!r}"
            f" ({type(value).__name__}).{hint}"
        )

    def test_anything_else_lists_what_was_looked_for(self) -> None:
        with pytest.raises(TypeError) as info:
            stack_for(object(), "db")
        assert str(info.value).endswith(
            " flask_testcase looked for the classes of Flask-SQLAlchemy and"
            " Flask-SQLAlchemy-Lite and for a SQLAlchemyDatabase, and found none."
        )

    def test_a_tuple_names_the_member_that_is_wrong(self) -> None:
        m = load("plain_import", "sqlite://")
        with pytest.raises(TypeError) as info:
            stack_for((m.DATABASE, "oops"), "Inner.db")
        assert str(info.value).startswith("Inner.db[1] must be the app's database,")

    def test_a_tuple_in_a_tuple_is_refused(self) -> None:
        m = load("plain_import", "sqlite://")
        with pytest.raises(TypeError) as info:
            stack_for((m.DATABASE, (m.DATABASE,)), "db")
        assert str(info.value) == (
            "db: a tuple of stacks cannot hold another tuple; list each once"
        )


class TestSQLAlchemyDatabaseArguments:
    def test_engines_of_another_type(self) -> None:
        with pytest.raises(TypeError) as info:
            SQLAlchemyDatabase("sqlite://")
        assert str(info.value) == (
            "SQLAlchemyDatabase() takes the engine (sqlalchemy.Engine), a mapping of name"
            " to engine, a function of the app returning either, or a"
            " Flask-SQLAlchemy-Lite instance; got 'sqlite://' (str)"
        )

    def test_a_mapping_of_something_else(self) -> None:
        with pytest.raises(TypeError) as info:
            SQLAlchemyDatabase({"default": "sqlite://"})
        assert str(info.value) == (
            "SQLAlchemyDatabase's engines must map names (str) to engines"
            " (sqlalchemy.Engine), got 'default': 'sqlite://'"
        )

    def test_a_session_factory_first(self) -> None:
        factory = sa.orm.sessionmaker()
        with pytest.raises(TypeError) as info:
            SQLAlchemyDatabase(factory)
        assert str(info.value) == (
            f"SQLAlchemyDatabase()'s first argument is the engine(s), got the session"
            f" factory {factory!r}: write SQLAlchemyDatabase(engine, Base.metadata,"
            " sessions=it)"
        )

    def test_a_flask_sqlalchemy_instance(self) -> None:
        from flask_sqlalchemy import SQLAlchemy

        with pytest.raises(TypeError) as info:
            SQLAlchemyDatabase(SQLAlchemy())
        assert str(info.value) == (
            "SQLAlchemyDatabase() is for plain SQLAlchemy and Flask-SQLAlchemy-Lite; a"
            " Flask-SQLAlchemy instance is given as it is (db = db)"
        )

    def test_a_declarative_base_for_metadata(self) -> None:
        class Base(sa.orm.DeclarativeBase):
            pass

        with pytest.raises(TypeError) as info:
            SQLAlchemyDatabase(sa.create_engine("sqlite://"), Base)  # type: ignore[arg-type]
        assert str(info.value).endswith(f"got {Base!r} (write Base.metadata)")

    def test_one_metadata_for_several_engines(self) -> None:
        engines = {"a": sa.create_engine("sqlite://"), "b": sa.create_engine("sqlite://")}
        with pytest.raises(ValueError) as info:
            SQLAlchemyDatabase(engines, sa.MetaData())
        assert str(info.value) == (
            "SQLAlchemyDatabase(): one metadata for several engines (a, b): say which"
            " engine has which tables, metadata={'name': Base.metadata, ...}"
        )

    def test_metadata_for_an_engine_not_given(self) -> None:
        with pytest.raises(ValueError) as info:
            SQLAlchemyDatabase(sa.create_engine("sqlite://"), {"other": sa.MetaData()})
        assert str(info.value) == (
            "SQLAlchemyDatabase(): metadata for engines that are not given: ['other'] (the"
            " engines are ['default'])"
        )

    def test_sessions_of_another_type(self) -> None:
        with pytest.raises(TypeError) as info:
            SQLAlchemyDatabase(sa.create_engine("sqlite://"), sessions=[sa.orm.Session()])
        assert str(info.value).startswith(
            "SQLAlchemyDatabase()'s sessions are scoped_session or sessionmaker objects,"
            " got <sqlalchemy.orm.session.Session object"
        )

    def test_sessions_with_a_lite_instance(self) -> None:
        require_lite()
        from flask_sqlalchemy_lite import SQLAlchemy

        with pytest.raises(TypeError) as info:
            SQLAlchemyDatabase(SQLAlchemy(), sessions=sa.orm.sessionmaker())
        assert str(info.value) == (
            "SQLAlchemyDatabase(db, ...) with a Flask-SQLAlchemy-Lite instance finds its"
            " sessions in it: leave sessions= out"
        )

    def test_the_repr_shows_what_was_given(self) -> None:
        engine = sa.create_engine("sqlite://")
        metadata = sa.MetaData()
        assert repr(SQLAlchemyDatabase(engine, metadata)) == (
            f"SQLAlchemyDatabase({engine!r}, metadata={metadata!r})"
        )


def _plain(url: str, **kwargs: t.Any) -> tuple[SQLAlchemyDatabase, sa.Engine, sa.MetaData]:
    engine = sa.create_engine(url)
    metadata = sa.MetaData()
    sa.Table("stack_item", metadata, sa.Column("id", sa.Integer, primary_key=True))
    return SQLAlchemyDatabase(engine, metadata, **kwargs), engine, metadata


class TestSessionsAndEnginesNotGiven:
    """What would be left out silently is refused, naming it and the fix."""

    def test_a_session_bound_to_an_engine_not_listed(self, tmp_path: t.Any) -> None:
        other = sa.create_engine(f"sqlite:///{tmp_path}/other.db")
        factory = sa.orm.scoped_session(sa.orm.sessionmaker(bind=other))
        database, _, _ = _plain(f"sqlite:///{tmp_path}/main.db", sessions=factory)
        with pytest.raises(ValueError) as info, database_isolation(database, Flask("x")):
            pass
        assert str(info.value) == (
            f"db.sessions[0] ({factory!r}) is bound to an engine for"
            f" sqlite:///{tmp_path}/other.db, which db does not list: its sessions' writes"
            " would not be rolled back. Add that engine to the engines of"
            " SQLAlchemyDatabase (e.g. SQLAlchemyDatabase({'default': engine, 'other':"
            " that_engine}, ...)), or bind the session to one of them."
        )
        assert EnginePatches.active == []

    def test_a_session_bound_to_the_same_database_by_another_engine_is_fine(
        self, tmp_path: t.Any
    ) -> None:
        url = f"sqlite:///{tmp_path}/main.db"
        factory = sa.orm.scoped_session(sa.orm.sessionmaker(bind=sa.create_engine(url)))
        database, _, metadata = _plain(url, sessions=factory)
        table = metadata.tables["stack_item"]
        with Flask("x").app_context(), database_isolation(database):
            factory.execute(sa.insert(table).values(id=1))
            factory.commit()
        assert fresh_count(None, url) == 0

    def test_an_unbound_session(self, tmp_path: t.Any) -> None:
        factory = sa.orm.scoped_session(sa.orm.sessionmaker())
        database, _, _ = _plain(f"sqlite:///{tmp_path}/main.db", sessions=factory)
        with pytest.raises(ValueError) as info, database_isolation(database, Flask("x")):
            pass
        assert str(info.value) == (
            f"db.sessions[0] ({factory!r}) has no engine bound, so flask_testcase cannot"
            " tell which database its sessions use. Bind it (sessionmaker(bind=engine)),"
            " or configure it in create_app() before the test runs"
            " (db_session.configure(bind=engine))."
        )

    def test_an_import_time_session_configured_in_create_app_is_isolated(
        self, tmp_path: t.Any
    ) -> None:
        url = f"sqlite:///{tmp_path}/main.db"
        factory = sa.orm.scoped_session(sa.orm.sessionmaker())  # before any app exists
        metadata = sa.MetaData()
        table = sa.Table("stack_item", metadata, sa.Column("id", sa.Integer, primary_key=True))

        def create(self: TestCase) -> Flask:
            app = Flask("x")
            app.extensions["engine"] = sa.create_engine(url)
            factory.configure(bind=app.extensions["engine"])
            return app

        def test_it(self: TestCase) -> None:
            factory.execute(sa.insert(table).values(id=1))
            factory.commit()
            self.assertEqual(factory.scalar(sa.select(sa.func.count()).select_from(table)), 1)

        database = SQLAlchemyDatabase(
            lambda app: app.extensions["engine"], metadata, sessions=factory
        )
        case = type(
            "Inner", (TestCase,), {"db": database, "create_app": create, "test_it": test_it}
        )
        assert problems(run(case)) == []
        assert fresh_count(None, url) == 0

    def test_an_engines_function_that_finds_nothing(self) -> None:
        database = SQLAlchemyDatabase(lambda app: app.extensions["engine"], sa.MetaData())
        with pytest.raises(ValueError) as info, database_isolation(database, Flask("bare")):
            pass
        assert str(info.value) == (
            "db's engines function found no engine for the app 'bare' (KeyError:"
            " 'engine'): make the engine in create_app() where the function looks for it"
            " (e.g. app.extensions['engine'] = create_engine(...)), or give the engine"
            " itself."
        )

    def test_another_engine_on_the_app_reaching_another_database(self, tmp_path: t.Any) -> None:
        database, _, _ = _plain(f"sqlite:///{tmp_path}/main.db")
        app = Flask("x")
        app.extensions["reports"] = sa.create_engine(f"sqlite:///{tmp_path}/reports.db")
        with pytest.raises(IsolationError) as info, database_isolation(database, app):
            pass
        assert str(info.value) == (
            "database_isolation(): app.extensions['reports'] (an Engine) reaches"
            f" sqlite:///{tmp_path}/reports.db, a database that db does not isolate: its"
            " writes would be committed for real. Isolate it too, giving every stack the"
            " app uses as a tuple (db = (db, SQLAlchemyDatabase(engine, Base.metadata))),"
            " or point it at one of the test's databases."
        )
        assert EnginePatches.active == []

    def test_flask_sqlalchemy_on_the_app_beside_a_plain_engine_is_refused(
        self, tmp_path: t.Any
    ) -> None:
        from flask_sqlalchemy import SQLAlchemy

        fsa = SQLAlchemy()
        app = Flask("x")
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{tmp_path}/fsa.db"
        fsa.init_app(app)
        database, _, _ = _plain(f"sqlite:///{tmp_path}/main.db")
        with pytest.raises(IsolationError) as info, database_isolation(database, app):
            pass
        assert str(info.value).startswith(
            "database_isolation(): app.extensions['sqlalchemy'] (a SQLAlchemy) reaches"
            f" sqlite:///{tmp_path}/fsa.db, a database that db does not isolate"
        )

    def test_two_stacks_on_one_app_are_both_isolated(self, url: str) -> None:
        from flask_sqlalchemy import SQLAlchemy

        fsa = SQLAlchemy()

        class Note(fsa.Model):  # type: ignore[name-defined,misc]
            __tablename__ = "stack_note"
            id: sa.orm.Mapped[int] = sa.orm.mapped_column(primary_key=True)

        other_url = url if url == "sqlite://" else url_for(_backend(url), "stacksreports")
        reports = sa.MetaData()
        report = sa.Table("stack_report", reports, sa.Column("id", sa.Integer, primary_key=True))

        def create(self: TestCase) -> Flask:
            app = Flask("two")
            app.config["SQLALCHEMY_DATABASE_URI"] = url
            fsa.init_app(app)
            app.extensions["reports"] = sa.create_engine(other_url)
            if url != "sqlite://":
                # (In memory, the first app's engine holds the run's database.)
                self.addCleanup(app.extensions["reports"].dispose)
            return app

        def test_1_writes_both(self: TestCase) -> None:
            fsa.session.add(Note())
            fsa.session.commit()
            with self.app.extensions["reports"].begin() as conn:
                conn.execute(sa.insert(report).values(id=1))
            with self.app.extensions["reports"].connect() as conn:
                self.assertEqual(conn.scalar(sa.select(sa.func.count()).select_from(report)), 1)

        def test_2_sees_neither(self: TestCase) -> None:
            self.assertEqual(fsa.session.scalar(sa.select(sa.func.count(Note.id))), 0)
            with self.app.extensions["reports"].connect() as conn:
                self.assertEqual(conn.scalar(sa.select(sa.func.count()).select_from(report)), 0)

        both = (fsa, SQLAlchemyDatabase(lambda app: app.extensions["reports"], reports))
        members = {
            "create_app": create,
            "test_1": test_1_writes_both,
            "test_2": test_2_sees_neither,
        }
        result = run(type("Inner", (TestCase,), {"db": both, **members}))
        assert problems(result) == []
        if url != "sqlite://":
            assert fresh_count(None, url, "stack_note") == 0
            assert fresh_count(None, other_url, "stack_report") == 0
        # With only one of them, the other is refused, by name.
        if url != "sqlite://":
            result = run(type("Inner", (TestCase,), {"db": fsa, **members}))
            assert len(result.errors) == 2
            assert "app.extensions['reports']" in result.errors[0][1]
            assert fresh_count(None, url, "stack_note") == 0


def _backend(url: str) -> str:
    name = sa.make_url(url).get_backend_name()
    if name == "sqlite":
        return "sqlite_file"
    return "mysql" if name.startswith("mysql") else name


def test_lite_async_engines_are_refused_by_name() -> None:
    require_lite()
    from flask_sqlalchemy_lite import SQLAlchemy

    lite = SQLAlchemy()
    app = Flask("asyncapp")
    app.config["SQLALCHEMY_ENGINES"] = {"default": "sqlite://"}
    app.config["SQLALCHEMY_ASYNC_ENGINES"] = {"default": "postgresql+psycopg://u@127.0.0.1:1/t"}
    lite.init_app(app)
    database = SQLAlchemyDatabase(lite, sa.MetaData())
    with pytest.raises(IsolationError) as info, database_isolation(database, app):
        pass
    assert str(info.value) == (
        "the app 'asyncapp' has async engines (SQLALCHEMY_ASYNC_ENGINES: 'default'), which"
        " flask_testcase cannot isolate yet: their writes would be committed for real."
        " Configure only SQLALCHEMY_ENGINES for the tests, or use"
        " db.async_test_isolation() of Flask-SQLAlchemy-Lite for them."
    )
    assert EnginePatches.active == []


def test_a_lite_instance_not_set_up_on_the_app() -> None:
    require_lite()
    from flask_sqlalchemy_lite import SQLAlchemy

    database = SQLAlchemyDatabase(SQLAlchemy(), sa.MetaData())
    with pytest.raises(ValueError) as info, database_isolation(database, Flask("bare")):
        pass
    assert str(info.value) == (
        "db is not registered on the app 'bare', which has no Flask-SQLAlchemy-Lite: call"
        " db.init_app(app) in create_app() (your app factory)."
    )


def test_another_lite_instance_than_the_apps() -> None:
    require_lite()
    from flask_sqlalchemy_lite import SQLAlchemy

    app = Flask("other")
    app.config["SQLALCHEMY_ENGINES"] = {"default": "sqlite://"}
    SQLAlchemy(app)
    database = SQLAlchemyDatabase(SQLAlchemy(), sa.MetaData())
    with pytest.raises(ValueError) as info, database_isolation(database, app):
        pass
    assert str(info.value) == (
        "db is not the Flask-SQLAlchemy-Lite instance the app 'other' was set up with:"
        " app.extensions['sqlalchemy'] is another one. Use the instance the app calls"
        " init_app() with."
    )


def test_importing_flask_testcase_imports_no_extension() -> None:
    import subprocess
    import sys

    code = (
        "import sys, flask_testcase; flask_testcase.SQLAlchemyDatabase;"
        " print(sorted(m for m in ('sqlalchemy', 'flask_sqlalchemy', 'flask_sqlalchemy_lite')"
        " if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_an_inner_runs_engines_end_with_it_and_the_outer_runs_stay(
    pytester: pytest.Pytester, tmp_path: t.Any
) -> None:
    outer = load("plain_import", f"sqlite:///{tmp_path}/outer.db")
    assert problems(run(make_case(outer, test_it=lambda self: None))) == []
    outer_keys = {k for k in run_databases if "outer.db" in k[0]}
    assert outer_keys
    inner_url = f"sqlite:///{tmp_path}/inner.db"
    pytester.makepyfile(stackapp=source("plain_import", inner_url))
    pytester.makeconftest(CONFTEST)
    pytester.makeini("[pytest]\nflask_db = stackapp:DATABASE\n")
    pytester.makepyfile(test_it="def test_it(db):\n    pass\n")
    run_plugin(pytester).assert_outcomes(passed=1)
    # A database dropped and made again by a later run would meet closed connections.
    assert not [k for k in run_databases if "inner.db" in k[0]]
    assert outer_keys <= set(run_databases)


class TestSchemaStep:
    """The schema step reads the adapter's metadata per bind, and its hook commits
    through the adapter's session."""

    def test_the_hook_runs_once_through_the_plain_scoped_session(self, tmp_path: t.Any) -> None:
        url = f"sqlite:///{tmp_path}/hooked.db"
        engine = sa.create_engine(url)
        session = sa.orm.scoped_session(sa.orm.sessionmaker(bind=engine))
        metadata = sa.MetaData()
        table = sa.Table(
            "stack_hooked",
            metadata,
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("name", sa.String(20)),
        )
        calls: list[int] = []

        def insert_reference_rows() -> None:
            calls.append(1)
            # Left uncommitted: the adapter's session is committed for the hook.
            session.execute(sa.insert(table).values(name="reference"))

        def test_it(self: TestCase) -> None:
            self.assertEqual(session.scalar(sa.select(sa.func.count()).select_from(table)), 1)
            session.execute(sa.insert(table).values(name="mine"))
            session.commit()

        members = {
            "db": SQLAlchemyDatabase(engine, metadata, sessions=session),
            "schema_hook": staticmethod(insert_reference_rows),
            "create_app": lambda self: Flask("hooked"),
            "test_1": test_it,
            "test_2": test_it,
        }
        result = run(type("Inner", (TestCase,), members))
        assert problems(result) == []
        assert calls == [1]
        assert fresh_count(None, url, "stack_hooked") == 1

    def test_migrations_are_refused_for_a_stack_without_flask_sqlalchemy(
        self, tmp_path: t.Any
    ) -> None:
        database, _, _ = _plain(f"sqlite:///{tmp_path}/migrated.db")
        members = {
            "db": database,
            "schema_from": "migrations",
            "create_app": lambda self: Flask("migrated"),
            "test_it": lambda self: None,
        }
        result = run(type("Inner", (TestCase,), members))
        assert (
            "SchemaError: Inner.test_it: schema_from='migrations' runs the app's"
            " Flask-Migrate migrations, which work with Flask-SQLAlchemy; this database is"
            " plain SQLAlchemy's. Make its schema from the models (schema_from='models', with the"
            " metadata given), or before the tests (schema_from=None)."
        ) in textof(result)
