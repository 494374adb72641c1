"""Logging a client in with Flask-Login 0.6 without the login form: TestCase.login and
logout, force_login and force_logout, fresh and non-fresh logins, session protection,
Flask-Login's own FlaskLoginClient, and bad input."""

from __future__ import annotations

import typing as t
import unittest

import flask
import pytest
from apps import case_with_body
from apps import check_passes
from apps import run_case
from flask_login import FlaskLoginClient
from flask_login import LoginManager
from flask_login import UserMixin
from flask_login import current_user
from flask_login import fresh_login_required
from flask_login import login_required
from flask_login import login_user

from flask_testcase import TestCase
from flask_testcase import force_login
from flask_testcase import force_logout


class User(UserMixin):
    def __init__(self, id: int | None, name: str) -> None:
        self.id = id
        self.name = name

    def __repr__(self) -> str:
        return f"<User {self.name}>"


ALICE = User(1, "alice")
BOB = User(2, "bob")
USERS = {"1": ALICE, "2": BOB}


def make_app(**config: t.Any) -> flask.Flask:
    app = flask.Flask(__name__)
    app.config.update(SECRET_KEY="test", TESTING=True, **config)
    manager = LoginManager(app)

    @manager.user_loader
    def load(user_id: str) -> User | None:
        return USERS.get(user_id)

    @app.get("/me")
    @login_required
    def me() -> str:
        return str(current_user.name)

    @app.get("/settings")
    @fresh_login_required
    def settings() -> str:
        return f"settings of {current_user.name}"

    @app.post("/remember/<user_id>")
    def remember(user_id: str) -> str:
        login_user(USERS[user_id], remember=True)
        return "remembered"

    return app


class Base(TestCase):
    def create_app(self) -> flask.Flask:
        return make_app()


def check(body: t.Callable[[Base], None], base: type[Base] = Base) -> None:
    """Run ``body`` as the test method of a fresh ``base`` subclass; fail with its error."""
    check_passes(case_with_body(base, body))


class TestTestCaseLogin:
    def test_login_makes_requests_as_the_user(self) -> None:
        def body(self: Base) -> None:
            self.assert401(self.client.get("/me"))
            self.login(ALICE)
            self.assertEqual(self.client.get("/me").text, "alice")
            self.assertEqual(self.client.get("/settings").text, "settings of alice")

        check(body)

    def test_a_non_fresh_login_is_refused_by_fresh_login_required(self) -> None:
        def body(self: Base) -> None:
            self.login(ALICE, fresh=False)
            self.assertEqual(self.client.get("/me").text, "alice")
            self.assert401(self.client.get("/settings"))

        check(body)

    def test_logging_in_again_switches_user(self) -> None:
        def body(self: Base) -> None:
            self.login(ALICE)
            self.login(BOB)
            self.assertEqual(self.client.get("/me").text, "bob")

        check(body)

    def test_logout(self) -> None:
        def body(self: Base) -> None:
            self.login(ALICE)
            self.assert200(self.client.get("/me"))
            self.logout()
            self.assert401(self.client.get("/me"))

        check(body)

    def test_logout_also_ends_a_remember_me_login(self) -> None:
        def body(self: Base) -> None:
            self.client.post("/remember/2")
            self.assertIsNotNone(self.client.get_cookie("remember_token"))
            self.logout()
            self.assert401(self.client.get("/me"))
            self.assertIsNone(self.client.get_cookie("remember_token"))
            self.assert401(self.client.get("/me"))

        check(body)

    def test_strong_session_protection_keeps_the_login(self) -> None:
        class Strong(Base):
            def create_app(self) -> flask.Flask:
                app = make_app()
                t.cast("LoginManager", app.login_manager).session_protection = "strong"  # type: ignore[attr-defined]
                return app

        def body(self: Base) -> None:
            self.login(ALICE)
            self.assertEqual(self.client.get("/me").text, "alice")
            # The identifier covers the client's headers: another user agent is
            # taken for a stolen session and logged out.
            self.assert401(self.client.get("/me", headers={"User-Agent": "other"}))

        check(body, Strong)

    def test_only_the_given_client_is_logged_in(self) -> None:
        def body(self: Base) -> None:
            other = self.app.test_client()
            self.login(BOB, client=other)
            self.assertEqual(other.get("/me").text, "bob")
            self.assert401(self.client.get("/me"))
            self.logout(client=other)
            self.assert401(other.get("/me"))

        check(body)

    def test_flask_login_client_keeps_working(self) -> None:
        class WithLoginClient(Base):
            def create_app(self) -> flask.Flask:
                app = make_app()
                app.test_client_class = FlaskLoginClient
                return app

        def body(self: Base) -> None:
            self.assertIsInstance(self.client, FlaskLoginClient)
            self.assert401(self.client.get("/me"))
            as_bob = self.app.test_client(user=BOB)
            self.assertEqual(as_bob.get("/me").text, "bob")
            not_fresh = self.app.test_client(user=BOB, fresh_login=False)
            self.assert401(not_fresh.get("/settings"))
            self.login(ALICE)
            self.assertEqual(self.client.get("/me").text, "alice")

        check(body, WithLoginClient)


class TestFunctions:
    def test_force_login_and_logout_on_a_plain_client(self) -> None:
        app = make_app()
        client = app.test_client()
        force_login(client, ALICE)
        assert client.get("/me").text == "alice"
        force_logout(client)
        assert client.get("/me").status_code == 401

    def test_the_session_holds_what_login_user_writes(self) -> None:
        app = make_app()
        client = app.test_client()
        force_login(client, BOB, fresh=False)
        with client.session_transaction() as session:
            assert session["_user_id"] == "2"
            assert session["_fresh"] is False
            assert isinstance(session["_id"], str)
            assert len(session["_id"]) == 128

    def test_private_flask_login_api_relied_on(self) -> None:
        # force_login calls the LoginManager's session identifier generator, a
        # private attribute: this fails first if Flask-Login renames it.
        assert callable(LoginManager()._session_identifier_generator)


class NoGetId:
    def __repr__(self) -> str:
        return "<NoGetId>"


class TestBadInput:
    def test_user_without_get_id(self) -> None:
        client = make_app().test_client()
        with pytest.raises(TypeError) as info:
            force_login(client, NoGetId())
        assert str(info.value) == (
            "Cannot log in <NoGetId>: Flask-Login needs a get_id() method on the user"
            " to store it in the session. Give the user class flask_login.UserMixin (or"
            " a get_id() returning its id as a string)."
        )

    def test_user_whose_get_id_returns_none(self) -> None:
        client = make_app().test_client()

        class Unsaved(User):
            def get_id(self) -> t.Any:
                return None

        with pytest.raises(ValueError) as info:
            force_login(client, Unsaved(None, "new"))
        assert str(info.value) == (
            "Cannot log in <User new>: its get_id() returned None. Save the user first"
            " (so it has an id), or make get_id() return the id your user_loader"
            " loads it by."
        )

    def test_app_without_login_manager(self) -> None:
        client = flask.Flask("nologin").test_client()
        message = (
            "The app 'nologin' has no Flask-Login LoginManager, so nothing would"
            " read the login. Call login_manager.init_app(app) (or LoginManager(app))"
            " in create_app()."
        )
        with pytest.raises(ValueError) as info:
            force_login(client, ALICE)
        assert str(info.value) == message
        with pytest.raises(ValueError) as info:
            force_logout(client)
        assert str(info.value) == message

    def test_in_a_test_case_the_error_is_the_test_s_error(self) -> None:
        class Inner(TestCase):
            def create_app(self) -> flask.Flask:
                return flask.Flask("nologin")

            def test_it(self) -> None:
                self.login(ALICE)

        result: unittest.TestResult = run_case(Inner)
        assert len(result.errors) == 1
        assert result.errors[0][1].strip().splitlines()[-1] == (
            "ValueError: The app 'nologin' has no Flask-Login LoginManager, so nothing"
            " would read the login. Call login_manager.init_app(app) (or"
            " LoginManager(app)) in create_app()."
        )
