"""Turn one line of raw code, its token classes and its change marks into safe HTML.

This is the only place in the diff pipeline that escapes user text. Every piece of a line is
escaped exactly once here and the joined result is marked safe right after, so callers pass raw
strings and character offsets and never handle HTML themselves.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.safestring import SafeString, mark_safe

# (start, end, css classes): a token of the raw line, offsets in characters of the raw text.
Segment = tuple[int, int, str]
# (start, end): a changed stretch of the raw line, offsets in characters of the raw text.
Mark = tuple[int, int]

# The same table as django.utils.html.escape. str.translate is called directly because a diff
# page escapes tens of thousands of small pieces and escape()'s lazy-string wrapper would cost
# more than the translation itself.
_ESCAPES = {
    ord("&"): "&amp;",
    ord("<"): "&lt;",
    ord(">"): "&gt;",
    ord('"'): "&quot;",
    ord("'"): "&#x27;",
}

MARK_INSERT_CLASS = "dl-ins"
MARK_DELETE_CLASS = "dl-del"


def escape_text(text: str, column: int = 0, tab_size: int = 0) -> tuple[str, int]:
    """Escape raw text for HTML, expanding tabs from `column`; return (html, end column)."""
    if tab_size and "\t" in text:
        # Tabs expand to the next tab stop of the whole line, not of the piece, so the running
        # column is threaded through the pieces of one line.
        out = []
        for char in text:
            if char == "\t":
                width = tab_size - column % tab_size
                out.append(" " * width)
                column += width
            else:
                out.append(char)
                column += 1
        text = "".join(out)
    else:
        column += len(text)
    return text.translate(_ESCAPES), column


def render_line(
    text: str,
    segments: Sequence[Segment] = (),
    marks: Sequence[Mark] = (),
    *,
    mark_class: str = MARK_INSERT_CLASS,
    tab_size: int = 0,
) -> SafeString:
    """Render a raw line with token spans and change marks as balanced, escaped-once HTML."""
    expand_tabs = bool(tab_size) and "\t" in text
    if not marks:
        return _render_tokens(text, segments, tab_size if expand_tabs else 0)

    # Cut the line at every token and mark boundary; each piece then has one token class and
    # one marked state. Marks wrap token spans, never the reverse, so tags always nest.
    cuts = {0, len(text)}
    for start, end, _ in segments:
        cuts.add(start)
        cuts.add(end)
    for start, end in marks:
        cuts.add(start)
        cuts.add(end)
    bounds = sorted(cut for cut in cuts if 0 <= cut <= len(text))

    parts: list[str] = []
    column = 0
    seg_index = 0
    mark_index = 0
    in_mark = False
    for start, end in zip(bounds, bounds[1:], strict=False):
        while seg_index < len(segments) and segments[seg_index][1] <= start:
            seg_index += 1
        while mark_index < len(marks) and marks[mark_index][1] <= start:
            mark_index += 1
        marked = mark_index < len(marks) and marks[mark_index][0] <= start
        if marked != in_mark:
            parts.append(f'<mark class="{mark_class}">' if marked else "</mark>")
            in_mark = marked
        if expand_tabs:
            piece, column = escape_text(text[start:end], column, tab_size)
        else:
            piece = text[start:end].translate(_ESCAPES)
        css = ""
        if seg_index < len(segments) and segments[seg_index][0] <= start:
            css = segments[seg_index][2]
        parts.append(f'<span class="{css}">{piece}</span>' if css else piece)
    if in_mark:
        parts.append("</mark>")
    return mark_safe("".join(parts))  # noqa: S308 - every text piece was escaped just above.


def _render_tokens(text: str, segments: Sequence[Segment], tab_size: int) -> SafeString:
    # The common case, an unmarked line, without the cutting work of render_line.
    parts: list[str] = []
    position = column = 0
    for start, end, css in segments:
        if start > position:
            if tab_size:
                piece, column = escape_text(text[position:start], column, tab_size)
            else:
                piece = text[position:start].translate(_ESCAPES)
            parts.append(piece)
        if tab_size:
            piece, column = escape_text(text[start:end], column, tab_size)
        else:
            piece = text[start:end].translate(_ESCAPES)
        parts.append(f'<span class="{css}">{piece}</span>')
        position = end
    if position < len(text):
        piece, _ = escape_text(text[position:], column, tab_size)
        parts.append(piece)
    return mark_safe("".join(parts))  # noqa: S308 - every text piece was escaped just above.
