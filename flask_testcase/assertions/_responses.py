"""Assertions about the response itself: status, redirects, headers, cookies, and
the session the client holds."""

from __future__ import annotations

import typing as t
from urllib.parse import parse_qsl
from urllib.parse import urljoin
from urllib.parse import urlsplit

from werkzeug.http import parse_cookie
from werkzeug.wrappers import Response as _WerkzeugResponse

from ._core import MISSING
from ._core import AssertionBase
from ._core import BadArgument
from ._core import assertion
from ._core import check_int
from ._core import check_response
from ._core import excerpt
from ._core import names
from ._core import response_text

__unittest = True

#: Status codes :meth:`ResponseAssertions.assertRedirects` accepts as a redirect.
REDIRECT_CODES = (301, 302, 303, 305, 307, 308)


class ResponseAssertions(AssertionBase):
    """Status, redirect, header, cookie and session assertions."""

    @assertion
    def assertStatus(
        self,
        response: _WerkzeugResponse,
        status_code: int,
        msg: str | None = None,
        *,
        message: str | None = None,
    ) -> None:
        """Fail unless ``response`` has the HTTP status ``status_code``.

        The failure message shows the actual status, the ``Location`` of a redirect,
        and the start of the body, which for a 500 usually names the error. It starts
        with Flask-Testing's words (``HTTP Status 404 expected but got 200``), so a
        test that matches on them keeps passing.

        :param response: a response from the test client.
        :param status_code: the expected status, such as ``200``.
        :param msg: added to the standard failure message.
        :param message: Flask-Testing's name for ``msg``.
        """
        response = check_response(response)
        check_int("the status code", status_code)
        if response.status_code == status_code:
            return
        standard = f"HTTP Status {status_code} expected but got {response.status}"
        if response.location:
            standard += f" (Location: {response.location})"
        body = response_text(response).strip()
        if body:
            standard += f"\nResponse body:\n{excerpt(body, 500)}"
        self._fail_with(standard, msg)

    def _assert_code(self, code: int, response: t.Any, msg: str | None) -> None:
        # Checked here so that a wrong argument names the shortcut, not assertStatus.
        self.assertStatus(check_response(response), code, msg)

    @assertion
    def assert200(
        self, response: _WerkzeugResponse, msg: str | None = None, *, message: str | None = None
    ) -> None:
        """Fail unless ``response`` has HTTP status 200 (OK)."""
        self._assert_code(200, response, msg)

    @assertion
    def assert201(
        self, response: _WerkzeugResponse, msg: str | None = None, *, message: str | None = None
    ) -> None:
        """Fail unless ``response`` has HTTP status 201 (Created)."""
        self._assert_code(201, response, msg)

    @assertion
    def assert202(
        self, response: _WerkzeugResponse, msg: str | None = None, *, message: str | None = None
    ) -> None:
        """Fail unless ``response`` has HTTP status 202 (Accepted)."""
        self._assert_code(202, response, msg)

    @assertion
    def assert204(
        self, response: _WerkzeugResponse, msg: str | None = None, *, message: str | None = None
    ) -> None:
        """Fail unless ``response`` has HTTP status 204 (No Content)."""
        self._assert_code(204, response, msg)

    @assertion
    def assert301(
        self, response: _WerkzeugResponse, msg: str | None = None, *, message: str | None = None
    ) -> None:
        """Fail unless ``response`` has HTTP status 301 (Moved Permanently)."""
        self._assert_code(301, response, msg)

    @assertion
    def assert302(
        self, response: _WerkzeugResponse, msg: str | None = None, *, message: str | None = None
    ) -> None:
        """Fail unless ``response`` has HTTP status 302 (Found)."""
        self._assert_code(302, response, msg)

    @assertion
    def assert303(
        self, response: _WerkzeugResponse, msg: str | None = None, *, message: str | None = None
    ) -> None:
        """Fail unless ``response`` has HTTP status 303 (See Other)."""
        self._assert_code(303, response, msg)

    @assertion
    def assert307(
        self, response: _WerkzeugResponse, msg: str | None = None, *, message: str | None = None
    ) -> None:
        """Fail unless ``response`` has HTTP status 307 (Temporary Redirect)."""
        self._assert_code(307, response, msg)

    @assertion
    def assert308(
        self, response: _WerkzeugResponse, msg: str | None = None, *, message: str | None = None
    ) -> None:
        """Fail unless ``response`` has HTTP status 308 (Permanent Redirect)."""
        self._assert_code(308, response, msg)

    @assertion
    def assert400(
        self, response: _WerkzeugResponse, msg: str | None = None, *, message: str | None = None
    ) -> None:
        """Fail unless ``response`` has HTTP status 400 (Bad Request)."""
        self._assert_code(400, response, msg)

    @assertion
    def assert401(
        self, response: _WerkzeugResponse, msg: str | None = None, *, message: str | None = None
    ) -> None:
        """Fail unless ``response`` has HTTP status 401 (Unauthorized)."""
        self._assert_code(401, response, msg)

    @assertion
    def assert403(
        self, response: _WerkzeugResponse, msg: str | None = None, *, message: str | None = None
    ) -> None:
        """Fail unless ``response`` has HTTP status 403 (Forbidden)."""
        self._assert_code(403, response, msg)

    @assertion
    def assert404(
        self, response: _WerkzeugResponse, msg: str | None = None, *, message: str | None = None
    ) -> None:
        """Fail unless ``response`` has HTTP status 404 (Not Found)."""
        self._assert_code(404, response, msg)

    @assertion
    def assert405(
        self, response: _WerkzeugResponse, msg: str | None = None, *, message: str | None = None
    ) -> None:
        """Fail unless ``response`` has HTTP status 405 (Method Not Allowed)."""
        self._assert_code(405, response, msg)

    @assertion
    def assert409(
        self, response: _WerkzeugResponse, msg: str | None = None, *, message: str | None = None
    ) -> None:
        """Fail unless ``response`` has HTTP status 409 (Conflict)."""
        self._assert_code(409, response, msg)

    @assertion
    def assert410(
        self, response: _WerkzeugResponse, msg: str | None = None, *, message: str | None = None
    ) -> None:
        """Fail unless ``response`` has HTTP status 410 (Gone)."""
        self._assert_code(410, response, msg)

    @assertion
    def assert415(
        self, response: _WerkzeugResponse, msg: str | None = None, *, message: str | None = None
    ) -> None:
        """Fail unless ``response`` has HTTP status 415 (Unsupported Media Type)."""
        self._assert_code(415, response, msg)

    @assertion
    def assert422(
        self, response: _WerkzeugResponse, msg: str | None = None, *, message: str | None = None
    ) -> None:
        """Fail unless ``response`` has HTTP status 422 (Unprocessable Entity)."""
        self._assert_code(422, response, msg)

    @assertion
    def assert429(
        self, response: _WerkzeugResponse, msg: str | None = None, *, message: str | None = None
    ) -> None:
        """Fail unless ``response`` has HTTP status 429 (Too Many Requests)."""
        self._assert_code(429, response, msg)

    @assertion
    def assert500(
        self, response: _WerkzeugResponse, msg: str | None = None, *, message: str | None = None
    ) -> None:
        """Fail unless ``response`` has HTTP status 500 (Internal Server Error)."""
        self._assert_code(500, response, msg)

    @assertion
    def assert503(
        self, response: _WerkzeugResponse, msg: str | None = None, *, message: str | None = None
    ) -> None:
        """Fail unless ``response`` has HTTP status 503 (Service Unavailable)."""
        self._assert_code(503, response, msg)

    # -- redirects -------------------------------------------------------------

    def _resolve_url(self, url: str, response: _WerkzeugResponse) -> str:
        request = getattr(response, "request", None)
        base: str
        if request is not None:
            base = request.url
        else:
            base = f"http://{self.app.config.get('SERVER_NAME') or 'localhost'}/"
        return urljoin(base, url)

    @staticmethod
    def _same_url(actual: str, expected: str) -> bool:
        """Whether two absolute URLs name the same place: equal but for how their
        query strings are written (``%2F`` or ``/``, ``+`` or ``%20``) and the order
        of different keys (the values of one key keep their order)."""
        if actual == expected:
            return True
        a, b = urlsplit(actual), urlsplit(expected)
        if a._replace(query="") != b._replace(query=""):
            return False

        def pairs(query: str) -> list[tuple[str, str]]:
            return sorted(parse_qsl(query, keep_blank_values=True), key=lambda pair: pair[0])

        return pairs(a.query) == pairs(b.query)

    @assertion
    def assertRedirects(
        self,
        response: _WerkzeugResponse,
        location: str,
        msg: str | None = None,
        *,
        status_code: int | None = None,
        target_status_code: int | None = None,
        message: str | None = None,
    ) -> None:
        """Fail unless ``response`` redirects to ``location``.

        Relative and absolute URLs compare equal when they name the same place:
        both the expected ``location`` and the response's ``Location`` header (which
        Werkzeug 2.1+ leaves relative) are resolved against the request's URL. Query
        strings compare by their decoded values, whatever the escaping (Flask-Login's
        ``?next=%2Faccount`` is ``url_for(..., next="/account")``'s
        ``?next=/account``) and the order of different keys.

        If the request was made with ``follow_redirects=True``, the first redirect of
        ``response.history`` must be a redirect status and the last one must point
        at ``location``, and the final response's status is checked against
        ``target_status_code`` (default 200).

        :param response: a response from the test client.
        :param location: the expected target, relative (``"/login"``) or absolute.
        :param msg: added to the standard failure message.
        :param status_code: the exact redirect status expected; by default any of
            301, 302, 303, 305, 307 and 308.
        :param target_status_code: if given, the redirect is followed with the test
            client (when it was not already) and the final status must equal it.
        :param message: Flask-Testing's name for ``msg``.
        """
        response = check_response(response)
        if not isinstance(location, str):
            raise BadArgument(
                TypeError, f"expects the location as a str such as '/login', got {location!r}"
            )
        if target_status_code is not None:
            check_int("target_status_code", target_status_code)
        if status_code is not None and status_code not in REDIRECT_CODES:
            raise BadArgument(
                ValueError,
                f"status_code={status_code!r} is not a redirect status;"
                f" use one of {', '.join(map(str, REDIRECT_CODES))}",
            )
        history: tuple[_WerkzeugResponse, ...] = getattr(response, "history", ())
        followed = bool(history)
        first = history[0] if followed else response
        last_redirect = history[-1] if followed else response
        expected_codes = (status_code,) if status_code is not None else REDIRECT_CODES
        if first.status_code not in expected_codes:
            if status_code is not None and first.status_code in REDIRECT_CODES:
                standard = f"Redirect status was {first.status}, expected {status_code}"
            else:
                standard = (
                    f"Response is not a redirect: HTTP status {first.status} (expected"
                    f" {' or '.join(map(str, expected_codes))})"
                )
            self._fail_with(standard, msg)
        if not last_redirect.location:
            self._fail_with(
                f"Response has HTTP status {last_redirect.status} but no Location header", msg
            )
        actual = last_redirect.location
        actual_url = self._resolve_url(actual, last_redirect)
        expected_url = self._resolve_url(location, last_redirect)
        if not self._same_url(actual_url, expected_url):
            standard = f"Response redirected to {actual!r}, expected {location!r}"
            if (actual, location) != (actual_url, expected_url):
                standard += f" (resolved: {actual_url!r} != {expected_url!r})"
            self._fail_with(standard, msg)
        if followed:
            wanted = 200 if target_status_code is None else target_status_code
            if response.status_code != wanted:
                self._fail_with(
                    f"Redirect target {actual!r} answered {response.status}, expected {wanted}",
                    msg,
                )
        elif target_status_code is not None:
            final = self.client.get(actual_url, follow_redirects=True)
            if final.status_code != target_status_code:
                self._fail_with(
                    f"Redirect target {actual!r} answered {final.status},"
                    f" expected {target_status_code}",
                    msg,
                )

    # -- headers, cookies, session ---------------------------------------------

    @assertion
    def assertHeader(
        self,
        response: _WerkzeugResponse,
        name: str,
        value: t.Any = MISSING,
        msg: str | None = None,
    ) -> None:
        """Fail unless ``response`` has the header ``name`` (with ``value``, if given;
        for a repeated header, one of its values).

        :param response: a response from the test client.
        :param name: the header name, case-insensitive.
        :param value: the expected value.
        :param msg: added to the standard failure message.
        """
        response = check_response(response)
        if not isinstance(name, str):
            raise BadArgument(TypeError, f"expects the header name as a str, got {name!r}")
        values = response.headers.getlist(name)
        if not values:
            present = ", ".join(dict.fromkeys(k for k, _ in response.headers.items()))
            self._fail_with(f"Response has no {name!r} header. Headers: {present}", msg)
        if value is not MISSING and str(value) not in values:
            shown = values[0] if len(values) == 1 else values
            self._fail_with(f"Header {name!r} is {shown!r}, expected {value!r}", msg)

    @assertion
    def assertContentType(
        self, response: _WerkzeugResponse, content_type: str, msg: str | None = None
    ) -> None:
        """Fail unless ``response`` has the given mimetype (``"application/json"``)
        or, if ``content_type`` has parameters, exactly that ``Content-Type``.

        :param response: a response from the test client.
        :param content_type: a mimetype, or a full content type with ``charset``.
        :param msg: added to the standard failure message.
        """
        response = check_response(response)
        if not isinstance(content_type, str):
            raise BadArgument(TypeError, f"expects a str, got {content_type!r}")
        actual = response.content_type if ";" in content_type else response.mimetype
        if (actual or "").replace(" ", "").lower() != content_type.replace(" ", "").lower():
            self._fail_with(
                f"Content type is {response.content_type!r}, expected {content_type!r}", msg
            )

    @assertion
    def assertCookie(
        self,
        response: _WerkzeugResponse,
        name: str,
        value: t.Any = MISSING,
        msg: str | None = None,
    ) -> None:
        """Fail unless ``response`` sets the cookie ``name`` (to ``value``, if given).

        :param response: a response from the test client.
        :param name: the cookie name.
        :param value: the expected value.
        :param msg: added to the standard failure message.
        """
        response = check_response(response)
        cookies: dict[str, str] = {}
        for header in response.headers.getlist("Set-Cookie"):
            cookies.update(parse_cookie(header.split(";", 1)[0]))
        if name not in cookies:
            shown = names(cookies) if cookies else "none"
            self._fail_with(f"Response sets no cookie {name!r}. Cookies set: {shown}", msg)
        if value is not MISSING and cookies[name] != value:
            self._fail_with(f"Cookie {name!r} is {cookies[name]!r}, expected {value!r}", msg)

    def _session_data(self) -> dict[str, t.Any]:
        class _Done(Exception):
            pass

        data: dict[str, t.Any] = {}
        # session_transaction() opens the session from the client's cookies through
        # the app's session interface; leaving by an exception skips its save step,
        # so reading the session never changes the client's cookies.
        try:
            with self.client.session_transaction() as session:
                data.update(session)
                raise _Done
        except _Done:
            pass
        except RuntimeError as e:
            if "did not open a session" not in str(e):
                raise
            raise RuntimeError(
                "The app's session interface opened no session, so there is no session to"
                " check. Flask's cookie session needs a secret key: set SECRET_KEY in the"
                " app's config."
            ) from None
        return data

    @assertion
    def assertSessionHas(self, key: str, value: t.Any = MISSING, msg: str | None = None) -> None:
        """Fail unless the session the client holds (from the cookies the app set)
        has ``key`` (equal to ``value``, if given).

        :param key: the session key.
        :param value: its expected value.
        :param msg: added to the standard failure message.
        """
        data = self._session_data()
        if key not in data:
            self._fail_with(f"Session has no key {key!r}. Session: {data!r}", msg)
        if value is not MISSING and data[key] != value:
            self._fail_with(f"Session[{key!r}] is {data[key]!r}, expected {value!r}", msg)

    @assertion
    def assertSessionNotHas(self, key: str, msg: str | None = None) -> None:
        """Fail if the session the client holds has ``key``.

        :param key: the session key.
        :param msg: added to the standard failure message.
        """
        data = self._session_data()
        if key in data:
            self._fail_with(f"Session has key {key!r} (value {data[key]!r})", msg)
