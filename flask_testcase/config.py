"""Change ``app.config`` for one block, test or test class, and put it back afterwards:
:class:`override_config` (Django's ``override_settings``). On a
:class:`~flask_testcase.TestCase` class it records itself in ``config_overrides``,
which the test environment applies first, before anything reads the config."""

from __future__ import annotations

import difflib
import functools
import typing as t
import warnings

import flask

if t.TYPE_CHECKING:
    from collections.abc import Callable
    from collections.abc import Mapping
    from types import TracebackType

__all__ = [
    "ConfigOverrideError",
    "UnknownConfigKeyWarning",
    "override_config",
]

__unittest = True

_F = t.TypeVar("_F", bound="Callable[..., t.Any]")
_T = t.TypeVar("_T")

_MISSING = object()

# Settings an extension reads once, in init_app(), keyed by the name under which that
# extension registers itself in app.extensions. Changing them afterwards changes
# nothing the app uses, so overriding them is refused rather than silently ignored.
_READ_AT_INIT: dict[str, tuple[str, tuple[str, ...]]] = {
    "sqlalchemy": (
        "Flask-SQLAlchemy",
        ("SQLALCHEMY_DATABASE_URI", "SQLALCHEMY_BINDS", "SQLALCHEMY_ENGINE_OPTIONS"),
    ),
    "mail": (
        "Flask-Mail",
        (
            "MAIL_SERVER",
            "MAIL_USERNAME",
            "MAIL_PASSWORD",
            "MAIL_PORT",
            "MAIL_USE_TLS",
            "MAIL_USE_SSL",
            "MAIL_DEFAULT_SENDER",
            "MAIL_DEBUG",
            "MAIL_MAX_EMAILS",
            "MAIL_SUPPRESS_SEND",
            "MAIL_ASCII_ATTACHMENTS",
        ),
    ),
    "mailman": (
        "Flask-Mailman",
        (
            "MAIL_BACKEND",
            "MAIL_SERVER",
            "MAIL_PORT",
            "MAIL_USERNAME",
            "MAIL_PASSWORD",
            "MAIL_USE_TLS",
            "MAIL_USE_SSL",
            "MAIL_DEFAULT_SENDER",
            "MAIL_TIMEOUT",
            "MAIL_SSL_KEYFILE",
            "MAIL_SSL_CERTFILE",
            "MAIL_USE_LOCALTIME",
            "MAIL_FILE_PATH",
            "MAIL_DEFAULT_CHARSET",
            "MAIL_SEND_OPTIONS",
        ),
    ),
}

# Settings extensions read per request with a default, so they are rightly absent
# from app.config until a test sets them: no unknown-key warning for these.
_READ_WITH_DEFAULT = frozenset(
    {
        # Flask-WTF 1.x
        "WTF_CSRF_ENABLED",
        "WTF_CSRF_CHECK_DEFAULT",
        "WTF_CSRF_SECRET_KEY",
        "WTF_CSRF_FIELD_NAME",
        "WTF_CSRF_HEADERS",
        "WTF_CSRF_METHODS",
        "WTF_CSRF_SSL_STRICT",
        "WTF_CSRF_TIME_LIMIT",
        # Flask-Login 0.6
        "LOGIN_DISABLED",
        "SESSION_PROTECTION",
        "USE_SESSION_FOR_NEXT",
        "AUTH_HEADER_NAME",
        "FORCE_HOST_FOR_REDIRECTS",
        "REMEMBER_COOKIE_NAME",
        "REMEMBER_COOKIE_DOMAIN",
        "REMEMBER_COOKIE_PATH",
        "REMEMBER_COOKIE_DURATION",
        "REMEMBER_COOKIE_SECURE",
        "REMEMBER_COOKIE_HTTPONLY",
        "REMEMBER_COOKIE_SAMESITE",
        "REMEMBER_COOKIE_REFRESH_EACH_REQUEST",
    }
)


class UnknownConfigKeyWarning(UserWarning):
    """:class:`override_config` was given a key that the app's config does not have:
    most often a typo, which would silently test nothing."""


class ConfigOverrideError(ValueError):
    """:class:`override_config` was asked to change a setting that the app read at
    start-up (in an extension's ``init_app``), so changing it would have no effect."""


class override_config:
    """Set keys of ``app.config`` and restore them afterwards (keys that were absent
    are removed again), even when the code inside raises.

    Use it as a context manager, around a test method (the override covers the test
    body, not ``setUp``), around a plain pytest test function, or on a
    :class:`~flask_testcase.TestCase` subclass, where it applies around each test,
    after ``create_app()`` and before ``setUp``::

        with override_config(FEATURE_X=True):
            response = self.client.get("/")

        @override_config(WTF_CSRF_ENABLED=False)
        class SignupTests(TestCase):
            ...

    Without ``app=`` it changes :data:`flask.current_app` when it is entered: the
    test's app inside a :class:`~flask_testcase.TestCase` test and under the pytest
    plugin, which both push the app's context.

    A key missing from ``app.config`` gives an :class:`UnknownConfigKeyWarning` that
    names close matches. A setting an installed extension reads only in its
    ``init_app`` (Flask-SQLAlchemy's ``SQLALCHEMY_DATABASE_URI``,
    ``SQLALCHEMY_BINDS`` and ``SQLALCHEMY_ENGINE_OPTIONS``, Flask-Mail's and
    Flask-Mailman's ``MAIL_*``) raises :class:`ConfigOverrideError`: set it in
    ``create_app()`` instead.

    :param settings: a mapping of keys to values, for keys that are not valid Python
        names; merged with ``kwargs``.
    :param app: the app whose config to change; :data:`flask.current_app` by default.
    :param kwargs: the keys to set and their values.
    """

    def __init__(
        self,
        settings: Mapping[str, t.Any] | None = None,
        /,
        *,
        app: flask.Flask | None = None,
        **kwargs: t.Any,
    ) -> None:
        if settings is not None and not hasattr(settings, "keys"):
            raise TypeError(
                "override_config() takes the settings as keyword arguments"
                " (override_config(DEBUG=True)) or as one mapping"
                f" (override_config({{'DEBUG': True}})), got {settings!r}."
            )
        if app is not None and not isinstance(app, flask.Flask):
            raise TypeError(
                f"override_config(app=...) must be a flask.Flask instance, got {app!r}."
            )
        self.settings: dict[str, t.Any] = {**(settings or {}), **kwargs}
        if not self.settings:
            raise TypeError(
                "override_config() was given no settings; pass them as keyword"
                " arguments, e.g. override_config(DEBUG=True)."
            )
        self.app = app
        self._saved: list[tuple[flask.Flask, dict[str, t.Any]]] = []

    def __repr__(self) -> str:
        items = ", ".join(f"{k}={v!r}" for k, v in self.settings.items())
        return f"override_config({items})"

    # -- context manager -------------------------------------------------------

    def enable(self) -> None:
        """Apply the settings (what entering the ``with`` block does)."""
        app = self.app if self.app is not None else _current_app()
        _check(app, self.settings)
        saved = {key: app.config.get(key, _MISSING) for key in self.settings}
        self._saved.append((app, saved))
        app.config.update(self.settings)

    def disable(self) -> None:
        """Restore what the last :meth:`enable` changed."""
        app, saved = self._saved.pop()
        for key, value in saved.items():
            if value is _MISSING:
                app.config.pop(key, None)
            else:
                app.config[key] = value

    def __enter__(self) -> None:
        self.enable()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.disable()

    # -- decorator -------------------------------------------------------------

    @t.overload
    def __call__(self, func: type[_T]) -> type[_T]: ...

    @t.overload
    def __call__(self, func: _F) -> _F: ...

    def __call__(self, func: t.Any) -> t.Any:
        if isinstance(func, type):
            return self._decorate_class(func)
        if not callable(func):
            raise TypeError(
                f"{self!r} decorates a test function or a TestCase class, got {func!r}."
            )

        @functools.wraps(func)
        def with_overridden_config(*args: t.Any, **kwargs: t.Any) -> t.Any:
            with self:
                return func(*args, **kwargs)

        return with_overridden_config

    def _decorate_class(self, cls: type[_T]) -> type[_T]:
        from .case import TestCase

        if not issubclass(cls, TestCase):
            raise TypeError(
                f"{self!r} can decorate a flask_testcase.TestCase subclass, not"
                f" {cls.__name__}; decorate its test methods one by one instead."
            )
        # A new tuple on this class: the base's overrides apply first, then these.
        cls.config_overrides = (*cls.config_overrides, self)
        return t.cast("type[_T]", cls)


def _current_app() -> flask.Flask:
    if not flask.has_app_context():
        raise RuntimeError(
            "override_config() without app= changes flask.current_app, but no app"
            " context is pushed. Pass the app (override_config(app=app, ...)) or use"
            " it inside a test that has the app's context (TestCase, or the pytest"
            " plugin's fixtures)."
        )
    app: flask.Flask = flask.current_app._get_current_object()  # type: ignore[attr-defined]
    return app


def _check(app: flask.Flask, settings: Mapping[str, t.Any]) -> None:
    for extension, (label, keys) in _READ_AT_INIT.items():
        if extension not in app.extensions:
            continue
        frozen = [key for key in settings if key in keys]
        if frozen:
            raise ConfigOverrideError(
                f"override_config() cannot change {', '.join(frozen)}: {label} reads"
                f" {'it' if len(frozen) == 1 else 'them'} in init_app() and has already"
                " set up the app, so changing"
                " app.config now would change nothing. Set it in create_app() before"
                " the extension's init_app() runs (e.g. pass it to your app factory)."
            )
    for key in settings:
        if key in app.config or key in _READ_WITH_DEFAULT:
            continue
        known = [str(k) for k in app.config] + sorted(_READ_WITH_DEFAULT)
        matches = difflib.get_close_matches(key, known, n=3)
        hint = (
            f" Did you mean {' or '.join(repr(m) for m in matches)}?"
            if matches
            else " No key is close to it."
        )
        warnings.warn(
            f"override_config(): {key!r} is not in app.config, so the app may never"
            f" read it.{hint} Check the spelling; if the app reads it with"
            " app.config.get(), the override still applies.",
            UnknownConfigKeyWarning,
            stacklevel=4,
        )
