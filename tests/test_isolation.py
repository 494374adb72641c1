"""The public building block, used outside TestCase: database_isolation() and
DatabaseIsolation, run for real on SQLite (memory and file), PostgreSQL and MariaDB.
Rows are counted from outside after each block (see test_sqlalchemy.fresh_count)."""

from __future__ import annotations

import os
import typing as t
from pathlib import Path

import pytest
import sqlalchemy as sa
from _dbs import backend_params
from _dbs import url_for
from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from test_sqlalchemy import NOT_A_DATABASE
from test_sqlalchemy import Item
from test_sqlalchemy import assert_nothing_left
from test_sqlalchemy import count
from test_sqlalchemy import create_app
from test_sqlalchemy import db
from test_sqlalchemy import fresh_count

from flask_testcase import DatabaseIsolation
from flask_testcase import IsolationError
from flask_testcase import NotATestDatabaseError
from flask_testcase import database_isolation
from flask_testcase.isolation._patches import EnginePatches


@pytest.fixture(params=backend_params())
def url(request: pytest.FixtureRequest) -> str:
    return url_for(request.param)


def add(name: str) -> None:
    db.session.add(Item(name=name))
    db.session.commit()


class TestDatabaseIsolation:
    def test_everything_the_block_commits_is_gone_after_it(self, url: str) -> None:
        app = create_app(url)
        client = app.test_client()
        with app.app_context(), database_isolation(db):
            add("body")
            assert client.post("/items", data={"name": "view"}).text == "2"
            with db.engine.begin() as conn:
                conn.execute(sa.insert(Item).values(name="raw"))
            assert count() == 3
        assert_nothing_left(url)

    def test_app_may_be_given_instead_of_pushed(self, url: str) -> None:
        app = create_app(url)
        with database_isolation(db, app):
            assert app.test_client().post("/items", data={"name": "view"}).text == "1"
        assert_nothing_left(url)

    def test_savepoint_levels_undo_their_own_changes(self, url: str) -> None:
        app = create_app(url)
        with app.app_context(), database_isolation(db) as isolation:
            add("shared")
            db.session.remove()
            with isolation.savepoint():
                add("first test")
                assert count() == 2
                db.session.remove()
            with isolation.savepoint():
                assert count() == 1
                db.session.remove()
        assert_nothing_left(url)

    def test_route_serves_another_app_over_the_same_transactions(self, url: str) -> None:
        first, second = create_app(url), create_app(url)
        with database_isolation(db, first) as isolation:
            with first.app_context():
                add("from the first app")
                home = db.engine
            with isolation.route(second), second.app_context():
                assert db.engine is home
                assert count() == 1
                add("from the second app")
                assert count() == 2
        assert_nothing_left(url)

    def test_capture_queries_lists_app_statements_only(self) -> None:
        app = create_app("sqlite://")
        with app.app_context(), database_isolation(db) as isolation:
            with isolation.capture_queries() as queries:
                add("x")
            assert [q.split()[0] for q in queries] == ["INSERT"]

    def test_nothing_stays_patched_when_the_block_raises(self, url: str) -> None:
        original = sa.engine.Engine.connect
        original_raw = sa.engine.Engine.raw_connection
        app = create_app(url)
        with pytest.raises(ZeroDivisionError), app.app_context(), database_isolation(db):
            add("doomed")
            assert sa.engine.Engine.raw_connection is not original_raw
            1 / 0  # noqa: B018
        assert sa.engine.Engine.connect is original
        assert sa.engine.Engine.raw_connection is original_raw
        assert EnginePatches.active == []
        assert_nothing_left(url)

    def test_a_connection_kept_after_the_block_refuses_to_work(self) -> None:
        url = url_for("sqlite_file")
        app = create_app(url)
        with app.app_context(), database_isolation(db):
            kept = db.engine.connect()
            kept.execute(sa.insert(Item).values(name="inside"))
        with pytest.raises(IsolationError) as info:
            kept.execute(sa.insert(Item).values(name="after"))
        assert str(info.value) == (
            "this database connection belonged to database_isolation(), whose isolation"
            " has ended; a session or connection kept from it (a thread that outlived its"
            " test, an object stored globally) cannot be used any more. Open a new one in"
            " the code that needs it."
        )
        assert fresh_count(url) == 0

    def test_end_twice_is_harmless(self) -> None:
        app = create_app("sqlite://")
        isolation = DatabaseIsolation(db)
        isolation.start(app)
        isolation.end()
        isolation.end()
        assert EnginePatches.active == []


class TestMisuse:
    def test_db_must_be_flask_sqlalchemy(self) -> None:
        with pytest.raises(TypeError) as info:
            DatabaseIsolation("db")
        assert str(info.value) == f"db {NOT_A_DATABASE}"

    def test_the_app_must_use_db(self) -> None:
        with pytest.raises(ValueError) as info, database_isolation(db, Flask("bare")):
            pass
        assert str(info.value) == (
            "db is not registered on the app 'bare', which has no Flask-SQLAlchemy: call"
            " db.init_app(app) in create_app() (your app factory)."
        )

    def test_starting_twice_is_an_error(self) -> None:
        app = create_app("sqlite://")
        isolation = DatabaseIsolation(db)
        isolation.start(app)
        try:
            with pytest.raises(RuntimeError) as info:
                isolation.start(app)
            assert str(info.value) == "database_isolation(): this isolation has started already"
        finally:
            isolation.end()

    def test_a_database_not_named_for_tests_is_refused_before_connecting(self) -> None:
        # Outside the temporary directory, in a folder that does not exist: connecting
        # would fail with OperationalError, so the refusal came first.
        path = Path(os.path.abspath(os.sep)) / "ftc-no-such-folder" / "production.db"
        app = Flask(__name__)
        app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + str(path)
        other = SQLAlchemy()
        other.init_app(app)
        with pytest.raises(NotATestDatabaseError) as info, database_isolation(other, app):
            pass
        assert str(info.value) == (
            f"flask_testcase refuses to use the database {str(path)!r} (sqlite:///{path},"
            " the default bind) for tests: its name does not mark it as a test database"
            " (it must be 'test', start with 'test_' or end with '_test'; SQLite may also be"
            " in memory or a file given by an absolute path under the temporary directory)."
            " Point the testing config at a test database, e.g. with"
            " flask_testcase.database_for_tests(url), or pass allow_any_database=True to"
            " database_isolation() to use it anyway."
        )

    def test_allow_any_database_opts_in(self, tmp_path: t.Any) -> None:
        app = Flask(__name__)
        app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + str(tmp_path / "mine.db")
        other = SQLAlchemy()
        other.init_app(app)
        with app.app_context(), database_isolation(other, allow_any_database=True):
            assert other.session.scalar(sa.text("SELECT 1")) == 1


class TestResetSequences:
    def test_ids_start_from_one_in_each_test(self, url: str) -> None:
        from test_sqlalchemy import make_case
        from test_sqlalchemy import problems
        from test_sqlalchemy import run

        def test_ids(self: t.Any) -> None:
            add("a")
            add("b")
            self.assertEqual(db.session.scalars(sa.select(Item.id).order_by(Item.id)).all(), [1, 2])

        case = make_case(url, reset_sequences=True, test_1=test_ids, test_2=test_ids)
        assert problems(run(case)) == []
        assert_nothing_left(url)

    def test_ids_continue_after_class_data(self, url: str) -> None:
        from test_sqlalchemy import make_case
        from test_sqlalchemy import problems
        from test_sqlalchemy import run

        def set_up_test_data(cls: t.Any) -> None:
            add("class data")

        def test_ids(self: t.Any) -> None:
            add("a")
            self.assertEqual(db.session.scalars(sa.select(Item.id).order_by(Item.id)).all(), [1, 2])

        case = make_case(
            url,
            reset_sequences=True,
            setUpTestData=classmethod(set_up_test_data),
            test_1=test_ids,
            test_2=test_ids,
        )
        errors = problems(run(case))
        if "mysql" in url:
            assert len(errors) == 2
            assert (
                "ValueError: Inner.setUpTestData(): reset_sequences cannot work on"
                " MySQL/MariaDB inside a wider transaction (class- or module-wide data):"
                " resetting AUTO_INCREMENT is DDL, which commits. Leave reset_sequences off"
                " there, or make the data in each test."
            ) in errors[0]
        else:
            assert errors == []
        assert_nothing_left(url)
