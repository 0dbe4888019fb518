"""Refusals that come from identity and outside services rather than from the rules."""

from domain.errors import DomainError


class SignInFailed(DomainError):
    code = "sign-in-failed"
    title = "Sign-in failed"


class UpstreamUnavailable(DomainError):
    """WeChat (or another outside service) is down, slow or busy; worth retrying later."""

    code = "upstream-unavailable"
    title = "Upstream service unavailable"


class UpstreamRateLimited(DomainError):
    code = "upstream-rate-limited"
    title = "Upstream service rate limited"


class UpstreamRefused(DomainError):
    code = "upstream-refused"
    title = "Upstream service refused the request"


class TransactionConflict(DomainError):
    """Every try of the use case was aborted by the database to break a conflict with others."""

    code = "database-conflict"
    title = "Concurrent changes conflicted"

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = retry_after
