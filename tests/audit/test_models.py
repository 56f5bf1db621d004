import pytest

from functions_ui.audit.models import AuditAction, AuditEvent, ImmutableAuditEventError
from functions_ui.audit.services import audit_record
from tests.factories import make_workspace

pytestmark = pytest.mark.django_db


@pytest.fixture
def event():
    return audit_record(workspace=make_workspace(), action=AuditAction.MEMBER_ADD)


def test_a_recorded_event_cannot_be_saved_again(event):
    event.action = AuditAction.MEMBER_REMOVE
    with pytest.raises(ImmutableAuditEventError):
        event.save()
    assert AuditEvent.objects.get(pk=event.pk).action == AuditAction.MEMBER_ADD


def test_a_recorded_event_cannot_be_deleted(event):
    with pytest.raises(ImmutableAuditEventError):
        event.delete()
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_bulk_update_and_delete_are_refused(event):
    with pytest.raises(ImmutableAuditEventError):
        AuditEvent.objects.filter(pk=event.pk).update(actor_name="someone else")
    with pytest.raises(ImmutableAuditEventError):
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.get(pk=event.pk).actor_name == ""


def test_detail_items_read_lists_and_maps():
    event = AuditEvent(details={"fields": ["label", "type"], "renamed_from": "apiKey", "x": {}})
    assert event.detail_items == [
        ("fields", "label, type"),
        ("renamed from", "apiKey"),
        ("x", "—"),
    ]
