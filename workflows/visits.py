"""驻点直联: the town admin keeps the teams; their members record visits and the needs found.

Who reads what: the town admin every team and visit of the town; a secretary the teams
stationed in a grid of the branch and the visits made in its grids; a team's members
their teams and the visits of those teams (and their own). Residents, dashboards and
units' staff read none of it: the dashboards have `/stats/visits`.

Recording a visit is one transaction: the visit, and each need found as an order placed on
the resident's behalf with the channel `visit`, with its event and notices. Either all of
it is written or none.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, case, func, or_
from sqlmodel import Session, col, delete, select

from domain.channels import Channel
from domain.errors import NotFound, NotPermitted, RuleViolation
from domain.roles import Role
from domain.states import OrderState
from domain.visits import (
    TEAM_ROLES, VISIT_KIND_LABELS, WEEKDAY_LABELS, VisitKind, Weekday, link_day_of_week, may_join_team,
    visit_time_problem,
)
from storage.models import Category, Grid, Household, Order, Staff, Town, Visit, VisitTeam, VisitTeamGrid, VisitTeamMember
from workflows.audit import audit
from workflows.hierarchy import get_in_town, require_admin, save
from workflows.inputs import OrderDraft
from workflows.paging import PageRequest, fetch_page
from workflows.placing import TakenAt, insert_order
from workflows.principal import Principal
from workflows.refs import names, optional_ref, ref
from workflows.unit import use_case
from workflows.visit_inputs import (
    PlanHousehold, TeamCreate, TeamPlan, TeamUpdate, TeamView, VisitCreate, VisitHousehold, VisitOrder, VisitView,
)

# --------------------------------------------------------------------------- who sees what

READERS = frozenset({Role.TOWN_ADMIN, Role.SECRETARY, *TEAM_ROLES})


def _reader(actor: Principal) -> int:
    if actor.role not in READERS or actor.town_id is None:
        raise NotPermitted(key="visit.for-whom")
    return actor.town_id


def _teams_of(staff_id: int):
    return select(VisitTeamMember.team_id).where(VisitTeamMember.staff_id == staff_id)


def _branch_grids(branch_id: int | None):
    return select(Grid.id).where(Grid.branch_id == branch_id)


def visible_teams(actor: Principal) -> ColumnElement[bool]:
    town = col(VisitTeam.town_id) == _reader(actor)
    if actor.role == Role.TOWN_ADMIN:
        return town
    if actor.role == Role.SECRETARY:
        stationed = select(VisitTeamGrid.team_id).where(col(VisitTeamGrid.grid_id).in_(_branch_grids(actor.branch_id)))
        return town & col(VisitTeam.id).in_(stationed)
    return town & col(VisitTeam.id).in_(_teams_of(actor.id))


def visible_visits(actor: Principal) -> ColumnElement[bool]:
    town = col(Visit.town_id) == _reader(actor)
    if actor.role == Role.TOWN_ADMIN:
        return town
    if actor.role == Role.SECRETARY:
        return town & col(Visit.grid_id).in_(_branch_grids(actor.branch_id))
    return town & or_(col(Visit.team_id).in_(_teams_of(actor.id)), col(Visit.visitor_id) == actor.id)


# --------------------------------------------------------------------------- teams (the admin's)


@use_case
def create_team(db: Session, actor: Principal, body: TeamCreate, *, now: datetime) -> VisitTeam:
    town_id = require_admin(actor)
    _check_leader(body.leader_id, body.member_ids)
    team = save(db, VisitTeam(town_id=town_id, name=body.name, link_weekday=body.link_weekday,
                              leader_id=body.leader_id, created_at=now), "admin.team-taken")
    _place_team(db, team, body.member_ids, body.grid_ids)
    audit(db, actor, "create", "visit_team", team.id, body.model_dump(mode="json"), now=now)
    return team


@use_case
def update_team(db: Session, actor: Principal, team_id: int, body: TeamUpdate, *, now: datetime) -> VisitTeam:
    team = get_in_town(db, VisitTeam, team_id, require_admin(actor))
    changes = body.model_dump(exclude_unset=True, mode="json")
    members = changes.pop("member_ids", None)
    grids = changes.pop("grid_ids", None)
    for key, value in changes.items():
        setattr(team, key, value)
    current = members if members is not None else list(db.exec(
        select(VisitTeamMember.staff_id).where(VisitTeamMember.team_id == team.id)).all())
    _check_leader(team.leader_id, current)
    save(db, team, "admin.team-taken")
    _place_team(db, team, members, grids)
    audit(db, actor, "update", "visit_team", team.id, body.model_dump(exclude_unset=True, mode="json"), now=now)
    return team


def _check_leader(leader_id: int | None, member_ids: Sequence[int]) -> None:
    if leader_id is not None and leader_id not in member_ids:
        raise RuleViolation(key="admin.team-leader-not-member", id=leader_id)


def _place_team(db: Session, team: VisitTeam, member_ids: list[int] | None, grid_ids: list[int] | None) -> None:
    """Replace the team's members and grids with these (None: keep), each checked to be the town's."""
    if member_ids is not None:
        staff = {s.id: s for s in db.exec(select(Staff).where(col(Staff.id).in_(member_ids))).all()}
        refused = [i for i in member_ids if i not in staff or not may_join_team(
            role=staff[i].role, active=staff[i].active, town_id=staff[i].town_id, team_town_id=team.town_id)]
        if refused:
            raise RuleViolation(key="admin.team-member-refused", ids=refused)
        db.exec(delete(VisitTeamMember).where(col(VisitTeamMember.team_id) == team.id))
        db.add_all([VisitTeamMember(team_id=team.id, staff_id=i) for i in member_ids])
    if grid_ids is not None:
        known = set(db.exec(select(Grid.id).where(col(Grid.id).in_(grid_ids), Grid.town_id == team.town_id)).all())
        missing = [i for i in grid_ids if i not in known]
        if missing:
            raise RuleViolation(key="admin.team-grid-not-in-town", ids=missing)
        db.exec(delete(VisitTeamGrid).where(col(VisitTeamGrid.team_id) == team.id))
        db.add_all([VisitTeamGrid(team_id=team.id, grid_id=i) for i in grid_ids])
    db.flush()


def list_teams(db: Session, actor: Principal, page: PageRequest, *, active: bool | None = None
               ) -> tuple[list[TeamView], int]:
    statement = select(VisitTeam).where(visible_teams(actor))
    if active is not None:
        statement = statement.where(col(VisitTeam.active).is_(active))
    rows, total = fetch_page(db, statement.order_by(col(VisitTeam.id)), page)
    return team_views(db, rows), total


def _visible_team(db: Session, actor: Principal, team_id: int) -> VisitTeam:
    team = db.exec(select(VisitTeam).where(VisitTeam.id == team_id, visible_teams(actor))).first()
    if team is None:
        raise NotFound(key="visit-team.not-found", id=team_id)
    return team


def get_team(db: Session, actor: Principal, team_id: int) -> TeamView:
    return team_views(db, [_visible_team(db, actor, team_id)])[0]


def team_views(db: Session, teams: Sequence[VisitTeam]) -> list[TeamView]:
    ids = [t.id for t in teams]
    if not ids:
        return []
    members = db.exec(select(VisitTeamMember.team_id, Staff.id, Staff.name)
                      .join(Staff, col(Staff.id) == VisitTeamMember.staff_id)
                      .where(col(VisitTeamMember.team_id).in_(ids)).order_by(col(Staff.id))).all()
    grids = db.exec(select(VisitTeamGrid.team_id, Grid.id, Grid.name)
                    .join(Grid, col(Grid.id) == VisitTeamGrid.grid_id)
                    .where(col(VisitTeamGrid.team_id).in_(ids)).order_by(col(Grid.id))).all()
    households = dict(db.exec(
        select(VisitTeamGrid.team_id, func.count(col(Household.id)))
        .join(Household, col(Household.grid_id) == VisitTeamGrid.grid_id)
        .where(col(VisitTeamGrid.team_id).in_(ids)).group_by(col(VisitTeamGrid.team_id))).all())
    staff_names = {sid: name for _, sid, name in members}
    staff_names |= names(db, Staff, [t.leader_id for t in teams if t.leader_id not in staff_names])
    views = []
    for t in teams:
        views.append(TeamView(
            id=t.id, name=t.name, link_weekday=t.link_weekday,
            link_weekday_label=WEEKDAY_LABELS[Weekday(t.link_weekday)],
            leader=optional_ref(t.leader_id, staff_names),
            members=[ref(sid, staff_names) for team_id, sid, _ in members if team_id == t.id],
            grids=[ref(gid, {gid: name}) for team_id, gid, name in grids if team_id == t.id],
            households=households.get(t.id, 0), active=t.active, created_at=t.created_at))
    return views


# --------------------------------------------------------------------------- visits


@use_case
def record_visit(db: Session, actor: Principal, body: VisitCreate, *, photos_per_order: int,
                 now: datetime) -> Visit:
    """入户走访: the visit and each need found, placed as an order on the resident's behalf."""
    if actor.role not in TEAM_ROLES or actor.town_id is None:
        raise NotPermitted(key="visit.team-members-only")
    household = db.get(Household, body.household_id)
    if household is None or household.town_id != actor.town_id:
        raise NotFound(key="household.not-found", id=body.household_id)
    stationed = db.exec(
        select(VisitTeam.id)
        .join(VisitTeamMember, col(VisitTeamMember.team_id) == VisitTeam.id)
        .join(VisitTeamGrid, col(VisitTeamGrid.team_id) == VisitTeam.id)
        .where(VisitTeamMember.staff_id == actor.id, VisitTeamGrid.grid_id == household.grid_id,
               col(VisitTeam.active))
        .order_by(col(VisitTeam.id))
    ).all()
    if body.team_id is not None and body.team_id not in stationed:
        raise NotPermitted(key="visit.not-your-team", id=body.team_id)
    if not stationed:
        raise NotPermitted(key="visit.grid-not-stationed", id=household.grid_id)
    visited_at = body.visited_at or now
    problem = visit_time_problem(visited_at, now)
    if problem:
        raise RuleViolation(key=problem)
    town = db.get(Town, household.town_id)
    visit = Visit(town_id=household.town_id, team_id=body.team_id or stationed[0], kind=VisitKind.HOUSEHOLD.value,
                  grid_id=household.grid_id, household_id=household.id, visitor_id=actor.id,
                  visited_at=visited_at, visited_on=visited_at.astimezone(ZoneInfo(town.timezone)).date(),
                  note=body.note, created_at=now)
    db.add(visit)
    db.flush()
    for need in body.needs:
        draft = OrderDraft(
            category_id=need.category_id, description=need.description, urgency=need.urgency,
            grid_id=household.grid_id, address=household.address, photo_ids=need.photo_ids,
            contact_name=need.contact_name or household.head_name, contact_phone=need.contact_phone or household.phone,
            channel=Channel.VISIT)
        insert_order(db, actor, draft, None, None, photos_per_order, now,
                     taken_at=TakenAt(visit.grid_id, visit.household_id, visit.id))
    return visit


def list_visits(db: Session, actor: Principal, page: PageRequest, *, team_id: int | None = None,
                household_id: int | None = None, grid_id: int | None = None, date_from: date | None = None,
                date_to: date | None = None) -> tuple[list[VisitView], int]:
    statement = select(Visit).where(visible_visits(actor))
    for column, value in ((Visit.team_id, team_id), (Visit.household_id, household_id), (Visit.grid_id, grid_id)):
        if value is not None:
            statement = statement.where(column == value)
    if date_from is not None:
        statement = statement.where(col(Visit.visited_on) >= date_from)
    if date_to is not None:
        statement = statement.where(col(Visit.visited_on) <= date_to)
    rows, total = fetch_page(db, statement.order_by(col(Visit.visited_at).desc(), col(Visit.id).desc()), page)
    return visit_views(db, rows), total


def get_visit(db: Session, actor: Principal, visit_id: int) -> VisitView:
    visit = db.exec(select(Visit).where(Visit.id == visit_id, visible_visits(actor))).first()
    if visit is None:
        raise NotFound(key="visit.not-found", id=visit_id)
    return visit_views(db, [visit])[0]


def _household_view(h: Household) -> VisitHousehold:
    return VisitHousehold(id=h.id, address=h.address, head_name=h.head_name, flags=list(h.flags or []))


def visit_views(db: Session, visits: Sequence[Visit]) -> list[VisitView]:
    ids = [v.id for v in visits]
    if not ids:
        return []
    orders = db.exec(select(Order).where(col(Order.visit_id).in_(ids)).order_by(col(Order.id))).all()
    households = {h.id: h for h in db.exec(
        select(Household).where(col(Household.id).in_({v.household_id for v in visits} - {None}))).all()}
    teams = names(db, VisitTeam, [v.team_id for v in visits])
    grids = names(db, Grid, [v.grid_id for v in visits])
    staff = names(db, Staff, [v.visitor_id for v in visits])
    categories = names(db, Category, [o.category_id for o in orders])
    return [VisitView(
        id=v.id, kind=v.kind, kind_label=VISIT_KIND_LABELS[VisitKind(v.kind)], team=optional_ref(v.team_id, teams),
        grid=ref(v.grid_id, grids),
        household=_household_view(households[v.household_id]) if v.household_id in households else None,
        visitor=ref(v.visitor_id, staff), visited_at=v.visited_at, visited_on=v.visited_on, note=v.note,
        orders=[VisitOrder(id=o.id, category=ref(o.category_id, categories), state=o.state,
                           state_label=OrderState(o.state).label, description=o.description)
                for o in orders if o.visit_id == v.id],
        created_at=v.created_at) for v in visits]


# --------------------------------------------------------------------------- the week's plan


def team_plan(db: Session, actor: Principal, team_id: int, page: PageRequest, *, day: date | None,
              now: datetime) -> TeamPlan:
    """The team's 直联日 of the week holding `day` (default today), and its households:
    never visited first, then those visited longest ago."""
    team = _visible_team(db, actor, team_id)
    town = db.get(Town, team.town_id)
    day = day or now.astimezone(ZoneInfo(town.timezone)).date()
    monday = day - timedelta(days=day.isoweekday() - 1)
    sunday = monday + timedelta(days=6)
    grids = select(VisitTeamGrid.grid_id).where(VisitTeamGrid.team_id == team.id)
    last = (select(Visit.household_id, func.max(Visit.visited_on).label("last_on"))
            .where(col(Visit.household_id).is_not(None), col(Visit.grid_id).in_(grids), col(Visit.visited_on) <= sunday)
            .group_by(col(Visit.household_id)).subquery())
    statement = (select(Household, last.c.last_on)
                 .outerjoin(last, last.c.household_id == Household.id)
                 .where(col(Household.grid_id).in_(grids))
                 .order_by(case((last.c.last_on.is_(None), 0), else_=1), last.c.last_on, col(Household.id)))
    rows, total = fetch_page(db, statement, page)
    in_week = (col(Visit.visited_on) >= monday) & (col(Visit.visited_on) <= sunday)
    visited = db.exec(select(func.count(func.distinct(Visit.household_id)))
                      .where(col(Visit.grid_id).in_(grids), col(Visit.household_id).is_not(None), in_week)).one()
    grid_names = names(db, Grid, [h.grid_id for h, _ in rows])
    weekday = Weekday(team.link_weekday)
    return TeamPlan(
        team=ref(team.id, {team.id: team.name}), week_of=monday, link_day=link_day_of_week(weekday, day),
        link_weekday_label=WEEKDAY_LABELS[weekday], households=total, visited_this_week=visited,
        items=[PlanHousehold(household=_household_view(h), grid=ref(h.grid_id, grid_names), last_visited_on=last_on,
                             visited_this_week=last_on is not None and monday <= last_on <= sunday)
               for h, last_on in rows],
        total=total, limit=page.limit, offset=page.offset)
