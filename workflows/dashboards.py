"""Dashboard tokens: issued, listed and revoked by a town admin, rotated by the dashboard.

A dashboard token is checked on every request, as the stats poll path is hot: one read
of its row by primary key (no cache, so a revocation holds at once on every replica),
and a write only every LAST_USED_STEP to say when it was last used.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Annotated

from pydantic import BaseModel, Field
from sqlalchemy import or_, update
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, col, select

from domain.errors import NotPermitted
from domain.roles import Role
from storage.engine import Database
from storage.models import DashboardToken
from infra.tokens import TokenClaims
from workflows.audit import audit
from workflows.errors import SignInFailed, SignInReason
from workflows.hierarchy import get_in_town, require_admin
from workflows.inputs import Strict, Text
from workflows.paging import Page, PageRequest, fetch_page
from workflows.principal import Principal
from workflows.unit import use_case

log = logging.getLogger("wudan.dashboards")

# How long the generation before a rotation stays good: polls in flight, a retried rotation.
ROTATION_OVERLAP = timedelta(minutes=5)
LAST_USED_STEP = timedelta(minutes=10)


class DashboardTokenCreate(Strict):
    label: Annotated[Text, Field(max_length=50, description="Which screen it is for, e.g. 大厅左屏")] | None = None


class DashboardTokenView(BaseModel):
    id: int
    label: str | None
    created_at: datetime
    expires_at: datetime
    rotated_at: datetime | None
    last_used_at: datetime | None = Field(description="When it was last used, to within 10 minutes")
    revoked_at: datetime | None
    active: bool = Field(description="Neither revoked nor expired")


def view(row: DashboardToken, now: datetime) -> DashboardTokenView:
    return DashboardTokenView(
        id=row.id, label=row.label, created_at=row.created_at, expires_at=row.expires_at, rotated_at=row.rotated_at,
        last_used_at=row.last_used_at, revoked_at=row.revoked_at,
        active=row.revoked_at is None and row.expires_at > now,
    )


@use_case
def create(db: Session, actor: Principal, body: DashboardTokenCreate, *, now: datetime, days: int) -> DashboardToken:
    town_id = require_admin(actor)
    row = DashboardToken(town_id=town_id, label=body.label, created_at=now, expires_at=now + timedelta(days=days))
    db.add(row)
    db.flush()
    audit(db, actor, "create", "dashboard_token", row.id, {"label": body.label} if body.label else {}, now=now)
    return row


def list_tokens(db: Session, actor: Principal, page: PageRequest, *, now: datetime) -> Page[DashboardTokenView]:
    """The town's dashboard tokens, newest first, revoked and expired ones included."""
    statement = (select(DashboardToken).where(DashboardToken.town_id == require_admin(actor))
                 .order_by(col(DashboardToken.id).desc()))
    rows, total = fetch_page(db, statement, page)
    return Page(items=[view(r, now) for r in rows], total=total, limit=page.limit, offset=page.offset)


@use_case
def revoke(db: Session, actor: Principal, token_id: int, *, now: datetime) -> DashboardToken:
    row = get_in_town(db, DashboardToken, token_id, require_admin(actor))
    if row.revoked_at is None:
        row.revoked_at = now
        db.add(row)
        audit(db, actor, "revoke", "dashboard_token", row.id, now=now)
    return row


@use_case
def rotate(db: Session, actor: Principal, *, now: datetime, days: int) -> DashboardToken:
    """The dashboard's next generation, good for `days`; the one it presented ends after ROTATION_OVERLAP.

    Asked again within the overlap (a second tab, a retry after a lost answer), it answers
    the generation the first rotation made rather than making another, which would cut the
    first one's answer short.
    """
    if actor.role != Role.DASHBOARD:
        raise NotPermitted("only a dashboard token can be rotated this way")
    moved = db.execute(
        update(DashboardToken)
        .where(col(DashboardToken.id) == actor.id, col(DashboardToken.revoked_at).is_(None),
               or_(col(DashboardToken.rotated_at).is_(None), col(DashboardToken.rotated_at) <= now - ROTATION_OVERLAP))
        .values(generation=DashboardToken.generation + 1, previous_valid_until=now + ROTATION_OVERLAP,
                expires_at=now + timedelta(days=days), rotated_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    row = db.get(DashboardToken, actor.id)
    if row is None or row.revoked_at is not None:
        raise SignInFailed("this dashboard token was revoked; ask the town admin for a new one",
                           SignInReason.SIGNED_OUT)
    if moved:
        audit(db, actor, "rotate", "dashboard_token", row.id, now=now)
    return row


def principal_for_token(database: Database, claims: TokenClaims, now: datetime) -> Principal | None:
    """The dashboard a token names, or None if it was revoked, replaced by a rotation, or never issued."""
    with database.reader() as db:
        row = db.get(DashboardToken, claims.subject)
    if row is None or not _accepts(row, claims, now):
        return None
    if row.last_used_at is None or now - row.last_used_at >= LAST_USED_STEP:
        _note_use(database, row.id, now)
    return Principal("dashboard", row.id, Role.DASHBOARD, row.label or "dashboard", row.town_id)


def _accepts(row: DashboardToken, claims: TokenClaims, now: datetime) -> bool:
    if row.revoked_at is not None or row.town_id != claims.town_id:
        return False
    if claims.version == row.generation:
        return True
    return (claims.version == row.generation - 1 and row.previous_valid_until is not None
            and now < row.previous_valid_until)


def _note_use(database: Database, token_id: int, now: datetime) -> None:
    # Bookkeeping: a poll is not refused because its stamp could not be written.
    try:
        with database.session(write=True) as db:
            db.execute(
                update(DashboardToken)
                .where(col(DashboardToken.id) == token_id,
                       or_(col(DashboardToken.last_used_at).is_(None),
                           col(DashboardToken.last_used_at) <= now - LAST_USED_STEP))
                .values(last_used_at=now).execution_options(synchronize_session=False)
            )
            db.commit()
    except DBAPIError as exc:
        log.warning("could not note the use of dashboard token %s: %s", token_id, type(exc).__name__)
