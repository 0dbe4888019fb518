"""Nearby orders and followers: the resident's "me too" instead of a second order.

Before placing, the app asks for open orders of the same category near the point; the
resident may follow one of them instead. A follower reads the order (without its
placer's name or phone), hears of its moves as its resident does, and cannot move it.
The dashboards count the order once: a follower is not an order.

A grid worker who finds a duplicate anyway rejects it with the original's id
(`reject_order`); its placer then follows the original.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel, Field
from sqlalchemy import Float, bindparam, delete, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from domain.errors import NotPermitted, RuleViolation
from domain.places import around, distance_m
from domain.roles import Role
from domain.states import OPEN_STATES, OrderState
from storage.models import Category, Order, OrderFollower, Town
from storage.types import UTCDateTime
from workflows.inputs import Strict
from workflows.principal import Principal
from workflows.refs import Ref
from workflows.scope import load_visible_order
from workflows.unit import use_case

NEARBY_AT_MOST = 20


class NearbyOrder(BaseModel):
    """An open order near the point, as anyone placing one may see it: nothing of its placer."""

    id: int
    state: str
    state_label: str
    category: Ref
    summary: str = Field(description="The first 60 characters of its description.")
    distance_m: float
    created_at: datetime
    follower_count: int
    mine: bool = Field(description="Placed by the caller.")
    following: bool = Field(description="Followed by the caller.")


class NearbyAnswer(BaseModel):
    radius_m: int
    days: int
    items: list[NearbyOrder]


class FollowRequest(Strict):
    """Where the caller is: an order is followed from near it, as the nearby list offers it."""

    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)


def nearby_orders(db: Session, actor: Principal, category_id: int, latitude: float, longitude: float, *,
                  now: datetime) -> NearbyAnswer:
    """Open orders of the category within the town's radius, placed within its days, nearest first."""
    conn = db.connection()
    found = conn.execute(_NEARBY_RULES, {"category_id": category_id}).first()
    # Only the caller's own town, and only the categories it makes public: a matter of a
    # household (a leaking roof, hardship) is nobody else's to find.
    if found is None or found.town_id != actor.town_id or not found.public_requests:
        raise RuleViolation(key="nearby.category-not-public", id=category_id)
    category_name, radius_m, days = found.name, found.nearby_radius_m, found.nearby_days
    box = around(longitude, latitude, radius_m)
    rows = conn.execute(_NEARBY, {"category_id": category_id, "min_lat": box.min_lat, "max_lat": box.max_lat,
                                  "min_lng": box.min_lng, "max_lng": box.max_lng,
                                  "since": now - timedelta(days=days)}).all()
    near = sorted(((distance_m(longitude, latitude, r.longitude, r.latitude), r) for r in rows),
                  key=lambda pair: (pair[0], pair[1].id))
    near = [(metres, r) for metres, r in near if metres <= radius_m][:NEARBY_AT_MOST]
    is_resident = actor.role == Role.RESIDENT
    followed = following_ids(db, actor.id, [r.id for _, r in near]) if is_resident else set()
    return NearbyAnswer(radius_m=radius_m, days=days, items=[
        NearbyOrder(id=r.id, state=r.state, state_label=OrderState(r.state).label,
                    category=Ref(id=category_id, name=category_name), summary=r.description[:60],
                    distance_m=round(metres, 1), created_at=r.created_at, follower_count=r.follower_count,
                    mine=is_resident and r.resident_id == actor.id, following=r.id in followed)
        for metres, r in near])


@use_case
def follow_order(db: Session, actor: Principal, order_id: int, body: FollowRequest, *, now: datetime) -> Order:
    """Follow an open order of another resident's, from near it; following it twice changes nothing."""
    if actor.role != Role.RESIDENT:
        raise NotPermitted(key="follow.residents-only")
    order = db.get(Order, order_id)
    found = db.connection().execute(_NEARBY_RULES, {"category_id": order.category_id}).first() if order else None
    # As far as the caller can know, an order of another town, of a category that is not
    # public, too far away or closed is not there to follow (the nearby list's rules).
    if (order is None or found is None or order.town_id != actor.town_id or not found.public_requests
            or order.latitude is None or OrderState(order.state) not in OPEN_STATES
            or distance_m(body.longitude, body.latitude, order.longitude, order.latitude) > found.nearby_radius_m):
        raise RuleViolation(key="follow.not-near", id=order_id)
    if order.resident_id == actor.id:
        raise RuleViolation(key="follow.own-order")
    if add_follower(db, order.id, actor.id, "me_too", now):
        db.refresh(order)  # its follower count, as the answer shows it
    return order


def add_follower(db: Session, order_id: int, resident_id: int, reason: str, now: datetime) -> bool:
    """Add the follower in the caller's transaction; False if they already followed it."""
    if db.get(OrderFollower, (order_id, resident_id)) is not None:
        return False
    try:
        with db.begin_nested():
            db.add(OrderFollower(order_id=order_id, resident_id=resident_id, reason=reason, created_at=now))
    except IntegrityError:  # the same follow, at the same moment, from another request
        return False
    db.execute(update(Order).where(col(Order.id) == order_id)
               .values(follower_count=col(Order.follower_count) + 1))
    return True


@use_case
def unfollow_order(db: Session, actor: Principal, order_id: int, *, now: datetime) -> None:
    if actor.role != Role.RESIDENT:
        raise NotPermitted(key="follow.residents-only")
    gone = db.execute(delete(OrderFollower).where(
        col(OrderFollower.order_id) == order_id, col(OrderFollower.resident_id) == actor.id)).rowcount
    if gone:
        db.execute(update(Order).where(col(Order.id) == order_id)
                   .values(follower_count=col(Order.follower_count) - 1))


def _nearby_statements():
    """Built once: the category's town rules, and its open orders in a box placed since a moment."""
    c, t, o = Category.__table__.c, Town.__table__.c, Order.__table__.c
    rules = (select(c.name, c.town_id, c.public_requests, t.nearby_radius_m, t.nearby_days).select_from(Category.__table__.join(
        Town.__table__, t.id == c.town_id)).where(c.id == bindparam("category_id")))
    near = (select(o.id, o.state, o.description, o.latitude, o.longitude, o.created_at, o.follower_count,
                   o.resident_id)
            .where(o.category_id == bindparam("category_id"),
                   o.latitude.between(bindparam("min_lat", type_=Float), bindparam("max_lat", type_=Float)),
                   o.longitude.between(bindparam("min_lng", type_=Float), bindparam("max_lng", type_=Float)),
                   o.state.in_([s.value for s in sorted(OPEN_STATES)]),
                   o.created_at >= bindparam("since", type_=UTCDateTime)))
    return rules, near


_NEARBY_RULES, _NEARBY = _nearby_statements()


def following_ids(db: Session, resident_id: int, order_ids: list[int]) -> set[int]:
    """Of these orders, those the resident follows (and did not place)."""
    if not order_ids:
        return set()
    return set(db.exec(select(OrderFollower.order_id).where(
        OrderFollower.resident_id == resident_id, col(OrderFollower.order_id).in_(order_ids))).all())


def pass_followers_on(db: Session, duplicate: Order, original: Order, now: datetime) -> None:
    """Who followed the duplicate follows the original too: the duplicate will hear of nothing more."""
    for resident_id in db.exec(select(OrderFollower.resident_id).where(
            OrderFollower.order_id == duplicate.id, OrderFollower.resident_id != original.resident_id)).all():
        add_follower(db, original.id, resident_id, "duplicate", now)


def original_for_duplicate(db: Session, actor: Principal, order: Order, original_id: int) -> Order:
    """The order a duplicate is rejected in favour of: one the grid worker sees, of the same town, still open."""
    if original_id == order.id:
        raise RuleViolation(key="duplicate.itself")
    original = load_visible_order(db, actor, original_id)
    if original.town_id != order.town_id or OrderState(original.state) not in OPEN_STATES:
        raise RuleViolation(key="duplicate.original-not-open", id=original_id)
    return original
