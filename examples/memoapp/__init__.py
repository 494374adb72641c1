"""Memo: a small Flask application that the example test suite exercises.

Users register (and get a welcome email) and log in through HTML forms, write short
memos, read them as server-rendered pages or through a JSON API, and manage accounts
from the CLI.
"""

from __future__ import annotations

import os
import typing as t

from flask import Flask

from .extensions import csrf
from .extensions import login_manager
from .extensions import mail
from .extensions import migrate
from .models import db

__all__ = ["create_app", "db"]

#: The environment variable naming the database, e.g.
#: ``postgresql+psycopg://postgres@127.0.0.1:5432/memo``. Without it the app uses
#: a SQLite file in its instance folder.
DATABASE_URL_ENV = "EXAMPLE_DATABASE_URL"


def create_app(config: dict[str, t.Any] | None = None) -> Flask:
    """Build the application.

    :param config: settings applied over the defaults, such as ``{"TESTING": True}``.
    """
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(
        SECRET_KEY="dev",
        SQLALCHEMY_DATABASE_URI=os.environ.get(DATABASE_URL_ENV)
        or "sqlite:///" + os.path.join(app.instance_path, "memo.sqlite"),
        # werkzeug's default (scrypt) is deliberately slow; tests may pick a cheaper
        # method, never production.
        PASSWORD_HASH_METHOD="scrypt",
        MEMOS_PER_PAGE=20,
        # Flask-Mailman: print emails on the console until a real backend (such as
        # "smtp", with MAIL_SERVER and friends) is configured.
        MAIL_BACKEND="console",
        MAIL_DEFAULT_SENDER="Memo <memo@example.com>",
    )
    app.config.from_prefixed_env("MEMO")
    if config:
        app.config.update(config)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///"):
        os.makedirs(app.instance_path, exist_ok=True)

    db.init_app(app)
    # Flask-Migrate's default directory, "migrations", relative to where flask runs
    # (examples/); the tests find it beside the package from anywhere.
    migrate.init_app(app, db)
    csrf.init_app(app)
    login_manager.init_app(app)
    mail.init_app(app)

    from . import api
    from . import auth
    from . import cli
    from . import memos

    app.register_blueprint(auth.bp)
    app.register_blueprint(memos.bp)
    app.register_blueprint(api.bp)
    # The API takes JSON only (see api.py): no CSRF token.
    csrf.exempt(api.bp)
    cli.register(app)
    return app
