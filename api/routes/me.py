"""The signed-in person: who am I, and the resident's profile."""

from __future__ import annotations

from fastapi import Request

from api.deps import CurrentUser, Db, Now, Resident
from api.problems import problem_responses
from api.routing import api_router
from workflows import identity, me
from workflows.identity import ProfileUpdate
from workflows.me import Me

router = api_router(prefix="/me", tags=["me"])


@router.get("", responses=problem_responses(401))
def who_am_i(user: CurrentUser, db: Db) -> Me:
    return me.who_am_i(db, user)


@router.put("/profile", responses=problem_responses(401, 403, 502, 503, body=True))
def update_profile(body: ProfileUpdate, user: Resident, db: Db, now: Now, request: Request) -> Me:
    """Name, phone (typed, or the code of the getPhoneNumber button) and the grid lived in."""
    wechat = request.app.state.wechat if request.app.state.settings.wechat_appid else None
    resident = identity.update_profile(db, user, body, wechat, now=now)
    return me.describe(db, user, resident)
