"""WebTest with the ``testapp`` fixture: the pages' own forms filled in and submitted,
their requests recorded in the ``templates``, ``flashed_messages`` and ``outbox``
fixtures, and, with ``db``, their rows rolled back after the test."""

from __future__ import annotations

import pytest
from memoapp.models import Memo

from flask_testcase import assert_email_sent
from flask_testcase import assert_form_error

from .conftest import PASSWORD


def test_register_through_the_form(testapp, db, outbox):
    page = testapp.get("/auth/register")
    page.form["username"] = "grace"
    page.form["email"] = "grace.example.com"
    page.form["password"] = PASSWORD
    rejected = page.form.submit(status=422)
    assert_form_error(rejected, "form", "email", "Enter a valid email address.")
    assert outbox == []

    form = rejected.form
    form["email"] = "grace@example.com"
    form["password"] = PASSWORD
    login_page = form.submit().follow()
    assert login_page.template == "auth/login.html"
    assert_email_sent(outbox, to="grace@example.com", subject="Welcome to Memo")


def test_write_a_memo_as_a_logged_in_user(testapp, db, make_user, templates, flashed_messages):
    page = testapp.get("/memos/new", user=make_user("ada"))
    form = page.forms["memo"]  # by id: the page also has the logout form
    form["title"] = "Groceries"
    detail = form.submit().follow()
    assert detail.context["memo"].title == "Groceries"
    assert [t.name for t in templates] == ["memos/form.html", "memos/detail.html"]
    assert [(m.message, m.category) for m in flashed_messages] == [("Memo saved.", "success")]
    assert db.session.execute(db.select(Memo)).scalar_one().author.username == "ada"


def test_a_form_the_page_does_not_have(testapp):
    page = testapp.get("/auth/login")
    # WebTest's KeyError, naming the forms the page has.
    with pytest.raises(KeyError, match=r"response\.forms\[0\] \(id 'login', POST \(this page\)\)"):
        page.forms["register"]
