"""Input parsing for the catalog's pages."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from catalog.models import DISPLAY_NAME_MAX_LENGTH


def add_service_errors(form: forms.Form, error: ValidationError) -> None:
    """Show a service's ValidationError on the form: on its field when the form has one."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error.messages)
        return
    for field, messages in error.message_dict.items():
        form.add_error(field if field in form.fields else None, messages)


def normalize_newlines(text: str) -> str:
    """Browsers send textarea text with CRLF line breaks whatever the user typed."""
    return text.replace("\r\n", "\n")


class FunctionConfigureForm(forms.Form):
    """Step 3 of the create flow: name, description and logo, with the code carried along."""

    display_name = forms.CharField(
        label="Name",
        max_length=DISPLAY_NAME_MAX_LENGTH,
        error_messages={
            "required": "Give the function a name.",
            "max_length": f"The name can be at most {DISPLAY_NAME_MAX_LENGTH} characters long.",
        },
    )
    description = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 3}), max_length=2000
    )
    logo_url = forms.URLField(
        label="Logo URL",
        required=False,
        max_length=500,
        assume_scheme="https",
        error_messages={
            "invalid": "Enter a full web address, such as https://example.com/logo.png."
        },
    )
    code = forms.CharField(required=False, widget=forms.HiddenInput, strip=False)

    def clean_code(self) -> str:
        return normalize_newlines(self.cleaned_data["code"])

    def clean_display_name(self) -> str:
        return self.cleaned_data["display_name"].strip()

    def clean_logo_url(self) -> str:
        url = self.cleaned_data["logo_url"]
        if url and not url.lower().startswith(("http://", "https://")):
            raise forms.ValidationError("The logo must be an http or https address.")
        return url


class BuildForm(forms.Form):
    """Step 2 of the create flow: the code, kept exactly as typed."""

    code = forms.CharField(required=False, widget=forms.Textarea, strip=False)
