"""What users submit: the registration and login forms (Flask-WTF), and the
validation of memos shared by the HTML form and the JSON API."""

from __future__ import annotations

import typing as t

from flask_wtf import FlaskForm
from wtforms import BooleanField
from wtforms import Field
from wtforms import PasswordField
from wtforms import StringField
from wtforms.validators import DataRequired
from wtforms.validators import Length
from wtforms.validators import Regexp
from wtforms.validators import ValidationError

from .models import User
from .models import db

MIN_PASSWORD = 8
MAX_TITLE = 100
# One "@", something on both sides and a dot in the domain: enough to catch typos.
# (WTForms' Email validator would need the email_validator package.)
EMAIL = r"[^@\s]+@[^@\s]+\.[^@\s]+\Z"


def _normalize_username(value: str | None) -> str | None:
    return value.strip().lower() if value else value


def _strip(value: str | None) -> str | None:
    return value.strip() if value else value


class RegistrationForm(FlaskForm):
    username = StringField(
        "Username",
        filters=[_normalize_username],
        validators=[
            DataRequired(),
            Length(min=3, max=20, message="Username must be 3 to 20 characters long."),
            Regexp(
                r"[a-z0-9_]+\Z",
                message="Username may only contain lowercase letters, digits and _.",
            ),
        ],
    )
    email = StringField(
        "Email",
        filters=[_strip],
        validators=[
            DataRequired(),
            Length(max=254),
            Regexp(EMAIL, message="Enter a valid email address."),
        ],
    )
    password = PasswordField(
        "Password",
        validators=[
            DataRequired(),
            Length(
                min=MIN_PASSWORD, message=f"Password must be at least {MIN_PASSWORD} characters."
            ),
        ],
    )

    def validate_username(self, field: Field) -> None:
        # WTForms calls validate_<field> after the field's own validators.
        if db.session.execute(db.select(User.id).filter_by(username=field.data)).first():
            raise ValidationError(f"User {field.data} is already registered.")


class LoginForm(FlaskForm):
    username = StringField("Username", filters=[_normalize_username], validators=[DataRequired()])
    password = PasswordField("Password", validators=[DataRequired()])
    remember = BooleanField("Remember me")


def validate_memo(data: t.Mapping[str, t.Any]) -> dict[str, str]:
    """Return a dict of field name to error message; empty means valid."""
    errors = {}
    title = data.get("title")
    if not isinstance(title, str) or not title.strip():
        errors["title"] = "Title is required."
    elif len(title) > MAX_TITLE:
        errors["title"] = f"Title must be at most {MAX_TITLE} characters."
    if not isinstance(data.get("body", ""), str):
        errors["body"] = "Body must be text."
    return errors
