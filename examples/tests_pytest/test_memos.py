"""The server-rendered pages: templates, their context, escaping, flashes, redirects."""

from __future__ import annotations

import pytest
from flask import url_for
from memoapp.models import Memo

from flask_testcase import force_login
from flask_testcase import override_config


@pytest.fixture
def users(make_user):
    return {"ada": make_user("ada"), "grace": make_user("grace")}


@pytest.fixture
def add_memo(db):
    def add(author, title, body=""):
        memo = Memo(author=author, title=title, body=body)
        db.session.add(memo)
        db.session.commit()
        return memo

    return add


def test_index_says_when_there_is_nothing(client, db, templates):
    response = client.get("/")
    assert "No memos yet." in response.text
    assert [t.name for t in templates] == ["memos/index.html"]


def test_index_links_every_memo_newest_first(client, users, add_memo, templates):
    first = add_memo(users["ada"], "Buy milk")
    second = add_memo(users["grace"], "Call Ada")
    response = client.get("/")
    assert f'<a href="/memos/{first.id}">Buy milk</a>' in response.text
    assert response.text.count('<p class="author">by grace</p>') == 1
    assert [m.id for m in templates[0].context["memos"]] == [second.id, first.id]


def test_detail_escapes_the_body(client, users, add_memo):
    memo = add_memo(users["ada"], "HTML", "<script>alert(1)</script>")
    response = client.get(url_for("memos.detail", memo_id=memo.id))
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text
    assert "<script>" not in response.text


def test_unknown_memo_is_404(client, db):
    assert client.get("/memos/999") == 404


def test_writing_a_memo_redirects_to_it(client, db, users, templates, flashed_messages):
    # Logged in without the form: the client's next requests are made as ada.
    force_login(client, users["ada"])
    response = client.post("/memos/new", data={"title": "Plan", "body": "Step 1"})
    memo = db.session.execute(db.select(Memo).filter_by(title="Plan")).scalar_one()
    assert response.location == url_for("memos.detail", memo_id=memo.id)
    assert "memos/form.html" not in [t.name for t in templates]
    assert flashed_messages[-1] == ("Memo saved.", "success")
    assert memo.author.username == "ada"


def test_a_memo_without_title_is_refused(client, users, templates, flashed_messages):
    force_login(client, users["ada"])
    response = client.post("/memos/new", data={"title": "  ", "body": "kept"})
    assert response == 422
    assert flashed_messages[-1].message == "Title is required."
    assert templates[-1].name == "memos/form.html"
    assert templates[-1].context["errors"] == {"title": "Title is required."}
    # What the user typed is kept in the form.
    assert '<textarea name="body" id="body">kept</textarea>' in response.text


def test_anonymous_users_are_sent_to_log_in(client, db):
    response = client.post("/memos/new", data={"title": "Plan"})
    assert response.location == "/auth/login?next=%2Fmemos%2Fnew"
    assert db.session.scalar(db.select(db.func.count(Memo.id))) == 0


def test_only_the_author_may_delete(client, db, users, add_memo, flashed_messages):
    memo = add_memo(users["grace"], "Mine")
    force_login(client, users["ada"])
    assert client.post(f"/memos/{memo.id}/delete") == 403
    assert "Memo deleted." not in [m.message for m in flashed_messages]
    assert db.session.get(Memo, memo.id) is not None


def test_the_author_deletes(client, db, users, add_memo):
    memo_id = add_memo(users["ada"], "Mine").id
    force_login(client, users["ada"])
    response = client.post(f"/memos/{memo_id}/delete", follow_redirects=True)
    assert response.request.path == "/"
    assert "Memo deleted." in response.text
    # The view deleted the row with its own session; expire ours to read again.
    db.session.expire_all()
    assert db.session.get(Memo, memo_id) is None


# Tests that only look at what views pass to templates need no rendering: the
# no_rendering fixture (conftest.py) records each render without producing HTML.


@pytest.mark.usefixtures("no_rendering")
def test_the_form_starts_empty(client, users, templates):
    force_login(client, users["ada"])
    response = client.get("/memos/new")
    assert response == 200
    assert response.data == b""
    assert templates[-1].name == "memos/form.html"
    assert (templates[-1].context["form"], templates[-1].context["errors"]) == ({}, {})


@pytest.mark.usefixtures("no_rendering")
def test_a_long_title_is_refused(client, users, templates):
    force_login(client, users["ada"])
    response = client.post("/memos/new", data={"title": "x" * 101})
    assert response == 422
    assert templates[-1].context["errors"] == {"title": "Title must be at most 100 characters."}


@pytest.mark.options(memos_per_page=1)
def test_the_index_pages_by_the_configured_size(client, config, users, add_memo):
    # @pytest.mark.options sets app.config for this test only (undone afterwards,
    # although the app serves the whole run).
    assert config["MEMOS_PER_PAGE"] == 1
    add_memo(users["ada"], "Yesterday")
    add_memo(users["ada"], "Today")
    response = client.get("/")
    assert ("Today" in response.text, "Yesterday" in response.text) == (True, False)


def test_the_index_pages_through_the_memos(client, users, add_memo, templates):
    for title in ("Oldest", "Middle", "Newest"):
        add_memo(users["ada"], title)
    # override_config changes app.config for the block only: the view reads
    # MEMOS_PER_PAGE for each request.
    with override_config(MEMOS_PER_PAGE=2):
        first = client.get("/")
        second = client.get("/?page=2")
    assert [m.title for m in first.templates[0].context["memos"]] == ["Newest", "Middle"]
    assert '<a href="/?page=2" rel="next">Older memos</a>' in first.text
    assert [m.title for m in second.templates[0].context["memos"]] == ["Oldest"]
    assert "Older memos" not in second.text
    # After the block, the default page size again.
    assert [m.title for m in client.get("/").context["memos"]] == ["Newest", "Middle", "Oldest"]
