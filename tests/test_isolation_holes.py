"""Ways data could escape isolation or reach a database not meant for tests, each
closed, each tried for real on the backends where it applies.

Every test here failed before the fix it guards. Isolation is proved only from
outside: after the inner test case has run, rows are counted on a brand-new
connection (NullPool; for in-memory SQLite, the run's one connection, checked to be
outside any transaction).
"""

from __future__ import annotations

import os
import threading
import typing as t
import unittest

import pytest
import sqlalchemy as sa
from _dbs import SERVERS
from _dbs import backend_params
from _dbs import checking_from_outside
from _dbs import require
from _dbs import url_for
from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import Session
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import sessionmaker
from test_sqlalchemy import Item
from test_sqlalchemy import assert_nothing_left
from test_sqlalchemy import count
from test_sqlalchemy import create_app
from test_sqlalchemy import db
from test_sqlalchemy import fresh_count
from test_sqlalchemy import make_case
from test_sqlalchemy import problems
from test_sqlalchemy import run

from flask_testcase import IsolationError
from flask_testcase import TestCase

REFUSED = "refuses this statement"


@pytest.fixture(params=backend_params())
def url(request: pytest.FixtureRequest) -> str:
    return url_for(request.param)


@pytest.fixture(params=[p for p in backend_params() if p.id != "sqlite_memory"])
def pooled_url(request: pytest.FixtureRequest) -> str:
    return url_for(request.param)


# -- 1. a session bound to the app's own engine ----------------------------------------


def test_a_session_bound_to_the_apps_engine_joins_the_test(url: str) -> None:
    # A common pattern for background jobs: a sessionmaker made in create_app.
    def create(self: TestCase) -> Flask:
        app = create_app(url)
        with app.app_context():
            app.extensions["jobs"] = sessionmaker(bind=db.engine)
            app.extensions["engine"] = db.engine
        return app

    def write(self: TestCase) -> None:
        jobs = self.app.extensions["jobs"]
        with jobs() as session:
            session.add(Item(name="job 1"))
            session.commit()
            session.add(Item(name="job 2"))
            session.commit()
        with Session(self.app.extensions["engine"]) as session:
            session.add(Item(name="job 3"))
            session.commit()
        self.assertEqual(count(), 3)

    members = {f"test_{i}": write for i in range(6)}
    result = run(type("Inner", (TestCase,), {"db": db, "create_app": create, **members}))
    assert problems(result) == []
    assert_nothing_left(url)


# -- 2. AUTOCOMMIT -------------------------------------------------------------------


def test_an_autocommit_connection_never_commits_the_test(url: str) -> None:
    def test_it(self: TestCase) -> None:
        db.session.add(Item(name="session"))
        db.session.commit()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.insert(Item).values(name="autocommit"))
        with db.engine.execution_options(isolation_level="AUTOCOMMIT").connect() as conn:
            conn.execute(sa.insert(Item).values(name="engine option"))
        # As with a real autocommit connection, each statement is kept at once.
        self.assertEqual(count(), 3)

    result = run(make_case(url, test_it=test_it))
    assert problems(result) == []
    assert_nothing_left(url)


def test_a_failed_autocommit_statement_keeps_the_earlier_ones(pooled_url: str) -> None:
    def test_it(self: TestCase) -> None:
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.insert(Item).values(name="kept"))
            with self.assertRaises(sa.exc.DBAPIError):
                conn.execute(sa.text("SELECT * FROM no_such_table"))
            conn.execute(sa.insert(Item).values(name="after"))
        self.assertEqual(count(), 2)

    result = run(make_case(pooled_url, test_it=test_it))
    assert problems(result) == []
    assert_nothing_left(pooled_url)


# -- 3. the database actually connected to -------------------------------------------


@pytest.fixture
def production(request: pytest.FixtureRequest) -> t.Iterator[tuple[str, str]]:
    """A database that is not a test database, made for this test only and dropped
    after it: (server URL, its name). Nothing of the library may ever touch it."""
    backend = request.param
    require(backend)
    name = f"ftcprod{os.getpid()}"
    base = sa.engine.make_url(SERVERS[backend])
    admin_url = (
        base.set(database="postgres") if backend == "postgresql" else base._replace(database=None)
    )
    admin = sa.create_engine(admin_url, poolclass=sa.pool.NullPool, isolation_level="AUTOCOMMIT")
    with checking_from_outside(), admin.connect() as conn:
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}")
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    try:
        yield url_for(backend), name
    finally:
        with checking_from_outside(), admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}")
        admin.dispose()


def tables_in(url: str, name: str) -> list[str]:
    engine = sa.create_engine(
        sa.engine.make_url(url).set(database=name), poolclass=sa.pool.NullPool
    )
    try:
        with checking_from_outside(), engine.connect() as conn:
            return sa.inspect(conn).get_table_names()
    finally:
        engine.dispose()


SERVER_PARAMS = [p for p in backend_params() if p.id in {"postgresql", "mysql"}]


@pytest.mark.parametrize("production", SERVER_PARAMS, indirect=True)
def test_a_query_parameter_cannot_redirect_tests_to_another_database(
    production: tuple[str, str],
) -> None:
    url, name = production
    parameter = "dbname" if url.startswith("postgresql") else "database"
    result = run(make_case(f"{url}?{parameter}={name}", test_it=lambda self: _commit()))
    (error,) = problems(result)
    assert (
        f"={name}) names {sa.engine.make_url(url).database!r},"
        f" but the server says the connection uses {name!r}, which is not a test database."
        " Something beside the database name chose it: a parameter in the URL's query"
        " (?dbname=, ?database=) or the engine's connect_args."
    ) in error
    assert tables_in(url, name) == []


@pytest.mark.parametrize("production", SERVER_PARAMS[:1], indirect=True)
def test_connect_args_cannot_redirect_tests_to_another_database(
    production: tuple[str, str],
) -> None:
    url, name = production

    def create(self: TestCase) -> Flask:
        app = Flask(__name__)
        # A URL of its own: the run's first engine for a URL serves every test on it,
        # and this app's must be the one that connects.
        app.config["SQLALCHEMY_DATABASE_URI"] = f"{url}?application_name=connect_args"
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {"connect_args": {"dbname": name}}
        other_db.init_app(app)
        return app

    other_db = SQLAlchemy()

    class Note(other_db.Model):  # type: ignore[name-defined,misc]
        id: Mapped[int] = mapped_column(primary_key=True)

    case = type("Inner", (TestCase,), {"db": other_db, "create_app": create, "test_it": _noop})
    (error,) = problems(run(case))
    assert f"the server says the connection uses {name!r}" in error
    assert tables_in(url, name) == []


@pytest.mark.parametrize("production", SERVER_PARAMS[1:], indirect=True)
def test_a_mysql_schema_cannot_put_tables_in_another_database(
    production: tuple[str, str],
) -> None:
    url, name = production
    other_db = SQLAlchemy()

    class Ledger(other_db.Model):  # type: ignore[name-defined,misc]
        __table_args__ = {"schema": name}
        id: Mapped[int] = mapped_column(primary_key=True)

    def create(self: TestCase) -> Flask:
        app = Flask(__name__)
        app.config["SQLALCHEMY_DATABASE_URI"] = url
        other_db.init_app(app)
        return app

    case = type("Inner", (TestCase,), {"db": other_db, "create_app": create, "test_it": _noop})
    (error,) = problems(run(case))
    assert (
        f"NotATestDatabaseError: flask_testcase refuses to run tests on the default bind:"
        f" the table '{name}.ledger' has schema={name!r}, and on MySQL/MariaDB a schema is"
        " a database, which is not a test database"
    ) in error
    assert tables_in(url, name) == []


# -- 4. relative SQLite paths ----------------------------------------------------------


def test_a_relative_sqlite_path_under_the_temporary_directory_is_refused(
    tmp_path: t.Any,
) -> None:
    # The checkout (and so the instance folder) lies under the temporary directory,
    # as in many CI systems and containers.
    instance = tmp_path / "checkout" / "instance"

    def create(self: TestCase) -> Flask:
        app = Flask(__name__, instance_path=str(instance))
        app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///notes.db"
        db.init_app(app)
        return app

    case = type("Inner", (TestCase,), {"db": db, "create_app": create, "test_it": _noop})
    (error,) = problems(run(case))
    assert (
        "NotATestDatabaseError: flask_testcase refuses to use the database"
        f" '{instance / 'notes.db'}' (sqlite:///{instance / 'notes.db'}, the default"
        " bind) for tests: 'sqlite:///notes.db' is a relative SQLite path, which"
        " Flask-SQLAlchemy opens in the app's instance folder"
    ) in error
    assert not (instance / "notes.db").exists()


def test_config_changed_after_init_app_is_named_as_the_cause(tmp_path: t.Any) -> None:
    # The testing config applied after db.init_app(app): the engine still points at
    # the development database.
    development = tmp_path / "checkout" / "dev.db"
    development.parent.mkdir()

    def create(self: TestCase) -> Flask:
        app = Flask(__name__, instance_path=str(tmp_path / "instance"))
        app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + os.path.relpath(
            development, tmp_path / "instance"
        )
        db.init_app(app)
        app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite://"
        return app

    case = type("Inner", (TestCase,), {"db": db, "create_app": create, "test_it": _noop})
    (error,) = problems(run(case))
    assert (
        ": the engine Flask-SQLAlchemy made connects to it, but"
        " app.config['SQLALCHEMY_DATABASE_URI'] is now 'sqlite://'. The config was changed"
        " after db.init_app(app), which reads it once to make the engines. Apply the"
        " testing config before calling db.init_app(app)"
    ) in error
    assert not development.exists()


# -- 5. two in-memory binds ------------------------------------------------------------


def test_two_in_memory_binds_are_two_databases() -> None:
    two = SQLAlchemy()

    class Entry(two.Model):  # type: ignore[name-defined,misc]
        __tablename__ = "entry"
        id: Mapped[int] = mapped_column(primary_key=True)
        title: Mapped[str] = mapped_column(sa.String(20))

    class ArchivedEntry(two.Model):  # type: ignore[name-defined,misc]
        __tablename__ = "entry"
        __bind_key__ = "archive"
        id: Mapped[int] = mapped_column(primary_key=True)
        body: Mapped[str] = mapped_column(sa.String(20))

    def create(self: TestCase) -> Flask:
        app = Flask(__name__)
        app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite://"
        app.config["SQLALCHEMY_BINDS"] = {"archive": "sqlite://"}
        two.init_app(app)
        return app

    def test_it(self: TestCase) -> None:
        two.session.add_all([Entry(title="a"), ArchivedEntry(body="b")])
        two.session.commit()
        self.assertEqual(two.session.scalars(sa.select(Entry.title)).all(), ["a"])
        self.assertEqual(two.session.scalars(sa.select(ArchivedEntry.body)).all(), ["b"])

    case = type("Inner", (TestCase,), {"db": two, "create_app": create, "test_it": test_it})
    assert problems(run(case)) == []


# -- 6. threads ----------------------------------------------------------------------


def threaded_app(url: str) -> Flask:
    app = create_app(url)

    @app.post("/threads")
    def threads() -> str:
        def work(n: int) -> None:
            with app.app_context():
                for i in range(5):
                    db.session.add(Item(name=f"thread {n} row {i}"))
                    db.session.commit()

        workers = [threading.Thread(target=work, args=(n,)) for n in range(4)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        return str(count())

    return app


def test_threads_started_by_a_view_take_turns_on_the_test_connection(url: str) -> None:
    def test_it(self: TestCase) -> None:
        db.session.add(Item(name="test"))
        db.session.flush()
        self.assertEqual(self.client.post("/threads").text, "21")
        self.assertEqual(count(), 21)

    case = type(
        "Inner",
        (TestCase,),
        {"db": db, "create_app": lambda self: threaded_app(url), "test_it": test_it},
    )
    result = run(case)
    assert problems(result) == []
    assert_nothing_left(url)


def test_a_thread_that_keeps_a_transaction_open_is_named(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import flask_testcase.isolation

    monkeypatch.setattr(flask_testcase.isolation, "THREAD_WAIT_TIMEOUT", 0.3)
    url = url_for("sqlite_file")
    opened = threading.Event()
    done = threading.Event()

    def test_it(self: TestCase) -> None:
        app = self.app

        def hold() -> None:
            with app.app_context():
                db.session.add(Item(name="held"))
                db.session.flush()
                opened.set()
                done.wait(5)

        worker = threading.Thread(target=hold, name="holder")
        worker.start()
        try:
            opened.wait(5)
            count()
        finally:
            done.set()
            worker.join()

    (error,) = problems(run(make_case(url, test_it=test_it)))
    assert (
        "IsolationError: thread 'MainThread' waited 0.3 s for the test's database"
        " connection, which thread 'holder' holds with a transaction open. Threads share"
        " the test's one connection, one transaction at a time"
    ) in error
    assert_nothing_left(url)


# -- 7. statements that end the transaction ------------------------------------------

EVERYWHERE = ["COMMIT", "commit;", "ROLLBACK", "  /* tidy */ END", "BEGIN"]
MYSQL_ONLY = [
    "/* migration */ CREATE TABLE ftc_made (id int)",
    "-- note\nCREATE TABLE ftc_made (id int)",
    "# note\nCREATE TABLE ftc_made (id int)",
    "/**/TRUNCATE sqla_tag",
    "/*!50000 TRUNCATE sqla_tag */",
    "ANALYZE TABLE sqla_item",
    "OPTIMIZE TABLE sqla_item",
    "LOCK TABLES sqla_item WRITE",
    "START TRANSACTION",
    "SET autocommit=1",
    "SET @@session.autocommit = 1",
    "GRANT USAGE ON *.* TO 'root'@'localhost'",
    "ALTER TABLE sqla_tag COMMENT 'x'",
    "RENAME TABLE sqla_tag TO sqla_tag",
    "DROP TABLE IF EXISTS ftc_never_made",
]


def _statement_cases() -> list[t.Any]:
    params = []
    for backend in backend_params():
        statements = EVERYWHERE + (MYSQL_ONLY if backend.id == "mysql" else [])
        for statement in statements:
            params.append(
                pytest.param(
                    backend.values[0],
                    statement,
                    marks=backend.marks,
                    id=f"{backend.id}-{statement[:24]}",
                )
            )
    return params


@pytest.mark.parametrize(("backend", "statement"), _statement_cases())
def test_a_statement_that_would_commit_is_refused(backend: str, statement: str) -> None:
    url = url_for(backend)
    errors: list[str] = []

    def test_it(self: TestCase) -> None:
        db.session.add(Item(name="before"))
        db.session.commit()
        try:
            db.session.execute(sa.text(statement))
        except Exception as e:
            errors.append(str(e))
        db.session.rollback()

    result = run(make_case(url, test_it=test_it))
    assert problems(result) == []
    assert len(errors) == 1 and REFUSED in errors[0], errors
    assert_nothing_left(url)


@pytest.mark.parametrize("backend", [p for p in backend_params() if p.id == "postgresql"])
def test_a_commit_hidden_after_another_statement_is_refused(backend: str) -> None:
    url = url_for(backend)
    errors: list[str] = []

    def test_it(self: TestCase) -> None:
        with db.engine.connect() as conn:
            try:
                conn.exec_driver_sql("INSERT INTO sqla_item (name) VALUES ('x; y'); COMMIT")
            except Exception as e:
                errors.append(str(e))

    assert problems(run(make_case(url, test_it=test_it))) == []
    assert len(errors) == 1 and REFUSED in errors[0], errors
    assert_nothing_left(url)


# Each database reads SQL by its own rules: a COMMIT that another dialect's rules would
# hide in a string or a comment (tests/test_sql_reader.py has the full table).
HIDDEN_COMMITS = {
    # Standard strings: the backslash is a character, the string ends before "; COMMIT".
    "postgresql": [r"SELECT 'a\'; COMMIT; SELECT 1", "SELECT 1 # 2; COMMIT"],
    # "--" begins a comment only before a space; /*!99999 */ is a comment before 9.99.99.
    "mysql": ["SELECT 1--1; COMMIT", "/*!99999 'x */ ; COMMIT"],
    "sqlite_file": [r"SELECT 'a\'; COMMIT"],
    "sqlite_memory": [r"SELECT 'a\'; COMMIT"],
}


def _hidden_commit_cases() -> list[t.Any]:
    return [
        pytest.param(
            backend.values[0], statement, way, marks=backend.marks, id=f"{backend.id}-{way}-{i}"
        )
        for backend in backend_params()
        for i, statement in enumerate(HIDDEN_COMMITS[backend.id])
        for way in ("session", "raw cursor")
    ]


@pytest.mark.parametrize(("backend", "statement", "way"), _hidden_commit_cases())
def test_a_commit_hidden_by_another_dialects_rules_is_refused(
    backend: str, statement: str, way: str
) -> None:
    url = url_for(backend)
    errors: list[str] = []

    def test_it(self: TestCase) -> None:
        db.session.add(Item(name="before"))
        db.session.commit()
        try:
            if way == "session":
                db.session.execute(sa.text(statement))
            else:
                raw = db.engine.raw_connection()
                try:
                    raw.cursor().execute(statement)
                finally:
                    raw.close()
        except Exception as e:
            errors.append(str(e))
        db.session.rollback()

    assert problems(run(make_case(url, test_it=test_it))) == []
    assert len(errors) == 1 and REFUSED in errors[0], errors
    # The row committed before it is not in the database.
    assert_nothing_left(url)


@pytest.mark.parametrize("backend", [p for p in backend_params() if p.id == "postgresql"])
def test_postgresql_strings_are_read_as_the_server_reads_them(backend: str) -> None:
    url = url_for(backend)
    seen: list[t.Any] = []

    def test_it(self: TestCase) -> None:
        # A string ending in a backslash, then one holding a word that ends statements.
        seen.append(tuple(db.session.execute(sa.text(r"SELECT 'C:\dir\', 'the; end'")).one()))
        # With standard_conforming_strings off the backslash escapes the quote: one
        # string, which the driver reports and the reader follows.
        db.session.execute(sa.text("SET standard_conforming_strings = off"))
        seen.append(db.session.execute(sa.text(r"SELECT 'a\'; COMMIT; --'")).scalar())
        with self.assertRaises(IsolationError):
            db.session.execute(sa.text(r"SELECT 'a\''; COMMIT"))
        db.session.rollback()
        _commit()

    assert problems(run(make_case(url, test_it=test_it))) == []
    assert seen == [("C:\\dir\\", "the; end"), "a'; COMMIT; --"]
    assert_nothing_left(url)


def test_temporary_tables_and_plain_statements_are_allowed(url: str) -> None:
    def test_it(self: TestCase) -> None:
        db.session.execute(sa.text("SELECT 'COMMIT; BEGIN' AS x -- COMMIT"))
        db.session.execute(sa.text("CREATE TEMPORARY TABLE ftc_scratch (id int)"))
        db.session.execute(sa.text("INSERT INTO ftc_scratch (id) VALUES (1)"))
        temporary = "TEMPORARY " if "mysql" in url else ""
        db.session.execute(sa.text(f"DROP {temporary}TABLE ftc_scratch"))
        _commit()

    assert problems(run(make_case(url, test_it=test_it))) == []
    assert_nothing_left(url)


# -- 8. interrupted tests ----------------------------------------------------------------


def test_an_interrupted_test_restores_every_patch(pooled_url: str) -> None:
    original_connect = sa.engine.Engine.connect
    original_raw_connection = sa.engine.Engine.raw_connection

    def interrupted(self: TestCase) -> None:
        _commit()
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run(make_case(pooled_url, test_it=interrupted))
    assert sa.engine.Engine.connect is original_connect
    assert sa.engine.Engine.raw_connection is original_raw_connection
    assert fresh_count(pooled_url) == 0

    # A later test's commit is rolled back too.
    result = run(make_case(pooled_url, test_it=lambda self: _commit()))
    assert problems(result) == []
    assert_nothing_left(pooled_url)


# -- 9. engine.raw_connection() --------------------------------------------------------


def _insert(cursor: t.Any, name: str) -> None:
    cursor.execute(f"INSERT INTO sqla_item (name) VALUES ('{name}')")


def test_a_raw_connection_commits_into_the_test(url: str) -> None:
    # Bulk loads and reports often take the DB-API connection and commit on it.
    def test_it(self: TestCase) -> None:
        raw = db.engine.raw_connection()
        cursor = raw.driver_connection.cursor()
        _insert(cursor, "committed")
        raw.commit()
        _insert(cursor, "rolled back")
        raw.rollback()
        self.assertEqual(count(), 1)
        cursor.execute("SELECT name FROM sqla_item")
        self.assertEqual([tuple(row) for row in cursor.fetchall()], [("committed",)])
        _insert(cursor, "not committed")
        raw.close()
        with db.engine.raw_connection() as again:
            _insert(again.cursor(), "committed on exit")
        self.assertEqual(count(), 2)

    result = run(make_case(url, test_it=test_it))
    assert problems(result) == []
    assert_nothing_left(url)


def test_a_raw_connection_recovers_from_an_error_with_rollback(pooled_url: str) -> None:
    def test_it(self: TestCase) -> None:
        db.session.add(Item(name="before"))
        db.session.commit()
        raw = db.engine.raw_connection()
        cursor = raw.cursor()
        with self.assertRaises(Exception):  # noqa: B017 (each driver has its own class)
            cursor.execute("SELECT * FROM no_such_table")
        raw.rollback()
        _insert(cursor, "after")
        raw.commit()
        raw.close()
        # PostgreSQL would refuse every statement after the error without a savepoint.
        self.assertEqual(count(), 2)

    result = run(make_case(pooled_url, test_it=test_it))
    assert problems(result) == []
    assert_nothing_left(pooled_url)


def test_a_raw_connection_refuses_what_would_leave_the_transaction(url: str) -> None:
    messages: list[str] = []

    def test_it(self: TestCase) -> None:
        raw = db.engine.raw_connection()
        _insert(raw.cursor(), "kept out")
        with self.assertRaises(IsolationError) as commit:
            raw.cursor().execute("COMMIT")
        with self.assertRaises(IsolationError) as autocommit:
            raw.autocommit = True
        messages.extend([str(commit.exception), str(autocommit.exception)])
        raw.commit()

    result = run(make_case(url, test_it=test_it))
    assert problems(result) == []
    assert REFUSED in messages[0]
    assert messages[1].endswith(
        " runs in a transaction that is rolled back afterwards, and setting a DB-API"
        " connection's autocommit would commit or leave it. Use commit() and rollback(),"
        " which keep to the test's transaction."
    )
    assert_nothing_left(url)


@pytest.mark.parametrize(
    "backend", [p for p in backend_params() if p.id in {"postgresql", "sqlite_file"}]
)
def test_the_execute_shortcut_of_a_raw_connection_is_checked_and_isolated(backend: str) -> None:
    # sqlite3's and psycopg's connections run a statement with execute() on a cursor
    # of their own.
    url = url_for(backend)
    messages: list[str] = []

    def test_it(self: TestCase) -> None:
        raw = db.engine.raw_connection()
        raw.execute("INSERT INTO sqla_item (name) VALUES ('shortcut')")
        raw.driver_connection.execute("INSERT INTO sqla_item (name) VALUES ('driver')")
        with self.assertRaises(IsolationError) as info:
            raw.execute("COMMIT")
        messages.append(str(info.exception))
        raw.commit()
        raw.close()
        self.assertEqual(count(), 2)

    assert problems(run(make_case(url, test_it=test_it))) == []
    assert REFUSED in messages[0]
    assert_nothing_left(url)


@pytest.mark.parametrize("backend", [p for p in backend_params() if p.id.startswith("sqlite")])
def test_sqlite_executescript_is_refused_before_it_commits(backend: str) -> None:
    url = url_for(backend)
    messages: list[str] = []

    def test_it(self: TestCase) -> None:
        db.session.add(Item(name="before"))
        db.session.commit()
        raw = db.engine.raw_connection()
        script = "INSERT INTO sqla_item (name) VALUES ('script');"
        for run_script in (raw.executescript, raw.cursor().executescript):
            with self.assertRaises(IsolationError) as info:
                run_script(script)
            messages.append(str(info.exception))
        raw.close()
        self.assertEqual(count(), 1)

    assert problems(run(make_case(url, test_it=test_it))) == []
    for message in messages:
        assert message.endswith(
            " runs in a transaction that is rolled back afterwards, and executescript()"
            " would commit it: sqlite3 commits the open transaction before it runs the"
            " script. Run the script's statements one at a time with execute()."
        )
    assert_nothing_left(url)


def test_a_raw_connection_kept_after_its_test_cannot_be_used(url: str) -> None:
    kept: list[t.Any] = []

    def test_it(self: TestCase) -> None:
        kept.append(db.engine.raw_connection())

    result = run(make_case(url, test_it=test_it))
    assert problems(result) == []
    with pytest.raises(IsolationError, match="whose isolation has ended"):
        kept[0].cursor()
    assert_nothing_left(url)


def test_the_dbapi_connection_under_a_session_cannot_commit_the_test(url: str) -> None:
    messages: list[str] = []

    def test_it(self: TestCase) -> None:
        db.session.add(Item(name="flushed"))
        db.session.flush()
        conn = db.session.connection()
        shared = conn.connection
        _insert(shared.dbapi_connection.cursor(), "by hand")
        with self.assertRaises(IsolationError):
            shared.driver_connection.commit()
        for end in (shared.commit, shared.rollback, shared.close):
            with self.assertRaises(IsolationError) as info:
                end()
            messages.append(str(info.exception))
        # SQLAlchemy's own uses of the DB-API connection still work.
        self.assertIsInstance(conn.get_isolation_level(), str)
        db.session.commit()
        self.assertEqual(count(), 2)

    result = run(make_case(url, test_it=test_it))
    assert problems(result) == []
    assert messages[0].endswith(
        " runs in a transaction that is rolled back afterwards, and commit() on the DB-API"
        " connection under a SQLAlchemy connection would commit or leave it. Commit or roll"
        " back the session or the SQLAlchemy connection instead (or use a connection of"
        " your own from engine.raw_connection())."
    )
    assert "rollback() on the DB-API connection" in messages[1]
    assert "close() on the DB-API connection" in messages[2]
    assert_nothing_left(url)


@pytest.mark.postgresql
def test_copy_on_a_raw_psycopg_connection_stays_in_the_test() -> None:
    url = url_for("postgresql")

    def test_it(self: TestCase) -> None:
        raw = db.engine.raw_connection()
        cursor = raw.cursor()
        with cursor.copy("COPY sqla_item (name) FROM STDIN") as copy:
            copy.write_row(("copied 1",))
            copy.write_row(("copied 2",))
        raw.commit()
        self.assertEqual(count(), 2)

    result = run(make_case(url, test_it=test_it))
    assert problems(result) == []
    assert_nothing_left(url)


# -- 10. the same database under another URL ---------------------------------------------


def _other_spelling(url: str) -> str:
    parsed = sa.make_url(url)
    other = {"127.0.0.1": "localhost", "localhost": "127.0.0.1"}[str(parsed.host)]
    return parsed.set(host=other).render_as_string(hide_password=False)


@pytest.fixture(params=[p for p in backend_params() if not p.id.startswith("sqlite")])
def server_url(request: pytest.FixtureRequest) -> str:
    # (SQLite files are told apart by their paths: section 4.)
    return url_for(request.param)


def test_an_engine_reaching_the_database_under_another_url_joins_the_test(
    server_url: str,
) -> None:
    pooled_url = server_url
    # A second setting for the same database (reports, a job queue), spelled
    # differently: another host name for the same server.
    other_url = _other_spelling(pooled_url)
    engines: list[sa.Engine] = []

    def create(self: TestCase) -> Flask:
        app = create_app(pooled_url)
        app.extensions["reports"] = sa.create_engine(other_url)
        engines.append(app.extensions["reports"])
        self.addCleanup(app.extensions["reports"].dispose)
        return app

    def test_it(self: TestCase) -> None:
        _commit()
        with self.app.extensions["reports"].begin() as conn:
            conn.execute(sa.insert(Item).values(name="report"))
        with Session(self.app.extensions["reports"]) as session:
            session.add(Item(name="report session"))
            session.commit()
        self.assertEqual(count(), 3)

    members = {f"test_{i}": test_it for i in range(3)}
    result = run(type("Inner", (TestCase,), {"db": db, "create_app": create, **members}))
    assert problems(result) == []
    assert len(engines) == 3
    assert_nothing_left(pooled_url)


def test_another_database_on_the_same_server_is_not_joined(server_url: str) -> None:
    pooled_url = server_url
    backend = sa.make_url(pooled_url).get_backend_name()
    other_database = url_for("mysql" if backend.startswith("mysql") else backend, "elsewhere")
    seen: list[str] = []

    def test_it(self: TestCase) -> None:
        # Not joined (it is another database), and not let through either: what it
        # wrote would be committed for real (issue 19, item 1).
        engine = sa.create_engine(other_database)
        try:
            with self.assertRaisesRegex(IsolationError, "Include that database in the isolation"):
                engine.connect()
            seen.append("refused")
        finally:
            engine.dispose()

    result = run(make_case(pooled_url, test_it=test_it))
    assert problems(result) == []
    assert seen == ["refused"]
    assert_nothing_left(pooled_url)


# -- helpers -------------------------------------------------------------------------


def _commit() -> None:
    db.session.add(Item(name="committed"))
    db.session.commit()


def _noop(self: unittest.TestCase) -> None:
    pass
