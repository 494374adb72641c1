"""The same scenarios through both front doors, ``TestCase`` and the pytest plugin, with
the same outcome expected: the shapes of fixtures and classes that Flask's tutorial and
our docs lead users to write (issue 18's numbered cases).

Each inner run is a real pytest run (pytester): the plugin's tests as pytest functions,
the ``TestCase`` ones as classes collected by the same pytest. What a run left in the
database is counted afterwards on a brand-new connection (``assert_no_notes_left``).
"""

from __future__ import annotations

import textwrap

import flask_sqlalchemy  # noqa: F401 (see below)
import pytest
import sqlalchemy as sa
from _dbs import backend_params
from _dbs import url_for

# flask_sqlalchemy (and with it sqlalchemy.orm) is imported here, by the outer run: an
# inner run that imported it first would have it removed afterwards, and importing
# sqlalchemy.orm a second time in one process fails.

APP = """
import sqlalchemy as sa
from flask import Flask, jsonify, render_template_string, request
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import Mapped, mapped_column

db = SQLAlchemy()


class Note(db.Model):
    __tablename__ = "door_note"
    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(sa.String(50), unique=True)


def count():
    return db.session.scalar(sa.select(sa.func.count(Note.id)))


def create_app(url):
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "test"
    app.config["SQLALCHEMY_DATABASE_URI"] = url
    db.init_app(app)

    @app.post("/notes")
    def add_note():
        note = Note(text=request.form["text"])
        db.session.add(note)
        db.session.commit()
        return jsonify(id=note.id)

    @app.get("/notes")
    def notes():
        return jsonify([n.text for n in db.session.scalars(sa.select(Note).order_by(Note.id))])

    @app.get("/")
    def index():
        return render_template_string("{{ n }}", n=count())

    return app
"""


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest("-p", "no:flask", "-p", "no:cacheprovider", *args)


def make(pytester: pytest.Pytester, url: str, conftest: str = "", **modules: str) -> None:
    pytester.makepyfile(doorapp=APP)
    header = f"import pytest\nfrom doorapp import Note, count, create_app, db\nURL = {url!r}\n"
    pytester.makeconftest(header + textwrap.dedent(conftest))
    pytester.makepyfile(
        **{name: header + textwrap.dedent(code) for name, code in modules.items()}
    )


@pytest.fixture(params=backend_params())
def url(request: pytest.FixtureRequest) -> str:
    return url_for(request.param, "doors")


def notes_left(url: str) -> int | None:
    """Rows in door_note seen from a brand-new connection after the inner run (None for
    in-memory SQLite, whose database went with the run: there the next test's view is
    the check)."""
    if url == "sqlite://":
        return None
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            if not sa.inspect(conn).has_table("door_note"):
                return 0
            return int(conn.scalar(sa.text("SELECT count(*) FROM door_note")))
    finally:
        engine.dispose()


def assert_no_notes_left(url: str) -> None:
    left = notes_left(url)
    assert left in (None, 0), f"the inner run left {left} rows in door_note"


def scenario(
    pytester: pytest.Pytester, url: str, conftest: str = "", **modules: str
) -> pytest.RunResult:
    """Run the inner modules from an empty door_note table; afterwards, check from a
    new connection that the run left no row."""
    clear_notes(url)
    make(pytester, url, conftest, **modules)
    result = run(pytester)
    assert_no_notes_left(url)
    return result


def clear_notes(url: str) -> None:
    if url == "sqlite://":
        return
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as conn:
            if sa.inspect(conn).has_table("door_note"):
                conn.execute(sa.text("DELETE FROM door_note"))
    finally:
        engine.dispose()


# -- 1 and 2: an app fixture that keeps an app context pushed ---------------------------

KEPT_CONTEXT = """
@pytest.fixture(scope={scope!r})
def app():
    app = create_app(URL)
    with app.app_context():
        db.create_all()
        {query}
        yield app
"""

WRITES_THEN_READS = """
def test_a_commits(client, db):
    db.session.add(Note(text="a"))
    db.session.commit()
    assert client.get("/notes").json == ["a"]

def test_b_starts_empty(client, db):
    assert count() == 0
    assert client.get("/notes").json == []
"""

# The TestCase counterpart: setUpClass pushes the app's context and keeps it, with the
# same query, for the class.
KEPT_CONTEXT_CASE = """
from flask_testcase import TestCase

class KeptContext(TestCase):
    db = db
    app_per_class = True

    @classmethod
    def setUpClass(cls):
        cls.kept = create_app(URL)
        cls.ctx = cls.kept.app_context()
        cls.ctx.push()
        db.create_all()
        {query}

    @classmethod
    def tearDownClass(cls):
        cls.ctx.pop()
        super().tearDownClass()

    def create_app(self):
        return self.kept

    def test_a_commits(self):
        db.session.add(Note(text="a"))
        db.session.commit()
        self.assertEqual(self.client.get("/notes").json, ["a"])

    def test_b_starts_empty(self):
        self.assertEqual(count(), 0)
        self.assertEqual(self.client.get("/notes").json, [])
"""


class TestAnAppFixtureThatKeepsAContextPushed:
    @pytest.mark.parametrize("scope", ["session", "function"])
    def test_the_tests_commits_are_rolled_back(
        self, pytester: pytest.Pytester, url: str, scope: str
    ) -> None:
        conftest = KEPT_CONTEXT.format(scope=scope, query="count()")
        scenario(pytester, url, conftest, test_door_plugin=WRITES_THEN_READS).assert_outcomes(
            passed=2
        )

    def test_testcase_with_the_same_context_kept(self, pytester: pytest.Pytester, url: str) -> None:
        case = KEPT_CONTEXT_CASE.format(query="count()")
        scenario(pytester, url, test_door_case=case).assert_outcomes(passed=2)

    def test_without_a_query_first_no_object_crosses_tests(
        self, pytester: pytest.Pytester, url: str
    ) -> None:
        scenario(
            pytester,
            url,
            KEPT_CONTEXT.format(scope="session", query="pass"),
            test_door_plugin="""
            def test_a_adds_without_commit(client, db):
                db.session.add(Note(text="a"))

            def test_b_commits_only_its_own(client, db):
                db.session.add(Note(text="b"))
                db.session.commit()
                assert client.get("/notes").json == ["b"]

            def test_c_uses_the_session(client, db):
                assert count() == 0
            """,
        ).assert_outcomes(passed=3)

    def test_testcase_without_a_query_first(self, pytester: pytest.Pytester, url: str) -> None:
        case = KEPT_CONTEXT_CASE.format(query="pass") + textwrap.dedent(
            """
            class Uncommitted(KeptContext):
                def test_a_commits(self):
                    db.session.add(Note(text="a"))

                def test_b_starts_empty(self):
                    db.session.add(Note(text="b"))
                    db.session.commit()
                    self.assertEqual(self.client.get("/notes").json, ["b"])

                def test_c_uses_the_session(self):
                    self.assertEqual(count(), 0)
            """
        )
        scenario(pytester, url, test_door_case=case).assert_outcomes(passed=5)


# -- 3: a fixture listed before db ----------------------------------------------------


class TestAFixtureThatWritesBeforeDb:
    def test_it_runs_inside_the_tests_isolation(self, pytester: pytest.Pytester, url: str) -> None:
        scenario(
            pytester,
            url,
            """
            @pytest.fixture(scope="session")
            def app():
                return create_app(URL)

            @pytest.fixture
            def item(app):
                db.session.add(Note(text="item"))
                db.session.commit()
                return "item"
            """,
            test_door_plugin="""
            def test_a(client, item, db):
                assert client.get("/notes").json == ["item"]

            def test_b(client, db):
                assert client.get("/notes").json == []
            """,
        ).assert_outcomes(passed=2)

    def test_testcase_setup_writes_inside_the_isolation(
        self, pytester: pytest.Pytester, url: str
    ) -> None:
        scenario(
            pytester,
            url,
            test_door_case="""
            from flask_testcase import TestCase

            class Writes(TestCase):
                db = db

                def create_app(self):
                    return create_app(URL)

                def setUp(self):
                    db.session.add(Note(text="item"))
                    db.session.commit()

                def test_a(self):
                    self.assertEqual(self.client.get("/notes").json, ["item"])

                def test_b(self):
                    self.assertEqual(self.client.get("/notes").json, ["item"])
            """,
        ).assert_outcomes(passed=2)


# -- 4: reset_sequences with module-wide data ------------------------------------------


class TestResetSequencesOverSharedData:
    def test_plugin(self, pytester: pytest.Pytester, url: str) -> None:
        result = scenario(
            pytester,
            url,
            """
            from flask_testcase.pytest_plugin import data_fixture

            @pytest.fixture(scope="session")
            def app():
                return create_app(URL)

            @data_fixture(scope="module")
            def two_notes(db):
                notes = [Note(text="one"), Note(text="two")]
                db.session.add_all(notes)
                db.session.commit()
                return max(note.id for note in notes)
            """,
            test_door_plugin="""
            @pytest.mark.reset_sequences
            @pytest.mark.parametrize("n", [1, 2, 3])
            def test_next_id(client, db, two_notes, n):
                # The same id in each test: the one after the shared data's.
                new = client.post("/notes", data={"text": f"n{n}"}).json
                assert new == {"id": two_notes + 1}
            """,
        )
        if "mysql" in url:
            result.assert_outcomes(errors=3)
            result.stdout.fnmatch_lines(
                ["*reset_sequences cannot work on MySQL/MariaDB inside a wider transaction*"]
            )
        else:
            result.assert_outcomes(passed=3)

    def test_testcase(self, pytester: pytest.Pytester, url: str) -> None:
        result = scenario(
            pytester,
            url,
            test_door_case="""
            from flask_testcase import TestCase

            class Ids(TestCase):
                db = db
                reset_sequences = True

                def create_app(self):
                    return create_app(URL)

                @classmethod
                def setUpTestData(cls):
                    notes = [Note(text="one"), Note(text="two")]
                    db.session.add_all(notes)
                    db.session.flush()
                    cls.last = max(note.id for note in notes)

                def check_next_id(self):
                    new = self.client.post("/notes", data={"text": "n"}).json
                    self.assertEqual(new, {"id": self.last + 1})

                def test_1(self):
                    self.check_next_id()

                def test_2(self):
                    self.check_next_id()

                def test_3(self):
                    self.check_next_id()
            """,
        )
        if "mysql" in url:
            # unittest reports an error in setUp; pytest counts it as the test's failure.
            result.assert_outcomes(failed=3)
            result.stdout.fnmatch_lines(
                ["*reset_sequences cannot work on MySQL/MariaDB inside a wider transaction*"]
            )
        else:
            result.assert_outcomes(passed=3)


# -- 5: a session-wide data fixture, then a module with its own app ---------------------


@pytest.mark.parametrize("backend", [p for p in backend_params() if p.id != "sqlite_memory"])
def test_a_second_app_over_session_data_shares_its_isolation(
    pytester: pytest.Pytester, backend: str
) -> None:
    url = url_for(backend, "doors")
    clear_notes(url)
    make(
        pytester,
        url,
        """
        from flask_testcase.pytest_plugin import data_fixture

        @pytest.fixture(scope="session")
        def app():
            return create_app(URL)

        @data_fixture(scope="session")
        def shared(db):
            db.session.add(Note(text="a"))
            db.session.commit()
        """,
        test_1_first="""
        def test_sees_the_shared_row(client, db, shared):
            assert client.get("/notes").json == ["a"]
        """,
        test_2_own_app="""
        import sqlalchemy as sa

        @pytest.fixture
        def app():
            return create_app(URL)

        def test_a_clashing_row_is_refused_at_once(client, db):
            assert client.get("/notes").json == ["a"]
            db.session.add(Note(text="a"))
            with pytest.raises(sa.exc.IntegrityError):
                db.session.commit()
        """,
    )
    result = pytester.runpytest_subprocess("-p", "no:flask", "-p", "no:cacheprovider", timeout=120)
    result.assert_outcomes(passed=2)
    assert_no_notes_left(url)


# -- 6: config overrides come first ----------------------------------------------------


class TestConfigOverridesFirst:
    def test_testcase_class_override_applies_before_the_database(
        self, pytester: pytest.Pytester
    ) -> None:
        make(
            pytester,
            "sqlite://",
            test_door_case="""
            from flask_sqlalchemy.record_queries import get_recorded_queries
            from flask_testcase import TestCase, override_config

            @override_config(SQLALCHEMY_RECORD_QUERIES=True)
            class Recorded(TestCase):
                db = db

                def create_app(self):
                    return create_app(URL)

                def test_records(self):
                    with self.client:
                        self.client.get("/notes")
                        self.client.get("/notes")
                        selects = [q for q in get_recorded_queries() if "SELECT" in q.statement]
                        self.assertEqual(len(selects), 1)
            """,
        )
        run(pytester).assert_outcomes(passed=1)

    def test_plugin_options_marker_applies_before_the_database(
        self, pytester: pytest.Pytester
    ) -> None:
        make(
            pytester,
            "sqlite://",
            """
            @pytest.fixture(scope="session")
            def app():
                return create_app(URL)
            """,
            test_door_plugin="""
            from flask_sqlalchemy.record_queries import get_recorded_queries

            @pytest.mark.options(SQLALCHEMY_RECORD_QUERIES=True)
            def test_records(client, db):
                client.get("/notes")
                selects = [q for q in get_recorded_queries() if "SELECT" in q.statement]
                assert len(selects) == 1
            """,
        )
        run(pytester).assert_outcomes(passed=1)


# -- 9: bad input deserves a message ---------------------------------------------------


def test_data_fixture_on_a_method_says_what_to_do(pytester: pytest.Pytester) -> None:
    make(
        pytester,
        "sqlite://",
        """
        @pytest.fixture(scope="session")
        def app():
            return create_app(URL)
        """,
        test_door_plugin="""
        from flask_testcase.pytest_plugin import data_fixture

        class TestNotes:
            @data_fixture(scope="class")
            def notes(self, db):
                db.session.add(Note(text="a"))

            def test_it(self, client, notes):
                assert client.get("/notes").json == ["a"]
        """,
    )
    result = run(pytester)
    result.assert_outcomes(passed=1)


def test_detaching_the_tests_connection_says_what_happened(pytester: pytest.Pytester) -> None:
    make(
        pytester,
        "sqlite://",
        """
        @pytest.fixture(scope="session")
        def app():
            return create_app(URL)
        """,
        test_door_plugin="""
        def test_detach(db):
            conn = db.session.connection()
            conn.detach()
        """,
    )
    result = run(pytester)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*IsolationError: connection.detach() would take the test's database connection*"]
    )
