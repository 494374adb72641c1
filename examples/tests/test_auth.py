"""Registration, login and logout: Flask-WTF forms and their errors, the welcome
email, CSRF protection, Flask-Login logins (through the form and with ``self.login``),
flashes and redirects."""

from __future__ import annotations

from flask import url_for
from memoapp.models import User
from memoapp.models import db

from flask_testcase import override_config

from .base import PASSWORD
from .base import MemoTestCase


def count_users():
    return db.session.scalar(db.select(db.func.count(User.id)))


# These tests post the fields they are about, without the CSRF token the page's form
# carries: the protection is off for the class (CSRFTests keeps it on).
@override_config(WTF_CSRF_ENABLED=False)
class RegisterTests(MemoTestCase):
    def register(self, **fields):
        data = {"username": "grace", "email": "grace@example.com", "password": PASSWORD}
        return self.client.post("/auth/register", data={**data, **fields})

    def test_form_renders_empty(self):
        response = self.client.get("/auth/register")
        self.assert200(response)
        self.assertTemplateUsed("auth/register.html")
        self.assertInHTML('<label for="email">Email</label>', response)
        self.assertFormError("form", "username", [])

    def test_valid_form_creates_the_user_and_sends_a_welcome_email(self):
        response = self.register(username="Grace")
        self.assertRedirects(response, "/auth/login")
        self.assertMessageFlashed("Account created. Please log in.", "success")
        user = db.session.execute(db.select(User).filter_by(username="grace")).scalar_one()
        self.assertEqual(user.email, "grace@example.com")
        self.assertTrue(user.check_password(PASSWORD))
        # The email never left the machine: the test case recorded it.
        email = self.assertEmailSent(to="grace@example.com", subject="Welcome to Memo")
        self.assertIn("Hello grace,", email.body)
        self.assertEqual(email.sender, "Memo <memo@example.com>")
        self.assertEqual(len(self.outbox), 1)

    def test_invalid_form_shows_every_error_next_to_its_field(self):
        response = self.register(username="x!", email="grace.example.com", password="short")
        self.assertStatus(response, 422)
        self.assertTemplateUsed("auth/register.html")
        # The errors of the form the template rendered, field by field, in order.
        self.assertFormError(
            "form",
            "username",
            [
                "Username must be 3 to 20 characters long.",
                "Username may only contain lowercase letters, digits and _.",
            ],
        )
        self.assertFormError("form", "email", ["Enter a valid email address."])
        self.assertFormError("form", "password", ["Password must be at least 8 characters."])
        # The page shows them (escaped) and keeps what the user typed, but never
        # the password.
        self.assertInHTML('<span class="error">Enter a valid email address.</span>', response)
        self.assertContains(response, 'value="grace.example.com"', status_code=422)
        self.assertNotContains(response, 'value="short"', status_code=422)
        self.assertNoEmailSent()
        self.assertEqual(count_users(), 0)

    def test_every_field_is_required(self):
        response = self.client.post("/auth/register", data={"username": "grace"})
        self.assertStatus(response, 422)
        self.assertFormError("form", "username", [])
        self.assertFormError("form", "email", "This field is required.")
        self.assertFormError("form", "password", "This field is required.")

    def test_taken_username_is_refused(self):
        self.make_user("grace")
        response = self.register()
        self.assertStatus(response, 422)
        self.assertFormError("form", "username", ["User grace is already registered."])
        self.assertNoEmailSent()


class CSRFTests(MemoTestCase):
    """CSRF protection on, as in production."""

    def test_a_form_needs_the_token_its_page_carries(self):
        data = {"username": "grace", "email": "grace@example.com", "password": PASSWORD}
        response = self.client.post("/auth/register", data=data)
        self.assertContains(response, "The CSRF token is missing.", status_code=400)
        self.assertEqual(count_users(), 0)
        # A token valid for this client, as if it had loaded the page with the form.
        response = self.client.post(
            "/auth/register", data={**data, "csrf_token": self.csrf_token()}
        )
        self.assertRedirects(response, "/auth/login")
        self.assertEmailSent(to="grace@example.com")


@override_config(WTF_CSRF_ENABLED=False)
class LoginFormTests(MemoTestCase):
    """The login form itself. Other tests log in with ``self.login(user)``."""

    def setUp(self):
        self.make_user("ada")

    def submit(self, username="ada", password=PASSWORD, **data):
        data.update(username=username, password=password)
        return self.client.post("/auth/login", data=data)

    def test_login_greets_and_logs_in(self):
        response = self.submit("Ada")
        self.assertRedirects(response, "/")
        self.assertMessageFlashed("Welcome back, ada!", "success")
        self.assert200(self.client.get("/auth/account"))
        # Without "Remember me", the login ends with the browser session.
        self.assertIsNone(self.client.get_cookie("remember_token"))

    def test_remember_me_sets_a_cookie(self):
        self.submit(remember="y")
        self.assertIsNotNone(self.client.get_cookie("remember_token"))

    def test_following_the_redirect_shows_the_user(self):
        response = self.client.post(
            "/auth/login",
            data={"username": "ada", "password": PASSWORD},
            follow_redirects=True,
        )
        self.assertRedirects(response, "/")
        self.assertInHTML('<a href="/auth/account" id="current-user">ada</a>', response)
        # Every render is recorded; the POST itself rendered nothing.
        self.assertEqual([t.name for t in self.templates], ["memos/index.html"])

    def test_wrong_password_is_refused_without_saying_which_part_was_wrong(self):
        response = self.submit("ada", "wrong password")
        self.assertStatus(response, 401)
        self.assertTemplateUsed("auth/login.html")
        # An error of the whole form (field None), shown above its fields.
        self.assertFormError("form", None, ["Incorrect username or password."])
        self.assertInHTML('<p class="error">Incorrect username or password.</p>', response)
        self.assertFormError("form", "password", [])

    def test_unknown_user_gets_the_same_message(self):
        self.assert401(self.submit("nobody"))
        self.assertFormError("form", None, "Incorrect username or password.")

    def test_login_goes_back_to_the_page_that_asked_for_it(self):
        response = self.client.get("/memos/new")
        # Flask-Login writes next=%2Fmemos%2Fnew; the query compares decoded.
        self.assertRedirects(response, url_for("auth.login", next="/memos/new"))
        self.assertMessageFlashed("Please log in first.", "info")
        self.assertRedirects(self.submit(next="/memos/new"), "/memos/new")

    def test_next_pointing_off_site_is_ignored(self):
        for next_url in ("//evil.example/", "/\\evil.example/", "https://evil.example/"):
            self.assertRedirects(self.submit(next=next_url), "/", msg=f"next={next_url}")


@override_config(WTF_CSRF_ENABLED=False)
class AccountTests(MemoTestCase):
    """Pages that need a login, with the user logged in by ``self.login()``: no
    form, no password hashing."""

    def setUp(self):
        self.ada = self.make_user("ada")

    def test_the_account_page_needs_a_login(self):
        response = self.client.get("/auth/account")
        self.assertRedirects(response, "/auth/login?next=/auth/account")
        self.assertMessageFlashed("Please log in first.", "info")

    def test_the_account_page_shows_the_user(self):
        self.login(self.ada)
        response = self.client.get("/auth/account")
        self.assertInHTML('<dd id="username">ada</dd>', response)
        self.assertInHTML('<dd id="email">ada@example.com</dd>', response)

    def test_a_remembered_login_must_log_in_again_for_the_account_page(self):
        # fresh=False: a login restored from a "remember me" cookie.
        self.login(self.ada, fresh=False)
        response = self.client.get("/auth/account")
        self.assertRedirects(response, "/auth/login?next=/auth/account")
        self.assertMessageFlashed("Please log in again to see your account.", "info")
        # Pages that only need a login take it.
        self.assert200(self.client.get("/memos/new"))

    def test_logging_out(self):
        self.login(self.ada)
        response = self.client.post("/auth/logout")
        self.assertRedirects(response, "/")
        self.assertMessageFlashed("You have been logged out.", "info")
        self.assertRedirects(self.client.get("/auth/account"), "/auth/login?next=/auth/account")

    def test_logging_out_in_the_test(self):
        self.login(self.ada)
        self.assert200(self.client.get("/auth/account"))
        self.logout()
        self.assertRedirects(self.client.get("/auth/account"), "/auth/login?next=/auth/account")

    def test_logout_only_accepts_post(self):
        self.assert405(self.client.get("/auth/logout"))
