"""Record what an application renders and flashes, through Flask's blinker signals.

Each recorder is a context manager that connects one receiver with ``sender=app`` (so
two applications under test never see each other's events), yields the list it
appends to, and disconnects in ``finally`` whatever happens in the block.

:class:`RequestRecords` does the same for one test client request, whose records
its :class:`RecordedResponse` carries.
"""

from __future__ import annotations

import contextlib
import contextvars
import typing as t

import flask
from flask import message_flashed
from flask import request_finished
from flask import template_rendered
from werkzeug.test import TestResponse
from werkzeug.wrappers import Response

from ._classes import class_factory

if t.TYPE_CHECKING:
    from collections.abc import Iterator

    import jinja2

__all__ = [
    "FlashedMessage",
    "NotOneTemplate",
    "RecordedResponse",
    "RenderedTemplate",
    "ResponseRecords",
    "record_flashed_messages",
    "record_templates",
    "silence_templates",
]


class RenderedTemplate(t.NamedTuple):
    """One template render seen through :data:`flask.template_rendered`.

    It unpacks like Flask-Testing's ``(template, context)`` pairs.
    """

    #: The :class:`jinja2.Template` that was rendered.
    template: jinja2.Template
    #: The context the template was rendered with, as Flask passed it to the signal
    #: (view arguments plus what context processors add).
    context: dict[str, t.Any]

    @property
    def name(self) -> str | None:
        """The template's name (``None`` for :func:`flask.render_template_string`)."""
        return self.template.name

    def __repr__(self) -> str:
        keys = ", ".join(context_keys(self.context)) or "(none)"
        return f"<RenderedTemplate {self.name!r} context keys: {keys}>"


# Flask's default context processor adds these to every render (which of them
# depends on the Flask version and on whether a request is active); listing them in
# messages would only be noise, and would make messages differ between versions.
_FLASK_INJECTED = frozenset({"g", "request", "session"})


def context_keys(context: dict[str, t.Any]) -> list[str]:
    """The sorted names of a template context, without Flask's own ``g``,
    ``request`` and ``session`` and without private names, as failure messages show them.

    :param context: a rendered template's context.
    """
    return sorted(k for k in context if k not in _FLASK_INJECTED and not k.startswith("_"))


class FlashedMessage(t.NamedTuple):
    """One :func:`flask.flash` call seen through :data:`flask.message_flashed`."""

    #: The message, as passed to :func:`flask.flash`.
    message: t.Any
    #: The category, ``"message"`` unless the view gave another.
    category: str


@contextlib.contextmanager
def record_templates(app: flask.Flask) -> Iterator[list[RenderedTemplate]]:
    """Record every template ``app`` renders inside the block, in order.

    .. code-block:: python

        with record_templates(app) as templates:
            client.get("/")
        assert [t.name for t in templates] == ["index.html"]

    :param app: the application whose renders are recorded; renders by any other
        application are ignored.
    """
    with _recording(template_rendered, app, RenderedTemplate) as recorded:
        yield recorded


@contextlib.contextmanager
def record_flashed_messages(app: flask.Flask) -> Iterator[list[FlashedMessage]]:
    """Record every message ``app`` flashes inside the block, in order.

    :param app: the application whose :func:`flask.flash` calls are recorded.
    """
    with _recording(message_flashed, app, FlashedMessage) as recorded:
        yield recorded


_R = t.TypeVar("_R", RenderedTemplate, FlashedMessage)
_T = t.TypeVar("_T")


@contextlib.contextmanager
def _recording(signal: t.Any, app: flask.Flask, record: type[_R]) -> Iterator[list[_R]]:
    """Append a ``record`` made of the signal's arguments each time ``app`` sends it."""
    recorded: list[_R] = []
    fields = record._fields

    def receiver(sender: flask.Flask, **extra: t.Any) -> None:
        # Only the record's fields: a later Flask may send more arguments.
        recorded.append(record(*(extra[name] for name in fields)))

    # weak=False: the receiver is a closure that only this frame refers to, and a
    # weak reference could vanish while the block still runs.
    signal.connect(receiver, sender=app, weak=False)
    try:
        yield recorded
    finally:
        # Without a sender: blinker forgets a receiver entirely only when it is
        # disconnected from every sender; a per-sender disconnect keeps it (and,
        # through its closure, the records and the app) in ``signal.receivers``.
        signal.disconnect(receiver)


@class_factory
def _silent_template_class(base: type[jinja2.Template]) -> type[jinja2.Template]:
    """A subclass of ``base`` whose templates render to an empty string."""

    def render(self: jinja2.Template, *args: t.Any, **kwargs: t.Any) -> str:
        return ""

    def generate(self: jinja2.Template, *args: t.Any, **kwargs: t.Any) -> Iterator[str]:
        return iter(())

    return type(f"Silent{base.__name__}", (base,), {"render": render, "generate": generate})


@contextlib.contextmanager
def silence_templates(app: flask.Flask) -> Iterator[None]:
    """Inside the block, ``app``'s templates render as empty strings.

    Flask still sends :data:`flask.template_rendered` with the template and its
    context, so the render is recorded and assertions about it work; only the output
    is dropped. This swaps Jinja's public ``Environment.template_class`` (and empties
    the template cache, so cached templates are loaded again with the new class); it
    touches no private Flask function. Both are restored when the block ends.

    :param app: the application whose templates are silenced.
    """
    env = app.jinja_env
    original = env.template_class
    env.template_class = _silent_template_class(original)
    if env.cache is not None:
        env.cache.clear()
    try:
        yield
    finally:
        env.template_class = original
        if env.cache is not None:
            env.cache.clear()


# The records of the request running in the current context: set once in each
# request's fresh context, so a receiver tells its own request's signals from those
# of another request (a nested one, another thread's) sent with the same app.
_REQUEST: contextvars.ContextVar[RequestRecords] = contextvars.ContextVar(
    "flask_testcase_request_records"
)


class RequestRecords:
    """What one test client request rendered, flashed and left in the session.

    Its receivers are connected with ``sender=app`` only while a step of the request
    runs (:meth:`run`): the call, each step of the body's iteration, its ``close()``.
    Nothing stays connected between steps, so a response whose body is never read
    leaves nothing behind.

    :param app: the application the request goes to.
    :param context: the request's own :class:`contextvars.Context`.
    """

    def __init__(self, app: flask.Flask, context: contextvars.Context) -> None:
        self.app = app
        self.templates: list[RenderedTemplate] = []
        self.flashes: list[tuple[str, t.Any]] = []
        self.session: dict[str, t.Any] | None = None
        context.run(_REQUEST.set, self)
        # Bound once: connect and disconnect must see the same receivers.
        body: tuple[tuple[t.Any, t.Callable[..., None]], ...] = (
            (template_rendered, self._on_render),
            (message_flashed, self._on_flash),
        )
        self._body_receivers = body
        # Flask sends request_finished before it returns the response, never while
        # the body is read: the body's steps need one connection fewer.
        self._call_receivers = (*body, (request_finished, self._on_finish))

    def run(
        self,
        context: contextvars.Context,
        func: t.Callable[..., _T],
        *args: t.Any,
        body: bool = False,
    ) -> _T:
        """Call ``func(*args)`` in ``context`` with the receivers connected.

        :param body: the step reads the response body (the call is over).
        """
        connected = []
        try:
            for signal, receiver in self._body_receivers if body else self._call_receivers:
                signal.connect(receiver, sender=self.app, weak=False)
                connected.append((signal, receiver))
            return context.run(func, *args)
        finally:
            for signal, receiver in connected:
                # Without a sender, as in _recording(): blinker forgets a receiver
                # only when it is disconnected from every sender.
                signal.disconnect(receiver)

    def _on_render(
        self,
        sender: flask.Flask,
        template: jinja2.Template,
        context: dict[str, t.Any],
        **extra: t.Any,
    ) -> None:
        if _REQUEST.get(None) is self:
            self.templates.append(RenderedTemplate(template, context))

    def _on_flash(self, sender: flask.Flask, message: t.Any, category: str, **extra: t.Any) -> None:
        if _REQUEST.get(None) is self:
            self.flashes.append((category, message))

    def _on_finish(self, sender: flask.Flask, **extra: t.Any) -> None:
        # Sent after the session was saved to the response, in the request context.
        if _REQUEST.get(None) is self:
            self.session = dict(flask.session)


class NotOneTemplate(AttributeError, AssertionError):
    """Raised by ``response.context`` (and ``response.template`` on
    :mod:`flask_testcase.webtest` responses) when the request rendered no template
    or several.

    It is an :class:`AttributeError`, so ``getattr(response, "context", None)`` is
    ``None``, and an :class:`AssertionError`, as Flask-WebTest raises: a test that
    reads the context of a page that rendered none fails.
    """

    def __init__(self, message: str, response: object = None) -> None:
        super().__init__(message)
        # Python 3.12+ would add "Did you mean: 'contexts'?" to the message of an
        # AttributeError raised by a property unless the error names its object.
        self.obj = response


class ResponseRecords:
    """The per-response records of a response, whichever client made it: mixed into
    :class:`RecordedResponse` (the test client's) and into the responses of
    :class:`flask_testcase.webtest.TestApp`.

    A response made elsewhere, without records, has empty ones.
    """

    _records: RequestRecords | None = None

    if t.TYPE_CHECKING:
        request: t.Any
        status: str

    def _where(self) -> str:
        """``GET /path (200 OK)``, for messages."""
        request = self.request
        return f"{request.method} {request.path} ({self.status})"

    @property
    def templates(self) -> list[RenderedTemplate]:
        """The templates this request rendered, in order, with their contexts."""
        return self._records.templates if self._records is not None else []

    def _one_template(self, attribute: str, what: str) -> RenderedTemplate:
        templates = self.templates
        if len(templates) == 1:
            return templates[0]
        where = self._where()
        if not templates:
            raise NotOneTemplate(
                f"response.{attribute} is the {what} of the one template the request"
                f" rendered, but {where} rendered no template.",
                self,
            )
        rendered = ", ".join(repr(r.name) for r in templates)
        raise NotOneTemplate(
            f"response.{attribute} is the {what} of the one template the request rendered,"
            f" but {where} rendered {len(templates)}: {rendered}. Read"
            f" response.templates[i].{'name' if attribute == 'template' else attribute}"
            " instead.",
            self,
        )

    @property
    def context(self) -> dict[str, t.Any]:
        """The context of the one template this request rendered.

        :raises NotOneTemplate: (an :class:`AttributeError`) the request rendered no
            template, or several; the message names them (read :attr:`templates`
            then). ``getattr(response, "context", None)`` is ``None`` in both cases.
        """
        return self._one_template("context", "context").context

    @property
    def flashes(self) -> list[tuple[str, t.Any]]:
        """The messages this request flashed, in order, as ``(category, message)``
        pairs, the order of :func:`flask.get_flashed_messages` with
        ``with_categories=True`` (a :class:`FlashedMessage` is
        ``(message, category)``, Flask-Testing's order)."""
        return self._records.flashes if self._records is not None else []

    @property
    def session(self) -> dict[str, t.Any] | None:
        """A copy of the session as this request left it (what was saved to the
        response), as a plain :class:`dict`; empty when the app opened no session
        (no ``SECRET_KEY``). ``None`` when the app did not finish the request (a
        middleware answered without calling it)."""
        return self._records.session if self._records is not None else None


class RecordedResponse(ResponseRecords, TestResponse):
    """A response of :attr:`TestCase.client <flask_testcase.TestCase.client>` (or of
    any client made by :func:`~flask_testcase.isolated_client_class`), carrying what
    its request did: :attr:`templates`, :attr:`context`, :attr:`flashes` and
    :attr:`session` (see :class:`ResponseRecords`).

    The records are those of this response's own request. With
    ``follow_redirects=True`` the response returned is the last one of the chain, so
    they cover the last request; each response of :attr:`history` has its own. A
    streamed body runs its code as it is read, so what it renders or flashes is
    recorded as the body is read.

    The actual class is a subclass of this one and of the app's
    :attr:`~flask.Flask.response_class`; ``isinstance(response, RecordedResponse)``
    holds, and ``typing.cast(RecordedResponse, response)`` tells a type checker.
    """

    def __init__(self, response: t.Iterable[bytes], *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(response, *args, **kwargs)
        # The body the isolated client returns carries its request's records; it is
        # replaced by a list once the body is read, so keep them now.
        self._records = getattr(response, "records", None)


@class_factory
def recorded_response_class(base: type[Response]) -> type[RecordedResponse]:
    """A :class:`RecordedResponse` subclass of ``base``, a response class such as the
    app's ``response_class`` (``base`` itself if it is one already)."""
    if issubclass(base, RecordedResponse):
        return base
    name = f"Recorded{base.__name__}"
    if name == RecordedResponse.__name__:
        # Flask's own Response: a name that is not the base class's.
        name = "RecordedTestResponse"
    return type(name, (RecordedResponse, base), {})
