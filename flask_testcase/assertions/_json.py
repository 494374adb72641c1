"""Assertions about JSON documents: a response body, or JSON text, compared with an
expected value."""

from __future__ import annotations

import json
import typing as t

from werkzeug.wrappers import Response as _WerkzeugResponse

from ._core import AssertionBase
from ._core import BadArgument
from ._core import assertion
from ._core import excerpt
from ._core import response_text
from ._core import unified_diff

__unittest = True


def _strict_equal(a: t.Any, b: t.Any) -> bool:
    """JSON equality that tells ``true`` from ``1`` (Python's ``==`` does not)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_strict_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_strict_equal(x, y) for x, y in zip(a, b))
    return (type(a) in (int, float) and type(b) in (int, float) and a == b) or (
        type(a) is type(b) and a == b
    )


def _json_dump(value: t.Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)


class JSONAssertions(AssertionBase):
    """Assertions comparing JSON documents."""

    def _parse_json_data(self, data: t.Any, msg: str | None) -> t.Any:
        if isinstance(data, _WerkzeugResponse):
            text = response_text(data)
            what = "Response body"
        elif isinstance(data, (bytes, bytearray)):
            text = bytes(data).decode("utf-8", "replace")
            what = "Data"
        elif isinstance(data, str):
            text = data
            what = "Data"
        else:
            raise BadArgument(
                TypeError,
                "expects a response, str or bytes holding JSON, got"
                f" {type(data).__name__}; to compare Python objects use assertEqual()",
            )
        try:
            return json.loads(text)
        except ValueError as e:
            error = str(e)
        # Failing outside the except keeps the decoder's traceback out of the report.
        self._fail_with(f"{what} is not valid JSON ({error}): {excerpt(text, 300)!r}", msg)

    @staticmethod
    def _expected_json(expected: t.Any) -> t.Any:
        """``expected`` as the JSON value it stands for.

        A str is JSON text. Any other value goes through :func:`json.dumps` and back,
        so it compares as what a view would send: tuples are arrays and object keys
        are strings (``{1: "a"}`` equals ``{"1": "a"}``).
        """
        if isinstance(expected, (str, bytes, bytearray)):
            try:
                return json.loads(expected)
            except ValueError as e:
                raise BadArgument(
                    ValueError,
                    "expected is a str, so it is read as JSON, but it is not"
                    f" valid JSON ({e}); pass the Python value instead (a JSON string"
                    f" value is written '\"text\"')",
                    separator=": ",
                ) from None
        try:
            return json.loads(json.dumps(expected))
        except (TypeError, ValueError) as e:
            raise BadArgument(
                TypeError,
                f"expected must be a JSON-serialisable value or JSON text ({e})",
                separator=": ",
            ) from None

    @assertion
    def assertJSONEqual(
        self, data: t.Any, expected: t.Any, msg: str | None = None, *, message: str | None = None
    ) -> None:
        """Fail unless ``data`` holds JSON equal to ``expected``.

        Key order does not matter; ``true`` and ``1`` differ. The failure shows a
        unified diff of both documents, pretty-printed with sorted keys.

        :param data: a response, or a str or bytes of JSON.
        :param expected: the expected value: a Python object, or a str of JSON.
        :param msg: added to the standard failure message.
        :param message: Flask-Testing's name for ``msg``.
        """
        want = self._expected_json(expected)
        got = self._parse_json_data(data, msg)
        if not _strict_equal(got, want):
            diff = unified_diff(_json_dump(want), _json_dump(got), "expected", "actual")
            self._fail_with(f"JSON documents differ:\n{diff}", msg)

    @assertion
    def assertJSONNotEqual(
        self, data: t.Any, expected: t.Any, msg: str | None = None, *, message: str | None = None
    ) -> None:
        """Fail if ``data`` holds JSON equal to ``expected``.

        :param data: a response, or a str or bytes of JSON.
        :param expected: the value it must differ from (a Python object or JSON str).
        :param msg: added to the standard failure message.
        :param message: Flask-Testing's name for ``msg``.
        """
        want = self._expected_json(expected)
        got = self._parse_json_data(data, msg)
        if _strict_equal(got, want):
            self._fail_with(f"JSON documents are equal:\n{_json_dump(got)}", msg)
