"""Database isolation, run for real on SQLite (memory and file), PostgreSQL and MariaDB.

Isolation is proven only from outside: after an inner TestCase has run through a real
unittest suite, rows are counted on a fresh connection (for in-memory SQLite, on the
run's one connection, checked to be outside any transaction), and the pool is checked
to have every connection back.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import typing as t
import unittest

import pytest
import sqlalchemy as sa
from _commands import PYTEST
from _dbs import backend_params
from _dbs import url_for
from flask import Flask
from flask import request
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

import flask_testcase.case as ftc_database
from flask_testcase import NotATestDatabaseError
from flask_testcase import TestCase
from flask_testcase.isolation._registry import databases as run_databases

db = SQLAlchemy()


class Item(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "sqla_item"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(50))


class Tag(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "sqla_tag"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(50), unique=True)


class OtherItem(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "sqla_other_item"
    __bind_key__ = "other"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(50))


#: The end of the error for ``db = "db"``.
NOT_A_DATABASE = (
    "must be the app's database, a flask_sqlalchemy.SQLAlchemy instance, a"
    " flask_sqlalchemy_lite.SQLAlchemy instance (with its models' tables:"
    " SQLAlchemyDatabase(db, Model.metadata)), a flask_testcase.SQLAlchemyDatabase for"
    " plain SQLAlchemy (SQLAlchemyDatabase(engine, Base.metadata, sessions=db_session)),"
    " or a tuple of these for an app that uses several; got 'db' (str). flask_testcase"
    " looked for the classes of Flask-SQLAlchemy and Flask-SQLAlchemy-Lite and for a"
    " SQLAlchemyDatabase, and found none."
)


def count(model: t.Any = Item) -> int:
    return int(db.session.scalar(sa.select(sa.func.count()).select_from(model)))


def create_app(url: str, other: str | None = None) -> Flask:
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = url
    app.config["SQLALCHEMY_BINDS"] = {"other": other or url}
    db.init_app(app)

    @app.post("/items")
    def add_item() -> str:
        db.session.add(Item(name=request.form["name"]))
        db.session.commit()
        return str(count())

    @app.post("/rollback")
    def add_then_roll_back() -> str:
        db.session.add(Item(name="rolled back"))
        db.session.flush()
        db.session.rollback()
        return str(count())

    @app.post("/nested")
    def nested() -> str:
        with db.session.begin_nested():
            db.session.add(Item(name="kept"))
        savepoint = db.session.begin_nested()
        db.session.add(Item(name="undone"))
        savepoint.rollback()
        db.session.commit()
        return str(count())

    @app.post("/tags")
    def add_tag() -> str:
        db.session.add(Tag(name=request.form["name"]))
        try:
            db.session.commit()
        except sa.exc.IntegrityError:
            db.session.rollback()
            return "taken"
        return "added"

    @app.get("/count")
    def item_count() -> str:
        return str(count())

    @app.get("/session")
    def session() -> str:
        # Kept alive, so that the test can compare sessions by identity.
        app.extensions.setdefault("sessions", []).append(db.session())
        return ""

    @app.cli.command("add-item")
    def add_item_command() -> None:
        db.session.add(Item(name="from cli"))
        db.session.commit()

    return app


def _commit_row(*args: t.Any) -> None:
    db.session.add(Item(name="committed"))
    db.session.commit()


def run(case: type[unittest.TestCase]) -> unittest.TestResult:
    suite = unittest.defaultTestLoader.loadTestsFromTestCase(case)
    result = unittest.TestResult()
    suite.run(result)
    return result


def problems(result: unittest.TestResult) -> list[str]:
    return [text for _, text in result.errors + result.failures]


def home(url: str, bind: str | None = None) -> t.Any:
    """The engine the run uses for ``url`` (for in-memory SQLite, that of ``db``'s
    ``bind``: each in-memory bind is a database of its own)."""
    if url == "sqlite://":
        return run_databases[(url, db, bind)].engine
    # Flask-SQLAlchemy adds options to some URLs (MySQL's charset): match the rest.
    for (name, _, _), database in run_databases.items():
        if name == url or name.startswith(url + "?"):
            return database.engine
    raise LookupError(url)


def fresh_count(url: str, table: str = "sqla_item", bind: str | None = None) -> int:
    """Rows in ``table`` seen from outside any test transaction."""
    if url == "sqlite://":
        # An in-memory database exists only on its one connection: use it, after
        # checking that no transaction is left open on it.
        with home(url, bind).connect() as conn:
            assert not conn.connection.driver_connection.in_transaction
            return int(conn.scalar(sa.text(f"SELECT count(*) FROM {table}")))
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            return int(conn.scalar(sa.text(f"SELECT count(*) FROM {table}")))
    finally:
        engine.dispose()


def assert_nothing_left(url: str, *tables: str, bind: str | None = None) -> None:
    engine = home(url, bind)
    pool = engine.pool
    if hasattr(pool, "checkedout"):
        assert pool.checkedout() == 0, pool.status()
    for table in tables or ("sqla_item",):
        assert fresh_count(url, table, bind) == 0, f"rows left in {table}"


@pytest.fixture(params=backend_params())
def url(request: pytest.FixtureRequest) -> str:
    return url_for(request.param)


@pytest.fixture
def pooled_url(request: pytest.FixtureRequest) -> str:
    return url_for(request.param)


@pytest.fixture(params=backend_params())
def two_urls(request: pytest.FixtureRequest) -> tuple[str, str]:
    return url_for(request.param), url_for(request.param, "ftcother")


def make_case(url: str, other: str | None = None, **members: t.Any) -> type[TestCase]:
    def create(self: TestCase) -> Flask:
        return create_app(url, other)

    return type("Inner", (TestCase,), {"db": db, "create_app": create, **members})


# -- isolation ----------------------------------------------------------------------


class TestIsolation:
    def test_every_way_of_writing_is_rolled_back(self, url: str) -> None:
        def test_write(self: TestCase) -> None:
            db.session.add(Item(name="body"))
            db.session.commit()
            self.assertEqual(self.client.post("/items", data={"name": "view"}).text, "2")
            self.assertEqual(self.client.post("/nested").text, "3")
            with db.engine.connect() as conn:
                conn.execute(sa.insert(Item).values(name="connect"))
                conn.commit()
            with db.engine.begin() as conn:
                conn.execute(sa.insert(Item).values(name="begin"))
            db.session.execute(sa.text("INSERT INTO sqla_item (name) VALUES ('text')"))
            db.session.commit()
            db.session.execute(sa.insert(Item), [{"name": "bulk1"}, {"name": "bulk2"}])
            db.session.commit()
            self.assertEqual(self.runner.invoke(args=["add-item"]).exit_code, 0)
            self.assertEqual(count(), 9)

        def test_then_empty(self: TestCase) -> None:
            self.assertEqual(count(), 0)

        result = run(make_case(url, test_1_write=test_write, test_2_then_empty=test_then_empty))
        assert problems(result) == []
        assert result.testsRun == 2
        assert_nothing_left(url)

    def test_a_rollback_in_a_view_keeps_what_the_test_wrote(self, url: str) -> None:
        def test_it(self: TestCase) -> None:
            db.session.add(Item(name="committed"))
            db.session.commit()
            db.session.add(Item(name="flushed"))
            db.session.flush()
            self.assertEqual(self.client.post("/rollback").text, "2")
            self.assertEqual(count(), 2)

        result = run(make_case(url, test_it=test_it))
        assert problems(result) == []
        assert_nothing_left(url)

    def test_each_request_has_its_own_session_and_sees_flushed_rows(self, url: str) -> None:
        def test_it(self: TestCase) -> None:
            item = Item(name="mine")
            db.session.add(item)
            db.session.flush()
            self.client.get("/session")
            self.client.get("/session")
            first, second = self.app.extensions["sessions"]
            self.assertIsNot(first, db.session())
            self.assertIsNot(first, second)
            self.assertEqual(self.client.get("/count").text, "1")
            self.assertIn(item, db.session)

        result = run(make_case(url, test_it=test_it))
        assert problems(result) == []
        assert_nothing_left(url)

    def test_a_thread_joins_the_test_transaction(self, url: str) -> None:
        def test_it(self: TestCase) -> None:
            app = self.app
            errors: list[BaseException] = []

            def work() -> None:
                try:
                    with app.app_context():
                        db.session.add(Item(name="thread"))
                        db.session.commit()
                except BaseException as e:  # reported by the test below
                    errors.append(e)

            thread = threading.Thread(target=work)
            thread.start()
            thread.join()
            self.assertEqual(errors, [])
            self.assertEqual(count(), 1)

        result = run(make_case(url, test_it=test_it))
        assert problems(result) == []
        assert_nothing_left(url)

    def test_every_bind_is_isolated(self, two_urls: tuple[str, str]) -> None:
        url, other = two_urls

        def test_it(self: TestCase) -> None:
            db.session.add_all([Item(name="a"), OtherItem(name="b")])
            db.session.commit()
            with db.engines["other"].begin() as conn:
                conn.execute(sa.insert(OtherItem).values(name="raw"))
            self.assertEqual(count(OtherItem), 2)

        result = run(make_case(url, other, test_it=test_it))
        assert problems(result) == []
        assert_nothing_left(url)
        assert_nothing_left(other, "sqla_other_item", bind="other")

    def test_nothing_stays_patched_after_a_test(self, url: str) -> None:
        seen: dict[str, t.Any] = {}

        def test_it(self: TestCase) -> None:
            seen["app"] = self.app
            seen["engine"] = db.engine

        result = run(make_case(url, test_it=test_it))
        assert problems(result) == []
        factory = db.session.session_factory
        assert "get_bind" not in vars(factory.class_)
        assert "join_transaction_mode" not in factory.kw
        assert "connect" not in vars(seen["engine"])
        own = db._app_engines[seen["app"]][None]
        assert "connect" not in vars(own)
        assert own.pool.__class__ is not None

    def test_app_per_class_is_isolated_too(self, url: str) -> None:
        def test_1(self: TestCase) -> None:
            self.client.post("/items", data={"name": "x"})
            self.assertEqual(count(), 1)

        def test_2(self: TestCase) -> None:
            self.assertEqual(count(), 0)

        result = run(make_case(url, app_per_class=True, test_1=test_1, test_2=test_2))
        assert problems(result) == []
        assert_nothing_left(url)

    def test_a_raw_connection_has_its_own_transaction_and_savepoints(self, url: str) -> None:
        def test_it(self: TestCase) -> None:
            db.session.add(Item(name="session"))
            db.session.flush()
            with db.engine.connect() as conn:
                conn.execute(sa.insert(Item).values(name="kept"))
                savepoint = conn.begin_nested()
                conn.execute(sa.insert(Item).values(name="undone"))
                savepoint.rollback()
                conn.commit()
                conn.execute(sa.insert(Item).values(name="rolled back"))
                conn.rollback()
                conn.execute(sa.insert(Item).values(name="closed uncommitted"))
            names = sorted(db.session.scalars(sa.select(Item.name)))
            self.assertEqual(names, ["kept", "session"])

        result = run(make_case(url, test_it=test_it))
        assert problems(result) == []
        assert_nothing_left(url)

    def test_drop_all_in_teardown_is_rolled_back_or_refused_on_mysql(self, url: str) -> None:
        # Flask-Testing's documented pattern: create_all in setUp, drop_all in tearDown.
        def set_up(self: TestCase) -> None:
            db.create_all()

        def tear_down(self: TestCase) -> None:
            db.session.remove()
            db.drop_all()

        def test_it(self: TestCase) -> None:
            _commit_row()

        result = run(make_case(url, setUp=set_up, tearDown=tear_down, test_it=test_it))
        if "mysql" in url:
            assert len(result.errors) == 1
            assert (
                "IsolationError: Inner.test_it runs in a transaction that is rolled back"
                " afterwards, and refuses this statement: MySQL/MariaDB commit the open transaction"
                " before (and some after) it, making the test's writes permanent: 'DROP"
                " TABLE"
            ) in result.errors[0][1]
        else:
            assert problems(result) == []
        # The tables survived and hold nothing.
        assert_nothing_left(url)

    def test_a_second_app_on_the_same_database_joins_the_transaction(self, url: str) -> None:
        def test_it(self: TestCase) -> None:
            other = create_app(url)
            other.test_client().post("/items", data={"name": "other app"})
            self.assertEqual(count(), 1)

        result = run(make_case(url, test_it=test_it))
        assert problems(result) == []
        assert_nothing_left(url)

    def test_flask_sqlalchemy_records_queries_in_every_test(self, url: str) -> None:
        from flask_sqlalchemy.record_queries import get_recorded_queries

        def create(self: TestCase) -> Flask:
            app = create_app(url)
            app.config["SQLALCHEMY_RECORD_QUERIES"] = True
            return app

        def test_it(self: TestCase) -> None:
            count()
            statements = [q.statement for q in get_recorded_queries()]
            self.assertIn("FROM sqla_item", statements[-1])

        # Two classes, each with its own apps: the second one's engines are set aside.
        for _ in range(2):
            result = run(make_case(url, create_app=create, test_1=test_it, test_2=test_it))
            assert problems(result) == []

    def test_connections_create_app_opened_are_closed_after_the_test(self, url: str) -> None:
        engines: list[t.Any] = []

        def create(self: TestCase) -> Flask:
            app = create_app(url)
            with app.app_context():
                db.create_all()  # the Flask tutorials' habit: a connection per app
                engines.append(db.engine)
            return app

        result = run(make_case(url, create_app=create, test_1=_commit_row, test_2=_commit_row))
        assert problems(result) == []
        set_aside = [engine for engine in engines if engine is not home(url)]
        assert set_aside
        for engine in set_aside:
            if hasattr(engine.pool, "checkedin"):
                assert engine.pool.checkedin() == 0
        assert_nothing_left(url)

    def test_a_view_recovers_from_an_integrity_error(self, url: str) -> None:
        def test_it(self: TestCase) -> None:
            db.session.add(Tag(name="python"))
            db.session.commit()
            self.assertEqual(self.client.post("/tags", data={"name": "python"}).text, "taken")
            self.assertEqual(self.client.post("/tags", data={"name": "flask"}).text, "added")
            names = sorted(db.session.scalars(sa.select(Tag.name)))
            self.assertEqual(names, ["flask", "python"])

        result = run(make_case(url, test_it=test_it))
        assert problems(result) == []
        assert_nothing_left(url, "sqla_tag")


# -- nothing leaks when something raises -----------------------------------------------


class TestNothingLeaks:
    @pytest.mark.parametrize("where", ["setUp", "test", "tearDown", "cleanup"])
    def test_when_user_code_raises(self, url: str, where: str) -> None:
        def boom(self: TestCase) -> None:
            _commit_row()
            raise RuntimeError(f"boom in {where}")

        members: dict[str, t.Any] = {"test_it": lambda self: None}
        if where == "setUp":
            members["setUp"] = boom
        elif where == "test":
            members["test_it"] = boom
        elif where == "tearDown":
            members["tearDown"] = boom
        else:
            members["setUp"] = lambda self: self.addCleanup(boom, self)
        result = run(make_case(url, **members))
        assert len(result.errors) == 1
        assert f"RuntimeError: boom in {where}" in result.errors[0][1]
        assert_nothing_left(url)

    def test_when_create_app_raises(self, url: str) -> None:
        def create(self: TestCase) -> Flask:
            raise RuntimeError("no app")

        result = run(make_case(url, create_app=create, test_it=lambda self: None))
        assert len(result.errors) == 1
        assert "RuntimeError: no app" in result.errors[0][1]
        assert_nothing_left(url)

    def test_when_the_failure_is_an_assertion(self, url: str) -> None:
        def test_it(self: TestCase) -> None:
            _commit_row()
            self.assertEqual(1, 2)

        result = run(make_case(url, test_it=test_it))
        assert len(result.failures) == 1
        assert_nothing_left(url)


# -- class-level data ------------------------------------------------------------------


class TestSetUpTestData:
    @pytest.mark.parametrize("app_per_class", [False, True], ids=["app_per_test", "app_per_class"])
    def test_every_test_sees_the_class_data_fresh(self, url: str, app_per_class: bool) -> None:
        calls: list[str] = []

        def setUpTestData(cls: type[TestCase]) -> None:
            calls.append(cls.__name__)
            db.session.add_all([Item(name="ada"), Item(name="grace")])
            # Left uncommitted on purpose: the hook's session is committed for it.
            cls.names = ["ada", "grace"]

        def test_1_changes(self: TestCase) -> None:
            self.assertEqual(count(), 2)
            db.session.execute(sa.delete(Item).where(Item.name == "ada"))
            db.session.commit()
            self.client.post("/items", data={"name": "new"})
            self.assertEqual(count(), 2)

        def test_2_sees_them_again(self: TestCase) -> None:
            names = sorted(db.session.scalars(sa.select(Item.name)))
            self.assertEqual(names, ["ada", "grace"])
            self.assertEqual(self.client.get("/count").text, "2")

        case = make_case(
            url,
            app_per_class=app_per_class,
            setUpTestData=classmethod(setUpTestData),
            test_1_changes=test_1_changes,
            test_2_sees_them_again=test_2_sees_them_again,
        )
        result = run(case)
        assert problems(result) == []
        assert calls == ["Inner"]
        assert not hasattr(case, ftc_database._CLASS_DATA)
        assert_nothing_left(url)

    def test_a_failing_hook_errors_every_test_and_leaks_nothing(self, url: str) -> None:
        def setUpTestData(cls: type[TestCase]) -> None:
            _commit_row()
            raise RuntimeError("no data")

        case = make_case(
            url,
            setUpTestData=classmethod(setUpTestData),
            test_1=lambda self: None,
            test_2=lambda self: None,
        )
        result = run(case)
        assert len(result.errors) == 2
        assert "RuntimeError: no data" in result.errors[0][1]
        assert (
            "RuntimeError: Inner.setUpTestData() raised in an earlier test of the class"
            " (RuntimeError('no data')); see that test's error"
        ) in result.errors[1][1]
        assert_nothing_left(url)

    @pytest.mark.parametrize(
        "pooled_url",
        [p for p in backend_params() if p.values[0] != "sqlite_memory"],  # StaticPool
        indirect=True,
    )
    def test_the_connection_is_held_for_the_class_only(self, pooled_url: str) -> None:
        url = pooled_url
        held: list[int] = []

        def test_it(self: TestCase) -> None:
            held.append(home(url).pool.checkedout())

        case = make_case(
            url, setUpTestData=classmethod(lambda cls: None), test_1=test_it, test_2=test_it
        )
        result = run(case)
        assert problems(result) == []
        assert held == [1, 1]
        assert_nothing_left(url)

    def test_under_pytest_the_class_transaction_ends_after_the_class(self, tmp_path: t.Any) -> None:
        module = tmp_path / "test_class_data_module.py"
        module.write_text(
            textwrap.dedent(
                f"""
                import sqlalchemy as sa
                from flask import Flask
                from flask_sqlalchemy import SQLAlchemy
                from flask_testcase import TestCase
                from flask_testcase.isolation._registry import databases

                URL = "sqlite:///{tmp_path}/test_pytest.db"
                db = SQLAlchemy()

                class Row(db.Model):
                    id = db.Column(db.Integer, primary_key=True)

                def fresh_count():
                    engine = sa.create_engine(URL, poolclass=sa.pool.NullPool)
                    with engine.connect() as conn:
                        n = conn.scalar(sa.text("SELECT count(*) FROM row"))
                    engine.dispose()
                    return n

                class Base(TestCase):
                    db = db

                    def create_app(self):
                        app = Flask(__name__)
                        app.config["SQLALCHEMY_DATABASE_URI"] = URL
                        db.init_app(app)
                        return app

                class TestA(Base):
                    @classmethod
                    def setUpTestData(cls):
                        db.session.add_all([Row(), Row()])

                    def test_1(self):
                        assert db.session.scalar(sa.select(sa.func.count(Row.id))) == 2

                    def test_2(self):
                        assert db.session.scalar(sa.select(sa.func.count(Row.id))) == 2

                class TestB(Base):
                    def test_after(self):
                        (database,) = databases.values()
                        assert database.engine.pool.checkedout() == 1  # this test's
                        assert fresh_count() == 0
                        assert db.session.scalar(sa.select(sa.func.count(Row.id))) == 0
                """
            )
        )
        proc = subprocess.run(
            [*PYTEST, "-q", "-p", "no:cacheprovider", str(module)],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert "3 passed" in proc.stdout


# -- assertNumQueries --------------------------------------------------------------------


def run_one(url: str, body: t.Callable[[TestCase], None]) -> unittest.TestResult:
    return run(make_case(url, test_it=body))


class TestAssertNumQueries:
    URL = "sqlite://"

    def test_passes_and_counts_client_requests(self, url: str) -> None:
        def body(self: TestCase) -> None:
            with self.assertNumQueries(2) as queries:
                self.client.post("/items", data={"name": "x"})
            self.assertEqual(len(queries), 2)
            self.assertEqual(self.assertNumQueries(1, count), 1)
            with self.assertNumQueries(0):
                pass

        assert problems(run_one(url, body)) == []
        assert_nothing_left(url)

    def test_fails_listing_the_statements_numbered(self) -> None:
        def body(self: TestCase) -> None:
            with self.assertNumQueries(1):
                self.client.post("/items", data={"name": "x"})

        result = run_one(self.URL, body)
        assert len(result.failures) == 1
        message = result.failures[0][1].rstrip("\n").split("AssertionError: ", 1)[1]
        assert message == (
            "2 != 1 : 2 queries executed, 1 expected\n"
            "Captured queries were:\n"
            "1. INSERT INTO sqla_item (name) VALUES (?)\n"
            "2. SELECT count(*) AS count_1 \nFROM sqla_item"
        )

    def test_fails_with_none_listed_and_msg_added(self) -> None:
        def body(self: TestCase) -> None:
            with self.assertNumQueries(1, msg="the home page"):
                pass

        result = run_one(self.URL, body)
        message = result.failures[0][1].rstrip("\n").split("AssertionError: ", 1)[1]
        assert message == (
            "0 != 1 : 0 queries executed, 1 expected\nCaptured queries were:\n(none)"
            " : the home page"
        )

    def test_an_error_in_the_block_propagates_unchecked(self) -> None:
        def body(self: TestCase) -> None:
            with self.assertNumQueries(5):
                raise KeyError("mine")

        result = run_one(self.URL, body)
        assert len(result.errors) == 1 and not result.failures
        assert "KeyError: 'mine'" in result.errors[0][1]

    @pytest.mark.parametrize(
        ("num", "error", "text"),
        [
            ("2", TypeError, "assertNumQueries() num must be an int, got '2'"),
            (True, TypeError, "assertNumQueries() num must be an int, got True"),
            (-1, ValueError, "assertNumQueries() num must be >= 0, got -1"),
        ],
    )
    def test_misuse(self, num: t.Any, error: type[Exception], text: str) -> None:
        def body(self: TestCase) -> None:
            with self.assertRaises(error) as caught:
                self.assertNumQueries(num)
            self.assertEqual(str(caught.exception), text)

        assert problems(run_one(self.URL, body)) == []

    def test_without_db_is_a_value_error(self) -> None:
        class NoDb(TestCase):
            def create_app(self) -> Flask:
                return Flask(__name__)

            def test_it(self) -> None:
                with self.assertRaises(ValueError) as caught:
                    self.assertNumQueries(1)
                self.assertEqual(
                    str(caught.exception),
                    "assertNumQueries() counts the queries of the database in 'db'; set"
                    " db = <your flask_sqlalchemy.SQLAlchemy> on NoDb",
                )

        assert problems(run(NoDb)) == []


# -- the guard, misuse, schema ----------------------------------------------------------


class TestGuard:
    def test_a_database_not_named_for_tests_is_refused(self) -> None:
        url = "sqlite:////nonexistent-dir/shop.db"
        result = run(make_case(url, test_it=lambda self: None))
        assert len(result.errors) == 1
        text = result.errors[0][1]
        assert "NotATestDatabaseError: flask_testcase refuses to use the database" in text
        assert "'/nonexistent-dir/shop.db' (sqlite:////nonexistent-dir/shop.db, the" in text
        assert "set allow_any_database = True on Inner to use it anyway." in text

    # The check from outside reads the database not named for tests.
    @pytest.mark.allow_any_database
    def test_allow_any_database_opts_in(
        self, tmp_path: t.Any, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # Make tmp_path look like an ordinary directory, outside the temp directory.
        monkeypatch.setattr("tempfile.gettempdir", lambda: "/nonexistent-temp")
        url = f"sqlite:///{tmp_path}/shop.db"

        def test_it(self: TestCase) -> None:
            _commit_row()

        refused = run(make_case(url, test_it=test_it))
        assert "NotATestDatabaseError" in problems(refused)[0]
        assert not (tmp_path / "shop.db").exists()
        allowed = run(make_case(url, allow_any_database=True, test_it=test_it))
        assert problems(allowed) == []
        assert_nothing_left(url)

    def test_db_must_be_a_flask_sqlalchemy_instance(self) -> None:
        case = make_case("sqlite://", test_it=lambda self: None)
        case.db = "db"
        result = run(case)
        assert f"TypeError: Inner.db {NOT_A_DATABASE}" in result.errors[0][1]

    def test_db_must_be_registered_on_the_app(self) -> None:
        class Unregistered(TestCase):
            def create_app(self) -> Flask:
                return Flask(__name__)

            def test_it(self) -> None:
                pass

        Unregistered.db = db
        result = run(Unregistered)
        assert (
            "ValueError: Unregistered.db is not registered on the app 'test_sqlalchemy',"
            " which has no Flask-SQLAlchemy: call db.init_app(app) in create_app() (your"
            " app factory).\n"
        ) in result.errors[0][1]

    def test_db_must_be_the_instance_the_app_uses(self) -> None:
        other_db = SQLAlchemy()

        class Mismatched(TestCase):
            def create_app(self) -> Flask:
                app = Flask(__name__)
                app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite://"
                other_db.init_app(app)
                return app

            def test_it(self) -> None:
                pass

        Mismatched.db = db
        result = run(Mismatched)
        assert (
            "ValueError: Mismatched.db is not the SQLAlchemy instance the app"
            " 'test_sqlalchemy' was set up with: app.extensions['sqlalchemy'] is another"
            " one. Set Mismatched.db to the instance the app calls init_app() with (import"
            " it from the module where your app factory gets it).\n"
        ) in result.errors[0][1]


class TestSchema:
    def test_tables_are_created_once_per_database_per_run(
        self, tmp_path: t.Any, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        url = f"sqlite:///{tmp_path}/test_schema.db"
        calls: list[object] = []
        original = sa.MetaData.create_all

        def counting(metadata: sa.MetaData, *args: t.Any, **kwargs: t.Any) -> None:
            calls.append(metadata)
            original(metadata, *args, **kwargs)

        monkeypatch.setattr(sa.MetaData, "create_all", counting)
        for _ in range(2):
            result = run(make_case(url, test_1=lambda self: None, test_2=lambda self: None))
            assert problems(result) == []
        # One call per bind's metadata (default and "other"), for 4 tests in 2 classes.
        assert len(calls) == 2
        assert {id(m) for m in calls} == {id(db.metadatas[None]), id(db.metadatas["other"])}

    def test_create_schema_false_leaves_the_schema_alone(self, tmp_path: t.Any) -> None:
        url = f"sqlite:///{tmp_path}/test_noschema.db"

        def test_it(self: TestCase) -> None:
            self.assertFalse(sa.inspect(db.engine).has_table("sqla_item"))

        result = run(make_case(url, create_schema=False, test_it=test_it))
        assert problems(result) == []


class TestSqlite:
    def test_an_app_with_the_documented_pysqlite_listeners_works(self, tmp_path: t.Any) -> None:
        url = f"sqlite:///{tmp_path}/test_listeners.db"

        def create(self: TestCase) -> Flask:
            app = create_app(url)
            with app.app_context():
                engine = db.engine

            @sa.event.listens_for(engine, "connect")
            def no_pysqlite_begin(dbapi_connection: t.Any, record: t.Any) -> None:
                dbapi_connection.isolation_level = None

            @sa.event.listens_for(engine, "begin")
            def begin(conn: t.Any) -> None:
                conn.exec_driver_sql("BEGIN")

            return app

        def test_it(self: TestCase) -> None:
            _commit_row()
            self.assertEqual(self.client.post("/nested").text, "2")

        result = run(make_case(url, create_app=create, test_it=test_it))
        assert problems(result) == []
        assert fresh_count(url) == 0


class TestWhySessionsAreRouted:
    def test_the_classic_recipe_commits_for_real_with_flask_sqlalchemy(
        self, tmp_path: t.Any
    ) -> None:
        # SQLAlchemy's "join a session into an external transaction" recipe: give the
        # session the connection. Flask-SQLAlchemy 3.1's get_bind returns the engine
        # anyway, the session connects on its own, and its commit is real. If this
        # starts failing, Flask-SQLAlchemy changed and the routing may be simplified.
        url = f"sqlite:///{tmp_path}/test_recipe.db"
        app = create_app(url)
        with app.app_context():
            engine = db.engine
            db.metadatas[None].create_all(engine)
            conn = engine.connect()
            trans = conn.begin()
            session = db.session(bind=conn, join_transaction_mode="create_savepoint")
            assert session.get_bind(Item) is engine
            session.add(Item(name="leaked"))
            session.commit()
            db.session.remove()
            trans.rollback()
            conn.close()
        engine.dispose()
        assert fresh_count(url) == 1


def test_importing_flask_testcase_does_not_import_sqlalchemy() -> None:
    code = "import sys, flask_testcase; print('sqlalchemy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_not_a_test_database_error_is_exported() -> None:
    assert issubclass(NotATestDatabaseError, RuntimeError)
