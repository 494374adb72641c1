"""WebTest for Flask apps, with the records of :mod:`flask_testcase`: a
:class:`webtest.TestApp` whose requests run like the test client's and whose responses
carry what their request rendered, flashed and left in the session.

It is a drop-in for Flask-WebTest (``from flask_testcase.webtest import TestApp``
instead of ``from flask_webtest import TestApp``): the same constructor,
``response.template(s)``, ``.context(s)``, ``.flashes``, ``.session``,
:meth:`TestApp.session_transaction`, and Flask-SQLAlchemy session scopes
(:class:`SessionScope`, :func:`get_scopefunc`, ``use_session_scopes=True``).

Each request runs in a fresh, empty :class:`contextvars.Context` through the same
request-isolation step as :attr:`TestCase.client <flask_testcase.TestCase.client>`,
so it is seen by the test's records (``assertTemplateUsed``, ``flashed_messages``,
the outbox, :mod:`flask_testcase.asserts`) and runs inside the test's database
isolation. ``TestCase.testapp`` and the plugin's ``testapp`` fixture give one per
test. This module needs WebTest: ``pip install 'flask-testcase[webtest]'``.
"""

from __future__ import annotations

import contextlib
import contextvars
import email.message
import functools
import threading
import typing as t
import urllib.request

import flask

try:
    import webtest
except ImportError as e:
    raise ImportError(
        "flask_testcase.webtest needs WebTest: pip install 'flask-testcase[webtest]'."
    ) from e

from ._requests import SessionAccess
from ._requests import run_recorded
from .capture import ResponseRecords
from .login import force_login
from .login import force_logout

if t.TYPE_CHECKING:
    from collections.abc import Iterable
    from collections.abc import Iterator

    from _typeshed.wsgi import StartResponse
    from _typeshed.wsgi import WSGIApplication
    from _typeshed.wsgi import WSGIEnvironment
    from flask.sessions import SessionMixin

    from ._requests import _RecordedBody

__all__ = [
    "FormNotFound",
    "SessionScope",
    "TestApp",
    "TestRequest",
    "TestResponse",
    "get_scopefunc",
]

_F = t.TypeVar("_F", bound=t.Callable[..., t.Any])


# -- responses -------------------------------------------------------------------------


class FormNotFound(KeyError):
    """``response.forms[key]`` for a form the page does not have: WebTest's
    :class:`KeyError`, with the forms the page has in its message."""

    def __str__(self) -> str:
        return str(self.args[0])


class _Forms(dict):  # type: ignore[type-arg]
    """WebTest's ``response.forms`` (forms by index and by id), whose missing keys
    raise :class:`FormNotFound`."""

    def __init__(self, forms: dict[t.Any, t.Any], response: TestResponse) -> None:
        super().__init__(forms)
        self._response = response

    def __missing__(self, key: t.Any) -> t.NoReturn:
        raise FormNotFound(
            f"No form {key!r} in response.forms of {self._response._where()}: WebTest"
            " indexes forms by their position on the page (from 0) and by their id."
            f" {self._response._forms_listing()}"
        )


class TestResponse(ResponseRecords, webtest.TestResponse):
    """A response of :class:`TestApp`: WebTest's response (forms, links,
    ``follow()``, ``mustcontain()``, ``.html``, ``.json``) carrying its request's
    records, as :class:`~flask_testcase.RecordedResponse` does for the test client
    (:attr:`templates`, :attr:`context`, :attr:`flashes`, :attr:`session`), plus
    Flask-WebTest's :attr:`template` and :attr:`contexts`.

    :attr:`context` and :attr:`template` raise
    :class:`~flask_testcase.NotOneTemplate`, an :class:`AssertionError` (as in
    Flask-WebTest) and an :class:`AttributeError`, when the request rendered no
    template or several.
    """

    __test__ = False

    @property
    def template(self) -> str | None:
        """The name of the one template this request rendered (Flask-WebTest)."""
        return self._one_template("template", "name").name

    @property
    def contexts(self) -> dict[str | None, dict[str, t.Any]]:
        """The context of each template this request rendered, by template name
        (Flask-WebTest's); a template rendered twice keeps its last context, so
        :attr:`templates` has every render."""
        return {rendered.name: rendered.context for rendered in self.templates}

    @property
    def forms(self) -> dict[t.Any, t.Any]:
        """WebTest's forms of the page, by position and by id; a key the page does not
        have raises :class:`FormNotFound` naming the forms it has."""
        return _Forms(super().forms, self)

    @property
    def form(self) -> t.Any:
        """The one form of the page (WebTest's); the :class:`TypeError` raised when the
        page has none or several names the forms it has."""
        try:
            return super().form
        except TypeError as e:
            raise TypeError(f"{e} on {self._where()}. {self._forms_listing()}") from None

    def _forms_listing(self) -> str:
        forms = [form for key, form in super().forms.items() if isinstance(key, int)]
        if not forms:
            return "The page has no form."
        described = ", ".join(
            f"response.forms[{i}] ({_describe(form)})" for i, form in enumerate(forms)
        )
        return f"The page's forms: {described}."


def _describe(form: t.Any) -> str:
    name = form.html("form")[0].attrs.get("name")
    parts = [f"id {form.id!r}" if form.id else "no id"]
    if name:
        parts.append(f"name {name!r}")
    parts.append(f"{form.method.upper()} {form.action or '(this page)'}")
    return ", ".join(parts)


# -- requests --------------------------------------------------------------------------

# The TestApp whose do_request() is running in this context: the request it sends
# learns from it which Flask app to record and in which session scope to run.
_SERVING: contextvars.ContextVar[TestApp] = contextvars.ContextVar("flask_testcase_testapp")


class TestRequest(webtest.TestRequest):
    """The request class of :class:`TestApp`: sent by a :class:`TestApp`, it runs the
    app in a fresh context, recording, and returns a :class:`TestResponse` with the
    records."""

    __test__ = False
    ResponseClass = TestResponse

    def send(self, application: t.Any = None, catch_exc_info: bool = False) -> t.Any:
        testapp = _SERVING.get(None)
        if testapp is None or application is None:
            return super().send(application, catch_exc_info)
        app = testapp.app
        inner = application
        if testapp.use_session_scopes:
            inner = _in_session_scope(testapp.db, inner)
        bodies: list[_RecordedBody] = []

        def recorded(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
            body, wrap = run_recorded(app, lambda: inner(environ, start_response))
            bodies.append(wrap(body))
            return bodies[-1]

        response = super().send(recorded, catch_exc_info)
        response._records = bodies[0].records
        return response

    get_response = send


class _ScopedBody:
    """A response body that pops its request's session scope when it is closed
    (in the request's context, where the scope was pushed)."""

    def __init__(self, body: Iterable[bytes], scope: SessionScope) -> None:
        self._body = body
        self._iter: Iterator[bytes] = iter(body)
        self._scope = scope

    def __iter__(self) -> Iterator[bytes]:
        return self._iter

    def close(self) -> None:
        try:
            close = getattr(self._body, "close", None)
            if close is not None:
                close()
        finally:
            self._scope.pop()


def _in_session_scope(db: t.Any, application: WSGIApplication) -> WSGIApplication:
    def scoped(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        scope = SessionScope(db)
        scope.push()
        try:
            body = application(environ, start_response)
        except BaseException:
            scope.pop()
            raise
        return _ScopedBody(body, scope)

    return scoped


_NOT_GIVEN: t.Any = object()


def _as_user(method: _F) -> _F:
    """Give a request method of :class:`TestApp` django-webtest's ``user=``."""

    @functools.wraps(method)
    def request(self: TestApp, *args: t.Any, user: t.Any = _NOT_GIVEN, **kwargs: t.Any) -> t.Any:
        if user is not _NOT_GIVEN:
            if user is None:
                force_logout(self)
            else:
                force_login(self, user)
        return method(self, *args, **kwargs)

    return t.cast(_F, request)


class TestApp(webtest.TestApp):
    """A :class:`webtest.TestApp` of the Flask app ``app`` whose responses are
    :class:`TestResponse` objects, with their own request's records.

    Each request runs in a fresh context (``g`` and the session of the test body never
    leak into it), as the test client's do; in a :class:`~flask_testcase.TestCase` or a
    test of the pytest plugin it is recorded with the test's templates, flashes and
    emails and runs inside the test's database isolation. Every request method
    (``get``, ``post``, ``put``, ``patch``, ``delete``, ``options``, ``head``, the
    ``*_json`` ones and ``request``) also takes ``user=``: the request, and the ones
    after it, are made as that Flask-Login user (:func:`~flask_testcase.force_login`);
    ``user=None`` logs out.

    :param app: the Flask application.
    :param db: the app's Flask-SQLAlchemy instance, for ``use_session_scopes``.
    :param use_session_scopes: run each request in a :class:`SessionScope` of ``db``,
        so that it uses a database session of its own; the app's sessions must be
        scoped by :func:`get_scopefunc`.
    :param cookiejar: WebTest's cookie jar (a new one by default).
    :param extra_environ: WSGI environ values for every request; ``HTTP_HOST`` is the
        app's ``SERVER_NAME`` when that is set and this does not give one.
    :param kwargs: the other arguments of :class:`webtest.TestApp` (``lint``,
        ``parser_features``, ``json_encoder``, ...).
    """

    __test__ = False
    RequestClass = TestRequest

    def __init__(
        self,
        app: flask.Flask,
        db: t.Any = None,
        use_session_scopes: bool = False,
        cookiejar: t.Any = None,
        extra_environ: dict[str, t.Any] | None = None,
        **kwargs: t.Any,
    ) -> None:
        if not isinstance(app, flask.Flask):
            raise TypeError(
                f"TestApp() takes the Flask application (a flask.Flask), got {app!r}; for"
                " another WSGI application use webtest.TestApp."
            )
        if isinstance(db, dict):
            raise TypeError(
                "TestApp()'s second argument is db (Flask-WebTest's order), got a dict;"
                " pass extra_environ= by keyword."
            )
        if use_session_scopes:
            _check_scoped(db)
        self.db = db
        self.use_session_scopes = use_session_scopes
        extra_environ = dict(extra_environ or {})
        server_name = app.config.get("SERVER_NAME")
        if server_name and "HTTP_HOST" not in extra_environ:
            extra_environ["HTTP_HOST"] = server_name
        super().__init__(app, extra_environ=extra_environ, cookiejar=cookiejar, **kwargs)
        self.app: flask.Flask = app

    def do_request(self, req: t.Any, status: t.Any = None, expect_errors: t.Any = None) -> t.Any:
        if not isinstance(req, TestRequest):
            req = self.RequestClass(req.environ)
        undo = _SERVING.set(self)
        try:
            return super().do_request(req, status=status, expect_errors=expect_errors)
        finally:
            _SERVING.reset(undo)

    get = _as_user(webtest.TestApp.get)
    post = _as_user(webtest.TestApp.post)
    put = _as_user(webtest.TestApp.put)
    patch = _as_user(webtest.TestApp.patch)
    delete = _as_user(webtest.TestApp.delete)
    options = _as_user(webtest.TestApp.options)
    head = _as_user(webtest.TestApp.head)
    post_json = _as_user(webtest.TestApp.post_json)
    put_json = _as_user(webtest.TestApp.put_json)
    patch_json = _as_user(webtest.TestApp.patch_json)
    delete_json = _as_user(webtest.TestApp.delete_json)
    request = _as_user(webtest.TestApp.request)

    # -- the session -------------------------------------------------------------------

    def _next_request(self) -> urllib.request.Request:
        """A request like this app's next one to ``/``, as the cookie jar sees it."""
        request = self.RequestClass.blank("/", dict(self.extra_environ))
        return urllib.request.Request(request.url, origin_req_host=request.host, unverifiable=True)

    def _request_environ(self) -> dict[str, t.Any]:
        """The environ of a request like this app's next one, with its cookies."""
        request = self.RequestClass.blank("/", dict(self.extra_environ))
        cookies = self._next_request()
        self.cookiejar.add_cookie_header(cookies)
        header = cookies.get_header("Cookie")
        if header:
            request.environ["HTTP_COOKIE"] = header
        environ: dict[str, t.Any] = request.environ
        return environ

    @contextlib.contextmanager
    def session_transaction(self) -> Iterator[SessionMixin]:
        """Open the session this app's cookies carry, for reading and writing; when
        the block ends it is saved back into the cookie jar (Flask's
        :meth:`~flask.testing.FlaskClient.session_transaction`, on WebTest's
        cookies)::

            with testapp.session_transaction() as session:
                session["cart"] = [42]
        """
        app = self.app
        interface = app.session_interface
        ctx = app.request_context(self._request_environ())
        with ctx:
            session = interface.open_session(app, ctx.request)
        if session is None:
            raise RuntimeError("Session backend did not open a session.")
        yield session
        if interface.is_null_session(session):
            return
        response = app.response_class()
        with ctx:
            interface.save_session(app, session, response)
        self.cookiejar.extract_cookies(
            _SetCookies(response.headers.getlist("Set-Cookie")),
            self._next_request(),
        )

    def _session_access(self) -> SessionAccess:
        # What force_login() and csrf_token() need (see _requests.session_access).
        return SessionAccess(
            self.app,
            lambda: self.app.request_context(self._request_environ()),
            self.session_transaction,
        )


class _SetCookies:
    """The ``Set-Cookie`` headers of a response, as :mod:`http.cookiejar` reads them."""

    def __init__(self, values: list[str]) -> None:
        self._message = email.message.Message()
        for value in values:
            self._message["Set-Cookie"] = value

    def info(self) -> email.message.Message:
        return self._message


# -- Flask-SQLAlchemy session scopes -----------------------------------------------------

# The scopes pushed in this context, innermost last. A context variable: each request
# of a TestApp runs in a context of its own, and pushes its scope there.
_SCOPES: contextvars.ContextVar[tuple[SessionScope, ...]] = contextvars.ContextVar(
    "flask_testcase_session_scopes", default=()
)


class SessionScope:
    """A scope in which ``db.session`` is a new database session: pushed, the
    :func:`get_scopefunc` scope function gives a new key; popped, the scope's session
    is removed and the one before is current again (Flask-WebTest's).

    .. code-block:: python

        with SessionScope(db):
            db.session.get(User, 1)  # a brand new session

    :param db: the app's Flask-SQLAlchemy instance, whose sessions are scoped by
        :func:`get_scopefunc`.
    """

    def __init__(self, db: t.Any) -> None:
        self.db = db

    def push(self) -> None:
        """Enter the scope: ``db.session`` is the scope's own session from now on."""
        _SCOPES.set((*_SCOPES.get(), self))

    def pop(self) -> None:
        """Remove the scope's session and leave the scope.

        :raises RuntimeError: the scope is not the innermost one pushed (in this
            context).
        """
        scopes = _SCOPES.get()
        if not scopes or scopes[-1] is not self:
            top = repr(scopes[-1]) if scopes else "none"
            raise RuntimeError(
                f"{self!r}.pop(): it is not the innermost session scope (that is {top})."
                " Pop scopes in the reverse order of push(), in the context that pushed"
                " them, or use 'with SessionScope(db):'."
            )
        self.db.session.remove()
        _SCOPES.set(scopes[:-1])

    def __enter__(self) -> SessionScope:
        self.push()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.pop()


def get_scopefunc(
    original_scopefunc: t.Callable[[], t.Any] | None = None,
) -> t.Callable[[], t.Any]:
    """Return a scope function for Flask-SQLAlchemy's sessions that knows
    :class:`SessionScope` (Flask-WebTest's): inside a scope, the key of the scope;
    outside, ``original_scopefunc()``::

        db = SQLAlchemy(session_options={"scopefunc": get_scopefunc()})

    :param original_scopefunc: the key outside any scope; by default the thread (so
        the test body and requests made without a scope share one session, as under
        Flask-WebTest).
    """
    original = threading.get_ident if original_scopefunc is None else original_scopefunc

    def scopefunc() -> t.Any:
        scopes = _SCOPES.get()
        key = original()
        return (key, id(scopes[-1])) if scopes else key

    scopefunc.flask_testcase_scopes = True  # type: ignore[attr-defined]
    return scopefunc


def _check_scoped(db: t.Any) -> None:
    if db is None:
        raise ValueError(
            "TestApp(use_session_scopes=True) runs each request in a session scope of"
            " db: pass db= (the app's Flask-SQLAlchemy instance)."
        )
    registry = getattr(getattr(db, "session", None), "registry", None)
    if not getattr(getattr(registry, "scopefunc", None), "flask_testcase_scopes", False):
        raise ValueError(
            f"TestApp(use_session_scopes=True) needs {db!r}'s sessions scoped by"
            " flask_testcase.webtest.get_scopefunc(), or a scope changes nothing: make"
            " it with SQLAlchemy(session_options={'scopefunc': get_scopefunc()})."
        )
