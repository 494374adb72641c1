"""A small Flask app and helpers shared by the assertion tests (not collected by pytest).

The assertion tests run for real: each test body is the test method of a
:class:`flask_testcase.TestCase` subclass, run by :mod:`unittest` with a fresh app and
the real test client. :func:`in_case` turns such a body into a pytest test::

    class TestAssert200:
        @in_case()
        def test_fails_on_404(self: Case) -> None:
            response = self.client.get("/status/404")
            with self.fails(f"HTTP Status 200 expected but got {status_line(404)} ..."):
                self.assert200(response)

``self`` is the :class:`Case`, not the pytest class the body is written in.
"""

from __future__ import annotations

import contextlib
import typing as t
import unittest

from flask import Flask
from flask import Response
from flask import flash
from flask import jsonify
from flask import redirect
from flask import render_template
from flask import request
from flask import session
from flask import url_for
from jinja2 import DictLoader

from flask_testcase import TestCase

if t.TYPE_CHECKING:
    from collections.abc import Iterator

TEMPLATES = {
    "index.html": "<h1>{{ title }}</h1>",
    "item.html": "<li>{{ item }}</li>",
    "other.html": "other {{ value }}",
    "page.html": (
        '<html><body><nav class="main top"><a href="/" id="home">Home</a></nav>'
        "<ul><li>one</li><li>two</li><li>one</li></ul></body></html>"
    ),
}

PAGE_HTML = TEMPLATES["page.html"]


def make_app(**config: t.Any) -> Flask:
    """The app every assertion test runs against; ``config`` updates ``app.config``."""
    app = Flask(__name__)
    app.config.update({"TESTING": True, "SECRET_KEY": "test secret", **config})
    app.jinja_loader = DictLoader(TEMPLATES)  # type: ignore[assignment]

    @app.route("/")
    def index() -> str:
        return render_template("index.html", title="Home")

    @app.route("/text")
    def text() -> str:
        return "hello world, hello"

    @app.route("/empty")
    def empty() -> str:
        return ""

    @app.route("/status/<int:code>")
    def status(code: int) -> Response:
        return Response("" if code in (204, 304) else f"status {code}", status=code)

    @app.route("/binary")
    def binary() -> Response:
        return Response(b"\x89PNG\r\n\x1a\n\xff\xfe", mimetype="image/png")

    @app.route("/redirect/<int:code>")
    def redirect_with(code: int) -> Response:
        return redirect(request.args.get("to", "/"), code=code)

    @app.route("/to-index")
    def to_index() -> Response:
        # An explicit 302: the tests are about our assertion, and Flask's default code
        # changed (302 up to 3.1, 303 from 3.2). /to-missing and /a/b keep the default.
        return redirect(url_for("index"), code=302)

    @app.route("/to-index-absolute")
    def to_index_absolute() -> Response:
        return redirect(url_for("index", _external=True))

    @app.route("/chain")
    def chain() -> Response:
        return redirect(url_for("to_index"), code=301)

    @app.route("/to-missing")
    def to_missing() -> Response:
        return redirect("/status/404")

    @app.route("/a/b")
    def nested() -> Response:
        # A relative reference without a slash, resolved against /a/b by clients.
        return redirect("c")

    @app.route("/a/c")
    def nested_target() -> str:
        return "a/c"

    @app.route("/no-location")
    def no_location() -> Response:
        return Response("", status=302)

    @app.route("/render/<names>")
    def render(names: str) -> str:
        # Renders each comma-separated template in turn, with an ``item`` per render.
        return "".join(
            render_template(name, item=i, title=name, value=i)
            for i, name in enumerate(names.split(","))
        )

    @app.route("/render-string")
    def render_string() -> str:
        from flask import render_template_string

        return render_template_string("{{ value }}!", value="inline")

    @app.route("/flash")
    def flash_some() -> str:
        flash("Saved.")
        flash("Check your email.", "warning")
        return "flashed"

    @app.route("/flash-markup")
    def flash_markup() -> str:
        from markupsafe import Markup

        flash(Markup("<b>bold</b>"), "info")
        return "flashed"

    @app.route("/json")
    def json_view() -> Response:
        return jsonify(name="ann", tags=["a", "b"], active=True, count=1)

    @app.route("/json-list")
    def json_list() -> Response:
        return jsonify([1, 2, 3])

    @app.route("/page")
    def page() -> str:
        return render_template("page.html")

    @app.route("/utf8")
    def utf8() -> str:
        return "café ☕"

    @app.route("/headers")
    def headers() -> Response:
        response = Response("headers", mimetype="text/plain")
        response.headers["X-Request-Id"] = "abc123"
        response.headers["X-Number"] = "5"
        response.headers.add("Vary", "Cookie")
        response.headers.add("Vary", "Accept-Encoding")
        return response

    @app.route("/csv")
    def csv() -> Response:
        return Response("a,b\n1,2\n", content_type="text/csv; charset=latin-1")

    @app.route("/cookies")
    def cookies() -> Response:
        response = Response("cookies")
        response.set_cookie("theme", "dark")
        response.set_cookie("lang", "en", httponly=True)
        return response

    @app.route("/forget-theme")
    def forget_theme() -> Response:
        response = Response("forgotten")
        response.delete_cookie("theme")
        return response

    @app.route("/login")
    def login() -> str:
        session["user"] = "ann"
        session["roles"] = ["admin"]
        return "logged in"

    @app.route("/logout")
    def logout() -> str:
        session.clear()
        return "logged out"

    return app


class Case(TestCase):
    """The test case the assertion tests run in: :func:`make_app` and two helpers."""

    #: ``app.config`` updates for :func:`make_app`; set per test by :func:`in_case`.
    app_config: t.ClassVar[dict[str, t.Any]] = {}

    def create_app(self) -> Flask:
        return make_app(**self.app_config)

    @contextlib.contextmanager
    def fails(self, expected: str) -> Iterator[None]:
        """Assert that the block fails the test with exactly the message ``expected``."""
        with self.assertRaises(self.failureException) as cm:
            yield
        self.assertEqual(str(cm.exception), expected)

    @contextlib.contextmanager
    def misuse(self, exc_type: type[Exception], expected: str) -> Iterator[None]:
        """Assert that the block raises ``exc_type`` (not a test failure) with exactly
        the message ``expected``."""
        with self.assertRaises(exc_type) as cm:
            yield
        self.assertNotIsInstance(cm.exception, AssertionError)
        self.assertEqual(str(cm.exception), expected)


def run_case(cls: type[unittest.TestCase], *names: str) -> unittest.TestResult:
    """Run the named test methods of ``cls`` (all of them if none is named) through a
    real :class:`unittest.TestSuite` and return the result."""
    loader = unittest.TestLoader()
    if names:
        suite = unittest.TestSuite(cls(name) for name in names)
    else:
        suite = loader.loadTestsFromTestCase(cls)
    result = unittest.TestResult()
    suite.run(result)
    return result


def report(result: unittest.TestResult) -> str:
    """The problems in ``result`` as text, for a pytest failure message."""
    lines = [f"ran {result.testsRun}"]
    for kind in ("errors", "failures", "skipped", "unexpectedSuccesses", "expectedFailures"):
        for item in getattr(result, kind):
            if isinstance(item, tuple):
                test, text = item
                lines.append(f"{kind}: {test}\n{text}")
            else:
                lines.append(f"{kind}: {item}")
    return "\n".join(lines)


def in_case(
    *, base: type[Case] = Case, config: dict[str, t.Any] | None = None, **attrs: t.Any
) -> t.Callable[[t.Callable[..., None]], t.Callable[..., None]]:
    """Make the decorated body the test method of a ``base`` subclass, and return a
    pytest test that runs it with :mod:`unittest` and passes only if it passed.

    :param base: the case class to subclass.
    :param config: ``app.config`` updates for this test's app.
    :param attrs: more class attributes, such as ``render_templates=False``.
    """

    def decorate(body: t.Callable[..., None]) -> t.Callable[..., None]:
        namespace = {"test_body": body, "app_config": config or {}, **attrs}

        def test(*_pytest_self: object) -> None:
            cls = type(f"Case_{body.__name__}", (base,), namespace)
            result = run_case(cls, "test_body")
            if not (result.wasSuccessful() and result.testsRun == 1 and not result.skipped):
                raise AssertionError(report(result))

        # No functools.wraps: pytest would read the body's signature through
        # __wrapped__ and ask for a fixture named "self".
        test.__name__ = body.__name__
        test.__qualname__ = body.__qualname__
        test.__doc__ = body.__doc__
        test.__module__ = body.__module__
        return test

    return decorate


def last_line_of_failure(result: unittest.TestResult) -> str:
    """The exception line of the only failure in ``result`` (its message may span
    several lines: everything after the last traceback frame)."""
    [(_, text)] = result.failures
    return text.split("\nAssertionError: ", 1)[1].rstrip("\n")


def status_line(code: int) -> str:
    """The status Werkzeug gives a response with ``code``: ``"404 NOT FOUND"`` up to
    Werkzeug 3.1, ``"404 Not Found"`` from 3.2. Messages show the response's own."""
    return Response(status=code).status


def case_with_body(base: type[TestCase], body: t.Callable[[t.Any], None]) -> type[TestCase]:
    """A subclass of ``base`` whose one test, ``test_it``, runs ``body(self)``."""
    return type("Inner", (base,), {"test_it": lambda self: body(self)})


def check_passes(cls: type[unittest.TestCase]) -> None:
    """Run ``cls``; fail with the first error or failure, or if no test ran."""
    result = run_case(cls)
    problems = result.errors + result.failures
    assert not problems, problems[0][1]
    assert result.testsRun > 0


def only_failure(cls: type[unittest.TestCase]) -> str:
    """Run ``cls``, which must have exactly one error or failure; return its message
    (what follows the exception's class name, over as many lines as it spans)."""
    result = run_case(cls)
    problems = result.errors + result.failures
    assert len(problems) == 1, problems
    text = problems[0][1]
    return text[text.index("Error: ") + len("Error: ") :].rstrip("\n")


def failure_traceback(result: unittest.TestResult) -> str:
    [(_, text)] = result.failures
    return text


__all__ = [
    "PAGE_HTML",
    "TEMPLATES",
    "Case",
    "case_with_body",
    "check_passes",
    "failure_traceback",
    "in_case",
    "last_line_of_failure",
    "make_app",
    "only_failure",
    "report",
    "run_case",
    "status_line",
]
