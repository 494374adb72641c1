"""flask_testcase.asserts: TestCase's assertions as plain functions, reading the current
test's records through flask_testcase._current."""

from __future__ import annotations

import ast
import inspect
import typing as t
import unittest
from pathlib import Path

import flask
import pytest
import sqlalchemy as sa
from apps import PAGE_HTML
from apps import make_app
from apps import status_line
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

import flask_testcase.asserts as asserts
from flask_testcase import TestCase
from flask_testcase import _current
from flask_testcase import isolated_client_class
from flask_testcase import record_flashed_messages
from flask_testcase import record_templates

if t.TYPE_CHECKING:
    from collections.abc import Iterator

    from flask.testing import FlaskClient

NO_TEST = (
    "reads the current test's records, and no test is recording: use it in a test that"
    " uses the client fixture of flask_testcase's pytest plugin, or in a"
    " flask_testcase.TestCase."
)


@pytest.fixture
def app() -> flask.Flask:
    app = make_app()
    app.test_client_class = isolated_client_class()
    return app


@pytest.fixture
def client(app: flask.Flask) -> Iterator[FlaskClient]:
    """What the pytest plugin does: the test's records pushed for the test."""
    with record_templates(app) as templates, record_flashed_messages(app) as flashes:
        client = app.test_client()
        undo = _current.push(templates, flashes, client=client, app=app)
        try:
            yield client
        finally:
            undo()


def failure(call: t.Callable[[], object]) -> str:
    with pytest.raises(AssertionError) as info:
        call()
    return str(info.value)


class TestNames:
    def test_every_assertion_testcase_adds_is_a_function(self) -> None:
        added = {
            name
            for name in dir(TestCase)
            if (name.startswith("assert") or name == "get_context_variable")
            and not hasattr(unittest.TestCase, name)
        }
        assert set(asserts.__all__) == added
        assert {"assertTemplateUsed", "assert_template_used", "assertNumQueries"} <= added
        for name in asserts.__all__:
            function = getattr(asserts, name)
            assert inspect.isfunction(function), name
            assert function.__module__ == "flask_testcase.asserts"
            assert function.__doc__ == getattr(TestCase, name).__doc__

    def test_signatures_are_the_methods_without_self(self) -> None:
        case = TestCase()
        for name in asserts.__all__:
            target = name if name.startswith("assert") and "_" not in name else None
            if target is None and name != "get_context_variable":
                # Flask-Testing's alias: its target's signature.
                doc = getattr(TestCase, name).__doc__
                target = doc.split(":meth:`", 1)[1].split("`", 1)[0]
            expected = inspect.signature(getattr(case, target or name))
            assert inspect.signature(getattr(asserts, name)) == expected, name
        assert "self" not in inspect.signature(asserts.assertTemplateUsed).parameters
        assert str(inspect.signature(asserts.assert_200)) == str(
            inspect.signature(asserts.assert200)
        )

    def test_the_type_checking_list_names_every_function(self) -> None:
        source = Path(asserts.__file__).read_text(encoding="utf-8")
        typed = set()
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                for statement in node.body:
                    if isinstance(statement, ast.Assign):
                        typed.update(target.id for target in statement.targets)  # type: ignore[attr-defined]
        assert typed == set(asserts.__all__)


# -- the same messages as TestCase ---------------------------------------------------

#: Stands for the response in a sample's arguments.
R = object()

#: Each sample: the request to make, and a call of the assertion made the same way on
#: TestCase (``self``) and as a plain function (``asserts``).
SAMPLES: list[tuple[str, str, tuple[t.Any, ...], dict[str, t.Any]]] = [
    ("/status/404", "assert200", (R,), {}),
    ("/status/404", "assert_200", (R,), {"message": "home page"}),
    ("/status/500", "assertStatus", (R, 201), {"msg": "created"}),
    ("/to-index", "assertRedirects", (R, "/login"), {}),
    ("/", "assertRedirects", (R, "/"), {}),
    ("/json", "assertJSONEqual", (R, {"name": "bob"}), {}),
    ("/text", "assertContains", (R, "bye"), {}),
    ("/headers", "assertHeader", (R, "X-Missing"), {}),
    ("/page", "assertInHTML", ("<li>three</li>", PAGE_HTML), {}),
    ("/render/index.html,item.html", "assertTemplateUsed", ("other.html",), {}),
    ("/render/index.html", "assertTemplateNotUsed", ("index.html",), {"msg": "why"}),
    ("/render/index.html", "assertTemplateUsed", ("index.html",), {"count": 2}),
    ("/render/index.html", "assertContext", ("title", "Away"), {}),
    ("/render/index.html", "assert_context", ("missing", 1), {}),
    ("/flash", "assertMessageFlashed", ("Gone.",), {}),
    ("/flash", "assertNoMessageFlashed", (), {}),
    ("/flash", "assert_message_flashed", ("Saved.", "error"), {}),
    ("/login", "assertSessionHas", ("user", "bob"), {}),
    ("/login", "assertSessionNotHas", ("roles",), {}),
]


class MessageCase(TestCase):
    __test__ = False  # run by test_failure_messages_are_testcases, one sample at a time

    def create_app(self) -> flask.Flask:
        return make_app()

    def test_compare(self) -> None:
        path, name, args, kwargs = self.sample  # type: ignore[attr-defined]
        response = self.client.get(path)
        call_args = tuple(response if a is R else a for a in args)
        with self.assertRaises(AssertionError) as method:
            getattr(self, name)(*call_args, **kwargs)
        with self.assertRaises(AssertionError) as function:
            getattr(asserts, name)(*call_args, **kwargs)
        self.messages.append((str(method.exception), str(function.exception)))  # type: ignore[attr-defined]


@pytest.mark.parametrize(("path", "name", "args", "kwargs"), SAMPLES)
def test_failure_messages_are_testcases(
    path: str, name: str, args: tuple[t.Any, ...], kwargs: dict[str, t.Any]
) -> None:
    messages: list[tuple[str, str]] = []
    sample = (path, name, args, kwargs)
    case = type("Case", (MessageCase,), {"sample": sample, "messages": messages})
    result = unittest.TestResult()
    unittest.TestSuite([case("test_compare")]).run(result)
    assert result.wasSuccessful(), result.errors + result.failures
    [(from_method, from_function)] = messages
    assert from_function == from_method
    assert from_method  # a real message, not an empty one


# -- exact messages, in a pytest test --------------------------------------------------


class TestInAPytestTest:
    def test_response_assertions_pass_and_fail(self, client: FlaskClient) -> None:
        response = client.get("/status/404")
        asserts.assert404(response)
        asserts.assertStatus(response, 404, msg="unused")
        assert failure(lambda: asserts.assert200(response)) == (
            f"HTTP Status 200 expected but got {status_line(404)}\nResponse body:\nstatus 404"
        )
        assert failure(lambda: asserts.assert200(response, msg="the page")) == (
            f"HTTP Status 200 expected but got {status_line(404)}\nResponse body:\nstatus 404"
            " : the page"
        )

    def test_template_assertions_read_the_tests_records(self, client: FlaskClient) -> None:
        client.get("/render/index.html,item.html")
        asserts.assertTemplateUsed("item.html")
        asserts.assert_template_used("index.html")
        asserts.assertContext("title", "item.html")
        assert asserts.get_context_variable("item") == 1
        assert failure(lambda: asserts.assertTemplateUsed("other.html")) == (
            "Template 'other.html' was not rendered. Templates rendered: 'index.html', 'item.html'"
        )
        with asserts.assertRendersTemplate("other.html"):
            client.get("/render/other.html")
        with pytest.raises(AssertionError) as info, asserts.assertRendersTemplate("page.html"):
            client.get("/")
        assert str(info.value) == (
            "Template 'page.html' was not rendered in the block. Templates rendered in the"
            " block: 'index.html'"
        )

    def test_flash_and_session_assertions(self, client: FlaskClient) -> None:
        client.get("/flash")
        asserts.assertMessageFlashed("Check your email.", "warning")
        assert failure(lambda: asserts.assertNoMessageFlashed(msg="quiet")) == (
            "Expected no flashed message. Messages flashed: ('Saved.', 'message'),"
            " ('Check your email.', 'warning') : quiet"
        )
        client.get("/login")
        asserts.assertSessionHas("user", "ann")
        assert failure(lambda: asserts.assertSessionNotHas("user")) == (
            "Session has key 'user' (value 'ann')"
        )

    def test_redirects_to_a_target_through_the_tests_client(self, client: FlaskClient) -> None:
        asserts.assertRedirects(client.get("/to-index"), "/", target_status_code=200)
        assert (
            failure(
                lambda: asserts.assertRedirects(
                    client.get("/to-missing"), "/status/404", target_status_code=200
                )
            )
            == f"Redirect target '/status/404' answered {status_line(404)}, expected 200"
        )

    def test_misuse_is_the_methods_type_error(self, client: FlaskClient) -> None:
        with pytest.raises(TypeError) as info:
            asserts.assertStatus("not a response", 200)  # type: ignore[arg-type]
        assert str(info.value) == (
            "assertStatus() expects the response returned by the test client (for example"
            " self.client.get(...)), got str: 'not a response'"
        )
        with pytest.raises(TypeError, match=r"^assert200\(\) got both msg= and message="):
            asserts.assert200(client.get("/"), "a", message="b")


class TestWithoutACurrentTest:
    def test_response_assertions_need_no_test(self) -> None:
        app = make_app()
        asserts.assert200(app.test_client().get("/"))
        asserts.assertRedirects(app.test_client().get("/to-index"), "/")
        asserts.assertJSONEqual('{"a": 1}', {"a": 1})

    @pytest.mark.parametrize(
        ("name", "args"),
        [
            ("assertTemplateUsed", ("index.html",)),
            ("assertContext", ("title", "Home")),
            ("get_context_variable", ("title",)),
            ("assertMessageFlashed", ("Saved.",)),
            ("assert_message_flashed", ("Saved.",)),
            ("assertSessionHas", ("user",)),
        ],
    )
    def test_record_assertions_say_how_to_get_records(
        self, name: str, args: tuple[t.Any, ...]
    ) -> None:
        with pytest.raises(RuntimeError) as info:
            getattr(asserts, name)(*args)
        assert str(info.value) == f"flask_testcase.asserts.{name}() {NO_TEST}"
        assert not isinstance(info.value, AssertionError)

    def test_the_block_form_says_it_when_entered(self) -> None:
        block = asserts.assertRendersTemplate("index.html")
        with pytest.raises(RuntimeError) as info, block:
            pass
        assert str(info.value) == NO_TEST

    def test_session_assertions_need_the_tests_client(self) -> None:
        undo = _current.push([], [])
        try:
            with pytest.raises(RuntimeError) as info:
                asserts.assertSessionHas("user")
        finally:
            undo()
        assert str(info.value) == (
            "flask_testcase.asserts.assertSessionHas() reads the session through the"
            " current test's client, and the test has none: use it in a test that uses the"
            " client fixture of flask_testcase's pytest plugin, or in a"
            " flask_testcase.TestCase."
        )

    def test_assert_num_queries_needs_the_tests_isolation(self) -> None:
        undo = _current.push([], [])
        try:
            with pytest.raises(RuntimeError) as info:
                asserts.assertNumQueries(1)
            # The argument checks come first, as on TestCase.
            with pytest.raises(TypeError, match=r"^assertNumQueries\(\) num must be an int"):
                asserts.assertNumQueries("1")  # type: ignore[arg-type]
        finally:
            undo()
        assert str(info.value) == (
            "flask_testcase.asserts.assertNumQueries() counts the queries of the current"
            " test's database isolation, and the test has none: use the db fixture of"
            " flask_testcase's pytest plugin, or set db on the flask_testcase.TestCase."
        )


# -- the registry ----------------------------------------------------------------------


class TestRegistry:
    def test_push_nests_and_undo_restores_once(self) -> None:
        outer_templates: list[t.Any] = []
        undo_outer = _current.push(outer_templates, [])
        undo_inner = _current.push([], [])
        assert _current.current().templates is not outer_templates
        undo_inner()
        assert _current.current().templates is outer_templates
        undo_inner()  # a second call does nothing
        assert _current.current().templates is outer_templates
        undo_outer()
        with pytest.raises(_current.NoCurrentTest):
            _current.current()

    def test_testcase_pushes_its_records_for_the_test(self) -> None:
        seen: list[t.Any] = []

        class Case(TestCase):
            def create_app(self) -> flask.Flask:
                return make_app()

            def setUp(self) -> None:
                seen.append(_current.current().templates is self.templates)

            def test_it(self) -> None:
                records = _current.current()
                seen.append(
                    (
                        records.templates is self.templates,
                        records.flashed_messages is self.flashed_messages,
                        records.client is self.client,
                        records.app is self.app,
                        records.isolation,
                    )
                )

        result = unittest.TestResult()
        unittest.TestSuite([Case("test_it")]).run(result)
        assert result.wasSuccessful(), result.errors + result.failures
        assert seen == [True, (True, True, True, True, None)]
        with pytest.raises(_current.NoCurrentTest):
            _current.current()

    @pytest.mark.parametrize("where", ["setUp", "test", "tearDown"])
    def test_testcase_undoes_it_when_the_test_raises(self, where: str) -> None:
        def boom(self: TestCase) -> None:
            raise KeyError(where)

        namespace: dict[str, t.Any] = {
            "create_app": lambda self: make_app(),
            "test_it": boom if where == "test" else lambda self: None,
        }
        if where != "test":
            namespace[where] = boom
        case = type("Case", (TestCase,), namespace)
        result = unittest.TestResult()
        unittest.TestSuite([case("test_it")]).run(result)
        assert len(result.errors) == 1
        with pytest.raises(_current.NoCurrentTest):
            _current.current()
        # debug() runs the test in the caller's thread too.
        with pytest.raises(KeyError):
            case("test_it").debug()
        with pytest.raises(_current.NoCurrentTest):
            _current.current()

    def test_a_failing_create_app_pushes_nothing(self) -> None:
        class Case(TestCase):
            def create_app(self) -> flask.Flask:
                raise KeyError("no app")

            def test_it(self) -> None:
                """Never runs."""

        result = unittest.TestResult()
        unittest.TestSuite([Case("test_it")]).run(result)
        assert len(result.errors) == 1
        with pytest.raises(_current.NoCurrentTest):
            _current.current()


# -- assertNumQueries with the test's isolation ----------------------------------------

db = SQLAlchemy()


class Note(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "asserts_note"
    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(sa.String(50))


def make_db_app() -> flask.Flask:
    app = flask.Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite://"
    db.init_app(app)

    @app.post("/notes")
    def add() -> str:
        db.session.add(Note(text="x"))
        db.session.commit()
        return "ok"

    return app


def test_assert_num_queries_counts_the_tests_queries() -> None:
    seen: list[t.Any] = []

    class Case(TestCase):
        def create_app(self) -> flask.Flask:
            return make_db_app()

        def test_it(self) -> None:
            seen.append(_current.current().isolation is self._isolation)
            with asserts.assertNumQueries(1):
                self.client.post("/notes")
            with self.assertRaises(AssertionError) as info:
                asserts.assertNumQueries(0, self.client.post, "/notes", msg="second")
            seen.append(str(info.exception))

    Case.db = db
    result = unittest.TestResult()
    unittest.TestSuite([Case("test_it")]).run(result)
    assert result.wasSuccessful(), result.errors + result.failures
    assert seen == [
        True,
        "1 != 0 : 1 queries executed, 0 expected\nCaptured queries were:\n"
        "1. INSERT INTO asserts_note (text) VALUES (?) : second",
    ]


def test_pytest_shows_the_test_s_line_not_the_library_s(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
        import flask
        import pytest

        @pytest.fixture
        def app():
            app = flask.Flask("inner")
            app.get("/")(lambda: "hello")
            return app
        """
    )
    pytester.makepyfile(
        test_it="""
        from flask_testcase.asserts import assert404

        def test_it(client):
            response = client.get("/")
            assert404(response)
        """
    )
    result = pytester.runpytest("-p", "no:flask", "-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    output = result.stdout.str()
    # The failing line of the test, then the message: no frame of the library or of
    # unittest between them.
    result.stdout.fnmatch_lines([">       assert404(response)", "E       AssertionError: *"])
    assert "flask_testcase" not in output.split(">       assert404(response)")[1], output
    assert "unittest" not in output, output
