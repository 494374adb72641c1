""":class:`LiveServerTestCase`: the app under test served over real HTTP from a thread.

One Werkzeug server per test class runs on a daemon thread of the test process. It is
started by the class's first test that runs and stopped by a class cleanup. Each test
points the server at that test's own app, so templates, flashed messages and database
isolation apply to what a browser does exactly as they do to :attr:`TestCase.client`.
Nothing crosses a process boundary, so nothing is pickled and every
:mod:`multiprocessing` start method works.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import queue
import selectors
import socket
import threading
import time
import typing as t

from werkzeug.serving import ThreadedWSGIServer
from werkzeug.serving import WSGIRequestHandler
from werkzeug.serving import get_sockaddr
from werkzeug.serving import select_address_family

from ._requests import fresh_context
from .case import TestCase
from .case import _replace_settings

if t.TYPE_CHECKING:
    from collections.abc import Iterable
    from collections.abc import Iterator

    import flask
    from _typeshed.wsgi import StartResponse
    from _typeshed.wsgi import WSGIEnvironment

    from ._environment import Settings

__all__ = ["LiveServerTestCase"]

__unittest = True

logger = logging.getLogger("flask_testcase.live_server")

#: Flask-Testing's defaults, except the port: 0 lets the OS pick a free one, so test
#: classes (and pytest-xdist workers) never collide on a fixed port.
DEFAULT_PORT = 0
DEFAULT_TIMEOUT = 5.0

_SERVER = "_flask_testcase_live_server"
# The environ key under which the dispatcher leaves the response for the handler.
_RESPONSE = "flask_testcase.live_server.response"


class _RequestHandler(WSGIRequestHandler):
    """Werkzeug's handler, tracked by the server and logging to our logger.

    Werkzeug's own logging adds a handler to the global ``werkzeug`` logger on first
    use; a test library must not change the process's logging behind its back.
    """

    # Set here so Werkzeug does not set it on its shared WSGIRequestHandler class.
    protocol_version = "HTTP/1.1"
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection)

    def run_wsgi(self) -> None:
        try:
            super().run_wsgi()
        finally:
            # Werkzeug skips the response's close() when the client resets the
            # connection while it drains the request; the request must still end, or
            # the serialised requests after it would wait for it forever.
            environ = vars(self).get("environ")
            response = environ.pop(_RESPONSE, None) if environ is not None else None
            if response is not None:
                response.close()

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.untrack(self.connection)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        logger.info('%s "%s" %s %s', self.address_string(), self.requestline, code, size)

    def log(self, type: str, message: str, *args: t.Any) -> None:
        _log(type, f"{self.address_string()} {message}", *args)


def _log(type: str, message: str, *args: t.Any) -> None:
    # Werkzeug passes printf-style arguments with some messages and none with others
    # (where the text may hold a "%"), so format here rather than in logging.
    text = message % args if args else message
    logger.log(logging.ERROR if type == "error" else logging.INFO, "%s", text.rstrip())


class _Server(ThreadedWSGIServer):
    """Serves each connection on a handler thread kept for the next one, keeps the open
    connections so that stopping can close idle ones, and serves until told to stop,
    at once.

    socketserver's ``ThreadingMixIn`` starts a thread per connection: on a busy
    machine that took longer than serving the request (the new thread must be
    scheduled before ``Thread.start()`` returns, and again to run). Here a connection
    goes to an idle handler thread, or to a new one when none is idle, so that
    requests are still served concurrently, however many connections are held open.
    Handler threads are daemons; a browser's speculative connection that never sends
    a request would keep one busy after the class, so stopping shuts down the open
    connections before it ends the handler threads.

    socketserver's ``serve_forever`` notices ``shutdown()`` only when its poll interval
    ends, which every class's last test waited for (10 ms on average with a 20 ms
    interval, a millisecond per test in a class of ten); :meth:`serve_until_stopped`
    also waits on a socket that :meth:`stop_serving` writes to, so it leaves its loop
    as soon as it is told to.
    """

    #: :meth:`handle_request` only runs once the listening socket is readable: it must
    #: not wait (and so miss a stop) if the connection is gone by then.
    timeout = 0.0

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        self._tracking_lock = threading.Lock()
        self._open_connections: set[socket.socket] = set()
        self._handler_threads: list[threading.Thread] = []
        #: Handler threads waiting for a connection that none has been given yet.
        self._idle_handlers = 0
        #: Connections for the handler threads; None tells one to end.
        self._connections: queue.SimpleQueue[tuple[socket.socket, t.Any] | None] = (
            queue.SimpleQueue()
        )
        self._stopping = False
        self._stopped = threading.Event()
        super().__init__(*args, **kwargs)
        # After Werkzeug's __init__, which calls server_close() on a socket of its own.
        self._wake, self._waker = socket.socketpair()

    def process_request(self, request: t.Any, client_address: t.Any) -> None:
        """Hand the connection to an idle handler thread, or to a new one."""
        with self._tracking_lock:
            idle = self._idle_handlers > 0
            if idle:
                self._idle_handlers -= 1
        if not idle:
            thread = threading.Thread(
                target=self._handle_connections,
                name=f"flask_testcase live server port {self.server_address[1]} request handler",
                daemon=True,
            )
            with self._tracking_lock:
                self._handler_threads.append(thread)
            thread.start()
        self._connections.put((request, client_address))

    def _handle_connections(self) -> None:
        """A handler thread: serve connections until told to end."""
        while True:
            item = self._connections.get()
            if item is None:
                return
            request, client_address = item
            # What ThreadingMixIn's per-connection thread does.
            try:
                self.finish_request(request, client_address)
            except Exception:
                self.handle_error(request, client_address)
            finally:
                self.shutdown_request(request)
            with self._tracking_lock:
                self._idle_handlers += 1

    def serve_until_stopped(self) -> None:
        """Accept connections until :meth:`stop_serving`, then close the listening
        socket (as Werkzeug's ``serve_forever`` does)."""
        try:
            with selectors.DefaultSelector() as selector:
                selector.register(self.socket, selectors.EVENT_READ)
                selector.register(self._wake, selectors.EVENT_READ)
                while not self._stopping:
                    ready = selector.select()
                    if self._stopping:
                        break
                    if any(key.fileobj is self.socket for key, _ in ready):
                        self.handle_request()
                    self.service_actions()
        finally:
            self.server_close()
            self._stopped.set()

    def stop_serving(self, timeout: float) -> bool:
        """Tell :meth:`serve_until_stopped` to return and wait for it; return whether
        it did within ``timeout`` seconds."""
        self._stopping = True
        with contextlib.suppress(OSError):
            self._waker.send(b"\0")
        return self._stopped.wait(timeout)

    def server_close(self) -> None:
        try:
            super().server_close()
        finally:
            self._close_wake_sockets()

    def _close_wake_sockets(self) -> None:
        for name in ("_wake", "_waker"):
            sock: socket.socket | None = vars(self).get(name)
            if sock is not None:
                sock.close()

    def track(self, connection: socket.socket) -> None:
        with self._tracking_lock:
            self._open_connections.add(connection)

    def untrack(self, connection: socket.socket) -> None:
        with self._tracking_lock:
            self._open_connections.discard(connection)

    def close_connections(self, timeout: float) -> list[threading.Thread]:
        """Shut down open connections, end the handler threads and join them; return
        those still alive. Call it once the server has stopped serving."""
        with self._tracking_lock:
            connections = list(self._open_connections)
            threads = list(self._handler_threads)
        for connection in connections:
            # Wakes a handler blocked reading the next request line: it sees EOF.
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        for _ in threads:
            self._connections.put(None)
        deadline = time.monotonic() + timeout
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        return [th for th in threads if th.is_alive()]

    def log(self, type: str, message: str, *args: t.Any) -> None:
        _log(type, message, *args)

    def handle_error(self, request: t.Any, client_address: t.Any) -> None:
        # socketserver would print the traceback to stderr.
        logger.error("Error while handling a connection from %s", client_address, exc_info=True)


class _Attachment:
    """One test's use of the server: its app, and the requests it made that still run.

    Requests are counted per test, so a request left running by one test is that
    test's error and never delays or fails the next one.
    """

    def __init__(self, app: flask.Flask, test: str, serialize: bool) -> None:
        self.app = fresh_context(app)
        self.test = test
        self.serialize = serialize
        self.active = 0
        #: The request being served, with ``serialize`` (for the message below).
        self.serving = ""
        #: Why requests were turned away while this test ran.
        self.refused: list[str] = []


class _Dispatcher:
    """The server's WSGI callable: forwards to the app of the running test.

    Each request runs in a fresh context (:func:`~flask_testcase._requests.fresh_context`),
    whatever thread serves it, so no state leaks between requests or from the test.
    With ``serialize``, a test's requests run one at a time: they share the test's
    database connection, which two threads must never use at once. A request that
    waits longer than ``timeout`` for the one before it is answered 503 and reported
    as the test's error: most often the view before it requests the live server
    itself, which can never be served while that view runs.
    """

    def __init__(self, timeout: float) -> None:
        self._cond = threading.Condition()
        self._current: _Attachment | None = None
        self._timeout = timeout

    def attach(self, app: flask.Flask, test: str, serialize: bool) -> _Attachment:
        attachment = _Attachment(app, test, serialize)
        with self._cond:
            self._current = attachment
        return attachment

    def detach(self, attachment: _Attachment) -> None:
        """Stop serving the test's app; wait for the test's requests still running."""
        with self._cond:
            if self._current is attachment:
                self._current = None
            # Requests of this test still waiting for their turn get a 503 now.
            self._cond.notify_all()
            done = self._cond.wait_for(lambda: attachment.active == 0, self._timeout)
            active = attachment.active
        if attachment.refused:
            raise RuntimeError(attachment.refused[0])
        if not done:
            raise RuntimeError(
                f"{active} request(s) to the live server were still running"
                f" {self._timeout:g} s after {attachment.test} ended; raise"
                " LIVESERVER_TIMEOUT if they are slow, or wait for them in the test."
            )

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        with self._cond:
            attachment = self._current
            refusal = self._wait_for_turn(attachment, environ)
            if refusal is None and attachment is not None:
                attachment.active += 1
                attachment.serving = _describe(environ)
        if refusal is not None or attachment is None:
            return _unavailable(
                start_response,
                refusal or "No test is running: the live server only serves a test's app.",
            )
        try:
            result = attachment.app(environ, start_response)
        except BaseException:
            self._finished(attachment)
            raise
        response = environ[_RESPONSE] = _Response(result, lambda: self._finished(attachment))
        return response

    def _wait_for_turn(
        self, attachment: _Attachment | None, environ: WSGIEnvironment
    ) -> str | None:
        """Wait (holding the lock) until ``attachment`` may serve a request; return why
        not if it may not."""
        if attachment is None or not attachment.serialize:
            return None
        if self._cond.wait_for(
            lambda: self._current is not attachment or attachment.active == 0, self._timeout
        ):
            if self._current is not attachment:
                return f"{attachment.test} ended before this request's turn came."
            return None
        request, serving = _describe(environ), attachment.serving
        refusal = (
            f"{request} to the live server waited {self._timeout:g} s (LIVESERVER_TIMEOUT)"
            f" for {serving} to finish, and was answered 503. With db set the live server"
            f" serves {attachment.test}'s requests one at a time, on the test's database"
            f" connection: if the view of {serving} requests the live server itself, that"
            " request cannot start until the view ends. Call that code directly instead of"
            f" over HTTP, raise LIVESERVER_TIMEOUT if {serving} is only slow, or switch the"
            " test to real commits (real_commits = True on the TestCase class,"
            " @pytest.mark.real_commits under pytest), where the live server serves"
            " requests concurrently, each on a database connection of its own."
        )
        attachment.refused.append(refusal)
        logger.error("%s", refusal)
        return refusal

    def _finished(self, attachment: _Attachment) -> None:
        with self._cond:
            attachment.active -= 1
            self._cond.notify_all()


def _describe(environ: WSGIEnvironment) -> str:
    """The request line's method and target, such as ``GET /notes?page=2``."""
    target = environ.get("RAW_URI") or environ.get("PATH_INFO") or "/"
    return f"{environ.get('REQUEST_METHOD', 'GET')} {target}"


def _unavailable(start_response: StartResponse, reason: str) -> list[bytes]:
    body = f"{reason}\n".encode()
    start_response(
        "503 Service Unavailable",
        [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))],
    )
    return [body]


class _Response:
    """The app's response; closing it reports the request finished, once, however often
    it is closed (the handler closes it again in case Werkzeug did not).

    It closes itself once its last chunk is written. Werkzeug closes it only after
    waiting for more bytes from the client (up to 10 ms, or until the client closes
    the connection), which the end of the test would wait for; the app's part of the
    request is over when the body is written.
    """

    def __init__(self, result: Iterable[bytes], done: t.Callable[[], None]) -> None:
        self._result = result
        self._done: t.Callable[[], None] | None = done

    def __iter__(self) -> Iterator[bytes]:
        # A for loop, not ``yield from``: if Werkzeug stops iterating (the client went
        # away), it closes us itself, and the result must not be closed a second
        # time when this generator is collected.
        for chunk in self._result:  # noqa: UP028
            yield chunk
        self.close()

    def close(self) -> None:
        done, self._done = self._done, None
        if done is None:
            return
        try:
            close = getattr(self._result, "close", None)
            if close is not None:
                close()
        finally:
            done()


class _LiveServer:
    """A listening socket, a :class:`_Server` on it and the thread that runs it."""

    def __init__(self, host: str, port: int, timeout: float) -> None:
        self.timeout = timeout
        self.dispatcher = _Dispatcher(timeout)
        self.error: BaseException | None = None
        sock = _listen(host, port)
        try:
            # The server takes a duplicate of our socket: bound and listening already,
            # so connections queue from now on, and a taken port failed above with
            # our message instead of Werkzeug's exit.
            self.server = _Server(host, port, self.dispatcher, _RequestHandler, fd=sock.fileno())
        finally:
            sock.close()
        self.port: int = self.server.server_address[1]
        started = threading.Event()
        self.thread = threading.Thread(
            target=self._serve,
            args=(started,),
            name=f"flask_testcase live server {host}:{self.port}",
            daemon=True,
        )
        try:
            self.thread.start()
            if not started.wait(timeout):
                raise RuntimeError(
                    f"The live server thread did not start within {timeout:g} s"
                    " (LIVESERVER_TIMEOUT)."
                )
        except BaseException:
            self.server.server_close()
            raise

    def _serve(self, started: threading.Event) -> None:
        started.set()
        try:
            self.server.serve_until_stopped()
        except BaseException as exc:
            self.error = exc
            logger.exception("The live server thread stopped")

    @contextlib.contextmanager
    def serving(self, app: flask.Flask, test: str, serialize: bool) -> Iterator[None]:
        """Serve ``app`` for the test named ``test`` while the block runs (one at a
        time with ``serialize``); afterwards wait for the test's requests, report any
        that were turned away, and check that the server thread is alive."""
        attachment = self.dispatcher.attach(app, test, serialize)
        with contextlib.ExitStack() as stack:
            stack.callback(self.check)
            stack.callback(self.dispatcher.detach, attachment)
            yield

    def check(self) -> None:
        """Raise if the server thread has died, with its exception as the cause."""
        if not self.thread.is_alive():
            raise RuntimeError(
                f"The live server thread on port {self.port} has stopped: {self.error!r}"
            ) from self.error

    def stop(self) -> None:
        """Stop accepting, close the listening socket and open connections, join threads."""
        if self.thread.is_alive():
            # The server thread leaves its loop and closes the listening socket.
            self.server.stop_serving(self.timeout)
        else:
            self.server.server_close()
        self.thread.join(self.timeout)
        left = self.server.close_connections(self.timeout)
        if self.thread.is_alive():
            left.append(self.thread)
        if left:
            raise RuntimeError(
                f"The live server on port {self.port} did not stop within"
                f" {self.timeout:g} s (LIVESERVER_TIMEOUT); still running: "
                + ", ".join(th.name for th in left)
            )


def _listen(host: str, port: int) -> socket.socket:
    family = select_address_family(host, port)
    address = get_sockaddr(host, port, family)
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        # Lets a fixed LIVESERVER_PORT be reused by the next class while the last
        # one's connections sit in TIME_WAIT. Only on POSIX: on Windows the option
        # lets a second socket steal a port that is in use.
        if os.name == "posix":
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise OSError(
                exc.errno,
                f"The live server cannot listen on {host}:{port}: port {port} is in use"
                " by another program. Set LIVESERVER_PORT to 0 (the default) to let the"
                " OS pick a free port, or stop the program using it.",
            ) from exc
        raise OSError(
            exc.errno, f"The live server cannot listen on {host}:{port}: {exc.strerror or exc}"
        ) from exc
    return sock


def _port(config: t.Mapping[str, t.Any]) -> int:
    port = config.get("LIVESERVER_PORT", DEFAULT_PORT)
    if isinstance(port, bool) or not isinstance(port, int):
        raise TypeError(
            f"LIVESERVER_PORT must be an int (0 lets the OS pick a free port), got {port!r}."
        )
    if not 0 <= port <= 65535:
        raise ValueError(
            f"LIVESERVER_PORT must be between 0 and 65535 (0 lets the OS pick a free"
            f" port), got {port!r}."
        )
    return port


def _timeout(config: t.Mapping[str, t.Any]) -> float:
    timeout = config.get("LIVESERVER_TIMEOUT", DEFAULT_TIMEOUT)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        raise TypeError(f"LIVESERVER_TIMEOUT must be a number of seconds, got {timeout!r}.")
    if not timeout > 0:
        raise ValueError(f"LIVESERVER_TIMEOUT must be more than 0 seconds, got {timeout!r}.")
    return float(timeout)


class LiveServerTestCase(TestCase):
    """A :class:`TestCase` whose app is also served over HTTP, for browsers and other
    real clients.

    One Werkzeug server per test class runs on a thread of the test process. It starts
    with the class's first test that runs and stops after the class, also when tests
    fail. During each test it serves that test's app (:attr:`app`), so everything a
    real client does is recorded in :attr:`templates` and :attr:`flashed_messages`
    and, with :attr:`db` set, sees the test's database transaction and is rolled back
    with it; requests are then served one at a time. Between tests the server answers
    503.

    The first test's ``app.config`` gives ``LIVESERVER_PORT`` (default 0: the OS
    picks a free port) and ``LIVESERVER_TIMEOUT`` (seconds to wait for the server to
    start and stop and for requests still running at the end of a test; default 5).
    ``SERVER_NAME`` is left as the app sets it.
    """

    #: The address the server listens on. ``"0.0.0.0"`` (or ``"::"``) accepts
    #: connections from other machines or containers, for a remote browser.
    live_server_host: t.ClassVar[str] = "127.0.0.1"

    #: The host name :meth:`get_server_url` puts in the URL, for a client that
    #: reaches this machine by another name. By default :attr:`live_server_host`, or
    #: the loopback address when that is a wildcard address.
    live_server_url_host: t.ClassVar[str | None] = None

    def get_server_url(self) -> str:
        """Return the server's base URL, such as ``"http://127.0.0.1:43567"``.

        Available from ``setUp`` on, in the test and in ``tearDown``.
        """
        server = type(self).__dict__.get(_SERVER)
        if server is None:
            raise RuntimeError(
                f"{type(self).__name__}.get_server_url() is available from setUp on: the"
                " live server starts with the class's first test."
            )
        host = self.live_server_url_host or self.live_server_host
        host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{server.port}"

    def _environment_settings(self) -> Settings:
        return _replace_settings(super()._environment_settings(), live_server=self._serve)

    def _serve(self, app: flask.Flask, owner: str, serialize: bool) -> t.ContextManager[None]:
        # With a database, requests share the test's connection: one at a time.
        return self._live_server(app).serving(app, self.id(), serialize)

    def _live_server(self, app: flask.Flask) -> _LiveServer:
        cls = type(self)
        server: _LiveServer | None = cls.__dict__.get(_SERVER)
        if server is not None:
            server.check()
            return server
        host = cls.live_server_host
        if not isinstance(host, str) or host.startswith("unix://"):
            raise ValueError(
                f"{cls.__name__}.live_server_host must be an IP address or host name such"
                f" as '127.0.0.1' or '0.0.0.0', got {host!r}."
            )
        config = app.config
        server = _LiveServer(host, _port(config), _timeout(config))
        setattr(cls, _SERVER, server)
        cls.addClassCleanup(_stop, cls, server)
        return server


def _stop(cls: type[LiveServerTestCase], server: _LiveServer) -> None:
    # Forget the server first: a class run again (as some runners do) starts anew.
    if cls.__dict__.get(_SERVER) is server:
        delattr(cls, _SERVER)
    server.stop()


# -- the pytest plugin's live_server --------------------------------------------------


class LiveServer:
    """What the pytest plugin's ``live_server`` fixture gives: one threaded server for
    the scope (the session by default, ini ``live_server_scope``), serving each test's
    app in turn, so that its requests see the test's database transaction and records.

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

    def _config(self, app: flask.Flask) -> dict[str, t.Any]:
        """The config a test served by this server runs with (the test environment's
        config step applies it, before the test's request context is made):
        ``SERVER_NAME`` names the server's port, so that ``url_for(...,
        _external=True)`` names the server."""
        name = (app.config.get("SERVER_NAME") or "localhost.localdomain").split(":", 1)[0]
        return {"SERVER_NAME": f"{name}:{self.port}"}

    @contextlib.contextmanager
    def _serving(self, app: flask.Flask, test: str, serialize: bool, start: bool) -> Iterator[None]:
        server_name = app.config["SERVER_NAME"]
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
