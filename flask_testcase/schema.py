"""The test schema: made once per database per run, outside any test's transaction,
from the models (``create_all``) or from the app's migrations, then the hook.

One switch chooses how, with the same name on every front door: ``schema_from`` on a
:class:`~flask_testcase.TestCase` (class attribute), in the pytest ini file, and as a
keyword of :func:`~flask_testcase.database_isolation`:

- ``"models"`` (the default): ``create_all()`` of ``db``'s models, which skips the
  tables that exist;
- ``"migrations"``: the app's migrations (Flask-Migrate's ``migrations/``, or
  ``migrations_directory``) upgraded to their heads, on every bind they cover (binds
  they do not cover get ``create_all()``);
- ``None``: nothing (``create_schema = False`` says the same).

**The hook** (``schema_hook``): a function called with no arguments once the schema of
a run's databases is built, in an app context whose ``db.session`` and ``db.engines``
reach those databases; what it commits stays for every test (reference rows,
extensions, SQL files). It is not called again for a database that is reused.

**Reuse.** A database built from migrations carries a marker (the table
``flask_testcase_schema``) holding a digest of the migration scripts' contents and of
the hook's name and source. A database whose marker matches is used as it is, without
migrating; otherwise it is rebuilt: a database this process created
(:func:`~flask_testcase.database_for_tests`, kept with ``FLASK_TESTCASE_KEEP_DATABASES``)
is emptied and migrated from scratch; any other is migrated from wherever it is (never
emptied). The marker is written only once everything worked, so a failed build is
never reused. In-memory SQLite lives for one run and is built once in it.

**Per-worker databases on PostgreSQL.** Under pytest-xdist, each worker's database
(``test_shop_gw0``...) is a copy (``CREATE DATABASE ... TEMPLATE``) of one migrated
template, ``test_shop_template``, built by the first worker that needs it while the
others wait on an advisory lock: N workers migrate once. A worker whose database is
created once the template is built gets it as a copy from the start
(:func:`copy_ready_template`, called by :func:`~flask_testcase.database_for_tests`),
used as it is.

The isolation calls :func:`ensure_schema` before its own connections begin; every
connection made here is checked by the isolation's guard first.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import inspect
import os
import threading
import typing as t
import weakref

if t.TYPE_CHECKING:
    from collections.abc import Callable
    from collections.abc import Iterator
    from collections.abc import Mapping

    import flask
    from sqlalchemy.engine import URL
    from sqlalchemy.engine import Connection
    from sqlalchemy.engine import Engine

    from ._alembic import Migrations
    from ._alembic import Target
    from ._stacks import Stack

__all__ = ["MigrationError", "SchemaError", "SchemaOptions", "ensure_schema"]

# Hides this module's frames from unittest tracebacks, so a failure points at the test.
__unittest = True

#: The values of ``schema_from``.
SCHEMA_FROM = ("models", "migrations", None)
#: The table that marks a database built from migrations, with the build's digest.
MARKER_TABLE = "flask_testcase_schema"
#: Bumped when what the marker means changes, so older markers rebuild.
_MARKER_FORMAT = b"flask_testcase schema 1"


class SchemaError(RuntimeError):
    """Raised when the test schema cannot be made: the hook raised, two test cases ask
    one database for different schemas, or an earlier attempt in the run failed."""


class MigrationError(SchemaError):
    """Raised when the test schema cannot be built from the app's migrations, or a
    migration check cannot run them: no migrations directory (the message lists where
    it looked), a migration that fails (the message names the revision, the bind and
    the statement; :attr:`revision`, :attr:`statement` and :attr:`bind` hold them), an
    ``env.py`` that cannot run. Nothing is marked as built."""

    def __init__(
        self,
        message: str,
        *,
        revision: str | None = None,
        statement: str | None = None,
        bind: str | None = None,
    ) -> None:
        super().__init__(message)
        #: The revision whose upgrade or downgrade failed, if one did.
        self.revision = revision
        #: The last statement sent to the database before the failure, if any.
        self.statement = statement
        #: The bind it failed on (None: the default bind).
        self.bind = bind


# -- the options -----------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class SchemaOptions:
    """How the test schema is made; see this module's description. Build it with
    :meth:`of`, which checks the values."""

    #: ``"models"``, ``"migrations"`` or None.
    schema_from: str | None = "models"
    #: The migrations directory; None: Flask-Migrate's (``migrations``).
    migrations_directory: str | os.PathLike[str] | None = None
    #: Called once the schema of a run's databases is built.
    schema_hook: Callable[[], object] | None = None

    @classmethod
    def of(
        cls,
        *,
        create_schema: bool = True,
        schema_from: str | None = "models",
        migrations_directory: str | os.PathLike[str] | None = None,
        schema_hook: Callable[[], object] | None = None,
        owner: str = "database_isolation()",
    ) -> SchemaOptions:
        """The options for these arguments (``create_schema=False`` is
        ``schema_from=None``).

        :raises TypeError: a value of the wrong type.
        :raises ValueError: an unknown ``schema_from``, or one that contradicts
            ``create_schema``.
        """
        if not isinstance(create_schema, bool):
            raise TypeError(f"{owner}: create_schema must be True or False, got {create_schema!r}")
        if schema_from not in SCHEMA_FROM:
            raise ValueError(
                f"{owner}: schema_from must be 'models' (create_all of the models),"
                f" 'migrations' (the app's migrations) or None (no schema), got"
                f" {schema_from!r}"
            )
        if not create_schema:
            if schema_from not in ("models", None):
                raise ValueError(
                    f"{owner}: create_schema=False asks for no schema, and"
                    f" schema_from={schema_from!r} for one; set only schema_from"
                    " (None: no schema)"
                )
            schema_from = None
        if migrations_directory is not None and not isinstance(
            migrations_directory, (str, os.PathLike)
        ):
            raise TypeError(
                f"{owner}: migrations_directory must be a path (str or os.PathLike), got"
                f" {migrations_directory!r} ({type(migrations_directory).__name__})"
            )
        if schema_hook is not None and not callable(schema_hook):
            raise TypeError(
                f"{owner}: schema_hook must be a function taking no arguments, got"
                f" {schema_hook!r} ({type(schema_hook).__name__})"
            )
        return cls(schema_from, migrations_directory, schema_hook)


def hook_name(hook: Callable[[], object]) -> str:
    target = getattr(hook, "__func__", hook)
    module = getattr(target, "__module__", None) or "?"
    return f"{module}.{getattr(target, '__qualname__', None) or repr(target)}"


def _hook_identity(hook: Callable[[], object] | None) -> bytes:
    """The hook's name and a digest of its source: part of the reuse key, so that a
    changed hook rebuilds (what it calls is not looked at)."""
    if hook is None:
        return b"no hook"
    target = getattr(hook, "__func__", hook)
    try:
        source = inspect.getsource(target).encode()
    except (OSError, TypeError):
        code = getattr(target, "__code__", None)
        source = code.co_code + repr(code.co_consts).encode() if code else repr(target).encode()
    return hook_name(hook).encode() + b"\0" + hashlib.sha256(source).digest()


# -- the run's record ------------------------------------------------------------------


class _Built:
    """What was done to one database (one run engine) in this run."""

    def __init__(self, spec: tuple[t.Any, ...], owner: str, options: SchemaOptions) -> None:
        self.spec = spec
        self.owner = owner
        #: The options it was made with: the same options again need no work.
        self.options = options
        self.error: BaseException | None = None
        #: For ``create_all``: the metadata whose tables were created.
        self.metadatas: weakref.WeakSet[t.Any] = weakref.WeakSet()


_built: weakref.WeakKeyDictionary[Engine, _Built] = weakref.WeakKeyDictionary()
# One schema step at a time: it runs once per database per run.
_lock = threading.RLock()
#: PostgreSQL templates this process built (their URLs), for the pytest plugin to
#: drop after the run.
templates_built: list[str] = []


def _describe_spec(spec: tuple[t.Any, ...]) -> str:
    """``spec`` is ("models", hook name) or ("migrations", directory, key, hook name)."""
    what = "create_all() of the models" if spec[0] == "models" else f"the migrations in {spec[1]}"
    hook = spec[-1]
    return f"{what} and the hook {hook}" if hook else f"{what} (no hook)"


def _recorded(
    engine: Engine, key: t.Hashable, spec: tuple[t.Any, ...], owner: str
) -> _Built | None:
    built = _built.get(engine)
    if built is None:
        return None
    where = f"{_bind(key)} ({_shown(engine.url)})"
    if built.error is not None:
        raise SchemaError(
            f"{owner}: the test schema of {where} failed to build earlier in this run,"
            f" for {built.owner} (see that error): {built.error}"
        ) from built.error
    if built.spec != spec:
        raise SchemaError(
            f"{owner} asks for a schema from {_describe_spec(spec)} on {where}, whose"
            f" schema came from {_describe_spec(built.spec)} earlier in this run (for"
            f" {built.owner}). A database's schema is made once per run: give the test"
            " cases that need another schema a database of their own."
        )
    return built


def _bind(key: t.Hashable) -> str:
    return "the default bind" if key is None else f"the bind {key!r}"


def _shown(url: URL) -> str:
    return url.render_as_string(hide_password=True)


def _direct_connect(engine: Engine) -> Connection:
    # A connection from the engine's own pool even while an isolation is active.
    from .isolation._registry import direct_connect

    return direct_connect(engine)


@contextlib.contextmanager
def _checked(engine: Engine, check: Callable[[Connection], None]) -> Iterator[Connection]:
    """A direct connection to ``engine``'s database, refused by ``check`` or not: a
    refused one is invalidated, never back to the pool (it may reach a database that
    is never to be used)."""
    conn = _direct_connect(engine)
    try:
        check(conn)
    except BaseException:
        conn.invalidate()
        conn.close()
        raise
    with conn:
        yield conn


def _begin(conn: Connection) -> None:
    """Begin a real transaction: pysqlite would run DDL outside one (and commit it)."""
    conn.begin()
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN")


# -- the entry point -------------------------------------------------------------------


def ensure_schema(
    app: flask.Flask,
    stack: Stack,
    engines: Mapping[t.Hashable, Engine],
    options: SchemaOptions,
    *,
    check: Callable[[t.Any, Connection], None],
    allow_any_database: bool = False,
    owner: str = "database_isolation()",
) -> None:
    """Make the schema of ``engines``' databases as ``options`` say, once per database
    per run; later calls for a database return at once.

    :param app: the app whose ``db`` the engines are (``env.py`` and the hook see it).
    :param stack: where the app's tables and sessions are
        (:mod:`flask_testcase._stacks`): ``create_all`` makes its metadata of each bind;
        migrations need Flask-SQLAlchemy.
    :param engines: per bind key, the run's engine of its database.
    :param options: how.
    :param check: the guard, called with each new connection to one of ``engines``
        before anything else runs on it; raises to refuse it.
    :param allow_any_database: the owner allows databases not named for tests (also
        for the connections the migrations' ``env.py`` makes).
    :param owner: who asks, named in errors.
    :raises MigrationError: the migrations could not be found or run.
    :raises SchemaError: the hook raised; the database's schema came from elsewhere
        earlier in the run, or failed to build.
    """
    from . import databases

    if databases._copied and options.schema_from != "migrations":
        _empty_copies(engines)
    if options.schema_from is None:
        return
    # The default bind first: errors and env.py's single-database template mean it.
    engines = dict(
        sorted(engines.items(), key=lambda item: (item[0] is not None, str(item[0] or "")))
    )
    if all(_done(stack, key, engine, options) for key, engine in engines.items()):
        return
    with _lock:
        if options.schema_from == "models":
            _from_models(app, stack, engines, options, check, owner)
        else:
            db = _migrated_db(stack, owner)
            # Flask-SQLAlchemy's bind keys.
            binds = t.cast("Mapping[str | None, Engine]", engines)
            _from_migrations(app, db, binds, options, check, allow_any_database, owner)


def _empty_copies(engines: Mapping[t.Hashable, Engine]) -> None:
    """A worker's database created as a copy of a migrated template
    (:func:`copy_ready_template`) is emptied for a schema from the models, or none."""
    from .databases import copied_template
    from .databases import made_here
    from .databases import recreate_database

    with _lock:
        for engine in engines.values():
            made = made_here(engine.url)
            if made is not None and copied_template(made) is not None:
                engine.dispose()
                recreate_database(made)


def _migrated_db(stack: Stack, owner: str) -> t.Any:
    """The Flask-SQLAlchemy instance migrations run for (Flask-Migrate's)."""
    from ._stacks._flask_sqlalchemy import FlaskSQLAlchemyStack

    if not isinstance(stack, FlaskSQLAlchemyStack):
        raise SchemaError(
            f"{owner}: schema_from='migrations' runs the app's Flask-Migrate migrations,"
            f" which work with Flask-SQLAlchemy; this database is {stack.kind}'s. Make its"
            " schema from the models (schema_from='models', with the metadata given), or"
            " before the tests (schema_from=None)."
        )
    return stack.db


def _done(stack: Stack, key: t.Hashable, engine: Engine, options: SchemaOptions) -> bool:
    """Whether ``engine``'s database was made with ``options`` already (the check each
    test makes, without reading the migrations again)."""
    built = _built.get(engine)
    if built is None or built.error is not None or built.options != options:
        return False
    if options.schema_from != "models":
        return True
    metadata = stack.metadatas.get(key)
    return metadata is None or metadata in built.metadatas


# -- create_all ------------------------------------------------------------------------


def _from_models(
    app: flask.Flask,
    stack: Stack,
    engines: Mapping[t.Hashable, Engine],
    options: SchemaOptions,
    check: Callable[[t.Any, Connection], None],
    owner: str,
) -> None:
    from sqlalchemy import inspect as inspect_

    hook = options.schema_hook
    spec = ("models", hook_name(hook) if hook is not None else None)
    fresh = False
    for key, engine in engines.items():
        built = _recorded(engine, key, spec, owner)
        metadata = stack.metadatas.get(key)
        if built is not None and (metadata is None or metadata in built.metadatas):
            continue
        if built is None:
            built = _built[engine] = _Built(spec, owner, options)
        if metadata is None:
            continue
        if metadata.tables:
            # Outside any test transaction and committed: MySQL commits DDL
            # implicitly, which would end a test's transaction, and the tables must
            # outlive the test.
            with _checked(engine, functools.partial(check, key)) as conn:
                conn.rollback()
                with conn.begin():
                    if options.schema_hook is not None:
                        found = inspect_(conn)
                        existing = [
                            found.has_table(t.name, t.schema) for t in metadata.tables.values()
                        ]
                        fresh = fresh or not any(existing)
                    metadata.create_all(conn)
        built.metadatas.add(metadata)
    if fresh and options.schema_hook is not None:
        try:
            _call_hook(app, stack, options.schema_hook, dict(engines))
        except BaseException as e:
            for engine in engines.values():
                _built[engine].error = e
            raise


def _call_hook(
    app: flask.Flask, stack: Stack, hook: Callable[[], object], engines: Mapping[t.Hashable, Engine]
) -> None:
    """Call the hook in an app context whose ``db`` reaches ``engines``, and commit its
    session (the stack's, :meth:`~flask_testcase._stacks.Stack.data_session`)."""
    with app.app_context(), stack.serving(app, engines):
        try:
            with stack.data_session():
                hook()
        except Exception as e:
            raise SchemaError(
                f"the schema hook {hook_name(hook)} raised {type(e).__name__}: {e}; the"
                " databases are not marked as built"
            ) from e


# -- migrations ------------------------------------------------------------------------


@functools.cache
def _marker_table() -> t.Any:
    from sqlalchemy import Column
    from sqlalchemy import MetaData
    from sqlalchemy import String
    from sqlalchemy import Table

    return Table(MARKER_TABLE, MetaData(), Column("build_key", String(64), nullable=False))


def _read_marker(conn: Connection) -> str | None:
    from sqlalchemy import inspect as inspect_
    from sqlalchemy import select

    if not inspect_(conn).has_table(MARKER_TABLE):
        return None
    value = conn.execute(select(_marker_table().c.build_key)).scalar()
    return None if value is None else str(value)


def _write_marker(conn: Connection, build_key: str) -> None:
    table = _marker_table()
    table.create(conn, checkfirst=True)
    conn.execute(table.delete())
    conn.execute(table.insert().values(build_key=build_key))


def _is_empty(conn: Connection) -> bool:
    from sqlalchemy import inspect as inspect_

    found = inspect_(conn)
    return not found.get_table_names() and not found.get_view_names()


def build_key(migrations: Migrations, hook: Callable[[], object] | None) -> str:
    """The digest a database built from ``migrations`` (and ``hook``) is marked with."""
    digest = hashlib.sha256(_MARKER_FORMAT)
    digest.update(migrations.fingerprint().encode() + b"\0" + _hook_identity(hook))
    return digest.hexdigest()


def _is_memory(url: URL) -> bool:
    from ._testnames import sqlite_path

    return url.get_backend_name() == "sqlite" and sqlite_path(url) is None


@dataclasses.dataclass
class _Plan:
    """What to do for one bind's database."""

    engine: Engine
    #: "reuse", "build" (in place), "recreate" (empty it, then build) or "template".
    action: str
    #: The URL database_for_tests() made the database under, if it did.
    made: str | None = None
    template: _Template | None = None
    #: Where its migrations run (the database, or its template).
    build_engine: Engine | None = None


#: How a template's comment starts: the build's digest follows, then (under
#: pytest-xdist) `` run `` and the run's id.
_TEMPLATE_MARK = "flask_testcase schema "


def _run_id() -> str | None:
    """pytest-xdist's id of this test run, the same in all its workers (None outside
    pytest-xdist)."""
    return os.environ.get("PYTEST_XDIST_TESTRUNUID") or None


def _template_name(database: str) -> str | None:
    """The template's name for the worker database ``database`` (``test_shop_template``
    for ``test_shop_gw0``), or None when there is no worker or the name would be too
    long."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    suffix = f"_{worker}"
    if not worker or not database.endswith(suffix):
        return None
    name = database[: -len(suffix)] + "_template"
    return name if len(name.encode()) <= 63 else None


def _lock_id(template: str) -> int:
    """The advisory lock a template is built under (alone) and copied under (shared)."""
    return int.from_bytes(hashlib.sha256(template.encode()).digest()[:8], "big", signed=True)


def _template_comment(admin: Connection, template: str) -> str | None:
    from sqlalchemy import text

    value = admin.execute(
        text("SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = :n"),
        {"n": template},
    ).scalar()
    return None if value is None else str(value)


def copy_ready_template(admin: Connection, database: str) -> str | None:
    """For :func:`~flask_testcase.database_for_tests` under pytest-xdist on
    PostgreSQL: create the worker's database ``database`` as a copy of the template
    this run's first worker built for it, if it is there and built (marked with this
    run's id), and return the template's comment; otherwise create nothing and return
    None (the database is created empty, and the schema step copies the template into
    it once it is built).

    A copy made here saves a worker the empty database it would create, drop and
    create again from the template; the schema step uses it as it is when the
    template was built from the same migrations and hook (the comment says so), and
    empties it for a schema from the models or none.

    :param admin: an autocommit connection to the server's maintenance database.
    """
    run = _run_id()
    template = _template_name(database)
    if run is None or template is None:
        return None
    lock = {"id": _lock_id(template)}
    # Not while a worker builds it: the schema step waits for that.
    if not admin.exec_driver_sql("SELECT pg_try_advisory_lock_shared(%(id)s)", lock).scalar():
        return None
    try:
        comment = _template_comment(admin, template)
        if comment is None or not (
            comment.startswith(_TEMPLATE_MARK) and comment.endswith(f" run {run}")
        ):
            return None
        quote = admin.dialect.identifier_preparer.quote_identifier
        try:
            admin.exec_driver_sql(f"CREATE DATABASE {quote(database)} TEMPLATE {quote(template)}")
        except Exception:
            # E.g. a session open on the template: the database is created empty instead,
            # and the schema step copies the template later.
            return None
        return comment
    finally:
        admin.exec_driver_sql("SELECT pg_advisory_unlock_shared(%(id)s)", lock)


class _Template:
    """A PostgreSQL template database for the per-worker databases of one test
    database (``test_shop_template`` for ``test_shop_gw0``...), under an advisory
    lock on its server while it is checked, built and copied. Its comment says what
    it was built from: ``flask_testcase schema <digest>``, and ``run <id>`` under
    pytest-xdist (:func:`copy_ready_template` copies only this run's)."""

    def __init__(self, worker_url: URL, name: str, build_key: str) -> None:
        self.url = worker_url.set(database=name)
        self.name = name
        self.expected = f"{_TEMPLATE_MARK}{build_key}"
        self.ready = False
        self._stack = contextlib.ExitStack()
        self.engine: Engine | None = None

    @staticmethod
    def name_for(url: URL) -> str | None:
        """The template's name for the worker database at ``url``, or None when there
        is no worker or the name would be too long."""
        return _template_name(url.database or "")

    def built_as(self, comment: str | None) -> bool:
        """Whether a template whose comment is ``comment`` was built from these
        migrations and hook (in this run or an earlier one)."""
        return comment is not None and (
            comment == self.expected or comment.startswith(self.expected + " run ")
        )

    def __enter__(self) -> _Template:
        from .databases import _admin_engine

        admin = _admin_engine(self.url)
        self._stack.callback(admin.dispose)
        self._admin = self._stack.enter_context(admin.connect())
        lock = {"id": _lock_id(self.name)}
        # Copying needs only the shared lock; building takes it alone.
        self._admin.exec_driver_sql("SELECT pg_advisory_lock_shared(%(id)s)", lock)
        self.ready = self.built_as(self._comment())
        if self.ready:
            self._stack.callback(
                self._admin.exec_driver_sql, "SELECT pg_advisory_unlock_shared(%(id)s)", lock
            )
            return self
        self._admin.exec_driver_sql("SELECT pg_advisory_unlock_shared(%(id)s)", lock)
        self._admin.exec_driver_sql("SELECT pg_advisory_lock(%(id)s)", lock)
        self._stack.callback(self._admin.exec_driver_sql, "SELECT pg_advisory_unlock(%(id)s)", lock)
        self.ready = self.built_as(self._comment())
        return self

    def __exit__(self, *exc_info: t.Any) -> None:
        if self.engine is not None:
            self.engine.dispose()
        self._stack.close()

    def _comment(self) -> str | None:
        return _template_comment(self._admin, self.name)

    def create(self) -> Engine:
        """Create the template empty (dropping an unfinished one); its engine."""
        from sqlalchemy import create_engine
        from sqlalchemy.pool import NullPool

        from .databases import _create

        _create(self.url, keep=False)
        shown = self.url.render_as_string(hide_password=False)
        if shown not in templates_built:
            templates_built.append(shown)
        self.engine = create_engine(self.url, poolclass=NullPool)
        return self.engine

    def check(self, conn: Connection) -> None:
        from .databases import NotATestDatabaseError

        actual = conn.exec_driver_sql("SELECT current_database()").scalar()
        if actual != self.name:
            raise NotATestDatabaseError(
                f"flask_testcase refuses to build the template {self.name!r}: the"
                f" connection reached {actual!r}"
            )

    def finish(self) -> None:
        """Mark the template as built from these migrations, once nothing is
        connected to it."""
        if self.engine is not None:
            self.engine.dispose()
        quoted = self._admin.dialect.identifier_preparer.quote_identifier(self.name)
        run = _run_id()
        comment = self.expected if run is None else f"{self.expected} run {run}"
        literal = comment.replace("'", "''")
        self._admin.exec_driver_sql(f"COMMENT ON DATABASE {quoted} IS '{literal}'")
        self.ready = True

    def copy_to(self, plan: _Plan) -> None:
        from .databases import clone_postgresql

        assert plan.made is not None
        # Nothing may be connected to the worker's database while it is replaced.
        plan.engine.dispose()
        clone_postgresql(plan.made, self.name, self._admin)


def _plan(
    key: str | None,
    engine: Engine,
    build_key_: str,
    check: Callable[[str | None, Connection], None],
) -> _Plan:
    from .databases import copied_template
    from .databases import kept
    from .databases import made_here

    url = engine.url
    if _is_memory(url):
        return _Plan(engine, "build")
    made = made_here(url)
    template = None
    if made is not None and url.get_backend_name() == "postgresql":
        name = _Template.name_for(url)
        if name is not None:
            template = _Template(url, name, build_key_)
            if template.built_as(copied_template(made)):
                # Created as a copy of this run's template, built from these
                # migrations: whole already.
                return _Plan(engine, "reuse", made)
            if not kept(made):
                # Created empty for this run, and replaced by a copy of the template:
                # nothing to read in it (the isolation's guard checks the copy).
                return _Plan(engine, "template", made, template)
    with _checked(engine, functools.partial(check, key)) as conn:
        marker = _read_marker(conn)
        empty = marker is None and _is_empty(conn)
        conn.rollback()
    if marker == build_key_:
        return _Plan(engine, "reuse", made)
    if template is not None:
        return _Plan(engine, "template", made, template)
    if made is not None and not empty:
        return _Plan(engine, "recreate", made)
    return _Plan(engine, "build", made)


def _from_migrations(
    app: flask.Flask,
    db: t.Any,
    engines: Mapping[str | None, Engine],
    options: SchemaOptions,
    check: Callable[[str | None, Connection], None],
    allow_any_database: bool,
    owner: str,
) -> None:
    from ._alembic import Migrations

    migrations = Migrations(app, db, options.migrations_directory)
    key_ = build_key(migrations, options.schema_hook)
    hook = options.schema_hook
    spec = ("migrations", str(migrations.directory), key_, hook_name(hook) if hook else None)
    pending = {
        key: engine
        for key, engine in engines.items()
        if _recorded(engine, key, spec, owner) is None
    }
    if not pending:
        return
    try:
        with contextlib.ExitStack() as stack:
            plans = {key: _plan(key, engine, key_, check) for key, engine in pending.items()}
            for plan in plans.values():
                if plan.template is not None:
                    stack.enter_context(plan.template)
            # Databases whose template is ready are copies of it; they are whole now.
            for plan in plans.values():
                if plan.template is not None and plan.template.ready:
                    plan.template.copy_to(plan)
            _build(app, db, migrations, plans, key_, options, check, allow_any_database)
    except BaseException as e:
        for engine in pending.values():
            record = _built[engine] = _Built(spec, owner, options)
            record.error = e
        if isinstance(e, MigrationError):
            raise MigrationError(
                f"{owner}: flask_testcase could not build the test schema from the"
                f" migrations in {migrations.directory}: {e}\nNothing is marked as built,"
                " so the database is not reused: the next run builds it again.",
                revision=e.revision,
                statement=e.statement,
                bind=e.bind,
            ) from e
        raise
    for engine in pending.values():
        _built[engine] = _Built(spec, owner, options)


def _build(
    app: flask.Flask,
    db: t.Any,
    migrations: Migrations,
    plans: Mapping[str | None, _Plan],
    key_: str,
    options: SchemaOptions,
    check: Callable[[str | None, Connection], None],
    allow_any_database: bool,
) -> None:
    """Migrate every database of ``plans`` that needs it (in place, emptied first, or
    its template), in one run of ``env.py``; then the hook, the markers, the copies."""
    from sqlalchemy import create_engine
    from sqlalchemy.pool import StaticPool

    from ._alembic import Target
    from .databases import recreate_database

    building = {
        key: plan
        for key, plan in plans.items()
        if plan.action != "reuse" and not (plan.template is not None and plan.template.ready)
    }
    if not building:
        return
    with contextlib.ExitStack() as stack:
        connections: dict[Engine, Connection] = {}
        targets: dict[str | None, Target] = {}
        for key, plan in plans.items():
            if key in building:
                if plan.action == "recreate":
                    assert plan.made is not None
                    plan.engine.dispose()
                    recreate_database(plan.made)
                plan.build_engine = (
                    plan.template.create() if plan.template is not None else plan.engine
                )
            engine = plan.build_engine or plan.engine
            conn = connections.get(engine)
            if conn is None:
                if plan.template is not None and engine is plan.build_engine:
                    guard = plan.template.check
                else:
                    guard = functools.partial(check, key)
                conn = connections[engine] = stack.enter_context(_checked(engine, guard))
                conn.rollback()
                _begin(conn)
                if key in building:
                    # A stale marker goes with the build (at once on MySQL, where DDL
                    # commits; with the transaction elsewhere).
                    _marker_table().drop(conn, checkfirst=True)
            if _is_memory(engine.url):
                # Never env.py's own connection to the database behind ours: closing it
                # would roll our work back.
                decoy = create_engine("sqlite://", poolclass=StaticPool)
                stack.callback(decoy.dispose)
            else:
                decoy = engine
            work = ("upgrade", "heads") if key in building else ("nothing",)
            where = None
            if plan.template is not None and engine is plan.build_engine:
                where = (
                    f"{_shown(engine.url)}, the template {_shown(plan.engine.url)} and the"
                    " other workers' databases are copied from"
                )
            targets[key] = Target(conn, decoy, work, where)
        outcome = migrations.run(targets, allow_any_database=allow_any_database)
        for key in building:
            if key not in outcome.configured:
                # A bind the migrations do not cover gets the tables of its models.
                db.metadatas[key].create_all(targets[key].connection)
        for conn in connections.values():
            conn.commit()
        if options.schema_hook is not None:
            from ._stacks import stack_for

            _call_hook(
                app,
                stack_for(db),
                options.schema_hook,
                {key: plan.build_engine or plan.engine for key, plan in plans.items()},
            )
        for key in building:
            conn = targets[key].connection
            with conn.begin():
                _write_marker(conn, key_)
    for plan in building.values():
        if plan.template is not None:
            plan.template.finish()
            plan.template.copy_to(plan)
