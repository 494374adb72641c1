"""Plain SQLAlchemy: :class:`SQLAlchemyDatabase`, where an app keeps its engines, its
tables and its sessions, written once by the user; and Flask-SQLAlchemy-Lite with its
models' tables (``SQLAlchemyDatabase(db, Model.metadata)``)."""

from __future__ import annotations

import contextlib
import typing as t

from . import NOT_FOUND
from . import Stack
from . import is_instance

if t.TYPE_CHECKING:
    from collections.abc import Callable
    from collections.abc import Iterable
    from collections.abc import Iterator
    from collections.abc import Mapping
    from collections.abc import MutableMapping

    import flask
    from sqlalchemy.engine import Engine
    from sqlalchemy.orm import scoped_session
    from sqlalchemy.orm import sessionmaker
    from sqlalchemy.sql.schema import MetaData

    #: A session factory: a ``scoped_session`` (started afresh in each test, committed
    #: after class-level data) or a ``sessionmaker`` (checked, nothing more).
    SessionFactory = t.Union[scoped_session[t.Any], sessionmaker[t.Any]]
    #: Engines: one (named ``"default"``), several by name, or a function of the app
    #: that returns either (engines made in ``create_app``).
    Engines = t.Union[
        Engine,
        Mapping[str, Engine],
        Callable[[flask.Flask], t.Union[Engine, Mapping[str, Engine]]],
    ]

__all__ = ["SQLAlchemyDatabase"]

# Hides this module's frames from unittest tracebacks, so a failure points at the test.
__unittest = True

_DEFAULT = "default"


class SQLAlchemyDatabase:
    """The database of an app on plain SQLAlchemy, for :attr:`TestCase.db
    <flask_testcase.TestCase.db>`, the pytest plugin's ``db`` and
    :func:`~flask_testcase.database_isolation`: its engines, the tables to create in
    them, and the session factories that tests start afresh.

    .. code-block:: python

        # myapp/database.py, as in Flask's "SQLAlchemy in Flask" pattern
        engine = create_engine(os.environ["DATABASE_URL"])
        db_session = scoped_session(sessionmaker(bind=engine))
        Base = declarative_base()

        # tests
        db = SQLAlchemyDatabase(engine, Base.metadata, sessions=db_session)

    Every connection made to these engines' databases during a test, by any session,
    thread or raw connection, joins the test's transaction, which is rolled back
    afterwards; the sessions need no rebinding.

    :param engines: the engine (named ``"default"``), a mapping of name to engine, or a
        function called with the app under test that returns either, for engines
        made in ``create_app`` (``lambda app: app.extensions["engine"]``). A
        :class:`flask_sqlalchemy_lite.SQLAlchemy` instance stands for its engines.
    :param metadata: the tables to create (once per database per run), a
        :class:`~sqlalchemy.MetaData` for the only (or ``"default"``) engine or a
        mapping of engine name to metadata; None: the schema is made otherwise.
    :param sessions: a ``scoped_session`` or ``sessionmaker``, or several: each must be
        bound to one of ``engines``' databases (an error names any other engine);
        scoped sessions are removed before and after each test, and committed after
        ``setUpTestData``/data fixtures.
    :raises TypeError: an argument is of none of these forms.
    """

    def __init__(
        self,
        engines: Engines | t.Any,
        metadata: MetaData | Mapping[str, MetaData] | None = None,
        *,
        sessions: SessionFactory | Iterable[SessionFactory] = (),
    ) -> None:
        self.engines = engines
        self.metadata = metadata
        self.sessions: tuple[SessionFactory, ...] = _sessions(sessions)
        self._stack: Stack
        if is_instance(engines, "flask_sqlalchemy_lite", "SQLAlchemy"):
            from ._lite import LiteStack

            if self.sessions:
                raise TypeError(
                    "SQLAlchemyDatabase(db, ...) with a Flask-SQLAlchemy-Lite instance"
                    " finds its sessions in it: leave sessions= out"
                )
            self._stack = LiteStack(engines, _metadatas(metadata, None))
            return
        _check_engines(engines)
        self._stack = PlainStack(self)

    def __repr__(self) -> str:
        parts = [repr(self.engines)]
        if self.metadata is not None:
            parts.append(f"metadata={self.metadata!r}")
        if self.sessions:
            parts.append(f"sessions={self.sessions!r}")
        return f"SQLAlchemyDatabase({', '.join(parts)})"


# Shown, and importable, as the public name.
SQLAlchemyDatabase.__module__ = "flask_testcase"


class PlainStack(Stack):
    """What :class:`SQLAlchemyDatabase` says, as isolation asks it."""

    kind = "plain SQLAlchemy"

    def __init__(self, database: SQLAlchemyDatabase) -> None:
        super().__init__(database)
        self.database = database
        fixed = database.engines
        self._fixed: dict[t.Hashable, Engine] | None = None if callable(fixed) else _named(fixed)
        self._metadatas: dict[t.Hashable, MetaData] | None = _metadatas(
            database.metadata, None if self._fixed is None else list(self._fixed)
        )
        #: Why the engine function found nothing for an app, for the error.
        self._why: dict[int, str] = {}

    def engines(self, app: flask.Flask) -> MutableMapping[t.Hashable, Engine] | None:
        if self._fixed is not None:
            return dict(self._fixed)
        function = t.cast("Callable[[flask.Flask], object]", self.database.engines)
        try:
            found = function(app)
        except (LookupError, AttributeError) as e:
            self._why[id(app)] = f"{type(e).__name__}: {e}"
            return None
        if found is None:
            self._why[id(app)] = "it returned None"
            return None
        try:
            return _named(found)
        except TypeError as e:
            raise TypeError(f"SQLAlchemyDatabase's engines function: {e}") from None

    def missing(self, app: flask.Flask, label: str) -> Exception:
        why = self._why.pop(id(app), "it found nothing")
        return ValueError(
            f"{label}'s engines function found no engine for the app {app.name!r} ({why}):"
            " make the engine in create_app() where the function looks for it (e.g."
            " app.extensions['engine'] = create_engine(...)), or give the engine itself."
        )

    def bind_key(self, engine: Engine) -> t.Hashable:
        for key, candidate in (self._fixed or {}).items():
            if candidate is engine:
                return key
        return NOT_FOUND

    def bind_name(self, key: t.Hashable) -> str:
        return f"the engine {key!r}"

    @property
    def metadatas(self) -> Mapping[t.Hashable, MetaData]:
        return self._metadatas or {}

    def test_session(self, label: str) -> t.Any:
        scoped = self._scoped()
        if not scoped:
            raise TypeError(
                f"{label} names no scoped session to hand out: give it one,"
                " SQLAlchemyDatabase(engine, metadata, sessions=db_session)"
            )
        return scoped[0]

    def remove_sessions(self) -> None:
        for factory in self._scoped():
            factory.remove()

    def end_session_transactions(self) -> None:
        for factory in self._scoped():
            factory.rollback()

    @contextlib.contextmanager
    def data_session(self) -> Iterator[None]:
        scoped = self._scoped()
        for factory in scoped:
            factory.remove()
            # The instances made stay readable after the session closes.
            factory().expire_on_commit = False
        try:
            yield
            for factory in scoped:
                factory.commit()
        finally:
            for factory in scoped:
                factory.remove()

    def check(self, app: flask.Flask, reaches: Callable[[Engine], bool], label: str) -> None:
        from sqlalchemy.engine import Engine

        for index, factory in enumerate(self.database.sessions):
            name = f"{label}.sessions[{index}]"
            kw = _factory(factory).kw
            bound = [kw.get("bind"), *(kw.get("binds") or {}).values()]
            bound = [bind for bind in bound if bind is not None]
            if not bound:
                raise ValueError(
                    f"{name} ({factory!r}) has no engine bound, so flask_testcase cannot tell"
                    " which database its sessions use. Bind it (sessionmaker(bind=engine)),"
                    " or configure it in create_app() before the test runs"
                    " (db_session.configure(bind=engine))."
                )
            for bind in bound:
                engine = getattr(bind, "engine", bind)
                if not isinstance(engine, Engine):
                    continue
                if not reaches(engine):
                    shown = engine.url.render_as_string(hide_password=True)
                    raise ValueError(
                        f"{name} ({factory!r}) is bound to an engine for {shown}, which"
                        f" {label} does not list: its sessions' writes would not be rolled"
                        " back. Add that engine to the engines of SQLAlchemyDatabase (e.g."
                        " SQLAlchemyDatabase({'default': engine, 'other': that_engine},"
                        " ...)), or bind the session to one of them."
                    )

    def _scoped(self) -> list[scoped_session[t.Any]]:
        from sqlalchemy.orm import scoped_session

        return [f for f in self.database.sessions if isinstance(f, scoped_session)]


def _factory(factory: SessionFactory) -> sessionmaker[t.Any]:
    from sqlalchemy.orm import scoped_session

    made = factory.session_factory if isinstance(factory, scoped_session) else factory
    return made


def _check_engines(engines: object) -> None:
    if is_instance(engines, "flask_sqlalchemy", "SQLAlchemy"):
        raise TypeError(
            "SQLAlchemyDatabase() is for plain SQLAlchemy and Flask-SQLAlchemy-Lite; a"
            " Flask-SQLAlchemy instance is given as it is (db = db)"
        )
    if is_instance(engines, "sqlalchemy.orm", "sessionmaker") or is_instance(
        engines, "sqlalchemy.orm", "scoped_session"
    ):
        raise TypeError(
            f"SQLAlchemyDatabase()'s first argument is the engine(s), got the session"
            f" factory {engines!r}: write SQLAlchemyDatabase(engine, Base.metadata,"
            " sessions=it)"
        )
    if callable(engines) and not isinstance(engines, type):
        return
    _named(engines)


def _named(engines: object) -> dict[t.Hashable, Engine]:
    from collections.abc import Mapping

    from sqlalchemy.engine import Engine

    if isinstance(engines, Engine):
        return {_DEFAULT: engines}
    if isinstance(engines, Mapping) and engines:
        for name, engine in engines.items():
            if not isinstance(name, str) or not isinstance(engine, Engine):
                raise TypeError(
                    "SQLAlchemyDatabase's engines must map names (str) to engines"
                    f" (sqlalchemy.Engine), got {name!r}: {engine!r}"
                )
        return dict(engines)
    raise TypeError(
        "SQLAlchemyDatabase() takes the engine (sqlalchemy.Engine), a mapping of name to"
        " engine, a function of the app returning either, or a Flask-SQLAlchemy-Lite"
        f" instance; got {engines!r} ({type(engines).__name__})"
    )


def _metadatas(
    metadata: object, names: list[t.Hashable] | None
) -> dict[t.Hashable, MetaData] | None:
    """``metadata`` by engine name; ``names``: the engines, when known now."""
    from collections.abc import Mapping

    from sqlalchemy import MetaData

    if metadata is None:
        return None
    if isinstance(metadata, MetaData):
        if names is not None and len(names) > 1 and _DEFAULT not in names:
            shown = ", ".join(map(str, names))
            raise ValueError(
                f"SQLAlchemyDatabase(): one metadata for several engines ({shown}):"
                " say which engine has which tables, metadata={'name': Base.metadata, ...}"
            )
        only = names[0] if names is not None and len(names) == 1 else _DEFAULT
        return {only: metadata}
    if isinstance(metadata, Mapping) and all(isinstance(m, MetaData) for m in metadata.values()):
        unknown = [name for name in metadata if names is not None and name not in names]
        if unknown:
            raise ValueError(
                f"SQLAlchemyDatabase(): metadata for engines that are not given: {unknown}"
                f" (the engines are {names})"
            )
        return dict(metadata)
    hint = (
        " (write Base.metadata)"
        if isinstance(getattr(metadata, "metadata", None), MetaData)
        else ""
    )
    raise TypeError(
        "SQLAlchemyDatabase()'s metadata is a sqlalchemy.MetaData or a mapping of engine"
        f" name to MetaData, got {metadata!r}{hint}"
    )


def _sessions(sessions: object) -> tuple[t.Any, ...]:
    from sqlalchemy.orm import scoped_session
    from sqlalchemy.orm import sessionmaker

    if isinstance(sessions, (scoped_session, sessionmaker)):
        return (sessions,)
    try:
        found: tuple[t.Any, ...] = tuple(t.cast("Iterable[t.Any]", sessions))
    except TypeError:
        found = (sessions,)
    for factory in found:
        if not isinstance(factory, (scoped_session, sessionmaker)):
            raise TypeError(
                "SQLAlchemyDatabase()'s sessions are scoped_session or sessionmaker"
                f" objects, got {factory!r} ({type(factory).__name__})"
            )
    return found
