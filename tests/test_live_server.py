"""LiveServerTestCase: a Werkzeug server on a thread, one per class, serving each test's app.

Most tests run an inner test class through a real :class:`unittest.TestSuite` (so
class cleanups run as a runner runs them) and then check what is left behind: no
server thread, no handler thread, nothing listening on the port.
"""

from __future__ import annotations

import atexit
import contextvars
import errno
import http.client
import itertools
import json
import logging
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import typing as t
import unittest
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import flask
import pytest
from _commands import PYTEST
from apps import run_case
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import String
from sqlalchemy import create_engine
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.pool import NullPool

from flask_testcase import LiveServerTestCase

ROOT = Path(__file__).resolve().parent.parent
SERVER_THREAD = "flask_testcase live server"

marker: contextvars.ContextVar[str] = contextvars.ContextVar("marker", default="unset")


_serial = itertools.count()


def make_app(**config: t.Any) -> flask.Flask:
    app = flask.Flask(__name__)
    app.config.update(SECRET_KEY="test", TESTING=True, SERIAL=next(_serial), **config)

    @app.route("/")
    def index() -> str:
        flask.flash("Served")
        return flask.render_template_string("<p>{{ greeting }}</p>", greeting="hello")

    @app.route("/app-id")
    def app_id() -> str:
        return str(flask.current_app.config["SERIAL"])

    @app.route("/context")
    def context() -> dict[str, t.Any]:
        seen = sorted(k for k in vars(flask.g) if not k.startswith("_"))
        flask.g.set_by_request = True
        return {"marker": marker.get(), "g": seen, "thread": threading.current_thread().name}

    @app.route("/sleep/<float:seconds>")
    def sleep(seconds: float) -> str:
        time.sleep(seconds)
        return "slept"

    @app.route("/error")
    def error() -> str:
        raise ValueError("kaboom in the view")

    @app.route("/external")
    def external() -> str:
        return flask.url_for("index", _external=True)

    return app


def get(url: str, timeout: float = 10) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, exc.read().decode()


def last_line(report: tuple[unittest.TestCase, str]) -> str:
    return report[1].strip().splitlines()[-1]


def assert_ok(result: unittest.TestResult, count: int) -> None:
    problems = [text for _, text in result.errors + result.failures]
    assert not problems, "\n".join(problems)
    assert result.testsRun == count


def refuses(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except ConnectionRefusedError:
        return True
    return False


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(autouse=True)
def _nothing_left_running() -> t.Iterator[None]:
    """Every test here must end with no server or handler thread it started."""
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + 5
    while (left := set(threading.enumerate()) - before) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not left, f"threads left running: {left}"
    assert not flask.has_app_context()


class Served(LiveServerTestCase):
    """Records what each test saw; the test module reads ``seen`` afterwards."""

    seen: t.ClassVar[list[t.Any]]

    def create_app(self) -> flask.Flask:
        return make_app()


class TestServing:
    def test_serves_the_test_app_and_records_templates_and_flashes(self) -> None:
        seen: list[t.Any] = []

        class Case(Served):
            def test_it(self) -> None:
                url = self.get_server_url()
                seen.append(url)
                self.assertEqual(get(url + "/"), (200, "<p>hello</p>"))
                self.assertEqual(len(self.templates), 1)
                self.assertContext("greeting", "hello")
                self.assertMessageFlashed("Served")

        assert_ok(run_case(Case), 1)
        host, port = seen[0].removeprefix("http://").split(":")
        assert host == "127.0.0.1"
        assert int(port) > 0
        assert refuses(int(port))

    def test_one_server_per_class_serving_each_tests_own_app(self) -> None:
        seen: list[tuple[str, str, str]] = []

        class Case(Served):
            def test_a(self) -> None:
                seen.append(
                    (
                        self.get_server_url(),
                        get(self.get_server_url() + "/app-id")[1],
                        str(self.app.config["SERIAL"]),
                    )
                )

            def test_b(self) -> None:
                self.test_a()

        class Other(Case):
            pass

        assert_ok(run_case(Case), 2)
        assert_ok(run_case(Other), 2)
        urls = [url for url, _, _ in seen]
        assert urls[0] == urls[1], "one server for the class"
        assert urls[2] == urls[3] and urls[2] != urls[0], "a subclass gets its own server"
        for _, served, own in seen:
            assert served == own, "the server serves the running test's app"
        assert len({own for _, _, own in seen[:2]}) == 2, "create_app ran for each test"

    def test_render_templates_false_applies_to_the_server(self) -> None:
        seen: list[t.Any] = []

        class Case(Served):
            render_templates = False

            def test_it(self) -> None:
                seen.append(get(self.get_server_url() + "/"))
                seen.append([tpl.context["greeting"] for tpl in self.templates])

        assert_ok(run_case(Case), 1)
        assert seen == [(200, ""), ["hello"]]

    def test_app_per_class_serves_the_class_app(self) -> None:
        seen: list[tuple[str, str]] = []

        class Case(Served):
            app_per_class = True

            def test_a(self) -> None:
                seen.append(
                    (get(self.get_server_url() + "/app-id")[1], str(self.app.config["SERIAL"]))
                )

            def test_b(self) -> None:
                self.test_a()

        assert_ok(run_case(Case), 2)
        assert seen[0] == seen[1]
        assert seen[0][0] == seen[0][1]

    def test_each_request_runs_in_a_fresh_context(self) -> None:
        seen: list[dict[str, t.Any]] = []

        class Case(Served):
            def test_it(self) -> None:
                marker.set("set by the test")
                flask.g.from_test = True
                for _ in range(2):
                    seen.append(
                        t.cast(
                            dict,
                            __import__("json").loads(get(self.get_server_url() + "/context")[1]),
                        )
                    )

        assert_ok(run_case(Case), 1)
        assert [s["marker"] for s in seen] == ["unset", "unset"]
        assert [s["g"] for s in seen] == [[], []]
        assert all(s["thread"] != threading.current_thread().name for s in seen)

    def test_requests_are_concurrent_without_db(self) -> None:
        took: list[float] = []

        class Case(Served):
            def test_it(self) -> None:
                url = self.get_server_url() + "/sleep/0.3"
                threads = [threading.Thread(target=get, args=(url,)) for _ in range(3)]
                start = time.monotonic()
                for th in threads:
                    th.start()
                for th in threads:
                    th.join()
                took.append(time.monotonic() - start)

        assert_ok(run_case(Case), 1)
        assert took[0] < 0.8, f"three 0.3 s requests took {took[0]:.2f} s: not concurrent"

    def test_server_answers_503_between_tests(self) -> None:
        seen: list[tuple[int, str]] = []

        class Case(Served):
            @classmethod
            def tearDownClass(cls) -> None:
                # After the last test, before the class cleanup stops the server.
                seen.append(get(cls.url + "/"))
                super().tearDownClass()

            def test_it(self) -> None:
                type(self).url = self.get_server_url()

        assert_ok(run_case(Case), 1)
        assert seen == [(503, "No test is running: the live server only serves a test's app.\n")]

    def test_server_name_is_not_rewritten(self) -> None:
        seen: list[t.Any] = []

        class Case(LiveServerTestCase):
            def create_app(self) -> flask.Flask:
                return make_app(SERVER_NAME="example.test")

            def test_it(self) -> None:
                port = int(self.get_server_url().rsplit(":", 1)[1])
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                conn.request("GET", "/external", headers={"Host": "example.test"})
                seen.append(conn.getresponse().read().decode())
                conn.close()
                seen.append(self.app.config["SERVER_NAME"])

        assert_ok(run_case(Case), 1)
        assert seen == ["http://example.test/", "example.test"]

    def test_view_errors_are_a_500_logged_to_our_logger_not_werkzeugs(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        seen: list[tuple[int, str]] = []
        werkzeug_logger = logging.getLogger("werkzeug")
        handlers = list(werkzeug_logger.handlers)

        class Case(Served):
            def test_it(self) -> None:
                seen.append(get(self.get_server_url() + "/error"))

        with caplog.at_level(logging.INFO, logger="flask_testcase.live_server"):
            assert_ok(run_case(Case), 1)
        assert seen[0][0] == 500
        errors = [r for r in caplog.records if r.levelno == logging.ERROR]
        assert len(errors) == 1
        assert "ValueError: kaboom in the view" in errors[0].getMessage()
        assert errors[0].name == "flask_testcase.live_server"
        assert any('"GET /error HTTP/1.1" 500' in r.getMessage() for r in caplog.records)
        assert werkzeug_logger.handlers == handlers


class TestConfiguration:
    def test_liveserver_port_is_honoured(self) -> None:
        port = free_port()
        seen: list[str] = []

        class Case(LiveServerTestCase):
            def create_app(self) -> flask.Flask:
                return make_app(LIVESERVER_PORT=port)

            def test_it(self) -> None:
                seen.append(self.get_server_url())

        assert_ok(run_case(Case), 1)
        # Stopped and started again on the same fixed port: the reuse works.
        assert_ok(run_case(Case), 1)
        assert seen == [f"http://127.0.0.1:{port}"] * 2

    def test_taken_port_is_an_immediate_error_naming_the_port(self) -> None:
        with socket.socket() as other:
            other.bind(("127.0.0.1", 0))
            other.listen()
            port = other.getsockname()[1]

            class Case(LiveServerTestCase):
                def create_app(self) -> flask.Flask:
                    return make_app(LIVESERVER_PORT=port)

                def test_it(self) -> None:
                    raise AssertionError("must not run")

            start = time.monotonic()
            result = run_case(Case)
            assert time.monotonic() - start < 1
        assert len(result.errors) == 1
        assert last_line(result.errors[0]) == (
            f"OSError: [Errno {errno.EADDRINUSE}] The live server cannot listen on"
            f" 127.0.0.1:{port}: port {port} is in use by another program. Set"
            " LIVESERVER_PORT to 0 (the default) to let the OS pick a free port, or stop"
            " the program using it."
        )

    @pytest.mark.parametrize(
        ("config", "expected"),
        [
            (
                {"LIVESERVER_PORT": "5000"},
                "TypeError: LIVESERVER_PORT must be an int (0 lets"
                " the OS pick a free port), got '5000'.",
            ),
            (
                {"LIVESERVER_PORT": True},
                "TypeError: LIVESERVER_PORT must be an int (0 lets"
                " the OS pick a free port), got True.",
            ),
            (
                {"LIVESERVER_PORT": 70000},
                "ValueError: LIVESERVER_PORT must be between 0 and"
                " 65535 (0 lets the OS pick a free port), got 70000.",
            ),
            (
                {"LIVESERVER_TIMEOUT": "5"},
                "TypeError: LIVESERVER_TIMEOUT must be a number of seconds, got '5'.",
            ),
            (
                {"LIVESERVER_TIMEOUT": 0},
                "ValueError: LIVESERVER_TIMEOUT must be more than 0 seconds, got 0.",
            ),
        ],
    )
    def test_bad_config_is_the_tests_error(self, config: dict[str, t.Any], expected: str) -> None:
        class Case(LiveServerTestCase):
            def create_app(self) -> flask.Flask:
                return make_app(**config)

            def test_it(self) -> None:
                raise AssertionError("must not run")

        result = run_case(Case)
        assert [last_line(e) for e in result.errors] == [expected]

    def test_bad_host_is_a_value_error(self) -> None:
        class Case(Served):
            live_server_host = "unix:///tmp/sock"

            def test_it(self) -> None:
                raise AssertionError("must not run")

        result = run_case(Case)
        assert [last_line(e) for e in result.errors] == [
            "ValueError: Case.live_server_host must be an IP address or host name such as"
            " '127.0.0.1' or '0.0.0.0', got 'unix:///tmp/sock'."
        ]

    def test_wildcard_host_listens_everywhere_and_url_uses_loopback(self) -> None:
        seen: list[t.Any] = []

        class Case(Served):
            live_server_host = "0.0.0.0"

            def test_it(self) -> None:
                seen.append(self.get_server_url())
                seen.append(get(self.get_server_url() + "/")[0])

        assert_ok(run_case(Case), 1)
        assert seen[0].startswith("http://127.0.0.1:")
        assert seen[1] == 200

    def test_url_host_can_be_set_for_a_remote_client(self) -> None:
        seen: list[str] = []

        class Case(Served):
            live_server_host = "0.0.0.0"
            live_server_url_host = "tests.internal"

            def test_it(self) -> None:
                seen.append(self.get_server_url())

        assert_ok(run_case(Case), 1)
        assert seen[0].startswith("http://tests.internal:")

    @pytest.mark.skipif(not socket.has_ipv6, reason="this Python has no IPv6 support")
    def test_ipv6_host_is_bracketed_in_the_url(self) -> None:
        try:
            socket.socket(socket.AF_INET6).close()
            with socket.socket(socket.AF_INET6) as probe:
                probe.bind(("::1", 0))
        except OSError as exc:
            pytest.skip(f"no IPv6 loopback here: {exc}")
        seen: list[t.Any] = []

        class Case(Served):
            live_server_host = "::1"

            def test_it(self) -> None:
                seen.append(self.get_server_url())
                seen.append(get(self.get_server_url() + "/")[0])

        assert_ok(run_case(Case), 1)
        assert seen[0].startswith("http://[::1]:")
        assert seen[1] == 200

    def test_a_base_class_without_create_app_is_shown_its_own_bases(self) -> None:
        class BaseLive(LiveServerTestCase):
            def test_it(self) -> None:
                pass

        class Helpers:
            pass

        class WithHelpers(Helpers, BaseLive):
            pass

        for case, bases in ((BaseLive, "LiveServerTestCase"), (WithHelpers, "Helpers, BaseLive")):
            result = run_case(case)
            assert [c for c, _ in result.errors] == [case("test_it")]
            name = case.__name__
            assert result.errors[0][1].endswith(
                f"NotImplementedError: {name} must define create_app() returning the Flask"
                " app to test, e.g.\n\n"
                f"    class {name}({bases}):\n"
                "        def create_app(self):\n"
                "            return create_app('testing')\n\n"
            )

    def test_get_server_url_before_setup_says_when_it_works(self) -> None:
        case = Served("__init__")
        with pytest.raises(RuntimeError) as info:
            case.get_server_url()
        assert str(info.value) == (
            "Served.get_server_url() is available from setUp on: the live server starts"
            " with the class's first test."
        )

    def test_request_still_running_after_the_test_is_its_error_after_the_timeout(
        self,
    ) -> None:
        outcome: list[str] = []

        def slow_request(url: str) -> None:
            try:
                get(url)
            except (OSError, http.client.HTTPException) as exc:
                outcome.append(type(exc).__name__)

        class Case(LiveServerTestCase):
            def create_app(self) -> flask.Flask:
                return make_app(LIVESERVER_TIMEOUT=0.2)

            def test_it(self) -> None:
                url = self.get_server_url() + "/sleep/1.0"
                type(self).client_thread = threading.Thread(target=slow_request, args=(url,))
                type(self).client_thread.start()
                time.sleep(0.1)

        start = time.monotonic()
        result = run_case(Case)
        assert time.monotonic() - start >= 0.4
        Case.client_thread.join()
        test_error, class_error = (last_line(e) for e in result.errors)
        assert test_error == (
            "RuntimeError: 1 request(s) to the live server were still running 0.2 s after"
            f" {__name__}.TestConfiguration.test_request_still_running_after_the_test_is_its"
            "_error_after_the_timeout.<locals>.Case.test_it ended; raise LIVESERVER_TIMEOUT"
            " if they are slow, or wait for them in the test."
        )
        # The class cleanup gave it another 0.2 s, then cut the connection.
        port = class_error.split()[6]
        assert class_error == (
            f"RuntimeError: The live server on port {port} did not stop within 0.2 s"
            " (LIVESERVER_TIMEOUT); still running: flask_testcase live server port"
            f" {port} request handler"
        )
        assert outcome == ["RemoteDisconnected"]

    def test_a_request_still_running_is_blamed_only_on_the_test_that_made_it(self) -> None:
        running, release = threading.Event(), threading.Event()
        outcome: list[tuple[int, str]] = []

        class Case(LiveServerTestCase):
            @classmethod
            def tearDownClass(cls) -> None:
                # Lets the request end before the class cleanup stops the server.
                release.set()
                cls.client_thread.join(10)
                super().tearDownClass()

            def create_app(self) -> flask.Flask:
                app = make_app(LIVESERVER_TIMEOUT=0.2)

                @app.route("/held")
                def held() -> str:
                    running.set()
                    release.wait(10)
                    return "released"

                return app

            def test_a_leaves_a_request_running(self) -> None:
                url = self.get_server_url() + "/held"
                thread = threading.Thread(target=lambda: outcome.append(get(url)))
                type(self).client_thread = thread
                thread.start()
                self.assertTrue(running.wait(10))

            def test_b_starts_clean(self) -> None:
                self.assertEqual(get(self.get_server_url() + "/app-id")[0], 200)

        result = run_case(Case)
        assert not result.failures
        assert [
            (case.id().rsplit(".", 1)[1], last_line((case, text))) for case, text in result.errors
        ] == [
            (
                "test_a_leaves_a_request_running",
                "RuntimeError: 1 request(s) to the live server were still running 0.2 s after"
                f" {Case.__module__}.{Case.__qualname__}.test_a_leaves_a_request_running ended;"
                " raise LIVESERVER_TIMEOUT if they are slow, or wait for them in the test.",
            )
        ]
        assert result.testsRun == 2
        assert outcome == [(200, "released")]


class TestShutdown:
    @pytest.mark.parametrize("where", ["test", "setUp", "tearDown", "create_app", "none"])
    def test_nothing_left_after_the_class_whatever_raised(self, where: str) -> None:
        urls: list[str] = []

        class Case(Served):
            def create_app(self) -> flask.Flask:
                if where == "create_app" and self._testMethodName == "test_b":
                    raise RuntimeError("create_app broke")
                return super().create_app()

            def setUp(self) -> None:
                urls.append(self.get_server_url())
                if where == "setUp":
                    raise RuntimeError("setUp broke")

            def tearDown(self) -> None:
                if where == "tearDown":
                    raise RuntimeError("tearDown broke")

            def test_a(self) -> None:
                assert get(self.get_server_url() + "/")[0] == 200

            def test_b(self) -> None:
                if where == "test":
                    raise RuntimeError("test broke")

        result = run_case(Case)
        assert result.testsRun == 2
        broken = [last_line(e) for e in result.errors]
        if where == "none":
            assert broken == []
        else:
            assert f"RuntimeError: {where} broke" in broken
        assert not [th for th in threading.enumerate() if th.name.startswith(SERVER_THREAD)]
        port = int(urls[0].rsplit(":", 1)[1])
        assert refuses(port)

    def test_idle_connections_are_closed_and_their_threads_joined(self) -> None:
        held: list[socket.socket] = []

        class Case(Served):
            def test_it(self) -> None:
                port = int(self.get_server_url().rsplit(":", 1)[1])
                # A browser's speculative connection: opened, never used.
                held.append(socket.create_connection(("127.0.0.1", port)))
                self.assertEqual(get(self.get_server_url() + "/")[0], 200)

        before = threading.active_count()
        assert_ok(run_case(Case), 1)
        try:
            assert threading.active_count() == before
            held[0].settimeout(2)
            assert held[0].recv(1) == b"", "the server closed the idle connection"
        finally:
            held[0].close()

    def test_a_client_resetting_the_connection_does_not_leave_its_request_running(
        self,
    ) -> None:
        class Case(LiveServerTestCase):
            def create_app(self) -> flask.Flask:
                return make_app(LIVESERVER_TIMEOUT=0.5)

            def test_it(self) -> None:
                port = int(self.get_server_url().rsplit(":", 1)[1])
                with socket.create_connection(("127.0.0.1", port)) as sock:
                    # Bytes after the request make Werkzeug drain the socket after
                    # the response; the reset then interrupts it before it closes the
                    # response, as a browser aborting a page load can.
                    sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\nextra bytes")
                    received = b""
                    while b"</p>" not in received:
                        received += sock.recv(4096)
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.assertIn(b"200 OK", received)
                # Served after the reset, so the reset request has ended.
                self.assertEqual(get(self.get_server_url() + "/")[0], 200)

        assert_ok(run_case(Case), 1)

    def test_a_class_whose_tests_are_all_skipped_starts_no_server(self) -> None:
        @unittest.skip("not today")
        class Case(Served):
            def test_it(self) -> None:
                pass

        started: list[str] = []
        original = threading.Thread.start

        def spy(self: threading.Thread) -> None:
            started.append(self.name)
            original(self)

        threading.Thread.start = spy  # type: ignore[method-assign]
        try:
            result = run_case(Case)
        finally:
            threading.Thread.start = original  # type: ignore[method-assign]
        assert len(result.skipped) == 1
        assert started == []

    def test_server_thread_death_is_reported_with_its_cause(
        self, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
    ) -> None:
        from flask_testcase import live_server

        def broken(self: t.Any) -> None:
            raise RuntimeError("selector exploded")

        monkeypatch.setattr(live_server._Server, "serve_until_stopped", broken)

        class Case(Served):
            def test_a(self) -> None:
                time.sleep(0.05)

            def test_b(self) -> None:
                raise AssertionError("must not run")

        with caplog.at_level(logging.ERROR, logger="flask_testcase.live_server"):
            result = run_case(Case)
        assert len(result.errors) == 2
        for _, report in result.errors:
            assert "RuntimeError: selector exploded" in report
            assert "has stopped: RuntimeError('selector exploded')" in report
        assert "The live server thread stopped" in caplog.text


class TestSerialisedRequests:
    """With ``db`` set requests are served one at a time (they share one connection)."""

    @pytest.mark.parametrize(("serialize", "expected_peak"), [(True, 1), (False, 4)])
    def test_dispatcher_serialises_when_asked(self, serialize: bool, expected_peak: int) -> None:
        from werkzeug.test import EnvironBuilder
        from werkzeug.test import run_wsgi_app

        from flask_testcase.live_server import _Dispatcher

        app = flask.Flask(__name__)
        running: list[int] = []
        peak: list[int] = []
        bodies: list[bytes] = []
        lock = threading.Lock()

        @app.route("/")
        def index() -> str:
            with lock:
                running.append(1)
                peak.append(len(running))
            time.sleep(0.05)
            with lock:
                running.pop()
            return "ok"

        dispatcher = _Dispatcher(timeout=1)
        attachment = dispatcher.attach(app, "test", serialize=serialize)
        barrier = threading.Barrier(4)

        def call() -> None:
            # As the server calls it: iterate the body, then close it.
            barrier.wait()
            body, _, _ = run_wsgi_app(dispatcher, EnvironBuilder("/").get_environ())
            try:
                bodies.append(b"".join(body))
            finally:
                t.cast(t.Any, body).close()

        threads = [threading.Thread(target=call) for _ in range(4)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        dispatcher.detach(attachment)
        assert bodies == [b"ok"] * 4
        assert max(peak) == expected_peak

    def test_a_request_waiting_for_its_turn_when_the_test_ends_is_a_503(self) -> None:
        from werkzeug.test import EnvironBuilder
        from werkzeug.test import run_wsgi_app

        from flask_testcase.live_server import _Dispatcher

        app = flask.Flask(__name__)
        running, release = threading.Event(), threading.Event()
        answers: dict[str, tuple[str, bytes]] = {}

        @app.route("/<name>")
        def hold(name: str) -> str:
            running.set()
            release.wait(10)
            return name

        dispatcher = _Dispatcher(timeout=5)
        attachment = dispatcher.attach(app, "the test", serialize=True)

        def call(path: str) -> None:
            body, status, _ = run_wsgi_app(dispatcher, EnvironBuilder(path).get_environ())
            answers[path] = (status, b"".join(body))
            # The 503 is a plain list, which Werkzeug hands back without a close().
            getattr(body, "close", lambda: None)()

        first = threading.Thread(target=call, args=("/first",))
        first.start()
        assert running.wait(10)
        second = threading.Thread(target=call, args=("/second",))
        second.start()
        # CPython's Condition keeps its waiters in this list: the second request waits.
        while not t.cast(t.Any, dispatcher._cond)._waiters:
            time.sleep(0.01)
        ending = threading.Thread(target=dispatcher.detach, args=(attachment,))
        ending.start()
        second.join(10)
        release.set()
        for th in (first, ending):
            th.join(10)
        assert answers == {
            "/first": ("200 OK", b"first"),
            "/second": (
                "503 Service Unavailable",
                b"the test ended before this request's turn came.\n",
            ),
        }


class TestServerInternals:
    """How the server serves and stops, tested on its parts."""

    @staticmethod
    def _serving(app: flask.Flask) -> t.Any:
        from flask_testcase.live_server import _LiveServer

        server = _LiveServer("127.0.0.1", 0, timeout=5)
        attachment = server.dispatcher.attach(app, "the test", serialize=False)
        return server, attachment

    @staticmethod
    def _wait_until_idle(server: t.Any) -> None:
        # A handler thread is idle again once its connection has ended, just after
        # the client has its response.
        deadline = time.monotonic() + 10
        while not server.server._idle_handlers and time.monotonic() < deadline:
            time.sleep(0.001)

    def test_handler_threads_are_reused_for_the_next_connection(self) -> None:
        app = flask.Flask(__name__)
        app.add_url_rule("/", "ident", lambda: str(threading.get_ident()))
        server, attachment = self._serving(app)
        url = f"http://127.0.0.1:{server.port}/"
        try:
            idents = []
            for _ in range(3):
                idents.append(get(url)[1])
                self._wait_until_idle(server)
            assert len(set(idents)) == 1
            assert len(server.server._handler_threads) == 1
        finally:
            server.dispatcher.detach(attachment)
            server.stop()
        assert not server.server._handler_threads[0].is_alive()

    def test_a_held_connection_gets_a_handler_thread_of_its_own(self) -> None:
        app = flask.Flask(__name__)
        app.add_url_rule("/", "index", lambda: "ok")
        server, attachment = self._serving(app)
        url = f"http://127.0.0.1:{server.port}/"
        try:
            assert get(url) == (200, "ok")
            self._wait_until_idle(server)
            # Two connections held open, never used, as a browser's speculative ones.
            held = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(2)]
            try:
                assert get(url) == (200, "ok")
                assert len(server.server._handler_threads) == 3
            finally:
                for sock in held:
                    sock.close()
        finally:
            server.dispatcher.detach(attachment)
            server.stop()

    def test_stopping_wakes_the_server_loop_at_once(self) -> None:
        from flask_testcase.live_server import _LiveServer

        server = _LiveServer("127.0.0.1", 0, timeout=5)
        # The loop waits in select() with no timeout: only the stop's wake-up can end
        # it, so a missing wake-up would make stop_serving() give up after 5 s.
        assert server.server.stop_serving(5) is True
        server.thread.join(5)
        assert not server.thread.is_alive()
        assert refuses(server.port)
        server.stop()

    @staticmethod
    def _respond(dispatcher: t.Any, closed: list[str]) -> t.Any:
        from werkzeug.test import EnvironBuilder

        statuses: list[str] = []
        body = dispatcher(EnvironBuilder("/").get_environ(), lambda s, h: statuses.append(s))
        assert statuses == ["200 OK"]
        return body

    def test_a_response_ends_its_request_once_its_body_is_written(self) -> None:
        from flask_testcase.live_server import _Dispatcher

        closed: list[str] = []
        app = flask.Flask(__name__)

        @app.route("/")
        def index() -> flask.Response:
            response = flask.Response(["a", "b"])
            response.call_on_close(lambda: closed.append("closed"))
            return response

        dispatcher = _Dispatcher(timeout=5)
        attachment = dispatcher.attach(app, "the test", serialize=True)
        body = self._respond(dispatcher, closed)
        chunks = iter(body)
        assert next(chunks) == b"a"
        assert next(chunks) == b"b"
        assert attachment.active == 1
        assert closed == []
        # The server asks for the next chunk once it has written the last one.
        assert list(chunks) == []
        assert attachment.active == 0
        assert closed == ["closed"]
        # Werkzeug closes it again after reading what the client sent: nothing more.
        body.close()
        assert closed == ["closed"]
        dispatcher.detach(attachment)

    def test_a_response_left_unfinished_ends_its_request_when_closed_once(self) -> None:
        import gc

        from flask_testcase.live_server import _Dispatcher

        closed: list[str] = []
        app = flask.Flask(__name__)

        @app.route("/")
        def index() -> flask.Response:
            response = flask.Response(["a", "b"])
            response.call_on_close(lambda: closed.append("closed"))
            return response

        dispatcher = _Dispatcher(timeout=5)
        attachment = dispatcher.attach(app, "the test", serialize=True)
        body = self._respond(dispatcher, closed)
        chunks = iter(body)
        # The client went away after the first chunk: the server stops iterating.
        assert next(chunks) == b"a"
        assert attachment.active == 1
        body.close()
        assert attachment.active == 0
        del chunks
        gc.collect()
        assert closed == ["closed"]
        dispatcher.detach(attachment)


MODULE = """
import multiprocessing
import sys
import threading
import unittest
import urllib.request

import flask

from flask_testcase import LiveServerTestCase

PORTS = []


def create_app():
    app = flask.Flask(__name__)
    # Neither a lock nor a local function pickles: if anything were sent to another
    # process, the run would fail.
    app.config["LOCK"] = threading.Lock()

    @app.route("/")
    def index():
        return "served " + multiprocessing.get_start_method()

    return app


class Live(LiveServerTestCase):
    def create_app(self):
        return create_app()

    def test_served(self):
        PORTS.append(int(self.get_server_url().rsplit(":", 1)[1]))
        body = urllib.request.urlopen(self.get_server_url() + "/", timeout=10).read()
        self.assertEqual(body.decode(), "served " + multiprocessing.get_start_method())
        self.assertEqual(multiprocessing.active_children(), [])

    def test_served_again(self):
        self.test_served()


class ZAfterTheClass(unittest.TestCase):
    def test_nothing_left(self):
        import socket
        names = [th.name for th in threading.enumerate() if th is not threading.main_thread()]
        self.assertEqual([n for n in names if "live server" in n or "process_request" in n], [])
        self.assertEqual(len(set(PORTS)), 1)
        with self.assertRaises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", PORTS[0]), timeout=2).close()
"""


def run_module(tmp_path: Path, *command: str, env: dict[str, str] | None = None) -> str:
    (tmp_path / "live_module.py").write_text(MODULE, encoding="utf-8")
    full_env = dict(os.environ, **(env or {}))
    full_env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])
    )
    proc = subprocess.run(
        command,
        cwd=tmp_path,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    return output


@pytest.mark.parametrize("method", ["fork", "spawn", "forkserver"])
def test_works_under_every_multiprocessing_start_method(tmp_path: Path, method: str) -> None:
    import multiprocessing

    if method not in multiprocessing.get_all_start_methods():
        pytest.skip(f"the {method!r} start method does not exist on this platform")
    script = textwrap.dedent(f"""
        import multiprocessing
        import multiprocessing.reduction
        import sys
        import unittest

        multiprocessing.set_start_method({method!r})

        def refuse(*args, **kwargs):
            raise AssertionError("something was pickled for another process")

        # Anything multiprocessing would send to a child goes through this pickler.
        multiprocessing.reduction.ForkingPickler.dumps = refuse

        program = unittest.main(module="live_module", exit=False, verbosity=2)
        sys.exit(not program.result.wasSuccessful())
    """)
    output = run_module(tmp_path, sys.executable, "-c", script)
    assert "Ran 3 tests" in output
    assert "OK" in output


@pytest.mark.parametrize("runner", ["pytest", "nose2", "pynose"])
def test_class_cleanup_stops_the_server_under_other_runners(tmp_path: Path, runner: str) -> None:
    commands = {
        "pytest": [*PYTEST, "-p", "no:cacheprovider", "live_module.py"],
        "nose2": [sys.executable, "-m", "nose2", "live_module"],
        "pynose": [str(Path(sys.executable).parent / "pynose"), "live_module.py"],
    }
    command = commands[runner]
    if runner == "pynose" and not Path(command[0]).exists():
        if os.environ.get("CI") == "true":
            pytest.fail("pynose is not installed; it comes with pip install -e '.[dev]'")
        pytest.skip("pynose is not installed (pip install -e '.[dev]')")
    output = run_module(tmp_path, *command)
    assert "3 passed" in output or "Ran 3 tests" in output


def test_coverage_measures_code_run_by_the_server_thread(tmp_path: Path) -> None:
    data = tmp_path / ".coverage"
    run_module(
        tmp_path,
        sys.executable,
        "-m",
        "coverage",
        "run",
        f"--data-file={data}",
        "--include=live_module.py",
        "-m",
        "unittest",
        "live_module",
        env={"COVERAGE_PROCESS_START": ""},
    )
    report = tmp_path / "coverage.json"
    run_module(
        tmp_path,
        sys.executable,
        "-m",
        "coverage",
        "json",
        f"--data-file={data}",
        "-o",
        str(report),
    )
    import json

    files = json.loads(report.read_text())["files"]
    executed = set(next(iter(files.values()))["executed_lines"])
    lines = MODULE.splitlines()
    view_body = lines.index('        return "served " + multiprocessing.get_start_method()') + 1
    assert view_body in executed, "the view ran on the server thread and was measured"


# -- with database isolation -----------------------------------------------------------

db = SQLAlchemy()


class LiveNote(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "flask_testcase_live_note"
    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(String(200))


# A SQLite file under the temporary directory (the guard accepts it), removed at exit.
_sqlite_dir = tempfile.mkdtemp(prefix="flask-testcase-live-")
atexit.register(shutil.rmtree, _sqlite_dir, True)

DATABASES = {
    "sqlite-memory": ("sqlite://", None),
    "sqlite-file": (f"sqlite:///{_sqlite_dir}/live.db", None),
    "postgresql": ("postgresql+psycopg://postgres@127.0.0.1:5432/test", 5432),
    "mariadb": ("mysql+pymysql://root@127.0.0.1:3306/test", 3306),
}


def database_url(name: str) -> str:
    """The URL of a database server, or skip (fail under CI) when it does not answer."""
    url, port = DATABASES[name]
    if port is not None:
        try:
            create_engine(url, poolclass=NullPool).connect().close()
        except Exception as exc:
            reason = f"{name} at 127.0.0.1:{port} is not reachable: {exc}"
            if os.environ.get("CI") == "true":
                pytest.fail(f"CI=true but {reason}")
            pytest.skip(reason)
    return url


def make_db_app(url: str) -> flask.Flask:
    app = flask.Flask(__name__)
    app.config.update(SECRET_KEY="test", TESTING=True, SQLALCHEMY_DATABASE_URI=url)
    db.init_app(app)

    @app.get("/notes")
    def notes() -> list[str]:
        return list(db.session.scalars(select(LiveNote.text).order_by(LiveNote.id)))

    @app.post("/notes")
    def add_note() -> tuple[str, int]:
        db.session.add(LiveNote(text=flask.request.form["text"]))
        db.session.commit()
        return "created", 201

    return app


def post(url: str, text: str) -> int:
    data = urllib.parse.urlencode({"text": text}).encode()
    with urllib.request.urlopen(url, data=data, timeout=10) as response:
        return int(response.status)


def count_elsewhere(url: str, text: str) -> int:
    """Rows with ``text``, counted on a new connection outside every test."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            stmt = select(func.count()).select_from(LiveNote).where(LiveNote.text == text)
            return int(conn.scalar(stmt) or 0)
    finally:
        engine.dispose()


@pytest.mark.parametrize("backend", list(DATABASES))
class TestWithDatabase:
    def test_server_sees_the_tests_rows_and_everything_is_rolled_back(self, backend: str) -> None:
        url = database_url(backend)
        mark = f"note-{time.time_ns()}"
        seen: dict[str, t.Any] = {}

        class Case(LiveServerTestCase):
            db = globals()["db"]

            def create_app(self) -> flask.Flask:
                return make_db_app(url)

            def test_1_write_then_read_through_the_server(self) -> None:
                db.session.add(LiveNote(text=f"{mark} by the test"))
                db.session.commit()
                base = self.get_server_url()
                seen["listed"] = json.loads(get(base + "/notes")[1])
                seen["posted"] = post(base + "/notes", f"{mark} by the server")
                db.session.expire_all()
                stmt = select(LiveNote.text).where(LiveNote.text.startswith(mark))
                seen["in test"] = sorted(db.session.scalars(stmt))

            def test_2_next_test_sees_nothing(self) -> None:
                listed = json.loads(get(self.get_server_url() + "/notes")[1])
                seen["next listed"] = [n for n in listed if n.startswith(mark)]
                stmt = select(func.count()).where(LiveNote.text.startswith(mark))
                seen["next count"] = db.session.scalar(stmt)

        assert_ok(run_case(Case), 2)
        assert f"{mark} by the test" in seen["listed"]
        assert seen["posted"] == 201
        assert seen["in test"] == [f"{mark} by the server", f"{mark} by the test"]
        assert seen["next listed"] == []
        assert seen["next count"] == 0
        if url != "sqlite://":
            assert count_elsewhere(url, f"{mark} by the test") == 0
            assert count_elsewhere(url, f"{mark} by the server") == 0

    def test_requests_are_served_one_at_a_time_on_the_shared_connection(self, backend: str) -> None:
        url = database_url(backend)
        mark = f"burst-{time.time_ns()}"
        seen: dict[str, t.Any] = {}

        class Case(LiveServerTestCase):
            db = globals()["db"]

            def create_app(self) -> flask.Flask:
                return make_db_app(url)

            def test_it(self) -> None:
                base = self.get_server_url()
                statuses: list[int] = []

                def write(i: int) -> None:
                    statuses.append(post(base + "/notes", f"{mark} {i}"))
                    get(base + "/notes")

                threads = [threading.Thread(target=write, args=(i,)) for i in range(8)]
                for th in threads:
                    th.start()
                for th in threads:
                    th.join()
                seen["statuses"] = statuses
                stmt = select(func.count()).where(LiveNote.text.startswith(mark))
                seen["count"] = db.session.scalar(stmt)

        assert_ok(run_case(Case), 1)
        assert seen["statuses"] == [201] * 8
        assert seen["count"] == 8
        if url != "sqlite://":
            assert count_elsewhere(url, f"{mark} 0") == 0

    def test_class_data_is_served_to_every_test_and_changes_to_it_are_undone(
        self, backend: str
    ) -> None:
        url = database_url(backend)
        mark = f"class-{time.time_ns()}"
        seen: list[list[str]] = []

        class Case(LiveServerTestCase):
            db = globals()["db"]

            @classmethod
            def setUpTestData(cls) -> None:
                db.session.add(LiveNote(text=f"{mark} shared"))

            def create_app(self) -> flask.Flask:
                return make_db_app(url)

            def listed(self) -> list[str]:
                notes = json.loads(get(self.get_server_url() + "/notes")[1])
                return [n for n in notes if n.startswith(mark)]

            def test_1_adds_through_the_server(self) -> None:
                post(self.get_server_url() + "/notes", f"{mark} added")
                seen.append(self.listed())

            def test_2_sees_only_the_class_data(self) -> None:
                seen.append(self.listed())

        assert_ok(run_case(Case), 2)
        assert seen == [[f"{mark} shared", f"{mark} added"], [f"{mark} shared"]]
        if url != "sqlite://":
            assert count_elsewhere(url, f"{mark} shared") == 0


class TestViewRequestingTheLiveServer:
    """With ``db`` set a view that fetches the live server's own URL would wait for a
    request that cannot start until the view ends: it is answered and reported."""

    def test_is_a_503_and_the_tests_error_naming_the_cause_not_a_hang(self) -> None:
        url = database_url("sqlite-memory")
        seen: dict[str, t.Any] = {}

        class Case(LiveServerTestCase):
            db = globals()["db"]

            def create_app(self) -> flask.Flask:
                app = make_db_app(url)
                app.config["LIVESERVER_TIMEOUT"] = 0.5

                @app.get("/notes-over-http")
                def notes_over_http() -> str:
                    status, body = get(flask.request.host_url + "notes?via=http")
                    seen["inner"] = (status, body)
                    return body

                return app

            def test_it(self) -> None:
                seen["outer"] = get(self.get_server_url() + "/notes-over-http")

        start = time.monotonic()
        result = run_case(Case)
        assert time.monotonic() - start < 5
        test_id = f"{Case.__module__}.{Case.__qualname__}.test_it"
        explanation = (
            "GET /notes?via=http to the live server waited 0.5 s (LIVESERVER_TIMEOUT) for"
            " GET /notes-over-http to finish, and was answered 503. With db set the live"
            f" server serves {test_id}'s requests one at a time, on the test's database"
            " connection: if the view of GET /notes-over-http requests the live server"
            " itself, that request cannot start until the view ends. Call that code"
            " directly instead of over HTTP, raise LIVESERVER_TIMEOUT if GET"
            " /notes-over-http is only slow, or switch the test to real commits"
            " (real_commits = True on the TestCase class, @pytest.mark.real_commits under"
            " pytest), where the live server serves requests concurrently, each on a"
            " database connection of its own."
        )
        assert seen["inner"] == (503, explanation + "\n")
        assert seen["outer"] == (200, explanation + "\n")
        assert [last_line(e) for e in result.errors] == [f"RuntimeError: {explanation}"]
        assert result.testsRun == 1
