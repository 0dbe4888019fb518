"""揭榜 over HTTP: the secretary posts a claimed order on the branch's task board, members volunteer.

`POST /orders/{id}/post-task` and `POST /orders/{id}/volunteer` are moves like the others:
they answer the order as the caller sees it, and refuse with 409 naming the state and
what is allowed. The secretary picks among the volunteers with the ordinary dispatch.
"""

from __future__ import annotations

from api.deps import CurrentUser, Db, Now, Paging, PathId, Person
from api.problems import problem_responses
from api.routes.orders import MOVE_WITH_BODY_ERRORS, detail_for
from api.routes.photos import Links
from api.routing import api_router
from workflows import tasks
from workflows.paging import Page
from workflows.views import OrderDetail

router = api_router(tags=["task board"])


@router.post("/orders/{order_id}/post-task", responses=MOVE_WITH_BODY_ERRORS)
def post_task(order_id: PathId, body: tasks.PostTask, user: Person, db: Db, now: Now, links: Links) -> OrderDetail:
    """发布揭榜: instead of dispatching, the secretary puts the claimed order on the branch's task board."""
    return tasks.post_task(db, user, order_id, body, now=now, answer=detail_for(db, user, now, links))


@router.post("/orders/{order_id}/volunteer", responses=MOVE_WITH_BODY_ERRORS)
def volunteer(order_id: PathId, user: Person, db: Db, now: Now, links: Links,
              body: tasks.Volunteer | None = None) -> OrderDetail:
    """党员揭榜: a member of the branch volunteers; where the first volunteer takes it, it is theirs."""
    return tasks.volunteer(db, user, order_id, body or tasks.Volunteer(), now=now,
                           answer=detail_for(db, user, now, links))


@router.get("/tasks", responses=problem_responses(401, 403, 422))
def list_tasks(user: CurrentUser, db: Db, now: Now, page: Paging) -> Page[tasks.TaskView]:
    """The branch's task board: orders open to volunteers, closing soonest first, with who volunteered."""
    items, total = tasks.list_tasks(db, user, page, now=now)
    return Page(items=items, total=total, **vars(page))
