"""The same small app on each way a Flask app talks to SQL, for tests/test_stacks.py.

Each is the source of a module (so that pytester can write it to a file, and the
``TestCase`` door can run it in process with :func:`load`) that reads ``URL`` (and
``OTHER_URL``) at import time and defines:

- ``create_app()``, the app with the routes of :data:`ROUTES`;
- ``DATABASE``, what ``TestCase.db`` / the ini setting ``flask_db`` get;
- ``Item`` (table ``stack_item``), ``session()`` (the session app and test code use),
  ``engine()`` (the app's engine), ``count()``.

``plain_import`` is Flask's own "SQLAlchemy in Flask" pattern: an engine and a scoped
session made at import time, before any app exists, removed on app-context teardown.
``plain_factory`` makes its engine and ``sessionmaker`` in ``create_app`` and keeps them
in ``app.extensions``. ``lite`` is Flask-SQLAlchemy-Lite with the user's
``Model.metadata``. ``flask_sqlalchemy`` is the path the others are compared with.
"""

from __future__ import annotations

import sys
import types
import typing as t

ROUTES = """
import threading

from flask import jsonify, request


def count():
    return session().scalar(sa.select(sa.func.count()).select_from(Item))


def add_routes(app):
    @app.post("/items")
    def add_item():
        s = session()
        s.add(Item(name=request.form["name"]))
        s.commit()
        return str(count())

    @app.post("/rollback")
    def add_then_roll_back():
        s = session()
        s.add(Item(name="rolled back"))
        s.flush()
        s.rollback()
        return str(count())

    @app.post("/nested")
    def nested():
        s = session()
        with s.begin_nested():
            s.add(Item(name="kept"))
        savepoint = s.begin_nested()
        s.add(Item(name="undone"))
        savepoint.rollback()
        s.commit()
        return str(count())

    @app.post("/thread")
    def in_a_thread():
        errors = []
        real = app

        def work():
            try:
                with real.app_context():
                    s = session()
                    s.add(Item(name="thread"))
                    s.commit()
            except BaseException as e:
                errors.append(repr(e))

        thread = threading.Thread(target=work)
        thread.start()
        thread.join()
        return jsonify(errors=errors, count=count())

    @app.post("/raw")
    def raw():
        connection = engine().raw_connection()
        try:
            cursor = connection.cursor()
            cursor.execute("INSERT INTO stack_item (name) VALUES ('raw')")
            cursor.close()
            connection.commit()
        finally:
            connection.close()
        return str(count())

    @app.get("/count")
    def item_count():
        return str(count())

    @app.get("/items")
    def items():
        return jsonify([i.name for i in session().scalars(sa.select(Item).order_by(Item.id))])

    @app.get("/ids")
    def ids():
        return jsonify(list(session().scalars(sa.select(Item.id).order_by(Item.id))))

    @app.cli.command("add-item")
    def add_item_command():
        s = session()
        s.add(Item(name="from cli"))
        s.commit()
"""

APPS = {
    "flask_sqlalchemy": """
import sqlalchemy as sa
from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import Mapped, mapped_column

db = SQLAlchemy()


class Item(db.Model):
    __tablename__ = "stack_item"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(50))


DATABASE = db


def session():
    return db.session


def engine():
    return db.engine


def create_app():
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = URL
    db.init_app(app)
    add_routes(app)
    return app
""",
    "lite": """
import sqlalchemy as sa
from flask import Flask
from flask_sqlalchemy_lite import SQLAlchemy
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from flask_testcase import SQLAlchemyDatabase

db = SQLAlchemy()


class Model(DeclarativeBase):
    pass


class Item(Model):
    __tablename__ = "stack_item"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(50))


DATABASE = SQLAlchemyDatabase(db, Model.metadata)


def session():
    return db.session


def engine():
    return db.engine


def create_app():
    app = Flask(__name__)
    app.config["SQLALCHEMY_ENGINES"] = {"default": URL}
    db.init_app(app)
    add_routes(app)
    return app
""",
    "plain_import": """
import sqlalchemy as sa
from flask import Flask
from sqlalchemy.orm import declarative_base, scoped_session, sessionmaker

from flask_testcase import SQLAlchemyDatabase

# As in Flask's docs: made when the module is imported, before any app exists.
_engine = sa.create_engine(URL, **OPTIONS)
db_session = scoped_session(sessionmaker(autoflush=False, bind=_engine))
Base = declarative_base()


class Item(Base):
    __tablename__ = "stack_item"
    id = sa.Column(sa.Integer, primary_key=True)
    name = sa.Column(sa.String(50))


DATABASE = SQLAlchemyDatabase(_engine, Base.metadata, sessions=db_session)


def session():
    return db_session


def engine():
    return _engine


def create_app():
    app = Flask(__name__)

    @app.teardown_appcontext
    def shutdown_session(exception=None):
        db_session.remove()

    add_routes(app)
    return app
""",
    "plain_factory": """
import sqlalchemy as sa
from flask import Flask, current_app, g
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker

from flask_testcase import SQLAlchemyDatabase


class Base(DeclarativeBase):
    pass


class Item(Base):
    __tablename__ = "stack_item"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(50))


DATABASE = SQLAlchemyDatabase(lambda app: app.extensions["engine"], Base.metadata)


def session():
    if "session" not in g:
        g.session = current_app.extensions["sessionmaker"]()
    return g.session


def engine():
    return current_app.extensions["engine"]


def create_app():
    app = Flask(__name__)
    app.extensions["engine"] = sa.create_engine(URL, **OPTIONS)
    app.extensions["sessionmaker"] = sessionmaker(bind=app.extensions["engine"])

    @app.teardown_appcontext
    def close_session(exception=None):
        s = g.pop("session", None)
        if s is not None:
            s.close()

    add_routes(app)
    return app
""",
}

#: The stacks this issue adds (``flask_sqlalchemy`` is the path they are compared with).
NEW = ["lite", "plain_import", "plain_factory"]


# What an app on plain SQLAlchemy needs for an in-memory database that threads share
# (Flask-SQLAlchemy and Flask-SQLAlchemy-Lite set it themselves): one connection.
_OPTIONS = """
import sqlalchemy as _sa
OPTIONS = (
    {"poolclass": _sa.pool.StaticPool, "connect_args": {"check_same_thread": False}}
    if URL == "sqlite://"
    else {}
)
"""


def source(kind: str, url: str, other_url: str | None = None) -> str:
    """The module source of the ``kind`` app on ``url``."""
    if kind == "lite":
        require_lite()
    head = f"URL = {url!r}\nOTHER_URL = {other_url or url!r}\n" + _OPTIONS
    return head + APPS[kind] + ROUTES



def require_lite() -> None:
    """Skip the calling test when Flask-SQLAlchemy-Lite is missing because this run's
    Python or Flask is older than it needs (3.10 and 3.0: the dev extra leaves it out on
    Python 3.9, and CI's oldest-Flask run installs the dev extra without it); elsewhere
    it is part of the dev extra, and missing it is an error."""
    try:
        import flask_sqlalchemy_lite  # noqa: F401
    except ImportError:
        from importlib.metadata import version

        import pytest

        flask = version("flask")
        if int(flask.split(".")[0]) < 3:
            pytest.skip(f"Flask-SQLAlchemy-Lite needs Flask 3.0 or newer; this is Flask {flask}")
        if sys.version_info < (3, 10):
            pytest.skip("Flask-SQLAlchemy-Lite needs Python 3.10 or newer")
        raise


_loaded = 0


def load(kind: str, url: str) -> t.Any:
    """The ``kind`` app's module on ``url``, imported afresh (its engine, session and
    models made now, as at import time)."""
    global _loaded
    if kind == "lite":
        require_lite()
    _loaded += 1
    name = f"stackapp_{kind}_{_loaded}"
    module = types.ModuleType(name)
    sys.modules[name] = module
    exec(compile(source(kind, url), f"<{name}>", "exec"), module.__dict__)
    return module
