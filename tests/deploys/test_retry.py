import random
from datetime import UTC, datetime, timedelta

from functions_ui.deploys.retry import RetryPolicy, destination_policy, source_policy

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def policy(**kwargs):
    return RetryPolicy(
        first_min_seconds=60, first_max_seconds=180, max_delay_seconds=1200, **kwargs
    )


def test_first_wait_is_random_between_one_and_three_minutes():
    rng = random.Random(1)
    delays = [policy().delay(attempts=1, rng=rng) for _ in range(200)]
    assert min(delays) >= 60
    assert max(delays) <= 180
    assert len({round(d) for d in delays}) > 50


def test_waits_grow_exponentially_and_stop_at_twenty_minutes():
    class Fixed(random.Random):
        def uniform(self, a, b):
            return 100.0

    rng = Fixed()
    assert [policy().delay(attempts=n, rng=rng) for n in range(1, 6)] == [
        100,
        200,
        400,
        800,
        1200,
    ]


def test_sources_give_up_after_six_attempts(settings):
    settings.DELIVERY_SOURCE_MAX_ATTEMPTS = 6
    rng = random.Random(3)
    now = T0
    attempts = 1
    while (
        when := source_policy().next_attempt_at(
            attempts=attempts, first_attempt_at=T0, now=now, rng=rng
        )
    ) is not None:
        assert when > now
        now = when
        attempts += 1
    assert attempts == 6


def test_destinations_retry_within_the_window_only(settings):
    settings.DELIVERY_RETRY_WINDOW_SECONDS = 4 * 3600
    rng = random.Random(5)
    now, attempts = T0, 1
    while (
        when := destination_policy().next_attempt_at(
            attempts=attempts, first_attempt_at=T0, now=now, rng=rng
        )
    ) is not None:
        assert when <= T0 + timedelta(hours=4)
        now, attempts = when, attempts + 1
    assert attempts > 10  # 20-minute waits fill most of the four hours
    assert now > T0 + timedelta(hours=3)
