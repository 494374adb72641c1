"""Registration, login and logout through HTML forms; the logged-in user in ``g``."""

from __future__ import annotations

import functools
import typing as t

from flask import Blueprint
from flask import flash
from flask import g
from flask import redirect
from flask import render_template
from flask import request
from flask import session
from flask import url_for

from .forms import validate_registration
from .models import User
from .models import db

bp = Blueprint("auth", __name__, url_prefix="/auth")

F = t.TypeVar("F", bound=t.Callable[..., t.Any])


@bp.before_app_request
def load_logged_in_user() -> None:
    user_id = session.get("user_id")
    g.user = db.session.get(User, user_id) if user_id is not None else None


def login_required(view: F) -> F:
    """Send anonymous users to the login page, then back where they were going."""

    @functools.wraps(view)
    def wrapped(*args: t.Any, **kwargs: t.Any) -> t.Any:
        if g.user is None:
            flash("Please log in first.", "info")
            return redirect(url_for("auth.login", next=request.path))
        return view(*args, **kwargs)

    return t.cast(F, wrapped)


@bp.route("/register", methods=["GET", "POST"])
def register() -> t.Any:
    if request.method == "POST":
        username = request.form.get("username", "").strip().lower()
        password = request.form.get("password", "")
        errors = validate_registration(username, password)
        if not errors:
            user = User(username=username)
            user.set_password(password)
            db.session.add(user)
            db.session.commit()
            flash("Account created. Please log in.", "success")
            return redirect(url_for("auth.login"))
        for error in errors.values():
            flash(error, "error")
        # Re-render with what the user typed (never the password), status 422 so
        # that scripts and tests can tell a rejected form from a fresh one.
        return render_template("auth/register.html", username=username, errors=errors), 422
    return render_template("auth/register.html", username="", errors={})


@bp.route("/login", methods=["GET", "POST"])
def login() -> t.Any:
    next_url = request.values.get("next", "")
    # Only paths on this site: an absolute URL here would be an open redirect.
    if not next_url.startswith("/") or next_url.startswith("//"):
        next_url = ""
    if request.method == "POST":
        username = request.form.get("username", "").strip().lower()
        user = db.session.execute(db.select(User).filter_by(username=username)).scalar()
        if user is None or not user.check_password(request.form.get("password", "")):
            flash("Incorrect username or password.", "error")
            return render_template("auth/login.html", username=username, next=next_url), 401
        session.clear()
        session["user_id"] = user.id
        flash(f"Welcome back, {user.username}!", "success")
        return redirect(next_url or url_for("memos.index"))
    return render_template("auth/login.html", username="", next=next_url)


@bp.route("/logout", methods=["POST"])
def logout() -> t.Any:
    session.clear()
    flash("You have been logged out.", "info")
    return redirect(url_for("memos.index"))
