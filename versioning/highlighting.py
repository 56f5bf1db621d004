"""Syntax highlighting of JavaScript source as per-line token segments (Pygments).

Highlighting produces data, not HTML: for each line, `(start, end, css_class)` segments over the
raw text. `versioning.rendering.render_line` turns them into HTML, so intra-line change marks
can be merged with tokens on raw-text offsets and every character is escaped exactly once.
Class names are the ones Pygments' HtmlFormatter would emit (short names such as `k`, `s2`,
`c1`) with the `hl-` prefix, and `highlight_css()` returns the matching stylesheet rules.

Lexing a 5,000-line file takes about 0.2 s, so a diff lexes only the windows it shows. Each
window starts and ends on lines where the whole-file lexer is in its root state: a fast regular
expression scan finds block comments, template literals and continued strings that span lines,
and a window edge that falls inside one moves out to where that construct begins or ends.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Sequence
from functools import cache
from itertools import accumulate

from django.utils.safestring import SafeString
from pygments.formatters import HtmlFormatter
from pygments.lexers import JavascriptLexer
from pygments.styles.default import DefaultStyle
from pygments.token import STANDARD_TYPES, Comment, _TokenType

from versioning.rendering import Segment, render_line

CSS_CLASS_PREFIX = "hl-"
# Scope of the generated token rules; the diff and code templates put it on the code container.
CSS_SCOPE = ".hl"


class ReadableStyle(DefaultStyle):
    """Pygments' default colours, with comments dark enough to read on the diff's tinted rows
    (WCAG AA: 4.5:1 on the red and green line backgrounds, not only on white)."""

    styles = {
        **DefaultStyle.styles,
        Comment: "italic #2A5A5A",
        Comment.Hashbang: "italic #2A5A5A",
        Comment.Multiline: "italic #2A5A5A",
        Comment.Single: "italic #2A5A5A",
        Comment.Special: "italic #2A5A5A",
    }


PYGMENTS_STYLE = ReadableStyle

# Only constructs that can span lines matter for choosing where lexing may start. Line comments
# and strings are matched too so that quotes and `/*` inside them are not misread. Regex
# literals are not recognised; a misread one can only move a start earlier, never later.
_MULTILINE_SCAN = re.compile(
    r"""
      //[^\n]*
    | /\*.*?(?:\*/|\Z)
    | `(?:\\.|[^`\\])*`?
    | "(?:\\.|[^"\\\n])*"?
    | '(?:\\.|[^'\\\n])*'?
    """,
    re.DOTALL | re.VERBOSE,
)


@cache
def _lexer() -> JavascriptLexer:
    # stripnl would drop leading blank lines and shift every line number after them.
    return JavascriptLexer(stripnl=False, stripall=False, ensurenl=False)


@cache
def _css_classes(ttype: _TokenType) -> str:
    # Mirrors HtmlFormatter._get_css_classes so the HTML matches what Pygments would produce.
    def one(token_type: _TokenType) -> str:
        name = STANDARD_TYPES.get(token_type)
        if name is not None:
            return CSS_CLASS_PREFIX + name if name else ""
        suffix = ""
        while name is None:
            suffix = "-" + token_type[-1] + suffix
            token_type = token_type.parent
            name = STANDARD_TYPES.get(token_type)
        return CSS_CLASS_PREFIX + name + suffix

    classes = one(ttype)
    while ttype not in STANDARD_TYPES:
        ttype = ttype.parent
        classes = f"{one(ttype)} {classes}"
    return classes.strip()


class SourceIndex:
    """A file prepared for windowed lexing: joined text, line offsets and multi-line spans."""

    def __init__(self, lines: Sequence[str]) -> None:
        # A lone CR would become a line break inside Pygments and shift every offset after it;
        # a same-length stand-in keeps offsets aligned with the displayed raw text.
        self.text = "".join(line.replace("\r", " ") + "\n" for line in lines)
        self.offsets = [0, *accumulate(len(line) + 1 for line in lines)]
        self.line_count = len(lines)
        self._spans: list[tuple[int, int]] | None = None
        self._span_starts: list[int] = []

    def spans(self) -> list[tuple[int, int]]:
        """Return (start, end) offsets of constructs that contain a line break, in order."""
        if self._spans is None:
            # Scanned on first use only: a diff whose windows all start at line 0 never needs it.
            self._spans = [
                match.span()
                for match in _MULTILINE_SCAN.finditer(self.text)
                if "\n" in match.group()
            ]
            self._span_starts = [span[0] for span in self._spans]
        return self._spans

    def safe_start(self, line: int) -> int:
        """Return the latest line at or before `line` whose start is outside multi-line tokens."""
        spans = self.spans()
        starts = self._span_starts
        while line > 0:
            offset = self.offsets[line]
            index = bisect.bisect_right(starts, offset) - 1
            if index < 0:
                return line
            start, end = spans[index]
            if not (start < offset < end):
                return line
            line = bisect.bisect_right(self.offsets, start) - 1
        return 0

    def safe_end(self, line: int) -> int:
        """Return the earliest line at or after `line` whose start is outside multi-line tokens."""
        spans = self.spans()
        starts = self._span_starts
        while line < self.line_count:
            offset = self.offsets[line]
            index = bisect.bisect_right(starts, offset) - 1
            if index < 0:
                return line
            start, end = spans[index]
            if not (start < offset < end):
                return line
            # The line after the one holding the end of the token.
            line = bisect.bisect_left(self.offsets, end)
        return self.line_count


def _merge_windows(windows: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(windows):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def line_segments(
    lines: Sequence[str],
    ranges: Iterable[tuple[int, int]] | None = None,
    *,
    index: SourceIndex | None = None,
) -> dict[int, tuple[Segment, ...]]:
    """Return token segments for the 0-based line `ranges` (end exclusive; None for all)."""
    index = index or SourceIndex(lines)
    ranges = [(0, index.line_count)] if ranges is None else ranges
    wanted = _merge_windows(
        (max(a, 0), min(b, index.line_count))
        for a, b in ranges
        if max(a, 0) < min(b, index.line_count)
    )
    # A window cut inside a block comment or template literal would lex its ends as code, so
    # both ends move out to lines that the whole-file lexer also starts in its root state.
    windows = _merge_windows((index.safe_start(a), index.safe_end(b)) for a, b in wanted)
    wanted_lines = {line for a, b in wanted for line in range(a, b)}

    result: dict[int, tuple[Segment, ...]] = {}
    lexer = _lexer()
    offsets = index.offsets
    for first, last in windows:
        base = offsets[first]
        window_text = index.text[base : offsets[last]]
        line = first
        line_start = base
        next_start = offsets[line + 1]
        current: list[Segment] = []
        for position, ttype, value in lexer.get_tokens_unprocessed(window_text):
            token_start = base + position
            token_end = token_start + len(value)
            css = _css_classes(ttype)
            # A token may run over several lines (block comments, template literals): cut it
            # at each line break so every line's HTML opens and closes its own spans.
            while token_start < token_end:
                if token_start >= next_start - 1:
                    if line in wanted_lines:
                        result[line] = tuple(current)
                    line += 1
                    if line >= last:
                        break
                    current = []
                    line_start = next_start
                    next_start = offsets[line + 1]
                    token_start = max(token_start, line_start)
                    continue
                piece_end = min(token_end, next_start - 1)
                if css:
                    start_col = token_start - line_start
                    end_col = piece_end - line_start
                    # Pygments' formatter joins neighbouring tokens of one class; so does this.
                    if current and current[-1][2] == css and current[-1][1] == start_col:
                        current[-1] = (current[-1][0], end_col, css)
                    else:
                        current.append((start_col, end_col, css))
                token_start = piece_end
            if line >= last:
                break
    return result


def highlight_lines(text: str, *, tab_size: int = 0) -> list[SafeString]:
    """Highlight a whole file and return one self-contained HTML string per line."""
    lines, _ = split_lines(text)
    segments = line_segments(lines)
    return [
        render_line(line, segments.get(i, ()), tab_size=tab_size) for i, line in enumerate(lines)
    ]


def split_lines(text: str) -> tuple[list[str], list[str]]:
    """Split text into lines without endings, and each line's ending ("\\n", "\\r\\n" or "")."""
    if not text:
        return [], []
    parts = text.split("\n")
    last = parts.pop()
    lines: list[str] = []
    endings: list[str] = []
    for part in parts:
        if part.endswith("\r"):
            lines.append(part[:-1])
            endings.append("\r\n")
        else:
            lines.append(part)
            endings.append("\n")
    if last:
        # A CR at the very end without an LF is kept as text: it is not a line ending.
        lines.append(last)
        endings.append("")
    return lines, endings


def highlight_css(scope: str = CSS_SCOPE) -> str:
    """Return the Pygments token rules for the `hl-` classes, scoped under `scope`."""
    formatter = HtmlFormatter(style=PYGMENTS_STYLE, classprefix=CSS_CLASS_PREFIX)
    return "\n".join(formatter.get_token_style_defs(scope)) + "\n"
