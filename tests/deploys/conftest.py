from pathlib import Path

import pytest

from tests.deploys.workers import start_worker  # noqa: F401

HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Every pipeline, deploy and fault test runs on PostgreSQL too (`make test`): claims,
    # leases and locks behave differently there than on SQLite's one writer at a time. A hook
    # rather than `pytestmark`, so a new test module here is included without remembering to.
    # (A conftest's hook sees the whole session's items, hence the path check.)
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.postgres)
