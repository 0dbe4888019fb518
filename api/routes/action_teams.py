"""Action teams (行动队) over HTTP: the branch keeps its teams; `POST /orders/{id}/dispatch` with
`action_team_id` dispatches to one.

The town admin keeps the teams of every branch (naming `branch_id`), a secretary those of
their branch; the people on a team read their own teams.
"""

from __future__ import annotations

from api.deps import CurrentUser, Db, Now, Paging, PathId, QueryBool, QueryId
from api.problems import problem_responses
from api.routing import api_router
from workflows import action_teams
from workflows.action_team_inputs import ActionTeamCreate, ActionTeamUpdate, ActionTeamView
from workflows.paging import Page

router = api_router(tags=["action teams"], responses=problem_responses(401, 403))
WRITE = problem_responses(404, 409, body=True)


@router.post("/action-teams", status_code=201, responses=WRITE)
def create_team(body: ActionTeamCreate, user: CurrentUser, db: Db, now: Now) -> ActionTeamView:
    """A team of one village cadre, one party member (who holds what it is dispatched) and local worthies."""
    team = action_teams.create_team(db, user, body, now=now)
    return action_teams.team_views(db, [team])[0]


@router.patch("/action-teams/{team_id}", responses=WRITE)
def update_team(team_id: PathId, body: ActionTeamUpdate, user: CurrentUser, db: Db, now: Now) -> ActionTeamView:
    """Change the team; `worthy_ids`, when given, replaces the list; `active: false` stops dispatch to it."""
    team = action_teams.update_team(db, user, team_id, body, now=now)
    return action_teams.team_views(db, [team])[0]


@router.get("/action-teams", responses=problem_responses(422))
def list_teams(user: CurrentUser, db: Db, page: Paging, branch_id: QueryId = None,
               active: QueryBool | None = None) -> Page[ActionTeamView]:
    """The teams the caller may see: the town's (admin), the branch's (secretary), one's own."""
    items, total = action_teams.list_teams(db, user, page, branch_id=branch_id, active=active)
    return Page(items=items, total=total, **vars(page))


@router.get("/action-teams/{team_id}", responses=problem_responses(404, 422))
def get_team(team_id: PathId, user: CurrentUser, db: Db) -> ActionTeamView:
    return action_teams.get_team(db, user, team_id)
