"""Flask-SQLAlchemy-Lite 0.2: named engines per app (``SQLALCHEMY_ENGINES``), one
``sessionmaker`` per app bound to them, sessions per app context (``db.session``,
``db.get_session(name)``); the tables are the user's (``Model.metadata``), given with
:class:`~flask_testcase.SQLAlchemyDatabase` since the extension does not know them."""

from __future__ import annotations

import contextlib
import typing as t

from .. import _internals
from . import NOT_FOUND
from . import Stack
from . import parse_url

if t.TYPE_CHECKING:
    from collections.abc import Iterator
    from collections.abc import Mapping
    from collections.abc import MutableMapping

    import flask
    from sqlalchemy.engine import URL
    from sqlalchemy.engine import Engine
    from sqlalchemy.sql.schema import MetaData

__all__ = ["LiteStack"]

# Hides this module's frames from unittest tracebacks, so a failure points at the test.
__unittest = True


class LiteStack(Stack):
    kind = "Flask-SQLAlchemy-Lite"
    relative_to_instance = True

    def __init__(self, db: t.Any, metadatas: Mapping[t.Hashable, MetaData] | None) -> None:
        super().__init__(db)
        self.db = db
        self._metadatas = metadatas

    def engines(self, app: flask.Flask) -> MutableMapping[t.Hashable, Engine] | None:
        state = _internals.lite_state(self.db, app)
        if state is None:
            return None
        if state.async_engines:
            from ..isolation._errors import IsolationError

            names = ", ".join(repr(name) for name in state.async_engines)
            raise IsolationError(
                f"the app {app.name!r} has async engines (SQLALCHEMY_ASYNC_ENGINES: {names}),"
                " which flask_testcase cannot isolate yet: their writes would be committed"
                " for real. Configure only SQLALCHEMY_ENGINES for the tests, or use"
                " db.async_test_isolation() of Flask-SQLAlchemy-Lite for them."
            )
        engines: MutableMapping[t.Hashable, Engine] = state.engines
        return engines

    def missing(self, app: flask.Flask, label: str) -> Exception:
        registered = app.extensions.get("sqlalchemy")
        if registered is not None and registered is not self.db:
            return ValueError(
                f"{label} is not the Flask-SQLAlchemy-Lite instance the app {app.name!r}"
                " was set up with: app.extensions['sqlalchemy'] is another one. Use the"
                " instance the app calls init_app() with."
            )
        return ValueError(
            f"{label} is not registered on the app {app.name!r}, which has no"
            " Flask-SQLAlchemy-Lite: call db.init_app(app) in create_app() (your app"
            " factory)."
        )

    def bind_key(self, engine: Engine) -> t.Hashable:
        for state in _internals.lite_states(self.db):
            for key, candidate in list(state.engines.items()):
                if candidate is engine:
                    found: t.Hashable = key
                    return found
        return NOT_FOUND

    def bind_name(self, key: t.Hashable) -> str:
        return f"the engine {key!r}"

    def setting(self, key: t.Hashable) -> str | None:
        return f"SQLALCHEMY_ENGINES[{key!r}]"

    def configured_url(self, app: flask.Flask, key: t.Hashable, engine: Engine) -> URL | None:
        from sqlalchemy.engine import URL

        value = (app.config.get("SQLALCHEMY_ENGINES") or {}).get(key)
        if isinstance(value, dict):
            value = value.get("url")
        if isinstance(value, dict):
            try:
                return URL.create(**value)
            except Exception:
                return None
        return parse_url(value)

    def init_call(self, label: str) -> str:
        return "db.init_app(app)"

    @property
    def metadatas(self) -> Mapping[t.Hashable, MetaData]:
        return self._metadatas or {}

    def schema_unknown(self, label: str) -> str | None:
        if self._metadatas is not None:
            return None
        return (
            f"{label} is a Flask-SQLAlchemy-Lite instance, which does not know your"
            " models' tables, so flask_testcase cannot create them: name them with"
            " flask_testcase.SQLAlchemyDatabase(db, Model.metadata) in its place, or turn"
            " schema creation off (create_schema = False) when the tables are made"
            " otherwise."
        )

    def test_session(self, label: str) -> t.Any:
        return self.db.session

    def remove_sessions(self) -> None:
        from flask import has_app_context

        if has_app_context():
            for session in _internals.lite_sessions():
                session.close()

    def end_session_transactions(self) -> None:
        for session in _internals.lite_sessions():
            session.rollback()

    @contextlib.contextmanager
    def data_session(self) -> Iterator[None]:
        session = self.db.session
        # The instances made stay readable after the session closes.
        session.expire_on_commit = False
        try:
            yield
            session.commit()
        finally:
            session.close()
