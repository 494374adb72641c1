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
from _stack_apps import require_lite
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
    assert len(blocks) == 11, (
        "database.rst: user tests, fixture, config, setUpTestData, assertNumQueries,"
        " Lite app and tests, plain app and tests, plain engines in create_app, two stacks"
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


def _module(name: str, block: str, monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    module = types.ModuleType(name)
    monkeypatch.setitem(sys.modules, name, module)
    exec(compile(block, f"database.rst ({name})", "exec"), module.__dict__)
    return module


def test_the_lite_example_runs_and_rolls_back(monkeypatch: pytest.MonkeyPatch) -> None:
    require_lite()
    blocks = python_blocks()
    assert blocks[5].startswith("# notes_lite.py")
    notes_lite = _module("notes_lite", blocks[5], monkeypatch)
    namespace: dict[str, t.Any] = {"__name__": "docs_database_lite"}
    exec(compile(blocks[6], "database.rst (Lite tests)", "exec"), namespace)
    result = run_cases(namespace)
    assert result.testsRun == 2
    assert not result.errors and not result.failures, result.errors + result.failures
    stack = namespace["NoteTests"].db._stack
    engine = flask_testcase.isolation._registry.databases[("sqlite://", notes_lite.db, "default")]
    assert stack.source is notes_lite.db
    with engine.engine.connect() as conn:
        assert conn.scalar(sa.text("SELECT count(*) FROM lite_note")) == 0


def test_the_plain_example_runs_and_rolls_back(monkeypatch: pytest.MonkeyPatch) -> None:
    blocks = python_blocks()
    assert blocks[7].startswith("# notes_plain.py")
    monkeypatch.delenv("NOTES_DATABASE_URL", raising=False)
    notes_plain = _module("notes_plain", blocks[7], monkeypatch)
    namespace: dict[str, t.Any] = {"__name__": "docs_database_plain"}
    exec(compile(blocks[8], "database.rst (plain tests)", "exec"), namespace)
    result = run_cases(namespace)
    assert result.testsRun == 2
    assert not result.errors and not result.failures, result.errors + result.failures
    # The app's own engine is the run's for its in-memory database.
    with notes_plain.engine.connect() as conn:
        assert not conn.connection.driver_connection.in_transaction
        assert conn.scalar(sa.text("SELECT count(*) FROM plain_note")) == 0


def test_the_engines_in_create_app_and_two_stacks_examples_are_accepted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from flask_testcase._stacks import Several
    from flask_testcase._stacks import stack_for

    blocks = python_blocks()
    _module("notes_plain", blocks[7], monkeypatch)
    namespace: dict[str, t.Any] = {"__name__": "docs_database_factory"}
    exec(compile(blocks[9], "database.rst (engines in create_app)", "exec"), namespace)
    app = Flask("factory")
    app.extensions["engine"] = engine = sa.create_engine("sqlite://")
    assert stack_for(namespace["database"]).engines(app) == {"default": engine}
    exec(compile(blocks[10], "database.rst (two stacks)", "exec"), namespace)
    both = stack_for(namespace["both"])
    assert isinstance(both, Several)
    assert [member.kind for member in both.members] == ["Flask-SQLAlchemy", "plain SQLAlchemy"]
