"""Test Flask applications with unittest-style test cases.

.. code-block:: python

    from flask_testcase import TestCase

    class HomeTests(TestCase):
        def create_app(self):
            return create_app("testing")

        def test_home(self):
            self.assert200(self.client.get("/"))
"""

from __future__ import annotations

import typing as t

from ._requests import isolated_client_class
from ._stacks._plain import SQLAlchemyDatabase
from .assertions import ContextVariableDoesNotExist
from .capture import FlashedMessage
from .capture import NotOneTemplate
from .capture import RecordedResponse
from .capture import RenderedTemplate
from .capture import ResponseRecords
from .capture import record_flashed_messages
from .capture import record_templates
from .capture import silence_templates
from .case import TestCase
from .config import ConfigOverrideError
from .config import UnknownConfigKeyWarning
from .config import override_config
from .databases import NotATestDatabaseError
from .databases import database_for_tests
from .databases import drop_database
from .databases import is_test_database
from .forms import assert_form_error
from .forms import csrf_token
from .isolation import DatabaseIsolation
from .isolation import IsolationError
from .isolation import database_isolation
from .isolation import mark_written
from .live_server import LiveServerTestCase
from .login import force_login
from .login import force_logout
from .mail import NoMailExtensionError
from .mail import SentEmail
from .mail import assert_email_sent
from .mail import record_mail
from .migrations import MigrationCheckError
from .migrations import MigrationChecks
from .schema import MigrationError
from .schema import SchemaError
from .servers import ServerError
from .servers import TemporaryServer
from .servers import shared_server
from .servers import temporary_mariadb
from .servers import temporary_postgresql
from .tasks import EnqueuedTask
from .tasks import assert_task_enqueued
from .tasks import record_tasks
from .twill import Twill
from .twill import TwillTestCase
from .twill import _is_twill_available_getattr

if t.TYPE_CHECKING:
    #: ``True`` when twill 3 can be imported, so that :class:`Twill` and
    #: :class:`TwillTestCase` work (Flask-Testing's name). Computed when read:
    #: ``import flask_testcase`` never imports twill.
    is_twill_available: bool
else:
    __getattr__ = _is_twill_available_getattr(__name__)


__version__ = "0.1.0"

__all__ = [
    "ConfigOverrideError",
    "ContextVariableDoesNotExist",
    "DatabaseIsolation",
    "EnqueuedTask",
    "FlashedMessage",
    "IsolationError",
    "LiveServerTestCase",
    "MigrationCheckError",
    "MigrationChecks",
    "MigrationError",
    "NoMailExtensionError",
    "NotATestDatabaseError",
    "NotOneTemplate",
    "RecordedResponse",
    "RenderedTemplate",
    "ResponseRecords",
    "SQLAlchemyDatabase",
    "SchemaError",
    "SentEmail",
    "ServerError",
    "TemporaryServer",
    "TestCase",
    "Twill",
    "TwillTestCase",
    "UnknownConfigKeyWarning",
    "assert_email_sent",
    "assert_form_error",
    "assert_task_enqueued",
    "csrf_token",
    "database_for_tests",
    "database_isolation",
    "drop_database",
    "force_login",
    "force_logout",
    "is_test_database",
    "is_twill_available",
    "isolated_client_class",
    "mark_written",
    "override_config",
    "record_flashed_messages",
    "record_mail",
    "record_tasks",
    "record_templates",
    "shared_server",
    "silence_templates",
    "temporary_mariadb",
    "temporary_postgresql",
]
