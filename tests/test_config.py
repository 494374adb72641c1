"""override_config: as a context manager, on test methods, TestCase classes and plain
pytest functions; restored whatever raised; warnings and errors for bad input."""

from __future__ import annotations

import typing as t
import unittest

import flask
import pytest
from apps import make_app
from apps import run_case

from flask_testcase import ConfigOverrideError
from flask_testcase import TestCase
from flask_testcase import UnknownConfigKeyWarning
from flask_testcase import override_config


def only_error(result: unittest.TestResult) -> str:
    problems = result.errors + result.failures
    assert len(problems) == 1, problems
    return problems[0][1].strip().splitlines()[-1]


class TestAsContextManager:
    def test_sets_and_restores_keys(self) -> None:
        app = make_app(FEATURE="off")
        with override_config(app=app, FEATURE="on", SERVER_NAME="example.test"):
            assert app.config["FEATURE"] == "on"
            assert app.config["SERVER_NAME"] == "example.test"
        assert app.config["FEATURE"] == "off"
        assert app.config["SERVER_NAME"] is None

    def test_uses_current_app_without_app(self) -> None:
        app = make_app(FEATURE="off")
        with app.app_context(), override_config(FEATURE="on"):
            assert app.config["FEATURE"] == "on"
        assert app.config["FEATURE"] == "off"

    def test_takes_a_mapping_for_any_key(self) -> None:
        app = make_app(**{"my.key": 1})
        with override_config({"my.key": 2}, app=app):
            assert app.config["my.key"] == 2
        assert app.config["my.key"] == 1

    def test_restores_when_the_block_raises(self) -> None:
        app = make_app(FEATURE="off")
        with pytest.raises(ZeroDivisionError), override_config(app=app, FEATURE="on"):
            1 / 0  # noqa: B018
        assert app.config["FEATURE"] == "off"

    def test_nested_uses_of_one_object_restore_in_order(self) -> None:
        app = make_app(FEATURE="off")
        override = override_config(app=app, FEATURE="on")
        with override:
            app.config["FEATURE"] = "changed"
            with override:
                assert app.config["FEATURE"] == "on"
            assert app.config["FEATURE"] == "changed"
        assert app.config["FEATURE"] == "off"

    def test_a_new_key_is_removed_afterwards(self) -> None:
        app = make_app()
        with pytest.warns(UnknownConfigKeyWarning), override_config(app=app, BRAND_NEW=1):
            assert app.config["BRAND_NEW"] == 1
        assert "BRAND_NEW" not in app.config

    def test_without_an_app_context_says_how_to_fix(self) -> None:
        with pytest.raises(RuntimeError) as info, override_config(DEBUG=True):
            pass
        assert str(info.value) == (
            "override_config() without app= changes flask.current_app, but no app"
            " context is pushed. Pass the app (override_config(app=app, ...)) or use"
            " it inside a test that has the app's context (TestCase, or the pytest"
            " plugin's fixtures)."
        )

    def test_repr(self) -> None:
        assert repr(override_config(DEBUG=True, X="y")) == "override_config(DEBUG=True, X='y')"


class TestBadInput:
    def test_unknown_key_warns_with_close_matches(self) -> None:
        app = make_app(SIGNUP_OPEN=True, SIGNUP_LIMIT=3)
        with (
            pytest.warns(UnknownConfigKeyWarning) as record,
            override_config(app=app, SIGNUP_OPNE=False),
        ):
            pass
        assert str(record[0].message) == (
            "override_config(): 'SIGNUP_OPNE' is not in app.config, so the app may never"
            " read it. Did you mean 'SIGNUP_OPEN' or 'SIGNUP_LIMIT'? Check the spelling;"
            " if the app reads it with app.config.get(), the override still applies."
        )
        assert record[0].filename == __file__

    def test_unknown_key_without_close_matches(self) -> None:
        app = make_app()
        with pytest.warns(UnknownConfigKeyWarning) as record, override_config(app=app, ZZZZZZ="x"):
            pass
        assert str(record[0].message) == (
            "override_config(): 'ZZZZZZ' is not in app.config, so the app may never"
            " read it. No key is close to it. Check the spelling; if the app reads it"
            " with app.config.get(), the override still applies."
        )

    def test_extension_settings_read_with_a_default_do_not_warn(self) -> None:
        app = make_app()
        assert "WTF_CSRF_ENABLED" not in app.config
        with override_config(app=app, WTF_CSRF_ENABLED=False, SESSION_PROTECTION="strong"):
            assert app.config["WTF_CSRF_ENABLED"] is False
        assert "WTF_CSRF_ENABLED" not in app.config

    def test_a_typo_of_an_extension_setting_is_suggested(self) -> None:
        app = make_app()
        with (
            pytest.warns(UnknownConfigKeyWarning) as record,
            override_config(app=app, WTF_CSRF_ENABLE=False),
        ):
            pass
        assert str(record[0].message) == (
            "override_config(): 'WTF_CSRF_ENABLE' is not in app.config, so the app may"
            " never read it. Did you mean 'WTF_CSRF_ENABLED' or 'WTF_CSRF_HEADERS' or"
            " 'WTF_CSRF_FIELD_NAME'? Check the spelling; if the app reads it with"
            " app.config.get(), the override still applies."
        )

    def test_no_settings(self) -> None:
        with pytest.raises(TypeError) as info:
            override_config()
        assert str(info.value) == (
            "override_config() was given no settings; pass them as keyword"
            " arguments, e.g. override_config(DEBUG=True)."
        )

    def test_positional_non_mapping(self) -> None:
        with pytest.raises(TypeError) as info:
            override_config("DEBUG")  # type: ignore[arg-type]
        assert str(info.value) == (
            "override_config() takes the settings as keyword arguments"
            " (override_config(DEBUG=True)) or as one mapping"
            " (override_config({'DEBUG': True})), got 'DEBUG'."
        )

    def test_app_must_be_a_flask_app(self) -> None:
        with pytest.raises(TypeError) as info:
            override_config(app="app", DEBUG=True)  # type: ignore[arg-type]
        assert str(info.value) == (
            "override_config(app=...) must be a flask.Flask instance, got 'app'."
        )

    def test_decorating_something_else(self) -> None:
        with pytest.raises(TypeError) as info:
            override_config(DEBUG=True)(42)
        assert str(info.value) == (
            "override_config(DEBUG=True) decorates a test function or a TestCase class, got 42."
        )

    def test_decorating_a_plain_class(self) -> None:
        with pytest.raises(TypeError) as info:

            @override_config(DEBUG=True)
            class Plain:
                pass

        assert str(info.value) == (
            "override_config(DEBUG=True) can decorate a flask_testcase.TestCase subclass,"
            " not Plain; decorate its test methods one by one instead."
        )

    @pytest.mark.parametrize(
        "key", ["SQLALCHEMY_DATABASE_URI", "SQLALCHEMY_BINDS", "SQLALCHEMY_ENGINE_OPTIONS"]
    )
    def test_settings_read_by_flask_sqlalchemy_at_init_app_are_refused(self, key: str) -> None:
        from flask_sqlalchemy import SQLAlchemy

        app = make_app(SQLALCHEMY_DATABASE_URI="sqlite://")
        SQLAlchemy().init_app(app)
        before = dict(app.config)
        with pytest.raises(ConfigOverrideError) as info, override_config({key: "x"}, app=app):
            pass
        assert str(info.value) == (
            f"override_config() cannot change {key}: Flask-SQLAlchemy reads it in"
            " init_app() and has already set up the app, so changing app.config now"
            " would change nothing. Set it in create_app() before the extension's"
            " init_app() runs (e.g. pass it to your app factory)."
        )
        assert isinstance(info.value, ValueError)
        assert dict(app.config) == before

    @pytest.mark.parametrize("extension", ["flask_mail", "flask_mailman"])
    def test_mail_settings_are_read_at_init_app_too(self, extension: str) -> None:
        import importlib

        app = make_app(MAIL_DEFAULT_SENDER="a@example.com")
        importlib.import_module(extension).Mail(app)
        label = {"flask_mail": "Flask-Mail", "flask_mailman": "Flask-Mailman"}[extension]
        with (
            pytest.raises(ConfigOverrideError) as info,
            override_config(
                app=app, MAIL_DEFAULT_SENDER="b@example.com", MAIL_SERVER="smtp.example.com"
            ),
        ):
            pass
        assert str(info.value) == (
            "override_config() cannot change MAIL_DEFAULT_SENDER, MAIL_SERVER:"
            f" {label} reads them in init_app() and has already set up the app, so changing"
            " app.config now would change nothing. Set it in create_app() before the"
            " extension's init_app() runs (e.g. pass it to your app factory)."
        )

    def test_the_same_settings_are_fine_without_flask_sqlalchemy(self) -> None:
        app = make_app(SQLALCHEMY_DATABASE_URI="sqlite://")
        with override_config(app=app, SQLALCHEMY_DATABASE_URI="sqlite:///x.db"):
            assert app.config["SQLALCHEMY_DATABASE_URI"] == "sqlite:///x.db"

    def test_settings_read_per_request_are_fine_with_flask_sqlalchemy(self) -> None:
        from flask_sqlalchemy import SQLAlchemy

        app = make_app(SQLALCHEMY_DATABASE_URI="sqlite://")
        SQLAlchemy().init_app(app)
        with override_config(app=app, SECRET_KEY="other", SERVER_NAME="example.test"):
            assert app.config["SECRET_KEY"] == "other"


class Base(TestCase):
    def create_app(self) -> flask.Flask:
        app = make_app(FEATURE="off", OTHER="base")

        @app.route("/feature")
        def feature() -> str:
            return f"{flask.current_app.config['FEATURE']} {flask.current_app.config['OTHER']}"

        return app


class TestOnTestCaseMethods:
    def test_applies_to_the_body_only_and_is_restored_when_it_fails(self) -> None:
        seen: list[t.Any] = []

        class Inner(Base):
            def setUp(self) -> None:
                seen.append(("setUp", self.app.config["FEATURE"]))

            @override_config(FEATURE="on")
            def test_it(self) -> None:
                seen.append(("body", self.client.get("/feature").text))
                self.fail("boom")

            def tearDown(self) -> None:
                seen.append(("tearDown", self.app.config["FEATURE"]))

        result = run_case(Inner)
        assert only_error(result) == "AssertionError: boom"
        assert seen == [("setUp", "off"), ("body", "on base"), ("tearDown", "off")]

    def test_keeps_the_method_name_for_runners(self) -> None:
        @override_config(DEBUG=True)
        def test_named() -> None:
            """Doc."""

        assert test_named.__name__ == "test_named"
        assert test_named.__doc__ == "Doc."


class TestOnTestCaseClasses:
    def test_applies_around_each_test_after_create_app(self) -> None:
        seen: list[t.Any] = []

        @override_config(FEATURE="on")
        class Inner(Base):
            def create_app(self) -> flask.Flask:
                app = super().create_app()
                seen.append(("create_app", app.config["FEATURE"]))
                return app

            def setUp(self) -> None:
                seen.append(("setUp", self.app.config["FEATURE"]))

            def test_one(self) -> None:
                seen.append(("one", self.client.get("/feature").text))

            def test_two(self) -> None:
                seen.append(("two", self.client.get("/feature").text))
                self.addCleanup(lambda: seen.append(("cleanup", self.app.config["FEATURE"])))

        result = run_case(Inner)
        assert result.wasSuccessful(), result.errors + result.failures
        assert seen == [
            ("create_app", "off"),
            ("setUp", "on"),
            ("one", "on base"),
            ("create_app", "off"),
            ("setUp", "on"),
            ("two", "on base"),
            ("cleanup", "on"),
        ]

    def test_subclass_overrides_apply_after_the_base_class_ones(self) -> None:
        seen: list[str] = []

        @override_config(FEATURE="base", OTHER="base-decorator")
        class Parent(Base):
            def test_it(self) -> None:
                seen.append(self.client.get("/feature").text)

        @override_config(FEATURE="child")
        class Child(Parent):
            pass

        assert run_case(Child).wasSuccessful()
        assert run_case(Parent).wasSuccessful()
        assert seen == ["child base-decorator", "base base-decorator"]
        assert Base.config_overrides == ()

    def test_restored_after_each_test_with_app_per_class(self) -> None:
        apps: list[flask.Flask] = []

        @override_config(FEATURE="on")
        class Inner(Base):
            app_per_class = True

            def test_one(self) -> None:
                apps.append(self.app)
                with override_config(OTHER="block"):
                    raise RuntimeError("fails inside")

            def test_two(self) -> None:
                apps.append(self.app)
                assert self.client.get("/feature").text == "on base"
                assert flask.current_app.config["OTHER"] == "base"

        result = run_case(Inner)
        assert only_error(result) == "RuntimeError: fails inside"
        assert apps[0] is apps[1]
        assert apps[0].config["FEATURE"] == "off"

    def test_restored_when_setup_raises(self) -> None:
        apps: list[flask.Flask] = []

        @override_config(FEATURE="on")
        class Inner(Base):
            app_per_class = True

            def setUp(self) -> None:
                apps.append(self.app)
                raise RuntimeError("setUp fails")

            def test_it(self) -> None:
                pass

        result = run_case(Inner)
        assert only_error(result) == "RuntimeError: setUp fails"
        assert apps[0].config["FEATURE"] == "off"

    def test_a_refused_setting_is_the_test_s_error(self) -> None:
        from flask_sqlalchemy import SQLAlchemy

        @override_config(SQLALCHEMY_DATABASE_URI="sqlite:///other.db")
        class Inner(TestCase):
            def create_app(self) -> flask.Flask:
                app = make_app(SQLALCHEMY_DATABASE_URI="sqlite://")
                SQLAlchemy().init_app(app)
                return app

            def test_it(self) -> None:
                pass

        result = run_case(Inner)
        assert only_error(result).startswith(
            "flask_testcase.config.ConfigOverrideError: override_config() cannot change"
            " SQLALCHEMY_DATABASE_URI: Flask-SQLAlchemy reads it in init_app()"
        )


# A session-wide app, as a pytest plugin's session-scoped ``app`` fixture would give.
SESSION_APP = make_app(FEATURE="off")


@pytest.fixture
def app_context() -> t.Iterator[flask.Flask]:
    with SESSION_APP.test_request_context():
        yield SESSION_APP


class TestOnPlainPytestFunctions:
    @override_config(FEATURE="on")
    def test_finds_the_app_through_current_app(self, app_context: flask.Flask) -> None:
        assert app_context.config["FEATURE"] == "on"

    def test_the_session_app_is_restored_afterwards(self, app_context: flask.Flask) -> None:
        assert app_context.config["FEATURE"] == "off"

    def test_restored_when_the_function_raises(self) -> None:
        @override_config(FEATURE="on")
        def failing() -> None:
            assert SESSION_APP.config["FEATURE"] == "on"
            raise ValueError("test failed")

        with SESSION_APP.app_context(), pytest.raises(ValueError, match="test failed"):
            failing()
        assert SESSION_APP.config["FEATURE"] == "off"


class TestWithThePytestPlugin:
    def test_session_scoped_app_is_restored_after_a_failing_test(
        self, pytester: pytest.Pytester
    ) -> None:
        pytester.makeconftest(
            """
            import flask
            import pytest

            @pytest.fixture(scope="session")
            def app():
                app = flask.Flask("inner")
                app.config.update(SECRET_KEY="s", FEATURE="off")

                @app.get("/feature")
                def feature():
                    return flask.current_app.config["FEATURE"]

                return app
            """
        )
        pytester.makepyfile(
            test_it="""
            import pytest
            from flask_testcase import override_config

            @override_config(FEATURE="on")
            def test_decorated(client):
                assert client.get("/feature").text == "on"
                raise AssertionError("the test fails")

            @pytest.mark.options(feature="marked")
            def test_block(client):
                with override_config(FEATURE="block"):
                    assert client.get("/feature").text == "block"
                assert client.get("/feature").text == "marked"

            def test_after(client, app):
                assert client.get("/feature").text == "off"
            """
        )
        result = pytester.runpytest("-p", "no:flask", "-p", "no:cacheprovider")
        result.assert_outcomes(passed=2, failed=1)
        result.stdout.fnmatch_lines(["*AssertionError: the test fails*"])
