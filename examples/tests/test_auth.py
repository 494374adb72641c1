"""Registration, login and logout: forms, validation, flashes, redirects, session."""

from __future__ import annotations

from flask import url_for
from memoapp.models import User
from memoapp.models import db

from .base import PASSWORD
from .base import MemoTestCase


class RegisterTests(MemoTestCase):
    def test_form_renders_empty(self):
        response = self.client.get("/auth/register")
        self.assert200(response)
        self.assertTemplateUsed("auth/register.html")
        self.assertContext("errors", {})
        self.assertInHTML('<input name="username" id="username" value="" required>', response)

    def test_valid_form_creates_user_and_redirects_to_login(self):
        response = self.client.post(
            "/auth/register", data={"username": "Grace", "password": PASSWORD}
        )
        self.assertRedirects(response, "/auth/login")
        self.assertMessageFlashed("Account created. Please log in.", "success")
        user = db.session.execute(db.select(User).filter_by(username="grace")).scalar_one()
        self.assertTrue(user.check_password(PASSWORD))

    def test_invalid_form_flashes_every_error_and_keeps_the_username(self):
        response = self.client.post("/auth/register", data={"username": "x", "password": "short"})
        self.assertStatus(response, 422)
        self.assertTemplateUsed("auth/register.html")
        self.assertMessageFlashed(
            "Username must be 3 to 20 lowercase letters, digits or _.", "error"
        )
        self.assertMessageFlashed("Password must be at least 8 characters.", "error")
        self.assertContext("username", "x")
        self.assertEqual(db.session.scalar(db.select(db.func.count(User.id))), 0)

    def test_taken_username_is_refused(self):
        self.make_user("ada")
        response = self.client.post(
            "/auth/register", data={"username": "ada", "password": PASSWORD}
        )
        self.assertStatus(response, 422)
        self.assertMessageFlashed("User ada is already registered.", "error")
        # The page shows the flashed error to the user, escaped as HTML.
        self.assertInHTML('<p class="flash error">User ada is already registered.</p>', response)


class LoginTests(MemoTestCase):
    def setUp(self):
        self.user = self.make_user("ada")

    def test_login_sets_the_session_and_greets(self):
        response = self.log_in("ada")
        self.assertRedirects(response, "/")
        self.assertSessionHas("user_id", self.user.id)
        self.assertMessageFlashed("Welcome back, ada!", "success")

    def test_following_the_redirect_shows_the_user(self):
        response = self.client.post(
            "/auth/login",
            data={"username": "ada", "password": PASSWORD},
            follow_redirects=True,
        )
        self.assertRedirects(response, "/")
        self.assertInHTML('<span id="current-user">ada</span>', response)
        # Every render is recorded; the POST itself rendered nothing.
        self.assertEqual([t.name for t in self.templates], ["memos/index.html"])

    def test_wrong_password_is_refused_without_saying_which_part_was_wrong(self):
        response = self.log_in("ada", "wrong password")
        self.assertStatus(response, 401)
        self.assertTemplateUsed("auth/login.html")
        self.assertMessageFlashed("Incorrect username or password.", "error")
        self.assertSessionNotHas("user_id")

    def test_unknown_user_gets_the_same_message(self):
        response = self.log_in("nobody")
        self.assert401(response)
        self.assertMessageFlashed("Incorrect username or password.", "error")

    def test_login_goes_back_to_the_page_that_asked_for_it(self):
        response = self.client.get("/memos/new")
        # url_for works in the test body: an app and request context are pushed.
        self.assertRedirects(response, url_for("auth.login", next="/memos/new"))
        self.assertMessageFlashed("Please log in first.", "info")
        response = self.client.post(
            "/auth/login", data={"username": "ada", "password": PASSWORD, "next": "/memos/new"}
        )
        self.assertRedirects(response, "/memos/new")

    def test_next_pointing_off_site_is_ignored(self):
        response = self.client.post(
            "/auth/login",
            data={"username": "ada", "password": PASSWORD, "next": "//evil.example/"},
        )
        self.assertRedirects(response, "/")

    def test_logout_clears_the_session(self):
        self.log_in("ada")
        response = self.client.post("/auth/logout")
        self.assertRedirects(response, "/")
        self.assertSessionNotHas("user_id")
        self.assertMessageFlashed("You have been logged out.", "info")

    def test_logout_only_accepts_post(self):
        self.assert405(self.client.get("/auth/logout"))
