"""assertHeader, assertContentType, assertCookie, assertSessionHas and
assertSessionNotHas."""

from __future__ import annotations

from apps import Case
from apps import in_case

HEADERS = "Content-Type, Content-Length, X-Request-Id, X-Number, Vary"
SESSION = "{'roles': ['admin'], 'user': 'ann'}"


def not_a_response(method: str, shown: str) -> str:
    return (
        f"{method}() expects the response returned by the test client (for example"
        f" self.client.get(...)), got {shown}"
    )


class TestAssertHeader:
    @in_case()
    def test_passes_when_the_header_is_present(self: Case) -> None:
        response = self.client.get("/headers")
        self.assertHeader(response, "X-Request-Id")
        self.assertHeader(response, "x-request-id")

    @in_case()
    def test_passes_when_the_value_matches(self: Case) -> None:
        response = self.client.get("/headers")
        self.assertHeader(response, "X-Request-Id", "abc123")
        self.assertHeader(response, "Content-Type", "text/plain; charset=utf-8")

    @in_case()
    def test_a_repeated_header_matches_any_of_its_values(self: Case) -> None:
        response = self.client.get("/headers")
        self.assertHeader(response, "Vary", "Cookie")
        self.assertHeader(response, "Vary", "Accept-Encoding")

    @in_case()
    def test_a_value_that_is_not_a_str_is_compared_as_text(self: Case) -> None:
        self.assertHeader(self.client.get("/headers"), "X-Number", 5)

    @in_case()
    def test_fails_listing_the_headers_present(self: Case) -> None:
        with self.fails(f"Response has no 'X-Missing' header. Headers: {HEADERS}"):
            self.assertHeader(self.client.get("/headers"), "X-Missing")

    @in_case()
    def test_fails_with_the_actual_value(self: Case) -> None:
        with self.fails("Header 'X-Request-Id' is 'abc123', expected 'xyz'"):
            self.assertHeader(self.client.get("/headers"), "X-Request-Id", "xyz")

    @in_case()
    def test_a_repeated_header_fails_with_all_its_values(self: Case) -> None:
        with self.fails("Header 'Vary' is ['Cookie', 'Accept-Encoding'], expected 'Origin'"):
            self.assertHeader(self.client.get("/headers"), "Vary", "Origin")

    @in_case()
    def test_msg_is_appended(self: Case) -> None:
        response = self.client.get("/headers")
        with self.fails("Header 'X-Request-Id' is 'abc123', expected 'xyz' : positional"):
            self.assertHeader(response, "X-Request-Id", "xyz", "positional")
        with self.fails(f"Response has no 'X-Missing' header. Headers: {HEADERS} : keyword"):
            self.assertHeader(response, "X-Missing", msg="keyword")

    @in_case()
    def test_a_non_response_is_a_type_error(self: Case) -> None:
        with self.misuse(TypeError, not_a_response("assertHeader", "dict: {'X-A': '1'}")):
            self.assertHeader({"X-A": "1"}, "X-A")  # type: ignore[arg-type]

    @in_case()
    def test_a_name_that_is_not_a_str_is_a_type_error(self: Case) -> None:
        with self.assertRaises(TypeError) as cm:
            self.assertHeader(self.client.get("/headers"), 5)  # type: ignore[arg-type]
        self.assertIn("assertHeader()", str(cm.exception))


class TestAssertContentType:
    @in_case()
    def test_a_mimetype_ignores_the_parameters(self: Case) -> None:
        self.assertContentType(self.client.get("/json"), "application/json")
        self.assertContentType(self.client.get("/text"), "text/html")
        self.assertContentType(self.client.get("/csv"), "text/csv")

    @in_case()
    def test_a_content_type_with_parameters_must_match_exactly(self: Case) -> None:
        response = self.client.get("/csv")
        self.assertContentType(response, "text/csv; charset=latin-1")
        # Spaces and case do not matter.
        self.assertContentType(response, "TEXT/CSV;charset=LATIN-1")
        with self.fails(
            "Content type is 'text/csv; charset=latin-1', expected 'text/csv; charset=utf-8'"
        ):
            self.assertContentType(response, "text/csv; charset=utf-8")

    @in_case()
    def test_fails_with_the_actual_content_type(self: Case) -> None:
        with self.fails("Content type is 'text/html; charset=utf-8', expected 'application/json'"):
            self.assertContentType(self.client.get("/text"), "application/json")

    @in_case()
    def test_msg_is_appended(self: Case) -> None:
        standard = "Content type is 'application/json', expected 'text/html'"
        response = self.client.get("/json")
        with self.fails(standard + " : positional"):
            self.assertContentType(response, "text/html", "positional")
        with self.fails(standard + " : keyword"):
            self.assertContentType(response, "text/html", msg="keyword")

    @in_case()
    def test_misuse(self: Case) -> None:
        with self.misuse(TypeError, "assertContentType() expects a str, got None"):
            self.assertContentType(self.client.get("/json"), None)  # type: ignore[arg-type]
        with self.misuse(TypeError, not_a_response("assertContentType", "str: 'text/html'")):
            self.assertContentType("text/html", "text/html")  # type: ignore[arg-type]


class TestAssertCookie:
    @in_case()
    def test_passes_when_the_response_sets_the_cookie(self: Case) -> None:
        response = self.client.get("/cookies")
        self.assertCookie(response, "theme")
        self.assertCookie(response, "lang", "en")

    @in_case()
    def test_fails_listing_the_cookies_set(self: Case) -> None:
        with self.fails("Response sets no cookie 'token'. Cookies set: 'theme', 'lang'"):
            self.assertCookie(self.client.get("/cookies"), "token")

    @in_case()
    def test_fails_when_no_cookie_is_set(self: Case) -> None:
        self.client.get("/cookies")
        # A cookie the client already holds does not count: only this response's.
        with self.fails("Response sets no cookie 'theme'. Cookies set: none"):
            self.assertCookie(self.client.get("/text"), "theme")

    @in_case()
    def test_fails_with_the_actual_value(self: Case) -> None:
        with self.fails("Cookie 'theme' is 'dark', expected 'light'"):
            self.assertCookie(self.client.get("/cookies"), "theme", "light")

    @in_case()
    def test_a_quoted_value_is_compared_unquoted(self: Case) -> None:
        @self.app.route("/quoted")
        def quoted() -> object:
            from flask import Response

            response = Response("q")
            response.set_cookie("q", 'a "b";c')
            return response

        response = self.client.get("/quoted")
        self.assertCookie(response, "q", 'a "b";c')

    @in_case()
    def test_msg_is_appended(self: Case) -> None:
        response = self.client.get("/cookies")
        with self.fails("Cookie 'theme' is 'dark', expected 'light' : positional"):
            self.assertCookie(response, "theme", "light", "positional")
        with self.fails("Response sets no cookie 'token'. Cookies set: 'theme', 'lang' : keyword"):
            self.assertCookie(response, "token", msg="keyword")

    @in_case()
    def test_a_non_response_is_a_type_error(self: Case) -> None:
        with self.misuse(TypeError, not_a_response("assertCookie", "NoneType: None")):
            self.assertCookie(None, "theme")  # type: ignore[arg-type]


class TestAssertSessionHas:
    @in_case()
    def test_reads_the_session_the_app_set(self: Case) -> None:
        self.client.get("/login")
        self.assertSessionHas("user")
        self.assertSessionHas("user", "ann")
        self.assertSessionHas("roles", ["admin"])

    @in_case()
    def test_fails_showing_the_session(self: Case) -> None:
        self.client.get("/login")
        with self.fails(f"Session has no key 'cart'. Session: {SESSION}"):
            self.assertSessionHas("cart")

    @in_case()
    def test_fails_on_an_empty_session(self: Case) -> None:
        with self.fails("Session has no key 'user'. Session: {}"):
            self.assertSessionHas("user")

    @in_case()
    def test_fails_with_the_actual_value(self: Case) -> None:
        self.client.get("/login")
        with self.fails("Session['user'] is 'ann', expected 'bob'"):
            self.assertSessionHas("user", "bob")

    @in_case()
    def test_follows_the_session_across_requests(self: Case) -> None:
        self.client.get("/login")
        self.client.get("/logout")
        with self.fails("Session has no key 'user'. Session: {}"):
            self.assertSessionHas("user")

    @in_case()
    def test_reading_the_session_does_not_change_the_client_cookies(self: Case) -> None:
        self.client.get("/login")
        before = self.client.get_cookie("session")
        self.assertSessionHas("user", "ann")
        with self.fails("Session['user'] is 'ann', expected 'bob'"):
            self.assertSessionHas("user", "bob")
        after = self.client.get_cookie("session")
        self.assertIsNotNone(before)
        self.assertIsNotNone(after)
        self.assertEqual(before.value, after.value)  # type: ignore[union-attr]

    @in_case()
    def test_msg_is_appended(self: Case) -> None:
        self.client.get("/login")
        with self.fails("Session['user'] is 'ann', expected 'bob' : positional"):
            self.assertSessionHas("user", "bob", "positional")
        with self.fails(f"Session has no key 'cart'. Session: {SESSION} : keyword"):
            self.assertSessionHas("cart", msg="keyword")

    @in_case(config={"SECRET_KEY": None})
    def test_an_app_without_secret_key_gets_a_clear_error(self: Case) -> None:
        with self.assertRaises((TypeError, ValueError, RuntimeError)) as cm:
            self.assertSessionHas("user")
        self.assertIn("SECRET_KEY", str(cm.exception))


class TestAssertSessionNotHas:
    @in_case()
    def test_passes_when_the_key_is_absent(self: Case) -> None:
        self.assertSessionNotHas("user")
        self.client.get("/login")
        self.client.get("/logout")
        self.assertSessionNotHas("user")

    @in_case()
    def test_fails_with_the_value(self: Case) -> None:
        self.client.get("/login")
        with self.fails("Session has key 'user' (value 'ann')"):
            self.assertSessionNotHas("user")

    @in_case()
    def test_msg_is_appended(self: Case) -> None:
        self.client.get("/login")
        with self.fails("Session has key 'roles' (value ['admin']) : positional"):
            self.assertSessionNotHas("roles", "positional")
        with self.fails("Session has key 'roles' (value ['admin']) : keyword"):
            self.assertSessionNotHas("roles", msg="keyword")
