"""Tests for flask_testcase.html: the normalised HTML tree behind the HTML assertions."""

from __future__ import annotations

import pickle

import pytest

from flask_testcase.html import Element
from flask_testcase.html import HTMLParseError
from flask_testcase.html import parse_html


def same(a: str, b: str) -> bool:
    """Parse both sides and say whether they are equal, checking that == and != agree."""
    left, right = parse_html(a), parse_html(b)
    assert (left == right) is not (left != right)
    return left == right


class TestAttributes:
    def test_order_is_ignored(self) -> None:
        assert same('<a href="/x" id="y" title="z">', '<a title="z" href="/x" id="y">')

    def test_names_are_lowercased(self) -> None:
        assert same('<A HREF="/x">', '<a href="/x">')
        assert parse_html('<a HREF="/x">').attributes == (("href", "/x"),)

    def test_attributes_are_sorted_by_name(self) -> None:
        element = parse_html('<p title="t" class="c" id="i">')
        assert element.attributes == (("class", "c"), ("id", "i"), ("title", "t"))

    def test_class_order_and_spacing_are_ignored(self) -> None:
        assert same('<p class="b a  c">', '<p class="\ta b\nc ">')
        assert parse_html('<p class=" b  a ">').attributes == (("class", "a b"),)

    def test_different_class_is_unequal(self) -> None:
        assert not same('<p class="a b">', '<p class="a c">')
        assert not same('<p class="a">', '<p class="a a">')

    def test_different_value_is_unequal(self) -> None:
        assert not same('<a href="/x">', '<a href="/y">')

    def test_value_case_matters(self) -> None:
        assert not same('<a href="/x">', '<a href="/X">')

    def test_value_whitespace_is_kept(self) -> None:
        assert not same('<a title="a b">', '<a title="a  b">')

    def test_missing_attribute_is_unequal(self) -> None:
        assert not same('<a href="/x">', '<a href="/x" id="y">')

    def test_different_attribute_name_is_unequal(self) -> None:
        assert not same('<a title="x">', '<a alt="x">')

    def test_quoting_style_is_ignored(self) -> None:
        assert same("<a href='/x' id=y>", '<a href="/x" id="y">')

    def test_value_without_quotes_or_value_is_empty(self) -> None:
        assert same("<div data-x>", '<div data-x="">')
        assert parse_html("<div data-x>").attributes == (("data-x", ""),)

    def test_non_boolean_attribute_named_as_value_is_not_empty(self) -> None:
        assert not same('<option value="value">', "<option value>")


class TestBooleanAttributes:
    @pytest.mark.parametrize(
        "other",
        [
            '<input type="checkbox" checked="">',
            '<input type="checkbox" checked="checked">',
            '<input type="checkbox" checked="CHECKED">',
            '<input checked type="checkbox"/>',
        ],
    )
    def test_forms_are_equal(self, other: str) -> None:
        assert same('<input type="checkbox" checked>', other)

    def test_value_is_none(self) -> None:
        element = parse_html('<option selected="selected" value="1">')
        assert element.attributes == (("selected", None), ("value", "1"))

    def test_other_value_is_kept(self) -> None:
        assert not same("<button disabled>", '<button disabled="false">')
        assert parse_html('<button disabled="false">').attributes == (("disabled", "false"),)

    def test_absent_is_unequal(self) -> None:
        assert not same('<input type="checkbox" checked>', '<input type="checkbox">')


class TestWhitespace:
    def test_runs_collapse_to_one_space(self) -> None:
        assert same("<p>Hello   big\n\t world</p>", "<p>Hello big world</p>")
        assert parse_html("<p>a \n\r\f\t b</p>").children == ["a b"]

    def test_between_tags_is_dropped(self) -> None:
        assert same("<ul>\n  <li>a</li>\n  <li>b</li>\n</ul>", "<ul><li>a</li><li>b</li></ul>")

    def test_leading_and_trailing_is_stripped(self) -> None:
        assert same("<p>  Hello  </p>", "<p>Hello</p>")

    def test_around_child_tags_is_stripped(self) -> None:
        element = parse_html("<p> Hello <b> big </b> world </p>")
        assert element.children[0] == "Hello"
        assert element.children[2] == "world"
        assert same("<p> Hello <b> big </b> world </p>", "<p>Hello<b>big</b>world</p>")

    def test_inside_words_is_significant(self) -> None:
        assert not same("<p>Hello world</p>", "<p>Helloworld</p>")

    def test_around_a_document_is_ignored(self) -> None:
        assert same("\n\n  <p>x</p>\n", "<p>x</p>")

    def test_non_breaking_space_is_text(self) -> None:
        assert not same("<p>a&nbsp;b</p>", "<p>a b</p>")
        assert parse_html("<p>&nbsp;a&nbsp;</p>").children == ["\xa0a\xa0"]

    def test_different_text_is_unequal(self) -> None:
        assert not same("<p>Hello</p>", "<p>Goodbye</p>")
        assert not same("<p>Hello</p>", "<p>hello</p>")


class TestCharacterReferences:
    @pytest.mark.parametrize(
        ("encoded", "plain"),
        [
            ("<p>&amp;</p>", "<p>&</p>"),
            ("<p>&#39;</p>", "<p>'</p>"),
            ("<p>&#x27;</p>", "<p>'</p>"),
            ("<p>&quot;&lt;&gt;</p>", '<p>"&lt;></p>'),
            ("<p>&eacute;</p>", "<p>\xe9</p>"),
        ],
    )
    def test_decoded_in_text(self, encoded: str, plain: str) -> None:
        assert same(encoded, plain)

    def test_decoded_in_attributes(self) -> None:
        assert same('<a href="/?a=1&amp;b=2">', '<a href="/?a=1&b=2">')
        assert same('<a title="&#39;x&#39;">', "<a title=\"'x'\">")
        assert parse_html('<a title="&quot;">').attributes == (("title", '"'),)

    def test_decoded_text_is_compared(self) -> None:
        assert parse_html("<p>a &amp; b</p>").children == ["a & b"]
        assert not same("<p>&amp;</p>", "<p>&amp;amp;</p>")


class TestTagsAndVoidElements:
    def test_tag_names_are_lowercased(self) -> None:
        assert same("<DIV><P>x</P></DIV>", "<div><p>x</p></div>")
        assert parse_html("<DIV></DIV>").name == "div"

    def test_different_tag_is_unequal(self) -> None:
        assert not same("<p>x</p>", "<div>x</div>")

    @pytest.mark.parametrize("other", ["<br/>", "<br />", "<BR>"])
    def test_void_forms_are_equal(self, other: str) -> None:
        assert same("<br>", other)

    def test_void_element_with_attributes_forms_are_equal(self) -> None:
        assert same('<img src="a.png" alt="A">', '<img alt="A" src="a.png" />')

    def test_void_element_never_has_children(self) -> None:
        root = parse_html("<p><br>text<input>more</p>")
        assert root.children == [Element("br"), "text", Element("input"), "more"]

    def test_void_end_tag_right_after_start_is_accepted(self) -> None:
        assert same('<input name="q"></input>', '<input name="q">')
        assert same("<p><img src=x> </img></p>", "<p><img src=x></p>")

    def test_self_closing_non_void_is_empty(self) -> None:
        assert same("<div/>", "<div></div>")
        assert same('<svg><path d="M0"/></svg>', '<svg><path d="M0"></path></svg>')

    def test_self_closing_non_void_has_no_children(self) -> None:
        assert parse_html("<div><span/>x</div>").children == [Element("span"), "x"]

    def test_empty_and_non_empty_are_unequal(self) -> None:
        assert not same("<div></div>", "<div> x </div>")


class TestCommentsAndDoctype:
    def test_comments_are_ignored(self) -> None:
        assert same("<div><!-- note --><p>x</p><!----></div>", "<div><p>x</p></div>")

    def test_comment_between_text_joins_it(self) -> None:
        assert parse_html("<p>ab<!-- x -->cd</p>").children == ["abcd"]
        assert parse_html("<p>ab <!-- x --> cd</p>").children == ["ab cd"]

    def test_doctype_and_processing_instruction_are_ignored(self) -> None:
        assert same("<!DOCTYPE html>\n<html><body>x</body></html>", "<html><body>x</body></html>")
        assert same('<?xml version="1.0"?><p>x</p>', "<p>x</p>")


class TestStructure:
    def test_nested_structures_are_equal(self) -> None:
        first = """
            <form method="post" action="/login">
              <label for="u">User</label>
              <input id="u" name="user" type="text" required>
              <ul class="errors  form"><li>Too short</li></ul>
            </form>
        """
        second = (
            '<form action="/login" method="post"><label for="u">User</label>'
            '<input type="text" name="user" id="u" required="required">'
            '<ul class="form errors"><li>Too short</li></ul></form>'
        )
        assert same(first, second)

    def test_deep_difference_is_unequal(self) -> None:
        assert not same(
            "<div><ul><li><b>a</b></li></ul></div>", "<div><ul><li><i>a</i></li></ul></div>"
        )

    def test_different_nesting_is_unequal(self) -> None:
        assert not same("<div><p>a</p></div>", "<div><p></p>a</div>")

    def test_child_order_matters(self) -> None:
        assert not same("<ul><li>a</li><li>b</li></ul>", "<ul><li>b</li><li>a</li></ul>")

    def test_single_element_is_returned_itself(self) -> None:
        element = parse_html(' <!-- c --> <p id="x">hi</p> ')
        assert element.name == "p"
        assert element.attributes == (("id", "x"),)
        assert element.children == ["hi"]

    def test_several_top_level_nodes_give_a_root(self) -> None:
        root = parse_html("<p>a</p> <p>b</p>")
        assert root.name is None
        assert root.attributes == ()
        assert root.children == [Element("p", children=["a"]), Element("p", children=["b"])]

    def test_top_level_text_gives_a_root(self) -> None:
        assert parse_html("hello").name is None
        assert parse_html("hello").children == ["hello"]
        assert parse_html("hi <b>x</b>").children == ["hi", Element("b", children=["x"])]

    def test_empty_input_is_an_empty_root(self) -> None:
        assert parse_html("") == Element(None)
        assert parse_html("  <!-- only a comment -->  ") == Element(None)

    def test_root_is_unequal_to_its_single_element(self) -> None:
        assert Element(None, children=[Element("p")]) != Element("p")

    def test_unclosed_elements_close_at_the_end(self) -> None:
        assert same("<div><p>text", "<div><p>text</p></div>")

    def test_end_tag_closes_elements_opened_inside(self) -> None:
        assert same("<div><span>a</div>", "<div><span>a</span></div>")
        assert same("<div><p><b>a</div><i>b</i>", "<div><p><b>a</b></p></div><i>b</i>")

    def test_paragraph_is_not_closed_by_the_next_one(self) -> None:
        # Documented simplification: no implied end tags, unlike a browser.
        assert same("<p>a<p>b", "<p>a<p>b</p></p>")
        assert not same("<p>a<p>b", "<p>a</p><p>b</p>")

    def test_script_content_is_text(self) -> None:
        element = parse_html("<script>if (a < b) { x(); }</script>")
        assert element.children == ["if (a < b) { x(); }"]


class TestEqualityAndHash:
    def test_equal_elements_hash_equal(self) -> None:
        first = parse_html('<p class="b a" id="x">t<br></p>')
        second = parse_html('<p id="x" class="a b">t<br/></p>')
        assert first == second
        assert hash(first) == hash(second)
        assert len({first, second}) == 1

    def test_other_types_are_unequal(self) -> None:
        assert parse_html("hello") != "hello"
        assert parse_html("<p>x</p>") != "<p>x</p>"
        assert parse_html("<p>x</p>").__eq__("<p>x</p>") is NotImplemented


class TestElementConstructor:
    def test_normalises_like_the_parser(self) -> None:
        built = Element(
            "P",
            [("ID", "x"), ("class", "b a"), ("hidden", "hidden")],
            ["  a  ", "b ", Element("br"), "   "],
        )
        assert built == parse_html('<p hidden class="a b" id="x">a b<br></p>')
        assert built.children == ["a b", Element("br")]

    def test_void_element_with_children_is_refused(self) -> None:
        with pytest.raises(
            ValueError, match=r"^<br> is a void element and cannot have children\.$"
        ):
            Element("br", children=["x"])

    def test_root_with_attributes_is_refused(self) -> None:
        with pytest.raises(ValueError, match=r"^The root element \(name None\) cannot have"):
            Element(None, [("id", "x")])

    def test_duplicate_attribute_is_refused(self) -> None:
        with pytest.raises(ValueError, match=r"^Duplicate attribute 'id'\.$"):
            Element("p", [("id", "x"), ("ID", "y")])

    def test_bad_child_is_refused(self) -> None:
        with pytest.raises(
            TypeError, match=r"^An Element's children must be Element or str, got int\.$"
        ):
            Element("p", children=[1])  # type: ignore[list-item]

    def test_bad_name_is_refused(self) -> None:
        with pytest.raises(TypeError, match=r"^An Element's name must be a str, or None for a"):
            Element(b"p")  # type: ignore[arg-type]


class TestCount:
    def test_text_in_one_node(self) -> None:
        assert parse_html("<p>ab ab ab</p>").count("ab") == 3

    def test_text_is_counted_without_overlap(self) -> None:
        assert parse_html("<p>aaaa</p>").count("aa") == 2

    def test_text_in_several_nodes(self) -> None:
        html = "<div><p>Hello</p> Hello <ul><li>Hello there, Hello</li></ul></div>"
        assert parse_html(html).count("Hello") == 4

    def test_text_needle_whitespace_is_normalised(self) -> None:
        haystack = parse_html("<p>Hello   big\n world</p>")
        assert haystack.count("  big\tworld ") == 1
        assert haystack.count("bigworld") == 0

    def test_text_is_not_matched_across_tags(self) -> None:
        assert parse_html("<p>Hello <b>world</b></p>").count("Hello world") == 0

    def test_text_is_not_matched_in_attributes_or_tag_names(self) -> None:
        assert parse_html('<a title="here">x</a>').count("here") == 0
        assert parse_html("<p>x</p>").count("p") == 0

    def test_text_root_needle_counts_as_text(self) -> None:
        assert parse_html("<p>a &amp; b, a &amp; b</p>").count(parse_html("a &amp; b")) == 2

    def test_missing_text_counts_zero(self) -> None:
        assert parse_html("<p>Hello</p>").count("Goodbye") == 0

    def test_element(self) -> None:
        haystack = parse_html(
            '<ul><li class="x y">a</li><li>a</li><li class="y x">a</li>'
            '<li><ul><li class="x y">a</li></ul></li></ul>'
        )
        assert haystack.count(parse_html('<li class="y x">a</li>')) == 3
        assert haystack.count(parse_html("<li>a</li>")) == 1
        assert haystack.count(parse_html('<li class="x">a</li>')) == 0

    def test_element_must_match_whole_subtree(self) -> None:
        haystack = parse_html("<div><p>a <b>b</b></p></div>")
        assert haystack.count(parse_html("<p>a</p>")) == 0
        assert haystack.count(parse_html("<b>b</b>")) == 1

    def test_self_counts_once(self) -> None:
        haystack = parse_html('<div id="x"><p>a</p></div>')
        assert haystack.count(parse_html('<div id="x"><p>a</p></div>')) == 1
        assert haystack.count(haystack) == 1

    def test_nested_equal_elements_each_count(self) -> None:
        assert parse_html("<div><br><p><br></p></div>").count(parse_html("<br/>")) == 2

    def test_several_children_count_consecutive_runs(self) -> None:
        haystack = parse_html(
            "<div><dt>a</dt><dd>1</dd><dt>b</dt><dd>2</dd>"
            "<section><dt>a</dt><dd>1</dd></section><dt>a</dt><p></p><dd>1</dd></div>"
        )
        assert haystack.count(parse_html("<dt>a</dt><dd>1</dd>")) == 2
        assert haystack.count(parse_html("<dd>1</dd><dt>b</dt>")) == 1
        assert haystack.count(parse_html("<dd>2</dd><dt>a</dt>")) == 0

    def test_runs_do_not_overlap(self) -> None:
        haystack = parse_html("<ul><li>a</li><li>a</li><li>a</li><li>a</li><li>a</li></ul>")
        assert haystack.count(parse_html("<li>a</li><li>a</li>")) == 2

    def test_run_with_text(self) -> None:
        haystack = parse_html("<p>Hello <b>you</b>!</p><p>Hi <b>you</b></p>")
        assert haystack.count(parse_html("Hello <b>you</b>")) == 1
        # Text at the ends of the needle must be a whole text node.
        assert haystack.count(parse_html("<b>you</b>")) == 2
        assert haystack.count(parse_html("llo <b>you</b>")) == 0

    def test_root_haystack_equal_to_needle_counts_once(self) -> None:
        html = "<p>a</p><p>b</p>"
        assert parse_html(html).count(parse_html(html)) == 1

    def test_element_with_children_equal_to_needle_counts_once(self) -> None:
        haystack = parse_html("<div><p>a</p><p>b</p></div>")
        assert haystack.count(parse_html("<p>a</p>\n<p>b</p>")) == 1

    def test_empty_text_needle_is_refused(self) -> None:
        with pytest.raises(ValueError, match=r"^Cannot count empty or whitespace-only text; pass"):
            parse_html("<p>x</p>").count(" \n")

    def test_empty_fragment_needle_is_refused(self) -> None:
        with pytest.raises(ValueError, match=r"^Cannot count an empty fragment; pass the text"):
            parse_html("<p>x</p>").count(parse_html("<!-- nothing -->"))

    def test_bad_needle_type_is_refused(self) -> None:
        with pytest.raises(
            TypeError,
            match=r"^The needle must be an Element or a str, got bytes; use parse_html\(\)",
        ):
            parse_html("<p>x</p>").count(b"x")  # type: ignore[arg-type]

    def test_contains(self) -> None:
        haystack = parse_html('<div><p class="a b">x</p> text here</div>')
        assert parse_html('<p class="b a">x</p>') in haystack
        assert "here" in haystack
        assert parse_html("<p>x</p>") not in haystack
        assert "there" not in haystack


class TestParseErrors:
    def test_unexpected_end_tag_with_position(self) -> None:
        with pytest.raises(HTMLParseError) as info:
            parse_html("<div>\n  <p>x</p>\n  </span>\n</div>")
        assert str(info.value) == (
            "Unexpected end tag </span> at line 3, column 3:"
            " no <span> element is open (open elements: <div>)."
        )
        assert (info.value.line, info.value.column) == (3, 3)

    def test_end_tag_with_nothing_open(self) -> None:
        with pytest.raises(HTMLParseError) as info:
            parse_html("<p>a</p></p>")
        assert str(info.value) == (
            "Unexpected end tag </p> at line 1, column 9:"
            " no <p> element is open (open elements: none)."
        )

    def test_end_tag_of_void_element(self) -> None:
        with pytest.raises(HTMLParseError) as info:
            parse_html("<p>a<br>b</br></p>")
        assert str(info.value) == (
            "Unexpected end tag </br> at line 1, column 10:"
            " <br> is a void element and has no end tag; write <br> alone."
        )

    def test_end_tag_of_self_closed_void_element(self) -> None:
        with pytest.raises(HTMLParseError, match=r"^Unexpected end tag </input> at line 1, col"):
            parse_html("<input/></input>")

    def test_duplicate_attribute(self) -> None:
        with pytest.raises(HTMLParseError) as info:
            parse_html('<p>\n<a href="/a" title="t" HREF="/b">x</a></p>')
        assert str(info.value) == (
            "Duplicate attribute 'href' in <a> at line 2, column 1:"
            " an attribute may appear only once on an element."
        )
        assert (info.value.line, info.value.column) == (2, 1)

    def test_is_a_value_error(self) -> None:
        with pytest.raises(ValueError, match=r"^Unexpected end tag </p>"):
            parse_html("</p>")

    def test_pickles(self) -> None:
        with pytest.raises(HTMLParseError) as info:
            parse_html("</p>")
        copy = pickle.loads(pickle.dumps(info.value))
        assert isinstance(copy, HTMLParseError)
        assert str(copy) == str(info.value)
        assert (copy.line, copy.column) == (1, 1)

    def test_bytes_are_refused_with_a_hint(self) -> None:
        with pytest.raises(
            TypeError,
            match=r"^parse_html\(\) expects HTML as a str, got bytes\. Decode it first, e\.g\. ",
        ):
            parse_html(b"<p>x</p>")  # type: ignore[arg-type]

    def test_other_types_are_refused(self) -> None:
        with pytest.raises(
            TypeError, match=r"^parse_html\(\) expects HTML as a str, got NoneType\.$"
        ):
            parse_html(None)  # type: ignore[arg-type]


class TestOutput:
    def test_str_is_normalised(self) -> None:
        element = parse_html(
            '<DIV Id="main" class="b a">\n  Fish &amp; chips <BR/>'
            '<input checked="checked" value="a&quot;b" data-x>\n</DIV>'
        )
        assert str(element) == (
            '<div class="a b" id="main">Fish &amp; chips<br>'
            '<input checked data-x="" value="a&quot;b"></div>'
        )

    def test_str_escapes_text(self) -> None:
        assert str(parse_html("<p>a &lt; b &gt; c &amp; 'd' \"e\"</p>")) == (
            "<p>a &lt; b &gt; c &amp; 'd' \"e\"</p>"
        )

    def test_str_of_a_root_joins_children(self) -> None:
        assert str(parse_html("x <p>a</p> <p></p>")) == "x<p>a</p><p></p>"
        assert str(parse_html("")) == ""

    def test_str_parses_back_to_an_equal_tree(self) -> None:
        source = '<ul class="b a"><li>x &amp; y<br/></li><li hidden="hidden">z</li></ul>'
        element = parse_html(source)
        assert parse_html(str(element)) == element

    def test_equal_trees_give_equal_strings(self) -> None:
        assert str(parse_html('<p id="a" class="x y">t</p>')) == str(
            parse_html('<p class="y x"  id=a> t </p>')
        )

    def test_pretty(self) -> None:
        element = parse_html(
            '<div class="b a"><h1>Title</h1>Some <em>text</em> here<br>'
            "<ul><li>one</li><li><b>two</b></li></ul><p></p></div>"
        )
        assert element.pretty() == (
            '<div class="a b">\n'
            "  <h1>Title</h1>\n"
            "  Some\n"
            "  <em>text</em>\n"
            "  here\n"
            "  <br>\n"
            "  <ul>\n"
            "    <li>one</li>\n"
            "    <li>\n"
            "      <b>two</b>\n"
            "    </li>\n"
            "  </ul>\n"
            "  <p></p>\n"
            "</div>"
        )

    def test_pretty_of_a_root(self) -> None:
        assert parse_html("a &amp; b<p><i>x</i></p><hr>").pretty() == (
            "a &amp; b\n<p>\n  <i>x</i>\n</p>\n<hr>"
        )

    def test_pretty_of_a_leaf(self) -> None:
        assert parse_html("<br>").pretty() == "<br>"
        assert parse_html("<p>x</p>").pretty() == "<p>x</p>"

    def test_repr(self) -> None:
        assert repr(parse_html('<p id="x">a</p>')) == "<Element p '<p id=\"x\">a</p>'>"
        assert repr(parse_html("a<br>")) == "<Element root 'a<br>'>"
