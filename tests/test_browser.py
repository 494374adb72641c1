"""A real browser against LiveServerTestCase: headless Chromium driven by Selenium.

The browser and its driver are ``chromium`` and ``chromedriver`` found on ``PATH`` (Debian:
``apt-get install chromium chromium-driver``), given to Selenium by path so that Selenium
Manager never downloads anything. Without them the tests skip with the reason; under
``CI=true`` they fail instead.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import textwrap
import typing as t
import unittest
from pathlib import Path

import flask
import jinja2
import pytest
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import String
from sqlalchemy import create_engine
from sqlalchemy import select
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.pool import NullPool

from flask_testcase import LiveServerTestCase

pytestmark = pytest.mark.browser

#: The programs the browser tests need, looked up on ``PATH`` (as the examples do).
BROWSER_PROGRAMS = ("chromium", "chromedriver")

TEMPLATES = {
    "greet.html": """<!doctype html>
<title>Greet</title>
<form method="post">
  <label>Name <input name="name" id="name"></label>
  <button type="submit" id="send">Send</button>
</form>
{% for message in get_flashed_messages() %}<p class="error">{{ message }}</p>{% endfor %}
""",
    "result.html": """<!doctype html>
<title>Result</title>
<h1 id="greeting">Hello, {{ name }}!</h1>
{% for message in get_flashed_messages() %}<p class="flash">{{ message }}</p>{% endfor %}
<ul id="everyone">{% for g in greeted %}<li>{{ g }}</li>{% endfor %}</ul>
""",
}

db = SQLAlchemy()


class Greeting(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "flask_testcase_browser_greeting"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))


def names() -> list[str]:
    return list(db.session.scalars(select(Greeting.name).order_by(Greeting.id)))


def create_app(database: str = "sqlite://") -> flask.Flask:
    app = flask.Flask(__name__)
    app.config.update(SECRET_KEY="browser", TESTING=True, SQLALCHEMY_DATABASE_URI=database)
    app.jinja_loader = jinja2.DictLoader(TEMPLATES)
    db.init_app(app)

    @app.route("/greet", methods=["GET", "POST"])
    def greet() -> t.Any:
        if flask.request.method == "POST":
            name = flask.request.form.get("name", "").strip()
            if not name:
                flask.flash("A name is required.")
                return flask.render_template("greet.html"), 400
            db.session.add(Greeting(name=name))
            db.session.commit()
            flask.flash(f"Greeted {name}")
            return flask.redirect(flask.url_for("result", name=name))
        return flask.render_template("greet.html")

    @app.route("/result/<name>")
    def result(name: str) -> str:
        return flask.render_template("result.html", name=name, greeted=names())

    return app


def unavailable(reason: str) -> t.NoReturn:
    """Skip, or fail under CI, where the browser tests must run."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true but the browser tests cannot run: {reason}", pytrace=False)
    raise unittest.SkipTest(reason)


def require_chromium() -> tuple[str, str]:
    """Return the paths of chromium and chromedriver found on ``PATH``; skip (or fail
    under CI) unless both and Selenium are there."""
    found = [shutil.which(name) for name in BROWSER_PROGRAMS]
    missing = [name for name, path in zip(BROWSER_PROGRAMS, found) if path is None]
    if missing:
        unavailable(
            f"{' and '.join(missing)} not found on PATH; install Debian's chromium and"
            " chromium-driver packages"
        )
    try:
        import selenium  # noqa: F401
    except ImportError:
        unavailable("selenium is not installed; pip install -e '.[browser]'")
    chromium, chromedriver = found
    assert chromium is not None and chromedriver is not None
    return chromium, chromedriver


def start_chromium() -> t.Any:
    """Start headless Chromium through chromedriver, both given by path."""
    chromium, chromedriver = require_chromium()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        # This machine's network is closed: without these Chromium keeps trying to
        # reach Google's services in the background.
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1024,768",
    ):
        options.add_argument(flag)
    profile = tempfile.mkdtemp(prefix="flask-testcase-chromium-")
    options.add_argument(f"--user-data-dir={profile}")
    # A driver path in the Service means Selenium Manager is never run.
    service = Service(executable_path=chromedriver)
    try:
        driver = webdriver.Chrome(options=options, service=service)
    except BaseException:
        shutil.rmtree(profile, ignore_errors=True)
        raise
    driver.set_page_load_timeout(30)
    driver.profile_dir = profile
    return driver


def stop_chromium(driver: t.Any) -> None:
    try:
        driver.quit()
    finally:
        shutil.rmtree(driver.profile_dir, ignore_errors=True)


class BrowserTests(LiveServerTestCase):
    """One Chromium per class (it takes about a second to start), one server per class.

    With ``db`` set the browser's requests run in the test's transaction: the rows the
    test writes are on the pages, the rows the form writes are in the test's
    database, and all of it is rolled back after each test.
    """

    db = db
    database: t.ClassVar[str] = "sqlite://"
    driver: t.ClassVar[t.Any]

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        cls.driver = start_chromium()
        cls.addClassCleanup(stop_chromium, cls.driver)

    def create_app(self) -> flask.Flask:
        return create_app(self.database)

    def wait_for(self, css: str) -> t.Any:
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support import expected_conditions as ec
        from selenium.webdriver.support.ui import WebDriverWait

        return WebDriverWait(self.driver, 10).until(
            ec.presence_of_element_located((By.CSS_SELECTOR, css))
        )

    def test_fill_and_submit_a_form_then_see_the_result_page_and_the_row(self) -> None:
        from selenium.webdriver.common.by import By

        db.session.add(Greeting(name="Grace"))
        db.session.commit()

        self.driver.get(self.get_server_url() + "/greet")
        self.assertEqual(self.driver.title, "Greet")
        self.driver.find_element(By.ID, "name").send_keys("Ada")
        self.driver.find_element(By.ID, "send").click()

        # Wait for the page before touching the database: the server's requests and
        # the test share one connection.
        greeting = self.wait_for("#greeting")
        self.assertEqual(greeting.text, "Hello, Ada!")
        self.assertEqual(self.driver.current_url, self.get_server_url() + "/result/Ada")
        self.assertEqual(self.driver.find_element(By.CSS_SELECTOR, ".flash").text, "Greeted Ada")
        everyone = self.driver.find_elements(By.CSS_SELECTOR, "#everyone li")
        self.assertEqual([li.text for li in everyone], ["Grace", "Ada"])
        # The row the form wrote is in the test's database.
        self.assertEqual(names(), ["Grace", "Ada"])
        # What the browser made the server do was recorded like a test-client request.
        self.assertEqual([t.name for t in self.templates], ["greet.html", "result.html"])
        self.assertContext("name", "Ada")
        self.assertMessageFlashed("Greeted Ada")

    def test_a_rejected_form_shows_the_error(self) -> None:
        from selenium.webdriver.common.by import By

        self.driver.get(self.get_server_url() + "/greet")
        self.driver.find_element(By.ID, "send").click()
        error = self.wait_for(".error")
        self.assertEqual(error.text, "A name is required.")
        self.assertMessageFlashed("A name is required.")
        # Only this test's renders: the previous test's app and records are gone.
        self.assertEqual([t.name for t in self.templates], ["greet.html", "greet.html"])
        self.assertEqual(names(), [])

    def test_z_nothing_is_left_from_the_other_tests(self) -> None:
        from selenium.webdriver.common.by import By

        self.driver.get(self.get_server_url() + "/result/nobody")
        self.wait_for("#greeting")
        self.assertEqual(self.driver.find_elements(By.CSS_SELECTOR, "#everyone li"), [])
        self.assertEqual(names(), [])


def server_database(url: str, what: str) -> str:
    """``url`` if its server answers; else skip the class (fail under CI)."""
    try:
        create_engine(url, poolclass=NullPool).connect().close()
    except Exception as exc:
        unavailable(f"{what} is not reachable: {exc}")
    return url


class BrowserOnPostgreSQLTests(BrowserTests):
    database = "postgresql+psycopg://postgres@127.0.0.1:5432/test"

    @classmethod
    def setUpClass(cls) -> None:
        server_database(cls.database, "PostgreSQL at 127.0.0.1:5432")
        super().setUpClass()


class BrowserOnMariaDBTests(BrowserTests):
    database = "mysql+pymysql://root@127.0.0.1:3306/test"

    @classmethod
    def setUpClass(cls) -> None:
        server_database(cls.database, "MariaDB at 127.0.0.1:3306")
        super().setUpClass()


def path_with(tmp_path: Path, *programs: str) -> str:
    """A ``PATH`` of one directory holding a stand-in executable for each of ``programs``."""
    for name in programs:
        program = tmp_path / name
        program.write_text("#!/bin/sh\nexit 1\n")
        program.chmod(0o755)
    return str(tmp_path)


class TestWithoutChromium:
    """What happens on a machine without the browser: a skip, or a failure under CI.

    Each test sets ``PATH`` itself, so the result does not depend on what is installed.
    """

    @pytest.mark.skipif(os.name != "posix", reason="stand-in programs are shell scripts")
    def test_finds_both_on_path(self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
        pytest.importorskip("selenium")
        monkeypatch.setenv("PATH", path_with(tmp_path, "chromium", "chromedriver"))
        assert require_chromium() == (str(tmp_path / "chromium"), str(tmp_path / "chromedriver"))

    def test_skips_with_the_reason(self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
        monkeypatch.delenv("CI", raising=False)
        monkeypatch.setenv("PATH", path_with(tmp_path))
        with pytest.raises(unittest.SkipTest) as info:
            require_chromium()
        assert str(info.value) == (
            "chromium and chromedriver not found on PATH; install Debian's chromium and"
            " chromium-driver packages"
        )

    @pytest.mark.skipif(os.name != "posix", reason="stand-in programs are shell scripts")
    def test_fails_under_ci(self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
        monkeypatch.setenv("CI", "true")
        monkeypatch.setenv("PATH", path_with(tmp_path, "chromium"))
        with pytest.raises(pytest.fail.Exception) as info:
            require_chromium()
        assert str(info.value) == (
            "CI=true but the browser tests cannot run: chromedriver not found on PATH;"
            " install Debian's chromium and chromium-driver packages"
        )


def test_the_docs_browser_example_passes(monkeypatch: pytest.MonkeyPatch) -> None:
    """docs/live-server.rst's browser example, run as a user would run it."""
    import re
    import types

    text = (Path(__file__).parent.parent / "docs" / "live-server.rst").read_text("utf-8")
    blocks = re.findall(r"\.\. code-block:: python\n\n((?:    .*\n|\n)+)", text)
    examples = [textwrap.dedent(b) for b in blocks if "webdriver" in b]
    assert len(examples) == 1, "docs/live-server.rst should have one browser example"
    require_chromium()
    module = types.ModuleType("live_server_docs_example")
    monkeypatch.setitem(sys.modules, module.__name__, module)
    exec(compile(examples[0], "docs/live-server.rst", "exec"), module.__dict__)
    suite = unittest.TestLoader().loadTestsFromTestCase(module.GreetingInTheBrowser)
    result = unittest.TestResult()
    suite.run(result)
    assert result.testsRun == 1
    assert result.wasSuccessful(), [text for _, text in result.errors + result.failures]
