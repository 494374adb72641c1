"""The application with a realistic schema: 26 tables with foreign keys, unique
constraints and indexes, built by a chain of Flask-Migrate (Alembic) migrations.

A shop with users, a catalogue, orders and reviews, as real apps grow: the schema in
``benchmarks/migrations`` was made by Flask-Migrate's own commands (``flask db init``,
then ``flask db migrate`` once per stage of these models, with ``render_as_batch`` for
SQLite), and the models match its head (``flask db check`` finds nothing). Each block
of models below names the revision that made it; a column added later names its own.

The suites on this schema (:func:`benchmarks.suites.schema_suites`) POST a row to one
of its named tables and read it back, as the 20-table suites do; what differs is what
each harness pays to give every test a clean database: creating 26 tables with their
indexes, or migrating, or rolling back.
"""

from __future__ import annotations

import datetime
import typing as t
from pathlib import Path

from flask import Blueprint
from flask import Flask
from flask import abort
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy

if t.TYPE_CHECKING:
    from werkzeug.wrappers import Response

__all__ = ["KINDS", "MIGRATIONS", "MODELS", "create_app", "db", "migrate"]

#: The migrations directory, made by Flask-Migrate's commands.
MIGRATIONS = Path(__file__).resolve().parent / "migrations"

db = SQLAlchemy()
migrate = Migrate()


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


# -- revision 1: users -----------------------------------------------------------------


class Role(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(64), nullable=False, unique=True)
    permissions = db.Column(db.Integer, nullable=False, default=0)


class User(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    email = db.Column(db.String(200), nullable=False, unique=True)
    name = db.Column(db.String(200), nullable=False)
    password_hash = db.Column(db.String(256))
    role_id = db.Column(db.ForeignKey("role.id"), index=True)
    created_at = db.Column(db.DateTime, default=_now, nullable=False)
    last_seen = db.Column(db.DateTime, index=True)  # revision 5


class UserProfile(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.ForeignKey("user.id", ondelete="CASCADE"), nullable=False, unique=True)
    bio = db.Column(db.Text)
    location = db.Column(db.String(100))


class ApiToken(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.ForeignKey("user.id", ondelete="CASCADE"), nullable=False, index=True)
    token = db.Column(db.String(64), nullable=False, unique=True)
    expires_at = db.Column(db.DateTime)


class Follow(db.Model):
    follower_id = db.Column(db.ForeignKey("user.id"), primary_key=True)
    followed_id = db.Column(db.ForeignKey("user.id"), primary_key=True)
    created_at = db.Column(db.DateTime, default=_now, nullable=False)


# -- revision 2: catalogue -------------------------------------------------------------


class Category(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(100), nullable=False)
    slug = db.Column(db.String(100), unique=True)
    parent_id = db.Column(db.ForeignKey("category.id"), index=True)


class Brand(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(100), nullable=False, unique=True)
    website = db.Column(db.String(200))


class Product(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(200), nullable=False, index=True)
    sku = db.Column(db.String(40), unique=True)
    description = db.Column(db.Text)
    price = db.Column(db.Numeric(10, 2), nullable=False, default=0)
    category_id = db.Column(db.ForeignKey("category.id"), index=True)
    brand_id = db.Column(db.ForeignKey("brand.id"), index=True)
    stock = db.Column(db.Integer, nullable=False, server_default="0")  # revision 5


class ProductImage(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    product_id = db.Column(db.ForeignKey("product.id", ondelete="CASCADE"), nullable=False,
                           index=True)  # fmt: skip
    url = db.Column(db.String(300), nullable=False)
    position = db.Column(db.Integer, nullable=False, default=0)


class Tag(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(50), nullable=False, unique=True)


class ProductTag(db.Model):
    product_id = db.Column(db.ForeignKey("product.id", ondelete="CASCADE"), primary_key=True)
    tag_id = db.Column(db.ForeignKey("tag.id", ondelete="CASCADE"), primary_key=True)


class PriceHistory(db.Model):
    __table_args__ = (db.Index("ix_price_history_product_changed", "product_id", "changed_at"),)
    id = db.Column(db.Integer, primary_key=True)
    product_id = db.Column(db.ForeignKey("product.id", ondelete="CASCADE"), nullable=False)
    price = db.Column(db.Numeric(10, 2), nullable=False)
    changed_at = db.Column(db.DateTime, default=_now, nullable=False)


# -- revision 3: orders ----------------------------------------------------------------


class Address(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.ForeignKey("user.id", ondelete="CASCADE"), nullable=False, index=True)
    street = db.Column(db.String(200), nullable=False)
    city = db.Column(db.String(100), nullable=False)
    postcode = db.Column(db.String(20), nullable=False)
    country = db.Column(db.String(2), nullable=False)


class Cart(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.ForeignKey("user.id", ondelete="CASCADE"), unique=True)
    updated_at = db.Column(db.DateTime, default=_now, nullable=False)


class CartItem(db.Model):
    __table_args__ = (db.UniqueConstraint("cart_id", "product_id"),)
    id = db.Column(db.Integer, primary_key=True)
    cart_id = db.Column(db.ForeignKey("cart.id", ondelete="CASCADE"), nullable=False)
    product_id = db.Column(db.ForeignKey("product.id"), nullable=False, index=True)
    quantity = db.Column(db.Integer, nullable=False, default=1)


class Order(db.Model):
    __tablename__ = "orders"
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(100), nullable=False)
    user_id = db.Column(db.ForeignKey("user.id"), index=True)
    address_id = db.Column(db.ForeignKey("address.id"))
    status = db.Column(db.String(20), nullable=False, default="new", index=True)
    created_at = db.Column(db.DateTime, default=_now, nullable=False, index=True)  # revision 5


class OrderLine(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    order_id = db.Column(db.ForeignKey("orders.id", ondelete="CASCADE"), nullable=False,
                         index=True)  # fmt: skip
    product_id = db.Column(db.ForeignKey("product.id"), nullable=False, index=True)
    quantity = db.Column(db.Integer, nullable=False, default=1)
    unit_price = db.Column(db.Numeric(10, 2), nullable=False)


class Payment(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    order_id = db.Column(db.ForeignKey("orders.id"), nullable=False, index=True)
    reference = db.Column(db.String(64), nullable=False, unique=True)
    amount = db.Column(db.Numeric(10, 2), nullable=False)
    paid_at = db.Column(db.DateTime)


class Shipment(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    order_id = db.Column(db.ForeignKey("orders.id"), nullable=False, index=True)
    carrier = db.Column(db.String(40), nullable=False)
    tracking = db.Column(db.String(64), index=True)
    shipped_at = db.Column(db.DateTime)


class Coupon(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(100), nullable=False)
    code = db.Column(db.String(20), unique=True)
    percent = db.Column(db.Integer, nullable=False, default=10)
    valid_until = db.Column(db.DateTime)


class OrderCoupon(db.Model):
    order_id = db.Column(db.ForeignKey("orders.id", ondelete="CASCADE"), primary_key=True)
    coupon_id = db.Column(db.ForeignKey("coupon.id"), primary_key=True)


# -- revision 4: community -------------------------------------------------------------


class Review(db.Model):
    __table_args__ = (db.UniqueConstraint("product_id", "user_id"),)
    id = db.Column(db.Integer, primary_key=True)
    product_id = db.Column(db.ForeignKey("product.id", ondelete="CASCADE"), nullable=False)
    user_id = db.Column(db.ForeignKey("user.id"), nullable=False, index=True)
    stars = db.Column(db.Integer, nullable=False)
    body = db.Column(db.Text)
    created_at = db.Column(db.DateTime, default=_now, nullable=False)


class Question(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(200), nullable=False)
    product_id = db.Column(db.ForeignKey("product.id", ondelete="CASCADE"), index=True)
    user_id = db.Column(db.ForeignKey("user.id"), index=True)
    created_at = db.Column(db.DateTime, default=_now, nullable=False)


class Answer(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    question_id = db.Column(db.ForeignKey("question.id", ondelete="CASCADE"), nullable=False,
                            index=True)  # fmt: skip
    user_id = db.Column(db.ForeignKey("user.id"), index=True)
    body = db.Column(db.Text, nullable=False)
    helpful = db.Column(db.Integer, nullable=False, default=0)


class Notification(db.Model):
    __table_args__ = (db.Index("ix_notification_user_read", "user_id", "read"),)
    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.ForeignKey("user.id", ondelete="CASCADE"), nullable=False)
    kind = db.Column(db.String(40), nullable=False)
    payload = db.Column(db.Text)
    read = db.Column(db.Boolean, nullable=False, default=False)


class AuditLog(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.ForeignKey("user.id"), index=True)
    action = db.Column(db.String(40), nullable=False, index=True)
    detail = db.Column(db.Text)
    created_at = db.Column(db.DateTime, default=_now, nullable=False, index=True)


# -- the app ---------------------------------------------------------------------------

#: Every model, by table name.
MODELS: dict[str, t.Any] = {
    mapper.class_.__tablename__: mapper.class_ for mapper in db.Model.registry.mappers
}

#: The tables the tests write to (each has a required ``name`` and no required foreign
#: key), one per test class in turn.
KINDS = ["role", "category", "brand", "product", "tag", "coupon", "orders", "question"]

crud = Blueprint("crud", __name__)


def _model(kind: str) -> t.Any:
    if kind not in KINDS:
        abort(404)
    return MODELS[kind]


@crud.route("/<kind>/", methods=["POST"])
def create(kind: str) -> str | Response:
    model = _model(kind)
    name = request.form.get("name", "").strip()
    if not name:
        abort(400)
    row = model(name=name)
    db.session.add(row)
    db.session.commit()
    flash(f"Created {kind} {name}.", "success")
    return redirect(url_for("crud.show", kind=kind, id=row.id))


@crud.route("/<kind>/<int:id>")
def show(kind: str, id: int) -> str:
    row = db.session.get(_model(kind), id)
    if row is None:
        abort(404)
    fields = {c.name: getattr(row, c.name) for c in row.__table__.columns}
    return render_template("shop_show.html", kind=kind, row=row, fields=fields.items())


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
        SITE_NAME="Bench Shop",
    )
    app.config.update(config)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS))
    app.register_blueprint(crud)

    @app.context_processor
    def site() -> dict[str, t.Any]:
        return {"site_name": app.config["SITE_NAME"], "year": 2026}

    return app
