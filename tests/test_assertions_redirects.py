"""assertRedirects: relative and absolute locations both ways, redirect codes,
status_code=, target_status_code=, followed responses, msg=/message= and misuse."""

from __future__ import annotations

from apps import Case
from apps import in_case
from apps import status_line
from flask import url_for

ANY_REDIRECT = "301 or 302 or 303 or 305 or 307 or 308"
NOT_A_REDIRECT = f"Response is not a redirect: HTTP status 200 OK (expected {ANY_REDIRECT})"
WRONG_PLACE = (
    "Response redirected to '/', expected '/login'"
    " (resolved: 'http://localhost/' != 'http://localhost/login')"
)


class TestLocations:
    @in_case()
    def test_relative_header_and_relative_expected(self: Case) -> None:
        response = self.client.get("/to-index")
        self.assertEqual(response.headers["Location"], "/")
        self.assertRedirects(response, "/")

    @in_case()
    def test_relative_header_and_absolute_expected(self: Case) -> None:
        self.assertRedirects(self.client.get("/to-index"), "http://localhost/")

    @in_case()
    def test_absolute_header_and_relative_expected(self: Case) -> None:
        response = self.client.get("/to-index-absolute")
        self.assertEqual(response.headers["Location"], "http://localhost/")
        self.assertRedirects(response, "/")

    @in_case()
    def test_absolute_header_and_absolute_expected(self: Case) -> None:
        self.assertRedirects(self.client.get("/to-index-absolute"), "http://localhost/")

    @in_case()
    def test_url_for_works_in_the_test_body(self: Case) -> None:
        # Flask-Testing's documented form: the test body has a request context.
        self.assertRedirects(self.client.get("/to-index"), url_for("index"))
        self.assertRedirects(self.client.get("/to-index"), url_for("index", _external=True))

    @in_case()
    def test_a_relative_reference_is_resolved_against_the_request_url(self: Case) -> None:
        response = self.client.get("/a/b")
        self.assertEqual(response.headers["Location"], "c")
        self.assertRedirects(response, "/a/c")
        self.assertRedirects(response, "c")
        self.assertRedirects(response, "http://localhost/a/c")

    @in_case()
    def test_query_strings_must_match(self: Case) -> None:
        response = self.client.get("/redirect/302?to=/search%3Fq%3Dflask")
        self.assertRedirects(response, "/search?q=flask")
        with self.fails(
            "Response redirected to '/search?q=flask', expected '/search?q=django'"
            " (resolved: 'http://localhost/search?q=flask'"
            " != 'http://localhost/search?q=django')"
        ):
            self.assertRedirects(response, "/search?q=django")

    @in_case()
    def test_query_strings_compare_decoded_whatever_the_escaping(self: Case) -> None:
        # Flask-Login's login_required escapes the slashes of next=; url_for does not.
        response = self.client.get("/redirect/302?to=/login%3Fnext%3D%252Faccount%26x%3Da%2Bb")
        self.assertEqual(response.headers["Location"], "/login?next=%2Faccount&x=a+b")
        self.assertRedirects(response, url_for("index") + "login?next=/account&x=a%20b")
        self.assertRedirects(response, "/login?x=a b&next=/account")
        with self.fails(
            "Response redirected to '/login?next=%2Faccount&x=a+b', expected"
            " '/login?next=/account&x=a'"
            " (resolved: 'http://localhost/login?next=%2Faccount&x=a+b'"
            " != 'http://localhost/login?next=/account&x=a')"
        ):
            self.assertRedirects(response, "/login?next=/account&x=a")

    @in_case()
    def test_the_values_of_one_key_keep_their_order(self: Case) -> None:
        response = self.client.get("/redirect/302?to=/s%3Fa%3D1%26b%3D0%26a%3D2")
        self.assertRedirects(response, "/s?b=0&a=1&a=2")
        with self.fails(
            "Response redirected to '/s?a=1&b=0&a=2', expected '/s?a=2&a=1&b=0'"
            " (resolved: 'http://localhost/s?a=1&b=0&a=2'"
            " != 'http://localhost/s?a=2&a=1&b=0')"
        ):
            self.assertRedirects(response, "/s?a=2&a=1&b=0")
        with self.fails(
            "Response redirected to '/s?a=1&b=0&a=2', expected '/s?a=1&a=2'"
            " (resolved: 'http://localhost/s?a=1&b=0&a=2'"
            " != 'http://localhost/s?a=1&a=2')"
        ):
            self.assertRedirects(response, "/s?a=1&a=2")

    @in_case(config={"SERVER_NAME": "example.test"})
    def test_server_name_is_the_base_of_relative_locations(self: Case) -> None:
        response = self.client.get("/to-index")
        self.assertRedirects(response, "/")
        self.assertRedirects(response, "http://example.test/")
        with self.fails(
            "Response redirected to '/', expected 'http://localhost/'"
            " (resolved: 'http://example.test/' != 'http://localhost/')"
        ):
            self.assertRedirects(response, "http://localhost/")

    @in_case()
    def test_fails_with_both_locations_and_how_they_resolved(self: Case) -> None:
        with self.fails(WRONG_PLACE):
            self.assertRedirects(self.client.get("/to-index"), "/login")

    @in_case()
    def test_two_absolute_locations_are_shown_without_resolving(self: Case) -> None:
        with self.fails(
            "Response redirected to 'http://localhost/', expected 'http://localhost/x'"
        ):
            self.assertRedirects(self.client.get("/to-index-absolute"), "http://localhost/x")

    @in_case()
    def test_another_host_does_not_match(self: Case) -> None:
        with self.fails(
            "Response redirected to '/', expected 'http://example.com/'"
            " (resolved: 'http://localhost/' != 'http://example.com/')"
        ):
            self.assertRedirects(self.client.get("/to-index"), "http://example.com/")

    @in_case()
    def test_a_redirect_without_location_says_so(self: Case) -> None:
        with self.assertRaises(self.failureException) as cm:
            self.assertRedirects(self.client.get("/no-location"), "/x")
        self.assertIn("no Location header", str(cm.exception))


class TestStatusCodes:
    @in_case()
    def test_every_redirect_code_is_accepted(self: Case) -> None:
        for code in (301, 302, 303, 305, 307, 308):
            with self.subTest(code=code):
                response = self.client.get(f"/redirect/{code}?to=/login")
                self.assertEqual(response.status_code, code)
                self.assertRedirects(response, "/login")

    @in_case()
    def test_a_response_that_is_not_a_redirect_fails(self: Case) -> None:
        with self.fails(NOT_A_REDIRECT):
            self.assertRedirects(self.client.get("/text"), "/")
        with self.fails(
            f"Response is not a redirect: HTTP status {status_line(304)} (expected {ANY_REDIRECT})"
        ):
            self.assertRedirects(self.client.get("/status/304"), "/")

    @in_case()
    def test_status_code_requires_that_exact_redirect(self: Case) -> None:
        self.assertRedirects(self.client.get("/redirect/308?to=/login"), "/login", status_code=308)
        self.assertRedirects(self.client.get("/redirect/305?to=/login"), "/login", status_code=305)
        with self.fails(f"Redirect status was {status_line(302)}, expected 301"):
            self.assertRedirects(self.client.get("/to-index"), "/", status_code=301)

    @in_case()
    def test_status_code_on_a_non_redirect_names_only_that_code(self: Case) -> None:
        with self.fails("Response is not a redirect: HTTP status 200 OK (expected 308)"):
            self.assertRedirects(self.client.get("/text"), "/", status_code=308)

    @in_case()
    def test_status_code_that_is_not_a_redirect_status_is_a_value_error(self: Case) -> None:
        with self.misuse(
            ValueError,
            "assertRedirects() status_code=200 is not a redirect status;"
            " use one of 301, 302, 303, 305, 307, 308",
        ):
            self.assertRedirects(self.client.get("/to-index"), "/", status_code=200)

    @in_case()
    def test_status_code_is_keyword_only(self: Case) -> None:
        # The third positional argument is msg (Flask-Testing's message), not a status.
        with self.fails(WRONG_PLACE + " : 302"):
            self.assertRedirects(self.client.get("/to-index"), "/login", "302")


class TestFollowedResponses:
    @in_case()
    def test_a_followed_response_is_checked_through_its_history(self: Case) -> None:
        response = self.client.get("/to-index", follow_redirects=True)
        self.assertEqual(response.status_code, 200)
        self.assertRedirects(response, "/")

    @in_case()
    def test_the_last_redirect_of_a_chain_must_point_at_location(self: Case) -> None:
        response = self.client.get("/chain", follow_redirects=True)
        self.assertEqual([r.status_code for r in response.history], [301, 302])
        self.assertRedirects(response, "/")
        with self.fails(
            "Response redirected to '/', expected '/to-index'"
            " (resolved: 'http://localhost/' != 'http://localhost/to-index')"
        ):
            self.assertRedirects(response, "/to-index")

    @in_case()
    def test_status_code_applies_to_the_first_redirect_of_a_chain(self: Case) -> None:
        response = self.client.get("/chain", follow_redirects=True)
        self.assertRedirects(response, "/", status_code=301)
        with self.fails(f"Redirect status was {status_line(301)}, expected 302"):
            self.assertRedirects(response, "/", status_code=302)

    @in_case()
    def test_the_final_response_must_be_200_by_default(self: Case) -> None:
        response = self.client.get("/to-missing", follow_redirects=True)
        with self.fails(f"Redirect target '/status/404' answered {status_line(404)}, expected 200"):
            self.assertRedirects(response, "/status/404")
        self.assertRedirects(response, "/status/404", target_status_code=404)

    @in_case()
    def test_a_followed_non_redirect_is_not_a_redirect(self: Case) -> None:
        with self.fails(NOT_A_REDIRECT):
            self.assertRedirects(self.client.get("/text", follow_redirects=True), "/text")


class TestTargetStatusCode:
    @in_case()
    def test_the_redirect_is_followed_to_check_the_target(self: Case) -> None:
        self.assertRedirects(self.client.get("/to-index"), "/", target_status_code=200)
        self.assertRedirects(self.client.get("/to-missing"), "/status/404", target_status_code=404)

    @in_case()
    def test_fails_with_what_the_target_answered(self: Case) -> None:
        with self.fails(f"Redirect target '/status/404' answered {status_line(404)}, expected 200"):
            self.assertRedirects(
                self.client.get("/to-missing"), "/status/404", target_status_code=200
            )

    @in_case()
    def test_the_target_is_not_requested_when_the_location_is_wrong(self: Case) -> None:
        requested = []
        self.app.before_request(lambda: requested.append(1) and None)
        response = self.client.get("/to-missing")
        requested.clear()
        with self.fails(
            "Response redirected to '/status/404', expected '/'"
            " (resolved: 'http://localhost/status/404' != 'http://localhost/')"
        ):
            self.assertRedirects(response, "/", target_status_code=200)
        self.assertEqual(requested, [])

    @in_case()
    def test_target_status_code_that_is_not_an_int_is_a_type_error(self: Case) -> None:
        with self.assertRaises(TypeError) as cm:
            self.assertRedirects(self.client.get("/to-index"), "/", target_status_code="200")
        self.assertIn("target_status_code", str(cm.exception))


class TestMessages:
    @in_case()
    def test_msg_is_appended_to_each_kind_of_failure(self: Case) -> None:
        with self.fails(WRONG_PLACE + " : after login"):
            self.assertRedirects(self.client.get("/to-index"), "/login", "after login")
        with self.fails(WRONG_PLACE + " : after login"):
            self.assertRedirects(self.client.get("/to-index"), "/login", msg="after login")
        with self.fails(NOT_A_REDIRECT + " : note"):
            self.assertRedirects(self.client.get("/text"), "/", msg="note")
        with self.fails(f"Redirect status was {status_line(302)}, expected 301 : note"):
            self.assertRedirects(self.client.get("/to-index"), "/", msg="note", status_code=301)
        with self.fails(
            f"Redirect target '/status/404' answered {status_line(404)}, expected 200 : note"
        ):
            self.assertRedirects(
                self.client.get("/to-missing"), "/status/404", msg="note", target_status_code=200
            )
        with self.fails(
            f"Redirect target '/status/404' answered {status_line(404)}, expected 200 : note"
        ):
            self.assertRedirects(
                self.client.get("/to-missing", follow_redirects=True), "/status/404", msg="note"
            )

    @in_case()
    def test_flask_testing_message_keyword_is_appended(self: Case) -> None:
        with self.fails(WRONG_PLACE + " : after login"):
            self.assertRedirects(self.client.get("/to-index"), "/login", message="after login")

    @in_case()
    def test_msg_and_message_together_is_a_type_error(self: Case) -> None:
        with self.misuse(
            TypeError,
            "assertRedirects() got both msg= and message=; pass one (message= is the"
            " Flask-Testing spelling of msg=).",
        ):
            self.assertRedirects(self.client.get("/to-index"), "/", "a", message="b")


class TestMisuse:
    @in_case()
    def test_a_status_int_instead_of_a_response_is_a_type_error(self: Case) -> None:
        with self.misuse(
            TypeError,
            "assertRedirects() expects the response returned by the test client (for"
            " example self.client.get(...)), got int: 302",
        ):
            self.assertRedirects(302, "/")

    @in_case()
    def test_a_location_that_is_not_a_str_is_a_type_error(self: Case) -> None:
        with self.misuse(
            TypeError,
            "assertRedirects() expects the location as a str such as '/login', got None",
        ):
            self.assertRedirects(self.client.get("/to-index"), None)  # type: ignore[arg-type]


class TestSnakeCaseAlias:
    @in_case()
    def test_assert_redirects_passes_and_fails_like_assert_redirects(self: Case) -> None:
        self.assert_redirects(self.client.get("/to-index"), "/")
        with self.fails(WRONG_PLACE + " : note"):
            self.assert_redirects(self.client.get("/to-index"), "/login", message="note")
