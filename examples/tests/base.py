"""The base class every example test case builds on."""

from __future__ import annotations

import os

from memoapp import DATABASE_URL_ENV
from memoapp import create_app
from memoapp.models import User
from memoapp.models import db

from flask_testcase import TestCase

#: Settings for tests: an in-memory SQLite database unless the environment names
#: another one, and a cheap password hash (the default is slow on purpose).
TEST_CONFIG = {
    "TESTING": True,
    "SECRET_KEY": "test",
    "SQLALCHEMY_DATABASE_URI": os.environ.get(DATABASE_URL_ENV) or "sqlite://",
    "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
}

PASSWORD = "correct horse"


class MemoTestCase(TestCase):
    """Builds the app with :data:`TEST_CONFIG` and gives helpers for users."""

    def create_app(self):
        return create_app(TEST_CONFIG)

    def setUp(self):
        db.create_all()

    def make_user(self, username="ada", password=PASSWORD):
        """Add a user straight to the database and return it."""
        user = User(username=username)
        user.set_password(password)
        db.session.add(user)
        db.session.commit()
        return user

    def log_in(self, username="ada", password=PASSWORD):
        """Log in through the form, as a browser would; return the response."""
        return self.client.post(
            "/auth/login", data={"username": username, "password": password}
        )
