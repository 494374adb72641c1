"""Fixtures for the pytest-style suite: the app, once for the whole run, and helpers.

flask_testcase's pytest plugin (installed with the package) provides the rest:
``client``, ``db`` (each test rolled back, the schema from the migrations, as
``schema_options`` below says), ``runner``, ``templates``,
``flashed_messages``, ``outbox`` (the emails sent; none leaves the machine),
``live_server`` and ``data_fixture``. Tests log users in with
``flask_testcase.force_login(client, user)``.
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
            # Tests post the fields they are about, without the CSRF token the
            # page's form carries; test_auth.py turns the protection back on for
            # the test of the protection itself.
            "WTF_CSRF_ENABLED": False,
        }
    )


@pytest.fixture(scope="session")
def schema_options():
    # The schema comes from the app's migrations (examples/migrations, found as
    # Flask-Migrate finds it), upgraded once per run, as production builds it. (In a
    # project of its own, the ini file's "schema_from = migrations" says the same.)
    return {"schema_from": "migrations"}


@pytest.fixture
def make_user(db):
    """Add a user straight to the database: ``make_user("ada")`` returns it."""

    def make(username="ada", password=PASSWORD, email=None):
        user = User(username=username, email=email or f"{username}@example.com")
        user.set_password(password)
        db.session.add(user)
        db.session.commit()
        return user

    return make


@pytest.fixture
def no_rendering(app):
    """Record templates without rendering them (``TestCase.render_templates = False``):
    for tests that only look at what views pass to templates."""
    with silence_templates(app):
        yield
