"""Projects (共建项目, 领办项目) over HTTP: published, taken up (揭榜挂帅), milestones, finished (张榜晒单).

Each move answers the project as it now stands; a move its state does not allow is 409
naming the state and the moves allowed.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from api.deps import CurrentUser, Db, Now, Paging, PathId, QueryId
from api.problems import problem_responses
from api.routes.photos import Links
from api.routing import api_router
from domain.projects import ProjectState
from workflows import projects
from workflows.paging import Page

router = api_router(prefix="/projects", tags=["projects"], responses=problem_responses(401, 403))
MOVE = problem_responses(404, 409, body=True)
Year = Annotated[int | None, Query(ge=2000, le=2100, description="The projects of one year")]


def _answer(db, user, links, now):
    return lambda project: projects.project_views(db, [project], links, now)[0]


@router.post("", status_code=201, responses=problem_responses(404, body=True))
def publish(body: projects.ProjectCreate, user: CurrentUser, db: Db, now: Now, links: Links) -> projects.ProjectView:
    """Publish a project for the year: the town's (admin) or a branch's (its secretary, or the admin)."""
    return projects.publish_project(db, user, body, now=now, answer=_answer(db, user, links, now))


@router.get("", responses=problem_responses(422))
def list_projects(user: CurrentUser, db: Db, now: Now, links: Links, page: Paging, year: Year = None,
                  branch_id: QueryId = None,
                  state: Annotated[ProjectState | None, Query(description="open, taken, done, dropped")] = None,
                  ) -> Page[projects.ProjectView]:
    """The town's projects, newest year first: for every staff account of the town."""
    items, total = projects.list_projects(db, user, page, links, now, year=year, branch_id=branch_id, state=state)
    return Page(items=items, total=total, **vars(page))


@router.get("/stats", responses=problem_responses(422))
def stats(user: CurrentUser, db: Db, year: Annotated[int, Query(ge=2000, le=2100)],
          branch_id: QueryId = None) -> projects.ProjectStats:
    """The year's projects counted: by state, taken by members or teams, milestones, linked orders closed."""
    return projects.project_stats(db, user, year=year, branch_id=branch_id)


@router.get("/{project_id}", responses=problem_responses(404, 422))
def get_project(project_id: PathId, user: CurrentUser, db: Db, now: Now, links: Links) -> projects.ProjectView:
    return projects.get_project(db, user, project_id, links, now)


@router.post("/{project_id}/take", responses=MOVE)
def take(project_id: PathId, user: CurrentUser, db: Db, now: Now, links: Links,
         body: projects.ProjectTake | None = None) -> projects.ProjectView:
    """揭榜挂帅: a member takes it up for themselves, or the secretary gives it to an action team."""
    return projects.take_project(db, user, project_id, body or projects.ProjectTake(), now=now,
                                 answer=_answer(db, user, links, now))


@router.post("/{project_id}/milestones", status_code=201, responses=MOVE)
def milestone(project_id: PathId, body: projects.MilestoneCreate, user: CurrentUser, db: Db, now: Now,
              links: Links) -> projects.ProjectView:
    """A milestone reached, with a note and photos (uploaded first with POST /photos)."""
    return projects.record_milestone(db, user, project_id, body, now=now, answer=_answer(db, user, links, now))


@router.post("/{project_id}/orders", responses=MOVE)
def link(project_id: PathId, body: projects.ProjectLink, user: CurrentUser, db: Db, now: Now,
         links: Links) -> projects.ProjectView:
    """Link an order the project answers (one the caller may see)."""
    return projects.link_order(db, user, project_id, body, now=now, answer=_answer(db, user, links, now))


@router.post("/{project_id}/finish", responses=MOVE)
def finish(project_id: PathId, body: projects.ProjectFinish, user: CurrentUser, db: Db, now: Now,
           links: Links) -> projects.ProjectView:
    """张榜晒单: finished, with the result and its photos, for the year's board."""
    return projects.finish_project(db, user, project_id, body, now=now, answer=_answer(db, user, links, now))


@router.post("/{project_id}/drop", responses=MOVE)
def drop(project_id: PathId, body: projects.ProjectDrop, user: CurrentUser, db: Db, now: Now,
         links: Links) -> projects.ProjectView:
    """Withdraw a project not yet finished, with the reason."""
    return projects.drop_project(db, user, project_id, body, now=now, answer=_answer(db, user, links, now))
