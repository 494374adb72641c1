"""The base class every example test case builds on."""

from __future__ import annotations

import os

from memoapp import DATABASE_URL_ENV
from memoapp import create_app
from memoapp.models import User
from memoapp.models import db

from flask_testcase import TestCase
from flask_testcase.databases import database_for_tests


def database_url():
    """SQLite in memory, or the test database of the one named in the environment.

    ``database_for_tests`` turns ``.../memo`` into ``.../test_memo`` (per pytest-xdist
    worker), creates it for the run and drops it at the end: the database the URL
    names is never touched.
    """
    url = os.environ.get(DATABASE_URL_ENV)
    return database_for_tests(url) if url else "sqlite://"


#: Settings for tests; a cheap password hash (the default is slow on purpose). CSRF
#: protection stays on, as in production: the test classes that post forms built by
#: hand turn it off with ``@override_config(WTF_CSRF_ENABLED=False)``, and twill and
#: the browser submit the token the page's form carries. Emails are never sent: the
#: test case records them in ``self.outbox``.
TEST_CONFIG = {
    "TESTING": True,
    "SECRET_KEY": "test",
    "SQLALCHEMY_DATABASE_URI": database_url(),
    "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
}

PASSWORD = "correct horse"


class MemoTestCase(TestCase):
    """Builds the app with :data:`TEST_CONFIG` and makes users.

    With ``db`` set, every test runs in a transaction rolled back afterwards, whatever
    the views commit. The schema comes from the app's migrations (``examples/migrations``,
    found as Flask-Migrate finds it), upgraded once per run before the first test, as
    production builds it. Tests that need a logged-in user call ``self.login(user)`` (no
    form, no password check).
    """

    db = db
    schema_from = "migrations"

    def create_app(self):
        return create_app(TEST_CONFIG)

    def make_user(self, username="ada", password=PASSWORD, email=None):
        """Add a user straight to the database and return it."""
        user = User(username=username, email=email or f"{username}@example.com")
        user.set_password(password)
        db.session.add(user)
        db.session.commit()
        return user
