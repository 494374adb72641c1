"""WebTest: the pages' own forms filled in and submitted through ``self.testapp``, as a
browser without JavaScript would, with no server. CSRF protection stays on: the forms
carry their token. What WebTest's requests render, flash and send is recorded as for
``self.client``, and their rows are rolled back after each test."""

from __future__ import annotations

from memoapp.models import Memo
from memoapp.models import User
from memoapp.models import db

from .base import PASSWORD
from .base import MemoTestCase


class WebTestTests(MemoTestCase):
    def test_register_through_the_form(self):
        page = self.testapp.get("/auth/register")
        form = page.forms["register"]
        form["username"] = "grace"
        form["email"] = "grace.example.com"
        form["password"] = PASSWORD
        rejected = form.submit(status=422)
        # The errors of the form this response rendered, and the page showing them.
        self.assertFormError("form", "email", "Enter a valid email address.", response=rejected)
        self.assertEqual(
            [error.text for error in rejected.html.select("span.error")],
            ["Enter a valid email address."],
        )
        self.assertNoEmailSent()

        # The form as the page rendered it again, with what was typed (not the
        # password) and a new CSRF token.
        form = rejected.forms["register"]
        self.assertEqual(form["username"].value, "grace")
        form["email"] = "grace@example.com"
        form["password"] = PASSWORD
        login_page = form.submit().follow()
        self.assertEqual(login_page.template, "auth/login.html")
        login_page.mustcontain("Account created. Please log in.")
        self.assertEmailSent(to="grace@example.com", subject="Welcome to Memo")
        self.assertEqual(db.session.execute(db.select(User)).scalar_one().username, "grace")

    def test_log_in_through_the_form_then_open_the_account(self):
        self.make_user("ada")
        page = self.testapp.get("/auth/account").follow()  # not logged in: to the login
        self.assertEqual(page.request.path, "/auth/login")
        page.mustcontain("Please log in first.")
        form = page.forms["login"]
        form["username"] = "ada"
        form["password"] = PASSWORD
        redirect = form.submit()
        self.assertEqual(redirect.flashes, [("success", "Welcome back, ada!")])
        account = redirect.follow()  # to "next", the account page
        self.assertEqual(account.html.select_one("#email").text, "ada@example.com")
        self.assertTemplateUsed("auth/account.html")

    def test_write_then_delete_a_memo_as_a_logged_in_user(self):
        ada = self.make_user("ada")
        page = self.testapp.get("/memos/new", user=ada)  # logged in without the form
        form = page.forms["memo"]  # by id: the page also has the logout form
        form["title"] = "Groceries"
        form["body"] = "Milk & eggs"
        detail = form.submit().follow()
        self.assertEqual(detail.context["memo"].title, "Groceries")
        detail.mustcontain("Memo saved.", "Milk &amp; eggs")
        memo = db.session.execute(db.select(Memo)).scalar_one()
        self.assertEqual((memo.title, memo.author.username), ("Groceries", "ada"))

        # The detail page's forms: [0] logs out (in the navigation), [1] deletes.
        index = detail.forms[1].submit().follow()
        self.assertEqual(index.template, "memos/index.html")
        self.assertMessageFlashed("Memo deleted.", "info")
        self.assertIsNone(db.session.execute(db.select(Memo)).scalar())

    def test_a_rejected_memo_keeps_what_was_typed(self):
        page = self.testapp.get("/memos/new", user=self.make_user("ada"))
        form = page.forms["memo"]
        form["body"] = "no title"
        rejected = form.submit(status=422)
        self.assertEqual(rejected.flashes, [("error", "Title is required.")])
        self.assertEqual(rejected.forms["memo"]["body"].value, "no title")
        self.assertEqual(rejected.context["errors"], {"title": "Title is required."})
