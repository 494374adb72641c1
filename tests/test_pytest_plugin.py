"""flask_testcase's pytest plugin, run for real with pytester: pytest-flask's fixtures
and options, the isolated ``db``, data fixtures, ``assertNumQueries``, primary keys
from 1, the threaded ``live_server``, and the errors for bad input.

Inner runs pass ``-p no:flask``: pytest-flask is installed in the development
environment (for the benchmarks) and the plugin refuses to run beside it.
"""

from __future__ import annotations

import socket
import textwrap

import pytest
import sqlalchemy as sa
from _dbs import backend_params
from _dbs import url_for

APP = """
import pytest
import sqlalchemy as sa
from flask import Flask, flash, jsonify, redirect, render_template_string, request
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import Mapped, mapped_column

db = SQLAlchemy()


class Note(db.Model):
    __tablename__ = "plugin_note"
    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(sa.String(50))


def create_app(url="sqlite://"):
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "test"
    app.config["SQLALCHEMY_DATABASE_URI"] = url
    db.init_app(app)

    @app.get("/")
    def index():
        return render_template_string("Hello {{ name }}", name="World")

    @app.get("/ping")
    def ping():
        return jsonify(ping="pong")

    @app.post("/notes")
    def add_note():
        note = Note(text=request.form["text"])
        db.session.add(note)
        db.session.commit()
        flash("Saved.", "success")
        return redirect("/notes")

    @app.get("/notes")
    def notes():
        return jsonify([n.text for n in db.session.scalars(sa.select(Note).order_by(Note.id))])

    @app.get("/notes/ids")
    def note_ids():
        return jsonify([n.id for n in db.session.scalars(sa.select(Note).order_by(Note.id))])

    @app.cli.command("hello")
    def hello():
        print("hello from the cli")

    return app
"""


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest("-p", "no:flask", "-p", "no:cacheprovider", *args)


def make(pytester: pytest.Pytester, conftest: str, **tests: str) -> None:
    pytester.makepyfile(myapp=APP)
    pytester.makeconftest(textwrap.dedent(conftest))
    pytester.makepyfile(**{name: textwrap.dedent(code) for name, code in tests.items()})


SESSION_APP = """
import pytest
from myapp import create_app

@pytest.fixture(scope="session")
def app():
    return create_app()
"""


def url_app(url: str, scope: str = "function") -> str:
    return f"""
import pytest
from myapp import create_app

@pytest.fixture(scope={scope!r})
def app():
    return create_app({url!r})
"""


@pytest.fixture(params=backend_params())
def url(request: pytest.FixtureRequest) -> str:
    return url_for(request.param, "plugin")


def assert_no_notes_left(url: str) -> None:
    """Fail unless plugin_note is empty, seen from a brand-new connection, after the
    inner run. In-memory SQLite is not checked: the inner run had a database of its
    own, gone with it."""
    if url == "sqlite://":
        return
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            count = int(conn.scalar(sa.text("SELECT count(*) FROM plugin_note")))
    finally:
        engine.dispose()
    assert count == 0, f"the inner run left {count} rows in plugin_note"


def assert_setup_error(pytester: pytest.Pytester, fixture: str, line: str) -> None:
    """Fail unless a test asking for ``fixture`` errors in its setup, with ``line`` (an
    fnmatch pattern) in the output."""
    pytester.makepyfile(test_it=f"def test_it({fixture}):\n    pass\n")
    result = run(pytester)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([line])


class TestLeavesOtherTestsAlone:
    def test_a_test_without_its_fixtures_runs_as_before(self, pytester: pytest.Pytester) -> None:
        pytester.makepyfile(
            """
            import sqlalchemy as sa
            CONNECT = sa.engine.Engine.connect

            def test_plain():
                assert sa.engine.Engine.connect is CONNECT
            """
        )
        run(pytester).assert_outcomes(passed=1)


class TestPytestFlaskFixtures:
    def test_client_config_and_request_context(self, pytester: pytest.Pytester) -> None:
        make(
            pytester,
            SESSION_APP,
            test_it="""
            import flask
            from flask import url_for

            def test_client(client):
                assert client.get(url_for("ping")).json == {"ping": "pong"}
                assert client.get("/ping") == 200
                assert client.get("/nowhere") == 404
                assert client.get("/ping") != "200"

            def test_config(config, app):
                assert config is app.config
                config["CHANGED"] = True

            def test_config_was_restored(config):
                assert "CHANGED" not in config

            def test_request_context_is_pushed(app):
                assert flask.request.path == "/"
                assert flask.current_app._get_current_object() is app

            def test_accept_headers(accept_json, accept_jsonp, accept_any, accept_mimetype):
                assert accept_json == [("Accept", "application/json")]
                assert accept_jsonp == [("Accept", "application/json-p")]
                assert accept_any in ([("Accept", "*")], [("Accept", "*/*")])
                assert accept_mimetype in (
                    [("Accept", "application/json")], [("Accept", "text/html")]
                )
            """,
        )
        run(pytester).assert_outcomes(passed=8)

    def test_options_marker_is_undone_after_the_test(self, pytester: pytest.Pytester) -> None:
        make(
            pytester,
            SESSION_APP,
            test_it="""
            import pytest

            @pytest.mark.options(debug=False, foo=42)
            def test_marked(app, config):
                assert not app.debug and config["FOO"] == 42

            def test_next(config):
                assert "FOO" not in config
            """,
        )
        run(pytester).assert_outcomes(passed=2)

    def test_client_class(self, pytester: pytest.Pytester) -> None:
        make(
            pytester,
            SESSION_APP,
            test_it="""
            import pytest

            @pytest.mark.usefixtures("client_class")
            class TestViews:
                def test_ping(self):
                    assert self.client.get("/ping").json == {"ping": "pong"}
            """,
        )
        run(pytester).assert_outcomes(passed=1)

    def test_a_status_mismatch_says_so(self, pytester: pytest.Pytester) -> None:
        test = "def test_it(client):\n    assert client.get('/nowhere') == 200\n"
        make(pytester, SESSION_APP, test_it=test)
        result = run(pytester)
        result.assert_outcomes(failed=1)
        result.stdout.fnmatch_lines(["*Mismatch in status code for response: 404 != 200*"])

    def test_each_request_runs_in_a_fresh_context(self, pytester: pytest.Pytester) -> None:
        make(
            pytester,
            SESSION_APP,
            test_it="""
            import flask

            def test_g_does_not_leak(app, client):
                flask.g.secret = "test body"

                @app.get("/g")
                def read_g():
                    return str(getattr(flask.g, "secret", None))

                assert client.get("/g").text == "None"
            """,
        )
        run(pytester).assert_outcomes(passed=1)


class TestMoreFixtures:
    def test_runner_templates_and_flashes(self, pytester: pytest.Pytester) -> None:
        make(
            pytester,
            url_app("sqlite://"),
            test_it="""
            def test_runner(runner):
                assert runner.invoke(args=["hello"]).output == "hello from the cli\\n"

            def test_records(client, templates, flashed_messages, db):
                client.get("/")
                client.post("/notes", data={"text": "x"})
                assert [t.context["name"] for t in templates] == ["World"]
                assert [(m.category, m.message) for m in flashed_messages] == [
                    ("success", "Saved.")
                ]
            """,
        )
        run(pytester).assert_outcomes(passed=2)

    def test_the_issues_example_asserts_and_response_records(
        self, pytester: pytest.Pytester, url: str
    ) -> None:
        make(
            pytester,
            url_app(url, "session"),
            test_users="""
            from sqlalchemy import func, select
            from flask_testcase.asserts import assertMessageFlashed
            from flask_testcase.asserts import assertNumQueries
            from flask_testcase.asserts import assertRedirects
            from myapp import Note

            def test_signup(client, db):
                response = client.post("/notes", data={"text": "ada"})
                assertRedirects(response, "/notes")
                assert response.flashes == [("success", "Saved.")]
                assertMessageFlashed("Saved.", "success")
                assert db.session.scalar(select(func.count(Note.id))) == 1
                with assertNumQueries(1):
                    client.get("/notes")

            def test_rolled_back(client, db):
                assert db.session.scalar(select(func.count(Note.id))) == 0
                response = client.get("/")
                assert [t.context["name"] for t in response.templates] == ["World"]
                assert response.context["name"] == "World"
            """,
        )
        run(pytester).assert_outcomes(passed=2)
        assert_no_notes_left(url)

    def test_flask_app_in_the_ini_file_names_the_factory(self, pytester: pytest.Pytester) -> None:
        pytester.makepyfile(myapp=APP)
        pytester.makeini("[pytest]\nflask_app = myapp:create_app\n")
        pytester.makepyfile(test_it="def test_it(client):\n    assert client.get('/ping') == 200\n")
        run(pytester).assert_outcomes(passed=1)


class TestBadInput:
    def test_no_app_says_how_to_give_one(self, pytester: pytest.Pytester) -> None:
        assert_setup_error(
            pytester,
            "client",
            "*No Flask app: flask_testcase's fixtures need one. Define an 'app' fixture"
            " in conftest.py that returns your app*",
        )

    def test_an_ini_factory_that_cannot_load(self, pytester: pytest.Pytester) -> None:
        pytester.makeini("[pytest]\nflask_app = nowhere:create_app\n")
        assert_setup_error(
            pytester,
            "client",
            "*flask_app = 'nowhere:create_app' in the ini file cannot be loaded*",
        )

    def test_an_app_fixture_returning_something_else(self, pytester: pytest.Pytester) -> None:
        pytester.makeconftest("import pytest\n\n@pytest.fixture\ndef app():\n    pass\n")
        assert_setup_error(
            pytester,
            "client",
            "*TypeError: the 'app' fixture must return a flask.Flask instance, got None"
            " (NoneType). Did the fixture forget to return it?",
        )

    def test_db_without_flask_sqlalchemy(self, pytester: pytest.Pytester) -> None:
        pytester.makeconftest(
            "import pytest, flask\n\n@pytest.fixture\ndef app():\n    return flask.Flask('bare')\n"
        )
        assert_setup_error(
            pytester,
            "db",
            "*'db' needs the app's database, and the app 'bare' has no Flask-SQLAlchemy or"
            " Flask-SQLAlchemy-Lite: call db.init_app(app) in your app factory, name the"
            " database once in the ini file (flask_db = 'yourpackage.database:db', e.g. a"
            " flask_testcase.SQLAlchemyDatabase for plain SQLAlchemy), or define your own"
            " 'db' fixture.*",
        )

    def test_loaded_explicitly_without_autoload_beside_an_installed_pytest_flask(
        self, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # pytest-flask installed but not loaded: the plugin's options must exist.
        monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
        test = "def test_it(live_server):\n    assert live_server.port\n"
        make(pytester, SESSION_APP, test_it=test)
        plugin = ["-p", "flask_testcase.pytest_plugin", "-p", "no:cacheprovider"]
        result = pytester.runpytest(*plugin, "--live-server-port", "0")
        result.assert_outcomes(passed=1)

    def test_a_taken_live_server_port(self, pytester: pytest.Pytester) -> None:
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            port = taken.getsockname()[1]
            make(pytester, SESSION_APP, test_it="def test_it(live_server):\n    pass\n")
            result = run(
                pytester, "--live-server-host", "127.0.0.1", "--live-server-port", str(port)
            )
        result.assert_outcomes(errors=1)
        result.stdout.fnmatch_lines([f"*{port}*"])


class TestDatabase:
    def test_db_rolls_back_each_test(self, pytester: pytest.Pytester, url: str) -> None:
        make(
            pytester,
            url_app(url, "session"),
            test_it="""
            import sqlalchemy as sa
            from myapp import Note

            def test_write(client, db):
                client.post("/notes", data={"text": "via view"})
                db.session.add(Note(text="via session"))
                db.session.commit()
                assert db.session.scalar(sa.select(sa.func.count(Note.id))) == 2

            def test_empty_again(client, db):
                assert client.get("/notes").json == []
            """,
        )
        run(pytester).assert_outcomes(passed=2)
        assert_no_notes_left(url)

    def test_a_users_own_db_fixture_wins(self, pytester: pytest.Pytester) -> None:
        make(
            pytester,
            url_app("sqlite://") + "\n@pytest.fixture\ndef db():\n    return 'mine'\n",
            test_it="def test_it(db):\n    assert db == 'mine'\n",
        )
        run(pytester).assert_outcomes(passed=1)

    def test_data_fixture_is_made_once_and_each_test_undoes_its_changes(
        self, pytester: pytest.Pytester, url: str
    ) -> None:
        make(
            pytester,
            url_app(url, "session")
            + """
from flask_testcase.pytest_plugin import data_fixture
from myapp import Note
made = []

@data_fixture(scope="module")
def notes(db):
    made.append(1)
    db.session.add_all([Note(text="a"), Note(text="b")])
    db.session.commit()
    return "made"
""",
            test_it="""
            import conftest
            from myapp import Note

            def test_sees_and_deletes(client, db, notes):
                assert client.get("/notes").json == ["a", "b"]
                db.session.query(Note).delete()
                db.session.commit()
                assert client.get("/notes").json == []

            def test_sees_them_again(client, notes):
                assert client.get("/notes").json == ["a", "b"]
                assert conftest.made == [1]
            """,
        )
        run(pytester).assert_outcomes(passed=2)
        assert_no_notes_left(url)

    def test_assert_num_queries(self, pytester: pytest.Pytester) -> None:
        make(
            pytester,
            url_app("sqlite://"),
            test_it="""
            def test_passes(client, db, assertNumQueries):
                with assertNumQueries(1):
                    client.get("/notes")

            def test_fails(client, db, assertNumQueries):
                with assertNumQueries(2, msg="two reads"):
                    client.get("/notes")
            """,
        )
        result = run(pytester)
        result.assert_outcomes(passed=1, failed=1)
        result.stdout.fnmatch_lines(
            [
                "*AssertionError: 1 != 2 : 1 queries executed, 2 expected",
                "*Captured queries were:",
                "*1. SELECT plugin_note.id, plugin_note.text *",
                "*two reads",
            ]
        )

    def test_reset_sequences_starts_ids_from_one(self, pytester: pytest.Pytester, url: str) -> None:
        make(
            pytester,
            url_app(url, "session"),
            test_it="""
            import pytest

            @pytest.mark.reset_sequences
            @pytest.mark.parametrize("n", [1, 2, 3])
            def test_ids(client, db, n):
                client.post("/notes", data={"text": "a"})
                client.post("/notes", data={"text": "b"})
                assert client.get("/notes/ids").json == [1, 2]
            """,
        )
        run(pytester).assert_outcomes(passed=3)


class TestLiveServer:
    def test_serves_each_tests_app_and_data(self, pytester: pytest.Pytester, url: str) -> None:
        make(
            pytester,
            url_app(url),
            test_it="""
            import json
            import urllib.request
            from flask import url_for
            from myapp import Note

            def get(url):
                with urllib.request.urlopen(url, timeout=10) as response:
                    return json.loads(response.read())

            def test_first(live_server, db):
                db.session.add(Note(text="seen by the server"))
                db.session.commit()
                assert live_server.url().startswith("http://localhost:")
                assert url_for("ping", _external=True) == (
                    f"http://localhost.localdomain:{live_server.port}/ping"
                )
                assert get(live_server.url("/notes")) == ["seen by the server"]

            def test_second(live_server, db, app):
                assert live_server.app is app
                assert get(live_server.url("/notes")) == []
            """,
        )
        run(pytester).assert_outcomes(passed=2)
        assert_no_notes_left(url)


class TestBesidePytestFlask:
    """Installed beside pytest-flask (a team migrating test by test): pytest-flask keeps
    its names, ours serve the rest, and nothing stops the run."""

    @pytest.fixture(autouse=True)
    def _needs_pytest_flask(self) -> None:
        pytest.importorskip("pytest_flask")

    def run_beside(self, pytester: pytest.Pytester) -> pytest.RunResult:
        # pytest-flask loads through its entry point, as in a user's environment.
        return pytester.runpytest("-p", "no:cacheprovider")

    def test_a_suite_of_plain_testcase_classes_runs(self, pytester: pytest.Pytester) -> None:
        pytester.makepyfile(myapp=APP)
        pytester.makepyfile(
            test_it="""
            from flask_testcase import TestCase
            from myapp import create_app

            class Views(TestCase):
                def create_app(self):
                    return create_app()

                def test_ping(self):
                    self.assertEqual(self.client.get("/ping").json, {"ping": "pong"})
            """
        )
        result = self.run_beside(pytester)
        result.assert_outcomes(passed=1)

    def test_the_report_header_says_which_plugin_serves_which_name(
        self, pytester: pytest.Pytester
    ) -> None:
        pytester.makepyfile(test_it="def test_it():\n    pass\n")
        result = self.run_beside(pytester)
        result.assert_outcomes(passed=1)
        result.stdout.fnmatch_lines(
            [
                "flask_testcase: pytest-flask is active and serves client, client_class,"
                " config, live_server, mimetype, accept_any, accept_json, accept_jsonp,"
                " accept_mimetype, the options marker; flask_testcase serves app (ini"
                " flask_app), runner, templates, flashed_messages, outbox, tasks, testapp, db"
                " (ini flask_db), assertNumQueries, data_fixture. Uninstall pytest-flask to have"
                " flask_testcase serve them all."
            ]
        )

    def test_their_client_with_our_db_and_records(
        self, pytester: pytest.Pytester, url: str
    ) -> None:
        make(
            pytester,
            url_app(url, "session"),
            test_it="""
            import pytest
            from flask_testcase.asserts import assertMessageFlashed

            @pytest.mark.options(feature="on")
            def test_write(client, db, templates, config):
                assert config["FEATURE"] == "on"
                # Flask 3.2 redirects with 303 by default, older releases with 302.
                assert client.post("/notes", data={"text": "a"}).status_code in (302, 303)
                assertMessageFlashed("Saved.", "success")
                client.get("/")
                assert [t.context["name"] for t in templates] == ["World"]

            def test_rolled_back(client, db):
                assert client.get("/notes").json == []
                assert client.get("/ping") == 200
            """,
        )
        result = self.run_beside(pytester)
        result.assert_outcomes(passed=2)
        assert_no_notes_left(url)

    def test_without_pytest_flask_our_names_are_served(self, pytester: pytest.Pytester) -> None:
        pytester.makepyfile(test_it="def test_it():\n    pass\n")
        result = run(pytester)
        result.assert_outcomes(passed=1)
        result.stdout.no_fnmatch_line("*pytest-flask is active*")


class TestWithClient:
    """Flask's testing docs keep a request's contexts with ``with client:``; the
    fixture's client, which keeps the last request's contexts as pytest-flask's does,
    allows it too."""

    def test_with_client_keeps_the_requests_context_in_the_block(
        self, pytester: pytest.Pytester
    ) -> None:
        make(
            pytester,
            SESSION_APP,
            test_it="""
            import flask

            def test_session_and_g_inside_the_block(app, client):
                @app.post("/login")
                def login():
                    flask.session["user_id"] = 1
                    return ""

                @app.get("/me")
                def me():
                    flask.g.user = "ada"
                    return str(flask.session.get("user_id"))

                client.post("/login")
                with client:
                    assert client.get("/me").text == "1"
                    assert flask.session["user_id"] == 1
                    assert flask.g.user == "ada"
                    assert flask.request.path == "/me"
                # After the block the last request's context is kept again.
                client.get("/ping")
                assert flask.request.path == "/ping"

            def test_nested_blocks_are_refused_as_by_flask(client):
                import pytest
                with client:
                    with pytest.raises(RuntimeError, match="Cannot nest client invocations"):
                        with client:
                            pass

            def test_the_last_requests_context_is_kept_without_a_block(client):
                client.get("/ping")
                assert flask.request.path == "/ping"
            """,
        )
        run(pytester).assert_outcomes(passed=3)
