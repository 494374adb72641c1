"""Real-commit mode (``real_commits = True``, ``@pytest.mark.real_commits``), run for
real with pytester on SQLite (memory and file), PostgreSQL and MariaDB, through both
front doors: commits are seen from a brand-new NullPool connection during the test;
after it, the next test and a new connection see only the schema hook's and the
class-level (module-level) data, with sequences reset; bad input is refused or
reported, never a hang."""

from __future__ import annotations

import textwrap
import threading
import typing as t

import flask
import pytest
import sqlalchemy as sa
from _dbs import backend_params
from _dbs import url_for
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from flask_testcase import LiveServerTestCase

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
        pytester.makepyfile(models=MODELS.format(url=url), test_real_case=CASE_TESTS)
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
        pytester.makepyfile(models=MODELS.format(url=url), test_real_case=CASE_TESTS)
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


# -- the live server serves concurrently in real-commit mode ------------------------------

LIVE_APP = """
import threading
import urllib.request

import sqlalchemy as sa
from flask import Response, stream_with_context
from models import Author, create_app as base_app, db

released = threading.Event()
waiting = threading.Event()


def names():
    db.session.commit()  # a new transaction: what the other request committed
    return ",".join(sorted(db.session.scalars(sa.select(Author.name))))


def create_app():
    released.clear()
    waiting.clear()
    app = base_app()
    app.config["LIVESERVER_TIMEOUT"] = 3

    @app.get("/wait")
    def long_poll():
        names()  # holds a connection of its own while it waits
        waiting.set()
        assert released.wait(10)
        return names()

    @app.get("/events")
    def events():
        def stream():
            yield f"data: {names()}\\n\\n"
            assert released.wait(10)
            yield f"data: {names()}\\n\\n"

        return Response(stream_with_context(stream()), mimetype="text/event-stream")

    @app.post("/release")
    def release():
        db.session.add(Author(name="released"))
        db.session.commit()
        released.set()
        return "ok"

    return app


def get(url, data=None):
    with urllib.request.urlopen(url, data=data, timeout=10) as response:
        return response.read().decode()


def long_poll_then_release(base):
    got = {}
    thread = threading.Thread(target=lambda: got.update(body=get(base + "/wait")))
    thread.start()
    # Only once the long poll is being served: the release must run beside it.
    assert waiting.wait(10)
    assert get(base + "/release", data=b"") == "ok"
    thread.join(10)
    assert got == {"body": "hook,released"}


def events_while_posting(base):
    with urllib.request.urlopen(base + "/events", timeout=10) as stream:
        assert stream.readline() == b"data: hook\\n"
        assert stream.readline() == b"\\n"
        assert get(base + "/release", data=b"") == "ok"
        assert stream.readline() == b"data: hook,released\\n"
"""

LIVE_CASE = """
from flask_testcase import LiveServerTestCase
from liveapp import create_app, events_while_posting, long_poll_then_release
from models import db, hook, names, outside


class LiveTests(LiveServerTestCase):
    db = db
    real_commits = True
    schema_hook = staticmethod(hook)

    def create_app(self):
        return create_app()

    def test_a_long_poll_and_the_request_it_waits_for(self):
        long_poll_then_release(self.get_server_url())
        assert names() == ["hook", "released"]

    def test_server_sent_events_while_posting(self):
        events_while_posting(self.get_server_url())
        got = outside("SELECT name FROM rc_author ORDER BY id")
        assert got in (None, [("hook",), ("released",)]), got
"""

LIVE_PLUGIN = """
import pytest
from liveapp import create_app, events_while_posting, long_poll_then_release
from models import names

pytestmark = pytest.mark.real_commits


@pytest.fixture
def app():
    return create_app()


def test_a_long_poll_and_the_request_it_waits_for(live_server, db):
    long_poll_then_release(live_server.url())
    assert names() == ["hook", "released"]


def test_server_sent_events_while_posting(live_server, db):
    events_while_posting(live_server.url())
"""

SERVERS = ["sqlite_file", "postgresql", "mysql"]


class TestConcurrentLiveServer:
    @pytest.mark.parametrize("backend", SERVERS)
    def test_testcase(self, pytester: pytest.Pytester, backend: str) -> None:
        url = url_for(backend, "real_live_case")
        pytester.makepyfile(models=MODELS.format(url=url), liveapp=LIVE_APP, test_live=LIVE_CASE)
        run(pytester).assert_outcomes(passed=2)
        assert_as_the_hook_left_it(url)

    @pytest.mark.parametrize("backend", SERVERS)
    def test_plugin(self, pytester: pytest.Pytester, backend: str) -> None:
        url = url_for(backend, "real_live_plugin")
        pytester.makepyfile(
            models=MODELS.format(url=url), liveapp=LIVE_APP, test_live=LIVE_PLUGIN
        )
        pytester.makeconftest(PLUGIN_CONFTEST)
        run(pytester).assert_outcomes(passed=2)
        assert_as_the_hook_left_it(url)

    def test_in_rollback_mode_the_held_request_blocks_and_the_503_names_the_switch(
        self, pytester: pytest.Pytester
    ) -> None:
        url = url_for("sqlite_file", "real_live_rollback")
        pytester.makepyfile(
            models=MODELS.format(url=url),
            liveapp=LIVE_APP,
            test_live=LIVE_PLUGIN.replace("pytestmark = pytest.mark.real_commits", ""),
        )
        pytester.makeconftest(PLUGIN_CONFTEST)
        result = run(pytester, "-k", "long_poll")
        result.assert_outcomes(failed=1, errors=1)
        result.stdout.fnmatch_lines(
            ["*answered 503*switch the test to real commits*@pytest.mark.real_commits*"]
        )


# -- a real browser firing parallel requests ------------------------------------------------

browser_db = SQLAlchemy()


class Visit(browser_db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "rc_visit"
    id: Mapped[int] = mapped_column(primary_key=True)
    part: Mapped[int]


PARALLEL_PAGE = """<!doctype html>
<title>Parallel</title>
<ul id="parts"></ul>
<script>
Promise.all([1, 2, 3, 4].map(i => fetch("/part/" + i).then(r => r.text()))).then(parts => {
  for (const part of parts) {
    const li = document.createElement("li");
    li.textContent = part;
    document.getElementById("parts").appendChild(li);
  }
  document.body.insertAdjacentHTML("beforeend", '<p id="done">done</p>');
});
</script>
"""


def parallel_app(url: str) -> flask.Flask:
    app = flask.Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = url
    browser_db.init_app(app)
    lock = threading.Lock()
    running: list[int] = []
    app.extensions["peak"] = peak = [0]
    everyone_in = threading.Barrier(2, timeout=10)

    @app.get("/")
    def page() -> str:
        return PARALLEL_PAGE

    @app.get("/part/<int:part>")
    def one_part(part: int) -> str:
        browser_db.session.add(Visit(part=part))
        browser_db.session.commit()
        with lock:
            running.append(part)
            peak[0] = max(peak[0], len(running))
        if part <= 2:
            # Parts 1 and 2 meet: neither can finish unless both run at once.
            everyone_in.wait()
        with lock:
            running.remove(part)
        return f"part {part}"

    return app


@pytest.mark.browser
class ParallelBrowserTests(LiveServerTestCase):
    """Chromium loads a page that fetches four parts at once; in real-commit mode the
    live server serves them concurrently, each committing on a connection of its own."""

    db = browser_db
    real_commits = True
    backend: t.ClassVar[str] = "sqlite_file"
    driver: t.ClassVar[t.Any]

    @classmethod
    def setUpClass(cls) -> None:
        from test_browser import start_chromium
        from test_browser import stop_chromium

        super().setUpClass()
        cls.driver = start_chromium()
        cls.addClassCleanup(stop_chromium, cls.driver)

    def create_app(self) -> flask.Flask:
        return parallel_app(url_for(self.backend, "real_browser"))

    def test_1_parallel_requests_are_served_at_once(self) -> None:
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support import expected_conditions as ec
        from selenium.webdriver.support.ui import WebDriverWait

        self.driver.get(self.get_server_url() + "/")
        WebDriverWait(self.driver, 15).until(
            ec.presence_of_element_located((By.CSS_SELECTOR, "#done"))
        )
        parts = [li.text for li in self.driver.find_elements(By.CSS_SELECTOR, "#parts li")]
        self.assertEqual(parts, ["part 1", "part 2", "part 3", "part 4"])
        self.assertGreaterEqual(self.app.extensions["peak"][0], 2)
        url = url_for(self.backend, "real_browser")
        self.assertEqual(
            outside(url, "SELECT part FROM rc_visit ORDER BY part"), [(1,), (2,), (3,), (4,)]
        )

    def test_2_the_next_test_starts_empty(self) -> None:
        url = url_for(self.backend, "real_browser")
        self.assertEqual(outside(url, "SELECT count(*) FROM rc_visit"), [(0,)])


@pytest.mark.postgresql
class ParallelBrowserOnPostgreSQLTests(ParallelBrowserTests):
    backend = "postgresql"


@pytest.mark.mysql
class ParallelBrowserOnMariaDBTests(ParallelBrowserTests):
    backend = "mysql"


def test_database_isolation_with_real_commits_outside_any_test() -> None:
    """The building block, without a front door: a commit inside the block is seen from
    a new connection; after it, the table is as it was."""
    from test_sqlalchemy import Item
    from test_sqlalchemy import create_app as item_app
    from test_sqlalchemy import db as item_db

    from flask_testcase import database_isolation

    url = url_for("sqlite_file", "real_block")
    app = item_app(url)
    with app.app_context(), database_isolation(item_db, real_commits=True) as isolation:
        item_db.session.add(Item(name="kept"))
        item_db.session.commit()
        assert outside(url, "SELECT name FROM sqla_item") == [("kept",)]
        assert isolation.written_tables() == ["sqla_item"]
        item_db.session.remove()
    assert outside(url, "SELECT count(*) FROM sqla_item") == [(0,)]
