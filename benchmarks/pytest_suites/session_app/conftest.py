"""A session-scoped ``app`` fixture; flask_testcase's plugin provides ``client``."""

from __future__ import annotations

import typing as t

import pytest

from benchmarks.app import create_app

if t.TYPE_CHECKING:
    from flask import Flask


@pytest.fixture(scope="session")
def app() -> Flask:
    return create_app()
