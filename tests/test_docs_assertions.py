"""Every example in docs/assertions.rst runs, and fails with exactly the text shown.

The chapter's first ``python`` block is the application; every later ``python`` block
is a test body run inside a :class:`flask_testcase.TestCase` for that app. A block
followed directly by a ``text`` block must raise, and the last line(s) of the
traceback (what ``traceback.format_exception_only`` prints) must equal that text;
any other block must pass.

After changing an assertion's message, regenerate the text blocks with::

    python tests/test_docs_assertions.py --update
"""

from __future__ import annotations

import re
import sys
import traceback
import types
import typing as t
import unittest
from http import HTTPStatus
from pathlib import Path

import pytest

import flask_testcase

DOC = Path(__file__).resolve().parent.parent / "docs" / "assertions.rst"


class Block(t.NamedTuple):
    language: str
    code: str
    #: Line numbers (0-based) of the block's body in the file, end exclusive.
    start: int
    end: int


def read_blocks(lines: list[str]) -> list[Block]:
    blocks = []
    i = 0
    while i < len(lines):
        line = lines[i].strip()
        if line.startswith(".. code-block:: "):
            language = line.split("::", 1)[1].strip()
            i += 1
            while i < len(lines) and not lines[i].strip():
                i += 1
            start = i
            while i < len(lines) and (not lines[i].strip() or lines[i].startswith(" ")):
                i += 1
            end = i
            # Trailing blank lines separate the block from what follows.
            while end > start and not lines[end - 1].strip():
                end -= 1
            body = lines[start:end]
            indent = min(len(x) - len(x.lstrip()) for x in body if x.strip())
            code = "\n".join(x[indent:] for x in body).strip() + "\n"
            blocks.append(Block(language, code, start, end))
            continue
        i += 1
    return blocks


class Example(t.NamedTuple):
    code: str
    #: The expected exception text, or None when the example must pass.
    expected: str | None
    text_block: Block | None


def examples(blocks: list[Block]) -> list[Example]:
    found = []
    python = [i for i, b in enumerate(blocks) if b.language == "python"]
    for i in python[1:]:
        following = blocks[i + 1] if i + 1 < len(blocks) else None
        if following is not None and following.language == "text":
            found.append(Example(blocks[i].code, following.code.rstrip("\n"), following))
        else:
            found.append(Example(blocks[i].code, None, None))
    return found


def load_app_module(blocks: list[Block]) -> types.ModuleType:
    module = types.ModuleType("assertions_doc_app")
    exec(compile(blocks[0].code, f"{DOC.name} (app)", "exec"), module.__dict__)
    return module


class _DocCase(flask_testcase.TestCase):
    # Run by run_example(), not collected by pytest on its own.
    __test__ = False
    snippet = ""
    namespace: t.ClassVar[dict[str, t.Any]] = {}
    caught: BaseException | None = None

    def create_app(self) -> t.Any:
        return self.namespace["create_app"]()

    def test_snippet(self) -> None:
        try:
            exec(compile(self.snippet, DOC.name, "exec"), {**self.namespace, "self": self})
        except Exception as e:
            self.caught = e


def run_example(module: types.ModuleType, code: str) -> str | None:
    """Run ``code`` as a test body; return the exception text it raised, or None."""
    case = _DocCase("test_snippet")
    case.snippet = code
    case.namespace = {
        **module.__dict__,
        "url_for": __import__("flask").url_for,
    }
    result = unittest.TestResult()
    case.run(result)
    problems = result.errors + result.failures
    assert not problems, problems[0][1]
    if case.caught is None:
        return None
    text = "".join(traceback.format_exception_only(type(case.caught), case.caught))
    return as_documented(text.rstrip("\n"))


def as_documented(text: str) -> str:
    """``text`` with Werkzeug 3.2's status texts ("404 Not Found") in the upper case
    of earlier versions ("404 NOT FOUND"), which the page shows; the title of an
    error page in a response body is left as it is."""
    for status in HTTPStatus:
        line = f"{status.value} {status.phrase}"
        text = re.sub(rf"(?<!<title>){re.escape(line)}", line.upper(), text)
    return text


BLOCKS = read_blocks(DOC.read_text(encoding="utf-8").splitlines())
EXAMPLES = examples(BLOCKS)


def test_the_chapter_has_examples() -> None:
    assert len(EXAMPLES) > 40
    assert sum(e.expected is not None for e in EXAMPLES) > 30


@pytest.mark.parametrize(
    "example",
    EXAMPLES,
    ids=[f"line{e.text_block.start if e.text_block else 0}-{i}" for i, e in enumerate(EXAMPLES)],
)
def test_example(example: Example) -> None:
    module = load_app_module(BLOCKS)
    actual = run_example(module, example.code)
    if example.expected is None:
        assert actual is None, f"this example should pass:\n{example.code}\nbut raised:\n{actual}"
    else:
        assert actual == example.expected, (
            f"docs/assertions.rst shows:\n{example.expected}\nbut the example raises:\n{actual}\n"
            "(regenerate with: python tests/test_docs_assertions.py --update)"
        )


def test_every_assertion_is_in_the_chapter() -> None:
    text = DOC.read_text(encoding="utf-8")
    names = [
        name
        for name in dir(flask_testcase.TestCase)
        if ((name.startswith("assert") and name[6:7].isupper()) or name == "get_context_variable")
        and name not in dir(unittest.TestCase)
    ]
    missing = [n for n in names if f"``{n}" not in text]
    assert not missing, f"docs/assertions.rst does not describe: {', '.join(missing)}"


def _update() -> None:
    lines = DOC.read_text(encoding="utf-8").splitlines()
    module = load_app_module(BLOCKS)
    # From the end, so the line numbers of earlier blocks stay valid.
    for example in reversed(EXAMPLES):
        if example.text_block is None:
            continue
        actual = run_example(module, example.code)
        if actual is None:
            actual = "TODO: this example passes"
        lines[example.text_block.start : example.text_block.end] = [
            ("    " + x).rstrip() for x in actual.splitlines()
        ]
    DOC.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__" and sys.argv[1:] == ["--update"]:
    _update()
