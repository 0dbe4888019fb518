"""群众点单: place an order, by the resident or by staff on the resident's behalf.

Placements are limited per hour: per person placing them, and per client address. The
counters are rows of `rate_limit_hits`, as for sign-ins and uploads, written in the
placement's own transaction. A placement refused, failed or replayed (an Idempotency-Key
seen before) therefore counts for nothing, and every replica reads the same counts. On
PostgreSQL the upsert of a counter holds its row until the placement commits, so
simultaneous placements under one key are counted one after another and exactly the
limit of them go through; SQLite has one writer at a time anyway. The counters are
written last, just before the commit, so that the row is held for the commit alone.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from domain.attributes import check_answers
from domain.channels import PLACED_BY, RECORDED_ELSEWHERE, Channel, placing_channel
from domain.errors import NotFound, NotPermitted, RuleViolation
from domain.notices import audiences, notice_kind
from domain.roles import Role
from domain.states import Urgency
from domain.transitions import Action, plan
from storage.models import Category, Grid, Order, Resident
from workflows.households import household_at
from workflows.photos import attach_photos
from workflows.places import route_order
from workflows.principal import Principal
from workflows.scope import grids_actor_may_place_for
from workflows.throttle import TooManyAttempts, count_hit, window_start
from workflows.transition import insert_event, stage_stamps, write_outbox
from workflows.unit import MOVES_KEY, retrying
from infra.metrics import count_committed_moves


class IdempotencyKeyReused(RuleViolation):
    code = "idempotency-key-reused"


class TooManyOrders(TooManyAttempts):
    """429 with Retry-After, like a throttled sign-in."""

    code = "too-many-orders"


PLACEMENT_WINDOW_SECONDS = 3600


@dataclass(frozen=True)
class PlacementLimits:
    """Orders a clock hour: placed by one resident, by one staff member on residents' behalf, from one address."""

    per_resident: int
    per_staff: int
    per_address: int
    address: str


@dataclass(frozen=True)
class Placed:
    order: Order
    replayed: bool
    answer: Any = None

    def answered(self, answer: Callable[[Order], Any] | None) -> Placed:
        return replace(self, answer=answer(self.order)) if answer else self


def place_order(
    db: Session,
    actor: Principal,
    draft,
    *,
    idempotency_key: str | None,
    photos_per_order: int,
    now: datetime,
    limits: PlacementLimits | None = None,
    answer: Callable[[Order], Any] | None = None,
    taken_at: TakenAt | None = None,
    order_fields: dict[str, Any] | None = None,
) -> Placed:
    """Place the order; the same key from the same person returns the first order.

    Without `limits` (the demo seed, benchmarks) nothing is counted. `answer(order)`
    is computed in the placement's transaction, before it commits (`Placed.answer`).
    """
    # Stored as a digest: a fixed width whatever the client sends.
    scoped_key = (
        hashlib.sha256(f"{actor.kind}:{actor.id}:{idempotency_key}".encode()).hexdigest()
        if idempotency_key else None
    )
    # Without answers, the digest is what it was before categories had questions: a retry
    # across an upgrade is still the same request.
    asked = draft.model_dump(mode="json", exclude=None if getattr(draft, "attributes", None) else {"attributes"})
    request_hash = hashlib.sha256(json.dumps(asked, sort_keys=True).encode()).hexdigest()

    def attempt() -> Placed:
        if scoped_key:
            replay = _replay(db, scoped_key, request_hash)
            if replay:
                return replay.answered(answer)
        try:
            order = insert_order(db, actor, draft, scoped_key, request_hash, photos_per_order, now,
                                 taken_at=taken_at, order_fields=order_fields)
            placed = Placed(order, replayed=False).answered(answer)
            if limits is not None:
                # Last before the commit: on PostgreSQL the counter rows stay locked until
                # it, and every placement from one address (a NAT, a proxy) shares a row.
                _count_placement(db, actor, limits, now)
            db.commit()
        except IntegrityError:
            db.rollback()
            db.info.pop(MOVES_KEY, None)
            # Two requests with one key raced; the other one's order stands.
            replay = _replay(db, scoped_key, request_hash) if scoped_key else None
            if replay:
                return replay.answered(answer)
            raise
        count_committed_moves(db.info.pop(MOVES_KEY, []))
        return placed

    return retrying(db, attempt)


def _count_placement(db: Session, actor: Principal, limits: PlacementLimits, now: datetime) -> None:
    """Count the placement under its placer and its address; refuse it over either limit (the counts roll back)."""
    start = window_start(now, PLACEMENT_WINDOW_SECONDS)
    per_person = limits.per_staff if actor.is_staff else limits.per_resident
    limit_of = {f"orders:{actor.kind}:{actor.id}": (per_person, "person"),
                f"orders:address:{limits.address}": (limits.per_address, "address")}
    # Keys in one order for every placement, so two of them never wait on each other's rows crosswise.
    counts = {key: count_hit(db, key, start) for key in sorted(limit_of)}
    for key, (limit, what) in limit_of.items():
        if counts[key] > limit:
            end = start + timedelta(seconds=PLACEMENT_WINDOW_SECONDS)
            retry_after = max(1, math.ceil((end - now).total_seconds()))
            raise TooManyOrders(retry_after=retry_after, key="orders.too-many", limit=limit, what=what)


def _replay(db: Session, scoped_key: str, request_hash: str) -> Placed | None:
    existing = db.exec(select(Order).where(Order.idempotency_key == scoped_key)).first()
    if existing is None:
        return None
    if existing.request_hash != request_hash:
        raise IdempotencyKeyReused()
    return Placed(existing, replayed=True)


@dataclass(frozen=True)
class TakenAt:
    """Where an order placed on a resident's behalf was taken: a visit (驻点直联) or a matter said
    at the 群众说事厅. It decides the grid and the household, not the placer's own grids."""

    grid_id: int
    household_id: int | None
    visit_id: int | None = None


def insert_order(db, actor, draft, scoped_key, request_hash, photos_per_order, now, *,
                 taken_at: TakenAt | None = None, order_fields: dict[str, Any] | None = None) -> Order:
    """The order, its first event and its notices, flushed in the caller's transaction.

    `order_fields` are columns the door it came in by keeps (Open311's token and media URL).
    """
    transition = plan(None, Action.SUBMIT, actor.role)
    channel = placing_channel(actor.role, draft.channel)
    if actor.role not in PLACED_BY[channel]:
        raise NotPermitted(key="order.channel-not-yours", role=actor.role.value, channel=channel.value)
    if channel in RECORDED_ELSEWHERE and taken_at is None:
        raise RuleViolation(key="order.hall-through-matters")
    # Read once: the session's identity map would not keep it between the two uses.
    resident = db.get(Resident, actor.id) if actor.role == Role.RESIDENT else None
    if taken_at is not None:
        grid, routed = db.get(Grid, taken_at.grid_id), None
    else:
        grid, routed = _grid_for(db, actor, draft, resident)
    phone = resident.phone if resident is not None else draft.contact_phone
    # The household comes along with the category, in the same statement.
    category, household_id = db.exec(
        select(Category, household_at(grid.id, phone, draft.address)).where(Category.id == draft.category_id)
    ).first() or (None, None)
    if category is None or category.town_id != grid.town_id or not category.active:
        raise RuleViolation(key="order.category-not-offered", id=draft.category_id)
    urgency = Urgency(draft.urgency or category.default_urgency)
    answers = check_answers(category.attributes or [], draft.attributes) if (
        category.attributes or draft.attributes) else {}
    order = Order(
        town_id=grid.town_id,
        branch_id=grid.branch_id,
        grid_id=grid.id,
        category_id=category.id,
        urgency=urgency.value,
        state=transition.target.value,
        description=draft.description,
        address=draft.address,
        latitude=draft.latitude,
        longitude=draft.longitude,
        attributes=answers,
        idempotency_key=scoped_key,
        request_hash=request_hash,
        household_id=taken_at.household_id if taken_at is not None else household_id,
        visit_id=taken_at.visit_id if taken_at is not None else None,
        created_at=now,
        updated_at=now,
        **stage_stamps(transition.target, now, category, urgency),
        **_who_for(db, actor, draft, resident, channel),
        **(order_fields or {}),
    )
    db.add(order)
    db.flush()
    attach_photos(db, actor, order, draft.photo_ids, "request", photos_per_order)
    event_id = insert_event(db, {
        "order_id": order.id, "action": Action.SUBMIT.value, "from_state": None, "to_state": order.state,
        "actor_role": actor.role.value, "actor_id": actor.id, "actor_name": actor.name, "note": None,
        "data": {"channel": order.channel, **({"routed": routed} if routed else {})}, "created_at": now,
        "branch_id": order.branch_id, "grid_id": order.grid_id,
    })
    notices = ((notice_kind(Action.SUBMIT), audiences(None, Action.SUBMIT)),)
    write_outbox(db, order, category, event_id, Action.SUBMIT, None, notices, None, now)
    # Counted once the transaction commits, like every other move (workflows/unit.py).
    db.info.setdefault(MOVES_KEY, []).append(Action.SUBMIT.value)
    return order


def _grid_for(db: Session, actor: Principal, draft, resident: Resident | None) -> tuple[Grid, dict | None]:
    """The order's grid, and how its location chose it when it did (for the timeline).

    A grid named wins. Else the location's grid: where the street light is, not where the
    resident lives; near no grid, the town's intake grid. Else the resident's own grid.
    """
    home = resident.grid_id if actor.role == Role.RESIDENT and resident is not None else None
    routed = None
    if draft.grid_id is not None:
        grid_id = draft.grid_id
    elif draft.latitude is not None and (found := _routed(db, draft)) is not None:
        grid_id, routed = found
    elif home is not None:
        grid_id = home
    elif draft.latitude is not None:
        raise RuleViolation(key="order.outside-every-grid")
    else:
        raise RuleViolation(key="order.grid-needed" if actor.role == Role.RESIDENT
                            else "order.grid-required-on-behalf")
    if actor.role == Role.RESIDENT:
        grid = db.get(Grid, grid_id)
        if grid is None:
            raise RuleViolation(key="grid.absent", id=grid_id)
        return grid, routed
    grid = db.exec(select(Grid).where(Grid.id == grid_id, grids_actor_may_place_for(db, actor))).first()
    if grid is None:
        raise RuleViolation(key="order.grid-not-yours", id=grid_id)
    return grid, routed


def _routed(db: Session, draft) -> tuple[int, dict] | None:
    """The grid the draft's location is in, and why; None in a town with no grid near and no intake grid."""
    town_id = db.exec(select(Category.town_id).where(Category.id == draft.category_id)).first()
    if town_id is None:
        raise RuleViolation(key="order.category-not-offered", id=draft.category_id)
    found = route_order(db, town_id, draft.longitude, draft.latitude)
    if found is None:
        return None
    return found.grid_id, {**found.route.note(), "grid_id": found.grid_id, "grid_name": found.grid_name}


def _who_for(db: Session, actor: Principal, draft, resident: Resident | None, channel: Channel) -> dict:
    if actor.role == Role.RESIDENT:
        if resident is None:
            raise NotFound(key="resident.not-found")
        if draft.contact_name or draft.contact_phone or draft.channel not in (None, "mini_program"):
            raise RuleViolation(key="order.contact-for-staff")
        return {
            "resident_id": resident.id,
            "contact_name": resident.name,
            "contact_phone": resident.phone,
            "channel": "mini_program",
        }
    platform = actor.role == Role.CITY_PLATFORM
    # A city platform passes on what the caller gave it, which may be no name or phone at all.
    if not platform and (not draft.contact_name or not draft.contact_phone):
        raise RuleViolation(key="order.contact-required")
    # A resident already signed in with this (verified) phone sees the order at once.
    # A city platform is another system's word for the phone: its town's residents only.
    same_town = (Resident.town_id == actor.town_id,) if platform else ()
    resident = db.exec(
        select(Resident)
        .where(Resident.phone == draft.contact_phone, col(Resident.phone_verified), *same_town)
        .order_by(col(Resident.id))
    ).first() if draft.contact_phone else None
    return {
        "resident_id": resident.id if resident else None,
        "contact_name": draft.contact_name,
        "contact_phone": draft.contact_phone,
        "placed_by_staff_id": None if platform else actor.id,
        "open311_client_id": actor.id if platform else None,
        "channel": channel.value,
    }
