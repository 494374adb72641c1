"""CSRF in tests with Flask-WTF 1.x: off for a class through override_config, and
csrf_token() when a test keeps it on."""

from __future__ import annotations

import typing as t

import flask
from apps import check_passes as check
from flask_wtf import CSRFProtect
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired

from flask_testcase import TestCase
from flask_testcase import csrf_token
from flask_testcase import override_config


class NameForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired()])


def make_app(protect: bool = True) -> flask.Flask:
    app = flask.Flask(__name__)
    app.config.update(SECRET_KEY="test", TESTING=True)
    if protect:
        CSRFProtect(app)

    @app.route("/form", methods=["GET", "POST"])
    def form() -> t.Any:
        form = NameForm()
        if form.validate_on_submit():
            return f"hello {form.name.data}"
        return {"errors": form.errors}, 422

    @app.post("/api")
    def api() -> str:
        return "api ok"

    return app


class Base(TestCase):
    def create_app(self) -> flask.Flask:
        return make_app()


class TestCSRFOff:
    def test_one_line_on_the_class(self) -> None:
        @override_config(WTF_CSRF_ENABLED=False)
        class Off(Base):
            def test_post_without_token(self) -> None:
                self.assertEqual(self.client.post("/form", data={"name": "a"}).text, "hello a")
                self.assertEqual(self.client.post("/api").text, "api ok")

        check(Off)

    def test_on_a_class_whose_app_has_only_flaskform(self) -> None:
        # Without CSRFProtect the key is not in app.config: no unknown-key warning,
        # since Flask-WTF reads it with a default.
        @override_config(WTF_CSRF_ENABLED=False)
        class Off(Base):
            def create_app(self) -> flask.Flask:
                return make_app(protect=False)

            def test_post_without_token(self) -> None:
                self.assertEqual(self.client.post("/form", data={"name": "a"}).text, "hello a")

        check(Off)

    def test_protection_is_on_without_it(self) -> None:
        class On(Base):
            def test_post_without_token(self) -> None:
                self.assert400(self.client.post("/form", data={"name": "a"}))

        check(On)


class TestCSRFToken:
    def test_form_field_and_header(self) -> None:
        class On(Base):
            def test_it(self) -> None:
                token = self.csrf_token()
                response = self.client.post("/form", data={"name": "a", "csrf_token": token})
                self.assertEqual(response.text, "hello a")
                response = self.client.post("/api", headers={"X-CSRFToken": self.csrf_token()})
                self.assertEqual(response.text, "api ok")

        check(On)

    def test_form_validation_without_csrfprotect(self) -> None:
        class FormOnly(Base):
            def create_app(self) -> flask.Flask:
                return make_app(protect=False)

            def test_it(self) -> None:
                response = self.client.post("/form", data={"name": "a"})
                self.assertEqual(
                    response.json, {"errors": {"csrf_token": ["The CSRF token is missing."]}}
                )
                data = {"name": "a", "csrf_token": self.csrf_token()}
                self.assertEqual(self.client.post("/form", data=data).text, "hello a")

        check(FormOnly)

    def test_a_token_belongs_to_its_client(self) -> None:
        class Two(Base):
            def test_it(self) -> None:
                other = self.app.test_client()
                mine = self.csrf_token()
                theirs = self.csrf_token(client=other)
                self.assertNotEqual(mine, theirs)
                self.assert400(other.post("/api", headers={"X-CSRFToken": mine}))
                self.assertEqual(other.post("/api", headers={"X-CSRFToken": theirs}).text, "api ok")
                # The test's own g never holds a token.
                self.assertNotIn("csrf_token", flask.g)

        check(Two)

    def test_plain_client(self) -> None:
        client = make_app().test_client()
        token = csrf_token(client)
        assert client.post("/form", data={"name": "b", "csrf_token": token}).text == "hello b"
        assert client.post("/form", data={"name": "b", "csrf_token": "forged"}).status_code == 400


def test_without_flask_wtf_says_what_to_install(monkeypatch: t.Any) -> None:
    import sys

    import pytest

    monkeypatch.setitem(sys.modules, "flask_wtf.csrf", None)
    with pytest.raises(ImportError) as info:
        csrf_token(make_app().test_client())
    assert str(info.value) == (
        "csrf_token() needs Flask-WTF: pip install flask-wtf (or flask-testcase[extras])."
    )
