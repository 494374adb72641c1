"""Registration, login and logout: Flask-WTF forms and their errors, the welcome
email, CSRF protection, Flask-Login logins (through the form and with
``force_login``), flashes and redirects."""

from __future__ import annotations

import pytest
from memoapp.models import User

from flask_testcase import assert_email_sent
from flask_testcase import assert_form_error
from flask_testcase import csrf_token
from flask_testcase import force_login
from flask_testcase import force_logout
from flask_testcase import override_config

from .conftest import PASSWORD

GRACE = {"username": "grace", "email": "grace@example.com", "password": PASSWORD}


def count_users(db):
    return db.session.scalar(db.select(db.func.count(User.id)))


def test_register_form_renders_empty(client, templates):
    response = client.get("/auth/register")
    assert response == 200  # a response compares equal to its status code
    assert [t.name for t in templates] == ["auth/register.html"]
    assert '<label for="email">Email</label>' in response.text
    assert_form_error(response, "form", "username", [])


def test_valid_registration_creates_the_user_and_sends_an_email(
    client, db, flashed_messages, outbox
):
    response = client.post("/auth/register", data={**GRACE, "username": "Grace"})
    # Flask's redirect() says 302 before Flask 3.2 and 303 from it.
    assert response.status_code in (302, 303)
    assert response.location == "/auth/login"
    assert [(m.category, m.message) for m in flashed_messages] == [
        ("success", "Account created. Please log in.")
    ]
    # The view committed; the row is rolled back after the test.
    user = db.session.execute(db.select(User).filter_by(username="grace")).scalar_one()
    assert (user.email, user.check_password(PASSWORD)) == ("grace@example.com", True)
    # The email never left the machine: the outbox fixture recorded it.
    email = assert_email_sent(outbox, to="grace@example.com", subject="Welcome to Memo")
    assert "Hello grace," in email.body
    assert len(outbox) == 1


def test_invalid_registration_shows_every_error_next_to_its_field(client, db, outbox):
    data = {"username": "x!", "email": "grace.example.com", "password": "short"}
    response = client.post("/auth/register", data=data)
    assert response == 422
    # The errors of the form this response rendered, field by field, in order.
    assert_form_error(
        response,
        "form",
        "username",
        [
            "Username must be 3 to 20 characters long.",
            "Username may only contain lowercase letters, digits and _.",
        ],
    )
    assert_form_error(response, "form", "email", ["Enter a valid email address."])
    assert_form_error(response, "form", "password", ["Password must be at least 8 characters."])
    assert '<span class="error">Enter a valid email address.</span>' in response.text
    assert outbox == []
    assert count_users(db) == 0


def test_taken_username_is_refused(client, make_user, outbox):
    make_user("grace")
    response = client.post("/auth/register", data=GRACE)
    assert response == 422
    assert_form_error(response, "form", "username", ["User grace is already registered."])
    assert outbox == []


@override_config(WTF_CSRF_ENABLED=True)
def test_a_form_needs_the_token_its_page_carries(client, db, outbox):
    # CSRF protection on for this test, as in production (conftest.py turns it off).
    response = client.post("/auth/register", data=GRACE)
    assert response == 400
    assert "The CSRF token is missing." in response.text
    # A token valid for this client, as if it had loaded the page with the form.
    response = client.post("/auth/register", data={**GRACE, "csrf_token": csrf_token(client)})
    assert response.location == "/auth/login"
    assert_email_sent(outbox, to="grace@example.com")


# The login form itself; the other tests log in with force_login().


@pytest.fixture
def submit_login(client, make_user):
    """Post the login form (for ada, made here) and return the response."""
    make_user("ada")

    def submit(username="ada", password=PASSWORD, **data):
        return client.post("/auth/login", data={**data, "username": username, "password": password})

    return submit


def test_login_greets_and_logs_in(client, submit_login, flashed_messages):
    response = submit_login("Ada")
    assert response.location == "/"
    assert flashed_messages[-1].message == "Welcome back, ada!"
    assert client.get("/auth/account") == 200
    # Without "Remember me", the login ends with the browser session.
    assert client.get_cookie("remember_token") is None


def test_remember_me_sets_a_cookie(client, submit_login):
    submit_login(remember="y")
    assert client.get_cookie("remember_token") is not None


def test_following_the_redirect_shows_the_user(client, make_user, templates):
    make_user("ada")
    response = client.post(
        "/auth/login", data={"username": "ada", "password": PASSWORD}, follow_redirects=True
    )
    assert response.request.path == "/"
    assert '<a href="/auth/account" id="current-user">ada</a>' in response.text
    # Every render is recorded; the POST itself rendered nothing.
    assert [t.name for t in templates] == ["memos/index.html"]


@pytest.mark.parametrize("username", ["ada", "nobody"])
def test_a_refused_login_does_not_say_which_part_was_wrong(submit_login, username):
    response = submit_login(username, "wrong password")
    assert response == 401
    # An error of the whole form (field None), shown above its fields.
    assert_form_error(response, "form", None, ["Incorrect username or password."])
    assert '<p class="error">Incorrect username or password.</p>' in response.text


def test_login_goes_back_to_the_page_that_asked_for_it(client, submit_login, flashed_messages):
    response = client.get("/memos/new")
    # Flask-Login puts the page in "next", URL-encoded.
    assert response.location == "/auth/login?next=%2Fmemos%2Fnew"
    assert flashed_messages[-1] == ("Please log in first.", "info")
    assert submit_login(next="/memos/new").location == "/memos/new"


@pytest.mark.parametrize(
    "next_url", ["//evil.example/", "/\\evil.example/", "https://evil.example/"]
)
def test_next_pointing_off_site_is_ignored(submit_login, next_url):
    assert submit_login(next=next_url).location == "/"


# Pages that need a login, with the user logged in by force_login(): no form, no
# password hashing.


def test_the_account_page_needs_a_login(client, db):
    assert client.get("/auth/account").location == "/auth/login?next=%2Fauth%2Faccount"


def test_the_account_page_shows_the_user(client, make_user):
    force_login(client, make_user("ada"))
    response = client.get("/auth/account")
    assert '<dd id="email">ada@example.com</dd>' in response.text


def test_a_remembered_login_must_log_in_again_for_the_account_page(
    client, make_user, flashed_messages
):
    # fresh=False: a login restored from a "remember me" cookie.
    force_login(client, make_user("ada"), fresh=False)
    response = client.get("/auth/account")
    assert response.location == "/auth/login?next=%2Fauth%2Faccount"
    assert flashed_messages[-1] == ("Please log in again to see your account.", "info")
    # Pages that only need a login take it.
    assert client.get("/memos/new") == 200


def test_logging_out(client, make_user, flashed_messages):
    force_login(client, make_user("ada"))
    response = client.post("/auth/logout")
    assert response.location == "/"
    assert flashed_messages[-1].message == "You have been logged out."
    assert client.get("/auth/account").location == "/auth/login?next=%2Fauth%2Faccount"


def test_logging_out_in_the_test(client, make_user):
    force_login(client, make_user("ada"))
    assert client.get("/auth/account") == 200
    force_logout(client)
    assert client.get("/auth/account").location == "/auth/login?next=%2Fauth%2Faccount"


def test_logout_only_accepts_post(client):
    assert client.get("/auth/logout") == 405
