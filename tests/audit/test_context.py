import pytest

from functions_ui.audit.context import VIA_API, VIA_SYSTEM, VIA_UI, audit_context, audit_via


def test_outside_any_request_the_channel_is_system():
    assert audit_context().via == VIA_SYSTEM
    assert audit_context().user is None


def test_audit_via_sets_and_restores_the_channel():
    with audit_via(VIA_UI, user="alice"):
        assert audit_context().via == VIA_UI
        with audit_via(VIA_API, token_label="ci-deploys (tok_a1b2)"):
            assert audit_context().via == VIA_API
            assert audit_context().token_label == "ci-deploys (tok_a1b2)"
        assert audit_context().user == "alice"
    assert audit_context().via == VIA_SYSTEM


def test_audit_via_restores_the_channel_after_an_error():
    with pytest.raises(RuntimeError), audit_via(VIA_API, token_label="t"):
        raise RuntimeError
    assert audit_context().via == VIA_SYSTEM


def test_an_unknown_channel_is_refused():
    with pytest.raises(ValueError), audit_via("email"):
        pass
