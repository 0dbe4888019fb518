"""Sign-in and profiles: residents through WeChat, staff by phone and password."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Annotated

from pydantic import Field, model_validator
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from domain.errors import DomainError, NotFound, RuleViolation
from domain.roles import Role
from storage.models import Grid, GridWorkerGrid, Order, Resident, Staff
from infra.passwords import verify_password
from infra.tokens import TokenClaims
from infra.wechat import BUSY, RATE_LIMITED, WeChatClient, WeChatError, WeChatUnreachable
from workflows.errors import SignInFailed, UpstreamRateLimited, UpstreamRefused, UpstreamUnavailable
from workflows.inputs import Id, Phone, Strict, Text
from workflows.principal import Principal
from workflows.audit import audit
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
            raise ValueError("give phone or phone_code, not both")
        return self


def wechat_call(fn, code: str, *, bad_code: type[DomainError] = SignInFailed):
    """Call WeChat with a code from the mini-program; explain its failures as refusals.

    A bad login code is a failed sign-in (401); a bad phone code from someone already
    signed in is bad input (422), so `bad_code` says which.
    """
    try:
        return fn(code)
    except WeChatUnreachable as exc:
        raise UpstreamUnavailable(f"WeChat did not answer usefully: {exc}") from exc
    except WeChatError as exc:
        if exc.errcode in _BAD_CODE:
            raise bad_code(f"WeChat refused the code (errcode {exc.errcode}); get a new one") from exc
        if exc.errcode == RATE_LIMITED:
            raise UpstreamRateLimited("WeChat is rate limiting this app; try again shortly") from exc
        if exc.errcode == BUSY:
            raise UpstreamUnavailable("WeChat is busy; try again shortly") from exc
        raise UpstreamRefused(f"WeChat refused the request (errcode {exc.errcode})") from exc


@use_case
def sign_in_with_wechat(db: Session, wechat: WeChatClient, code: str, *, now: datetime) -> Resident:
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
        raise SignInFailed("phone or password is wrong, or the account is disabled")
    return staff


@use_case
def update_profile(
    db: Session, actor: Principal, body: ProfileUpdate, wechat: WeChatClient | None, *, now: datetime
) -> Resident:
    verified_phone = None
    if body.phone_code is not None:
        # WeChat first, before the transaction begins: no lock is held while it answers.
        if wechat is None:
            raise RuleViolation("WeChat is not configured; type the phone number instead")
        verified_phone = wechat_call(wechat.phone_number, body.phone_code, bad_code=RuleViolation)
    resident = db.get(Resident, actor.id)
    if resident is None:
        raise NotFound("resident not found")
    if body.name is not None:
        resident.name = body.name
    if verified_phone is not None:
        resident.phone, resident.phone_verified = verified_phone, True
    elif body.phone is not None and body.phone != resident.phone:
        resident.phone, resident.phone_verified = body.phone, False
    if body.grid_id is not None:
        grid = db.get(Grid, body.grid_id)
        if grid is None:
            raise RuleViolation(f"grid {body.grid_id} does not exist")
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
        raise SignInFailed("the account no longer exists or is disabled")
    return account


def principal_for(db: Session, claims: TokenClaims) -> Principal | None:
    """The principal a token names, or None if it no longer exists or is disabled."""
    if claims.kind == "resident":
        resident = db.get(Resident, claims.subject)
        if resident is None:
            return None
        return Principal("resident", resident.id, Role.RESIDENT, resident.name, resident.town_id)
    if claims.kind == "staff":
        staff = db.get(Staff, claims.subject)
        if staff is None or not staff.active or claims.version != staff.token_version:
            return None
        grid_ids: frozenset[int] = frozenset()
        if staff.role == Role.GRID_WORKER.value:
            grid_ids = frozenset(
                db.exec(select(GridWorkerGrid.grid_id).where(GridWorkerGrid.staff_id == staff.id)).all()
            )
        return Principal("staff", staff.id, Role(staff.role), staff.name, staff.town_id, staff.branch_id, grid_ids)
    return dashboard_principal(claims)


def dashboard_principal(claims: TokenClaims) -> Principal | None:
    """A dashboard token carries all it grants (a town, read-only), so it needs no lookup."""
    if claims.kind == "dashboard" and claims.town_id is not None:
        return Principal("dashboard", claims.subject, Role.DASHBOARD, "dashboard", claims.town_id)
    return None


@use_case
def record_token_issued(db: Session, actor: Principal, *, now: datetime) -> None:
    """Dashboard tokens are long-lived; the audit log says who made each one and when."""
    audit(db, actor, "create", "dashboard_token", None, {}, now=now)


def new_dashboard_id() -> int:
    return secrets.randbelow(2**31)
