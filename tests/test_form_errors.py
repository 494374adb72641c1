"""assertFormError and assert_form_error on real Flask-WTF forms rendered by templates:
pass, fail with the form's errors field by field, msg=, misuse, missing forms."""

from __future__ import annotations

import typing as t

import flask
import pytest
from apps import case_with_body
from apps import check_passes
from apps import only_failure
from flask_wtf import FlaskForm
from jinja2 import DictLoader
from wtforms import IntegerField
from wtforms import StringField
from wtforms.validators import DataRequired
from wtforms.validators import Length
from wtforms.validators import NumberRange
from wtforms.validators import Regexp

from flask_testcase import TestCase
from flask_testcase import assert_form_error
from flask_testcase import record_templates


class SignupForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(min=3)])
    email = StringField(
        "Email", validators=[DataRequired(), Regexp(".+@.+", message="Invalid email address.")]
    )
    age = IntegerField("Age", validators=[NumberRange(min=18)], default=20)

    def validate(self, extra_validators: t.Any = None) -> bool:
        valid = super().validate(extra_validators)
        if self.name.data == "taken":
            self.form_errors.append("This account already exists.")
            return False
        return bool(valid)


class SearchForm(FlaskForm):
    q = StringField("Query")


def make_app() -> flask.Flask:
    app = flask.Flask(__name__)
    app.config.update(SECRET_KEY="s", TESTING=True, WTF_CSRF_ENABLED=False)
    app.jinja_loader = DictLoader(  # type: ignore[assignment]
        {"signup.html": "{{ form.name() }}{{ search.q() }}", "plain.html": "{{ title }}"}
    )

    @app.route("/signup", methods=["GET", "POST"])
    def signup() -> str:
        form = SignupForm()
        if form.validate_on_submit():
            return "welcome"
        return flask.render_template("signup.html", form=form, search=SearchForm(), title="Sign up")

    @app.get("/plain")
    def plain() -> str:
        return flask.render_template_string("{{ title }}", title="Plain")

    @app.get("/text")
    def text() -> str:
        return "no template"

    @app.get("/search")
    def search() -> str:
        return flask.render_template_string("{{ search.q() }}", search=SearchForm())

    return app


class Base(TestCase):
    def create_app(self) -> flask.Flask:
        return make_app()


def passes(body: t.Callable[[t.Any], None]) -> None:
    check_passes(case_with_body(Base, body))


def failure(body: t.Callable[[t.Any], None]) -> str:
    return only_failure(case_with_body(Base, body))


BAD = {"name": "al", "email": "nope", "age": "12"}
ERRORS_BY_FIELD = (
    "Errors of the form, field by field:\n"
    "  name: ['Field must be at least 3 characters long.']\n"
    "  email: ['Invalid email address.']\n"
    "  age: ['Number must be at least 18.']"
)


class TestAssertFormError:
    def test_passes_on_the_field_s_errors(self) -> None:
        def body(self: t.Any) -> None:
            self.client.post("/signup", data=BAD)
            self.assertFormError("form", "email", "Invalid email address.")
            self.assertFormError("form", "name", ["Field must be at least 3 characters long."])
            self.assertFormError("search", "q", [])
            self.assertFormError("form", None, [])

        passes(body)

    def test_form_level_errors(self) -> None:
        def body(self: t.Any) -> None:
            self.client.post("/signup", data={"name": "taken", "email": "a@b.example"})
            self.assertFormError("form", None, "This account already exists.")
            self.assertFormError("form", "name", [])

        passes(body)

    def test_takes_the_form_itself(self) -> None:
        def body(self: t.Any) -> None:
            self.client.post("/signup", data=BAD)
            form = self.get_context_variable("form")
            self.assertFormError(form, "age", "Number must be at least 18.")

        passes(body)

    def test_the_latest_render_wins(self) -> None:
        def body(self: t.Any) -> None:
            self.client.post("/signup", data=BAD)
            self.client.post("/signup", data={"name": "alice", "email": "bad", "age": "30"})
            self.assertFormError("form", "name", [])
            self.assertFormError("form", "email", "Invalid email address.")

        passes(body)

    def test_fails_with_the_errors_field_by_field(self) -> None:
        def body(self: t.Any) -> None:
            self.client.post("/signup", data=BAD)
            self.assertFormError("form", "email", "This field is required.")

        assert failure(body) == (
            "Field 'email' of form 'form' has errors ['Invalid email address.'], expected"
            f" ['This field is required.']. {ERRORS_BY_FIELD}"
        )

    def test_fails_when_errors_were_expected_and_there_are_none(self) -> None:
        def body(self: t.Any) -> None:
            self.client.post("/signup", data={"name": "taken", "email": "a@b.example"})
            self.assertFormError("form", "email", "Invalid email address.", msg="see #12")

        assert failure(body) == (
            "Field 'email' of form 'form' has no errors, expected ['Invalid email"
            " address.']. Errors of the form, field by field:\n"
            "  name: (none)\n"
            "  email: (none)\n"
            "  age: (none)\n"
            "  (form): ['This account already exists.'] : see #12"
        )

    def test_fails_when_none_were_expected(self) -> None:
        def body(self: t.Any) -> None:
            self.client.post("/signup", data=BAD)
            self.assertFormError("form", "age", [])

        assert failure(body) == (
            "Field 'age' of form 'form' has errors ['Number must be at least 18.'],"
            f" expected none. {ERRORS_BY_FIELD}"
        )

    def test_a_form_not_in_the_context_lists_the_forms_that_are(self) -> None:
        def body(self: t.Any) -> None:
            self.client.get("/signup")
            self.client.get("/plain")
            self.client.get("/search")
            self.assertFormError("signup_form", "email", [])

        assert failure(body) == (
            "No form 'signup_form' in the context of the templates rendered. Forms in the"
            " context: 'form' ('signup.html'), 'search' ('signup.html'), 'search' (a"
            " template string)."
        )

    def test_no_template_rendered(self) -> None:
        def body(self: t.Any) -> None:
            self.assertFormError("form", "email", [])

        assert failure(body) == "No form 'form': no template was rendered."

    def test_a_context_variable_that_is_not_a_form(self) -> None:
        def body(self: t.Any) -> None:
            self.client.get("/signup")
            self.assertFormError("title", "email", [])

        assert failure(body) == (
            "Context variable 'title' of 'signup.html' is 'Sign up', not a WTForms form."
        )

    def test_a_field_the_form_does_not_have(self) -> None:
        def body(self: t.Any) -> None:
            self.client.post("/signup", data=BAD)
            self.assertFormError("form", "mail", [])

        assert failure(body) == (
            "Form 'form' has no field 'mail'; its fields: 'name', 'email', 'age'."
        )

    @pytest.mark.parametrize(
        ("args", "expected"),
        [
            (
                (42, "email", []),
                "assertFormError() takes the form's name in the template context (a str)"
                " or the form itself, got 42.",
            ),
            (
                ("form", 1, []),
                "assertFormError() takes the field's name (a str, or None for the form's"
                " own errors), got 1.",
            ),
            (
                ("form", "email", [1]),
                "assertFormError() takes the expected errors as a str or a list of str"
                " ([] for none), got [1].",
            ),
        ],
    )
    def test_misuse(self, args: tuple[t.Any, ...], expected: str) -> None:
        def body(self: t.Any) -> None:
            self.client.post("/signup", data=BAD)
            self.assertFormError(*args)

        assert failure(body) == expected


class TestPerResponse:
    """response= (and a response for assert_form_error) reads only the templates
    that response's request rendered: its per-response records."""

    def test_the_form_of_that_response(self) -> None:
        def body(self: t.Any) -> None:
            rejected = self.client.post("/signup", data=BAD)
            accepted = self.client.post("/signup", data={"name": "ann", "email": "a@x"})
            assert accepted.data == b"welcome"
            self.assertFormError("form", "email", "Invalid email address.", response=rejected)
            assert_form_error(
                rejected, "form", "name", ["Field must be at least 3 characters long."]
            )

        passes(body)

    def test_another_response_s_form_is_not_looked_at(self) -> None:
        def body(self: t.Any) -> None:
            self.client.post("/signup", data=BAD)
            searched = self.client.get("/search")
            self.assertFormError("form", "email", [], response=searched)

        assert failure(body) == (
            "No form 'form' in the context of the templates GET /search (200 OK) rendered."
            " Forms in the context: 'search' (a template string)."
        )

    def test_a_response_that_rendered_no_template(self) -> None:
        def body(self: t.Any) -> None:
            self.assertFormError("form", "email", [], response=self.client.get("/text"))

        assert failure(body) == "No form 'form': GET /text (200 OK) rendered no template."

    def test_msg_and_the_plain_function(self) -> None:
        def body(self: t.Any) -> None:
            response = self.client.post("/signup", data=BAD)
            assert_form_error(response, "form", "email", [], msg="extra")

        assert failure(body) == (
            "Field 'email' of form 'form' has errors ['Invalid email address.'], expected"
            f" none. {ERRORS_BY_FIELD} : extra"
        )

    def test_a_response_without_records(self) -> None:
        from werkzeug.test import Client

        seen: list[str] = []

        def body(self: t.Any) -> None:
            response = Client(self.app).get("/search")
            seen.append(repr(response))
            self.assertFormError("search", "q", [], response=response)

        assert failure(body) == (
            f"assertFormError() reads the templates a response's request rendered, and"
            f" {seen[0]} carries no records: it comes from a client other than the"
            " test's. Use a response of the test's client (or of a client made with"
            " flask_testcase.isolated_client_class())."
        )

    def test_neither_a_response_nor_templates(self) -> None:
        with pytest.raises(TypeError) as info:
            assert_form_error(42, "form", "email", [])  # type: ignore[arg-type]
        assert str(info.value) == (
            "assert_form_error() takes a response of the test's client or a list of"
            " rendered templates (the templates fixture), got 42."
        )

    def test_in_the_pytest_plugin(self, pytester: pytest.Pytester) -> None:
        pytester.makeconftest(
            f"""
            import pytest
            from {__name__} import make_app

            @pytest.fixture
            def app():
                return make_app()
            """
        )
        pytester.makepyfile(
            test_it=f"""
            from flask_testcase import assert_form_error
            from flask_testcase.asserts import assertFormError

            def test_per_response(client):
                rejected = client.post("/signup", data={BAD!r})
                client.get("/search")
                assert_form_error(rejected, "form", "email", "Invalid email address.")
                assertFormError("form", "age", ["Number must be at least 18."], response=rejected)
                assertFormError("form", "age", [], response=rejected)
            """
        )
        result = pytester.runpytest("-p", "no:flask", "-p", "no:cacheprovider")
        result.assert_outcomes(failed=1)
        result.stdout.fnmatch_lines(
            [
                # (fnmatch reads [...] as a set of characters: * stands for the list)
                "E * AssertionError: Field 'age' of form 'form' has errors *, expected"
                " none. Errors of the form, field by field:",
                "E *   age: *Number must be at least 18.*",
            ]
        )


class TestPlainFunction:
    def test_with_recorded_templates(self) -> None:
        app = make_app()
        with record_templates(app) as templates:
            app.test_client().post("/signup", data=BAD)
        assert_form_error(templates, "form", "email", "Invalid email address.")
        with pytest.raises(AssertionError) as info:
            assert_form_error(templates, "form", "email", [], msg="extra")
        assert str(info.value) == (
            "Field 'email' of form 'form' has errors ['Invalid email address.'], expected"
            f" none. {ERRORS_BY_FIELD} : extra"
        )
        with pytest.raises(TypeError) as error:
            assert_form_error(templates, None, "email", [])
        assert str(error.value) == (
            "assert_form_error() takes the form's name in the template context (a str)"
            " or the form itself, got None."
        )


def test_without_wtforms_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "wtforms", None)
    with pytest.raises(ImportError) as info:
        assert_form_error([], "form", "email", [])
    assert str(info.value) == (
        "assertFormError() checks WTForms forms: pip install wtforms (or flask-testcase[extras])."
    )


def test_the_plain_function_in_flask_testcase_asserts() -> None:
    from flask_testcase import asserts

    def body(self: t.Any) -> None:
        self.client.post("/signup", data=BAD)
        asserts.assertFormError("form", "email", "Invalid email address.")

    passes(body)
