"""The app the migration tests build their schema for, and its migrations.

:func:`make_migrations` makes a real migrations directory with Flask-Migrate's own
commands (``init``, ``migrate``, ``upgrade``, ``revision``: the functions behind
``flask db ...``) in a child process, then writes by hand what autogenerate cannot: a
view, a trigger (per backend) and a server default the models do not declare, so that
only the migrations make them. It runs once per test session (about 1.5 seconds per
directory), so the scripts always come from the installed Flask-Migrate and Alembic;
tests copy the result and edit the copy.

The models: ``mig_author`` (whose ``score`` is ``Mapped[float]``, ``Double`` on
SQLAlchemy 2.1), ``mig_book`` (a foreign key to it, an index), ``mig_audit`` (rows the
trigger writes) on the default bind, and ``mig_note`` on the bind ``other``.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import typing as t
from pathlib import Path

import pytest
import sqlalchemy as sa
from _dbs import SQLITE_DIR
from _dbs import checking_from_outside
from _dbs import url_for
from flask import Flask
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from flask_testcase import schema as ftc_schema
from flask_testcase.isolation._registry import databases as run_databases

db = SQLAlchemy()
migrate = Migrate()


class Author(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "mig_author"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(50))
    score: Mapped[float]


class Book(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "mig_book"
    id: Mapped[int] = mapped_column(primary_key=True)
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("mig_author.id"))
    title: Mapped[str] = mapped_column(sa.String(100), index=True)


class Audit(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "mig_audit"
    id: Mapped[int] = mapped_column(primary_key=True)
    book_id: Mapped[int]


class Note(db.Model):  # type: ignore[name-defined,misc]
    __bind_key__ = "other"
    __tablename__ = "mig_note"
    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(sa.String(50))


def create_app(
    url: str = "sqlite://", other: str = "sqlite://", directory: object = "migrations"
) -> Flask:
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = url
    app.config["SQLALCHEMY_BINDS"] = {"other": other}
    db.init_app(app)
    migrate.init_app(app, db, directory=str(directory))
    return app


def create_generator() -> Flask:
    """The app ``flask db`` commands run with, from the environment."""
    return create_app(os.environ["MIGRATED_URL"], os.environ["MIGRATED_OTHER"])


# Written into the revision 'flask db revision' makes: per backend, since triggers are.
HAND_WRITTEN = """
TRIGGERS = {
    "sqlite": [
        "CREATE TRIGGER mig_book_audit AFTER INSERT ON mig_book BEGIN"
        " INSERT INTO mig_audit (book_id) VALUES (NEW.id); END"
    ],
    "postgresql": [
        "CREATE FUNCTION mig_book_audit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
        " INSERT INTO mig_audit (book_id) VALUES (NEW.id); RETURN NEW; END $$",
        "CREATE TRIGGER mig_book_audit AFTER INSERT ON mig_book FOR EACH ROW"
        " EXECUTE FUNCTION mig_book_audit()",
    ],
    "mysql": [
        "CREATE TRIGGER mig_book_audit AFTER INSERT ON mig_book FOR EACH ROW"
        " INSERT INTO mig_audit (book_id) VALUES (NEW.id)"
    ],
}
DROP_TRIGGERS = {
    "sqlite": ["DROP TRIGGER mig_book_audit"],
    "postgresql": ["DROP TRIGGER mig_book_audit ON mig_book", "DROP FUNCTION mig_book_audit()"],
    "mysql": ["DROP TRIGGER mig_book_audit"],
}


def upgrade():
    # A server default the model does not declare: create_all would not make it.
    with op.batch_alter_table("mig_author") as batch:
        batch.alter_column(
            "score", server_default="0", existing_type=sa.Double(), existing_nullable=False
        )
    op.execute(
        "CREATE VIEW mig_book_titles AS SELECT mig_book.title, mig_author.name FROM mig_book"
        " JOIN mig_author ON mig_author.id = mig_book.author_id"
    )
    for statement in TRIGGERS[op.get_bind().dialect.name]:
        op.execute(statement)


def downgrade():
    for statement in DROP_TRIGGERS[op.get_bind().dialect.name]:
        op.execute(statement)
    op.execute("DROP VIEW mig_book_titles")
    with op.batch_alter_table("mig_author") as batch:
        batch.alter_column(
            "score", server_default=None, existing_type=sa.Double(), existing_nullable=False
        )
"""


def _generate(directory: Path, multidb: bool) -> None:
    """In the child process: Flask-Migrate's commands, through its Python API."""
    import flask_migrate

    app = create_generator()
    target = str(directory)
    with app.app_context():
        flask_migrate.init(target, multidb=multidb)
        flask_migrate.migrate(target, message="authors, books and audits")
        if multidb:
            return
        flask_migrate.upgrade(target)
        flask_migrate.revision(target, message="view, trigger and a server default")
    (second,) = [
        path for path in (directory / "versions").glob("*.py") if "view_trigger" in path.name
    ]
    text = second.read_text()
    start = text.index("def upgrade():")
    second.write_text(text[:start] + HAND_WRITTEN.lstrip())


def make_migrations(directory: Path, *, multidb: bool = False) -> Path:
    """Make the migrations in ``directory`` (which must not exist) with Flask-Migrate's
    commands (``init``, with ``multidb``: one per bind; ``migrate``: the tables; for the
    single-database one ``upgrade`` and ``revision``, filled by hand: view, trigger,
    default), in a child process: their logging set-up would disable this process's
    loggers."""
    work = directory.parent / f"{directory.name}-generating"
    work.mkdir()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(
            [str(Path(__file__).parent), os.environ.get("PYTHONPATH", "")]
        ),
        "MIGRATED_URL": f"sqlite:///{work / 'default.db'}",
        "MIGRATED_OTHER": f"sqlite:///{work / 'other.db'}",
    }
    command = [
        sys.executable,
        "-m",
        "_migrated",
        str(directory),
        *(["--multidb"] if multidb else []),
    ]
    proc = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 0, f"{' '.join(command)}:\n{proc.stdout}{proc.stderr}"
    assert (directory / "env.py").is_file(), proc.stdout + proc.stderr
    shutil.rmtree(work)
    return directory


def revision_files(directory: Path) -> dict[str, Path]:
    """The revision files by revision id."""
    found = {}
    for path in (directory / "versions").glob("*.py"):
        for line in path.read_text().splitlines():
            if line.startswith("revision = "):
                found[line.split("=", 1)[1].strip().strip("'\"")] = path
    return found


def ordered_revisions(directory: Path) -> list[tuple[str, Path]]:
    """(revision, file), the first revision first."""
    files = revision_files(directory)
    down = {}
    for revision, path in files.items():
        for line in path.read_text().splitlines():
            if line.startswith("down_revision = "):
                value = line.split("=", 1)[1].strip().strip("'\"")
                down[revision] = None if value == "None" else value
    order: list[tuple[str, Path]] = []
    current = None
    while len(order) < len(files):
        (revision,) = [r for r, d in down.items() if d == current]
        order.append((revision, files[revision]))
        current = revision
    return order


if __name__ == "__main__":
    _generate(Path(sys.argv[1]), "--multidb" in sys.argv[2:])


# -- fixtures and helpers shared by test_schema.py and test_migration_checks.py ----------
# (Test modules import the fixtures by their function names, *_fixture.)


@pytest.fixture(scope="session", name="generated")
def generated_fixture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The single-database migrations, made once per session."""
    return make_migrations(tmp_path_factory.mktemp("generated") / "migrations")


@pytest.fixture(scope="session", name="generated_multidb")
def generated_multidb_fixture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The migrations of 'flask db init --multidb', made once per session."""
    return make_migrations(tmp_path_factory.mktemp("generated") / "multidb", multidb=True)


@pytest.fixture(name="migrations")
def migrations_fixture(generated: Path, tmp_path: Path) -> Path:
    """A copy of the generated migrations that the test may edit."""
    return Path(shutil.copytree(generated, tmp_path / "migrations"))


@functools.cache
def mig_url(backend: str, name: str = "ftcmig") -> str:
    """The test database ``name`` on ``backend``; made by database_for_tests() (also the
    SQLite file), so that a stale one is emptied and rebuilt."""
    from flask_testcase import database_for_tests

    if backend == "sqlite_memory":
        return "sqlite://"
    if backend == "sqlite_file":
        return database_for_tests(f"sqlite:///{os.path.join(SQLITE_DIR, name)}.db")
    return url_for(backend, name)


def forget_run(*urls: str) -> None:
    """As if a new test run began for this module's ``db`` (its in-memory databases and
    the ``ftcmig*`` ones) and for ``urls``: the run's engines for them are disposed, and
    what the schema step recorded is forgotten."""
    for index, database in list(run_databases.items()):
        name = index[0]
        ours = index[1] is db or "ftcmig" in name
        if ours or any(name == u or name.startswith(u + "?") for u in urls):
            del run_databases[index]
            ftc_schema._built.pop(database.engine, None)
            database.engine.dispose()


class CountRuns:
    """Counts the runs of env.py (each a migration of the databases)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        from flask_testcase import _alembic

        self.calls: list[dict[t.Any, tuple[t.Any, ...]]] = []
        original = _alembic.Migrations.run

        def run(migrations: t.Any, targets: t.Any, **kwargs: t.Any) -> t.Any:
            self.calls.append({key: target.work for key, target in targets.items()})
            return original(migrations, targets, **kwargs)

        monkeypatch.setattr(_alembic.Migrations, "run", run)

    @property
    def upgrades(self) -> int:
        return sum(1 for call in self.calls if any(w[0] == "upgrade" for w in call.values()))


def outside(url: str, sql: str, **params: t.Any) -> t.Any:
    """Run ``sql`` on a brand-new connection (the run's one for in-memory SQLite) and
    commit; the rows, for a SELECT."""
    if url == "sqlite://":
        engine = run_databases[(url, db, None)].engine
    else:
        engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with checking_from_outside(), engine.begin() as conn:
            result = conn.execute(sa.text(sql), params)
            return result.all() if result.returns_rows else None
    finally:
        if url != "sqlite://":
            engine.dispose()


def tables(url: str) -> set[str]:
    """The tables and views of the database at ``url``, seen from outside."""
    if url == "sqlite://":
        rows = outside(url, "SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")
        return {row[0] for row in rows}
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            found = sa.inspect(conn)
            return set(found.get_table_names()) | set(found.get_view_names())
    finally:
        engine.dispose()


def add_revision(
    directory: Path, name: str, upgrade: str, downgrade: str = "pass", message: str = ""
) -> str:
    """Write a revision after the current head; its id."""
    head = ordered_revisions(directory)[-1][0]
    revision = f"{abs(hash((name, str(directory)))) % 10**12:012x}"
    (directory / "versions" / f"{revision}_{name}.py").write_text(
        f'"""{message or name.replace("_", " ")}\n\nRevision ID: {revision}\nRevises: {head}\n"""\n'
        "from alembic import op\nimport sqlalchemy as sa\n\n"
        f"revision = {revision!r}\ndown_revision = {head!r}\nbranch_labels = None\n"
        "depends_on = None\n\n\n"
        f"def upgrade():\n{_indent(upgrade)}\n\n\ndef downgrade():\n{_indent(downgrade)}\n"
    )
    return revision


def _indent(body: str) -> str:
    return "\n".join("    " + line for line in body.strip().splitlines())
