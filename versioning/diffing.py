"""Line diffs between two versions of a function, as typed, picklable, cacheable data.

The pipeline is pure: texts -> line opcodes (diff-match-patch in line mode) -> chunks with
collapsed context -> highlighted, intra-line-marked cells -> unified or split rows. Only
`versioning.rendering` escapes text, so templates loop over rows and print `html` as is.

Line endings: lines are compared without their CR/LF, so a file converted from CRLF to LF does
not show every line as changed; `FileDiff.line_endings_changed` reports it instead. A missing
newline at the end of a file is a change of that last line, as in git, and the cell carries
`no_newline=True`. With `ignore_whitespace`, lines that differ only in whitespace (and in the
final newline) compare equal but keep their own text on each side.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import zip_longest
from typing import ClassVar, Literal

from diff_match_patch import diff_match_patch
from django.utils.safestring import SafeString

from versioning.highlighting import SourceIndex, line_segments, split_lines
from versioning.rendering import (
    MARK_DELETE_CLASS,
    MARK_INSERT_CLASS,
    Mark,
    Segment,
    render_line,
)

ChunkKind = Literal["equal", "insert", "delete", "replace"]
LineKind = Literal["equal", "insert", "delete"]
LineEnding = Literal["lf", "crlf", "mixed", "none"]

# Pairs longer than this skip intra-line diffing: the marks would not help a reader and the
# character diff of two huge minified lines is the slowest thing the pipeline could do.
_INTRALINE_MAX_CHARS = 10_000
# A moved block must be this long and carry this much non-blank text, so that a run of closing
# braces deleted in one place and added in another is not reported as a move.
_MOVED_MIN_LINES = 3
_MOVED_MIN_CHARS = 24
_MOVED_MAX_CANDIDATES = 8


@dataclass(frozen=True)
class DiffOptions:
    """Every knob of the diff view; part of the cache key of a rendered diff."""

    context_lines: int = 3
    ignore_whitespace: bool = False
    highlight: bool = True
    # Files longer than this are shown without syntax highlighting.
    highlight_max_lines: int = 20_000
    intraline: bool = True
    # Share of unchanged characters a line pair needs before its changed words are marked.
    intraline_min_similarity: float = 0.5
    tab_size: int = 4

    def __post_init__(self) -> None:
        if self.context_lines < 0 or self.tab_size < 0 or self.highlight_max_lines < 0:
            raise ValueError("context_lines, tab_size and highlight_max_lines must be >= 0")


@dataclass(frozen=True)
class DiffCell:
    """One side of one displayed line: its 1-based number and its escaped, highlighted HTML."""

    kind: LineKind
    number: int
    html: SafeString
    no_newline: bool = False
    moved: bool = False


@dataclass(frozen=True)
class Chunk:
    """A run of lines with one kind; a collapsed chunk is hidden context and has no cells."""

    # Starts are 1-based line numbers; on a side with no lines, the number its next line has.
    kind: ChunkKind
    old_start: int
    old_count: int
    new_start: int
    new_count: int
    collapsed: bool = False
    old_lines: tuple[DiffCell, ...] = ()
    new_lines: tuple[DiffCell, ...] = ()


@dataclass(frozen=True)
class FileDiff:
    """The diff of two texts: chunks in order, line counts and file-level flags."""

    chunks: tuple[Chunk, ...]
    added: int
    removed: int
    old_line_count: int
    new_line_count: int
    old_line_ending: LineEnding
    new_line_ending: LineEnding
    highlighted: bool
    options: DiffOptions = field(default_factory=DiffOptions)

    @property
    def identical(self) -> bool:
        """True when no line differs (under the options used; line endings aside)."""
        return self.added == 0 and self.removed == 0

    @property
    def line_endings_changed(self) -> bool:
        """True when the files use different line endings, which lines are compared without."""
        styles = {self.old_line_ending, self.new_line_ending} - {"none"}
        return len(styles) > 1


@dataclass(frozen=True)
class CollapsedRow:
    """Hidden unchanged lines: old lines old_start.. and new lines new_start.., `count` each."""

    old_start: int
    new_start: int
    count: int
    collapsed: ClassVar[bool] = True

    @property
    def old_end(self) -> int:
        """Number of the last hidden old line."""
        return self.old_start + self.count - 1

    @property
    def new_end(self) -> int:
        """Number of the last hidden new line."""
        return self.new_start + self.count - 1


@dataclass(frozen=True)
class DiffLine:
    """A row of the unified view."""

    kind: LineKind
    old_no: int | None
    new_no: int | None
    html: SafeString
    no_newline: bool = False
    moved: bool = False
    collapsed: ClassVar[bool] = False


@dataclass(frozen=True)
class SplitRow:
    """A row of the split view: old on the left, new on the right, None where a side is blank."""

    kind: ChunkKind
    left: DiffCell | None
    right: DiffCell | None
    collapsed: ClassVar[bool] = False


# Opcodes are (kind, old_from, old_to, new_from, new_to) over 0-based line indexes.
_Opcode = tuple[ChunkKind, int, int, int, int]


def _differ() -> diff_match_patch:
    dmp = diff_match_patch()
    # No deadline: a timed-out diff is valid but not minimal, and results must be deterministic
    # to be cached under the version ids.
    dmp.Diff_Timeout = 0
    return dmp


_DMP = _differ()


def _line_ending_style(endings: Sequence[str]) -> LineEnding:
    kinds = {ending for ending in endings if ending}
    if not kinds:
        return "none"
    if len(kinds) > 1:
        return "mixed"
    return "crlf" if "\r\n" in kinds else "lf"


def _compare_keys(
    lines: Sequence[str], endings: Sequence[str], ignore_whitespace: bool
) -> list[str]:
    if ignore_whitespace:
        return ["".join(line.split()) for line in lines]
    keys = list(lines)
    if endings and endings[-1] == "":
        # An LF can never occur inside a line, so this key differs from the same text ended.
        keys[-1] += "\n"
    return keys


def _line_opcodes(old_keys: Sequence[str], new_keys: Sequence[str]) -> list[_Opcode]:
    # What diff_linesToChars does, over normalised keys instead of raw text: one character per
    # distinct line, so diff_main's character diff is a line diff.
    table: dict[str, int] = {}
    old_chars = "".join(chr(table.setdefault(key, len(table))) for key in old_keys)
    new_chars = "".join(chr(table.setdefault(key, len(table))) for key in new_keys)
    diffs = _DMP.diff_main(old_chars, new_chars, False)

    opcodes: list[_Opcode] = []
    i = j = 0
    deleted = inserted = 0

    def flush() -> None:
        nonlocal i, j, deleted, inserted
        if deleted and inserted:
            opcodes.append(("replace", i, i + deleted, j, j + inserted))
        elif deleted:
            opcodes.append(("delete", i, i + deleted, j, j))
        elif inserted:
            opcodes.append(("insert", i, i, j, j + inserted))
        i += deleted
        j += inserted
        deleted = inserted = 0

    for op, chars in diffs:
        if op == diff_match_patch.DIFF_DELETE:
            deleted += len(chars)
        elif op == diff_match_patch.DIFF_INSERT:
            inserted += len(chars)
        else:
            flush()
            opcodes.append(("equal", i, i + len(chars), j, j + len(chars)))
            i += len(chars)
            j += len(chars)
    flush()
    return opcodes


def _moved_lines(
    opcodes: Sequence[_Opcode], old_keys: Sequence[str], new_keys: Sequence[str]
) -> tuple[set[int], set[int]]:
    deleted = [i for kind, o1, o2, _, _ in opcodes if kind != "equal" for i in range(o1, o2)]
    inserted = [j for kind, _, _, n1, n2 in opcodes if kind != "equal" for j in range(n1, n2)]
    deleted_set, inserted_set = set(deleted), set(inserted)
    positions: dict[str, list[int]] = {}
    for j in inserted:
        if new_keys[j].strip():
            positions.setdefault(new_keys[j], []).append(j)

    moved_old: set[int] = set()
    moved_new: set[int] = set()
    for i in deleted:
        if i in moved_old:
            continue
        for j in positions.get(old_keys[i], ())[:_MOVED_MAX_CANDIDATES]:
            length = chars = 0
            while (
                i + length in deleted_set
                and j + length in inserted_set
                and i + length not in moved_old
                and j + length not in moved_new
                and old_keys[i + length] == new_keys[j + length]
            ):
                chars += len(old_keys[i + length].strip())
                length += 1
            if length >= _MOVED_MIN_LINES and chars >= _MOVED_MIN_CHARS:
                moved_old.update(range(i, i + length))
                moved_new.update(range(j, j + length))
                break
    return moved_old, moved_new


def _plan_chunks(opcodes: Sequence[_Opcode], context: int) -> list[tuple[_Opcode, bool]]:
    """Split long equal runs into visible context and a collapsed middle."""
    planned: list[tuple[_Opcode, bool]] = []
    last = len(opcodes) - 1
    for index, opcode in enumerate(opcodes):
        kind, o1, o2, n1, n2 = opcode
        if kind != "equal":
            planned.append((opcode, False))
            continue
        head = 0 if index == 0 else context
        tail = 0 if index == last else context
        hidden = (o2 - o1) - head - tail
        # A one-line placeholder hides nothing worth hiding, except in an identical file,
        # where there is no change to give context to.
        if hidden < (1 if index == last == 0 else 2):
            planned.append((opcode, False))
            continue
        if head:
            planned.append((("equal", o1, o1 + head, n1, n1 + head), False))
        planned.append((("equal", o1 + head, o2 - tail, n1 + head, n2 - tail), True))
        if tail:
            planned.append((("equal", o2 - tail, o2, n2 - tail, n2), False))
    return planned


def _widen_to_graphemes(text: str, start: int, end: int) -> tuple[int, int]:
    # A mark that starts or ends on a combining character would split it from its base letter.
    while start > 0 and unicodedata.combining(text[start]):
        start -= 1
    while end < len(text) and unicodedata.combining(text[end]):
        end += 1
    return start, end


def _add_mark(marks: list[Mark], text: str, start: int, end: int) -> None:
    start, end = _widen_to_graphemes(text, start, end)
    if marks and start <= marks[-1][1]:
        marks[-1] = (marks[-1][0], max(end, marks[-1][1]))
    else:
        marks.append((start, end))


def intraline_marks(
    old: str, new: str, options: DiffOptions
) -> tuple[tuple[Mark, ...], tuple[Mark, ...]]:
    """Return changed character ranges of a paired old and new line, or none if too different."""
    total = len(old) + len(new)
    if old == new or total > _INTRALINE_MAX_CHARS:
        return (), ()
    diffs = _DMP.diff_main(old, new, False)
    _DMP.diff_cleanupSemantic(diffs)
    same = sum(len(text) for op, text in diffs if op == diff_match_patch.DIFF_EQUAL)
    if 2 * same / total < options.intraline_min_similarity:
        # Marking most of a rewritten line is noise; the row colour already says it changed.
        return (), ()

    old_marks: list[Mark] = []
    new_marks: list[Mark] = []
    i = j = 0
    for op, text in diffs:
        size = len(text)
        # Ignored whitespace is never marked, including at the edges of a changed word.
        lead = size - len(text.lstrip()) if options.ignore_whitespace else 0
        trail = size - len(text.rstrip()) if options.ignore_whitespace else 0
        if op == diff_match_patch.DIFF_DELETE:
            if lead < size:
                _add_mark(old_marks, old, i + lead, i + size - trail)
            i += size
        elif op == diff_match_patch.DIFF_INSERT:
            if lead < size:
                _add_mark(new_marks, new, j + lead, j + size - trail)
            j += size
        else:
            i += size
            j += size
    return tuple(old_marks), tuple(new_marks)


class _Side:
    """One text split into lines, with what rendering a cell of it needs."""

    def __init__(self, text: str, options: DiffOptions) -> None:
        self.lines, self.endings = split_lines(text)
        self.keys = _compare_keys(self.lines, self.endings, options.ignore_whitespace)
        self.line_ending = _line_ending_style(self.endings)
        self.segments: dict[int, tuple[Segment, ...]] = {}
        self.tab_size = options.tab_size

    def highlight(self, ranges: Iterable[tuple[int, int]]) -> None:
        """Lex the given 0-based line ranges and keep their segments."""
        ranges = [(a, b) for a, b in ranges if a < b]
        if ranges:
            self.segments = line_segments(self.lines, ranges, index=SourceIndex(self.lines))

    def cell(
        self,
        kind: LineKind,
        index: int,
        marks: Sequence[Mark] = (),
        mark_class: str = MARK_INSERT_CLASS,
        moved: bool = False,
    ) -> DiffCell:
        """Render line `index` as a cell."""
        html = render_line(
            self.lines[index],
            self.segments.get(index, ()),
            marks,
            mark_class=mark_class,
            tab_size=self.tab_size,
        )
        return DiffCell(kind, index + 1, html, self.endings[index] == "", moved)


def _should_highlight(old: _Side, new: _Side, options: DiffOptions) -> bool:
    return options.highlight and max(len(old.lines), len(new.lines)) <= options.highlight_max_lines


def _equal_cells(
    old: _Side, new: _Side, o1: int, n1: int, count: int
) -> tuple[tuple[DiffCell, ...], tuple[DiffCell, ...]]:
    old_cells: list[DiffCell] = []
    new_cells: list[DiffCell] = []
    for k in range(count):
        i, j = o1 + k, n1 + k
        new_cell = new.cell("equal", j)
        if old.lines[i] == new.lines[j] and old.segments.get(i) == new.segments.get(j):
            # Same text lexed the same way: reuse the HTML instead of rendering it twice.
            old_cell = DiffCell("equal", i + 1, new_cell.html, old.endings[i] == "")
        else:
            old_cell = old.cell("equal", i)
        old_cells.append(old_cell)
        new_cells.append(new_cell)
    return tuple(old_cells), tuple(new_cells)


def compute_diff(old: str, new: str, options: DiffOptions | None = None) -> FileDiff:
    """Diff two texts line by line into chunks of highlighted, escaped cells."""
    options = options or DiffOptions()
    old_side, new_side = _Side(old, options), _Side(new, options)
    opcodes = _line_opcodes(old_side.keys, new_side.keys)
    moved_old, moved_new = _moved_lines(opcodes, old_side.keys, new_side.keys)
    planned = _plan_chunks(opcodes, options.context_lines)

    highlighted = _should_highlight(old_side, new_side, options)
    if highlighted:
        # Context is lexed on both sides: an unchanged line can still read differently, e.g.
        # when a change above it opens or closes a block comment.
        shown = [opcode for opcode, collapsed in planned if not collapsed]
        new_side.highlight((n1, n2) for _, _, _, n1, n2 in shown)
        old_side.highlight((o1, o2) for _, o1, o2, _, _ in shown)

    chunks: list[Chunk] = []
    added = removed = 0
    for (kind, o1, o2, n1, n2), collapsed in planned:
        added += n2 - n1 if kind != "equal" else 0
        removed += o2 - o1 if kind != "equal" else 0
        old_cells: tuple[DiffCell, ...] = ()
        new_cells: tuple[DiffCell, ...] = ()
        if collapsed:
            pass
        elif kind == "equal":
            old_cells, new_cells = _equal_cells(old_side, new_side, o1, n1, o2 - o1)
        else:
            old_list: list[DiffCell] = []
            new_list: list[DiffCell] = []
            for k in range(max(o2 - o1, n2 - n1)):
                i, j = o1 + k, n1 + k
                old_marks: tuple[Mark, ...] = ()
                new_marks: tuple[Mark, ...] = ()
                if options.intraline and i < o2 and j < n2:
                    old_marks, new_marks = intraline_marks(
                        old_side.lines[i], new_side.lines[j], options
                    )
                if i < o2:
                    old_list.append(
                        old_side.cell("delete", i, old_marks, MARK_DELETE_CLASS, i in moved_old)
                    )
                if j < n2:
                    new_list.append(
                        new_side.cell("insert", j, new_marks, MARK_INSERT_CLASS, j in moved_new)
                    )
            old_cells, new_cells = tuple(old_list), tuple(new_list)
        chunks.append(
            Chunk(kind, o1 + 1, o2 - o1, n1 + 1, n2 - n1, collapsed, old_cells, new_cells)
        )

    return FileDiff(
        chunks=tuple(chunks),
        added=added,
        removed=removed,
        old_line_count=len(old_side.lines),
        new_line_count=len(new_side.lines),
        old_line_ending=old_side.line_ending,
        new_line_ending=new_side.line_ending,
        highlighted=highlighted,
        options=options,
    )


def expand_chunk(
    old: str,
    new: str,
    options: DiffOptions | None = None,
    *,
    old_start: int,
    new_start: int,
    count: int,
) -> Chunk:
    """Render hidden unchanged lines (1-based starts, as in CollapsedRow) as an equal chunk."""
    options = options or DiffOptions()
    old_side, new_side = _Side(old, options), _Side(new, options)
    o1, n1 = old_start - 1, new_start - 1
    if (
        count < 1
        or o1 < 0
        or n1 < 0
        or o1 + count > len(old_side.lines)
        or n1 + count > len(new_side.lines)
    ):
        raise ValueError("The range is outside the files.")
    # The range comes from a URL, so it is checked rather than trusted: showing changed lines
    # as unchanged would make the diff lie.
    if old_side.keys[o1 : o1 + count] != new_side.keys[n1 : n1 + count]:
        raise ValueError("The range is not unchanged between the files.")
    if _should_highlight(old_side, new_side, options):
        new_side.highlight([(n1, n1 + count)])
        old_side.highlight([(o1, o1 + count)])
    old_cells, new_cells = _equal_cells(old_side, new_side, o1, n1, count)
    return Chunk("equal", old_start, count, new_start, count, False, old_cells, new_cells)


def _chunks_of(diff: FileDiff | Iterable[Chunk]) -> Iterable[Chunk]:
    return diff.chunks if isinstance(diff, FileDiff) else diff


def unified_rows(diff: FileDiff | Iterable[Chunk]) -> list[DiffLine | CollapsedRow]:
    """Return the rows of the one-column view: removed lines before added ones."""
    rows: list[DiffLine | CollapsedRow] = []
    for chunk in _chunks_of(diff):
        if chunk.collapsed:
            rows.append(CollapsedRow(chunk.old_start, chunk.new_start, chunk.old_count))
        elif chunk.kind == "equal":
            rows.extend(
                DiffLine("equal", old.number, new.number, new.html, new.no_newline)
                for old, new in zip(chunk.old_lines, chunk.new_lines, strict=True)
            )
        else:
            rows.extend(
                DiffLine("delete", cell.number, None, cell.html, cell.no_newline, cell.moved)
                for cell in chunk.old_lines
            )
            rows.extend(
                DiffLine("insert", None, cell.number, cell.html, cell.no_newline, cell.moved)
                for cell in chunk.new_lines
            )
    return rows


def split_rows(diff: FileDiff | Iterable[Chunk]) -> list[SplitRow | CollapsedRow]:
    """Return the rows of the side-by-side view, replaced lines paired in order."""
    rows: list[SplitRow | CollapsedRow] = []
    for chunk in _chunks_of(diff):
        if chunk.collapsed:
            rows.append(CollapsedRow(chunk.old_start, chunk.new_start, chunk.old_count))
        else:
            rows.extend(
                SplitRow(chunk.kind, left, right)
                for left, right in zip_longest(chunk.old_lines, chunk.new_lines)
            )
    return rows


def _hunk_range(start: int, end: int) -> str:
    # git's and difflib's convention: an empty range names the line before it.
    length = end - start
    first = start + 1 if length else start
    return str(first) if length == 1 else f"{first},{length}"


def _hunks(opcodes: Sequence[_Opcode], context: int) -> list[list[_Opcode]]:
    # The grouping of difflib.SequenceMatcher.get_grouped_opcodes, over our opcodes.
    codes = list(opcodes)
    if not any(kind != "equal" for kind, *_ in codes):
        return []
    if codes[0][0] == "equal":
        _, o1, o2, n1, n2 = codes[0]
        codes[0] = ("equal", max(o1, o2 - context), o2, max(n1, n2 - context), n2)
    if codes[-1][0] == "equal":
        _, o1, o2, n1, n2 = codes[-1]
        codes[-1] = ("equal", o1, min(o2, o1 + context), n1, min(n2, n1 + context))
    groups: list[list[_Opcode]] = []
    group: list[_Opcode] = []
    for kind, o1, o2, n1, n2 in codes:
        if kind == "equal" and o2 - o1 > 2 * context:
            group.append(("equal", o1, min(o2, o1 + context), n1, min(n2, n1 + context)))
            groups.append(group)
            group = []
            o1, n1 = max(o1, o2 - context), max(n1, n2 - context)
        group.append((kind, o1, o2, n1, n2))
    if group and not (len(group) == 1 and group[0][0] == "equal"):
        groups.append(group)
    return groups


def unified_text(
    old: str,
    new: str,
    old_label: str = "old",
    new_label: str = "new",
    *,
    context_lines: int = 3,
) -> str:
    """Return a git-style plain-text unified diff, or "" when the texts are equal."""
    old_lines, old_endings = split_lines(old)
    new_lines, new_endings = split_lines(new)
    # Exact comparison: plain text goes to conflict messages and the API, where a CRLF or
    # whitespace change must be visible.
    old_raw = [line + ending for line, ending in zip(old_lines, old_endings, strict=True)]
    new_raw = [line + ending for line, ending in zip(new_lines, new_endings, strict=True)]
    groups = _hunks(_line_opcodes(old_raw, new_raw), context_lines)
    if not groups:
        return ""

    out = [f"--- {old_label}\n", f"+++ {new_label}\n"]

    def emit(prefix: str, raw: str) -> None:
        if raw.endswith("\n"):
            out.append(prefix + raw)
        else:
            out.append(f"{prefix}{raw}\n\\ No newline at end of file\n")

    for group in groups:
        old_range = _hunk_range(group[0][1], group[-1][2])
        new_range = _hunk_range(group[0][3], group[-1][4])
        out.append(f"@@ -{old_range} +{new_range} @@\n")
        for kind, o1, o2, n1, n2 in group:
            if kind == "equal":
                for raw in old_raw[o1:o2]:
                    emit(" ", raw)
                continue
            for raw in old_raw[o1:o2]:
                emit("-", raw)
            for raw in new_raw[n1:n2]:
                emit("+", raw)
    return "".join(out)
