"""pytest-flask's documented setup, also the one flask_testcase's plugin reads: a
function-scoped ``app`` fixture; the plugin provides ``client``."""

from __future__ import annotations

import typing as t

import pytest

from benchmarks.app import create_app

if t.TYPE_CHECKING:
    from flask import Flask


@pytest.fixture
def app() -> Flask:
    return create_app()
