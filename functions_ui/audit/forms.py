"""The audit trail's filters."""

from __future__ import annotations

from typing import Any

from django import forms

from functions_ui.audit.models import AuditAction, Via
from functions_ui.audit.selectors import AuditFilters


class AuditFilterForm(forms.Form):
    action = forms.ChoiceField(required=False, choices=[("", "Any action"), *AuditAction.choices])
    actor = forms.ChoiceField(required=False, choices=[("", "Anyone")])
    via = forms.ChoiceField(required=False, choices=[("", "Any channel"), *Via.choices])
    date_from = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        required=False, label="To", widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, actor_names: list[str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        actor = self.fields["actor"]
        assert isinstance(actor, forms.ChoiceField)
        actor.choices = [("", "Anyone"), *((n, n) for n in actor_names)]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "The end date is before the start date.")
        return cleaned

    def filters(self) -> AuditFilters:
        """The filters of the valid fields; an invalid one is left out."""
        self.is_valid()
        data = self.cleaned_data
        return AuditFilters(
            action=data.get("action", ""),
            actor=data.get("actor", ""),
            via=data.get("via", ""),
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
        )
