"""flask_testcase.webtest: WebTest's TestApp with our per-response records, run for
real: WebTest 3 forms filled in and submitted against Jinja templates with Flask-WTF
forms (CSRF on), Flask-WebTest's names, session transactions, ``user=``, bad input,
and TestCase.testapp inside the test's records."""

from __future__ import annotations

import contextvars
import importlib
import sys
import typing as t
import unittest

import flask
import pytest
import webtest
from apps import case_with_body
from apps import check_passes
from apps import only_failure
from apps import run_case
from flask_login import LoginManager
from flask_login import UserMixin
from flask_login import current_user
from flask_login import login_required
from flask_mail import Mail
from flask_mail import Message
from flask_wtf import CSRFProtect
from flask_wtf import FlaskForm
from jinja2 import DictLoader
from wtforms import StringField
from wtforms.validators import DataRequired
from wtforms.validators import Regexp

from flask_testcase import NotOneTemplate
from flask_testcase import RecordedResponse
from flask_testcase import TestCase
from flask_testcase import assert_form_error
from flask_testcase import asserts
from flask_testcase import csrf_token
from flask_testcase import force_login
from flask_testcase import force_logout
from flask_testcase import isolated_client_class
from flask_testcase.webtest import FormNotFound
from flask_testcase.webtest import TestApp
from flask_testcase.webtest import TestResponse

SIGNALS = (flask.template_rendered, flask.message_flashed, flask.request_finished)

TEMPLATES = {
    "base.html": (
        "<html><body>{% for m in get_flashed_messages() %}<p class=flash>{{ m }}</p>"
        "{% endfor %}{% block body %}{% endblock %}</body></html>"
    ),
    "signup.html": (
        '{% extends "base.html" %}{% block body %}'
        '<form method="post" action="{{ url_for("signup") }}" id="signup" name="signup">'
        "{{ form.csrf_token }}{{ form.name.label }} {{ form.name() }}"
        "{% for e in form.name.errors %}<span class=error>{{ e }}</span>{% endfor %}"
        "{{ form.email.label }} {{ form.email() }}"
        "{% for e in form.email.errors %}<span class=error>{{ e }}</span>{% endfor %}"
        '<button type="submit">Sign up</button></form>'
        '<a href="{{ url_for("welcome") }}">Skip</a>{% endblock %}'
    ),
    "welcome.html": '{% extends "base.html" %}{% block body %}<h1>Hi {{ name }}</h1>{% endblock %}',
    "two.html": '<form action="/a" method="post"></form><form id="search" action="/s"></form>',
    "none.html": "<p>{{ text }}</p>",
    "part.html": "[{{ n }}]",
}


class SignupForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired()])
    email = StringField(
        "Email", validators=[DataRequired(), Regexp(".+@.+", message="Invalid email address.")]
    )


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
    app.config.update(
        SECRET_KEY="webtest",
        TESTING=True,
        MAIL_DEFAULT_SENDER="app@example.com",
        **config,
    )
    app.jinja_loader = DictLoader(TEMPLATES)  # type: ignore[assignment]
    CSRFProtect(app)
    Mail(app)
    manager = LoginManager(app)

    @manager.user_loader
    def load(user_id: str) -> User | None:
        return USERS.get(user_id)

    @app.route("/signup", methods=["GET", "POST"])
    def signup() -> t.Any:
        form = SignupForm()
        if form.validate_on_submit():
            flask.session["name"] = form.name.data
            flask.flash(f"Welcome, {form.name.data}!", "success")
            app.extensions["mail"].send(
                Message("Welcome", recipients=[str(form.email.data)], body="Hello")
            )
            # 302 on every Flask (its default is 303 from 3.2).
            return flask.redirect(flask.url_for("welcome"), code=302)
        status = 422 if flask.request.method == "POST" else 200
        return flask.render_template("signup.html", form=form), status

    @app.get("/welcome")
    def welcome() -> str:
        return flask.render_template("welcome.html", name=flask.session.get("name", "stranger"))

    @app.get("/two")
    def two() -> str:
        return flask.render_template("two.html")

    @app.get("/none")
    def none() -> str:
        return flask.render_template_string("<p>{{ text }}</p>", text="no form")

    @app.get("/plain")
    def plain() -> str:
        return "plain"

    @app.get("/parts")
    def parts() -> str:
        return flask.render_template("part.html", n=1) + flask.render_template("part.html", n=2)

    @app.get("/stream")
    def stream() -> t.Any:
        def generate() -> t.Iterator[str]:
            yield "start "
            flask.flash("streamed")
            yield flask.render_template("part.html", n="s")

        return flask.Response(flask.stream_with_context(generate()))

    @app.get("/g")
    def g_value() -> str:
        seen = flask.g.get("mark", "unset")
        flask.g.mark = "set by a request"
        return str(seen)

    @app.get("/boom")
    def boom() -> str:
        flask.render_template("part.html", n="boom")
        raise RuntimeError("boom")

    @app.get("/me")
    @login_required
    def me() -> str:
        return str(current_user.name)

    @app.post("/api")
    def api() -> str:
        return f"api {flask.request.form.get('x')}"

    @app.get("/session/<key>")
    def session_value(key: str) -> str:
        return str(flask.session.get(key, "missing"))

    return app


def connected() -> list[int]:
    return [len(signal.receivers) for signal in SIGNALS]


def signup(testapp: TestApp, name: str = "ada", email: str = "ada@example.com") -> TestResponse:
    page = testapp.get("/signup")
    form = page.forms["signup"]
    form["name"] = name
    form["email"] = email
    response: TestResponse = form.submit(status="*")
    return response


class TestResponseRecords:
    def test_a_page_s_template_context_and_session(self) -> None:
        testapp = TestApp(make_app())
        response = testapp.get("/signup")
        assert isinstance(response, TestResponse)
        assert [r.name for r in response.templates] == ["signup.html", "base.html"][:1]
        assert response.template == "signup.html"
        assert isinstance(response.context["form"], SignupForm)
        assert list(response.contexts) == ["signup.html"]
        assert response.flashes == []
        # Flask-WTF keeps its CSRF secret in the session the page left.
        assert "csrf_token" in t.cast(dict, response.session)

    def test_a_submitted_form_s_records_are_its_own(self) -> None:
        testapp = TestApp(make_app())
        response = signup(testapp)
        assert response.status_int == 302
        assert response.templates == []
        assert response.flashes == [("success", "Welcome, ada!")]
        assert t.cast(dict, response.session)["name"] == "ada"
        followed = response.follow()
        assert followed.template == "welcome.html"
        assert followed.context["name"] == "ada"
        followed.mustcontain("Hi ada", "Welcome, ada!")
        # The redirect's records stay on the redirect.
        assert response.flashes == [("success", "Welcome, ada!")]
        assert followed.flashes == []

    def test_a_rejected_form_is_rendered_again_with_its_errors(self) -> None:
        testapp = TestApp(make_app())
        response = signup(testapp, name="", email="nope")
        assert response.status_int == 422
        assert response.template == "signup.html"
        assert response.context["form"].errors == {
            "name": ["This field is required."],
            "email": ["Invalid email address."],
        }
        assert [s.text for s in response.html.select("span.error")] == [
            "This field is required.",
            "Invalid email address.",
        ]
        assert_form_error(response, "form", "email", "Invalid email address.")
        # The form as re-rendered can be fixed and sent again.
        form = response.forms["signup"]
        assert form["email"].value == "nope"
        form["name"] = "ada"
        form["email"] = "ada@example.com"
        assert form.submit().follow().context["name"] == "ada"

    def test_links_are_clicked_through(self) -> None:
        testapp = TestApp(make_app())
        response = testapp.get("/signup").click("Skip")
        assert response.template == "welcome.html"
        assert response.context["name"] == "stranger"

    def test_several_templates(self) -> None:
        response = TestApp(make_app()).get("/parts")
        assert [r.context["n"] for r in response.templates] == [1, 2]
        # Flask-WebTest's dict by name keeps the last render of a name.
        assert response.contexts == {"part.html": response.templates[1].context}

    def test_a_streamed_body_is_recorded_as_webtest_reads_it(self) -> None:
        response = TestApp(make_app()).get("/stream")
        assert response.text == "start [s]"
        assert response.template == "part.html"
        assert response.flashes == [("message", "streamed")]

    def test_a_response_sent_outside_a_testapp_has_empty_records(self) -> None:
        from flask_testcase.webtest import TestRequest

        response = TestRequest.blank("/parts").get_response(make_app())
        assert isinstance(response, TestResponse)
        assert (response.templates, response.flashes, response.session) == ([], [], None)

    def test_receivers_are_disconnected_after_each_request(self) -> None:
        before = connected()
        testapp = TestApp(make_app())
        testapp.get("/signup")
        testapp.get("/stream")
        assert connected() == before

    def test_a_view_that_raises_leaves_nothing_connected_or_serving(self) -> None:
        from flask_testcase.webtest import _SERVING

        before = connected()
        testapp = TestApp(make_app())
        with pytest.raises(RuntimeError, match="boom"):
            testapp.get("/boom")
        assert connected() == before
        assert _SERVING.get(None) is None
        # The app answers the next request as usual.
        assert testapp.get("/plain").text == "plain"


class TestOneTemplate:
    def test_context_of_a_page_without_template(self) -> None:
        response = TestApp(make_app()).get("/plain")
        with pytest.raises(NotOneTemplate) as info:
            response.context  # noqa: B018
        assert isinstance(info.value, AssertionError)
        assert isinstance(info.value, AttributeError)
        assert str(info.value) == (
            "response.context is the context of the one template the request rendered,"
            " but GET /plain (200 OK) rendered no template."
        )
        assert getattr(response, "context", None) is None

    def test_template_of_a_page_with_two(self) -> None:
        response = TestApp(make_app()).get("/parts")
        with pytest.raises(AssertionError) as info:
            response.template  # noqa: B018
        assert str(info.value) == (
            "response.template is the name of the one template the request rendered, but"
            " GET /parts (200 OK) rendered 2: 'part.html', 'part.html'. Read"
            " response.templates[i].name instead."
        )

    def test_the_test_client_s_responses_raise_the_same(self) -> None:
        app = make_app()
        app.test_client_class = isolated_client_class()
        response = t.cast(RecordedResponse, app.test_client().get("/plain"))
        with pytest.raises(NotOneTemplate) as info:
            response.context  # noqa: B018
        assert isinstance(info.value, AssertionError)


class TestFreshContext:
    def test_g_of_the_test_body_and_of_a_request_never_leak(self) -> None:
        app = make_app()
        testapp = TestApp(app)
        with app.app_context():
            flask.g.mark = "set by the test"
            assert testapp.get("/g").text == "unset"
            assert testapp.get("/g").text == "unset"
            assert flask.g.mark == "set by the test"

    def test_each_request_runs_in_a_new_context(self) -> None:
        var: contextvars.ContextVar[str] = contextvars.ContextVar("x", default="empty")
        app = make_app()
        seen: list[str] = []

        @app.get("/var")
        def read_var() -> str:
            seen.append(var.get())
            var.set("set by a request")
            return "ok"

        var.set("set by the test")
        testapp = TestApp(app)
        testapp.get("/var")
        testapp.get("/var")
        assert seen == ["empty", "empty"]
        assert var.get() == "set by the test"


class TestForms:
    def test_a_form_the_page_does_not_have(self) -> None:
        response = TestApp(make_app()).get("/signup")
        with pytest.raises(KeyError) as info:
            response.forms["login"]
        assert isinstance(info.value, FormNotFound)
        assert str(info.value) == (
            "No form 'login' in response.forms of GET /signup (200 OK): WebTest indexes"
            " forms by their position on the page (from 0) and by their id. The page's"
            " forms: response.forms[0] (id 'signup', name 'signup', POST /signup)."
        )

    def test_an_index_past_the_last_form(self) -> None:
        response = TestApp(make_app()).get("/two")
        with pytest.raises(FormNotFound) as info:
            response.forms[2]
        assert str(info.value) == (
            "No form 2 in response.forms of GET /two (200 OK): WebTest indexes forms by"
            " their position on the page (from 0) and by their id. The page's forms:"
            " response.forms[0] (no id, POST /a), response.forms[1] (id 'search', GET /s)."
        )
        # The forms that exist are found by index and by id.
        assert response.forms[1] is response.forms["search"]

    def test_response_form_with_several_forms(self) -> None:
        response = TestApp(make_app()).get("/two")
        with pytest.raises(TypeError) as info:
            response.form  # noqa: B018
        assert str(info.value) == (
            "You used response.form, but more than one form exists on GET /two (200 OK)."
            " The page's forms: response.forms[0] (no id, POST /a), response.forms[1] (id"
            " 'search', GET /s)."
        )

    def test_response_form_with_none(self) -> None:
        response = TestApp(make_app()).get("/none")
        with pytest.raises(TypeError) as info:
            response.form  # noqa: B018
        assert str(info.value) == (
            "You used response.form, but no forms exist on GET /none (200 OK). The page"
            " has no form."
        )
        with pytest.raises(FormNotFound) as missing:
            response.forms[0]
        assert str(missing.value).endswith("The page has no form.")

    def test_the_one_form(self) -> None:
        response = TestApp(make_app()).get("/signup")
        assert response.form.id == "signup"


class TestCSRF:
    def test_forms_as_rendered_carry_their_token(self) -> None:
        testapp = TestApp(make_app())
        assert signup(testapp).status_int == 302

    def test_a_hand_made_request_without_token_is_refused(self) -> None:
        testapp = TestApp(make_app())
        response = testapp.post("/api", {"x": "1"}, status=400)
        assert "The CSRF token is missing." in response.text

    def test_csrf_token_serves_hand_made_requests(self) -> None:
        testapp = TestApp(make_app())
        assert testapp.post("/api", {"x": "1", "csrf_token": csrf_token(testapp)}).text == "api 1"
        headers = {"X-CSRFToken": csrf_token(testapp)}
        assert testapp.post("/api", {"x": "2"}, headers=headers).text == "api 2"


class TestSessionTransaction:
    def test_writes_the_session_the_next_request_reads(self) -> None:
        testapp = TestApp(make_app())
        with testapp.session_transaction() as session:
            session["color"] = "blue"
        response = testapp.get("/session/color")
        assert response.text == "blue"
        assert t.cast(dict, response.session)["color"] == "blue"

    def test_reads_and_keeps_what_requests_stored(self) -> None:
        testapp = TestApp(make_app())
        signup(testapp)
        with testapp.session_transaction() as session:
            assert session["name"] == "ada"
            session["color"] = "red"
        assert testapp.get("/session/name").text == "ada"
        assert testapp.get("/session/color").text == "red"
        # One session cookie, replaced rather than doubled.
        assert [c.name for c in testapp.cookiejar] == ["session"]

    def test_with_server_name(self) -> None:
        testapp = TestApp(make_app(SERVER_NAME="shop.example"))
        assert testapp.extra_environ["HTTP_HOST"] == "shop.example"
        with testapp.session_transaction() as session:
            session["color"] = "green"
        assert testapp.get("/session/color").text == "green"
        assert [c.domain for c in testapp.cookiejar] == ["shop.example"]

    def test_nothing_is_saved_when_the_block_raises(self) -> None:
        testapp = TestApp(make_app())
        with pytest.raises(ZeroDivisionError), testapp.session_transaction() as session:
            session["color"] = "blue"
            1 / 0  # noqa: B018
        assert testapp.get("/session/color").text == "missing"
        assert list(testapp.cookiejar) == []

    def test_an_app_without_secret_key(self) -> None:
        app = make_app()
        app.config["SECRET_KEY"] = None
        testapp = TestApp(app)
        with pytest.raises(RuntimeError) as info, testapp.session_transaction():
            pass
        assert str(info.value) == "Session backend did not open a session."


class TestUser:
    def test_user_logs_the_request_in(self) -> None:
        testapp = TestApp(make_app())
        assert testapp.get("/me", user=ALICE).text == "alice"
        # The login is in the cookie jar, as after a login form.
        assert testapp.get("/me").text == "alice"
        assert testapp.get("/me", user=BOB).text == "bob"

    def test_user_none_logs_out(self) -> None:
        testapp = TestApp(make_app())
        testapp.get("/me", user=ALICE)
        testapp.get("/me", user=None, status=401)

    @pytest.mark.parametrize(
        "call",
        [
            lambda app, user: app.post("/api", {"x": "1"}, user=user, status=400),
            lambda app, user: app.post_json("/api", {}, user=user, status=400),
            lambda app, user: app.put("/me", user=user, status=405),
            lambda app, user: app.delete("/me", user=user, status=405),
            lambda app, user: app.patch("/me", user=user, status=405),
            lambda app, user: app.options("/me", user=user),
            lambda app, user: app.head("/me", user=user),
            lambda app, user: app.request("/me", user=user),
        ],
    )
    def test_every_request_method_takes_user(self, call: t.Any) -> None:
        testapp = TestApp(make_app())
        call(testapp, ALICE)
        assert testapp.get("/me").text == "alice"

    def test_a_form_submitted_as_a_user(self) -> None:
        testapp = TestApp(make_app())
        page = testapp.get("/signup")
        page.form["name"] = "ada"
        page.form["email"] = "ada@example.com"
        assert page.form.submit(user=BOB).follow().text.count("Hi ada") == 1
        assert testapp.get("/me").text == "bob"

    def test_strong_session_protection_keeps_the_login(self) -> None:
        app = make_app()
        app.login_manager.session_protection = "strong"  # type: ignore[attr-defined]
        testapp = TestApp(app)
        assert testapp.get("/me", user=ALICE).text == "alice"
        testapp.get("/me", headers={"User-Agent": "other"}, status=401)

    def test_force_login_and_logout_take_a_testapp(self) -> None:
        testapp = TestApp(make_app())
        force_login(testapp, ALICE)
        assert testapp.get("/me").text == "alice"
        force_logout(testapp)
        testapp.get("/me", status=401)

    def test_a_user_without_get_id(self) -> None:
        testapp = TestApp(make_app())
        with pytest.raises(TypeError) as info:
            testapp.get("/me", user="alice")
        assert str(info.value) == (
            "Cannot log in 'alice': Flask-Login needs a get_id() method on the user to"
            " store it in the session. Give the user class flask_login.UserMixin (or a"
            " get_id() returning its id as a string)."
        )

    def test_an_app_without_login_manager(self) -> None:
        app = flask.Flask(__name__)
        app.config["SECRET_KEY"] = "s"
        with pytest.raises(ValueError) as info:
            TestApp(app).get("/", user=ALICE)
        assert str(info.value).startswith("The app 'test_webtest' has no Flask-Login LoginManager")

    def test_force_login_takes_clients_only(self) -> None:
        with pytest.raises(TypeError) as info:
            force_login(make_app(), ALICE)  # type: ignore[arg-type]
        assert str(info.value) == (
            "force_login() takes a Flask test client (client, app.test_client()) or a"
            " flask_testcase.webtest.TestApp, got <Flask 'test_webtest'>."
        )
        with pytest.raises(TypeError, match=r"^csrf_token\(\) takes a Flask test client"):
            csrf_token(webtest.TestApp(make_app()))  # type: ignore[arg-type]


class TestConstructor:
    def test_not_a_flask_app(self) -> None:
        wsgi = make_app().wsgi_app
        with pytest.raises(TypeError) as info:
            TestApp(wsgi)  # type: ignore[arg-type]
        assert str(info.value) == (
            f"TestApp() takes the Flask application (a flask.Flask), got {wsgi!r}; for"
            " another WSGI application use webtest.TestApp."
        )

    def test_extra_environ_given_where_db_goes(self) -> None:
        with pytest.raises(TypeError) as info:
            TestApp(make_app(), {"HTTP_HOST": "x"})
        assert str(info.value) == (
            "TestApp()'s second argument is db (Flask-WebTest's order), got a dict; pass"
            " extra_environ= by keyword."
        )

    def test_server_name_is_the_host_unless_extra_environ_gives_one(self) -> None:
        app = make_app(SERVER_NAME="shop.example")
        assert TestApp(app).get("/plain").request.host == "shop.example"
        given = {"HTTP_HOST": "www.shop.example"}
        testapp = TestApp(app, extra_environ=given, lint=False)
        assert testapp.extra_environ == given
        assert testapp.get("/plain", status="*").request.host == "www.shop.example"

    def test_the_app_is_the_flask_app(self) -> None:
        app = make_app()
        assert TestApp(app).app is app


class TestResponseWithoutRecords:
    def test_assert_form_error_on_a_plain_webtest_response(self) -> None:
        response = webtest.TestApp(make_app()).get("/signup")
        with pytest.raises(TypeError) as info:
            assert_form_error(response, "form", "email", [])
        assert str(info.value) == (
            "assert_form_error() reads the templates a response's request rendered, and"
            f" {response!r} carries no records: it comes from a client other than the"
            " test's. Use a response of flask_testcase.webtest.TestApp (self.testapp, or"
            " the testapp fixture)."
        )


class TestWithoutWebTest:
    def test_the_import_names_the_extra(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setitem(sys.modules, "webtest", None)  # type: ignore[arg-type]
        monkeypatch.delitem(sys.modules, "flask_testcase.webtest")
        with pytest.raises(ImportError) as info:
            importlib.import_module("flask_testcase.webtest")
        assert str(info.value) == (
            "flask_testcase.webtest needs WebTest: pip install 'flask-testcase[webtest]'."
        )

    def test_testcase_testapp_reports_it_as_the_test_s_error(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setitem(sys.modules, "webtest", None)  # type: ignore[arg-type]
        monkeypatch.delitem(sys.modules, "flask_testcase.webtest")
        result = run_case(case_with_body(Base, lambda self: self.testapp))
        [(_, text)] = result.errors
        assert text.rstrip().endswith(
            "ImportError: flask_testcase.webtest needs WebTest: pip install"
            " 'flask-testcase[webtest]'."
        )

    def test_importing_flask_testcase_does_not_import_webtest(self) -> None:
        import subprocess

        code = (
            "import sys, flask_testcase, flask_testcase.pytest_plugin;"
            " print('webtest' in sys.modules, 'flask_testcase.webtest' in sys.modules)"
        )
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout
        assert out.split() == ["False", "False"]


# -- TestCase ---------------------------------------------------------------------------


class Base(TestCase):
    def create_app(self) -> flask.Flask:
        return make_app()


def passes(body: t.Callable[[t.Any], None]) -> None:
    check_passes(case_with_body(Base, body))


def failure(body: t.Callable[[t.Any], None]) -> str:
    return only_failure(case_with_body(Base, body))


class TestTestCaseTestApp:
    def test_one_testapp_per_test_of_the_test_s_app(self) -> None:
        seen: list[t.Any] = []

        class Case(Base):
            def test_a(self) -> None:
                seen.append(self.testapp)
                assert self.testapp is seen[-1]
                assert isinstance(self.testapp, TestApp)
                assert self.testapp.app is self.app

            def test_b(self) -> None:
                seen.append(self.testapp)

        result = run_case(Case)
        assert result.wasSuccessful() and result.testsRun == 2, result.errors + result.failures
        assert seen[0] is not seen[1]

    def test_forgotten_after_the_test_even_when_the_body_raises(self) -> None:
        cases: list[TestCase] = []

        class Case(Base):
            def test_it(self) -> None:
                cases.append(self)
                self.testapp.get("/signup")
                raise RuntimeError("the body fails")

        before = connected()
        result = run_case(Case)
        assert len(result.errors) == 1
        assert "_flask_testcase_testapp" not in vars(cases[0])
        assert connected() == before

    def test_forgotten_when_setup_raises_after_making_it(self) -> None:
        cases: list[TestCase] = []

        class Case(Base):
            def setUp(self) -> None:
                cases.append(self)
                self.testapp.get("/signup")
                raise RuntimeError("setUp fails")

            def test_it(self) -> None:
                raise AssertionError("not run")

        result = run_case(Case)
        [(_, text)] = result.errors
        assert "RuntimeError: setUp fails" in text
        assert "_flask_testcase_testapp" not in vars(cases[0])

    def test_a_testapp_of_your_own_replaces_it(self) -> None:
        class Case(Base):
            def setUp(self) -> None:
                self.testapp = webtest.TestApp(self.app)

            def test_it(self) -> None:
                assert type(self.testapp) is webtest.TestApp

        check_passes(Case)

    def test_no_testapp_is_made_unless_asked_for(self) -> None:
        cases: list[TestCase] = []

        class Case(Base):
            def test_it(self) -> None:
                cases.append(self)
                assert "_flask_testcase_testapp" not in vars(self)

        check_passes(Case)

    def test_the_test_s_records_see_webtest_requests(self) -> None:
        def body(self: t.Any) -> None:
            signup(self.testapp).follow()
            self.assertTemplateUsed("signup.html")
            self.assertTemplateUsed("welcome.html")
            self.assertMessageFlashed("Welcome, ada!", "success")
            self.assertEqual([t.name for t in self.templates], ["signup.html", "welcome.html"])
            self.assertEmailSent(to="ada@example.com", subject="Welcome")
            asserts.assertTemplateUsed("welcome.html")
            asserts.assertMessageFlashed("Welcome, ada!", "success")
            asserts.assertEmailSent(to="ada@example.com")

        passes(body)

    def test_assert_form_error_on_webtest_requests(self) -> None:
        def body(self: t.Any) -> None:
            response = signup(self.testapp, email="nope")
            self.assertFormError("form", "email", "Invalid email address.")
            self.assertFormError("form", "email", "Invalid email address.", response=response)
            self.assertFormError("form", "name", [], response=response)

        passes(body)

    def test_assert_form_error_fails_with_the_webtest_response_s_errors(self) -> None:
        def body(self: t.Any) -> None:
            response = signup(self.testapp, email="nope")
            self.assertFormError("form", "email", [], response=response, msg="see #22")

        assert failure(body) == (
            "Field 'email' of form 'form' has errors ['Invalid email address.'], expected"
            " none. Errors of the form, field by field:\n"
            "  name: (none)\n"
            "  email: ['Invalid email address.']\n"
            "  csrf_token: (none) : see #22"
        )

    def test_a_template_assertion_fails_naming_webtest_s_renders(self) -> None:
        def body(self: t.Any) -> None:
            self.testapp.get("/signup")
            self.assertTemplateUsed("welcome.html")

        assert failure(body) == (
            "Template 'welcome.html' was not rendered. Templates rendered: 'signup.html'"
        )

    def test_login_and_csrf_token_on_the_testapp(self) -> None:
        def body(self: t.Any) -> None:
            self.login(ALICE, client=self.testapp)
            self.assertEqual(self.testapp.get("/me").text, "alice")
            # The test client is not logged in by it.
            self.assert401(self.client.get("/me"))
            token = self.csrf_token(client=self.testapp)
            self.assertEqual(
                self.testapp.post("/api", {"x": "3", "csrf_token": token}).text, "api 3"
            )
            self.logout(client=self.testapp)
            self.testapp.get("/me", status=401)

        passes(body)

    def test_the_test_body_s_context_is_not_the_request_s(self) -> None:
        def body(self: t.Any) -> None:
            # TestCase pushes a request context for the body; WebTest's requests
            # never see its g.
            flask.g.mark = "set by the test"
            self.assertEqual(self.testapp.get("/g").text, "unset")
            self.assertEqual(flask.g.mark, "set by the test")

        passes(body)


def test_testcase_testapp_in_a_plain_unittest_result() -> None:
    # A failing check inside a WebTest request path is a failure, not an error.
    class Case(Base):
        def test_it(self) -> None:
            self.testapp.get("/plain").context  # noqa: B018

    result = unittest.TestResult()
    unittest.TestSuite([Case("test_it")]).run(result)
    assert len(result.failures) == 1 and not result.errors
    assert (
        result.failures[0][1]
        .rstrip()
        .endswith(
            "response.context is the context of the one template the request rendered, but"
            " GET /plain (200 OK) rendered no template."
        )
    )


# -- the pytest plugin -----------------------------------------------------------------


def test_the_testapp_fixture_in_the_plugin(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
        import pytest
        # This module: in-process, pytester's run imports it as the outer run did.
        from test_webtest import make_app

        @pytest.fixture(scope="session")
        def app():
            return make_app()
        """
    )
    pytester.makepyfile(
        test_plugin="""
        import pytest
        from flask_testcase import assert_email_sent, assert_form_error
        from flask_testcase.asserts import assertTemplateUsed
        from flask_testcase.webtest import TestApp
        from test_webtest import ALICE, signup

        SEEN = []

        def test_records(testapp, templates, flashed_messages, outbox):
            SEEN.append(testapp)
            assert isinstance(testapp, TestApp)
            signup(testapp).follow()
            assert [t.name for t in templates] == ["signup.html", "welcome.html"]
            assert [(m.message, m.category) for m in flashed_messages] == [
                ("Welcome, ada!", "success")
            ]
            assert_email_sent(outbox, to="ada@example.com", subject="Welcome")
            assertTemplateUsed("welcome.html")

        def test_form_errors_and_login(testapp):
            SEEN.append(testapp)
            response = signup(testapp, email="nope")
            assert_form_error(response, "form", "email", "Invalid email address.")
            assert testapp.get("/me", user=ALICE).text == "alice"

        def test_a_new_testapp_and_no_login_for_each_test(testapp):
            assert testapp not in SEEN
            testapp.get("/me", status=401)

        def test_a_failing_check_reports_the_request(testapp, templates):
            testapp.get("/plain").context
        """
    )
    result = pytester.runpytest("-p", "no:flask", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=3, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*NotOneTemplate: response.context is the context of the one template the"
            " request rendered, but GET /plain (200 OK) rendered no template."
        ]
    )
