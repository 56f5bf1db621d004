"""Reads of test suites."""

from __future__ import annotations

from functions_ui.suites.models import SuiteRun


def suite_runs_of(*, version_ids: list[str]) -> dict[str, SuiteRun]:
    """The suite runs of these versions, by version id (one query)."""
    return {run.version_id: run for run in SuiteRun.objects.filter(version_id__in=version_ids)}
