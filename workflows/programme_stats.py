"""The dashboard's view of what runs beside the loop: the year's projects, the three lists, the task board.

For the caller's stats scope (the town, or a secretary's branch): the projects of a year
by state, with milestones and linked orders; the community's needs by state; the
resources offered, by kind; the orders on a task board now (揭榜). Counted from the rows.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field
from sqlalchemy import func
from sqlmodel import Session, col, select

from domain.states import OrderState
from domain.three_lists import NEED_STATE_LABELS, RESOURCE_KIND_LABELS, NeedState, ResourceKind
from storage.models import CommunityNeed, Order, Resource, Staff, Town
from workflows.principal import Principal
from workflows.projects import ProjectStats, count_projects
from workflows.stats import StatsQuery, resolve_scope


class ProgrammeStats(BaseModel):
    town_id: int
    scope: dict[str, int | None]
    year: int
    projects: ProjectStats
    needs: dict[str, int] = Field(description="Entered needs by state: open 待对接, matched 已对接, closed.")
    need_labels: dict[str, str]
    resources: dict[str, int] = Field(description="Active resources offered, by kind.")
    resource_labels: dict[str, str]
    tasks_on_board: int = Field(description="Claimed orders on a branch's task board (揭榜) now.")
    as_of: datetime


def programme_stats(db: Session, actor: Principal, *, year: int | None, branch_id: int | None,
                    now: datetime) -> ProgrammeStats:
    scope = resolve_scope(db, actor, StatsQuery(branch_id=branch_id), now)
    town = db.get(Town, scope.town_id)
    year = year or now.astimezone(ZoneInfo(town.timezone)).year
    needs_where = [CommunityNeed.town_id == town.id]
    resources_where = [Resource.town_id == town.id, col(Resource.active).is_(True)]
    board_where = [Order.town_id == town.id, Order.state == OrderState.CLAIMED.value, col(Order.task_until) > now]
    if scope.branch_id is not None:
        needs_where.append(CommunityNeed.branch_id == scope.branch_id)
        members = select(Staff.id).where(Staff.branch_id == scope.branch_id)
        resources_where.append(col(Resource.member_id).in_(members))
        board_where.append(Order.branch_id == scope.branch_id)
    needs = dict(db.exec(select(CommunityNeed.state, func.count()).where(*needs_where)
                         .group_by(col(CommunityNeed.state))).all())
    resources = dict(db.exec(select(Resource.kind, func.count()).where(*resources_where)
                             .group_by(col(Resource.kind))).all())
    on_board = db.exec(select(func.count()).select_from(Order).where(*board_where)).one()
    return ProgrammeStats(
        town_id=town.id, scope={"branch_id": scope.branch_id}, year=year,
        projects=count_projects(db, town.id, year, scope.branch_id),
        needs={s.value: int(needs.get(s.value, 0)) for s in NeedState},
        need_labels={s.value: NEED_STATE_LABELS[s] for s in NeedState},
        resources={k.value: int(resources.get(k.value, 0)) for k in ResourceKind},
        resource_labels={k.value: RESOURCE_KIND_LABELS[k] for k in ResourceKind},
        tasks_on_board=int(on_board), as_of=now)
