"""assertJSONEqual and assertJSONNotEqual: responses, str and bytes, readable diffs,
bodies that are not JSON, msg=/message= and misuse."""

from __future__ import annotations

from apps import Case
from apps import in_case
from apps import run_case

BODY = {"name": "ann", "tags": ["a", "b"], "active": True, "count": 1}
NOT_JSON = (
    "Response body is not valid JSON (Expecting value: line 1 column 1 (char 0)):"
    " 'hello world, hello'"
)
TAGS_DIFF = (
    "JSON documents differ:\n"
    "--- expected\n"
    "+++ actual\n"
    "@@ -4,6 +4,6 @@\n"
    '   "name": "ann",\n'
    '   "tags": [\n'
    '     "a",\n'
    '-    "c"\n'
    '+    "b"\n'
    "   ]\n"
    " }"
)
WRONG_TAGS = {**BODY, "tags": ["a", "c"]}


class TestAssertJSONEqual:
    @in_case()
    def test_passes_for_a_response_with_equal_json(self: Case) -> None:
        self.assertJSONEqual(self.client.get("/json"), BODY)
        self.assertJSONEqual(self.client.get("/json-list"), [1, 2, 3])

    @in_case()
    def test_key_order_does_not_matter(self: Case) -> None:
        self.assertJSONEqual('{"b": 1, "a": 2}', {"a": 2, "b": 1})

    @in_case()
    def test_data_may_be_str_bytes_or_bytearray(self: Case) -> None:
        self.assertJSONEqual('{"a": [1, null]}', {"a": [1, None]})
        self.assertJSONEqual(b'{"a": [1, null]}', {"a": [1, None]})
        self.assertJSONEqual(bytearray(b'["caf\xc3\xa9"]'), ["café"])

    @in_case()
    def test_expected_may_be_a_json_str(self: Case) -> None:
        self.assertJSONEqual(self.client.get("/json-list"), "[1, 2, 3]")
        self.assertJSONEqual('"text"', '"text"')

    @in_case()
    def test_an_int_equals_the_same_float(self: Case) -> None:
        self.assertJSONEqual("[1, 2.0]", [1.0, 2])

    @in_case()
    def test_true_is_not_1(self: Case) -> None:
        with self.fails(
            "JSON documents differ:\n--- expected\n+++ actual\n@@ -1,4 +1,4 @@\n"
            " [\n   1,\n-  1\n+  true\n ]"
        ):
            self.assertJSONEqual("[1, true]", [1, 1])

    @in_case()
    def test_fails_with_a_diff_of_the_pretty_printed_documents(self: Case) -> None:
        with self.fails(TAGS_DIFF):
            self.assertJSONEqual(self.client.get("/json"), WRONG_TAGS)

    @in_case()
    def test_list_order_matters(self: Case) -> None:
        with self.fails(
            "JSON documents differ:\n--- expected\n+++ actual\n@@ -1,5 +1,5 @@\n"
            " [\n-  3,\n+  1,\n   2,\n-  1\n+  3\n ]"
        ):
            self.assertJSONEqual(self.client.get("/json-list"), [3, 2, 1])

    @in_case()
    def test_a_body_that_is_not_json_fails_saying_so(self: Case) -> None:
        with self.fails(NOT_JSON):
            self.assertJSONEqual(self.client.get("/text"), {})

    @in_case()
    def test_an_empty_body_is_not_json(self: Case) -> None:
        with self.fails(
            "Response body is not valid JSON (Expecting value: line 1 column 1 (char 0)): ''"
        ):
            self.assertJSONEqual(self.client.get("/empty"), {})

    @in_case()
    def test_str_data_that_is_not_json_fails_saying_so(self: Case) -> None:
        with self.fails(
            "Data is not valid JSON (Expecting property name enclosed in double quotes:"
            " line 1 column 2 (char 1)): \"{'a': 1}\""
        ):
            self.assertJSONEqual("{'a': 1}", {"a": 1})
        with self.fails("Data is not valid JSON (Expecting value: line 1 column 1 (char 0)): 'no'"):
            self.assertJSONEqual(b"no", {"a": 1})

    @in_case()
    def test_only_the_start_of_a_long_body_is_shown(self: Case) -> None:
        text = "x" * 400
        with self.fails(
            "Data is not valid JSON (Expecting value: line 1 column 1 (char 0)): "
            + repr("x" * 300 + "... (100 more characters)")
        ):
            self.assertJSONEqual(text, {})

    @in_case()
    def test_msg_is_appended(self: Case) -> None:
        response = self.client.get("/json")
        with self.fails(TAGS_DIFF + " : positional"):
            self.assertJSONEqual(response, WRONG_TAGS, "positional")
        with self.fails(TAGS_DIFF + " : keyword"):
            self.assertJSONEqual(response, WRONG_TAGS, msg="keyword")
        with self.fails(NOT_JSON + " : keyword"):
            self.assertJSONEqual(self.client.get("/text"), {}, msg="keyword")

    @in_case()
    def test_flask_testing_style_message_is_appended(self: Case) -> None:
        with self.fails(TAGS_DIFF + " : message"):
            self.assertJSONEqual(self.client.get("/json"), WRONG_TAGS, message="message")

    @in_case()
    def test_msg_and_message_together_is_a_type_error(self: Case) -> None:
        with self.misuse(
            TypeError,
            "assertJSONEqual() got both msg= and message=; pass one (message= is the"
            " Flask-Testing spelling of msg=).",
        ):
            self.assertJSONEqual(self.client.get("/json"), BODY, "a", message="b")

    @in_case()
    def test_data_that_is_not_a_response_str_or_bytes_is_a_type_error(self: Case) -> None:
        with self.misuse(
            TypeError,
            "assertJSONEqual() expects a response, str or bytes holding JSON, got dict;"
            " to compare Python objects use assertEqual()",
        ):
            self.assertJSONEqual({"a": 1}, {"a": 1})
        with self.misuse(
            TypeError,
            "assertJSONEqual() expects a response, str or bytes holding JSON, got int;"
            " to compare Python objects use assertEqual()",
        ):
            self.assertJSONEqual(200, {})

    @in_case()
    def test_expected_str_that_is_not_json_is_a_value_error(self: Case) -> None:
        with self.misuse(
            ValueError,
            "assertJSONEqual(): expected is a str, so it is read as JSON, but it is not"
            " valid JSON (Expecting value: line 1 column 1 (char 0)); pass the Python"
            " value instead (a JSON string value is written '\"text\"')",
        ):
            self.assertJSONEqual('"ok"', "ok")

    @in_case()
    def test_a_tuple_is_compared_as_an_array(self: Case) -> None:
        self.assertJSONEqual(self.client.get("/json-list"), (1, 2, 3))

    @in_case()
    def test_a_failure_never_has_an_empty_diff(self: Case) -> None:
        # Whichever way it is fixed (pass, TypeError, or a message), not a bare header.
        try:
            self.assertJSONEqual('{"1": "a"}', {1: "a"})
        except (self.failureException, TypeError, ValueError) as e:
            self.assertNotEqual(str(e), "JSON documents differ:\n")

    @in_case()
    def test_a_binary_body_fails_as_not_json(self: Case) -> None:
        with self.assertRaises(self.failureException) as cm:
            self.assertJSONEqual(self.client.get("/binary"), {})
        self.assertTrue(str(cm.exception).startswith("Response body is not valid JSON"))


class TestAssertJSONNotEqual:
    @in_case()
    def test_passes_when_the_documents_differ(self: Case) -> None:
        self.assertJSONNotEqual(self.client.get("/json"), WRONG_TAGS)
        self.assertJSONNotEqual("[1, true]", [1, 1])
        self.assertJSONNotEqual(b"[1]", "[2]")

    @in_case()
    def test_fails_showing_the_document(self: Case) -> None:
        with self.fails('JSON documents are equal:\n{\n  "a": [\n    1,\n    2\n  ]\n}'):
            self.assertJSONNotEqual('{"a": [1, 2]}', {"a": [1, 2]})

    @in_case()
    def test_a_body_that_is_not_json_fails_saying_so(self: Case) -> None:
        with self.fails(NOT_JSON):
            self.assertJSONNotEqual(self.client.get("/text"), {})

    @in_case()
    def test_msg_and_message_are_appended(self: Case) -> None:
        standard = "JSON documents are equal:\n[\n  1,\n  2,\n  3\n]"
        response = self.client.get("/json-list")
        with self.fails(standard + " : positional"):
            self.assertJSONNotEqual(response, [1, 2, 3], "positional")
        with self.fails(standard + " : keyword"):
            self.assertJSONNotEqual(response, [1, 2, 3], msg="keyword")
        with self.fails(standard + " : message"):
            self.assertJSONNotEqual(response, [1, 2, 3], message="message")

    @in_case()
    def test_misuse(self: Case) -> None:
        with self.misuse(
            TypeError,
            "assertJSONNotEqual() got both msg= and message=; pass one (message= is the"
            " Flask-Testing spelling of msg=).",
        ):
            self.assertJSONNotEqual("[]", [1], "a", message="b")
        with self.misuse(
            TypeError,
            "assertJSONNotEqual() expects a response, str or bytes holding JSON, got list;"
            " to compare Python objects use assertEqual()",
        ):
            self.assertJSONNotEqual([1], [2])
        with self.misuse(
            ValueError,
            "assertJSONNotEqual(): expected is a str, so it is read as JSON, but it is not"
            " valid JSON (Expecting value: line 1 column 1 (char 0)); pass the Python"
            " value instead (a JSON string value is written '\"text\"')",
        ):
            self.assertJSONNotEqual("[]", "nope")


class TestThroughTheRunner:
    def test_a_diff_reaches_the_report_intact(self) -> None:
        class T(Case):
            def test_api(self) -> None:
                self.assertJSONEqual(self.client.get("/json"), WRONG_TAGS)

        result = run_case(T)
        [(_, text)] = result.failures
        assert text.endswith("AssertionError: " + TAGS_DIFF + "\n")

    def test_a_body_that_is_not_json_is_reported_once(self) -> None:
        class T(Case):
            def test_api(self) -> None:
                self.assertJSONEqual(self.client.get("/text"), {})

        result = run_case(T)
        [(_, text)] = result.failures
        assert "During handling" not in text
