"""群众说事厅 over HTTP: the town admin keeps the halls; sessions (接访, 下访) record the matters said.

`POST /hall-sessions/{id}/matters` records one matter: settled on the spot with a note, or
placed as an order with the channel `hall` in the same transaction.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from api.deps import Admin, AppSettings, CurrentUser, Db, Now, Paging, PathId, QueryId
from api.problems import problem_responses
from api.routing import api_router
from domain.halls import SessionKind
from workflows import halls
from workflows.hall_inputs import HallCreate, HallUpdate, HallView, MatterCreate, SessionCreate, SessionView
from workflows.paging import Page

router = api_router(tags=["halls"], responses=problem_responses(401, 403))
LIST = problem_responses(422)
ONE = problem_responses(404, 422)
WRITE = problem_responses(404, 409, body=True)


@router.post("/admin/halls", status_code=201, responses=WRITE)
def create_hall(body: HallCreate, user: Admin, db: Db, now: Now) -> HallView:
    """A 群众说事厅 of a village or community (its `branch_id`), or of the town."""
    return halls.hall_views(db, [halls.create_hall(db, user, body, now=now)])[0]


@router.patch("/admin/halls/{hall_id}", responses=WRITE)
def update_hall(hall_id: PathId, body: HallUpdate, user: Admin, db: Db, now: Now) -> HallView:
    return halls.hall_views(db, [halls.update_hall(db, user, hall_id, body, now=now)])[0]


@router.get("/halls", responses=LIST)
def list_halls(user: CurrentUser, db: Db, page: Paging) -> Page[HallView]:
    """The town's halls, for its staff."""
    items, total = halls.list_halls(db, user, page)
    return Page(items=items, total=total, **vars(page))


@router.post("/halls/{hall_id}/sessions", status_code=201, responses=WRITE)
def create_session(hall_id: PathId, body: SessionCreate, user: CurrentUser, db: Db, now: Now) -> SessionView:
    """A reception session (接访) at the hall, or a 下访 to a grid: when, and who is on duty."""
    return halls.create_session(db, user, hall_id, body, now=now,
                                answer=lambda session: halls.session_views(db, [session])[0])


@router.get("/hall-sessions", responses=LIST)
def list_sessions(user: CurrentUser, db: Db, page: Paging, hall_id: QueryId = None,
                  kind: Annotated[SessionKind | None, Query()] = None) -> Page[SessionView]:
    """Sessions the caller may see (the town's; the branch's halls; those one is on duty at), latest first."""
    items, total = halls.list_sessions(db, user, page, hall_id=hall_id, kind=kind)
    return Page(items=items, total=total, **vars(page))


@router.get("/hall-sessions/{session_id}", responses=ONE)
def get_session(session_id: PathId, user: CurrentUser, db: Db) -> SessionView:
    return halls.get_session(db, user, session_id)


@router.post("/hall-sessions/{session_id}/matters", status_code=201, responses=WRITE)
def record_matter(session_id: PathId, body: MatterCreate, user: CurrentUser, db: Db, now: Now,
                  settings: AppSettings) -> SessionView:
    """说事: a matter said at the session, settled on the spot or placed as an order (channel `hall`)."""
    return halls.record_matter(db, user, session_id, body, photos_per_order=settings.photos_per_order, now=now,
                               answer=lambda session: halls.session_views(db, [session])[0])
