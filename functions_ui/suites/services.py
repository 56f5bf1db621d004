"""Writes of test suites: expectations captured from a run, and suite runs on versions."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from catalog.models import Function
from functions_ui.audit.models import AuditAction
from functions_ui.audit.services import audit_record
from functions_ui.editor.models import SavedPayload
from functions_ui.permissions.policy import MemberAccess
from functions_ui.suites import behaviour, expectations
from functions_ui.suites.models import SuiteRun, SuiteStatus
from versioning.models import Version


@dataclass
class SuiteOutcome:
    """A suite run's results before (or without) being stored: the editor's draft runs."""

    passed: int = 0
    failures: list[dict[str, Any]] = field(default_factory=list)
    duration_ms: float = 0.0
    # Every test in turn: {"name", "checked" (what it checks, in words), "problems"}.
    results: list[dict[str, Any]] = field(default_factory=list)

    @property
    def failed(self) -> int:
        return len(self.failures)

    @property
    def status(self) -> str:
        return SuiteStatus.FAILED if self.failures else SuiteStatus.PASSED


def suite_payloads(*, function: Function) -> list[SavedPayload]:
    """The function's saved payloads that are tests: its test suite. A payload with expectations
    is a test; so is one whose expectations are empty (a smoke test: the run must succeed)."""
    return list(SavedPayload.objects.filter(function=function, expect__isnull=False))


def suite_check(*, function: Function, code: str) -> SuiteOutcome:
    """Run the function's suite on some code (saved or not), `fetch` mocked."""
    started = time.perf_counter()
    runner = behaviour.Runner(function)
    outcome = SuiteOutcome()
    for saved in suite_payloads(function=function):
        observed = runner.observe(code, behaviour.Payload(saved.name, saved.data))
        problems = expectations.check(saved.expect, observed)
        outcome.results.append(
            {
                "name": saved.name,
                "checked": expectations.checked(saved.expect, passed=not problems),
                "problems": problems,
            }
        )
        if problems:
            outcome.failures.append({"name": saved.name, "problems": problems})
        else:
            outcome.passed += 1
    outcome.duration_ms = (time.perf_counter() - started) * 1000
    return outcome


def suite_run(*, version: Version) -> SuiteRun | None:
    """Run the suite on a saved version and keep the result on it (None: no tests to run)."""
    function = version.function
    if not suite_payloads(function=function):
        return None
    outcome = suite_check(function=function, code=version.code)
    run, _ = SuiteRun.objects.update_or_create(
        version=version,
        defaults={
            "status": outcome.status,
            "passed": outcome.passed,
            "failed": outcome.failed,
            "failures": outcome.failures,
            "duration_ms": outcome.duration_ms,
        },
    )
    return run


@transaction.atomic
def expectation_capture(*, payload: SavedPayload, code: str) -> SavedPayload:
    """ "Save current output as expected": run the payload through the code and keep what it did
    (keeping the payload's ignored paths)."""
    runner = behaviour.Runner(payload.function)
    observed = runner.observe(code, behaviour.Payload(payload.name, payload.data))
    expect = expectations.expectation_from(observed)
    if payload.expect and payload.expect.get("ignore"):
        expect["ignore"] = payload.expect["ignore"]
    payload.expect = expect
    payload.save(update_fields=["expect"])
    return payload


def expectation_smoke(*, payload: SavedPayload) -> SavedPayload:
    """Make the payload a smoke test: every run of it must succeed, whatever it outputs."""
    payload.expect = {}
    payload.save(update_fields=["expect"])
    return payload


def expectation_clear(*, payload: SavedPayload) -> None:
    payload.expect = None
    payload.save(update_fields=["expect"])


class DeployBlocked(ValidationError):
    """The workspace blocks deploys whose tests fail, and these fail."""

    def __init__(self, outcome: SuiteOutcome, label: str) -> None:
        names = ", ".join(f["name"] for f in outcome.failures)
        super().__init__(
            f"{label} fails {outcome.failed} of {outcome.passed + outcome.failed} tests "
            f"({names}), and this workspace blocks deploys whose tests fail."
        )
        self.outcome = outcome


def deploy_gate(
    *,
    function: Function,
    code: str,
    label: str,
    access: MemberAccess,
    user: Any,
    override: bool = False,
) -> None:
    """Before a deploy of this code: refuse it when the workspace blocks failing tests and its
    tests fail (DeployBlocked, listing them). A Workspace Owner may override; that is audited."""
    if not function.workspace.block_failing_deploys:
        return
    outcome = suite_check(function=function, code=code)
    if not outcome.failures:
        return
    if not override:
        raise DeployBlocked(outcome, label)
    if not access.can("workspace.manage"):
        raise PermissionDenied("Only Workspace Owners can deploy past failing tests.")
    audit_record(
        workspace=function.workspace,
        action=AuditAction.DEPLOY_OVERRIDE,
        user=user if getattr(user, "is_authenticated", False) else None,
        target=function,
        details={
            "version": label,
            "failed": outcome.failed,
            "tests": [f["name"] for f in outcome.failures],
        },
    )
