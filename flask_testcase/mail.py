"""Every email an app sends during a test, kept off the wire: :func:`record_mail`, the
:class:`SentEmail` records, :func:`assert_email_sent`, and the :class:`MailMixin`
(``outbox``, ``assertEmailSent``) of :class:`~flask_testcase.TestCase`.

Works with Flask-Mail (0.10) and Flask-Mailman, each imported only when the app has
it. Both read their settings once, in ``init_app``; the app's extension state is
what this module changes for the test and puts back afterwards.
"""

from __future__ import annotations

import contextlib
import contextvars
import typing as t

from ._current import set_until_undone
from .assertions._core import AssertionBase
from .assertions._core import assertion

if t.TYPE_CHECKING:
    from collections.abc import Iterator

    import flask

__all__ = [
    "MailMixin",
    "NoMailExtensionError",
    "SentEmail",
    "assert_email_sent",
    "record_mail",
]

__unittest = True

_BODY_LINES = 3


class NoMailExtensionError(RuntimeError):
    """The outbox was asked for, but the app has neither Flask-Mail nor Flask-Mailman."""


class SentEmail(t.NamedTuple):
    """One email sent during a test."""

    #: The subject.
    subject: str
    #: The sender's address, as the message has it.
    sender: str
    #: The ``To`` recipients.
    to: tuple[str, ...]
    #: The ``Cc`` recipients.
    cc: tuple[str, ...]
    #: The ``Bcc`` recipients.
    bcc: tuple[str, ...]
    #: The plain text body.
    body: str
    #: The HTML body, if there is one.
    html: str | None
    #: The extension's own message object (``flask_mail.Message`` or
    #: ``flask_mailman.EmailMessage``), for anything else (attachments, headers).
    message: t.Any

    @property
    def recipients(self) -> tuple[str, ...]:
        """Every recipient: ``to``, ``cc`` and ``bcc``."""
        return self.to + self.cc + self.bcc

    def __repr__(self) -> str:
        return f"<SentEmail to {', '.join(self.recipients)}: {self.subject!r}>"


def _addresses(values: t.Iterable[t.Any] | None) -> tuple[str, ...]:
    out = []
    for value in values or ():
        # Flask-Mail accepts (name, address) pairs.
        out.append(f"{value[0]} <{value[1]}>" if isinstance(value, tuple) else str(value))
    return tuple(out)


def _from_flask_mail(message: t.Any) -> SentEmail:
    return SentEmail(
        subject=str(message.subject or ""),
        sender=_addresses([message.sender])[0] if message.sender else "",
        to=_addresses(message.recipients),
        cc=_addresses(message.cc),
        bcc=_addresses(message.bcc),
        body=str(message.body or ""),
        html=message.html,
        message=message,
    )


def _from_mailman(message: t.Any) -> SentEmail:
    html = next(
        (content for content, kind in getattr(message, "alternatives", []) if kind == "text/html"),
        None,
    )
    if html is None and getattr(message, "content_subtype", "plain") == "html":
        html = message.body
    return SentEmail(
        subject=str(message.subject or ""),
        sender=str(message.from_email or ""),
        to=_addresses(message.to),
        cc=_addresses(message.cc),
        bcc=_addresses(message.bcc),
        body=str(message.body or ""),
        html=html,
        message=message,
    )


#: The outbox of the innermost :func:`record_mail` block running in this context: what
#: ``flask_testcase.asserts.assertEmailSent`` reads.
_RECORDING: contextvars.ContextVar[list[SentEmail] | None] = contextvars.ContextVar(
    "flask_testcase_outbox", default=None
)


def current_outbox() -> list[SentEmail] | None:
    """The outbox of the innermost :func:`record_mail` block running in this
    context (a ``TestCase`` test's, or the pytest plugin's), or ``None``."""
    return _RECORDING.get()


def has_mail(app: flask.Flask) -> bool:
    """Whether ``app`` has Flask-Mail or Flask-Mailman set up."""
    return "mail" in app.extensions or "mailman" in app.extensions


def require_mail(app: flask.Flask) -> None:
    """Raise :class:`NoMailExtensionError`, saying what to set up, unless ``app`` has
    Flask-Mail or Flask-Mailman."""
    if not has_mail(app):
        raise NoMailExtensionError(
            f"The app {app.name!r} has no Flask-Mail or Flask-Mailman, so there is no"
            " outbox to record. Set one up in create_app() (mail = Mail();"
            " mail.init_app(app)); pip install flask-mail or flask-mailman (or"
            " flask-testcase[extras])."
        )


@contextlib.contextmanager
def record_mail(app: flask.Flask) -> Iterator[list[SentEmail]]:
    """Record every email ``app`` sends inside the block, in order, and send none.

    With Flask-Mail, the app's mail state is switched to ``suppress`` (as
    ``MAIL_SUPPRESS_SEND`` would) and its ``email_dispatched`` signal is recorded; with
    Flask-Mailman, the app's default backend is replaced by one that records. Both are
    put back when the block ends, whatever raised. A message sent through an
    explicitly chosen Flask-Mailman backend or connection is outside its reach.

    :param app: an app with Flask-Mail or Flask-Mailman.
    :raises NoMailExtensionError: when the app has neither.
    """
    require_mail(app)
    sent: list[SentEmail] = []
    with contextlib.ExitStack() as stack:
        if "mail" in app.extensions:
            stack.enter_context(_flask_mail(app, sent))
        if "mailman" in app.extensions:
            stack.enter_context(_flask_mailman(app, sent))
        undo = set_until_undone(_RECORDING, sent)
        try:
            yield sent
        finally:
            undo()


@contextlib.contextmanager
def _flask_mail(app: flask.Flask, sent: list[SentEmail]) -> Iterator[None]:
    from flask_mail import email_dispatched

    state = app.extensions["mail"]

    def record(sender: t.Any, message: t.Any, **extra: t.Any) -> None:
        sent.append(_from_flask_mail(message))

    saved = state.suppress
    state.suppress = True
    try:
        with email_dispatched.connected_to(record, sender=app):
            yield
    finally:
        state.suppress = saved


@contextlib.contextmanager
def _flask_mailman(app: flask.Flask, sent: list[SentEmail]) -> Iterator[None]:
    from flask_mailman.backends.base import BaseEmailBackend

    class RecordingBackend(BaseEmailBackend):  # type: ignore[misc]
        def send_messages(self, messages: t.Sequence[t.Any]) -> int:
            for message in messages:
                # Builds the MIME message, which checks the headers, as a real
                # backend would before sending.
                message.message()
                sent.append(_from_mailman(message))
            return len(messages)

    state = app.extensions["mailman"]
    saved = state.backend
    # Flask-Mailman takes a class here as well as an import path.
    state.backend = RecordingBackend
    try:
        yield
    finally:
        state.backend = saved


def _describe(emails: t.Sequence[SentEmail]) -> str:
    if not emails:
        return "No email was sent."
    lines = [f"Emails sent ({len(emails)}):"]
    for number, email in enumerate(emails, 1):
        lines.append(f"  {number}. to {', '.join(email.recipients)}: {email.subject!r}")
        body = [line for line in email.body.splitlines() if line.strip()]
        for line in body[:_BODY_LINES]:
            lines.append(f"       | {line}")
        if len(body) > _BODY_LINES:
            lines.append("       | ...")
    return "\n".join(lines)


def _find(
    emails: t.Sequence[SentEmail], to: str | None, subject: str | None, name: str
) -> tuple[SentEmail | None, str]:
    if to is not None and not isinstance(to, str):
        raise TypeError(f"{name}(to=...) must be one address (a str), got {to!r}.")
    if subject is not None and not isinstance(subject, str):
        raise TypeError(f"{name}(subject=...) must be a str, got {subject!r}.")
    for email in emails:
        if (to is None or to in email.recipients) and (subject is None or subject == email.subject):
            return email, ""
    wanted = []
    if to is not None:
        wanted.append(f"to {to!r}")
    if subject is not None:
        wanted.append(f"with subject {subject!r}")
    what = "No email " + " ".join(wanted) if wanted else "No email"
    return None, f"{what} was sent. {_describe(emails)}"


def assert_email_sent(
    outbox: t.Sequence[SentEmail],
    to: str | None = None,
    subject: str | None = None,
    msg: str | None = None,
) -> SentEmail:
    """Fail unless ``outbox`` holds an email to ``to`` (among all its recipients)
    with subject ``subject``; return the first such email. Either may be omitted.
    The failure lists the emails sent: recipients, subject and first lines.

    :param outbox: the list :func:`record_mail` yields (the ``outbox`` fixture).
    :param to: one address.
    :param subject: the exact subject.
    :param msg: added to the failure message.
    """
    __tracebackhide__ = True  # pytest: show the test's line, not this one
    found, standard = _find(outbox, to, subject, "assert_email_sent")
    if found is None:
        raise AssertionError(standard if msg is None else f"{standard} : {msg}")
    return found


class MailMixin(AssertionBase):
    """Outbox features of :class:`~flask_testcase.TestCase`: for an app with Flask-Mail
    or Flask-Mailman, every email of the test is recorded and none is sent (the
    environment's mail step)."""

    @property
    def _outbox(self) -> list[SentEmail] | None:
        """The test's outbox (None when the app has no mail extension)."""
        return None

    @property
    def outbox(self) -> list[SentEmail]:
        """Every email sent during the test, in order (see :class:`SentEmail`).

        :raises NoMailExtensionError: when the app has neither Flask-Mail nor
            Flask-Mailman.
        """
        outbox = self._outbox
        if outbox is None:
            require_mail(self.app)
            raise RuntimeError("outbox is available only while a test runs.")
        return outbox

    @assertion
    def assertEmailSent(
        self, to: str | None = None, subject: str | None = None, msg: str | None = None
    ) -> SentEmail:
        """Fail unless an email to ``to`` (among all its recipients) with subject
        ``subject`` was sent during this test; return it. Either may be omitted. The
        failure lists the emails sent: recipients, subject and first lines.

        :param to: one address.
        :param subject: the exact subject.
        :param msg: added to the standard failure message.
        """
        found, standard = _find(self.outbox, to, subject, "assertEmailSent")
        if found is None:
            self._fail_with(standard, msg)
        return found

    @assertion
    def assertNoEmailSent(self, msg: str | None = None) -> None:
        """Fail if any email was sent during this test; the failure lists them.

        :param msg: added to the standard failure message.
        """
        if self.outbox:
            self._fail_with(_describe(self.outbox), msg)
