"""CLI commands: ``flask --app memoapp init-db`` and ``flask --app memoapp create-user``."""

from __future__ import annotations

import click
from flask import Flask

from .forms import validate_registration
from .models import User
from .models import db


@click.command("init-db")
def init_db() -> None:
    """Create the tables that do not exist yet."""
    db.create_all()
    click.echo("Initialized the database.")


@click.command("create-user")
@click.argument("username")
@click.password_option()
def create_user(username: str, password: str) -> None:
    """Create a user account."""
    username = username.strip().lower()
    errors = validate_registration(username, password)
    if errors:
        raise click.UsageError(" ".join(errors.values()))
    user = User(username=username)
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    click.echo(f"Created user {username} (id {user.id}).")


def register(app: Flask) -> None:
    app.cli.add_command(init_db)
    app.cli.add_command(create_user)
