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

HISTORY_VERSIONS = 10_000
HISTORY_TARGET_MS = 50.0
HISTORY_RUNS = 30

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
    """The diff engine's speed, then the history panel's."""
    return [*run_diff(), *run_compare_page(), *run_history()]


def run_diff() -> list[BenchRow]:
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


def _history_seed(versions: int):
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.utils import timezone

    from catalog.services import function_create
    from functions_ui.permissions.models import Role
    from functions_ui.workspaces.models import Workspace
    from functions_ui.workspaces.services import membership_grant
    from versioning.ids import new_version_id
    from versioning.models import Label, Version, VersionLabel

    workspace = Workspace.objects.create(slug=f"bench-history-{versions}", name="Bench history")
    user = get_user_model().objects.create_user(username=f"bench-history-{versions}", password="x")
    membership_grant(workspace=workspace, user=user, roles=[Role.FUNCTIONS_ADMIN])
    function = function_create(
        workspace=workspace, user=user, resource_type="DESTINATION", display_name="History"
    )
    started = timezone.now().timestamp()
    code = make_pair(200)[0]
    Version.objects.bulk_create(
        [
            Version(
                id=new_version_id(started + number),
                function=function,
                number=number,
                code=code + f"// {number}\n",
                author=user,
                author_name=user.username,
                note=f"Save {number}",
            )
            for number in range(2, versions + 1)
        ],
        batch_size=1000,
    )
    newest = Version.objects.get(function=function, number=versions)
    VersionLabel.objects.filter(function=function, label=Label.LATEST).update(version=newest)
    VersionLabel.objects.create(
        function=function,
        label=Label.DEPLOYED,
        version=Version.objects.get(function=function, number=versions // 2),
    )
    client = Client()
    client.force_login(user)
    return function, client


def _history_measure(function, client, page: int) -> tuple[float, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    url = reverse("versioning:history", args=[function.workspace.slug, function.public_id])
    url += f"?page={page}"
    headers = {"HX-Request": "true"}
    client.get(url, headers=headers)
    timings = []
    for _ in range(HISTORY_RUNS):
        started = time.perf_counter()
        response = client.get(url, headers=headers)
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    with CaptureQueriesContext(connection) as queries:
        client.get(url, headers=headers)
    return statistics.median(timings), len(queries)


def run_history() -> list[BenchRow]:
    """The history panel of a function with 10,000 versions: server time and queries."""
    from django.test.utils import override_settings

    with override_settings(DEBUG=False):
        small_function, small_client = _history_seed(30)
        _, small_queries = _history_measure(small_function, small_client, 1)
        function, client = _history_seed(HISTORY_VERSIONS)
        first_ms, first_queries = _history_measure(function, client, 1)
        deep_ms, deep_queries = _history_measure(function, client, 400)
    area = f"versioning ({HISTORY_VERSIONS:,} versions)"
    target = f"<= {HISTORY_TARGET_MS:.0f} ms"
    return [
        BenchRow(area, "history panel, first page: p50", first_ms, "ms", target, first_ms <= 50),
        BenchRow(area, "history panel, page 400: p50", deep_ms, "ms", target, deep_ms <= 50),
        BenchRow(
            area,
            f"history queries (30 versions: {small_queries})",
            first_queries,
            "queries",
            "constant",
            small_queries == first_queries == deep_queries,
        ),
    ]


def run_compare_page() -> list[BenchRow]:
    """The whole compare page of the 5,000-line pair: first request, then cached."""
    from django.contrib.auth import get_user_model
    from django.core.cache import cache
    from django.test import Client
    from django.test.utils import override_settings
    from django.urls import reverse

    from catalog.services import function_create
    from functions_ui.permissions.models import Role
    from functions_ui.workspaces.models import Workspace
    from functions_ui.workspaces.services import membership_grant
    from versioning.services import version_save

    workspace = Workspace.objects.create(slug="bench-compare", name="Bench compare")
    user = get_user_model().objects.create_user(username="bench-compare", password="x")
    membership_grant(workspace=workspace, user=user, roles=[Role.FUNCTIONS_ADMIN])
    old, new = make_pair()
    function = function_create(
        workspace=workspace, user=user, resource_type="DESTINATION", display_name="Big", code=old
    )
    version_save(function=function, user=user, code=new, base_version_id=None)
    client = Client()
    client.force_login(user)
    url = reverse("versioning:compare", args=[workspace.slug, function.public_id])
    url += "?view=split"
    with override_settings(DEBUG=False):
        client.get(reverse("versioning:history", args=[workspace.slug, function.public_id]))
        cache.clear()
        started = time.perf_counter()
        client.get(url)
        first = (time.perf_counter() - started) * 1000
        cached = _median_ms(lambda: client.get(url))
    area = "versioning"
    return [
        BenchRow(area, "compare page, split, 5,000 lines: first request", first, "ms"),
        BenchRow(area, "compare page, split, 5,000 lines: cached p50", cached, "ms"),
    ]
