from __future__ import annotations

from typing import Any


class GatewayError(Exception):
    """An error a client may see: a stable code, a safe message, an HTTP status."""

    code = "INTERNAL"
    status = 500
    default_message = "Internal error."

    def __init__(self, message: str | None = None, **extensions: Any) -> None:
        self.message = message or self.default_message
        self.extensions = extensions
        super().__init__(self.message)

    def headers(self) -> dict[str, str]:
        return {}


class BadRequest(GatewayError):
    code = "BAD_REQUEST"
    status = 400
    default_message = "The request is malformed."


class Unauthenticated(GatewayError):
    code = "UNAUTHENTICATED"
    status = 401
    default_message = "Missing, unknown or revoked API key."


class Forbidden(GatewayError):
    code = "FORBIDDEN"
    status = 403
    default_message = "You do not have permission to do this."


class NotFound(GatewayError):
    code = "NOT_FOUND"
    status = 404
    default_message = "Not found."


class Conflict(GatewayError):
    code = "CONFLICT"
    status = 409


class SubscriptionStateConflict(Conflict):
    code = "SUBSCRIPTION_STATE_CONFLICT"

    def __init__(self, action: str, status: str, *, cancel_at_period_end: bool = False) -> None:
        if cancel_at_period_end:  # contract section 11: still `status`, ending at the period end
            super().__init__(
                f"A subscription that is {status} and set to cancel at the end of its period "
                f"cannot be {action}.", currentStatus=status, cancelAtPeriodEnd=True)
            return
        super().__init__(
            f"A subscription that is {status} cannot be {action}.", currentStatus=status
        )


class IdempotencyKeyReused(Conflict):
    code = "IDEMPOTENCY_KEY_REUSED"
    status = 422
    default_message = "This idempotency key was already used with other arguments."


class IdempotencyKeyInProgress(Conflict):
    code = "IDEMPOTENCY_KEY_IN_PROGRESS"
    default_message = "A request with this idempotency key is still running. Retry shortly."


class PortalLinkInvalid(GatewayError):
    code = "PORTAL_LINK_INVALID"
    status = 401
    default_message = "This portal link is not valid."


class PortalLinkExpired(GatewayError):
    code = "PORTAL_LINK_EXPIRED"
    status = 401
    default_message = "This portal link has expired. Open billing again from the merchant's site."


class PayloadTooLarge(GatewayError):
    code = "PAYLOAD_TOO_LARGE"
    status = 413
    default_message = "The request body is too large."


class UnsupportedMediaType(GatewayError):
    code = "UNSUPPORTED_MEDIA_TYPE"
    status = 415
    default_message = "Content-Type must be application/json."


class RequestTimeout(GatewayError):
    code = "REQUEST_TIMEOUT"
    status = 408
    default_message = "The request body arrived too slowly. Send it again in one go."


class RateLimited(GatewayError):
    code = "RATE_LIMITED"
    status = 429
    default_message = "Too many requests. Try again later."

    def __init__(self, retry_after: int, limit: int | None = None) -> None:
        self.retry_after = max(1, retry_after)
        self.limit = limit
        super().__init__(
            f"Too many requests. Retry in {self.retry_after} seconds.",
            retryAfter=self.retry_after,
        )

    def headers(self) -> dict[str, str]:
        headers = {"Retry-After": str(self.retry_after)}
        if self.limit is not None:
            headers |= {
                "RateLimit-Limit": str(self.limit),
                "RateLimit-Remaining": "0",
                "RateLimit-Reset": str(self.retry_after),
            }
        return headers


class Unavailable(GatewayError):
    code = "UNAVAILABLE"
    status = 503
    default_message = "The service is temporarily unavailable. Try again shortly."

    def headers(self) -> dict[str, str]:
        return {"Retry-After": "5"}
