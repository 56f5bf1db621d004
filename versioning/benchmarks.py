"""Diff view speed: a 5,000-line function with about 2% of its lines changed.

Ours (diff-match-patch + windowed Pygments + rows) is compared with the honest difflib
equivalent of the same highlighted split view: SequenceMatcher opcodes plus each whole file
highlighted by Pygments and split into lines, and with difflib.HtmlDiff (no highlighting).
"""

from __future__ import annotations

import difflib
import pickle
import random
import statistics
import time
from collections.abc import Callable

from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import JavascriptLexer

from functions_ui.bench.rows import BenchRow
from versioning.diffing import DiffOptions, compute_diff, split_rows

AREA = "versioning"
LINES = 5_000
TARGET_MS = 200.0
RUNS = 7

_STATEMENTS = (
    "  const {name} = event.properties.{field} ?? {number};",
    "  if ({name} > {number}) {{",
    "    await fetch(`https://api.example.com/${{event.userId}}/{field}`, {{ method: 'POST' }});",
    "  }}",
    "  // {field}: keep the {name} in sync with the warehouse",
    '  console.log("{field}", {name}, /{field}\\d+/g.test(String({name})));',
    "  let {name}Total = items.reduce((sum, item) => sum + item.{field} * {number}, 0);",
    "  return {{ {field}: {name}, total: {name}Total }};",
    "  /* {field} is sent as cents,\n     never as a float */",
    "",
)
_WORDS = ("price", "userId", "email", "plan", "seats", "region", "coupon", "total", "score")


def make_pair(lines: int = LINES, seed: int = 7) -> tuple[str, str]:
    """Return (old, new) JavaScript sources; new has ~2% of lines modified, inserted or deleted."""
    rng = random.Random(seed)

    def statement() -> str:
        template = _STATEMENTS[rng.randrange(len(_STATEMENTS))]
        return template.format(
            name=rng.choice(_WORDS) + str(rng.randrange(100)),
            field=rng.choice(_WORDS),
            number=rng.randrange(1000),
        )

    old: list[str] = []
    while len(old) < lines:
        old.append(f"async function onTrack{len(old)}(event, settings) {{")
        for _ in range(rng.randrange(4, 12)):
            old.extend(statement().split("\n"))
        old.append("}")
    old = old[:lines]

    new = list(old)
    # 40 modified, 30 inserted and 30 deleted lines, spread over the file: 2% of 5,000.
    positions = sorted(rng.sample(range(1, lines - 1), 100), reverse=True)
    for number, position in enumerate(positions):
        if number % 10 < 4:
            new[position] = new[position].replace("event", "evt", 1) + " // changed"
        elif number % 10 < 7:
            new.insert(position, statement().replace("\n", " "))
        else:
            del new[position]
    return "\n".join(old) + "\n", "\n".join(new) + "\n"


def _median_ms(work: Callable[[], object], runs: int = RUNS) -> float:
    work()  # warm up: Pygments compiles its lexer regexes on first use.
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def _difflib_highlighted_split(old: str, new: str) -> list[tuple[str | None, str | None]]:
    formatter = HtmlFormatter(nowrap=True, classprefix="hl-")
    lexer = JavascriptLexer(stripnl=False)
    old_html = highlight(old, lexer, formatter).split("\n")
    new_html = highlight(new, lexer, formatter).split("\n")
    matcher = difflib.SequenceMatcher(None, old.splitlines(), new.splitlines())
    rows: list[tuple[str | None, str | None]] = []
    for group in matcher.get_grouped_opcodes(3):
        for _, i1, i2, j1, j2 in group:
            left, right = old_html[i1:i2], new_html[j1:j2]
            rows.extend(
                (left[k] if k < len(left) else None, right[k] if k < len(right) else None)
                for k in range(max(len(left), len(right)))
            )
    return rows


def run() -> list[BenchRow]:
    """Measure the split diff view of the generated pair, ours against difflib."""
    old, new = make_pair()
    options = DiffOptions()
    ours = _median_ms(lambda: split_rows(compute_diff(old, new, options)))
    plain = _median_ms(
        lambda: split_rows(compute_diff(old, new, DiffOptions(highlight=False, intraline=False)))
    )
    baseline = _median_ms(lambda: _difflib_highlighted_split(old, new))
    html_diff = _median_ms(
        lambda: difflib.HtmlDiff().make_table(
            old.splitlines(), new.splitlines(), context=True, numlines=3
        ),
        runs=3,
    )
    diff = compute_diff(old, new, options)
    size_kib = len(pickle.dumps(diff)) / 1024
    label = f"{LINES:,} lines, +{diff.added}/-{diff.removed}"
    return [
        BenchRow(
            AREA,
            f"split view, highlighted ({label})",
            ours,
            "ms",
            f"<= {TARGET_MS:.0f} ms",
            ours <= TARGET_MS,
        ),
        BenchRow(AREA, "split view, no highlighting or intra-line", plain, "ms"),
        BenchRow(AREA, "difflib + whole-file Pygments, same rows", baseline, "ms"),
        BenchRow(AREA, "difflib.HtmlDiff.make_table (no highlighting)", html_diff, "ms"),
        BenchRow(AREA, "speed-up over difflib + Pygments", baseline / ours, "x"),
        BenchRow(AREA, "pickled FileDiff (cache entry)", size_kib, "KiB"),
    ]
