"""Log a test client in as a user without the login form (Django's
``client.force_login``), for apps that use Flask-Login: :func:`force_login`,
:func:`force_logout`, and the :class:`LoginMixin` methods of
:class:`~flask_testcase.TestCase`.

The login is written into the client's session cookie, exactly as Flask-Login's
``login_user()`` writes it, so every later request of that client is made as the
user. This module imports Flask-Login only when a login is asked for.
"""

from __future__ import annotations

import typing as t

from ._requests import session_access

if t.TYPE_CHECKING:
    import flask
    from flask.testing import FlaskClient

    from .webtest import TestApp

__all__ = ["LoginMixin", "force_login", "force_logout"]

__unittest = True

# The session keys Flask-Login 0.6 reads (flask_login.login_manager and
# flask_login.utils): the user's id, whether the login is fresh, and the identifier
# that session protection compares with the one it computes for each request.
_USER_ID = "_user_id"
_FRESH = "_fresh"
_SESSION_ID = "_id"
# "_remember" set to "clear" makes Flask-Login ignore and delete the remember cookie.
_REMEMBER = "_remember"
_REMEMBER_SECONDS = "_remember_seconds"


def force_login(client: FlaskClient | TestApp, user: t.Any, *, fresh: bool = True) -> None:
    """Log ``client`` in as ``user``: its later requests see ``user`` as
    ``current_user``, as after Flask-Login's ``login_user(user)``.

    :param client: a test client of an app with a Flask-Login ``LoginManager``, or a
        :class:`flask_testcase.webtest.TestApp` of one.
    :param user: the user object, whose ``get_id()`` gives the id the app's
        ``user_loader`` loads it by.
    :param fresh: a fresh login (the default) passes ``fresh_login_required``; a
        non-fresh one behaves like a login restored from a "remember me" cookie.
    :raises ValueError: when the app has no ``LoginManager``, or ``user.get_id()``
        returns ``None``.
    :raises TypeError: when ``user`` has no ``get_id()`` method, or ``client`` is not
        a client.
    """
    access = session_access(client, "force_login")
    manager = _login_manager(access.app)
    user_id = _user_id(user, manager)
    # Session protection compares this identifier (made from the remote address and
    # the user agent) with the one it makes for each request: make it from a request
    # like the client's own, or every request would see a stolen session.
    with access.request_context():
        identifier = _session_identifier(manager)
    with access.session_transaction() as session:
        session[_USER_ID] = user_id
        session[_FRESH] = fresh
        session[_SESSION_ID] = identifier


def force_logout(client: FlaskClient | TestApp) -> None:
    """Log ``client`` out, as Flask-Login's ``logout_user()`` does: remove the login
    from its session, and have its next request clear a "remember me" cookie
    instead of logging in from it.

    :param client: a test client of an app with a Flask-Login ``LoginManager``, or a
        :class:`flask_testcase.webtest.TestApp` of one.
    :raises ValueError: when the app has no ``LoginManager``.
    """
    access = session_access(client, "force_logout")
    _login_manager(access.app)
    with access.session_transaction() as session:
        for key in (_USER_ID, _FRESH, _SESSION_ID, _REMEMBER_SECONDS):
            session.pop(key, None)
        session[_REMEMBER] = "clear"


def _login_manager(app: flask.Flask) -> t.Any:
    manager = getattr(app, "login_manager", None)
    if manager is None:
        raise ValueError(
            f"The app {app.name!r} has no Flask-Login LoginManager, so nothing would"
            " read the login. Call login_manager.init_app(app) (or LoginManager(app))"
            " in create_app()."
        )
    return manager


def _user_id(user: t.Any, manager: t.Any) -> t.Any:
    # Flask-Login's login_user() calls the method named by id_attribute ("get_id").
    get_id = getattr(user, getattr(manager, "id_attribute", "get_id"), None)
    if not callable(get_id):
        raise TypeError(
            f"Cannot log in {user!r}: Flask-Login needs a get_id() method on the user"
            " to store it in the session. Give the user class flask_login.UserMixin (or"
            " a get_id() returning its id as a string)."
        )
    user_id = get_id()
    if user_id is None:
        raise ValueError(
            f"Cannot log in {user!r}: its get_id() returned None. Save the user first"
            " (so it has an id), or make get_id() return the id your user_loader"
            " loads it by."
        )
    return user_id


def _session_identifier(manager: t.Any) -> t.Any:
    from ._internals import session_identifier_generator

    return session_identifier_generator(manager)()


class LoginMixin:
    """Flask-Login helpers of :class:`~flask_testcase.TestCase`."""

    if t.TYPE_CHECKING:
        client: FlaskClient

    def login(
        self, user: t.Any, *, fresh: bool = True, client: FlaskClient | TestApp | None = None
    ) -> None:
        """Log :attr:`client` (or ``client``) in as ``user`` without the login form;
        see :func:`~flask_testcase.force_login`."""
        force_login(self.client if client is None else client, user, fresh=fresh)

    def logout(self, *, client: FlaskClient | TestApp | None = None) -> None:
        """Log :attr:`client` (or ``client``) out; see
        :func:`~flask_testcase.force_logout`."""
        force_logout(self.client if client is None else client)
