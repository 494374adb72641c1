"""Database isolation: module-wide data, rollback after each test, query counts."""

from __future__ import annotations

from memoapp.models import Memo
from memoapp.models import User

from flask_testcase import force_login
from flask_testcase.pytest_plugin import data_fixture

from .conftest import PASSWORD


@data_fixture(scope="module")
def shared(db):
    """Made once for this module (the pytest counterpart of ``setUpTestData``), in a
    transaction rolled back after the module; every test sees these rows, and what a
    test changes is undone after it. Return ids: the instances are detached."""
    ada = User(username="ada", email="ada@example.com")
    ada.set_password(PASSWORD)
    grace = User(username="grace", email="grace@example.com")
    grace.set_password(PASSWORD)
    memos = [Memo(author=ada, title=f"Memo {i}") for i in range(5)]
    memos.append(Memo(author=grace, title="Grace's memo"))
    db.session.add_all([ada, grace, *memos])
    db.session.flush()
    return {"ada": ada.id, "first_memo": memos[0].id}


def count(db, model):
    return db.session.scalar(db.select(db.func.count()).select_from(model))


def test_a_deleting_through_the_view_commits(client, db, shared):
    # The module's user, loaded in this test's session.
    force_login(client, db.session.get(User, shared["ada"]))
    response = client.post(f"/memos/{shared['first_memo']}/delete")
    assert response.location == "/"
    assert count(db, Memo) == 5


def test_b_the_deleted_memo_is_back(db, shared):
    # The previous test's committed delete was rolled back.
    assert count(db, Memo) == 6
    assert db.session.get(Memo, shared["first_memo"]).title == "Memo 0"


def test_c_changing_module_data_in_the_test(client, db, shared):
    db.session.get(User, shared["ada"]).username = "ada_lovelace"
    db.session.commit()
    assert "by ada_lovelace" in client.get(f"/memos/{shared['first_memo']}").text


def test_d_module_data_is_as_it_was(db, shared):
    assert db.session.get(User, shared["ada"]).username == "ada"


def test_the_index_page_runs_two_queries(client, db, shared, assertNumQueries, templates):
    # A page count and one SELECT joining the authors; without the joinedload in the
    # view this would be 2 + one query per author.
    with assertNumQueries(2):
        response = client.get("/")
    assert response.text.count('<p class="author">by grace</p>') == 1
    assert len(templates[0].context["memos"].items) == 6


def test_api_sees_the_module_data(client, shared):
    titles = [m["title"] for m in client.get("/api/memos").json["memos"]]
    assert titles[:2] == ["Memo 0", "Memo 1"]


def test_a_memo_inserted_with_sql_is_dated_by_the_database(db, make_user):
    # The server default of memo.created comes from a hand-written revision of the
    # migrations the schema is built from; create_all() of the models would not make it.
    user = make_user("importer")
    db.session.execute(
        db.text("INSERT INTO memo (author_id, title, body) VALUES (:id, 'Imported', '')"),
        {"id": user.id},
    )
    memo = db.session.scalars(db.select(Memo).filter_by(title="Imported")).one()
    assert memo.created is not None
