"""Sign-in: residents with the mini-program login code, staff with phone and password."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import HTTPException, Request, Response
from pydantic import BaseModel, Field, StringConstraints

from api.deps import AppSettings, Db, Now, ReadDb
from api.problems import problem_responses
from api.routing import api_router
from domain.roles import Role
from workflows import identity, throttle
from workflows import refresh as refresh_tokens
from workflows.inputs import Phone, Strict
from infra.tokens import TokenClaims, issue_token

router = api_router(prefix="/auth", tags=["auth"])


class WeChatLogin(Strict):
    code: Annotated[str, StringConstraints(min_length=1, max_length=200)] = Field(
        description="The code from wx.login() in the mini-program."
    )


class DevLogin(Strict):
    openid: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,40}$")] = Field(
        description="Any name; the same name signs in as the same resident."
    )


class StaffLogin(Strict):
    phone: Phone
    password: Annotated[str, StringConstraints(min_length=1, max_length=128)]


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int
    kind: str
    role: str
    user_id: int
    profile_complete: bool | None = None
    refresh_token: str | None = Field(None, description="Single use: POST /auth/refresh for new tokens.")
    refresh_expires_in: int | None = None


class RefreshRequest(Strict):
    refresh_token: Annotated[str, StringConstraints(min_length=20, max_length=100)]


def token_for(
    settings, kind: str, user_id: int, role: str, town_id: int | None, now, *,
    lifetime: timedelta | None = None, version: int = 0,
) -> TokenOut:
    lifetime = lifetime or timedelta(minutes=settings.access_token_minutes)
    token = issue_token(settings.secret_key, TokenClaims(kind, user_id, role, town_id, version), now, lifetime)
    return TokenOut(
        access_token=token, expires_in=int(lifetime.total_seconds()), kind=kind, role=role, user_id=user_id
    )


def _with_refresh(out: TokenOut, request: Request, settings, now, refresh: str | None = None) -> TokenOut:
    out.refresh_token = refresh or refresh_tokens.issue(
        request.app.state.db, out.kind, out.user_id, now=now, days=settings.refresh_token_days)
    out.refresh_expires_in = settings.refresh_token_days * 86400
    return out


def _resident_token(settings, resident, now) -> TokenOut:
    out = token_for(settings, "resident", resident.id, Role.RESIDENT.value, resident.town_id, now)
    out.profile_complete = bool(resident.name and resident.phone and resident.grid_id)
    return out


def _staff_token(settings, staff, now) -> TokenOut:
    return token_for(settings, "staff", staff.id, staff.role, staff.town_id, now, version=staff.token_version)


def _throttle(request: Request, settings, now, phone: str | None = None) -> None:
    address = request.client.host if request.client else "unknown"
    limits = [(f"address:{address}", settings.signin_per_address)]
    if phone:
        limits.append((f"phone:{phone}", settings.signin_per_phone))
    throttle.count_attempt(request.app.state.db, limits, now=now, window_seconds=settings.signin_window_seconds)


@router.post("/wechat", responses=problem_responses(401, 429, 502, 503, body=True))
def wechat_login(body: WeChatLogin, db: Db, now: Now, settings: AppSettings, request: Request) -> TokenOut:
    """Exchange the mini-program login code (jscode2session); the first sign-in creates the resident."""
    _throttle(request, settings, now)
    resident = identity.sign_in_with_wechat(db, request.app.state.wechat, body.code, now=now)
    return _with_refresh(_resident_token(settings, resident, now), request, settings, now)


@router.post("/dev/resident", responses=problem_responses(404, 429, body=True))
def dev_resident_login(body: DevLogin, db: Db, now: Now, settings: AppSettings, request: Request) -> TokenOut:
    """Development only: sign in as a resident without WeChat (off outside development)."""
    if not settings.dev_login:
        raise HTTPException(404, "not found")
    _throttle(request, settings, now)
    resident = identity.sign_in_for_development(db, body.openid, now=now)
    return _with_refresh(_resident_token(settings, resident, now), request, settings, now)


@router.post("/staff", responses=problem_responses(401, 429, body=True))
def staff_login(body: StaffLogin, db: ReadDb, now: Now, settings: AppSettings, request: Request) -> TokenOut:
    """Grid workers, secretaries, members and town admins: phone and password (attempts are limited)."""
    _throttle(request, settings, now, phone=body.phone)
    staff = identity.sign_in_staff(db, body.phone, body.password)
    return _with_refresh(_staff_token(settings, staff, now), request, settings, now)


@router.post("/refresh", responses=problem_responses(401, body=True))
def refresh(body: RefreshRequest, db: ReadDb, now: Now, settings: AppSettings, request: Request) -> TokenOut:
    """A new access token and the next refresh token, for a refresh token used once."""
    kind, user_id, following = refresh_tokens.rotate(
        request.app.state.db, body.refresh_token, now=now, days=settings.refresh_token_days)
    user = identity.account_for(db, kind, user_id)
    out = _staff_token(settings, user, now) if kind == "staff" else _resident_token(settings, user, now)
    return _with_refresh(out, request, settings, now, following)


@router.post("/logout", status_code=204, responses=problem_responses(body=True))
def logout(body: RefreshRequest, now: Now, request: Request) -> Response:
    """End the session the refresh token belongs to (access tokens end at their expiry)."""
    refresh_tokens.end_family(request.app.state.db, body.refresh_token, now=now)
    return Response(status_code=204)
