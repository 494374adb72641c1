"""Running an app's Alembic migrations (Flask-Migrate's, or plain Alembic's) on the
connections flask_testcase chose, whatever the migrations' ``env.py`` connects to.

The schema step (:mod:`flask_testcase.schema`) and the migration checks
(:mod:`flask_testcase.migrations`) both go through :class:`Migrations`:

- **The directory** is found as Flask-Migrate finds it (``Migrate(app, db,
  directory=...)``, default ``migrations``, relative to the working directory), then
  beside the app's package; or it is named. When none is found, the error lists every
  place looked at.
- **env.py runs, on our connections.** ``env.py`` is the user's code and stays in
  charge of its options (``target_metadata``, ``include_object``, Flask-Migrate's
  ``compare_type``...), but every ``context.configure()`` it makes is given the
  connection we opened for that bind instead of its own (:class:`_Environment`, a
  subclass of Alembic's public ``EnvironmentContext``). Flask-Migrate's generated
  ``env.py`` builds its engine from ``db.engine`` or from the URL; an in-memory SQLite
  database reached that way is another, empty database than the test's.
  While it runs, the app's ``db.engines`` are the ones we name (never an in-memory
  database sharing our connection, whose close would roll our work back).
- **The guard.** A connection ``env.py`` hands to ``configure()`` must reach a test
  database of one of the app's binds; anything else is refused before a statement
  runs.
- **Our transaction.** Our connections are in a transaction when ``env.py`` gets them,
  so Alembic leaves committing to us: the caller commits once everything (the
  migrations, the hook, the marker) worked, and rolls back otherwise.
- **Logging is left alone.** The generated ``env.py`` calls
  ``logging.config.fileConfig(alembic.ini)``, which closes every handler and disables
  every logger that exists (``app.logger``, ``werkzeug``, pytest's capture) for the
  rest of the process; while ``env.py`` runs, ``fileConfig`` and ``dictConfig`` do
  nothing (:func:`logging_left_alone`).
- **Errors name the revision and the statement** (:class:`~flask_testcase.MigrationError`).

Alembic and Flask-Migrate are imported only when used (the ``migrations`` extra).
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import os
import typing as t
from pathlib import Path

from ._stacks import stack_for
from .databases import NotATestDatabaseError
from .databases import is_test_database
from .schema import MigrationError

if t.TYPE_CHECKING:
    from collections.abc import Callable
    from collections.abc import Iterator
    from collections.abc import Mapping

    import flask
    from alembic.runtime.migration import MigrationContext
    from alembic.script import Script
    from sqlalchemy.engine import URL
    from sqlalchemy.engine import Connection
    from sqlalchemy.engine import Engine

__all__ = ["Migrations", "Outcome", "Target", "bind_name", "logging_left_alone"]

# Hides this module's frames from unittest tracebacks, so a failure points at the test.
__unittest = True

EXTRA = "pip install 'flask-testcase[migrations]'"


def require_alembic(what: str) -> None:
    """Raise :class:`ImportError` naming the extra when Alembic is missing."""
    try:
        import alembic  # noqa: F401
    except ImportError as e:
        raise ImportError(
            f"{what} needs Alembic (and Flask-Migrate, for a migrations directory made"
            f" by 'flask db init'); install them with {EXTRA}"
        ) from e


def bind_name(key: str | None) -> str:
    return "the default bind" if key is None else f"the bind {key!r}"


def shown(url: URL) -> str:
    return url.render_as_string(hide_password=True)


# -- the directory ---------------------------------------------------------------------


def find_directory(app: flask.Flask, given: str | os.PathLike[str] | None) -> Path:
    """The migrations directory of ``app``: ``given``, or Flask-Migrate's; a relative
    path is looked for in the working directory (as Flask-Migrate does), then in the
    app's package folder and the folder above it.

    :raises MigrationError: no directory with an ``env.py`` in any of those places.
    """
    if given is not None:
        name = os.fspath(given)
        source = f"migrations_directory={name!r}"
    else:
        migrate = app.extensions.get("migrate")
        name = str(getattr(migrate, "directory", None) or "migrations")
        source = (
            f"Flask-Migrate's directory {name!r} (Migrate(app, db, directory=...))"
            if migrate is not None
            else f"the default {name!r} (the app has no Flask-Migrate)"
        )
    path = Path(name)
    if path.is_absolute():
        candidates = [path]
    else:
        root = Path(app.root_path)
        candidates = list(dict.fromkeys([Path.cwd() / path, root / path, root.parent / path]))
    for candidate in candidates:
        if (candidate / "env.py").is_file():
            return candidate.resolve()
    looked = ", ".join(str(c) for c in candidates)
    raise MigrationError(
        f"no migrations directory for the app {app.name!r}: looked for {source} in"
        f" {looked} and found no env.py there. Make one with 'flask db init' (then"
        " 'flask db migrate'), or name the directory with migrations_directory (an"
        " absolute path, or one relative to the working directory)."
    )


def script_files(directory: Path, version_locations: list[str]) -> list[tuple[str, bytes]]:
    """Every file whose contents can change what the migrations build: the directory's
    files (``env.py``, ``alembic.ini``, the revisions, SQL files they read), and those
    of version locations outside it. Byte-code and hidden files are left out."""
    roots = [directory, *(Path(p).resolve() for p in version_locations)]
    files: dict[Path, None] = {}
    for root in roots:
        if not root.is_dir():
            continue
        for path in root.rglob("*"):
            relative = path.relative_to(root).parts
            if (
                not path.is_file()
                or "__pycache__" in relative
                or any(part.startswith(".") for part in relative)
                or path.suffix in {".pyc", ".pyo"}
            ):
                continue
            files[path] = None
    return [(str(path), path.read_bytes()) for path in sorted(files)]


# -- logging ---------------------------------------------------------------------------


@contextlib.contextmanager
def logging_left_alone() -> Iterator[None]:
    """While the block runs, ``logging.config.fileConfig`` and ``dictConfig`` do
    nothing: an ``env.py`` configuring logging from ``alembic.ini`` would close every
    handler and disable every logger of the test run. Restored after the block."""
    import logging.config

    saved = logging.config.fileConfig, logging.config.dictConfig

    def left_alone(*args: t.Any, **kwargs: t.Any) -> None:
        return None

    logging.config.fileConfig = left_alone
    logging.config.dictConfig = left_alone
    try:
        yield
    finally:
        logging.config.fileConfig, logging.config.dictConfig = saved


# -- running env.py --------------------------------------------------------------------


@dataclasses.dataclass
class Target:
    """Where one bind's migrations run: ``connection`` (ours, in a transaction) and
    ``decoy``, the engine ``db.engines`` gives ``env.py`` for that bind while it runs
    (never an in-memory database behind ``connection``)."""

    connection: Connection
    decoy: Engine
    #: What ``env.py`` is asked to do on this bind: ``("upgrade", "heads")``,
    #: ``("downgrade", "<rev>")``, ``("compare",)``, ``("heads",)`` or ``("nothing",)``.
    work: tuple[t.Any, ...] = ("nothing",)
    #: How errors name the database (default: its URL).
    shown: str | None = None


@dataclasses.dataclass
class Outcome:
    """What one run of ``env.py`` did."""

    #: The binds ``env.py`` configured (the binds the migrations cover).
    configured: list[str | None] = dataclasses.field(default_factory=list)
    #: Per bind, the revisions it was at before the run.
    heads: dict[str | None, tuple[str, ...]] = dataclasses.field(default_factory=dict)
    #: Per bind, Alembic's autogenerate differences (``("compare",)``).
    diffs: dict[str | None, list[t.Any]] = dataclasses.field(default_factory=dict)
    #: Per bind, the options ``env.py`` configured (after ours).
    options: dict[str | None, dict[str, t.Any]] = dataclasses.field(default_factory=dict)


class _RunState:
    """One run of ``env.py``: our targets by bind, and what happened."""

    def __init__(
        self, migrations: Migrations, targets: Mapping[str | None, Target], allow_any: bool
    ) -> None:
        self.migrations = migrations
        self.targets = dict(targets)
        self.allow_any = allow_any
        self.outcome = Outcome()
        #: (bind, script, upgrading) of the step running now.
        self.current: tuple[str | None, Script, bool] | None = None
        self.statements: dict[str | None, str] = {}
        #: The bind env.py configured last: its run_migrations() comes next.
        self.active: str | None = None

    # -- which bind env.py means -------------------------------------------------

    def bind_for(self, connection: t.Any, url: t.Any, options: Mapping[str, t.Any]) -> str | None:
        from sqlalchemy.engine import make_url

        if connection is None and url is None:
            raise MigrationError(
                f"the migrations' env.py ({self.migrations.env_py}) called"
                " context.configure() with neither a connection nor a URL; flask_testcase"
                " runs migrations online only"
            )
        engine = getattr(connection, "engine", None)
        for key, target in self.targets.items():
            if engine is not None and engine is target.decoy:
                return key
        seen = engine.url if engine is not None else make_url(url)
        if not self.allow_any and not is_test_database(seen):
            # Closed, not returned to env.py's engine's pool (nobody disposes that).
            _invalidate(connection)
            raise NotATestDatabaseError(
                f"flask_testcase refuses to run migrations on {seen.database!r}"
                f" ({shown(seen)}): the migrations' env.py ({self.migrations.env_py})"
                " configured Alembic with a connection to it, and its name does not mark"
                " it as a test database. Make env.py take its engines from the app"
                " (current_app.extensions['migrate'].db, as Flask-Migrate's env.py does)."
            )
        candidates = [key for key, target in self.targets.items() if _same_database(seen, target)]
        token = options.get("upgrade_token")
        if len(candidates) > 1 and isinstance(token, str) and token.endswith("_upgrades"):
            named = token[: -len("_upgrades")] or None
            candidates = [key for key in candidates if key == named]
        candidates = [key for key in candidates if key not in self.outcome.configured]
        if None in candidates:
            # Flask-Migrate's single-database env.py migrates the default bind.
            return None
        if not candidates:
            known = ", ".join(
                f"{bind_name(key)}: {shown(target.connection.engine.url)}"
                for key, target in self.targets.items()
            )
            _invalidate(connection)
            raise MigrationError(
                f"the migrations' env.py ({self.migrations.env_py}) configured Alembic with"
                f" a connection to {shown(seen)}, which is none of the app's test"
                f" databases ({known}). Make env.py take its engines from the app"
                " (current_app.extensions['migrate'].db, as Flask-Migrate's env.py does)."
            )
        return candidates[0]

    # -- the work function -------------------------------------------------------

    def work(self, heads: t.Any, context: MigrationContext) -> Iterator[t.Any]:
        from alembic.runtime.migration import MigrationStep

        key = self.active
        current = tuple(heads or ())
        self.outcome.heads[key] = current
        work = self.targets[key].work
        script = self.migrations.script
        if work[0] == "compare":
            from alembic.autogenerate import compare_metadata

            metadata = context.opts.get("target_metadata")
            if metadata is None:
                raise MigrationError(
                    f"the migrations' env.py ({self.migrations.env_py}) gives Alembic no"
                    f" target_metadata for {bind_name(key)}, so the models cannot be"
                    " compared with the migrated schema; pass target_metadata= to"
                    " context.configure() (Flask-Migrate's env.py passes db.metadatas)"
                )
            self.outcome.diffs[key] = list(compare_metadata(context, metadata))
            return
        if work[0] == "upgrade":
            revisions = reversed(
                list(script.iterate_revisions(work[1], current, implicit_base=True))
            )
            for revision in revisions:
                self.current = (key, revision, True)
                yield MigrationStep.upgrade_from_script(script.revision_map, revision)
        elif work[0] == "downgrade":
            revisions = script.iterate_revisions(current, work[1], select_for_downgrade=True)
            for revision in list(revisions):
                self.current = (key, revision, False)
                yield MigrationStep.downgrade_from_script(script.revision_map, revision)
        self.current = None


def _environment(config: t.Any, script: t.Any, state: _RunState) -> t.Any:
    """Alembic's ``EnvironmentContext`` whose ``configure()`` takes our connection.

    ``env.py`` reaches the context through ``alembic.context``, whose functions call
    the installed context's attributes: an instance attribute replaces the method
    (a subclass would not be proxied).
    """
    from alembic.runtime.environment import EnvironmentContext

    environment = EnvironmentContext(config, script, fn=state.work, as_sql=False)
    original = environment.configure

    def configure(connection: t.Any = None, url: t.Any = None, **options: t.Any) -> None:
        key = state.bind_for(connection, url, options)
        target = state.targets[key]
        # The context's options are one dict shared by every configure() call
        # (Flask-Migrate's multidb env.py makes one per bind): set ours each time.
        options["dont_mutate"] = target.work[0] in {"nothing", "compare", "heads"}
        options.pop("dialect_name", None)
        options.pop("dialect_opts", None)
        state.outcome.configured.append(key)
        state.active = key
        original(connection=target.connection, **options)
        state.outcome.options[key] = dict(environment.get_context().opts)

    environment.configure = configure  # type: ignore[method-assign,assignment]
    return environment


class Migrations:
    """An app's migrations: the directory, Alembic's config (Flask-Migrate's, with its
    ``@migrate.configure`` callbacks) and scripts, run with :meth:`run`.

    :param app: the app (its ``db.engines`` are shown to ``env.py``).
    :param db: the app's Flask-SQLAlchemy.
    :param directory: the migrations directory, or None for Flask-Migrate's.
    :raises MigrationError: no migrations directory.
    """

    def __init__(
        self, app: flask.Flask, db: t.Any, directory: str | os.PathLike[str] | None = None
    ) -> None:
        require_alembic("building the test schema from migrations")
        self.app = app
        self.db = db
        self.directory = find_directory(app, directory)
        self.env_py = self.directory / "env.py"
        with app.app_context():
            self.config = self._config()
        from alembic.script import ScriptDirectory

        try:
            self.script = ScriptDirectory.from_config(self.config)
        except Exception as e:
            raise MigrationError(
                f"the migrations in {self.directory} cannot be read by Alembic: {e}"
            ) from e

    def _config(self) -> t.Any:
        migrate = self.app.extensions.get("migrate")
        if migrate is not None and hasattr(getattr(migrate, "migrate", None), "get_config"):
            return migrate.migrate.get_config(str(self.directory))
        from alembic.config import Config

        ini = self.directory / "alembic.ini"
        config = Config(str(ini) if ini.is_file() else None)
        config.set_main_option("script_location", str(self.directory))
        return config

    # -- the scripts -------------------------------------------------------------

    def revisions(self) -> list[Script]:
        """Every revision, each after the revisions it depends on (base first)."""
        try:
            return list(reversed(list(self.script.walk_revisions("base", "heads"))))
        except Exception as e:
            raise MigrationError(f"the migrations in {self.directory} cannot be read: {e}") from e

    def heads(self) -> list[Script]:
        return [self.script.get_revision(head) for head in self.script.get_heads()]

    def fingerprint(self) -> str:
        """A digest of every file that can change what the migrations build."""
        digest = hashlib.sha256()
        locations = list(getattr(self.script, "version_locations", []) or [])
        for name, content in script_files(self.directory, locations):
            relative = os.path.relpath(name, self.directory)
            digest.update(relative.encode() + b"\0" + content + b"\0")
        return digest.hexdigest()

    def describe(self, revision: Script) -> str:
        """``1a2b3c ("add users", versions/1a2b3c_add_users.py)``."""
        parts = []
        if revision.doc:
            parts.append(repr(revision.doc.strip().splitlines()[0]))
        if revision.path:
            try:
                parts.append(os.path.relpath(revision.path, self.directory))
            except ValueError:  # another drive on Windows
                parts.append(revision.path)
        return f"{revision.revision} ({', '.join(parts)})" if parts else revision.revision

    # -- running -----------------------------------------------------------------

    def run(self, targets: Mapping[str | None, Target], *, allow_any_database: bool) -> Outcome:
        """Run ``env.py`` once, each bind it configures on its target's connection,
        doing the target's work.

        :raises MigrationError: a migration failed (naming the revision, the bind and
            the statement), or ``env.py`` did.
        :raises NotATestDatabaseError: ``env.py`` connected to a database not named
            for tests.
        """
        from sqlalchemy import event

        state = _RunState(self, targets, allow_any_database)
        environment = _environment(self.config, self.script, state)
        listeners: list[tuple[Connection, Callable[..., None]]] = []
        for key, target in targets.items():

            def remember(
                conn: t.Any, cursor: t.Any, statement: str, *rest: t.Any, key: t.Any = key
            ) -> None:
                state.statements[key] = statement

            event.listen(target.connection, "before_cursor_execute", remember)
            listeners.append((target.connection, remember))
        try:
            with contextlib.ExitStack() as stack:
                stack.enter_context(self.app.app_context())
                stack.enter_context(
                    stack_for(self.db).serving(
                        self.app, {k: v.decoy for k, v in targets.items()}
                    )
                )
                stack.enter_context(logging_left_alone())
                stack.enter_context(environment)
                try:
                    self.script.run_env()
                except (MigrationError, NotATestDatabaseError):
                    raise
                except Exception as e:
                    raise self._failure(state, e) from e
        finally:
            for conn, listener in listeners:
                event.remove(conn, "before_cursor_execute", listener)
        return state.outcome

    def _failure(self, state: _RunState, error: BaseException) -> MigrationError:
        statement = getattr(error, "statement", None)
        detail = str(getattr(error, "orig", None) or error).strip()
        cause = f"{type(getattr(error, 'orig', None) or error).__name__}: {detail}"
        if state.current is None:
            if isinstance(error, KeyError) and error.args == ("migrate",):
                return MigrationError(
                    f"the migrations' env.py ({self.env_py}) reads"
                    " current_app.extensions['migrate'], and the app"
                    f" {self.app.name!r} has no Flask-Migrate: call Migrate(app, db) (or"
                    " migrate.init_app(app, db)) in create_app()"
                )
            return MigrationError(f"the migrations' env.py ({self.env_py}) raised {cause}")
        key, revision, upgrading = state.current
        if statement is None:
            statement = state.statements.get(key)
        target = state.targets[key]
        where = target.shown or shown(target.connection.engine.url)
        action = "upgrade" if upgrading else "downgrade"
        message = (
            f"the {action} of revision {self.describe(revision)} failed on {bind_name(key)}"
            f" ({where}): {cause}"
        )
        if statement:
            message += f"\nThe statement: {' '.join(str(statement).split())}"
        return MigrationError(
            message,
            revision=revision.revision,
            statement=None if statement is None else str(statement),
            bind=key,
        )


def _same_database(url: URL, target: Target) -> bool:
    """Whether ``url`` names the database of ``target`` (two in-memory SQLite URLs
    do: an env.py that builds its engine from the URL means the test's)."""
    from ._testnames import sqlite_path

    ours = target.connection.engine.url
    if url.get_backend_name() != ours.get_backend_name():
        return False
    if url.get_backend_name() == "sqlite":
        mine, theirs = sqlite_path(ours), sqlite_path(url)
        if mine is None or theirs is None:
            return mine is None and theirs is None
        return os.path.realpath(mine) == os.path.realpath(theirs)
    return (url.host, url.port, url.database) == (ours.host, ours.port, ours.database)


def _invalidate(connection: t.Any) -> None:
    """Close the DB-API connection under a SQLAlchemy connection env.py made (a no-op
    for None), so that it is not left to the garbage collector in env.py's pool."""
    if connection is not None and hasattr(connection, "invalidate"):
        connection.invalidate()
