"""flask_testcase's pytest plugin: pytest-flask's fixtures and options over the same
machinery as :class:`~flask_testcase.TestCase`, plus ``runner``, ``templates``,
``flashed_messages``, an isolated ``db``, class- and module-wide data fixtures
(:func:`data_fixture`) and ``assertNumQueries``.

Installed with the package and loaded by pytest through its ``pytest11`` entry point.
A test that uses none of its fixtures is left alone: every fixture here acts only when
the test asks for ``app`` (directly or through another fixture).

The user provides the app, as with pytest-flask, as an ``app`` fixture of any scope
in ``conftest.py``, or names a factory (or an app object) once in the ini file::

    [pytest]
    flask_app = myapp:create_app

For each test that uses ``app``: its test client class runs each request in a fresh
context, a test request context is pushed, ``@pytest.mark.options(...)`` applies
config, responses compare equal to their status code, and afterwards ``app.config``
is as it was (also for an app shared by several tests).
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import typing as t

import flask
import pytest

from . import _current
from ._classes import class_factory
from .capture import record_flashed_messages
from .capture import record_templates
from .live_server import _LiveServer

if t.TYPE_CHECKING:
    from collections.abc import Callable
    from collections.abc import Iterator

    from flask.testing import FlaskClient
    from flask.testing import FlaskCliRunner

    from .capture import FlashedMessage
    from .capture import RenderedTemplate
    from .isolation import DatabaseIsolation

__all__ = ["LiveServer", "data_fixture"]

_F = t.TypeVar("_F", bound=t.Callable[..., t.Any])


# -- options ---------------------------------------------------------------------------


def _pytest_flask_loads(pluginmanager: pytest.PytestPluginManager) -> bool:
    """Whether pytest-flask is (or is about to be) loaded: registered already, or
    installed, not disabled with ``-p no:flask``, and plugins load automatically."""
    import importlib.util
    import os

    if pluginmanager.has_plugin("flask") or pluginmanager.has_plugin("pytest_flask.plugin"):
        return True
    return (
        not pluginmanager.is_blocked("flask")
        and not os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD")
        and importlib.util.find_spec("pytest_flask") is not None
    )


def pytest_addoption(parser: pytest.Parser, pluginmanager: pytest.PytestPluginManager) -> None:
    parser.addini(
        "flask_app",
        "the app for the 'app' fixture when conftest.py defines none:"
        " 'module:factory' (called with no arguments) or 'module:app'.",
        default="",
    )
    if _pytest_flask_loads(pluginmanager):
        # pytest-flask adds the same options: let it, so that pytest_configure can say
        # what to do instead of pytest failing on a duplicate option.
        return
    group = parser.getgroup("flask", "flask_testcase (Flask apps)")
    group.addoption(
        "--start-live-server",
        action="store_true",
        dest="start_live_server",
        default=True,
        help="start the live server when a test uses live_server (the default).",
    )
    group.addoption(
        "--no-start-live-server",
        action="store_false",
        dest="start_live_server",
        help="do not start the live server until the test calls live_server.start().",
    )
    group.addoption(
        "--live-server-wait",
        action="store",
        dest="live_server_wait",
        default=5.0,
        type=float,
        help="seconds to wait for the live server to start and stop (default 5).",
    )
    group.addoption(
        "--live-server-clean-stop",
        action="store_true",
        dest="live_server_clean_stop",
        default=True,
        help="accepted for pytest-flask compatibility: the server always stops cleanly.",
    )
    group.addoption(
        "--no-live-server-clean-stop",
        action="store_false",
        dest="live_server_clean_stop",
        help="accepted for pytest-flask compatibility: the server always stops cleanly.",
    )
    group.addoption(
        "--live-server-host",
        action="store",
        default="localhost",
        type=str,
        help="the address the live server listens on (default localhost).",
    )
    group.addoption(
        "--live-server-port",
        action="store",
        default=0,
        type=int,
        help="the live server's port (default 0: a free port).",
    )
    parser.addini(
        "live_server_scope",
        "scope of the live_server fixture (default session).",
        default="session",
    )


def pytest_configure(config: pytest.Config) -> None:
    pm = config.pluginmanager
    if pm.has_plugin("flask") or pm.has_plugin("pytest_flask.plugin"):
        raise pytest.UsageError(
            "flask_testcase's pytest plugin and pytest-flask are both active, and both"
            " define the fixtures client, config, live_server and the options marker."
            " flask_testcase replaces pytest-flask: uninstall it (pip uninstall"
            " pytest-flask). To keep pytest-flask instead, run pytest with"
            " -p no:flask_testcase."
        )
    config.addinivalue_line("markers", "options(**config): set app.config for the test")
    config.addinivalue_line(
        "markers", "app(**options): accepted for pytest-flask compatibility (unused)"
    )
    config.addinivalue_line(
        "markers",
        "reset_sequences: primary keys start from 1 again in this test (see the docs)",
    )


def pytest_assertrepr_compare(op: str, left: t.Any, right: t.Any) -> list[str] | None:
    if isinstance(left, _StatusComparison) and op == "==" and isinstance(right, int):
        return [
            f"Mismatch in status code for response: {left.status_code} != {right}",
            f"Response status: {left.status}",
        ]
    return None


# -- the app -------------------------------------------------------------------------


@pytest.fixture
def app(pytestconfig: pytest.Config) -> flask.Flask:
    """The app under test, from the ``flask_app`` ini setting (a new one for each test
    when it names a factory). A conftest.py ``app`` fixture replaces this one."""
    spec = str(pytestconfig.getini("flask_app") or "").strip()
    if not spec:
        raise pytest.UsageError(
            "No Flask app: flask_testcase's fixtures need one. Define an 'app' fixture in"
            " conftest.py that returns your app (e.g. 'return create_app(\"testing\")'),"
            " or name your app factory once in the ini file: flask_app ="
            " 'yourpackage:create_app'."
        )
    module_name, _, attribute = spec.partition(":")
    try:
        target = getattr(importlib.import_module(module_name), attribute or "app")
    except (ImportError, AttributeError) as e:
        raise pytest.UsageError(
            f"flask_app = {spec!r} in the ini file cannot be loaded ({e}); write it as"
            " 'package.module:create_app' or 'package.module:app'."
        ) from e
    value: flask.Flask = (
        target() if callable(target) and not isinstance(target, flask.Flask) else target
    )
    return value


def _checked_app(request: pytest.FixtureRequest) -> flask.Flask:
    value = request.getfixturevalue("app")
    if not isinstance(value, flask.Flask):
        hint = " Did the fixture forget to return it?" if value is None else ""
        raise TypeError(
            f"the 'app' fixture must return a flask.Flask instance, got {value!r}"
            f" ({type(value).__name__}).{hint}"
        )
    return value


class _StatusComparison:
    """Mixed into the app's response class for the test: a response compares equal to
    its status code (pytest-flask's behaviour)."""

    status_code: int
    status: str

    def __eq__(self, other: object) -> bool:
        if isinstance(other, int) and not isinstance(other, bool):
            return self.status_code == other
        return super().__eq__(other)

    def __ne__(self, other: object) -> bool:
        return not self == other

    __hash__ = object.__hash__


@class_factory
def _comparing(response_class: type) -> type:
    if "json" in vars(response_class) or issubclass(response_class, _StatusComparison):
        # pytest-flask leaves a class with its own json alone; so do we.
        return response_class
    return type(response_class.__name__, (_StatusComparison, response_class), {})


@pytest.fixture(autouse=True)
def _flask_testcase_app(request: pytest.FixtureRequest) -> Iterator[None]:
    """For a test that uses ``app`` (or ``live_server``, which serves it): everything
    TestCase does around a test."""
    if "app" not in request.fixturenames and "live_server" not in request.fixturenames:
        yield
        return
    from ._requests import isolate_test_client
    from ._requests import set_for_test
    from .case import _active_contexts
    from .case import _pop_test_context
    from .case import _restore_config

    app = _checked_app(request)
    with contextlib.ExitStack() as stack:
        saved = dict(app.config)
        stack.callback(_restore_config, app, saved)
        stack.callback(isolate_test_client(app))
        stack.callback(set_for_test(app, "response_class", _comparing(app.response_class)))
        for marker in request.node.iter_markers("options"):
            app.config.update({key.upper(): value for key, value in marker.kwargs.items()})
        isolation = _outer_isolation(request, app)
        if isolation is not None:
            stack.enter_context(isolation.savepoint())
        if "live_server" in request.fixturenames:
            server: LiveServer = request.getfixturevalue("live_server")
            serialize = isolation is not None or "db" in request.fixturenames
            start = bool(request.config.getoption("start_live_server", True))
            stack.enter_context(server._serving(app, request.node.nodeid, serialize, start))
        ctx = app.test_request_context()
        ctx.push()
        stack.callback(_pop_test_context, ctx, _active_contexts())
        # The test's records, for the templates and flashed_messages fixtures and for
        # flask_testcase.asserts; the client and db fixtures add themselves.
        rendered = stack.enter_context(record_templates(app))
        flashed = stack.enter_context(record_flashed_messages(app))
        stack.callback(_current.push(rendered, flashed, isolation, app=app))
        yield


@pytest.fixture
def client(app: flask.Flask) -> Iterator[FlaskClient]:
    """The app's test client; each request runs in a fresh context, and inside the
    test the last request's contexts stay available (``with client:``). Its responses
    carry the records of their own request (``response.templates``, ``.context``,
    ``.flashes``, ``.session``)."""
    with app.test_client() as test_client:
        undo = _current.push_more(client=test_client)
        try:
            yield test_client
        finally:
            undo()


@pytest.fixture
def client_class(request: pytest.FixtureRequest, client: FlaskClient) -> None:
    """Set ``self.client`` on the test class (``@pytest.mark.usefixtures("client_class")``)."""
    if request.cls is not None:
        request.cls.client = client


@pytest.fixture
def config(app: flask.Flask) -> flask.Config:
    """``app.config``; changes are undone after the test."""
    return app.config


@pytest.fixture
def runner(app: flask.Flask) -> FlaskCliRunner:
    """``app.test_cli_runner()``, for invoking CLI commands."""
    return app.test_cli_runner()


@pytest.fixture
def templates(app: flask.Flask) -> list[RenderedTemplate]:
    """Every template the app renders during the test, in order."""
    return _current.current().templates


@pytest.fixture
def flashed_messages(app: flask.Flask) -> list[FlashedMessage]:
    """Every message the app flashes during the test, in order."""
    return _current.current().flashed_messages


@pytest.fixture(params=["application/json", "text/html"])
def mimetype(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _accept(mimetype: str) -> list[tuple[str, str]]:
    return [("Accept", mimetype)]


@pytest.fixture
def accept_mimetype(mimetype: str) -> list[tuple[str, str]]:
    return _accept(mimetype)


@pytest.fixture
def accept_json() -> list[tuple[str, str]]:
    return _accept("application/json")


@pytest.fixture
def accept_jsonp() -> list[tuple[str, str]]:
    return _accept("application/json-p")


@pytest.fixture(params=["*", "*/*"])
def accept_any(request: pytest.FixtureRequest) -> list[tuple[str, str]]:
    return _accept(str(request.param))


# -- the database ----------------------------------------------------------------------

_ISOLATIONS = pytest.StashKey[dict[tuple[int, int], "DatabaseIsolation"]]()


def _isolations(config: pytest.Config) -> dict[tuple[int, int], DatabaseIsolation]:
    return config.stash.setdefault(_ISOLATIONS, {})


def _app_db(app: flask.Flask, asked_by: str) -> t.Any:
    db = app.extensions.get("sqlalchemy")
    if db is None:
        raise pytest.UsageError(
            f"'{asked_by}' needs the app's Flask-SQLAlchemy, and the app {app.name!r} has"
            " none: call db.init_app(app) in your app factory, or define your own 'db'"
            " fixture."
        )
    return db


def _outer_isolation(request: pytest.FixtureRequest, app: flask.Flask) -> DatabaseIsolation | None:
    db = app.extensions.get("sqlalchemy")
    if db is None:
        return None
    return _isolations(request.config).get((id(db), id(app)))


@pytest.fixture
def db(request: pytest.FixtureRequest, app: flask.Flask) -> Iterator[t.Any]:
    """The app's Flask-SQLAlchemy instance (``app.extensions["sqlalchemy"]``), with the
    test in transactions rolled back afterwards. A ``db`` fixture of your own wins."""
    database = _app_db(app, "db")
    with _test_isolation(request, app, database):
        yield database


@contextlib.contextmanager
def _test_isolation(
    request: pytest.FixtureRequest, app: flask.Flask, database: t.Any
) -> Iterator[DatabaseIsolation]:
    from .isolation import DatabaseIsolation

    isolations = _isolations(request.config)
    key = (id(database), id(app))
    outer = isolations.get(key)
    if outer is not None:
        # Data fixtures began a wider isolation; the test's savepoint is entered by
        # the autouse fixture, for tests without db too.
        yield outer
        return
    isolation = DatabaseIsolation(
        database,
        owner=request.node.nodeid,
        opt_in="pass allow_any_database=True to database_isolation() in a db fixture of your own",
        reset_sequences=request.node.get_closest_marker("reset_sequences") is not None,
    )
    isolation.start(app)
    isolations[key] = isolation
    undo = _current.push_more(isolation=isolation)
    try:
        with app.app_context():
            database.session.remove()
        yield isolation
    finally:
        undo()
        del isolations[key]
        isolation.end()


def data_fixture(
    function: _F | None = None, *, scope: str = "module", name: str | None = None
) -> t.Any:
    """Make a fixture that creates data once per ``scope`` (``"module"``, ``"class"``,
    ``"package"`` or ``"session"``): the pytest counterpart of ``setUpTestData``.

    The function runs in an app context inside a transaction that stays open for the
    scope and is rolled back after it; its session is committed after it returns.
    Every test in the scope sees the data, and what a test changes is undone after
    that test. It may take ``db`` (the app's Flask-SQLAlchemy) and any other fixture
    of a wide enough scope; the ``app`` fixture must be at least as wide::

        @data_fixture(scope="module")
        def users(db):
            ada = User(name="ada")
            db.session.add(ada)
            db.session.commit()
            return {"ada": ada.id}

        def test_profile(client, users):
            assert client.get(f"/users/{users['ada']}").status_code == 200
    """

    def decorate(function: _F) -> t.Any:
        parameters = [p for p in inspect.signature(function).parameters if p != "db"]

        def fixture(request: pytest.FixtureRequest, app: flask.Flask) -> Iterator[t.Any]:
            from .isolation import DatabaseIsolation

            database = _app_db(app, function.__name__)
            isolations = _isolations(request.config)
            key = (id(database), id(app))
            with contextlib.ExitStack() as stack:
                isolation = isolations.get(key)
                if isolation is None:
                    isolation = DatabaseIsolation(database, owner=function.__name__)
                    isolation.start(app)
                    isolations[key] = isolation
                    stack.callback(isolation.end)
                    stack.callback(isolations.pop, key, None)
                else:
                    stack.enter_context(isolation.savepoint())
                kwargs = {p: request.getfixturevalue(p) for p in parameters}
                if "db" in inspect.signature(function).parameters:
                    kwargs["db"] = database
                with app.app_context():
                    database.session(expire_on_commit=False)
                    try:
                        value = function(**kwargs)
                        database.session.commit()
                    finally:
                        database.session.remove()
                yield value

        fixture.__name__ = function.__name__
        fixture.__doc__ = function.__doc__
        return pytest.fixture(scope=scope, name=name or function.__name__)(fixture)  # type: ignore[call-overload]

    return decorate if function is None else decorate(function)


@pytest.fixture
def assertNumQueries(request: pytest.FixtureRequest, app: flask.Flask) -> Callable[..., t.Any]:
    """``assertNumQueries(num, func=None, *args, **kwargs)`` as on TestCase: a context
    manager (or a call of ``func``) that fails unless exactly ``num`` statements ran.
    It needs the test's database isolation: use it with ``db``."""
    from .database import count_queries

    def assert_num_queries(
        num: int,
        func: Callable[..., t.Any] | None = None,
        *args: t.Any,
        msg: str | None = None,
        **kwargs: t.Any,
    ) -> t.Any:
        isolation = _outer_isolation(request, app)
        if isolation is None:
            raise ValueError(
                "assertNumQueries() counts the queries of the test's database isolation;"
                " use the db fixture in the test too"
            )

        def fail(standard: str) -> t.NoReturn:
            _fail(standard if msg is None else f"{standard} : {msg}")

        context = count_queries(isolation, num, fail)
        if func is None:
            return context
        with context:
            return func(*args, **kwargs)

    return assert_num_queries


def _fail(message: str) -> t.NoReturn:
    __tracebackhide__ = True
    raise AssertionError(message)


# -- the live server -------------------------------------------------------------------


_Scope = t.Literal["session", "package", "module", "class", "function"]


def _live_server_scope(fixture_name: str, config: pytest.Config) -> _Scope:
    try:
        scope = str(config.getini("live_server_scope"))
    except ValueError:  # pytest-flask registered the ini setting and is not loaded
        scope = "session"
    if scope not in t.get_args(_Scope):
        raise pytest.UsageError(
            f"live_server_scope = {scope!r} in the ini file: use one of"
            f" {', '.join(t.get_args(_Scope))}"
        )
    return t.cast(_Scope, scope)


class LiveServer:
    """The ``live_server`` fixture: one threaded server for the scope (the session by
    default, ini ``live_server_scope``), serving each test's app in turn, so that its
    requests see the test's database transaction and records.

    The names are pytest-flask's: :attr:`host`, :attr:`port`, :attr:`app`, :meth:`url`,
    :meth:`start` and :meth:`stop`. While a test runs, the app's ``SERVER_NAME`` is
    ``localhost.localdomain:<port>`` (or the app's own name with the port), so
    ``url_for(..., _external=True)`` names the server.
    """

    def __init__(self, host: str, port: int, wait: float) -> None:
        #: The address the server listens on.
        self.host = host
        self._wait = wait
        self._port = port or _free_port(host)
        self._server: _LiveServer | None = None
        self._test: tuple[flask.Flask, str, bool] | None = None
        self._attachment: tuple[_LiveServer, t.Any] | None = None

    @property
    def port(self) -> int:
        """The port the server listens on."""
        return self._server.port if self._server is not None else self._port

    @property
    def app(self) -> flask.Flask:
        """The app the server serves for the running test."""
        if self._test is None:
            raise RuntimeError("live_server.app is the running test's app, and no test is running")
        return self._test[0]

    def url(self, url: str = "") -> str:
        """The full URL of ``url`` on the server: ``http://localhost:5000/path``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}{url}"

    def start(self) -> None:
        """Start listening (done before each test unless ``--no-start-live-server``)."""
        if self._server is None:
            self._server = _LiveServer(self.host, self._port, self._wait)
        if self._test is not None and self._attachment is None:
            app, test, serialize = self._test
            self._attachment = (self._server, self._server.dispatcher.attach(app, test, serialize))

    def stop(self) -> None:
        """Stop the server; a later :meth:`start` starts a new one on the same port."""
        self._detach()
        server, self._server = self._server, None
        if server is not None:
            server.stop()

    @contextlib.contextmanager
    def _serving(self, app: flask.Flask, test: str, serialize: bool, start: bool) -> Iterator[None]:
        name = (app.config.get("SERVER_NAME") or "localhost.localdomain").split(":", 1)[0]
        server_name = app.config["SERVER_NAME"] = f"{name}:{self.port}"
        # A browser asks for the server's own address (url()), whose host differs from
        # SERVER_NAME; Flask before 3.1 would not route it. Present such requests
        # under SERVER_NAME, as url_for(..., _external=True) names them.
        listening = {f"{self.host}:{self.port}", f"127.0.0.1:{self.port}"}
        wsgi_app = app.wsgi_app

        def as_server_name(environ: t.Any, start_response: t.Any) -> t.Any:
            if environ.get("HTTP_HOST") in listening:
                environ["HTTP_HOST"] = server_name
            return wsgi_app(environ, start_response)

        app.wsgi_app = as_server_name  # type: ignore[method-assign]
        self._test = (app, test, serialize)
        try:
            if start:
                self.start()
            yield
        finally:
            self._test = None
            app.wsgi_app = wsgi_app  # type: ignore[method-assign]
            self._detach()

    def _detach(self) -> None:
        attachment, self._attachment = self._attachment, None
        if attachment is not None:
            server, handle = attachment
            server.dispatcher.detach(handle)
            server.check()

    def __repr__(self) -> str:
        return f"<LiveServer listening at {self.url()}>"


def _free_port(host: str) -> int:
    """A port free now, for pytest-flask's ``--no-start-live-server``: the URL must be
    known before the test starts the server."""
    import socket

    from werkzeug.serving import get_sockaddr
    from werkzeug.serving import select_address_family

    family = select_address_family(host, 0)
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.bind(get_sockaddr(host, 0, family))
        return int(sock.getsockname()[1])


@pytest.fixture(scope=_live_server_scope)
def live_server(pytestconfig: pytest.Config) -> Iterator[LiveServer]:
    """A threaded live server for the scope, serving each test's app in turn."""
    server = LiveServer(
        pytestconfig.getoption("live_server_host", "localhost"),
        pytestconfig.getoption("live_server_port", 0),
        pytestconfig.getoption("live_server_wait", 5.0),
    )
    try:
        yield server
    finally:
        server.stop()


# -- everyday extras: the outbox (flask_testcase.mail) -------------------------------
# Logging in and CSRF tokens are plain functions taking the client (force_login,
# csrf_token); only the outbox needs a fixture.


@pytest.fixture(autouse=True)
def _flask_testcase_outbox(request: pytest.FixtureRequest) -> Iterator[list[t.Any] | None]:
    """For a test that uses ``app``, if the app has Flask-Mail or Flask-Mailman: record
    every email, send none (whether or not the test asks for ``outbox``)."""
    if "app" not in request.fixturenames:
        yield None
        return
    from .mail import has_mail
    from .mail import record_mail

    app = _checked_app(request)
    if not has_mail(app):
        yield None
        return
    with record_mail(app) as sent:
        yield sent


@pytest.fixture
def outbox(request: pytest.FixtureRequest, app: flask.Flask) -> list[t.Any]:
    """Every email the app sent during the test, in order, as
    :class:`~flask_testcase.SentEmail` records; none leaves the machine."""
    sent: list[t.Any] | None = request.getfixturevalue("_flask_testcase_outbox")
    if sent is None:
        from .mail import require_mail

        # Raises NoMailExtensionError, which says what to set up.
        require_mail(app)
        raise AssertionError("unreachable: require_mail() accepted an app without mail")
    return sent
