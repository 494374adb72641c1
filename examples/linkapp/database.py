"""The database, as in Flask's "SQLAlchemy in Flask" pattern: a scoped session and the
declarative base made when the module is imported, before any app exists.
:func:`linkapp.create_app` makes the engine its config names and binds the session to
it; each app context removes the session when it ends."""

from __future__ import annotations

from sqlalchemy.orm import declarative_base
from sqlalchemy.orm import scoped_session
from sqlalchemy.orm import sessionmaker

db_session = scoped_session(sessionmaker(autoflush=False))
Base = declarative_base()
