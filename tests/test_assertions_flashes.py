"""assertMessageFlashed, assertMessageNotFlashed and assertNoMessageFlashed."""

from __future__ import annotations

from apps import Case
from apps import in_case
from markupsafe import Markup

FLASHED = "Messages flashed: ('Saved.', 'message'), ('Check your email.', 'warning')"


class TestAssertMessageFlashed:
    @in_case()
    def test_passes_for_a_message_in_the_default_category(self: Case) -> None:
        self.client.get("/flash")
        self.assertMessageFlashed("Saved.")
        self.assertMessageFlashed("Saved.", "message")

    @in_case()
    def test_passes_for_a_message_in_its_category(self: Case) -> None:
        self.client.get("/flash")
        self.assertMessageFlashed("Check your email.", "warning")
        self.assertMessageFlashed("Check your email.", category="warning")

    @in_case()
    def test_the_flask_testing_keyword_names_the_flashed_message(self: Case) -> None:
        self.client.get("/flash")
        self.assertMessageFlashed(message="Check your email.", category="warning")

    @in_case()
    def test_category_none_accepts_any_category(self: Case) -> None:
        self.client.get("/flash")
        self.assertMessageFlashed("Check your email.", None)
        with self.fails(f"Message 'Gone.' was not flashed. {FLASHED}"):
            self.assertMessageFlashed("Gone.", None)

    @in_case()
    def test_fails_listing_the_messages_flashed(self: Case) -> None:
        self.client.get("/flash")
        with self.fails(f"Message 'Gone.' (category 'message') was not flashed. {FLASHED}"):
            self.assertMessageFlashed("Gone.")

    @in_case()
    def test_the_category_must_match(self: Case) -> None:
        self.client.get("/flash")
        with self.fails(f"Message 'Saved.' (category 'warning') was not flashed. {FLASHED}"):
            self.assertMessageFlashed("Saved.", "warning")

    @in_case()
    def test_fails_saying_nothing_was_flashed(self: Case) -> None:
        self.client.get("/text")
        with self.fails(
            "Message 'Saved.' (category 'message') was not flashed. No message was flashed."
        ):
            self.assertMessageFlashed("Saved.")

    @in_case()
    def test_messages_from_every_request_are_kept(self: Case) -> None:
        self.client.get("/flash")
        self.client.get("/flash-markup")
        self.assertMessageFlashed("Saved.")
        self.assertMessageFlashed(Markup("<b>bold</b>"), "info")
        self.assertEqual(
            [m.message for m in self.flashed_messages],
            ["Saved.", "Check your email.", "<b>bold</b>"],
        )

    @in_case()
    def test_a_markup_message_is_shown_as_its_repr(self: Case) -> None:
        self.client.get("/flash-markup")
        with self.fails(
            "Message 'bold' (category 'message') was not flashed."
            " Messages flashed: (Markup('<b>bold</b>'), 'info')"
        ):
            self.assertMessageFlashed("bold")

    @in_case()
    def test_a_message_flashed_before_a_redirect_is_seen(self: Case) -> None:
        @self.app.route("/save")
        def save() -> object:
            from flask import flash
            from flask import redirect

            flash("Saved.", "success")
            return redirect("/")

        self.client.get("/save", follow_redirects=True)
        self.assertMessageFlashed("Saved.", "success")

    @in_case()
    def test_msg_is_appended(self: Case) -> None:
        self.client.get("/flash")
        standard = f"Message 'Gone.' (category 'message') was not flashed. {FLASHED}"
        with self.fails(standard + " : positional"):
            self.assertMessageFlashed("Gone.", "message", "positional")
        with self.fails(standard + " : keyword"):
            self.assertMessageFlashed("Gone.", msg="keyword")

    @in_case()
    def test_a_category_that_is_not_a_str_is_a_type_error(self: Case) -> None:
        self.client.get("/flash")
        with self.assertRaises(TypeError) as cm:
            self.assertMessageFlashed("Saved.", ["message"])  # type: ignore[arg-type]
        self.assertIn("category", str(cm.exception))

    @in_case()
    def test_snake_case_alias(self: Case) -> None:
        self.client.get("/flash")
        self.assert_message_flashed("Check your email.", "warning")
        with self.fails(f"Message 'Gone.' (category 'message') was not flashed. {FLASHED}"):
            self.assert_message_flashed("Gone.")


class TestAssertMessageNotFlashed:
    @in_case()
    def test_passes_when_the_message_was_not_flashed(self: Case) -> None:
        self.client.get("/flash")
        self.assertMessageNotFlashed("Gone.")

    @in_case()
    def test_any_category_counts_by_default(self: Case) -> None:
        self.client.get("/flash")
        with self.fails("Message 'Check your email.' was flashed (category 'warning')."):
            self.assertMessageNotFlashed("Check your email.")

    @in_case()
    def test_a_category_narrows_what_counts(self: Case) -> None:
        self.client.get("/flash")
        self.assertMessageNotFlashed("Check your email.", "message")
        with self.fails("Message 'Check your email.' was flashed (category 'warning')."):
            self.assertMessageNotFlashed("Check your email.", category="warning")

    @in_case()
    def test_msg_is_appended(self: Case) -> None:
        self.client.get("/flash")
        with self.fails("Message 'Saved.' was flashed (category 'message'). : positional"):
            self.assertMessageNotFlashed("Saved.", None, "positional")
        with self.fails("Message 'Saved.' was flashed (category 'message'). : keyword"):
            self.assertMessageNotFlashed("Saved.", msg="keyword")


class TestAssertNoMessageFlashed:
    @in_case()
    def test_passes_when_nothing_was_flashed(self: Case) -> None:
        self.client.get("/text")
        self.assertNoMessageFlashed()

    @in_case()
    def test_fails_listing_the_messages_flashed(self: Case) -> None:
        self.client.get("/flash")
        with self.fails(f"Expected no flashed message. {FLASHED}"):
            self.assertNoMessageFlashed()

    @in_case()
    def test_msg_is_appended(self: Case) -> None:
        self.client.get("/flash")
        with self.fails(f"Expected no flashed message. {FLASHED} : positional"):
            self.assertNoMessageFlashed("positional")
        with self.fails(f"Expected no flashed message. {FLASHED} : keyword"):
            self.assertNoMessageFlashed(msg="keyword")
