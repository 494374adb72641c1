"""The shape shared by every assertion: one message mechanism, typed shortcuts, the
modules by subject, and Flask-Testing's words kept at the start of our messages."""

from __future__ import annotations

import ast
import inspect
import typing as t
from pathlib import Path

import pytest
from apps import Case
from apps import in_case
from test_flask_testing_compat import flask_testing_or_skip

from flask_testcase import TestCase
from flask_testcase.assertions import AssertionsMixin
from flask_testcase.assertions._core import BadArgument
from flask_testcase.assertions._core import assertion

PACKAGE = Path(__file__).resolve().parents[1] / "flask_testcase" / "assertions"

ASSERTIONS = sorted(
    name
    for name in dir(AssertionsMixin)
    if name.startswith("assert") and (name[6:7].isupper() or name[6:7].isdigit())
)


class TestOneMessageMechanism:
    def test_every_assertion_goes_through_the_assertion_decorator(self) -> None:
        assert len(ASSERTIONS) > 40
        undecorated = [n for n in ASSERTIONS if not hasattr(getattr(TestCase, n), "__wrapped__")]
        assert undecorated == []

    def test_no_method_name_is_written_as_a_string_in_a_message(self) -> None:
        found = []
        for path in PACKAGE.glob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            docstrings = {
                id(node.body[0].value)
                for node in ast.walk(tree)
                if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef))
                and node.body
                and isinstance(node.body[0], ast.Expr)
            }
            for node in ast.walk(tree):
                if (
                    isinstance(node, ast.Constant)
                    and isinstance(node.value, str)
                    and id(node) not in docstrings
                ):
                    text = node.value
                    if any(f"{name}(" in text for name in ASSERTIONS):
                        found.append((path.name, text))
        assert found == []

    def test_message_is_msg_and_both_is_a_type_error_named_after_the_method(self) -> None:
        class Probe:
            @assertion
            def assertProbe(
                self, value: int, msg: str | None = None, *, message: str | None = None
            ) -> tuple[int, str | None, str | None]:
                return value, msg, message

        probe = Probe()
        assert probe.assertProbe(1) == (1, None, None)
        assert probe.assertProbe(1, "m") == (1, "m", None)
        assert probe.assertProbe(1, message="m") == (1, "m", None)
        assert probe.assertProbe(1, None, message="m") == (1, "m", None)
        assert probe.assertProbe(1, msg=None, message="m") == (1, "m", None)
        with pytest.raises(TypeError) as e:
            probe.assertProbe(1, "a", message="b")
        assert str(e.value) == (
            "assertProbe() got both msg= and message=; pass one (message= is the"
            " Flask-Testing spelling of msg=)."
        )

    def test_a_positional_message_parameter_is_left_alone(self) -> None:
        class Probe:
            @assertion
            def assertFlashedProbe(self, message: str, msg: str | None = None) -> str:
                return f"{message}|{msg}"

        assert Probe().assertFlashedProbe(message="saved", msg="m") == "saved|m"

    def test_a_bad_argument_is_raised_as_its_error_named_after_the_method(self) -> None:
        class Probe:
            @assertion
            def assertProbe(self, kind: str) -> None:
                if kind == "type":
                    raise BadArgument(TypeError, "expects a str")
                raise BadArgument(ValueError, "is wrong", call="x=1", separator=": ")

        with pytest.raises(TypeError) as e:
            Probe().assertProbe("type")
        assert str(e.value) == "assertProbe() expects a str"
        assert e.value.__suppress_context__
        with pytest.raises(ValueError) as v:
            Probe().assertProbe("value")
        assert str(v.value) == "assertProbe(x=1): is wrong"


class TestStatusShortcutsAreTyped:
    def test_each_shortcut_has_the_signature_of_a_real_method(self) -> None:
        shortcuts = [n for n in ASSERTIONS if n[6:].isdigit()]
        assert len(shortcuts) == 21
        for name in shortcuts:
            signature = inspect.signature(getattr(TestCase, name))
            assert str(signature) == (
                "(self, response: '_WerkzeugResponse', msg: 'str | None' = None, *,"
                " message: 'str | None' = None) -> 'None'"
            ), name

    def test_shortcuts_are_defined_in_the_class_body_not_set_afterwards(self) -> None:
        tree = ast.parse((PACKAGE / "_responses.py").read_text(encoding="utf-8"))
        defined = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
        assert {n for n in ASSERTIONS if n[6:].isdigit()} <= defined


class TestModulesBySubject:
    def test_subject_modules_import_only_the_core(self) -> None:
        subjects = [p for p in PACKAGE.glob("_*.py") if p.name not in ("_core.py", "__init__.py")]
        assert len(subjects) == 5
        for path in subjects:
            tree = ast.parse(path.read_text(encoding="utf-8"))
            local = {
                node.module
                for node in ast.walk(tree)
                if isinstance(node, ast.ImportFrom) and node.level == 1
            }
            assert local == {"_core"}, path.name

    def test_one_public_mixin_has_every_assertion(self) -> None:
        assert issubclass(TestCase, AssertionsMixin)
        assert "assertRendersTemplate" in ASSERTIONS
        assert "assertJSONEqual" in ASSERTIONS
        assert "assertHeader" in ASSERTIONS


class TestFlaskTestingWordsStartOurMessages:
    """Flask-Testing 0.8.1's own code makes the message; ours must start with it."""

    @in_case()
    def test_assert_status(self: Case) -> None:
        flask_testing_or_skip()
        from flask_testing.utils import TestCase as FlaskTestingCase

        response = self.client.get("/status/404")
        for code in (200, 500):
            with self.assertRaises(AssertionError) as theirs:
                FlaskTestingCase.assertStatus(t.cast(t.Any, self), response, code)
            # unittest's longMessage puts "404 != 200 : " before Flask-Testing's text.
            words = str(theirs.exception).split(" : ", 1)[1]
            self.assertEqual(words, f"HTTP Status {code} expected but got 404")
            with self.assertRaises(AssertionError) as ours:
                self.assertStatus(response, code)
            self.assertTrue(str(ours.exception).startswith(words), str(ours.exception))
            with self.assertRaises(AssertionError) as ours:
                getattr(self, f"assert{code}")(response)
            self.assertTrue(str(ours.exception).startswith(words), str(ours.exception))
