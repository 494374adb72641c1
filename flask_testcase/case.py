"""The :class:`TestCase` lifecycle: app, client, contexts and recorders for each test."""

from __future__ import annotations

import contextlib
import contextvars
import gc
import sys
import typing as t
import unittest

import flask
from flask.testing import FlaskClient

from . import _current
from . import _internals
from ._flask_testing import FlaskTestingAliases
from ._requests import isolate_test_client
from .assertions import AssertionsMixin
from .capture import record_flashed_messages
from .capture import record_templates
from .capture import silence_templates
from .config import ConfigMixin
from .database import DatabaseMixin
from .forms import FormsMixin
from .login import LoginMixin
from .mail import MailMixin

if t.TYPE_CHECKING:
    from collections.abc import Iterator

    from flask.ctx import RequestContext
    from flask.testing import FlaskCliRunner
    from werkzeug.local import LocalProxy

    from .capture import FlashedMessage
    from .capture import RenderedTemplate

__all__ = ["TestCase"]

__unittest = True

_C = t.TypeVar("_C")


class _ClassApp(t.NamedTuple):
    app: flask.Flask
    config: dict[str, t.Any]


_CLASS_APP = "_flask_testcase_class_app"


class TestCase(
    ConfigMixin,
    DatabaseMixin,
    LoginMixin,
    FormsMixin,
    MailMixin,
    AssertionsMixin,
    FlaskTestingAliases,
    unittest.TestCase,
):
    """A :class:`unittest.TestCase` for a Flask application.

    Write :meth:`create_app`; each test then gets :attr:`app`, :attr:`client`,
    :attr:`runner`, a pushed request context, and the lists :attr:`templates` and
    :attr:`flashed_messages`. This setup runs before your ``setUp`` and is undone
    after your ``tearDown`` and cleanups, so neither needs to call ``super()``.
    A skipped test builds nothing.
    """

    #: When false, templates render as empty strings; renders are still recorded
    #: with their context, so template assertions keep working.
    render_templates: t.ClassVar[bool] = True

    #: Run :func:`gc.collect` after each test (Flask-Testing's option).
    run_gc_after_test: t.ClassVar[bool] = False

    #: Call :meth:`create_app` once per test class instead of once per test. Each
    #: test still gets a fresh client, contexts and records, and ``app.config`` is
    #: restored after each test; state extensions keep on the app is shared.
    app_per_class: t.ClassVar[bool] = False

    #: The application under test, returned by :meth:`create_app`.
    app: flask.Flask
    #: The app's test client; each request runs in a fresh context, and each response
    #: is a :class:`~flask_testcase.RecordedResponse` with its own request's records.
    client: FlaskClient
    #: ``app.test_cli_runner()``, for invoking CLI commands.
    runner: FlaskCliRunner
    #: Every template rendered during the test, in order.
    templates: list[RenderedTemplate]
    #: Every message flashed during the test, in order.
    flashed_messages: list[FlashedMessage]

    def create_app(self) -> flask.Flask:
        """Return the Flask application to test. Subclasses must override it.

        It is called for each test (once per class with :attr:`app_per_class`).
        """
        cls = type(self)
        bases = ", ".join(base.__name__ for base in cls.__bases__)
        raise NotImplementedError(
            f"{cls.__name__} must define create_app() returning the Flask app to test,"
            " e.g.\n\n"
            f"    class {cls.__name__}({bases}):\n"
            f"        def create_app(self):\n"
            f"            return create_app('testing')\n"
        )

    # -- running ---------------------------------------------------------------

    def run(self, result: unittest.TestResult | None = None) -> unittest.TestResult | None:
        # The whole test runs in a copy of the caller's contextvars: whatever the
        # test leaves pushed, the runner and the next test never see it.
        def run_then_clean_up() -> unittest.TestResult | None:
            try:
                return super(TestCase, self).run(result)
            except BaseException:
                # unittest lets KeyboardInterrupt and SystemExit escape without running
                # cleanups: run them, or a database isolation stays installed and a
                # later test's writes would go to this test's connection.
                _clean_up_after_interrupt(self)
                raise

        with _setup_runs_ours_first(self):
            return contextvars.copy_context().run(run_then_clean_up)

    def debug(self) -> None:
        def debug_then_clean_up() -> None:
            # unittest's debug() leaves cleanups pending when the test raises;
            # ours must still run, in the context they were registered in.
            try:
                super(TestCase, self).debug()
            finally:
                self.doCleanups()

        with _setup_runs_ours_first(self):
            contextvars.copy_context().run(debug_then_clean_up)

    @classmethod
    def tearDownClass(cls) -> None:
        """Run the class cleanups (the per-class app, class-level database data).

        unittest, pytest and nose2 also run them after ``tearDownClass``; nose and
        pynose predate class cleanups and never do, so we run them here. A class
        that overrides ``tearDownClass`` calls ``super().tearDownClass()``.
        """
        super().tearDownClass()
        cls.doClassCleanups()
        # doClassCleanups() collects errors in this (undocumented) list; unittest
        # would clear it on its own later call, so raise the first one now.
        errors = _internals.take_class_cleanup_errors(cls)
        if errors:
            raise errors[0][1]

    # -- fixtures --------------------------------------------------------------

    def _make_app(self) -> flask.Flask:
        app = self.create_app()
        if not isinstance(app, flask.Flask):
            hint = " Did create_app() forget to return it?" if app is None else ""
            raise TypeError(
                f"{type(self).__name__}.create_app() must return a flask.Flask instance,"
                f" got {app!r} ({type(app).__name__}).{hint}"
            )
        return app

    def _get_app(self) -> flask.Flask:
        cls = type(self)
        if not cls.app_per_class:
            return self._make_app()
        state: _ClassApp | None = cls.__dict__.get(_CLASS_APP)
        if state is None:
            app = self._make_app()
            state = _ClassApp(app, dict(app.config))
            setattr(cls, _CLASS_APP, state)
            cls.addClassCleanup(delattr, cls, _CLASS_APP)
        # Undo configuration changes made by the test, after everything else.
        self.addCleanup(_restore_config, state.app, state.config)
        return state.app

    def _pre_setup(self) -> None:
        """Build the test's fixtures; each registers its undo as a cleanup at once,
        so a failure half way unwinds exactly what was done."""
        if self.run_gc_after_test:
            self.addCleanup(gc.collect)
        self.addCleanup(self._forget_fixtures)
        app = self.app = self._get_app()

        self.addCleanup(isolate_test_client(app))
        self.client = app.test_client()
        self.runner = app.test_cli_runner()

        self.templates = self._enter(record_templates(app))
        self.flashed_messages = self._enter(record_flashed_messages(app))
        if not self.render_templates:
            self._enter(silence_templates(app))

        ctx: RequestContext = app.test_request_context()
        ctx.push()
        self.addCleanup(_pop_test_context, ctx, _active_contexts())
        self._setup_fixtures()
        # Last, so that the database isolation (if any) is known: the records
        # flask_testcase.asserts reads during this test.
        undo = _current.push(
            self.templates,
            self.flashed_messages,
            vars(self).get("_isolation"),
            client=self.client,
            app=app,
        )
        self.addCleanup(undo)

    def _forget_fixtures(self) -> None:
        # Runners keep finished test cases alive (pytest until the session ends, a
        # failure's traceback holds ``self``); dropping these lets the app go.
        for name in ("app", "client", "runner", "templates", "flashed_messages"):
            vars(self).pop(name, None)


@contextlib.contextmanager
def _setup_runs_ours_first(case: TestCase) -> Iterator[None]:
    """Shadow ``setUp`` on the instance with one that runs ``_pre_setup`` first.

    unittest then reports an error in ``create_app`` exactly like one in ``setUp``
    (skips, expected failures and cleanups included), and never calls it for a
    skipped test.
    """
    user_setup = case.setUp

    def setUp() -> None:
        case._pre_setup()
        user_setup()

    vars(case)["setUp"] = setUp
    try:
        yield
    finally:
        vars(case).pop("setUp", None)


def _clean_up_after_interrupt(case: TestCase) -> None:
    try:
        case.doCleanups()
        type(case).doClassCleanups()
    finally:
        isolation = sys.modules.get("flask_testcase.isolation")
        if isolation is not None:
            isolation.end_all()


def _active_contexts() -> tuple[object, object] | None:
    """The active app context and request (or ``None``), through Flask's public proxies.

    Flask 3.2 merged the request context into the app context; before, a request
    context pushed for the same app reuses the app context. Together the two
    objects tell whether the context on top is the one the test case pushed.
    """
    if not flask.has_app_context():
        return None
    app_ctx = t.cast("LocalProxy[object]", flask.globals.app_ctx)._get_current_object()
    if not flask.has_request_context():
        return app_ctx, None
    return app_ctx, t.cast("LocalProxy[object]", flask.request)._get_current_object()


def _pop_test_context(ctx: RequestContext, pushed: tuple[object, object] | None) -> None:
    active = _active_contexts()
    # Flask refuses to pop a context from under one pushed later, with an error that
    # differs between versions (AssertionError up to 3.1, RuntimeError from 3.2) and
    # names neither the cause nor the fix. Report it before Flask would, as an error
    # in the test (not a failed check). With no context at all, Flask's own error
    # says what happened.
    if active is not None and (pushed is None or any(a is not b for a, b in zip(active, pushed))):
        raise RuntimeError(
            "The test left an application or request context pushed on top of the"
            " test's own context. Pop every context the test pushes, or use"
            " 'with app.app_context():'."
        )
    ctx.pop()


def _restore_config(app: flask.Flask, config: dict[str, t.Any]) -> None:
    if app.config != config:
        app.config.clear()
        app.config.update(config)
