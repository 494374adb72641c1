"""Each request runs in a fresh, empty :class:`contextvars.Context`: the one place that
does it, for the test client, twill and the live server.

A real server serves each request on a thread of its own, where nothing the test pushed
is visible. A test's requests run on the test's thread instead (or, on the live server,
on a thread that may have served an earlier request), and Flask before 3.2 reuses an
application context already pushed for the same app: without a fresh context the test
body's ``g`` and database session would leak into the view, and one request's ``g``
into the next.
"""

from __future__ import annotations

import contextvars
import functools
import typing as t

from flask.testing import FlaskClient

from ._classes import class_factory
from .capture import RequestRecords
from .capture import recorded_response_class

if t.TYPE_CHECKING:
    from collections.abc import Iterable
    from collections.abc import Iterator

    import flask
    from _typeshed.wsgi import StartResponse
    from _typeshed.wsgi import WSGIApplication
    from _typeshed.wsgi import WSGIEnvironment
    from flask.ctx import RequestContext
    from flask.sessions import SessionMixin

__all__ = ["fresh_context", "isolated_client_class"]

_T = t.TypeVar("_T")


def fresh_context(app: WSGIApplication) -> WSGIApplication:
    """Wrap the WSGI application ``app`` so that each request runs in a new, empty
    :class:`contextvars.Context`: the call, the iteration of the response and its
    ``close()`` all run in that request's context."""

    def in_fresh_context(
        environ: WSGIEnvironment, start_response: StartResponse
    ) -> Iterable[bytes]:
        context = contextvars.Context()
        return _ResponseInContext(context.run(app, environ, start_response), context)

    return in_fresh_context


class _ResponseInContext:
    """A WSGI response iterated and closed in the context its request ran in."""

    def __init__(self, result: Iterable[bytes], context: contextvars.Context) -> None:
        self._result = result
        self._iter: Iterator[bytes] = iter(result)
        self._context = context

    def _run(self, func: t.Callable[..., _T], *args: t.Any) -> _T:
        return self._context.run(func, *args)

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        chunk: bytes = self._run(next, self._iter)
        return chunk

    def close(self) -> None:
        close = getattr(self._result, "close", None)
        if close is not None:
            self._run(close)


class _RecordedBody(_ResponseInContext):
    """The body of a test client response: each step of its iteration runs in its
    request's context with that request's receivers connected, so that what a
    streamed response renders or flashes is recorded too."""

    def __init__(
        self, result: Iterable[bytes], context: contextvars.Context, records: RequestRecords
    ) -> None:
        super().__init__(result, context)
        self.records = records

    def _run(self, func: t.Callable[..., _T], *args: t.Any) -> _T:
        return self.records.run(self._context, func, *args, body=True)


class _FreshContextRequests(FlaskClient):
    """A test client whose requests each run in a new, empty context, and whose
    responses carry what their request rendered, flashed and stored in the session
    (:class:`~flask_testcase.RecordedResponse`).

    Werkzeug's :class:`~werkzeug.test.Client` calls its ``application`` attribute, but
    :class:`~flask.testing.FlaskClient` also uses that attribute as the Flask app (its
    config, JSON provider, sessions), so :func:`fresh_context` cannot be put there;
    ``run_wsgi_app`` is the one method every request goes through, each redirect that
    ``follow_redirects`` follows included. Contexts that a ``with client:`` block
    preserves are pushed again into the caller's context by
    :class:`~flask.testing.FlaskClient` after this returns, so they keep working.
    """

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        # Werkzeug makes a new subclass of the app's response class for each client;
        # ours adds the records, and is made once per response class (one made per
        # client would be one more class kept for every test).
        self.response_wrapper = recorded_response_class(self.application.response_class)
        self._keeps_contexts = False
        self._keep_after_block = False

    def keep_contexts(self) -> None:
        """Keep each request's contexts pushed after it returns, until the next request
        or :meth:`release_contexts`, as inside ``with client:``: what pytest-flask's
        ``client`` fixture hands out (a client already entered), so that ``session``,
        ``g`` and ``request`` of the last request can be read in the test. A ``with
        client:`` block still works: it starts afresh, as for a client not entered,
        and the contexts are kept again after it."""
        super().__enter__()
        self._keeps_contexts = True

    def release_contexts(self) -> None:
        """Pop the contexts :meth:`keep_contexts` kept, and keep no more."""
        self._keeps_contexts = self._keep_after_block = False
        super().__exit__(None, None, None)

    def __enter__(self) -> _FreshContextRequests:
        if self._keeps_contexts:
            # Flask would refuse to nest the block in the kept contexts ("Cannot nest
            # client invocations"): leave them, and come back after the block.
            self.release_contexts()
            self._keep_after_block = True
        super().__enter__()
        return self

    def __exit__(self, *exc_info: t.Any) -> None:
        super().__exit__(*exc_info)
        if self._keep_after_block:
            self._keep_after_block = False
            self.keep_contexts()

    def run_wsgi_app(
        self, environ: dict[str, t.Any], buffered: bool = False
    ) -> tuple[t.Iterable[bytes], str, t.Any]:
        def run() -> tuple[t.Iterable[bytes], str, t.Any]:
            return super(_FreshContextRequests, self).run_wsgi_app(environ, buffered)

        (body, status, headers), wrap = run_recorded(self.application, run)
        return wrap(body), status, headers


def run_recorded(
    app: flask.Flask, call: t.Callable[[], _T]
) -> tuple[_T, t.Callable[[Iterable[bytes]], _RecordedBody]]:
    """Run ``call`` (one request to ``app``) in a new, empty context with its
    :class:`~flask_testcase.capture.RequestRecords` recording: the one step behind
    the test client's requests and :mod:`flask_testcase.webtest`'s.

    :returns: what ``call`` returned, and the function that wraps the request's
        response body so that it is read and closed in the request's context, still
        recording; the wrapped body carries the records as ``records``.
    """
    context = contextvars.Context()
    records = RequestRecords(app, context)
    result = records.run(context, call)

    def wrap(body: Iterable[bytes]) -> _RecordedBody:
        return _RecordedBody(body, context, records)

    return result, wrap


def isolated_client_class(base: type[FlaskClient] | None = None) -> type[FlaskClient]:
    """Return a subclass of ``base`` (default :class:`flask.testing.FlaskClient`)
    whose requests each run in a fresh context, as :attr:`TestCase.client`'s do, and
    whose responses are :class:`~flask_testcase.RecordedResponse` objects.

    The same class is returned for the same ``base``; a class this returned is
    returned unchanged.

    :param base: the app's own test client class, if it has one.
    """
    base = base or FlaskClient
    if issubclass(base, _FreshContextRequests):
        return base
    return _isolated_subclass(base)


@class_factory
def _isolated_subclass(base: type[FlaskClient]) -> type[FlaskClient]:
    return type(f"Isolated{base.__name__}", (_FreshContextRequests, base), {})


def isolate_test_client(app: flask.Flask) -> t.Callable[[], object]:
    """Give ``app`` the :func:`isolated_client_class` of its test client class, for
    one test (:class:`~flask_testcase.TestCase` and the pytest plugin); return the
    undo."""
    return set_for_test(app, "test_client_class", isolated_client_class(app.test_client_class))


def set_for_test(app: flask.Flask, name: str, value: t.Any) -> t.Callable[[], object]:
    """Set the attribute ``name`` on ``app`` itself to ``value``; return the undo, which
    puts back the app's own attribute, or removes the one set, so that the class's
    shows again."""
    own = vars(app)
    if name in own:
        undo = functools.partial(setattr, app, name, own[name])
    else:
        undo = functools.partial(own.pop, name, None)
    setattr(app, name, value)
    return undo


class SessionAccess(t.NamedTuple):
    """How the helpers that write a client's session (:func:`~flask_testcase.force_login`,
    :func:`~flask_testcase.csrf_token`) reach it, for a Flask test client or a
    :class:`flask_testcase.webtest.TestApp` alike."""

    #: The application the client's requests go to.
    app: flask.Flask
    #: Makes a request context like the client's next request (its remote address,
    #: user agent and host), not pushed.
    request_context: t.Callable[[], RequestContext]
    #: Opens the client's session for writing; the client's cookies get it when the
    #: block ends (:meth:`flask.testing.FlaskClient.session_transaction`).
    session_transaction: t.Callable[[], t.ContextManager[SessionMixin]]


def session_access(client: t.Any, name: str) -> SessionAccess:
    """The :class:`SessionAccess` of ``client``.

    :param name: the caller, named in the error.
    :raises TypeError: ``client`` is neither a Flask test client nor a
        :class:`flask_testcase.webtest.TestApp`.
    """
    if isinstance(client, FlaskClient):
        app: flask.Flask = client.application
        environ_base = dict(getattr(client, "environ_base", {}))
        return SessionAccess(
            app,
            functools.partial(app.test_request_context, environ_base=environ_base),
            functools.partial(client.session_transaction, environ_base=environ_base),
        )
    access: t.Callable[[], SessionAccess] | None = getattr(client, "_session_access", None)
    if access is None:
        raise TypeError(
            f"{name}() takes a Flask test client (client, app.test_client()) or a"
            f" flask_testcase.webtest.TestApp, got {client!r}."
        )
    return access()
