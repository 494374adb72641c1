"""A Flask-Testing user's suite runs unchanged on flask_testcase, with one import changed.

SUITE below is a test module written the way Flask-Testing 0.8's documentation writes
one (create_app with TESTING = True, self.client, assert200/assert_200, assertRedirects
with url_for, assertTemplateUsed/assert_template_used, get_context_variable,
assertContext, assertMessageFlashed, render_templates = False, run_gc_after_test, and
the documented Flask-SQLAlchemy setUp/tearDown). It is run in a subprocess:

- with ``from flask_testcase import TestCase`` (the only change): every test passes,
  under ``python -W error -m unittest`` and under pytest;
- as written, with Flask-Testing 0.8.1: every test passes except the three that hit
  Flask-Testing's known bugs on Flask >= 2.2 / Werkzeug >= 2.1 (relative ``Location``
  headers, and ``render_templates = False`` patching Flask's private ``_render`` whose
  signature changed). That is the reason users migrate.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import textwrap
import typing as t
import unittest
from importlib.metadata import version
from pathlib import Path

import pytest
from _commands import PYTEST

import flask_testcase

ROOT = Path(__file__).resolve().parents[1]
FLASK_TESTING_IMPORT = "from flask_testing import TestCase"
OUR_IMPORT = "from flask_testcase import TestCase"

SUITE = '''\
"""A Flask-Testing user's tests, written the way Flask-Testing's documentation shows."""

import unittest

from flask import Flask
from flask import abort
from flask import flash
from flask import jsonify
from flask import redirect
from flask import render_template
from flask import request
from flask import session
from flask import url_for
from flask_sqlalchemy import SQLAlchemy
from jinja2 import DictLoader

from flask_testing import TestCase

db = SQLAlchemy()


class User(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(80), nullable=False)


def create_app(config=None):
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "not secret"
    app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite://"
    if config is not None:
        app.config.from_object(config)
    app.jinja_loader = DictLoader(
        {
            "index.html": "<h1>{{ greeting }}, {{ session.get('user', 'stranger') }}</h1>",
            "mytemplate.html": "<p>My template</p>",
            "login.html": "<form method=post><input name=name></form>",
            "users.html": "{% for user in users %}<li>{{ user.name }}</li>{% endfor %}",
        }
    )
    db.init_app(app)

    @app.route("/")
    def index():
        return render_template("index.html", greeting="Hello")

    @app.route("/template/")
    def template():
        return render_template("mytemplate.html")

    @app.route("/ajax/")
    def some_json():
        return jsonify(success=True)

    @app.route("/login/", methods=["GET", "POST"])
    def login():
        if request.method == "POST":
            session["user"] = request.form["name"]
            flash("Welcome back, %s!" % request.form["name"])
            return redirect(url_for("index"))
        return render_template("login.html")

    @app.route("/admin/")
    def admin():
        if "user" not in session:
            flash("Please log in.", "error")
            return redirect(url_for("login"))
        return "admin"

    @app.route("/private/")
    def private():
        abort(403)

    @app.route("/users/")
    def users():
        return render_template("users.html", users=User.query.order_by(User.name).all())

    return app


class BaseTestCase(TestCase):
    def create_app(self):
        app = create_app()
        app.config["TESTING"] = True
        return app


class TestViews(BaseTestCase):
    def test_index(self):
        response = self.client.get("/")
        self.assert200(response)
        self.assert_200(response)
        self.assertStatus(response, 200)
        self.assert_status(response, 200, message="the home page must load")
        self.assertTemplateUsed("index.html")
        self.assert_template_used("index.html")
        self.assertContext("greeting", "Hello")
        self.assert_context("greeting", "Hello")
        self.assertEqual(self.get_context_variable("greeting"), "Hello")

    def test_some_json(self):
        response = self.client.get("/ajax/")
        self.assertEqual(response.json, dict(success=True))

    def test_not_found_and_forbidden(self):
        self.assert404(self.client.get("/no/such/page/"))
        self.assert_404(self.client.get("/no/such/page/"), message="unknown URL")
        self.assert403(self.client.get("/private/"))
        self.assert_403(self.client.get("/private/"))
        self.assert405(self.client.delete("/"))

    def test_login_page(self):
        response = self.client.get("/login/")
        self.assert200(response)
        self.assertTemplateUsed("login.html")

    def test_url_for_works_in_a_test(self):
        self.assertEqual(url_for("login"), "/login/")


class TestRedirects(BaseTestCase):
    def test_admin_sends_anonymous_users_to_login(self):
        response = self.client.get("/admin/")
        self.assertRedirects(response, url_for("login"))
        self.assertMessageFlashed("Please log in.", "error")

    def test_login_redirects_home_and_flashes(self):
        response = self.client.post("/login/", data={"name": "ann"})
        self.assert_redirects(response, "/", "login must send the user home")
        self.assert_message_flashed("Welcome back, ann!")

    def test_session_is_kept_between_requests(self):
        self.client.post("/login/", data={"name": "ann"})
        self.assert200(self.client.get("/admin/"))
        self.client.get("/")
        self.assertContext("greeting", "Hello")


class TestNotRenderTemplates(BaseTestCase):
    render_templates = False

    def test_assert_not_process_the_template(self):
        response = self.client.get("/template/")
        assert b"" == response.data

    def test_assert_mytemplate_used(self):
        self.client.get("/template/")
        self.assert_template_used("mytemplate.html")


class TestRenderTemplates(BaseTestCase):
    render_templates = True

    def test_assert_mytemplate_used(self):
        response = self.client.get("/template/")
        assert b"<p>My template</p>" == response.data
        self.assert_template_used("mytemplate.html")


class TestGarbageCollected(BaseTestCase):
    run_gc_after_test = True

    def test_runs(self):
        self.assert200(self.client.get("/"))


class TestDatabase(TestCase):
    SQLALCHEMY_DATABASE_URI = "sqlite://"
    TESTING = True

    def create_app(self):
        # pass in test configuration
        return create_app(self)

    def setUp(self):
        db.create_all()

    def tearDown(self):
        db.session.remove()
        db.drop_all()

    def test_users_are_listed(self):
        db.session.add(User(name="ann"))
        db.session.commit()
        response = self.client.get("/users/")
        self.assert200(response)
        self.assertEqual([u.name for u in self.get_context_variable("users")], ["ann"])

    def test_each_test_starts_empty(self):
        self.assertEqual(User.query.count(), 0)


if __name__ == "__main__":
    unittest.main()
'''

#: Reports a unittest run of test_myapp as JSON on the last line of stdout.
RUNNER = textwrap.dedent(
    """
    import json
    import unittest

    suite = unittest.defaultTestLoader.loadTestsFromName("test_myapp")
    result = unittest.TestResult()
    suite.run(result)
    print(json.dumps({
        "run": result.testsRun,
        "failures": {test.id(): text for test, text in result.failures},
        "errors": {test.id(): text for test, text in result.errors},
        "skipped": [test.id() for test, _ in result.skipped],
    }))
    """
)

#: The tests of SUITE that fail under Flask-Testing 0.8.1 on Flask >= 2.2, and why.
FLASK_VERSION = tuple(int(part) for part in version("flask").split(".")[:2])

FLASK_TESTING_FAILURES = {
    # Werkzeug 2.1+ keeps the Location header relative; Flask-Testing compares it
    # with an absolute URL it builds from SERVER_NAME.
    "test_myapp.TestRedirects.test_admin_sends_anonymous_users_to_login": (
        "AssertionError: '/login/' != 'http://localhost/login/'"
    ),
    "test_myapp.TestRedirects.test_login_redirects_home_and_flashes": (
        "AssertionError: '/' != 'http://localhost/'"
    ),
    # render_templates = False replaces flask.templating._render with a function of
    # the pre-2.2 signature (template, context, app); Flask 2.2 to 3.1 call it with
    # (app, template, context), so the app object is recorded as the template (a
    # failure); Flask 3.2 calls it with (context, template, context) and
    # Flask-Testing's assertTemplateUsed then errors on the context (an error).
    "test_myapp.TestNotRenderTemplates.test_assert_mytemplate_used": (
        "AssertionError: Template mytemplate.html not used. Templates were used:"
        " [ < F l a s k   ' t e s t _ m y a p p ' > ]"
        if FLASK_VERSION < (3, 2)
        else "AttributeError: 'AppContext' object has no attribute 'name'"
    ),
}


def our_suite() -> str:
    return SUITE.replace(FLASK_TESTING_IMPORT, OUR_IMPORT)


def write_suite(directory: Path, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "test_myapp.py").write_text(text, encoding="utf-8")
    return directory


def run(directory: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.pop("PYTHONWARNINGS", None)
    return subprocess.run(
        [sys.executable, *args],
        cwd=directory,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def run_json(directory: Path, *python_options: str) -> dict[str, t.Any]:
    proc = run(directory, *python_options, "-c", RUNNER)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def flask_testing_or_skip() -> None:
    try:
        import flask_testing  # noqa: F401
    except ImportError as e:
        if os.environ.get("CI") == "true":
            pytest.fail(f"flask-testing (a dev extra) is not installed under CI: {e}")
        pytest.skip(f"flask-testing is not installed: {e}")


def test_the_only_change_is_the_import() -> None:
    ours, theirs = our_suite().splitlines(), SUITE.splitlines()
    changed = [(a, b) for a, b in zip(theirs, ours) if a != b]
    assert len(ours) == len(theirs)
    assert changed == [(FLASK_TESTING_IMPORT, OUR_IMPORT)]


#: -W error: neither our code nor the supported Flask may warn on a user's suite. The
#: one exception is the suite's own: as Flask-Testing's docs write it, it never disposes
#: the in-memory SQLite engine of each test's app, and Python 3.13 warns when the
#: garbage collector closes such a connection.
WARNINGS_AS_ERRORS = ("-W", "error", "-W", "ignore:unclosed database:ResourceWarning")


def test_the_suite_passes_with_flask_testcase(tmp_path: Path) -> None:
    report = run_json(write_suite(tmp_path, our_suite()), *WARNINGS_AS_ERRORS)
    assert report == {"run": 14, "failures": {}, "errors": {}, "skipped": []}


def test_the_suite_passes_under_python_m_unittest(tmp_path: Path) -> None:
    proc = run(write_suite(tmp_path, our_suite()), *WARNINGS_AS_ERRORS, "-m", "unittest", "-v")
    assert proc.returncode == 0, proc.stderr
    assert "Ran 14 tests" in proc.stderr
    assert proc.stderr.rstrip().endswith("OK")


def test_the_suite_passes_under_pytest(tmp_path: Path) -> None:
    proc = run(
        write_suite(tmp_path, our_suite()),
        *PYTEST[1:], "-q", "-W", "error", "-W", "ignore:unclosed database:ResourceWarning",
        "-p", "no:cacheprovider", "test_myapp.py",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "14 passed" in proc.stdout


def test_under_flask_testing_only_its_known_flask_3_bugs_fail(tmp_path: Path) -> None:
    flask_testing_or_skip()
    report = run_json(write_suite(tmp_path, SUITE))
    assert report["run"] == 14
    assert report["skipped"] == []
    broken = {**report["failures"], **report["errors"]}
    assert sorted(broken) == sorted(FLASK_TESTING_FAILURES)
    for test_id, line in FLASK_TESTING_FAILURES.items():
        assert line in broken[test_id], broken[test_id]


def _names_used_on_self(source: str) -> set[str]:
    """Every ``self.<name>`` the suite's test methods use, except unittest's own."""
    names = set()
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == "self"
        ):
            names.add(node.attr)
    return {name for name in names if not hasattr(unittest.TestCase, name)}


def test_every_name_the_suite_uses_is_flask_testing_api() -> None:
    flask_testing_or_skip()
    import flask_testing

    names = _names_used_on_self(SUITE)
    # Set up per test by both libraries, so not class attributes.
    instance_attributes = {"app", "client"}
    assert {
        "assert200", "assert_200", "assertStatus", "assert_status", "assert404",
        "assert_404", "assert403", "assert_403", "assert405", "assertRedirects",
        "assert_redirects", "assertTemplateUsed", "assert_template_used",
        "assertContext", "assert_context", "get_context_variable",
        "assertMessageFlashed", "assert_message_flashed", "client",
    } <= names  # fmt: skip
    for name in sorted(names - instance_attributes):
        assert hasattr(flask_testing.TestCase, name), name
        assert hasattr(flask_testcase.TestCase, name), name
    for attribute in ("render_templates", "run_gc_after_test"):
        assert hasattr(flask_testing.TestCase, attribute)
        assert hasattr(flask_testcase.TestCase, attribute)


def test_the_suite_is_the_one_flask_testing_users_write() -> None:
    # Guards the premise: the module text uses Flask-Testing's import, and the class
    # attributes and helpers the issue names.
    assert FLASK_TESTING_IMPORT in SUITE.splitlines()
    for needle in (
        'app.config["TESTING"] = True',
        "render_templates = False",
        "run_gc_after_test = True",
        'self.assertRedirects(response, url_for("login"))',
        "def create_app(self):",
    ):
        assert needle in SUITE, needle


def _flask_testing_api() -> dict[str, t.Any]:
    import flask_testing

    return {
        name: member
        for name, member in vars(flask_testing.TestCase).items()
        if callable(member) and (name.startswith("assert") or name == "get_context_variable")
    }


def _target(name: str) -> t.Any:
    """Our method for a name; a snake_case alias is checked through its camelCase target."""
    import inspect

    method = getattr(flask_testcase.TestCase, name)
    if list(inspect.signature(method).parameters) == ["self", "args", "kwargs"]:
        aliases = {"assert_" + str(code): f"assert{code}" for code in range(200, 600)}
        aliases.update(
            assert_status="assertStatus",
            assert_redirects="assertRedirects",
            assert_template_used="assertTemplateUsed",
            assert_context="assertContext",
            assert_message_flashed="assertMessageFlashed",
        )
        method = getattr(flask_testcase.TestCase, aliases[name])
    return method


def test_every_flask_testing_assertion_exists_with_its_arguments() -> None:
    """Each Flask-Testing assertion exists here, and each of its parameters is accepted
    at the same position and by the same keyword (``message`` is our ``msg``, and is
    also accepted as ``message=``)."""
    flask_testing_or_skip()
    import inspect

    api = _flask_testing_api()
    assert len(api) == 25, sorted(api)
    for name, theirs in sorted(api.items()):
        target = _target(name)
        ours = inspect.signature(target).parameters
        positional = [p for p in ours.values() if p.kind is p.POSITIONAL_OR_KEYWORD]
        for index, param in enumerate(inspect.signature(theirs).parameters.values()):
            flash = target.__name__ == "assertMessageFlashed"
            wanted = "msg" if param.name == "message" and not flash else None
            assert positional[index].name == (wanted or param.name), (name, param.name)
            if wanted:
                assert "message" in ours, (name, "message=")
            if param.default is not param.empty:
                assert positional[index].default == param.default, (name, param.name)


def test_flask_testing_utils_module_path_keeps_working() -> None:
    import flask_testcase
    from flask_testcase import utils

    for name in utils.__all__:
        assert getattr(utils, name) is getattr(flask_testcase, name), name
