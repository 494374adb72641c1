"""twill: browse the app in process with twill's commands and a ``.twill`` script."""

from __future__ import annotations

from memoapp.models import Memo
from memoapp.models import db

from flask_testcase import TwillTestCase

from .base import PASSWORD
from .base import MemoTestCase


class TwillTests(MemoTestCase, TwillTestCase):
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
        self.browser.go(self.make_twill_url("/auth/register"))
        form = self.browser.form("register")
        self.browser.form_field(form, "username").value = "x"
        self.browser.form_field(form, "password").value = "short"
        self.browser.submit()
        self.assertEqual(self.browser.code, 422)
        self.assertIn("Password must be at least 8 characters.", self.browser.html)
        self.assertMessageFlashed("Password must be at least 8 characters.", "error")
