"""The error isolation raises, shared by every part of the package (which is why it
lives in a module of its own: the parts import it without importing the package)."""

from __future__ import annotations

__all__ = ["IsolationError"]


class IsolationError(RuntimeError):
    """Raised when code under isolation does something that would make its writes
    permanent (a ``COMMIT`` as SQL, DDL on MySQL...) or that isolation cannot serve
    (a thread waiting too long for the test's connection, a connection used after its
    test ended). The message says what was seen and what to do instead."""


# Shown, and importable, as the public name.
IsolationError.__module__ = "flask_testcase.isolation"
