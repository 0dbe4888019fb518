"""派单建议: the members a secretary might dispatch a claimed order to, best first, with reasons.

Only for an order this person may dispatch now (the transition table says who and when:
otherwise the same 403 or 409 as the dispatch itself). The order's household is the one
it was placed for: the household of its grid at the order's phone, else at its address.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel, Field
from sqlalchemy import func
from sqlmodel import Session, col, select

from domain.points import PointRule
from domain.roles import Role
from domain.states import OrderState
from domain.suggestions import Candidate, rank
from domain.transitions import Action
from storage.models import Building, Household, Order, PointEntry, Staff, TaskVolunteer
from workflows.households import household_at
from workflows.principal import Principal
from workflows.refs import Ref
from workflows.scope import load_visible_order
from workflows.stats import count_where
from workflows.transition import authorise

RECENT_DAYS = 90


class SuggestionReason(BaseModel):
    code: str
    label: str = Field(description="In Chinese, for the app.")
    value: int
    weight: int = Field(description="What it added to the score.")


class MemberSuggestion(BaseModel):
    member: Ref
    is_local_worthy: bool
    score: int
    reasons: list[SuggestionReason]


class HouseholdRef(BaseModel):
    id: int
    address: str
    building_id: int | None


class DispatchSuggestions(BaseModel):
    order_id: int
    household: HouseholdRef | None = Field(description="The household the order was matched to, if any.")
    items: list[MemberSuggestion]


def _household_of(db: Session, order: Order) -> Household | None:
    """The household the order was placed for; for an order placed before households were
    recorded, the grid's household at its phone or address now."""
    if order.household_id is None:
        found = db.exec(select(household_at(order.grid_id, order.contact_phone, order.address))).first()
        if found is None:
            return None
        return db.get(Household, found)
    return db.get(Household, order.household_id)


def dispatch_suggestions(db: Session, actor: Principal, order_id: int, *, now: datetime) -> DispatchSuggestions:
    order = load_visible_order(db, actor, order_id)
    authorise(order, Action.DISPATCH, actor)
    members = db.exec(select(Staff).where(Staff.branch_id == order.branch_id, Staff.role == Role.MEMBER.value,
                                          col(Staff.active).is_(True)).order_by(col(Staff.id))).all()
    ids = [m.id for m in members]
    household = _household_of(db, order)
    leader = homes = None
    if household is not None and household.building_id is not None:
        leader = db.get(Building, household.building_id).group_leader_id
        homes = set(db.exec(select(Household.central_member_id).where(
            Household.building_id == household.building_id, col(Household.central_member_id).is_not(None))).all())
    open_orders = dict(db.exec(
        select(Order.assignee_id, func.count()).where(
            col(Order.assignee_id).in_(ids),
            col(Order.state).in_([OrderState.DISPATCHED.value, OrderState.IN_PROGRESS.value]))
        .group_by(col(Order.assignee_id))).all()) if ids else {}
    since = (now - timedelta(days=RECENT_DAYS)).date()
    recent = {m: (int(p or 0), int(o or 0)) for m, p, o in db.exec(
        select(PointEntry.member_id, func.sum(PointEntry.points),
               count_where(PointEntry.rule == PointRule.OVERDUE_COMPLETION.value))
        .where(col(PointEntry.member_id).in_(ids), col(PointEntry.day) >= since)
        .group_by(col(PointEntry.member_id))).all()} if ids else {}
    volunteers = set(db.exec(select(TaskVolunteer.member_id).where(TaskVolunteer.order_id == order.id)).all())
    candidates = [Candidate(
        member_id=m.id,
        paired=household is not None and household.paired_member_id == m.id,
        leads_building=leader == m.id,
        home_in_building=bool(homes) and m.id in homes,
        open_orders=open_orders.get(m.id, 0),
        points_recently=recent.get(m.id, (0, 0))[0],
        overdue_recently=recent.get(m.id, (0, 0))[1],
        volunteered=m.id in volunteers,
    ) for m in members]
    by_id = {m.id: m for m in members}
    return DispatchSuggestions(
        order_id=order.id,
        household=HouseholdRef(id=household.id, address=household.address, building_id=household.building_id)
        if household is not None else None,
        items=[MemberSuggestion(
            member=Ref(id=s.member_id, name=by_id[s.member_id].name),
            is_local_worthy=by_id[s.member_id].is_local_worthy, score=s.score,
            reasons=[SuggestionReason(code=r.code, label=r.label, value=r.value, weight=r.weight) for r in s.reasons],
        ) for s in rank(candidates)],
    )
