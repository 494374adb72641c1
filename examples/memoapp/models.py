"""The database models: users and their memos."""

from __future__ import annotations

import datetime as dt
import typing as t

from flask import current_app
from flask_login import UserMixin
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import ForeignKey
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship
from werkzeug.security import check_password_hash
from werkzeug.security import generate_password_hash


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


class User(UserMixin, db.Model):  # type: ignore[name-defined,misc]
    # UserMixin gives what Flask-Login needs: get_id() (the id as a string, which
    # the user_loader in auth.py loads the user by), is_authenticated and the like.
    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(20), unique=True)
    email: Mapped[str] = mapped_column(String(254))
    password_hash: Mapped[str] = mapped_column(String(200))
    memos: Mapped[list[Memo]] = relationship(back_populates="author", order_by="Memo.id")

    def set_password(self, password: str) -> None:
        method = current_app.config["PASSWORD_HASH_METHOD"]
        self.password_hash = generate_password_hash(password, method=method)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)


class Memo(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "memo"

    id: Mapped[int] = mapped_column(primary_key=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    title: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text, default="")
    created: Mapped[dt.datetime] = mapped_column(default=_now)
    author: Mapped[User] = relationship(back_populates="memos")

    def to_json(self) -> dict[str, t.Any]:
        return {
            "id": self.id,
            "title": self.title,
            "body": self.body,
            "author": self.author.username,
            "created": self.created.isoformat(timespec="seconds"),
        }
