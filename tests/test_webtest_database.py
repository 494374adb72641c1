"""flask_testcase.webtest with a database, on SQLite (memory and file), PostgreSQL and
MariaDB, through both front doors: a form submitted through WebTest writes rows the
test sees, and nothing is left afterwards, counted from outside on a new NullPool
connection after the inner run. Also Flask-WebTest's session scopes."""

from __future__ import annotations

import textwrap
import typing as t

import flask
import pytest
import sqlalchemy as sa
from _dbs import backend_params
from _dbs import url_for
from apps import run_case
from flask_sqlalchemy import SQLAlchemy
from jinja2 import DictLoader
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from flask_testcase import TestCase
from flask_testcase.webtest import SessionScope
from flask_testcase.webtest import TestApp
from flask_testcase.webtest import get_scopefunc

db = SQLAlchemy()


class WebNote(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "webtest_note"
    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(sa.String(50))


PAGE = (
    "<ul>{% for note in notes %}<li>{{ note.text }}</li>{% endfor %}</ul>"
    '<form method="post" action="/notes"><input name="text"><button>Add</button></form>'
)


def make_app(url: str, database: SQLAlchemy = db) -> flask.Flask:
    app = flask.Flask(__name__)
    app.config.update(SECRET_KEY="s", TESTING=True, SQLALCHEMY_DATABASE_URI=url)
    app.jinja_loader = DictLoader({"notes.html": PAGE})  # type: ignore[assignment]
    database.init_app(app)

    @app.route("/notes", methods=["GET", "POST"])
    def notes() -> t.Any:
        if flask.request.method == "POST":
            database.session.add(WebNote(text=flask.request.form["text"]))
            database.session.commit()
            flask.flash("Added.")
            return flask.redirect("/notes")
        rows = database.session.scalars(sa.select(WebNote).order_by(WebNote.id)).all()
        return flask.render_template("notes.html", notes=rows)

    return app


def count_outside(url: str) -> int | None:
    """Rows of webtest_note on a brand-new connection, outside every test; ``None``
    for in-memory SQLite, whose database went with the inner run's engine."""
    if url == "sqlite://":
        return None
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            return int(conn.scalar(sa.text("SELECT count(*) FROM webtest_note")) or 0)
    finally:
        engine.dispose()


@pytest.fixture(params=backend_params())
def url(request: pytest.FixtureRequest) -> str:
    return url_for(request.param, "webtest")


def test_testcase_webtest_writes_are_seen_by_the_test_and_rolled_back(url: str) -> None:
    class Case(TestCase):
        db = globals()["db"]

        def create_app(self) -> flask.Flask:
            return make_app(url)

        def test_1_add_through_the_form(self) -> None:
            page = self.testapp.get("/notes")
            page.form["text"] = "from webtest"
            listing = page.form.submit().follow()
            self.assertEqual([li.text for li in listing.html.select("li")], ["from webtest"])
            self.assertEqual(listing.context["notes"][0].text, "from webtest")
            # The test body's session sees what the view committed.
            self.assertEqual(db.session.scalar(sa.select(sa.func.count(WebNote.id))), 1)
            self.assertMessageFlashed("Added.")

        def test_2_then_nothing(self) -> None:
            self.assertEqual(self.testapp.get("/notes").html.select("li"), [])

    result = run_case(Case)
    assert result.testsRun == 2
    assert not result.errors + result.failures, result.errors + result.failures
    assert count_outside(url) in (0, None)


def test_the_testapp_fixture_is_inside_the_db_isolation(
    url: str, pytester: pytest.Pytester
) -> None:
    pytester.makepyfile(
        myapp=textwrap.dedent(
            f"""
            import flask
            import sqlalchemy as sa
            from flask_sqlalchemy import SQLAlchemy
            from sqlalchemy.orm import Mapped, mapped_column

            db = SQLAlchemy()

            class WebNote(db.Model):
                __tablename__ = "webtest_note"
                id: Mapped[int] = mapped_column(primary_key=True)
                text: Mapped[str] = mapped_column(sa.String(50))

            def create_app():
                app = flask.Flask(__name__)
                app.config.update(SECRET_KEY="s", SQLALCHEMY_DATABASE_URI={url!r})
                db.init_app(app)

                @app.route("/notes", methods=["GET", "POST"])
                def notes():
                    if flask.request.method == "POST":
                        db.session.add(WebNote(text=flask.request.form["text"]))
                        db.session.commit()
                        flask.flash("Added.")
                        return flask.redirect("/notes")
                    rows = db.session.scalars(sa.select(WebNote)).all()
                    return flask.render_template_string(
                        '{{% for n in notes %}}<li>{{{{ n.text }}}}</li>{{% endfor %}}'
                        '<form method="post"><input name="text"></form>',
                        notes=rows,
                    )

                return app
            """
        )
    )
    pytester.makeconftest(
        """
        import pytest
        from myapp import create_app

        @pytest.fixture
        def app():
            return create_app()
        """
    )
    pytester.makepyfile(
        test_it="""
        import sqlalchemy as sa
        from flask_testcase.asserts import assertMessageFlashed
        from myapp import WebNote

        def test_1_add(testapp, db, flashed_messages):
            page = testapp.get("/notes")
            page.form["text"] = "from webtest"
            listing = page.form.submit().follow()
            assert [li.text for li in listing.html.select("li")] == ["from webtest"]
            assert db.session.scalar(sa.select(sa.func.count(WebNote.id))) == 1
            assert [m.message for m in flashed_messages] == ["Added."]
            assertMessageFlashed("Added.")

        def test_2_then_nothing(testapp, db):
            assert testapp.get("/notes").html.select("li") == []
        """
    )
    result = pytester.runpytest("-p", "no:flask", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
    assert count_outside(url) in (0, None)


# -- Flask-WebTest's session scopes ------------------------------------------------------

scoped_db = SQLAlchemy(session_options={"scopefunc": get_scopefunc()})


class ScopedCase(TestCase):
    db = scoped_db

    def create_app(self) -> flask.Flask:
        app = make_app("sqlite://", scoped_db)

        @app.get("/session-id")
        def session_id() -> str:
            session = scoped_db.session()
            # Kept alive: a freed session's id may be given to the next one.
            app.extensions.setdefault("sessions", []).append(session)
            return str(id(session))

        return app


class TestSessionScopes:
    def test_each_request_of_a_scoped_testapp_has_its_own_session(self) -> None:
        seen: dict[str, t.Any] = {}

        class Case(ScopedCase):
            def test_it(self) -> None:
                scoped = TestApp(self.app, db=scoped_db, use_session_scopes=True)
                shared = TestApp(self.app)
                seen["test"] = str(id(scoped_db.session()))
                seen["scoped"] = {scoped.get("/session-id").text for _ in range(2)}
                seen["shared"] = shared.get("/session-id").text

        result = run_case(Case)
        assert result.wasSuccessful(), result.errors + result.failures
        # Without scopes a request shares the test's (thread's) session, as under
        # Flask-WebTest; with them each request has a new one.
        assert seen["shared"] == seen["test"]
        assert len(seen["scoped"]) == 2 and seen["test"] not in seen["scoped"]

    def test_a_scope_in_the_test_body(self) -> None:
        with make_app("sqlite://", scoped_db).app_context():
            outer = scoped_db.session()
            with SessionScope(scoped_db) as scope:
                inner = scoped_db.session()
                assert inner is not outer
                with SessionScope(scoped_db):
                    assert scoped_db.session() is not inner
                assert scoped_db.session() is inner
            assert scoped_db.session() is outer
            assert isinstance(scope, SessionScope)

    def test_the_scope_is_left_when_the_block_raises(self) -> None:
        with make_app("sqlite://", scoped_db).app_context():
            outer = scoped_db.session()
            with pytest.raises(ZeroDivisionError), SessionScope(scoped_db):
                1 / 0  # noqa: B018
            assert scoped_db.session() is outer

    def test_popping_a_scope_that_is_not_the_innermost(self) -> None:
        with make_app("sqlite://", scoped_db).app_context():
            first = SessionScope(scoped_db)
            first.push()
            second = SessionScope(scoped_db)
            second.push()
            with pytest.raises(RuntimeError) as info:
                first.pop()
            assert str(info.value) == (
                f"{first!r}.pop(): it is not the innermost session scope (that is"
                f" {second!r}). Pop scopes in the reverse order of push(), in the context"
                " that pushed them, or use 'with SessionScope(db):'."
            )
            second.pop()
            first.pop()
            with pytest.raises(RuntimeError, match=r"\(that is none\)"):
                first.pop()

    def test_the_scope_function_outside_and_inside_a_scope(self) -> None:
        scopefunc = get_scopefunc(lambda: "base")
        assert scopefunc() == "base"
        with SessionScope(scoped_db) as scope:
            assert scopefunc() == ("base", id(scope))

    def test_use_session_scopes_without_db(self) -> None:
        with pytest.raises(ValueError) as info:
            TestApp(make_app("sqlite://", SQLAlchemy()), use_session_scopes=True)
        assert str(info.value) == (
            "TestApp(use_session_scopes=True) runs each request in a session scope of"
            " db: pass db= (the app's Flask-SQLAlchemy instance)."
        )

    def test_use_session_scopes_with_sessions_not_scoped_by_get_scopefunc(self) -> None:
        plain = SQLAlchemy()
        with pytest.raises(ValueError) as info:
            TestApp(make_app("sqlite://", plain), db=plain, use_session_scopes=True)
        assert str(info.value) == (
            f"TestApp(use_session_scopes=True) needs {plain!r}'s sessions scoped by"
            " flask_testcase.webtest.get_scopefunc(), or a scope changes nothing: make"
            " it with SQLAlchemy(session_options={'scopefunc': get_scopefunc()})."
        )

    def test_a_view_that_raises_leaves_its_scope_and_session(self) -> None:
        app = make_app("sqlite://", scoped_db)
        sessions: list[t.Any] = []

        @app.get("/boom")
        def boom() -> str:
            sessions.append(scoped_db.session())
            raise RuntimeError("boom")

        testapp = TestApp(app, db=scoped_db, use_session_scopes=True)
        with pytest.raises(RuntimeError, match="boom"):
            testapp.get("/boom")
        registry = scoped_db.session.registry.registry
        assert sessions and sessions[0] not in registry.values()
