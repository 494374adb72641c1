"""The statement reader of isolation (flask_testcase.isolation._sql) reads SQL as each
database does: where strings, quoted identifiers and comments begin and end, so where
each statement ends, and which statements would end the test's transaction.

Fast and without a database: a table of cases per dialect. The backend tests in
test_isolation_holes.py prove the same from outside on the real servers.
"""

from __future__ import annotations

import typing as t

import pytest

from flask_testcase.isolation._sql import READINGS
from flask_testcase.isolation._sql import harmless
from flask_testcase.isolation._sql import readings
from flask_testcase.isolation._sql import refusal
from flask_testcase.isolation._sql import session_changes
from flask_testcase.isolation._sql import sniffer
from flask_testcase.isolation._sql import statement_heads


def heads(sql: str, reading: str) -> list[str]:
    return [" ".join(head.split()) for head in statement_heads(sql, READINGS[reading])]


# (reading, SQL, the statements' heads with quoted text and comments blanked)
SPLITS = [
    # -- PostgreSQL (standard_conforming_strings on) ---------------------------------
    ("postgresql", r"SELECT 'a\'; COMMIT; SELECT 1", ["SELECT ''", "COMMIT", "SELECT 1"]),
    ("postgresql", r"SELECT 'it''s; COMMIT'", ["SELECT ''"]),
    ("postgresql", r"SELECT E'a\'; COMMIT; SELECT 1'", ["SELECT E ''"]),
    ("postgresql", r"SELECT e'a\\'; COMMIT", ["SELECT e ''", "COMMIT"]),
    ("postgresql", r"SELECT E'a''; COMMIT'", ["SELECT E ''"]),
    ("postgresql", r"SELECT type'a\'; COMMIT", ["SELECT type ''", "COMMIT"]),
    ("postgresql", "SELECT E'a'\n'b\\'; COMMIT; '", ["SELECT E ''"]),
    ("postgresql", "SELECT E'a' -- more\n  'b\\'; COMMIT; '", ["SELECT E ''"]),
    ("postgresql", r"SELECT E'a' 'b\'; COMMIT", ["SELECT E '' ''", "COMMIT"]),
    ("postgresql", r"SELECT U&'\0041'; COMMIT", ["SELECT U& ''", "COMMIT"]),
    ("postgresql", r"SELECT B'1010', X'1F'; COMMIT", ["SELECT B '' , X ''", "COMMIT"]),
    ("postgresql", "SELECT $$a; COMMIT$$; SELECT 1", ["SELECT ''", "SELECT 1"]),
    ("postgresql", "SELECT $fn$ a $$ ; COMMIT $fn$", ["SELECT ''"]),
    ("postgresql", "SELECT $_1$ ; COMMIT $_1$; END", ["SELECT ''", "END"]),
    ("postgresql", "SELECT $1; COMMIT", ["SELECT $1", "COMMIT"]),
    ("postgresql", "SELECT a$b$ ; COMMIT; $b$", ["SELECT a$b$", "COMMIT", "''"]),
    ("postgresql", "SELECT 1 /* a /* b */ ; COMMIT */ ; SELECT 2", ["SELECT 1", "SELECT 2"]),
    ("postgresql", "SELECT 1 /* unclosed ; COMMIT", ["SELECT 1"]),
    ("postgresql", "SELECT 1; -- x\rCOMMIT", ["SELECT 1", "COMMIT"]),
    ("postgresql", "SELECT 'x' -- it's\n; COMMIT", ["SELECT ''", "COMMIT"]),
    ("postgresql", "SELECT 1--1; COMMIT", ["SELECT 1"]),
    ("postgresql", "SELECT 1 # 2; COMMIT", ["SELECT 1 # 2", "COMMIT"]),
    ("postgresql", 'SELECT "a;b" FROM t; COMMIT', ["SELECT '' FROM t", "COMMIT"]),
    ("postgresql", r'SELECT "a\"; COMMIT; SELECT 1', ["SELECT ''", "COMMIT", "SELECT 1"]),
    ("postgresql", 'SELECT "a"";b"; COMMIT', ["SELECT ''", "COMMIT"]),
    ("postgresql", "/*! COMMIT */ SELECT 1", ["SELECT 1"]),
    ("postgresql", "SELECT `a; COMMIT`", ["SELECT `a", "COMMIT`"]),
    ("postgresql", "SELECT [a; COMMIT]", ["SELECT [a", "COMMIT]"]),
    ("postgresql", "DO $$BEGIN PERFORM 1; END$$", ["DO ''"]),
    # -- PostgreSQL with standard_conforming_strings off ---------------------------
    ("postgresql-escapes", r"SELECT 'a\'; COMMIT; SELECT 1'", ["SELECT ''"]),
    ("postgresql-escapes", r"SELECT 'a\\'; COMMIT", ["SELECT ''", "COMMIT"]),
    # -- MySQL/MariaDB ---------------------------------------------------------------
    ("mysql", r"SELECT 'a\'; COMMIT; SELECT 1'", ["SELECT ''"]),
    ("mysql", r"SELECT 'a\\'; COMMIT", ["SELECT ''", "COMMIT"]),
    ("mysql", r'SELECT "a\"; COMMIT; SELECT 1"', ["SELECT ''"]),
    ("mysql", "SELECT 'it''s; COMMIT'", ["SELECT ''"]),
    ("mysql", 'SELECT "say ""hi""; COMMIT"', ["SELECT ''"]),
    ("mysql", "SELECT 1 # 2; COMMIT\n; SELECT 3", ["SELECT 1", "SELECT 3"]),
    ("mysql", "SELECT 1--1; COMMIT", ["SELECT 1--1", "COMMIT"]),
    ("mysql", "SELECT 1 -- x; COMMIT\n; SELECT 2", ["SELECT 1", "SELECT 2"]),
    ("mysql", "SELECT 1 --\tx; COMMIT", ["SELECT 1"]),
    ("mysql", "SELECT 1; --", ["SELECT 1"]),
    ("mysql", "SELECT 1 --\u00a0x; COMMIT", ["SELECT 1 -- x", "COMMIT"]),
    ("mysql", "/*!50000 COMMIT */", ["COMMIT"]),
    ("mysql", "/*M!100100 COMMIT */", ["COMMIT"]),
    ("mysql", "/*!40101 SET autocommit = 0 */", ["SET autocommit = 0"]),
    ("mysql", "/*!50000 SELECT '*/; COMMIT' */", ["SELECT ''"]),
    ("mysql", "/* COMMIT */ SELECT 1", ["SELECT 1"]),
    ("mysql", "SELECT 1 /* a /* b */ ; COMMIT */", ["SELECT 1", "COMMIT */"]),
    ("mysql", "SELECT `a;b` FROM t; COMMIT", ["SELECT '' FROM t", "COMMIT"]),
    ("mysql", r"SELECT `a\`; COMMIT`", ["SELECT ''", "COMMIT ''"]),
    ("mysql", "SELECT `a``;b`; COMMIT", ["SELECT ''", "COMMIT"]),
    ("mysql", "SELECT $$; COMMIT; $$", ["SELECT $$", "COMMIT", "$$"]),
    ("mysql", "SELECT '/*'; COMMIT; SELECT '*/'", ["SELECT ''", "COMMIT", "SELECT ''"]),
    ("mysql", "SELECT 2*/1; COMMIT", ["SELECT 2*/1", "COMMIT"]),
    ("mysql-ansi-quotes", r'SELECT "a\"; COMMIT; SELECT 1', ["SELECT ''", "COMMIT", "SELECT 1"]),
    ("mysql-no-backslash-escapes", r"SELECT 'a\'; COMMIT", ["SELECT ''", "COMMIT"]),
    ("mysql-no-backslash-escapes", r'SELECT "a\"; COMMIT', ["SELECT ''", "COMMIT"]),
    # -- SQLite ------------------------------------------------------------------------
    ("sqlite", r"SELECT 'a\'; COMMIT", ["SELECT ''", "COMMIT"]),
    ("sqlite", "SELECT 'it''s; COMMIT'", ["SELECT ''"]),
    ("sqlite", "SELECT [a;b] FROM t; COMMIT", ["SELECT '' FROM t", "COMMIT"]),
    ("sqlite", "SELECT `a;b`; COMMIT", ["SELECT ''", "COMMIT"]),
    ("sqlite", 'SELECT "a;""b"; COMMIT', ["SELECT ''", "COMMIT"]),
    ("sqlite", "SELECT $a; COMMIT; SELECT $a", ["SELECT $a", "COMMIT", "SELECT $a"]),
    ("sqlite", "SELECT 1 # x; COMMIT", ["SELECT 1 # x", "COMMIT"]),
    ("sqlite", "SELECT 1 /* a /* b */ ; COMMIT */", ["SELECT 1", "COMMIT */"]),
    ("sqlite", "/*! COMMIT */ SELECT 1", ["SELECT 1"]),
    ("sqlite", "SELECT 1; -- x\rCOMMIT\n", ["SELECT 1"]),
    ("sqlite", "SELECT 1--1; COMMIT", ["SELECT 1"]),
]


@pytest.mark.parametrize(("reading", "sql", "expected"), SPLITS, ids=lambda v: repr(v)[:40])
def test_statements_are_split_and_blanked_as_the_database_reads_them(
    reading: str, sql: str, expected: list[str]
) -> None:
    assert heads(sql, reading) == expected


def standard(on: bool | None) -> t.Callable[[], bool | None]:
    return lambda: on


FUNCTION = "CREATE FUNCTION f() RETURNS int AS $b$ BEGIN RETURN 1; END; $b$ LANGUAGE plpgsql"

# (dialect, SQL, whether it is refused); PostgreSQL without a driver report (None)
REFUSALS = [
    # -- every dialect -------------------------------------------------------------
    *[
        (d, s, True)
        for d in ("postgresql", "mysql", "sqlite", "mssql")
        for s in (
            "COMMIT",
            "commit;",
            "ROLLBACK",
            "  /* tidy */ END",
            "BEGIN",
            "START TRANSACTION",
            "PREPARE TRANSACTION 'x'",
            "COMMIT PREPARED 'x'",
            "ABORT",
            "select 1; commit",
            "SELECT 1;\n\tROLLBACK WORK",
            "ROLLBACK TRANSACTION",
        )
    ],
    *[
        (d, s, False)
        for d in ("postgresql", "mysql", "sqlite", "mssql")
        for s in (
            "SELECT 1",
            "SELECT 'COMMIT; BEGIN' AS x",
            "ROLLBACK TO SAVEPOINT sp",
            "ROLLBACK TO sp",
            "rollback work to sp",
            "SAVEPOINT sp; RELEASE SAVEPOINT sp",
            "UPDATE t SET a = ';'",
            "INSERT INTO t VALUES ('x; y'); SELECT 1",
            "SELECT committed FROM t; SELECT ending FROM t",
            "/* COMMIT */ SELECT 1",
            "SELECT 1 -- ; COMMIT",
        )
    ],
    # -- PostgreSQL ----------------------------------------------------------------
    ("postgresql", r"SELECT 'a\'; COMMIT; SELECT 1", True),
    ("postgresql", "SELECT 1 # 2; COMMIT", True),
    ("postgresql", "SELECT $$; COMMIT $$", False),
    ("postgresql", "SELECT $q$; COMMIT $q$; SELECT 1", False),
    ("postgresql", "SELECT $1; COMMIT", True),
    ("postgresql", "SELECT a$b$ ; COMMIT; $b$", True),
    ("postgresql", r"SELECT E'\'; COMMIT; '", False),
    ("postgresql", "SELECT 1 /* /* */ ; COMMIT */", False),
    ("postgresql", "SELECT 1--1; COMMIT", False),
    ("postgresql", "/*!50000 COMMIT */ SELECT 1", False),
    ("postgresql", "SELECT `a; COMMIT`", True),
    ("postgresql", "CREATE TABLE t (id int); DROP TABLE t", False),
    ("postgresql", "SET autocommit = 1", False),
    ("postgresql", FUNCTION, False),
    # -- MySQL/MariaDB -------------------------------------------------------------
    ("mysql", "SELECT 1--1; COMMIT", True),
    ("mysql", "SELECT 1 -- ; COMMIT", False),
    ("mysql", "SELECT 1 # 2; COMMIT", False),
    ("mysql", "/*!50000 COMMIT */", True),
    ("mysql", "/*M! COMMIT */", True),
    ("mysql", "/*!99999 'x */ ; COMMIT", True),
    ("mysql", "SELECT 1; /* /* */ COMMIT", True),
    ("mysql", "SELECT `a; COMMIT`", False),
    ("mysql", "SELECT $$; COMMIT; $$", True),
    ("mysql", "SET autocommit = 1", True),
    ("mysql", "SET @@session.autocommit = 1", True),
    ("mysql", "SET @x = 'autocommit'", False),
    ("mysql", "CREATE TABLE t (id int)", True),
    ("mysql", "CREATE TEMPORARY TABLE t (id int); DROP TEMPORARY TABLE t", False),
    ("mysql", "TRUNCATE t", True),
    ("mysql", "LOCK TABLES t WRITE", True),
    ("mariadb", "SELECT 1; ALTER TABLE t ADD c int", True),
    # A backslash: read with and without escapes (sql_mode may have either).
    ("mysql", r"SELECT 'a\'; COMMIT; SELECT 1", True),
    ("mysql", r"SELECT 'a\'; COMMIT; SELECT 1'", True),
    ("mysql", r'SELECT "a\"; COMMIT; SELECT 1', True),
    ("mysql", r"SELECT 'a\\', 'b; c'", False),
    # -- SQLite --------------------------------------------------------------------
    ("sqlite", r"SELECT 'a\'; COMMIT", True),
    ("sqlite", "SELECT [a; COMMIT]", False),
    ("sqlite", "SELECT `a; COMMIT`", False),
    ("sqlite", "SELECT $a$; COMMIT; SELECT $a$", True),
    ("sqlite", "SELECT 1 # 2; COMMIT", True),
    ("sqlite", "SELECT 1; /* /* */ COMMIT", True),
    ("sqlite", "CREATE TABLE t (id int); DROP TABLE t", False),
    # -- any other dialect: every reading ------------------------------------------
    ("mssql", r"SELECT 'a\'; COMMIT; SELECT 1", True),
    ("mssql", r"SELECT 'a\'; COMMIT; SELECT 1'", True),
    ("mssql", "SELECT 1 # 2; COMMIT", True),
    ("mssql", "SELECT 1--1; COMMIT", True),
    ("mssql", "SELECT $$; COMMIT; $$", True),
    ("mssql", "SELECT 1 /* /* */ ; COMMIT */", True),
    ("mssql", "/*!99999 'x */ ; COMMIT", True),
    ("mssql", "SELECT 'a; COMMIT'; SELECT 1", False),
    ("mssql", "CREATE TABLE t (id int)", False),
]


@pytest.mark.parametrize(("dialect", "sql", "refused"), REFUSALS, ids=lambda v: repr(v)[:40])
def test_a_statement_is_refused_when_a_reading_finds_one_that_ends_the_transaction(
    dialect: str, sql: str, refused: bool
) -> None:
    assert (refusal(sql, dialect) is not None) is refused


def test_the_reasons_say_what_the_statement_would_do() -> None:
    assert refusal("SELECT 1; COMMIT", "sqlite") == (
        "it ends the test's transaction, making its writes permanent"
    )
    assert refusal("SELECT 1; DROP TABLE t", "mariadb") == (
        "MySQL/MariaDB commit the open transaction before (and some after) it, making the"
        " test's writes permanent"
    )


class TestPostgreSQLStrings:
    """Which reading PostgreSQL gets follows what the driver says of
    ``standard_conforming_strings``; asked only when a backslash makes it matter."""

    def test_standard_strings_read_a_backslash_as_a_character(self) -> None:
        sql = r"SELECT 'a\'; COMMIT; SELECT 1"
        assert refusal(sql, "postgresql", standard(True)) is not None
        # A path ending in a backslash, then a string with a word that ends statements.
        assert refusal(r"SELECT 'C:\dir\', 'the; end'", "postgresql", standard(True)) is None

    def test_strings_with_escapes_when_the_driver_says_they_are_off(self) -> None:
        assert refusal(r"SELECT 'a\'; COMMIT; --'", "postgresql", standard(False)) is None
        assert refusal(r"SELECT 'a\''; COMMIT", "postgresql", standard(False)) is not None

    def test_both_readings_when_the_driver_does_not_say(self) -> None:
        assert refusal(r"SELECT 'a\''; COMMIT", "postgresql", standard(None)) is not None
        assert refusal(r"SELECT 'a\'; COMMIT; --'", "postgresql", standard(None)) is not None
        assert refusal(r"SELECT 'C:\dir\', 'the; end'", "postgresql") is not None

    def test_the_driver_is_not_asked_without_a_backslash(self) -> None:
        def never() -> bool:
            raise AssertionError("asked")

        assert refusal("SELECT 'a'; COMMIT", "postgresql", never) is not None
        assert refusal("SELECT 1", "postgresql", never) is None
        assert readings("postgresql", "SELECT 'x'; SELECT 2", never) == [READINGS["postgresql"]]


class TestReadings:
    @pytest.mark.parametrize(
        ("dialect", "sql", "expected"),
        [
            ("postgresql", "SELECT 1; SELECT 2", ["postgresql"]),
            ("postgresql", r"SELECT '\'", ["postgresql", "postgresql-escapes"]),
            ("mysql", "SELECT 1; SELECT 2", ["mysql"]),
            ("mariadb", "SELECT 1; SELECT 2", ["mysql"]),
            (
                "mysql",
                r"SELECT '\'",
                ["mysql", "mysql-ansi-quotes", "mysql-no-backslash-escapes"],
            ),
            ("sqlite", r"SELECT '\'; SELECT 2", ["sqlite"]),
            ("mssql", "SELECT 1; SELECT 2", ["postgresql", "mysql", "sqlite"]),
            ("mssql", r"SELECT '\'", sorted(READINGS)),
        ],
    )
    def test_the_readings_of_each_dialect(
        self, dialect: str, sql: str, expected: list[str]
    ) -> None:
        found = [reading.name for reading in readings(dialect, sql)]
        assert sorted(found) == sorted(expected)

    def test_an_executable_comment_is_also_read_as_a_comment_on_mysql(self) -> None:
        found = readings("mysql", "/*!80000 SELECT 1 */; SELECT 2")
        assert [r.executable_comments for r in found] == [True, False]
        assert [r.executable_comments for r in readings("postgresql", "/*! x */; y")] == [False]
        other = readings("mssql", "/*! x */; y")
        assert [r.name for r in other if r.name == "mysql"] == ["mysql", "mysql"]


class TestFastPath:
    @pytest.mark.parametrize(
        "sql",
        [
            "SELECT 1",
            "  select * from t where a = 'x'",
            "INSERT INTO t VALUES ('COMMIT')",
            "UPDATE t SET a = 1 -- COMMIT",
            "DELETE FROM t",
            "WITH x AS (SELECT 1) SELECT * FROM x",
            "SAVEPOINT ftc_1",
            "RELEASE SAVEPOINT ftc_1",
            r"SELECT 'a\' /* COMMIT */",
        ],
    )
    def test_a_plain_read_or_write_without_a_semicolon_is_not_scanned(self, sql: str) -> None:
        assert harmless(sql)
        assert refusal(sql, "mssql") is None

    @pytest.mark.parametrize(
        "sql",
        [
            "SELECT 1;",
            "SELECT 'a;b'",
            "SELECT 1 -- ;",
            "/* x */ SELECT 1",
            "COMMIT",
            "SET x = 1",
            "SELECTED",
            "CREATE TABLE t (id int)",
        ],
    )
    def test_anything_else_is_scanned(self, sql: str) -> None:
        assert not harmless(sql)


# -- session state (issue 19) -----------------------------------------------------------

# (dialect, SQL, the kinds and what of each change found; [] for none)
STATE = [
    ("mysql", "SET FOREIGN_KEY_CHECKS=0", [("state", "SET")]),
    ("mysql", "set @x = 42", [("state", "SET")]),
    ("mysql", "SELECT @y := 7", [("state", "a user variable (@name := ...)")]),
    ("mysql", "SELECT 1 INTO @z", [("state", "a user variable (@name := ...)")]),
    ("mysql", "CREATE TEMPORARY TABLE tmp (x INT)", [("state", "CREATE TEMPORARY TABLE")]),
    ("mysql", "SELECT GET_LOCK('a', 0)", [("state", "GET_LOCK()")]),
    ("mysql", "USE `test_other`", [("use", "USE")]),
    ("mysql", "SELECT 'GET_LOCK(' , ':='", []),
    ("mysql", "SELECT 1 /* SET x=1 */", []),
    ("mysql", "SELECT 1; SET time_zone='+05:00'", [("state", "SET")]),
    ("mysql", "SELECT IS_USED_LOCK('a')", []),
    ("postgresql", "SELECT pg_advisory_lock(1)", [("state", "pg_advisory_lock()")]),
    ("postgresql", "SELECT pg_try_advisory_lock_shared(1)", [("state", "pg_advisory_lock()")]),
    ("postgresql", "SELECT pg_advisory_xact_lock(1)", []),
    ("postgresql", "PREPARE p AS SELECT 1", [("state", "PREPARE")]),
    ("postgresql", "SELECT $$pg_advisory_lock(1)$$", []),
    ("postgresql", "SET search_path TO x", []),
    ("sqlite", "PRAGMA query_only=1", [("state", "PRAGMA query_only")]),
    (
        "sqlite",
        "PRAGMA main.ignore_check_constraints = ON",
        [("state", "PRAGMA ignore_check_constraints")],
    ),
    ("sqlite", "PRAGMA query_only", []),
    ("sqlite", "PRAGMA table_info(users)", []),
    ("sqlite", "PRAGMA user_version = 3", []),
    ("sqlite", "DETACH x", [("state", "DETACH")]),
    ("sqlite", "ATTACH DATABASE 'a.db' AS a", [("attach", "ATTACH")]),
]


@pytest.mark.parametrize(("dialect", "sql", "expected"), STATE)
def test_statements_that_leave_session_state_are_found(
    dialect: str, sql: str, expected: list[tuple[str, str]]
) -> None:
    assert [(c.kind, c.what) for c in session_changes(sql, dialect)] == expected


def test_the_targets_of_use_attach_and_qualified_names_are_read() -> None:
    (use,) = session_changes("USE `test_other`", "mysql")
    assert use.target == "test_other"
    (attach,) = session_changes("ATTACH 'it''s.db' AS a", "sqlite")
    assert attach.target == "it's.db"
    (unknown,) = session_changes("ATTACH ? AS a", "sqlite")
    assert unknown.target is None
    names = {"production"}
    sql = "SELECT * FROM `production`.`t` JOIN test_x.u ON 1 WHERE 'production.t' = t.x"
    assert [(c.kind, c.target) for c in session_changes(sql, "mysql", databases=names)] == [
        ("qualified", "production")
    ]


def test_the_sniffer_finds_what_a_harmless_statement_may_hide() -> None:
    mysql = sniffer("mysql", ["production"])
    assert mysql("SELECT GET_LOCK('a', 0)")
    assert mysql("SELECT @y := 1")
    assert mysql("SELECT * FROM `Production`.t")
    assert not mysql("SELECT users.id FROM users WHERE users.name = %s")
    assert sniffer("postgresql")("SELECT PG_ADVISORY_LOCK(1)")
    assert not sniffer("postgresql")("SELECT 1")
    assert sniffer("sqlite")("  pragma query_only=1")
    assert not sniffer("sqlite")("SELECT 1")
