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
