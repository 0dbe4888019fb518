"""The signed-in person's in-app inbox (the mobile badge reads the unread count)."""

from __future__ import annotations

from fastapi import Response
from pydantic import BaseModel

from api.deps import Db, Now, Paging, PathId, Person, QueryBool
from api.problems import problem_responses
from api.routing import api_router
from workflows import inbox
from workflows.inbox import InboxItemView
from workflows.paging import Page

router = api_router(prefix="/me/inbox", tags=["inbox"], responses=problem_responses(401, 403))


class UnreadCount(BaseModel):
    unread: int


@router.get("", responses=problem_responses(422))
def list_inbox(user: Person, db: Db, page: Paging, unread_only: QueryBool = False) -> Page[InboxItemView]:
    """Newest first."""
    return inbox.list_inbox(db, user, page, unread_only=unread_only)


@router.get("/unread-count")
def unread_count(user: Person, db: Db) -> UnreadCount:
    return UnreadCount(unread=inbox.unread_count(db, user))


@router.post("/{item_id}/read", status_code=204, responses=problem_responses(404, 422))
def mark_read(item_id: PathId, user: Person, db: Db, now: Now) -> Response:
    inbox.mark_read(db, user, item_id, now=now)
    return Response(status_code=204)


@router.post("/read-all")
def mark_all_read(user: Person, db: Db, now: Now) -> UnreadCount:
    """Mark everything read; answers the new unread count (0)."""
    inbox.mark_all_read(db, user, now=now)
    return UnreadCount(unread=0)
