"""A real browser (headless Chromium through Selenium) against the ``live_server``.

Needs the ``selenium`` package and Chromium with its driver on ``PATH`` (Debian:
``apt-get install chromium chromium-driver``); nothing downloads a browser. Without
them the tests are skipped, except under ``CI=true``, where that is a failure.
"""

from __future__ import annotations

import os
import shutil

import pytest
from memoapp.models import Memo

from flask_testcase import assert_form_error
from flask_testcase import override_config

from .conftest import PASSWORD

try:
    from selenium import webdriver
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.wait import WebDriverWait
except ImportError:  # pragma: no cover - depends on the environment
    webdriver = None

CHROMIUM = shutil.which("chromium")
CHROMEDRIVER = shutil.which("chromedriver")


def _missing():
    if webdriver is None:
        return "selenium is not installed (pip install 'flask-testcase[browser]')"
    if CHROMIUM is None or CHROMEDRIVER is None:
        return (
            "chromium and chromedriver are not on PATH (apt-get install chromium chromium-driver)"
        )
    return None


@pytest.fixture(scope="module")
def chromium():
    """One headless Chromium for the module: starting it takes about a second."""
    missing = _missing()
    if missing is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"browser tests cannot run under CI=true: {missing}")
        pytest.skip(missing)
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--disable-background-networking",
        "--window-size=1024,768",
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(CHROMEDRIVER))
    yield driver
    driver.quit()


class Browser:
    """The few steps these tests take, on the test's live server."""

    def __init__(self, driver, live_server):
        self.driver = driver
        self.live_server = live_server

    def open(self, path):
        self.driver.get(self.live_server.url(path))

    def fill(self, form_id, **fields):
        form = self.driver.find_element(By.ID, form_id)
        for name, value in fields.items():
            element = form.find_element(By.NAME, name)
            element.clear()
            element.send_keys(value)
        form.find_element(By.CSS_SELECTOR, "input[type=submit]").click()

    def wait_for_text(self, selector, text):
        # While the next page replaces the current one, Chromium may answer a poll
        # with "node does not belong to the document"; keep polling until the timeout.
        WebDriverWait(self.driver, 10, ignored_exceptions=(WebDriverException,)).until(
            expected_conditions.text_to_be_present_in_element((By.CSS_SELECTOR, selector), text)
        )

    def texts(self, selector):
        return [e.text for e in self.driver.find_elements(By.CSS_SELECTOR, selector)]


@pytest.fixture
def browser(chromium, live_server):
    # Each test starts with no cookies, like a new visitor.
    chromium.delete_all_cookies()
    return Browser(chromium, live_server)


# CSRF protection on, as in production (conftest.py turns it off): the browser submits
# the token the page's forms carry.
@override_config(WTF_CSRF_ENABLED=True)
def test_log_in_and_write_a_memo(browser, db, make_user, templates, flashed_messages):
    # With db, the server's requests run in this test's transaction: they see the
    # user made here, and what they write is rolled back after the test.
    make_user("ada")
    browser.open("/auth/login")
    browser.fill("login", username="ada", password=PASSWORD)
    browser.wait_for_text("#current-user", "ada")
    assert ("Welcome back, ada!", "success") in flashed_messages

    browser.driver.find_element(By.LINK_TEXT, "New memo").click()
    browser.fill("memo", title="From the browser", body="Typed by Chromium.")
    browser.wait_for_text("h1", "From the browser")

    # The page the browser shows, the templates the server rendered, and the row.
    assert browser.texts(".flash.success") == ["Memo saved."]
    assert templates[-1].name == "memos/detail.html"
    memo = db.session.execute(db.select(Memo)).scalar_one()
    assert (memo.title, memo.author.username) == ("From the browser", "ada")


def test_registration_errors_are_shown(browser, db, templates, outbox):
    # Values the browser's own checks (required, minlength) let through; the server
    # refuses them.
    browser.open("/auth/register")
    browser.fill("register", username="grace!", email="grace.example.com", password=PASSWORD)
    browser.wait_for_text(".error", "Username may only contain")
    assert browser.texts(".error") == [
        "Username may only contain lowercase letters, digits and _.",
        "Enter a valid email address.",
    ]
    # The server's requests are recorded: the form it rendered, the email it did
    # not send.
    assert_form_error(templates, "form", "password", [])
    assert outbox == []
