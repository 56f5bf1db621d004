"""The Celery app's database connections: kept from task to task, as a web process keeps them."""

from __future__ import annotations

import pytest
from celery import signals
from celery.fixups.django import DjangoWorkerFixup
from django.db import connections

from functions_ui.celery import app

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


def run_task_signals(fixup: DjangoWorkerFixup) -> None:
    """What a worker does around each task: Celery's Django fixup and the task_prerun signal."""
    task = app.tasks["functions_ui.ping"]
    fixup.on_task_prerun(sender=task)
    signals.task_prerun.send(sender=task, task_id="t", task=task, args=(), kwargs={})
    fixup.on_task_postrun(sender=task)


@pytest.fixture
def closes(monkeypatch) -> list[str]:
    """The aliases of database connections closed from now on."""
    closed: list[str] = []
    wrapper = type(connections["default"])
    close = wrapper.close

    def spying(self) -> None:
        closed.append(self.alias)
        close(self)

    monkeypatch.setattr(wrapper, "close", spying)
    return closed


def test_a_worker_keeps_its_database_connection_from_task_to_task(closes):
    fixup = DjangoWorkerFixup(app)
    connections["default"].ensure_connection()
    for _ in range(5):
        run_task_signals(fixup)
    assert closes == []


def test_a_connection_that_failed_is_closed_before_the_next_task(closes, monkeypatch):
    fixup = DjangoWorkerFixup(app)
    connection = connections["default"]
    connection.ensure_connection()
    connection.errors_occurred = True
    monkeypatch.setattr(type(connection), "is_usable", lambda self: False)
    run_task_signals(fixup)
    assert closes == ["default"]  # the task's first query opens a new one
