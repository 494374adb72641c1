"""Session state that ROLLBACK does not undo (issue 19, items 2 to 6): a test's
settings, variables, temporary tables, locks, prepared statements, current database
and attached files never reach a later test on the same pool, nor the database after
the run; a qualified name into a database not for tests is refused.

Every scenario runs through both front doors (a ``TestCase`` class and plugin
functions, each in a real pytest run: pytester), on each backend it applies to. The
first test of each run changes the state; the second, on the same pool, sees it clean;
after the run, a brand-new NullPool connection checks what only the server can tell
(locks still held, rows in the database not for tests). Each failed on the code before
the fix.
"""

from __future__ import annotations

import os
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

# The outer tests make and read a database not named for tests, from outside.
pytestmark = pytest.mark.allow_any_database

APP = """
import sqlalchemy as sa
from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import Mapped, mapped_column

db = SQLAlchemy()


class StateRow(db.Model):
    __tablename__ = "state_row"
    __table_args__ = (sa.CheckConstraint("n >= 0", name="state_row_n"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    n: Mapped[int] = mapped_column(default=0)


def create_app(url):
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = url
    db.init_app(app)
    return app


def run(sql):
    return db.session.execute(sa.text(sql))


def value(sql):
    return db.session.execute(sa.text(sql)).scalar()
"""

# What each backend's first test runs, how the second one checks, and what the
# in-memory SQLite refuses.
CHANGES = {
    "mysql": [
        "SET FOREIGN_KEY_CHECKS=0",
        "SET SESSION sql_mode=''",
        "SET time_zone='+05:00'",
        "SET @x=42",
        "SELECT @y := 7",
        "CREATE TEMPORARY TABLE state_tmp (x INT)",
        "SELECT GET_LOCK('ftc_state_lock', 0)",
        "USE {other}",
    ],
    "postgresql": ["SELECT pg_advisory_lock(4242)", "PREPARE state_p AS SELECT 1"],
    "sqlite": [
        "PRAGMA query_only=1",
        "PRAGMA ignore_check_constraints=1",
        "ATTACH '{attach}' AS x",
    ],
}

CHECKS = {
    "mysql": """
        assert value("SELECT @@foreign_key_checks") == 1
        assert value("SELECT @@session.sql_mode") != ""
        assert value("SELECT @@session.time_zone") != "+05:00"
        assert value("SELECT @x") is None
        assert value("SELECT @y") is None
        assert value("SELECT IS_USED_LOCK('ftc_state_lock')") is None
        assert value("SELECT DATABASE()") == MAIN
        assert value(
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_name = 'state_tmp'"
        ) == 0
        with pytest.raises(sa.exc.ProgrammingError):
            run("SELECT * FROM state_tmp")
        db.session.rollback()
    """,
    "postgresql": """
        assert value("SELECT count(*) FROM pg_prepared_statements WHERE name = 'state_p'") == 0
        assert value(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = 4242"
        ) == 0
    """,
    "sqlite": """
        assert value("PRAGMA query_only") == 0
        assert value("PRAGMA ignore_check_constraints") == 0
        assert {row[1] for row in run("PRAGMA database_list")} <= {"main", "temp"}
        db.session.add(StateRow(n=1))
        db.session.flush()
        with pytest.raises(sa.exc.IntegrityError):
            with db.session.begin_nested():
                db.session.add(StateRow(n=-1))
                db.session.flush()
    """,
}

CASE = """
from flask_testcase import IsolationError, NotATestDatabaseError, TestCase


class State(TestCase):
    db = db

    def create_app(self):
        return create_app(URL)

    def test_1_changes_the_session(self):
{first}

    def test_2_finds_it_clean(self):
{second}
"""

PLUGIN = """
from flask_testcase import IsolationError, NotATestDatabaseError


@pytest.fixture
def app():
    return create_app(URL)


def test_1_changes_the_session(db):
{first}


def test_2_finds_it_clean(db):
{second}
"""

CHANGE = """
for sql in CHANGES:
    if MEMORY:
        with pytest.raises(IsolationError, match="in-memory SQLite"):
            run(sql)
    else:
        run(sql)
"""


def backend_of(url: str) -> str:
    name = sa.engine.make_url(url).get_backend_name()
    return "mysql" if name in {"mysql", "mariadb"} else name


def inner(
    pytester: pytest.Pytester, door: str, url: str, first: str, second: str, **names: t.Any
) -> pytest.RunResult:
    """One pytest run of two tests through ``door`` (``"case"``: a ``TestCase``;
    ``"plugin"``: functions with the ``db`` fixture) against ``url``: ``first`` then
    ``second``, on the same pool. Both must pass."""
    pytester.makepyfile(stateapp=APP)
    header = (
        "import pytest\nimport sqlalchemy as sa\n"
        "from stateapp import StateRow, create_app, db, run, value\n"
        f"URL = {url!r}\nMEMORY = {url == 'sqlite://'!r}\n"
        + "".join(f"{key} = {value!r}\n" for key, value in names.items())
    )
    indent = "        " if door == "case" else "    "

    def body(code: str) -> str:
        return textwrap.indent(textwrap.dedent(code).strip("\n"), indent)

    template = CASE if door == "case" else PLUGIN
    module = template.format(first=body(first), second=body(second))
    pytester.makepyfile(test_state=header + module)
    result = pytester.runpytest("-p", "no:flask", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
    return result


def fresh(url: str, database: str | None = None) -> sa.Engine:
    made = sa.engine.make_url(url)
    if database is not None:
        made = made.set(database=database)
    return sa.create_engine(made, poolclass=sa.pool.NullPool)


def scalar(url: str, sql: str) -> t.Any:
    engine = fresh(url)
    try:
        with engine.connect() as conn:
            return conn.exec_driver_sql(sql).scalar()
    finally:
        engine.dispose()


DOORS = ["case", "plugin"]


@pytest.mark.parametrize("door", DOORS)
@pytest.mark.parametrize("backend", backend_params())
def test_session_state_never_reaches_a_later_test(
    pytester: pytest.Pytester, backend: str, door: str
) -> None:
    url = url_for(backend, "state")
    kind = backend_of(url)
    names: dict[str, t.Any] = {"MAIN": sa.engine.make_url(url).database}
    changes = list(CHANGES[kind])
    if kind == "mysql":
        # Another test database: switching to it is let through, and undone.
        other = sa.engine.make_url(url_for(backend, "state_other")).database
        changes = [sql.format(other=other) for sql in changes]
    if kind == "sqlite":
        attached = pytester.path / "test_attached.db"
        sqlite3_file(attached)
        changes = [sql.format(attach=attached) for sql in changes]
    inner(pytester, door, url, CHANGE, CHECKS[kind], CHANGES=changes, **names)
    # From outside, after the run: nothing is held any more.
    if kind == "mysql":
        assert scalar(url, "SELECT IS_FREE_LOCK('ftc_state_lock')") == 1
    elif kind == "postgresql":
        held = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = 4242"
        assert scalar(url, held) == 0


def sqlite3_file(path: os.PathLike[str] | str) -> None:
    import sqlite3

    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE IF NOT EXISTS other (x)")
    conn.commit()
    conn.close()


# -- attaching files and qualified names ------------------------------------------------


def production_dir() -> str:
    """A directory outside the temporary directory: a file there is not a test database
    unless its name says so."""
    path = os.path.join("/var/tmp", f"ftc-state-production{os.getpid()}")
    assert not path.startswith(tempfile.gettempdir() + os.sep)
    os.makedirs(path, exist_ok=True)
    return path


SQLITE_PARAMS = [p for p in backend_params() if p.id.startswith("sqlite")]
SERVER_PARAMS = [p for p in backend_params() if p.id in {"postgresql", "mysql"}]

ATTACH_REFUSED = """
with pytest.raises(NotATestDatabaseError, match="refuses .*ATTACH of"):
    run(f"ATTACH '{PRODUCTION}' AS p")
with pytest.raises(IsolationError, match="does not exist, and SQLite would create it"):
    run(f"ATTACH '{MISSING}' AS m")
assert {row[1] for row in run("PRAGMA database_list")} <= {"main", "temp"}
"""
CLEAN_SQLITE = """
assert {row[1] for row in run("PRAGMA database_list")} <= {"main", "temp"}
"""


@pytest.mark.parametrize("door", DOORS)
@pytest.mark.parametrize("backend", SQLITE_PARAMS)
def test_attaching_a_file_not_for_tests_or_a_new_one_is_refused(
    pytester: pytest.Pytester, backend: str, door: str
) -> None:
    url = url_for(backend, "state")
    production = os.path.join(production_dir(), "production.db")
    sqlite3_file(production)
    missing = pytester.path / "test_missing.db"
    try:
        inner(
            pytester,
            door,
            url,
            ATTACH_REFUSED,
            CLEAN_SQLITE,
            PRODUCTION=production,
            MISSING=str(missing),
        )
    finally:
        os.remove(production)
        os.rmdir(os.path.dirname(production))
    # From outside: the new file was not made.
    assert not missing.exists()


@pytest.fixture
def production(request: pytest.FixtureRequest) -> t.Iterator[str]:
    """A database on the server whose name does not mark it for tests, with a table
    ``t`` of one row; dropped after the test. Yields its URL."""
    backend = request.param
    require(backend)
    name = f"state_production{os.getpid()}"
    base = sa.engine.make_url(SERVERS[backend])
    admin_url = (
        base.set(database="postgres") if backend == "postgresql" else base._replace(database=None)
    )
    admin = sa.create_engine(admin_url, poolclass=sa.pool.NullPool, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}")
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    url = base.set(database=name).render_as_string(hide_password=False)
    engine = fresh(url)
    with engine.begin() as conn:
        key = "SERIAL" if backend == "postgresql" else "INTEGER AUTO_INCREMENT"
        conn.exec_driver_sql(f"CREATE TABLE t (id {key} PRIMARY KEY, name VARCHAR(20))")
        conn.exec_driver_sql("INSERT INTO t (name) VALUES ('real')")
    engine.dispose()
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}")
        admin.dispose()


def production_state(url: str) -> tuple[t.Any, ...]:
    """Rows of ``t``, the tables there, and on MySQL the next AUTO_INCREMENT: what a
    test must not have changed, seen from a new connection."""
    engine = fresh(url)
    try:
        with engine.connect() as conn:
            rows = [tuple(r) for r in conn.exec_driver_sql("SELECT id, name FROM t ORDER BY id")]
            tables = sorted(sa.inspect(conn).get_table_names())
            counter = None
            if conn.dialect.name in {"mysql", "mariadb"}:
                counter = conn.exec_driver_sql(
                    "SELECT AUTO_INCREMENT FROM information_schema.tables"
                    " WHERE table_schema = DATABASE() AND table_name = 't'"
                ).scalar()
            return rows, tables, counter
    finally:
        engine.dispose()


QUALIFIED = """
for sql in [
    f"SELECT * FROM {PRODUCTION}.t",
    f"SELECT * FROM `{PRODUCTION}`.`t`",
    f"INSERT INTO {PRODUCTION}.t (name) VALUES ('test')",
    f"USE {PRODUCTION}",
]:
    with pytest.raises(NotATestDatabaseError, match=r"refuses .*test database"):
        run(sql)
with pytest.raises(NotATestDatabaseError, match=r"refuses .*test database"):
    db.session.connection().connection.select_db(PRODUCTION)
assert value("SELECT DATABASE()") == MAIN
"""


@pytest.mark.parametrize("door", DOORS)
@pytest.mark.parametrize("production", [p for p in SERVER_PARAMS if p.id == "mysql"], indirect=True)
def test_mysql_names_in_a_database_not_for_tests_are_refused(
    pytester: pytest.Pytester, production: str, door: str
) -> None:
    before = production_state(production)
    url = url_for("mysql", "state")
    inner(
        pytester,
        door,
        url,
        QUALIFIED,
        'assert value("SELECT DATABASE()") == MAIN',
        PRODUCTION=sa.engine.make_url(production).database,
        MAIN=sa.engine.make_url(url).database,
    )
    # Not a row, not a table, not even the counter moved.
    assert production_state(production) == before


# -- data shared by several tests ------------------------------------------------------

SHARED_CASE = """
from flask_testcase import IsolationError, TestCase


class Shared(TestCase):
    db = db

    def create_app(self):
        return create_app(URL)

    @classmethod
    def setUpTestData(cls):
        db.session.add(StateRow(n=1))

    def test_1_changes_the_session(self):
        with pytest.raises(IsolationError, match=MATCH):
            run(CHANGE)

    def test_2_finds_it_clean(self):
        assert value("SELECT count(*) FROM state_row") == 1
"""

SHARED_PLUGIN = """
from flask_testcase import IsolationError
from flask_testcase.pytest_plugin import data_fixture

APP = create_app(URL)


@pytest.fixture(scope="module")
def app():
    return APP


@data_fixture(scope="module")
def rows(db):
    db.session.add(StateRow(n=1))


def test_1_changes_the_session(rows, db):
    with pytest.raises(IsolationError, match=MATCH):
        run(CHANGE)


def test_2_finds_it_clean(rows, db):
    assert value("SELECT count(*) FROM state_row") == 1
"""

SHARED_CHANGE = {
    "mysql": "SET @x=1",
    "postgresql": "SELECT pg_advisory_lock(4243)",
    "sqlite": "PRAGMA query_only=1",
}


@pytest.mark.parametrize("door", DOORS)
@pytest.mark.parametrize("backend", [p for p in backend_params() if p.id != "sqlite_memory"])
def test_over_shared_data_a_statement_that_leaves_state_is_refused(
    pytester: pytest.Pytester, backend: str, door: str
) -> None:
    url = url_for(backend, "state")
    pytester.makepyfile(stateapp=APP)
    header = (
        "import pytest\nfrom stateapp import StateRow, create_app, db, run, value\n"
        f"URL = {url!r}\nCHANGE = {SHARED_CHANGE[backend_of(url)]!r}\n"
        "MATCH = 'shared by several tests'\n"
    )
    module = SHARED_CASE if door == "case" else SHARED_PLUGIN
    pytester.makepyfile(test_shared=header + module)
    result = pytester.runpytest("-p", "no:flask", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
    if backend_of(url) == "postgresql":
        held = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = 4243"
        assert scalar(url, held) == 0
