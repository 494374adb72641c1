"""The database features of :class:`~flask_testcase.TestCase`: ``db`` and its options,
class-level data (:meth:`DatabaseMixin.setUpTestData`) and
:meth:`DatabaseMixin.assertNumQueries`, built on
:class:`~flask_testcase.isolation.DatabaseIsolation`.

This module imports SQLAlchemy only when a test sets ``db``.
"""

from __future__ import annotations

import contextlib
import contextvars
import typing as t

from ._hooks import FixtureHooks

if t.TYPE_CHECKING:
    from collections.abc import Callable
    from collections.abc import Iterator

    import flask

    from .isolation import DatabaseIsolation

__all__ = ["DatabaseMixin"]

# Hides this module's frames from unittest tracebacks, so a failure points at the test.
__unittest = True

_CLASS_DATA = "_flask_testcase_class_data"


class _ClassData:
    """A class's isolation for :meth:`DatabaseMixin.setUpTestData`."""

    def __init__(self, isolation: DatabaseIsolation) -> None:
        self.isolation = isolation
        self.error: BaseException | None = None


class DatabaseMixin(FixtureHooks):
    """Database features of :class:`~flask_testcase.TestCase`, active when ``db`` is set:
    each test in transactions rolled back afterwards, class-level data
    (:meth:`setUpTestData`), :meth:`assertNumQueries`, and the options below. See the
    database chapter of the documentation."""

    #: A :class:`flask_sqlalchemy.SQLAlchemy` instance; when set, each test runs in a
    #: transaction rolled back afterwards (see the database chapter).
    db: t.ClassVar[t.Any] = None

    #: Create the tables of ``db``'s models (``create_all``, which skips tables that
    #: exist) once per database per run, outside any test's transaction. Set to false
    #: when the schema comes from migrations run before the tests.
    create_schema: t.ClassVar[bool] = True

    #: Run tests (and :attr:`create_schema`) against a database whose name does not
    #: mark it as a test database (see :func:`~flask_testcase.is_test_database`).
    #: Without it such a database is refused with
    #: :class:`~flask_testcase.NotATestDatabaseError` before anything touches it.
    allow_any_database: t.ClassVar[bool] = False

    #: Make primary keys start from 1 in each test (after the highest id in tables
    #: that hold rows, such as class-level data), as in a fresh database, for tests
    #: that hard-code ids. Rollback alone does not reset PostgreSQL sequences or
    #: MySQL counters. Costs one statement per test on PostgreSQL and one ``ALTER
    #: TABLE`` per table per test on MySQL/MariaDB (not possible there together with
    #: :meth:`setUpTestData`); SQLite needs nothing.
    reset_sequences: t.ClassVar[bool] = False

    if t.TYPE_CHECKING:
        app: flask.Flask
        _isolation: DatabaseIsolation

    @classmethod
    def setUpTestData(cls) -> None:
        """Create data shared by every test of the class. Override it.

        Called once per class, before the first test's ``setUp``, inside a transaction
        that stays open for the class and is rolled back after its last test; each
        test runs in a savepoint on top, so changes a test makes to this data are
        undone after that test. It runs in an app context of its own (the first
        test's app), and ``db.session`` is committed after it returns. The instances
        it creates are detached afterwards: keep their primary keys (``cls.user_id =
        user.id``) and load them in the test with ``db.session.get()``. If it
        raises, the first test reports the error and the class's other tests fail
        with a pointer to it.

        While a class with this hook runs, its connections stay checked out; they
        are returned after the class.
        """

    def _setup_fixtures(self) -> None:
        super()._setup_fixtures()
        if self.db is None:
            return
        cls = type(self)
        if not _has_class_data(cls):
            isolation = self._new_isolation()
            self._use_isolation(isolation)
            isolation.start(self.app)
            self.addCleanup(isolation.end)
        else:
            data: _ClassData | None = cls.__dict__.get(_CLASS_DATA)
            if data is None:
                data = self._start_class_data(cls)
            elif data.error is not None:
                raise RuntimeError(
                    f"{cls.__name__}.setUpTestData() raised in an earlier test of the class"
                    f" ({data.error!r}); see that test's error"
                )
            self._use_isolation(data.isolation)
            self._enter(data.isolation.route(self.app))
            self._enter(data.isolation.savepoint())
        # The session of the test's request context began before the isolation.
        self.db.session.remove()

    def _use_isolation(self, isolation: DatabaseIsolation) -> None:
        self._isolation = isolation
        self.addCleanup(vars(self).pop, "_isolation", None)

    def _new_isolation(self) -> DatabaseIsolation:
        """An isolation of ``db`` with this class's options, named after it in errors."""
        from .isolation import DatabaseIsolation

        name = type(self).__name__
        return DatabaseIsolation(
            self.db,
            create_schema=self.create_schema,
            allow_any_database=self.allow_any_database,
            owner=name,
            opt_in=f"set allow_any_database = True on {name}",
            db_label=f"{name}.db",
            reset_sequences=self.reset_sequences,
        )

    def _start_class_data(self, cls: type[DatabaseMixin]) -> _ClassData:
        isolation = self._new_isolation()
        data = _ClassData(isolation)
        setattr(cls, _CLASS_DATA, data)
        cls.addClassCleanup(_end_class, cls, data)
        try:
            isolation.start(self.app)
            contextvars.Context().run(_call_class_hook, cls, self.app, self.db)
        except BaseException as e:
            data.error = e
            raise
        return data

    def assertNumQueries(
        self,
        num: int,
        func: Callable[..., t.Any] | None = None,
        *args: t.Any,
        msg: str | None = None,
        **kwargs: t.Any,
    ) -> t.Any:
        """Check that exactly ``num`` SQL statements run, on every bind of ``db``.

        Use it as a context manager (it yields the list of statements captured so
        far), or pass a callable to call with ``args`` and ``kwargs``::

            with self.assertNumQueries(2):
                self.client.post("/users", data={"name": "ada"})

        Statements from client requests, CLI commands and other threads count;
        savepoints and ``BEGIN`` that isolation adds around app code do not. When the
        block raises, nothing is checked. The failure message lists the statements,
        numbered.

        :param num: the expected number of statements.
        :param func: call this instead of using a ``with`` block; its result is
            returned.
        :param msg: added to the standard failure message.
        """
        if isinstance(num, bool) or not isinstance(num, int):
            raise TypeError(f"assertNumQueries() num must be an int, got {num!r}")
        if num < 0:
            raise ValueError(f"assertNumQueries() num must be >= 0, got {num}")
        if self.db is None:
            raise ValueError(
                f"assertNumQueries() counts the queries of the database in 'db'; set"
                f" db = <your flask_sqlalchemy.SQLAlchemy> on {type(self).__name__}"
            )
        context = self._assert_num_queries(num, msg)
        if func is None:
            return context
        with context:
            return func(*args, **kwargs)

    def _assert_num_queries(self, num: int, msg: str | None) -> t.ContextManager[list[str]]:
        return count_queries(
            self._isolation, num, lambda standard: self.fail(self._formatMessage(msg, standard))
        )


@contextlib.contextmanager
def count_queries(
    isolation: DatabaseIsolation, num: int, fail: Callable[[str], t.NoReturn]
) -> Iterator[list[str]]:
    """Collect the statements app code runs inside the block and call ``fail`` with
    the standard message (the statements, numbered) unless there were ``num``.

    :param isolation: the test's isolation, whose statements are counted.
    :param num: the expected number of statements.
    :param fail: raises the failure, given the standard message.
    """
    with isolation.capture_queries() as queries:
        yield queries
    if len(queries) != num:
        listing = "\n".join(f"{i}. {q}" for i, q in enumerate(queries, 1)) or "(none)"
        fail(
            f"{len(queries)} != {num} : {len(queries)} queries executed, {num} expected\n"
            f"Captured queries were:\n{listing}"
        )


def _has_class_data(cls: type[DatabaseMixin]) -> bool:
    hook = getattr(cls.setUpTestData, "__func__", None)
    return hook is not DatabaseMixin.setUpTestData.__func__  # type: ignore[attr-defined]


def _call_class_hook(cls: type[DatabaseMixin], app: flask.Flask, db: t.Any) -> None:
    with app.app_context():
        # The instances the hook makes stay readable after its session closes.
        db.session(expire_on_commit=False)
        cls.setUpTestData()
        db.session.commit()


def _end_class(cls: type, data: _ClassData) -> None:
    try:
        data.isolation.end()
    finally:
        if cls.__dict__.get(_CLASS_DATA) is data:
            delattr(cls, _CLASS_DATA)
