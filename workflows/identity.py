"""Sign-in and profiles: residents through WeChat, staff by phone and password."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field, model_validator
from pydantic_core import PydanticCustomError
from sqlalchemy import bindparam, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from domain.errors import DomainError, NotFound, NotPermitted, RuleViolation
from domain.roles import Role
from storage.models import Grid, GridWorkerGrid, Order, Resident, Staff
from infra.passwords import verify_password
from infra.tokens import TokenClaims
from infra.wechat import BUSY, RATE_LIMITED, WeChatClient, WeChatError, WeChatUnreachable
from workflows.errors import (
    SignInFailed, SignInReason, UpstreamRateLimited, UpstreamRefused, UpstreamUnavailable, WeChatNotConfigured,
)
from workflows.inputs import Id, Phone, Strict, Text
from workflows.principal import Bearer, Principal
from workflows.unit import use_case

# errcodes of a login or phone code that is wrong, used, or expired.
_BAD_CODE = {40029, 40163, 40226, 41008}


class ProfileUpdate(Strict):
    name: Annotated[Text, Field(max_length=50)] | None = None
    phone: Phone | None = None
    phone_code: Annotated[Text, Field(max_length=200)] | None = Field(
        None, description="The code from the mini-program's getPhoneNumber button."
    )
    grid_id: Id | None = None

    @model_validator(mode="after")
    def _one_phone(self) -> ProfileUpdate:
        if self.phone and self.phone_code:
            raise PydanticCustomError("one_phone", "give phone or phone_code, not both")
        return self


def wechat_call(fn, code: str, *, bad_code: type[DomainError] = SignInFailed):
    """Call WeChat with a code from the mini-program; explain its failures as refusals.

    A bad login code is a failed sign-in (401); a bad phone code from someone already
    signed in is bad input (422), so `bad_code` says which.
    """
    try:
        return fn(code)
    except WeChatUnreachable as exc:
        raise UpstreamUnavailable(key="wechat.unreachable", error=exc) from exc
    except WeChatError as exc:
        if exc.errcode in _BAD_CODE:
            raise bad_code(key="wechat.bad-code", errcode=exc.errcode) from exc
        if exc.errcode == RATE_LIMITED:
            raise UpstreamRateLimited(key="wechat.rate-limited") from exc
        if exc.errcode == BUSY:
            raise UpstreamUnavailable(key="wechat.busy") from exc
        raise UpstreamRefused(key="wechat.refused", errcode=exc.errcode) from exc


@use_case
def sign_in_with_wechat(db: Session, wechat: WeChatClient | None, code: str, *, now: datetime) -> Resident:
    """`wechat` is None when no AppID and AppSecret are configured."""
    if wechat is None:
        raise WeChatNotConfigured("this service has no WeChat AppID and AppSecret (WECHAT_APPID, WECHAT_SECRET);"
                                  " residents cannot sign in with WeChat here")
    session = wechat_call(wechat.code_to_session, code)
    return _resident_for_openid(db, session.openid, session.unionid, now)


@use_case
def sign_in_for_development(db: Session, openid: str, *, now: datetime) -> Resident:
    return _resident_for_openid(db, f"dev:{openid}", None, now)


def _resident_for_openid(db: Session, openid: str, unionid: str | None, now: datetime) -> Resident:
    find = select(Resident).where(Resident.openid == openid)
    resident = db.exec(find).first()
    if resident is not None:
        return resident
    try:
        # Two first sign-ins of one person at once: the unique openid lets one insert win.
        with db.begin_nested():
            resident = Resident(openid=openid, unionid=unionid, created_at=now)
            db.add(resident)
        return resident
    except IntegrityError:
        return db.exec(find).one()


@use_case
def sign_in_staff(db: Session, phone: str, password: str) -> Staff:
    staff = db.exec(select(Staff).where(Staff.phone == phone)).first()
    ok = verify_password(staff.password_hash if staff else None, password)
    if staff is None or not ok or not staff.active:
        raise SignInFailed(key="sign-in.wrong-password")
    return staff


@use_case
def update_profile(
    db: Session, actor: Principal, body: ProfileUpdate, wechat: WeChatClient | None, *, now: datetime
) -> Resident:
    verified_phone = None
    if body.phone_code is not None:
        # WeChat first, before the transaction begins: no lock is held while it answers.
        if wechat is None:
            raise RuleViolation(key="wechat.not-configured")
        verified_phone = wechat_call(wechat.phone_number, body.phone_code, bad_code=RuleViolation)
    resident = db.get(Resident, actor.id)
    if resident is None:
        raise NotFound(key="resident.not-found")
    if body.name is not None:
        resident.name = body.name
    if verified_phone is not None:
        resident.phone, resident.phone_verified = verified_phone, True
    elif body.phone is not None and body.phone != resident.phone:
        resident.phone, resident.phone_verified = body.phone, False
    if body.grid_id is not None:
        grid = db.get(Grid, body.grid_id)
        if grid is None:
            raise RuleViolation(key="grid.absent", id=body.grid_id)
        resident.grid_id, resident.town_id = grid.id, grid.town_id
    db.add(resident)
    if resident.phone and resident.phone_verified:
        # Orders taken for this phone on a visit or a call now belong to the resident. A typed
        # phone is anyone's claim, so it links nothing.
        db.execute(
            update(Order)
            .where(col(Order.resident_id).is_(None), Order.contact_phone == resident.phone)
            .values(resident_id=resident.id)
        )
    db.flush()
    return resident


def account_for(db: Session, kind: str, user_id: int) -> Resident | Staff:
    """The account a refresh token belongs to, if it may still sign in."""
    account = db.get(Resident if kind == "resident" else Staff, user_id)
    if account is None or (kind == "staff" and not account.active):
        raise SignInFailed(reason=SignInReason.SIGNED_OUT, key="sign-in.account-gone")
    return account


SIGNED_OUT_DETAIL = ("the account of this token no longer exists or is disabled, its password changed, or the"
                     " dashboard token was revoked or rotated; sign in again")


def resolve_bearer(db: Session, bearer: Bearer) -> Principal:
    """The principal a token names, read now; 401 if its account is gone, 403 if its role no longer fits."""
    principal = principal_for(db, bearer.claims)
    if principal is None:
        raise SignInFailed(SIGNED_OUT_DETAIL, SignInReason.SIGNED_OUT)
    if bearer.roles is not None and principal.role not in bearer.roles:
        raise role_refused(bearer.roles)
    return principal


def role_refused(roles: tuple[Role, ...]) -> NotPermitted:
    """The 403 for someone whose role the route does not admit."""
    return NotPermitted(f"this is for: {', '.join(r.value for r in roles)}")


def principal_for(db: Session, claims: TokenClaims) -> Principal | None:
    """The resident or staff member a token names, or None if it no longer exists or is disabled.

    Every request asks this first, so it is one statement built once, read as plain rows:
    a staff member comes with the grids they serve (none but a grid worker's count).
    """
    conn = db.connection()
    if claims.kind == "resident":
        row = conn.execute(_RESIDENT, {"id": claims.subject}).first()
        if row is None:
            return None
        return Principal("resident", row.id, Role.RESIDENT, row.name, row.town_id)
    if claims.kind == "staff":
        rows = conn.execute(_STAFF, {"id": claims.subject}).all()
        if not rows:
            return None
        staff = rows[0]
        if not staff.active or claims.version != staff.token_version:
            return None
        role = Role(staff.role)
        grid_ids = (frozenset(r.grid_id for r in rows if r.grid_id is not None) if role == Role.GRID_WORKER
                    else frozenset())
        return Principal("staff", staff.id, role, staff.name, staff.town_id, staff.branch_id, grid_ids,
                         staff.unit_id)
    return None  # dashboards: workflows/dashboards.py


_residents = Resident.__table__.c
_RESIDENT = select(_residents.id, _residents.name, _residents.town_id).where(_residents.id == bindparam("id"))
_staff, _served = Staff.__table__, GridWorkerGrid.__table__
_STAFF = (
    select(_staff.c.id, _staff.c.role, _staff.c.name, _staff.c.town_id, _staff.c.branch_id, _staff.c.active,
           _staff.c.token_version, _staff.c.unit_id, _served.c.grid_id)
    .select_from(_staff.outerjoin(_served, _served.c.staff_id == _staff.c.id))
    .where(_staff.c.id == bindparam("id"))
)
