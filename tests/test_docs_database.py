"""The database chapter's examples run, pass, and leave nothing behind."""

from __future__ import annotations

import re
import sys
import types
import typing as t
import unittest
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask import redirect
from flask import request
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

import flask_testcase

DOC = Path(__file__).resolve().parent.parent / "docs" / "database.rst"


def python_blocks() -> list[str]:
    text = DOC.read_text(encoding="utf-8")
    blocks = []
    for match in re.finditer(r"^\.\. code-block:: python\n\n((?:    .*\n|\n)+)", text, re.M):
        lines = match.group(1).splitlines()
        blocks.append("\n".join(line[4:] for line in lines) + "\n")
    return blocks


def make_myapp() -> tuple[types.ModuleType, types.ModuleType]:
    db = SQLAlchemy()

    class User(db.Model):  # type: ignore[name-defined,misc]
        __tablename__ = "docs_user"
        id: Mapped[int] = mapped_column(primary_key=True)
        name: Mapped[str] = mapped_column(sa.String(50))

    def create_app(config: str) -> Flask:
        assert config == "testing"
        app = Flask("myapp")
        app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite://"
        db.init_app(app)

        @app.post("/signup")
        def signup() -> t.Any:
            db.session.add(User(name=request.form["name"]))
            db.session.commit()
            return redirect("/welcome", 302)

        return app

    myapp = types.ModuleType("myapp")
    myapp.create_app = create_app  # type: ignore[attr-defined]
    myapp.db = db  # type: ignore[attr-defined]
    models = types.ModuleType("myapp.models")
    models.User = User  # type: ignore[attr-defined]
    myapp.models = models  # type: ignore[attr-defined]
    return myapp, models


def run_cases(namespace: dict[str, t.Any]) -> unittest.TestResult:
    suite = unittest.TestSuite()
    for value in list(namespace.values()):
        if isinstance(value, type) and issubclass(value, flask_testcase.TestCase):
            suite.addTests(unittest.defaultTestLoader.loadTestsFromTestCase(value))
    result = unittest.TestResult()
    suite.run(result)
    return result


def test_the_chapter_examples_pass_and_roll_back(monkeypatch: pytest.MonkeyPatch) -> None:
    blocks = python_blocks()
    assert len(blocks) == 5, (
        "database.rst: user tests, fixture, config, setUpTestData, assertNumQueries"
    )
    myapp, models = make_myapp()
    monkeypatch.setitem(sys.modules, "myapp", myapp)
    monkeypatch.setitem(sys.modules, "myapp.models", models)

    namespace: dict[str, t.Any] = {"__name__": "docs_database"}
    exec(compile(blocks[0], "database.rst (UserTests)", "exec"), namespace)
    exec(compile(blocks[3], "database.rst (ReportTests)", "exec"), namespace)
    result = run_cases(namespace)
    assert result.testsRun == 4
    assert not result.errors and not result.failures, result.errors + result.failures

    app = myapp.create_app("testing")
    with app.app_context():
        # The run's in-memory database holds nothing after the tests.
        engine = flask_testcase.isolation._registry.databases[("sqlite://", myapp.db, None)].engine
        with engine.connect() as conn:
            assert conn.scalar(sa.text("SELECT count(*) FROM docs_user")) == 0


def test_the_fixture_example_rolls_back_what_the_test_commits(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    myapp, models = make_myapp()
    monkeypatch.setitem(sys.modules, "myapp", myapp)
    monkeypatch.setitem(sys.modules, "myapp.models", models)
    # The block is a pytest fixture: called here as the generator it wraps.
    monkeypatch.setattr(pytest, "fixture", lambda function: function)
    namespace: dict[str, t.Any] = {"__name__": "docs_database_fixture"}
    exec(compile(python_blocks()[1], "database.rst (fixture)", "exec"), namespace)

    def users() -> int:
        return int(myapp.db.session.scalar(sa.select(sa.func.count(models.User.id))))

    fixture = namespace["app"]()
    app = next(fixture)
    assert app.test_client().post("/signup", data={"name": "ada"}).status_code == 302
    assert users() == 1
    with pytest.raises(StopIteration):
        next(fixture)
    with app.app_context():
        engine = flask_testcase.isolation._registry.databases[("sqlite://", myapp.db, None)].engine
        with engine.connect() as conn:
            assert conn.scalar(sa.text("SELECT count(*) FROM docs_user")) == 0


def test_the_config_example_names_a_test_database() -> None:
    block = python_blocks()[2]
    assert "database_for_tests(" in block
    assert "# -> postgresql+psycopg://postgres@localhost/test_shop" in block
