"""A real browser (headless Chromium through Selenium) against the live server.

Needs the ``selenium`` package and Chromium with its driver on ``PATH`` (Debian:
``apt-get install chromium chromium-driver``); nothing downloads a browser. Without
them the tests are skipped, except under ``CI=true``, where that is a failure.
"""

from __future__ import annotations

import os
import shutil

from memoapp.models import Memo
from memoapp.models import db

from flask_testcase import LiveServerTestCase

from .base import PASSWORD
from .base import MemoTestCase

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


def _missing() -> str | None:
    if webdriver is None:
        return "selenium is not installed (pip install 'flask-testcase[browser]')"
    if CHROMIUM is None or CHROMEDRIVER is None:
        return (
            "chromium and chromedriver are not on PATH (apt-get install chromium chromium-driver)"
        )
    return None


def start_chromium():
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
    return webdriver.Chrome(options=options, service=webdriver.ChromeService(CHROMEDRIVER))


class BrowserTests(MemoTestCase, LiveServerTestCase):
    browser = None

    def setUp(self):
        missing = _missing()
        if missing is not None:
            if os.environ.get("CI") == "true":
                self.fail(f"browser tests cannot run under CI=true: {missing}")
            # Skipped test by test (not in setUpClass), so every runner counts them.
            self.skipTest(missing)
        cls = type(self)
        if cls.browser is None:
            # One browser for the class: starting Chromium takes about a second.
            cls.browser = start_chromium()
            cls.addClassCleanup(setattr, cls, "browser", None)
            cls.addClassCleanup(cls.browser.quit)
        # Each test starts with no cookies, like a new visitor.
        self.browser.delete_all_cookies()

    def open(self, path):
        self.browser.get(self.get_server_url() + path)

    def fill(self, form_id, **fields):
        form = self.browser.find_element(By.ID, form_id)
        for name, value in fields.items():
            element = form.find_element(By.NAME, name)
            element.clear()
            element.send_keys(value)
        form.find_element(By.CSS_SELECTOR, "input[type=submit]").click()

    def wait_for_text(self, selector, text):
        # While the next page replaces the current one, Chromium may answer a poll
        # with "node does not belong to the document"; keep polling until the timeout.
        WebDriverWait(self.browser, 10, ignored_exceptions=(WebDriverException,)).until(
            expected_conditions.text_to_be_present_in_element((By.CSS_SELECTOR, selector), text)
        )

    def test_log_in_and_write_a_memo(self):
        self.make_user("ada")
        self.open("/auth/login")
        self.fill("login", username="ada", password=PASSWORD)
        self.wait_for_text("#current-user", "ada")
        self.assertMessageFlashed("Welcome back, ada!", "success")

        self.browser.find_element(By.LINK_TEXT, "New memo").click()
        self.fill("memo", title="From the browser", body="Typed by Chromium.")
        self.wait_for_text("h1", "From the browser")

        # The page the browser shows, and the row the view wrote.
        self.assertEqual(
            self.browser.find_element(By.CSS_SELECTOR, ".flash.success").text, "Memo saved."
        )
        memo = db.session.execute(db.select(Memo)).scalar_one()
        self.assertEqual((memo.title, memo.author.username), ("From the browser", "ada"))
        self.assertTemplateUsed("memos/detail.html")

    def test_registration_errors_are_shown(self):
        # Values the browser's own checks (required, minlength) let through; the
        # server refuses them. The form carries its CSRF token, which CSRF protection
        # (on here, as in production) checks.
        self.open("/auth/register")
        self.fill("register", username="grace!", email="grace.example.com", password=PASSWORD)
        self.wait_for_text(".error", "Username may only contain")
        errors = [e.text for e in self.browser.find_elements(By.CSS_SELECTOR, ".error")]
        self.assertEqual(
            errors,
            [
                "Username may only contain lowercase letters, digits and _.",
                "Enter a valid email address.",
            ],
        )
        # The server's requests are recorded: the form it rendered, the email it did
        # not send.
        self.assertFormError("form", "password", [])
        self.assertNoEmailSent()
