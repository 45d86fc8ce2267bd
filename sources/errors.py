"""Errors raised by the source layer, each naming the provider, endpoint and (when known) the field at fault."""

from __future__ import annotations


class SourceError(Exception):
    """A provider answered with something we cannot trust, or did not answer at all.

    The message is meant for a trader's status bar: it names the provider, the endpoint, the field (when one is at
    fault) and, for HTTP failures, the status code.
    """

    def __init__(
        self,
        provider: str,
        endpoint: str,
        message: str,
        *,
        field: str | None = None,
        status: int | None = None,
    ) -> None:
        self.provider = provider
        self.endpoint = endpoint
        self.field = field
        self.status = status
        self.detail = message
        where = f"{provider} {endpoint}"
        if field:
            where += f" field {field!r}"
        if status is not None:
            where += f" (HTTP {status})"
        super().__init__(f"{where}: {message}")


class RateLimited(SourceError):
    """HTTP 429/418 (or a provider's rate-limit code): wait ``retry_after`` seconds before calling again."""

    def __init__(self, provider: str, endpoint: str, message: str, *, retry_after: float, status: int | None = None):
        super().__init__(provider, endpoint, message, status=status)
        self.retry_after = retry_after


class SourceUnavailable(SourceError):
    """The source refuses us for a reason retrying will not fix soon (HTTP 451 geo-block, 403 bot wall).

    The scheduler shows it as "unavailable here" and polls it only rarely instead of spinning in retries.
    """
