"""The CLI commands, run with the ``runner`` fixture (the app's CLI test runner)."""

from __future__ import annotations

import re

from memoapp.models import User


def test_create_user(runner, db, outbox):
    result = runner.invoke(
        args=["create-user", "Ada", "--email", "ada@example.com", "--password", "long enough"]
    )
    assert result.exit_code == 0, result.output
    assert re.fullmatch(r"Created user ada \(id \d+\)\.\n", result.output)
    user = db.session.execute(db.select(User).filter_by(username="ada")).scalar_one()
    assert (user.email, user.check_password("long enough")) == ("ada@example.com", True)
    # Accounts made on the command line get no welcome email.
    assert outbox == []


def test_create_user_prompts_for_the_email_and_the_password_twice(runner, db):
    result = runner.invoke(
        args=["create-user", "ada"], input="ada@example.com\nlong enough\nlong enough\n"
    )
    assert result.exit_code == 0, result.output
    *prompts, last = result.output.splitlines()
    assert prompts == ["Email: ada@example.com", "Password: ", "Repeat for confirmation: "]
    assert re.fullmatch(r"Created user ada \(id \d+\)\.", last)


def test_create_user_refuses_invalid_input(runner, make_user):
    make_user("ada")
    result = runner.invoke(args=["create-user", "ada", "--email", "ada", "--password", "short"])
    assert result.exit_code == 2
    # The registration form's checks, messages and order.
    assert (
        "User ada is already registered. Enter a valid email address."
        " Password must be at least 8 characters."
    ) in result.output


def test_init_db_creates_the_tables(runner, db):
    result = runner.invoke(args=["init-db"])
    assert result.output == "Initialized the database.\n"
    assert {"user", "memo"} <= set(db.inspect(db.engine).get_table_names())
