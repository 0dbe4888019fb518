"""Projects (共建项目, 领办项目): published for a year, taken up (揭榜挂帅), carried through milestones,
shown at the year's end (张榜晒单). Each move is one transaction on the project's locked row.

Who does what: the town admin publishes for the town or any branch, a secretary for their
branch; every staff account of the town reads the town's projects. A party member takes
a project up for themselves (their branch's, or the town's); a secretary may give one to
an action team of the branch. Its lead (the member, or the team's member), the branch's
secretary and the town admin record milestones, link orders and finish it; the
publishers drop it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field
from sqlalchemy import func
from sqlmodel import Session, col, select

from domain.errors import Conflict, NotFound, NotPermitted, RuleViolation
from domain.projects import (
    MAX_MILESTONES, MAX_PHOTOS, PROJECT_KIND_LABELS, ProjectKind, ProjectMove, ProjectState, allowed_moves,
    plan_project_move,
)
from domain.roles import Role
from domain.states import OrderState
from storage.models import (
    ActionTeam, Branch, CommunityNeed, Order, Photo, Project, ProjectMilestone, ProjectOrder, ProjectResource, Resource,
    Staff, Town, Unit,
)
from workflows.audit import audit
from workflows.inputs import Day, Id, PhotoId, Strict, Text
from workflows.paging import PageRequest, fetch_page
from workflows.photo_links import PhotoLinks
from workflows.photos import attach_project_photos
from workflows.principal import Principal
from workflows.refs import Ref, names, optional_ref
from workflows.scope import visible_orders
from workflows.unit import use_case

Title = Annotated[Text, Field(max_length=100)]
Note = Annotated[Text, Field(max_length=2000)]


class ProjectCreate(Strict):
    year: int = Field(ge=2000, le=2100)
    kind: ProjectKind = Field(ProjectKind.LEAD, strict=False, description="lead 党员领办项目, joint 共建项目")
    title: Title
    description: Note
    branch_id: Id | None = Field(None, description="The town admin names a branch or none (the town's project);"
                                                   " a secretary's is their branch.")
    unit_id: Id | None = Field(None, description="The co-building unit of a 共建项目.")


class ProjectTake(Strict):
    action_team_id: Id | None = Field(None, description="A secretary gives it to an action team of the branch;"
                                                        " a member takes it for themselves (leave it out).")


class MilestoneCreate(Strict):
    title: Title
    note: Note | None = None
    reached_on: Day | None = Field(None, strict=False, description="The town day it was reached; default today.")
    photo_ids: list[PhotoId] = Field(default_factory=list, max_length=MAX_PHOTOS)


class ProjectFinish(Strict):
    result_note: Note = Field(description="What came of it: shown on the year's board (张榜晒单).")
    photo_ids: list[PhotoId] = Field(default_factory=list, max_length=MAX_PHOTOS)


class ProjectLink(Strict):
    order_id: Id


class ProjectDrop(Strict):
    reason: Annotated[Text, Field(max_length=500)]


# --------------------------------------------------------------------------- who


def _staff_town(actor: Principal) -> int:
    if actor.kind != "staff" or actor.town_id is None:
        raise NotPermitted(key="project.for-whom")
    return actor.town_id


def _publishes(actor: Principal, project: Project) -> bool:
    return actor.role == Role.TOWN_ADMIN or (actor.role == Role.SECRETARY and project.branch_id == actor.branch_id)


def _leads(actor: Principal, project: Project) -> bool:
    return _publishes(actor, project) or project.lead_member_id == actor.id


def _project(db: Session, actor: Principal, project_id: int, *, lock: bool = False) -> Project:
    statement = select(Project).where(Project.id == project_id, Project.town_id == _staff_town(actor))
    project = db.exec(statement.with_for_update() if lock else statement).first()
    if project is None:
        raise NotFound(key="project.not-found", id=project_id)
    return project


# --------------------------------------------------------------------------- moves


@use_case
def publish_project(db: Session, actor: Principal, body: ProjectCreate, *, now: datetime) -> Project:
    town_id = _staff_town(actor)
    if actor.role == Role.SECRETARY:
        if body.branch_id not in (None, actor.branch_id):
            raise NotFound(key="branch.not-found", id=body.branch_id)
        branch_id = actor.branch_id
    elif actor.role == Role.TOWN_ADMIN:
        branch_id = body.branch_id
        if branch_id is not None and (db.get(Branch, branch_id) is None or db.get(Branch, branch_id).town_id != town_id):
            raise NotFound(key="branch.not-found", id=branch_id)
    else:
        raise NotPermitted(key="project.publishers")
    if body.unit_id is not None:
        unit = db.get(Unit, body.unit_id)
        if unit is None or unit.town_id != town_id:
            raise NotFound(key="unit.not-found", id=body.unit_id)
    project = Project(town_id=town_id, branch_id=branch_id, year=body.year, kind=body.kind.value, title=body.title,
                      description=body.description, unit_id=body.unit_id, published_by_id=actor.id, created_at=now)
    db.add(project)
    db.flush()
    audit(db, actor, "create", "project", project.id, body.model_dump(mode="json"), now=now)
    return project


@use_case
def take_project(db: Session, actor: Principal, project_id: int, body: ProjectTake, *, now: datetime) -> Project:
    project = _project(db, actor, project_id, lock=True)
    target = plan_project_move(ProjectState(project.state), ProjectMove.TAKE)
    if body.action_team_id is not None:
        if not _publishes(actor, project):
            raise NotPermitted(key="project.give-to-team")
        team = db.get(ActionTeam, body.action_team_id)
        if (team is None or team.town_id != project.town_id or not team.active
                or (project.branch_id is not None and team.branch_id != project.branch_id)):
            raise RuleViolation(key="project.not-a-team", id=body.action_team_id)
        project.action_team_id, project.lead_member_id = team.id, team.lead_id
    else:
        if actor.role != Role.MEMBER or (project.branch_id is not None and project.branch_id != actor.branch_id):
            raise NotPermitted(key="project.takers")
        project.lead_member_id = actor.id
    project.state, project.taken_at, project.version = target.value, now, project.version + 1
    audit(db, actor, "take", "project", project.id, body.model_dump(mode="json"), now=now)
    return project


@use_case
def record_milestone(db: Session, actor: Principal, project_id: int, body: MilestoneCreate, *,
                     now: datetime) -> Project:
    project = _project(db, actor, project_id, lock=True)
    plan_project_move(ProjectState(project.state), ProjectMove.MILESTONE)
    if not _leads(actor, project):
        raise NotPermitted(key="project.leaders")
    count = db.exec(select(func.count()).select_from(ProjectMilestone)
                    .where(ProjectMilestone.project_id == project.id)).one()
    if count >= MAX_MILESTONES:
        raise RuleViolation(key="project.too-many-milestones", max=MAX_MILESTONES)
    today = _town_day(db, project, now)
    reached = body.reached_on or today
    if reached > today:
        raise RuleViolation(key="project.milestone-in-future")
    milestone = ProjectMilestone(project_id=project.id, title=body.title, note=body.note, reached_on=reached,
                                 recorded_by_id=actor.id, created_at=now)
    db.add(milestone)
    db.flush()
    attach_project_photos(db, actor, project.id, milestone.id, body.photo_ids, "milestone", MAX_PHOTOS)
    project.version += 1
    return project


@use_case
def link_order(db: Session, actor: Principal, project_id: int, body: ProjectLink, *, now: datetime) -> Project:
    project = _project(db, actor, project_id, lock=True)
    plan_project_move(ProjectState(project.state), ProjectMove.LINK_ORDER)
    if not _leads(actor, project):
        raise NotPermitted(key="project.leaders")
    if db.exec(select(Order.id).where(Order.id == body.order_id, visible_orders(actor))).first() is None:
        raise NotFound(key="order.not-found", id=body.order_id)
    if db.get(ProjectOrder, (project.id, body.order_id)) is not None:
        raise Conflict(key="project.order-linked", id=body.order_id)
    db.add(ProjectOrder(project_id=project.id, order_id=body.order_id))
    project.version += 1
    return project


@use_case
def finish_project(db: Session, actor: Principal, project_id: int, body: ProjectFinish, *, now: datetime) -> Project:
    project = _project(db, actor, project_id, lock=True)
    target = plan_project_move(ProjectState(project.state), ProjectMove.FINISH)
    if not _leads(actor, project):
        raise NotPermitted(key="project.leaders")
    attach_project_photos(db, actor, project.id, None, body.photo_ids, "result", MAX_PHOTOS)
    project.state, project.result_note, project.done_at = target.value, body.result_note, now
    project.version += 1
    audit(db, actor, "finish", "project", project.id, {"result_note": body.result_note}, now=now)
    return project


@use_case
def drop_project(db: Session, actor: Principal, project_id: int, body: ProjectDrop, *, now: datetime) -> Project:
    project = _project(db, actor, project_id, lock=True)
    target = plan_project_move(ProjectState(project.state), ProjectMove.DROP)
    if not _publishes(actor, project):
        raise NotPermitted(key="project.publishers")
    project.state, project.version = target.value, project.version + 1
    audit(db, actor, "drop", "project", project.id, body.model_dump(mode="json"), now=now)
    return project


def _town_day(db: Session, project: Project, now: datetime) -> date:
    return now.astimezone(ZoneInfo(db.get(Town, project.town_id).timezone)).date()


# --------------------------------------------------------------------------- reading


class ProjectPhoto(BaseModel):
    id: str
    url: str


class MilestoneView(BaseModel):
    id: int
    title: str
    note: str | None
    reached_on: date
    photos: list[ProjectPhoto]


class LinkedOrder(BaseModel):
    id: int
    state: str
    state_label: str


class ProjectView(BaseModel):
    id: int
    year: int
    kind: str
    kind_label: str
    title: str
    description: str
    branch: Ref | None = Field(description="None for the town's own project.")
    unit: Ref | None
    need: Ref | None = Field(description="The community need it answers (三张清单), when matched from one.")
    resources: list[Ref] = Field(description="The resources of members and units it uses (三张清单).")
    state: str
    state_label: str
    lead: Ref | None
    action_team: Ref | None
    taken_at: datetime | None
    milestones: list[MilestoneView]
    orders: list[LinkedOrder]
    result_note: str | None
    result_photos: list[ProjectPhoto]
    done_at: datetime | None
    allowed_actions: list[str] = Field(description="The moves the project's state allows (take, milestone, …).")
    created_at: datetime


def list_projects(db: Session, actor: Principal, page: PageRequest, links: PhotoLinks, now: datetime, *,
                  year: int | None = None, branch_id: int | None = None,
                  state: ProjectState | None = None) -> tuple[list[ProjectView], int]:
    where = [Project.town_id == _staff_town(actor)]
    if year is not None:
        where.append(Project.year == year)
    if branch_id is not None:
        where.append(Project.branch_id == branch_id)
    if state is not None:
        where.append(Project.state == state.value)
    rows, total = fetch_page(db, select(Project).where(*where).order_by(col(Project.year).desc(), col(Project.id)),
                             page)
    return project_views(db, rows, links, now), total


def get_project(db: Session, actor: Principal, project_id: int, links: PhotoLinks, now: datetime) -> ProjectView:
    return project_views(db, [_project(db, actor, project_id)], links, now)[0]


def project_views(db: Session, projects: Sequence[Project], links: PhotoLinks, now: datetime) -> list[ProjectView]:
    ids = [p.id for p in projects]
    if not ids:
        return []
    milestones = db.exec(select(ProjectMilestone).where(col(ProjectMilestone.project_id).in_(ids))
                         .order_by(col(ProjectMilestone.reached_on), col(ProjectMilestone.id))).all()
    photos = db.exec(select(Photo.id, Photo.project_id, Photo.milestone_id).where(col(Photo.project_id).in_(ids))
                     .order_by(col(Photo.created_at), col(Photo.id))).all()
    orders = db.exec(select(ProjectOrder.project_id, Order.id, Order.state)
                     .join(Order, col(Order.id) == ProjectOrder.order_id)
                     .where(col(ProjectOrder.project_id).in_(ids)).order_by(col(Order.id))).all()
    branches = names(db, Branch, [p.branch_id for p in projects])
    units = names(db, Unit, [p.unit_id for p in projects])
    staff = names(db, Staff, [p.lead_member_id for p in projects])
    teams = names(db, ActionTeam, [p.action_team_id for p in projects])
    need_ids = sorted({p.need_id for p in projects if p.need_id is not None})
    needs = dict(db.exec(select(CommunityNeed.id, CommunityNeed.title)
                         .where(col(CommunityNeed.id).in_(need_ids))).all()) if need_ids else {}
    uses = db.exec(select(ProjectResource.project_id, Resource.id, Resource.title)
                   .join(Resource, col(Resource.id) == ProjectResource.resource_id)
                   .where(col(ProjectResource.project_id).in_(ids)).order_by(col(Resource.id))).all()

    def shown(photo_id: str) -> ProjectPhoto:
        return ProjectPhoto(id=photo_id, url=links.url(photo_id, now).url)

    views = []
    for p in projects:
        state = ProjectState(p.state)
        views.append(ProjectView(
            id=p.id, year=p.year, kind=p.kind, kind_label=PROJECT_KIND_LABELS[ProjectKind(p.kind)], title=p.title,
            description=p.description, branch=optional_ref(p.branch_id, branches), unit=optional_ref(p.unit_id, units),
            need=optional_ref(p.need_id, needs),
            resources=[Ref(id=rid, name=title) for pid, rid, title in uses if pid == p.id],
            state=state.value, state_label=state.label, lead=optional_ref(p.lead_member_id, staff),
            action_team=optional_ref(p.action_team_id, teams), taken_at=p.taken_at,
            milestones=[MilestoneView(id=m.id, title=m.title, note=m.note, reached_on=m.reached_on,
                                      photos=[shown(i) for i, _, mid in photos if mid == m.id])
                        for m in milestones if m.project_id == p.id],
            orders=[LinkedOrder(id=oid, state=s, state_label=OrderState(s).label)
                    for pid, oid, s in orders if pid == p.id],
            result_note=p.result_note,
            result_photos=[shown(i) for i, pid, mid in photos if pid == p.id and mid is None],
            done_at=p.done_at, allowed_actions=allowed_moves(state), created_at=p.created_at))
    return views


# --------------------------------------------------------------------------- the year's board


class ProjectStats(BaseModel):
    year: int
    by_state: dict[str, int]
    labels: dict[str, str]
    taken_by_members: int
    taken_by_teams: int
    milestones: int
    orders_linked: int
    orders_closed: int
    done_rate: float | None = Field(description="Done ÷ published less dropped.")


def project_stats(db: Session, actor: Principal, *, year: int, branch_id: int | None = None) -> ProjectStats:
    town_id = _staff_town(actor)
    if actor.role not in (Role.TOWN_ADMIN, Role.SECRETARY):
        raise NotPermitted(key="project.stats-readers")
    if actor.role == Role.SECRETARY:
        branch_id = actor.branch_id
    return count_projects(db, town_id, year, branch_id)


def count_projects(db: Session, town_id: int, year: int, branch_id: int | None) -> ProjectStats:
    """The year's projects of the town (or one branch), counted from the rows."""
    from domain.stats import ratio
    where = [Project.town_id == town_id, Project.year == year]
    if branch_id is not None:
        where.append(Project.branch_id == branch_id)
    rows = db.exec(select(Project).where(*where)).all()
    ids = [p.id for p in rows]
    by_state = {s.value: sum(p.state == s.value for p in rows) for s in ProjectState}
    milestones = db.exec(select(func.count()).select_from(ProjectMilestone)
                         .where(col(ProjectMilestone.project_id).in_(ids))).one() if ids else 0
    linked = db.exec(select(Order.state).join(ProjectOrder, col(ProjectOrder.order_id) == Order.id)
                     .where(col(ProjectOrder.project_id).in_(ids))).all() if ids else []
    return ProjectStats(
        year=year, by_state=by_state, labels={s.value: s.label for s in ProjectState},
        taken_by_members=sum(p.lead_member_id is not None and p.action_team_id is None for p in rows),
        taken_by_teams=sum(p.action_team_id is not None for p in rows), milestones=int(milestones),
        orders_linked=len(linked), orders_closed=sum(s == OrderState.CLOSED.value for s in linked),
        done_rate=ratio(by_state["done"], len(rows) - by_state["dropped"]))
