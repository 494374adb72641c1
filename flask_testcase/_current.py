"""The records of the test that is running, read by :mod:`flask_testcase.asserts`.

A front door (``TestCase._pre_setup``, the pytest plugin) calls :func:`push` when a
test's records exist and calls the function it returns when the test ends; the plain
assertion functions read :func:`current`. The value lives in a
:class:`contextvars.ContextVar`, so a test run inside another test (a
:class:`~flask_testcase.TestCase` run by a test of this library, or a test on
another thread) sees its own records and leaves the outer test's in place.
"""

from __future__ import annotations

import contextvars
import typing as t

if t.TYPE_CHECKING:
    import flask
    from flask.testing import FlaskClient

    from .capture import FlashedMessage
    from .capture import RenderedTemplate
    from .isolation import DatabaseIsolation

__all__ = [
    "CurrentRecords",
    "NoCurrentTest",
    "current",
    "push",
    "push_more",
    "recording",
    "set_until_undone",
]


class CurrentRecords(t.NamedTuple):
    """What the running test recorded, and what some assertions need besides."""

    #: Every template rendered during the test, in order (the list keeps growing).
    templates: list[RenderedTemplate]
    #: Every message flashed during the test, in order.
    flashed_messages: list[FlashedMessage]
    #: The test's database isolation, for ``assertNumQueries``.
    isolation: DatabaseIsolation | None = None
    #: The test's client, for ``assertSessionHas`` and ``assertRedirects`` with
    #: ``target_status_code``.
    client: FlaskClient | None = None
    #: The application under test.
    app: flask.Flask | None = None


class NoCurrentTest(RuntimeError):
    """A plain assertion function needed the current test's records (or its client,
    or its database isolation) and the running test provides none."""


_CURRENT: contextvars.ContextVar[CurrentRecords | None] = contextvars.ContextVar(
    "flask_testcase_current_test", default=None
)

_HOW = (
    "use it in a test that uses the client fixture of flask_testcase's pytest plugin,"
    " or in a flask_testcase.TestCase"
)


def push(
    templates: list[RenderedTemplate],
    flashed_messages: list[FlashedMessage],
    isolation: DatabaseIsolation | None = None,
    *,
    client: FlaskClient | None = None,
    app: flask.Flask | None = None,
) -> t.Callable[[], None]:
    """Make these the current test's records until the returned function is called.

    :param templates: the list the test's template recorder appends to.
    :param flashed_messages: the list the test's flash recorder appends to.
    :param isolation: the test's :class:`~flask_testcase.DatabaseIsolation`, if any.
    :param client: the test's client, if any.
    :param app: the application under test, if any.
    :returns: the undo; call it once when the test ends (calling it again does
        nothing). Pushes nest: the undo brings back what was current before.
    """
    return set_until_undone(
        _CURRENT, CurrentRecords(templates, flashed_messages, isolation, client, app)
    )


def push_more(**changes: t.Any) -> t.Callable[[], None]:
    """Make the current records, with ``changes`` (a client, an isolation), current
    until the returned function is called: a fixture adding itself to the test's."""
    return set_until_undone(_CURRENT, current()._replace(**changes))


_T = t.TypeVar("_T")


def set_until_undone(var: contextvars.ContextVar[_T], value: _T) -> t.Callable[[], None]:
    """Set ``var`` to ``value``; return the undo, which puts back what it was before
    (once: calling it again does nothing)."""
    previous = var.get()
    token = var.set(value)
    undone = False

    def undo() -> None:
        nonlocal undone
        if undone:
            return
        undone = True
        try:
            var.reset(token)
        except ValueError:
            # Undone from another context than the set (a fixture's teardown run
            # elsewhere): put back what was current before, there.
            var.set(previous)

    return undo


def recording() -> bool:
    """Whether a test's records are current."""
    return _CURRENT.get() is not None


def current(need: str = "records") -> CurrentRecords:
    """The current test's records.

    :param need: what the caller needs, named in the error: ``"records"``,
        ``"client"`` or ``"isolation"``.
    :raises NoCurrentTest: no test pushed records, or the test has no client or
        database isolation when ``need`` asks for it.
    """
    records = _CURRENT.get()
    if records is None:
        raise NoCurrentTest(f"reads the current test's records, and no test is recording: {_HOW}.")
    if need == "client" and records.client is None:
        raise NoCurrentTest(
            f"reads the session through the current test's client, and the test has none: {_HOW}."
        )
    if need == "isolation" and records.isolation is None:
        raise NoCurrentTest(
            "counts the queries of the current test's database isolation, and the test has"
            " none: use the db fixture of flask_testcase's pytest plugin, or set db on the"
            " flask_testcase.TestCase."
        )
    return records
