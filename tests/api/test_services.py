"""Token services and the API's all-or-nothing function update."""

from __future__ import annotations

import hashlib

import pytest
from django.core.exceptions import ValidationError

from catalog.models import Function
from functions_ui.api.models import ApiToken
from functions_ui.api.selectors import api_token_authenticate
from functions_ui.api.services import (
    TOKEN_PREFIX,
    api_token_create,
    api_token_revoke,
    function_patch,
)
from functions_ui.audit.models import AuditEvent
from tests.factories import make_function, make_member, make_user
from versioning.models import Version

pytestmark = pytest.mark.django_db


def test_a_token_is_stored_only_as_its_sha256(workspace):
    user = make_member(workspace=workspace)
    token, raw = api_token_create(workspace=workspace, user=user, description=" CI ")
    assert raw.startswith(TOKEN_PREFIX) and len(raw) >= 40
    stored = ApiToken.objects.get(pk=token.pk)
    assert stored.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in {stored.token_hash, stored.hint, stored.description}
    assert stored.hint == raw[:10] and stored.description == "CI"
    assert api_token_authenticate(raw=raw) == token
    assert AuditEvent.objects.filter(action="token.create", workspace=workspace).exists()


def test_tokens_are_unique(workspace):
    user = make_member(workspace=workspace)
    raws = {api_token_create(workspace=workspace, user=user)[1] for _ in range(20)}
    assert len(raws) == 20


def test_only_members_get_tokens(workspace):
    with pytest.raises(ValidationError):
        api_token_create(workspace=workspace, user=make_user())


def test_revoking_is_final_and_audited_once(workspace):
    user = make_member(workspace=workspace)
    token, raw = api_token_create(workspace=workspace, user=user)
    api_token_revoke(token=token, user=user)
    revoked_at = token.revoked_at
    api_token_revoke(token=token, user=user)
    assert token.revoked_at == revoked_at
    assert api_token_authenticate(raw=raw) is None
    assert AuditEvent.objects.filter(action="token.revoke").count() == 1


def test_function_patch_applies_everything_in_one_version(workspace):
    function = make_function(workspace=workspace, code="old")
    function_patch(
        function=function,
        user=None,
        display_name="Renamed",
        code="new",
        settings=[{"name": "apiKey", "label": "API key", "type": "STRING"}],
    )
    function.refresh_from_db()
    assert (function.display_name, function.code) == ("Renamed", "new")
    latest = Version.objects.filter(function=function).order_by("-number").first()
    assert latest.number == 2 and latest.code == "new"
    assert [s["name"] for s in latest.settings_schema] == ["apiKey"]


def test_function_patch_is_all_or_nothing(workspace):
    function = make_function(workspace=workspace, display_name="Kept", code="old")
    with pytest.raises(ValidationError):
        function_patch(
            function=function, user=None, display_name="Lost", code="x" * (256 * 1024 + 1)
        )
    with pytest.raises(ValidationError):
        function_patch(
            function=function,
            user=None,
            display_name="Lost",
            settings=[{"name": "Not camel", "label": "x", "type": "STRING"}],
        )
    assert Function.objects.get(pk=function.pk).display_name == "Kept"
    assert Version.objects.filter(function=function).count() == 1
