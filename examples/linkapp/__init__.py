"""Links: a small Flask application on plain SQLAlchemy, no extension. It saves links
(through a JSON API or the CLI), lists them on a page, and counts how often each is
followed.

The scoped session is made at import time (``database.py``); :func:`create_app` makes
the engine ``LINKS_DATABASE_URL`` names, keeps it in ``app.extensions["links.engine"]``
and binds the session to it.
"""

from __future__ import annotations

import os
import typing as t

import click
import sqlalchemy as sa
from flask import Flask
from flask import abort
from flask import jsonify
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for

from .database import Base
from .database import db_session
from .models import Link

__all__ = ["Base", "Link", "create_app", "db_session"]

#: The environment variable naming the database (shared with the memo example).
DATABASE_URL_ENV = "EXAMPLE_DATABASE_URL"


def create_app(config: dict[str, t.Any] | None = None) -> Flask:
    """Build the application.

    :param config: settings applied over the defaults, such as ``LINKS_DATABASE_URL``.
    """
    app = Flask(__name__, instance_relative_config=True)
    app.config["LINKS_DATABASE_URL"] = os.environ.get(
        DATABASE_URL_ENV
    ) or "sqlite:///" + os.path.join(app.instance_path, "links.sqlite")
    if config:
        app.config.update(config)
    if app.config["LINKS_DATABASE_URL"].startswith("sqlite:///"):
        os.makedirs(app.instance_path, exist_ok=True)
    engine = sa.create_engine(app.config["LINKS_DATABASE_URL"])
    app.extensions["links.engine"] = engine
    db_session.configure(bind=engine)

    @app.teardown_appcontext
    def remove_session(exception: BaseException | None = None) -> None:
        db_session.remove()

    @app.get("/")
    def index() -> str:
        links = db_session.scalars(sa.select(Link).order_by(Link.clicks.desc(), Link.id))
        return render_template("index.html", links=list(links))

    @app.get("/api/links")
    def list_links() -> t.Any:
        return jsonify([link.to_json() for link in db_session.scalars(sa.select(Link))])

    @app.post("/api/links")
    def add_link() -> t.Any:
        data = request.get_json(silent=True) or {}
        url = str(data.get("url", ""))
        if not url.startswith(("http://", "https://")):
            return jsonify(error="url must be an http:// or https:// address"), 400
        link = Link(url=url, title=str(data.get("title") or url), clicks=0)
        db_session.add(link)
        db_session.commit()
        return jsonify(link.to_json()), 201, {"Location": url_for("follow", link_id=link.id)}

    @app.delete("/api/links/<int:link_id>")
    def delete_link(link_id: int) -> t.Any:
        link = db_session.get(Link, link_id) or abort(404)
        db_session.delete(link)
        db_session.commit()
        return "", 204

    @app.get("/go/<int:link_id>")
    def follow(link_id: int) -> t.Any:
        link = db_session.get(Link, link_id) or abort(404)
        link.clicks += 1
        db_session.commit()
        return redirect(link.url)

    @app.cli.command("init-db")
    def init_db() -> None:
        """Create the tables that do not exist yet."""
        Base.metadata.create_all(engine)
        click.echo("Initialized the database.")

    @app.cli.command("add-link")
    @click.argument("url")
    @click.option("--title", default=None)
    def add_link_command(url: str, title: str | None) -> None:
        """Save a link."""
        link = Link(url=url, title=title or url, clicks=0)
        db_session.add(link)
        db_session.commit()
        click.echo(f"Saved link {link.id}.")

    return app
