"""Segment's retry policy for RetryError and timeouts, as pure functions of a clock.

The first wait is random between a minimum and a maximum, each later wait doubles (with the
same randomness) and none is longer than a cap. Sources stop after a number of attempts;
destinations and inserts keep trying until a window since the first attempt has passed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings


@dataclass(frozen=True)
class RetryPolicy:
    first_min_seconds: float
    first_max_seconds: float
    max_delay_seconds: float
    max_attempts: int | None = None
    window_seconds: float | None = None

    def delay(self, *, attempts: int, rng: random.Random | None = None) -> float:
        """Seconds to wait after the `attempts`-th failed attempt (1 for the first)."""
        first = (rng or random).uniform(self.first_min_seconds, self.first_max_seconds)
        return min(first * 2 ** max(attempts - 1, 0), self.max_delay_seconds)

    def next_attempt_at(
        self,
        *,
        attempts: int,
        first_attempt_at: datetime,
        now: datetime,
        rng: random.Random | None = None,
    ) -> datetime | None:
        """When to try again after `attempts` failed attempts, or None to give up."""
        if self.max_attempts is not None and attempts >= self.max_attempts:
            return None
        when = now + timedelta(seconds=self.delay(attempts=attempts, rng=rng))
        if self.window_seconds is not None and when > first_attempt_at + timedelta(
            seconds=self.window_seconds
        ):
            return None
        return when


def source_policy() -> RetryPolicy:
    """Sources: 6 attempts in all."""
    return RetryPolicy(
        first_min_seconds=settings.DELIVERY_RETRY_FIRST_MIN_SECONDS,
        first_max_seconds=settings.DELIVERY_RETRY_FIRST_MAX_SECONDS,
        max_delay_seconds=settings.DELIVERY_RETRY_MAX_DELAY_SECONDS,
        max_attempts=settings.DELIVERY_SOURCE_MAX_ATTEMPTS,
    )


def destination_policy() -> RetryPolicy:
    """Destinations and inserts: as long as the retry window (4 hours by default) allows."""
    return RetryPolicy(
        first_min_seconds=settings.DELIVERY_RETRY_FIRST_MIN_SECONDS,
        first_max_seconds=settings.DELIVERY_RETRY_FIRST_MAX_SECONDS,
        max_delay_seconds=settings.DELIVERY_RETRY_MAX_DELAY_SECONDS,
        window_seconds=settings.DELIVERY_RETRY_WINDOW_SECONDS,
    )
