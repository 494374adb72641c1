"""Registration (with a welcome email), login and logout, and the account page, with
Flask-Login keeping track of who is logged in."""

from __future__ import annotations

import typing as t

from flask import Blueprint
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_login import fresh_login_required
from flask_login import login_user
from flask_login import logout_user
from flask_mailman import EmailMessage

from .extensions import login_manager
from .forms import LoginForm
from .forms import RegistrationForm
from .models import User
from .models import db

bp = Blueprint("auth", __name__, url_prefix="/auth")

# Anonymous users who open a page that needs a login are sent here, with the page in
# "next"; a login restored from a "remember me" cookie must log in again for
# fresh_login_required pages.
login_manager.login_view = "auth.login"
login_manager.login_message = "Please log in first."
login_manager.login_message_category = "info"
login_manager.refresh_view = "auth.login"
login_manager.needs_refresh_message = "Please log in again to see your account."
login_manager.needs_refresh_message_category = "info"


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    return db.session.get(User, int(user_id))


def send_welcome_email(user: User) -> None:
    # Sent with the app's mail backend; the sender is MAIL_DEFAULT_SENDER.
    EmailMessage(
        subject="Welcome to Memo",
        body=(
            f"Hello {user.username},\n\n"
            "your Memo account is ready. Log in to write your first memo:\n"
            f"{url_for('auth.login', _external=True)}\n"
        ),
        to=[user.email],
    ).send()


@bp.route("/register", methods=["GET", "POST"])
def register() -> t.Any:
    form = RegistrationForm()
    if form.validate_on_submit():
        user = User(username=form.username.data, email=form.email.data)
        user.set_password(form.password.data)
        db.session.add(user)
        db.session.commit()
        send_welcome_email(user)
        flash("Account created. Please log in.", "success")
        return redirect(url_for("auth.login"))
    # A rejected form is 422, so that scripts and tests can tell it from a fresh
    # one; the template shows each field's errors next to it.
    status = 422 if form.is_submitted() else 200
    return render_template("auth/register.html", form=form), status


def _safe_next(url: str) -> str:
    """``url`` if it is a path on this site, else ``""``: an absolute URL (or one a
    browser reads as such) in "next" would be an open redirect."""
    if not url.startswith("/") or url.startswith(("//", "/\\")):
        return ""
    return url


@bp.route("/login", methods=["GET", "POST"])
def login() -> t.Any:
    next_url = _safe_next(request.values.get("next", ""))
    form = LoginForm()
    if form.validate_on_submit():
        user = db.session.execute(db.select(User).filter_by(username=form.username.data)).scalar()
        if user is not None and user.check_password(form.password.data):
            login_user(user, remember=form.remember.data)
            flash(f"Welcome back, {user.username}!", "success")
            return redirect(next_url or url_for("memos.index"))
        # An error of the whole form: never say which of the two was wrong.
        form.form_errors.append("Incorrect username or password.")
    status = 401 if form.is_submitted() else 200
    return render_template("auth/login.html", form=form, next=next_url), status


@bp.route("/logout", methods=["POST"])
def logout() -> t.Any:
    logout_user()
    flash("You have been logged out.", "info")
    return redirect(url_for("memos.index"))


@bp.route("/account")
@fresh_login_required
def account() -> t.Any:
    # It shows the email address: a login restored from a "remember me" cookie
    # (not fresh) must give the password again first.
    return render_template("auth/account.html")
