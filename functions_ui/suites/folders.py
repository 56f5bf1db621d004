"""Functions as code: a workspace's functions as a folder a team keeps in git.

    <slug>/handler.js            the code (LATEST)
    <slug>/function.json         {"id", "displayName", "type", "description", "logoUrl",
                                  "settings": [{name, label, type, description, required,
                                  sensitive}]}: declarations only, never a value
    <slug>/tests/<name>.json     {"event": {...}} (destination, insert) or {"payload": {body,
                                  headers, query}} (source), with "settings" and "expect" (and
                                  "name", the saved payload's, when it differs from the file's)

A test without "expect" is a smoke test: it passes only when the run succeeds. `"expect": null`
marks a saved payload that is not a test (the editor's "Not a test"), so a pull and a push
keep it one; `functions test` lists it as skipped.

`pull` writes every function of a workspace there; `push` creates or updates them (a version per
changed function); `run_tests` runs every test of every function in one process, without a
database. Secrets never reach the folder: tests carry plain setting values only.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction

from catalog import services as catalog_services
from catalog.content import settings_schema_of, validate_settings_schema
from catalog.kinds import KINDS_BY_SLUG
from catalog.models import Function
from functions_ui.editor.models import SavedPayload
from functions_ui.suites import behaviour, expectations
from functions_ui.workspaces.models import Workspace
from versioning.selectors import latest_version
from versioning.services import version_save


class FolderError(Exception):
    """The folder cannot be read as functions: says which file and why."""


@dataclass
class FolderTest:
    name: str
    input: Any
    settings: dict[str, Any] = field(default_factory=dict)
    # {} (no "expect" key): a smoke test; None ("expect": null): a saved payload, not a test.
    expect: dict[str, Any] | None = field(default_factory=dict)


@dataclass
class FolderFunction:
    slug: str
    code: str
    meta: dict[str, Any]
    tests: list[FolderTest] = field(default_factory=list)

    @property
    def type_slug(self) -> str:
        return str(self.meta["type"])


def slug_of(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return slug or "function"


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise FolderError(f"{path}: cannot be read ({error})") from error
    except json.JSONDecodeError as error:
        raise FolderError(f"{path}: invalid JSON at line {error.lineno}: {error.msg}") from error
    except RecursionError as error:
        raise FolderError(f"{path}: JSON nested too deeply") from error


def read_folder(root: Path) -> list[FolderFunction]:
    """Every function folder under root (a folder with a handler.js and a function.json)."""
    if not root.is_dir():
        raise FolderError(f"{root}: no such folder")
    found = []
    for folder in sorted(p for p in root.iterdir() if (p / "function.json").is_file()):
        meta = _read_json(folder / "function.json")
        if not isinstance(meta, dict) or meta.get("type") not in KINDS_BY_SLUG:
            raise FolderError(
                f'{folder / "function.json"}: needs "type": one of {", ".join(KINDS_BY_SLUG)}'
            )
        handler = folder / "handler.js"
        if not handler.is_file():
            raise FolderError(f"{folder}: has no handler.js")
        function = FolderFunction(folder.name, handler.read_text(encoding="utf-8"), meta)
        for path in sorted((folder / "tests").glob("*.json")):
            data = _read_json(path)
            key = "payload" if function.type_slug == "source" else "event"
            if not isinstance(data, dict) or key not in data:
                raise FolderError(f"{path}: needs a {key!r} key")
            expect = data.get("expect", {})
            if expect is not None and not isinstance(expect, dict):
                raise FolderError(f'{path}: "expect" must be an object (or null: not a test)')
            function.tests.append(
                FolderTest(
                    str(data.get("name") or path.stem),
                    data[key],
                    dict(data.get("settings") or {}),
                    expect,
                )
            )
        found.append(function)
    if not found:
        raise FolderError(f"{root}: no function folders (each needs function.json and handler.js)")
    return found


# Pull ---------------------------------------------------------------------------------------


def _write_json(path: Path, value: Any) -> None:
    path.write_text(json.dumps(value, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def pull(*, workspace: Workspace, root: Path) -> list[str]:
    """Write every function of the workspace under root; returns the folders written."""
    root.mkdir(parents=True, exist_ok=True)
    written = []
    taken: set[str] = set()
    for function in Function.objects.filter(workspace=workspace).order_by("display_name"):
        slug = slug_of(function.display_name)
        while slug in taken:
            slug += "-2"
        taken.add(slug)
        folder = root / slug
        (folder / "tests").mkdir(parents=True, exist_ok=True)
        latest = latest_version(function=function)
        (folder / "handler.js").write_text(latest.code if latest else function.code, "utf-8")
        _write_json(
            folder / "function.json",
            {
                "id": function.public_id,
                "displayName": function.display_name,
                "type": function.type_slug,
                "description": function.description,
                "logoUrl": function.logo_url,
                "settings": settings_schema_of(function=function),
            },
        )
        plain = {
            s.name: s.test_value
            for s in function.settings.all()
            if not s.sensitive and s.test_value is not None
        }
        key = "payload" if function.type_slug == "source" else "event"
        for payload in SavedPayload.objects.filter(function=function):
            test: dict[str, Any] = {"name": payload.name, key: payload.data, "settings": plain}
            if payload.expect != {}:  # a smoke test is a file without "expect"
                test["expect"] = payload.expect
            _write_json(folder / "tests" / f"{slug_of(payload.name)}.json", test)
        written.append(slug)
    return written


# Push ---------------------------------------------------------------------------------------


def _find(workspace: Workspace, item: FolderFunction) -> Function | None:
    functions = Function.objects.filter(workspace=workspace)
    if item.meta.get("id"):
        found = functions.filter(public_id=item.meta["id"]).first()
        if found is not None:
            return found
    return functions.filter(display_name=item.meta.get("displayName") or item.slug).first()


def push(
    *,
    workspace: Workspace,
    root: Path,
    user: User | None = None,
    message: str = "",
    dry_run: bool = False,
) -> list[str]:
    """Create or update the folder's functions; returns what changed (or would, dry_run)."""
    changes: list[str] = []
    items = read_folder(root)
    with transaction.atomic():
        for item in items:
            changes += _push_one(workspace, item, user, message)
        if dry_run:
            transaction.set_rollback(True)
    return changes


def _push_one(
    workspace: Workspace, item: FolderFunction, user: User | None, message: str
) -> list[str]:
    name = str(item.meta.get("displayName") or item.slug)
    settings = list(item.meta.get("settings") or [])
    function = _find(workspace, item)
    if function is None:
        function = catalog_services.function_create(
            workspace=workspace,
            user=user,
            resource_type=KINDS_BY_SLUG[item.type_slug].resource_type,
            display_name=name,
            description=str(item.meta.get("description") or ""),
            logo_url=str(item.meta.get("logoUrl") or ""),
            code=item.code,
            settings=settings,
        )
        changes = [f"{item.slug}: created as {function.public_id}"]
    else:
        if function.type_slug != item.type_slug:
            raise ValidationError(
                f"{item.slug}: is a {function.type_slug} function here, not {item.type_slug}"
            )
        changes = []
        details = {
            "display_name": name,
            "description": str(item.meta.get("description") or ""),
            "logo_url": str(item.meta.get("logoUrl") or ""),
        }
        if any(getattr(function, k) != v for k, v in details.items()):
            catalog_services.function_update(function=function, user=user, **details)
            changes.append(f"{item.slug}: details changed")
        if settings_schema_of(function=function) != validate_settings_schema(settings):
            catalog_services.function_settings_replace(function=function, settings=settings)
            changes.append(f"{item.slug}: settings changed")
        version = version_save(
            function=function, user=user, code=item.code, base_version_id=None, note=message
        )
        if version is not None:
            changes.append(f"{item.slug}: code changed, saved as v{version.number}")
    for test in item.tests:
        saved = SavedPayload.objects.filter(function=function, name=test.name).first()
        if saved is not None and (saved.data, saved.expect) == (test.input, test.expect):
            continue
        SavedPayload.objects.update_or_create(
            function=function,
            name=test.name,
            defaults={
                "kind": "request" if item.type_slug == "source" else "event",
                "data": test.input,
                "expect": test.expect,
                "created_by": user,
            },
        )
        changes.append(f"{item.slug}: test {test.name} {'updated' if saved else 'added'}")
    return changes


# Test ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TestOutcome:
    function: str
    test: str
    problems: list[str]
    duration_ms: float
    # What the test checked, in words; "" for a saved payload that is not a test (not run).
    checked: str = ""

    @property
    def skipped(self) -> bool:
        return not self.checked

    @property
    def passed(self) -> bool:
        return not self.skipped and not self.problems


def run_tests(root: Path) -> list[TestOutcome]:
    """Run every test of every function under root, `fetch` mocked; no database is needed."""
    outcomes = []
    for item in read_folder(root):
        sensitive = [s.get("name") for s in item.meta.get("settings") or [] if s.get("sensitive")]
        for test in item.tests:
            if test.expect is None:
                outcomes.append(TestOutcome(item.slug, test.name, [], 0.0))
                continue
            started = time.perf_counter()
            secrets = [str(test.settings[n]) for n in sensitive if test.settings.get(n)]
            observed = behaviour.observe(
                code=item.code,
                type_slug=item.type_slug,
                data=test.input,
                settings=test.settings,
                secrets=secrets,
                workspace=None,
                function_key=item.slug,
            )
            problems = expectations.check(test.expect, observed)
            elapsed = (time.perf_counter() - started) * 1000
            outcomes.append(
                TestOutcome(
                    item.slug,
                    test.name,
                    problems,
                    elapsed,
                    expectations.checked(test.expect, passed=not problems),
                )
            )
    return outcomes
