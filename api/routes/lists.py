"""三张清单 over HTTP: the needs list, the resources list, and matching a need to resources as a project.

The third list, the projects, is `/projects`: each names the need it answers and the
resources it uses.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from api.deps import CurrentUser, Db, Now, Paging, PathId
from api.problems import problem_responses
from api.routes.photos import Links
from api.routing import api_router
from domain.three_lists import NeedState, ResourceKind
from workflows import projects, three_lists
from workflows.paging import Page

router = api_router(prefix="/lists", tags=["three lists"], responses=problem_responses(401, 403))
WRITE = problem_responses(404, 409, body=True)


@router.get("/needs", responses=problem_responses(422))
def needs(user: CurrentUser, db: Db, page: Paging,
          state: Annotated[NeedState | None, Query(description="open, matched, closed")] = None,
          ) -> three_lists.NeedsList:
    """社区需求: open orders counted by category and grid, and the needs the community entered."""
    return three_lists.needs_list(db, user, page, state=state)


@router.post("/needs", status_code=201, responses=WRITE)
def add_need(body: three_lists.NeedCreate, user: CurrentUser, db: Db, now: Now) -> three_lists.NeedView:
    """A need of the community that no single order states."""
    need = three_lists.add_need(db, user, body, now=now)
    return three_lists.need_views(db, [need])[0]


@router.get("/needs/{need_id}/matches", responses=problem_responses(404, 422))
def matches(need_id: PathId, user: CurrentUser, db: Db) -> three_lists.NeedMatches:
    """The town's active resources ranked for the need, each with the reasons and their weights."""
    return three_lists.need_matches(db, user, need_id)


@router.post("/needs/{need_id}/projects", status_code=201, responses=WRITE)
def match(need_id: PathId, body: three_lists.MatchCreate, user: CurrentUser, db: Db, now: Now,
          links: Links) -> projects.ProjectView:
    """共建项目: the need matched to resources as a project of the year, open to be taken up."""
    return three_lists.match_need(db, user, need_id, body, now=now,
                                  answer=lambda p: projects.project_views(db, [p], links, now)[0])


@router.get("/resources", responses=problem_responses(422))
def resources(user: CurrentUser, db: Db, page: Paging,
              kind: Annotated[ResourceKind | None, Query()] = None) -> Page[three_lists.ResourceView]:
    """单位资源: what the town's members and co-building units offer."""
    items, total = three_lists.resources_list(db, user, page, kind=kind)
    return Page(items=items, total=total, **vars(page))


@router.post("/resources", status_code=201, responses=WRITE)
def add_resource(body: three_lists.ResourceCreate, user: CurrentUser, db: Db, now: Now) -> three_lists.ResourceView:
    """A resource offered: a member's own, a unit's (its staff), or entered by a secretary or the admin."""
    resource = three_lists.add_resource(db, user, body, now=now)
    return three_lists.resource_views(db, [resource])[0]
