"""Rows made once for a class, each test's changes undone after it, and a query count."""

from __future__ import annotations

import sqlalchemy as sa
from linkapp import db_session
from linkapp.models import Link

from .base import LinkTestCase


class SharedLinkTests(LinkTestCase):
    @classmethod
    def setUpTestData(cls):
        # Once for the class, in a transaction rolled back after it; the scoped
        # session is committed for the hook. Keep ids: the instances are detached.
        links = [
            Link(url=f"https://example.com/{i}", title=f"Link {i}", clicks=0) for i in range(3)
        ]
        db_session.add_all(links)
        db_session.flush()
        cls.first_id = links[0].id

    def test_a_following_the_first_link(self):
        self.client.get(f"/go/{self.first_id}")
        self.assertEqual(db_session.get(Link, self.first_id).clicks, 1)

    def test_b_the_count_is_back_to_zero(self):
        self.assertEqual(db_session.get(Link, self.first_id).clicks, 0)

    def test_the_page_runs_one_query_whatever_the_number_of_links(self):
        with self.assertNumQueries(1):
            self.client.get("/")
        self.assertEqual(db_session.scalar(sa.select(sa.func.count(Link.id))), 3)
