"""TwillTestCase and Twill: twill 3 browsing the app in process.

The inner ``*Case`` classes are real :class:`TwillTestCase` subclasses run through a
:class:`unittest.TestSuite`; the pytest tests check what they report. They are named
so that pytest does not collect them itself.
"""

from __future__ import annotations

import io
import logging
import os
import re
import socket
import subprocess
import sys
import textwrap
import types
import typing as t
import unittest
from pathlib import Path

import flask
import pytest
from _commands import PYTEST
from apps import run_case
from jinja2 import DictLoader

from flask_testcase import TestCase
from flask_testcase import Twill
from flask_testcase import TwillTestCase

twill = pytest.importorskip("twill")
from twill import commands  # noqa: E402
from twill import namespaces  # noqa: E402
from twill import parse  # noqa: E402
from twill.commands import code  # noqa: E402
from twill.commands import find  # noqa: E402
from twill.commands import follow  # noqa: E402
from twill.commands import fv  # noqa: E402
from twill.commands import go  # noqa: E402
from twill.commands import notfind  # noqa: E402
from twill.commands import show  # noqa: E402
from twill.commands import submit  # noqa: E402
from twill.errors import TwillAssertionError  # noqa: E402

HERE = Path(__file__).resolve().parent

TEMPLATES = {
    "layout.html": (
        "<html><head><title>{% block title %}{% endblock %}</title></head><body>"
        "{% for category, message in get_flashed_messages(with_categories=true) %}"
        '<p class="flash {{ category }}">{{ message }}</p>{% endfor %}'
        "{% block body %}{% endblock %}</body></html>"
    ),
    "home.html": (
        '{% extends "layout.html" %}{% block title %}Home{% endblock %}{% block body %}'
        "{% if user %}<p>Hello, {{ user }}</p>"
        '<a href="/logout">Log out</a>{% else %}<p>Not logged in</p>'
        '<a href="/login">Log in here</a>{% endif %}{% endblock %}'
    ),
    "login.html": (
        '{% extends "layout.html" %}{% block title %}Log in{% endblock %}{% block body %}'
        '<form method="post" action="/login">'
        '<input name="username"><input name="password" type="password">'
        '<input type="submit" value="Log in"></form>{% endblock %}'
    ),
}


def make_app() -> flask.Flask:
    app = flask.Flask(__name__)
    app.config.update(SECRET_KEY="test", TESTING=True)
    app.jinja_loader = DictLoader(TEMPLATES)

    @app.route("/")
    def home() -> str:
        return flask.render_template("home.html", user=flask.session.get("user"))

    @app.route("/login", methods=["GET", "POST"])
    def login() -> t.Any:
        if flask.request.method == "POST":
            username = flask.request.form["username"]
            if flask.request.form["password"] == "secret":
                flask.session["user"] = username
                flask.flash(f"Welcome, {username}!")
                return flask.redirect("/")
            flask.flash("Wrong password", "error")
        return flask.render_template("login.html")

    @app.route("/logout")
    def logout() -> t.Any:
        flask.session.clear()
        return flask.redirect("/")

    @app.route("/counter")
    def counter() -> str:
        flask.session["count"] = flask.session.get("count", 0) + 1
        return f"<p>count={flask.session['count']}</p>"

    @app.route("/g")
    def read_g() -> str:
        seen = sorted(k for k in vars(flask.g) if not k.startswith("_"))
        flask.g.set_by_request = True
        return f"<p>g={','.join(seen) or 'empty'}</p>"

    @app.route("/crash")
    def crash() -> str:
        raise ZeroDivisionError("the view crashed")

    @app.route("/host")
    def host() -> str:
        return f"<p>{flask.request.host_url}</p>"

    return app


class AppCase(TwillTestCase):
    # Run by the tests below through unittest, never collected by pytest itself.
    __test__ = False

    def create_app(self) -> flask.Flask:
        return make_app()


def assert_passed(result: unittest.TestResult, count: int) -> None:
    problems = [text for _, text in result.failures + result.errors]
    assert not problems, "\n".join(problems)
    assert result.testsRun == count
    assert not result.skipped


def failure_text(report: tuple[unittest.TestCase, str]) -> str:
    """The last lines of a reported traceback: the exception type and message."""
    text = report[1].rstrip("\n")
    return text[text.rindex("\nflask_testcase.twill.") + 1 :]


class TestImport:
    def test_twill_test_case_is_a_test_case(self) -> None:
        assert issubclass(TwillTestCase, TestCase)

    def test_names_are_exported(self) -> None:
        import flask_testcase

        assert {"Twill", "TwillTestCase"} <= set(flask_testcase.__all__)

    def test_importing_flask_testcase_does_not_import_twill(self) -> None:
        code = "import sys, flask_testcase; print('twill' in sys.modules)"
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout
        assert out.strip() == "False"

    def test_is_twill_available_as_in_flask_testing(self) -> None:
        import flask_testcase
        import flask_testcase.utils

        assert flask_testcase.is_twill_available is True
        assert flask_testcase.utils.is_twill_available is True
        assert "is_twill_available" in flask_testcase.__all__
        assert "is_twill_available" in flask_testcase.utils.__all__
        # Only that name is computed; others are still missing as usual.
        with pytest.raises(AttributeError) as info:
            flask_testcase.is_twil_available  # type: ignore[attr-defined]  # noqa: B018
        assert str(info.value) == "module 'flask_testcase' has no attribute 'is_twil_available'"
        with pytest.raises(AttributeError) as info:
            flask_testcase.utils.is_twil_available  # type: ignore[attr-defined]  # noqa: B018
        assert str(info.value) == (
            "module 'flask_testcase.utils' has no attribute 'is_twil_available'"
        )

    def test_reading_is_twill_available_imports_twill_only_then(self) -> None:
        code = (
            "import sys, flask_testcase; print('twill' in sys.modules);"
            " print(flask_testcase.is_twill_available, 'twill' in sys.modules)"
        )
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout
        assert out.split() == ["False", "True", "True"]


BLOCKED = """
import sys
sys.modules["twill"] = None  # any "import twill" now raises ImportError
import flask, unittest, flask_testcase
"""


class TestWithoutTwill:
    """twill missing: simulated in a subprocess where importing it raises ImportError."""

    def run_python(self, code: str) -> str:
        proc = subprocess.run(
            [sys.executable, "-c", BLOCKED + textwrap.dedent(code)],
            capture_output=True,
            text=True,
        )
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    def test_flask_testcase_imports(self) -> None:
        out = self.run_python("print(flask_testcase.TwillTestCase.__name__)")
        assert out.strip() == "TwillTestCase"

    def test_is_twill_available_is_false(self) -> None:
        out = self.run_python(
            "import flask_testcase.utils\n"
            "print(flask_testcase.is_twill_available, flask_testcase.utils.is_twill_available)"
        )
        assert out.split() == ["False", "False"]

    def test_twill_helper_names_the_extra(self) -> None:
        out = self.run_python(
            """
            try:
                with flask_testcase.Twill(flask.Flask("x")):
                    pass
            except ImportError as error:
                print(error)
            """
        )
        assert out.strip() == (
            "Twill needs twill 3, which is not installed. Install the extra:"
            " pip install flask-testcase[twill]"
        )

    def test_twill_test_case_reports_an_error_naming_the_extra(self) -> None:
        out = self.run_python(
            """
            class Case(flask_testcase.TwillTestCase):
                def create_app(self):
                    return flask.Flask("x")
                def test_it(self):
                    pass
            result = unittest.TestResult()
            Case("test_it").run(result)
            print(len(result.errors), len(result.failures))
            print(result.errors[0][1].strip().splitlines()[-1])
            """
        )
        counts, last = out.strip().splitlines()
        assert counts == "1 0"
        assert last == (
            "ImportError: TwillTestCase needs twill 3, which is not installed."
            " Install the extra: pip install flask-testcase[twill]"
        )


class InProcessCase(AppCase):
    def test_browser_is_twills_global_browser(self) -> None:
        assert self.browser is twill.browser
        assert self.browser is commands.browser
        assert self.browser is self.twill.browser

    def test_go_reaches_the_app_without_a_server(self) -> None:
        self.browser.go(self.make_twill_url("/"))
        assert self.browser.code == 200
        assert self.browser.title == "Home"
        assert "Not logged in" in self.browser.html

    def test_a_path_goes_to_the_app_before_any_page(self) -> None:
        go("/counter")
        assert self.browser.url == "http://127.0.0.1:5000/counter"
        assert "count=1" in self.browser.html


class TestInProcess:
    def test_requests_reach_the_app_without_the_network(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        def no_network(*args: t.Any) -> t.NoReturn:
            raise AssertionError("twill tried to open a network connection")

        monkeypatch.setattr(socket.socket, "connect", no_network)
        monkeypatch.setattr(socket.socket, "connect_ex", no_network)
        assert_passed(run_case(InProcessCase), 3)


class UrlCase(AppCase):
    twill_host = "app.test"
    twill_port = 8443
    twill_scheme = "https"

    def test_make_twill_url_uses_the_class_attributes(self) -> None:
        assert self.make_twill_url("/login?next=/") == "https://app.test:8443/login?next=/"
        assert self.make_twill_url("login") == "https://app.test:8443/login"

    def test_the_app_sees_the_host_port_and_scheme(self) -> None:
        go("/host")
        find("https://app.test:8443/")


class NoPortCase(AppCase):
    twill_host = "localhost"
    twill_port = None

    def test_url_without_port(self) -> None:
        assert self.make_twill_url("/") == "http://localhost/"
        go("/counter")
        go("/counter")
        find("count=2")  # cookies work for "localhost" too


class TestUrls:
    def test_class_attributes(self) -> None:
        assert_passed(run_case(UrlCase), 2)

    def test_no_port(self) -> None:
        assert_passed(run_case(NoPortCase), 1)

    def test_flask_testing_defaults(self) -> None:
        assert TwillTestCase.twill_host == "127.0.0.1"
        assert TwillTestCase.twill_port == 5000
        assert TwillTestCase.twill_scheme == "http"
        assert Twill(make_app()).url("/") == "http://127.0.0.1:5000/"

    def test_url_rejects_a_full_url(self) -> None:
        with pytest.raises(ValueError) as info:
            Twill(make_app()).url("http://example.com/")
        assert str(info.value) == (
            "Twill.url() takes a path such as '/login', got the full URL"
            " 'http://example.com/'; pass that to the browser directly."
        )

    def test_url_rejects_a_non_string(self) -> None:
        with pytest.raises(TypeError) as info:
            Twill(make_app()).url(None)  # type: ignore[arg-type]
        assert str(info.value) == "Twill.url() takes a path such as '/login', got None."


class CommandsCase(AppCase):
    def test_log_in_with_commands(self) -> None:
        go("/")
        code(200)
        find("Not logged in")
        notfind("Hello")
        follow("Log in here")
        code(200)
        find("<title>Log in</title>")
        fv("1", "username", "alice")
        fv("1", "password", "secret")
        submit()
        code(200)
        find("Hello, alice")
        # The redirect after the POST was followed to the home page.
        assert self.browser.url == "http://127.0.0.1:5000/"
        self.assertMessageFlashed("Welcome, alice!")
        self.assertEqual([t.name for t in self.templates], ["home.html", "login.html", "home.html"])
        show()
        assert "<p>Hello, alice</p>" in self.twill.output

    def test_wrong_password_flashes_an_error(self) -> None:
        go("/login")
        fv("1", "username", "alice")
        fv("1", "password", "guess")
        submit()
        find("Wrong password")
        self.assertMessageFlashed("Wrong password", "error")
        self.assertTemplateUsed("login.html")

    def test_find_returns_the_match(self) -> None:
        go("/counter")
        assert find(r"count=(\d)") == "1"


class TestCommands:
    def test_commands_operate_on_the_app(self) -> None:
        assert_passed(run_case(CommandsCase), 3)


class ScriptCase(AppCase):
    def test_login_script(self) -> None:
        self.twill_script("twill/login.twill", username="alice")
        self.assertMessageFlashed("Welcome, alice!")
        self.assertTemplateUsed("home.html")
        # The session the script made is still there for the rest of the test.
        go("/")
        find("Hello, alice")
        # Script variables do not stay behind in twill's namespace.
        assert "username" not in namespaces.global_dict

    def test_script_by_absolute_path(self) -> None:
        self.twill_script(HERE / "twill" / "login.twill", username="bob")
        find("Hello, bob")

    def test_reset_browser_keeps_the_app(self) -> None:
        self.twill_script("twill/reset.twill")

    def test_run_string(self) -> None:
        self.twill.run_string("go /counter\ngo /counter\nfind count=2\n")


class TestScripts:
    def test_scripts_run_against_the_app(self) -> None:
        assert_passed(run_case(ScriptCase), 4)

    def test_missing_script(self) -> None:
        class Case(AppCase):
            def test_it(self) -> None:
                self.twill_script("twill/nope.twill")

        result = run_case(Case)
        assert len(result.errors) == 1
        expected = (
            "FileNotFoundError: twill script 'twill/nope.twill' not found: looked for"
            f" {str(HERE / 'twill' / 'nope.twill')!r}"
            " (a relative path is relative to the test module's directory)"
        )
        assert result.errors[0][1].strip().splitlines()[-1] == expected

    def test_run_script_outside_the_block(self) -> None:
        with pytest.raises(RuntimeError) as info:
            Twill(make_app()).run_script(HERE / "twill" / "login.twill")
        assert str(info.value) == (
            "Twill scripts run inside the block: 'with Twill(app) as t: t.run_script(...)'."
        )


class SessionCase(AppCase):
    def test_1_counts_within_the_test(self) -> None:
        go("/counter")
        go("/counter")
        find("count=2")
        assert [c.name for c in self.browser.cookies().jar] == ["session"]

    def test_2_raises_with_a_session(self) -> None:
        go("/counter")
        raise RuntimeError("boom")

    def test_3_starts_without_cookies(self) -> None:
        assert len(self.browser.cookies()) == 0
        go("/counter")
        find("count=1")


class TestSession:
    def test_session_persists_within_a_test_and_never_across(self) -> None:
        result = run_case(SessionCase)
        assert result.testsRun == 3
        assert not result.failures
        assert [case.id().rsplit(".", 1)[1] for case, _ in result.errors] == [
            "test_2_raises_with_a_session"
        ]


class PerClassSessionCase(SessionCase):
    app_per_class = True


class CrashCase(AppCase):
    def test_it(self) -> None:
        go("/crash")


class TestAppBehaviour:
    def test_per_class_app_still_starts_each_test_without_cookies(self) -> None:
        result = run_case(PerClassSessionCase)
        assert result.testsRun == 3
        assert not result.failures
        assert [case.id().rsplit(".", 1)[1] for case, _ in result.errors] == [
            "test_2_raises_with_a_session"
        ]

    def test_an_exception_in_the_view_reaches_the_test(self) -> None:
        # TESTING=True propagates it, as with the test client: an error, not a 500 page.
        result = run_case(CrashCase)
        assert not result.failures
        assert result.errors[0][1].strip().splitlines()[-1] == (
            "ZeroDivisionError: the view crashed"
        )


class ContextCase(AppCase):
    def test_test_body_g_is_not_seen_by_requests(self) -> None:
        flask.g.from_test = True
        go("/g")
        find("g=empty")
        # And the request's g did not reach the test body's.
        assert not hasattr(flask.g, "set_by_request")

    def test_one_requests_g_is_not_seen_by_the_next(self) -> None:
        go("/g")
        go("/g")
        find("g=empty")


class TestFreshContext:
    def test_each_twill_request_runs_in_a_fresh_context(self) -> None:
        assert_passed(run_case(ContextCase), 2)


class FailingCase(AppCase):
    def test_code(self) -> None:
        go("/missing")
        code(200)

    def test_find(self) -> None:
        go("/")
        find("Nope")

    def test_notfind(self) -> None:
        go("/")
        notfind("Not logged")

    def test_follow(self) -> None:
        go("/")
        follow("nowhere")

    def test_before_any_page(self) -> None:
        commands.url("/x")

    def test_script(self) -> None:
        self.twill_script("twill/wrong_password.twill")

    def test_in_subtest(self) -> None:
        for path in ("/", "/missing"):
            with self.subTest(path=path):
                go(path)
                code(200)

    def test_with_block_inside_the_test(self) -> None:
        with self.twill as t:
            t.browser.go(t.url("/missing"))
            code(200)


class SetUpFailingCase(AppCase):
    def setUp(self) -> None:
        go("/missing")
        code(200)

    def test_it(self) -> None:
        pass


class TestFailures:
    def test_failed_checks_are_failures_with_twills_message_and_the_url(self) -> None:
        result = run_case(FailingCase)
        assert not result.errors, result.errors[0][1] if result.errors else ""
        reports = {
            case.id().rsplit(".", 1)[1]: failure_text((case, text))
            for case, text in result.failures
        }
        prefix = "flask_testcase.twill.TwillCheckFailed: "
        url = "http://127.0.0.1:5000"
        script = HERE / "twill" / "wrong_password.twill"
        assert reports == {
            "test_code": f"{prefix}code is 404 != 200\nURL: {url}/missing",
            "test_find": f"{prefix}no match to 'Nope'\nURL: {url}/",
            "test_notfind": f"{prefix}match to 'Not logged'\nURL: {url}/",
            "test_follow": f"{prefix}no links match to 'nowhere'\nURL: {url}/",
            "test_before_any_page": (
                f"{prefix}current url is '';\ndoes not match '/x'\nURL: (no page loaded)"
            ),
            "test_script": (
                f"{prefix}no match to 'Hello, alice'\nURL: {url}/login\n"
                f"TwillCheckFailed raised on line 6 of '{script}' while executing\n"
                '>> find "Hello, alice"'
            ),
            "test_in_subtest (path='/missing')": f"{prefix}code is 404 != 200\nURL: {url}/missing",
            "test_with_block_inside_the_test": f"{prefix}code is 404 != 200\nURL: {url}/missing",
        }

    def test_failure_in_a_subtest_is_a_failure(self) -> None:
        result = run_case(FailingCase, "test_in_subtest")
        assert not result.errors
        assert len(result.failures) == 1
        subtest, text = result.failures[0]
        assert "(path='/missing')" in str(subtest)
        assert text.rstrip().endswith("code is 404 != 200\nURL: http://127.0.0.1:5000/missing")

    def test_failure_in_set_up_is_a_failure(self) -> None:
        result = run_case(SetUpFailingCase)
        assert not result.errors
        assert failure_text(result.failures[0]) == (
            "flask_testcase.twill.TwillCheckFailed: code is 404 != 200\n"
            "URL: http://127.0.0.1:5000/missing"
        )

    def test_custom_failure_exception(self) -> None:
        class MyFailure(AssertionError):
            pass

        class Case(AppCase):
            failureException = MyFailure

            def test_it(self) -> None:
                go("/missing")
                with self.assertRaises(MyFailure):
                    code(200)
                code(200)

        result = run_case(Case)
        assert not result.errors
        assert len(result.failures) == 1

    def test_twills_own_class_still_catches_failures(self) -> None:
        class Case(AppCase):
            def test_it(self) -> None:
                go("/missing")
                with self.assertRaises(TwillAssertionError) as info:
                    code(200)
                self.assertIsInstance(info.exception, AssertionError)

        assert_passed(run_case(Case), 1)

    def test_other_twill_errors_stay_errors(self) -> None:
        class Case(AppCase):
            def test_it(self) -> None:
                show("nonsense")

        result = run_case(Case)
        assert not result.failures
        assert result.errors[0][1].strip().splitlines()[-1] == (
            'twill.errors.TwillException: Cannot show "nonsense".'
        )


class TestOutput:
    @pytest.fixture
    def sentinel(self, monkeypatch: pytest.MonkeyPatch) -> io.StringIO:
        """Stand in for twill's own handler, which prints to the terminal."""
        stream = io.StringIO()
        monkeypatch.setattr(twill.log, "handlers", [logging.StreamHandler(stream)])
        return stream

    def test_output_is_collected_not_printed(
        self, sentinel: io.StringIO, capsys: pytest.CaptureFixture[str]
    ) -> None:
        outputs: list[str] = []

        class Case(AppCase):
            def test_it(self) -> None:
                go("/")
                show()
                outputs.append(self.twill.output)

        assert_passed(run_case(Case), 1)
        assert outputs[0].startswith("==> at http://127.0.0.1:5000/\n\n<html><head><title>Home")
        assert sentinel.getvalue() == ""
        assert capsys.readouterr() == ("", "")

    def test_show_output_prints_it(
        self, sentinel: io.StringIO, capsys: pytest.CaptureFixture[str]
    ) -> None:
        class Case(AppCase):
            twill_show_output = True

            def test_it(self) -> None:
                go("/")

        assert_passed(run_case(Case), 1)
        assert capsys.readouterr().out == "==> at http://127.0.0.1:5000/\n"
        assert sentinel.getvalue() == ""

    def test_twill_logger_is_restored(self, sentinel: io.StringIO) -> None:
        handlers = list(twill.log.handlers)
        propagate = twill.log.propagate
        run_case(FailingCase, "test_script")
        assert twill.log.handlers == handlers
        assert twill.log.propagate is propagate
        go_nowhere = twill.log.handlers[0]
        assert isinstance(go_nowhere, logging.StreamHandler)


def twill_globals() -> dict[str, t.Any]:
    import http.client

    return {
        "browser": twill.browser,
        "browser module": sys.modules["twill.browser"].browser,
        "commands.browser": commands.browser,
        "parse.browser": parse.browser,
        "TwillAssertionError": commands.TwillAssertionError,
        "options": dict(commands.options),
        "global_dict": dict(namespaces.global_dict),
        "local stack": list(namespaces._local_dict_stack),
        "log_commands": parse._log_commands,
        "debuglevel": http.client.HTTPConnection.debuglevel,
        "handlers": list(twill.log.handlers),
        "propagate": twill.log.propagate,
        "handler": twill.handler,
    }


class MessyCase(AppCase):
    def test_it(self) -> None:
        go("/counter")
        self.twill.run_string(
            "setglobal leftover 1\nconfig readonly_controls_writeable 1\n"
            "debug commands 1\ndebug http 1\n"
        )
        self.browser.headers["X-Extra"] = "1"
        raise RuntimeError("the test fails half way")


class TestNoLeaks:
    def test_twill_globals_restored_after_a_test_that_raises(self) -> None:
        before = twill_globals()
        result = run_case(MessyCase)
        assert len(result.errors) == 1
        assert result.errors[0][1].strip().splitlines()[-1] == (
            "RuntimeError: the test fails half way"
        )
        assert twill_globals() == before

    def test_fixtures_are_dropped_after_the_test(self) -> None:
        case = InProcessCase("test_browser_is_twills_global_browser")
        result = unittest.TestResult()
        case.run(result)
        assert_passed(result, 1)
        assert "twill" not in vars(case)
        assert "browser" not in vars(case)

    def test_set_up_error_leaves_nothing_behind(self) -> None:
        class Case(AppCase):
            def create_app(self) -> flask.Flask:
                raise RuntimeError("no app")

            def test_it(self) -> None:
                pass

        before = twill_globals()
        result = run_case(Case)
        assert len(result.errors) == 1
        assert twill_globals() == before


class TestTwillHelper:
    def test_context_manager_in_a_plain_test_case(self) -> None:
        class Case(TestCase):
            def create_app(self) -> flask.Flask:
                return make_app()

            def test_it(self) -> None:
                with Twill(self.app, port=3000) as t:
                    t.browser.go(t.url("/counter"))
                    assert t.browser.url == "http://127.0.0.1:3000/counter"
                    find("count=1")
                    self.assertTemplateNotUsed("login.html")
                    go("/missing")
                    code(200)

        result = run_case(Case)
        assert not result.errors
        assert failure_text(result.failures[0]) == (
            "flask_testcase.twill.TwillCheckFailed: code is 404 != 200\n"
            "URL: http://127.0.0.1:3000/missing"
        )

    def test_browser_before_entering_browses_the_app_as_in_flask_testing(self) -> None:
        before = twill_globals()
        helper = Twill(make_app())
        browser = helper.browser
        assert helper.browser is browser
        browser.go(helper.url("/counter"))
        assert "count=1" in browser.html
        # Outside the block it is not twill's global browser.
        assert twill_globals() == before
        with helper:
            # The first block uses that browser, cookies and all.
            assert twill.browser is browser
            go("/counter")
            find("count=2")
        assert twill_globals() == before
        with helper:
            assert helper.browser is not browser
            go("/counter")
            find("count=1")

    def test_browser_before_entering_leaves_twill_alone_when_the_block_raises(self) -> None:
        before = twill_globals()
        helper = Twill(make_app())
        browser = helper.browser
        with pytest.raises(ZeroDivisionError), helper:
            assert twill.browser is browser
            go("/crash")
        assert twill_globals() == before

    def test_reentering_keeps_the_browser_and_each_with_starts_fresh(self) -> None:
        helper = Twill(make_app())
        with helper as t:
            first = t.browser
            go("/counter")
            with helper:
                assert twill.browser is first
                go("/counter")
            # The inner exit did not restore anything yet.
            assert twill.browser is first
            find("count=2")
        assert twill.browser is not first
        assert first.url == "http://127.0.0.1:5000/counter"  # still readable
        with helper:
            assert helper.browser is not first
            go("/counter")
            find("count=1")

    def test_nested_helpers_restore_in_order(self) -> None:
        outer, inner = Twill(make_app()), Twill(make_app(), port=1)
        original = twill.browser
        with outer:
            with inner:
                assert twill.browser is inner.browser
            assert twill.browser is outer.browser
        assert twill.browser is original

    def test_misuse(self) -> None:
        app = make_app()
        with pytest.raises(TypeError) as info:
            Twill("app")  # type: ignore[arg-type]
        assert str(info.value) == (
            "Twill() takes the Flask application to browse, got 'app' (str);"
            " pass the app, e.g. Twill(create_app())."
        )
        with pytest.raises(TypeError) as info:
            Twill(app, port="80")  # type: ignore[arg-type]
        assert str(info.value) == "Twill() port must be an int or None, got '80'."
        with pytest.raises(TypeError) as info:
            Twill(app, host="")
        assert str(info.value) == (
            "Twill() host must be a non-empty str such as 'localhost', got ''."
        )
        with pytest.raises(ValueError) as info:
            Twill(app, scheme="ftp")
        assert str(info.value) == "Twill() scheme must be 'http' or 'https', got 'ftp'."
        with pytest.raises(TypeError) as info:
            Twill(app, failure_exception=int)  # type: ignore[arg-type]
        assert str(info.value) == (
            "Twill() failure_exception must be an Exception subclass such as"
            " AssertionError, got <class 'int'>."
        )
        with pytest.raises(TypeError) as info, Twill(app) as t:
            t.run_string(None)  # type: ignore[arg-type]
        assert str(info.value) == "Twill.run_string() takes the script as a str, got None."


def python_blocks(path: Path) -> list[str]:
    """The ``.. code-block:: python`` blocks of a reST file, dedented."""
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks: list[str] = []
    for i, line in enumerate(lines):
        if line.strip() == ".. code-block:: python":
            body = []
            for following in lines[i + 1 :]:
                if following.strip() and not following.startswith(" "):
                    break
                body.append(following)
            blocks.append(textwrap.dedent("\n".join(body)).strip() + "\n")
    return blocks


class TestDocsExamples:
    def test_twill_chapter_examples_pass(self, monkeypatch: pytest.MonkeyPatch) -> None:
        blocks = python_blocks(HERE.parent / "docs" / "twill.rst")
        assert len(blocks) == 4
        myapp = types.ModuleType("myapp")
        myapp.create_app = lambda config=None: make_app()  # type: ignore[attr-defined]
        monkeypatch.setitem(sys.modules, "myapp", myapp)
        # The examples' test module "lives" in tests/, so "twill/login.twill" resolves.
        module = types.ModuleType("twill_docs_example")
        module.__file__ = str(HERE / "test_twill_docs_example.py")
        module.create_app = myapp.create_app  # type: ignore[attr-defined]
        monkeypatch.setitem(sys.modules, module.__name__, module)
        for block in blocks:
            exec(compile(block, "docs/twill.rst", "exec"), module.__dict__)
        suite = unittest.TestSuite()
        for value in list(vars(module).values()):
            if (
                isinstance(value, type)
                and issubclass(value, TestCase)
                and value.__module__ == module.__name__
            ):
                suite.addTests(unittest.TestLoader().loadTestsFromTestCase(value))
        result = unittest.TestResult()
        suite.run(result)
        assert_passed(result, 3)


RUNNER_MODULE = """
import flask
from twill.commands import code, find, go

from flask_testcase import TwillTestCase


def make_app():
    app = flask.Flask(__name__)

    @app.route("/")
    def index():
        return "<p>hi</p>"

    return app


class Browse(TwillTestCase):
    def create_app(self):
        return make_app()

    def test_passes(self):
        go("/")
        find("hi")

    def test_fails(self):
        go("/")
        code(404)

    def test_errors(self):
        go("/")
        raise RuntimeError("boom")
"""


class TestRunners:
    """A twill test module under real runners: one pass, one failure, one error, silent."""

    def run(self, tmp_path: Path, *command: str) -> str:
        (tmp_path / "twill_sample.py").write_text(RUNNER_MODULE, encoding="utf-8")
        env = {**os.environ, "PYTHONPATH": str(HERE.parent)}
        proc = subprocess.run(
            command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
        )
        output = proc.stdout + proc.stderr
        assert proc.returncode == 1, output
        # twill's output is collected, never printed, even with capture off.
        assert "==> at" not in output
        assert "TwillCheckFailed: code is 200 != 404" in output
        assert "URL: http://127.0.0.1:5000/" in output
        return output

    def test_unittest(self, tmp_path: Path) -> None:
        output = self.run(tmp_path, sys.executable, "-m", "unittest", "twill_sample")
        assert output.rstrip().endswith("FAILED (failures=1, errors=1)"), output

    def test_pytest(self, tmp_path: Path) -> None:
        command = [*PYTEST, "-s", "-p", "no:cacheprovider"]
        output = self.run(tmp_path, *command, "twill_sample.py")
        assert re.search(r"\b2 failed, 1 passed\b", output.strip().splitlines()[-1]), output
        assert "FAILED twill_sample.py::Browse::test_fails - flask_testcase.twill.Twill" in output

    def test_nose2(self, tmp_path: Path) -> None:
        nose2 = Path(sys.executable).parent / "nose2"
        if not nose2.exists():
            pytest.skip("nose2 is not installed (pip install -e '.[dev]')")
        output = self.run(tmp_path, str(nose2), "twill_sample")
        assert output.rstrip().endswith("FAILED (failures=1, errors=1)"), output


# -- database isolation ---------------------------------------------------------------

SERVERS = {
    "postgresql": "postgresql+psycopg://postgres@127.0.0.1:5432/test",
    "mysql": "mysql+pymysql://root@127.0.0.1:3306/test",
}


def database_url(backend: str, tmp_path: Path) -> str:
    """The URL for ``backend``; skips (fails under CI=true) when it is not reachable."""
    pytest.importorskip("flask_sqlalchemy")
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'twill.db'}"
    import sqlalchemy

    url = SERVERS[backend]
    try:
        engine = sqlalchemy.create_engine(url)
        with engine.connect():
            pass
        engine.dispose()
    except Exception as error:
        reason = f"{backend} at {url} is not reachable: {error}"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return url


_models: dict[str, t.Any] = {}


def notes_model() -> tuple[t.Any, t.Any]:
    """A Flask-SQLAlchemy extension and a model made once (a model class is global)."""
    if not _models:
        import sqlalchemy as sa
        from flask_sqlalchemy import SQLAlchemy

        db = SQLAlchemy()

        class TwillNote(db.Model):  # type: ignore[name-defined, misc]
            __tablename__ = "twill_note"
            id = sa.Column(sa.Integer, primary_key=True)
            text = sa.Column(sa.String(100), nullable=False)

        _models.update(db=db, Note=TwillNote)
    return _models["db"], _models["Note"]


def make_db_case(url: str) -> type[TwillTestCase]:
    import sqlalchemy as sa

    db, Note = notes_model()

    class DbCase(TwillTestCase):
        def create_app(self) -> flask.Flask:
            app = make_app()
            app.config["SQLALCHEMY_DATABASE_URI"] = url
            db.init_app(app)

            @app.route("/notes", methods=["GET", "POST"])
            def notes() -> t.Any:
                if flask.request.method == "POST":
                    db.session.add(Note(text=flask.request.form["text"]))
                    db.session.commit()
                    flask.flash("Saved")
                    return flask.redirect("/notes")
                texts = db.session.scalars(sa.select(Note.text).order_by(Note.id))
                items = "".join(f"<li>{text}</li>" for text in texts)
                return (
                    f"<ul>{items}</ul><form method='post'><input name='text'>"
                    "<input type='submit' value='Save'></form>"
                )

            return app

        def test_1_twill_sees_the_tests_data_and_writes_in_its_transaction(self) -> None:
            db.session.add(Note(text="from the test"))
            db.session.commit()
            go("/notes")
            find("<li>from the test</li>")
            fv("1", "text", "from twill")
            submit()
            find("<li>from the test</li><li>from twill</li>")
            self.assertMessageFlashed("Saved")
            texts = db.session.scalars(sa.select(Note.text).order_by(Note.id)).all()
            self.assertEqual(texts, ["from the test", "from twill"])

        def test_2_the_next_test_starts_empty(self) -> None:
            go("/notes")
            notfind("<li>")

    DbCase.db = db
    return DbCase


class TestDatabase:
    @pytest.mark.parametrize(
        "backend",
        [
            "sqlite",
            pytest.param("postgresql", marks=pytest.mark.postgresql),
            pytest.param("mysql", marks=pytest.mark.mysql),
        ],
    )
    def test_twill_requests_see_the_tests_data_and_are_rolled_back(
        self, backend: str, tmp_path: Path
    ) -> None:
        import sqlalchemy as sa

        url = database_url(backend, tmp_path)
        assert_passed(run_case(make_db_case(url)), 2)
        # Only a fresh connection after the tests proves nothing was committed.
        engine = sa.create_engine(url)
        try:
            with engine.connect() as conn:
                count = conn.execute(sa.text("SELECT COUNT(*) FROM twill_note")).scalar()
        finally:
            engine.dispose()
        assert count == 0
