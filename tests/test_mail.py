"""The outbox: Flask-Mail 0.10 and Flask-Mailman, run for real; nothing sent; the
extension state put back after the test, whatever raised; assertEmailSent's messages."""

from __future__ import annotations

import smtplib
import typing as t

import flask
import pytest
from apps import check_passes as check
from apps import only_failure
from apps import run_case
from flask_mail import Mail
from flask_mail import Message
from flask_mailman import EmailMessage
from flask_mailman import EmailMultiAlternatives
from flask_mailman import Mail as Mailman

from flask_testcase import NoMailExtensionError
from flask_testcase import SentEmail
from flask_testcase import TestCase
from flask_testcase import assert_email_sent
from flask_testcase import record_mail


def flask_mail_app(**config: t.Any) -> flask.Flask:
    app = flask.Flask("mailapp")
    # Not TESTING and no MAIL_SUPPRESS_SEND: Flask-Mail would really send.
    app.config.update(SECRET_KEY="s", MAIL_DEFAULT_SENDER="app@example.com", **config)
    mail = Mail(app)

    @app.post("/signup/<name>")
    def signup(name: str) -> str:
        mail.send(
            Message(
                f"Welcome, {name}",
                recipients=[f"{name}@example.com"],
                body=f"Hello {name},\n\nthanks for signing up.\nLine three\nLine four",
                html=f"<p>Hello {name}</p>",
            )
        )
        return "ok"

    @app.post("/notify")
    def notify() -> str:
        mail.send(
            Message("Report", recipients=["boss@example.com"], cc=["cc@example.com"], body="")
        )
        return "ok"

    return app


def mailman_app() -> flask.Flask:
    app = flask.Flask("mailmanapp")
    app.config.update(SECRET_KEY="s", MAIL_BACKEND="smtp", MAIL_DEFAULT_SENDER="app@example.com")
    Mailman(app)

    @app.post("/signup/<name>")
    def signup(name: str) -> str:
        EmailMessage(f"Welcome, {name}", "Hello", to=[f"{name}@example.com"]).send()
        message = EmailMultiAlternatives("Digest", "text", to=["x@example.com"], bcc=["b@x.org"])
        message.attach_alternative("<b>html</b>", "text/html")
        message.send()
        return "ok"

    return app


@pytest.fixture(autouse=True)
def _no_smtp(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to reach an SMTP server fails the test loudly."""

    def refuse(*args: t.Any, **kwargs: t.Any) -> t.NoReturn:
        raise AssertionError("an email was about to leave the machine")

    monkeypatch.setattr(smtplib.SMTP, "__init__", refuse)
    monkeypatch.setattr(smtplib.SMTP_SSL, "__init__", refuse)


class TestFlaskMail:
    def test_outbox_in_order_and_nothing_sent(self) -> None:
        class Inner(TestCase):
            def create_app(self) -> flask.Flask:
                return flask_mail_app()

            def test_it(self) -> None:
                self.assertEqual(self.outbox, [])
                self.client.post("/signup/ann")
                self.client.post("/notify")
                first, second = self.outbox
                self.assertEqual(first.subject, "Welcome, ann")
                self.assertEqual(first.to, ("ann@example.com",))
                self.assertEqual(first.sender, "app@example.com")
                self.assertEqual(first.html, "<p>Hello ann</p>")
                self.assertIsInstance(first.message, Message)
                self.assertEqual(second.recipients, ("boss@example.com", "cc@example.com"))
                self.assertIs(self.assertEmailSent(to="cc@example.com"), second)

        check(Inner)

    def test_state_restored_after_a_failing_test(self) -> None:
        apps: list[flask.Flask] = []

        class Inner(TestCase):
            def create_app(self) -> flask.Flask:
                app = flask_mail_app()
                apps.append(app)
                return app

            def test_it(self) -> None:
                self.assertTrue(self.app.extensions["mail"].suppress)
                raise RuntimeError("boom")

        result = run_case(Inner)
        assert len(result.errors) == 1
        assert apps[0].extensions["mail"].suppress is False
        from flask_mail import email_dispatched

        assert not email_dispatched.receivers

    def test_record_mail_only_records_its_app(self) -> None:
        app, other = flask_mail_app(), flask_mail_app(MAIL_SUPPRESS_SEND=True)
        with record_mail(app) as sent:
            other.test_client().post("/signup/bob")
            app.test_client().post("/signup/ann")
        assert [e.subject for e in sent] == ["Welcome, ann"]

    def test_record_mail_restores_when_the_block_raises(self) -> None:
        app = flask_mail_app()
        with pytest.raises(ZeroDivisionError), record_mail(app):
            1 / 0  # noqa: B018
        assert app.extensions["mail"].suppress is False


class TestFlaskMailman:
    def test_outbox_and_nothing_sent(self) -> None:
        class Inner(TestCase):
            def create_app(self) -> flask.Flask:
                return mailman_app()

            def test_it(self) -> None:
                self.client.post("/signup/cy")
                first, second = self.outbox
                self.assertEqual(first.to, ("cy@example.com",))
                self.assertEqual(first.body, "Hello")
                self.assertIsNone(first.html)
                self.assertEqual(second.html, "<b>html</b>")
                self.assertEqual(second.bcc, ("b@x.org",))
                self.assertIsInstance(second.message, EmailMultiAlternatives)
                self.assertEmailSent(to="b@x.org", subject="Digest")

        check(Inner)

    def test_backend_restored_after_the_test(self) -> None:
        apps: list[flask.Flask] = []

        class Inner(TestCase):
            app_per_class = True

            def create_app(self) -> flask.Flask:
                app = mailman_app()
                apps.append(app)
                return app

            def setUp(self) -> None:
                raise RuntimeError("setUp fails")

            def test_it(self) -> None:
                pass

        result = run_case(Inner)
        assert len(result.errors) == 1
        assert apps[0].extensions["mailman"].backend == "smtp"


def signup_case(*bodies: t.Callable[[t.Any], None]) -> type[TestCase]:
    class Inner(TestCase):
        def create_app(self) -> flask.Flask:
            return flask_mail_app()

    for number, body in enumerate(bodies):
        setattr(Inner, f"test_{number}", body)
    return Inner


class TestAssertEmailSent:
    def test_passes_and_returns_the_email(self) -> None:
        def body(self: t.Any) -> None:
            self.client.post("/signup/ann")
            email = self.assertEmailSent(to="ann@example.com", subject="Welcome, ann")
            self.assertEqual(email.subject, "Welcome, ann")
            self.assertEmailSent()

        check(signup_case(body))

    def test_fails_listing_the_emails_sent(self) -> None:
        def body(self: t.Any) -> None:
            self.client.post("/signup/ann")
            self.client.post("/notify")
            self.assertEmailSent(to="bob@example.com", subject="Welcome, bob")

        assert only_failure(signup_case(body)) == (
            "No email to 'bob@example.com' with subject 'Welcome, bob' was sent."
            " Emails sent (2):\n"
            "  1. to ann@example.com: 'Welcome, ann'\n"
            "       | Hello ann,\n"
            "       | thanks for signing up.\n"
            "       | Line three\n"
            "       | ...\n"
            "  2. to boss@example.com, cc@example.com: 'Report'"
        )

    def test_fails_when_nothing_was_sent_with_msg(self) -> None:
        def body(self: t.Any) -> None:
            self.assertEmailSent(subject="Welcome", msg="signup must email")

        assert only_failure(signup_case(body)) == (
            "No email with subject 'Welcome' was sent. No email was sent. : signup must email"
        )

    def test_misuse(self) -> None:
        def body(self: t.Any) -> None:
            self.assertEmailSent(to=["a@example.com"])

        assert only_failure(signup_case(body)) == (
            "assertEmailSent(to=...) must be one address (a str), got ['a@example.com']."
        )

    def test_assert_no_email_sent(self) -> None:
        def passes(self: t.Any) -> None:
            self.assertNoEmailSent()

        def fails(self: t.Any) -> None:
            self.client.post("/notify")
            self.assertNoEmailSent(msg="quiet please")

        check(signup_case(passes))
        assert only_failure(signup_case(fails)) == (
            "Emails sent (1):\n  1. to boss@example.com, cc@example.com: 'Report' : quiet please"
        )

    def test_plain_function(self) -> None:
        app = flask_mail_app()
        with record_mail(app) as outbox:
            app.test_client().post("/signup/ann")
        assert isinstance(assert_email_sent(outbox, to="ann@example.com"), SentEmail)
        with pytest.raises(AssertionError) as info:
            assert_email_sent(outbox, subject="Nope", msg="extra")
        assert str(info.value).startswith(
            "No email with subject 'Nope' was sent. Emails sent (1):\n"
        )
        assert str(info.value).endswith(" : extra")
        with pytest.raises(TypeError) as error:
            assert_email_sent(outbox, subject=1)  # type: ignore[arg-type]
        assert str(error.value) == "assert_email_sent(subject=...) must be a str, got 1."

    def test_repr(self) -> None:
        email = SentEmail("Hi", "a@x", ("b@x",), ("c@x",), (), "", None, None)
        assert repr(email) == "<SentEmail to b@x, c@x: 'Hi'>"


class TestWithoutAMailExtension:
    MESSAGE = (
        "The app 'plain' has no Flask-Mail or Flask-Mailman, so there is no outbox to"
        " record. Set one up in create_app() (mail = Mail(); mail.init_app(app)); pip"
        " install flask-mail or flask-mailman (or flask-testcase[extras])."
    )

    def test_outbox_says_what_to_set_up(self) -> None:
        class Inner(TestCase):
            def create_app(self) -> flask.Flask:
                return flask.Flask("plain")

            def test_it(self) -> None:
                self.outbox  # noqa: B018

        assert only_failure(Inner) == self.MESSAGE

    def test_record_mail(self) -> None:
        with pytest.raises(NoMailExtensionError) as info, record_mail(flask.Flask("plain")):
            pass
        assert str(info.value) == self.MESSAGE

    def test_tests_that_do_not_ask_run_as_before(self) -> None:
        class Inner(TestCase):
            def create_app(self) -> flask.Flask:
                return flask.Flask("plain")

            def test_it(self) -> None:
                pass

        check(Inner)


class TestPytestPlugin:
    def test_outbox_fixture_and_nothing_sent(self, pytester: pytest.Pytester) -> None:
        pytester.makeconftest(
            """
            import smtplib
            import flask
            import pytest
            from flask_mail import Mail, Message

            @pytest.fixture(autouse=True)
            def no_smtp(monkeypatch):
                def refuse(*args, **kwargs):
                    raise AssertionError("an email was about to leave the machine")
                monkeypatch.setattr(smtplib.SMTP, "__init__", refuse)

            @pytest.fixture(scope="session")
            def app():
                app = flask.Flask("inner")
                app.config.update(SECRET_KEY="s", MAIL_DEFAULT_SENDER="a@example.com")
                mail = Mail(app)

                @app.post("/send")
                def send():
                    mail.send(Message("Hi", recipients=["x@example.com"], body="b"))
                    return "ok"

                return app
            """
        )
        pytester.makepyfile(
            test_it="""
            from flask_testcase import assert_email_sent

            def test_outbox(client, outbox):
                client.post("/send")
                assert [e.subject for e in outbox] == ["Hi"]
                assert_email_sent(outbox, to="x@example.com")

            def test_without_asking_nothing_is_sent(client, app):
                assert client.post("/send").status_code == 200
                assert app.extensions["mail"].suppress is True

            def test_the_outbox_is_new_for_each_test(outbox):
                assert outbox == []

            def test_a_failure_points_at_the_test(outbox):
                assert_email_sent(outbox, to="y@example.com")
            """
        )
        result = pytester.runpytest("-p", "no:flask", "-p", "no:cacheprovider")
        result.assert_outcomes(passed=3, failed=1)
        result.stdout.fnmatch_lines(
            [
                '>       assert_email_sent(outbox, to="y@example.com")',
                "E       AssertionError: No email to 'y@example.com' was sent. No email was sent.",
            ]
        )
        assert "mail.py" not in result.stdout.str()

    def test_outbox_without_a_mail_extension(self, pytester: pytest.Pytester) -> None:
        pytester.makeconftest(
            """
            import flask
            import pytest

            @pytest.fixture
            def app():
                return flask.Flask("plain")
            """
        )
        pytester.makepyfile(test_it="def test_it(outbox):\n    pass\n")
        result = pytester.runpytest("-p", "no:flask", "-p", "no:cacheprovider")
        result.assert_outcomes(errors=1)
        result.stdout.fnmatch_lines(
            ["*NoMailExtensionError: The app 'plain' has no Flask-Mail or Flask-Mailman*"]
        )


class TestAssertsFunctions:
    """flask_testcase.asserts.assertEmailSent/assertNoEmailSent read the outbox of the
    test that is running: a TestCase's, or the pytest plugin's."""

    def test_in_a_test_case(self) -> None:
        from flask_testcase import asserts

        class Inner(TestCase):
            def create_app(self) -> flask.Flask:
                return flask_mail_app()

            def test_it(self) -> None:
                asserts.assertNoEmailSent()
                self.client.post("/notify")
                found = asserts.assertEmailSent(to="cc@example.com", subject="Report")
                assert found is self.outbox[0]
                asserts.assertEmailSent(to="nobody@example.com")

        assert only_failure(Inner) == (
            "No email to 'nobody@example.com' was sent. Emails sent (1):\n"
            "  1. to boss@example.com, cc@example.com: 'Report'"
        )
        from flask_testcase.mail import current_outbox

        assert current_outbox() is None, "the failed test's outbox is still current"

    def test_in_the_pytest_plugin(self, pytester: pytest.Pytester) -> None:
        pytester.makeconftest(
            """
            import flask
            import pytest
            from flask_mailman import EmailMessage, Mail

            @pytest.fixture
            def app():
                app = flask.Flask("inner")
                app.config.update(SECRET_KEY="s", MAIL_BACKEND="smtp")
                Mail(app)

                @app.post("/send")
                def send():
                    EmailMessage("Hi", "body", "a@example.com", ["x@example.com"]).send()
                    return "ok"

                return app
            """
        )
        pytester.makepyfile(
            test_it="""
            from flask_testcase.asserts import assertEmailSent, assertNoEmailSent

            def test_passes(client):
                assertNoEmailSent()
                client.post("/send")
                assert assertEmailSent(to="x@example.com").subject == "Hi"

            def test_fails(client):
                client.post("/send")
                assertNoEmailSent(msg="quiet")
            """
        )
        result = pytester.runpytest("-p", "no:flask", "-p", "no:cacheprovider")
        result.assert_outcomes(passed=1, failed=1)
        result.stdout.fnmatch_lines(
            [
                "E * AssertionError: Emails sent (1):",
                "E *   1. to x@example.com: 'Hi'",
                "E *        | body : quiet",
            ]
        )

    def test_no_mail_extension(self) -> None:
        from flask_testcase import asserts

        class Inner(TestCase):
            def create_app(self) -> flask.Flask:
                return flask.Flask("plain")

            def test_it(self) -> None:
                asserts.assertNoEmailSent()

        assert only_failure(Inner) == TestWithoutAMailExtension.MESSAGE

    def test_outside_a_test(self) -> None:
        from flask_testcase import asserts

        with pytest.raises(RuntimeError) as info:
            asserts.assertEmailSent(to="a@example.com")
        assert str(info.value) == (
            "flask_testcase.asserts.assertEmailSent() reads the current test's records,"
            " and no test is recording: use it in a test that uses the client fixture of"
            " flask_testcase's pytest plugin, or in a flask_testcase.TestCase."
        )

    def test_an_ended_record_mail_block_is_no_longer_current(self) -> None:
        from flask_testcase.mail import current_outbox

        app = flask_mail_app()
        with record_mail(app) as outer:
            with record_mail(app) as inner:
                assert current_outbox() is inner
            assert current_outbox() is outer
        assert current_outbox() is None
