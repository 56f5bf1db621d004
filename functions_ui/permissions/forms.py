"""Forms of the members page: a member's roles and, per role, its scope."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib.auth.validators import UnicodeUsernameValidator

from functions_ui.permissions.models import Role
from functions_ui.permissions.selectors import MemberRow
from functions_ui.permissions.services import GrantSpec

ROLE_HELP = {
    Role.WORKSPACE_OWNER: "Everything, including members, the audit trail and API tokens.",
    Role.FUNCTIONS_ADMIN: "Create, edit and delete functions.",
    Role.FUNCTIONS_READ_ONLY: "View functions, the editor read-only, version history and compare.",
    Role.SOURCE_ADMIN: "Connect instances and Save & Deploy (the code change itself also needs "
    "Functions Admin).",
}
# Roles whose grant can cover a chosen list of functions instead of all of them.
SCOPED_ROLES = (Role.FUNCTIONS_ADMIN, Role.FUNCTIONS_READ_ONLY)
SCOPE_ALL, SCOPE_LIST = "all", "list"


@dataclass(frozen=True)
class RoleSection:
    role: str
    label: str
    help: str
    granted: forms.BoundField
    scope: forms.BoundField | None
    functions: forms.BoundField | None


class MemberAccessForm(forms.Form):
    """One checkbox per role; scoped roles add "all functions" or a list of functions."""

    def __init__(
        self,
        *args,
        function_choices: list[tuple[int, str]],
        member: MemberRow | None = None,
        **kwargs,
    ) -> None:
        if member is not None and "initial" not in kwargs:
            kwargs["initial"] = self.initial_for(member)
        super().__init__(*args, **kwargs)
        for role in Role:
            self.fields[f"role_{role.value}"] = forms.BooleanField(required=False, label=role.label)
            if role in SCOPED_ROLES:
                self.fields[f"scope_{role.value}"] = forms.ChoiceField(
                    required=False,
                    choices=[
                        (SCOPE_ALL, "All current and future functions"),
                        (SCOPE_LIST, "Only these functions"),
                    ],
                    initial=SCOPE_ALL,
                    widget=forms.RadioSelect,
                )
                self.fields[f"functions_{role.value}"] = forms.TypedMultipleChoiceField(
                    required=False,
                    choices=function_choices,
                    coerce=int,
                    widget=forms.CheckboxSelectMultiple,
                )
        if member is not None and member.is_last_owner:
            # The last owner's role cannot be taken away here; the service refuses it too.
            self.fields[f"role_{Role.WORKSPACE_OWNER.value}"].disabled = True

    @staticmethod
    def initial_for(member: MemberRow) -> dict:
        initial: dict = {}
        for grant in member.grants:
            initial[f"role_{grant.role}"] = True
            if grant.role in SCOPED_ROLES:
                initial[f"scope_{grant.role}"] = SCOPE_ALL if grant.all_functions else SCOPE_LIST
                initial[f"functions_{grant.role}"] = [f.pk for f in grant.functions]
        return initial

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for role in SCOPED_ROLES:
            if (
                cleaned.get(f"role_{role.value}")
                and cleaned.get(f"scope_{role.value}") == SCOPE_LIST
                and not cleaned.get(f"functions_{role.value}")
            ):
                self.add_error(
                    f"functions_{role.value}",
                    "Choose at least one function, or all current and future functions.",
                )
        return cleaned

    def grants(self) -> list[GrantSpec]:
        specs = []
        for role in Role:
            if not self.cleaned_data.get(f"role_{role.value}"):
                continue
            scoped = (
                role in SCOPED_ROLES and self.cleaned_data.get(f"scope_{role.value}") == SCOPE_LIST
            )
            specs.append(
                GrantSpec(
                    role=role.value,
                    all_functions=not scoped,
                    function_ids=frozenset(self.cleaned_data.get(f"functions_{role.value}") or ())
                    if scoped
                    else frozenset(),
                )
            )
        return specs

    def role_sections(self) -> list[RoleSection]:
        return [
            RoleSection(
                role=role.value,
                label=role.label,
                help=ROLE_HELP[role],
                granted=self[f"role_{role.value}"],
                scope=self[f"scope_{role.value}"] if role in SCOPED_ROLES else None,
                functions=self[f"functions_{role.value}"] if role in SCOPED_ROLES else None,
            )
            for role in Role
        ]


class MemberAddForm(MemberAccessForm):
    username = forms.CharField(
        max_length=150,
        validators=[UnicodeUsernameValidator()],
        widget=forms.TextInput(attrs={"autocomplete": "off", "placeholder": "their username"}),
    )
    create_account = forms.BooleanField(
        required=False,
        label="Create an account with a one-time password if there is none",
    )
