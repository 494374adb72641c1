"""Keep the docs, the README and CI honest about the code.

These read the files a user reads first and check them against what the package
exports and what ``.ci/run`` actually runs, and run the README's and the quickstart's
examples, so that a renamed API or a changed command cannot leave them stale.
"""

from __future__ import annotations

import importlib
import re
import shlex
import sys
import types
import typing as t
import unittest
from pathlib import Path

import pytest

import flask_testcase

ROOT = Path(__file__).resolve().parent.parent
API_DIRECTIVE = re.compile(
    r"^\.\.\s+auto(?:class|function|data|exception|attribute|method)::\s+"
    r"(?:flask_testcase\.)?(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*$",
    re.MULTILINE,
)


def _code_blocks(path: Path, language: str) -> list[tuple[str, str]]:
    """Return ``(section title, code)`` for each ``code-block:: <language>`` in a reST file."""
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks: list[tuple[str, str]] = []
    section = ""
    i = 0
    while i < len(lines):
        line = lines[i]
        # A section title is a line underlined by a row of one punctuation character.
        if (
            i + 1 < len(lines)
            and line.strip()
            and re.fullmatch(r"([=\-~^])\1{2,}", lines[i + 1].strip())
        ):
            section = line.strip()
        if line.strip() == f".. code-block:: {language}":
            i += 1
            body: list[str] = []
            while i < len(lines) and (not lines[i].strip() or lines[i].startswith(" ")):
                body.append(lines[i])
                i += 1
            # Remove the common indentation but keep the code's own.
            indent = min(len(x) - len(x.lstrip()) for x in body if x.strip())
            blocks.append((section, "\n".join(x[indent:] for x in body).strip() + "\n"))
            continue
        i += 1
    return blocks


def _readme_commands() -> list[str]:
    """The commands of the README's "Install and test" section, without the ``$``."""
    blocks = _code_blocks(ROOT / "README.rst", "console")
    sections = [title for title, _ in blocks]
    assert "Install and test" in sections, (
        "README.rst has no console block under an 'Install and test' section; "
        f"sections with console blocks: {sections}"
    )
    code = blocks[sections.index("Install and test")][1]
    return [line[2:].strip() for line in code.splitlines() if line.startswith("$ ")]


def _ci_commands() -> list[list[str]]:
    """Every command line of ``.ci/run`` that is not a comment, as shell words."""
    commands = []
    for line in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        try:
            commands.append(shlex.split(stripped, comments=True))
        except ValueError:
            # Lines that open a multi-line construct do not split; they are not
            # the simple command lines this test looks for.
            continue
    return commands


def _run_example_cases(namespace: dict[str, t.Any]) -> unittest.TestResult:
    loader = unittest.TestLoader()
    suite = unittest.TestSuite()
    for value in namespace.values():
        if (
            isinstance(value, type)
            and issubclass(value, flask_testcase.TestCase)
            and value.__module__ == namespace["__name__"]
        ):
            suite.addTests(loader.loadTestsFromTestCase(value))
    result = unittest.TestResult()
    suite.run(result)
    return result


class TestApiReference:
    def test_every_public_name_is_in_the_api_reference(self) -> None:
        documented = set(API_DIRECTIVE.findall((ROOT / "docs" / "api.rst").read_text("utf-8")))
        missing = sorted(set(flask_testcase.__all__) - documented)
        assert not missing, (
            "docs/api.rst has no autoclass/autofunction/autodata/autoexception entry for "
            f"these names in flask_testcase.__all__: {', '.join(missing)}"
        )

    def test_the_api_reference_documents_only_public_names(self) -> None:
        documented = set(API_DIRECTIVE.findall((ROOT / "docs" / "api.rst").read_text("utf-8")))
        extra = sorted(documented - set(flask_testcase.__all__))
        assert not extra, (
            "docs/api.rst documents names that are not in flask_testcase.__all__: "
            f"{', '.join(extra)}; export them or remove their entries"
        )

    def test_the_public_names_of_each_module_are_exported_by_the_package(self) -> None:
        # The modules __init__ re-exports from; the optional ones (sqlalchemy) stay out
        # so that importing the package does not import their dependencies.
        for module in ("capture", "case", "databases", "live_server", "twill"):
            names = importlib.import_module(f"flask_testcase.{module}").__all__
            missing = sorted(set(names) - set(flask_testcase.__all__))
            assert not missing, f"flask_testcase.{module} exports {missing} but the package not"


class TestReadme:
    def test_readme_gives_exactly_two_commands_install_and_test(self) -> None:
        commands = _readme_commands()
        assert len(commands) == 2, f"README 'Install and test' gives {commands!r}"
        assert commands[0] == 'pip install -e ".[dev]"'
        assert commands[1] == "pytest"

    @pytest.mark.parametrize("index", [0, 1], ids=["install", "test"])
    def test_ci_runs_the_readme_command_unchanged(self, index: int) -> None:
        command = shlex.split(_readme_commands()[index])
        # The README command must be the tail of a CI line: a prefix such as
        # ".venv/bin/python -m" or a wrapper that checks the exit code is allowed,
        # extra arguments after it (which would change what runs) are not.
        found = [c for c in _ci_commands() if c[-len(command) :] == command]
        assert found, (
            f"the README command {shlex.join(command)!r} does not appear unchanged in "
            ".ci/run; CI must run exactly what the README tells a new user to run"
        )

    def test_readme_example_passes(self) -> None:
        blocks = _code_blocks(ROOT / "README.rst", "python")
        assert blocks, "README.rst has no python code block"
        namespace: dict[str, t.Any] = {"__name__": "readme_example"}
        exec(compile(blocks[0][1], "README.rst", "exec"), namespace)
        result = _run_example_cases(namespace)
        assert result.testsRun == 2
        assert not result.failures and not result.errors, result.failures + result.errors


class TestQuickstart:
    def test_quickstart_example_passes(self, monkeypatch: pytest.MonkeyPatch) -> None:
        blocks = [code for _, code in _code_blocks(ROOT / "docs" / "quickstart.rst", "python")]
        assert len(blocks) == 2, "quickstart.rst should show the app and its test module"
        app_module = types.ModuleType("myapp")
        exec(compile(blocks[0], "quickstart.rst (myapp)", "exec"), app_module.__dict__)
        monkeypatch.setitem(sys.modules, "myapp", app_module)
        namespace: dict[str, t.Any] = {"__name__": "quickstart_example"}
        exec(compile(blocks[1], "quickstart.rst (tests)", "exec"), namespace)
        result = _run_example_cases(namespace)
        assert result.testsRun == 2
        assert not result.failures and not result.errors, result.failures + result.errors


class TestChangelog:
    def test_changelog_starts_with_the_package_version(self) -> None:
        text = (ROOT / "CHANGES.rst").read_text(encoding="utf-8")
        first = re.search(r"^Version (\S+)\n-+\n", text, re.MULTILINE)
        assert first is not None, "CHANGES.rst has no 'Version X.Y.Z' heading"
        assert first.group(1) == flask_testcase.__version__
