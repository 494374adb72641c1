"""The CLI commands, run with ``self.runner`` (the app's CLI test runner)."""

from __future__ import annotations

from memoapp.models import User
from memoapp.models import db

from .base import MemoTestCase


class CreateUserCommandTests(MemoTestCase):
    def test_creates_a_user(self):
        result = self.runner.invoke(args=["create-user", "Ada", "--password", "long enough"])
        self.assertEqual(result.exit_code, 0, result.output)
        self.assertRegex(result.output, r"^Created user ada \(id \d+\)\.$")
        user = db.session.execute(db.select(User).filter_by(username="ada")).scalar_one()
        self.assertTrue(user.check_password("long enough"))

    def test_prompts_for_the_password_twice(self):
        result = self.runner.invoke(args=["create-user", "ada"], input="long enough\nlong enough\n")
        self.assertEqual(result.exit_code, 0, result.output)
        self.assertIn("Created user ada", result.output)

    def test_refuses_invalid_input_with_a_usage_error(self):
        self.make_user("ada")
        result = self.runner.invoke(args=["create-user", "ada", "--password", "short"])
        self.assertEqual(result.exit_code, 2)
        self.assertIn(
            "User ada is already registered. Password must be at least 8 characters.",
            result.output,
        )


class InitDbCommandTests(MemoTestCase):
    def test_creates_the_tables(self):
        result = self.runner.invoke(args=["init-db"])
        self.assertEqual(result.exit_code, 0, result.output)
        self.assertEqual(result.output, "Initialized the database.\n")
        self.assertLessEqual({"user", "memo"}, set(db.inspect(db.engine).get_table_names()))
