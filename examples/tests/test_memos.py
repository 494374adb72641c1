"""The server-rendered pages: templates, their context, HTML, flashes, redirects."""

from __future__ import annotations

from flask import url_for
from memoapp.models import Memo
from memoapp.models import db

from flask_testcase import override_config

from .base import MemoTestCase


# These tests post hand-made forms, without the CSRF token of the page's form.
@override_config(WTF_CSRF_ENABLED=False)
class MemoPageTests(MemoTestCase):
    def setUp(self):
        self.ada = self.make_user("ada")
        self.grace = self.make_user("grace")

    def add_memo(self, author, title, body=""):
        memo = Memo(author=author, title=title, body=body)
        db.session.add(memo)
        db.session.commit()
        return memo

    def test_index_says_when_there_is_nothing(self):
        response = self.client.get("/")
        self.assertContains(response, "No memos yet.")
        self.assertTemplateUsed("memos/index.html")

    def test_index_links_every_memo_newest_first(self):
        first = self.add_memo(self.ada, "Buy milk")
        second = self.add_memo(self.grace, "Call Ada")
        response = self.client.get("/")
        self.assertInHTML(f'<a href="/memos/{first.id}">Buy milk</a>', response)
        self.assertInHTML('<p class="author">by grace</p>', response, count=1)
        self.assertEqual([m.id for m in self.get_context_variable("memos")], [second.id, first.id])

    @override_config(MEMOS_PER_PAGE=2)
    def test_the_index_shows_memos_per_page_at_a_time(self):
        # The view reads MEMOS_PER_PAGE for each request: overriding it for this
        # test changes the page size (and it is put back afterwards).
        for title in ("Oldest", "Middle", "Newest"):
            self.add_memo(self.ada, title)
        response = self.client.get("/")
        self.assertEqual(
            [m.title for m in self.get_context_variable("memos")], ["Newest", "Middle"]
        )
        self.assertInHTML('<a href="/?page=2" rel="next">Older memos</a>', response)
        response = self.client.get("/?page=2")
        self.assertEqual([m.title for m in self.get_context_variable("memos")], ["Oldest"])
        self.assertInHTML('<a href="/?page=1" rel="prev">Newer memos</a>', response)
        self.assertNotContains(response, "Older memos")

    def test_detail_escapes_the_body(self):
        memo = self.add_memo(self.ada, "HTML", "<script>alert(1)</script>")
        response = self.client.get(url_for("memos.detail", memo_id=memo.id))
        self.assertContains(response, "&lt;script&gt;alert(1)&lt;/script&gt;")
        self.assertNotContains(response, "<script>")

    def test_unknown_memo_is_404(self):
        self.assert404(self.client.get("/memos/999"))

    def test_writing_a_memo_redirects_to_it(self):
        # Logged in without the form: the next requests are made as ada.
        self.login(self.ada)
        # Only what happens inside the block counts.
        with self.assertDoesNotRenderTemplate("memos/form.html"):
            response = self.client.post("/memos/new", data={"title": "Plan", "body": "Step 1"})
        memo = db.session.execute(db.select(Memo).filter_by(title="Plan")).scalar_one()
        self.assertRedirects(response, url_for("memos.detail", memo_id=memo.id))
        self.assertMessageFlashed("Memo saved.", "success")
        self.assertEqual(memo.author.username, "ada")

    def test_a_memo_without_title_is_refused(self):
        self.login(self.ada)
        with self.assertRendersTemplate("memos/form.html"):
            response = self.client.post("/memos/new", data={"title": "  ", "body": "kept"})
        self.assertStatus(response, 422)
        self.assertMessageFlashed("Title is required.", "error")
        self.assertContext("errors", {"title": "Title is required."})
        # What the user typed is kept in the form.
        self.assertInHTML('<textarea name="body" id="body">kept</textarea>', response)

    def test_anonymous_users_are_sent_to_log_in(self):
        response = self.client.post("/memos/new", data={"title": "Plan"})
        self.assertRedirects(response, "/auth/login?next=%2Fmemos%2Fnew")
        self.assertEqual(db.session.scalar(db.select(db.func.count(Memo.id))), 0)

    def test_only_the_author_may_delete(self):
        memo = self.add_memo(self.grace, "Mine")
        self.login(self.ada)
        self.assert403(self.client.post(f"/memos/{memo.id}/delete"))
        self.assertMessageNotFlashed("Memo deleted.")
        self.assertIsNotNone(db.session.get(Memo, memo.id))

    def test_the_author_deletes(self):
        memo = self.add_memo(self.ada, "Mine")
        memo_id = memo.id
        self.login(self.ada)
        response = self.client.post(f"/memos/{memo_id}/delete", follow_redirects=True)
        self.assertRedirects(response, "/")
        self.assertMessageFlashed("Memo deleted.", "info")
        # The view deleted the row with its own session; expire ours to read again.
        db.session.expire_all()
        self.assertIsNone(db.session.get(Memo, memo_id))


@override_config(WTF_CSRF_ENABLED=False)
class MemoContextTests(MemoTestCase):
    """Tests that only look at what the views pass to templates.

    With ``render_templates = False`` the templates are not rendered at all (the
    body is empty), but each render is still recorded with its context.
    """

    render_templates = False

    def setUp(self):
        self.login(self.make_user("ada"))

    def test_form_starts_empty(self):
        response = self.client.get("/memos/new")
        self.assert200(response)
        self.assertEqual(response.data, b"")
        self.assertTemplateUsed("memos/form.html")
        self.assertContext("form", {})
        self.assertContext("errors", {})

    def test_a_long_title_is_refused(self):
        response = self.client.post("/memos/new", data={"title": "x" * 101})
        self.assertStatus(response, 422)
        self.assertContext("errors", {"title": "Title must be at most 100 characters."})
