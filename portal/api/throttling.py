"""Throttles of the API that keep working while the cache (Redis) is down.

DRF's throttles keep their request history in the default cache; with Redis unreachable every
throttled request would answer 500. These classes let the request through instead (fail open)
and log a warning: during an outage a missing rate limit is the lesser harm than a dead login,
and the login lockout (django-axes, in the database) still applies. Every throttled view uses one
of them (`FailOpenThrottleMixin` for a new kind).
"""

from __future__ import annotations

import logging

from redis.exceptions import RedisError
from rest_framework.throttling import AnonRateThrottle, ScopedRateThrottle, UserRateThrottle

logger = logging.getLogger(__name__)

CACHE_ERRORS = (RedisError, OSError)


class FailOpenThrottleMixin:
    """Allow the request when the throttle's cache cannot be reached."""

    def allow_request(self, request, view) -> bool:
        try:
            return super().allow_request(request, view)
        except CACHE_ERRORS as error:
            logger.warning("Throttle %s skipped: cache unavailable (%r)", type(self).__name__, error)
            return True


class PortalAnonRateThrottle(FailOpenThrottleMixin, AnonRateThrottle):
    pass


class PortalUserRateThrottle(FailOpenThrottleMixin, UserRateThrottle):
    pass


class PortalScopedRateThrottle(FailOpenThrottleMixin, ScopedRateThrottle):
    pass
