"""The one request-isolation point: each request in a fresh, empty contextvars.Context.

The test client, twill and the live server all use it; their own test modules check
that ``g`` never leaks through each of them. These tests check the building block.
"""

from __future__ import annotations

import contextvars
import typing as t

import werkzeug.test
from werkzeug.test import EnvironBuilder
from werkzeug.test import run_wsgi_app

from flask_testcase._requests import _FreshContextRequests
from flask_testcase._requests import fresh_context

seen: contextvars.ContextVar[str] = contextvars.ContextVar("seen", default="unset")


class Recorder:
    """A WSGI app recording the context variable at each step of a request."""

    def __init__(self) -> None:
        self.steps: list[tuple[str, str]] = []

    def __call__(self, environ: t.Any, start_response: t.Any) -> t.Any:
        self.steps.append(("call", seen.get()))
        seen.set("set by the request")
        start_response("200 OK", [("Content-Type", "text/plain")])
        return self.body()

    def body(self) -> t.Any:
        recorder = self

        class Body:
            def __iter__(self) -> t.Iterator[bytes]:
                recorder.steps.append(("iterate", seen.get()))
                yield b"ok"

            def close(self) -> None:
                recorder.steps.append(("close", seen.get()))

        return Body()


def test_call_iteration_and_close_share_one_fresh_context() -> None:
    app = Recorder()
    token = seen.set("set by the test")
    try:
        for _ in range(2):
            body, status, _ = run_wsgi_app(fresh_context(app), EnvironBuilder("/").get_environ())
            assert (status, b"".join(body)) == ("200 OK", b"ok")
            t.cast(t.Any, body).close()
        assert seen.get() == "set by the test"
    finally:
        seen.reset(token)
    request = [
        ("call", "unset"),
        ("iterate", "set by the request"),
        ("close", "set by the request"),
    ]
    # The second request does not see what the first one set.
    assert app.steps == request * 2


def test_the_werkzeug_method_the_client_hook_replaces_is_still_there() -> None:
    # Werkzeug marks Client.run_wsgi_app private; if it is renamed, the isolated client
    # would silently stop isolating. Client.open must still call it for each request.
    assert "run_wsgi_app" in vars(werkzeug.test.Client)
    calls: list[str] = []

    class Counting(werkzeug.test.Client):
        def run_wsgi_app(self, environ: t.Any, buffered: bool = False) -> t.Any:
            calls.append(environ["PATH_INFO"])
            return super().run_wsgi_app(environ, buffered)

    Counting(Recorder()).get("/a")
    assert calls == ["/a"]
    assert "run_wsgi_app" in vars(_FreshContextRequests)
