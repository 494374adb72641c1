"""Test databases: the name rule, ``database_for_tests`` (create, keep, drop at exit, one
per pytest-xdist worker) on PostgreSQL, MariaDB and SQLite files."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import _dbs
import pytest
import sqlalchemy as sa
from _commands import PYTEST
from _dbs import MYSQL
from _dbs import POSTGRESQL
from _dbs import require

from flask_testcase import NotATestDatabaseError
from flask_testcase import database_for_tests
from flask_testcase import is_test_database
from flask_testcase.databases import drop_database

SERVERS = [
    pytest.param("postgresql", POSTGRESQL, marks=pytest.mark.postgresql, id="postgresql"),
    pytest.param("mysql", MYSQL, marks=pytest.mark.mysql, id="mysql"),
]
ROOT = Path(__file__).resolve().parent.parent


def on_server(base: str, name: str) -> str:
    return f"{base.rsplit('/', 1)[0]}/{name}"


def databases_like(base: str, prefix: str) -> list[str]:
    url = sa.engine.make_url(base)
    if url.get_backend_name() == "postgresql":
        query = "SELECT datname FROM pg_database WHERE datname LIKE :p ORDER BY 1"
    else:
        query = (
            "SELECT schema_name FROM information_schema.schemata"
            " WHERE schema_name LIKE :p ORDER BY 1"
        )
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            return list(conn.scalars(sa.text(query), {"p": prefix + "%"}))
    finally:
        engine.dispose()


def python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, **env}
    environment.pop("PYTEST_XDIST_WORKER", None)
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
        check=False,
    )


class TestIsTestDatabase:
    @pytest.mark.parametrize(
        "url",
        [
            "sqlite://",
            "sqlite:///:memory:",
            "sqlite:///file::memory:?uri=true",
            "sqlite:///test.db",
            "sqlite:///instance/test_app.db",
            "sqlite:///app_test.sqlite",
            f"sqlite:///{os.path.join(os.path.realpath('/tmp'), 'anything.db')}",
            "postgresql://localhost/test",
            "postgresql://localhost/test_shop",
            "postgresql://localhost/Test-Shop",
            "postgresql://localhost/shop_test",
            "mysql+pymysql://root@localhost/test_shop_gw0",
        ],
    )
    def test_test_databases(self, url: str, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr("tempfile.gettempdir", lambda: "/tmp")
        assert is_test_database(url)

    @pytest.mark.parametrize(
        "url",
        [
            "sqlite:///app.db",
            "sqlite:////var/lib/app/testing.db",
            "postgresql://localhost/shop",
            "postgresql://localhost/testing",
            "postgresql://localhost/latest",
            "postgresql://localhost/contest_db",
            "postgresql://localhost/",
            "mysql+pymysql://root@localhost/prod",
        ],
    )
    def test_other_databases(self, url: str) -> None:
        assert not is_test_database(url)


class TestNaming:
    @pytest.mark.parametrize(
        ("url", "expected"),
        [
            ("sqlite://", "sqlite://"),
            ("sqlite:///:memory:", "sqlite:///:memory:"),
            ("sqlite:///app.db", "sqlite:///test_app.db"),
            ("sqlite:///instance/app.sqlite", "sqlite:///instance/test_app.sqlite"),
            ("sqlite:///test_app.db", "sqlite:///test_app.db"),
        ],
    )
    def test_sqlite_names(self, url: str, expected: str, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
        assert database_for_tests(url) == expected

    def test_the_xdist_worker_is_a_suffix(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw3")
        assert database_for_tests("sqlite:///app.db") == "sqlite:///test_app_gw3.db"

    def test_an_odd_worker_name_is_refused(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw0; drop")
        with pytest.raises(ValueError, match="is not a usable name suffix"):
            database_for_tests("sqlite:///app.db")

    def test_a_server_url_must_name_a_database(self) -> None:
        with pytest.raises(ValueError) as caught:
            database_for_tests("postgresql+psycopg://postgres@127.0.0.1:5432")
        assert str(caught.value) == (
            "database_for_tests() needs a URL that names a database, got"
            " 'postgresql+psycopg://postgres@127.0.0.1:5432'; add the name, e.g. '.../shop'"
        )

    def test_a_long_name_is_refused(self) -> None:
        with pytest.raises(ValueError, match="longer than the 63 bytes"):
            database_for_tests("postgresql+psycopg://postgres@127.0.0.1/" + "x" * 60)

    def test_other_backends_are_refused(self) -> None:
        with pytest.raises(ValueError) as caught:
            database_for_tests("oracle://scott@localhost/shop")
        assert str(caught.value) == (
            "database_for_tests() supports PostgreSQL, MySQL/MariaDB and SQLite, got"
            " 'oracle' ('oracle://scott@localhost/shop')"
        )

    def test_drop_database_refuses_a_database_not_named_for_tests(self) -> None:
        with pytest.raises(NotATestDatabaseError) as caught:
            drop_database("postgresql+psycopg://postgres@127.0.0.1/shop")
        assert str(caught.value) == (
            "drop_database() refuses to drop 'postgresql+psycopg://postgres@127.0.0.1/shop':"
            " its name does not mark it as a test database"
        )


class TestSqliteFiles:
    def test_an_absolute_file_is_removed_at_start_and_at_exit(self, tmp_path: Path) -> None:
        leftover = tmp_path / "test_app.db"
        leftover.write_text("from a crashed run")
        out = python(
            f"""
            import os
            from flask_testcase import database_for_tests
            url = database_for_tests("sqlite:///{tmp_path}/app.db")
            print(url, os.path.exists("{leftover}"))
            open("{leftover}", "w").close()
            """
        )
        assert out.stdout.split() == [f"sqlite:///{leftover}", "False"], out.stderr
        assert not leftover.exists()


@pytest.mark.parametrize(("server", "base"), SERVERS)
class TestServerDatabases:
    def test_created_then_dropped_at_exit(self, server: str, base: str) -> None:
        require(server)
        name = f"dx{os.getpid()}"
        out = python(
            f"""
            import sqlalchemy as sa
            from flask_testcase import database_for_tests
            url = database_for_tests({on_server(base, name)!r})
            assert database_for_tests({on_server(base, name)!r}) == url
            engine = sa.create_engine(url)
            with engine.begin() as conn:
                conn.exec_driver_sql("CREATE TABLE t (id INT)")
            print(sa.engine.make_url(url).database)
            """
        )
        assert out.returncode == 0, out.stderr
        assert out.stdout.strip() == f"test_{name}"
        assert out.stderr == ""
        assert databases_like(base, f"test_{name}") == []

    def test_keep_keeps_the_database_and_its_tables(self, server: str, base: str) -> None:
        require(server)
        name = f"dk{os.getpid()}"
        code = f"""
            import sqlalchemy as sa
            from flask_testcase import database_for_tests
            url = database_for_tests({on_server(base, name)!r})
            with sa.create_engine(url).begin() as conn:
                print(sa.inspect(conn).has_table("kept"))
                conn.exec_driver_sql("CREATE TABLE IF NOT EXISTS kept (id INT)")
            """
        try:
            first = python(code, FLASK_TESTCASE_KEEP_DATABASES="1")
            assert (first.returncode, first.stdout.strip()) == (0, "False"), first.stderr
            assert databases_like(base, f"test_{name}") == [f"test_{name}"]
            second = python(code, FLASK_TESTCASE_KEEP_DATABASES="1")
            assert (second.returncode, second.stdout.strip()) == (0, "True"), second.stderr
            # Without keep, a leftover database is dropped and made afresh.
            third = python(code)
            assert (third.returncode, third.stdout.strip()) == (0, "False"), third.stderr
            assert databases_like(base, f"test_{name}") == []
        finally:
            drop_database(on_server(base, f"test_{name}"))

    def test_a_class_transaction_left_open_does_not_block_the_drop(
        self, server: str, base: str
    ) -> None:
        require(server)
        name = f"do{os.getpid()}"
        out = python(
            f"""
            import unittest
            from flask import Flask
            from flask_sqlalchemy import SQLAlchemy
            from flask_testcase import TestCase, database_for_tests

            db = SQLAlchemy()

            class Row(db.Model):
                id = db.Column(db.Integer, primary_key=True)

            class Case(TestCase):
                db = db

                def create_app(self):
                    app = Flask(__name__)
                    app.config["SQLALCHEMY_DATABASE_URI"] = database_for_tests(
                        {on_server(base, name)!r})
                    db.init_app(app)
                    return app

                @classmethod
                def setUpTestData(cls):
                    db.session.add(Row())

                def test_it(self):
                    pass

            # Run alone, not in a suite: the class cleanup never runs and the class's
            # transaction, holding locks on the table, is still open at exit.
            result = unittest.TestResult()
            Case("test_it").run(result)
            assert result.wasSuccessful(), result.errors
            """
        )
        assert out.returncode == 0, out.stderr
        assert out.stderr == ""
        assert databases_like(base, f"test_{name}") == []

    def test_keep_argument_wins_over_the_environment(
        self, server: str, base: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        require(server)
        name = f"da{os.getpid()}"
        out = python(
            f"""
            from flask_testcase import database_for_tests
            database_for_tests({on_server(base, name)!r}, keep=False)
            """,
            FLASK_TESTCASE_KEEP_DATABASES="1",
        )
        assert out.returncode == 0, out.stderr
        assert databases_like(base, f"test_{name}") == []


XDIST_MODULE = """
import os

import sqlalchemy as sa
from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from flask_testcase import TestCase
from flask_testcase import database_for_tests

db = SQLAlchemy()


class Row(db.Model):
    __tablename__ = "xdist_row"
    id: Mapped[int] = mapped_column(primary_key=True)


def make(server):
    class Case(TestCase):
        def create_app(self):
            app = Flask(__name__)
            app.config["SQLALCHEMY_DATABASE_URI"] = database_for_tests(server)
            db.init_app(app)
            return app

        def record(self):
            db.session.add(Row())
            db.session.commit()
            assert db.session.scalar(sa.select(sa.func.count()).select_from(Row)) == 1
            worker = os.environ["PYTEST_XDIST_WORKER"]
            with open(os.path.join(os.environ["FTC_OUT"], worker), "a") as f:
                f.write(f"{db.engine.url.get_backend_name()} {db.engine.url.database}\\n")

    for i in range(6):
        setattr(Case, f"test_{i}", Case.record)
    Case.db = db
    return Case


TestPostgreSQL = make(os.environ["FTC_PG"])
TestMySQL = make(os.environ["FTC_MYSQL"])
"""


@pytest.mark.postgresql
@pytest.mark.mysql
def test_each_xdist_worker_gets_its_own_database(tmp_path: Path) -> None:
    require("postgresql")
    require("mysql")
    name = f"xd{os.getpid()}"
    (tmp_path / "test_xdist_module.py").write_text(XDIST_MODULE)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    env = {
        **os.environ,
        "FTC_OUT": str(out_dir),
        "FTC_PG": on_server(POSTGRESQL, name),
        "FTC_MYSQL": on_server(MYSQL, name),
    }
    env.pop("PYTEST_XDIST_WORKER", None)
    proc = subprocess.run(
        [
            *PYTEST,
            "-q",
            "-n",
            "2",
            "--dist",
            "loadscope",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:randomly",
            "test_xdist_module.py",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "12 passed" in proc.stdout
    seen = {
        worker.name: sorted(set(worker.read_text().split("\n")) - {""})
        for worker in out_dir.iterdir()
    }
    # loadscope sends each class to one worker: two classes, two workers.
    assert sorted(seen) == ["gw0", "gw1"], seen
    for worker, lines in seen.items():
        assert len(lines) == 1
        _backend, database = lines[0].split()
        assert database == f"test_{name}_{worker}"
    # Every worker dropped its databases when it exited.
    assert databases_like(POSTGRESQL, f"test_{name}") == []
    assert databases_like(MYSQL, f"test_{name}") == []


def test_an_unreachable_server_skips_but_fails_under_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_dbs, "_unreachable", lambda server: f"{server} is not reachable: boom")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match=r"^CI=true and postgresql is not reachable"):
        require("postgresql")
    monkeypatch.setenv("CI", "")
    with pytest.raises(pytest.skip.Exception, match=r"^mysql is not reachable: boom"):
        require("mysql")


def test_a_relative_sqlite_path_is_judged_by_name_even_inside_the_temp_dir(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from flask_testcase import is_test_database

    # The working directory (a checkout under /tmp, say) must not decide it.
    monkeypatch.chdir(tmp_path)
    assert not is_test_database("sqlite:///app.db")
    assert is_test_database("sqlite:///test_app.db")
    assert is_test_database(f"sqlite:///{tmp_path / 'app.db'}")
