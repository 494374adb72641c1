"""The one table: a saved link and how often it was followed."""

from __future__ import annotations

import sqlalchemy as sa

from .database import Base


class Link(Base):
    __tablename__ = "link"
    id = sa.Column(sa.Integer, primary_key=True)
    url = sa.Column(sa.String(500), nullable=False)
    title = sa.Column(sa.String(200), nullable=False)
    clicks = sa.Column(sa.Integer, nullable=False, default=0)

    def to_json(self) -> dict[str, object]:
        return {"id": self.id, "url": self.url, "title": self.title, "clicks": self.clicks}
