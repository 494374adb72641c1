"""Commands the suite runs in child processes."""

from __future__ import annotations

import sys

#: pytest in a child process. pytest-flask is installed for the benchmarks, and
#: flask_testcase's plugin refuses to run beside it, so it is disabled here as in
#: the suite's own configuration (pyproject.toml).
PYTEST = [sys.executable, "-m", "pytest", "-p", "no:flask"]
