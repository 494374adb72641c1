"""What every assertion module shares: the attributes a test case provides, the
message convention (:func:`assertion`), argument checks and small text helpers.

The subject modules import only this one (and the package's HTML and capture
modules), never each other.
"""

from __future__ import annotations

import difflib
import functools
import inspect
import typing as t

from werkzeug.wrappers import Response as _WerkzeugResponse

if t.TYPE_CHECKING:
    import flask
    from flask.testing import FlaskClient

    from ..capture import FlashedMessage
    from ..capture import RenderedTemplate

# Hides this module's frames from unittest tracebacks, so a failure points at the test.
__unittest = True

#: Stands for "not given" where ``None`` is a value a caller may compare with.
MISSING: t.Any = object()

_EXCERPT = 2000

_F = t.TypeVar("_F", bound=t.Callable[..., t.Any])


class BadArgument(Exception):
    """An argument check failed inside an :func:`assertion`.

    The checks are shared by many assertions, so they do not know which one called
    them; :func:`assertion` re-raises this as ``error`` with the assertion's name in
    front: ``assertStatus() expects ...``.

    :param error: the exception class the user sees, :class:`TypeError` or
        :class:`ValueError`.
    :param text: the sentence after the name.
    :param call: shown between the parentheses after the name (``html=True``).
    :param separator: between the parentheses and ``text``.
    """

    def __init__(
        self, error: type[Exception], text: str, *, call: str = "", separator: str = " "
    ) -> None:
        super().__init__(text)
        self.error = error
        self.text = text
        self.call = call
        self.separator = separator

    def for_method(self, name: str) -> Exception:
        return self.error(f"{name}({self.call}){self.separator}{self.text}")


def assertion(method: _F) -> _F:
    """Give an assertion method the library's calling convention.

    - Flask-Testing's keyword-only ``message=`` is the same as ``msg=`` (giving both
      is a :class:`TypeError`); the method declares ``message`` for its signature and
      documentation but never reads it.
    - A :class:`BadArgument` raised by a shared check becomes the user's
      :class:`TypeError` or :class:`ValueError`, named after this method.
    """
    name = method.__name__
    parameters = inspect.signature(method).parameters
    message = parameters.get("message")
    takes_message = message is not None and message.kind is inspect.Parameter.KEYWORD_ONLY
    # Where ``msg`` sits among the positional arguments after ``self``, if it can.
    names = [p.name for p in parameters.values() if p.kind is p.POSITIONAL_OR_KEYWORD]
    msg_position = names.index("msg") - 1 if "msg" in names else None

    @functools.wraps(method)
    def wrapper(self: t.Any, *args: t.Any, **kwargs: t.Any) -> t.Any:
        if takes_message and kwargs.get("message") is not None:
            text = kwargs.pop("message")
            positional = msg_position is not None and len(args) > msg_position
            given = args[msg_position] if positional else kwargs.get("msg")  # type: ignore[index]
            if given is not None:
                raise TypeError(
                    f"{name}() got both msg= and message=; pass one (message= is the"
                    " Flask-Testing spelling of msg=)."
                )
            if positional:
                args = (*args[:msg_position], text, *args[msg_position + 1 :])  # type: ignore[operator]
            else:
                kwargs["msg"] = text
        try:
            return method(self, *args, **kwargs)
        except BadArgument as e:
            raise e.for_method(name) from None

    return t.cast(_F, wrapper)


class AssertionBase:
    """The attributes the assertions read and the one way they fail.

    :class:`flask_testcase.TestCase` sets ``app``, ``client``, ``templates`` and
    ``flashed_messages`` up for each test; unittest provides ``failureException``
    and ``_formatMessage``.
    """

    app: flask.Flask
    client: FlaskClient
    templates: list[RenderedTemplate]
    flashed_messages: list[FlashedMessage]

    if t.TYPE_CHECKING:
        failureException: type[BaseException]

        def _formatMessage(self, msg: str | None, standardMsg: str) -> str: ...

    def _fail_with(self, standard: str, msg: str | None) -> t.NoReturn:
        """Fail the test with ``standard``, the evidence, and ``msg`` added after it
        (unittest's ``longMessage``)."""
        raise self.failureException(self._formatMessage(msg, standard))


def check_response(response: t.Any) -> _WerkzeugResponse:
    if not isinstance(response, _WerkzeugResponse):
        raise BadArgument(
            TypeError,
            "expects the response returned by the test client (for example"
            f" self.client.get(...)), got {type(response).__name__}: {response!r:.80}",
        )
    return response


def check_int(name: str, value: t.Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadArgument(TypeError, f"expects {name} as an int such as 200, got {value!r}")


def check_count(count: int | None) -> None:
    if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count < 0):
        raise BadArgument(ValueError, f"count must be an int >= 0 or None, got {count!r}")


def response_text(response: _WerkzeugResponse) -> str:
    # Replacement characters, not UnicodeDecodeError: a binary body (an image) must
    # give the assertion's own failure, not a crash in the middle of it.
    return response.get_data().decode(response.mimetype_params.get("charset", "utf-8"), "replace")


def excerpt(text: str, limit: int = _EXCERPT) -> str:
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text) - limit} more characters)"


def names(items: t.Iterable[t.Any]) -> str:
    return ", ".join(repr(i) for i in items)


def unified_diff(first: str, second: str, first_name: str, second_name: str) -> str:
    return "\n".join(
        difflib.unified_diff(
            first.splitlines(), second.splitlines(), first_name, second_name, lineterm=""
        )
    )
