"""The benchmark app (:mod:`benchmarks.app`) on the other stacks: Flask-SQLAlchemy-Lite
and plain SQLAlchemy.

The same 20 tables (copied from the Flask-SQLAlchemy models' tables), the same routes,
templates, hooks and config; only the database layer differs, built the way each
stack's users build it:

- Flask-SQLAlchemy-Lite: ``SQLAlchemy()`` set up in ``create_app`` (its engines made
  from ``SQLALCHEMY_ENGINES``), ``db.session`` per app context, the user's own
  declarative metadata;
- plain SQLAlchemy: a scoped session made at import time (Flask's "SQLAlchemy in Flask"
  pattern), the engine made in ``create_app`` from the config and kept in
  ``app.extensions``, the session bound to it and removed when each app context ends.

So that the database tests do the same work on every stack, ``create_app`` makes one
engine on each, as Flask-SQLAlchemy does.
"""

from __future__ import annotations

import typing as t

import sqlalchemy as sa
import sqlalchemy.orm as sa_orm
from flask import Blueprint
from flask import Flask
from flask import abort
from flask import flash
from flask import g
from flask import redirect
from flask import render_template
from flask import request
from flask import session
from flask import url_for

from . import app as fsa_app

__all__ = ["create_lite_app", "create_plain_app", "lite_db", "metadata", "plain_session"]

#: The 20 tables of the Flask-SQLAlchemy app, copied.
metadata = sa.MetaData()
_TABLES = {name: model.__table__.to_metadata(metadata) for name, model in fsa_app.MODELS.items()}

#: One mapped class per table, for the Lite and plain apps alike.
_registry = sa_orm.registry(metadata=metadata)
MODELS: dict[str, t.Any] = {
    name: type(model.__name__, (), {}) for name, model in fsa_app.MODELS.items()
}
for _name, _cls in MODELS.items():
    _registry.map_imperatively(_cls, _TABLES[_name])

# -- the two database layers -------------------------------------------------------------

plain_session = sa_orm.scoped_session(sa_orm.sessionmaker())


def _lite() -> t.Any:
    try:
        from flask_sqlalchemy_lite import SQLAlchemy
    except ImportError:  # it needs Python 3.10 and Flask 3: its harnesses are left out
        return None
    return SQLAlchemy()


#: The Flask-SQLAlchemy-Lite instance, or None where Lite is not installed.
lite_db = _lite()


# -- the routes that use the database, for a given session ---------------------------------


def _crud(get_session: t.Callable[[], sa_orm.Session]) -> Blueprint:
    crud = Blueprint("crud", __name__)

    def model_of(kind: str) -> t.Any:
        try:
            return MODELS[kind]
        except KeyError:
            abort(404)

    def row_of(kind: str, id: int) -> t.Any:
        row = get_session().get(model_of(kind), id)
        if row is None:
            abort(404)
        return row

    def as_dict(row: t.Any) -> dict[str, t.Any]:
        table = sa.inspect(type(row)).local_table
        return {c.name: getattr(row, c.name) for c in table.columns if c.name != "created_at"}

    @crud.route("/<kind>/")
    def listing(kind: str) -> str:
        model = model_of(kind)
        rows = get_session().scalars(sa.select(model).order_by(model.id).limit(50)).all()
        return render_template("list.html", kind=kind, rows=rows)

    @crud.route("/<kind>/", methods=["POST"])
    def create(kind: str) -> t.Any:
        model = model_of(kind)
        name = request.form.get("name", "").strip()
        if not name:
            return render_template(
                "form.html", title=f"New {kind}", action=url_for("crud.create", kind=kind),
                fields=["name"], values=request.form, error="Name is required.",
            )  # fmt: skip
        row = model(name=name)
        s = get_session()
        s.add(row)
        s.commit()
        flash(f"Created {kind} {name}.", "success")
        return redirect(url_for("crud.show", kind=kind, id=row.id))

    @crud.route("/<kind>/new")
    def new(kind: str) -> str:
        model_of(kind)
        return render_template(
            "form.html", title=f"New {kind}", action=url_for("crud.create", kind=kind),
            fields=["name"], values={}, error=None,
        )  # fmt: skip

    @crud.route("/<kind>/<int:id>")
    def show(kind: str, id: int) -> str:
        row = row_of(kind, id)
        return render_template("show.html", kind=kind, row=row, fields=as_dict(row).items())

    @crud.route("/<kind>/<int:id>/edit", methods=["GET", "POST"])
    def edit(kind: str, id: int) -> t.Any:
        row = row_of(kind, id)
        if request.method == "POST" and request.form.get("name"):
            row.name = request.form["name"]
            get_session().commit()
            flash("Saved.", "success")
            return redirect(url_for("crud.show", kind=kind, id=id))
        return render_template(
            "form.html", title=f"Edit {row.name}", action=url_for("crud.edit", kind=kind, id=id),
            fields=["name"], values={"name": row.name}, error=None,
        )  # fmt: skip

    @crud.route("/<kind>/<int:id>/delete", methods=["POST"])
    def delete(kind: str, id: int) -> t.Any:
        s = get_session()
        s.delete(row_of(kind, id))
        s.commit()
        flash("Deleted.", "info")
        return redirect(url_for("crud.listing", kind=kind))

    return crud


_lite_crud = _crud(lambda: lite_db.session)
_plain_crud = _crud(lambda: plain_session())


def _base_app(config: dict[str, t.Any]) -> Flask:
    """The app without its database layer: :func:`benchmarks.app.create_app`'s config,
    blueprints (other than the database routes), hooks and templates."""
    app = Flask(fsa_app.__name__)
    app.config.update(SECRET_KEY="benchmark", TESTING=True, SITE_NAME="Bench Books")
    app.config.update(config)
    app.register_blueprint(fsa_app.main)
    app.register_blueprint(fsa_app.api)

    @app.before_request
    def load_user() -> None:
        g.current_user = session.get("user")

    @app.context_processor
    def site() -> dict[str, t.Any]:
        return {
            "site_name": app.config["SITE_NAME"],
            "year": 2026,
            "current_user": g.get("current_user"),
        }

    @app.errorhandler(404)
    def not_found(error: Exception) -> tuple[str, int]:
        return render_template("page.html", title="Not found", paragraphs=[]), 404

    return app


def create_lite_app(database_uri: str = "sqlite://", **config: t.Any) -> Flask:
    """The benchmark app on Flask-SQLAlchemy-Lite."""
    app = _base_app({"SQLALCHEMY_ENGINES": {"default": database_uri}, **config})
    lite_db.init_app(app)
    app.register_blueprint(_lite_crud)
    return app


def create_plain_app(database_uri: str = "sqlite://", **config: t.Any) -> Flask:
    """The benchmark app on plain SQLAlchemy."""
    app = _base_app({"DATABASE_URL": database_uri, **config})
    engine = sa.create_engine(app.config["DATABASE_URL"])
    app.extensions["bench.engine"] = engine
    plain_session.configure(bind=engine)

    @app.teardown_appcontext
    def remove_session(exception: BaseException | None = None) -> None:
        plain_session.remove()

    app.register_blueprint(_plain_crud)
    return app
