"""What a run pays before its first test for the 26-table schema, on PostgreSQL.

Issue 21 asks that a second run with reuse start no slower than one ``create_all``, and
that each extra pytest-xdist worker's database, cloned from a migrated template, be
ready in at most 0.3 s. Each harness here times one operation, repeated (a bench's
"tests" are its operations), with what it needs made beforehand, untimed:

- ``create_all``: the 26 tables and their indexes made in an empty database (the
  reference);
- ``create_all_existing``: ``create_all`` again on a database that has them, which
  checks each table and makes nothing: what a kept database costs a run today;
- ``upgrade_from_empty`` and ``upgrade_at_head``: Flask-Migrate's ``upgrade`` on an
  empty database, and on one already at head (Alembic reads the scripts, runs
  ``env.py`` and finds nothing to do);
- ``clone_template``: ``CREATE DATABASE ... TEMPLATE`` from a migrated database, then
  a first query on the clone: the least a worker's database can cost;
- ``flask_testcase_reuse``: what a second run of a suite with ``schema_from =
  "migrations"`` pays before its first test (:data:`REUSE`): flask_testcase's
  isolation finds the database a first run migrated and marked, reads the marker,
  migrates nothing, and runs a first query;
- ``flask_testcase_clone``: what one more pytest-xdist worker pays before its first
  test (:data:`CLONE`): :func:`~flask_testcase.database_for_tests` names (and creates)
  its database, then flask_testcase's isolation finds the template a first worker
  built and marked, replaces the worker's database with a copy of it, and runs a
  first query.

Both go through flask_testcase's own code (:mod:`flask_testcase.schema`), as a run
does; what a run keeps in its process (the databases it made, its engines) is
forgotten before each operation, so that each is a new run's or a new worker's.

Every database made here is named after the benchmark's ``--database`` and dropped at
the end.
"""

from __future__ import annotations

import contextlib
import os
import time
import typing as t

import sqlalchemy as sa

if t.TYPE_CHECKING:
    from collections.abc import Callable
    from collections.abc import Iterator

    from .postgresql import Databases

__all__ = ["CLONE", "REUSE", "WORKER", "reuse_migrated", "startup_runs", "worker_clone"]

#: The pytest-xdist worker whose database :data:`CLONE` makes (``gw0``, the first
#: worker, builds the template beforehand, untimed).
WORKER = "gw1"


def reuse_migrated(app: t.Any) -> None:
    """What a second run with ``schema_from = "migrations"`` does before its first test,
    in an app context of ``app``: flask_testcase's isolation of the app's ``db``, which
    finds the marker a first run left in the database (the same migration scripts), so
    migrates nothing; then a first query, rolled back with the isolation."""
    from flask_testcase import database_isolation

    from . import schema_app

    _forget_run()
    with database_isolation(schema_app.db, app, schema_from="migrations"):
        schema_app.db.session.execute(sa.text("SELECT 1")).scalar()
        schema_app.db.session.remove()


def worker_clone(template_url: str, database: str, worker: str = WORKER) -> float:
    """What one more pytest-xdist worker (``worker``) does before its first test:
    :func:`~flask_testcase.database_for_tests` of the suite's database (it creates the
    worker's, ``database``: a copy of the template, which the first worker built and
    marked), then flask_testcase's isolation with ``schema_from = "migrations"``,
    which finds that copy built from the same migrations and uses it as it is; then a
    first query. Returns the seconds it took, building the app left out (as the other
    operations leave it out).

    :param template_url: the template's URL; its name is the suite's database's with
        ``_template`` for the worker suffix (``test_shop_template`` for
        ``test_shop_gw1``), as flask_testcase names it.
    :param database: the worker's database, ``<suite's database>_<worker>``.
    :param worker: the worker's name; the first worker to come (``gw0`` here) finds no
        template and builds it, from the migrations.
    """
    import flask_testcase

    from . import schema_app

    suite = sa.make_url(template_url).set(database=database.removesuffix(f"_{worker}"))
    _forget_run()
    with _as_worker(worker):
        start = time.perf_counter()
        url = flask_testcase.database_for_tests(suite.render_as_string(hide_password=False))
        seconds = time.perf_counter() - start
        try:
            assert sa.make_url(url).database == database, (url, database)
            app = schema_app.create_app(url)
            start = time.perf_counter()
            with (
                app.app_context(),
                flask_testcase.database_isolation(schema_app.db, schema_from="migrations"),
            ):
                schema_app.db.session.execute(sa.text("SELECT 1")).scalar()
                schema_app.db.session.remove()
            return seconds + time.perf_counter() - start
        finally:
            _forget_run(url)


#: flask_testcase's reuse of a database migrated in an earlier run (issue 21): a
#: callable taking the app and doing what a second run does before its first test.
REUSE: Callable[[t.Any], None] | None = reuse_migrated

#: flask_testcase's clone of a migrated template for one more xdist worker (issue
#: 21): a callable taking the template's URL and the worker's database name, leaving
#: that database ready after a first query, and returning the seconds that took.
CLONE: Callable[[str, str], float] | None = worker_clone


def _forget_run(made: str | None = None) -> None:
    """Forget what this process's earlier operations left, as a new process would
    not have it: the isolation's run engines (closed), and the database ``made`` by
    :func:`~flask_testcase.database_for_tests` (not dropped: the bench drops it)."""
    from flask_testcase import databases
    from flask_testcase.isolation import _registry

    _registry.close_all()
    if made is not None:
        with databases._lock:
            databases._made.pop(made, None)
            databases._copied.pop(made, None)


@contextlib.contextmanager
def _as_worker(name: str) -> Iterator[None]:
    """While the block runs, this process is pytest-xdist's worker ``name`` of one run
    (the benchmark's: every worker of a run shares its id)."""
    values = {"PYTEST_XDIST_WORKER": name, "PYTEST_XDIST_TESTRUNUID": f"bench{os.getpid()}"}
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                del os.environ[key]
            else:
                os.environ[key] = value


def startup_runs(pg: Databases) -> dict[str, Callable[[int], float]]:
    """A bench's ``run`` for each operation, by harness name: ``run(n)`` does the
    operation ``n`` times and returns the seconds the operations took."""
    from . import schema_app

    empty = pg.name + "_setup_empty"
    built_url = pg.make("_setup_built", schema_app.db.metadata)
    head_url = pg.make("_setup_head")
    # A first run through flask_testcase migrates this one and marks it (untimed).
    reused_url = pg.make("_setup_reused")
    # The template and the workers' databases, named as flask_testcase names them:
    # the first worker (gw0) builds the template, untimed; the operation is gw1's.
    template_url = pg.make("_setup_template")
    first_worker = pg.make("_setup_gw0")
    clone = sa.make_url(pg.make(f"_setup_{WORKER}")).database or ""
    pg.make("_setup_empty")
    _in_app(head_url, _upgrade)
    _in_app(reused_url, lambda: reuse_migrated(_current_app()))
    worker_clone(template_url, sa.make_url(first_worker).database or "", worker="gw0")
    template = sa.make_url(template_url).database

    def on_empty(op: Callable[[], None]) -> Callable[[int], float]:
        def run(n: int) -> float:
            seconds = 0.0
            for _ in range(n):
                pg.create(empty)
                seconds += _in_app(pg.url_of(empty), op)
            return seconds

        return run

    def on(url: str, op: Callable[[], None]) -> Callable[[int], float]:
        return lambda n: sum(_in_app(url, op) for _ in range(n))

    def clone_template(n: int) -> float:
        seconds = 0.0
        for _ in range(n):
            pg.drop(clone)
            start = time.perf_counter()
            with pg.server.connect() as connection:
                connection.execute(sa.text(f'CREATE DATABASE "{clone}" TEMPLATE "{template}"'))
            _first_query(pg.url_of(clone))
            seconds += time.perf_counter() - start
        return seconds

    def reuse(n: int) -> float:
        if REUSE is None:
            raise NotImplementedError("reusing a migrated database is not built yet")
        hook = REUSE
        return on(reused_url, lambda: hook(_current_app()))(n)

    def clone_ours(n: int) -> float:
        if CLONE is None:
            raise NotImplementedError("cloning a worker's database is not built yet")
        seconds = 0.0
        for _ in range(n):
            # A worker starts with no database of its own.
            pg.drop(clone)
            seconds += CLONE(template_url, clone)
        return seconds

    return {
        "create_all": on_empty(_create_all),
        "create_all_existing": on(built_url, _create_all),
        "upgrade_from_empty": on_empty(_upgrade),
        "upgrade_at_head": on(head_url, _upgrade),
        "flask_testcase_reuse": reuse,
        "clone_template": clone_template,
        "flask_testcase_clone": clone_ours,
    }


def _in_app(url: str, op: Callable[[], None]) -> float:
    """Build the schema app on ``url`` (untimed), run ``op`` in its app context and
    return the seconds ``op`` took; the app's connections are closed afterwards."""
    from . import schema_app

    app = schema_app.create_app(url)
    with app.app_context():
        try:
            start = time.perf_counter()
            op()
            return time.perf_counter() - start
        finally:
            schema_app.db.engine.dispose()


def _create_all() -> None:
    from . import schema_app

    schema_app.db.create_all()


def _upgrade() -> None:
    import flask_migrate

    from .suites import logging_kept

    with logging_kept():
        flask_migrate.upgrade()


def _current_app() -> t.Any:
    import flask

    return flask.current_app._get_current_object()  # type: ignore[attr-defined]


def _first_query(url: str) -> None:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    finally:
        engine.dispose()
