"""The JSON API, the page and the CLI of the Links app, each test rolled back."""

from __future__ import annotations

import sqlalchemy as sa
from linkapp import db_session
from linkapp.models import Link

from .base import LinkTestCase


def count():
    return db_session.scalar(sa.select(sa.func.count(Link.id)))


class ApiTests(LinkTestCase):
    def test_a_link_is_saved_through_the_api(self):
        response = self.client.post(
            "/api/links", json={"url": "https://palletsprojects.com/", "title": "Pallets"}
        )
        self.assertStatus(response, 201)
        link_id = response.json["id"]
        self.assertJSONEqual(
            response,
            {"id": link_id, "url": "https://palletsprojects.com/", "title": "Pallets", "clicks": 0},
        )
        self.assertHeader(response, "Location", f"/go/{link_id}")
        self.assertEqual(count(), 1)

    def test_a_url_that_is_not_http_is_refused(self):
        response = self.client.post("/api/links", json={"url": "javascript:alert(1)"})
        self.assert400(response)
        self.assertJSONEqual(response, {"error": "url must be an http:// or https:// address"})
        self.assertEqual(count(), 0)

    def test_every_test_starts_with_no_links(self):
        # Whatever the other tests committed is gone.
        self.assertEqual(self.client.get("/api/links").json, [])

    def test_deleting_a_link(self):
        link = self.make_link()
        self.assertStatus(self.client.delete(f"/api/links/{link.id}"), 204)
        self.assertEqual(count(), 0)
        self.assert404(self.client.delete(f"/api/links/{link.id}"))


class PageTests(LinkTestCase):
    def test_the_page_lists_links_most_followed_first(self):
        self.make_link(title="Flask", clicks=1)
        self.make_link(url="https://werkzeug.palletsprojects.com/", title="Werkzeug", clicks=5)
        self.client.get("/")
        self.assertTemplateUsed("index.html")
        titles = [link.title for link in self.get_context_variable("links")]
        self.assertEqual(titles, ["Werkzeug", "Flask"])

    def test_following_a_link_counts_and_redirects(self):
        link = self.make_link()
        response = self.client.get(f"/go/{link.id}")
        self.assertRedirects(response, "https://flask.palletsprojects.com/")
        # The view committed the new count in its own session.
        db_session.expire_all()
        self.assertEqual(db_session.get(Link, link.id).clicks, 1)

    def test_an_unknown_link_is_a_404(self):
        self.assert404(self.client.get("/go/999"))


class CliTests(LinkTestCase):
    def test_add_link_saves_it(self):
        result = self.runner.invoke(args=["add-link", "https://jinja.palletsprojects.com/"])
        self.assertEqual(result.exit_code, 0, result.output)
        self.assertIn("Saved link", result.output)
        self.assertEqual(count(), 1)
