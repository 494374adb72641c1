"""Per-response records: what each request of the isolated test client rendered,
flashed and left in the session, on its own response."""

from __future__ import annotations

import typing as t
import unittest

import flask
import jinja2
import pytest
from flask.testing import FlaskClient

from flask_testcase import RecordedResponse
from flask_testcase import RenderedTemplate
from flask_testcase import TestCase
from flask_testcase import isolated_client_class

SIGNALS = (flask.template_rendered, flask.message_flashed, flask.request_finished)


def connected() -> list[int]:
    return [len(signal.receivers) for signal in SIGNALS]


def make_app(**config: t.Any) -> flask.Flask:
    app = flask.Flask(__name__)
    app.config.update({"TESTING": True, "SECRET_KEY": "records", **config})
    app.jinja_env.loader = jinja2.DictLoader(
        {"page.html": "<p>{{ name }}</p>", "mail.txt": "Hello {{ name }}"}
    )

    @app.route("/")
    def index() -> str:
        flask.flash("Welcome, ada!", "success")
        flask.flash("plain")
        flask.session["user"] = "ada"
        return flask.render_template("page.html", name="ada")

    @app.route("/two")
    def two() -> str:
        return flask.render_template("mail.txt", name="bob") + flask.render_template(
            "page.html", name="bob"
        )

    @app.route("/none")
    def none() -> str:
        return "no template"

    @app.route("/move")
    def move() -> t.Any:
        flask.flash("Moved", "info")
        flask.session["moved"] = True
        # Explicit: Flask's default redirect code is 302 up to 3.1, 303 from 3.2.
        return flask.redirect("/", 302)

    @app.route("/boom")
    def boom() -> str:
        flask.render_template("page.html", name="doomed")
        raise RuntimeError("boom")

    @app.route("/stream")
    def stream() -> t.Any:
        return flask.stream_template("page.html", name="streamed")

    @app.route("/stream-flash")
    def stream_flash() -> t.Any:
        @flask.stream_with_context
        def generate() -> t.Iterator[str]:
            yield "a"
            flask.flash("from the stream")
            yield "b"

        return flask.Response(generate())

    @app.after_request
    def stamp(response: flask.Response) -> flask.Response:
        if flask.request.path == "/none":
            flask.session["after_request"] = 1
        return response

    app.test_client_class = isolated_client_class(app.test_client_class)
    return app


def get(client: FlaskClient, *args: t.Any, **kwargs: t.Any) -> RecordedResponse:
    response = client.get(*args, **kwargs)
    assert isinstance(response, RecordedResponse)
    return response


class TestOneRequest:
    def test_records_what_the_request_did(self) -> None:
        app = make_app()
        response = get(app.test_client(), "/")
        assert [r.name for r in response.templates] == ["page.html"]
        assert isinstance(response.templates[0], RenderedTemplate)
        assert response.templates[0].context["name"] == "ada"
        assert response.context["name"] == "ada"
        assert response.flashes == [("success", "Welcome, ada!"), ("message", "plain")]
        assert response.session == {
            "_flashes": [("success", "Welcome, ada!"), ("message", "plain")],
            "user": "ada",
        }
        assert type(response.session) is dict

    def test_each_response_has_only_its_own_request(self) -> None:
        app = make_app()
        client = app.test_client()
        first = get(client, "/")
        second = get(client, "/two")
        assert [r.name for r in first.templates] == ["page.html"]
        assert [r.name for r in second.templates] == ["mail.txt", "page.html"]
        assert second.flashes == []
        # The session the cookie carried in, as the second request left it.
        assert second.session is not None
        assert second.session["user"] == "ada"

    def test_session_includes_after_request_changes(self) -> None:
        response = get(make_app().test_client(), "/none")
        assert response.session == {"after_request": 1}

    def test_session_is_empty_when_the_app_opened_none(self) -> None:
        app = make_app(SECRET_KEY=None)
        response = get(app.test_client(), "/two")
        assert response.session == {}

    def test_the_response_is_also_the_apps_response_class(self) -> None:
        class AppResponse(flask.Response):
            def shout(self) -> str:
                return self.get_data(as_text=True).upper()

        app = make_app()
        app.response_class = AppResponse
        response = get(app.test_client(), "/none")
        assert isinstance(response, AppResponse)
        assert response.shout() == "NO TEMPLATE"
        assert response.templates == []

    def test_buffered_requests_are_recorded(self) -> None:
        response = get(make_app().test_client(), "/", buffered=True)
        assert [r.name for r in response.templates] == ["page.html"]


class TestContext:
    def test_no_template_is_an_attribute_error_naming_the_request(self) -> None:
        response = get(make_app().test_client(), "/none")
        with pytest.raises(AttributeError) as info:
            response.context  # noqa: B018
        assert str(info.value) == (
            "response.context is the context of the one template the request rendered,"
            " but GET /none (200 OK) rendered no template."
        )
        assert getattr(response, "context", None) is None

    def test_several_templates_is_an_attribute_error_naming_them(self) -> None:
        response = get(make_app().test_client(), "/two")
        with pytest.raises(AttributeError) as info:
            response.context  # noqa: B018
        assert str(info.value) == (
            "response.context is the context of the one template the request rendered,"
            " but GET /two (200 OK) rendered 2: 'mail.txt', 'page.html'. Read"
            " response.templates[i].context instead."
        )


class TestRedirects:
    def test_followed_redirects_give_each_response_its_own_records(self) -> None:
        response = get(make_app().test_client(), "/move", follow_redirects=True)
        # The last response: the request to "/".
        assert [r.name for r in response.templates] == ["page.html"]
        assert response.flashes == [("success", "Welcome, ada!"), ("message", "plain")]
        assert response.session is not None
        assert response.session["moved"] is True
        assert response.session["user"] == "ada"
        (redirect,) = response.history
        assert isinstance(redirect, RecordedResponse)
        assert redirect.status_code == 302
        assert redirect.templates == []
        assert redirect.flashes == [("info", "Moved")]
        assert redirect.session == {"_flashes": [("info", "Moved")], "moved": True}

    def test_unfollowed_redirect_records_only_the_redirecting_request(self) -> None:
        response = get(make_app().test_client(), "/move")
        assert response.flashes == [("info", "Moved")]
        assert response.templates == []


class TestErrorsAndStreams:
    def test_a_view_that_raises_leaves_nothing_connected(self) -> None:
        app = make_app()
        client = app.test_client()
        before = connected()
        with pytest.raises(RuntimeError, match="boom"):
            client.get("/boom")
        assert connected() == before
        assert [r.name for r in get(client, "/").templates] == ["page.html"]

    def test_a_handled_error_is_recorded(self) -> None:
        app = make_app(TESTING=False)
        response = get(app.test_client(), "/boom")
        assert response.status_code == 500
        assert [r.context["name"] for r in response.templates] == ["doomed"]

    def test_a_streamed_body_is_recorded_as_it_is_read(self) -> None:
        app = make_app()
        before = connected()
        response = get(app.test_client(), "/stream")
        # Flask sends template_rendered once the template has been generated.
        assert response.templates == []
        assert connected() == before
        assert response.get_data(as_text=True) == "<p>streamed</p>"
        assert [r.name for r in response.templates] == ["page.html"]
        assert response.context["name"] == "streamed"
        assert connected() == before

    def test_a_flash_while_streaming_is_recorded(self) -> None:
        response = get(make_app().test_client(), "/stream-flash")
        assert response.get_data(as_text=True) == "ab"
        assert response.flashes == [("message", "from the stream")]
        response.close()

    def test_an_unread_stream_leaves_nothing_connected(self) -> None:
        app = make_app()
        before = connected()
        response = get(app.test_client(), "/stream")
        response.close()
        assert connected() == before
        assert response.templates == []


class TestClients:
    def test_with_client_block_keeps_the_context_and_the_records(self) -> None:
        app = make_app()
        before = connected()
        with app.test_client() as client:
            response = get(client, "/")
            assert flask.session["user"] == "ada"
            assert response.flashes == [("success", "Welcome, ada!"), ("message", "plain")]
        assert connected() == before

    def test_an_app_test_client_class_keeps_working(self) -> None:
        class LoginClient(FlaskClient):
            # Flask-Login's FlaskLoginClient shape: a keyword of its own, and the
            # session written through session_transaction() in __init__.
            def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
                user = kwargs.pop("user", None)
                super().__init__(*args, **kwargs)
                if user is not None:
                    with self.session_transaction() as session:
                        session["_user_id"] = user

        app = make_app()
        app.test_client_class = isolated_client_class(LoginClient)
        client = app.test_client(user="42")
        assert isinstance(client, LoginClient)
        response = get(client, "/two")
        assert response.session == {"_user_id": "42"}
        assert [r.name for r in response.templates] == ["mail.txt", "page.html"]

    def test_another_apps_renders_are_not_recorded(self) -> None:
        app = make_app()
        other = flask.Flask("other")

        @app.route("/mixed")
        def mixed() -> str:
            with other.app_context():
                flask.render_template_string("other app")
            return flask.render_template("page.html", name="mine")

        response = get(app.test_client(), "/mixed")
        assert [r.name for r in response.templates] == ["page.html"]

    def test_a_request_made_inside_a_view_keeps_its_own_records(self) -> None:
        app = make_app()
        inner: list[RecordedResponse] = []

        @app.route("/outer")
        def outer() -> str:
            inner.append(get(app.test_client(), "/"))
            return flask.render_template("mail.txt", name="outer")

        response = get(app.test_client(), "/outer")
        assert [r.name for r in response.templates] == ["mail.txt"]
        assert response.flashes == []
        assert [r.name for r in inner[0].templates] == ["page.html"]

    def test_a_response_made_elsewhere_has_empty_records(self) -> None:
        response = RecordedResponse([b"x"], "200 OK", [], flask.Request.from_values("/"))
        assert (response.templates, response.flashes, response.session) == ([], [], None)


class TestInTestCase:
    def test_the_test_case_client_gives_recorded_responses(self) -> None:
        seen: list[t.Any] = []

        class Case(TestCase):
            def create_app(self) -> flask.Flask:
                return make_app()

            def test_it(self) -> None:
                response = self.client.get("/")
                seen.append((type(response), response.flashes, response.context["name"]))
                self.client.get("/two")
                # The test's records keep every request; the response only its own.
                seen.append(([r.name for r in self.templates], response.templates[0].name))

        result = unittest.TestResult()
        unittest.TestSuite([Case("test_it")]).run(result)
        assert result.wasSuccessful(), result.errors + result.failures
        (response_class, flashes, name), (test_templates, own) = seen
        assert issubclass(response_class, RecordedResponse)
        assert flashes == [("success", "Welcome, ada!"), ("message", "plain")]
        assert name == "ada"
        assert test_templates == ["page.html", "mail.txt", "page.html"]
        assert own == "page.html"
