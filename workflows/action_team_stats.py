"""By action team (行动队): what each team of the scope was dispatched and how it went.

For the teams of the caller's scope (the town, or a secretary's branch): of the orders
placed in the period (town days) that a team holds (dispatched to it and not handed back
by a decline or a reopen): held, still open, closed, the 办结率 (closed ÷ held), and the
satisfaction of the closed ones rated by a person (4–5 stars ÷ rated, default ratings
apart). Counted from the rows as they are.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field
from sqlalchemy import func
from sqlmodel import Session, col, select

from domain.rating import SATISFIED_MIN_STARS, RatingSource
from domain.states import OrderState
from domain.stats import share
from storage.models import ActionTeam, ActionTeamWorthy, Branch, Order, Staff
from workflows.ledger import period_bounds
from workflows.principal import Principal
from workflows.refs import Ref, names, ref
from workflows.stats import StatsQuery, count_where, resolve_scope


class ActionTeamRow(BaseModel):
    team: Ref
    branch: Ref
    lead: Ref
    worthies: int
    active: bool
    held: int = Field(description="Orders placed in the period that the team holds.")
    open: int = Field(description="Of those, dispatched or in progress.")
    closed: int
    resolution_rate: float | None = Field(description="办结率: closed ÷ held.")
    rated: int
    satisfied: int
    satisfaction_rate: float | None


class ActionTeamStats(BaseModel):
    town_id: int
    scope: dict[str, int | None]
    date_from: date
    date_to: date
    teams: list[ActionTeamRow]
    as_of: datetime


def action_team_stats(db: Session, actor: Principal, query: StatsQuery, now: datetime) -> ActionTeamStats:
    scope = resolve_scope(db, actor, StatsQuery(query.date_from, query.date_to, query.branch_id), now)
    start, end = period_bounds(scope.date_from, scope.date_to, ZoneInfo(scope.timezone))
    where = [ActionTeam.town_id == scope.town_id]
    if scope.branch_id is not None:
        where.append(ActionTeam.branch_id == scope.branch_id)
    teams = db.exec(select(ActionTeam).where(*where).order_by(col(ActionTeam.branch_id), col(ActionTeam.id))).all()
    ids = [t.id for t in teams]
    worthies = dict(db.exec(select(ActionTeamWorthy.team_id, func.count()).where(
        col(ActionTeamWorthy.team_id).in_(ids)).group_by(col(ActionTeamWorthy.team_id))).all()) if ids else {}
    closed = Order.state == OrderState.CLOSED.value
    rated = closed & col(Order.rating_stars).is_not(None) & (Order.rating_source != RatingSource.DEFAULT.value)
    still_open = col(Order.state).in_([OrderState.DISPATCHED.value, OrderState.IN_PROGRESS.value])
    orders = {row[0]: tuple(int(n or 0) for n in row[1:]) for row in db.exec(
        select(Order.action_team_id, func.count(), count_where(still_open), count_where(closed), count_where(rated),
               count_where(rated & (col(Order.rating_stars) >= SATISFIED_MIN_STARS)))
        .where(col(Order.action_team_id).in_(ids), col(Order.created_at) >= start, col(Order.created_at) < end)
        .group_by(col(Order.action_team_id))).all()} if ids else {}
    branches = names(db, Branch, [t.branch_id for t in teams])
    leads = names(db, Staff, [t.lead_id for t in teams])
    rows = []
    for t in teams:
        held, n_open, done, n_rated, satisfied = orders.get(t.id, (0, 0, 0, 0, 0))
        rows.append(ActionTeamRow(
            team=Ref(id=t.id, name=t.name), branch=ref(t.branch_id, branches), lead=ref(t.lead_id, leads),
            worthies=int(worthies.get(t.id, 0)), active=t.active, held=held, open=n_open, closed=done,
            resolution_rate=share(done, held), rated=n_rated, satisfied=satisfied,
            satisfaction_rate=share(satisfied, n_rated)))
    return ActionTeamStats(town_id=scope.town_id, scope={"branch_id": scope.branch_id},
                           date_from=scope.date_from, date_to=scope.date_to, teams=rows, as_of=now)
