"""Checks that an app's migrations are sound, each on scratch databases of its own.

Four checks, as functions (each raises :class:`MigrationCheckError`, an
``AssertionError``, whose message says what is wrong in words) and as tests to
enable in one line: :class:`MigrationChecks` for a :class:`~flask_testcase.TestCase`,
``flask_testcase.pytest_plugin.TestMigrations`` for pytest.

- :func:`check_single_head`: one head revision (two heads are usually a merge left
  undone, which ``flask db upgrade`` refuses in production);
- :func:`check_upgrade`: an empty database upgrades to the heads;
- :func:`check_round_trip`: for each revision, its downgrade undoes its upgrade, and
  upgrading again gives the same schema (tables, columns, types, defaults, keys,
  indexes, constraints, views, triggers, sequences, functions); a downgrade that
  fails is a finding naming the revision, and the check goes on with the next one;
- :func:`check_models_match`: Alembic's autogenerate comparison of the models with the
  migrated schema finds nothing (what ``flask db check`` checks, with every
  difference listed).

The checks run the app's own ``env.py`` with its options, on every bind it covers,
against **scratch databases** made beside the app's test databases for the check and
dropped after it: on the same server (a throwaway one included), named for tests
(``test_shop_checks``, with the pytest-xdist worker's suffix), an in-memory database
for in-memory SQLite. The test databases themselves are never touched, so the checks
may run in the same run as the tests, in any order. An app whose databases are not
test databases is refused unless ``allow_any_database`` is given.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import shutil
import tempfile
import typing as t

from ._alembic import Migrations
from ._alembic import Target
from ._alembic import bind_name
from ._testnames import sqlite_path
from .databases import NotATestDatabaseError
from .databases import is_test_database
from .schema import MARKER_TABLE
from .schema import MigrationError

if t.TYPE_CHECKING:
    from collections.abc import Iterator

    import flask
    from alembic.script import Script
    from sqlalchemy.engine import URL
    from sqlalchemy.engine import Connection
    from sqlalchemy.engine import Engine

    from ._alembic import Outcome

__all__ = [
    "MigrationCheckError",
    "MigrationChecks",
    "check_models_match",
    "check_round_trip",
    "check_single_head",
    "check_upgrade",
]

# Hides this module's frames from unittest tracebacks, so a failure points at the test.
__unittest = True


class MigrationCheckError(AssertionError):
    """A migration check failed; the message lists what it found."""


def _app_db(app: flask.Flask, db: t.Any) -> t.Any:
    if db is not None:
        return db
    found = app.extensions.get("sqlalchemy")
    if found is None:
        raise ValueError(
            f"the migration checks need the app's Flask-SQLAlchemy, and the app {app.name!r}"
            " has none: call db.init_app(app) in create_app()"
        )
    return found


# -- scratch databases -----------------------------------------------------------------


def scratch_name(name: str) -> str:
    """The scratch database's name for the test database ``name``: marked for tests,
    with the pytest-xdist worker's suffix when ``name`` has none."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if worker and not name.endswith(f"_{worker}"):
        name = f"{name}_{worker}"
    if re.match(r"test(?:$|[_\-])", name, re.IGNORECASE):
        return f"{name}_checks"
    return f"test_{name}_checks"


class _Scratch:
    """Empty databases, one per bind of the app, beside its test databases; made for
    one check, dropped after it."""

    def __init__(self, app: flask.Flask, db: t.Any, allow_any_database: bool) -> None:
        from . import _internals

        engines = _internals.app_engines(db, app)
        if engines is None:
            raise ValueError(
                f"the app {app.name!r} is not set up with this Flask-SQLAlchemy: call"
                " db.init_app(app) in create_app()"
            )
        self.urls: dict[str | None, URL] = {}
        self.engines: dict[str | None, Engine] = {}
        #: Tables left out of snapshots: Alembic's version tables (env.py may name
        #: its own) and our marker.
        self.bookkeeping = {"alembic_version", MARKER_TABLE}
        self._directory: str | None = None
        for key, engine in engines.items():
            url = engine.url
            if not allow_any_database and not is_test_database(url):
                raise NotATestDatabaseError(
                    f"flask_testcase refuses to check migrations beside {url.database!r}"
                    f" ({url.render_as_string(hide_password=True)}, {bind_name(key)}): it"
                    " is not a test database, and the checks make their scratch databases"
                    " on its server. Point the testing config at test databases (e.g."
                    " with flask_testcase.database_for_tests(url)), or pass"
                    " allow_any_database=True."
                )
            self.urls[key] = self._scratch_url(url)

    def _scratch_url(self, url: URL) -> URL:
        if url.get_backend_name() == "sqlite":
            path = sqlite_path(url)
            if path is None:
                return url.set(database="")
            if self._directory is None:
                self._directory = tempfile.mkdtemp(prefix="ftc-checks-")
            stem = os.path.splitext(os.path.basename(path))[0]
            return url.set(database=os.path.join(self._directory, f"{stem}_checks.db"))
        name = scratch_name(url.database or "")
        if len(name.encode()) > 63:
            raise ValueError(
                f"the scratch database name {name!r} for the migration checks is longer than"
                " the 63 bytes PostgreSQL and MySQL allow; use a shorter test database name"
            )
        return url.set(database=name)

    def __enter__(self) -> _Scratch:
        for key in self.urls:
            self._make(key)
        return self

    def __exit__(self, *exc_info: t.Any) -> None:
        from .databases import drop_database

        for key, url in self.urls.items():
            engine = self.engines.pop(key, None)
            if engine is not None:
                engine.dispose()
            if url.get_backend_name() != "sqlite":
                drop_database(url)
        if self._directory is not None:
            shutil.rmtree(self._directory, ignore_errors=True)

    def _make(self, key: str | None) -> None:
        from sqlalchemy import create_engine
        from sqlalchemy.pool import NullPool
        from sqlalchemy.pool import StaticPool

        from .databases import _create

        url = self.urls[key]
        old = self.engines.pop(key, None)
        if old is not None:
            old.dispose()
        if url.get_backend_name() == "sqlite" and sqlite_path(url) is None:
            self.engines[key] = create_engine(url, poolclass=StaticPool)
            return
        _create(url, keep=False)
        self.engines[key] = create_engine(url, poolclass=NullPool)

    def rebuild(self) -> None:
        """Every scratch database empty again."""
        for key in self.urls:
            self._make(key)

    def run(self, migrations: Migrations, work: tuple[t.Any, ...]) -> Outcome:
        """Run ``env.py`` with ``work`` on every bind, in a transaction per database
        committed when it worked."""
        from sqlalchemy import create_engine
        from sqlalchemy.pool import StaticPool

        from .schema import _begin

        with contextlib.ExitStack() as stack:
            targets: dict[str | None, Target] = {}
            for key, engine in self.engines.items():
                conn = stack.enter_context(engine.connect())
                _begin(conn)
                if sqlite_path(engine.url) is None and engine.url.get_backend_name() == "sqlite":
                    decoy = create_engine("sqlite://", poolclass=StaticPool)
                    stack.callback(decoy.dispose)
                else:
                    decoy = engine
                targets[key] = Target(conn, decoy, work)
            try:
                outcome = migrations.run(targets, allow_any_database=True)
            except BaseException:
                for target in targets.values():
                    target.connection.rollback()
                raise
            for target in targets.values():
                target.connection.commit()
            for options in outcome.options.values():
                self.bookkeeping.add(str(options.get("version_table") or "alembic_version"))
            return outcome

    def snapshot(self) -> dict[str, str]:
        """Everything the schema of every scratch database has, in words."""
        found: dict[str, str] = {}
        several = len(self.engines) > 1
        for key, engine in self.engines.items():
            with engine.connect() as conn:
                for thing, description in _snapshot(conn, self.bookkeeping).items():
                    found[f"{bind_name(key)}: {thing}" if several else thing] = description
                conn.rollback()
        return found


@contextlib.contextmanager
def _checking(
    app: flask.Flask, db: t.Any, directory: str | os.PathLike[str] | None, allow_any: bool
) -> Iterator[tuple[Migrations, _Scratch]]:
    db = _app_db(app, db)
    migrations = Migrations(app, db, directory)
    with _Scratch(app, db, allow_any) as scratch:
        yield migrations, scratch


# -- the schema in words ---------------------------------------------------------------


def _type(value: t.Any, conn: Connection) -> str:
    try:
        return str(value.compile(dialect=conn.dialect))
    except Exception:
        return repr(value)


def _squeeze(text: t.Any) -> str:
    return " ".join(str(text).split())


def _columns(names: t.Any) -> str:
    return f"({', '.join(str(n) for n in names or ())})"


def _snapshot(conn: Connection, skipped: t.Container[str]) -> dict[str, str]:
    """The schema ``conn`` sees (its default schema), one entry per thing; the tables
    in ``skipped`` left out."""
    from sqlalchemy import inspect

    found = inspect(conn)
    items: dict[str, str] = {}

    def optional(method: t.Callable[[], t.Any]) -> t.Any:
        try:
            return method()
        except NotImplementedError:
            return []

    for table in sorted(found.get_table_names()):
        if table in skipped:
            continue
        items[f"table {table}"] = "present"
        for column in found.get_columns(table):
            text = _type(column["type"], conn)
            text += " NULL" if column.get("nullable", True) else " NOT NULL"
            if column.get("default") is not None:
                text += f" DEFAULT {_squeeze(column['default'])}"
            items[f"column {table}.{column['name']}"] = text
        pk = found.get_pk_constraint(table)
        if pk and pk.get("constrained_columns"):
            items[f"primary key of {table}"] = _columns(pk["constrained_columns"])
        for fk in found.get_foreign_keys(table):
            options = " ".join(
                f"{k.upper()} {v}" for k, v in sorted((fk.get("options") or {}).items())
            )
            name = fk.get("name") or _columns(fk["constrained_columns"])
            items[f"foreign key {name} on {table}"] = (
                f"{_columns(fk['constrained_columns'])} references"
                f" {fk['referred_table']} {_columns(fk['referred_columns'])}"
                + (f" {options}" if options else "")
            )
        for index in found.get_indexes(table):
            unique = " unique" if index.get("unique") else ""
            items[f"index {index['name']} on {table}"] = (
                _columns(index.get("column_names")) + unique
            )
        for unique_ in optional(functools.partial(found.get_unique_constraints, table)):
            name = unique_.get("name") or _columns(unique_["column_names"])
            items[f"unique constraint {name} on {table}"] = _columns(unique_["column_names"])
        for check in optional(functools.partial(found.get_check_constraints, table)):
            name = check.get("name") or _squeeze(check["sqltext"])
            items[f"check constraint {name} on {table}"] = _squeeze(check["sqltext"])
    for view in sorted(found.get_view_names()):
        items[f"view {view}"] = _squeeze(found.get_view_definition(view))
    backend = conn.dialect.name
    if backend == "postgresql":
        for sequence in optional(found.get_sequence_names):
            items[f"sequence {sequence}"] = "present"
        for enum in optional(getattr(found, "get_enums", lambda: [])):
            items[f"enum type {enum['name']}"] = ", ".join(enum["labels"])
    for name, text in _routines(conn).items():
        items[name] = text
    return items


def _routines(conn: Connection) -> dict[str, str]:
    """Triggers (and functions on PostgreSQL), which reflection does not list."""
    backend = conn.dialect.name
    if backend == "sqlite":
        rows = conn.exec_driver_sql(
            "SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'trigger'"
        )
        return {f"trigger {name} on {table}": _squeeze(sql) for name, table, sql in rows}
    if backend == "postgresql":
        found = {}
        rows = conn.exec_driver_sql(
            "SELECT t.tgname, c.relname, pg_get_triggerdef(t.oid) FROM pg_trigger t"
            " JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid ="
            " c.relnamespace WHERE NOT t.tgisinternal AND n.nspname = current_schema()"
        )
        for name, table, text in rows:
            found[f"trigger {name} on {table}"] = _squeeze(text)
        rows = conn.exec_driver_sql(
            "SELECT p.proname, pg_get_function_identity_arguments(p.oid),"
            " md5(pg_get_functiondef(p.oid)) FROM pg_proc p JOIN pg_namespace n ON n.oid ="
            " p.pronamespace LEFT JOIN pg_depend d ON d.objid = p.oid AND d.deptype = 'e'"
            " WHERE n.nspname = current_schema() AND p.prokind IN ('f', 'p')"
            " AND d.objid IS NULL"
        )
        for name, arguments, digest in rows:
            found[f"function {name}({arguments})"] = f"definition {digest}"
        return found
    if backend in {"mysql", "mariadb"}:
        rows = conn.exec_driver_sql(
            "SELECT TRIGGER_NAME, EVENT_OBJECT_TABLE, ACTION_TIMING, EVENT_MANIPULATION,"
            " ACTION_STATEMENT FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA ="
            " DATABASE()"
        )
        return {
            f"trigger {name} on {table}": _squeeze(f"{timing} {event} {statement}")
            for name, table, timing, event, statement in rows
        }
    return {}


def _differences(before: dict[str, str], after: dict[str, str], when: str) -> list[str]:
    words = []
    for thing in sorted(set(before) | set(after)):
        if thing not in after:
            words.append(f"{thing} ({before[thing]}) is missing {when}")
        elif thing not in before:
            words.append(f"{thing} ({after[thing]}) is there only {when}")
        elif before[thing] != after[thing]:
            words.append(f"{thing} was {before[thing]}, is {after[thing]} {when}")
    return words


# -- the checks ------------------------------------------------------------------------


def _fail(message: str) -> t.NoReturn:
    __tracebackhide__ = True
    raise MigrationCheckError(message)


def check_single_head(app: flask.Flask, *, directory: str | os.PathLike[str] | None = None) -> None:
    """Check that the migrations have exactly one head revision.

    :param app: the app (its Flask-Migrate finds the directory).
    :param directory: the migrations directory (default: Flask-Migrate's).
    :raises MigrationCheckError: no revision, or several heads (each named).
    """
    __tracebackhide__ = True
    migrations = Migrations(app, _app_db(app, None), directory)
    heads = sorted(migrations.heads(), key=lambda head: head.revision)
    if len(heads) == 1:
        return
    if not heads:
        _fail(
            f"The migrations in {migrations.directory} have no revision: make the first"
            " one with 'flask db migrate'."
        )
    listing = "\n".join(f"  - {migrations.describe(head)}" for head in heads)
    _fail(
        f"The migrations in {migrations.directory} have {len(heads)} heads, and"
        f" 'flask db upgrade' needs one:\n{listing}\nMerge them with 'flask db merge heads'."
    )


def check_upgrade(
    app: flask.Flask,
    db: t.Any = None,
    *,
    directory: str | os.PathLike[str] | None = None,
    allow_any_database: bool = False,
) -> None:
    """Check that an empty database (one per bind) upgrades to the heads.

    :param app: the app, configured for its test databases.
    :param db: its Flask-SQLAlchemy (default: the app's).
    :param directory: the migrations directory (default: Flask-Migrate's).
    :param allow_any_database: the app's databases need not be test databases.
    :raises MigrationCheckError: a revision's upgrade failed (the revision, the bind
        and the statement are named).
    """
    __tracebackhide__ = True
    with _checking(app, db, directory, allow_any_database) as (migrations, scratch):
        try:
            scratch.run(migrations, ("upgrade", "heads"))
        except MigrationError as e:
            _fail(f"The migrations in {migrations.directory} do not upgrade an empty database: {e}")
        outcome = scratch.run(migrations, ("heads",))
    expected = tuple(sorted(head.revision for head in migrations.heads()))
    for key in outcome.configured:
        reached = tuple(sorted(outcome.heads.get(key, ())))
        if reached != expected:
            _fail(
                f"The migrations in {migrations.directory} upgraded {bind_name(key)} to"
                f" {', '.join(reached) or 'nothing'}, not to the heads {', '.join(expected)}."
            )


def _down_target(revision: Script) -> t.Any:
    down = revision.down_revision
    return "base" if down is None else down


def check_round_trip(
    app: flask.Flask,
    db: t.Any = None,
    *,
    directory: str | os.PathLike[str] | None = None,
    allow_any_database: bool = False,
) -> None:
    """Check every revision, from the first: upgrade to it, downgrade it, compare the
    schema with the one before its upgrade, upgrade again and compare with the one
    after its first upgrade. A failed downgrade is a finding (the revision and the
    statement named); the check goes on with the next revision.

    :param app: the app, configured for its test databases.
    :param db: its Flask-SQLAlchemy (default: the app's).
    :param directory: the migrations directory (default: Flask-Migrate's).
    :param allow_any_database: the app's databases need not be test databases.
    :raises MigrationCheckError: one line per finding.
    """
    __tracebackhide__ = True
    findings: list[str] = []
    with _checking(app, db, directory, allow_any_database) as (migrations, scratch):
        revisions = migrations.revisions()
        before = scratch.snapshot()
        for revision in revisions:
            name = f"revision {migrations.describe(revision)}"
            try:
                upgraded = scratch.run(migrations, ("upgrade", revision.revision))
            except MigrationError as e:
                findings.append(f"{name}: the upgrade failed: {e}")
                break
            after = scratch.snapshot()
            heads_before = tuple(sorted(_any_heads(upgraded)))
            down = _down_target(revision)
            linear = heads_before == tuple(sorted(() if down == "base" else _tuple(down)))
            try:
                downgraded = scratch.run(migrations, ("downgrade", down))
            except MigrationError as e:
                findings.append(f"{name}: the downgrade failed: {e}")
                _restore(migrations, scratch, after, revision.revision)
                before = after
                continue
            heads_after = tuple(sorted(_any_heads(downgraded)))
            if linear:
                findings.extend(
                    f"{name}: {words}"
                    for words in _differences(before, scratch.snapshot(), "after its downgrade")
                )
            try:
                scratch.run(migrations, ("upgrade", heads_after or revision.revision))
            except MigrationError as e:
                findings.append(f"{name}: upgrading again after the downgrade failed: {e}")
                _restore(migrations, scratch, after, revision.revision)
                before = after
                continue
            again = scratch.snapshot()
            findings.extend(
                f"{name}: {words}"
                for words in _differences(after, again, "after its downgrade and upgrade again")
            )
            before = again
    if findings:
        listing = "\n".join(f"  - {finding}" for finding in findings)
        count = len({finding.split(":", 1)[0] for finding in findings})
        _fail(
            f"Downgrading and upgrading again fails or changes the schema at {count} of"
            f" {len(revisions)} revisions of the migrations in {migrations.directory}:"
            f"\n{listing}"
        )


def _tuple(value: t.Any) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


def _any_heads(outcome: Outcome) -> tuple[str, ...]:
    """The heads the first bind env.py configured was at before the run."""
    for key in outcome.configured:
        return outcome.heads.get(key, ())
    return ()


def _restore(
    migrations: Migrations, scratch: _Scratch, expected: dict[str, str], revision: str
) -> None:
    """After a failure, the scratch databases at ``revision`` again: as they are when
    the failure was rolled back, or rebuilt (MySQL commits DDL as it goes)."""
    if scratch.snapshot() == expected:
        return
    scratch.rebuild()
    scratch.run(migrations, ("upgrade", revision))


def check_models_match(
    app: flask.Flask,
    db: t.Any = None,
    *,
    directory: str | os.PathLike[str] | None = None,
    allow_any_database: bool = False,
) -> None:
    """Check that the models and the schema the migrations build agree: Alembic's
    autogenerate comparison (with ``env.py``'s options) finds no difference on any bind
    the migrations cover.

    :param app: the app, configured for its test databases.
    :param db: its Flask-SQLAlchemy (default: the app's).
    :param directory: the migrations directory (default: Flask-Migrate's).
    :param allow_any_database: the app's databases need not be test databases.
    :raises MigrationCheckError: every difference, in words.
    """
    __tracebackhide__ = True
    with _checking(app, db, directory, allow_any_database) as (migrations, scratch):
        try:
            scratch.run(migrations, ("upgrade", "heads"))
        except MigrationError as e:
            _fail(f"The migrations in {migrations.directory} do not upgrade an empty database: {e}")
        outcome = scratch.run(migrations, ("compare",))
        dialects = {key: engine.dialect for key, engine in scratch.engines.items()}
    sections = []
    for key in outcome.configured:
        diffs = outcome.diffs.get(key) or []
        lines = [f"  - {line}" for line in describe_differences(diffs, dialects[key])]
        if lines:
            sections.append(f"{bind_name(key)} ({dialects[key].name}):\n" + "\n".join(lines))
    if sections:
        _fail(
            f"The models and the schema the migrations in {migrations.directory} build"
            " differ; 'flask db migrate' would put this in a new migration. On "
            + "\nOn ".join(sections)
            + "\nMake a migration for them (flask db migrate), or change the models."
        )


# -- the tests -------------------------------------------------------------------------


class MigrationChecks:
    """The four migration checks as tests of a :class:`~flask_testcase.TestCase`. Mix it
    in first, over the test case that builds the app for its test databases::

        class MigrationTests(MigrationChecks, ShopTestCase):
            pass

    ``migrations_directory`` and ``allow_any_database`` are read from the class. The
    checks make scratch databases of their own, so the test case's own database
    isolation is off for them (``db = None``) and the app's Flask-SQLAlchemy is used.
    """

    db: t.ClassVar[t.Any] = None

    if t.TYPE_CHECKING:
        app: flask.Flask

        def fail(self, msg: t.Any = None) -> t.NoReturn: ...

    def test_migrations_have_one_head(self) -> None:
        """The migrations have exactly one head revision."""
        self._check_migrations(check_single_head, database=False)

    def test_migrations_upgrade_an_empty_database(self) -> None:
        """An empty database upgrades to the heads."""
        self._check_migrations(check_upgrade)

    def test_migrations_downgrade_and_upgrade_again(self) -> None:
        """Each revision's downgrade undoes its upgrade, and upgrading again gives the
        same schema."""
        self._check_migrations(check_round_trip)

    def test_models_match_the_migrations(self) -> None:
        """The models and the schema the migrations build agree."""
        self._check_migrations(check_models_match)

    def _check_migrations(self, check: t.Callable[..., None], database: bool = True) -> None:
        cls = type(self)
        options: dict[str, t.Any] = {"directory": getattr(cls, "migrations_directory", None)}
        if database:
            options["allow_any_database"] = bool(getattr(cls, "allow_any_database", False))
        failure = None
        try:
            check(self.app, **options)
        except MigrationCheckError as e:
            failure = str(e)
        if failure is not None:
            self.fail(failure)


# -- differences in words --------------------------------------------------------------


def _named(kind: str, item: t.Any) -> str:
    name = getattr(item, "name", None)
    table = getattr(getattr(item, "table", None), "name", None)
    columns = [getattr(c, "name", c) for c in getattr(item, "columns", ())]
    shown = f"{kind} {name!r}" if name else kind
    where = f" on {table} {_columns(columns)}" if table else ""
    return shown + where


def _fk(item: t.Any) -> str:
    columns = [c.name for c in item.columns]
    referred = [element.column.name for element in item.elements]
    table = item.elements[0].column.table.name if item.elements else "?"
    name = f" {item.name!r}" if item.name else ""
    return (
        f"foreign key{name} on {item.parent.name} {_columns(columns)} referencing"
        f" {table} {_columns(referred)}"
    )


def _column(table: str, name: str) -> str:
    return f"column {table}.{name}"


def _type_words(value: t.Any, dialect: t.Any) -> str:
    try:
        rendered = str(value.compile(dialect=dialect))
    except Exception:
        rendered = repr(value)
    return f"{rendered} ({type(value).__name__})"


def _type_hint(existing: t.Any, new: t.Any) -> str:
    """What makes a type difference obvious, when one is known."""
    from sqlalchemy import Double
    from sqlalchemy import Float

    def single(value: t.Any) -> bool:
        return isinstance(value, Float) and not isinstance(value, Double)

    if single(existing) and isinstance(new, Double):
        return (
            " SQLAlchemy 2.1 maps Mapped[float] to Double where older releases (and this"
            " migration) made Float: declare the column as mapped_column(Float) in the"
            " model, or make a migration that alters it to Double."
        )
    if isinstance(existing, Double) and single(new):
        return " The model says Float (single precision where the database tells them apart)."
    return ""


def describe_differences(diffs: list[t.Any], dialect: t.Any) -> list[str]:
    """Alembic's autogenerate differences (``compare_metadata()``), one sentence each:
    what the models have and what the migrated database has."""
    lines: list[str] = []
    models, database = "in the models", "in the migrated database"
    for diff in diffs:
        if isinstance(diff, list):
            lines.extend(_modification(change, dialect) for change in diff)
            continue
        kind = diff[0]
        if kind in {"add_table", "remove_table"}:
            where = (models, database) if kind == "add_table" else (database, models)
            lines.append(f"table {diff[1].name} is {where[0]}, not {where[1]}")
        elif kind in {"add_column", "remove_column"}:
            where = (models, database) if kind == "add_column" else (database, models)
            column = diff[3]
            lines.append(
                f"{_column(diff[2], column.name)} ({_type_words(column.type, dialect)}) is"
                f" {where[0]}, not {where[1]}"
            )
        elif kind in {"add_index", "remove_index"}:
            where = (models, database) if kind == "add_index" else (database, models)
            unique = "unique index" if diff[1].unique else "index"
            lines.append(f"{_named(unique, diff[1])} is {where[0]}, not {where[1]}")
        elif kind in {"add_constraint", "remove_constraint"}:
            where = (models, database) if kind == "add_constraint" else (database, models)
            label = re.sub(r"(?<!^)(?=[A-Z])", " ", type(diff[1]).__name__).lower()
            lines.append(f"{_named(label, diff[1])} is {where[0]}, not {where[1]}")
        elif kind in {"add_fk", "remove_fk"}:
            where = (models, database) if kind == "add_fk" else (database, models)
            lines.append(f"{_fk(diff[1])} is {where[0]}, not {where[1]}")
        elif kind in {"add_table_comment", "remove_table_comment"}:
            lines.append(
                f"table {diff[1].name}: the comment differs (the models say {diff[1].comment!r})"
            )
        else:
            lines.append(repr(diff))
    return lines


def _modification(change: t.Any, dialect: t.Any) -> str:
    kind, _schema, table, column = change[0], change[1], change[2], change[3]
    existing, new = change[-2], change[-1]
    name = _column(table, column)
    if kind == "modify_type":
        text = (
            f"{name}: the migrated database has {_type_words(existing, dialect)}, the"
            f" models {_type_words(new, dialect)}."
        )
        return text + _type_hint(existing, new)
    if kind == "modify_nullable":

        def null(value: t.Any) -> str:
            return "nullable" if value else "NOT NULL"

        return f"{name}: {null(existing)} in the migrated database, {null(new)} in the models"
    if kind == "modify_default":

        def default(value: t.Any) -> str:
            if value is None:
                return "no server default"
            text = getattr(getattr(value, "arg", None), "text", None) or getattr(
                value, "arg", value
            )
            return f"server default {_squeeze(text)!r}"

        return f"{name}: {default(existing)} in the migrated database, {default(new)} in the models"
    if kind == "modify_comment":
        return f"{name}: comment {existing!r} in the migrated database, {new!r} in the models"
    return repr(change)
