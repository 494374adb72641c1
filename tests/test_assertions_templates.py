"""assertTemplateUsed / assertTemplateNotUsed (checked at once), their block forms
assertRendersTemplate / assertDoesNotRenderTemplate,
get_context_variable / ContextVariableDoesNotExist and assertContext."""

from __future__ import annotations

import contextlib
from pathlib import Path

import jinja2
from apps import Case
from apps import in_case
from apps import run_case

import flask_testcase
from flask_testcase import ContextVariableDoesNotExist

THREE = "/render/index.html,item.html,index.html"
RENDERED_THREE = "Templates rendered: 'index.html', 'item.html', 'index.html'"



NOTHING_SO_FAR = (
    "Template 'index.html' was not rendered. No template was rendered so far in this test:"
    " assertTemplateUsed() checks the templates rendered before it is called. To check the"
    " renders inside a with block, write: with self.assertRendersTemplate('index.html'):"
)

class LabelledTemplate(jinja2.Template):
    """A template class with another name attribute, for tmpl_name_attribute."""

    @property
    def label(self) -> str:
        return f"label:{self.name}"


class TestAssertTemplateUsed:
    @in_case()
    def test_passes_for_any_template_rendered_during_the_test(self: Case) -> None:
        self.client.get(THREE)
        self.assertTemplateUsed("index.html")
        self.assertTemplateUsed("item.html")

    @in_case()
    def test_every_render_is_kept_not_only_the_last(self: Case) -> None:
        self.client.get("/render/item.html")
        self.client.get("/")
        self.assertTemplateUsed("item.html")
        self.assertTemplateUsed("index.html")

    @in_case()
    def test_fails_listing_the_templates_rendered(self: Case) -> None:
        self.client.get(THREE)
        with self.fails(f"Template 'missing.html' was not rendered. {RENDERED_THREE}"):
            self.assertTemplateUsed("missing.html")

    @in_case()
    def test_fails_saying_no_template_was_rendered(self: Case) -> None:
        self.client.get("/text")
        with self.fails(NOTHING_SO_FAR):
            self.assertTemplateUsed("index.html")

    @in_case()
    def test_a_string_template_is_listed_as_none(self: Case) -> None:
        self.client.get("/render-string")
        with self.fails("Template 'index.html' was not rendered. Templates rendered: None"):
            self.assertTemplateUsed("index.html")

    @in_case()
    def test_count_requires_the_exact_number_of_renders(self: Case) -> None:
        self.client.get(THREE)
        self.assertTemplateUsed("index.html", count=2)
        self.assertTemplateUsed("item.html", count=1)
        self.assertTemplateUsed("missing.html", count=0)
        with self.fails(
            f"Template 'index.html' was rendered 2 time(s), expected 1. {RENDERED_THREE}"
        ):
            self.assertTemplateUsed("index.html", count=1)
        with self.fails(
            f"Template 'item.html' was rendered 1 time(s), expected 0. {RENDERED_THREE}"
        ):
            self.assertTemplateUsed("item.html", count=0)

    @in_case()
    def test_count_that_is_not_an_int_of_zero_or_more_is_a_value_error(self: Case) -> None:
        self.client.get("/")
        for count in (-1, True, "2", 1.0):
            with (
                self.subTest(count=count),
                self.misuse(
                    ValueError,
                    f"assertTemplateUsed() count must be an int >= 0 or None, got {count!r}",
                ),
            ):
                self.assertTemplateUsed("index.html", count=count)  # type: ignore[arg-type]

    @in_case()
    def test_msg_is_appended(self: Case) -> None:
        self.client.get(THREE)
        standard = f"Template 'missing.html' was not rendered. {RENDERED_THREE}"
        with self.fails(standard + " : home page"):
            self.assertTemplateUsed("missing.html", msg="home page")
        with self.fails(standard + " : positional"):
            self.assertTemplateUsed("missing.html", "name", "positional")

    @in_case()
    def test_a_name_that_is_not_a_str_is_a_type_error(self: Case) -> None:
        with self.misuse(TypeError, "assertTemplateUsed() expects a template name (str), got None"):
            self.assertTemplateUsed(None)  # type: ignore[arg-type]

    @in_case()
    def test_tmpl_name_attribute_picks_the_attribute_compared(self: Case) -> None:
        self.app.jinja_env.template_class = LabelledTemplate
        self.client.get("/")
        self.assertTemplateUsed("label:index.html", tmpl_name_attribute="label")
        self.assertTemplateUsed("index.html", "name")
        with self.fails(
            "Template 'index.html' was not rendered. Templates rendered: 'label:index.html'"
        ):
            self.assertTemplateUsed("index.html", tmpl_name_attribute="label")

    @in_case()
    def test_an_unknown_tmpl_name_attribute_is_a_value_error(self: Case) -> None:
        self.client.get("/")
        with self.misuse(
            ValueError,
            "tmpl_name_attribute='nope': the rendered template <Template 'index.html'>"
            " has no such attribute; use 'name' (the default)",
        ):
            self.assertTemplateUsed("index.html", tmpl_name_attribute="nope")

    @in_case(render_templates=False)
    def test_works_when_templates_are_not_rendered(self: Case) -> None:
        response = self.client.get("/")
        self.assertEqual(response.data, b"")
        self.assertTemplateUsed("index.html")
        self.assertContext("title", "Home")


class TestAssertTemplateUsedIsNotABlock:
    """assertTemplateUsed checks at once, as Flask-Testing's did; in a with statement by
    mistake it says which method checks a block."""

    @in_case()
    def test_in_a_with_statement_it_names_assert_renders_template(self: Case) -> None:
        self.client.get("/")
        with (
            self.misuse(
                TypeError,
                "assertTemplateUsed() checks the templates rendered so far, when it is called;"
                " it is not a context manager. To check the renders inside a with block,"
                " write: with self.assertRendersTemplate('index.html'):",
            ),
            self.assertTemplateUsed("index.html"),
        ):
            self.fail("the block must not run")

    @in_case()
    def test_in_a_with_statement_it_has_checked_before_the_block(self: Case) -> None:
        with (
            self.fails(NOTHING_SO_FAR),
            self.assertTemplateUsed("index.html"),
        ):
            self.fail("the block must not run")

    @in_case()
    def test_enter_context_names_the_block_method_too(self: Case) -> None:
        self.client.get("/")
        checked = self.assertTemplateUsed("index.html")
        with self.assertRaises(TypeError) as cm, contextlib.ExitStack() as stack:
            stack.enter_context(checked)
        self.assertIn("with self.assertRendersTemplate('index.html'):", str(cm.exception))

    @in_case()
    def test_the_snake_case_alias_names_it_too(self: Case) -> None:
        self.client.get("/")
        with self.assertRaises(TypeError) as cm, self.assert_template_used("index.html"):
            pass
        self.assertIn("with self.assertRendersTemplate('index.html'):", str(cm.exception))

    def test_the_library_reads_no_frames_or_bytecode(self) -> None:
        package = Path(flask_testcase.__file__).parent
        for path in package.rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            for word in ("_getframe", "f_lasti", "opname", "import dis"):
                assert word not in text, f"{path.name} uses {word}"


class TestAssertRendersTemplate:
    @in_case()
    def test_only_renders_inside_the_block_count(self: Case) -> None:
        self.client.get("/render/item.html")
        with self.assertRendersTemplate("index.html"):
            self.client.get("/")
        with (
            self.fails(
                "Template 'item.html' was not rendered in the block."
                " Templates rendered in the block: 'index.html'"
            ),
            self.assertRendersTemplate("item.html"),
        ):
            self.client.get("/")

    @in_case()
    def test_fails_when_nothing_was_rendered_in_the_block(self: Case) -> None:
        self.client.get("/")
        with (
            self.fails(
                "Template 'index.html' was not rendered in the block."
                " No template was rendered in the block."
            ),
            self.assertRendersTemplate("index.html"),
        ):
            self.client.get("/text")

    @in_case()
    def test_the_check_waits_for_the_end_of_the_block(self: Case) -> None:
        with self.assertRendersTemplate("index.html") as entered:
            # Nothing rendered yet: a check at the with line would have failed.
            self.assertEqual(self.templates, [])
            self.client.get("/")
        self.assertIsNone(entered)

    @in_case()
    def test_count_applies_to_the_block(self: Case) -> None:
        self.client.get("/")
        with self.assertRendersTemplate("index.html", count=2):
            self.client.get(THREE)
        with (
            self.fails(
                "Template 'index.html' was rendered 2 time(s) in the block, expected 1."
                " Templates rendered in the block: 'index.html', 'item.html', 'index.html'"
            ),
            self.assertRendersTemplate("index.html", count=1),
        ):
            self.client.get(THREE)

    @in_case()
    def test_msg_is_appended(self: Case) -> None:
        with (
            self.fails(
                "Template 'item.html' was not rendered in the block."
                " Templates rendered in the block: 'index.html' : in the block"
            ),
            self.assertRendersTemplate("item.html", msg="in the block"),
        ):
            self.client.get("/")
        with (
            self.fails(
                "Template 'item.html' was not rendered in the block."
                " Templates rendered in the block: 'index.html' : positional"
            ),
            self.assertRendersTemplate("item.html", "name", "positional"),
        ):
            self.client.get("/")

    @in_case()
    def test_an_exception_in_the_block_is_not_hidden(self: Case) -> None:
        with self.assertRaises(ZeroDivisionError), self.assertRendersTemplate("index.html"):
            1 / 0  # noqa: B018

    @in_case()
    def test_several_managers_in_one_with(self: Case) -> None:
        with (
            self.assertRendersTemplate("index.html"),
            self.assertDoesNotRenderTemplate("item.html"),
        ):
            self.client.get("/")

    @in_case()
    def test_works_with_exit_stack_enter_context(self: Case) -> None:
        with contextlib.ExitStack() as stack:
            stack.enter_context(self.assertRendersTemplate("index.html"))
            self.client.get("/")
        with (
            self.fails(
                "Template 'item.html' was not rendered in the block."
                " Templates rendered in the block: 'index.html'"
            ),
            contextlib.ExitStack() as stack,
        ):
            stack.enter_context(self.assertRendersTemplate("item.html"))
            self.client.get("/")

    @in_case()
    def test_works_when_kept_in_a_variable_first(self: Case) -> None:
        self.client.get("/render/item.html")
        manager = self.assertRendersTemplate("item.html")
        with (
            self.fails(
                "Template 'item.html' was not rendered in the block."
                " Templates rendered in the block: 'index.html'"
            ),
            manager,
        ):
            self.client.get("/")

    @in_case()
    def test_misuse_is_found_when_called_not_at_the_end_of_the_block(self: Case) -> None:
        with self.misuse(
            TypeError, "assertRendersTemplate() expects a template name (str), got None"
        ):
            self.assertRendersTemplate(None)  # type: ignore[arg-type]
        with self.misuse(
            ValueError, "assertRendersTemplate() count must be an int >= 0 or None, got -1"
        ):
            self.assertRendersTemplate("index.html", count=-1)


class TestAssertTemplateNotUsed:
    @in_case()
    def test_passes_when_the_template_was_not_rendered(self: Case) -> None:
        self.client.get("/")
        self.assertTemplateNotUsed("item.html")

    @in_case()
    def test_fails_with_how_often_and_what_was_rendered(self: Case) -> None:
        self.client.get(THREE)
        with self.fails(f"Template 'index.html' was rendered (2 time(s)). {RENDERED_THREE}"):
            self.assertTemplateNotUsed("index.html")

    @in_case()
    def test_in_a_with_statement_it_names_assert_does_not_render_template(
        self: Case,
    ) -> None:
        with (
            self.misuse(
                TypeError,
                "assertTemplateNotUsed() checks the templates rendered so far, when it is"
                " called; it is not a context manager. To check the renders inside a with"
                " block, write: with self.assertDoesNotRenderTemplate('item.html'):",
            ),
            self.assertTemplateNotUsed("item.html"),
        ):
            self.fail("the block must not run")

    @in_case()
    def test_msg_is_appended(self: Case) -> None:
        self.client.get("/")
        standard = (
            "Template 'index.html' was rendered (1 time(s)). Templates rendered: 'index.html'"
        )
        with self.fails(standard + " : note"):
            self.assertTemplateNotUsed("index.html", msg="note")
        with self.fails(standard + " : positional"):
            self.assertTemplateNotUsed("index.html", "name", "positional")

    @in_case()
    def test_tmpl_name_attribute(self: Case) -> None:
        self.app.jinja_env.template_class = LabelledTemplate
        self.client.get("/")
        self.assertTemplateNotUsed("index.html", tmpl_name_attribute="label")
        with self.fails(
            "Template 'label:index.html' was rendered (1 time(s))."
            " Templates rendered: 'label:index.html'"
        ):
            self.assertTemplateNotUsed("label:index.html", tmpl_name_attribute="label")

    @in_case()
    def test_a_name_that_is_not_a_str_is_a_type_error(self: Case) -> None:
        with self.misuse(TypeError, "assertTemplateNotUsed() expects a template name (str), got 3"):
            self.assertTemplateNotUsed(3)  # type: ignore[arg-type]


class TestAssertDoesNotRenderTemplate:
    @in_case()
    def test_only_the_block_counts(self: Case) -> None:
        self.client.get("/render/item.html")
        with self.assertDoesNotRenderTemplate("item.html"):
            self.client.get("/")
        with (
            self.fails(
                "Template 'index.html' was rendered in the block (1 time(s))."
                " Templates rendered in the block: 'index.html'"
            ),
            self.assertDoesNotRenderTemplate("index.html"),
        ):
            self.client.get("/")

    @in_case()
    def test_msg_is_appended(self: Case) -> None:
        with (
            self.fails(
                "Template 'index.html' was rendered in the block (1 time(s))."
                " Templates rendered in the block: 'index.html' : note"
            ),
            self.assertDoesNotRenderTemplate("index.html", msg="note"),
        ):
            self.client.get("/")

    @in_case()
    def test_tmpl_name_attribute(self: Case) -> None:
        self.app.jinja_env.template_class = LabelledTemplate
        with self.assertDoesNotRenderTemplate("index.html", tmpl_name_attribute="label"):
            self.client.get("/")

    @in_case()
    def test_works_with_exit_stack_and_a_variable(self: Case) -> None:
        manager = self.assertDoesNotRenderTemplate("index.html")
        with (
            self.fails(
                "Template 'index.html' was rendered in the block (1 time(s))."
                " Templates rendered in the block: 'index.html'"
            ),
            contextlib.ExitStack() as stack,
        ):
            stack.enter_context(manager)
            self.client.get("/")

    @in_case()
    def test_an_exception_in_the_block_is_not_hidden(self: Case) -> None:
        with self.assertRaises(KeyError), self.assertDoesNotRenderTemplate("index.html"):
            self.client.get("/")
            raise KeyError("boom")

    @in_case()
    def test_a_name_that_is_not_a_str_is_a_type_error(self: Case) -> None:
        with self.misuse(
            TypeError, "assertDoesNotRenderTemplate() expects a template name (str), got 3"
        ):
            self.assertDoesNotRenderTemplate(3)  # type: ignore[arg-type]


class TestGetContextVariable:
    def test_the_exception_is_importable_from_the_package(self) -> None:
        assert "ContextVariableDoesNotExist" in flask_testcase.__all__
        assert issubclass(ContextVariableDoesNotExist, Exception)
        assert not issubclass(ContextVariableDoesNotExist, AssertionError)

    @in_case()
    def test_returns_the_value_from_the_context(self: Case) -> None:
        self.client.get("/")
        self.assertEqual(self.get_context_variable("title"), "Home")

    @in_case()
    def test_the_most_recent_render_wins(self: Case) -> None:
        self.client.get(THREE)
        self.assertEqual(self.get_context_variable("item"), 2)
        self.assertEqual(self.get_context_variable("title"), "index.html")

    @in_case()
    def test_raises_when_nothing_was_rendered(self: Case) -> None:
        with self.misuse(
            ContextVariableDoesNotExist,
            "Context variable 'title' does not exist: no template was rendered.",
        ):
            self.get_context_variable("title")

    @in_case()
    def test_raises_listing_the_keys_of_each_render(self: Case) -> None:
        self.client.get("/render/index.html,item.html")
        # Flask's own g, request and session are left out: which of them a render
        # gets differs between Flask versions.
        with self.misuse(
            ContextVariableDoesNotExist,
            "Context variable 'user' does not exist in any rendered template. Context keys:"
            " 'index.html': item, title, value; 'item.html': item, title, value",
        ):
            self.get_context_variable("user")


class TestAssertContext:
    @in_case()
    def test_passes_when_the_variable_equals_the_value(self: Case) -> None:
        self.client.get("/")
        self.assertContext("title", "Home")

    @in_case()
    def test_fails_with_the_actual_value(self: Case) -> None:
        self.client.get("/")
        with self.fails("Context variable 'title' is 'Home', expected 'About'"):
            self.assertContext("title", "About")

    @in_case()
    def test_a_missing_variable_is_a_failure_not_an_error(self: Case) -> None:
        self.client.get("/")
        with self.fails(
            "Context variable 'user' does not exist in any rendered template."
            " Context keys: 'index.html': title"
        ):
            self.assertContext("user", "ann")

    @in_case()
    def test_fails_when_nothing_was_rendered(self: Case) -> None:
        with self.fails("Context variable 'title' does not exist: no template was rendered."):
            self.assertContext("title", "Home")

    @in_case()
    def test_msg_and_message_are_appended(self: Case) -> None:
        self.client.get("/")
        standard = "Context variable 'title' is 'Home', expected 'About'"
        with self.fails(standard + " : positional"):
            self.assertContext("title", "About", "positional")
        with self.fails(standard + " : keyword"):
            self.assertContext("title", "About", msg="keyword")
        with self.fails(standard + " : flask-testing"):
            self.assertContext("title", "About", message="flask-testing")
        with self.fails("Context variable 'x' does not exist: no template was rendered. : m"):
            self.templates.clear()
            self.assertContext("x", 1, message="m")

    @in_case()
    def test_msg_and_message_together_is_a_type_error(self: Case) -> None:
        self.client.get("/")
        with self.misuse(
            TypeError,
            "assertContext() got both msg= and message=; pass one (message= is the"
            " Flask-Testing spelling of msg=).",
        ):
            self.assertContext("title", "Home", "a", message="b")


class TestSnakeCaseAliases:
    @in_case()
    def test_assert_template_used(self: Case) -> None:
        self.client.get("/")
        self.assert_template_used("index.html")
        with self.fails("Template 'item.html' was not rendered. Templates rendered: 'index.html'"):
            self.assert_template_used("item.html")

    @in_case()
    def test_assert_context(self: Case) -> None:
        self.client.get("/")
        self.assert_context("title", "Home")
        with self.fails("Context variable 'title' is 'Home', expected 'x' : note"):
            self.assert_context("title", "x", message="note")


class TestThroughTheRunner:
    def test_a_missing_variable_is_reported_once(self) -> None:
        class T(Case):
            def test_user(self) -> None:
                self.client.get("/")
                self.assertContext("user", "ann")

        result = run_case(T)
        [(_, text)] = result.failures
        assert "During handling" not in text
        assert "ContextVariableDoesNotExist" not in text
