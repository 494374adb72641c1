"""The public recorders, used on their own (outside TestCase)."""

from __future__ import annotations

import typing as t

import flask
import jinja2
import pytest

from flask_testcase import FlashedMessage
from flask_testcase import RenderedTemplate
from flask_testcase import record_flashed_messages
from flask_testcase import record_templates
from flask_testcase import silence_templates


def make_app() -> flask.Flask:
    app = flask.Flask(__name__)
    app.secret_key = "capture"
    app.jinja_env.loader = jinja2.DictLoader({"page.html": "<p>{{ name }}</p>"})

    @app.route("/")
    def index() -> str:
        flask.flash("one")
        flask.flash("two", "error")
        first = flask.render_template("page.html", name="ada")
        return first + flask.render_template_string("{{ n }}", n=2)

    @app.route("/stream")
    def stream() -> t.Any:
        return flask.stream_template("page.html", name="streamed")

    return app


def receivers(signal: t.Any) -> int:
    return len(signal.receivers)


class TestRecordTemplates:
    def test_records_every_render_in_order(self) -> None:
        app = make_app()
        with record_templates(app) as templates:
            app.test_client().get("/")
        assert [(r.name, r.context.get("name"), r.context.get("n")) for r in templates] == [
            ("page.html", "ada", None),
            (None, None, 2),
        ]
        assert isinstance(templates[0], RenderedTemplate)
        assert repr(templates[0]) == "<RenderedTemplate 'page.html' context keys: name>"

    def test_ignores_other_apps_and_renders_after_the_block(self) -> None:
        app, other = make_app(), make_app()
        with record_templates(app) as templates:
            other.test_client().get("/")
        app.test_client().get("/")
        assert templates == []

    def test_disconnects_when_the_block_raises(self) -> None:
        app = make_app()
        before = receivers(flask.template_rendered)
        with pytest.raises(RuntimeError, match="boom"), record_templates(app):
            assert receivers(flask.template_rendered) == before + 1
            raise RuntimeError("boom")
        assert receivers(flask.template_rendered) == before


class TestRecordFlashedMessages:
    def test_records_message_and_category_in_order(self) -> None:
        app = make_app()
        with record_flashed_messages(app) as flashes:
            app.test_client().get("/")
        assert flashes == [FlashedMessage("one", "message"), FlashedMessage("two", "error")]
        assert flashes[1].category == "error"

    def test_disconnects_when_the_block_raises(self) -> None:
        app = make_app()
        before = receivers(flask.message_flashed)
        with pytest.raises(RuntimeError, match="boom"), record_flashed_messages(app):
            raise RuntimeError("boom")
        assert receivers(flask.message_flashed) == before
        with record_flashed_messages(make_app()) as flashes:
            app.test_client().get("/")
        assert flashes == []


class TestSilenceTemplates:
    def test_renders_nothing_but_the_render_is_still_recorded(self) -> None:
        app = make_app()
        with silence_templates(app), record_templates(app) as templates:
            body = app.test_client().get("/").data
            streamed = app.test_client().get("/stream").data
        assert (body, streamed) == (b"", b"")
        assert [r.context.get("name") for r in templates] == ["ada", None, "streamed"]

    def test_restored_afterwards_even_when_the_block_raises(self) -> None:
        app = make_app()
        client = app.test_client()
        assert client.get("/").data == b"<p>ada</p>2"  # cached with the real class
        original = app.jinja_env.template_class
        with pytest.raises(RuntimeError, match="boom"), silence_templates(app):
            assert client.get("/").data == b""  # the cache was emptied, not reused
            raise RuntimeError("boom")
        assert app.jinja_env.template_class is original
        assert client.get("/").data == b"<p>ada</p>2"

    def test_keeps_the_apps_own_template_class(self) -> None:
        class Mine(jinja2.Template):
            pass

        app = make_app()
        app.jinja_env.template_class = Mine
        with silence_templates(app):
            silent = app.jinja_env.template_class
            assert issubclass(silent, Mine)
            assert app.test_client().get("/").data == b""
        assert app.jinja_env.template_class is Mine
