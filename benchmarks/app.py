"""The mid-sized application every benchmark suite tests: 20 tables, about 20 routes.

It is built the way real Flask apps are (an application factory, blueprints, Jinja
templates with inheritance, a session login, flash messages, a JSON API, error
handlers, a request hook, a context processor, a CLI command and Flask-SQLAlchemy),
so that the cost of ``create_app()`` and of a request is what a user's suite pays,
not the cost of a one-route toy.
"""

from __future__ import annotations

import datetime
import typing as t

import click
from flask import Blueprint
from flask import Flask
from flask import abort
from flask import flash
from flask import g
from flask import jsonify
from flask import redirect
from flask import render_template
from flask import request
from flask import session
from flask import url_for
from flask_sqlalchemy import SQLAlchemy

if t.TYPE_CHECKING:
    from werkzeug.wrappers import Response

__all__ = ["MODELS", "create_app", "db"]

db = SQLAlchemy()


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


class _Named:
    """Columns every table has; the benchmark's rows only need ``name``."""

    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(200), nullable=False)
    created_at = db.Column(db.DateTime, default=_now)


class Author(_Named, db.Model):
    email = db.Column(db.String(200))
    bio = db.Column(db.Text)


class Publisher(_Named, db.Model):
    country = db.Column(db.String(2))


class Book(_Named, db.Model):
    isbn = db.Column(db.String(20), unique=True)
    author_id = db.Column(db.ForeignKey("author.id"))
    publisher_id = db.Column(db.ForeignKey("publisher.id"))
    price_cents = db.Column(db.Integer, default=0)


class Tag(_Named, db.Model):
    colour = db.Column(db.String(7))


class BookTag(_Named, db.Model):
    book_id = db.Column(db.ForeignKey("book.id"))
    tag_id = db.Column(db.ForeignKey("tag.id"))


class Customer(_Named, db.Model):
    email = db.Column(db.String(200), index=True)
    active = db.Column(db.Boolean, default=True)


class Address(_Named, db.Model):
    customer_id = db.Column(db.ForeignKey("customer.id"))
    street = db.Column(db.String(200))
    city = db.Column(db.String(100))
    postcode = db.Column(db.String(20))


class Category(_Named, db.Model):
    parent_id = db.Column(db.ForeignKey("category.id"))


class Supplier(_Named, db.Model):
    phone = db.Column(db.String(40))


class Product(_Named, db.Model):
    sku = db.Column(db.String(40), index=True)
    category_id = db.Column(db.ForeignKey("category.id"))
    supplier_id = db.Column(db.ForeignKey("supplier.id"))
    price_cents = db.Column(db.Integer, default=0)


class Warehouse(_Named, db.Model):
    city = db.Column(db.String(100))


class Stock(_Named, db.Model):
    product_id = db.Column(db.ForeignKey("product.id"))
    warehouse_id = db.Column(db.ForeignKey("warehouse.id"))
    quantity = db.Column(db.Integer, default=0)


class Order(_Named, db.Model):
    __tablename__ = "orders"
    customer_id = db.Column(db.ForeignKey("customer.id"))
    status = db.Column(db.String(20), default="new")


class OrderLine(_Named, db.Model):
    order_id = db.Column(db.ForeignKey("orders.id"))
    product_id = db.Column(db.ForeignKey("product.id"))
    quantity = db.Column(db.Integer, default=1)


class Invoice(_Named, db.Model):
    order_id = db.Column(db.ForeignKey("orders.id"))
    total_cents = db.Column(db.Integer, default=0)


class Payment(_Named, db.Model):
    invoice_id = db.Column(db.ForeignKey("invoice.id"))
    amount_cents = db.Column(db.Integer, default=0)


class Shipment(_Named, db.Model):
    order_id = db.Column(db.ForeignKey("orders.id"))
    carrier = db.Column(db.String(40))


class Review(_Named, db.Model):
    product_id = db.Column(db.ForeignKey("product.id"))
    customer_id = db.Column(db.ForeignKey("customer.id"))
    stars = db.Column(db.Integer, default=5)
    body = db.Column(db.Text)


class Coupon(_Named, db.Model):
    code = db.Column(db.String(20), index=True)
    percent = db.Column(db.Integer, default=10)


class AuditLog(_Named, db.Model):
    action = db.Column(db.String(40))
    detail = db.Column(db.Text)


#: URL name -> model, for the generic CRUD and API routes (20 tables).
MODELS: dict[str, t.Any] = {
    model.__tablename__: model
    for model in (
        Author, Publisher, Book, Tag, BookTag, Customer, Address, Category, Supplier,
        Product, Warehouse, Stock, Order, OrderLine, Invoice, Payment, Shipment, Review,
        Coupon, AuditLog,
    )
}  # fmt: skip


def _model(kind: str) -> t.Any:
    try:
        return MODELS[kind]
    except KeyError:
        abort(404)


def _row(kind: str, id: int) -> t.Any:
    row = db.session.get(_model(kind), id)
    if row is None:
        abort(404)
    return row


def _as_dict(row: t.Any) -> dict[str, t.Any]:
    return {c.name: getattr(row, c.name) for c in row.__table__.columns if c.name != "created_at"}


main = Blueprint("main", __name__)
api = Blueprint("api", __name__, url_prefix="/api")
crud = Blueprint("crud", __name__)


@main.route("/")
def index() -> str:
    return render_template("page.html", title="Home", paragraphs=sorted(MODELS))


@main.route("/about")
def about() -> str:
    return render_template(
        "page.html",
        title="About",
        paragraphs=["A mid-sized application for benchmarking test harnesses."],
    )


@main.route("/login", methods=["GET", "POST"])
def login() -> str | Response:
    if request.method == "POST":
        user = request.form.get("user", "").strip()
        if user and request.form.get("password") == "secret":
            session["user"] = user
            flash(f"Welcome, {user}.", "success")
            return redirect(url_for("main.dashboard"))
        return render_template(
            "form.html", title="Log in", action=url_for("main.login"),
            fields=["user", "password"], values=request.form, error="Wrong user or password.",
        )  # fmt: skip
    return render_template(
        "form.html", title="Log in", action=url_for("main.login"),
        fields=["user", "password"], values={}, error=None,
    )  # fmt: skip


@main.route("/logout")
def logout() -> Response:
    session.pop("user", None)
    flash("Logged out.", "info")
    return redirect(url_for("main.index"))


@main.route("/dashboard")
def dashboard() -> str | Response:
    if g.current_user is None:
        return redirect(url_for("main.login", next=request.path))
    return render_template("page.html", title="Dashboard", paragraphs=[g.current_user])


@main.route("/contact", methods=["GET", "POST"])
def contact() -> str | Response:
    if request.method == "POST":
        flash("Thank you for your message.", "success")
        return redirect(url_for("main.index"))
    return render_template(
        "form.html", title="Contact", action=url_for("main.contact"),
        fields=["email", "message"], values={}, error=None,
    )  # fmt: skip


@main.route("/search")
def search() -> str:
    q = request.args.get("q", "")
    rows = Book.query.filter(Book.name.contains(q)).limit(20).all() if q else []
    return render_template("list.html", kind="book", rows=rows)


@main.route("/robots.txt")
def robots() -> tuple[str, int, dict[str, str]]:
    return "User-agent: *\nDisallow: /api/\n", 200, {"Content-Type": "text/plain"}


@main.route("/feed.xml")
def feed() -> tuple[str, int, dict[str, str]]:
    items = "".join(f"<item><title>{k}</title></item>" for k in sorted(MODELS))
    return f"<rss><channel>{items}</channel></rss>", 200, {"Content-Type": "application/rss+xml"}


@api.route("/health")
def health() -> Response:
    return jsonify(status="ok")


@api.route("/<kind>")
def api_list(kind: str) -> Response:
    model = _model(kind)
    return jsonify([_as_dict(r) for r in db.session.scalars(db.select(model).limit(50))])


@api.route("/<kind>/<int:id>")
def api_show(kind: str, id: int) -> Response:
    return jsonify(_as_dict(_row(kind, id)))


@api.route("/<kind>", methods=["POST"])
def api_create(kind: str) -> tuple[Response, int]:
    data = request.get_json(silent=True) or {}
    if not data.get("name"):
        return jsonify(error="name is required"), 400
    row = _model(kind)(name=data["name"])
    db.session.add(row)
    db.session.commit()
    return jsonify(_as_dict(row)), 201


@crud.route("/<kind>/")
def listing(kind: str) -> str:
    model = _model(kind)
    rows = db.session.scalars(db.select(model).order_by(model.id).limit(50)).all()
    return render_template("list.html", kind=kind, rows=rows)


@crud.route("/<kind>/", methods=["POST"])
def create(kind: str) -> str | Response:
    model = _model(kind)
    name = request.form.get("name", "").strip()
    if not name:
        return render_template(
            "form.html", title=f"New {kind}", action=url_for("crud.create", kind=kind),
            fields=["name"], values=request.form, error="Name is required.",
        )  # fmt: skip
    row = model(name=name)
    db.session.add(row)
    db.session.commit()
    flash(f"Created {kind} {name}.", "success")
    return redirect(url_for("crud.show", kind=kind, id=row.id))


@crud.route("/<kind>/new")
def new(kind: str) -> str:
    _model(kind)
    return render_template(
        "form.html", title=f"New {kind}", action=url_for("crud.create", kind=kind),
        fields=["name"], values={}, error=None,
    )  # fmt: skip


@crud.route("/<kind>/<int:id>")
def show(kind: str, id: int) -> str:
    row = _row(kind, id)
    return render_template("show.html", kind=kind, row=row, fields=_as_dict(row).items())


@crud.route("/<kind>/<int:id>/edit", methods=["GET", "POST"])
def edit(kind: str, id: int) -> str | Response:
    row = _row(kind, id)
    if request.method == "POST" and request.form.get("name"):
        row.name = request.form["name"]
        db.session.commit()
        flash("Saved.", "success")
        return redirect(url_for("crud.show", kind=kind, id=id))
    return render_template(
        "form.html", title=f"Edit {row.name}", action=url_for("crud.edit", kind=kind, id=id),
        fields=["name"], values={"name": row.name}, error=None,
    )  # fmt: skip


@crud.route("/<kind>/<int:id>/delete", methods=["POST"])
def delete(kind: str, id: int) -> Response:
    db.session.delete(_row(kind, id))
    db.session.commit()
    flash("Deleted.", "info")
    return redirect(url_for("crud.listing", kind=kind))


def create_app(database_uri: str = "sqlite://", **config: t.Any) -> Flask:
    """Build the application.

    :param database_uri: ``SQLALCHEMY_DATABASE_URI``; the default is SQLite in memory.
    :param config: more configuration, applied last.
    """
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY="benchmark",
        TESTING=True,
        SQLALCHEMY_DATABASE_URI=database_uri,
        SITE_NAME="Bench Books",
    )
    app.config.update(config)
    db.init_app(app)
    app.register_blueprint(main)
    app.register_blueprint(api)
    app.register_blueprint(crud)

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

    @app.cli.command("init-db")
    def init_db() -> None:
        """Create the tables."""
        db.create_all()
        click.echo("Initialised the database.")

    return app
