"""Real-commit mode: the test and the app commit for real, and afterwards every table
the test wrote is emptied, its rows from before the test put back and its sequence
reset.

- **What was written** (:class:`WriteTracker`): while any real-commit isolation is
  active, one ``before_cursor_execute`` listener on SQLAlchemy's ``Engine`` class reads
  the target of each ``INSERT``, ``UPDATE``, ``DELETE``, ``REPLACE``, ``MERGE`` and
  ``TRUNCATE`` (:func:`written_names`, cached per statement string) run by any engine
  of the process on one of the isolated databases: the test's, the app's, a live
  server thread's, a worker thread's own engine. Writes by another process (a server
  in a subprocess) are not seen: :meth:`RealCommits.written` names their tables.
- **Levels** (:class:`Level`): the isolation itself (class-level or module-level
  data, or the test) and one level per :meth:`~flask_testcase.DatabaseIsolation.savepoint`
  (each test over shared data). A level records the tables written while it is the
  newest; when it ends, those tables (and the tables that reference them through
  foreign keys, which emptying them would break) get back the rows they had when it
  began.
- **The rows to put back** come from the run's first snapshot of each database (taken
  once, after its schema and hook, of the tables that hold rows) or, for a table that
  a level below wrote (class-level data), from a snapshot taken once when the first
  level above it began; each test puts that state back, so one snapshot serves them all.
- **Emptying** runs on a connection of the isolation's own, in one transaction, with a
  lock timeout (:data:`LOCK_TIMEOUT`): ``DELETE`` children first and ``setval`` on
  PostgreSQL, ``DELETE`` and ``sqlite_sequence`` on SQLite, ``TRUNCATE`` with foreign
  key checks off on MySQL/MariaDB. Before it, a connection the test left checked out
  (or, in memory, a transaction left open) is an error naming the test.
"""

from __future__ import annotations

import functools
import re
import threading
import typing as t
import weakref

from ._errors import IsolationError
from ._registry import identity
from ._registry import is_memory
from ._sql import TRANSACTION_CONTROL

if t.TYPE_CHECKING:
    from collections.abc import Iterable

    from sqlalchemy.engine import Connection
    from sqlalchemy.engine import Engine
    from sqlalchemy.sql.schema import MetaData
    from sqlalchemy.sql.schema import Table

    from ._registry import Database

__all__ = [
    "LOCK_TIMEOUT",
    "Level",
    "RealCommits",
    "WriteTracker",
    "reset_postgresql_sequences",
    "written_names",
]

# Hides this module's frames from unittest tracebacks, so a failure points at the test.
__unittest = True

#: How long emptying the tables a test wrote waits for a lock another connection holds,
#: in seconds, before it fails with an error naming the test (PostgreSQL's
#: ``lock_timeout``, MySQL's ``lock_wait_timeout``, SQLite's busy timeout).
LOCK_TIMEOUT = 10.0

_NAME = r'(?:"(?:[^"]|"")+"|`[^`]+`|\[[^\]]+\]|[\w$]+)'
_WRITE = re.compile(
    r"\b(?:INSERT(?:\s+(?:OR\s+\w+|IGNORE|LOW_PRIORITY|DELAYED|HIGH_PRIORITY))*\s+INTO"
    r"|REPLACE(?:\s+(?:LOW_PRIORITY|DELAYED))?\s+INTO"
    r"|UPDATE(?:\s+(?:OR\s+\w+|LOW_PRIORITY|IGNORE|ONLY))*"
    r"|DELETE(?:\s+(?:LOW_PRIORITY|QUICK|IGNORE))*\s+FROM(?:\s+ONLY)?"
    r"|TRUNCATE(?:\s+TABLE)?(?:\s+ONLY)?|MERGE\s+INTO)"
    rf"\s+({_NAME}(?:\s*\.\s*{_NAME})?)",
    re.IGNORECASE,
)
# Statements that write nothing, let through without a scan.
_READ_ONLY = re.compile(
    r"\s*(?:SELECT|SHOW|EXPLAIN|PRAGMA|SAVEPOINT|RELEASE|ROLLBACK|COMMIT|BEGIN|SET)\b[^;]*\Z",
    re.IGNORECASE | re.DOTALL,
)


@functools.lru_cache(maxsize=4096)
def written_names(statement: str) -> tuple[str, ...]:
    """The (lower-cased, unquoted, unqualified) names of the tables ``statement``
    writes, as far as its text says: the target of each ``INSERT``, ``UPDATE``,
    ``DELETE``, ``REPLACE``, ``MERGE`` and ``TRUNCATE`` in it."""
    if _READ_ONLY.match(statement):
        return ()
    names = []
    for match in _WRITE.finditer(statement):
        last = re.split(r"\s*\.\s*(?=[\"`\[\w$])", match.group(1))[-1]
        if last[:1] in "\"`[":
            last = last[1:-1].replace('""', '"')
        names.append(last.lower())
    return tuple(names)


class Level:
    """What one level of a real-commit isolation wrote, and the snapshots of those
    tables that the levels above it restore."""

    __slots__ = ("owner", "snapshots", "written")

    def __init__(self, owner: str) -> None:
        #: Who the level is for, named in errors.
        self.owner = owner
        #: (database, table) pairs written while this level was the newest.
        self.written: set[tuple[Database, Table]] = set()
        #: The rows of tables this level wrote, as the level left them, taken when the
        #: first level above it began.
        self.snapshots: dict[tuple[Database, Table], list[tuple[t.Any, ...]]] = {}


class WriteTracker:
    """The one ``before_cursor_execute`` listener on ``Engine`` while any real-commit
    isolation is active; it tells each of them the tables its databases get written."""

    _lock = threading.Lock()
    active: t.ClassVar[list[RealCommits]] = []

    @classmethod
    def add(cls, real: RealCommits) -> None:
        from sqlalchemy import event
        from sqlalchemy.engine import Engine

        with cls._lock:
            if not cls.active:
                event.listen(Engine, "before_cursor_execute", cls._seen)
            cls.active.append(real)

    @classmethod
    def remove(cls, real: RealCommits) -> None:
        from sqlalchemy import event
        from sqlalchemy.engine import Engine

        with cls._lock:
            if real in cls.active:
                cls.active.remove(real)
                if not cls.active:
                    event.remove(Engine, "before_cursor_execute", cls._seen)

    @staticmethod
    def _seen(
        conn: Connection,
        cursor: t.Any,
        statement: str,
        parameters: t.Any,
        context: t.Any,
        executemany: bool,
    ) -> None:
        for real in list(WriteTracker.active):
            real.seen(conn, statement)


class RealCommits:
    """The real-commit part of one :class:`~flask_testcase.DatabaseIsolation`: its
    levels, what they wrote, and emptying.

    :param owner: who asked for it, named in errors.
    :param connections: the isolation's own connection to each database (idle between
        statements), which empties the tables.
    :param metadatas: the metadata of each database's tables.
    :param recorders: the lists of the isolation's ``capture_queries`` blocks.
    """

    def __init__(
        self,
        owner: str,
        connections: dict[Database, Connection],
        metadatas: dict[Database, list[MetaData]],
        recorders: list[list[str]],
    ) -> None:
        self.owner = owner
        self._connections = connections
        self._recorders = recorders
        self._tables: dict[Database, dict[str, Table]] = {}
        self._order: dict[Database, list[Table]] = {}
        self._dependents: dict[Database, dict[Table, set[Table]]] = {}
        for database, found in metadatas.items():
            by_name: dict[str, Table] = {}
            order: list[Table] = []
            dependents: dict[Table, set[Table]] = {}
            for metadata in found:
                for table in metadata.sorted_tables:
                    by_name.setdefault(table.name.lower(), table)
                    order.append(table)
                    for fk in table.foreign_keys:
                        parent = fk.column.table
                        if parent is not table:
                            dependents.setdefault(parent, set()).add(table)
            self._tables[database] = by_name
            self._order[database] = order
            self._dependents[database] = dependents
        self._identities = {identity(d.engine.url): d for d in connections}
        self._identities.pop(None, None)
        self._by_engine: weakref.WeakKeyDictionary[Engine, Database | None] = (
            weakref.WeakKeyDictionary()
        )
        #: The levels, outermost first; each write goes to the newest.
        self.levels: list[Level] = []

    # -- tracking --------------------------------------------------------------------

    def start(self) -> None:
        for database in self._connections:
            _baseline(database, self._connections[database], self._order[database])
        self.levels.append(Level(self.owner))
        WriteTracker.add(self)

    def _database_of(self, engine: Engine) -> Database | None:
        try:
            return self._by_engine[engine]
        except KeyError:
            pass
        found: Database | None = None
        for database in self._connections:
            if database.engine is engine:
                found = database
        if found is None and not is_memory(engine.url):
            found = self._identities.get(identity(engine.url))
        self._by_engine[engine] = found
        return found

    def seen(self, conn: Connection, statement: str) -> None:
        """``statement`` runs on ``conn``: note the tables it writes."""
        database = self._database_of(conn.engine)
        if database is None or conn is self._connections.get(database) or not self.levels:
            return
        if self._recorders and not TRANSACTION_CONTROL.match(statement):
            for queries in self._recorders:
                queries.append(statement)
        names = written_names(statement)
        if names:
            self._note(database, names)

    def _note(self, database: Database, names: Iterable[str]) -> None:
        level = self.levels[-1]
        tables = self._tables[database]
        for name in names:
            table = tables.get(name.lower())
            if table is not None:
                level.written.add((database, table))
                level.snapshots.pop((database, table), None)

    def written(self, *names: str) -> None:
        """Tell the newest level that the tables ``names`` were written by code this
        process cannot see (another process): they are emptied after it too.

        :raises ValueError: a name is not a table of the isolated databases.
        """
        for name in names:
            found = [d for d in self._connections if name.lower() in self._tables[d]]
            if not found:
                known = sorted({n for d in self._connections for n in self._tables[d]})
                raise ValueError(
                    f"{self.owner}: written({name!r}): no table of that name in the isolated"
                    f" databases; their tables are {', '.join(known) or 'none'}"
                )
            for database in found:
                self._note(database, [name])

    def written_tables(self) -> list[str]:
        """The names of the tables written so far in the newest level, sorted."""
        return sorted({table.name for _, table in self.levels[-1].written}) if self.levels else []

    # -- levels ----------------------------------------------------------------------

    def push(self, owner: str | None = None) -> None:
        """A level on top: what is written from now on is undone when it ends.

        :param owner: who the level is for (a test), named in errors; default: the
            isolation's owner.
        """
        below: dict[tuple[Database, Table], Level] = {}
        for level in self.levels:
            for key in level.written:
                below[key] = level
        for (database, table), level in below.items():
            if (database, table) not in level.snapshots:
                level.snapshots[database, table] = _rows(self._connections[database], table)
                self._connections[database].rollback()
        self.levels.append(Level(owner or self.owner))

    def pop(self) -> None:
        """End the newest level: its tables get back the rows they had when it began."""
        level = self.levels.pop()
        self._restore(level)

    def end(self) -> None:
        """End every level, newest first, and stop tracking."""
        try:
            while self.levels:
                self.pop()
        finally:
            WriteTracker.remove(self)

    # -- emptying --------------------------------------------------------------------

    def _restore(self, level: Level) -> None:
        owner = level.owner
        left = self._left_open(owner)
        errors: list[str] = []
        by_database: dict[Database, set[Table]] = {}
        for database, table in level.written:
            by_database.setdefault(database, set()).add(table)
        for database, written in by_database.items():
            tables = self._closure(database, written)
            rows = {table: self._before(database, table) for table in tables}
            try:
                _empty_and_fill(self._connections[database], tables, rows, self._order[database])
            except Exception as e:
                names = ", ".join(sorted(table.name for table in tables))
                errors.append(
                    f"{owner}: the tables it wrote ({names}) could not be emptied on"
                    f" {_shown(database)} within {LOCK_TIMEOUT:g} s: {type(e).__name__}: {e}."
                    " Another connection or process still holds a transaction on them: end"
                    " it before the test ends (close sessions and connections, stop worker"
                    " threads and servers the test started)."
                )
        if left or errors:
            raise IsolationError("\n".join(left + errors))

    def _left_open(self, owner: str) -> list[str]:
        """What the test left that could hold a lock on its tables."""
        found = []
        for database, conn in self._connections.items():
            pool = database.engine.pool
            checkedout = getattr(pool, "checkedout", None)
            if checkedout is not None and type(pool).__name__ not in {
                "StaticPool",
                "SingletonThreadPool",
            }:
                extra = checkedout() - 1  # the isolation's own
                if extra > 0:
                    found.append(
                        f"{owner} left {extra} connection(s) to {_shown(database)} checked"
                        " out when it ended (a session or engine.connect() not closed, or a"
                        " thread still using the database). Close them before the test"
                        " ends (with blocks, session.close(), stop and join the threads):"
                        " real-commit mode empties the tables the test wrote, and an open"
                        " transaction could hold their locks."
                    )
            raw = conn.connection.driver_connection
            if is_memory(database.engine.url) and getattr(raw, "in_transaction", False):
                conn.connection.driver_connection.rollback()  # type: ignore[union-attr]
                found.append(
                    f"{owner} left a transaction open on {_shown(database)} (a session"
                    " not committed or closed): commit or close it before the test ends;"
                    " it was rolled back."
                )
        return found

    def _closure(self, database: Database, written: set[Table]) -> list[Table]:
        dependents = self._dependents[database]
        seen = set(written)
        todo = list(written)
        while todo:
            for child in dependents.get(todo.pop(), ()):
                if child not in seen:
                    seen.add(child)
                    todo.append(child)
        return [table for table in self._order[database] if table in seen]

    def _before(self, database: Database, table: Table) -> list[tuple[t.Any, ...]]:
        """The rows ``table`` had when the newest level (already popped) began."""
        for level in reversed(self.levels):
            if (database, table) in level.written:
                return level.snapshots.get((database, table), [])
        return _baselines.get(database, {}).get(table.fullname, [])


# The rows each database's tables held when the run first used it in real-commit mode
# (after its schema and hook), by table name (empty tables are left out), and the names
# of the tables read.
_baselines: weakref.WeakKeyDictionary[Database, dict[str, list[tuple[t.Any, ...]]]] = (
    weakref.WeakKeyDictionary()
)
_read: weakref.WeakKeyDictionary[Database, set[str]] = weakref.WeakKeyDictionary()


def _baseline(database: Database, conn: Connection, tables: list[Table]) -> None:
    known = _baselines.setdefault(database, {})
    read = _read.setdefault(database, set())
    new = [table for table in tables if table.fullname not in read]
    if not new:
        return
    from sqlalchemy import inspect

    existing = set(inspect(conn).get_table_names())
    for table in new:
        if table.schema is None and table.name not in existing:
            continue
        rows = _rows(conn, table)
        if rows:
            known[table.fullname] = rows
    conn.rollback()
    read.update(table.fullname for table in new)


def _rows(conn: Connection, table: Table) -> list[tuple[t.Any, ...]]:
    return [tuple(row) for row in conn.execute(table.select())]


def _insertable(table: Table) -> list[t.Any]:
    return [column for column in table.columns if column.computed is None]


def _empty_and_fill(
    conn: Connection,
    tables: list[Table],
    rows: dict[Table, list[tuple[t.Any, ...]]],
    order: list[Table],
) -> None:
    dialect = conn.dialect.name
    quote = conn.dialect.identifier_preparer.format_table
    try:
        if dialect == "postgresql":
            conn.exec_driver_sql(f"SET LOCAL lock_timeout = '{int(LOCK_TIMEOUT * 1000)}ms'")
            for table in reversed(tables):
                conn.exec_driver_sql(f"DELETE FROM {quote(table)}")
        elif dialect in {"mysql", "mariadb"}:
            timeout = max(1, int(LOCK_TIMEOUT))
            conn.exec_driver_sql(
                f"SET SESSION lock_wait_timeout = {timeout},"
                f" SESSION innodb_lock_wait_timeout = {timeout}, FOREIGN_KEY_CHECKS = 0"
            )
            for table in tables:
                conn.exec_driver_sql(f"TRUNCATE TABLE {quote(table)}")
        else:
            if dialect == "sqlite":
                conn.exec_driver_sql(f"PRAGMA busy_timeout = {int(LOCK_TIMEOUT * 1000)}")
            for table in reversed(tables):
                conn.exec_driver_sql(f"DELETE FROM {quote(table)}")
            if dialect == "sqlite" and conn.exec_driver_sql(
                "SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'"
            ).first():
                names = ", ".join(f"'{table.name}'" for table in tables if table.schema is None)
                if names:
                    conn.exec_driver_sql(f"DELETE FROM sqlite_sequence WHERE name IN ({names})")
        for table in tables:
            found = rows.get(table)
            if found:
                columns = [column.key for column in table.columns]
                keep = {column.key for column in _insertable(table)}
                conn.execute(
                    table.insert(),
                    [{k: v for k, v in zip(columns, row) if k in keep} for row in found],
                )
        if dialect == "postgresql":
            reset_postgresql_sequences(conn, tables)
        elif dialect in {"mysql", "mariadb"}:
            conn.exec_driver_sql("SET FOREIGN_KEY_CHECKS = 1")
        conn.commit()
    except BaseException:
        conn.rollback()
        if dialect in {"mysql", "mariadb"}:
            conn.exec_driver_sql("SET FOREIGN_KEY_CHECKS = 1")
            conn.rollback()
        raise


def reset_postgresql_sequences(conn: Connection, tables: list[Table]) -> None:
    """Set the sequence of each table's generated integer key after its highest id, in
    one statement (both reset_sequences and real-commit mode use it)."""
    from sqlalchemy import Integer

    preparer = conn.dialect.identifier_preparer
    parts = []
    params: dict[str, str] = {}
    for i, table in enumerate(tables):
        columns = list(table.primary_key.columns)
        if (
            len(columns) != 1
            or columns[0].autoincrement not in (True, "auto")
            or not isinstance(columns[0].type, Integer)
        ):
            continue
        column = columns[0]
        params[f"t{i}"] = preparer.format_table(table)
        params[f"c{i}"] = column.name
        parts.append(
            f"setval(pg_get_serial_sequence(%(t{i})s, %(c{i})s), COALESCE((SELECT"
            f" MAX({preparer.quote(column.name)}) FROM {preparer.format_table(table)}),"
            " 0) + 1, false)"
        )
    if parts:
        conn.exec_driver_sql("SELECT " + ", ".join(parts), params)


def _shown(database: Database) -> str:
    return database.engine.url.render_as_string(hide_password=True)
