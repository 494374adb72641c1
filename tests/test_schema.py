"""The test schema built from the app's migrations (schema_from="migrations"), run for
real on SQLite (memory and file), PostgreSQL and MariaDB, with a migrations directory
made by Flask-Migrate's own commands (see _migrated.py): once per database per run,
outside any test's transaction, on every bind; reused between runs while the scripts
are unchanged; per-worker PostgreSQL databases copied from one template; the hook; the
traps (in-memory SQLite, alembic.ini's logging set-up); every bad input.

A "new run" is simulated with forget_run(): the run's engines and what the schema step
recorded are forgotten, the databases stay as a new process would find them.
"""

from __future__ import annotations

import itertools
import logging
import os
import shutil
import subprocess
import sys
import textwrap
import time
import typing as t
from pathlib import Path

import pytest
import sqlalchemy as sa
from _commands import PYTEST
from _dbs import POSTGRESQL
from _dbs import backend_params
from _dbs import require
from _migrated import Author
from _migrated import Book
from _migrated import CountRuns
from _migrated import Note
from _migrated import add_revision
from _migrated import create_app
from _migrated import db
from _migrated import forget_run
from _migrated import generated_fixture  # noqa: F401
from _migrated import generated_multidb_fixture  # noqa: F401
from _migrated import mig_url
from _migrated import migrations_fixture  # noqa: F401
from _migrated import ordered_revisions
from _migrated import outside
from _migrated import tables
from flask import Flask
from test_sqlalchemy import problems
from test_sqlalchemy import run

from flask_testcase import MigrationError
from flask_testcase import NotATestDatabaseError
from flask_testcase import SchemaError
from flask_testcase import TestCase
from flask_testcase import database_for_tests
from flask_testcase import database_isolation
from flask_testcase import drop_database
from flask_testcase import schema as ftc_schema
from flask_testcase.schema import MARKER_TABLE

BACKENDS = backend_params()
TESTS = str(Path(__file__).parent)
SERVERS_AND_FILES = [p for p in backend_params() if p.id != "sqlite_memory"]


@pytest.fixture(autouse=True)
def new_run() -> t.Iterator[None]:
    forget_run()
    yield
    forget_run()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    mig_url(request.param)  # skips when the server is missing
    return str(request.param)


def urls(backend: str, name: str = "ftcmig") -> tuple[str, str]:
    return mig_url(backend, name), mig_url(backend, name + "other")


def case(url: str, other: str, directory: Path | None, **members: t.Any) -> type[TestCase]:
    def create(self: TestCase) -> Flask:
        return create_app(url, other, directory or "migrations")

    attributes = {"db": db, "create_app": create, "schema_from": "migrations"}
    if directory is not None:
        attributes["migrations_directory"] = directory
    return type("Inner", (TestCase,), {**attributes, **members})


def scalar(sql: str) -> t.Any:
    return db.session.execute(sa.text(sql)).scalar()


def uses_what_only_the_migrations_make(self: TestCase) -> None:
    # The server default (not in the model), the trigger, the view; the bind the
    # migrations do not cover has its models' tables.
    db.session.execute(sa.text("INSERT INTO mig_author (id, name) VALUES (1, 'ada')"))
    db.session.add(Book(author_id=1, title="Notes"))
    db.session.add(Note(text="other bind"))
    db.session.commit()
    self.assertEqual(db.session.get(Author, 1).score, 0)
    self.assertEqual(scalar("SELECT count(*) FROM mig_audit"), 1)
    self.assertEqual(scalar("SELECT name FROM mig_book_titles WHERE title = 'Notes'"), "ada")
    self.assertEqual(db.session.scalar(sa.select(sa.func.count()).select_from(Note)), 1)


# -- the schema from migrations --------------------------------------------------------


class TestSchemaFromMigrations:
    def test_the_tests_see_the_view_trigger_and_default_only_migrations_make(
        self, backend: str, migrations: Path
    ) -> None:
        url, other = urls(backend)
        inner = case(url, other, migrations, test_it=uses_what_only_the_migrations_make)
        result = run(inner)
        assert problems(result) == [] and result.testsRun == 1
        # The migrations were committed outside the test; its rows were rolled back.
        (head,) = [r for r, _ in ordered_revisions(migrations)[-1:]]
        assert outside(url, "SELECT version_num FROM alembic_version") == [(head,)]
        assert outside(url, "SELECT count(*) FROM mig_audit") == [(0,)]
        assert outside(url, "SELECT count(*) FROM mig_author") == [(0,)]

    def test_create_all_misses_them(self, backend: str) -> None:
        url, other = urls(backend, "ftcmigmodels")
        inner = case(
            url, other, None, schema_from="models", test_it=uses_what_only_the_migrations_make
        )
        result = run(inner)
        assert result.testsRun == 1 and len(problems(result)) == 1
        assert "mig_book_titles" not in tables(url)
        assert "alembic_version" not in tables(url)

    def test_database_isolation_takes_the_same_switch(self, backend: str, migrations: Path) -> None:
        url, other = urls(backend)
        app = create_app(url, other)
        with (
            app.app_context(),
            database_isolation(db, schema_from="migrations", migrations_directory=migrations),
        ):
            db.session.add_all([Author(id=1, name="ada", score=1.0), Book(author_id=1, title="x")])
            db.session.commit()
            assert scalar("SELECT count(*) FROM mig_book_titles") == 1
        assert outside(url, "SELECT count(*) FROM mig_book") == [(0,)]

    def test_migrations_run_once_per_database_per_run(
        self, backend: str, migrations: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        url, other = urls(backend, "ftcmigonce")
        runs = CountRuns(monkeypatch)
        forget_run(url, other)
        members = {f"test_{i}": uses_what_only_the_migrations_make for i in range(3)}
        result = run(case(url, other, migrations, **members))
        assert problems(result) == [] and result.testsRun == 3
        assert runs.upgrades == 1
        result = run(case(url, other, migrations, **members))
        assert problems(result) == [] and runs.upgrades == 1

    def test_every_bind_of_flask_db_init_multidb_is_migrated(
        self, backend: str, generated_multidb: Path
    ) -> None:
        url, other = urls(backend, "ftcmigmulti")

        def test_it(self: TestCase) -> None:
            db.session.add_all([Author(name="ada", score=1.0), Note(text="n")])
            db.session.commit()
            self.assertEqual(db.session.scalar(sa.select(sa.func.count()).select_from(Note)), 1)

        result = run(case(url, other, generated_multidb, test_it=test_it))
        assert problems(result) == []
        (head,) = [r for r, _ in ordered_revisions(generated_multidb)]
        assert outside(url, "SELECT version_num FROM alembic_version") == [(head,)]
        if backend != "sqlite_memory":
            # In memory, each bind is its own database for the run only.
            assert outside(other, "SELECT version_num FROM alembic_version") == [(head,)]
            assert "mig_note" in tables(other) and "mig_author" not in tables(other)

    def test_flask_migrates_directory_is_found_beside_the_working_directory(
        self, migrations: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.chdir(migrations.parent)
        app = create_app()  # Flask-Migrate's default: "migrations"
        with app.app_context(), database_isolation(db, schema_from="migrations"):
            assert scalar("SELECT count(*) FROM mig_book_titles") == 0


# -- the traps -------------------------------------------------------------------------


class TestTraps:
    @pytest.mark.parametrize("backend", ["sqlite_memory", "sqlite_file"])
    def test_an_env_py_that_builds_its_engine_from_the_url_migrates_the_tests_database(
        self, backend: str, migrations: Path
    ) -> None:
        # Older Flask-Migrate templates (and microblog's env.py) connect with a new
        # engine made from the URL: for in-memory SQLite another, empty, database.
        env = migrations / "env.py"
        text = env.read_text()
        text = text.replace(
            "    connectable = get_engine()\n",
            "    from sqlalchemy import engine_from_config, pool\n"
            "    connectable = engine_from_config(config.get_section(config.config_ini_section),"
            " prefix='sqlalchemy.', poolclass=pool.NullPool)\n",
        )
        assert "engine_from_config(" in text
        env.write_text(text)
        url, other = urls(backend)
        result = run(case(url, other, migrations, test_it=uses_what_only_the_migrations_make))
        assert problems(result) == []

    def test_migrating_leaves_the_runs_loggers_and_handlers_alone(
        self, migrations: Path, caplog: pytest.LogCaptureFixture
    ) -> None:
        app = create_app(directory=migrations)
        werkzeug = logging.getLogger("werkzeug")
        handlers = list(logging.getLogger().handlers)
        assert handlers, "pytest's capture handler is expected on the root logger"
        with app.app_context(), database_isolation(db, schema_from="migrations"):
            pass
        assert not werkzeug.disabled and not app.logger.disabled
        assert logging.getLogger().handlers == handlers
        with caplog.at_level(logging.WARNING):
            app.logger.warning("still heard")
        assert [r.getMessage() for r in caplog.records] == ["still heard"]

    def test_logging_and_the_apps_engines_are_restored_when_a_migration_fails(
        self, migrations: Path
    ) -> None:
        import logging.config

        saved = logging.config.fileConfig, logging.config.dictConfig
        broken_revision(migrations)
        app = create_app(directory=migrations)
        with app.app_context():
            engines = dict(db.engines)
        with pytest.raises(MigrationError), database_isolation(db, app, schema_from="migrations"):
            pass
        assert (logging.config.fileConfig, logging.config.dictConfig) == saved
        with app.app_context():
            assert dict(db.engines) == engines

    def test_flask_migrates_own_upgrade_disables_them(
        self, migrations: Path, tmp_path: Path
    ) -> None:
        # The trap is real: the same env.py through 'flask db upgrade' in a process of
        # its own switches off the loggers that existed before it.
        script = textwrap.dedent(
            f"""
            import logging, flask_migrate
            from _migrated import create_app
            app = create_app("sqlite:///{tmp_path / "trap.db"}", directory={str(migrations)!r})
            werkzeug = logging.getLogger("werkzeug")
            app.logger.warning("made before the upgrade")
            with app.app_context():
                flask_migrate.upgrade()
            print(werkzeug.disabled, app.logger.disabled)
            """
        )
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent)}
        proc = subprocess.run(
            [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=False
        )
        assert proc.stdout.split() == ["True", "True"], proc.stdout + proc.stderr


# -- reuse -----------------------------------------------------------------------------


KEPT = itertools.count()


@pytest.fixture(params=SERVERS_AND_FILES)
def kept(request: pytest.FixtureRequest, tmp_path: Path) -> t.Iterator[tuple[str, str]]:
    """A database made by database_for_tests(keep=True), and the other bind's."""
    mig_url(request.param)  # skips when the server is missing
    made = []
    number = next(KEPT)
    for name in (f"ftcmigkept{number}", f"ftcmigkept{number}other"):
        if request.param == "sqlite_file":
            made.append(database_for_tests(f"sqlite:///{tmp_path / name}.db", keep=True))
        else:
            base = mig_url(request.param).rsplit("/", 1)[0]
            made.append(database_for_tests(f"{base}/{name}{os.getpid()}", keep=True))
    yield made[0], made[1]
    forget_run(*made)
    for url in made:
        drop_database(url)


class TestReuse:
    def test_a_kept_database_built_from_the_same_scripts_is_reused_without_migrating(
        self, kept: tuple[str, str], migrations: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        url, other = kept
        runs = CountRuns(monkeypatch)
        inner = case(url, other, migrations, test_it=uses_what_only_the_migrations_make)
        assert problems(run(inner)) == []
        assert runs.upgrades == 1
        # A row committed outside the tests shows what happens to the database.
        outside(url, "INSERT INTO mig_author (id, name, score) VALUES (50, 'kept', 1)")

        forget_run(url, other)
        assert problems(run(inner)) == []
        assert runs.upgrades == 1, "the second run migrated"
        assert outside(url, "SELECT name FROM mig_author") == [("kept",)]

        # A changed script (here, a comment) rebuilds the database from empty.
        first = ordered_revisions(migrations)[0][1]
        first.write_text(first.read_text() + "\n# reviewed\n")
        forget_run(url, other)
        assert problems(run(inner)) == []
        assert runs.upgrades == 2
        assert outside(url, "SELECT name FROM mig_author") == []

    def test_the_marker_holds_the_digest_of_the_scripts_and_the_hook(
        self, migrations: Path
    ) -> None:
        from flask_testcase._alembic import Migrations

        app = create_app(directory=migrations)
        found = Migrations(app, db)
        key = ftc_schema.build_key(found, None)
        assert key == ftc_schema.build_key(Migrations(app, db), None)
        assert key != ftc_schema.build_key(found, insert_reference_rows)
        (migrations / "versions" / "notes.sql").write_text("-- read by a revision\n")
        assert ftc_schema.build_key(Migrations(app, db), None) != key
        # Byte-code is not part of the scripts.
        (migrations / "versions" / "__pycache__").mkdir(exist_ok=True)
        (migrations / "versions" / "__pycache__" / "x.pyc").write_bytes(b"\0")
        (migrations / "versions" / "notes.sql").unlink()
        assert ftc_schema.build_key(Migrations(app, db), None) == key

    def test_a_database_flask_testcase_did_not_make_is_upgraded_where_it_is(
        self, migrations: Path, tmp_path: Path
    ) -> None:
        # A SQLite file under the temporary directory: a test database, not ours.
        url = f"sqlite:///{tmp_path / 'theirs.db'}"
        other = f"sqlite:///{tmp_path / 'theirs_other.db'}"
        (_, second), (first_id, _) = (
            ordered_revisions(migrations)[1],
            ordered_revisions(migrations)[0],
        )
        held = second.read_bytes()
        second.unlink()
        assert problems(run(case(url, other, migrations, test_it=lambda self: None))) == []
        outside(url, "INSERT INTO mig_author (id, name, score) VALUES (50, 'theirs', 1)")
        assert outside(url, "SELECT version_num FROM alembic_version") == [(first_id,)]

        second.write_bytes(held)
        forget_run(url, other)
        result = run(case(url, other, migrations, test_it=uses_what_only_the_migrations_make))
        assert problems(result) == []
        # Upgraded from where it was: never emptied.
        assert outside(url, "SELECT name FROM mig_author") == [("theirs",)]
        assert "mig_book_titles" in tables(url)
        forget_run(url, other)


# -- the hook --------------------------------------------------------------------------

HOOK_CALLS: list[str] = []


def insert_reference_rows() -> None:
    HOOK_CALLS.append("called")
    db.session.add(Author(id=100, name="reference", score=1.0))


def failing_hook() -> None:
    raise RuntimeError("no reference rows today")


class TestHook:
    @pytest.fixture(autouse=True)
    def calls(self) -> t.Iterator[list[str]]:
        HOOK_CALLS.clear()
        yield HOOK_CALLS
        HOOK_CALLS.clear()

    def test_the_hook_runs_once_and_every_test_sees_its_rows(
        self, backend: str, migrations: Path, calls: list[str]
    ) -> None:
        url, other = urls(backend, "ftcmighook")

        def test_it(self: TestCase) -> None:
            self.assertEqual(db.session.get(Author, 100).name, "reference")
            self.assertEqual(db.session.scalar(sa.select(sa.func.count()).select_from(Author)), 1)
            db.session.add(Author(name="rolled back", score=2.0))
            db.session.commit()

        forget_run(url, other)
        members = {f"test_{i}": test_it for i in range(3)}
        result = run(case(url, other, migrations, schema_hook=insert_reference_rows, **members))
        assert problems(result) == [] and result.testsRun == 3
        assert calls == ["called"]
        assert outside(url, "SELECT name FROM mig_author") == [("reference",)]

    def test_the_hook_does_not_run_again_on_a_reused_database(
        self, kept: tuple[str, str], migrations: Path, calls: list[str]
    ) -> None:
        url, other = kept
        inner = case(
            url, other, migrations, schema_hook=insert_reference_rows, test_it=lambda self: None
        )
        assert problems(run(inner)) == []
        forget_run(url, other)
        assert problems(run(inner)) == []
        assert calls == ["called"]
        assert outside(url, "SELECT count(*) FROM mig_author") == [(1,)]

    @pytest.mark.parametrize("form", ["function", "staticmethod", "classmethod"])
    def test_a_test_case_may_give_the_hook_in_any_form(
        self, form: str, migrations: Path, calls: list[str]
    ) -> None:
        def as_classmethod(cls: type) -> None:
            assert issubclass(cls, TestCase)
            insert_reference_rows()

        hook = {
            "function": insert_reference_rows,
            "staticmethod": staticmethod(insert_reference_rows),
            "classmethod": classmethod(as_classmethod),
        }[form]

        def test_it(self: TestCase) -> None:
            self.assertEqual(db.session.get(Author, 100).name, "reference")

        result = run(case("sqlite://", "sqlite://", migrations, schema_hook=hook, test_it=test_it))
        assert problems(result) == [] and calls == ["called"]

    def test_a_failing_hook_leaves_nothing_marked_built(
        self, backend: str, migrations: Path
    ) -> None:
        url, other = urls(backend, "ftcmighookfails")
        forget_run(url, other)
        members = {"test_1": lambda self: None, "test_2": lambda self: None}
        result = run(case(url, other, migrations, schema_hook=failing_hook, **members))
        first, second = problems(result)
        assert (
            "flask_testcase.schema.SchemaError: the schema hook test_schema.failing_hook raised"
            " RuntimeError: no reference rows today; the databases are not marked as built"
        ) in first
        assert "failed to build earlier in this run, for Inner.test_1 (see that error)" in second
        if backend != "sqlite_memory":
            assert MARKER_TABLE not in tables(url)

    def test_the_hook_runs_after_create_all_too(self, backend: str, calls: list[str]) -> None:
        url, other = urls(backend, "ftcmighookmodels")

        def test_it(self: TestCase) -> None:
            self.assertEqual(db.session.get(Author, 100).name, "reference")

        inner = case(
            url,
            other,
            None,
            schema_from="models",
            schema_hook=insert_reference_rows,
            test_it=test_it,
        )
        assert problems(run(inner)) == []
        assert calls == ["called"]


# -- failures and bad input ------------------------------------------------------------


def broken_revision(migrations: Path) -> str:
    return add_revision(
        migrations,
        "a_broken_one",
        "op.create_table('mig_partial', sa.Column('id', sa.Integer(), primary_key=True))\n"
        "op.execute('ALTER TABLE mig_nowhere ADD COLUMN x INTEGER')",
        "op.drop_table('mig_partial')",
    )


class TestFailures:
    def test_a_failing_migration_names_its_revision_and_statement_and_is_never_reused(
        self, backend: str, migrations: Path
    ) -> None:
        url, other = urls(backend, "ftcmigbroken")
        revision = broken_revision(migrations)
        forget_run(url, other)
        members = {"test_1": lambda self: None, "test_2": lambda self: None}
        result = run(case(url, other, migrations, **members))
        first, second = problems(result)
        shown = sa.engine.make_url(url).render_as_string(hide_password=True)
        if backend == "mysql":
            shown = shown + "?charset=utf8mb4"
        worker = os.environ.get("PYTEST_XDIST_WORKER")
        if backend == "postgresql" and worker:
            # Under pytest-xdist (this suite's own), the template is built.
            template = shown.replace(f"_{worker}", "_template")
            shown = (
                f"{template}, the template {shown} and the other workers' databases are copied from"
            )
        assert (
            "flask_testcase.schema.MigrationError: Inner.test_1: flask_testcase could not build"
            f" the test schema from the migrations in {migrations}: the upgrade of revision"
            f" {revision} ('a broken one', versions/{revision}_a_broken_one.py) failed on the"
            f" default bind ({shown}): "
        ) in first, first
        assert (
            "\nThe statement: ALTER TABLE mig_nowhere ADD COLUMN x INTEGER\nNothing is marked"
            " as built, so the database is not reused: the next run builds it again."
        ) in first, first
        assert "failed to build earlier in this run, for Inner.test_1 (see that error)" in second
        if backend != "sqlite_memory":
            assert MARKER_TABLE not in tables(url)
        # Fixed, the next run builds it (on MariaDB, over what the failure committed).
        path = migrations / "versions" / f"{revision}_a_broken_one.py"
        path.write_text(
            path.read_text().replace(
                "op.execute('ALTER TABLE mig_nowhere ADD COLUMN x INTEGER')", "pass"
            )
        )
        forget_run(url, other)
        assert problems(run(case(url, other, migrations, test_it=lambda self: None))) == []
        assert "mig_partial" in tables(url)

    def test_the_error_carries_the_revision_statement_and_bind(self, migrations: Path) -> None:
        revision = broken_revision(migrations)
        app = create_app(directory=migrations)
        with (
            pytest.raises(MigrationError) as info,
            app.app_context(),
            database_isolation(db, schema_from="migrations"),
        ):
            pass
        assert info.value.revision == revision
        assert info.value.statement == "ALTER TABLE mig_nowhere ADD COLUMN x INTEGER"
        assert info.value.bind is None
        assert isinstance(info.value, SchemaError)

    def test_no_migrations_directory_says_where_it_looked(self, tmp_path: Path) -> None:
        app = create_app(directory="nowhere")
        root = Path(app.root_path)
        with (
            pytest.raises(MigrationError) as info,
            database_isolation(db, app, schema_from="migrations"),
        ):
            pass
        places = dict.fromkeys([Path.cwd(), root, root.parent])
        looked = ", ".join(str(place / "nowhere") for place in places)
        assert str(info.value) == (
            f"no migrations directory for the app '_migrated': looked for Flask-Migrate's"
            f" directory 'nowhere' (Migrate(app, db, directory=...)) in {looked} and found no"
            " env.py there. Make"
            " one with 'flask db init' (then 'flask db migrate'), or name the directory with"
            " migrations_directory (an absolute path, or one relative to the working"
            " directory)."
        )
        with (
            pytest.raises(MigrationError) as info,
            database_isolation(
                db, app, schema_from="migrations", migrations_directory=tmp_path / "missing"
            ),
        ):
            pass
        missing = tmp_path / "missing"
        assert f"looked for migrations_directory={str(missing)!r} in {missing} and" in str(
            info.value
        )

    def test_an_app_without_flask_migrate_is_told_to_set_it_up(self, migrations: Path) -> None:
        from flask_sqlalchemy import SQLAlchemy

        app = Flask("plain")
        app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite://"
        plain = SQLAlchemy()
        plain.init_app(app)
        with (
            pytest.raises(MigrationError) as info,
            database_isolation(
                plain, app, schema_from="migrations", migrations_directory=migrations
            ),
        ):
            pass
        assert str(info.value).endswith(
            f"the migrations' env.py ({migrations / 'env.py'}) reads"
            " current_app.extensions['migrate'], and the app 'plain' has no Flask-Migrate:"
            " call Migrate(app, db) (or migrate.init_app(app, db)) in create_app()\nNothing"
            " is marked as built, so the database is not reused: the next run builds it again."
        )

    def test_one_database_cannot_get_two_schemas_in_a_run(self, migrations: Path) -> None:
        app = create_app(directory=migrations)
        with database_isolation(db, app):
            pass
        with (
            pytest.raises(SchemaError) as info,
            database_isolation(db, app, schema_from="migrations"),
        ):
            pass
        assert str(info.value) == (
            f"database_isolation() asks for a schema from the migrations in {migrations} (no"
            " hook) on the default bind (sqlite://), whose schema came from create_all() of"
            " the models (no hook) earlier in this run (for database_isolation()). A"
            " database's schema is made once per run: give the test cases that need another"
            " schema a database of their own."
        )

    @pytest.mark.parametrize(
        ("options", "error", "message"),
        [
            (
                {"schema_from": "alembic"},
                ValueError,
                "database_isolation(): schema_from must be 'models' (create_all of the models),"
                " 'migrations' (the app's migrations) or None (no schema), got 'alembic'",
            ),
            (
                {"create_schema": False, "schema_from": "migrations"},
                ValueError,
                "database_isolation(): create_schema=False asks for no schema, and"
                " schema_from='migrations' for one; set only schema_from (None: no schema)",
            ),
            (
                {"create_schema": "yes"},
                TypeError,
                "database_isolation(): create_schema must be True or False, got 'yes'",
            ),
            (
                {"migrations_directory": 42},
                TypeError,
                "database_isolation(): migrations_directory must be a path (str or"
                " os.PathLike), got 42 (int)",
            ),
            (
                {"schema_hook": "myapp:insert_roles"},
                TypeError,
                "database_isolation(): schema_hook must be a function taking no arguments,"
                " got 'myapp:insert_roles' (str)",
            ),
        ],
    )
    def test_bad_options_are_refused_with_the_fix(
        self, options: dict[str, t.Any], error: type[Exception], message: str
    ) -> None:
        app = create_app()
        with pytest.raises(error) as info, database_isolation(db, app, **options):
            pass
        assert str(info.value) == message

    def test_a_test_case_names_itself_in_the_refusal(self) -> None:
        result = run(
            case("sqlite://", "sqlite://", None, schema_from="alembic", test_it=lambda self: None)
        )
        (text,) = problems(result)
        assert "ValueError: Inner.test_it: schema_from must be 'models'" in text

    def test_create_schema_false_still_means_no_schema(self) -> None:
        app = create_app()
        with app.app_context(), database_isolation(db, create_schema=False):
            assert "mig_author" not in sa.inspect(db.session.connection()).get_table_names()


# -- the guard -------------------------------------------------------------------------


class TestGuard:
    @pytest.mark.postgresql
    def test_a_database_not_named_for_tests_is_refused_before_anything_connects(
        self, migrations: Path
    ) -> None:
        require("postgresql")
        # The database does not exist: connecting would fail otherwise.
        url = POSTGRESQL.rsplit("/", 1)[0] + "/shop_nowhere"
        app = create_app(url, directory=migrations)
        with (
            pytest.raises(NotATestDatabaseError) as info,
            database_isolation(db, app, schema_from="migrations"),
        ):
            pass
        assert "refuses to use the database 'shop_nowhere'" in str(info.value)

    def test_an_env_py_connecting_elsewhere_is_refused_before_a_statement(
        self, migrations: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.chdir(tmp_path)
        env = migrations / "env.py"
        env.write_text(
            env.read_text().replace(
                "    connectable = get_engine()\n",
                "    import sqlalchemy\n    connectable = sqlalchemy.create_engine('sqlite:///production.db')\n",
            )
        )
        app = create_app(directory=migrations)
        with (
            pytest.raises(NotATestDatabaseError) as info,
            database_isolation(db, app, schema_from="migrations"),
        ):
            pass
        assert str(info.value) == (
            "flask_testcase refuses to run migrations on 'production.db' (sqlite:///production.db):"
            f" the migrations' env.py ({env}) configured Alembic with a connection to it, and"
            " its name does not mark it as a test database. Make env.py take its engines from"
            " the app (current_app.extensions['migrate'].db, as Flask-Migrate's env.py does)."
        )
        check = sa.create_engine("sqlite:///production.db")
        try:
            assert sa.inspect(check).get_table_names() == []
        finally:
            check.dispose()


# -- PostgreSQL: per-worker databases copied from one template -------------------------


@pytest.mark.postgresql
class TestTemplate:
    def test_each_worker_copies_the_template_the_first_one_migrated(
        self, migrations: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        require("postgresql")
        base = POSTGRESQL.rsplit("/", 1)[0] + f"/tpl{os.getpid()}"
        runs = CountRuns(monkeypatch)
        made: list[str] = []
        timings = []
        try:
            for worker in ("gw0", "gw1"):
                monkeypatch.setenv("PYTEST_XDIST_WORKER", worker)
                url = database_for_tests(base)
                other = database_for_tests(base + "other")
                made += [url, other]
                assert url.endswith(f"/test_tpl{os.getpid()}_{worker}")
                forget_run(url, other)
                started = time.perf_counter()
                result = run(
                    case(url, other, migrations, test_it=uses_what_only_the_migrations_make)
                )
                timings.append(time.perf_counter() - started)
                assert problems(result) == []
            # One migration: the second worker copied the template.
            assert runs.upgrades == 1
            template = f"test_tpl{os.getpid()}_template"
            admin = POSTGRESQL.rsplit("/", 1)[0] + "/postgres"
            (comment,) = outside(
                admin,
                "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = :n",
                n=template,
            )[0]
            assert comment.startswith("flask_testcase schema ")
            assert "mig_book_titles" in tables(made[2])
        finally:
            monkeypatch.delenv("PYTEST_XDIST_WORKER")
            forget_run(*made)
            for url in made:
                drop_database(url)
            for url in list(ftc_schema.templates_built):
                drop_database(url)
                ftc_schema.templates_built.remove(url)

    @staticmethod
    def _workers(
        monkeypatch: pytest.MonkeyPatch, name: str, made: list[str]
    ) -> t.Callable[[str, str], tuple[str, str]]:
        """``worker(id, run id)``: as pytest-xdist's worker ``id`` of the run ``run id``,
        the URLs database_for_tests() gives (and creates) for both binds."""
        base = POSTGRESQL.rsplit("/", 1)[0] + f"/{name}"

        def worker(worker_id: str, run_id: str) -> tuple[str, str]:
            monkeypatch.setenv("PYTEST_XDIST_WORKER", worker_id)
            monkeypatch.setenv("PYTEST_XDIST_TESTRUNUID", run_id)
            url, other = database_for_tests(base), database_for_tests(base + "other")
            made.extend([url, other])
            forget_run(url, other)
            return url, other

        return worker

    @staticmethod
    def _drop(made: list[str]) -> None:
        forget_run(*made)
        for url in made:
            drop_database(url)
        for url in list(ftc_schema.templates_built):
            drop_database(url)
            ftc_schema.templates_built.remove(url)

    @staticmethod
    def _oid(url: str) -> int:
        admin = POSTGRESQL.rsplit("/", 1)[0] + "/postgres"
        name = sa.make_url(url).database
        rows = outside(admin, "SELECT oid FROM pg_database WHERE datname = :n", n=name)
        return int(rows[0][0])

    def test_a_later_worker_of_the_run_is_created_as_a_copy_and_used_as_it_is(
        self, migrations: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        require("postgresql")
        runs = CountRuns(monkeypatch)
        made: list[str] = []
        worker = self._workers(monkeypatch, f"cp{os.getpid()}", made)
        try:
            first = worker("gw0", "run-a")
            # No template yet: the first worker's database is created empty.
            assert tables(first[0]) == set()
            assert (
                problems(run(case(*first, migrations, test_it=uses_what_only_the_migrations_make)))
                == []
            )

            second = worker("gw1", "run-a")
            # The template is built: the next worker's database is a copy of it from
            # the start, before any test...
            assert {"mig_book_titles", "mig_audit", MARKER_TABLE} <= tables(second[0])
            created = self._oid(second[0])
            assert (
                problems(run(case(*second, migrations, test_it=uses_what_only_the_migrations_make)))
                == []
            )
            # ... and used as it is: not dropped and copied again, nothing migrated.
            assert self._oid(second[0]) == created
            assert runs.upgrades == 1
            assert outside(second[0], "SELECT count(*) FROM mig_author") == [(0,)]
        finally:
            self._drop(made)

    def test_a_template_of_another_run_is_copied_by_the_schema_step_only(
        self, migrations: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        require("postgresql")
        runs = CountRuns(monkeypatch)
        made: list[str] = []
        worker = self._workers(monkeypatch, f"cq{os.getpid()}", made)
        try:
            first = worker("gw0", "run-a")
            assert (
                problems(run(case(*first, migrations, test_it=uses_what_only_the_migrations_make)))
                == []
            )

            # A later run (the template kept, or left by an interrupted run): its new
            # worker starts empty, whatever the template holds...
            second = worker("gw1", "run-b")
            assert tables(second[0]) == set()
            assert (
                problems(run(case(*second, migrations, test_it=uses_what_only_the_migrations_make)))
                == []
            )
            # ... and the schema step copies the template, built from the same scripts.
            assert {"mig_book_titles", "mig_audit"} <= tables(second[0])
            assert runs.upgrades == 1
        finally:
            self._drop(made)

    def test_a_copy_is_emptied_for_a_schema_from_the_models(
        self, migrations: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        require("postgresql")
        made: list[str] = []
        worker = self._workers(monkeypatch, f"cr{os.getpid()}", made)
        try:
            first = worker("gw0", "run-a")
            assert (
                problems(run(case(*first, migrations, test_it=uses_what_only_the_migrations_make)))
                == []
            )
            second = worker("gw1", "run-a")
            assert {"mig_book_titles", "alembic_version"} <= tables(second[0])

            def models_only(self: TestCase) -> None:
                self.assertEqual(
                    db.session.scalar(sa.select(sa.func.count()).select_from(Author)), 0
                )

            models = case(*second, None, schema_from="models", test_it=models_only)
            assert problems(run(models)) == []
            # The models' tables, and nothing the migrations made.
            found = tables(second[0])
            assert {"mig_author", "mig_book"} <= found
            assert not found & {"mig_book_titles", "alembic_version", MARKER_TABLE}
        finally:
            self._drop(made)

    def test_pytest_xdist_workers_copy_one_template_which_is_dropped_after_the_run(
        self, pytester: pytest.Pytester, migrations: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        require("postgresql")
        name = f"xd{os.getpid()}"
        base = POSTGRESQL.rsplit("/", 1)[0]
        pytester.makeini(
            f"""
            [pytest]
            schema_from = migrations
            migrations_directory = {migrations}
            """
        )
        pytester.makeconftest(
            f"""
            import pytest
            from _migrated import create_app
            from flask_testcase import database_for_tests

            @pytest.fixture
            def app():
                return create_app(database_for_tests("{base}/{name}"), "sqlite://")
            """
        )
        pytester.makepyfile(
            test_views="""
            import pytest, sqlalchemy as sa

            @pytest.mark.parametrize("i", range(4))
            def test_view(db, i):
                view = sa.text("SELECT count(*) FROM mig_book_titles")
                assert db.session.execute(view).scalar() == 0
            """
        )
        monkeypatch.setenv("PYTHONPATH", TESTS)
        result = pytester.runpytest_subprocess(*PYTEST[3:], "-n", "2", "-p", "xdist")
        result.assert_outcomes(passed=4)
        left = outside(
            base + "/postgres",
            "SELECT datname FROM pg_database WHERE datname LIKE :n",
            n=f"test_{name}%",
        )
        assert left == []


# -- the plugin's ini settings ---------------------------------------------------------


class TestPlugin:
    def test_the_ini_file_takes_the_same_switch(
        self, pytester: pytest.Pytester, migrations: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        pytester.makeini(
            f"""
            [pytest]
            schema_from = migrations
            migrations_directory = {migrations}
            schema_hook = hooks:reference_rows
            """
        )
        pytester.makepyfile(
            hooks="""
            import sqlalchemy as sa
            from _migrated import Author, db

            def reference_rows():
                db.session.add(Author(id=7, name="reference", score=1.0))
            """
        )
        pytester.makeconftest(
            """
            import pytest
            from _migrated import create_app

            @pytest.fixture
            def app():
                return create_app("sqlite://")
            """
        )
        pytester.makepyfile(
            test_it="""
            import sqlalchemy as sa
            from _migrated import Author

            def test_view_and_hook(db):
                assert db.session.get(Author, 7).name == "reference"
                view = sa.text("SELECT count(*) FROM mig_book_titles")
                assert db.session.execute(view).scalar() == 0
            """
        )
        monkeypatch.setenv("PYTHONPATH", TESTS)
        result = pytester.runpytest_subprocess(*PYTEST[3:])
        result.assert_outcomes(passed=1)

    def test_a_conftest_may_choose_in_code_with_the_schema_options_fixture(
        self, pytester: pytest.Pytester, migrations: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        pytester.makeconftest(
            f"""
            import pytest
            from _migrated import Author, create_app, db

            def reference_rows():
                db.session.add(Author(id=8, name="from conftest", score=1.0))

            @pytest.fixture(scope="session")
            def schema_options():
                return {{
                    "schema_from": "migrations",
                    "migrations_directory": {str(migrations)!r},
                    "schema_hook": reference_rows,
                }}

            @pytest.fixture(scope="module")
            def app():
                return create_app("sqlite://")
            """
        )
        pytester.makepyfile(
            test_it="""
            import sqlalchemy as sa
            from _migrated import Author
            from flask_testcase.pytest_plugin import data_fixture

            @data_fixture(scope="module")
            def shared(db):
                return db.session.get(Author, 8).name

            def test_db_and_data_fixtures_get_the_schema(db, shared):
                assert shared == "from conftest"
                view = sa.text("SELECT count(*) FROM mig_book_titles")
                assert db.session.execute(view).scalar() == 0
            """
        )
        monkeypatch.setenv("PYTHONPATH", TESTS)
        result = pytester.runpytest_subprocess(*PYTEST[3:])
        result.assert_outcomes(passed=1)

    def test_a_schema_options_fixture_returning_something_else_is_refused(
        self, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        pytester.makeconftest(
            """
            import pytest
            from _migrated import create_app

            @pytest.fixture(scope="session")
            def schema_options():
                return {"schema": "migrations"}

            @pytest.fixture
            def app():
                return create_app("sqlite://")
            """
        )
        pytester.makepyfile(test_it="def test_it(db):\n    pass\n")
        monkeypatch.setenv("PYTHONPATH", TESTS)
        result = pytester.runpytest_subprocess(*PYTEST[3:])
        result.assert_outcomes(errors=1)
        result.stdout.fnmatch_lines(
            [
                "E*TypeError: the schema_options fixture must return a dict with some of the"
                " keys schema_from, migrations_directory, schema_hook, got {'schema':"
                " 'migrations'}"
            ]
        )

    @pytest.mark.parametrize(
        ("line", "message"),
        [
            (
                "schema_from = alembic",
                "schema_from = 'alembic' in the ini file: use models (create_all of the models),"
                " migrations (the app's migrations) or none",
            ),
            (
                "schema_hook = nowhere_at_all:hook",
                "schema_hook = 'nowhere_at_all:hook' in the ini file cannot be loaded (No module"
                " named 'nowhere_at_all'); write it as 'package.module:function' (or"
                " 'package.module:Class.method').",
            ),
            (
                "schema_hook = os",
                "schema_hook = 'os' in the ini file is not a function; write it as"
                " 'package.module:function'.",
            ),
        ],
    )
    def test_bad_ini_settings_are_usage_errors(
        self, pytester: pytest.Pytester, line: str, message: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        pytester.makeini(f"[pytest]\n{line}\n")
        pytester.makeconftest(
            """
            import pytest
            from _migrated import create_app

            @pytest.fixture
            def app():
                return create_app("sqlite://")
            """
        )
        pytester.makepyfile(test_it="def test_it(db):\n    pass\n")
        monkeypatch.setenv("PYTHONPATH", TESTS)
        result = pytester.runpytest_subprocess(*PYTEST[3:])
        assert message in result.stdout.str() + result.stderr.str()
        assert result.ret != 0


def test_the_schema_step_is_quick_to_skip_once_done(migrations: Path) -> None:
    # Every test checks whether its databases are built: with nothing to do, it
    # must not read the migrations again.
    app = create_app(directory=migrations)
    with database_isolation(db, app, schema_from="migrations"):
        pass
    shutil.rmtree(migrations)
    with database_isolation(db, app, schema_from="migrations"):
        pass
