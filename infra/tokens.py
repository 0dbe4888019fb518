"""Signed access tokens (JWT, HS256)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt

ALGORITHM = "HS256"


class TokenError(Exception):
    """Not a token this service signed, or not one it can read."""


class TokenExpired(TokenError):
    """A genuine token past its expiry."""


@dataclass(frozen=True)
class TokenClaims:
    kind: str  # resident | staff | dashboard
    subject: int
    role: str
    town_id: int | None
    # A staff account's credentials version: a new password or a disabled account ends older tokens.
    version: int = 0


def issue_token(secret: str, claims: TokenClaims, now: datetime, lifetime: timedelta) -> str:
    payload = {
        "sub": str(claims.subject),
        "kind": claims.kind,
        "role": claims.role,
        "town": claims.town_id,
        "ver": claims.version,
        "iat": int(now.timestamp()),
        "exp": int((now + lifetime).timestamp()),
    }
    return jwt.encode(payload, secret, algorithm=ALGORITHM)


def read_token(secret: str, token: str, now: datetime) -> TokenClaims:
    """The claims of a valid token; expiry is judged by the service's clock, not the host's."""
    try:
        payload = jwt.decode(
            token, secret, algorithms=[ALGORITHM],
            options={"require": ["exp", "sub", "kind"], "verify_exp": False, "verify_iat": False},
        )
        if int(payload["exp"]) <= now.timestamp():
            raise TokenExpired("token expired")
        return TokenClaims(
            kind=payload["kind"],
            subject=int(payload["sub"]),
            role=payload["role"],
            town_id=payload.get("town"),
            version=int(payload.get("ver", 0)),
        )
    except (jwt.PyJWTError, KeyError, ValueError) as exc:
        raise TokenError(str(exc)) from exc
