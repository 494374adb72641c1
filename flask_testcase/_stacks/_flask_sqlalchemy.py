"""Flask-SQLAlchemy 3: engines per app and bind key (``SQLALCHEMY_DATABASE_URI``,
``SQLALCHEMY_BINDS``), the tables of ``db.metadatas``, the scoped ``db.session``."""

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

__all__ = ["FlaskSQLAlchemyStack"]

# Hides this module's frames from unittest tracebacks, so a failure points at the test.
__unittest = True


class FlaskSQLAlchemyStack(Stack):
    kind = "Flask-SQLAlchemy"
    relative_to_instance = True

    def __init__(self, db: t.Any) -> None:
        super().__init__(db)
        self.db = db

    def engines(self, app: flask.Flask) -> MutableMapping[t.Hashable, Engine] | None:
        return _internals.app_engines(self.db, app)  # type: ignore[return-value]

    def missing(self, app: flask.Flask, label: str) -> Exception:
        registered = app.extensions.get("sqlalchemy")
        if registered is not None and registered is not self.db:
            return ValueError(
                f"{label} is not the SQLAlchemy instance the app {app.name!r} was set up"
                " with: app.extensions['sqlalchemy'] is another one. Set"
                f" {label} to the instance the app calls init_app() with (import it"
                " from the module where your app factory gets it)."
            )
        return ValueError(
            f"{label} is not registered on the app {app.name!r}, which has no"
            f" Flask-SQLAlchemy: call {label.rsplit('.', 1)[-1]}.init_app(app) in"
            " create_app() (your app factory)."
        )

    def bind_key(self, engine: Engine) -> t.Hashable:
        key = _internals.bind_key(self.db, engine)
        return NOT_FOUND if key is _internals.NOT_FOUND else key

    def setting(self, key: t.Hashable) -> str | None:
        return "SQLALCHEMY_DATABASE_URI" if key is None else f"SQLALCHEMY_BINDS[{key!r}]"

    def configured_url(self, app: flask.Flask, key: t.Hashable, engine: Engine) -> URL | None:
        if key is None:
            value = app.config.get("SQLALCHEMY_DATABASE_URI")
        else:
            value = (app.config.get("SQLALCHEMY_BINDS") or {}).get(key)
            if isinstance(value, dict):
                value = value.get("url")
        return parse_url(value)

    def init_call(self, label: str) -> str:
        return "db.init_app(app)"

    @property
    def metadatas(self) -> Mapping[t.Hashable, MetaData]:
        return self.db.metadatas  # type: ignore[no-any-return]

    def default_key(self, engines: Mapping[t.Hashable, Engine]) -> t.Hashable:
        return None

    def test_session(self, label: str) -> t.Any:
        return self.db.session

    def remove_sessions(self) -> None:
        from flask import has_app_context

        if has_app_context():
            self.db.session.remove()

    def end_session_transactions(self) -> None:
        self.db.session.rollback()

    @contextlib.contextmanager
    def data_session(self) -> Iterator[None]:
        # The instances made stay readable after the session closes.
        self.db.session(expire_on_commit=False)
        try:
            yield
            self.db.session.commit()
        finally:
            self.db.session.remove()

    def record_queries(self, app: flask.Flask, engines: list[Engine]) -> None:
        if app.config.get("SQLALCHEMY_RECORD_QUERIES"):
            for engine in engines:
                _internals.listen_record_queries(engine)

