"""Expectations of a saved payload, and whether a run meets them.

An expectation names what a run must do, aspect by aspect, each optional:

    {"status": "success",                # or message_rejected, dropped, retry, ...
     "error": "ValidationError",         # the class of error thrown
     "events": [...], "objects": [...],  # what a source emits
     "returned": {...},                  # what an insert (or destination) handler returns
     "requests": [{"method": "POST", "url": "...", "body": {...}}],
     "ignore": ["events.*.properties.at"]}

Matching is by subset: an expected object's keys must be present with matching values (others
may be added); a list must have as many items, each matching in turn; other values are equal.
`ignore` names paths (dots, `*` for any item or key) left out on both sides, for values that
change from run to run. JSON request bodies are compared as JSON.

A test that names no aspect (`{}`, or only `ignore`) is a smoke test: it passes only when the run
succeeds (no error thrown, no timeout; an insert function may drop the event). A test that
expects an error says so (`"status"`, `"error"`): a test that checks nothing never passes a
function that throws.
"""

from __future__ import annotations

import json
from typing import Any

ASPECTS = ("status", "error", "events", "objects", "returned", "requests")
# How a smoke test's run may end: anything else is an error thrown, a timeout or code that
# does not run. An insert function that drops an event did what it was written to do.
SMOKE_STATUSES = frozenset({"success", "dropped"})
MISSING = object()


def aspects_of(expect: dict[str, Any] | None) -> list[str]:
    """The aspects an expectation checks, in ASPECTS order (none: it is a smoke test)."""
    return [aspect for aspect in ASPECTS if aspect in (expect or {})]


def checked(expect: dict[str, Any] | None, passed: bool = False) -> str:
    """What a test checks, in words: "must run without error", "checks 3 expectations (...)";
    once passed, what it showed: "ran without error", "matched 3 expectations (...)"."""
    aspects = aspects_of(expect)
    if not aspects:
        return "ran without error" if passed else "must run without error"
    count = f"{len(aspects)} expectation{'s' if len(aspects) != 1 else ''}"
    return f"{'matched' if passed else 'checks'} {count} ({', '.join(aspects)})"


def _json_or_text(text: Any) -> Any:
    if not isinstance(text, str):
        return text
    try:
        return json.loads(text)
    except ValueError:
        return text


def _comparable(observed: dict[str, Any]) -> dict[str, Any]:
    """A run's observed behaviour (behaviour.observed) in the expectation's terms."""
    outcome = observed["outcome"]
    error = outcome.get("error", "")
    return {
        "status": outcome["status"],
        "error": error.split(":", 1)[0] if error else None,
        "events": observed["events"],
        "objects": observed["objects"],
        "returned": observed["returned"],
        "requests": [
            {
                "method": r.get("method"),
                "url": r.get("url"),
                **({"body": _json_or_text(r["body"])} if "body" in r else {}),
            }
            for r in observed["requests"]
        ],
    }


def expectation_from(observed: dict[str, Any]) -> dict[str, Any]:
    """ "Save current output as expected": every aspect the run showed."""
    found = _comparable(observed)
    expect: dict[str, Any] = {"status": found["status"]}
    if found["error"]:
        expect["error"] = found["error"]
    for aspect in ("events", "objects", "requests"):
        if found[aspect]:
            expect[aspect] = found[aspect]
    if found["returned"] is not None:
        expect["returned"] = found["returned"]
    return expect


def _drop(value: Any, path: list[str]) -> Any:
    """The value without what the path names (`*`: every item or key)."""
    if not path:
        return MISSING
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        keys = list(value) if head == "*" else [head]
        copy = dict(value)
        for key in keys:
            if key in copy:
                inner = _drop(copy[key], rest)
                if inner is MISSING:
                    del copy[key]
                else:
                    copy[key] = inner
        return copy
    if isinstance(value, list):
        indexes = range(len(value)) if head == "*" else [int(head)] if head.isdigit() else []
        copy_list = list(value)
        for index in indexes:
            if index < len(copy_list):
                inner = _drop(copy_list[index], rest)
                copy_list[index] = None if inner is MISSING else inner
        return copy_list
    return value


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 80 else text[:77] + "..."


def _match(expected: Any, actual: Any, where: str, problems: list[str]) -> None:
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            problems.append(f"{where}: expected an object, got {_short(actual)}")
            return
        for key, value in expected.items():
            if key not in actual:
                problems.append(f"{where}.{key}: missing (expected {_short(value)})")
            else:
                _match(value, actual[key], f"{where}.{key}", problems)
        return
    if isinstance(expected, list):
        if not isinstance(actual, list):
            problems.append(f"{where}: expected a list, got {_short(actual)}")
            return
        if len(expected) != len(actual):
            problems.append(f"{where}: expected {len(expected)} items, got {len(actual)}")
            return
        for index, (one, other) in enumerate(zip(expected, actual, strict=True)):
            _match(one, other, f"{where}[{index}]", problems)
        return
    if expected != actual:
        problems.append(f"{where}: expected {_short(expected)}, got {_short(actual)}")


def check(expect: dict[str, Any] | None, observed: dict[str, Any]) -> list[str]:
    """What the run did differently from the expectation (nothing: it passes)."""
    expect = expect or {}
    if not aspects_of(expect):
        outcome = observed["outcome"]
        if outcome["status"] in SMOKE_STATUSES:
            return []
        error = outcome.get("error")
        return [
            f"expected the run to succeed, got {outcome['status']}"
            + (f" ({error})" if error else "")
            + '; write an expected error as an expectation ("status", "error")'
        ]
    actual = _comparable(observed)
    expected = {k: v for k, v in expect.items() if k in ASPECTS}
    for path in expect.get("ignore") or []:
        parts = str(path).split(".")
        expected = _drop(expected, parts)
        actual = _drop(actual, parts)
    problems: list[str] = []
    for aspect, value in expected.items():
        if aspect == "status" and value != actual["status"]:
            error = observed["outcome"].get("error")
            problems.append(
                f"status: expected {value}, got {actual['status']}"
                + (f" ({error})" if error else "")
            )
        elif aspect != "status":
            _match(value, actual.get(aspect), aspect, problems)
    return problems
