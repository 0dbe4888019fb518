"""The signed-in person: who am I, and the resident's profile."""

from __future__ import annotations

from fastapi import Request
from pydantic import BaseModel

from api.deps import CurrentUser, Db, Now, Resident
from api.problems import problem_responses
from api.routing import api_router
from domain.roles import ROLE_LABELS
from storage.models import Resident as ResidentRow
from storage.models import Staff as StaffRow
from workflows import identity
from workflows.identity import ProfileUpdate

router = api_router(prefix="/me", tags=["me"])


class Me(BaseModel):
    kind: str
    id: int
    role: str
    role_label: str
    name: str | None
    phone: str | None
    town_id: int | None
    branch_id: int | None = None
    grid_id: int | None = None
    grid_ids: list[int] = []
    profile_complete: bool


def _me(user, row) -> Me:
    phone = getattr(row, "phone", None)
    grid_id = getattr(row, "grid_id", None)
    return Me(
        kind=user.kind, id=user.id, role=user.role.value, role_label=ROLE_LABELS[user.role],
        name=getattr(row, "name", user.name), phone=phone, town_id=user.town_id if row is None else row.town_id,
        branch_id=user.branch_id, grid_id=grid_id, grid_ids=sorted(user.grid_ids),
        profile_complete=bool(user.kind != "resident" or (row.name and phone and grid_id)),
    )


@router.get("", responses=problem_responses(401))
def who_am_i(user: CurrentUser, db: Db) -> Me:
    model = {"resident": ResidentRow, "staff": StaffRow}.get(user.kind)
    return _me(user, db.get(model, user.id) if model else None)


@router.put("/profile", responses=problem_responses(401, 403, 502, 503, body=True))
def update_profile(body: ProfileUpdate, user: Resident, db: Db, now: Now, request: Request) -> Me:
    """Name, phone (typed, or the code of the getPhoneNumber button) and the grid lived in."""
    wechat = request.app.state.wechat if request.app.state.settings.wechat_appid else None
    resident = identity.update_profile(db, user, body, wechat, now=now)
    return _me(user, resident)
