"""The fixtures the guides write, with no plugin: one app for the session and a fresh
test client for each test."""

from __future__ import annotations

import typing as t

import pytest

from benchmarks.app import create_app

if t.TYPE_CHECKING:
    from flask import Flask
    from flask.testing import FlaskClient


@pytest.fixture(scope="session")
def app() -> Flask:
    return create_app()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()
