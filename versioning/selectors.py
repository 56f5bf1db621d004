"""Reads about versions: history pages, labels, single versions and cached diffs."""

from __future__ import annotations

import contextlib
import hashlib
from dataclasses import astuple, dataclass

from django.contrib.sessions.backends.base import SessionBase
from django.core.cache import cache
from django.core.paginator import Page, Paginator
from django.http import Http404
from redis.exceptions import RedisError

from catalog.models import Function
from versioning.diffing import DiffOptions, FileDiff, compute_diff
from versioning.ids import is_version_id
from versioning.models import Label, Version, VersionLabel

HISTORY_PAGE_SIZE = 20
# Fields a history entry shows; code and schema can be large and are left in the database.
_LIST_FIELDS = ("id", "function_id", "number", "author_name", "created_at", "note", "restored_from")
DIFF_CACHE_SECONDS = 24 * 3600
SCHEMA_FIELDS = ("label", "description", "type", "required", "sensitive")


def version_labels(*, function: Function) -> dict[str, str]:
    """Map each label the function has ("LATEST", "DEPLOYED") to its version id (one query)."""
    return dict(VersionLabel.objects.filter(function=function).values_list("label", "version_id"))


def _labelled(*, function: Function, label: str) -> Version | None:
    return (
        Version.objects.filter(function=function, labels__label=label)
        .select_related("restored_from")
        .first()
    )


def latest_version(*, function: Function) -> Version | None:
    """The newest saved or restored version, or None for a function without any."""
    return _labelled(function=function, label=Label.LATEST)


def deployed_version(*, function: Function) -> Version | None:
    """The version deployed instances run, or None before the first deploy."""
    return _labelled(function=function, label=Label.DEPLOYED)


def version_list_for_function(*, function: Function, page: int | str | None = 1) -> Page:
    """A page of the function's versions, newest first, without their code."""
    versions = (
        Version.objects.filter(function=function)
        .only(*_LIST_FIELDS)
        .select_related("restored_from")
        .only(*_LIST_FIELDS, "restored_from__number")
        .order_by("-number")
    )
    return Paginator(versions, HISTORY_PAGE_SIZE).get_page(page)


def version_choices(*, function: Function, include: tuple[Version, ...] = ()) -> list[Version]:
    """The newest versions, plus `include`, for the compare screen's version pickers."""
    recent = list(
        Version.objects.filter(function=function).only(*_LIST_FIELDS).order_by("-number")[:100]
    )
    numbers = {version.number for version in recent}
    extra = [version for version in include if version.number not in numbers]
    return sorted([*recent, *extra], key=lambda version: -version.number)


def version_get_for_function(*, function: Function, version_id: str) -> Version:
    """The version of this function with this id, or 404 (also for another function's)."""
    version = None
    if is_version_id(version_id):
        version = (
            Version.objects.filter(function=function, id=version_id)
            .select_related("restored_from")
            .first()
        )
    if version is None:
        raise Http404("No such version.")
    return version


def previous_version(*, version: Version) -> Version | None:
    """The version saved just before this one."""
    return (
        Version.objects.filter(function_id=version.function_id, number__lt=version.number)
        .order_by("-number")
        .first()
    )


def _options_key(options: DiffOptions) -> str:
    return hashlib.sha256(repr(astuple(options)).encode()).hexdigest()[:16]


def version_diff(*, base: Version, target: Version, options: DiffOptions) -> FileDiff:
    """The diff from `base` to `target`, cached: versions never change, so neither does it."""
    key = f"versioning:diff:v1:{base.id}:{target.id}:{_options_key(options)}"
    # The cache (Redis) only saves time: when it cannot be reached, the diff is computed.
    diff = None
    with contextlib.suppress(RedisError, OSError):
        diff = cache.get(key)
    if diff is None:
        diff = compute_diff(base.code, target.code, options)
        with contextlib.suppress(RedisError, OSError):
            cache.set(key, diff, DIFF_CACHE_SECONDS)
    return diff


@dataclass(frozen=True)
class SettingChange:
    """How one declared setting differs between two schemas; never carries a value."""

    name: str
    kind: str  # "added", "removed", "changed"
    sensitive: bool
    # (field, old, new) for each changed field of a "changed" setting.
    fields: tuple[tuple[str, object, object], ...] = ()


def settings_schema_diff(*, old: list[dict], new: list[dict]) -> list[SettingChange]:
    """Compare two settings schemas by setting name, in the order of the new schema."""
    old_by_name = {item["name"]: item for item in old}
    new_by_name = {item["name"]: item for item in new}
    changes: list[SettingChange] = []
    for name, item in new_by_name.items():
        before = old_by_name.get(name)
        if before is None:
            fields = tuple((field, None, item.get(field)) for field in SCHEMA_FIELDS)
            changes.append(SettingChange(name, "added", bool(item.get("sensitive")), fields))
            continue
        fields = tuple(
            (field, before.get(field), item.get(field))
            for field in SCHEMA_FIELDS
            if before.get(field) != item.get(field)
        )
        if fields:
            sensitive = bool(item.get("sensitive") or before.get("sensitive"))
            changes.append(SettingChange(name, "changed", sensitive, fields))
    changes.extend(
        SettingChange(
            name,
            "removed",
            bool(item.get("sensitive")),
            tuple((field, item.get(field), None) for field in SCHEMA_FIELDS),
        )
        for name, item in old_by_name.items()
        if name not in new_by_name
    )
    return changes


@dataclass(frozen=True)
class UndoOffer:
    """A restore that can still be undone: `previous` was LATEST before it."""

    previous_id: str
    previous_number: int
    restored_number: int


def undo_session_key(function: Function) -> str:
    return f"versioning.undo.{function.pk}"


def undo_offer(
    *, session: SessionBase, function: Function, latest_id: str | None = None
) -> UndoOffer | None:
    """The undo the session holds for the function, while its restore is still LATEST."""
    offer = session.get(undo_session_key(function))
    if not offer:
        return None
    if latest_id is None:
        latest_id = version_labels(function=function).get(Label.LATEST)
    if offer.get("restored_id") != latest_id:
        return None
    return UndoOffer(offer["previous_id"], offer["previous_number"], offer["restored_number"])


def version_labels_of(*, function_ids: list[int]) -> dict[int, dict[str, int]]:
    """Each function's LATEST and DEPLOYED version numbers, for a list of functions (one query)."""
    labels: dict[int, dict[str, int]] = {}
    rows = VersionLabel.objects.filter(function_id__in=function_ids).values_list(
        "function_id", "label", "version__number"
    )
    for function_id, label, number in rows:
        labels.setdefault(function_id, {})[label.lower()] = number
    return labels
