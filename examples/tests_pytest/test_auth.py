"""Registration, login and logout: forms, validation, flashes, redirects, session."""

from __future__ import annotations

from flask import session
from flask import url_for
from memoapp.models import User

from .conftest import PASSWORD


def count_users(db):
    return db.session.scalar(db.select(db.func.count(User.id)))


def test_register_form_renders_empty(client, templates):
    response = client.get("/auth/register")
    assert response == 200  # a response compares equal to its status code
    assert [t.name for t in templates] == ["auth/register.html"]
    assert templates[0].context["errors"] == {}
    assert 'name="username" id="username" value=""' in response.text


def test_valid_registration_creates_the_user_and_redirects(client, db, flashed_messages):
    response = client.post("/auth/register", data={"username": "Grace", "password": PASSWORD})
    # Flask's redirect() says 302 before Flask 3.2 and 303 from it.
    assert response.status_code in (302, 303)
    assert response.location == "/auth/login"
    assert [(m.category, m.message) for m in flashed_messages] == [
        ("success", "Account created. Please log in.")
    ]
    # The view committed; the row is rolled back after the test.
    user = db.session.execute(db.select(User).filter_by(username="grace")).scalar_one()
    assert user.check_password(PASSWORD)


def test_invalid_registration_flashes_every_error(client, db, templates, flashed_messages):
    response = client.post("/auth/register", data={"username": "x", "password": "short"})
    assert response.status_code == 422
    assert [m.message for m in flashed_messages] == [
        "Username must be 3 to 20 lowercase letters, digits or _.",
        "Password must be at least 8 characters.",
    ]
    assert templates[-1].context["username"] == "x"
    assert count_users(db) == 0


def test_taken_username_is_refused(client, make_user, flashed_messages):
    make_user("ada")
    response = client.post("/auth/register", data={"username": "ada", "password": PASSWORD})
    assert response.status_code == 422
    assert flashed_messages[0].message == "User ada is already registered."
    assert '<p class="flash error">User ada is already registered.</p>' in response.text


def test_login_sets_the_session_and_greets(client, make_user, log_in, flashed_messages):
    ada = make_user("ada")
    response = log_in("ada")
    assert response.location == "/"
    # The client keeps the last request's contexts for the test (``with client``).
    assert session["user_id"] == ada.id
    assert flashed_messages[-1].message == "Welcome back, ada!"


def test_following_the_redirect_shows_the_user(client, make_user, templates):
    make_user("ada")
    response = client.post(
        "/auth/login", data={"username": "ada", "password": PASSWORD}, follow_redirects=True
    )
    assert response.request.path == "/"
    assert '<span id="current-user">ada</span>' in response.text
    # Every render is recorded; the POST itself rendered nothing.
    assert [t.name for t in templates] == ["memos/index.html"]


def test_wrong_password_is_refused(client, make_user, log_in, flashed_messages):
    make_user("ada")
    response = log_in("ada", "wrong password")
    assert response == 401
    assert [m.message for m in flashed_messages] == ["Incorrect username or password."]
    assert "user_id" not in session


def test_login_goes_back_to_the_page_that_asked_for_it(client, make_user, log_in):
    make_user("ada")
    response = client.get("/memos/new")
    # url_for works in the test: a test request context is pushed for each test.
    assert response.location == url_for("auth.login", next="/memos/new")
    assert log_in("ada", next="/memos/new").location == "/memos/new"


def test_next_pointing_off_site_is_ignored(make_user, log_in):
    make_user("ada")
    assert log_in("ada", next="//evil.example/").location == "/"


def test_logout_clears_the_session(client, make_user, log_in, flashed_messages):
    make_user("ada")
    log_in("ada")
    response = client.post("/auth/logout")
    assert response.location == "/"
    assert "user_id" not in session
    assert flashed_messages[-1].message == "You have been logged out."


def test_logout_only_accepts_post(client):
    assert client.get("/auth/logout") == 405
