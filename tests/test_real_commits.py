"""Real-commit mode (``real_commits = True``, ``@pytest.mark.real_commits``), run for
real with pytester on SQLite (memory and file), PostgreSQL and MariaDB, through both
front doors: commits are seen from a brand-new NullPool connection during the test;
after it, the next test and a new connection see only the schema hook's and the
class-level (module-level) data, with sequences reset; bad input is refused or
reported, never a hang."""

from __future__ import annotations

import textwrap

import pytest
import sqlalchemy as sa
from _dbs import backend_params
from _dbs import url_for

pytest_plugins = ["pytester"]

MODELS = """
import threading

import sqlalchemy as sa
from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import Mapped, mapped_column

URL = {url!r}
db = SQLAlchemy()


class Author(db.Model):
    __tablename__ = "rc_author"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(50))


class Book(db.Model):
    __tablename__ = "rc_book"
    id: Mapped[int] = mapped_column(primary_key=True)
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("rc_author.id"))
    title: Mapped[str] = mapped_column(sa.String(50))


class Shelf(db.Model):
    __tablename__ = "rc_shelf"
    id: Mapped[int] = mapped_column(primary_key=True)


def hook():
    db.session.add(Author(name="hook"))
    db.session.commit()


def create_app():
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = URL
    db.init_app(app)

    @app.post("/books/<title>")
    def add_book(title):
        author = db.session.scalars(sa.select(Author).filter_by(name="hook")).one()
        book = Book(title=title, author_id=author.id)
        db.session.add(book)
        db.session.commit()
        return str(book.id)

    @app.get("/authors")
    def list_authors():
        return ",".join(sorted(db.session.scalars(sa.select(Author.name))))

    @app.post("/shelves")
    def add_shelf():
        db.session.add(Shelf())
        db.session.commit()
        return "added"

    return app


def outside(sql):
    \"\"\"What a brand-new connection sees (None in memory: there is no outside).\"\"\"
    if URL == "sqlite://":
        return None
    engine = sa.create_engine(URL, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(sa.text(sql))]
    finally:
        engine.dispose()


def in_thread(work):
    \"\"\"Run ``work`` in a thread with a session (and engine) of its own.\"\"\"
    errors = []

    def run():
        engine = sa.create_engine(URL, poolclass=sa.pool.NullPool)
        try:
            with engine.begin() as conn:
                work(conn)
        except Exception as e:
            errors.append(e)
        finally:
            engine.dispose()

    if URL == "sqlite://":
        return
    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    assert not errors, errors


def names():
    return sorted(db.session.scalars(sa.select(Author.name)))


def books():
    return list(db.session.scalars(sa.select(Book.title).order_by(Book.id)))
"""

CASE_TESTS = """
import sqlalchemy as sa
from flask_testcase import TestCase
from models import Author, Book, books, create_app, db, hook, in_thread, names, outside


class RealTests(TestCase):
    db = db
    real_commits = True
    schema_hook = staticmethod(hook)

    def create_app(self):
        return create_app()

    @classmethod
    def setUpTestData(cls):
        db.session.add(Author(name="class"))

    def test_1_commits_are_real(self):
        assert self.client.post("/books/one").text == "1"
        got = outside("SELECT title FROM rc_book")
        assert got in (None, [("one",)]), got
        in_thread(lambda conn: conn.execute(sa.text("UPDATE rc_author SET name = 'renamed'"
                                                     " WHERE name = 'class'")))
        if outside("SELECT 1") is not None:
            db.session.expire_all()
            assert names() == ["hook", "renamed"]
        db.session.add(Author(name="test"))
        db.session.commit()

    def test_2_the_next_test_sees_the_data_as_it_was(self):
        assert names() == ["class", "hook"]
        assert books() == []
        assert self.client.post("/books/two").text == "1"


class PlainRealTests(TestCase):
    db = db
    real_commits = True
    schema_hook = staticmethod(hook)

    def create_app(self):
        return create_app()

    def test_without_class_data(self):
        assert names() == ["hook"]
        db.session.add(Author(name="plain"))
        db.session.commit()
        assert db.session.scalar(sa.select(sa.func.max(Author.id))) == 2
"""

PLUGIN_CONFTEST = """
import pytest
from models import create_app, hook

@pytest.fixture
def app():
    return create_app()

@pytest.fixture(scope="session")
def schema_options():
    return {"schema_hook": hook}
"""

PLUGIN_TESTS = """
import pytest
import sqlalchemy as sa
from flask_testcase.pytest_plugin import data_fixture
from models import Author, books, in_thread, names, outside

pytestmark = pytest.mark.real_commits


@pytest.fixture(scope="module")
def app():
    from models import create_app
    return create_app()


@data_fixture(scope="module")
def authors(db):
    db.session.add(Author(name="module"))


def test_1_commits_are_real(client, db, authors):
    assert client.post("/books/one").text == "1"
    got = outside("SELECT title FROM rc_book")
    assert got in (None, [("one",)]), got
    in_thread(lambda conn: conn.execute(sa.text("DELETE FROM rc_book")))
    db.session.add(Author(name="test"))
    db.session.commit()


def test_2_the_next_test_sees_the_data_as_it_was(client, db, authors):
    assert names() == ["hook", "module"]
    assert books() == []
    assert client.post("/books/two").text == "1"
"""

PLUGIN_SINGLE = """
import pytest
from models import Author, names, outside


@pytest.mark.real_commits
def test_one_real_test(db):
    db.session.add(Author(name="single"))
    db.session.commit()
    got = outside("SELECT name FROM rc_author ORDER BY id")
    assert got in (None, [("hook",), ("single",)]), got


def test_then_a_rollback_test(db):
    assert names() == ["hook"]
"""


@pytest.fixture(params=backend_params())
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest("-p", "no:flask", "-p", "no:cacheprovider", *args)


def outside(url: str, sql: str) -> list[tuple[object, ...]]:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(sa.text(sql))]
    finally:
        engine.dispose()


def assert_as_the_hook_left_it(url: str) -> None:
    """From a new connection after the inner run: only the hook's row, nothing else
    (in memory there is nothing to see from outside)."""
    if url == "sqlite://":
        return
    assert outside(url, "SELECT id, name FROM rc_author") == [(1, "hook")]
    assert outside(url, "SELECT count(*) FROM rc_book") == [(0,)]


class TestBothFrontDoors:
    def test_testcase(self, pytester: pytest.Pytester, backend: str) -> None:
        url = url_for(backend, "real_case")
        pytester.makepyfile(models=MODELS.format(url=url), test_case=CASE_TESTS)
        result = run(pytester, "-v")
        result.assert_outcomes(passed=3)
        assert_as_the_hook_left_it(url)

    def test_plugin(self, pytester: pytest.Pytester, backend: str) -> None:
        url = url_for(backend, "real_plugin")
        pytester.makepyfile(models=MODELS.format(url=url), test_module=PLUGIN_TESTS)
        pytester.makeconftest(PLUGIN_CONFTEST)
        result = run(pytester, "-v")
        result.assert_outcomes(passed=2)
        assert_as_the_hook_left_it(url)

    def test_plugin_marker_on_one_test(self, pytester: pytest.Pytester, backend: str) -> None:
        url = url_for(backend, "real_single")
        pytester.makepyfile(models=MODELS.format(url=url), test_single=PLUGIN_SINGLE)
        pytester.makeconftest(PLUGIN_CONFTEST)
        run(pytester, "-v").assert_outcomes(passed=2)
        assert_as_the_hook_left_it(url)


SUBPROCESS = """
import os
import subprocess
import sys
import urllib.request

import pytest
from flask_testcase import TestCase, mark_written
from models import Author, create_app, db, hook, outside

SERVER = (
    "import sys; from werkzeug.serving import make_server; from models import create_app;"
    " server = make_server('127.0.0.1', 0, create_app());"
    " print(server.server_port, flush=True); server.serve_forever()"
)


class ServerApartTests(TestCase):
    db = db
    real_commits = True
    schema_hook = staticmethod(hook)

    def create_app(self):
        return create_app()

    @classmethod
    def setUpTestData(cls):
        db.session.add(Author(name="class"))

    def setUp(self):
        self.server = subprocess.Popen(
            [sys.executable, "-c", SERVER], stdout=subprocess.PIPE, text=True,
            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        )
        self.addCleanup(self.server.stdout.close)
        self.addCleanup(self.server.wait)
        self.addCleanup(self.server.kill)
        self.url = f"http://127.0.0.1:{self.server.stdout.readline().strip()}"

    def get(self, path, data=None):
        with urllib.request.urlopen(self.url + path, data=data, timeout=10) as response:
            return response.read().decode()

    def test_1_the_server_process_reads_committed_rows(self):
        db.session.add(Author(name="test"))
        db.session.commit()
        assert self.get("/authors") == "class,hook,test"
        assert self.get("/shelves", data=b"") == "added"
        assert outside("SELECT count(*) FROM rc_shelf") == [(1,)]
        mark_written("rc_shelf")

    def test_2_next(self):
        assert self.get("/authors") == "class,hook"
        assert outside("SELECT count(*) FROM rc_shelf") == [(0,)]
        with pytest.raises(ValueError, match="no table of that name.*rc_author, rc_book, rc_shelf"):
            mark_written("nowhere")
"""


LEFT_OPEN = """
import pytest
import sqlalchemy as sa
from flask_testcase import TestCase
from flask_testcase.isolation import _real
from models import create_app, db, hook

_real.LOCK_TIMEOUT = 1.0
LEFT = []


@pytest.fixture(autouse=True, scope="session")
def close_what_was_left():
    yield
    for conn in LEFT:
        conn.close()


class LeavesTests(TestCase):
    db = db
    real_commits = True
    schema_hook = staticmethod(hook)

    def create_app(self):
        return create_app()

    def test_leaves_a_transaction_open(self):
        db.session.execute(sa.text("INSERT INTO rc_shelf (id) VALUES (7)"))
        db.session.commit()
        conn = db.engine.connect()
        LEFT.append(conn)
        conn.execute(sa.text("UPDATE rc_author SET name = 'locked'"))
"""


@pytest.mark.parametrize("backend", ["sqlite_file", "postgresql", "mysql"])
def test_a_server_in_a_subprocess_reads_committed_rows(
    pytester: pytest.Pytester, backend: str
) -> None:
    url = url_for(backend, "real_apart")
    pytester.makepyfile(models=MODELS.format(url=url), test_apart=SUBPROCESS)
    run(pytester).assert_outcomes(passed=2)
    assert_as_the_hook_left_it(url)
    assert outside(url, "SELECT count(*) FROM rc_shelf") == [(0,)]


def test_mark_written_outside_a_test_says_where_it_works() -> None:
    from flask_testcase import mark_written

    with pytest.raises(ValueError, match=r"no test with a database is running.*real_commits"):
        mark_written("rc_shelf")


class TestBadInput:
    def test_not_a_test_database_is_refused(self, pytester: pytest.Pytester) -> None:
        url = "postgresql+psycopg://postgres@127.0.0.1:5432/production"
        pytester.makepyfile(models=MODELS.format(url=url), test_case=CASE_TESTS)
        result = run(pytester)
        result.assert_outcomes(failed=3)
        result.stdout.fnmatch_lines(
            ["*NotATestDatabaseError*production*set allow_any_database = True on RealTests*"]
        )

    @pytest.mark.parametrize("backend", ["sqlite_file", "postgresql", "mysql"])
    def test_a_connection_left_open_is_an_error_naming_the_test(
        self, pytester: pytest.Pytester, backend: str
    ) -> None:
        url = url_for(backend, "real_left")
        pytester.makepyfile(models=MODELS.format(url=url), test_left=LEFT_OPEN)
        result = run(pytester)
        result.assert_outcomes(failed=1)
        result.stdout.fnmatch_lines(
            ["*LeavesTests.test_leaves_a_transaction_open left 1 connection(s) to*checked out*"]
        )
        # The emptying could not wait for the row lock: it says so, after a second.
        result.stdout.fnmatch_lines(["*could not be emptied*within 1 s*"])
        # Not emptied, and said so; the left connection was closed after the run.
        assert outside(url, "SELECT id FROM rc_shelf") == [(7,)]
        engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
        with engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM rc_shelf"))
        engine.dispose()


def test_written_tables_and_the_mode_mismatch(pytester: pytest.Pytester) -> None:
    url = url_for("sqlite_file", "real_mismatch")
    pytester.makepyfile(
        models=MODELS.format(url=url),
        test_it=textwrap.dedent(
            """
            import pytest
            from flask_testcase.pytest_plugin import data_fixture
            from models import Author, create_app

            @pytest.fixture(scope="module")
            def app():
                return create_app()

            @data_fixture(scope="module")
            def authors(db):
                db.session.add(Author(name="rolled back"))

            @pytest.mark.real_commits
            def test_real_over_rollback_data(db, authors):
                pass
            """
        ),
    )
    pytester.makeconftest(PLUGIN_CONFTEST)
    result = run(pytester)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*asks for real commits*pytestmark = pytest.mark.real_commits*"])
