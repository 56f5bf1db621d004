"""Per-token request limits: a fixed window counted in Redis.

Each token may make API_RATE_LIMIT_REQUESTS requests per API_RATE_LIMIT_WINDOW_SECONDS; one
INCR and EXPIRE in a single round trip counts a request, so every web process and machine
shares the count. Responses carry Segment's headers: `X-RateLimit-Limit`,
`X-RateLimit-Consumed`, `X-RateLimit-Remaining` and `X-RateLimit-Reset` (when the window
ends, as an RFC 5322 date); a refused request gets 429 and `Retry-After` in whole seconds.

When Redis cannot be reached the limiter fails open: the request is served, uncounted, and
only `X-RateLimit-Limit` is sent, because the API must not go down with a cache and must not
invent a count it does not have. After a failure Redis is left alone for a few seconds, so
an outage costs one connection timeout per process, not one per request; a warning is logged.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime

import redis
from django.conf import settings

logger = logging.getLogger(__name__)

REDIS_TIMEOUT_SECONDS = 0.25
BACKOFF_SECONDS = 5.0

_clients: dict[str, redis.Redis] = {}
_down_until: dict[str, float] = {}
_lock = threading.Lock()


@dataclass(frozen=True)
class RateLimit:
    """The outcome of counting one request."""

    limit: int
    consumed: int | None = None
    reset_at: float | None = None
    now: float = 0.0

    @property
    def counted(self) -> bool:
        return self.consumed is not None

    @property
    def exceeded(self) -> bool:
        return self.consumed is not None and self.consumed > self.limit

    @property
    def remaining(self) -> int:
        return max(0, self.limit - (self.consumed or 0))

    @property
    def retry_after(self) -> int:
        """Whole seconds until the window ends (at least 1)."""
        return max(1, math.ceil((self.reset_at or self.now) - self.now))

    def headers(self) -> dict[str, str]:
        headers = {"X-RateLimit-Limit": str(self.limit)}
        if self.counted:
            reset = datetime.fromtimestamp(self.reset_at or self.now, tz=UTC)
            headers |= {
                "X-RateLimit-Consumed": str(self.consumed),
                "X-RateLimit-Remaining": str(self.remaining),
                "X-RateLimit-Reset": format_datetime(reset, usegmt=True),
            }
        if self.exceeded:
            headers["Retry-After"] = str(self.retry_after)
        return headers

    def error_data(self) -> dict[str, int]:
        """The `data` of Segment's 429 error object."""
        return {
            "remainingPoints": 0,
            "msBeforeNext": max(0, int(((self.reset_at or self.now) - self.now) * 1000)),
            "consumedPoints": self.consumed or 0,
        }


def _client(url: str) -> redis.Redis:
    with _lock:
        client = _clients.get(url)
        if client is None:
            client = redis.Redis.from_url(
                url,
                socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
                socket_timeout=REDIS_TIMEOUT_SECONDS,
            )
            _clients[url] = client
        return client


def rate_limit_hit(*, token_id: int, now: float | None = None) -> RateLimit:
    """Count one request of the token in the current window."""
    limit = settings.API_RATE_LIMIT_REQUESTS
    now = time.time() if now is None else now
    if not settings.API_RATE_LIMIT_ENABLED:
        return RateLimit(limit=limit, now=now)
    url = settings.REDIS_URL
    if _down_until.get(url, 0.0) > time.monotonic():
        return RateLimit(limit=limit, now=now)
    window = max(1, settings.API_RATE_LIMIT_WINDOW_SECONDS)
    window_start = int(now // window) * window
    key = f"api:ratelimit:{token_id}:{window}:{window_start}"
    try:
        pipe = _client(url).pipeline(transaction=False)
        pipe.incr(key)
        pipe.expire(key, window + 1)
        consumed, _ = pipe.execute()
    except redis.RedisError as error:
        _down_until[url] = time.monotonic() + BACKOFF_SECONDS
        logger.warning("API rate limiting is off for %ss: Redis failed: %s", BACKOFF_SECONDS, error)
        return RateLimit(limit=limit, now=now)
    return RateLimit(limit=limit, consumed=int(consumed), reset_at=window_start + window, now=now)
