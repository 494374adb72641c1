"""Fixtures for the pytest-style suite: the app, once for the whole run, and helpers.

flask_testcase's pytest plugin (installed with the package) provides the rest:
``client``, ``db`` (each test rolled back), ``runner``, ``templates``,
``flashed_messages``, ``live_server`` and ``data_fixture``.
"""

from __future__ import annotations

import os

import pytest
from memoapp import DATABASE_URL_ENV
from memoapp import create_app
from memoapp.models import User

from flask_testcase import silence_templates
from flask_testcase.databases import database_for_tests

PASSWORD = "correct horse"


def database_url():
    """SQLite in memory, or the test database of the one named in the environment
    (``.../memo`` becomes ``.../test_memo``, made for the run and dropped at its end)."""
    url = os.environ.get(DATABASE_URL_ENV)
    return database_for_tests(url) if url else "sqlite://"


@pytest.fixture(scope="session")
def app():
    # One app for the whole run: each test still gets a fresh client, fresh contexts,
    # its own records, its config changes undone and, with db, its rows rolled back.
    return create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test",
            "SQLALCHEMY_DATABASE_URI": database_url(),
            # A cheap password hash (the default is slow on purpose).
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        }
    )


@pytest.fixture
def make_user(db):
    """Add a user straight to the database: ``make_user("ada")`` returns it."""

    def make(username="ada", password=PASSWORD):
        user = User(username=username)
        user.set_password(password)
        db.session.add(user)
        db.session.commit()
        return user

    return make


@pytest.fixture
def log_in(client):
    """Log in through the form, as a browser would: ``log_in("ada")`` returns the
    response."""

    def post(username="ada", password=PASSWORD, **data):
        return client.post(
            "/auth/login", data={"username": username, "password": password, **data}
        )

    return post


@pytest.fixture
def no_rendering(app):
    """Record templates without rendering them (``TestCase.render_templates = False``):
    for tests that only look at what views pass to templates."""
    with silence_templates(app):
        yield
