"""The base class of the Links suite: an app on plain SQLAlchemy, isolated by naming
its engine, its tables and its scoped session once."""

from __future__ import annotations

import os

from linkapp import DATABASE_URL_ENV
from linkapp import Base
from linkapp import create_app
from linkapp import db_session
from linkapp.models import Link
from sqlalchemy.engine import make_url

from flask_testcase import SQLAlchemyDatabase
from flask_testcase import TestCase
from flask_testcase.databases import database_for_tests


def database_url():
    """SQLite in memory, or a test database beside the one named in the environment
    (``.../memo`` becomes ``.../test_memo_links``: the memo suite's database gets its
    schema from migrations, this one from the models)."""
    url = os.environ.get(DATABASE_URL_ENV)
    if not url:
        return "sqlite://"
    named = make_url(url)
    return database_for_tests(named.set(database=f"{named.database}_links"))


TEST_CONFIG = {"TESTING": True, "LINKS_DATABASE_URL": database_url()}


class LinkTestCase(TestCase):
    """Each test gets a new app (with a new engine, which the run's engine for the same
    database serves) and runs in a transaction rolled back afterwards; the tables are
    created once per run."""

    db = SQLAlchemyDatabase(
        # The engine create_app() makes for the app under test.
        lambda app: app.extensions["links.engine"],
        Base.metadata,
        # Made at import time: removed before and after each test, so that no test
        # inherits another's session.
        sessions=db_session,
    )

    def create_app(self):
        return create_app(TEST_CONFIG)

    def make_link(self, url="https://flask.palletsprojects.com/", title="Flask", clicks=0):
        link = Link(url=url, title=title, clicks=clicks)
        db_session.add(link)
        db_session.commit()
        return link
