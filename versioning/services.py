"""Writes about versions: save, restore and the LATEST and DEPLOYED labels.

Every write locks the function row first (select_for_update), so concurrent saves and restores
of one function queue up: each sees the LATEST the previous one left, numbers stay gapless and
a stale save is caught instead of silently overwriting a newer version.
"""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from catalog.content import function_settings_sync, settings_schema_of, validate_code_size
from catalog.models import Function
from functions_ui.audit.models import AuditAction
from functions_ui.audit.services import audit_record
from versioning.models import Label, Version, VersionLabel


class StaleVersionError(Exception):
    """The save started from a version that is no longer LATEST; `latest` is the new one."""

    def __init__(self, latest: Version) -> None:
        super().__init__(f"The function was saved since: LATEST is now v{latest.number}.")
        self.latest = latest


def _lock(function: Function) -> Function:
    return Function.objects.select_for_update().get(pk=function.pk)


def _latest(function: Function) -> Version | None:
    return Version.objects.filter(function=function, labels__label=Label.LATEST).first()


def _label_move(*, function: Function, label: str, version: Version) -> None:
    VersionLabel.objects.update_or_create(
        function=function,
        label=label,
        defaults={"version": version, "moved_at": timezone.now()},
    )


def _version_append(
    *,
    function: Function,
    user: User | None,
    code: str,
    settings_schema: list[dict],
    note: str = "",
    restored_from: Version | None = None,
) -> Version:
    """Insert the next version of a locked function and point LATEST at it.

    Every version's code passes here, so here is where its size is checked.
    """
    validate_code_size(code)
    last = Version.objects.filter(function=function).aggregate(last=Max("number"))["last"]
    version = Version(
        function=function,
        number=(last or 0) + 1,
        code=code,
        settings_schema=settings_schema,
        author=user if user is not None and user.is_authenticated else None,
        author_name=user.get_username() if user is not None and user.is_authenticated else "",
        note=note.strip()[:200],
        restored_from=restored_from,
    )
    version.full_clean(exclude=["function", "author", "restored_from"])
    version.save(force_insert=True)
    _label_move(function=function, label=Label.LATEST, version=version)
    return version


def _function_code_set(
    *, function: Function, locked: Function, code: str, user: User | None
) -> None:
    locked.code = code
    locked.updated_by = user if user is not None and user.is_authenticated else None
    locked.save(update_fields=["code", "updated_by", "updated_at"])
    # The caller's instance reflects the save too.
    function.code, function.updated_by, function.updated_at = (
        locked.code,
        locked.updated_by,
        locked.updated_at,
    )


@transaction.atomic
def version_create_initial(
    *,
    function: Function,
    user: User | None,
    code: str,
    settings_schema: list[dict],
) -> Version:
    """Give a new function its content as version 1, labelled LATEST.

    `settings_schema` is checked already (catalog.content.validate_settings_schema).
    """
    locked = _lock(function)
    if settings_schema:
        function_settings_sync(function=locked, schema=settings_schema)
    version = _version_append(
        function=locked,
        user=user,
        code=code,
        settings_schema=settings_schema_of(function=locked),
        note="Created",
    )
    _function_code_set(function=function, locked=locked, code=code, user=user)
    return version


@transaction.atomic
def version_save(
    *,
    function: Function,
    user: User | None,
    code: str,
    base_version_id: str | None,
    note: str = "",
) -> Version | None:
    """Save code as a new LATEST version; None if nothing changed since LATEST.

    `base_version_id` is the version the editor started from; when LATEST has moved on since,
    StaleVersionError carries the new LATEST and nothing is written. None skips the check.
    """
    locked = _lock(function)
    latest = _latest(locked)
    if base_version_id is not None and latest is not None and base_version_id != latest.id:
        raise StaleVersionError(latest)
    schema = settings_schema_of(function=locked)
    if latest is not None and latest.code == code and latest.settings_schema == schema:
        return None
    version = _version_append(
        function=locked, user=user, code=code, settings_schema=schema, note=note
    )
    _function_code_set(function=function, locked=locked, code=code, user=user)
    audit_record(
        workspace=locked.workspace,
        user=user,
        action=AuditAction.FUNCTION_SAVE,
        target=locked,
        details={"version": version.label, **({"note": version.note} if version.note else {})},
        versions=(latest.id if latest else None, version.id),
    )
    return version


@transaction.atomic
def version_restore(*, version: Version, user: User | None, note: str | None = None) -> Version:
    """Copy `version` into a new LATEST version and make the function match it; deploy nothing."""
    function = version.function
    locked = _lock(function)
    previous = _latest(locked)
    function_settings_sync(function=locked, schema=version.settings_schema)
    restored = _version_append(
        function=locked,
        user=user,
        code=version.code,
        settings_schema=settings_schema_of(function=locked),
        note=note if note is not None else f"Restored v{version.number}",
        restored_from=version,
    )
    _function_code_set(function=function, locked=locked, code=version.code, user=user)
    audit_record(
        workspace=locked.workspace,
        user=user,
        action=AuditAction.VERSION_RESTORE,
        target=locked,
        details={"restored": version.label, "as": restored.label, "note": restored.note},
        versions=(previous.id if previous else None, restored.id),
    )
    return restored


@transaction.atomic
def version_mark_deployed(
    *,
    version: Version,
    user: User | None = None,
    details: dict | None = None,
) -> None:
    """Point DEPLOYED at `version` (called by deploys, in their own transaction or not).

    `user` is who asked for the deploy (else the audit context's) and `details` what the
    audit trail should add, such as the instances reached.
    """
    locked = _lock(version.function)
    previous = Version.objects.filter(function=locked, labels__label=Label.DEPLOYED).first()
    _label_move(function=locked, label=Label.DEPLOYED, version=version)
    audit_record(
        workspace=locked.workspace,
        user=user,
        action=AuditAction.FUNCTION_DEPLOY,
        target=locked,
        details={"version": version.label, **(details or {})},
        versions=(previous.id if previous else None, version.id),
    )
