"""The CLI commands, run with ``self.runner`` (the app's CLI test runner)."""

from __future__ import annotations

from memoapp.models import User
from memoapp.models import db

from .base import MemoTestCase


class CreateUserCommandTests(MemoTestCase):
    def test_creates_a_user(self):
        result = self.runner.invoke(
            args=["create-user", "Ada", "--email", "ada@example.com", "--password", "long enough"]
        )
        self.assertEqual(result.exit_code, 0, result.output)
        self.assertRegex(result.output, r"^Created user ada \(id \d+\)\.$")
        user = db.session.execute(db.select(User).filter_by(username="ada")).scalar_one()
        self.assertEqual(user.email, "ada@example.com")
        self.assertTrue(user.check_password("long enough"))
        # Accounts made on the command line get no welcome email.
        self.assertNoEmailSent()

    def test_prompts_for_the_email_and_the_password_twice(self):
        result = self.runner.invoke(
            args=["create-user", "ada"], input="ada@example.com\nlong enough\nlong enough\n"
        )
        self.assertEqual(result.exit_code, 0, result.output)
        *prompts, last = result.output.splitlines()
        self.assertEqual(
            prompts, ["Email: ada@example.com", "Password: ", "Repeat for confirmation: "]
        )
        self.assertRegex(last, r"^Created user ada \(id \d+\)\.$")

    def test_refuses_invalid_input_with_a_usage_error(self):
        self.make_user("ada")
        result = self.runner.invoke(
            args=["create-user", "ada", "--email", "ada", "--password", "short"]
        )
        self.assertEqual(result.exit_code, 2)
        # The registration form's checks, messages and order.
        self.assertIn(
            "User ada is already registered. Enter a valid email address."
            " Password must be at least 8 characters.",
            result.output,
        )


class InitDbCommandTests(MemoTestCase):
    def test_creates_the_tables(self):
        result = self.runner.invoke(args=["init-db"])
        self.assertEqual(result.exit_code, 0, result.output)
        self.assertEqual(result.output, "Initialized the database.\n")
        self.assertLessEqual({"user", "memo"}, set(db.inspect(db.engine).get_table_names()))
