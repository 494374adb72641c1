"""Flask-Testing's ``flask_testing.utils`` module path.

``from flask_testing.utils import X`` becomes ``from flask_testcase.utils import X``;
new code imports from :mod:`flask_testcase` directly.
"""

from __future__ import annotations

from .assertions import ContextVariableDoesNotExist
from .case import TestCase
from .live_server import LiveServerTestCase
from .twill import Twill
from .twill import TwillTestCase

__all__ = [
    "ContextVariableDoesNotExist",
    "LiveServerTestCase",
    "TestCase",
    "Twill",
    "TwillTestCase",
]
