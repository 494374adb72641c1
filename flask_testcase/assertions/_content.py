"""Assertions about a response's content, and semantic HTML comparison."""

from __future__ import annotations

import typing as t

from werkzeug.wrappers import Response as _WerkzeugResponse

from .. import html as _html
from ._core import AssertionBase
from ._core import BadArgument
from ._core import assertion
from ._core import check_count
from ._core import check_int
from ._core import check_response
from ._core import excerpt
from ._core import response_text
from ._core import unified_diff

__unittest = True


class ContentAssertions(AssertionBase):
    """Assertions on the text of a response and on HTML compared as a tree."""

    def _parse_html_arg(self, which: str, text: t.Any, msg: str | None) -> _html.Element:
        if not isinstance(text, str):
            raise BadArgument(
                TypeError,
                f"expects the {which} as a str of HTML, got"
                f" {type(text).__name__}; for a response pass response.get_data(as_text=True)",
            )
        try:
            return _html.parse_html(text)
        except _html.HTMLParseError as e:
            error = str(e)
        self._fail_with(f"{which[:1].upper()}{which[1:]} is not valid HTML: {error}", msg)

    def _count_in_response(
        self,
        response: _WerkzeugResponse,
        text: str | bytes,
        status_code: int,
        html: bool,
        msg: str | None,
    ) -> tuple[int, str]:
        response = check_response(response)
        check_int("status_code", status_code)
        if not isinstance(text, (str, bytes)):
            raise BadArgument(TypeError, f"expects text as str or bytes, got {type(text).__name__}")
        if response.status_code != status_code:
            self._fail_with(
                f"Couldn't retrieve content: response status was {response.status}"
                f" (expected {status_code})",
                msg,
            )
        if html:
            if isinstance(text, bytes):
                raise BadArgument(TypeError, "expects text as str, got bytes", call="html=True")
            content = response_text(response)
            needle = self._parse_html_arg("needle", text, msg)
            dom = self._parse_html_arg("response content", content, msg)
            return dom.count(needle), content
        if isinstance(text, bytes):
            raw = response.get_data()
            return raw.count(text), raw.decode("utf-8", "replace")
        content = response_text(response)
        return content.count(text), content

    @assertion
    def assertContains(
        self,
        response: _WerkzeugResponse,
        text: str | bytes,
        count: int | None = None,
        status_code: int = 200,
        html: bool = False,
        msg: str | None = None,
        *,
        message: str | None = None,
    ) -> None:
        """Fail unless ``response`` has status ``status_code`` and its body contains
        ``text`` (exactly ``count`` times, if given).

        :param response: a response from the test client.
        :param text: the text (str, or bytes compared with the raw body).
        :param count: the exact number of occurrences expected.
        :param status_code: the status the response must have.
        :param html: compare as HTML (see :meth:`assertInHTML`).
        :param msg: added to the standard failure message.
        :param message: Flask-Testing's name for ``msg``.
        """
        check_count(count)
        found, content = self._count_in_response(response, text, status_code, html, msg)
        if count is not None:
            if found != count:
                self._fail_with(
                    f"Found {found} instance(s) of {text!r} in the response, expected {count}",
                    msg,
                )
        elif not found:
            self._fail_with(
                f"Couldn't find {text!r} in the response. Response content:\n{excerpt(content)}",
                msg,
            )

    @assertion
    def assertNotContains(
        self,
        response: _WerkzeugResponse,
        text: str | bytes,
        status_code: int = 200,
        html: bool = False,
        msg: str | None = None,
        *,
        message: str | None = None,
    ) -> None:
        """Fail unless ``response`` has status ``status_code`` and its body does not
        contain ``text``.

        :param response: a response from the test client.
        :param text: the text that must be absent.
        :param status_code: the status the response must have.
        :param html: compare as HTML.
        :param msg: added to the standard failure message.
        :param message: Flask-Testing's name for ``msg``.
        """
        found, _ = self._count_in_response(response, text, status_code, html, msg)
        if found:
            self._fail_with(
                f"Found {found} instance(s) of {text!r} in the response, expected none", msg
            )

    @assertion
    def assertHTMLEqual(self, html1: str, html2: str, msg: str | None = None) -> None:
        """Fail unless two HTML documents are semantically equal.

        Attribute order, ``class`` order and whitespace between tags are ignored.
        The failure shows a diff of both, normalised and indented.

        :param msg: added to the standard failure message.
        """
        dom1 = self._parse_html_arg("first argument", html1, msg)
        dom2 = self._parse_html_arg("second argument", html2, msg)
        if dom1 != dom2:
            diff = unified_diff(dom1.pretty(), dom2.pretty(), "first", "second")
            self._fail_with(f"{dom1} != {dom2}\n{diff}", msg)

    @assertion
    def assertHTMLNotEqual(self, html1: str, html2: str, msg: str | None = None) -> None:
        """Fail if two HTML documents are semantically equal.

        :param msg: added to the standard failure message.
        """
        dom1 = self._parse_html_arg("first argument", html1, msg)
        dom2 = self._parse_html_arg("second argument", html2, msg)
        if dom1 == dom2:
            self._fail_with(f"{dom1} == {dom2}", msg)

    @assertion
    def assertInHTML(
        self,
        needle: str,
        haystack: str | _WerkzeugResponse,
        count: int | None = None,
        msg: str | None = None,
    ) -> None:
        """Fail unless the HTML fragment ``needle`` occurs in ``haystack`` (exactly
        ``count`` times, if given), compared semantically.

        :param needle: an HTML fragment.
        :param haystack: HTML, or a response whose body is HTML.
        :param count: the exact number of occurrences expected.
        :param msg: added to the standard failure message.
        """
        check_count(count)
        if isinstance(haystack, _WerkzeugResponse):
            haystack = response_text(haystack)
        needle_dom = self._parse_html_arg("needle", needle, msg)
        haystack_dom = self._parse_html_arg("haystack", haystack, msg)
        found = haystack_dom.count(needle_dom)
        if count is not None:
            if found != count:
                self._fail_with(
                    f"Found {found} instance(s) of {needle_dom} in the HTML, expected {count}", msg
                )
        elif not found:
            self._fail_with(
                f"Couldn't find {needle_dom} in the HTML:\n{excerpt(str(haystack_dom))}", msg
            )
