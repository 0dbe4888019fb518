"""Action teams (行动队): the branch keeps them; a secretary dispatches an order to one.

Who keeps them: the town admin for any branch of the town, a secretary for their own.
Who reads them: those two, and the people on a team their own teams. Dispatching to a
team is `moves.dispatch_order` with `action_team_id`: the team's member becomes the
order's assignee, and the cadre and the worthies are told and may read the order.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, func, or_, union_all
from sqlmodel import Session, col, delete, select

from domain.action_teams import Person, team_problems
from domain.errors import NotFound, NotPermitted, RuleViolation
from domain.roles import Role
from domain.states import OrderState
from storage.models import ActionTeam, ActionTeamWorthy, Branch, Grid, GridWorkerGrid, Order, Staff
from workflows.action_team_inputs import ActionTeamCreate, ActionTeamUpdate, ActionTeamView
from workflows.audit import audit
from workflows.hierarchy import save
from workflows.paging import PageRequest, fetch_page
from workflows.principal import Principal
from workflows.refs import names, ref
from workflows.unit import use_case

OPEN_STATES = (OrderState.DISPATCHED.value, OrderState.IN_PROGRESS.value)


def teams_of(staff_id: int):
    """The ids of the teams a person is on, as cadre, member or worthy: a subquery."""
    return union_all(
        select(ActionTeam.id).where(or_(ActionTeam.cadre_id == staff_id, ActionTeam.lead_id == staff_id)),
        select(ActionTeamWorthy.team_id).where(ActionTeamWorthy.staff_id == staff_id),
    )


def visible_teams(actor: Principal) -> ColumnElement[bool]:
    if actor.town_id is None:
        raise NotPermitted(key="action-team.for-whom")
    town = col(ActionTeam.town_id) == actor.town_id
    match actor.role:
        case Role.TOWN_ADMIN:
            return town
        case Role.SECRETARY:
            return town & (col(ActionTeam.branch_id) == actor.branch_id)
        case Role.MEMBER | Role.GRID_WORKER:
            return town & col(ActionTeam.id).in_(teams_of(actor.id))
    raise NotPermitted(key="action-team.for-whom")


def _branch_kept_by(db: Session, actor: Principal, branch_id: int | None) -> int:
    """The branch whose teams `actor` may change: the secretary's own; the one the admin names."""
    if actor.role == Role.SECRETARY and actor.branch_id is not None:
        if branch_id not in (None, actor.branch_id):
            raise NotFound(key="branch.not-found", id=branch_id)
        return actor.branch_id
    if actor.role != Role.TOWN_ADMIN or actor.town_id is None:
        raise NotPermitted(key="action-team.keepers")
    if branch_id is None:
        raise RuleViolation(key="action-team.branch-required")
    branch = db.get(Branch, branch_id)
    if branch is None or branch.town_id != actor.town_id:
        raise NotFound(key="branch.not-found", id=branch_id)
    return branch.id


def people_of(db: Session, town_id: int, ids: list[int]) -> dict[int, Person]:
    """The town's staff among `ids`, with the branches each works in."""
    staff = db.exec(select(Staff).where(col(Staff.id).in_(ids), Staff.town_id == town_id)).all()
    served: dict[int, set[int]] = {}
    for staff_id, branch_id in db.exec(
            select(GridWorkerGrid.staff_id, Grid.branch_id).join(Grid, col(Grid.id) == GridWorkerGrid.grid_id)
            .where(col(GridWorkerGrid.staff_id).in_(ids))).all():
        served.setdefault(staff_id, set()).add(branch_id)
    return {s.id: Person(id=s.id, role=s.role, active=s.active, is_local_worthy=s.is_local_worthy,
                         branch_ids=frozenset(served.get(s.id, set()) | ({s.branch_id} - {None})))
            for s in staff}


def _check_people(db: Session, town_id: int, branch_id: int, cadre_id: int, lead_id: int,
                  worthy_ids: list[int]) -> None:
    people = people_of(db, town_id, [cadre_id, lead_id, *worthy_ids])
    problems = team_problems(branch_id=branch_id, cadre=people.get(cadre_id), lead=people.get(lead_id),
                             worthies=[people.get(i) for i in worthy_ids])
    if problems:
        raise RuleViolation(key=problems[0])


@use_case
def create_team(db: Session, actor: Principal, body: ActionTeamCreate, *, now: datetime) -> ActionTeam:
    branch_id = _branch_kept_by(db, actor, body.branch_id)
    _check_people(db, actor.town_id, branch_id, body.cadre_id, body.lead_id, body.worthy_ids)
    team = save(db, ActionTeam(town_id=actor.town_id, branch_id=branch_id, name=body.name, cadre_id=body.cadre_id,
                               lead_id=body.lead_id, created_at=now), "action-team.taken")
    db.add_all([ActionTeamWorthy(team_id=team.id, staff_id=i) for i in body.worthy_ids])
    audit(db, actor, "create", "action_team", team.id, body.model_dump(mode="json"), now=now)
    return team


@use_case
def update_team(db: Session, actor: Principal, team_id: int, body: ActionTeamUpdate, *, now: datetime) -> ActionTeam:
    team = _visible_team(db, actor, team_id)
    _branch_kept_by(db, actor, team.branch_id)
    worthies = body.worthy_ids if body.worthy_ids is not None else _worthy_ids(db, team.id)
    changes = body.model_dump(exclude_unset=True, exclude={"worthy_ids"})
    # Checked before the row changes: the check's reads would flush a change half made.
    _check_people(db, team.town_id, team.branch_id, changes.get("cadre_id", team.cadre_id),
                  changes.get("lead_id", team.lead_id), worthies)
    for key, value in changes.items():
        setattr(team, key, value)
    save(db, team, "action-team.taken")
    if body.worthy_ids is not None:
        db.exec(delete(ActionTeamWorthy).where(col(ActionTeamWorthy.team_id) == team.id))
        db.add_all([ActionTeamWorthy(team_id=team.id, staff_id=i) for i in worthies])
    audit(db, actor, "update", "action_team", team.id, body.model_dump(exclude_unset=True, mode="json"), now=now)
    return team


def _worthy_ids(db: Session, team_id: int) -> list[int]:
    return list(db.exec(select(ActionTeamWorthy.staff_id).where(ActionTeamWorthy.team_id == team_id)
                        .order_by(col(ActionTeamWorthy.staff_id))).all())


def _visible_team(db: Session, actor: Principal, team_id: int) -> ActionTeam:
    team = db.exec(select(ActionTeam).where(ActionTeam.id == team_id, visible_teams(actor))).first()
    if team is None:
        raise NotFound(key="action-team.not-found", id=team_id)
    return team


def list_teams(db: Session, actor: Principal, page: PageRequest, *, branch_id: int | None = None,
               active: bool | None = None) -> tuple[list[ActionTeamView], int]:
    statement = select(ActionTeam).where(visible_teams(actor))
    if branch_id is not None:
        statement = statement.where(ActionTeam.branch_id == branch_id)
    if active is not None:
        statement = statement.where(col(ActionTeam.active).is_(active))
    rows, total = fetch_page(db, statement.order_by(col(ActionTeam.id)), page)
    return team_views(db, rows), total


def get_team(db: Session, actor: Principal, team_id: int) -> ActionTeamView:
    return team_views(db, [_visible_team(db, actor, team_id)])[0]


def team_views(db: Session, teams: Sequence[ActionTeam]) -> list[ActionTeamView]:
    ids = [t.id for t in teams]
    if not ids:
        return []
    worthies = db.exec(select(ActionTeamWorthy.team_id, Staff.id, Staff.name)
                       .join(Staff, col(Staff.id) == ActionTeamWorthy.staff_id)
                       .where(col(ActionTeamWorthy.team_id).in_(ids)).order_by(col(Staff.id))).all()
    open_orders = dict(db.exec(
        select(Order.action_team_id, func.count()).where(col(Order.action_team_id).in_(ids),
                                                         col(Order.state).in_(OPEN_STATES))
        .group_by(col(Order.action_team_id))).all())
    staff = {sid: name for _, sid, name in worthies}
    staff |= names(db, Staff, [i for t in teams for i in (t.cadre_id, t.lead_id)])
    branches = names(db, Branch, [t.branch_id for t in teams])
    return [ActionTeamView(
        id=t.id, branch=ref(t.branch_id, branches), name=t.name, cadre=ref(t.cadre_id, staff),
        lead=ref(t.lead_id, staff), worthies=[ref(sid, staff) for team_id, sid, _ in worthies if team_id == t.id],
        open_orders=open_orders.get(t.id, 0), active=t.active, created_at=t.created_at) for t in teams]


def dispatch_target(db: Session, order: Order, team_id: int) -> tuple[ActionTeam, Staff]:
    """The team an order of its branch may go to, and its member who will hold it; else 422."""
    team = db.get(ActionTeam, team_id)
    lead = db.get(Staff, team.lead_id) if team is not None else None
    if (team is None or team.branch_id != order.branch_id or not team.active or lead is None or not lead.active
            or lead.role != Role.MEMBER.value or lead.branch_id != order.branch_id):
        raise RuleViolation(key="dispatch.not-a-team", id=team_id)
    return team, lead

