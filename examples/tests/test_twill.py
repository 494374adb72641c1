"""twill: browse the app in process with twill's commands and a ``.twill`` script."""

from __future__ import annotations

from memoapp.models import Memo
from memoapp.models import db

from flask_testcase import TwillTestCase

from .base import PASSWORD
from .base import MemoTestCase


class TwillTests(MemoTestCase, TwillTestCase):
    """CSRF protection stays on: twill submits the token the page's form carries."""

    def setUp(self):
        self.make_user("ada")

    def test_script_logs_in_and_writes_a_memo(self):
        # The path is relative to this module's directory.
        self.twill_script("twill/write_memo.twill", username="ada", password=PASSWORD)
        # What the twill requests rendered and flashed is recorded as for self.client.
        self.assertMessageFlashed("Memo saved.", "success")
        self.assertTemplateUsed("memos/detail.html")
        memo = db.session.execute(db.select(Memo)).scalar_one()
        self.assertEqual((memo.title, memo.author.username), ("Written by twill", "ada"))

    def test_commands_from_python(self):
        # A registration through the page's form, which carries its CSRF token.
        self.browser.go(self.make_twill_url("/auth/register"))
        form = self.browser.form("register")
        self.browser.form_field(form, "username").value = "grace"
        self.browser.form_field(form, "email").value = "grace.example.com"
        self.browser.form_field(form, "password").value = PASSWORD
        self.browser.submit()
        self.assertEqual(self.browser.code, 422)
        self.assertIn("Enter a valid email address.", self.browser.html)
        # The forms twill's requests rendered are recorded as for self.client.
        self.assertFormError("form", "email", ["Enter a valid email address."])
        self.assertNoEmailSent()

        form = self.browser.form("register")
        self.browser.form_field(form, "email").value = "grace@example.com"
        self.browser.form_field(form, "password").value = PASSWORD
        self.browser.submit()
        self.assertEqual(self.browser.url, self.make_twill_url("/auth/login"))
        self.assertMessageFlashed("Account created. Please log in.", "success")
        self.assertEmailSent(to="grace@example.com", subject="Welcome to Memo")
