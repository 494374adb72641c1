"""CLI commands: ``flask --app memoapp init-db`` and ``flask --app memoapp create-user``."""

from __future__ import annotations

import click
from flask import Flask
from werkzeug.datastructures import MultiDict

from .forms import RegistrationForm
from .models import User
from .models import db


@click.command("init-db")
def init_db() -> None:
    """Create the tables that do not exist yet."""
    db.create_all()
    click.echo("Initialized the database.")


@click.command("create-user")
@click.argument("username")
@click.option("--email", prompt=True, help="The user's email address.")
@click.password_option()
def create_user(username: str, email: str, password: str) -> None:
    """Create a user account (no welcome email)."""
    # The registration form's checks, without a request (so without a CSRF token).
    data = MultiDict({"username": username, "email": email, "password": password})
    form = RegistrationForm(formdata=data, meta={"csrf": False})
    if not form.validate():
        raise click.UsageError(" ".join(e for errors in form.errors.values() for e in errors))
    user = User(username=form.username.data, email=form.email.data)
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    click.echo(f"Created user {user.username} (id {user.id}).")


def register(app: Flask) -> None:
    app.cli.add_command(init_db)
    app.cli.add_command(create_user)
