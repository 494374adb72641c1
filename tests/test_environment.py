"""The one test environment both front doors use (flask_testcase._environment): its
steps run in the documented order, and whatever raises half way (a step, create_app,
the user's setUp, a pytest fixture, the test body), everything done before is undone."""

from __future__ import annotations

import re
import textwrap
import typing as t
from pathlib import Path

import flask
import pytest
import sqlalchemy as sa
from apps import run_case
from flask import message_flashed
from flask import template_rendered

from flask_testcase import TestCase
from flask_testcase import _environment
from flask_testcase._environment import Settings
from flask_testcase._environment import open_environment

ROOT = Path(__file__).resolve().parent.parent


def make_app() -> flask.Flask:
    app = flask.Flask(__name__)
    app.config.update(SECRET_KEY="test", TESTING=True)

    @app.route("/")
    def index() -> str:
        flask.flash("hi")
        return flask.render_template_string("{{ x }}", x=1)

    return app


class State(t.NamedTuple):
    """What a test environment changes, to compare before and after."""

    config: dict[str, t.Any]
    client_class: t.Any
    response_class: t.Any
    app_context: bool
    receivers: tuple[int, int]
    connect: t.Any

    @classmethod
    def of(cls, app: flask.Flask) -> State:
        return cls(
            dict(app.config),
            vars(app).get("test_client_class"),
            vars(app).get("response_class"),
            flask.has_app_context(),
            (len(template_rendered.receivers), len(message_flashed.receivers)),
            sa.engine.Engine.connect,
        )


class TestTheSteps:
    def test_they_run_in_the_order_the_lifecycle_chapter_gives(self) -> None:
        names = [step.name for step in _environment.STEPS]
        assert names == [
            "config",
            "client class",
            "contexts",
            "client",
            "records",
            "database",
            "mail",
            "tasks",
            "live server",
            "browser",
            "current",
        ]
        text = (ROOT / "docs" / "lifecycle.rst").read_text("utf-8")
        documented = re.findall(r"^    [a-k]\.  \*\*([a-z ]+)\*\*", text, re.MULTILINE)
        assert documented == names

    def test_an_environment_is_undone_by_close(self) -> None:
        app = make_app()
        before = State.of(app)
        env = open_environment(app, Settings(owner="t", config=[{"EXTRA": 1}]))
        assert app.config["EXTRA"] == 1 and flask.has_app_context()
        env.client.get("/")
        assert len(env.templates) == 1 and len(env.flashed_messages) == 1
        env.close()
        assert State.of(app) == before

    @pytest.mark.parametrize("failing", [step.name for step in _environment.STEPS])
    def test_a_step_that_raises_undoes_the_steps_before_it(
        self, failing: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        app = make_app()
        before = State.of(app)

        def boom(env: t.Any, settings: t.Any) -> None:
            raise RuntimeError(f"{failing} failed")

        steps = tuple(
            s._replace(run=boom) if s.name == failing else s for s in _environment.STEPS
        )
        monkeypatch.setattr(_environment, "STEPS", steps)
        with pytest.raises(RuntimeError, match=f"^{failing} failed$"):
            open_environment(app, Settings(owner="t", config=[{"EXTRA": 1}]))
        assert State.of(app) == before


class TestTestCaseUndoesIt:
    @pytest.mark.parametrize("where", ["create_app", "setUp", "body", "tearDown", "a step"])
    def test_whatever_raises(self, where: str, monkeypatch: pytest.MonkeyPatch) -> None:
        app = make_app()
        before = State.of(app)
        if where == "a step":

            def boom(env: t.Any, settings: t.Any) -> None:
                raise RuntimeError("boom")

            steps = tuple(
                s._replace(run=boom) if s.name == "mail" else s for s in _environment.STEPS
            )
            monkeypatch.setattr(_environment, "STEPS", steps)

        def maybe_raise(here: str) -> None:
            if here == where:
                raise RuntimeError("boom")

        class Case(TestCase):
            app_per_class = True

            def create_app(self) -> flask.Flask:
                maybe_raise("create_app")
                return app

            def setUp(self) -> None:
                self.app.config["CHANGED"] = True
                maybe_raise("setUp")

            def tearDown(self) -> None:
                maybe_raise("tearDown")

            def test_it(self) -> None:
                self.client.get("/")
                maybe_raise("body")

        result = run_case(Case)
        assert len(result.errors) == 1, result.errors
        assert "RuntimeError: boom" in result.errors[0][1]
        assert State.of(app) == before


PLUGIN_APP = """
import flask
import pytest

def make_app():
    app = flask.Flask("plugin")
    app.config.update(SECRET_KEY="test", TESTING=True)

    @app.route("/")
    def index():
        flask.flash("hi")
        return flask.render_template_string("{{ x }}", x=1)

    return app

APP = make_app()
"""


class TestThePluginUndoesIt:
    @pytest.mark.parametrize("where", ["app fixture", "a fixture after it", "body"])
    def test_whatever_raises(self, pytester: pytest.Pytester, where: str) -> None:
        pytester.makepyfile(envapp=PLUGIN_APP)
        pytester.makeconftest(
            textwrap.dedent(
                f"""
                import pytest
                from envapp import APP

                WHERE = {where!r}

                @pytest.fixture
                def app():
                    if WHERE == "app fixture":
                        raise RuntimeError("boom")
                    return APP

                @pytest.fixture
                def later(client, config):
                    config["CHANGED"] = True
                    client.get("/")
                    if WHERE == "a fixture after it":
                        raise RuntimeError("boom")
                """
            )
        )
        pytester.makepyfile(
            test_it=textwrap.dedent(
                """
                import pytest

                import flask

                @pytest.mark.options(marked=1)
                def test_it(app, later):
                    # The environment was built: the marker applied, a context pushed.
                    assert app.config["MARKED"] == 1 and flask.has_request_context()
                    raise RuntimeError("boom")
                """
            )
        )
        # The same app object in the inner run, to compare its state from outside.
        pytester.syspathinsert()
        from envapp import APP  # type: ignore[import-not-found]

        before = State.of(APP)
        result = pytester.runpytest("-p", "no:flask", "-p", "no:cacheprovider")
        outcomes = result.parseoutcomes()
        assert outcomes.get("failed", 0) + outcomes.get("errors", 0) == 1, outcomes
        result.stdout.fnmatch_lines(["*RuntimeError: boom*"])
        assert State.of(APP) == before
