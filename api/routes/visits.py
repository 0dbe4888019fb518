"""驻点直联 over HTTP: the town admin keeps the teams; their members record visits from the mobile API.

`POST /visits` records a visit to a household and places each need found as an order on
the resident's behalf (channel `visit`), all in one transaction. `/visit-teams/{id}/plan`
is the team's week: its 直联日 and its households, those longest unvisited first.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from api.deps import Admin, AppSettings, CurrentUser, Db, Now, Paging, PathId, QueryBool, QueryId
from api.problems import problem_responses
from api.routing import api_router
from workflows import visits
from workflows.inputs import Day
from workflows.paging import Page
from workflows.visit_inputs import TeamCreate, TeamPlan, TeamUpdate, TeamView, VisitCreate, VisitView

router = api_router(tags=["visits"], responses=problem_responses(401, 403))
LIST = problem_responses(422)
ONE = problem_responses(404, 422)
WRITE = problem_responses(404, 409, body=True)


@router.post("/admin/visit-teams", status_code=201, responses=WRITE)
def create_team(body: TeamCreate, user: Admin, db: Db, now: Now) -> TeamView:
    """A standing team (驻点直联组): its members, the grids it is stationed in, its 直联日."""
    team = visits.create_team(db, user, body, now=now)
    return visits.team_views(db, [team])[0]


@router.patch("/admin/visit-teams/{team_id}", responses=WRITE)
def update_team(team_id: PathId, body: TeamUpdate, user: Admin, db: Db, now: Now) -> TeamView:
    """Change the team; `member_ids` and `grid_ids`, when given, replace the lists."""
    team = visits.update_team(db, user, team_id, body, now=now)
    return visits.team_views(db, [team])[0]


@router.get("/visit-teams", responses=LIST)
def list_teams(user: CurrentUser, db: Db, page: Paging, active: QueryBool | None = None) -> Page[TeamView]:
    """The teams the caller may see: the town's (admin), stationed in the branch (secretary), one's own."""
    items, total = visits.list_teams(db, user, page, active=active)
    return Page(items=items, total=total, **vars(page))


@router.get("/visit-teams/{team_id}", responses=ONE)
def get_team(team_id: PathId, user: CurrentUser, db: Db) -> TeamView:
    return visits.get_team(db, user, team_id)


@router.get("/visit-teams/{team_id}/plan", responses=ONE)
def team_plan(team_id: PathId, user: CurrentUser, db: Db, now: Now, page: Paging,
              day: Annotated[Day | None, Query(description="A day of the week wanted (YYYY-MM-DD); default today")]
              = None) -> TeamPlan:
    """The week's 直联日 and the team's households: never visited first, then longest ago."""
    return visits.team_plan(db, user, team_id, page, day=day, now=now)


@router.post("/visits", status_code=201, responses=WRITE)
def record_visit(body: VisitCreate, user: CurrentUser, db: Db, now: Now, settings: AppSettings) -> VisitView:
    """入户走访: record the visit; each need becomes an order on the resident's behalf (channel `visit`)."""
    return visits.record_visit(db, user, body, photos_per_order=settings.photos_per_order, now=now,
                               answer=lambda visit: visits.visit_views(db, [visit])[0])


@router.get("/visits", responses=LIST)
def list_visits(user: CurrentUser, db: Db, page: Paging, team_id: QueryId = None, household_id: QueryId = None,
                grid_id: QueryId = None, date_from: Annotated[Day | None, Query()] = None,
                date_to: Annotated[Day | None, Query()] = None) -> Page[VisitView]:
    """Visits the caller may see, the latest first."""
    items, total = visits.list_visits(db, user, page, team_id=team_id, household_id=household_id, grid_id=grid_id,
                                      date_from=date_from, date_to=date_to)
    return Page(items=items, total=total, **vars(page))


@router.get("/visits/{visit_id}", responses=ONE)
def get_visit(visit_id: PathId, user: CurrentUser, db: Db) -> VisitView:
    return visits.get_visit(db, user, visit_id)
