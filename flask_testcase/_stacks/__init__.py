"""Where an app's engines, tables and sessions are, for each way a Flask app talks to
SQL: one small adapter (a :class:`Stack`) per stack.

Database isolation works on engines (:mod:`flask_testcase.isolation`): every
connection an engine of an isolated database makes joins the test's transaction,
whoever asks for it. What differs between the stacks is only where things are:

- which engine serves each bind of an app (:meth:`Stack.engines`), and how the app's
  config named it (for the guard's messages);
- the tables of each bind (:attr:`Stack.metadatas`), the one input of the schema step;
- the sessions a test starts afresh and class-level data is committed in
  (:meth:`Stack.remove_sessions`, :meth:`Stack.data_session`).

:func:`stack_for` picks the adapter for what the user wrote: a Flask-SQLAlchemy
instance (``_flask_sqlalchemy.py``), a Flask-SQLAlchemy-Lite instance (``_lite.py``),
a :class:`~flask_testcase.SQLAlchemyDatabase` for plain SQLAlchemy (``_plain.py``), or
a tuple of them (:class:`Several`). Nothing here imports SQLAlchemy or an extension:
an instance of an extension's class exists only once its module was imported.
"""

from __future__ import annotations

import contextlib
import functools
import sys
import typing as t

if t.TYPE_CHECKING:
    from collections.abc import Callable
    from collections.abc import Iterator
    from collections.abc import Mapping
    from collections.abc import MutableMapping

    import flask
    from sqlalchemy.engine import URL
    from sqlalchemy.engine import Engine
    from sqlalchemy.sql.schema import MetaData

__all__ = ["ACCEPTED", "NOT_FOUND", "Several", "Stack", "is_instance", "parse_url", "stack_for"]

# Hides this module's frames from unittest tracebacks, so a failure points at the test.
__unittest = True

#: What :meth:`Stack.bind_key` returns for an engine the stack did not make.
NOT_FOUND: t.Hashable = object()

#: The forms ``db`` takes, for error messages.
ACCEPTED = (
    "a flask_sqlalchemy.SQLAlchemy instance, a flask_sqlalchemy_lite.SQLAlchemy instance"
    " (with its models' tables: SQLAlchemyDatabase(db, Model.metadata)), a"
    " flask_testcase.SQLAlchemyDatabase for plain SQLAlchemy"
    " (SQLAlchemyDatabase(engine, Base.metadata, sessions=db_session)), or a tuple of"
    " these for an app that uses several"
)


def parse_url(value: t.Any) -> URL | None:
    """``value`` (a config setting: a string or a URL) as a URL, None when it is empty
    or unreadable. Strings are parsed once each: the guard reads them for every test."""
    from sqlalchemy.engine import make_url

    if not value:
        return None
    try:
        return _parse(value) if isinstance(value, str) else make_url(value)
    except Exception:
        return None


@functools.lru_cache(maxsize=64)
def _parse(value: str) -> URL:
    from sqlalchemy.engine import make_url

    return make_url(value)


def is_instance(value: object, module: str, name: str) -> bool:
    """Whether ``value`` is an instance of ``module.name``, without importing
    ``module``: an instance exists only once its module was imported."""
    found = sys.modules.get(module)
    cls = getattr(found, name, None) if found is not None else None
    return isinstance(cls, type) and isinstance(value, cls)


class Stack:
    """Where one stack keeps an app's engines, tables and sessions. Subclasses say how;
    isolation, the guard and the schema step ask only this."""

    #: The stack's name in messages ("Flask-SQLAlchemy").
    kind: t.ClassVar[str] = "SQLAlchemy"
    #: Where relative SQLite paths are opened, for the guard's message; None: the
    #: stack resolves them as SQLite does, from the working directory.
    relative_to_instance: t.ClassVar[bool] = False

    def __init__(self, source: t.Hashable) -> None:
        #: The user's object (the extension instance, the SQLAlchemyDatabase): two
        #: stacks over the same one are the same stack.
        self.source = source

    def __repr__(self) -> str:
        return f"<{type(self).__name__} of {self.source!r}>"

    # -- engines -------------------------------------------------------------------

    def engines(self, app: flask.Flask) -> MutableMapping[t.Hashable, Engine] | None:
        """The engine of each bind for ``app``, or None when the stack was never set up
        on it. A mapping the stack reads again (Flask-SQLAlchemy's), so that
        isolation can hand out the run's engines through it for a test."""
        raise NotImplementedError

    def missing(self, app: flask.Flask, label: str) -> Exception:
        """The error for an app :meth:`engines` found nothing in."""
        raise NotImplementedError

    def bind_key(self, engine: Engine) -> t.Hashable:
        """The bind under which the stack made ``engine`` for some app, or
        :data:`NOT_FOUND` (for in-memory SQLite, where each engine is a database)."""
        return NOT_FOUND

    def default_key(self, engines: Mapping[t.Hashable, Engine]) -> t.Hashable:
        """The key of the default engine among ``engines`` (the only one, or the one
        named ``"default"``)."""
        if len(engines) == 1 or "default" not in engines:
            return next(iter(engines))
        return "default"

    def memory_index(self, key: t.Hashable) -> tuple[t.Hashable, t.Hashable]:
        """What tells bind ``key``'s in-memory SQLite database apart from any other's."""
        return self.source, key

    # -- how the config named them, for the guard -----------------------------------

    def bind_name(self, key: t.Hashable) -> str:
        return "the default bind" if key is None else f"the bind {key!r}"

    def setting(self, key: t.Hashable) -> str | None:
        """The config key that gives bind ``key``'s URL (None: the engine's own URL is
        the setting)."""
        return None

    def configured_url(self, app: flask.Flask, key: t.Hashable, engine: Engine) -> URL | None:
        """The URL the app's config gives bind ``key`` now, if it can be read."""
        return engine.url

    def init_call(self, label: str) -> str:
        """How the app makes the stack's engines, for the guard's message."""
        return "create_engine()"

    # -- tables ----------------------------------------------------------------------

    @property
    def metadatas(self) -> Mapping[t.Hashable, MetaData]:
        """The tables of each bind (a bind without models may be missing)."""
        return {}

    def schema_unknown(self, label: str) -> str | None:
        """Why the schema step cannot know the tables (None: it can)."""
        return None

    # -- sessions --------------------------------------------------------------------

    def test_session(self, label: str) -> t.Any:
        """The session test code uses (``db.session``)."""
        raise TypeError(f"{label}: {self.kind} has no session of its own to hand out")

    def remove_sessions(self) -> None:
        """Forget the sessions of the current scope: the next use begins afresh (inside
        a test's isolation, or after it)."""

    def end_session_transactions(self) -> None:
        """End the transactions of the current scope's sessions (a context of the app
        pushed before the test, which the test must not share)."""

    @contextlib.contextmanager
    def data_session(self) -> Iterator[None]:
        """A block that makes class-level data: the stack's session in it keeps the
        instances readable after it closes, and is committed at the end."""
        yield

    def record_queries(self, app: flask.Flask, engines: list[Engine]) -> None:
        """Make the stack's query recording (if it has one) see ``engines``."""

    @contextlib.contextmanager
    def serving(self, app: flask.Flask, engines: Mapping[t.Hashable, Engine]) -> Iterator[None]:
        """While the block runs, the stack hands out ``engines`` for their binds of
        ``app`` (where it reads its mapping again: Flask-SQLAlchemy's ``db.engines``,
        Flask-SQLAlchemy-Lite's); restored after the block."""
        mapping = self.engines(app)
        if mapping is None:
            raise self.missing(app, "db")
        saved = dict(mapping)
        mapping.update(engines)
        try:
            yield
        finally:
            mapping.clear()
            mapping.update(saved)

    def check(self, app: flask.Flask, reaches: Callable[[Engine], bool], label: str) -> None:
        """Refuse a session of the stack bound to an engine whose database
        ``reaches`` says the isolation does not have."""

    def owns(self, value: object) -> bool:
        """Whether ``value``, found on the app, is this stack's own (its extension)."""
        return value is self.source


class Several(Stack):
    """Several stacks on one app (Flask-SQLAlchemy and a plain engine), isolated
    together: each bind key is ``(index, the member's key)``."""

    kind = "several stacks"

    def __init__(self, members: tuple[Stack, ...]) -> None:
        super().__init__(tuple(member.source for member in members))
        self.members = members

    def _member(self, key: t.Hashable) -> tuple[Stack, t.Hashable]:
        index, inner = t.cast("tuple[int, t.Hashable]", key)
        return self.members[index], inner

    def engines(self, app: flask.Flask) -> MutableMapping[t.Hashable, Engine] | None:
        targets = []
        for member in self.members:
            engines = member.engines(app)
            if engines is None:
                return None
            targets.append(engines)
        return _SeveralEngines(targets)

    def missing(self, app: flask.Flask, label: str) -> Exception:
        for index, member in enumerate(self.members):
            if member.engines(app) is None:
                return member.missing(app, f"{label}[{index}]")
        return ValueError(f"{label}: every stack has engines for {app!r}")  # pragma: no cover

    def bind_key(self, engine: Engine) -> t.Hashable:
        for index, member in enumerate(self.members):
            key = member.bind_key(engine)
            if key is not NOT_FOUND:
                return index, key
        return NOT_FOUND

    def memory_index(self, key: t.Hashable) -> tuple[t.Hashable, t.Hashable]:
        member, inner = self._member(key)
        return member.memory_index(inner)

    def bind_name(self, key: t.Hashable) -> str:
        member, inner = self._member(key)
        return f"{member.bind_name(inner)} of {member.kind}"

    def setting(self, key: t.Hashable) -> str | None:
        member, inner = self._member(key)
        return member.setting(inner)

    def configured_url(self, app: flask.Flask, key: t.Hashable, engine: Engine) -> URL | None:
        member, inner = self._member(key)
        return member.configured_url(app, inner, engine)

    def init_call(self, label: str) -> str:
        return " or ".join(member.init_call(label) for member in self.members)

    @property
    def metadatas(self) -> Mapping[t.Hashable, MetaData]:
        return {
            (index, key): metadata
            for index, member in enumerate(self.members)
            for key, metadata in member.metadatas.items()
        }

    def schema_unknown(self, label: str) -> str | None:
        for index, member in enumerate(self.members):
            reason = member.schema_unknown(f"{label}[{index}]")
            if reason is not None:
                return reason
        return None

    def default_key(self, engines: Mapping[t.Hashable, Engine]) -> t.Hashable:
        first = self.members[0]
        inner = first.default_key({k[1]: e for k, e in engines.items() if k[0] == 0})  # type: ignore[index]
        return 0, inner

    def test_session(self, label: str) -> t.Any:
        return self.members[0].test_session(f"{label}[0]")

    def remove_sessions(self) -> None:
        for member in self.members:
            member.remove_sessions()

    def end_session_transactions(self) -> None:
        for member in self.members:
            member.end_session_transactions()

    @contextlib.contextmanager
    def data_session(self) -> Iterator[None]:
        with contextlib.ExitStack() as stack:
            for member in self.members:
                stack.enter_context(member.data_session())
            yield

    def record_queries(self, app: flask.Flask, engines: list[Engine]) -> None:
        for member in self.members:
            member.record_queries(app, engines)

    def check(self, app: flask.Flask, reaches: Callable[[Engine], bool], label: str) -> None:
        for index, member in enumerate(self.members):
            member.check(app, reaches, f"{label}[{index}]")

    def owns(self, value: object) -> bool:
        return any(member.owns(value) for member in self.members)


class _SeveralEngines(dict):  # type: ignore[type-arg]
    """The engines of several stacks for one app; writing one writes it through to its
    member's mapping, so that each member hands out the run's engines too."""

    def __init__(self, targets: list[MutableMapping[t.Hashable, Engine]]) -> None:
        super().__init__(
            ((index, key), engine)
            for index, engines in enumerate(targets)
            for key, engine in engines.items()
        )
        self._targets = targets

    def __setitem__(self, key: t.Hashable, engine: Engine) -> None:
        super().__setitem__(key, engine)
        index, inner = t.cast("tuple[int, t.Hashable]", key)
        self._targets[index][inner] = engine

    def update(self, *args: t.Any, **kwargs: t.Any) -> None:
        for key, engine in dict(*args, **kwargs).items():
            self[key] = engine

    def clear(self) -> None:
        super().clear()


def stack_for(db: object, label: str = "db") -> Stack:
    """The adapter for ``db``, in any of the forms of :data:`ACCEPTED`.

    :param label: how the caller names ``db`` in errors (``"UserTests.db"``).
    :raises TypeError: ``db`` is none of them (the message lists what was looked for).
    """
    if isinstance(db, Stack):
        return db
    if is_instance(db, "flask_sqlalchemy", "SQLAlchemy"):
        from ._flask_sqlalchemy import FlaskSQLAlchemyStack

        return FlaskSQLAlchemyStack(db)
    if is_instance(db, "flask_sqlalchemy_lite", "SQLAlchemy"):
        from ._lite import LiteStack

        return LiteStack(db, None)
    from ._plain import SQLAlchemyDatabase

    if isinstance(db, SQLAlchemyDatabase):
        return db._stack
    if isinstance(db, (tuple, list)) and db:
        members = tuple(stack_for(member, f"{label}[{i}]") for i, member in enumerate(db))
        if any(isinstance(member, Several) for member in members):
            raise TypeError(f"{label}: a tuple of stacks cannot hold another tuple; list each once")
        return Several(members)
    raise TypeError(
        f"{label} must be the app's database, {ACCEPTED}; got {db!r}"
        f" ({type(db).__name__}).{_hint(db)}"
    )


def _hint(db: object) -> str:
    """What to write instead of a part of plain SQLAlchemy given on its own."""
    if is_instance(db, "sqlalchemy.engine", "Engine"):
        return (
            " For an engine of plain SQLAlchemy write SQLAlchemyDatabase(engine,"
            " Base.metadata, sessions=db_session)."
        )
    if is_instance(db, "sqlalchemy.orm", "sessionmaker") or is_instance(
        db, "sqlalchemy.orm", "scoped_session"
    ):
        return (
            " A session factory does not say which tables to create: write"
            " SQLAlchemyDatabase(engine, Base.metadata, sessions=it)."
        )
    if is_instance(db, "sqlalchemy", "MetaData"):
        return " For plain SQLAlchemy write SQLAlchemyDatabase(engine, metadata)."
    if db is None:
        return " Set it to the app's database (see the database chapter)."
    return (
        " flask_testcase looked for the classes of Flask-SQLAlchemy and"
        " Flask-SQLAlchemy-Lite and for a SQLAlchemyDatabase, and found none."
    )
