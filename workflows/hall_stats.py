"""群众说事厅 counted the way the town office reports it: sessions, 下访, matters said and solved.

For the period (town days) in the caller's scope (the town, or the secretary's branch's
halls), in all and per hall: reception sessions (接访) and down-visits (下访) that began
in it; the matters recorded in it, settled on the spot, placed as orders, those orders
closed; solved = settled on the spot + orders closed, and the rate solved ÷ matters.
Counted straight from the rows, as they are now.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field
from sqlalchemy import func
from sqlmodel import Session, col, select

from domain.halls import MatterOutcome, SessionKind
from domain.states import OrderState
from domain.stats import share
from storage.models import Hall, HallMatter, HallSession, Order
from workflows.ledger import period_bounds
from workflows.principal import Principal
from workflows.refs import Ref
from workflows.stats import StatsQuery, count_where, resolve_scope


class HallCounts(BaseModel):
    receptions: int = Field(description="接访 sessions that began in the period.")
    down_visits: int = Field(description="下访 that began in the period.")
    matters: int = Field(description="Matters said (recorded) in the period.")
    settled: int = Field(description="Of those, settled on the spot.")
    ordered: int = Field(description="Of those, placed as orders (channel `hall`).")
    orders_closed: int
    solved: int = Field(description="settled + orders_closed.")
    solved_rate: float | None = Field(description="solved ÷ matters.")


class HallRow(HallCounts):
    hall: Ref


class HallStats(BaseModel):
    town_id: int
    scope: dict[str, int | None]
    date_from: date
    date_to: date
    total: HallCounts
    halls: list[HallRow]
    as_of: datetime


def hall_stats(db: Session, actor: Principal, query: StatsQuery, now: datetime) -> HallStats:
    scope = resolve_scope(db, actor, StatsQuery(query.date_from, query.date_to, query.branch_id), now)
    start, end = period_bounds(scope.date_from, scope.date_to, ZoneInfo(scope.timezone))
    halls = select(Hall).where(Hall.town_id == scope.town_id)
    if scope.branch_id is not None:
        halls = halls.where(Hall.branch_id == scope.branch_id)
    rows = db.exec(halls.order_by(col(Hall.id))).all()
    ids = [h.id for h in rows]
    sessions = {hall_id: (int(r or 0), int(d or 0)) for hall_id, r, d in db.exec(
        select(HallSession.hall_id, count_where(HallSession.kind == SessionKind.RECEPTION.value),
               count_where(HallSession.kind == SessionKind.DOWN.value))
        .where(col(HallSession.hall_id).in_(ids), col(HallSession.starts_at) >= start, col(HallSession.starts_at) < end)
        .group_by(col(HallSession.hall_id))).all()} if ids else {}
    matters = {row[0]: tuple(int(n or 0) for n in row[1:]) for row in db.exec(
        select(HallMatter.hall_id, func.count(), count_where(HallMatter.outcome == MatterOutcome.SETTLED.value),
               count_where(HallMatter.outcome == MatterOutcome.ORDER.value), count_where(Order.state == OrderState.CLOSED.value))
        .outerjoin(Order, col(Order.id) == HallMatter.order_id)
        .where(col(HallMatter.hall_id).in_(ids), col(HallMatter.recorded_at) >= start,
               col(HallMatter.recorded_at) < end)
        .group_by(col(HallMatter.hall_id))).all()} if ids else {}
    per_hall = [HallRow(hall=Ref(id=h.id, name=h.name),
                        **_counts(sessions.get(h.id, (0, 0)), matters.get(h.id, (0, 0, 0, 0)))) for h in rows]
    keys = ("receptions", "down_visits", "matters", "settled", "ordered", "orders_closed")
    n = {k: sum(getattr(r, k) for r in per_hall) for k in keys}
    total = HallCounts(**_counts((n["receptions"], n["down_visits"]),
                                 (n["matters"], n["settled"], n["ordered"], n["orders_closed"])))
    return HallStats(town_id=scope.town_id, scope={"branch_id": scope.branch_id}, date_from=scope.date_from,
                     date_to=scope.date_to, total=total, halls=per_hall, as_of=now)


def _counts(sessions: tuple[int, int], matters: tuple[int, int, int, int]) -> dict:
    receptions, down = sessions
    said, settled, ordered, closed = matters
    return {"receptions": receptions, "down_visits": down, "matters": said, "settled": settled, "ordered": ordered,
            "orders_closed": closed, "solved": settled + closed, "solved_rate": share(settled + closed, said)}
