"""Assertions about responses, templates, flashed messages, JSON, HTML and sessions.

:class:`AssertionsMixin` is mixed into :class:`flask_testcase.TestCase`. Every
assertion takes ``msg=None``, which is *added* to a standard message carrying the
evidence (unittest's ``longMessage``), and Flask-Testing's ``message=`` keyword,
which does the same. Misuse (a wrong argument type, both ``msg`` and ``message``) is
a :class:`TypeError` or :class:`ValueError`; only a failed check fails the test.
"""

from __future__ import annotations

import difflib
import dis
import json
import sys
import typing as t
from urllib.parse import urljoin

from werkzeug.http import parse_cookie
from werkzeug.wrappers import Response as _WerkzeugResponse

from . import html as _html
from .capture import context_keys

if t.TYPE_CHECKING:
    from types import FrameType
    from types import TracebackType

    import flask
    from flask.testing import FlaskClient

    from .capture import FlashedMessage
    from .capture import RenderedTemplate

__all__ = ["AssertionsMixin", "ContextVariableDoesNotExist"]

# Hides this module's frames from unittest tracebacks, so a failure points at the test.
__unittest = True

_MISSING: t.Any = object()

#: Status codes :meth:`AssertionsMixin.assertRedirects` accepts as a redirect.
REDIRECT_CODES = (301, 302, 303, 305, 307, 308)

_EXCERPT = 2000


class ContextVariableDoesNotExist(Exception):
    """Raised by :meth:`AssertionsMixin.get_context_variable` when no rendered template
    had the variable in its context."""


def _check_int(method: str, name: str, value: t.Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{method}() expects {name} as an int such as 200, got {value!r}")


def _check_category(method: str, category: t.Any) -> None:
    if category is not None and not isinstance(category, str):
        raise TypeError(
            f"{method}() expects the category as a str (or None for any category), got {category!r}"
        )


def _check_count(method: str, count: int | None) -> None:
    if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count < 0):
        raise ValueError(f"{method}() count must be an int >= 0 or None, got {count!r}")


def _excerpt(text: str, limit: int = _EXCERPT) -> str:
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text) - limit} more characters)"


def _names(items: t.Iterable[t.Any]) -> str:
    return ", ".join(repr(i) for i in items)


# Opcodes that consume a call's result as the context manager of a ``with`` statement:
# SETUP_WITH up to 3.10, BEFORE_WITH from 3.11 to 3.13, LOAD_SPECIAL from 3.14.
_WITH_OPCODES = frozenset({"SETUP_WITH", "BEFORE_WITH", "LOAD_SPECIAL"})
_WITH, _RETURN, _OTHER = "with", "return", "other"
_use_cache: dict[tuple[t.Any, int], str] = {}


def _use_of_call_result(frame: t.Any) -> str:
    """What ``frame`` does with the result of the call it is making."""
    key = (frame.f_code, frame.f_lasti)
    try:
        return _use_cache[key]
    except KeyError:
        pass
    following = [i.opname for i in dis.get_instructions(frame.f_code) if i.offset > frame.f_lasti]
    # 3.14 compiles ``with`` as COPY, LOAD_SPECIAL; earlier versions use one opcode.
    if following and (following[0] in _WITH_OPCODES or following[:2] == ["COPY", "LOAD_SPECIAL"]):
        use = _WITH
    elif following and following[0] in ("RETURN_VALUE", "RETURN_CONST"):
        use = _RETURN
    else:
        use = _OTHER
    _use_cache[key] = use
    return use


def _called_as_context_manager(depth: int) -> bool:
    """Whether the caller ``depth`` frames up uses our return value in ``with``.

    ``assertTemplateUsed("x.html")`` checks at once (Flask-Testing's contract), while
    ``with self.assertTemplateUsed("x.html"):`` must wait for the block. Only the
    caller's bytecode tells the two apart: the instruction right after the call.
    A caller that just returns the result (the snake_case alias, a user's helper or
    override) passes the question on to its own caller.
    """
    frame: FrameType | None = sys._getframe(depth + 1)
    while frame is not None:
        use = _use_of_call_result(frame)
        if use != _RETURN:
            return use == _WITH
        frame = frame.f_back
    return False


def _response_text(response: _WerkzeugResponse) -> str:
    # Replacement characters, not UnicodeDecodeError: a binary body (an image) must
    # give the assertion's own failure, not a crash in the middle of it.
    return response.get_data().decode(response.mimetype_params.get("charset", "utf-8"), "replace")


def _format_flashes(flashes: t.Sequence[FlashedMessage]) -> str:
    if not flashes:
        return "No message was flashed."
    return "Messages flashed: " + ", ".join(f"({m.message!r}, {m.category!r})" for m in flashes)


def _strict_equal(a: t.Any, b: t.Any) -> bool:
    """JSON equality that tells ``true`` from ``1`` (Python's ``==`` does not)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_strict_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_strict_equal(x, y) for x, y in zip(a, b))
    return (type(a) in (int, float) and type(b) in (int, float) and a == b) or (
        type(a) is type(b) and a == b
    )


def _json_dump(value: t.Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)


def _unified_diff(first: str, second: str, first_name: str, second_name: str) -> str:
    return "\n".join(
        difflib.unified_diff(
            first.splitlines(), second.splitlines(), first_name, second_name, lineterm=""
        )
    )


class _TemplateBlockAssertion:
    """What ``with self.assertTemplateUsed(...)`` / ``assertTemplateNotUsed`` enter."""

    def __init__(self, case: AssertionsMixin, check: t.Callable[[int], None]) -> None:
        self._case = case
        self._check = check
        self._start = 0

    def __enter__(self) -> _TemplateBlockAssertion:
        self._start = len(self._case.templates)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # An exception in the block is the real failure; do not hide it behind ours.
        if exc_type is None:
            self._check(self._start)


class AssertionsMixin:
    """The assertion methods of :class:`flask_testcase.TestCase`.

    It expects the attributes the test case sets up: ``app``, ``client``,
    ``templates`` and ``flashed_messages``.
    """

    app: flask.Flask
    client: FlaskClient
    templates: list[RenderedTemplate]
    flashed_messages: list[FlashedMessage]

    # The ``assert<code>`` shortcuts are made below the class by _status_assertion.
    assert200: t.Callable[..., None]
    assert201: t.Callable[..., None]
    assert202: t.Callable[..., None]
    assert204: t.Callable[..., None]
    assert301: t.Callable[..., None]
    assert302: t.Callable[..., None]
    assert303: t.Callable[..., None]
    assert307: t.Callable[..., None]
    assert308: t.Callable[..., None]
    assert400: t.Callable[..., None]
    assert401: t.Callable[..., None]
    assert403: t.Callable[..., None]
    assert404: t.Callable[..., None]
    assert405: t.Callable[..., None]
    assert409: t.Callable[..., None]
    assert410: t.Callable[..., None]
    assert415: t.Callable[..., None]
    assert422: t.Callable[..., None]
    assert429: t.Callable[..., None]
    assert500: t.Callable[..., None]
    assert503: t.Callable[..., None]

    if t.TYPE_CHECKING:
        failureException: type[BaseException]

        def _formatMessage(self, msg: str | None, standardMsg: str) -> str: ...

    # -- helpers ---------------------------------------------------------------

    def _fail_with(self, standard: str, msg: str | None) -> t.NoReturn:
        raise self.failureException(self._formatMessage(msg, standard))

    @staticmethod
    def _pick_msg(method: str, msg: str | None, message: str | None) -> str | None:
        if msg is not None and message is not None:
            raise TypeError(
                f"{method}() got both msg= and message=; pass one (message= is the"
                " Flask-Testing spelling of msg=)."
            )
        return msg if msg is not None else message

    @staticmethod
    def _check_response(method: str, response: t.Any) -> _WerkzeugResponse:
        if not isinstance(response, _WerkzeugResponse):
            raise TypeError(
                f"{method}() expects the response returned by the test client (for"
                f" example self.client.get(...)), got {type(response).__name__}: {response!r:.80}"
            )
        return response

    # -- status ----------------------------------------------------------------

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
        and the start of the body, which for a 500 usually names the error.

        :param response: a response from the test client.
        :param status_code: the expected status, such as ``200``.
        :param msg: added to the standard failure message.
        :param message: Flask-Testing's name for ``msg``.
        """
        msg = self._pick_msg("assertStatus", msg, message)
        response = self._check_response("assertStatus", response)
        _check_int("assertStatus", "the status code", status_code)
        if response.status_code == status_code:
            return
        standard = f"HTTP status {status_code} expected but got {response.status}"
        if response.location:
            standard += f" (Location: {response.location})"
        body = _response_text(response).strip()
        if body:
            standard += f"\nResponse body:\n{_excerpt(body, 500)}"
        self._fail_with(standard, msg)

    # -- redirects -------------------------------------------------------------

    def _resolve_url(self, url: str, response: _WerkzeugResponse) -> str:
        request = getattr(response, "request", None)
        base: str
        if request is not None:
            base = request.url
        else:
            base = f"http://{self.app.config.get('SERVER_NAME') or 'localhost'}/"
        return urljoin(base, url)

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
        Werkzeug 2.1+ leaves relative) are resolved against the request's URL.

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
        msg = self._pick_msg("assertRedirects", msg, message)
        response = self._check_response("assertRedirects", response)
        if not isinstance(location, str):
            raise TypeError(
                "assertRedirects() expects the location as a str such as '/login',"
                f" got {location!r}"
            )
        if target_status_code is not None:
            _check_int("assertRedirects", "target_status_code", target_status_code)
        if status_code is not None and status_code not in REDIRECT_CODES:
            raise ValueError(
                f"assertRedirects() status_code={status_code!r} is not a redirect status;"
                f" use one of {', '.join(map(str, REDIRECT_CODES))}"
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
        if actual_url != expected_url:
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

    # -- templates -------------------------------------------------------------

    def _template_names(self, tmpl_name_attribute: str, start: int = 0) -> list[t.Any]:
        names = []
        for rendered in self.templates[start:]:
            try:
                names.append(getattr(rendered.template, tmpl_name_attribute))
            except AttributeError:
                raise ValueError(
                    f"tmpl_name_attribute={tmpl_name_attribute!r}: the rendered template"
                    f" {rendered.template!r} has no such attribute; use 'name' (the default)"
                ) from None
        return names

    def assertTemplateUsed(
        self,
        name: str,
        tmpl_name_attribute: str = "name",
        msg: str | None = None,
        *,
        count: int | None = None,
    ) -> t.Any:
        """Fail unless the template ``name`` was rendered during this test.

        As a context manager, only renders inside the block count::

            with self.assertTemplateUsed("index.html"):
                self.client.get("/")

        Every render is kept (not only the last one), and the failure lists the
        templates that were rendered.

        :param name: the template name, as given to :func:`flask.render_template`.
        :param tmpl_name_attribute: the attribute of the Jinja template compared with
            ``name`` (Flask-Testing's parameter).
        :param msg: added to the standard failure message.
        :param count: if given, the exact number of times it must have been rendered.
        :returns: a context manager when used in a ``with`` statement, else ``None``.
        """
        if not isinstance(name, str):
            raise TypeError(f"assertTemplateUsed() expects a template name (str), got {name!r}")
        _check_count("assertTemplateUsed", count)

        def check(start: int) -> None:
            names = self._template_names(tmpl_name_attribute, start)
            seen = names.count(name)
            where = " in the block" if as_block else ""
            if names:
                rendered = f"Templates rendered{where}: {_names(names)}"
            else:
                rendered = f"No template was rendered{where}."
            if count is not None and seen != count:
                self._fail_with(
                    f"Template {name!r} was rendered {seen} time(s){where},"
                    f" expected {count}. {rendered}",
                    msg,
                )
            if count is None and not seen:
                self._fail_with(f"Template {name!r} was not rendered{where}. {rendered}", msg)

        as_block = _called_as_context_manager(1)
        if as_block:
            return _TemplateBlockAssertion(self, check)
        check(0)
        return None

    def assertTemplateNotUsed(
        self, name: str, tmpl_name_attribute: str = "name", msg: str | None = None
    ) -> t.Any:
        """Fail if the template ``name`` was rendered during this test (or, as a
        context manager, inside the block).

        :param name: the template name.
        :param tmpl_name_attribute: the attribute of the Jinja template compared with
            ``name``.
        :param msg: added to the standard failure message.
        :returns: a context manager when used in a ``with`` statement, else ``None``.
        """
        if not isinstance(name, str):
            raise TypeError(f"assertTemplateNotUsed() expects a template name (str), got {name!r}")

        def check(start: int) -> None:
            names = self._template_names(tmpl_name_attribute, start)
            seen = names.count(name)
            if seen:
                where = " in the block" if as_block else ""
                self._fail_with(
                    f"Template {name!r} was rendered{where} ({seen} time(s))."
                    f" Templates rendered{where}: {_names(names)}",
                    msg,
                )

        as_block = _called_as_context_manager(1)
        if as_block:
            return _TemplateBlockAssertion(self, check)
        check(0)
        return None

    def get_context_variable(self, name: str) -> t.Any:
        """Return the value of ``name`` in the context of a rendered template.

        The most recent render whose context has ``name`` wins.

        :param name: the context variable.
        :raises ContextVariableDoesNotExist: no rendered template had it; the message
            lists what was rendered.
        """
        for rendered in reversed(self.templates):
            if name in rendered.context:
                return rendered.context[name]
        if not self.templates:
            raise ContextVariableDoesNotExist(
                f"Context variable {name!r} does not exist: no template was rendered."
            )
        seen = "; ".join(
            f"{r.name!r}: {', '.join(context_keys(r.context)) or '(none)'}"
            for r in self.templates
        )
        raise ContextVariableDoesNotExist(
            f"Context variable {name!r} does not exist in any rendered template."
            f" Context keys: {seen}"
        )

    def assertContext(
        self, name: str, value: t.Any, msg: str | None = None, *, message: str | None = None
    ) -> None:
        """Fail unless the template context variable ``name`` equals ``value``.

        :param name: the context variable.
        :param value: its expected value.
        :param msg: added to the standard failure message.
        :param message: Flask-Testing's name for ``msg``.
        """
        msg = self._pick_msg("assertContext", msg, message)
        try:
            actual = self.get_context_variable(name)
        except ContextVariableDoesNotExist as e:
            missing = str(e)
        else:
            if actual != value:
                self._fail_with(f"Context variable {name!r} is {actual!r}, expected {value!r}", msg)
            return
        # Failing outside the except keeps ContextVariableDoesNotExist out of the report.
        self._fail_with(missing, msg)

    # -- flashed messages ------------------------------------------------------

    def assertMessageFlashed(
        self, message: t.Any, category: str | None = "message", msg: str | None = None
    ) -> None:
        """Fail unless ``message`` was flashed with ``category`` during this test.

        (Here ``message`` is the flashed message, as in Flask-Testing; the failure
        message is added through ``msg``.)

        :param message: the flashed message.
        :param category: its category; Flask's default is ``"message"``; ``None``
            accepts any category.
        :param msg: added to the standard failure message.
        """
        _check_category("assertMessageFlashed", category)
        for flashed in self.flashed_messages:
            if flashed.message == message and (category is None or flashed.category == category):
                return
        wanted = f"{message!r}" if category is None else f"{message!r} (category {category!r})"
        self._fail_with(
            f"Message {wanted} was not flashed. {_format_flashes(self.flashed_messages)}", msg
        )

    def assertMessageNotFlashed(
        self, message: t.Any, category: str | None = None, msg: str | None = None
    ) -> None:
        """Fail if ``message`` was flashed during this test.

        :param message: the message that must not have been flashed.
        :param category: only a flash with this category counts; ``None`` (the
            default) means any category.
        :param msg: added to the standard failure message.
        """
        _check_category("assertMessageNotFlashed", category)
        for flashed in self.flashed_messages:
            if flashed.message == message and (category is None or flashed.category == category):
                self._fail_with(
                    f"Message {message!r} was flashed (category {flashed.category!r}).", msg
                )

    def assertNoMessageFlashed(self, msg: str | None = None) -> None:
        """Fail if any message was flashed during this test.

        :param msg: added to the standard failure message.
        """
        if self.flashed_messages:
            self._fail_with(
                f"Expected no flashed message. {_format_flashes(self.flashed_messages)}", msg
            )

    # -- JSON ------------------------------------------------------------------

    def _parse_json_data(self, method: str, data: t.Any, msg: str | None) -> t.Any:
        if isinstance(data, _WerkzeugResponse):
            text = _response_text(data)
            what = "Response body"
        elif isinstance(data, (bytes, bytearray)):
            text = bytes(data).decode("utf-8", "replace")
            what = "Data"
        elif isinstance(data, str):
            text = data
            what = "Data"
        else:
            raise TypeError(
                f"{method}() expects a response, str or bytes holding JSON, got"
                f" {type(data).__name__}; to compare Python objects use assertEqual()"
            )
        try:
            return json.loads(text)
        except ValueError as e:
            error = str(e)
        # Failing outside the except keeps the decoder's traceback out of the report.
        self._fail_with(f"{what} is not valid JSON ({error}): {_excerpt(text, 300)!r}", msg)

    @staticmethod
    def _expected_json(method: str, expected: t.Any) -> t.Any:
        """``expected`` as the JSON value it stands for.

        A str is JSON text. Any other value goes through :func:`json.dumps` and back,
        so it compares as what a view would send: tuples are arrays and object keys
        are strings (``{1: "a"}`` equals ``{"1": "a"}``).
        """
        if isinstance(expected, (str, bytes, bytearray)):
            try:
                return json.loads(expected)
            except ValueError as e:
                raise ValueError(
                    f"{method}(): expected is a str, so it is read as JSON, but it is not"
                    f" valid JSON ({e}); pass the Python value instead (a JSON string"
                    f" value is written '\"text\"')"
                ) from None
        try:
            return json.loads(json.dumps(expected))
        except (TypeError, ValueError) as e:
            raise TypeError(
                f"{method}(): expected must be a JSON-serialisable value or JSON text ({e})"
            ) from None

    def assertJSONEqual(
        self, data: t.Any, expected: t.Any, msg: str | None = None, *, message: str | None = None
    ) -> None:
        """Fail unless ``data`` holds JSON equal to ``expected``.

        Key order does not matter; ``true`` and ``1`` differ. The failure shows a
        unified diff of both documents, pretty-printed with sorted keys.

        :param data: a response, or a str or bytes of JSON.
        :param expected: the expected value: a Python object, or a str of JSON.
        :param msg: added to the standard failure message.
        :param message: Flask-Testing's name for ``msg``.
        """
        msg = self._pick_msg("assertJSONEqual", msg, message)
        want = self._expected_json("assertJSONEqual", expected)
        got = self._parse_json_data("assertJSONEqual", data, msg)
        if not _strict_equal(got, want):
            diff = _unified_diff(_json_dump(want), _json_dump(got), "expected", "actual")
            self._fail_with(f"JSON documents differ:\n{diff}", msg)

    def assertJSONNotEqual(
        self, data: t.Any, expected: t.Any, msg: str | None = None, *, message: str | None = None
    ) -> None:
        """Fail if ``data`` holds JSON equal to ``expected``.

        :param data: a response, or a str or bytes of JSON.
        :param expected: the value it must differ from (a Python object or JSON str).
        :param msg: added to the standard failure message.
        :param message: Flask-Testing's name for ``msg``.
        """
        msg = self._pick_msg("assertJSONNotEqual", msg, message)
        want = self._expected_json("assertJSONNotEqual", expected)
        got = self._parse_json_data("assertJSONNotEqual", data, msg)
        if _strict_equal(got, want):
            self._fail_with(f"JSON documents are equal:\n{_json_dump(got)}", msg)

    # -- content and HTML ------------------------------------------------------

    def _parse_html_arg(
        self, method: str, which: str, text: t.Any, msg: str | None
    ) -> _html.Element:
        if not isinstance(text, str):
            raise TypeError(
                f"{method}() expects the {which} as a str of HTML, got"
                f" {type(text).__name__}; for a response pass response.get_data(as_text=True)"
            )
        try:
            return _html.parse_html(text)
        except _html.HTMLParseError as e:
            error = str(e)
        self._fail_with(f"{which[:1].upper()}{which[1:]} is not valid HTML: {error}", msg)

    def _count_in_response(
        self,
        method: str,
        response: _WerkzeugResponse,
        text: str | bytes,
        status_code: int,
        html: bool,
        msg: str | None,
    ) -> tuple[int, str]:
        response = self._check_response(method, response)
        _check_int(method, "status_code", status_code)
        if not isinstance(text, (str, bytes)):
            raise TypeError(f"{method}() expects text as str or bytes, got {type(text).__name__}")
        if response.status_code != status_code:
            self._fail_with(
                f"Couldn't retrieve content: response status was {response.status}"
                f" (expected {status_code})",
                msg,
            )
        if html:
            if isinstance(text, bytes):
                raise TypeError(f"{method}(html=True) expects text as str, got bytes")
            content = _response_text(response)
            needle = self._parse_html_arg(method, "needle", text, msg)
            dom = self._parse_html_arg(method, "response content", content, msg)
            return dom.count(needle), content
        if isinstance(text, bytes):
            raw = response.get_data()
            return raw.count(text), raw.decode("utf-8", "replace")
        content = _response_text(response)
        return content.count(text), content

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
        msg = self._pick_msg("assertContains", msg, message)
        _check_count("assertContains", count)
        found, content = self._count_in_response(
            "assertContains", response, text, status_code, html, msg
        )
        if count is not None:
            if found != count:
                self._fail_with(
                    f"Found {found} instance(s) of {text!r} in the response, expected {count}",
                    msg,
                )
        elif not found:
            self._fail_with(
                f"Couldn't find {text!r} in the response. Response content:\n{_excerpt(content)}",
                msg,
            )

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
        msg = self._pick_msg("assertNotContains", msg, message)
        found, _ = self._count_in_response(
            "assertNotContains", response, text, status_code, html, msg
        )
        if found:
            self._fail_with(
                f"Found {found} instance(s) of {text!r} in the response, expected none", msg
            )

    def assertHTMLEqual(self, html1: str, html2: str, msg: str | None = None) -> None:
        """Fail unless two HTML documents are semantically equal.

        Attribute order, ``class`` order and whitespace between tags are ignored.
        The failure shows a diff of both, normalised and indented.

        :param msg: added to the standard failure message.
        """
        dom1 = self._parse_html_arg("assertHTMLEqual", "first argument", html1, msg)
        dom2 = self._parse_html_arg("assertHTMLEqual", "second argument", html2, msg)
        if dom1 != dom2:
            diff = _unified_diff(dom1.pretty(), dom2.pretty(), "first", "second")
            self._fail_with(f"{dom1} != {dom2}\n{diff}", msg)

    def assertHTMLNotEqual(self, html1: str, html2: str, msg: str | None = None) -> None:
        """Fail if two HTML documents are semantically equal.

        :param msg: added to the standard failure message.
        """
        dom1 = self._parse_html_arg("assertHTMLNotEqual", "first argument", html1, msg)
        dom2 = self._parse_html_arg("assertHTMLNotEqual", "second argument", html2, msg)
        if dom1 == dom2:
            self._fail_with(f"{dom1} == {dom2}", msg)

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
        _check_count("assertInHTML", count)
        if isinstance(haystack, _WerkzeugResponse):
            haystack = _response_text(haystack)
        needle_dom = self._parse_html_arg("assertInHTML", "needle", needle, msg)
        haystack_dom = self._parse_html_arg("assertInHTML", "haystack", haystack, msg)
        found = haystack_dom.count(needle_dom)
        if count is not None:
            if found != count:
                self._fail_with(
                    f"Found {found} instance(s) of {needle_dom} in the HTML, expected {count}", msg
                )
        elif not found:
            self._fail_with(
                f"Couldn't find {needle_dom} in the HTML:\n{_excerpt(str(haystack_dom))}", msg
            )

    # -- headers, cookies, session ---------------------------------------------

    def assertHeader(
        self,
        response: _WerkzeugResponse,
        name: str,
        value: t.Any = _MISSING,
        msg: str | None = None,
    ) -> None:
        """Fail unless ``response`` has the header ``name`` (with ``value``, if given;
        for a repeated header, one of its values).

        :param response: a response from the test client.
        :param name: the header name, case-insensitive.
        :param value: the expected value.
        :param msg: added to the standard failure message.
        """
        response = self._check_response("assertHeader", response)
        if not isinstance(name, str):
            raise TypeError(f"assertHeader() expects the header name as a str, got {name!r}")
        values = response.headers.getlist(name)
        if not values:
            present = ", ".join(dict.fromkeys(k for k, _ in response.headers.items()))
            self._fail_with(f"Response has no {name!r} header. Headers: {present}", msg)
        if value is not _MISSING and str(value) not in values:
            shown = values[0] if len(values) == 1 else values
            self._fail_with(f"Header {name!r} is {shown!r}, expected {value!r}", msg)

    def assertContentType(
        self, response: _WerkzeugResponse, content_type: str, msg: str | None = None
    ) -> None:
        """Fail unless ``response`` has the given mimetype (``"application/json"``)
        or, if ``content_type`` has parameters, exactly that ``Content-Type``.

        :param response: a response from the test client.
        :param content_type: a mimetype, or a full content type with ``charset``.
        :param msg: added to the standard failure message.
        """
        response = self._check_response("assertContentType", response)
        if not isinstance(content_type, str):
            raise TypeError(f"assertContentType() expects a str, got {content_type!r}")
        actual = response.content_type if ";" in content_type else response.mimetype
        if (actual or "").replace(" ", "").lower() != content_type.replace(" ", "").lower():
            self._fail_with(
                f"Content type is {response.content_type!r}, expected {content_type!r}", msg
            )

    def assertCookie(
        self,
        response: _WerkzeugResponse,
        name: str,
        value: t.Any = _MISSING,
        msg: str | None = None,
    ) -> None:
        """Fail unless ``response`` sets the cookie ``name`` (to ``value``, if given).

        :param response: a response from the test client.
        :param name: the cookie name.
        :param value: the expected value.
        :param msg: added to the standard failure message.
        """
        response = self._check_response("assertCookie", response)
        cookies: dict[str, str] = {}
        for header in response.headers.getlist("Set-Cookie"):
            cookies.update(parse_cookie(header.split(";", 1)[0]))
        if name not in cookies:
            shown = _names(cookies) if cookies else "none"
            self._fail_with(f"Response sets no cookie {name!r}. Cookies set: {shown}", msg)
        if value is not _MISSING and cookies[name] != value:
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

    def assertSessionHas(self, key: str, value: t.Any = _MISSING, msg: str | None = None) -> None:
        """Fail unless the session the client holds (from the cookies the app set)
        has ``key`` (equal to ``value``, if given).

        :param key: the session key.
        :param value: its expected value.
        :param msg: added to the standard failure message.
        """
        data = self._session_data()
        if key not in data:
            self._fail_with(f"Session has no key {key!r}. Session: {data!r}", msg)
        if value is not _MISSING and data[key] != value:
            self._fail_with(f"Session[{key!r}] is {data[key]!r}, expected {value!r}", msg)

    def assertSessionNotHas(self, key: str, msg: str | None = None) -> None:
        """Fail if the session the client holds has ``key``.

        :param key: the session key.
        :param msg: added to the standard failure message.
        """
        data = self._session_data()
        if key in data:
            self._fail_with(f"Session has key {key!r} (value {data[key]!r})", msg)


def _status_assertion(code: int) -> t.Callable[..., None]:
    def method(
        self: AssertionsMixin,
        response: _WerkzeugResponse,
        msg: str | None = None,
        *,
        message: str | None = None,
    ) -> None:
        msg = self._pick_msg(f"assert{code}", msg, message)
        self._check_response(f"assert{code}", response)
        self.assertStatus(response, code, msg)

    method.__name__ = method.__qualname__ = f"assert{code}"
    method.__doc__ = (
        f"Fail unless ``response`` has HTTP status {code}; same as"
        f" ``assertStatus(response, {code})``.\n\n"
        ":param response: a response from the test client.\n"
        ":param msg: added to the standard failure message.\n"
        ":param message: Flask-Testing's name for ``msg``.\n"
    )
    return method


#: The status codes with an ``assert<code>`` shortcut.
STATUS_SHORTCUTS = (
    200, 201, 202, 204, 301, 302, 303, 307, 308,
    400, 401, 403, 404, 405, 409, 410, 415, 422, 429, 500, 503,
)  # fmt: skip

for _code in STATUS_SHORTCUTS:
    setattr(AssertionsMixin, f"assert{_code}", _status_assertion(_code))
del _code
