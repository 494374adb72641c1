"""Assertions about responses, templates, flashed messages, JSON, HTML and sessions.

:class:`AssertionsMixin` is mixed into :class:`flask_testcase.TestCase`; like
unittest and Django, every assertion is a method of the one test case class. It is
built from one module per subject, each depending only on :mod:`._core`:

- :mod:`._responses`: status and its ``assert<code>`` shortcuts, redirects,
  headers, cookies, the session;
- :mod:`._templates`: templates rendered, their context, flashed messages;
- :mod:`._json`: JSON documents;
- :mod:`._content`: response content and semantic HTML;
- :mod:`._database`: the SQL statements a test runs.

Every assertion takes ``msg=None``, which is *added* to a standard message carrying
the evidence (unittest's ``longMessage``); the ones Flask-Testing had also take its
``message=`` keyword. :func:`._core.assertion` implements both for every method.
Misuse (a wrong argument type, both ``msg`` and ``message``) is a :class:`TypeError`
or :class:`ValueError`; only a failed check fails the test.
"""

from __future__ import annotations

from ._content import ContentAssertions
from ._database import DatabaseAssertions
from ._json import JSONAssertions
from ._responses import ResponseAssertions
from ._templates import ContextVariableDoesNotExist
from ._templates import TemplateAssertions

__all__ = ["AssertionsMixin", "ContextVariableDoesNotExist"]

__unittest = True


class AssertionsMixin(
    ResponseAssertions, TemplateAssertions, JSONAssertions, ContentAssertions, DatabaseAssertions
):
    """The assertion methods of :class:`flask_testcase.TestCase`.

    It expects the attributes the test case sets up: ``app``, ``client``,
    ``templates`` and ``flashed_messages``.
    """
