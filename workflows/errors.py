"""Refusals that come from identity and outside services rather than from the rules."""

from enum import StrEnum

from domain.errors import DomainError


class SignInReason(StrEnum):
    """Why a 401: the problem's `code` member, so that a client knows what to do next."""

    TOKEN_MISSING = "token_missing"  # no bearer token was sent: send one
    TOKEN_EXPIRED = "token_expired"  # an access token ran out: refresh it (a refresh token: sign in)
    TOKEN_INVALID = "token_invalid"  # not a token of this service: malformed, forged, unknown
    # A real token whose session is over: signed out, its refresh family ended, a new
    # password, a disabled account, a revoked dashboard token. Refreshing will not help.
    SIGNED_OUT = "signed_out"
    CREDENTIALS_INVALID = "credentials_invalid"  # a wrong phone or password, a refused WeChat code


class SignInFailed(DomainError):
    code = "sign-in-failed"
    title = "Sign-in failed"

    def __init__(
        self, detail: str | None = None, reason: SignInReason = SignInReason.CREDENTIALS_INVALID,
        *, key: str | None = None, **params: object,
    ) -> None:
        super().__init__(detail, key=key, **params)
        self.reason = reason

    def extensions(self) -> dict:
        return {"code": self.reason.value}


class UpstreamUnavailable(DomainError):
    """WeChat (or another outside service) is down, slow or busy; worth retrying later."""

    code = "upstream-unavailable"
    title = "Upstream service unavailable"


class WeChatNotConfigured(DomainError):
    """WECHAT_APPID or WECHAT_SECRET is not set: nothing to ask WeChat with, so nothing is asked."""

    code = "wechat-not-configured"
    title = "WeChat sign-in is not configured"
    retry_after = None  # until an operator sets it: no time to give


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
