"""Bearer-token authentication: who a request acts as, in which workspace, with what access."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import User
from django.http import HttpRequest

from functions_ui.api.errors import ApiError
from functions_ui.api.models import ApiToken
from functions_ui.api.selectors import api_token_authenticate
from functions_ui.api.services import TOKEN_PREFIX, api_token_mark_used
from functions_ui.permissions.policy import MemberAccess, member_access
from functions_ui.workspaces.models import Workspace

_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="functions_ui"'}
_TOKEN_MAX_LENGTH = 200


@dataclass(frozen=True)
class ApiContext:
    """The token a request came with, and the access of the user it acts as."""

    token: ApiToken
    access: MemberAccess

    @property
    def workspace(self) -> Workspace:
        return self.token.workspace

    @property
    def user(self) -> User:
        return self.token.user


def _unauthorized(message: str) -> ApiError:
    return ApiError(401, message, headers=_CHALLENGE)


def bearer_token(request: HttpRequest) -> str:
    """The token of `Authorization: Bearer <token>`, or a 401."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.strip().partition(" ")
    if not header:
        raise _unauthorized("Missing Authorization header: send `Authorization: Bearer <token>`.")
    if scheme.lower() != "bearer" or not value.strip():
        raise _unauthorized("The Authorization header must be `Bearer <token>`.")
    return value.strip()


def authenticate(request: HttpRequest) -> ApiContext:
    """Resolve the request's token to its workspace and the user's access there, or a 401.

    Revoked and unknown tokens, and tokens of users who left the workspace or were
    deactivated, are all refused the same way.
    """
    raw = bearer_token(request)
    token = None
    if raw.startswith(TOKEN_PREFIX) and len(raw) <= _TOKEN_MAX_LENGTH:
        token = api_token_authenticate(raw=raw)
    if token is None or not token.user.is_active:
        raise _unauthorized("The token is invalid or has been revoked.")
    access = member_access(token.user, token.workspace)
    if not access.is_member:
        raise _unauthorized("The token is invalid or has been revoked.")
    api_token_mark_used(token=token)
    return ApiContext(token=token, access=access)
