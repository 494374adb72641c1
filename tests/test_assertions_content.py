"""assertContains / assertNotContains (text, bytes, count, status_code, html=True) and
the semantic HTML assertions assertHTMLEqual, assertHTMLNotEqual and assertInHTML."""

from __future__ import annotations

from apps import PAGE_HTML
from apps import Case
from apps import in_case
from apps import run_case
from apps import status_line

NOT_FOUND_BYE = "Couldn't find 'bye' in the response. Response content:\nhello world, hello"
PAGE_NORMALISED = (
    '<html><body><nav class="main top"><a href="/" id="home">Home</a></nav>'
    "<ul><li>one</li><li>two</li><li>one</li></ul></body></html>"
)


class TestAssertContains:
    @in_case()
    def test_passes_when_the_text_is_in_the_body(self: Case) -> None:
        response = self.client.get("/text")
        self.assertContains(response, "hello")
        self.assertContains(response, "world, hello")

    @in_case()
    def test_bytes_are_looked_for_in_the_raw_body(self: Case) -> None:
        self.assertContains(self.client.get("/utf8"), "café")
        self.assertContains(self.client.get("/utf8"), "café".encode())
        self.assertContains(self.client.get("/binary"), b"PNG\r\n")

    @in_case()
    def test_count_requires_that_many_occurrences(self: Case) -> None:
        response = self.client.get("/text")
        self.assertContains(response, "hello", count=2)
        self.assertContains(response, b"hello", 2)
        self.assertContains(response, "bye", count=0)
        with self.fails("Found 2 instance(s) of 'hello' in the response, expected 1"):
            self.assertContains(response, "hello", count=1)
        with self.fails("Found 2 instance(s) of b'hello' in the response, expected 3"):
            self.assertContains(response, b"hello", count=3)

    @in_case()
    def test_fails_showing_the_response_content(self: Case) -> None:
        with self.fails(NOT_FOUND_BYE):
            self.assertContains(self.client.get("/text"), "bye")

    @in_case()
    def test_only_the_start_of_a_long_body_is_shown(self: Case) -> None:
        @self.app.route("/long")
        def long() -> str:
            return "x" * 2500

        with self.fails(
            "Couldn't find 'y' in the response. Response content:\n"
            + "x" * 2000
            + "... (500 more characters)"
        ):
            self.assertContains(self.client.get("/long"), "y")

    @in_case()
    def test_the_status_must_be_status_code(self: Case) -> None:
        response = self.client.get("/status/404")
        self.assertContains(response, "status 404", status_code=404)
        with self.fails(
            f"Couldn't retrieve content: response status was {status_line(404)} (expected 200)"
        ):
            self.assertContains(response, "status 404")

    @in_case()
    def test_msg_is_appended(self: Case) -> None:
        response = self.client.get("/text")
        with self.fails(NOT_FOUND_BYE + " : positional"):
            self.assertContains(response, "bye", None, 200, False, "positional")
        with self.fails(NOT_FOUND_BYE + " : keyword"):
            self.assertContains(response, "bye", msg="keyword")
        with self.fails(NOT_FOUND_BYE + " : message"):
            self.assertContains(response, "bye", message="message")
        with self.fails(
            "Couldn't retrieve content: response status was 200 OK (expected 201) : keyword"
        ):
            self.assertContains(response, "hello", status_code=201, msg="keyword")

    @in_case()
    def test_misuse(self: Case) -> None:
        response = self.client.get("/text")
        with self.misuse(
            TypeError,
            "assertContains() got both msg= and message=; pass one (message= is the"
            " Flask-Testing spelling of msg=).",
        ):
            self.assertContains(response, "hello", msg="a", message="b")
        with self.misuse(
            TypeError,
            "assertContains() expects the response returned by the test client (for"
            " example self.client.get(...)), got str: 'hello world'",
        ):
            self.assertContains("hello world", "hello")
        with self.misuse(TypeError, "assertContains() expects text as str or bytes, got int"):
            self.assertContains(response, 200)  # type: ignore[arg-type]
        for count in (-1, True, "2"):
            with (
                self.subTest(count=count),
                self.misuse(
                    ValueError, f"assertContains() count must be an int >= 0 or None, got {count!r}"
                ),
            ):
                self.assertContains(response, "hello", count=count)  # type: ignore[arg-type]

    @in_case()
    def test_a_status_code_that_is_not_an_int_is_a_type_error(self: Case) -> None:
        with self.assertRaises(TypeError) as cm:
            self.assertContains(self.client.get("/text"), "hello", status_code="200")
        self.assertIn("status_code", str(cm.exception))

    @in_case()
    def test_str_text_on_a_binary_body_fails_instead_of_crashing(self: Case) -> None:
        with self.assertRaises(self.failureException):
            self.assertContains(self.client.get("/binary"), "hello")


class TestAssertContainsHTML:
    @in_case()
    def test_html_compares_semantically(self: Case) -> None:
        response = self.client.get("/page")
        self.assertContains(response, '<a id="home" href="/">Home</a>', html=True)
        self.assertContains(response, '<nav class="top  main"><a href="/" id="home">Home</a></nav>',
                            html=True)  # fmt: skip
        self.assertContains(response, "<li>one</li>", count=2, html=True)
        # Without html=True the attribute order matters.
        with self.fails(
            'Couldn\'t find \'<a id="home" href="/">Home</a>\' in the response.'
            f" Response content:\n{PAGE_HTML}"
        ):
            self.assertContains(response, '<a id="home" href="/">Home</a>')

    @in_case()
    def test_html_failures(self: Case) -> None:
        response = self.client.get("/page")
        with self.fails(
            f"Couldn't find '<li>three</li>' in the response. Response content:\n{PAGE_HTML}"
        ):
            self.assertContains(response, "<li>three</li>", html=True)
        with self.fails("Found 2 instance(s) of '<li>one</li>' in the response, expected 1"):
            self.assertContains(response, "<li>one</li>", count=1, html=True)

    @in_case()
    def test_a_needle_that_is_not_html_fails(self: Case) -> None:
        with self.fails(
            "Needle is not valid HTML: Unexpected end tag </b> at line 1, column 4:"
            " no <b> element is open (open elements: <i>)."
        ):
            self.assertContains(self.client.get("/page"), "<i></b>", html=True)

    @in_case()
    def test_bytes_with_html_is_a_type_error(self: Case) -> None:
        with self.misuse(TypeError, "assertContains(html=True) expects text as str, got bytes"):
            self.assertContains(self.client.get("/page"), b"<li>one</li>", html=True)


class TestAssertNotContains:
    @in_case()
    def test_passes_when_the_text_is_absent(self: Case) -> None:
        self.assertNotContains(self.client.get("/text"), "bye")
        self.assertNotContains(self.client.get("/text"), b"bye")
        self.assertNotContains(self.client.get("/status/404"), "hello", status_code=404)

    @in_case()
    def test_fails_with_how_many_were_found(self: Case) -> None:
        with self.fails("Found 2 instance(s) of 'hello' in the response, expected none"):
            self.assertNotContains(self.client.get("/text"), "hello")

    @in_case()
    def test_the_status_must_be_status_code(self: Case) -> None:
        with self.fails(
            f"Couldn't retrieve content: response status was {status_line(404)} (expected 200)"
        ):
            self.assertNotContains(self.client.get("/status/404"), "hello")

    @in_case()
    def test_html(self: Case) -> None:
        response = self.client.get("/page")
        self.assertNotContains(response, "<li>three</li>", html=True)
        with self.fails(
            'Found 1 instance(s) of \'<a id="home" href="/">Home</a>\' in the response,'
            " expected none"
        ):
            self.assertNotContains(response, '<a id="home" href="/">Home</a>', html=True)

    @in_case()
    def test_msg_is_appended(self: Case) -> None:
        standard = "Found 2 instance(s) of 'hello' in the response, expected none"
        response = self.client.get("/text")
        with self.fails(standard + " : positional"):
            self.assertNotContains(response, "hello", 200, False, "positional")
        with self.fails(standard + " : keyword"):
            self.assertNotContains(response, "hello", msg="keyword")
        with self.fails(standard + " : message"):
            self.assertNotContains(response, "hello", message="message")

    @in_case()
    def test_misuse(self: Case) -> None:
        response = self.client.get("/text")
        with self.misuse(
            TypeError,
            "assertNotContains() got both msg= and message=; pass one (message= is the"
            " Flask-Testing spelling of msg=).",
        ):
            self.assertNotContains(response, "x", msg="a", message="b")
        with self.misuse(
            TypeError, "assertNotContains() expects text as str or bytes, got NoneType"
        ):
            self.assertNotContains(response, None)  # type: ignore[arg-type]
        with self.misuse(
            TypeError,
            "assertNotContains() expects the response returned by the test client (for"
            " example self.client.get(...)), got bytes: b'hello'",
        ):
            self.assertNotContains(b"hello", "x")


class TestAssertHTMLEqual:
    @in_case()
    def test_ignores_attribute_order_class_order_and_whitespace(self: Case) -> None:
        self.assertHTMLEqual(
            '<div id="a" class="x y">\n  <p>Hello   world</p>\n</div>',
            "<div class='y x' id=a><p>Hello world</p></div>",
        )

    @in_case()
    def test_fails_with_both_documents_and_a_diff(self: Case) -> None:
        with self.fails(
            '<p class="a b">x</p> != <p class="a">x</p>\n'
            "--- first\n+++ second\n@@ -1 +1 @@\n"
            '-<p class="a b">x</p>\n+<p class="a">x</p>'
        ):
            self.assertHTMLEqual("<p class='a b'>x</p>", "<p class='a'>x</p>")

    @in_case()
    def test_the_diff_is_of_the_indented_documents(self: Case) -> None:
        with self.fails(
            "<ul><li>one</li><li>two</li></ul> != <ul><li>one</li><li>2</li></ul>\n"
            "--- first\n+++ second\n@@ -1,4 +1,4 @@\n"
            " <ul>\n   <li>one</li>\n-  <li>two</li>\n+  <li>2</li>\n </ul>"
        ):
            self.assertHTMLEqual(
                "<ul><li>one</li><li>two</li></ul>", "<ul><li>one</li><li>2</li></ul>"
            )

    @in_case()
    def test_html_that_does_not_parse_fails(self: Case) -> None:
        with self.fails(
            "First argument is not valid HTML: Unexpected end tag </div> at line 1,"
            " column 4: no <div> element is open (open elements: <p>)."
        ):
            self.assertHTMLEqual("<p></div>", "<p></p>")
        with self.fails(
            "Second argument is not valid HTML: Unexpected end tag </div> at line 1,"
            " column 4: no <div> element is open (open elements: <p>)."
        ):
            self.assertHTMLEqual("<p></p>", "<p></div>")

    @in_case()
    def test_msg_is_appended(self: Case) -> None:
        with self.fails("<p>a</p> != <p>b</p>\n--- first\n+++ second\n@@ -1 +1 @@\n"
                        "-<p>a</p>\n+<p>b</p> : positional"):  # fmt: skip
            self.assertHTMLEqual("<p>a</p>", "<p>b</p>", "positional")
        with self.fails("<p>a</p> != <p>b</p>\n--- first\n+++ second\n@@ -1 +1 @@\n"
                        "-<p>a</p>\n+<p>b</p> : keyword"):  # fmt: skip
            self.assertHTMLEqual("<p>a</p>", "<p>b</p>", msg="keyword")

    @in_case()
    def test_an_argument_that_is_not_a_str_is_a_type_error(self: Case) -> None:
        with self.assertRaises(TypeError) as cm:
            self.assertHTMLEqual(1, "<p>")  # type: ignore[arg-type]
        self.assertEqual(
            str(cm.exception),
            "assertHTMLEqual() expects the first argument as a str of HTML, got int;"
            " for a response pass response.get_data(as_text=True)",
        )
        with self.assertRaises(TypeError) as cm:
            self.assertHTMLEqual("<p>", self.client.get("/page"))  # type: ignore[arg-type]
        self.assertIn("assertHTMLEqual() expects the second argument as a str of HTML, got",
                      str(cm.exception))  # fmt: skip

    @in_case()
    def test_misuse_names_the_method(self: Case) -> None:
        with self.assertRaises(TypeError) as cm:
            self.assertHTMLEqual(1, "<p>")  # type: ignore[arg-type]
        self.assertTrue(str(cm.exception).startswith("assertHTMLEqual()"), str(cm.exception))


class TestAssertHTMLNotEqual:
    @in_case()
    def test_passes_when_the_documents_differ(self: Case) -> None:
        self.assertHTMLNotEqual("<p>a</p>", "<p>b</p>")
        self.assertHTMLNotEqual('<a href="/x">', '<a href="/X">')

    @in_case()
    def test_fails_with_the_normalised_documents(self: Case) -> None:
        with self.fails('<p class="a b">x</p> == <p class="a b">x</p>'):
            self.assertHTMLNotEqual("<p class='a b'>x</p>", "<p class='b a'>  x </p>")

    @in_case()
    def test_msg_is_appended(self: Case) -> None:
        with self.fails("<p>x</p> == <p>x</p> : positional"):
            self.assertHTMLNotEqual("<p>x</p>", "<p>x</p>", "positional")
        with self.fails("<p>x</p> == <p>x</p> : keyword"):
            self.assertHTMLNotEqual("<p>x</p>", "<p>x</p>", msg="keyword")

    @in_case()
    def test_misuse(self: Case) -> None:
        with self.assertRaises(TypeError) as cm:
            self.assertHTMLNotEqual("<p>", None)  # type: ignore[arg-type]
        self.assertIn(
            "assertHTMLNotEqual() expects the second argument as a str of HTML, got NoneType",
            str(cm.exception),
        )
        with self.fails(
            "First argument is not valid HTML: Unexpected end tag </div> at line 1,"
            " column 4: no <div> element is open (open elements: <p>)."
        ):
            self.assertHTMLNotEqual("<p></div>", "<p></p>")


class TestAssertInHTML:
    @in_case()
    def test_finds_a_fragment_in_a_str_or_a_response(self: Case) -> None:
        self.assertInHTML('<a id="home" href="/">Home</a>', PAGE_HTML)
        self.assertInHTML('<a id="home" href="/">Home</a>', self.client.get("/page"))
        self.assertInHTML("<li>two</li>", self.client.get("/page"), count=1)
        self.assertInHTML("<li>one</li>", self.client.get("/page"), 2)
        self.assertInHTML("<li>three</li>", PAGE_HTML, count=0)

    @in_case()
    def test_fails_showing_the_normalised_haystack(self: Case) -> None:
        with self.fails(f"Couldn't find <li>three</li> in the HTML:\n{PAGE_NORMALISED}"):
            self.assertInHTML("<li>three</li>", self.client.get("/page"))

    @in_case()
    def test_count_must_match(self: Case) -> None:
        with self.fails("Found 2 instance(s) of <li>one</li> in the HTML, expected 1"):
            self.assertInHTML("<li> one </li>", PAGE_HTML, count=1)

    @in_case()
    def test_msg_is_appended(self: Case) -> None:
        with self.fails("Found 2 instance(s) of <li>one</li> in the HTML, expected 1 : m"):
            self.assertInHTML("<li>one</li>", PAGE_HTML, 1, "m")
        with self.fails(f"Couldn't find <li>three</li> in the HTML:\n{PAGE_NORMALISED} : m"):
            self.assertInHTML("<li>three</li>", PAGE_HTML, msg="m")

    @in_case()
    def test_misuse(self: Case) -> None:
        for count in (-1, False, 1.5):
            with (
                self.subTest(count=count),
                self.misuse(
                    ValueError, f"assertInHTML() count must be an int >= 0 or None, got {count!r}"
                ),
            ):
                self.assertInHTML("<li>one</li>", PAGE_HTML, count=count)  # type: ignore[arg-type]
        with self.assertRaises(TypeError) as cm:
            self.assertInHTML(3, PAGE_HTML)  # type: ignore[arg-type]
        self.assertIn("assertInHTML() expects the needle as a str of HTML, got int",
                      str(cm.exception))  # fmt: skip
        with self.assertRaises(TypeError) as cm:
            self.assertInHTML("<p>", b"<p>")  # type: ignore[arg-type]
        self.assertIn("assertInHTML() expects the haystack as a str of HTML, got bytes",
                      str(cm.exception))  # fmt: skip
        with self.assertRaises(ValueError):
            self.assertInHTML("  ", PAGE_HTML)

    @in_case()
    def test_a_needle_that_is_not_html_fails(self: Case) -> None:
        with self.fails(
            "Needle is not valid HTML: Unexpected end tag </b> at line 1, column 4:"
            " no <b> element is open (open elements: <i>)."
        ):
            self.assertInHTML("<i></b>", PAGE_HTML)


class TestThroughTheRunner:
    def test_html_that_does_not_parse_is_reported_once(self) -> None:
        class T(Case):
            def test_page(self) -> None:
                self.assertHTMLEqual("<p></div>", "<p></p>")

        result = run_case(T)
        [(_, text)] = result.failures
        assert "During handling" not in text
