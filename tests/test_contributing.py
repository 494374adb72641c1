"""The layout in docs/contributing.rst names every module of the package, and every
module it names exists."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "contributing.rst"


def test_the_layout_in_the_contributing_notes_matches_the_code() -> None:
    text = DOC.read_text(encoding="utf-8")
    named = set(re.findall(r"``(flask_testcase/[\w/]+(?:\.py|/))``", text))
    named |= {f"flask_testcase/assertions/{m}" for m in re.findall(r"``(_?\w+\.py)``", text)}
    package = ROOT / "flask_testcase"
    modules = (
        {str(path.relative_to(ROOT)) for path in package.glob("*.py")}
        | {"flask_testcase/assertions/"}
        | {
            str(path.relative_to(ROOT))
            for path in (package / "assertions").glob("_?*.py")
            if path.name != "__init__.py"
        }
    )
    missing = sorted(modules - named)
    assert not missing, f"docs/contributing.rst does not describe {missing}"
    stale = sorted(n for n in named if not (ROOT / n).exists())
    assert not stale, f"docs/contributing.rst describes modules that do not exist: {stale}"
