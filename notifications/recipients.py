"""Who an audience is, when a notice is delivered (not when it was written)."""

from __future__ import annotations

from sqlalchemy import or_
from sqlmodel import Session, col, select

from domain.notices import Audience
from domain.roles import Role
from storage.models import ActionTeam, ActionTeamWorthy, Branch, Building, Grid, GridWorkerGrid, Household, Resident, Staff


def people(db: Session, audience: str, audience_id: int) -> list[tuple[str, int]]:
    """(user_kind, user_id) of everyone in the audience who can sign in now."""
    match Audience(audience):
        case Audience.RESIDENT:
            return [("resident", audience_id)] if db.get(Resident, audience_id) else []
        case Audience.ASSIGNEE:
            staff = db.get(Staff, audience_id)
            return [("staff", staff.id)] if staff and staff.active else []
        case Audience.GRID_WORKERS:
            where = (col(Staff.id).in_(select(GridWorkerGrid.staff_id).where(GridWorkerGrid.grid_id == audience_id)),)
        case Audience.BRANCH_SECRETARIES:
            where = (Staff.role == Role.SECRETARY.value, Staff.branch_id == audience_id)
        case Audience.BRANCH_MEMBERS:
            where = (Staff.role == Role.MEMBER.value, Staff.branch_id == audience_id)
        case Audience.TOWN_ADMINS:
            where = (Staff.role == Role.TOWN_ADMIN.value, Staff.town_id == audience_id)
        case Audience.UNIT_STAFF:
            where = (Staff.role == Role.UNIT_STAFF.value, Staff.unit_id == audience_id)
        case Audience.HOUSEHOLD_CARERS:
            household = db.get(Household, audience_id)
            if household is None:
                return []
            leader = db.get(Building, household.building_id).group_leader_id if household.building_id else None
            carers = [i for i in dict.fromkeys((household.paired_member_id, leader)) if i is not None]
            where = (col(Staff.id).in_(carers),)
        case Audience.ACTION_TEAM:
            team = db.get(ActionTeam, audience_id)
            if team is None:
                return []
            worthies = select(ActionTeamWorthy.staff_id).where(ActionTeamWorthy.team_id == team.id)
            # Its member is told as the assignee.
            where = (or_(Staff.id == team.cadre_id, col(Staff.id).in_(worthies)), Staff.id != team.lead_id)
    ids = db.exec(select(Staff.id).where(col(Staff.active), *where).order_by(col(Staff.id))).all()
    return [("staff", i) for i in ids]


def resident_openid(db: Session, resident_id: int) -> str | None:
    resident = db.get(Resident, resident_id)
    # Development sign-ins have no real openid to send to.
    if resident is None or not resident.openid or resident.openid.startswith("dev:"):
        return None
    return resident.openid


def wecom_key(db: Session, audience: str, audience_id: int, payload: dict) -> str | None:
    """The robot of the grid workers' group, or of the branch's members' group."""
    if audience == Audience.GRID_WORKERS:
        grid = db.get(Grid, audience_id)
        return grid.wecom_webhook_key if grid else None
    if audience in (Audience.BRANCH_SECRETARIES, Audience.ASSIGNEE):
        branch = db.get(Branch, payload.get("branch_id") if audience == Audience.ASSIGNEE else audience_id)
        return branch.wecom_webhook_key if branch else None
    return None
