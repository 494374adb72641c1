"""Flask-WTF and WTForms forms in tests: :func:`csrf_token` for tests that keep CSRF
protection on, :func:`assert_form_error` for the errors of a form a template rendered,
and the :class:`FormsMixin` methods of :class:`~flask_testcase.TestCase`.

To turn CSRF protection off for a test class instead, decorate it with
``@override_config(WTF_CSRF_ENABLED=False)``. This module imports Flask-WTF only when
a token is asked for, and WTForms only when a form is checked.
"""

from __future__ import annotations

import contextvars
import sys
import typing as t

import flask
from werkzeug.test import TestResponse

from ._requests import session_access
from .assertions._core import AssertionBase
from .assertions._core import assertion
from .capture import ResponseRecords

if t.TYPE_CHECKING:
    from collections.abc import Sequence

    from flask.testing import FlaskClient

    from .capture import RenderedTemplate
    from .webtest import TestApp

__all__ = ["FormsMixin", "assert_form_error", "csrf_token"]

__unittest = True


def csrf_token(client: FlaskClient | TestApp) -> str:
    """Return a CSRF token that Flask-WTF accepts on ``client``'s requests, for tests
    that submit forms with CSRF protection on::

        response = client.post("/signup", data={"email": "a@example.com",
                                                 "csrf_token": csrf_token(client)})

    The token is made by Flask-WTF's ``generate_csrf()``, with its secret stored in
    the client's session cookie, as when the client has loaded a page with the
    form. Send it as the form's ``csrf_token`` field (``WTF_CSRF_FIELD_NAME``) or in
    an ``X-CSRFToken`` header.

    :param client: a test client of the app (with cookies, the default), or a
        :class:`flask_testcase.webtest.TestApp` of it (whose forms, as rendered,
        already carry a token: this serves requests made by hand).
    """
    try:
        from flask_wtf.csrf import generate_csrf
    except ImportError as e:
        raise ImportError(
            "csrf_token() needs Flask-WTF: pip install flask-wtf (or flask-testcase[extras])."
        ) from e
    access = session_access(client, "csrf_token")

    def generate(session: dict[str, t.Any]) -> str:
        with access.request_context():
            flask.session.update(session)
            token: str = generate_csrf()
            session.update(flask.session)
        return token

    with access.session_transaction() as client_session:
        values = dict(client_session)
        # A new, empty context: Flask-WTF caches the token in g, and the test's own
        # app context (and its g) must neither give it nor keep it.
        token = contextvars.Context().run(generate, values)
        # Flask-WTF put the token's secret in the session; the client's cookie
        # gets it when the transaction ends.
        client_session.update(values)
    return token


def _form_class() -> type:
    try:
        from wtforms import Form
    except ImportError as e:
        raise ImportError(
            "assertFormError() checks WTForms forms: pip install wtforms (or"
            " flask-testcase[extras])."
        ) from e
    form_class: type = Form
    return form_class


def _templates_of(source: t.Any, name: str) -> tuple[Sequence[RenderedTemplate], str]:
    """The templates to search, and where they come from (for messages): ``source``
    is a response with per-response records or a list of rendered templates."""
    if isinstance(source, ResponseRecords):
        return source.templates, source._where()
    if isinstance(source, TestResponse) or _is_webob_response(source):
        use = (
            "Use a response of flask_testcase.webtest.TestApp (self.testapp, or the"
            " testapp fixture)."
            if _is_webob_response(source)
            else "Use a response of the test's client (or of a client made with"
            " flask_testcase.isolated_client_class())."
        )
        raise TypeError(
            f"{name}() reads the templates a response's request rendered, and"
            f" {source!r} carries no records: it comes from a client other than the"
            f" test's. {use}"
        )
    if isinstance(source, (list, tuple)):
        return source, ""
    raise TypeError(
        f"{name}() takes a response of the test's client or a list of rendered"
        f" templates (the templates fixture), got {source!r}."
    )


def _is_webob_response(source: t.Any) -> bool:
    # A WebTest response exists only if WebOb was imported: never import it here.
    webob = sys.modules.get("webob")
    return webob is not None and isinstance(source, webob.Response)


def _find_form(
    templates: Sequence[RenderedTemplate], form: t.Any, name: str, where: str = ""
) -> tuple[t.Any, str, str | None]:
    """Return the form, its label for messages, and why it could not be found."""
    form_class = _form_class()
    if isinstance(form, form_class):
        return form, type(form).__name__, None
    if not isinstance(form, str):
        raise TypeError(
            f"{name}() takes the form's name in the template context (a str) or the"
            f" form itself, got {form!r}."
        )
    for rendered in reversed(templates):
        if form in rendered.context:
            value = rendered.context[form]
            if not isinstance(value, form_class):
                return (
                    None,
                    repr(form),
                    (
                        f"Context variable {form!r} of {_label(rendered)} is {value!r}, not a"
                        " WTForms form."
                    ),
                )
            return value, repr(form), None
    if not templates:
        if where:
            return None, repr(form), f"No form {form!r}: {where} rendered no template."
        return None, repr(form), f"No form {form!r}: no template was rendered."
    forms = [
        f"{key!r} ({_label(rendered)})"
        for rendered in templates
        for key, value in rendered.context.items()
        if isinstance(value, form_class)
    ]
    listed = ", ".join(dict.fromkeys(forms)) if forms else "none"
    rendered_by = f"{where} rendered" if where else "rendered"
    return (
        None,
        repr(form),
        (
            f"No form {form!r} in the context of the templates {rendered_by}. Forms in the"
            f" context: {listed}."
        ),
    )


def _label(rendered: RenderedTemplate) -> str:
    return "a template string" if rendered.name is None else repr(rendered.name)


def _errors_by_field(form: t.Any) -> str:
    lines = [
        f"  {field.short_name}: {list(field.errors)!r}"
        if field.errors
        else f"  {field.short_name}: (none)"
        for field in form
    ]
    form_errors = list(getattr(form, "form_errors", []))
    if form_errors:
        lines.append(f"  (form): {form_errors!r}")
    return "\n".join(lines)


def _form_error_failure(
    source: t.Any,
    form: t.Any,
    field: str | None,
    errors: str | Sequence[str],
    name: str,
) -> str | None:
    """The standard failure message, or ``None`` when the form has these errors."""
    if isinstance(errors, str):
        expected = [errors]
    elif isinstance(errors, (list, tuple)) and all(isinstance(e, str) for e in errors):
        expected = list(errors)
    else:
        raise TypeError(
            f"{name}() takes the expected errors as a str or a list of str ([] for"
            f" none), got {errors!r}."
        )
    if field is not None and not isinstance(field, str):
        raise TypeError(
            f"{name}() takes the field's name (a str, or None for the form's own"
            f" errors), got {field!r}."
        )
    templates, where = _templates_of(source, name)
    found, label, missing = _find_form(templates, form, name, where)
    if missing is not None:
        return missing
    if field is None:
        actual = list(getattr(found, "form_errors", []))
        where = f"Form {label}"
    elif field not in found:
        fields = ", ".join(repr(f.short_name) for f in found)
        return f"Form {label} has no field {field!r}; its fields: {fields}."
    else:
        actual = list(found[field].errors)
        where = f"Field {field!r} of form {label}"
    if actual == expected:
        return None
    has = f"has errors {actual!r}" if actual else "has no errors"
    want = f"expected {expected!r}" if expected else "expected none"
    return f"{where} {has}, {want}. Errors of the form, field by field:\n{_errors_by_field(found)}"


def assert_form_error(
    templates: Sequence[RenderedTemplate] | TestResponse,
    form: t.Any,
    field: str | None,
    errors: str | Sequence[str],
    msg: str | None = None,
) -> None:
    """Fail unless ``field`` of ``form`` has exactly the error messages ``errors``
    (pytest style; :meth:`FormsMixin.assertFormError` for ``TestCase``).

    :param templates: a response of the test's client, whose own request's
        templates are searched (``response.templates``, the per-response records);
        or rendered templates, e.g. the plugin's ``templates`` fixture or the list
        :func:`~flask_testcase.record_templates` yields.
    :param form: the form's name in the template context (the latest render that
        has it wins), or the form itself.
    :param field: the field's name; ``None`` for the form's own errors
        (``form.form_errors``).
    :param errors: the expected messages, in order: a str for one, a list for any
        number, ``[]`` for none.
    :param msg: added to the failure message.
    """
    __tracebackhide__ = True  # pytest: show the test's line, not this one
    standard = _form_error_failure(templates, form, field, errors, "assert_form_error")
    if standard is not None:
        raise AssertionError(standard if msg is None else f"{standard} : {msg}")


class FormsMixin(AssertionBase):
    """Flask-WTF and WTForms helpers of :class:`~flask_testcase.TestCase`."""

    if t.TYPE_CHECKING:
        client: FlaskClient
        templates: list[RenderedTemplate]

    @assertion
    def assertFormError(
        self,
        form: t.Any,
        field: str | None,
        errors: str | Sequence[str],
        msg: str | None = None,
        *,
        response: TestResponse | None = None,
    ) -> None:
        """Fail unless ``field`` of ``form`` has exactly the error messages
        ``errors`` (Django's ``assertFormError``); ``errors=[]`` checks that it has
        none. The failure shows the form's errors, field by field.

        :param form: the form's name in the context of a template rendered during
            the test (the latest render that has it wins, so the form of the last
            response that rendered it), or the form itself.
        :param field: the field's name; ``None`` for the form's own errors
            (``form.form_errors``).
        :param errors: the expected messages, in order: a str for one, a list for
            any number, ``[]`` for none.
        :param msg: added to the standard failure message.
        :param response: look only at the templates this response's request
            rendered (its per-response records), not at every template of the test.
        """
        source = self.templates if response is None else response
        standard = _form_error_failure(source, form, field, errors, "assertFormError")
        if standard is not None:
            self._fail_with(standard, msg)

    def csrf_token(self, *, client: FlaskClient | TestApp | None = None) -> str:
        """Return a CSRF token for :attr:`client` (or ``client``); see
        :func:`~flask_testcase.csrf_token`."""
        return csrf_token(self.client if client is None else client)
