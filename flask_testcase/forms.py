"""Flask-WTF forms in tests: :func:`csrf_token` for tests that keep CSRF protection on,
and the :class:`FormsMixin` methods of :class:`~flask_testcase.TestCase`.

To turn CSRF protection off for a test class instead, decorate it with
``@override_config(WTF_CSRF_ENABLED=False)``. This module imports Flask-WTF only when
a token is asked for.
"""

from __future__ import annotations

import contextvars
import typing as t

import flask

from ._hooks import FixtureHooks

if t.TYPE_CHECKING:
    from flask.testing import FlaskClient

__all__ = ["FormsMixin", "csrf_token"]

__unittest = True


def csrf_token(client: FlaskClient) -> str:
    """Return a CSRF token that Flask-WTF accepts on ``client``'s requests, for tests
    that submit forms with CSRF protection on::

        response = client.post("/signup", data={"email": "a@example.com",
                                                 "csrf_token": csrf_token(client)})

    The token is made by Flask-WTF's ``generate_csrf()``, with its secret stored in
    the client's session cookie, as when the client has loaded a page with the
    form. Send it as the form's ``csrf_token`` field (``WTF_CSRF_FIELD_NAME``) or in
    an ``X-CSRFToken`` header.

    :param client: a test client of the app (with cookies, the default).
    """
    try:
        from flask_wtf.csrf import generate_csrf
    except ImportError as e:
        raise ImportError(
            "csrf_token() needs Flask-WTF: pip install flask-wtf (or"
            " flask-testcase[extras])."
        ) from e
    app = client.application
    environ_base = dict(getattr(client, "environ_base", {}))

    def generate(session: dict[str, t.Any]) -> str:
        with app.test_request_context(environ_base=environ_base):
            flask.session.update(session)
            token: str = generate_csrf()
            session.update(flask.session)
        return token

    with client.session_transaction(environ_base=environ_base) as client_session:
        values = dict(client_session)
        # A new, empty context: Flask-WTF caches the token in g, and the test's own
        # app context (and its g) must neither give it nor keep it.
        token = contextvars.Context().run(generate, values)
        # Flask-WTF put the token's secret in the session; the client's cookie
        # gets it when the transaction ends.
        client_session.update(values)
    return token


class FormsMixin(FixtureHooks):
    """Flask-WTF helpers of :class:`~flask_testcase.TestCase`."""

    if t.TYPE_CHECKING:
        client: FlaskClient

    def csrf_token(self, *, client: FlaskClient | None = None) -> str:
        """Return a CSRF token for :attr:`client` (or ``client``); see
        :func:`~flask_testcase.csrf_token`."""
        return csrf_token(self.client if client is None else client)
