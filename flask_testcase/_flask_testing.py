"""Flask-Testing's snake_case assertion names, in one place.

Each alias looks its target up at call time, so a subclass that overrides the
camelCase method changes the alias too.
"""

from __future__ import annotations

import typing as t

__all__ = ["FlaskTestingAliases"]

__unittest = True


def _alias(target: str) -> t.Callable[..., t.Any]:
    def method(self: t.Any, *args: t.Any, **kwargs: t.Any) -> t.Any:
        return getattr(self, target)(*args, **kwargs)

    method.__doc__ = f"Flask-Testing's name for :meth:`{target}`."
    # Read by flask_testcase.asserts, which gives the plain function the target's
    # signature.
    method.alias_of = target  # type: ignore[attr-defined]
    return method


class FlaskTestingAliases:
    """The snake_case names Flask-Testing 0.8 gave its assertions."""

    assert_status = _alias("assertStatus")
    assert_200 = _alias("assert200")
    assert_400 = _alias("assert400")
    assert_401 = _alias("assert401")
    assert_403 = _alias("assert403")
    assert_404 = _alias("assert404")
    assert_405 = _alias("assert405")
    assert_500 = _alias("assert500")
    assert_redirects = _alias("assertRedirects")
    assert_template_used = _alias("assertTemplateUsed")
    assert_context = _alias("assertContext")
    assert_message_flashed = _alias("assertMessageFlashed")
