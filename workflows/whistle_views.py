"""What the API shows of whistles: a unit's list, one whistle, and the whistles of an order."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, false
from sqlmodel import Session, col, select

from domain.deadlines import overdue_seconds
from domain.errors import NotFound
from domain.roles import Role
from domain.states import OrderState
from domain.whistles import WhistleState, reported_on_time, whistle_actions
from storage.models import Branch, Category, Grid, Order, Unit, Whistle
from workflows.paging import PageRequest, fetch_page
from workflows.principal import Principal
from workflows.refs import Ref
from workflows.whistle_inputs import WhistleItem, WhistleOrder, WhistleView


def visible_whistles(actor: Principal) -> ColumnElement[bool]:
    """A unit's staff see their unit's whistles; a secretary the branch's; the town admin the town's."""
    match actor.role:
        case Role.UNIT_STAFF if actor.unit_id is not None:
            return col(Whistle.unit_id) == actor.unit_id
        case Role.SECRETARY:
            return col(Whistle.branch_id) == actor.branch_id
        case Role.TOWN_ADMIN:
            return col(Whistle.town_id) == actor.town_id
    return false()


def whistle_view(whistle, unit_name: str, unit_kind: str, viewer: Principal, now: datetime,
                 shape: type[WhistleView] = WhistleView, **more) -> WhistleView:
    """A `Whistle`, or a row with its columns, as `viewer` sees it."""
    state = WhistleState(whistle.state)
    late = overdue_seconds(whistle.stage_deadline, now) if state.is_open else 0
    own = viewer.role == Role.UNIT_STAFF and viewer.unit_id == whistle.unit_id
    return shape(
        id=whistle.id, order_id=whistle.order_id, unit=Ref(id=whistle.unit_id, name=unit_name), unit_kind=unit_kind,
        state=state.value, state_label=state.label, urgency=whistle.urgency, note=whistle.note,
        whistled_at=whistle.whistled_at, report_deadline=whistle.report_deadline, reported_at=whistle.reported_at,
        reported_on_time=reported_on_time(whistle.reported_at or whistle.declined_at, whistle.report_deadline, now),
        reply_deadline=whistle.reply_deadline, replied_at=whistle.replied_at, reply_note=whistle.reply_note,
        declined_at=whistle.declined_at, decline_reason=whistle.decline_reason,
        overdue=late > 0, overdue_seconds=late, settled=whistle.settled,
        allowed_actions=whistle_actions(state) if own and not whistle.settled else [],
        **more,
    )


def order_whistles(db: Session, order_id: int, viewer: Principal, now: datetime) -> list[WhistleView]:
    """The units called in on an order, first whistled first."""
    rows = db.exec(
        select(Whistle, Unit.name, Unit.kind).join(Unit, col(Unit.id) == col(Whistle.unit_id))
        .where(Whistle.order_id == order_id).order_by(col(Whistle.id))
    ).all()
    return [whistle_view(w, name, kind, viewer, now) for w, name, kind in rows]


@dataclass(frozen=True)
class WhistleFilters:
    state: list[WhistleState] | None = None
    unit_id: int | None = None
    overdue: bool | None = None
    open_only: bool = False


def _items(db: Session, statement, viewer: Principal, now: datetime) -> list[WhistleItem]:
    rows = db.exec(statement).all()
    return [
        whistle_view(w, unit_name, unit_kind, viewer, now, WhistleItem, order=WhistleOrder(
            id=o.id, state=o.state, state_label=OrderState(o.state).label, category=category,
            description=o.description, address=o.address, grid=Ref(id=o.grid_id, name=grid),
            branch=Ref(id=o.branch_id, name=branch),
        ))
        for w, unit_name, unit_kind, o, category, grid, branch in rows
    ]


def _with_order():
    return (
        select(Whistle, Unit.name, Unit.kind, Order, Category.name, Grid.name, Branch.name)
        .join(Unit, col(Unit.id) == col(Whistle.unit_id))
        .join(Order, col(Order.id) == col(Whistle.order_id))
        .join(Category, col(Category.id) == col(Order.category_id))
        .join(Grid, col(Grid.id) == col(Order.grid_id))
        .join(Branch, col(Branch.id) == col(Order.branch_id))
    )


def list_whistles(db: Session, actor: Principal, filters: WhistleFilters, page: PageRequest,
                  now: datetime) -> tuple[list[WhistleItem], int]:
    """Whistles the caller may see, the ones due soonest first (those done after, newest first)."""
    where = [visible_whistles(actor)]
    if filters.state:
        where.append(col(Whistle.state).in_([s.value for s in filters.state]))
    if filters.unit_id is not None:
        where.append(Whistle.unit_id == filters.unit_id)
    if filters.open_only:
        where.append(~col(Whistle.settled))
    if filters.overdue is not None:
        late = col(Whistle.stage_deadline) < now
        where.append(late if filters.overdue else ~late | col(Whistle.stage_deadline).is_(None))
    statement = _with_order().where(*where).order_by(
        col(Whistle.stage_deadline).is_(None), col(Whistle.stage_deadline), col(Whistle.id).desc())
    ids, total = fetch_page(db, select(Whistle.id).where(*where).order_by(
        col(Whistle.stage_deadline).is_(None), col(Whistle.stage_deadline), col(Whistle.id).desc()), page)
    if not ids:
        return [], total
    items = {i.id: i for i in _items(db, statement.where(col(Whistle.id).in_(ids)), actor, now)}
    return [items[i] for i in ids], total


def get_whistle(db: Session, actor: Principal, whistle_id: int, now: datetime) -> WhistleItem:
    found = _items(db, _with_order().where(Whistle.id == whistle_id, visible_whistles(actor)), actor, now)
    if not found:
        raise NotFound(key="whistle.not-found", id=whistle_id)
    return found[0]
