"""Orders by the channel they came in from: what the town office reports of each door in.

For the orders placed in the period (town days) in the caller's scope (and of the category,
or held by the member, when asked): per channel,
orders placed, cancelled, closed, the 办结率 (closed ÷ placed less cancelled), and the
satisfaction of the closed ones the resident (or a callback) rated: 4–5 stars ÷ rated,
by the rating each closed with. Counted straight from the orders, as they are now.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field
from sqlalchemy import func
from sqlmodel import Session, col, select

from domain.channels import Channel, channel_label
from domain.rating import SATISFIED_MIN_STARS, RatingSource
from domain.states import OrderState
from domain.stats import share
from storage.models import Order
from workflows.ledger import period_bounds
from workflows.principal import Principal
from workflows.stats import StatsQuery, count_where, resolve_scope


class ChannelCounts(BaseModel):
    placed: int
    cancelled: int
    closed: int
    resolution_rate: float | None = Field(description="办结率: closed ÷ (placed − cancelled).")
    rated: int = Field(description="Closed with stars given by the resident or a callback (回访).")
    satisfied: int = Field(description=f"Of those, {SATISFIED_MIN_STARS} stars or more.")
    satisfaction_rate: float | None = Field(description="satisfied ÷ rated.")


class ChannelRow(ChannelCounts):
    channel: str
    channel_label: str


class ChannelStats(BaseModel):
    town_id: int
    scope: dict[str, int | None]
    date_from: date
    date_to: date
    total: ChannelCounts
    channels: list[ChannelRow] = Field(description="Every channel, those with no orders too.")
    as_of: datetime


def channel_stats(db: Session, actor: Principal, query: StatsQuery, now: datetime) -> ChannelStats:
    scope = resolve_scope(db, actor, query, now)
    start, end = period_bounds(scope.date_from, scope.date_to, ZoneInfo(scope.timezone))
    o = Order
    # A duplicate rejected as such counts as the order it repeats, as the dashboards count it.
    where = [o.town_id == scope.town_id, col(o.created_at) >= start, col(o.created_at) < end,
             col(o.duplicate_of_id).is_(None)]
    if scope.branch_id is not None:
        where.append(o.branch_id == scope.branch_id)
    if scope.grid_id is not None:
        where.append(o.grid_id == scope.grid_id)
    if scope.category_id is not None:
        where.append(o.category_id == scope.category_id)
    if scope.member_id is not None:
        where.append(o.assignee_id == scope.member_id)
    closed = o.state == OrderState.CLOSED.value
    rated = closed & col(o.rating_stars).is_not(None) & (o.rating_source != RatingSource.DEFAULT.value)

    found = {row.channel: row for row in db.exec(
        select(o.channel, func.count().label("placed"), count_where(o.state == OrderState.CANCELLED.value).label("cancelled"),
               count_where(closed).label("closed"), count_where(rated).label("rated"),
               count_where(rated & (col(o.rating_stars) >= SATISFIED_MIN_STARS)).label("satisfied"))
        .where(*where).group_by(col(o.channel))
    ).all()}
    names = [c.value for c in Channel] + sorted(set(found) - {c.value for c in Channel})
    rows = [ChannelRow(channel=name, channel_label=channel_label(name), **_counts(found.get(name))) for name in names]
    total = {key: sum(getattr(r, key) for r in rows) for key in _KEYS}
    return ChannelStats(
        town_id=scope.town_id, scope={"branch_id": scope.branch_id, "grid_id": scope.grid_id,
                                         "category_id": scope.category_id, "member_id": scope.member_id},
        date_from=scope.date_from, date_to=scope.date_to, total=ChannelCounts(**_rates(total)), channels=rows,
        as_of=now)


_KEYS = ("placed", "cancelled", "closed", "rated", "satisfied")


def _counts(row) -> dict:
    return _rates({key: int(getattr(row, key) or 0) if row is not None else 0 for key in _KEYS})


def _rates(n: dict) -> dict:
    return {**n, "resolution_rate": share(n["closed"], n["placed"] - n["cancelled"]),
            "satisfaction_rate": share(n["satisfied"], n["rated"])}
