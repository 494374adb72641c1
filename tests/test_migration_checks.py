"""The migration checks (flask_testcase.migrations), run for real on SQLite (memory and
file), PostgreSQL and MariaDB against migrations made by Flask-Migrate's own commands
(see _migrated.py), each check passing and failing with its exact message, and through
both front doors: MigrationChecks on a TestCase run by a real unittest result, and
TestMigrations under pytester.

The checks work on scratch databases of their own; every test also checks that none is
left behind.
"""

from __future__ import annotations

import os
import typing as t
from pathlib import Path

import pytest
import sqlalchemy as sa
from _commands import PYTEST
from _dbs import POSTGRESQL
from _dbs import SERVERS
from _dbs import backend_params
from _dbs import checking_from_outside
from _dbs import require
from _migrated import add_revision
from _migrated import create_app
from _migrated import db
from _migrated import generated_fixture  # noqa: F401
from _migrated import generated_multidb_fixture  # noqa: F401
from _migrated import mig_url
from _migrated import migrations_fixture  # noqa: F401
from _migrated import ordered_revisions
from flask import Flask
from test_sqlalchemy import problems
from test_sqlalchemy import run

from flask_testcase import MigrationCheckError
from flask_testcase import MigrationChecks
from flask_testcase import NotATestDatabaseError
from flask_testcase import TestCase
from flask_testcase.migrations import check_models_match
from flask_testcase.migrations import check_round_trip
from flask_testcase.migrations import check_single_head
from flask_testcase.migrations import check_upgrade
from flask_testcase.migrations import describe_differences
from flask_testcase.migrations import scratch_name

TESTS = str(Path(__file__).parent)
ALL_CHECKS = (check_single_head, check_upgrade, check_round_trip, check_models_match)


@pytest.fixture(params=backend_params())
def backend(request: pytest.FixtureRequest) -> str:
    mig_url(request.param)  # skips when the server is missing
    return str(request.param)


def app_for(backend: str, directory: Path) -> Flask:
    return create_app(
        mig_url(backend, "ftcmigchecks"), mig_url(backend, "ftcmigchecksother"), directory
    )


def scratch(backend: str, name: str = "ftcmigchecks") -> str:
    """How the scratch database of the test database ``name`` is shown in messages."""
    url = sa.engine.make_url(mig_url(backend, name))
    if backend == "sqlite_memory":
        return "sqlite://"
    if backend == "sqlite_file":
        return "sqlite:///"  # followed by a temporary directory
    shown = url.set(database=scratch_name(url.database or "")).render_as_string(hide_password=True)
    return shown + ("?charset=utf8mb4" if backend == "mysql" else "")


def leftovers(backend: str) -> list[str]:
    """Scratch databases still on the server."""
    if backend not in SERVERS:
        return []
    base = sa.engine.make_url(SERVERS[backend])
    admin = (
        base.set(database="postgres") if backend == "postgresql" else base._replace(database=None)
    )
    engine = sa.create_engine(admin, poolclass=sa.pool.NullPool)
    if backend == "postgresql":
        query = "SELECT datname FROM pg_database WHERE datname LIKE '%%\\_checks'"
    else:
        query = (
            "SELECT schema_name FROM information_schema.schemata"
            " WHERE schema_name LIKE '%%\\_checks'"
        )
    try:
        with checking_from_outside(), engine.connect() as conn:
            found = [row[0] for row in conn.exec_driver_sql(query)]
    finally:
        engine.dispose()
    return [name for name in found if "ftcmigchecks" in name and str(os.getpid()) in name]


def failure(check: t.Callable[..., None], app: Flask, **options: t.Any) -> str:
    with pytest.raises(MigrationCheckError) as info:
        check(app, **options)
    return str(info.value)


def describe(migrations: Path, revision: str) -> str:
    (path,) = [p for r, p in ordered_revisions(migrations) if r == revision]
    doc = path.read_text().split('"""')[1].strip().splitlines()[0]
    return f"{revision} ({doc!r}, versions/{path.name})"


# -- every check passes on sound migrations --------------------------------------------


class TestSoundMigrations:
    def test_every_check_passes_and_leaves_no_scratch_database(
        self, backend: str, migrations: Path
    ) -> None:
        app = app_for(backend, migrations)
        for check in ALL_CHECKS:
            check(app)
        assert leftovers(backend) == []

    def test_every_check_passes_on_flask_db_init_multidb(
        self, backend: str, generated_multidb: Path
    ) -> None:
        app = app_for(backend, generated_multidb)
        for check in ALL_CHECKS:
            check(app)
        assert leftovers(backend) == []


# -- one head --------------------------------------------------------------------------


def add_branch(migrations: Path) -> str:
    """A second head: a revision on the first revision, beside the second."""
    first = ordered_revisions(migrations)[0][0]
    revision = "0b0b0b0b0b0b"
    (migrations / "versions" / f"{revision}_a_branch.py").write_text(
        f'"""a branch\n"""\nrevision = {revision!r}\ndown_revision = {first!r}\n'
        "branch_labels = None\ndepends_on = None\n\n\ndef upgrade():\n    pass\n\n\n"
        "def downgrade():\n    pass\n"
    )
    return revision


class TestSingleHead:
    def test_two_heads_are_each_named_with_the_fix(self, migrations: Path) -> None:
        head = ordered_revisions(migrations)[-1][0]
        described = describe(migrations, head)
        branch = add_branch(migrations)
        names = {head: described, branch: f"{branch} ('a branch', versions/{branch}_a_branch.py)"}
        listing = "\n".join(f"  - {names[revision]}" for revision in sorted(names))
        assert failure(check_single_head, create_app(directory=migrations)) == (
            f"The migrations in {migrations} have 2 heads, and 'flask db upgrade' needs"
            f" one:\n{listing}\nMerge them with 'flask db merge heads'."
        )

    def test_no_revision_at_all_is_a_failure(self, migrations: Path) -> None:
        for path in (migrations / "versions").glob("*.py"):
            path.unlink()
        assert failure(check_single_head, create_app(directory=migrations)) == (
            f"The migrations in {migrations} have no revision: make the first one with"
            " 'flask db migrate'."
        )


# -- upgrade ---------------------------------------------------------------------------


class TestUpgrade:
    def test_a_failing_upgrade_names_the_revision_and_the_statement(
        self, backend: str, migrations: Path
    ) -> None:
        revision = add_revision(
            migrations,
            "a_broken_one",
            "op.execute('ALTER TABLE mig_nowhere ADD COLUMN x INTEGER')",
        )
        message = failure(check_upgrade, app_for(backend, migrations))
        assert message.startswith(
            f"The migrations in {migrations} do not upgrade an empty database: the upgrade of"
            f" revision {describe(migrations, revision)} failed on the default bind"
            f" ({scratch(backend)}"
        ), message
        assert message.endswith("\nThe statement: ALTER TABLE mig_nowhere ADD COLUMN x INTEGER")
        assert leftovers(backend) == []


# -- round trip ------------------------------------------------------------------------


class TestRoundTrip:
    def test_a_downgrade_that_does_not_undo_its_upgrade_is_found(
        self, backend: str, migrations: Path
    ) -> None:
        # The downgrade forgets to take the server default away again.
        (first, _), (second, path) = ordered_revisions(migrations)
        text = path.read_text()
        downgrade = text.index("def downgrade():")
        kept = text[downgrade:].replace("server_default=None, ", 'server_default="0", ')
        path.write_text(text[:downgrade] + kept)
        message = failure(check_round_trip, app_for(backend, migrations))
        lines = message.splitlines()
        assert lines[0] == (
            "Downgrading and upgrading again fails or changes the schema at 1 of 2 revisions"
            f" of the migrations in {migrations}:"
        )
        (finding,) = lines[1:]
        assert finding.startswith(
            f"  - revision {describe(migrations, second)}: the default bind: column"
            " mig_author.score was"
        ), finding
        assert "NOT NULL DEFAULT " in finding
        assert finding.endswith(" after its downgrade"), finding
        assert first not in message
        assert leftovers(backend) == []

    def test_a_failing_downgrade_is_a_finding_and_the_check_goes_on(
        self, backend: str, migrations: Path
    ) -> None:
        (first, path), (second, _) = ordered_revisions(migrations)
        text = path.read_text()
        path.write_text(
            text.replace(
                "def downgrade():\n", "def downgrade():\n    raise RuntimeError('no way back')\n"
            )
        )
        message = failure(check_round_trip, app_for(backend, migrations))
        assert message.startswith(
            "Downgrading and upgrading again fails or changes the schema at 1 of 2 revisions of"
            f" the migrations in {migrations}:\n  - revision {describe(migrations, first)}: the"
            f" downgrade failed: the downgrade of revision {describe(migrations, first)} failed"
            f" on the default bind ({scratch(backend)}"
        ), message
        assert "): RuntimeError: no way back" in message
        # The second revision was checked too, and passed.
        assert f"revision {describe(migrations, second)}" not in message
        assert leftovers(backend) == []

    def test_dropping_an_index_a_foreign_key_needs_fails_on_mariadb_only(
        self, backend: str, migrations: Path
    ) -> None:
        # What three of microblog's nine downgrades do on MariaDB: an autogenerated
        # revision makes a table with a foreign key and an index on its column (which
        # InnoDB then uses for the key), and its downgrade drops the index first.
        revision = add_revision(
            migrations,
            "loans",
            "op.create_table('mig_loan', sa.Column('id', sa.Integer(), nullable=False),"
            " sa.Column('book_id', sa.Integer(), nullable=False),"
            " sa.ForeignKeyConstraint(['book_id'], ['mig_book.id']),"
            " sa.PrimaryKeyConstraint('id'))\n"
            "with op.batch_alter_table('mig_loan', schema=None) as batch_op:\n"
            "    batch_op.create_index(batch_op.f('ix_mig_loan_book_id'), ['book_id'])",
            "with op.batch_alter_table('mig_loan', schema=None) as batch_op:\n"
            "    batch_op.drop_index(batch_op.f('ix_mig_loan_book_id'))\n"
            "op.drop_table('mig_loan')",
        )
        app = app_for(backend, migrations)
        if backend != "mysql":
            check_round_trip(app)
            return
        message = failure(check_round_trip, app)
        assert message.startswith(
            "Downgrading and upgrading again fails or changes the schema at 1 of 3 revisions of"
            f" the migrations in {migrations}:\n  - revision {describe(migrations, revision)}:"
            f" the downgrade failed: the downgrade of revision {describe(migrations, revision)}"
            f" failed on the default bind ({scratch(backend)}): OperationalError: (1553,"
            " \"Cannot drop index 'ix_mig_loan_book_id': needed in a foreign key constraint\")"
            "\nThe statement: DROP INDEX ix_mig_loan_book_id ON mig_loan"
        ), message
        assert leftovers(backend) == []


# -- models match ----------------------------------------------------------------------


def _sqlalchemy_version() -> tuple[int, int]:
    major, minor = sa.__version__.split(".")[:2]
    return int(major), int(minor)


class TestModelsMatch:
    def test_float_in_the_migration_and_double_in_the_models_is_made_obvious(
        self, backend: str, migrations: Path
    ) -> None:
        for _, path in ordered_revisions(migrations):
            path.write_text(path.read_text().replace("sa.Double()", "sa.Float()"))
        app = app_for(backend, migrations)
        if backend == "postgresql" or _sqlalchemy_version() < (2, 1):
            # FLOAT is DOUBLE PRECISION on PostgreSQL, and SQLAlchemy 2.0 (Python 3.9's
            # newest) maps Mapped[float] to Float, as the migration now does: nothing
            # differs.
            check_models_match(app)
            return
        database = "FLOAT (FLOAT)"
        assert failure(check_models_match, app) == (
            f"The models and the schema the migrations in {migrations} build differ; 'flask"
            " db migrate' would put this in a new migration. On the default bind"
            f" ({'sqlite' if backend.startswith('sqlite') else 'mysql'}):\n  - column"
            f" mig_author.score: the migrated database has {database}, the models DOUBLE"
            " (Double). SQLAlchemy 2.1 maps Mapped[float] to Double where older releases (and"
            " this migration) made Float: declare the column as mapped_column(Float) in the"
            " model, or make a migration that alters it to Double.\nMake a migration for them"
            " (flask db migrate), or change the models."
        )
        assert leftovers(backend) == []

    def test_each_difference_is_listed_in_words(self, backend: str, migrations: Path) -> None:
        (_, path), _ = ordered_revisions(migrations)
        text = path.read_text()
        text = text.replace(
            "    sa.Column('name', sa.String(length=50), nullable=False),",
            "    sa.Column('name', sa.String(length=50), nullable=True),",
        )
        index = "batch_op.create_index(batch_op.f('ix_mig_book_title'), ['title'], unique=False)"
        text = text.replace(f"        {index}\n", "        pass\n")
        text = text.replace(
            "        batch_op.drop_index(batch_op.f('ix_mig_book_title'))\n", "        pass\n"
        )
        text = text.replace(
            "def upgrade():\n",
            "def upgrade():\n    op.create_table('mig_legacy', sa.Column('id', sa.Integer(),"
            " primary_key=True))\n",
        )
        path.write_text(text)
        message = failure(check_models_match, app_for(backend, migrations))
        assert message.splitlines()[1:-1] == [
            "  - table mig_legacy is in the migrated database, not in the models",
            "  - column mig_author.name: nullable in the migrated database, NOT NULL in the models",
            "  - index 'ix_mig_book_title' on mig_book (title) is in the models, not in the"
            " migrated database",
        ], message
        assert leftovers(backend) == []


class TestDifferencesInWords:
    """describe_differences() for each kind of difference Alembic reports."""

    def test_every_kind(self) -> None:
        metadata = sa.MetaData()
        parent = sa.Table("parent", metadata, sa.Column("id", sa.Integer, primary_key=True))
        child = sa.Table(
            "child",
            metadata,
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("parent_id", sa.Integer),
            sa.Column("code", sa.String(10)),
            comment="children",
        )
        fk = sa.ForeignKeyConstraint(["parent_id"], ["parent.id"], name="fk_child_parent")
        child.append_constraint(fk)
        unique = sa.UniqueConstraint("code", name="uq_child_code")
        child.append_constraint(unique)
        index = sa.Index("ix_child_code", child.c.code, unique=True)
        dialect = sa.create_engine("sqlite://").dialect
        diffs = [
            ("add_table", parent),
            ("remove_column", None, "child", sa.Column("old", sa.Integer)),
            ("add_column", None, "child", sa.Column("new", sa.String(5))),
            ("add_index", index),
            ("remove_constraint", unique),
            ("add_fk", fk),
            ("remove_fk", fk),
            ("add_table_comment", child),
            [
                ("modify_type", None, "child", "code", {}, sa.String(5), sa.String(10)),
                ("modify_nullable", None, "child", "code", {}, False, True),
                ("modify_default", None, "child", "code", {}, None, sa.DefaultClause("x")),
                ("modify_comment", None, "child", "code", {}, None, "a code"),
            ],
            ("something_new", "child"),
        ]
        assert describe_differences(diffs, dialect) == [
            "table parent is in the models, not in the migrated database",
            "column child.old (INTEGER (Integer)) is in the migrated database, not in the models",
            "column child.new (VARCHAR(5) (String)) is in the models, not in the migrated database",
            "unique index 'ix_child_code' on child (code) is in the models, not in the migrated"
            " database",
            "unique constraint 'uq_child_code' on child (code) is in the migrated database, not"
            " in the models",
            "foreign key 'fk_child_parent' on child (parent_id) referencing parent (id) is in the"
            " models, not in the migrated database",
            "foreign key 'fk_child_parent' on child (parent_id) referencing parent (id) is in the"
            " migrated database, not in the models",
            "table child: the comment differs (the models say 'children')",
            "column child.code: the migrated database has VARCHAR(5) (String), the models"
            " VARCHAR(10) (String).",
            "column child.code: NOT NULL in the migrated database, nullable in the models",
            "column child.code: no server default in the migrated database, server default 'x'"
            " in the models",
            "column child.code: comment None in the migrated database, 'a code' in the models",
            "('something_new', 'child')",
        ]

    def test_double_in_the_database_and_float_in_the_models(self) -> None:
        dialect = sa.create_engine("sqlite://").dialect
        diffs = [[("modify_type", None, "t", "x", {}, sa.Double(), sa.Float())]]
        assert describe_differences(diffs, dialect) == [
            "column t.x: the migrated database has DOUBLE (Double), the models FLOAT (Float)."
            " The model says Float (single precision where the database tells them apart)."
        ]


# -- the guard and names ---------------------------------------------------------------


class TestScratchDatabases:
    @pytest.mark.parametrize(
        ("name", "worker", "expected"),
        [
            ("test_shop", "", "test_shop_checks"),
            ("test-shop", "", "test-shop_checks"),
            ("shop_test", "", "test_shop_test_checks"),
            ("shop", "", "test_shop_checks"),
            ("test_shop", "gw1", "test_shop_gw1_checks"),
            ("test_shop_gw1", "gw1", "test_shop_gw1_checks"),
        ],
    )
    def test_the_scratch_database_is_named_for_tests_and_the_worker(
        self, name: str, worker: str, expected: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("PYTEST_XDIST_WORKER", worker)
        assert scratch_name(name) == expected

    @pytest.mark.postgresql
    def test_an_app_whose_databases_are_not_test_databases_is_refused(
        self, migrations: Path
    ) -> None:
        require("postgresql")
        url = POSTGRESQL.rsplit("/", 1)[0] + "/shop_nowhere"
        shown = sa.engine.make_url(url).render_as_string(hide_password=True)
        with pytest.raises(NotATestDatabaseError) as info:
            check_upgrade(create_app(url, directory=migrations))
        assert str(info.value) == (
            f"flask_testcase refuses to check migrations beside 'shop_nowhere' ({shown}, the"
            " default bind): it is not a test database, and the checks make their scratch"
            " databases on its server. Point the testing config at test databases (e.g. with"
            " flask_testcase.database_for_tests(url)), or pass allow_any_database=True."
        )

    def test_the_checks_need_the_apps_flask_sqlalchemy(self, migrations: Path) -> None:
        app = Flask("bare")
        with pytest.raises(ValueError) as info:
            check_upgrade(app, directory=migrations)
        assert str(info.value) == (
            "the migration checks need the app's Flask-SQLAlchemy, and the app 'bare' has none:"
            " call db.init_app(app) in create_app()"
        )


# -- the front doors -------------------------------------------------------------------


def checks_case(directory: Path, url: str = "sqlite://") -> type[TestCase]:
    """MigrationChecks over a base test case of the app's, as a user writes it."""

    def create(self: TestCase) -> Flask:
        return create_app(url, "sqlite://", directory)

    base = type("AppTestCase", (TestCase,), {"create_app": create, "db": db})
    return type("MigrationTests", (MigrationChecks, base), {"migrations_directory": directory})


class TestFrontDoors:
    def test_migration_checks_are_four_tests_of_a_test_case(self, migrations: Path) -> None:
        result = run(checks_case(migrations))
        assert problems(result) == [] and result.testsRun == 4

    def test_a_failing_check_fails_its_test_with_the_message(self, migrations: Path) -> None:
        branch = add_branch(migrations)
        result = run(checks_case(migrations))
        assert result.testsRun == 4 and result.errors == []
        ((test, text),) = result.failures
        assert test.id().endswith("test_migrations_have_one_head")
        assert f"AssertionError: The migrations in {migrations} have 2 heads" in text
        assert branch in text
        # The traceback points at the test, not into flask_testcase.
        assert "flask_testcase/migrations.py" not in text

    def test_the_mixin_leaves_the_test_databases_alone(self, migrations: Path) -> None:
        # db = None on MigrationChecks: no isolation, no schema step for the checks.
        from flask_testcase import schema as ftc_schema

        before = len(ftc_schema._built)
        result = run(checks_case(migrations, url=mig_url("sqlite_file", "ftcmigmixin")))
        assert problems(result) == []
        assert len(ftc_schema._built) == before

    def test_test_migrations_are_four_pytest_tests(
        self, pytester: pytest.Pytester, migrations: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        self._project(pytester, migrations, monkeypatch)
        result = pytester.runpytest_subprocess(*PYTEST[3:], "-v")
        result.assert_outcomes(passed=4)
        result.stdout.fnmatch_lines(["*TestMigrations::test_models_match_the_migrations PASSED*"])

    def test_a_failing_pytest_check_shows_the_message(
        self, pytester: pytest.Pytester, migrations: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        add_branch(migrations)
        self._project(pytester, migrations, monkeypatch)
        result = pytester.runpytest_subprocess(*PYTEST[3:])
        result.assert_outcomes(passed=3, failed=1)
        result.stdout.fnmatch_lines(
            [
                f"E*MigrationCheckError: The migrations in {migrations} have 2 heads, and 'flask db"
                " upgrade' needs one:",
                "*Merge them with 'flask db merge heads'.",
            ]
        )

    def _project(
        self, pytester: pytest.Pytester, migrations: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        pytester.makeini(f"[pytest]\nmigrations_directory = {migrations}\n")
        pytester.makeconftest(
            """
            import pytest
            from _migrated import create_app

            @pytest.fixture
            def app():
                return create_app("sqlite://")
            """
        )
        enable = "from flask_testcase.pytest_plugin import TestMigrations  # noqa: F401\n"
        pytester.makepyfile(test_migrations=enable)
        monkeypatch.setenv("PYTHONPATH", TESTS)
