"""驻点直联 counted the way the town office reports it: 走访率 and the requests from visits.

For the visits of the period (their town days) in the caller's scope (the town, the
secretary's branch, a grid), in all and per team:

- households: recorded in the scope's grids (per team: in its grids within the scope);
- households_visited: of those, visited at least once in the period (per team: by it);
- 走访率 = households_visited ÷ households;
- visits, and the needs found on them (orders placed with the visit): collected, solved
  (the order closed), open (still in the loop).

Counted straight from the rows, as they are now.
"""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field
from sqlalchemy import func
from sqlmodel import Session, col, select

from domain.states import OPEN_STATES, OrderState
from domain.stats import share
from domain.visits import visit_rate
from storage.models import Household, Order, Visit, VisitTeam, VisitTeamGrid
from workflows.principal import Principal
from workflows.refs import Ref
from workflows.stats import StatsQuery, count_where, resolve_scope

class VisitCounts(BaseModel):
    households: int
    households_visited: int
    visit_rate: float | None = Field(description="走访率: households_visited ÷ households.")
    visits: int
    needs_collected: int = Field(description="Orders placed with the period's visits.")
    needs_solved: int = Field(description="Of those, closed.")
    needs_open: int = Field(description="Of those, still in the loop.")
    solved_rate: float | None = Field(description="needs_solved ÷ needs_collected.")


class TeamRow(VisitCounts):
    team: Ref


class VisitStats(BaseModel):
    town_id: int
    scope: dict[str, int | None]
    date_from: date
    date_to: date
    total: VisitCounts
    teams: list[TeamRow]
    as_of: datetime


def visit_stats(db: Session, actor: Principal, query: StatsQuery, now: datetime, *,
                team_id: int | None = None) -> VisitStats:
    scope = resolve_scope(db, actor, StatsQuery(query.date_from, query.date_to, query.branch_id, query.grid_id), now)
    grids = [scope.grid_id] if scope.grid_id is not None else list(scope.grid_ids)
    in_period = [Visit.town_id == scope.town_id, col(Visit.grid_id).in_(grids),
                 col(Visit.visited_on) >= scope.date_from, col(Visit.visited_on) <= scope.date_to]

    def visits_by(group):
        """(visits, households visited) per group, and needs collected, solved, open per group."""
        seen = {row[0]: row[1:] for row in db.exec(
            select(group, func.count(), func.count(func.distinct(Visit.household_id))).where(*in_period)
            .group_by(group)).all()}
        needs = {row[0]: row[1:] for row in db.exec(
            select(group, func.count(),
                   count_where(Order.state == OrderState.CLOSED.value),
                   count_where(col(Order.state).in_([s.value for s in OPEN_STATES])))
            .join(Order, col(Order.visit_id) == Visit.id).where(*in_period).group_by(group)).all()}
        return seen, needs

    households = db.exec(select(func.count()).select_from(Household).where(col(Household.grid_id).in_(grids))).one()
    seen, needs = visits_by(Visit.town_id)
    total = _counts(households, seen.get(scope.town_id), needs.get(scope.town_id))

    teams = select(VisitTeam).where(VisitTeam.town_id == scope.town_id)
    if team_id is not None:
        teams = teams.where(VisitTeam.id == team_id)
    stationed = select(VisitTeamGrid.team_id).where(col(VisitTeamGrid.grid_id).in_(grids))
    rows = db.exec(teams.where(col(VisitTeam.id).in_(stationed)).order_by(col(VisitTeam.id))).all()
    team_households = dict(db.exec(
        select(VisitTeamGrid.team_id, func.count(col(Household.id)))
        .join(Household, col(Household.grid_id) == VisitTeamGrid.grid_id)
        .where(col(VisitTeamGrid.grid_id).in_(grids)).group_by(col(VisitTeamGrid.team_id))).all())
    team_seen, team_needs = visits_by(Visit.team_id)
    return VisitStats(
        town_id=scope.town_id, scope={"branch_id": scope.branch_id, "grid_id": scope.grid_id, "team_id": team_id},
        date_from=scope.date_from, date_to=scope.date_to, total=total,
        teams=[TeamRow(team=Ref(id=t.id, name=t.name),
                       **_counts(team_households.get(t.id, 0), team_seen.get(t.id), team_needs.get(t.id)).model_dump())
               for t in rows],
        as_of=now)


def _counts(households: int, seen, needs) -> VisitCounts:
    visits, visited = (int(n or 0) for n in (seen or (0, 0)))
    collected, solved, still_open = (int(n or 0) for n in (needs or (0, 0, 0)))
    return VisitCounts(households=households, households_visited=visited, visit_rate=visit_rate(visited, households),
                       visits=visits, needs_collected=collected, needs_solved=solved, needs_open=still_open,
                       solved_rate=share(solved, collected))
