"""Browse the application in process with twill 3: :class:`Twill` and :class:`TwillTestCase`.

twill 3 sends its requests through httpx, which can call a WSGI application directly,
so the browser here talks to the app under test without a server or a socket. twill
keeps one global browser that its commands (:mod:`twill.commands`) and scripts use;
while a :class:`Twill` is entered that global is a fresh browser bound to the app,
and everything twill keeps globally is put back when it exits.

twill is an optional dependency (``pip install flask-testcase[twill]``); this module
imports it only when a :class:`Twill` is entered, so ``import flask_testcase`` works
without it.
"""

from __future__ import annotations

import contextlib
import http.client
import inspect
import io
import logging
import sys
import typing as t
from pathlib import Path
from urllib.parse import urljoin

from . import _internals
from ._classes import class_factory
from ._requests import fresh_context
from .case import TestCase
from .case import _replace_settings

if t.TYPE_CHECKING:
    from collections.abc import Iterator
    from types import ModuleType
    from types import TracebackType

    import flask
    from twill.browser import TwillBrowser

    from ._environment import Settings
    from ._environment import TestEnvironment

__all__ = ["Twill", "TwillTestCase"]

# Hides this module's frames from unittest tracebacks, so a failure points at the test.
__unittest = True

_INSTALL_HINT = "pip install flask-testcase[twill]"

_WSGIApp = t.Callable[..., t.Any]


def _import_twill(user: str) -> ModuleType:
    """Import twill and the submodules whose globals :class:`Twill` swaps."""
    try:
        import twill
        import twill.browser
        import twill.commands
        import twill.errors
        import twill.namespaces
        import twill.parse
    except ImportError as error:
        raise ImportError(
            f"{user} needs twill 3, which is not installed. Install the extra: {_INSTALL_HINT}"
        ) from error
    return twill


def _twill_available() -> bool:
    """Whether twill 3 can be imported, so that :class:`Twill` and
    :class:`TwillTestCase` work (``flask_testcase.is_twill_available``)."""
    try:
        _import_twill("Twill")
    except ImportError:
        return False
    return True


def _is_twill_available_getattr(module: str) -> t.Callable[[str], t.Any]:
    """The module ``__getattr__`` of ``flask_testcase`` and ``flask_testcase.utils``:
    ``is_twill_available`` is computed when read, so that importing them never imports
    twill."""

    def __getattr__(name: str) -> t.Any:
        if name == "is_twill_available":
            return _twill_available()
        raise AttributeError(f"module {module!r} has no attribute {name!r}")

    return __getattr__


@class_factory
def _app_browser_class() -> type[TwillBrowser]:
    """The twill browser subclass bound to one application (made once twill is imported)."""
    from twill.browser import TwillBrowser

    class AppBrowser(TwillBrowser):
        """A twill browser whose requests all go to one WSGI application."""

        def __init__(self, app: _WSGIApp, base_url: str) -> None:
            self._bound_app = app
            self._bound_base_url = base_url
            super().__init__(app=app, base_url=base_url)

        def reset(
            self,
            base_url: str = "",
            app: _WSGIApp | None = None,
            follow_redirects: bool = True,
            verify: t.Any = False,
            timeout: t.Any = 10,
        ) -> None:
            # twill's ``reset_browser`` command (and a script's cleanup) reset the
            # browser without an app, which would send later requests to the network.
            super().reset(
                base_url=base_url or self._bound_base_url,
                app=app or self._bound_app,
                follow_redirects=follow_redirects,
                verify=verify,
                timeout=timeout,
            )

        def go(self, url: str) -> None:
            # twill resolves a path such as "/login" against the current page only,
            # and has none before the first ``go``; resolve it against the app's URL.
            if "://" not in url and not self.url:
                url = urljoin(self._bound_base_url + "/", url)
            super().go(url)

    return AppBrowser


@class_factory
def _failure_class(failure_exception: type[BaseException]) -> type[Exception]:
    """An exception class that is both twill's assertion error and ``failure_exception``.

    twill's commands raise it (in place of :class:`twill.errors.TwillAssertionError`)
    while a :class:`Twill` is entered, so a failed ``code`` or ``find`` is a test
    *failure* wherever it is raised (test body, ``setUp``, a ``subTest`` block), and
    code that catches twill's own class still catches it.
    """
    import twill.commands
    from twill.errors import TwillAssertionError

    def __init__(self: Exception, *args: t.Any) -> None:
        message = str(args[0]).strip() if args else "twill check failed"
        try:
            url = twill.commands.browser.url
        except AttributeError:  # a closed browser has no page attributes
            url = None
        # Every base keeps its message in ``args`` as BaseException does.
        Exception.__init__(self, f"{message}\nURL: {url or '(no page loaded)'}")

    return type(
        "TwillCheckFailed",
        (TwillAssertionError, failure_exception),
        {"__init__": __init__, "__module__": __name__},
    )


class _Output(logging.Handler):
    """Collects twill's log output; optionally also writes it to ``sys.stdout``."""

    def __init__(self, echo: bool) -> None:
        super().__init__()
        self.echo = echo
        self.buffer = io.StringIO()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = self.format(record) + "\n"
            self.buffer.write(text)
            if self.echo:
                # Looked up at each write, so a runner's output capture sees it.
                sys.stdout.write(text)
        except Exception:
            self.handleError(record)


def _swap(stack: contextlib.ExitStack, obj: t.Any, name: str, value: t.Any) -> None:
    stack.callback(setattr, obj, name, getattr(obj, name))
    setattr(obj, name, value)


def _refill(container: t.Any, saved: t.Any) -> None:
    container.clear()
    if isinstance(container, list):
        container.extend(saved)
    else:
        container.update(saved)


class Twill:
    """Browse ``app`` with twill, in process, inside a ``with`` block.

    .. code-block:: python

        from twill.commands import code, find, go

        with Twill(app) as t:
            go("/login")                      # or t.browser.go(t.url("/login"))
            code(200)
            find("Log in")

    Entering makes a new twill browser whose requests call ``app`` directly (no
    server, no network; cookies kept, redirects followed) and makes it twill's
    global browser, so :mod:`twill.commands` and twill scripts use it. Leaving puts
    back twill's previous browser, options, variables and log handlers. A failed
    twill check raises an exception that is both twill's
    :class:`~twill.errors.TwillAssertionError` and ``failure_exception``, so a test
    runner reports it as a failure; its message is twill's, followed by the URL.

    Entering an entered :class:`Twill` again (``with t:`` inside ``with t:``) keeps
    the same browser. Each outermost ``with`` starts a new browser with no cookies,
    except the first when :attr:`browser` was read before it: that block uses the
    browser already made.

    :param app: the Flask application (any WSGI callable works).
    :param host: the host name in the URLs :meth:`url` builds and the browser sends.
        Set it to match ``SERVER_NAME`` if the app sets one.
    :param port: the port in those URLs, or ``None`` for none.
    :param scheme: ``"http"`` or ``"https"``.
    :param show_output: also write twill's output to ``sys.stdout``; it is always
        collected in :attr:`output`.
    :param failure_exception: the exception class a failed twill check also is;
        :class:`TwillTestCase` passes the test's ``failureException``.
    """

    def __init__(
        self,
        app: _WSGIApp,
        host: str = "127.0.0.1",
        port: int | None = 5000,
        scheme: str = "http",
        *,
        show_output: bool = False,
        failure_exception: type[BaseException] = AssertionError,
    ) -> None:
        if not callable(app):
            raise TypeError(
                f"Twill() takes the Flask application to browse, got {app!r}"
                f" ({type(app).__name__}); pass the app, e.g. Twill(create_app())."
            )
        if not isinstance(host, str) or not host:
            raise TypeError(
                f"Twill() host must be a non-empty str such as 'localhost', got {host!r}."
            )
        if port is not None and (isinstance(port, bool) or not isinstance(port, int)):
            raise TypeError(f"Twill() port must be an int or None, got {port!r}.")
        if scheme not in ("http", "https"):
            raise ValueError(f"Twill() scheme must be 'http' or 'https', got {scheme!r}.")
        if not (isinstance(failure_exception, type) and issubclass(failure_exception, Exception)):
            raise TypeError(
                "Twill() failure_exception must be an Exception subclass such as"
                f" AssertionError, got {failure_exception!r}."
            )
        self.app = app
        self.host = host
        self.port = port
        self.scheme = scheme
        self.show_output = show_output
        self.failure_exception = failure_exception
        self._browser: TwillBrowser | None = None
        # Whether a block has used the browser: the next outermost block makes a new one.
        self._browser_used = False
        self._output: _Output | None = None
        self._depth = 0
        self._stack = contextlib.ExitStack()

    @property
    def base_url(self) -> str:
        """The URL of the app's root, without the trailing slash."""
        netloc = self.host if self.port is None else f"{self.host}:{self.port}"
        return f"{self.scheme}://{netloc}"

    def url(self, path: str) -> str:
        """Return the absolute URL of ``path`` on the app, e.g. ``http://127.0.0.1:5000/login``.

        :param path: a path, with its query string if any; a missing leading ``/`` is added.
        """
        if not isinstance(path, str):
            raise TypeError(f"Twill.url() takes a path such as '/login', got {path!r}.")
        if "://" in path:
            raise ValueError(
                f"Twill.url() takes a path such as '/login', got the full URL {path!r};"
                " pass that to the browser directly."
            )
        return self.base_url + (path if path.startswith("/") else f"/{path}")

    @property
    def browser(self) -> TwillBrowser:
        """The twill browser bound to the app: twill's global browser while entered.

        Its requests call the app directly, also outside the block (as with
        Flask-Testing's ``Twill``), but :mod:`twill.commands` use it, its checks fail
        the test and its output is collected only inside. A browser read before the
        first block is the one that block uses; each later outermost block starts a
        new browser with no cookies. It stays readable after the block ends (its last
        page, cookies, history).
        """
        if self._browser is None:
            self._browser = self._new_browser()
            self._browser_used = False
        return self._browser

    def _new_browser(self) -> TwillBrowser:
        _import_twill("Twill")
        return _app_browser_class()(app=fresh_context(self.app), base_url=self.base_url)

    @property
    def output(self) -> str:
        """Everything twill has written (``show``, ``==> at ...``, errors) so far."""
        return "" if self._output is None else self._output.buffer.getvalue()

    def __enter__(self) -> Twill:
        if self._depth == 0:
            self._install()
        self._depth += 1
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._depth -= 1
        if self._depth == 0:
            self._stack.close()

    def _install(self) -> None:
        twill = _import_twill("Twill")
        commands, parse, namespaces = twill.commands, twill.parse, twill.namespaces
        browser_module = sys.modules["twill.browser"]
        failure_class = _failure_class(self.failure_exception)
        browser = self._browser
        if browser is None or self._browser_used:
            browser = self._new_browser()
        output = _Output(self.show_output)
        with contextlib.ExitStack() as stack:
            # twill's commands and parser name the browser as a module global, and the
            # package exports it as ``twill.browser``: each gets the new one.
            for module in (twill, browser_module, commands, parse):
                _swap(stack, module, "browser", browser)
            _swap(stack, commands, "TwillAssertionError", failure_class)
            # Options, variables and the script namespace stack are module-level
            # containers shared by every user of twill; restore their contents.
            stack.callback(_refill, commands.options, dict(commands.options))
            _refill(commands.options, commands.default_options)
            stack.callback(_refill, namespaces.global_dict, dict(namespaces.global_dict))
            local_stack = _internals.twill_local_stack()
            stack.callback(_refill, local_stack, list(local_stack))
            # ``debug commands 1`` and ``debug http 1`` change these for everyone.
            stack.callback(_internals.set_twill_command_logger, _internals.twill_command_logger())
            connection = http.client.HTTPConnection
            _swap(stack, connection, "debuglevel", connection.debuglevel)
            # twill logs everything it shows through one logger with a stream handler
            # bound to the stdout of import time; collect it instead.
            log = twill.log
            _swap(stack, twill, "handler", twill.handler)
            _swap(stack, log, "propagate", False)
            stack.callback(setattr, log, "handlers", list(log.handlers))
            log.handlers = [output]
            self._stack = stack.pop_all()
        self._browser = browser
        self._browser_used = True
        self._output = output

    def run_script(self, path: str | Path, **variables: t.Any) -> None:
        """Run the twill script at ``path`` with the bound browser, keeping its state.

        A path such as ``/login`` in ``go`` resolves against :attr:`base_url`. A failed
        check fails with twill's message, the URL, and the script line.

        :param path: the ``.twill`` file; a relative path is relative to the current
            directory.
        :param variables: twill global variables for the script (``${name}`` in it),
            removed again afterwards.
        """
        self._run(Path(path), None, variables)

    def run_string(self, script: str, **variables: t.Any) -> None:
        """Run twill commands given as a string, one per line, like :meth:`run_script`.

        :param script: the commands.
        :param variables: twill global variables for the script.
        """
        if not isinstance(script, str):
            raise TypeError(f"Twill.run_string() takes the script as a str, got {script!r}.")
        self._run(None, script, variables)

    def _run(self, path: Path | None, script: str | None, variables: dict[str, t.Any]) -> None:
        if self._depth == 0:
            raise RuntimeError(
                "Twill scripts run inside the block: 'with Twill(app) as t: t.run_script(...)'."
            )
        if path is not None and not path.is_file():
            raise FileNotFoundError(f"twill script {str(path)!r} not found")
        import twill.namespaces
        import twill.parse
        from twill.errors import TwillAssertionError

        global_dict = twill.namespaces.global_dict
        saved = dict(global_dict)
        global_dict.update(variables)
        browser = self.browser
        browser.first_error = None
        try:
            if path is not None:
                twill.parse.execute_file(str(path), no_reset=True)
            else:
                twill.parse.execute_string(script or "", no_reset=True)
        except TwillAssertionError as error:
            # twill records where the script failed; add it to the message.
            if browser.first_error and error.args:
                error.args = (f"{error.args[0]}\n{browser.first_error}",)
            raise
        finally:
            _refill(global_dict, saved)


class TwillTestCase(TestCase):
    """A :class:`~flask_testcase.TestCase` with a twill browser bound to the app.

    Each test gets :attr:`twill`, an entered :class:`Twill`, and :attr:`browser`, its
    browser, which is twill's global browser during the test: :mod:`twill.commands`
    work on the app, cookies and the session last for the test and no longer, and
    templates and flashed messages of twill requests are recorded like the test
    client's. A failed twill check is a test failure.
    """

    #: Host name in twill URLs (Flask-Testing's default).
    twill_host: t.ClassVar[str] = "127.0.0.1"
    #: Port in twill URLs, or ``None`` for none.
    twill_port: t.ClassVar[int | None] = 5000
    #: ``"http"`` or ``"https"``.
    twill_scheme: t.ClassVar[str] = "http"
    #: Also print twill's output; it is always collected in ``self.twill.output``.
    twill_show_output: t.ClassVar[bool] = False

    #: The test's :class:`Twill`, entered for the test.
    twill: Twill
    #: The twill browser bound to :attr:`app` (``self.twill.browser``).
    browser: TwillBrowser

    _fixture_names = (*TestCase._fixture_names, "twill", "browser")

    def _environment_settings(self) -> Settings:
        return _replace_settings(super()._environment_settings(), browser=self._twill_for)

    def _twill_for(self, app: flask.Flask) -> t.ContextManager[Twill]:
        twill = Twill(
            app,
            host=self.twill_host,
            port=self.twill_port,
            scheme=self.twill_scheme,
            show_output=self.twill_show_output,
            failure_exception=self.failureException,
        )
        return _entering_twill(twill)

    def _use_environment(self, env: TestEnvironment) -> None:
        super()._use_environment(env)
        self.twill = env.browser
        self.browser = env.browser.browser

    def make_twill_url(self, path: str) -> str:
        """Return the absolute URL of ``path`` on the app under test.

        :param path: a path such as ``/login``.
        """
        return self.twill.url(path)

    def twill_script(self, path: str | Path, **variables: t.Any) -> None:
        """Run a ``.twill`` script against the app with this test's browser.

        .. code-block:: python

            def test_login(self):
                self.twill_script("twill/login.twill", username="alice")
                self.assertMessageFlashed("Welcome, alice!")

        :param path: the script; a relative path is relative to the directory of the
            module that defines this test class.
        :param variables: twill global variables for the script (``${name}`` in it).
        """
        script = Path(path)
        if not script.is_absolute():
            script = _module_dir(type(self)) / script
        if not script.is_file():
            raise FileNotFoundError(
                f"twill script {str(path)!r} not found: looked for {str(script)!r}"
                " (a relative path is relative to the test module's directory)"
            )
        self.twill.run_script(script, **variables)


@contextlib.contextmanager
def _entering_twill(twill: Twill) -> Iterator[Twill]:
    try:
        twill.__enter__()
    except ImportError as error:
        raise ImportError(
            f"TwillTestCase needs twill 3, which is not installed. Install the extra:"
            f" {_INSTALL_HINT}"
        ) from error.__cause__
    try:
        yield twill
    finally:
        twill.__exit__(None, None, None)


def _module_dir(cls: type) -> Path:
    try:
        return Path(inspect.getfile(cls)).resolve().parent
    except (TypeError, OSError):  # a class made where there is no file: use the cwd
        return Path.cwd()
