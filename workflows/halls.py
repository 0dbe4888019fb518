"""群众说事厅: the town admin keeps the halls; secretaries and the admin set up sessions; the staff on
duty record the matters residents say.

Who may do what: the town admin every hall and session of the town; a secretary the halls of
the branch (sessions there, and 下访 to its grids); the staff on duty the sessions they host.
Residents, dashboards and units' staff none (the dashboards have `/stats/halls`).

A matter is recorded in one transaction with the order it becomes (channel `hall`), or
settled on the spot with a note.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, false, or_
from sqlmodel import Session, col, select

from domain.channels import Channel
from domain.errors import NotFound, NotPermitted, RuleViolation
from domain.halls import (
    HOST_ROLES, MATTER_OUTCOME_LABELS, SESSION_KIND_LABELS, MatterOutcome, SessionKind, may_host,
    session_time_problem,
)
from domain.roles import Role
from domain.states import OrderState
from domain.visits import CLOCK_SKEW
from storage.models import Branch, Grid, Hall, HallMatter, HallSession, HallSessionHost, Household, Order, Staff
from workflows.audit import audit
from workflows.hierarchy import get_in_town, require_admin, save
from workflows.hall_inputs import (
    HallCreate, HallUpdate, HallView, MatterCreate, MatterOrder, MatterView, SessionCreate, SessionView,
)
from workflows.inputs import OrderDraft
from workflows.paging import PageRequest, fetch_page
from workflows.placing import TakenAt, insert_order
from workflows.principal import Principal
from workflows.refs import names, optional_ref, ref
from workflows.unit import use_case

# --------------------------------------------------------------------------- who sees what


def _town_of(actor: Principal) -> int:
    if actor.role not in HOST_ROLES or actor.town_id is None:
        raise NotPermitted(key="hall.for-whom")
    return actor.town_id


def visible_sessions(actor: Principal) -> ColumnElement[bool]:
    town = col(HallSession.town_id) == _town_of(actor)
    hosted = col(HallSession.id).in_(select(HallSessionHost.session_id).where(HallSessionHost.staff_id == actor.id))
    if actor.role == Role.TOWN_ADMIN:
        return town
    if actor.role == Role.SECRETARY:
        branch_halls = select(Hall.id).where(Hall.branch_id == actor.branch_id)
        return town & or_(col(HallSession.hall_id).in_(branch_halls), hosted)
    return town & hosted


def _may_run(actor: Principal, hall: Hall) -> bool:
    """Whether the actor sets up sessions at the hall: the town admin, or the secretary of its branch."""
    if actor.role == Role.TOWN_ADMIN:
        return actor.town_id == hall.town_id
    return actor.role == Role.SECRETARY and hall.branch_id is not None and hall.branch_id == actor.branch_id


# --------------------------------------------------------------------------- halls (the admin's)


@use_case
def create_hall(db: Session, actor: Principal, body: HallCreate, *, now: datetime) -> Hall:
    town_id = require_admin(actor)
    if body.branch_id is not None:
        get_in_town(db, Branch, body.branch_id, town_id)
    hall = save(db, Hall(town_id=town_id, created_at=now, **body.model_dump()), "admin.hall-taken")
    audit(db, actor, "create", "hall", hall.id, body.model_dump(mode="json"), now=now)
    return hall


@use_case
def update_hall(db: Session, actor: Principal, hall_id: int, body: HallUpdate, *, now: datetime) -> Hall:
    hall = get_in_town(db, Hall, hall_id, require_admin(actor))
    changes = body.model_dump(exclude_unset=True)
    for key, value in changes.items():
        setattr(hall, key, value)
    audit(db, actor, "update", "hall", hall.id, changes, now=now)
    return save(db, hall, "admin.hall-taken")


def list_halls(db: Session, actor: Principal, page: PageRequest) -> tuple[list[HallView], int]:
    rows, total = fetch_page(db, select(Hall).where(Hall.town_id == _town_of(actor)).order_by(col(Hall.id)), page)
    return hall_views(db, rows), total


def hall_views(db: Session, halls: Sequence[Hall]) -> list[HallView]:
    branches = names(db, Branch, [h.branch_id for h in halls])
    return [HallView(id=h.id, name=h.name, branch=optional_ref(h.branch_id, branches), address=h.address,
                     active=h.active, created_at=h.created_at) for h in halls]


# --------------------------------------------------------------------------- sessions


@use_case
def create_session(db: Session, actor: Principal, hall_id: int, body: SessionCreate, *,
                   now: datetime) -> HallSession:
    """接访 at the hall, or 下访 to a grid: when, and who is on duty."""
    hall = db.get(Hall, hall_id)
    if hall is None or hall.town_id != _town_of(actor):
        raise NotFound(key="hall.not-found", id=hall_id)
    if not _may_run(actor, hall):
        raise NotPermitted(key="hall.not-yours", id=hall_id)
    if not hall.active:
        raise RuleViolation(key="hall.inactive", id=hall_id)
    problem = session_time_problem(body.starts_at, body.ends_at, now)
    if problem:
        raise RuleViolation(key=problem)
    if body.kind == SessionKind.DOWN:
        if body.grid_id is None:
            raise RuleViolation(key="hall.down-needs-grid")
        grid = db.get(Grid, body.grid_id)
        if grid is None or grid.town_id != hall.town_id or (
                actor.role == Role.SECRETARY and grid.branch_id != actor.branch_id):
            raise NotFound(key="grid.not-found", id=body.grid_id)
    elif body.grid_id is not None:
        raise RuleViolation(key="hall.grid-for-down-only")
    hosts = {s.id: s for s in db.exec(select(Staff).where(col(Staff.id).in_(body.host_ids))).all()}
    refused = [i for i in body.host_ids if i not in hosts or not may_host(
        role=hosts[i].role, active=hosts[i].active, town_id=hosts[i].town_id, hall_town_id=hall.town_id)]
    if refused:
        raise RuleViolation(key="hall.host-refused", ids=refused)
    session = HallSession(town_id=hall.town_id, hall_id=hall.id, kind=body.kind.value, grid_id=body.grid_id,
                          starts_at=body.starts_at, ends_at=body.ends_at, note=body.note, created_by_id=actor.id,
                          created_at=now)
    db.add(session)
    db.flush()
    db.add_all([HallSessionHost(session_id=session.id, staff_id=i) for i in body.host_ids])
    db.flush()
    return session


def list_sessions(db: Session, actor: Principal, page: PageRequest, *, hall_id: int | None = None,
                  kind: SessionKind | None = None) -> tuple[list[SessionView], int]:
    statement = select(HallSession).where(visible_sessions(actor))
    if hall_id is not None:
        statement = statement.where(HallSession.hall_id == hall_id)
    if kind is not None:
        statement = statement.where(HallSession.kind == kind.value)
    rows, total = fetch_page(db, statement.order_by(col(HallSession.starts_at).desc(), col(HallSession.id).desc()),
                             page)
    return session_views(db, rows), total


def _visible_session(db: Session, actor: Principal, session_id: int) -> HallSession:
    session = db.exec(select(HallSession).where(HallSession.id == session_id, visible_sessions(actor))).first()
    if session is None:
        raise NotFound(key="hall-session.not-found", id=session_id)
    return session


def get_session(db: Session, actor: Principal, session_id: int) -> SessionView:
    return session_views(db, [_visible_session(db, actor, session_id)])[0]


# --------------------------------------------------------------------------- matters


@use_case
def record_matter(db: Session, actor: Principal, session_id: int, body: MatterCreate, *,
                  photos_per_order: int, now: datetime) -> HallSession:
    """A matter said at the session: settled on the spot, or placed as an order (channel `hall`)."""
    session = _visible_session(db, actor, session_id)
    hosting = db.get(HallSessionHost, (session.id, actor.id)) is not None
    if not hosting and not _may_run(actor, db.get(Hall, session.hall_id)):
        raise NotPermitted(key="hall.not-on-duty", id=session.id)
    if session.starts_at > now + CLOCK_SKEW:
        raise RuleViolation(key="hall.session-not-begun", id=session.id)
    household = None
    if body.household_id is not None:
        household = db.get(Household, body.household_id)
        if household is None or household.town_id != session.town_id:
            raise NotFound(key="household.not-found", id=body.household_id)
    grid_id = body.grid_id or (household.grid_id if household else None) or session.grid_id
    if grid_id is None:
        raise RuleViolation(key="hall.matter-needs-grid")
    grid = db.get(Grid, grid_id)
    if grid is None or grid.town_id != session.town_id:
        raise NotFound(key="grid.not-found", id=grid_id)
    if household is not None and household.grid_id != grid.id:
        raise RuleViolation(key="hall.household-not-in-grid", id=household.id)
    order_id = None
    if body.outcome == MatterOutcome.SETTLED:
        if not body.settled_note:
            raise RuleViolation(key="hall.settled-needs-note")
    else:
        if body.category_id is None:
            raise RuleViolation(key="hall.order-needs-category")
        draft = OrderDraft(category_id=body.category_id, description=body.description, urgency=body.urgency,
                           grid_id=grid.id, address=household.address if household else None,
                           contact_name=body.visitor_name, contact_phone=body.visitor_phone, channel=Channel.HALL)
        order = insert_order(db, actor, draft, None, None, photos_per_order, now,
                             taken_at=TakenAt(grid.id, household.id if household else None))
        order_id = order.id
    db.add(HallMatter(town_id=session.town_id, session_id=session.id, hall_id=session.hall_id, grid_id=grid.id,
                      household_id=household.id if household else None, visitor_name=body.visitor_name,
                      visitor_phone=body.visitor_phone, description=body.description, outcome=body.outcome.value,
                      settled_note=body.settled_note if body.outcome == MatterOutcome.SETTLED else None,
                      order_id=order_id, recorded_by_id=actor.id, recorded_at=now))
    db.flush()
    return session


# --------------------------------------------------------------------------- views


def session_views(db: Session, sessions: Sequence[HallSession]) -> list[SessionView]:
    ids = [s.id for s in sessions]
    if not ids:
        return []
    hosts = db.exec(select(HallSessionHost.session_id, Staff.id, Staff.name)
                    .join(Staff, col(Staff.id) == HallSessionHost.staff_id)
                    .where(col(HallSessionHost.session_id).in_(ids)).order_by(col(Staff.id))).all()
    matters = db.exec(select(HallMatter).where(col(HallMatter.session_id).in_(ids))
                      .order_by(col(HallMatter.id))).all()
    orders = {o.id: o for o in db.exec(select(Order).where(
        col(Order.id).in_([m.order_id for m in matters if m.order_id]) if matters else false())).all()}
    halls = names(db, Hall, [s.hall_id for s in sessions])
    grids = names(db, Grid, [s.grid_id for s in sessions] + [m.grid_id for m in matters])
    staff = {sid: name for _, sid, name in hosts} | names(db, Staff, [m.recorded_by_id for m in matters])

    def matter_view(m: HallMatter) -> MatterView:
        order = orders.get(m.order_id)
        return MatterView(
            id=m.id, session_id=m.session_id, hall=ref(m.hall_id, halls), grid=ref(m.grid_id, grids),
            household_id=m.household_id, visitor_name=m.visitor_name, visitor_phone=m.visitor_phone,
            description=m.description, outcome=m.outcome, outcome_label=MATTER_OUTCOME_LABELS[MatterOutcome(m.outcome)],
            settled_note=m.settled_note,
            order=MatterOrder(id=order.id, state=order.state, state_label=OrderState(order.state).label)
            if order else None,
            solved=m.outcome == MatterOutcome.SETTLED.value or (order is not None
                                                                and order.state == OrderState.CLOSED.value),
            recorded_by=ref(m.recorded_by_id, staff), recorded_at=m.recorded_at)

    return [SessionView(
        id=s.id, hall=ref(s.hall_id, halls), kind=s.kind, kind_label=SESSION_KIND_LABELS[SessionKind(s.kind)],
        grid=optional_ref(s.grid_id, grids), starts_at=s.starts_at, ends_at=s.ends_at, note=s.note,
        hosts=[ref(sid, staff) for session_id, sid, _ in hosts if session_id == s.id],
        matters=[matter_view(m) for m in matters if m.session_id == s.id], created_at=s.created_at)
        for s in sessions]
