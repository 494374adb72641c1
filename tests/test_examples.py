"""The example application's test suites pass under the commands the README gives.

``examples/`` is what a user copies from, so it must stay green: these run its suites
in a subprocess, exactly as the README says (``python -m pytest examples`` and
``python -m unittest discover examples`` from the repository root), and check the
number of tests each runner ran, so that a module one runner silently fails to
collect is caught too. pytest runs every suite (``examples/tests``, TestCase classes,
``examples/tests_pytest``, fixtures, and ``examples/tests_plain``, the Links app on
plain SQLAlchemy); unittest runs the TestCase ones.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

#: Every test in examples/tests; update it with the suite.
EXPECTED_TESTS = 61
#: Every test in examples/tests_pytest (the pytest-style suite).
EXPECTED_PYTEST_TESTS = 60
#: Every test in examples/tests_plain (the Links app, on plain SQLAlchemy).
EXPECTED_PLAIN_TESTS = 11
#: The tests of each suite that drive Chromium; they skip when it is missing (fail
#: under CI=true).
BROWSER_TESTS = 2


def expected_skips(suites: int = 1) -> int:
    try:
        import selenium  # noqa: F401
    except ImportError:
        return BROWSER_TESTS * suites
    found = shutil.which("chromium") and shutil.which("chromedriver")
    return 0 if found else BROWSER_TESTS * suites


def pytest_counts() -> str:
    """The end of pytest's summary line for both suites: ``N passed[, M skipped]``."""
    total = EXPECTED_TESTS + EXPECTED_PYTEST_TESTS + EXPECTED_PLAIN_TESTS
    skipped = expected_skips(suites=2)
    return f"{total - skipped} passed" + (f", {skipped} skipped" if skipped else "")


def run_example_suite(*command: str, env: dict[str, str] | None = None) -> str:
    environ = dict(os.environ)
    # The default run is the README's: SQLite in memory, whatever this shell has set.
    environ.pop("EXAMPLE_DATABASE_URL", None)
    environ.update(env or {})
    proc = subprocess.run(
        [sys.executable, *command],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"{' '.join(command)} exited {proc.returncode}:\n{output}"
    return output


def test_examples_pass_under_unittest() -> None:
    output = run_example_suite("-m", "unittest", "discover", "examples")
    assert f"Ran {EXPECTED_TESTS + EXPECTED_PLAIN_TESTS} tests" in output, output
    skipped = expected_skips()
    status = f"OK (skipped={skipped})" if skipped else "OK"
    assert re.search(rf"^{re.escape(status)}$", output, re.MULTILINE), output


def test_examples_pass_under_pytest() -> None:
    output = run_example_suite("-m", "pytest", "-p", "no:cacheprovider", "examples")
    summary = output.strip().splitlines()[-1]
    assert re.search(rf"=+ {pytest_counts()} in ", summary), output


@pytest.mark.postgresql
def test_examples_pass_on_postgresql() -> None:
    # The README's PostgreSQL run: EXAMPLE_DATABASE_URL names a database, and the
    # suite runs in its test database (test_<name>, made and dropped by the run). The
    # name carries our pid so that concurrent runs never share it.
    from _dbs import POSTGRESQL
    from _dbs import require
    from sqlalchemy.engine import make_url

    require("postgresql")
    url = make_url(POSTGRESQL).set(database=f"memo{os.getpid()}")
    output = run_example_suite(
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        "examples",
        env={"EXAMPLE_DATABASE_URL": url.render_as_string(hide_password=False)},
    )
    summary = output.strip().splitlines()[-1]
    assert re.search(rf"=+ {pytest_counts()} in ", summary), output


@pytest.mark.parametrize("path", ["README.rst", "examples/README.rst"])
def test_readmes_give_the_commands_these_tests_run(path: str) -> None:
    text = (ROOT / path).read_text(encoding="utf-8")
    assert "$ python -m pytest examples" in text
    if path == "examples/README.rst":
        assert "$ python -m unittest discover examples" in text
