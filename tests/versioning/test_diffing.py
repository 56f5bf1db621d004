"""Tests for versioning.diffing (pure, no database)."""

from __future__ import annotations

import pickle
from html.parser import HTMLParser

import pytest
from django.utils.safestring import SafeString

from versioning.benchmarks import make_pair
from versioning.diffing import (
    Chunk,
    CollapsedRow,
    DiffCell,
    DiffLine,
    DiffOptions,
    FileDiff,
    SplitRow,
    compute_diff,
    expand_chunk,
    intraline_marks,
    split_rows,
    unified_rows,
    unified_text,
)
from versioning.highlighting import highlight_lines

PLAIN = DiffOptions(highlight=False)


class _TextAndBalance(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.balanced = True
        self.text = ""
        self.marked = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack.pop() != tag:
            self.balanced = False

    def handle_data(self, data: str) -> None:
        self.text += data
        if "mark" in self.stack:
            self.marked += data


def parse(html: str) -> _TextAndBalance:
    parser = _TextAndBalance()
    parser.feed(html)
    parser.close()
    parser.balanced = parser.balanced and not parser.stack
    return parser


def numbered(count: int, start: int = 1) -> str:
    return "".join(f"line {n}\n" for n in range(start, start + count))


def row_summary(rows: list[SplitRow | CollapsedRow]) -> list[tuple]:
    """Rows as (kind, left number, right number) or ("collapsed", old, new, count)."""
    summary: list[tuple] = []
    for row in rows:
        if isinstance(row, CollapsedRow):
            summary.append(("collapsed", row.old_start, row.new_start, row.count))
        else:
            summary.append(
                (
                    row.kind,
                    row.left.number if row.left else None,
                    row.right.number if row.right else None,
                )
            )
    return summary


def all_cells(diff: FileDiff) -> list[DiffCell]:
    return [cell for chunk in diff.chunks for cell in (*chunk.old_lines, *chunk.new_lines)]


# -- identical and empty files ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "chunks"),
    [
        ("", "", 0),
        ("x\n", "x\n", 1),
        (numbered(50), numbered(50), 1),
        ("a\r\nb\r\n", "a\nb\n", 1),
    ],
)
def test_identical_texts_report_no_differences(old: str, new: str, chunks: int) -> None:
    diff = compute_diff(old, new)
    assert diff.identical is True
    assert (diff.added, diff.removed) == (0, 0)
    assert len(diff.chunks) == chunks
    assert all(chunk.collapsed for chunk in diff.chunks)
    assert unified_rows(diff) == [CollapsedRow(1, 1, n) for n in [diff.new_line_count] if n]


@pytest.mark.parametrize(
    ("old", "new", "added", "removed", "kinds"),
    [
        ("", "a\nb\n", 2, 0, ["insert", "insert"]),
        ("a\nb\n", "", 0, 2, ["delete", "delete"]),
        ("", "a", 1, 0, ["insert"]),
        ("a\nb\nc\n", "a\nB\nc\n", 1, 1, ["equal", "delete", "insert", "equal"]),
        ("a\nb\n", "a\nb\nc\nd\n", 2, 0, ["equal", "equal", "insert", "insert"]),
        ("a\nb\nc\n", "c\n", 0, 2, ["delete", "delete", "equal"]),
    ],
)
def test_stats_and_unified_row_kinds(old, new, added, removed, kinds) -> None:
    diff = compute_diff(old, new, PLAIN)
    assert (diff.added, diff.removed) == (added, removed)
    assert diff.identical is False
    assert [row.kind for row in unified_rows(diff)] == kinds


def test_unified_rows_carry_line_numbers_on_both_sides() -> None:
    diff = compute_diff("a\nb\nc\n", "a\nx\ny\nc\n", PLAIN)
    assert [(r.kind, r.old_no, r.new_no) for r in unified_rows(diff)] == [
        ("equal", 1, 1),
        ("delete", 2, None),
        ("insert", None, 2),
        ("insert", None, 3),
        ("equal", 3, 4),
    ]


# -- final newline and line endings -----------------------------------------------------------


def test_missing_final_newline_is_a_change_of_the_last_line() -> None:
    diff = compute_diff("a\nb", "a\nb\n", PLAIN)
    assert (diff.added, diff.removed) == (1, 1)
    rows = split_rows(diff)
    assert rows[-1].kind == "replace"
    assert rows[-1].left.no_newline is True
    assert rows[-1].right.no_newline is False
    assert rows[-1].left.html == rows[-1].right.html == "b"


def test_missing_final_newline_on_both_sides_is_no_change() -> None:
    diff = compute_diff("a\nb", "a\nc", PLAIN)
    left, right = split_rows(diff)[-1].left, split_rows(diff)[-1].right
    assert (left.no_newline, right.no_newline) == (True, True)
    assert (diff.added, diff.removed) == (1, 1)


@pytest.mark.parametrize(
    ("old", "new", "old_style", "new_style", "changed"),
    [
        ("a\r\nb\r\n", "a\nb\n", "crlf", "lf", True),
        ("a\nb\n", "a\nb\n", "lf", "lf", False),
        ("a\r\nb\n", "a\nb\n", "mixed", "lf", True),
        ("a", "a\r\n", "none", "crlf", False),
        ("", "", "none", "none", False),
    ],
)
def test_line_ending_styles_are_reported_not_diffed(old, new, old_style, new_style, changed):
    diff = compute_diff(old, new, PLAIN)
    assert (diff.old_line_ending, diff.new_line_ending) == (old_style, new_style)
    assert diff.line_endings_changed is changed


def test_crlf_to_lf_keeps_real_changes_visible() -> None:
    diff = compute_diff("a\r\nb\r\nc\r\n", "a\nB\nc\n", PLAIN)
    assert (diff.added, diff.removed) == (1, 1)
    assert diff.line_endings_changed is True
    assert all("\r" not in cell.html for cell in all_cells(diff))


# -- escaping ---------------------------------------------------------------------------------


@pytest.mark.parametrize("highlight", [True, False])
@pytest.mark.parametrize(
    "line",
    [
        "<script>alert(1)</script>",
        "const s = '&amp; &lt;b&gt;';",
        'el.innerHTML = "<img src=x onerror=alert(1)>";',
    ],
)
def test_user_text_renders_as_text_escaped_once(line: str, highlight: bool) -> None:
    options = DiffOptions(highlight=highlight)
    old = f"{line}\nkeep\n{line}\n"
    new = f"{line}\nkeep\n{line} // x\n"
    for cell in all_cells(compute_diff(old, new, options)):
        assert isinstance(cell.html, SafeString)
        assert "<script" not in cell.html and "<img" not in cell.html
        parsed = parse(cell.html)
        assert parsed.balanced
        assert parsed.text in {line, "keep", f"{line} // x"}


def test_ampersand_entity_in_code_is_not_decoded_or_double_escaped() -> None:
    cell = compute_diff("", "x = '&amp;';\n", PLAIN).chunks[0].new_lines[0]
    assert cell.html == "x = &#x27;&amp;amp;&#x27;;"


# -- intra-line marks -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "old_marks", "new_marks"),
    [
        ("const x = 1;", "const x = 2;", ((10, 11),), ((10, 11),)),
        ("return total;", "return totalPrice;", (), ((12, 17),)),
        ("foo(a, b);", "foo(a);", ((5, 8),), ()),
        ("same", "same", (), ()),
        ("alpha beta", "12345 67890", (), ()),
        ("const s = '😀';", "const s = '😃';", ((11, 12),), ((11, 12),)),
        ("名前 = 1", "名称 = 1", ((1, 2),), ((1, 2),)),
        ("let cafe = 1", "let cafe\u0301 = 1", (), ((7, 9),)),
        ("if (a) {", "if (a)  {", (), ((6, 7),)),
    ],
)
def test_intraline_marks(old, new, old_marks, new_marks) -> None:
    assert intraline_marks(old, new, DiffOptions()) == (old_marks, new_marks)


def test_intraline_marks_skip_whitespace_when_ignoring_it() -> None:
    options = DiffOptions(ignore_whitespace=True)
    assert intraline_marks("if (a) { x }", "if (a)  {  y }", options) == (
        ((9, 10),),
        ((11, 12),),
    )


@pytest.mark.parametrize("highlight", [True, False])
def test_marks_combine_with_highlighting_on_raw_offsets(highlight: bool) -> None:
    diff = compute_diff(
        "if (a < b && c) { run('<x>'); }\n",
        "if (a < b || c) { run('<y>'); }\n",
        DiffOptions(highlight=highlight),
    )
    (row,) = split_rows(diff)
    left, right = parse(row.left.html), parse(row.right.html)
    assert (left.balanced, right.balanced) == (True, True)
    assert (left.marked, right.marked) == ("&&x", "||y")
    assert 'class="dl-del"' in row.left.html and 'class="dl-ins"' in row.right.html
    assert ('class="hl-' in row.left.html) is highlight


def test_intraline_can_be_switched_off() -> None:
    diff = compute_diff("const x = 1;\n", "const x = 2;\n", DiffOptions(intraline=False))
    assert all("<mark" not in cell.html for cell in all_cells(diff))


def test_very_long_lines_render_without_marks() -> None:
    old = "x = [" + ", ".join(str(n) for n in range(4000)) + "];\n"
    new = old.replace("1999", "2000!")
    diff = compute_diff(old, new)
    (row,) = split_rows(diff)
    assert "<mark" not in row.left.html + row.right.html
    assert parse(row.right.html).text == new.rstrip("\n")


# -- whitespace -------------------------------------------------------------------------------


def test_whitespace_only_change_is_shown_by_default() -> None:
    diff = compute_diff("a\n  b\nc\n", "a\n    b\nc\n", PLAIN)
    assert (diff.added, diff.removed) == (1, 1)
    (_, row, _) = split_rows(diff)
    assert row.kind == "replace"
    assert parse(row.right.html).marked == "  "


def test_ignore_whitespace_hides_the_change_but_keeps_each_sides_text() -> None:
    old = "a\n  b\nc\n" + numbered(3)
    new = "a\n    b\nC\n" + numbered(3)
    diff = compute_diff(old, new, DiffOptions(ignore_whitespace=True, highlight=False))
    assert (diff.added, diff.removed) == (1, 1)
    second = split_rows(diff)[1]
    assert second.kind == "equal"
    assert (second.left.html, second.right.html) == ("  b", "    b")


def test_ignore_whitespace_makes_whitespace_only_texts_identical() -> None:
    options = DiffOptions(ignore_whitespace=True)
    assert compute_diff("a = 1;\nb", "a  =  1;\n\tb\n", options).identical is True


# -- moved blocks -----------------------------------------------------------------------------

BLOCK = "function helper(event) {\n  return event.properties.total;\n}\n"


def test_moved_block_is_a_delete_and_an_insert_marked_moved() -> None:
    filler = numbered(10)
    diff = compute_diff(BLOCK + filler, filler + BLOCK, PLAIN)
    assert (diff.added, diff.removed) == (3, 3)
    rows = [row for row in unified_rows(diff) if not row.collapsed]
    deleted = [r for r in rows if r.kind == "delete"]
    inserted = [r for r in rows if r.kind == "insert"]
    assert [r.old_no for r in deleted] == [1, 2, 3]
    assert [r.new_no for r in inserted] == [11, 12, 13]
    assert all(r.moved for r in deleted + inserted)


def test_deleted_closing_braces_elsewhere_are_not_a_move() -> None:
    diff = compute_diff("a\n}\n}\n}\nb\n", "a\nb\n}\n}\n}\n", PLAIN)
    assert not any(cell.moved for cell in all_cells(diff))


# -- first and last lines, split alignment ----------------------------------------------------


def test_changes_on_the_first_and_last_lines() -> None:
    old = "first\n" + numbered(20) + "last\n"
    new = "FIRST\n" + numbered(20) + "LAST\n"
    assert row_summary(split_rows(compute_diff(old, new, PLAIN))) == [
        ("replace", 1, 1),
        ("equal", 2, 2),
        ("equal", 3, 3),
        ("equal", 4, 4),
        ("collapsed", 5, 5, 14),
        ("equal", 19, 19),
        ("equal", 20, 20),
        ("equal", 21, 21),
        ("replace", 22, 22),
    ]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "a\nb1\nb2\nb3\nc\n",
            "a\nB\nc\n",
            [
                ("equal", 1, 1),
                ("replace", 2, 2),
                ("replace", 3, None),
                ("replace", 4, None),
                ("equal", 5, 3),
            ],
        ),
        (
            "a\nb\nc\n",
            "a\nB1\nB2\nc\n",
            [("equal", 1, 1), ("replace", 2, 2), ("replace", None, 3), ("equal", 3, 4)],
        ),
        ("a\nc\n", "a\nb\nc\n", [("equal", 1, 1), ("insert", None, 2), ("equal", 2, 3)]),
        ("a\nb\nc\n", "a\nc\n", [("equal", 1, 1), ("delete", 2, None), ("equal", 3, 2)]),
    ],
)
def test_split_rows_pair_replaced_lines_and_pad_the_shorter_side(old, new, expected) -> None:
    assert row_summary(split_rows(compute_diff(old, new, PLAIN))) == expected


def test_unified_and_split_rows_show_the_same_lines() -> None:
    diff = compute_diff(numbered(30), numbered(12) + "new\n" + numbered(17, 14), PLAIN)
    unified = unified_rows(diff)
    split = split_rows(diff)
    assert {r.old_no for r in unified if not r.collapsed} - {None} == {
        r.left.number for r in split if not r.collapsed and r.left
    }
    assert {r.new_no for r in unified if not r.collapsed} - {None} == {
        r.right.number for r in split if not r.collapsed and r.right
    }


# -- collapsing and expanding -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("context", "expected"),
    [
        (
            3,
            [
                ("collapsed", 1, 1, 46),
                ("equal", 47, 47),
                ("equal", 48, 48),
                ("equal", 49, 49),
                ("replace", 50, 50),
                ("equal", 51, 51),
                ("equal", 52, 52),
                ("equal", 53, 53),
                ("collapsed", 54, 54, 47),
            ],
        ),
        (0, [("collapsed", 1, 1, 49), ("replace", 50, 50), ("collapsed", 51, 51, 50)]),
        (47, [("collapsed", 1, 1, 2), ("equal", 3, 3)]),
        (48, [("equal", 1, 1), ("equal", 2, 2)]),
    ],
)
def test_long_unchanged_stretches_collapse_beyond_the_context(context, expected) -> None:
    old = numbered(100)
    new = old.replace("line 50\n", "line fifty\n")
    rows = row_summary(split_rows(compute_diff(old, new, DiffOptions(context_lines=context))))
    assert rows[: len(expected)] == expected


def test_a_single_hidden_line_is_shown_instead_of_collapsed() -> None:
    old = numbered(9)
    new = old.replace("line 1\n", "one\n").replace("line 9\n", "nine\n")
    rows = split_rows(compute_diff(old, new, PLAIN))
    assert not any(row.collapsed for row in rows)
    assert len(rows) == 9


def test_expand_chunk_renders_a_collapsed_range() -> None:
    old = numbered(100)
    new = "inserted\n" + old.replace("line 50\n", "line fifty\n")
    diff = compute_diff(old, new)
    collapsed = [row for row in split_rows(diff) if row.collapsed]
    assert [(c.old_start, c.new_start, c.count) for c in collapsed] == [
        (4, 5, 43),
        (54, 55, 47),
    ]
    first = collapsed[0]
    chunk = expand_chunk(
        old, new, old_start=first.old_start, new_start=first.new_start, count=first.count
    )
    assert isinstance(chunk, Chunk)
    rows = split_rows([chunk])
    assert len(rows) == 43
    assert (rows[0].left.number, rows[0].right.number) == (4, 5)
    assert (rows[-1].left.number, rows[-1].right.number) == (first.old_end, first.new_end)
    assert all(row.kind == "equal" for row in rows)
    assert parse(rows[0].right.html).text == "line 4"
    unified = unified_rows([chunk])
    assert [(r.old_no, r.new_no) for r in unified[:2]] == [(4, 5), (5, 6)]


@pytest.mark.parametrize(
    ("old_start", "new_start", "count"),
    [
        (0, 1, 3),
        (1, 1, 0),
        (98, 99, 5),
        (40, 40, 20),
        (1, 1, 3),
    ],
)
def test_expand_chunk_rejects_ranges_that_are_not_unchanged(old_start, new_start, count):
    old = numbered(100)
    new = "inserted\n" + old.replace("line 50\n", "line fifty\n")
    with pytest.raises(ValueError):
        expand_chunk(old, new, old_start=old_start, new_start=new_start, count=count)


def test_expand_chunk_keeps_each_sides_text_when_ignoring_whitespace() -> None:
    options = DiffOptions(ignore_whitespace=True, highlight=False)
    chunk = expand_chunk("  a\nb\n", "a\nb\n", options, old_start=1, new_start=1, count=2)
    assert [c.html for c in chunk.old_lines] == ["  a", "b"]
    assert [c.html for c in chunk.new_lines] == ["a", "b"]


def test_expanded_lines_inside_a_comment_are_highlighted_as_comment() -> None:
    old = "/*\n" + numbered(20) + "*/\nconst a = 1;\n"
    new = old.replace("const a = 1;", "const a = 2;")
    chunk = expand_chunk(old, new, old_start=10, new_start=10, count=2)
    assert all('class="hl-cm"' in cell.html for cell in chunk.new_lines)


# -- highlighting switches --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "highlighted"),
    [
        (DiffOptions(), True),
        (DiffOptions(highlight=False), False),
        (DiffOptions(highlight_max_lines=5), False),
        (DiffOptions(highlight_max_lines=10), True),
    ],
)
def test_highlighting_threshold(options: DiffOptions, highlighted: bool) -> None:
    old = "".join(f"const v{n} = {n};\n" for n in range(10))
    diff = compute_diff(old, old.replace("v3 = 3", "v3 = 4"), options)
    assert diff.highlighted is highlighted
    assert any('class="hl-' in cell.html for cell in all_cells(diff)) is highlighted


def test_multiline_comment_and_template_literal_cells_are_balanced() -> None:
    old = "/* a\n b */\nconst t = `x\n${y}\nz`;\n" + numbered(10) + "end();\n"
    new = "/* a\n B */\nconst t = `x\n${Y}\nz`;\n" + numbered(10) + "end(1);\n"
    diff = compute_diff(old, new)
    for cell in all_cells(diff):
        assert parse(cell.html).balanced, cell.html
    assert 'class="hl-cm"' in split_rows(diff)[1].right.html


def test_tabs_expand_to_tab_size() -> None:
    diff = compute_diff("", "\tx = 1;\n", DiffOptions(tab_size=2, highlight=False))
    assert diff.chunks[0].new_lines[0].html == "  x = 1;"


@pytest.mark.parametrize(
    "kwargs", [{"context_lines": -1}, {"tab_size": -1}, {"highlight_max_lines": -5}]
)
def test_options_reject_negative_values(kwargs) -> None:
    with pytest.raises(ValueError):
        DiffOptions(**kwargs)


# -- caching ----------------------------------------------------------------------------------


def test_results_are_deterministic_and_picklable() -> None:
    old = "const a = 1;\n" + numbered(30) + "<b>&amp;</b>\n"
    new = "const a = 2;\n" + numbered(30) + "<b>&amp;</b>;\n"
    diff = compute_diff(old, new)
    assert compute_diff(old, new) == diff
    restored = pickle.loads(pickle.dumps(diff))
    assert restored == diff
    assert isinstance(restored.chunks[0].old_lines[0].html, SafeString)
    assert pickle.loads(pickle.dumps(split_rows(diff))) == split_rows(diff)
    assert pickle.loads(pickle.dumps(unified_rows(diff))) == unified_rows(diff)


def test_row_types_expose_collapsed_for_templates() -> None:
    line = DiffLine("equal", 1, 1, SafeString(""))
    assert (line.collapsed, CollapsedRow(1, 1, 2).collapsed) == (False, True)
    assert SplitRow("equal", None, None).collapsed is False


# -- plain-text unified diff ------------------------------------------------------------------


def test_unified_text_matches_git_format() -> None:
    old = "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\nk"
    new = "a\nB\nc\nd\ne\nf\ng\nh\ni\nj\nk\n"
    assert unified_text(old, new, "a/handler.js", "b/handler.js") == (
        "--- a/handler.js\n"
        "+++ b/handler.js\n"
        "@@ -1,5 +1,5 @@\n"
        " a\n"
        "-b\n"
        "+B\n"
        " c\n"
        " d\n"
        " e\n"
        "@@ -8,4 +8,4 @@\n"
        " h\n"
        " i\n"
        " j\n"
        "-k\n"
        "\\ No newline at end of file\n"
        "+k\n"
    )


@pytest.mark.parametrize(
    ("old", "new", "header"),
    [
        ("", "a\n", "@@ -0,0 +1 @@\n"),
        ("a\n", "", "@@ -1 +0,0 @@\n"),
        ("a\nb\n", "a\nc\n", "@@ -1,2 +1,2 @@\n"),
    ],
)
def test_unified_text_hunk_headers(old: str, new: str, header: str) -> None:
    assert unified_text(old, new).splitlines(keepends=True)[2] == header


def test_unified_text_is_empty_for_equal_texts_and_exact_about_line_endings() -> None:
    assert unified_text("a\nb\n", "a\nb\n") == ""
    assert unified_text("a\r\n", "a\n") == "--- old\n+++ new\n@@ -1 +1 @@\n-a\r\n+a\n"


# -- whole-pipeline properties ----------------------------------------------------------------


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("context", [0, 3])
def test_rows_plus_expanded_ranges_rebuild_both_files(seed: int, context: int) -> None:
    old, new = make_pair(lines=400, seed=seed)
    options = DiffOptions(context_lines=context, highlight=False, intraline=False, tab_size=0)
    rows: list[SplitRow] = []
    for row in split_rows(compute_diff(old, new, options)):
        if row.collapsed:
            chunk = expand_chunk(
                old, new, options, old_start=row.old_start, new_start=row.new_start, count=row.count
            )
            rows.extend(split_rows([chunk]))
        else:
            rows.append(row)
    for side, text in (("left", old), ("right", new)):
        cells = [getattr(row, side) for row in rows if getattr(row, side)]
        assert [cell.number for cell in cells] == list(range(1, len(cells) + 1))
        assert [parse(cell.html).text for cell in cells] == text.splitlines()


@pytest.mark.parametrize("seed", [1, 2])
def test_windowed_highlighting_in_a_diff_matches_whole_file_highlighting(seed: int) -> None:
    old, new = make_pair(lines=600, seed=seed)
    whole_old, whole_new = highlight_lines(old, tab_size=4), highlight_lines(new, tab_size=4)
    diff = compute_diff(old, new, DiffOptions(intraline=False))
    for chunk in diff.chunks:
        for cell in chunk.old_lines:
            assert cell.html == whole_old[cell.number - 1], cell.number
        for cell in chunk.new_lines:
            assert cell.html == whole_new[cell.number - 1], cell.number
