"""Forms of workspace settings."""

from __future__ import annotations

from typing import Any

from django import forms


class HealthSettingsForm(forms.Form):
    """The thresholds of the health check of deployed instances."""

    health_window_minutes = forms.IntegerField(
        label="Window (minutes)",
        min_value=1,
        max_value=60,
        help_text="How far back the error rate is counted.",
    )
    health_min_runs = forms.IntegerField(
        label="Fewest runs judged",
        min_value=1,
        max_value=100_000,
        help_text="With fewer runs than this in the window an instance stays healthy.",
    )
    health_degraded_percent = forms.IntegerField(
        label="Degraded at (% errors)",
        min_value=0,
        max_value=100,
        help_text="0 never marks an instance degraded.",
    )
    health_pause_percent = forms.IntegerField(
        label="Paused at (% errors)",
        min_value=0,
        max_value=100,
        help_text="0 never pauses. A paused instance holds its events until someone resumes it.",
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        degraded, paused = data.get("health_degraded_percent"), data.get("health_pause_percent")
        if degraded and paused and paused < degraded:
            self.add_error(
                "health_pause_percent",
                "Pausing needs at least the error rate that marks an instance degraded.",
            )
        return data
