"""pytest-flask-sqlalchemy's users switch by uninstalling it: its fixtures (``_db``
written by the user, ``db_session``, ``db_engine``) and ini options
(``mocked-engines``, ``mocked-sessions``, ``mocked-sessionmakers``) work on
flask_testcase's isolation. Inner runs are real pytest runs (pytester, ``-p no:flask``);
what they left is counted afterwards on a brand-new connection.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from _dbs import backend_params
from _dbs import url_for

APP = """
import sqlalchemy as sa
from flask import Flask, request
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import Mapped, mapped_column, scoped_session, sessionmaker

db = SQLAlchemy()

# Objects the app imports from here, which the ini options name.
engine = None
Session = sessionmaker()
session = scoped_session(Session)


class Person(db.Model):
    __tablename__ = "pfs_person"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(80))


def create_app(url):
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = url
    db.init_app(app)

    @app.post("/people")
    def add():
        db.session.add(Person(name=request.form["name"]))
        db.session.commit()
        return str(db.session.scalar(sa.select(sa.func.count(Person.id))))

    return app
"""

# Their README's conftest, on Flask-SQLAlchemy 3 (create_all in an app context).
CONFTEST = """
import pytest
from pfsapp import create_app, db

pytest_plugins = ["pytest-flask-sqlalchemy"]


@pytest.fixture(scope="session")
def app():
    app = create_app(URL)
    with app.app_context():
        db.create_all()
    return app


@pytest.fixture(scope="session")
def _db(app):
    return db
"""

TESTS = """
import sqlalchemy as sa
from pfsapp import Person


def test_1_writes_every_way(client, db_session, db_engine):
    db_session.add(Person(id=101, name="orm"))
    db_session.commit()
    db_engine.execute("INSERT INTO pfs_person (id, name) VALUES (102, 'engine')")
    with db_engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO pfs_person (id, name) VALUES (103, 'begin')"))
    raw = db_engine.raw_connection()
    cursor = raw.cursor()
    cursor.execute("INSERT INTO pfs_person (id, name) VALUES (104, 'raw')")
    raw.commit()
    raw.close()
    assert client.post("/people", data={"name": "view"}).text == "5"
    names = sorted(row[0] for row in db_engine.execute("SELECT name FROM pfs_person"))
    assert names == ["begin", "engine", "orm", "raw", "view"]
    assert db_session.get(Person, 104).name == "raw"


def test_2_nothing_persists(db_session, db_engine):
    assert db_engine.execute("SELECT count(*) FROM pfs_person").scalar() == 0
    assert db_session.query(Person).first() is None


def test_3_a_failed_statement_leaves_the_transaction_usable(db_session, db_engine):
    import pytest

    with pytest.raises(sa.exc.DBAPIError):
        with db_engine.begin() as conn:
            conn.execute(sa.text("SELECT nothing FROM no_such_table"))
    db_engine.execute("INSERT INTO pfs_person (id, name) VALUES (1, 'after')")
    assert db_session.get(Person, 1).name == "after"
"""


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest("-p", "no:flask", "-p", "no:cacheprovider", *args)


def make(pytester: pytest.Pytester, url: str, conftest: str = CONFTEST, **tests: str) -> None:
    pytester.makepyfile(pfsapp=APP)
    pytester.makeconftest(f"URL = {url!r}\n" + conftest)
    pytester.makepyfile(**tests)


def fresh_count(url: str) -> int:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            return int(conn.scalar(sa.text("SELECT count(*) FROM pfs_person")))
    finally:
        engine.dispose()


@pytest.fixture(params=[p for p in backend_params() if p.id != "sqlite_memory"])
def url(request: pytest.FixtureRequest) -> str:
    return url_for(request.param, "pfs")


def test_their_fixtures_isolate_every_test(pytester: pytest.Pytester, url: str) -> None:
    make(pytester, url, test_people=TESTS)
    result = run(pytester)
    result.assert_outcomes(passed=3)
    assert fresh_count(url) == 0


def test_in_memory_too(pytester: pytest.Pytester) -> None:
    make(pytester, "sqlite://", test_people=TESTS)
    run(pytester).assert_outcomes(passed=3)


def test_the_mocked_objects_are_the_tests_for_the_test_and_put_back_after(
    pytester: pytest.Pytester,
) -> None:
    make(
        pytester,
        "sqlite://",
        test_mocked="""
            import pfsapp
            from pfsapp import Person


            def test_1_replaced(db_session, db_engine):
                assert pfsapp.engine is db_engine
                assert pfsapp.session is db_session
                assert pfsapp.Session() is db_session()
                pfsapp.Session.configure(bind=None)  # accepted, does nothing
                made = pfsapp.Session()
                made.add(Person(id=1, name="app code"))
                made.commit()
                assert db_session.get(Person, 1).name == "app code"
                raise AssertionError("the test fails: the patches are undone all the same")


            def test_2_back(_db):
                # Only db_session and db_engine replace the objects.
                assert pfsapp.engine is None
                assert type(pfsapp.session).__name__ == "scoped_session"
                assert type(pfsapp.Session).__name__ == "sessionmaker"
                assert _db.session.query(Person).count() == 0
        """,
    )
    pytester.makeini(
        """
        [pytest]
        mocked-engines = pfsapp.engine
        mocked-sessions = pfsapp.session
        mocked-sessionmakers = pfsapp.Session
        """
    )
    result = run(pytester)
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*AssertionError: the test fails: the patches are undone*"])


def test_a_mocked_path_that_does_not_import_is_a_usage_error(pytester: pytest.Pytester) -> None:
    make(pytester, "sqlite://", test_it="def test_it(db_engine):\n    pass\n")
    pytester.makeini("[pytest]\nmocked-engines = pfsapp.nowhere\n")
    result = run(pytester)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        ["*mocked-engines names 'pfsapp.nowhere', which cannot be imported (*); write it as"
         " 'package.module.attribute'.*"]
    )  # fmt: skip


def test_without_a_db_fixture_the_error_says_what_to_define(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        "import flask, pytest\n\n@pytest.fixture\ndef app():\n    return flask.Flask('bare')\n"
    )
    pytester.makepyfile(test_it="def test_it(db_session):\n    pass\n")
    result = run(pytester)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "*NotImplementedError: _db fixture not defined. flask_testcase serves"
            " pytest-flask-sqlalchemy's fixtures (db_session, db_engine) on the database"
            " your _db fixture returns: define one in conftest.py that returns your"
            " Flask-SQLAlchemy instance, or call db.init_app(app) so that the app 'bare'"
            " has one.*"
        ]
    )


def test_without_a_db_fixture_the_apps_database_is_used(pytester: pytest.Pytester) -> None:
    conftest = CONFTEST.replace(
        '@pytest.fixture(scope="session")\ndef _db(app):', "def _unused(app):"
    )
    make(pytester, "sqlite://", conftest=conftest, test_people=TESTS)
    run(pytester).assert_outcomes(passed=3)


def test_their_names_beside_our_db_and_records(pytester: pytest.Pytester) -> None:
    make(
        pytester,
        "sqlite://",
        test_both="""
            from flask_testcase.asserts import assertNumQueries
            from pfsapp import Person


            def test_it(client, db_session, assertNumQueries):
                with assertNumQueries(2):
                    client.post("/people", data={"name": "ada"})
                assert db_session.query(Person).count() == 1
        """,
    )
    run(pytester).assert_outcomes(passed=1)
