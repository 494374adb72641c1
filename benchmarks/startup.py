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
- ``flask_testcase_reuse`` and ``flask_testcase_clone``: flask_testcase's own reuse of
  a migrated database and its per-worker clone, "not available yet" until the
  features land (:data:`REUSE` and :data:`CLONE` say where to plug them in).

Every database made here is named after the benchmark's ``--database`` and dropped at
the end.
"""

from __future__ import annotations

import time
import typing as t

import sqlalchemy as sa

if t.TYPE_CHECKING:
    from collections.abc import Callable

    from .postgresql import Databases

__all__ = ["CLONE", "REUSE", "startup_runs"]

#: flask_testcase's reuse of a database migrated in an earlier run (issue 21): a
#: callable taking the app and doing what a second run does before its first test, or
#: None until the feature lands.
REUSE: Callable[[t.Any], None] | None = None

#: flask_testcase's clone of a migrated template for one more xdist worker (issue
#: 21): a callable taking the template's URL and the worker's database name and
#: leaving that database ready, or None until the feature lands.
CLONE: Callable[[str, str], None] | None = None


def startup_runs(pg: Databases) -> dict[str, Callable[[int], float]]:
    """A bench's ``run`` for each operation, by harness name: ``run(n)`` does the
    operation ``n`` times and returns the seconds the operations took."""
    from . import schema_app

    empty = pg.name + "_setup_empty"
    built_url = pg.make("_setup_built", schema_app.db.metadata)
    head_url = pg.make("_setup_head")
    template_url = pg.make("_setup_template")
    clone = pg.name + "_setup_clone"
    pg.make("_setup_empty")
    pg.make("_setup_clone")
    for url in (head_url, template_url):
        _in_app(url, _upgrade)
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
        return on(head_url, lambda: hook(_current_app()))(n)

    def clone_ours(n: int) -> float:
        if CLONE is None:
            raise NotImplementedError("cloning a worker's database is not built yet")
        seconds = 0.0
        for _ in range(n):
            pg.drop(clone)
            start = time.perf_counter()
            CLONE(template_url, clone)
            seconds += time.perf_counter() - start
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
