"""The layout in docs/contributing.rst names every module of the package (a
subpackage's modules in that subpackage's entry), and every module it names exists."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "contributing.rst"


def test_the_layout_in_the_contributing_notes_matches_the_code() -> None:
    text = DOC.read_text(encoding="utf-8")
    named = set(re.findall(r"``(flask_testcase/[\w/]+(?:\.py|/))``", text))
    package = ROOT / "flask_testcase"
    subpackages = sorted(path.parent for path in package.glob("*/__init__.py"))
    modules = {str(path.relative_to(ROOT)) for path in package.glob("*.py")}
    for subpackage in subpackages:
        prefix = f"{subpackage.relative_to(ROOT)}/"
        # A subpackage's modules are named, by file name, in its own entry.
        named |= {prefix + m for m in re.findall(r"``(_?\w+\.py)``", _entry(text, prefix))}
        modules |= {prefix} | {
            prefix + path.name for path in subpackage.glob("*.py") if path.name != "__init__.py"
        }
    missing = sorted(modules - named)
    assert not missing, f"docs/contributing.rst does not describe {missing}"
    stale = sorted(n for n in named if not (ROOT / n).exists())
    assert not stale, f"docs/contributing.rst describes modules that do not exist: {stale}"


def _entry(text: str, name: str) -> str:
    """The layout entry of ``name`` (its term line and the indented lines below it)."""
    match = re.search(rf"^``{re.escape(name)}``\n((?:    .*\n|\n(?=    ))*)", text, re.M)
    assert match, f"docs/contributing.rst has no entry for {name}"
    return match.group(1)


def test_the_layout_check_reads_the_modules_of_each_subpackage() -> None:
    entry = _entry(DOC.read_text(encoding="utf-8"), "flask_testcase/isolation/")
    for module in ("_registry.py", "_guard.py", "_sql.py", "_joined.py", "_patches.py"):
        assert f"``{module}``" in entry, module
