"""Assertions on the SQL a test runs: :meth:`DatabaseAssertions.assertNumQueries`, and
:func:`count_queries`, which the pytest plugin's ``assertNumQueries`` fixture shares."""

from __future__ import annotations

import contextlib
import typing as t

from ._core import AssertionBase
from ._core import BadArgument
from ._core import assertion

if t.TYPE_CHECKING:
    from collections.abc import Callable
    from collections.abc import Iterator

    from ..isolation import DatabaseIsolation

__all__ = ["DatabaseAssertions", "count_queries"]

# Hides this module's frames from unittest tracebacks, so a failure points at the test.
__unittest = True


def check_num(num: t.Any) -> None:
    """Raise :class:`BadArgument` unless ``num`` is a count of statements."""
    if isinstance(num, bool) or not isinstance(num, int):
        raise BadArgument(TypeError, f"num must be an int, got {num!r}")
    if num < 0:
        raise BadArgument(ValueError, f"num must be >= 0, got {num}")


@contextlib.contextmanager
def count_queries(
    isolation: DatabaseIsolation, num: int, fail: Callable[[str], t.NoReturn]
) -> Iterator[list[str]]:
    """Collect the statements app code runs inside the block and call ``fail`` with
    the standard message (the statements, numbered) unless there were ``num``.

    :param isolation: the test's isolation, whose statements are counted.
    :param num: the expected number of statements.
    :param fail: raises the failure, given the standard message.
    """
    with isolation.capture_queries() as queries:
        yield queries
    if len(queries) != num:
        listing = "\n".join(f"{i}. {q}" for i, q in enumerate(queries, 1)) or "(none)"
        fail(
            f"{len(queries)} != {num} : {len(queries)} queries executed, {num} expected\n"
            f"Captured queries were:\n{listing}"
        )


class DatabaseAssertions(AssertionBase):
    """Assertions on the SQL statements of the test's database isolation."""

    @property
    def _isolation(self) -> DatabaseIsolation | None:
        """The running test's database isolation (None without one)."""
        return None

    def _no_isolation(self) -> Exception:
        return BadArgument(
            ValueError,
            "counts the queries of the database in 'db'; set db = <your"
            f" flask_sqlalchemy.SQLAlchemy> on {type(self).__name__}",
        )

    @assertion
    def assertNumQueries(
        self,
        num: int,
        func: Callable[..., t.Any] | None = None,
        *args: t.Any,
        msg: str | None = None,
        **kwargs: t.Any,
    ) -> t.Any:
        """Check that exactly ``num`` SQL statements run, on every database of the
        test's isolation.

        Use it as a context manager (it yields the list of statements captured so
        far), or pass a callable to call with ``args`` and ``kwargs``::

            with self.assertNumQueries(2):
                self.client.post("/users", data={"name": "ada"})

        Statements from client requests, CLI commands and other threads count;
        savepoints and ``BEGIN`` that isolation adds around app code do not. When the
        block raises, nothing is checked. The failure message lists the statements,
        numbered.

        :param num: the expected number of statements.
        :param func: call this instead of using a ``with`` block; its result is
            returned.
        :param msg: added to the standard failure message.
        """
        check_num(num)
        isolation = self._isolation
        if isolation is None:
            raise self._no_isolation()
        context = count_queries(
            isolation, num, lambda standard: self._fail_with(standard, msg)
        )
        if func is None:
            return context
        with context:
            return func(*args, **kwargs)
