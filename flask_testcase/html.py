"""HTML normalisation for semantic comparison.

:func:`parse_html` turns a string of HTML into a tree of :class:`Element`
objects that compare equal when two documents mean the same thing to a test,
even when they are written differently. It is the machinery behind
``assertHTMLEqual``, ``assertHTMLNotEqual``, ``assertInHTML`` and
``assertContains(..., html=True)``.

What is normalised, so that it does not affect equality:

- Tag and attribute names are lowercased.
- Attribute order is ignored. The ``class`` attribute's value is split on
  whitespace, sorted and joined by one space, so class order is ignored too
  (repeated class names are kept).
- An attribute written without a value equals the same attribute with an
  empty value (``<input data-x>`` is ``<input data-x="">``). For the boolean
  attributes of the HTML standard (``checked``, ``disabled``, ``selected``,
  ...) the attribute's own name as value is also the same
  (``checked`` == ``checked=""`` == ``checked="checked"``); any other value is
  kept as written.
- Character references are decoded (``&amp;`` is ``&``, ``&#39;`` is ``'``).
- In text, runs of ASCII whitespace collapse to one space, and the whitespace
  at both ends of each piece of text between two tags is removed, so
  whitespace-only text between tags disappears. Non-breaking spaces
  (``&nbsp;``) are text, not whitespace. Text separated only by a comment is
  one piece of text.
- Void elements (``<br>``, ``<img>``, ``<input>``, ...) are the same with or
  without the self-closing slash and never have children. A self-closing
  non-void tag (``<div/>``) is the same as ``<div></div>``.
- Comments, the doctype and processing instructions are ignored.

Deliberate simplifications, compared with a browser:

- Elements still open at the end of the input are closed there, and an end
  tag closes every element opened after its own start tag
  (``<div><span></div>`` is ``<div><span></span></div>``). No element is
  closed by the start of another one: ``<p>a<p>b`` is a ``p`` inside a ``p``,
  not two siblings as a browser would build.
- Whitespace is normalised everywhere, ``<pre>`` and ``<textarea>``
  included.

What is an error (:class:`HTMLParseError`, with the line and column):

- An end tag that matches no open element.
- An end tag of a void element, except directly after that element's start
  tag (``<input></input>``, as XHTML-style templates write it).
- The same attribute twice on one element. Browsers keep the first one and
  silently drop the rest; in a page under test that is almost always a bug,
  so it is reported rather than guessed around.
"""

from __future__ import annotations

import re
import typing as t
from html import escape
from html.parser import HTMLParser

if t.TYPE_CHECKING:
    from collections.abc import Iterable

    _Attributes = tuple[tuple[str, str | None], ...]

__all__ = ["Element", "HTMLParseError", "parse_html"]

#: Elements that cannot have content and have no end tag.
VOID_ELEMENTS = frozenset(
    {
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "param",
        "source",
        "track",
        "wbr",
    }
)

#: Boolean attributes of the HTML standard: present means true, and the only
#: valid values are the empty string and the attribute's own name.
BOOLEAN_ATTRIBUTES = frozenset(
    {
        "allowfullscreen",
        "async",
        "autofocus",
        "autoplay",
        "checked",
        "controls",
        "default",
        "defer",
        "disabled",
        "formnovalidate",
        "hidden",
        "inert",
        "ismap",
        "itemscope",
        "loop",
        "multiple",
        "muted",
        "nomodule",
        "novalidate",
        "open",
        "playsinline",
        "readonly",
        "required",
        "reversed",
        "selected",
    }
)

# HTML's whitespace is ASCII only. Python's str.split() and str.strip() would
# also eat U+00A0 (what &nbsp; decodes to), which a page uses on purpose.
_ASCII_WHITESPACE = " \t\n\r\f"
_WHITESPACE_RUN = re.compile(f"[{_ASCII_WHITESPACE}]+")


class HTMLParseError(ValueError):
    """The HTML could not be turned into a tree.

    :param message: What is wrong and where, as shown to the user.
    :param line: The line of the offending tag, starting at 1.
    :param column: The column of the offending tag, starting at 1.
    """

    def __init__(self, message: str, line: int, column: int) -> None:
        # All three in args, so that the exception pickles (pytest-xdist).
        super().__init__(message, line, column)
        #: What is wrong and where.
        self.message = message
        #: The line of the offending tag, starting at 1.
        self.line = line
        #: The column of the offending tag, starting at 1.
        self.column = column

    def __str__(self) -> str:
        return self.message


def _normalize_text(text: str) -> str:
    """Collapse runs of whitespace to one space and strip both ends."""
    return _WHITESPACE_RUN.sub(" ", text).strip(_ASCII_WHITESPACE)


def _normalize_attributes(
    attributes: Iterable[tuple[str, str | None]],
) -> _Attributes:
    """Lowercase names, normalise values and sort by name.

    :raises ValueError: if an attribute occurs twice.
    """
    seen: dict[str, str | None] = {}

    for raw_name, value in attributes:
        name = raw_name.lower()

        if name in seen:
            raise ValueError(f"Duplicate attribute {name!r}.")

        if name in BOOLEAN_ATTRIBUTES:
            if value is not None and value.lower() in ("", name):
                value = None
        elif value is None:
            value = ""

        if name == "class" and value is not None:
            value = " ".join(sorted(c for c in _WHITESPACE_RUN.split(value) if c))

        seen[name] = value

    return tuple(sorted(seen.items()))


def _normalize_children(children: Iterable[Element | str]) -> list[Element | str]:
    """Merge adjacent text, normalise its whitespace and drop empty text."""
    result: list[Element | str] = []
    pending: list[str] = []

    def flush() -> None:
        text = _normalize_text("".join(pending))
        pending.clear()

        if text:
            result.append(text)

    for child in children:
        if isinstance(child, str):
            pending.append(child)
        elif isinstance(child, Element):
            flush()
            result.append(child)
        else:
            raise TypeError(
                f"An Element's children must be Element or str, got {type(child).__name__}."
            )

    flush()
    return result


class Element:
    """One normalised HTML element, or the root of a fragment.

    Usually made by :func:`parse_html`. Made directly, the attributes and
    children are normalised the same way. Treat an element as immutable once
    it is built: its hash depends on its content.

    :param name: The tag name, or ``None`` for the root holding the top-level
        nodes of a fragment or document.
    :param attributes: ``(name, value)`` pairs, value ``None`` when the
        attribute has no value.
    :param children: Child elements and text.
    :raises ValueError: if an attribute occurs twice, or a void element is
        given children.
    """

    #: The lowercase tag name, or ``None`` for the root of a fragment.
    name: str | None
    #: ``(name, value)`` pairs sorted by name. ``value`` is ``None`` for a
    #: boolean attribute that is present; the ``class`` value is normalised.
    attributes: _Attributes
    #: Child elements and whitespace-normalised, non-empty text, in order;
    #: never two texts in a row.
    children: list[Element | str]

    def __init__(
        self,
        name: str | None,
        attributes: Iterable[tuple[str, str | None]] = (),
        children: Iterable[Element | str] = (),
    ) -> None:
        if name is not None and not isinstance(name, str):
            raise TypeError(
                f"An Element's name must be a str, or None for a root, got {type(name).__name__}."
            )

        self.name = None if name is None else name.lower()
        self.attributes = _normalize_attributes(attributes)
        self.children = _normalize_children(children)

        if self.name is None and self.attributes:
            raise ValueError("The root element (name None) cannot have attributes.")

        if self.name in VOID_ELEMENTS and self.children:
            raise ValueError(f"<{self.name}> is a void element and cannot have children.")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Element):
            return NotImplemented

        return (
            self.name == other.name
            and self.attributes == other.attributes
            and self.children == other.children
        )

    def __hash__(self) -> int:
        return hash((self.name, self.attributes, tuple(self.children)))

    def count(self, needle: Element | str) -> int:
        """Count the occurrences of ``needle`` inside this element.

        - Text (a ``str``, or a root holding only text) is whitespace
          normalised and counted as a substring of each piece of text in the
          tree, without overlaps. It is not matched across tags.
        - An element is counted once for each subtree equal to it, this
          element included.
        - A root with several children is counted once for each run of
          consecutive children, inside any element, equal to its children,
          without overlaps. Text at either end of the needle must equal a
          whole piece of text in the haystack.

        :param needle: What to look for, usually from :func:`parse_html`.
        :raises ValueError: if the needle is empty.
        :raises TypeError: if the needle is neither an Element nor a str.
        """
        if isinstance(needle, str):
            text = _normalize_text(needle)

            if not text:
                raise ValueError(
                    "Cannot count empty or whitespace-only text; pass the text or HTML to look for."
                )

            return self._count_text(text)

        if not isinstance(needle, Element):
            raise TypeError(
                f"The needle must be an Element or a str, got"
                f" {type(needle).__name__}; use parse_html() on HTML source."
            )

        if needle.name is not None:
            return self._count_element(needle)

        if not needle.children:
            raise ValueError("Cannot count an empty fragment; pass the text or HTML to look for.")

        if len(needle.children) == 1:
            return self.count(needle.children[0])

        return self._count_run(needle.children)

    def _count_text(self, text: str) -> int:
        return sum(
            child.count(text) if isinstance(child, str) else child._count_text(text)
            for child in self.children
        )

    def _count_element(self, needle: Element) -> int:
        # A subtree that equals the needle cannot contain another one: the
        # needle would have to be part of itself.
        if self == needle:
            return 1

        return sum(
            child._count_element(needle) for child in self.children if isinstance(child, Element)
        )

    def _count_run(self, run: list[Element | str]) -> int:
        found = 0
        size = len(run)
        index = 0

        while index + size <= len(self.children):
            if self.children[index : index + size] == run:
                found += 1
                index += size
            else:
                index += 1

        return found + sum(
            child._count_run(run) for child in self.children if isinstance(child, Element)
        )

    def __contains__(self, needle: Element | str) -> bool:
        return self.count(needle) > 0

    def __str__(self) -> str:
        """The normalised HTML, on one line.

        Attributes in name order, boolean attributes without a value, text
        escaped, void elements without an end tag. Equal elements give equal
        strings.
        """
        content = "".join(_serialize_child(child) for child in self.children)

        if self.name is None:
            return content

        if self.name in VOID_ELEMENTS:
            return self._start_tag()

        return f"{self._start_tag()}{content}</{self.name}>"

    def __repr__(self) -> str:
        kind = "root" if self.name is None else self.name
        return f"<{type(self).__name__} {kind} {str(self)!r}>"

    def _start_tag(self) -> str:
        parts = [f"<{self.name}"]

        for name, value in self.attributes:
            if value is None:
                parts.append(f" {name}")
            else:
                parts.append(f' {name}="{escape(value)}"')

        parts.append(">")
        return "".join(parts)

    def pretty(self) -> str:
        """The normalised HTML indented by two spaces per level.

        Each element and each piece of text gets its own line, except that
        an element holding nothing or only text stays on one line. Meant for
        line-by-line diffs of two documents. No trailing newline.
        """
        return "\n".join(self._pretty_lines(0))

    def _pretty_lines(self, depth: int) -> list[str]:
        indent = "  " * depth

        if self.name is None:
            return [line for child in self.children for line in _pretty_child(child, depth)]

        if all(isinstance(child, str) for child in self.children):
            return [f"{indent}{self}"]

        lines = [f"{indent}{self._start_tag()}"]

        for child in self.children:
            lines.extend(_pretty_child(child, depth + 1))

        lines.append(f"{indent}</{self.name}>")
        return lines


def _serialize_child(child: Element | str) -> str:
    if isinstance(child, str):
        return escape(child, quote=False)

    return str(child)


def _pretty_child(child: Element | str, depth: int) -> list[str]:
    if isinstance(child, str):
        return ["  " * depth + escape(child, quote=False)]

    return child._pretty_lines(depth)


class _Open:
    """An element being parsed: its start tag seen, its end tag not yet."""

    __slots__ = ("attributes", "children", "name")

    def __init__(self, name: str | None, attributes: _Attributes) -> None:
        self.name = name
        self.attributes = attributes
        self.children: list[Element | str] = []

    def build(self) -> Element:
        return Element(self.name, self.attributes, self.children)


class _Parser(HTMLParser):
    """Builds the tree; everything not handled here (comments, doctype,
    processing instructions) is ignored by HTMLParser's default handlers.
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack = [_Open(None, ())]
        # The void element whose start tag was the last thing seen, so that
        # an end tag right after it (<input></input>) can be accepted.
        self.void_just_opened: str | None = None

    def error(self, what: str, why: str) -> HTMLParseError:
        """Say what is wrong at the current tag, where, and why."""
        line, offset = self.getpos()
        column = offset + 1
        return HTMLParseError(f"{what} at line {line}, column {column}: {why}", line, column)

    def open_names(self) -> str:
        names = [f"<{item.name}>" for item in self.stack[1:]]
        return ", ".join(names) if names else "none"

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = [name for name, _ in attrs]

        for name in names:
            if names.count(name) > 1:
                raise self.error(
                    f"Duplicate attribute {name!r} in <{tag}>",
                    "an attribute may appear only once on an element.",
                )

        attributes = _normalize_attributes(attrs)

        if tag in VOID_ELEMENTS:
            self.stack[-1].children.append(Element(tag, attributes))
            self.void_just_opened = tag
        else:
            self.stack.append(_Open(tag, attributes))
            self.void_just_opened = None

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

        if tag not in VOID_ELEMENTS:
            self.close_element(tag)

        self.void_just_opened = None

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID_ELEMENTS:
            if self.void_just_opened == tag:
                self.void_just_opened = None
                return

            raise self.error(
                f"Unexpected end tag </{tag}>",
                f"<{tag}> is a void element and has no end tag; write <{tag}> alone.",
            )

        self.void_just_opened = None

        if not any(item.name == tag for item in self.stack[1:]):
            raise self.error(
                f"Unexpected end tag </{tag}>",
                f"no <{tag}> element is open (open elements: {self.open_names()}).",
            )

        self.close_element(tag)

    def handle_data(self, data: str) -> None:
        if data.strip(_ASCII_WHITESPACE):
            self.void_just_opened = None

        self.stack[-1].children.append(data)

    def close_element(self, tag: str) -> None:
        """Close ``tag`` and every element opened inside it."""
        while True:
            item = self.stack.pop()
            self.stack[-1].children.append(item.build())

            if item.name == tag:
                return

    def finish(self) -> Element:
        self.close()

        # Elements left open at the end of the input end there.
        while len(self.stack) > 1:
            item = self.stack.pop()
            self.stack[-1].children.append(item.build())

        return self.stack[0].build()


def parse_html(html: str) -> Element:
    """Parse HTML into a normalised tree for comparison.

    :param html: A document or a fragment.
    :return: The single top-level element when the input is one element
        (with only whitespace, comments or a doctype around it); otherwise a
        root :class:`Element`, with ``name`` ``None``, holding the top-level
        elements and text.
    :raises HTMLParseError: if the input has an end tag that matches no open
        element, or an element with the same attribute twice.
    :raises TypeError: if ``html`` is not a str.
    """
    if not isinstance(html, str):
        hint = (
            " Decode it first, e.g. response.get_data(as_text=True)."
            if isinstance(html, (bytes, bytearray))
            else ""
        )
        raise TypeError(f"parse_html() expects HTML as a str, got {type(html).__name__}.{hint}")

    parser = _Parser()
    parser.feed(html)
    root = parser.finish()

    if len(root.children) == 1 and isinstance(root.children[0], Element):
        return root.children[0]

    return root
