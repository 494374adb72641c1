"""Record what an application renders and flashes, through Flask's blinker signals.

Each recorder is a context manager that connects one receiver with ``sender=app`` (so
two applications under test never see each other's events), yields the list it
appends to, and disconnects in ``finally`` whatever happens in the block.
"""

from __future__ import annotations

import contextlib
import typing as t

import flask
from flask import message_flashed
from flask import template_rendered

from ._classes import class_factory

if t.TYPE_CHECKING:
    from collections.abc import Iterator

    import jinja2

__all__ = [
    "FlashedMessage",
    "RenderedTemplate",
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
