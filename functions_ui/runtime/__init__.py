"""Run user JavaScript with Segment Functions semantics in a pool of sandboxed Node.js workers.

Public API::

    from functions_ui.runtime import run_function, run_many, run_jobs, Job, check_code, RunOptions
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = [
    "CodeProblem",
    "Job",
    "MockResponse",
    "RunOptions",
    "RunResult",
    "RuntimeUnavailable",
    "check_code",
    "run_function",
    "run_jobs",
    "run_many",
]

if TYPE_CHECKING:
    from functions_ui.runtime.api import Job, check_code, run_function, run_jobs, run_many
    from functions_ui.runtime.types import (
        CodeProblem,
        MockResponse,
        RunOptions,
        RunResult,
        RuntimeUnavailable,
    )


def __getattr__(name: str) -> Any:
    # Imported lazily so that loading the Django app does not import the pool.
    if name in ("run_function", "run_many", "run_jobs", "Job", "check_code"):
        from functions_ui.runtime import api

        return getattr(api, name)
    if name in __all__:
        from functions_ui.runtime import types

        return getattr(types, name)
    raise AttributeError(name)
