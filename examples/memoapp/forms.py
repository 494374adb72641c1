"""Validation of what users submit, shared by the HTML forms and the JSON API.

Each validator returns a dict of field name to error message; empty means valid.
"""

from __future__ import annotations

import re
import typing as t

from .models import User
from .models import db

USERNAME = re.compile(r"[a-z0-9_]{3,20}")
MIN_PASSWORD = 8
MAX_TITLE = 100


def validate_registration(username: str, password: str) -> dict[str, str]:
    errors = {}
    if not USERNAME.fullmatch(username):
        errors["username"] = "Username must be 3 to 20 lowercase letters, digits or _."
    elif db.session.execute(db.select(User.id).filter_by(username=username)).first():
        errors["username"] = f"User {username} is already registered."
    if len(password) < MIN_PASSWORD:
        errors["password"] = f"Password must be at least {MIN_PASSWORD} characters."
    return errors


def validate_memo(data: t.Mapping[str, t.Any]) -> dict[str, str]:
    errors = {}
    title = data.get("title")
    if not isinstance(title, str) or not title.strip():
        errors["title"] = "Title is required."
    elif len(title) > MAX_TITLE:
        errors["title"] = f"Title must be at most {MAX_TITLE} characters."
    if not isinstance(data.get("body", ""), str):
        errors["body"] = "Body must be text."
    return errors
