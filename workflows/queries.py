"""Read use cases: lists in a stable order, one order with its timeline, branch load."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field
from sqlalchemy import func
from sqlmodel import Session, col, select

from domain.errors import NotPermitted
from domain.messages import Term
from domain.roles import ROLE_LABELS, Role
from domain.states import OPEN_STATES, OrderState
from storage.models import Order, Staff, StatsCount
from workflows.paging import Page, PageRequest, fetch_page
from workflows.photo_links import PhotoLinks
from workflows.principal import Principal
from workflows.scope import load_visible_order, visible_orders
from workflows.stats import branch_cube, counted_as_of
from workflows.views import OrderDetail, OrderView, order_detail, order_views


@dataclass(frozen=True)
class OrderFilters:
    state: list[OrderState] | None = None
    grid_id: int | None = None
    category_id: int | None = None
    assignee_id: int | None = None
    overdue: bool | None = None
    sort: Literal["newest", "oldest", "deadline"] = "newest"


OrderPage = Page[OrderView]


# What waits on each role: the grid worker claims, the secretary dispatches, the member acts.
TODO_STATES: dict[Role, tuple[OrderState, ...]] = {
    Role.GRID_WORKER: (OrderState.SUBMITTED,),
    Role.SECRETARY: (OrderState.CLAIMED,),
    Role.MEMBER: (OrderState.DISPATCHED, OrderState.IN_PROGRESS),
    Role.RESIDENT: (OrderState.COMPLETED,),
}


def list_orders(
    db: Session, actor: Principal, filters: OrderFilters, page: PageRequest, now: datetime, *extra
) -> OrderPage:
    conditions = [visible_orders(actor), *extra]
    if filters.state:
        conditions.append(col(Order.state).in_([s.value for s in filters.state]))
    if filters.grid_id is not None:
        conditions.append(Order.grid_id == filters.grid_id)
    if filters.category_id is not None:
        conditions.append(Order.category_id == filters.category_id)
    if filters.assignee_id is not None:
        conditions.append(Order.assignee_id == filters.assignee_id)
    if filters.overdue is True:
        conditions.append(col(Order.stage_deadline) < now)
    elif filters.overdue is False:
        conditions.append((col(Order.stage_deadline) >= now) | col(Order.stage_deadline).is_(None))
    order_by = {
        "newest": (col(Order.id).desc(),),
        "oldest": (col(Order.id).asc(),),
        # Most overdue first: the earliest deadline is the furthest past it.
        "deadline": (col(Order.stage_deadline).asc().nulls_last(), col(Order.id).asc()),
    }[filters.sort]
    rows, total = fetch_page(db, select(Order).where(*conditions).order_by(*order_by), page)
    return OrderPage(items=order_views(db, rows, actor, now), total=total, limit=page.limit, offset=page.offset)


def todo_orders(db: Session, actor: Principal, page: PageRequest, now: datetime) -> OrderPage:
    states = TODO_STATES.get(actor.role)
    if states is None:
        raise NotPermitted(key="todo.none-for-role", role=Term(actor.role.value, ROLE_LABELS[actor.role]))
    filters = OrderFilters(state=list(states), sort="deadline")
    if actor.role == Role.MEMBER:
        filters = OrderFilters(state=list(states), sort="deadline", assignee_id=actor.id)
    extra = ()
    if actor.role == Role.GRID_WORKER:
        # Not the ones they placed in other grids: those are another grid worker's to claim.
        extra = (col(Order.grid_id).in_(sorted(actor.grid_ids)),)
    elif actor.role == Role.RESIDENT:
        extra = (col(Order.resident_id) == actor.id,)  # the orders they follow are not theirs to rate
    return list_orders(db, actor, filters, page, now, *extra)


def get_order(db: Session, actor: Principal, order_id: int, now: datetime, links: PhotoLinks) -> OrderDetail:
    return order_detail(db, load_visible_order(db, actor, order_id), actor, now, links)


class MemberLoad(BaseModel):
    id: int
    name: str
    phone: str
    is_local_worthy: bool
    open_orders: int


def branch_members(db: Session, actor: Principal, page: PageRequest) -> Page[MemberLoad]:
    """Members of the secretary's branch with the orders they hold now, lightest first."""
    if actor.role != Role.SECRETARY:
        raise NotPermitted(key="branch-members.secretary-only")
    open_states = [s.value for s in OPEN_STATES]
    load = (
        select(Order.assignee_id, func.count().label("n"))
        .where(col(Order.state).in_(open_states), Order.branch_id == actor.branch_id)
        .group_by(col(Order.assignee_id))
        .subquery()
    )
    statement = (
        select(Staff, func.coalesce(load.c.n, 0))
        .outerjoin(load, load.c.assignee_id == Staff.id)
        .where(Staff.branch_id == actor.branch_id, Staff.role == Role.MEMBER.value, col(Staff.active))
        .order_by(func.coalesce(load.c.n, 0), col(Staff.id))
    )
    rows, total = fetch_page(db, statement, page)
    items = [
        MemberLoad(id=s.id, name=s.name, phone=s.phone, is_local_worthy=s.is_local_worthy, open_orders=n)
        for s, n in rows
    ]
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


class StateCounts(BaseModel):
    town_id: int
    total: int
    by_state: dict[str, int]
    labels: dict[str, str]
    overdue: int
    as_of: datetime | None = Field(
        description="The counts by state count every move made up to this moment; null before the first count.")


def state_counts(db: Session, actor: Principal, now: datetime) -> StateCounts:
    """Orders of the town by state, and how many open stages are overdue now."""
    if actor.role not in (Role.TOWN_ADMIN, Role.DASHBOARD) or actor.town_id is None:
        raise NotPermitted(key="counts.for-whom")
    # The branch cube's state counters, over every day: what a count of the orders gives.
    rows = db.exec(
        select(StatsCount.metric, func.sum(StatsCount.n))
        .where(StatsCount.town_id == actor.town_id, *branch_cube(StatsCount), col(StatsCount.metric).startswith("state:"))
        .group_by(col(StatsCount.metric))
    ).all()
    counts = {s.value: 0 for s in OrderState}
    counts.update({metric.removeprefix("state:"): int(n or 0) for metric, n in rows})
    overdue = db.exec(
        select(func.count()).select_from(Order).where(Order.town_id == actor.town_id, col(Order.stage_deadline) < now)
    ).one()
    return StateCounts(
        town_id=actor.town_id, total=sum(counts.values()), by_state=counts,
        labels={s.value: s.label for s in OrderState}, overdue=overdue, as_of=counted_as_of(db),
    )
