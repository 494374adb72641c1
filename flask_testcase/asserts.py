"""Every assertion of :class:`~flask_testcase.TestCase` as a plain function, for
tests that are functions (pytest) rather than methods.

.. code-block:: python

    from flask_testcase.asserts import assertRedirects, assertTemplateUsed

    def test_signup(client):
        response = client.post("/signup", data={"name": "ada"})
        assertRedirects(response, "/welcome")

Each function is the :class:`~flask_testcase.TestCase` method of the same name (the
Flask-Testing snake_case aliases included), with the same arguments and the same
failure messages, raising :class:`AssertionError`. They are generated from the
methods, so they cannot drift apart.

The assertions that read what the test recorded (``assertTemplateUsed``,
``assertContext``, ``get_context_variable``, ``assertMessageFlashed``, the block
forms ``assertRendersTemplate`` and ``assertDoesNotRenderTemplate``,
``assertFormError``), the session (``assertSessionHas``), the client
(``assertRedirects`` with ``target_status_code``), the outbox (``assertEmailSent``,
``assertNoEmailSent``), the tasks enqueued (``assertTaskEnqueued``) or the database
(``assertNumQueries``) read those of the **current test**: a
:class:`~flask_testcase.TestCase` test, or a pytest test that uses the fixtures of
flask_testcase's pytest plugin. Called anywhere else they raise
:class:`RuntimeError` saying so; the others (status, redirects, headers, JSON,
content, HTML) work anywhere.
"""

from __future__ import annotations

import functools
import inspect
import typing as t
import unittest

from . import _current
from ._flask_testing import FlaskTestingAliases
from .assertions import AssertionsMixin
from .forms import FormsMixin
from .mail import MailMixin
from .mail import current_outbox
from .mail import require_mail
from .tasks import TasksMixin
from .tasks import current_tasks

if t.TYPE_CHECKING:
    import flask
    from flask.testing import FlaskClient

    from .capture import FlashedMessage
    from .capture import RenderedTemplate
    from .isolation import DatabaseIsolation
    from .mail import SentEmail
    from .tasks import EnqueuedTask

__unittest = True


class _CurrentTest(
    FormsMixin, MailMixin, TasksMixin, AssertionsMixin, FlaskTestingAliases, unittest.TestCase
):
    """The assertion methods, reading the current test's records instead of the
    attributes a :class:`~flask_testcase.TestCase` sets up."""

    # Flask-Testing's unittest conventions: failures raise AssertionError and a
    # msg= is added to the standard message, exactly as on TestCase.

    @property
    def templates(self) -> list[RenderedTemplate]:  # type: ignore[override]
        return _current.current().templates

    @property
    def flashed_messages(self) -> list[FlashedMessage]:  # type: ignore[override]
        return _current.current().flashed_messages

    @property
    def client(self) -> FlaskClient:  # type: ignore[override]
        client = _current.current("client").client
        assert client is not None
        return client

    @property
    def app(self) -> flask.Flask:  # type: ignore[override]
        records = _current.current()
        if records.app is not None:
            return records.app
        if records.client is not None:
            return records.client.application
        raise _current.NoCurrentTest("reads the current test's app, and the test has none.")

    @property
    def outbox(self) -> list[SentEmail]:
        # record_mail() makes its outbox current: TestCase's, or the pytest plugin's.
        outbox = current_outbox()
        if outbox is not None:
            return outbox
        # Says what to set up when the current test's app has no mail extension.
        require_mail(self.app)
        raise _current.NoCurrentTest(
            "reads the current test's outbox, and no email is being recorded: use it in"
            " a flask_testcase.TestCase, or in a pytest test of flask_testcase's plugin"
            " that uses the app fixture, with an app that has Flask-Mail or"
            " Flask-Mailman."
        )

    @property
    def tasks(self) -> list[EnqueuedTask]:
        # record_tasks() makes its list current: TestCase's, or the pytest plugin's.
        tasks = current_tasks()
        if tasks is not None:
            return tasks
        raise _current.NoCurrentTest(
            "reads the tasks the current test enqueued, and none are being recorded: use"
            " it in a flask_testcase.TestCase, or in a pytest test of flask_testcase's"
            " plugin that uses the app fixture, for an app that imports Celery or RQ."
        )

    @property
    def _isolation(self) -> DatabaseIsolation:
        isolation = _current.current("isolation").isolation
        assert isolation is not None
        return isolation


_CASE = _CurrentTest()

#: The names of the generated functions: every assertion TestCase adds to unittest's.
_NAMES = sorted(
    name
    for name in dir(_CurrentTest)
    if (name.startswith("assert") or name == "get_context_variable")
    and not hasattr(unittest.TestCase, name)
)


def _function(name: str) -> t.Callable[..., t.Any]:
    method = getattr(_CASE, name)

    @functools.wraps(method)
    def function(*args: t.Any, **kwargs: t.Any) -> t.Any:
        __tracebackhide__ = True  # pytest: show the test's line, not this one
        try:
            return method(*args, **kwargs)
        except _current.NoCurrentTest as e:
            raise _current.NoCurrentTest(f"flask_testcase.asserts.{name}() {e}") from None
        except AssertionError as e:
            # A failure: the frames below (the method, unittest's fail()) say nothing
            # about the test, and pytest would print them all. Start the traceback
            # here, a frame pytest hides, so the test's own line is the last shown.
            raise e.with_traceback(None)  # noqa: B904 (the same error: its cause is kept)

    function.__module__ = __name__
    function.__qualname__ = name
    # The bound method's signature: without self, defaults and annotations kept; an
    # alias (assert_200) shows its target's instead of (*args, **kwargs).
    target = getattr(method, "alias_of", name)
    function.__signature__ = inspect.signature(getattr(_CASE, target))  # type: ignore[attr-defined]
    del function.__wrapped__
    return function


for _name in _NAMES:
    globals()[_name] = _function(_name)
del _name

__all__ = list(_NAMES)

if t.TYPE_CHECKING:
    # What a type checker sees: the bound methods, with their exact signatures. A test
    # checks that this list and the generated functions agree.
    assert200 = _CASE.assert200
    assert201 = _CASE.assert201
    assert202 = _CASE.assert202
    assert204 = _CASE.assert204
    assert301 = _CASE.assert301
    assert302 = _CASE.assert302
    assert303 = _CASE.assert303
    assert307 = _CASE.assert307
    assert308 = _CASE.assert308
    assert400 = _CASE.assert400
    assert401 = _CASE.assert401
    assert403 = _CASE.assert403
    assert404 = _CASE.assert404
    assert405 = _CASE.assert405
    assert409 = _CASE.assert409
    assert410 = _CASE.assert410
    assert415 = _CASE.assert415
    assert422 = _CASE.assert422
    assert429 = _CASE.assert429
    assert500 = _CASE.assert500
    assert503 = _CASE.assert503
    assertContains = _CASE.assertContains
    assertContentType = _CASE.assertContentType
    assertContext = _CASE.assertContext
    assertCookie = _CASE.assertCookie
    assertDoesNotRenderTemplate = _CASE.assertDoesNotRenderTemplate
    assertEmailSent = _CASE.assertEmailSent
    assertFormError = _CASE.assertFormError
    assertHTMLEqual = _CASE.assertHTMLEqual
    assertHTMLNotEqual = _CASE.assertHTMLNotEqual
    assertHeader = _CASE.assertHeader
    assertInHTML = _CASE.assertInHTML
    assertJSONEqual = _CASE.assertJSONEqual
    assertJSONNotEqual = _CASE.assertJSONNotEqual
    assertMessageFlashed = _CASE.assertMessageFlashed
    assertMessageNotFlashed = _CASE.assertMessageNotFlashed
    assertNoEmailSent = _CASE.assertNoEmailSent
    assertNoMessageFlashed = _CASE.assertNoMessageFlashed
    assertNotContains = _CASE.assertNotContains
    assertNumQueries = _CASE.assertNumQueries
    assertRedirects = _CASE.assertRedirects
    assertRendersTemplate = _CASE.assertRendersTemplate
    assertSessionHas = _CASE.assertSessionHas
    assertSessionNotHas = _CASE.assertSessionNotHas
    assertStatus = _CASE.assertStatus
    assertTaskEnqueued = _CASE.assertTaskEnqueued
    assertTemplateNotUsed = _CASE.assertTemplateNotUsed
    assertTemplateUsed = _CASE.assertTemplateUsed
    assert_200 = _CASE.assert_200
    assert_400 = _CASE.assert_400
    assert_401 = _CASE.assert_401
    assert_403 = _CASE.assert_403
    assert_404 = _CASE.assert_404
    assert_405 = _CASE.assert_405
    assert_500 = _CASE.assert_500
    assert_context = _CASE.assert_context
    assert_message_flashed = _CASE.assert_message_flashed
    assert_redirects = _CASE.assert_redirects
    assert_status = _CASE.assert_status
    assert_template_used = _CASE.assert_template_used
    get_context_variable = _CASE.get_context_variable
