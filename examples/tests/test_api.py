"""The JSON API: status codes, JSON bodies, headers, and the session it relies on."""

from __future__ import annotations

from memoapp.models import Memo
from memoapp.models import db

from .base import MemoTestCase


class ApiReadTests(MemoTestCase):
    def setUp(self):
        self.ada = self.make_user("ada")

    def test_empty_list(self):
        response = self.client.get("/api/memos")
        self.assert200(response)
        self.assertContentType(response, "application/json")
        self.assertJSONEqual(response, {"memos": []})

    def test_one_memo(self):
        memo = Memo(author=self.ada, title="Plan", body="Step 1")
        db.session.add(memo)
        db.session.commit()
        response = self.client.get(f"/api/memos/{memo.id}")
        expected = memo.to_json()
        self.assertJSONEqual(response, expected)
        self.assertEqual(response.json["author"], "ada")

    def test_missing_memo_is_a_json_404(self):
        response = self.client.get("/api/memos/42")
        self.assert404(response)
        self.assertJSONEqual(
            response, {"error": "Not Found", "description": "No memo with that id."}
        )


class ApiWriteTests(MemoTestCase):
    """CSRF protection stays on: the API takes JSON and is exempt from it."""

    def setUp(self):
        self.ada = self.make_user("ada")

    def test_anonymous_write_is_401(self):
        response = self.client.post("/api/memos", json={"title": "Plan"})
        self.assert401(response)
        self.assertJSONEqual(response, {"error": "Unauthorized", "description": "Log in first."})

    def test_write_returns_201_with_location(self):
        # Logged in without the form: the API sees ada as the current user.
        self.login(self.ada)
        response = self.client.post("/api/memos", json={"title": "Plan", "body": "Step 1"})
        self.assert201(response)
        memo_id = response.json["id"]
        self.assertHeader(response, "Location", f"/api/memos/{memo_id}")
        # Read it back through the API, as a client would.
        self.assertJSONEqual(self.client.get(f"/api/memos/{memo_id}"), response.json)

    def test_invalid_memo_is_422_with_the_errors(self):
        self.login(self.ada)
        response = self.client.post("/api/memos", json={"title": "", "body": 3})
        self.assert422(response)
        self.assertJSONEqual(
            response,
            {
                "error": "Unprocessable Entity",
                "errors": {"title": "Title is required.", "body": "Body must be text."},
            },
        )

    def test_a_body_that_is_not_an_object_is_400(self):
        self.login(self.ada)
        response = self.client.post("/api/memos", json=["Plan"])
        self.assert400(response)
        self.assertJSONNotEqual(response, {"memos": []})
        self.assertEqual(db.session.scalar(db.select(db.func.count(Memo.id))), 0)
