"""The names pytest-flask defines, served by flask_testcase's pytest plugin: the
``client``, ``client_class``, ``config``, ``live_server``, ``mimetype`` and ``accept_*``
fixtures, the ``options`` and ``app`` markers, responses that compare equal to their
status code, and pytest-flask's command line options and ``live_server_scope``.

:mod:`flask_testcase.pytest_plugin` registers this module only when pytest-flask is
not active, so that installing flask_testcase beside pytest-flask never breaks a run:
pytest-flask then keeps these names and flask_testcase serves the rest.
"""

from __future__ import annotations

import typing as t

import flask
import pytest

from ._classes import class_factory
from .live_server import LiveServer

if t.TYPE_CHECKING:
    from collections.abc import Iterator

    from flask.testing import FlaskClient

__all__ = ["add_options", "comparing"]


def add_options(parser: pytest.Parser) -> None:
    """pytest-flask's command line options and ini setting (called by the plugin's
    ``pytest_addoption`` when pytest-flask will not add them itself)."""
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
    config.addinivalue_line("markers", "options(**config): set app.config for the test")
    config.addinivalue_line(
        "markers", "app(**options): accepted for pytest-flask compatibility (unused)"
    )


def pytest_assertrepr_compare(op: str, left: t.Any, right: t.Any) -> list[str] | None:
    if isinstance(left, _StatusComparison) and op == "==" and isinstance(right, int):
        return [
            f"Mismatch in status code for response: {left.status_code} != {right}",
            f"Response status: {left.status}",
        ]
    return None


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
def comparing(response_class: type) -> type:
    """The response class whose responses compare equal to their status code."""
    if "json" in vars(response_class) or issubclass(response_class, _StatusComparison):
        # pytest-flask leaves a class with its own json alone; so do we.
        return response_class
    return type(response_class.__name__, (_StatusComparison, response_class), {})


@pytest.fixture
def client(request: pytest.FixtureRequest, app: flask.Flask) -> FlaskClient:
    """The app's test client; each request runs in a fresh context, and inside the
    test the last request's contexts stay available, as with pytest-flask's client
    (``with client:`` works too). Its responses carry the records of their own
    request (``response.templates``, ``.context``, ``.flashes``, ``.session``)."""
    env = request.getfixturevalue("_flask_testcase")
    test_client: FlaskClient = env.client
    return test_client


@pytest.fixture
def client_class(request: pytest.FixtureRequest, client: FlaskClient) -> None:
    """Set ``self.client`` on the test class (``@pytest.mark.usefixtures("client_class")``)."""
    if request.cls is not None:
        request.cls.client = client


@pytest.fixture
def config(app: flask.Flask) -> flask.Config:
    """``app.config``; changes are undone after the test."""
    return app.config


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
