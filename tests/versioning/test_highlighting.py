"""Tests for versioning.highlighting and versioning.rendering (pure, no database)."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.utils.html import escape
from django.utils.safestring import SafeString
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import JavascriptLexer

from versioning.highlighting import (
    CSS_CLASS_PREFIX,
    SourceIndex,
    highlight_css,
    highlight_lines,
    line_segments,
    split_lines,
)
from versioning.rendering import MARK_DELETE_CLASS, escape_text, render_line


class _Parsed(HTMLParser):
    """Collects text, (class, text) pieces and tag balance of an HTML fragment."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, str]] = []
        self.balanced = True
        self.text = ""
        self.pieces: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack.append((tag, dict(attrs).get("class") or ""))

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1][0] != tag:
            self.balanced = False
        else:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text += data
        spans = [css for tag, css in self.stack if tag == "span"]
        css = spans[-1] if spans else ""
        if self.pieces and self.pieces[-1][0] == css:
            self.pieces[-1] = (css, self.pieces[-1][1] + data)
        else:
            self.pieces.append((css, data))


def parse(html: str) -> _Parsed:
    parser = _Parsed()
    parser.feed(html)
    parser.close()
    parser.balanced = parser.balanced and not parser.stack
    return parser


SAMPLES = {
    "block comment": "const a = 1; /* starts here\n   still a comment <b>\n ends */ const b = 2;\n",
    "template literal": "const t = `line one\n${user.name} & <i>\nline three`;\nreturn t;\n",
    "nested interpolation": "const u = `a ${`b ${c}`}\nd`;\n",
    "regex and strings": "const r = /<script>/g; const s = \"a'b\"; const q = 'x\"y';\n",
    "unterminated string": "const s = 'open\nconst t = 1;\n",
    "script tag": "<script>alert(1)</script>\n// &amp; &lt; stays text\n",
    "leading blank lines": "\n\n\nfunction f() {\n\treturn 1;\n}\n",
    "no final newline": "let x = 1;\nlet y = 2;",
    "unicode": "const s = '😀 日本語 cafe\u0301';\n",
    "empty": "",
    "one blank line": "\n",
}


@pytest.mark.parametrize("source", SAMPLES.values(), ids=SAMPLES.keys())
def test_highlight_lines_are_balanced_and_keep_the_raw_text(source: str) -> None:
    lines, _ = split_lines(source)
    rendered = highlight_lines(source)
    assert len(rendered) == len(lines)
    for raw, html in zip(lines, rendered, strict=True):
        assert isinstance(html, SafeString)
        parsed = parse(html)
        assert parsed.balanced, html
        assert parsed.text == raw


@pytest.mark.parametrize("source", SAMPLES.values(), ids=SAMPLES.keys())
def test_highlight_lines_match_pygments_html_formatter(source: str) -> None:
    formatter = HtmlFormatter(nowrap=True, classprefix=CSS_CLASS_PREFIX)
    expected = highlight(source, JavascriptLexer(stripnl=False), formatter).split("\n")
    for ours, theirs in zip(highlight_lines(source), expected, strict=False):
        assert parse(ours).pieces == parse(theirs).pieces


@pytest.mark.parametrize("source", SAMPLES.values(), ids=SAMPLES.keys())
def test_windowed_lexing_matches_whole_file_lexing(source: str) -> None:
    lines, _ = split_lines(source)
    whole = line_segments(lines)
    for number in range(len(lines)):
        window = line_segments(lines, [(number, number + 1)])
        assert window == {number: whole[number]}, number


def test_out_of_range_windows_are_ignored() -> None:
    assert line_segments(["a"], [(-3, 0), (1, 5), (2, 1)]) == {}


def test_windowed_lexing_of_a_long_file_with_comments() -> None:
    body = []
    for n in range(300):
        body += [f"/* block {n}", f"   `not a template` {n} */", f"const s{n} = `a", "b`;", ""]
    lines = body
    whole = line_segments(lines)
    assert line_segments(lines, [(401, 405), (1201, 1203)]) == {
        n: whole[n] for n in [401, 402, 403, 404, 1201, 1202]
    }


@pytest.mark.parametrize(
    ("lines", "line", "expected"),
    [
        (["a", "/* x", "y", "z */", "b"], 2, 1),
        (["a", "/* x", "y", "z */", "b"], 3, 1),
        (["a", "/* x", "y", "z */", "b"], 4, 4),
        (["x = `a", "b", "c`", "d"], 2, 0),
        (["// `", "a", "b"], 1, 1),
        (["s = '`'", "a", "b"], 2, 2),
        (["a /* x */ /* y", "z */", "w"], 1, 0),
    ],
)
def test_safe_start_moves_before_multiline_tokens(lines: list[str], line: int, expected: int):
    assert SourceIndex(lines).safe_start(line) == expected


@pytest.mark.parametrize(
    ("text", "lines", "endings"),
    [
        ("", [], []),
        ("\n", [""], ["\n"]),
        ("a", ["a"], [""]),
        ("a\nb\n", ["a", "b"], ["\n", "\n"]),
        ("a\r\nb", ["a", "b"], ["\r\n", ""]),
        ("a\rb\n", ["a\rb"], ["\n"]),
        ("a\n\n", ["a", ""], ["\n", "\n"]),
    ],
)
def test_split_lines(text: str, lines: list[str], endings: list[str]) -> None:
    assert split_lines(text) == (lines, endings)


def test_lone_carriage_return_does_not_shift_offsets() -> None:
    rendered = highlight_lines("a = 1;\rb = 2;\nc = 3;\n")
    assert len(rendered) == 2
    assert parse(rendered[0]).text == "a = 1;\rb = 2;"
    assert parse(rendered[1]).pieces[0] == (f"{CSS_CLASS_PREFIX}nx", "c")


@pytest.mark.parametrize(
    ("text", "segments", "marks", "expected"),
    [
        ("a<b", (), (), "a&lt;b"),
        ("a<b", (), ((1, 2),), 'a<mark class="dl-del">&lt;</mark>b'),
        ("&amp;", (), (), "&amp;amp;"),
        ("<script>", ((0, 8, "hl-x"),), (), '<span class="hl-x">&lt;script&gt;</span>'),
        (
            "foo bar",
            ((0, 3, "k"), (4, 7, "n")),
            ((2, 5),),
            '<span class="k">fo</span><mark class="dl-del"><span class="k">o</span> '
            '<span class="n">b</span></mark><span class="n">ar</span>',
        ),
        ("'\"", (), ((0, 2),), '<mark class="dl-del">&#x27;&quot;</mark>'),
        ("", (), (), ""),
    ],
)
def test_render_line_escapes_each_piece_once(text, segments, marks, expected) -> None:
    html = render_line(text, segments, marks, mark_class=MARK_DELETE_CLASS)
    assert html == expected
    assert isinstance(html, SafeString)
    assert parse(html).text == text


def test_render_line_matches_django_escape() -> None:
    text = "<a href=\"x\">'&'</a>"
    assert render_line(text) == escape(text)


@pytest.mark.parametrize(
    ("text", "column", "expected"),
    [
        ("\tx", 0, ("    x", 5)),
        ("ab\tx", 0, ("ab  x", 5)),
        ("\t", 3, (" ", 4)),
        ("<\t", 0, ("&lt;   ", 4)),
    ],
)
def test_escape_text_expands_tabs_to_tab_stops(text, column, expected) -> None:
    assert escape_text(text, column, 4) == expected


def test_tabs_expand_across_pieces_of_one_line() -> None:
    html = render_line("a\tb\tc", ((2, 3, "k"),), ((4, 5),), tab_size=4)
    assert parse(html).text == "a   b   c"


def test_highlight_css_styles_prefixed_classes_under_the_scope() -> None:
    css = highlight_css()
    assert ".hl .hl-k {" in css
    assert ".hl .hl-c1 {" in css
    assert "pre" not in css
