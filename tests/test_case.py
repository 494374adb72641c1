"""The TestCase lifecycle: what exists when, and that everything is undone."""

from __future__ import annotations

import gc
import typing as t
import unittest

import flask
import pytest
from apps import run_case
from flask import template_rendered

from flask_testcase import TestCase
from flask_testcase import isolated_client_class


def make_app() -> flask.Flask:
    app = flask.Flask(__name__)
    app.config.update(SECRET_KEY="test", TESTING=True)

    @app.route("/")
    def index() -> str:
        flask.flash("Welcome")
        flask.flash("Careful", "warning")
        return flask.render_template_string("<p>{{ greeting }}</p>", greeting="hello")

    @app.route("/g")
    def read_g() -> dict[str, t.Any]:
        seen = sorted(k for k in vars(flask.g) if not k.startswith("_"))
        flask.g.set_by_request = True
        return {"g": seen}

    @app.route("/two")
    def two() -> str:
        first = flask.render_template_string("{{ a }}", a=1)
        return first + flask.render_template_string("{{ b }}", b=2)

    @app.cli.command("hello")
    def hello() -> None:
        print("hello from cli")

    return app


def last_line(report: tuple[unittest.TestCase, str]) -> str:
    return report[1].strip().splitlines()[-1]


def receivers(signal: t.Any) -> int:
    return len(signal.receivers)


@pytest.fixture(autouse=True)
def _no_leaks() -> t.Iterator[None]:
    """Every test in this module must leave no context pushed and no receiver connected."""
    before = (receivers(template_rendered), receivers(flask.message_flashed))
    yield
    assert not flask.has_app_context(), "an app context was left pushed"
    assert not flask.has_request_context(), "a request context was left pushed"
    assert (receivers(template_rendered), receivers(flask.message_flashed)) == before


class TestCreateApp:
    def test_missing_create_app_is_an_error_naming_the_class(self) -> None:
        class NoApp(TestCase):
            def test_it(self) -> None:
                pass

        result = run_case(NoApp)
        assert result.testsRun == 1
        assert len(result.errors) == 1
        report = result.errors[0][1]
        expected = "NotImplementedError: NoApp must define create_app() returning the Flask app"
        assert expected in report
        assert "def create_app(self):" in report

    def test_create_app_returning_none_is_a_type_error(self) -> None:
        class Forgot(TestCase):
            def create_app(self) -> t.Any:
                make_app()

            def test_it(self) -> None:
                pass

        result = run_case(Forgot)
        assert last_line(result.errors[0]) == (
            "TypeError: Forgot.create_app() must return a flask.Flask instance, got None"
            " (NoneType). Did create_app() forget to return it?"
        )

    def test_create_app_returning_something_else_says_what_it_got(self) -> None:
        class Wrong(TestCase):
            def create_app(self) -> t.Any:
                return "app"

            def test_it(self) -> None:
                pass

        result = run_case(Wrong)
        assert last_line(result.errors[0]) == (
            "TypeError: Wrong.create_app() must return a flask.Flask instance, got 'app' (str)."
        )

    def test_error_in_create_app_is_that_tests_error_and_the_run_goes_on(self) -> None:
        calls: list[str] = []

        class Flaky(TestCase):
            def create_app(self) -> flask.Flask:
                if self._testMethodName == "test_a":
                    raise RuntimeError("database is down")
                return make_app()

            def setUp(self) -> None:
                calls.append(f"setUp {self._testMethodName}")

            def test_a(self) -> None:
                calls.append("test_a")

            def test_b(self) -> None:
                calls.append("test_b")

        result = run_case(Flaky)
        assert result.testsRun == 2
        assert [last_line(e) for e in result.errors] == ["RuntimeError: database is down"]
        assert result.errors[0][0].id().endswith("test_a")
        assert calls == ["setUp test_b", "test_b"]

    def test_skip_test_raised_in_create_app_skips(self) -> None:
        class NeedsServer(TestCase):
            def create_app(self) -> flask.Flask:
                raise unittest.SkipTest("no server")

            def test_it(self) -> None:
                pass

        result = run_case(NeedsServer)
        assert result.skipped and result.skipped[0][1] == "no server"
        assert not result.errors


class TestSkippedTestsBuildNothing:
    def test_skipped_method_and_class_create_no_app(self) -> None:
        made: list[str] = []

        class Method(TestCase):
            def create_app(self) -> flask.Flask:
                made.append(self._testMethodName)
                return make_app()

            @unittest.skip("not today")
            def test_skipped(self) -> None:
                pass

            @unittest.skipIf(True, "condition")
            def test_skipped_if(self) -> None:
                pass

            def test_runs(self) -> None:
                pass

        @unittest.skip("whole class")
        class Whole(Method):
            pass

        assert len(run_case(Method).skipped) == 2
        assert len(run_case(Whole).skipped) == 3
        assert made == ["test_runs"]

    def test_skip_in_setup_is_reported_and_undone(self) -> None:
        class SkipInSetUp(TestCase):
            def create_app(self) -> flask.Flask:
                return make_app()

            def setUp(self) -> None:
                self.skipTest("not configured")

            def test_it(self) -> None:
                raise AssertionError("must not run")

        case = SkipInSetUp("test_it")
        result = unittest.TestResult()
        case.run(result)
        assert result.skipped == [(case, "not configured")]
        assert "app" not in vars(case)


class TestOrder:
    def test_framework_setup_before_user_setup_teardown_after_user_teardown(self) -> None:
        events: list[str] = []

        class Ordered(TestCase):
            def create_app(self) -> flask.Flask:
                events.append("create_app")
                app = make_app()
                app.teardown_appcontext(lambda exc: events.append("appcontext popped"))
                return app

            def setUp(self) -> None:  # no super() on purpose
                current = flask.current_app._get_current_object()  # type: ignore[attr-defined]
                events.append(f"setUp sees app={current is self.app}")
                events.append(f"setUp url_for={flask.url_for('index')}")
                self.addCleanup(
                    lambda: events.append(f"user cleanup has_ctx={flask.has_app_context()}")
                )

            def tearDown(self) -> None:
                events.append(f"tearDown has_ctx={flask.has_request_context()}")

            def test_it(self) -> None:
                events.append(f"test has client={self.client is not None}")

        result = run_case(Ordered)
        assert result.wasSuccessful(), result.errors
        assert events == [
            "create_app",
            "setUp sees app=True",
            "setUp url_for=/",
            "test has client=True",
            "tearDown has_ctx=True",
            "user cleanup has_ctx=True",
            "appcontext popped",
        ]

    def test_user_calling_super_setup_is_harmless(self) -> None:
        made: list[int] = []

        class Polite(TestCase):
            def create_app(self) -> flask.Flask:
                made.append(1)
                return make_app()

            def setUp(self) -> None:
                super().setUp()

            def tearDown(self) -> None:
                super().tearDown()

            def test_it(self) -> None:
                self.assert200(self.client.get("/"))

        assert run_case(Polite).wasSuccessful()
        assert made == [1]

    def test_fixtures_are_gone_after_the_test(self) -> None:
        class Done(TestCase):
            def create_app(self) -> flask.Flask:
                return make_app()

            def test_it(self) -> None:
                self.client.get("/")

        case = Done("test_it")
        result = unittest.TestResult()
        case.run(result)
        assert result.wasSuccessful()
        for name in ("app", "client", "runner", "templates", "flashed_messages"):
            assert name not in vars(case), name
        assert "setUp" not in vars(case)

    def test_debug_runs_setup_and_raises_failures_directly(self) -> None:
        class Debugged(TestCase):
            def create_app(self) -> flask.Flask:
                return make_app()

            def test_it(self) -> None:
                self.assert404(self.client.get("/"))

        with pytest.raises(AssertionError, match="HTTP Status 404 expected but got 200 OK"):
            Debugged("test_it").debug()


class TestUndoneWhateverRaises:
    """After an exception anywhere, nothing is left pushed, connected or patched
    (the autouse fixture checks contexts and receivers)."""

    @pytest.mark.parametrize("where", ["create_app", "setUp", "test", "tearDown", "cleanup"])
    def test_everything_is_undone(self, where: str) -> None:
        apps: list[flask.Flask] = []

        class Raises(TestCase):
            render_templates = False

            def create_app(self) -> flask.Flask:
                app = make_app()
                apps.append(app)
                app.jinja_env  # noqa: B018 - created now so the template class is swapped
                if where == "create_app":
                    raise RuntimeError("boom in create_app")
                return app

            def setUp(self) -> None:
                self.addCleanup(self._maybe_raise, "cleanup")
                self._maybe_raise("setUp")

            def _maybe_raise(self, here: str) -> None:
                if where == here:
                    raise RuntimeError(f"boom in {here}")

            def tearDown(self) -> None:
                self._maybe_raise("tearDown")

            def test_it(self) -> None:
                self.client.get("/")
                self._maybe_raise("test")

        result = run_case(Raises)
        assert [last_line(e) for e in result.errors] == [f"RuntimeError: boom in {where}"]
        app = apps[0]
        assert "test_client_class" not in vars(app)
        assert app.jinja_env.template_class is flask.Flask.jinja_environment.template_class

    def test_a_context_left_pushed_by_the_test_does_not_escape(self) -> None:
        class Leaky(TestCase):
            def create_app(self) -> flask.Flask:
                return make_app()

            def test_it(self) -> None:
                self.app.app_context().push()

        result = run_case(Leaky)
        # Flask refuses to pop our context from under the leaked one, and says so;
        # the leaked context itself never reaches the runner (the autouse fixture).
        assert [last_line(e) for e in result.errors] == [
            "RuntimeError: The test left an application or request context pushed on top of"
            " the test's own context. Pop every context the test pushes, or use"
            " 'with app.app_context():'."
        ]

    def test_a_request_context_left_pushed_is_explained_too(self) -> None:
        class Leaky(TestCase):
            def create_app(self) -> flask.Flask:
                return make_app()

            def test_it(self) -> None:
                self.app.test_request_context("/other").push()

        result = run_case(Leaky)
        assert [last_line(e) for e in result.errors] == [
            "RuntimeError: The test left an application or request context pushed on top of"
            " the test's own context. Pop every context the test pushes, or use"
            " 'with app.app_context():'."
        ]

    def test_contexts_pushed_and_popped_by_the_test_are_fine(self) -> None:
        class Tidy(TestCase):
            def create_app(self) -> flask.Flask:
                return make_app()

            def test_it(self) -> None:
                with self.app.app_context(), self.app.test_request_context("/other"):
                    pass
                ctx = self.app.test_request_context("/x")
                ctx.push()
                ctx.pop()

        result = run_case(Tidy)
        assert result.errors == [] and result.testsRun == 1


class TestFreshContextPerRequest:
    def test_g_of_the_test_body_is_not_seen_by_a_request(self) -> None:
        class G(TestCase):
            def create_app(self) -> flask.Flask:
                return make_app()

            def setUp(self) -> None:
                flask.g.from_setup = 1

            def test_it(self) -> None:
                flask.g.from_test = 1
                self.assertEqual(self.client.get("/g").json, {"g": []})
                # ... and g set by that request is not seen by the next one.
                self.assertEqual(self.client.get("/g").json, {"g": []})
                self.assertEqual(flask.g.from_test, 1)
                self.assertFalse(hasattr(flask.g, "set_by_request"))

        result = run_case(G)
        assert result.wasSuccessful(), result.failures + result.errors

    def test_client_made_by_hand_from_the_app_is_isolated_too(self) -> None:
        class ByHand(TestCase):
            def create_app(self) -> flask.Flask:
                return make_app()

            def test_it(self) -> None:
                flask.g.from_test = 1
                client = self.app.test_client()
                self.assertEqual(client.get("/g").json, {"g": []})

        assert run_case(ByHand).wasSuccessful()

    def test_with_client_still_preserves_the_request_context(self) -> None:
        class Preserve(TestCase):
            def create_app(self) -> flask.Flask:
                return make_app()

            def test_it(self) -> None:
                with self.client:
                    self.client.get("/g?x=1")
                    self.assertEqual(flask.request.args["x"], "1")
                    self.assertTrue(flask.g.set_by_request)
                self.assertEqual(flask.request.path, "/")  # the test's own context again

        result = run_case(Preserve)
        assert result.wasSuccessful(), result.failures + result.errors

    def test_app_with_its_own_client_class_keeps_it(self) -> None:
        class MyClient(flask.testing.FlaskClient):
            marker = "mine"

        class Custom(TestCase):
            def create_app(self) -> flask.Flask:
                app = make_app()
                app.test_client_class = MyClient
                return app

            def test_it(self) -> None:
                self.assertIsInstance(self.client, MyClient)
                flask.g.from_test = 1
                self.assertEqual(self.client.get("/g").json, {"g": []})

        assert run_case(Custom).wasSuccessful()

    def test_isolated_client_class_is_cached_and_idempotent(self) -> None:
        cls = isolated_client_class()
        assert isolated_client_class(flask.testing.FlaskClient) is cls
        assert isolated_client_class(cls) is cls
        assert issubclass(cls, flask.testing.FlaskClient)


class TestRecorders:
    def test_every_template_and_flash_is_kept_in_order(self) -> None:
        class Records(TestCase):
            def create_app(self) -> flask.Flask:
                return make_app()

            def test_it(self) -> None:
                self.client.get("/two")
                self.client.get("/")
                self.assertEqual([r.context.get("a") for r in self.templates], [1, None, None])
                self.assertEqual([r.context.get("b") for r in self.templates], [None, 2, None])
                self.assertEqual(self.templates[2].context["greeting"], "hello")
                template, context = self.templates[2]  # Flask-Testing's tuple shape
                self.assertIn("greeting", context)
                self.assertIsNone(template.name)  # render_template_string
                self.assertEqual(
                    self.flashed_messages, [("Welcome", "message"), ("Careful", "warning")]
                )

        result = run_case(Records)
        assert result.wasSuccessful(), result.failures + result.errors

    def test_another_apps_renders_are_not_recorded(self) -> None:
        class Other(TestCase):
            def create_app(self) -> flask.Flask:
                return make_app()

            def test_it(self) -> None:
                other = make_app()
                other.test_client().get("/")
                self.assertEqual(self.templates, [])
                self.assertEqual(self.flashed_messages, [])

        assert run_case(Other).wasSuccessful()

    def test_records_start_empty_for_each_test(self) -> None:
        seen: list[int] = []

        class Fresh(TestCase):
            app_per_class = True

            def create_app(self) -> flask.Flask:
                return make_app()

            def test_a(self) -> None:
                seen.append(len(self.templates))
                self.client.get("/")

            def test_b(self) -> None:
                seen.append(len(self.templates))
                self.client.get("/")

        assert run_case(Fresh).wasSuccessful()
        assert seen == [0, 0]


class TestRenderTemplatesFalse:
    def test_body_is_empty_but_render_is_recorded_with_context(self) -> None:
        class Silent(TestCase):
            render_templates = False

            def create_app(self) -> flask.Flask:
                return make_app()

            def test_it(self) -> None:
                response = self.client.get("/")
                self.assertEqual(response.data, b"")
                self.assertEqual(self.templates[0].context["greeting"], "hello")
                self.assertContext("greeting", "hello")

        result = run_case(Silent)
        assert result.wasSuccessful(), result.failures + result.errors

    def test_templates_render_again_after_a_silent_test(self) -> None:
        app = make_app()
        bodies: list[bytes] = []

        class Silent(TestCase):
            render_templates = False

            def create_app(self) -> flask.Flask:
                return app

            def test_it(self) -> None:
                bodies.append(self.client.get("/").data)

        assert run_case(Silent).wasSuccessful()
        bodies.append(app.test_client().get("/").data)
        assert bodies == [b"", b"<p>hello</p>"]


class TestOptions:
    def test_run_gc_after_test(self, monkeypatch: pytest.MonkeyPatch) -> None:
        calls: list[int] = []
        monkeypatch.setattr(gc, "collect", lambda *a: calls.append(1) or 0)

        class Plain(TestCase):
            def create_app(self) -> flask.Flask:
                return make_app()

            def test_it(self) -> None:
                pass

        class Collects(Plain):
            run_gc_after_test = True

        run_case(Plain)
        assert calls == []
        run_case(Collects)
        assert calls == [1]

    def test_runner_invokes_cli_commands(self) -> None:
        class Cli(TestCase):
            def create_app(self) -> flask.Flask:
                return make_app()

            def test_it(self) -> None:
                result = self.runner.invoke(args=["hello"])
                self.assertEqual(result.output, "hello from cli\n")

        assert run_case(Cli).wasSuccessful()


class TestAppPerClass:
    def test_one_app_per_class_each_test_starts_clean(self) -> None:
        made: list[flask.Flask] = []
        seen: list[t.Any] = []

        class PerClass(TestCase):
            app_per_class = True

            def create_app(self) -> flask.Flask:
                app = make_app()
                made.append(app)
                return app

            def test_1_changes_config_and_cookie(self) -> None:
                self.app.config["FEATURE"] = True
                self.app.config["TESTING"] = False
                self.client.set_cookie("seen", "yes")
                seen.append(self.app)

            def test_2_sees_defaults(self) -> None:
                seen.append(self.app)
                self.assertNotIn("FEATURE", self.app.config)
                self.assertTrue(self.app.config["TESTING"])
                self.assertIsNone(self.client.get_cookie("seen"))

        result = run_case(PerClass)
        assert result.wasSuccessful(), result.failures + result.errors
        assert len(made) == 1
        assert seen == [made[0], made[0]]
        # Released when the class is done.
        assert "_flask_testcase_class_app" not in vars(PerClass)

    def test_subclass_gets_its_own_app(self) -> None:
        made: list[str] = []

        class Base(TestCase):
            app_per_class = True

            def create_app(self) -> flask.Flask:
                made.append(type(self).__name__)
                return make_app()

            def test_it(self) -> None:
                pass

        class Child(Base):
            pass

        suite = unittest.TestSuite(
            [unittest.defaultTestLoader.loadTestsFromTestCase(c) for c in (Base, Child)]
        )
        result = unittest.TestResult()
        suite.run(result)
        assert result.wasSuccessful()
        assert made == ["Base", "Child"]

    def test_failing_create_app_is_retried_by_the_next_test(self) -> None:
        attempts: list[int] = []

        class Broken(TestCase):
            app_per_class = True

            def create_app(self) -> flask.Flask:
                attempts.append(1)
                raise RuntimeError("no")

            def test_a(self) -> None:
                pass

            def test_b(self) -> None:
                pass

        result = run_case(Broken)
        assert len(result.errors) == 2
        assert len(attempts) == 2

    def test_class_cleanup_error_is_reported_once(self) -> None:
        def boom() -> None:
            raise RuntimeError("class cleanup failed")

        class Cleanup(TestCase):
            app_per_class = True

            def create_app(self) -> flask.Flask:
                type(self).addClassCleanup(boom)
                return make_app()

            def test_it(self) -> None:
                pass

        result = run_case(Cleanup)
        assert [last_line(e) for e in result.errors] == ["RuntimeError: class cleanup failed"]
        assert "_flask_testcase_class_app" not in vars(Cleanup)


class TestNamesTheTestCaseSets:
    """What each test sets on ``self`` would hide a class attribute of the same name: a
    suite migrated from plain unittest keeps, say, its Selenium driver in cls.client."""

    def test_a_class_attribute_it_would_hide_is_an_error_naming_the_rename(self) -> None:
        class Driver:
            def __repr__(self) -> str:
                return "<Driver>"

        class Migrated(TestCase):
            @classmethod
            def setUpClass(cls) -> None:
                super().setUpClass()
                cls.client = Driver()  # type: ignore[assignment]

            def create_app(self) -> flask.Flask:
                return make_app()

            def test_page(self) -> None:
                self.fail("must not run")

        result = run_case(Migrated)
        assert len(result.errors) == 1, result.errors
        assert last_line(result.errors[0]) == (
            "TypeError: Migrated.client is set on the class (<Driver>), and"
            " flask_testcase.TestCase sets self.client for each test (the test's test"
            " client), which would hide it. Rename the class attribute (e.g."
            " cls.browser_driver)."
        )

    def test_each_name_it_sets_is_checked(self) -> None:
        for name in ("app", "client", "runner", "templates", "flashed_messages"):
            case = type("Clash", (TestCase,), {name: 42, "test_it": lambda self: None})
            result = run_case(case)
            assert len(result.errors) == 1, name
            assert f"Clash.{name} is set on the class (42)" in last_line(result.errors[0])

    def test_none_as_a_placeholder_is_accepted(self) -> None:
        class Placeholders(TestCase):
            app = None  # type: ignore[assignment]
            client = None  # type: ignore[assignment]

            def create_app(self) -> flask.Flask:
                return make_app()

            def test_it(self) -> None:
                self.assertIsInstance(self.client, flask.testing.FlaskClient)

        result = run_case(Placeholders)
        assert result.wasSuccessful() and result.testsRun == 1, result.errors

    def test_the_docs_list_the_names(self) -> None:
        from pathlib import Path

        text = (Path(__file__).parent.parent / "docs" / "lifecycle.rst").read_text("utf-8")
        for name in TestCase._fixture_names:
            assert f"``{name}``" in text, name
