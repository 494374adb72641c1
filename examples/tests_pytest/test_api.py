"""The JSON API: status codes, JSON bodies, headers, and the session it relies on."""

from __future__ import annotations

from memoapp.models import Memo

from flask_testcase import force_login


def test_empty_list(client, db):
    response = client.get("/api/memos")
    assert response == 200
    assert response.mimetype == "application/json"
    assert response.json == {"memos": []}


def test_one_memo(client, db, make_user):
    memo = Memo(author=make_user("ada"), title="Plan", body="Step 1")
    db.session.add(memo)
    db.session.commit()
    response = client.get(f"/api/memos/{memo.id}")
    assert response.json == memo.to_json()
    assert response.json["author"] == "ada"


def test_missing_memo_is_a_json_404(client, db):
    response = client.get("/api/memos/42")
    assert response == 404
    assert response.json == {"error": "Not Found", "description": "No memo with that id."}


def test_anonymous_write_is_401(client, db):
    response = client.post("/api/memos", json={"title": "Plan"})
    assert response == 401
    assert response.json == {"error": "Unauthorized", "description": "Log in first."}


def test_write_returns_201_with_location(client, make_user):
    # Logged in without the form: the API sees ada as the current user. The API is
    # exempt from CSRF protection (it takes JSON only).
    force_login(client, make_user("ada"))
    response = client.post("/api/memos", json={"title": "Plan", "body": "Step 1"})
    assert response == 201
    memo_id = response.json["id"]
    assert response.headers["Location"] == f"/api/memos/{memo_id}"
    # Read it back through the API, as a client would.
    assert client.get(f"/api/memos/{memo_id}").json == response.json


def test_invalid_memo_is_422_with_the_errors(client, make_user):
    force_login(client, make_user("ada"))
    response = client.post("/api/memos", json={"title": "", "body": 3})
    assert response == 422
    assert response.json == {
        "error": "Unprocessable Entity",
        "errors": {"title": "Title is required.", "body": "Body must be text."},
    }


def test_a_body_that_is_not_an_object_is_400(client, db, make_user):
    force_login(client, make_user("ada"))
    assert client.post("/api/memos", json=["Plan"]) == 400
    assert db.session.scalar(db.select(db.func.count(Memo.id))) == 0
