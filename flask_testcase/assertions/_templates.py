"""Assertions about what the test rendered and flashed: templates, their context,
and flashed messages."""

from __future__ import annotations

import typing as t

from ..capture import context_keys
from ._core import AssertionBase
from ._core import BadArgument
from ._core import assertion
from ._core import check_count
from ._core import names

if t.TYPE_CHECKING:
    from types import TracebackType

    from ..capture import FlashedMessage

__unittest = True


class ContextVariableDoesNotExist(Exception):
    """Raised by :meth:`~flask_testcase.TestCase.get_context_variable` when no rendered
    template had the variable in its context."""


# Its documented home (and the name shown in a traceback) is the package.
ContextVariableDoesNotExist.__module__ = "flask_testcase.assertions"


class TemplateBlock:
    """The context manager :meth:`~TemplateAssertions.assertRendersTemplate` and
    :meth:`~TemplateAssertions.assertDoesNotRenderTemplate` return: the check runs when
    the block ends, on the templates rendered inside it."""

    def __init__(self, case: AssertionBase, check: t.Callable[[int], None]) -> None:
        self._case = case
        self._check = check
        self._start = 0

    def __enter__(self) -> None:
        self._start = len(self._case.templates)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # An exception in the block is the real failure; do not hide it behind ours.
        if exc_type is None:
            self._check(self._start)


class CheckedAtOnce:
    """What :meth:`~TemplateAssertions.assertTemplateUsed` and
    :meth:`~TemplateAssertions.assertTemplateNotUsed` return after their check.

    They check the templates rendered so far, as Flask-Testing's did, so they cannot
    also wait for a ``with`` block; entering this object says which method does.
    """

    def __init__(self, method: str, block_method: str, name: str) -> None:
        self._method = method
        self._block_method = block_method
        self._name = name

    def __enter__(self) -> t.NoReturn:
        raise TypeError(
            f"{self._method}() checks the templates rendered so far, when it is called;"
            " it is not a context manager. To check the renders inside a with block,"
            f" write: with self.{self._block_method}({self._name!r}):"
        )

    def __exit__(self, *exc_info: object) -> None:
        """Never reached: ``__enter__`` raises."""


def _format_flashes(flashes: t.Sequence[FlashedMessage]) -> str:
    if not flashes:
        return "No message was flashed."
    return "Messages flashed: " + ", ".join(f"({m.message!r}, {m.category!r})" for m in flashes)


def _check_template_name(name: t.Any) -> None:
    if not isinstance(name, str):
        raise BadArgument(TypeError, f"expects a template name (str), got {name!r}")


def _check_category(category: t.Any) -> None:
    if category is not None and not isinstance(category, str):
        raise BadArgument(
            TypeError,
            f"expects the category as a str (or None for any category), got {category!r}",
        )


class TemplateAssertions(AssertionBase):
    """Assertions on the templates rendered, their context and the messages flashed."""

    # -- templates -------------------------------------------------------------

    def _template_names(self, tmpl_name_attribute: str, start: int = 0) -> list[t.Any]:
        found = []
        for rendered in self.templates[start:]:
            try:
                found.append(getattr(rendered.template, tmpl_name_attribute))
            except AttributeError:
                raise ValueError(
                    f"tmpl_name_attribute={tmpl_name_attribute!r}: the rendered template"
                    f" {rendered.template!r} has no such attribute; use 'name' (the default)"
                ) from None
        return found

    def _check_used(
        self,
        name: str,
        tmpl_name_attribute: str,
        msg: str | None,
        count: int | None,
        start: int,
        where: str,
        at_once: tuple[str, str] | None = None,
    ) -> None:
        rendered_names = self._template_names(tmpl_name_attribute, start)
        seen = rendered_names.count(name)
        if rendered_names:
            rendered = f"Templates rendered{where}: {names(rendered_names)}"
        elif at_once is not None:
            # Most often Django's spelling, "with assertTemplateUsed(...):", before the
            # block has rendered anything.
            method, block_method = at_once
            rendered = (
                f"No template was rendered so far in this test: {method}() checks the"
                " templates rendered before it is called. To check the renders inside a"
                f" with block, write: with self.{block_method}({name!r}):"
            )
        else:
            rendered = f"No template was rendered{where}."
        if count is not None and seen != count:
            self._fail_with(
                f"Template {name!r} was rendered {seen} time(s){where},"
                f" expected {count}. {rendered}",
                msg,
            )
        if count is None and not seen:
            self._fail_with(f"Template {name!r} was not rendered{where}. {rendered}", msg)

    def _check_not_used(
        self, name: str, tmpl_name_attribute: str, msg: str | None, start: int, where: str
    ) -> None:
        rendered_names = self._template_names(tmpl_name_attribute, start)
        seen = rendered_names.count(name)
        if seen:
            self._fail_with(
                f"Template {name!r} was rendered{where} ({seen} time(s))."
                f" Templates rendered{where}: {names(rendered_names)}",
                msg,
            )

    @assertion
    def assertTemplateUsed(
        self,
        name: str,
        tmpl_name_attribute: str = "name",
        msg: str | None = None,
        *,
        count: int | None = None,
    ) -> CheckedAtOnce:
        """Fail unless the template ``name`` was rendered during this test so far.

        Every render is kept (not only the last one), and the failure lists the
        templates that were rendered. To check only the renders of a block, use
        :meth:`assertRendersTemplate`; this method is not a context manager.

        :param name: the template name, as given to :func:`flask.render_template`.
        :param tmpl_name_attribute: the attribute of the Jinja template compared with
            ``name`` (Flask-Testing's parameter).
        :param msg: added to the standard failure message.
        :param count: if given, the exact number of times it must have been rendered.
        :returns: an object that raises :class:`TypeError` naming
            :meth:`assertRendersTemplate` if it is used in a ``with`` statement.
        """
        _check_template_name(name)
        check_count(count)
        methods = ("assertTemplateUsed", "assertRendersTemplate")
        self._check_used(name, tmpl_name_attribute, msg, count, 0, "", methods)
        return CheckedAtOnce(*methods, name)

    @assertion
    def assertTemplateNotUsed(
        self, name: str, tmpl_name_attribute: str = "name", msg: str | None = None
    ) -> CheckedAtOnce:
        """Fail if the template ``name`` was rendered during this test so far.

        To check only the renders of a block, use :meth:`assertDoesNotRenderTemplate`.

        :param name: the template name.
        :param tmpl_name_attribute: the attribute of the Jinja template compared with
            ``name``.
        :param msg: added to the standard failure message.
        :returns: an object that raises :class:`TypeError` naming
            :meth:`assertDoesNotRenderTemplate` if it is used in a ``with`` statement.
        """
        _check_template_name(name)
        self._check_not_used(name, tmpl_name_attribute, msg, 0, "")
        return CheckedAtOnce("assertTemplateNotUsed", "assertDoesNotRenderTemplate", name)

    @assertion
    def assertRendersTemplate(
        self,
        name: str,
        tmpl_name_attribute: str = "name",
        msg: str | None = None,
        *,
        count: int | None = None,
    ) -> TemplateBlock:
        """A context manager that fails unless the template ``name`` is rendered inside
        its block (exactly ``count`` times, if given)::

            with self.assertRendersTemplate("index.html"):
                self.client.get("/")

        Renders before the block do not count. It always returns the context manager,
        so ``ExitStack.enter_context()`` and a manager kept in a variable work too.

        :param name: the template name, as given to :func:`flask.render_template`.
        :param tmpl_name_attribute: the attribute of the Jinja template compared with
            ``name``.
        :param msg: added to the standard failure message.
        :param count: if given, the exact number of renders expected in the block.
        """
        _check_template_name(name)
        check_count(count)
        return TemplateBlock(
            self,
            lambda start: self._check_used(
                name, tmpl_name_attribute, msg, count, start, " in the block"
            ),
        )

    @assertion
    def assertDoesNotRenderTemplate(
        self, name: str, tmpl_name_attribute: str = "name", msg: str | None = None
    ) -> TemplateBlock:
        """A context manager that fails if the template ``name`` is rendered inside its
        block::

            with self.assertDoesNotRenderTemplate("admin.html"):
                self.client.get("/")

        :param name: the template name.
        :param tmpl_name_attribute: the attribute of the Jinja template compared with
            ``name``.
        :param msg: added to the standard failure message.
        """
        _check_template_name(name)
        return TemplateBlock(
            self,
            lambda start: self._check_not_used(
                name, tmpl_name_attribute, msg, start, " in the block"
            ),
        )

    def get_context_variable(self, name: str) -> t.Any:
        """Return the value of ``name`` in the context of a rendered template.

        The most recent render whose context has ``name`` wins.

        :param name: the context variable.
        :raises ContextVariableDoesNotExist: no rendered template had it; the message
            lists what was rendered.
        """
        for rendered in reversed(self.templates):
            if name in rendered.context:
                return rendered.context[name]
        if not self.templates:
            raise ContextVariableDoesNotExist(
                f"Context variable {name!r} does not exist: no template was rendered."
            )
        seen = "; ".join(
            f"{r.name!r}: {', '.join(context_keys(r.context)) or '(none)'}" for r in self.templates
        )
        raise ContextVariableDoesNotExist(
            f"Context variable {name!r} does not exist in any rendered template."
            f" Context keys: {seen}"
        )

    @assertion
    def assertContext(
        self, name: str, value: t.Any, msg: str | None = None, *, message: str | None = None
    ) -> None:
        """Fail unless the template context variable ``name`` equals ``value``.

        :param name: the context variable.
        :param value: its expected value.
        :param msg: added to the standard failure message.
        :param message: Flask-Testing's name for ``msg``.
        """
        try:
            actual = self.get_context_variable(name)
        except ContextVariableDoesNotExist as e:
            missing = str(e)
        else:
            if actual != value:
                self._fail_with(f"Context variable {name!r} is {actual!r}, expected {value!r}", msg)
            return
        # Failing outside the except keeps ContextVariableDoesNotExist out of the report.
        self._fail_with(missing, msg)

    # -- flashed messages ------------------------------------------------------

    @assertion
    def assertMessageFlashed(
        self, message: t.Any, category: str | None = "message", msg: str | None = None
    ) -> None:
        """Fail unless ``message`` was flashed with ``category`` during this test.

        (Here ``message`` is the flashed message, as in Flask-Testing; the failure
        message is added through ``msg``.)

        :param message: the flashed message.
        :param category: its category; Flask's default is ``"message"``; ``None``
            accepts any category.
        :param msg: added to the standard failure message.
        """
        _check_category(category)
        for flashed in self.flashed_messages:
            if flashed.message == message and (category is None or flashed.category == category):
                return
        wanted = f"{message!r}" if category is None else f"{message!r} (category {category!r})"
        self._fail_with(
            f"Message {wanted} was not flashed. {_format_flashes(self.flashed_messages)}", msg
        )

    @assertion
    def assertMessageNotFlashed(
        self, message: t.Any, category: str | None = None, msg: str | None = None
    ) -> None:
        """Fail if ``message`` was flashed during this test.

        :param message: the message that must not have been flashed.
        :param category: only a flash with this category counts; ``None`` (the
            default) means any category.
        :param msg: added to the standard failure message.
        """
        _check_category(category)
        for flashed in self.flashed_messages:
            if flashed.message == message and (category is None or flashed.category == category):
                self._fail_with(
                    f"Message {message!r} was flashed (category {flashed.category!r}).", msg
                )

    @assertion
    def assertNoMessageFlashed(self, msg: str | None = None) -> None:
        """Fail if any message was flashed during this test.

        :param msg: added to the standard failure message.
        """
        if self.flashed_messages:
            self._fail_with(
                f"Expected no flashed message. {_format_flashes(self.flashed_messages)}", msg
            )
