"""Flask-Testing's ``flask_testing.utils`` module path.

``from flask_testing.utils import X`` becomes ``from flask_testcase.utils import X``;
new code imports from :mod:`flask_testcase` directly.
"""

from __future__ import annotations

import typing as t

from .assertions import ContextVariableDoesNotExist
from .case import TestCase
from .live_server import LiveServerTestCase
from .twill import Twill
from .twill import TwillTestCase
from .twill import _is_twill_available_getattr

if t.TYPE_CHECKING:
    is_twill_available: bool
else:
    # Flask-Testing's name, computed when read as in flask_testcase itself.
    __getattr__ = _is_twill_available_getattr(__name__)


__all__ = [
    "ContextVariableDoesNotExist",
    "LiveServerTestCase",
    "TestCase",
    "Twill",
    "TwillTestCase",
    "is_twill_available",
]
