"""The one idiom for classes this library generates at run time.

The test client subclass, the silent template class, twill's browser and failure
classes and the joined database connection are each made by a function decorated with
:func:`class_factory`: made on first use (some need an optional library imported) and
then the same class for the same arguments, so that ``isinstance`` checks and
``issubclass`` agree across tests.
"""

from __future__ import annotations

import functools
import typing as t

if t.TYPE_CHECKING:
    from collections.abc import Callable

    from typing_extensions import ParamSpec

    _P = ParamSpec("_P")

_R = t.TypeVar("_R")

__all__ = ["class_factory"]


def class_factory(make: Callable[_P, _R]) -> Callable[_P, _R]:
    """Make ``make`` return the class it made the first time for the same arguments."""
    # functools.cache is the mechanism; the cast keeps ``make``'s signature, which
    # mypy otherwise loses (it does not see a class as Hashable).
    return t.cast("Callable[_P, _R]", functools.cache(make))
