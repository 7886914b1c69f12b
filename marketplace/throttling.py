"""Rate limits (settings.RATE_LIMITS): one counter per scope for pages and the API alike.

A request is counted under its scope and the signed-in user's id, or the client's address when
nobody is signed in; only writes (POST and the like) count. The counting is DRF's sliding window
(`SimpleRateThrottle`) in the default cache. API views name their scope with `throttle_scope` and
`throttle_classes = [RateLimit]`; pages call `rate_limit_wait(request, scope)`.

Limits fail open: when the cache cannot be reached the request goes through, with a warning in
the log, so a Redis outage never turns into errors (settings also make django-redis ignore them).
"""

import ipaddress
import logging
import math

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import ngettext
from drf_spectacular.utils import OpenApiResponse
from rest_framework.permissions import SAFE_METHODS
from rest_framework.throttling import SimpleRateThrottle

logger = logging.getLogger(__name__)

THROTTLED_RESPONSE = OpenApiResponse(
    description='Too many attempts: `{"detail", "code": "throttled"}` with `Retry-After` (seconds).'
)


def client_address(request) -> str:
    """Return the address requests are counted under when nobody is signed in.

    REMOTE_ADDR, or with RATE_LIMIT_TRUSTED_PROXIES proxies in front the address the outermost
    trusted proxy saw (X-Forwarded-For is easy to forge, so it counts only behind that setting).
    An IPv6 address stands for its /64: one customer usually holds the whole network.
    """
    address = request.META.get("REMOTE_ADDR") or ""
    proxies = settings.RATE_LIMIT_TRUSTED_PROXIES
    if proxies:
        forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [a for a in forwarded if a]
        if forwarded:
            address = forwarded[-min(proxies, len(forwarded))]
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address[:64] or "unknown"
    if ip.version == 6:
        if ip.ipv4_mapped:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


class RateLimit(SimpleRateThrottle):
    """Allow RATE_LIMITS[scope] writes per user, or per address when signed out; fail open.

    As a DRF throttle the scope is the view's `throttle_scope`.
    """

    def __init__(self, scope: str | None = None):
        # DRF's __init__ reads the rate; here it is read per request (the scope may come from the view).
        self.scope = scope

    def allow_request(self, request, view) -> bool:
        if request.method in SAFE_METHODS:
            return True
        if self.scope is None:
            self.scope = getattr(view, "throttle_scope", None)
        if self.scope not in settings.RATE_LIMITS:
            raise ImproperlyConfigured(f"No rate limit named {self.scope!r} in RATE_LIMITS.")
        self.rate = settings.RATE_LIMITS[self.scope]
        if self.rate is None:
            return True
        self.num_requests, self.duration = self.parse_rate(self.rate)
        self.key = self.get_cache_key(request, view)
        # SimpleRateThrottle.allow_request, with each cache call failing open.
        try:
            self.history = self.cache.get(self.key, [])
        except Exception:  # whatever the cache backend raises: let the request through
            logger.warning("rate limit %r not checked: the cache failed", self.scope, exc_info=True)
            return True
        self.now = self.timer()
        while self.history and self.history[-1] <= self.now - self.duration:
            self.history.pop()
        if len(self.history) >= self.num_requests:
            return self.throttle_failure()
        try:
            return self.throttle_success()
        except Exception:
            logger.warning("rate limit %r not counted: the cache failed", self.scope, exc_info=True)
            return True

    def get_cache_key(self, request, view) -> str:
        user = getattr(request, "user", None)
        signed_in = user is not None and user.is_authenticated
        ident = f"user-{user.pk}" if signed_in else client_address(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}

    def wait(self) -> float:
        """Seconds until the oldest request that still counts leaves the window."""
        if len(self.history) < self.num_requests:
            return 0
        return max(1.0, self.history[self.num_requests - 1] + self.duration - self.now)


class _KeyedLimit(RateLimit):
    """A RateLimit counted under a key the caller gives (a phone number), not the requester."""

    def __init__(self, scope: str, ident: str):
        super().__init__(scope)
        self.ident = ident

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.ident}


class _Post:
    method = "POST"


def rate_limit_take(scope: str, ident: str) -> bool:
    """Count one use of `scope` for `ident` (a phone number); False when its limit is reached.

    For limits that follow the target, not the requester: messages sent to one number.
    """
    return _KeyedLimit(scope, ident).allow_request(_Post(), None)


def rate_limit_wait(request, scope: str) -> int | None:
    """Count a page's request under `scope`; return whole seconds to wait when over the limit."""
    limit = RateLimit(scope)
    if limit.allow_request(request, None):
        return None
    return math.ceil(limit.wait())


def too_many_attempts_message(wait: float | None) -> str:
    """Tell someone who was limited how long to wait, in seconds or whole minutes."""
    seconds = math.ceil(wait or 0)
    if seconds < 60:
        seconds = max(seconds, 1)
        return ngettext(
            "Too many attempts. Please wait %(count)d second and try again.",
            "Too many attempts. Please wait %(count)d seconds and try again.",
            seconds,
        ) % {"count": seconds}
    minutes = math.ceil(seconds / 60)
    return ngettext(
        "Too many attempts. Please wait %(count)d minute and try again.",
        "Too many attempts. Please wait %(count)d minutes and try again.",
        minutes,
    ) % {"count": minutes}


def throttled_page(response, wait: int):
    """Mark a page answered to a limited request: 429 with Retry-After."""
    response.status_code = 429
    response["Retry-After"] = str(wait)
    return response
