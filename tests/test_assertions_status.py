"""assertStatus, the assert<code> shortcuts and their Flask-Testing snake_case aliases.

Each test body runs as the test method of a real flask_testcase.TestCase (see
tests/apps.py), against a real app through the real test client.
"""

from __future__ import annotations

from apps import Case
from apps import failure_traceback
from apps import in_case
from apps import last_line_of_failure
from apps import run_case
from apps import status_line

from flask_testcase import TestCase

#: The shortcuts the issue asks for: Flask-Testing's eight and the codes users meet.
SHORTCUTS = (
    200, 201, 202, 204, 301, 302, 303, 307, 308,
    400, 401, 403, 404, 405, 409, 410, 415, 422, 429, 500, 503,
)  # fmt: skip

#: Flask-Testing 0.8.1's snake_case names for its status assertions.
SNAKE_SHORTCUTS = (200, 400, 401, 403, 404, 405, 500)

NOT_FOUND = f"HTTP Status 200 expected but got {status_line(404)}\nResponse body:\nstatus 404"


class TestAssertStatus:
    @in_case()
    def test_passes_on_the_expected_status(self: Case) -> None:
        self.assertStatus(self.client.get("/text"), 200)
        self.assertStatus(self.client.get("/status/404"), 404)
        self.assertStatus(self.client.get("/status/418"), 418)

    @in_case()
    def test_returns_none(self: Case) -> None:
        self.assertIsNone(self.assertStatus(self.client.get("/text"), 200))

    @in_case()
    def test_fails_with_the_actual_status_and_the_body(self: Case) -> None:
        with self.fails(NOT_FOUND):
            self.assertStatus(self.client.get("/status/404"), 200)

    @in_case()
    def test_failure_shows_the_location_of_a_redirect(self: Case) -> None:
        response = self.client.get("/redirect/302?to=/login")
        with self.fails(
            f"HTTP Status 200 expected but got {status_line(302)} (Location: /login)\n"
            "Response body:\n" + response.get_data(as_text=True).strip()
        ):
            self.assertStatus(response, 200)

    @in_case()
    def test_failure_without_a_body_has_no_body_section(self: Case) -> None:
        with self.fails(f"HTTP Status 200 expected but got {status_line(204)}"):
            self.assertStatus(self.client.get("/status/204"), 200)

    @in_case()
    def test_failure_shows_only_the_start_of_a_long_body(self: Case) -> None:
        @self.app.route("/long")
        def long() -> tuple[str, int]:
            return "x" * 600, 500

        with self.fails(
            f"HTTP Status 200 expected but got {status_line(500)}\nResponse body:\n"
            + "x" * 500
            + "... (100 more characters)"
        ):
            self.assertStatus(self.client.get("/long"), 200)

    @in_case()
    def test_msg_is_appended_to_the_standard_message(self: Case) -> None:
        response = self.client.get("/status/404")
        with self.fails(NOT_FOUND + " : the home page must exist"):
            self.assertStatus(response, 200, "the home page must exist")
        with self.fails(NOT_FOUND + " : by keyword"):
            self.assertStatus(response, 200, msg="by keyword")

    @in_case(longMessage=False)
    def test_with_long_message_off_msg_replaces_the_standard_message(self: Case) -> None:
        # unittest's own switch, honoured because every failure goes through
        # _formatMessage; the default (True) appends.
        with self.fails("the home page must exist"):
            self.assertStatus(self.client.get("/status/404"), 200, "the home page must exist")
        with self.fails(NOT_FOUND):
            self.assertStatus(self.client.get("/status/404"), 200)

    @in_case()
    def test_flask_testing_message_keyword_is_appended_too(self: Case) -> None:
        with self.fails(NOT_FOUND + " : the home page must exist"):
            self.assertStatus(
                self.client.get("/status/404"), 200, message="the home page must exist"
            )

    @in_case()
    def test_msg_and_message_together_is_a_type_error(self: Case) -> None:
        with self.misuse(
            TypeError,
            "assertStatus() got both msg= and message=; pass one (message= is the"
            " Flask-Testing spelling of msg=).",
        ):
            self.assertStatus(self.client.get("/text"), 200, "a", message="b")

    @in_case()
    def test_a_status_int_instead_of_a_response_is_a_type_error(self: Case) -> None:
        with self.misuse(
            TypeError,
            "assertStatus() expects the response returned by the test client (for"
            " example self.client.get(...)), got int: 200",
        ):
            self.assertStatus(200, 200)

    @in_case()
    def test_a_long_non_response_is_shown_shortened(self: Case) -> None:
        with self.misuse(
            TypeError,
            "assertStatus() expects the response returned by the test client (for"
            " example self.client.get(...)), got str: " + repr("y" * 100)[:80],
        ):
            self.assertStatus("y" * 100, 200)

    @in_case()
    def test_a_status_that_is_not_an_int_is_a_type_error(self: Case) -> None:
        response = self.client.get("/text")
        with self.misuse(
            TypeError,
            "assertStatus() expects the status code as an int such as 200, got '200'",
        ):
            self.assertStatus(response, "200")  # type: ignore[arg-type]
        with self.misuse(
            TypeError,
            "assertStatus() expects the status code as an int such as 200, got True",
        ):
            self.assertStatus(response, True)

    @in_case()
    def test_failure_on_a_binary_body_is_a_failure_not_a_decode_error(self: Case) -> None:
        response = self.client.get("/binary")
        with self.assertRaises(self.failureException) as cm:
            self.assertStatus(response, 404)
        self.assertTrue(
            str(cm.exception).startswith("HTTP Status 404 expected but got 200 OK"),
            str(cm.exception),
        )


class TestShortcuts:
    def test_every_shortcut_the_issue_lists_exists(self) -> None:
        missing = [c for c in SHORTCUTS if not callable(getattr(TestCase, f"assert{c}", None))]
        assert missing == []

    @in_case()
    def test_each_shortcut_passes_on_its_code(self: Case) -> None:
        for code in SHORTCUTS:
            with self.subTest(code=code):
                getattr(self, f"assert{code}")(self.client.get(f"/status/{code}"))

    @in_case()
    def test_each_shortcut_fails_with_the_actual_status(self: Case) -> None:
        response = self.client.get("/status/418")
        for code in SHORTCUTS:
            expected = f"HTTP Status {code} expected but got {status_line(418)}"
            with self.subTest(code=code), self.fails(f"{expected}\nResponse body:\nstatus 418"):
                getattr(self, f"assert{code}")(response)

    @in_case()
    def test_each_shortcut_appends_msg_and_message(self: Case) -> None:
        response = self.client.get("/status/418")
        for code in SHORTCUTS:
            standard = (
                f"HTTP Status {code} expected but got {status_line(418)}\n"
                "Response body:\nstatus 418"
            )
            shortcut = getattr(self, f"assert{code}")
            with self.subTest(code=code):
                with self.fails(standard + " : positional"):
                    shortcut(response, "positional")
                with self.fails(standard + " : keyword"):
                    shortcut(response, msg="keyword")
                with self.fails(standard + " : flask-testing"):
                    shortcut(response, message="flask-testing")

    @in_case()
    def test_a_shortcut_given_msg_and_message_names_itself(self: Case) -> None:
        with self.misuse(
            TypeError,
            "assert404() got both msg= and message=; pass one (message= is the"
            " Flask-Testing spelling of msg=).",
        ):
            self.assert404(self.client.get("/status/404"), "a", message="b")

    @in_case()
    def test_a_shortcut_given_a_status_int_is_a_type_error(self: Case) -> None:
        with self.assertRaises(TypeError) as cm:
            self.assert200(200)
        self.assertIn(
            "expects the response returned by the test client (for example"
            " self.client.get(...)), got int: 200",
            str(cm.exception),
        )

    @in_case()
    def test_a_shortcut_misused_names_itself(self: Case) -> None:
        with self.misuse(
            TypeError,
            "assert200() expects the response returned by the test client (for"
            " example self.client.get(...)), got int: 200",
        ):
            self.assert200(200)

    @in_case()
    def test_shortcuts_are_documented(self: Case) -> None:
        for code in SHORTCUTS:
            with self.subTest(code=code):
                method = getattr(type(self), f"assert{code}")
                self.assertEqual(method.__name__, f"assert{code}")
                self.assertIn(f"HTTP status {code}", method.__doc__)


class TestSnakeCaseAliases:
    @in_case()
    def test_assert_status_passes_and_fails_like_assert_status(self: Case) -> None:
        self.assert_status(self.client.get("/status/404"), 404)
        with self.fails(NOT_FOUND + " : note"):
            self.assert_status(self.client.get("/status/404"), 200, message="note")

    @in_case()
    def test_each_snake_case_shortcut_passes_and_fails(self: Case) -> None:
        teapot = self.client.get("/status/418")
        for code in SNAKE_SHORTCUTS:
            alias = getattr(self, f"assert_{code}")
            with self.subTest(code=code):
                alias(self.client.get(f"/status/{code}"))
                with self.fails(
                    f"HTTP Status {code} expected but got {status_line(418)}\n"
                    "Response body:\nstatus 418 : note"
                ):
                    alias(teapot, "note")
                with self.fails(
                    f"HTTP Status {code} expected but got {status_line(418)}\n"
                    "Response body:\nstatus 418 : note"
                ):
                    alias(teapot, message="note")

    @in_case()
    def test_an_alias_follows_an_override_of_its_target(self: Case) -> None:
        calls = []

        def assert200(response: object, *args: object, **kwargs: object) -> None:
            calls.append((response, args, kwargs))

        self.assert200 = assert200  # type: ignore[method-assign]
        self.assert_200("response", message="m")
        self.assertEqual(calls, [("response", (), {"message": "m"})])


class TestThroughTheRunner:
    """What a user sees in the runner's report, not only the exception text."""

    def test_failure_report_has_the_message_and_no_library_frames(self) -> None:
        class T(Case):
            def test_home(self) -> None:
                self.assert200(self.client.get("/status/404"), "home must load")

        result = run_case(T)
        assert result.testsRun == 1
        assert result.errors == []
        assert last_line_of_failure(result) == NOT_FOUND + " : home must load"
        text = failure_traceback(result)
        # unittest hides frames of modules with __unittest = True: the traceback ends
        # at the test's own line.
        assert "flask_testcase" not in text
        assert 'self.assert200(self.client.get("/status/404"), "home must load")' in text

    def test_misuse_is_reported_as_an_error_not_a_failure(self) -> None:
        class T(Case):
            def test_home(self) -> None:
                self.assert200(200)

        result = run_case(T)
        assert result.failures == []
        [(_, text)] = result.errors
        assert text.rstrip().splitlines()[-1].startswith("TypeError: ")
