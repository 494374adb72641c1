"""Database isolation: class-level data, rollback after each test, query counts."""

from __future__ import annotations

from memoapp.models import Memo
from memoapp.models import User
from memoapp.models import db

from flask_testcase import override_config

from .base import PASSWORD
from .base import MemoTestCase


@override_config(WTF_CSRF_ENABLED=False)
class SharedMemoTests(MemoTestCase):
    """Every test sees the rows made once in ``setUpTestData``; what a test changes
    (through a view that commits, or directly) is rolled back after it."""

    @classmethod
    def setUpTestData(cls):
        # Runs once for the class, in an app context, inside a transaction rolled
        # back after the class. Keep ids: the instances are detached afterwards.
        ada = User(username="ada", email="ada@example.com")
        ada.set_password(PASSWORD)
        grace = User(username="grace", email="grace@example.com")
        grace.set_password(PASSWORD)
        memos = [Memo(author=ada, title=f"Memo {i}") for i in range(5)]
        memos.append(Memo(author=grace, title="Grace's memo"))
        db.session.add_all([ada, grace, *memos])
        db.session.flush()
        cls.ada_id = ada.id
        cls.first_memo_id = memos[0].id

    def count(self, model):
        return db.session.scalar(db.select(db.func.count()).select_from(model))

    def test_a_deleting_through_the_view_commits(self):
        # The class's user, loaded in this test's session.
        self.login(db.session.get(User, self.ada_id))
        response = self.client.post(f"/memos/{self.first_memo_id}/delete")
        self.assertRedirects(response, "/")
        self.assertEqual(self.count(Memo), 5)

    def test_b_the_deleted_memo_is_back(self):
        # The previous test's committed delete was rolled back.
        self.assertEqual(self.count(Memo), 6)
        self.assertEqual(db.session.get(Memo, self.first_memo_id).title, "Memo 0")

    def test_c_changing_class_data_in_the_test_body(self):
        db.session.get(User, self.ada_id).username = "ada_lovelace"
        db.session.commit()
        self.assertContains(self.client.get(f"/memos/{self.first_memo_id}"), "by ada_lovelace")

    def test_d_class_data_is_as_it_was(self):
        self.assertEqual(db.session.get(User, self.ada_id).username, "ada")

    def test_the_index_page_runs_two_queries_whatever_the_number_of_memos(self):
        # A page count and one SELECT joining the authors; without the joinedload
        # in the view this would be 2 + one query per author.
        with self.assertNumQueries(2):
            response = self.client.get("/")
        self.assertInHTML('<p class="author">by grace</p>', response, count=1)
        self.assertEqual(len(self.get_context_variable("memos").items), 6)

    def test_api_sees_the_class_data(self):
        response = self.client.get("/api/memos")
        self.assertEqual([m["title"] for m in response.json["memos"]][:2], ["Memo 0", "Memo 1"])


class SchemaFromMigrationsTests(MemoTestCase):
    """What only the migrations make is there: the tests run on the production schema."""

    def test_a_memo_inserted_with_sql_is_dated_by_the_database(self):
        # The server default of memo.created comes from a hand-written revision;
        # create_all() of the models would not make it.
        user = self.make_user("importer")
        db.session.execute(
            db.text("INSERT INTO memo (author_id, title, body) VALUES (:id, 'Imported', '')"),
            {"id": user.id},
        )
        memo = db.session.scalars(db.select(Memo).filter_by(title="Imported")).one()
        self.assertIsNotNone(memo.created)
