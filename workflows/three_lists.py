"""三张清单: the needs list, the resources list, and needs matched to resources as projects.

Who: the town admin and branch secretaries keep the needs (a secretary their branch's)
and match them; every staff account of the town reads the resources, a party member
offers their own, a unit's staff their unit's, a secretary for the branch's members, the
town admin for anyone. The project list is `/projects`, each project naming the need it
answers and the resources it uses.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, field_validator
from sqlalchemy import func
from sqlmodel import Session, col, select

from domain.errors import Conflict, NotFound, NotPermitted, RuleViolation
from domain.projects import ProjectKind, ProjectState
from domain.roles import Role
from domain.states import OrderState
from domain.three_lists import (
    MAX_TAGS, RESOURCE_KIND_LABELS, NeedFacts, NeedState, ResourceFacts, ResourceKind, rank,
)
from storage.models import (
    Branch, Category, CommunityNeed, Grid, Order, Project, ProjectResource, Resource, Staff, Unit,
)
from workflows.audit import audit
from workflows.inputs import Id, Strict, Text
from workflows.paging import PageRequest, fetch_page
from workflows.principal import Principal
from workflows.refs import Ref, names, optional_ref, ref
from workflows.unit import use_case

OPEN_ORDER_STATES = (OrderState.SUBMITTED, OrderState.CLAIMED, OrderState.DISPATCHED, OrderState.WHISTLED,
                     OrderState.IN_PROGRESS)


class NeedCreate(Strict):
    title: Annotated[Text, Field(max_length=100)]
    description: Annotated[Text, Field(max_length=2000)]
    branch_id: Id | None = Field(None, description="A secretary's is their branch; the admin may name one.")
    grid_id: Id | None = None
    category_id: Id | None = None


class ResourceCreate(Strict):
    kind: ResourceKind = Field(strict=False, description="skill 技能, equipment 设备, money 资金, hours 志愿时长,"
                                                         " venue 场地, other 其他")
    title: Annotated[Text, Field(max_length=100)]
    description: Annotated[Text, Field(max_length=1000)] | None = None
    amount: Annotated[Text, Field(max_length=50)] | None = Field(None, description="How much: 每月8小时, 2万元, …")
    category_ids: list[Id] = Field(default_factory=list, max_length=20, description="Categories it serves.")
    tags: list[Annotated[Text, Field(max_length=20)]] = Field(default_factory=list, max_length=MAX_TAGS,
                                                               description="Words it is known by: 水电, 法律, …")
    member_id: Id | None = Field(None, description="The member who offers it (a member: themselves).")
    unit_id: Id | None = Field(None, description="The co-building unit that offers it (a unit's staff: theirs).")

    @field_validator("category_ids")
    @classmethod
    def _distinct(cls, value: list[int]) -> list[int]:
        return list(dict.fromkeys(value))


class MatchCreate(Strict):
    resource_ids: list[Id] = Field(min_length=1, max_length=10)
    year: int = Field(ge=2000, le=2100)
    title: Annotated[Text, Field(max_length=100)] | None = Field(None, description="Default: the need's title.")


# --------------------------------------------------------------------------- who


def _town(actor: Principal) -> int:
    if actor.kind != "staff" or actor.town_id is None:
        raise NotPermitted(key="lists.for-whom")
    return actor.town_id


def _keeper(actor: Principal) -> int:
    if actor.role not in (Role.TOWN_ADMIN, Role.SECRETARY) or actor.town_id is None:
        raise NotPermitted(key="lists.keepers")
    return actor.town_id


def _own_need(db: Session, actor: Principal, need_id: int) -> CommunityNeed:
    need = db.get(CommunityNeed, need_id)
    if (need is None or need.town_id != _keeper(actor)
            or (actor.role == Role.SECRETARY and need.branch_id != actor.branch_id)):
        raise NotFound(key="need.not-found", id=need_id)
    return need


# --------------------------------------------------------------------------- needs


@use_case
def add_need(db: Session, actor: Principal, body: NeedCreate, *, now: datetime) -> CommunityNeed:
    town_id = _keeper(actor)
    branch_id = actor.branch_id if actor.role == Role.SECRETARY else body.branch_id
    if actor.role == Role.SECRETARY and body.branch_id not in (None, actor.branch_id):
        raise NotFound(key="branch.not-found", id=body.branch_id)
    if branch_id is not None and (db.get(Branch, branch_id) is None or db.get(Branch, branch_id).town_id != town_id):
        raise NotFound(key="branch.not-found", id=branch_id)
    if body.grid_id is not None:
        grid = db.get(Grid, body.grid_id)
        if grid is None or grid.town_id != town_id or (branch_id is not None and grid.branch_id != branch_id):
            raise NotFound(key="grid.not-found", id=body.grid_id)
    if body.category_id is not None:
        category = db.get(Category, body.category_id)
        if category is None or category.town_id != town_id:
            raise NotFound(key="category.not-found", id=body.category_id)
    need = CommunityNeed(town_id=town_id, branch_id=branch_id, grid_id=body.grid_id, category_id=body.category_id,
                         title=body.title, description=body.description, created_by_id=actor.id, created_at=now)
    db.add(need)
    db.flush()
    audit(db, actor, "create", "community_need", need.id, body.model_dump(mode="json"), now=now)
    return need


class NeedView(BaseModel):
    id: int
    title: str
    description: str
    branch: Ref | None
    grid: Ref | None
    category: Ref | None
    state: str
    state_label: str
    projects: list[Ref] = Field(description="The projects it was matched into.")
    created_at: datetime


class OrderNeed(BaseModel):
    """Open orders of one category in one grid: a need the orders state."""

    category: Ref
    grid: Ref
    open_orders: int
    oldest_placed_at: datetime


class NeedsList(BaseModel):
    from_orders: list[OrderNeed] = Field(description="Most open orders first.")
    entered: list[NeedView] = Field(description="Entered by the community, newest first (this page).")
    total: int
    limit: int
    offset: int


def needs_list(db: Session, actor: Principal, page: PageRequest, *, state: NeedState | None = None) -> NeedsList:
    town_id = _keeper(actor)
    order_where = [Order.town_id == town_id, col(Order.state).in_([s.value for s in OPEN_ORDER_STATES])]
    need_where = [CommunityNeed.town_id == town_id]
    if actor.role == Role.SECRETARY:
        order_where.append(Order.branch_id == actor.branch_id)
        need_where.append(CommunityNeed.branch_id == actor.branch_id)
    if state is not None:
        need_where.append(CommunityNeed.state == state.value)
    grouped = db.exec(select(Order.category_id, Order.grid_id, func.count(), func.min(Order.created_at))
                      .where(*order_where).group_by(col(Order.category_id), col(Order.grid_id))).all()
    categories = names(db, Category, [c for c, _, _, _ in grouped])
    grids = names(db, Grid, [g for _, g, _, _ in grouped])
    from_orders = sorted((OrderNeed(category=ref(c, categories), grid=ref(g, grids), open_orders=n,
                                    oldest_placed_at=oldest) for c, g, n, oldest in grouped),
                         key=lambda n: (-n.open_orders, n.category.id, n.grid.id))
    rows, total = fetch_page(db, select(CommunityNeed).where(*need_where).order_by(col(CommunityNeed.id).desc()),
                             page)
    return NeedsList(from_orders=from_orders, entered=need_views(db, rows), total=total, limit=page.limit,
                     offset=page.offset)


def need_views(db: Session, needs: Sequence[CommunityNeed]) -> list[NeedView]:
    ids = [n.id for n in needs]
    projects = db.exec(select(Project.need_id, Project.id, Project.title)
                       .where(col(Project.need_id).in_(ids)).order_by(col(Project.id))).all() if ids else []
    branches = names(db, Branch, [n.branch_id for n in needs])
    grids = names(db, Grid, [n.grid_id for n in needs])
    categories = names(db, Category, [n.category_id for n in needs])
    return [NeedView(
        id=n.id, title=n.title, description=n.description, branch=optional_ref(n.branch_id, branches),
        grid=optional_ref(n.grid_id, grids), category=optional_ref(n.category_id, categories), state=n.state,
        state_label=NeedState(n.state).label,
        projects=[Ref(id=pid, name=title) for need_id, pid, title in projects if need_id == n.id],
        created_at=n.created_at) for n in needs]


# --------------------------------------------------------------------------- resources


@use_case
def add_resource(db: Session, actor: Principal, body: ResourceCreate, *, now: datetime) -> Resource:
    town_id = _town(actor)
    member_id, unit_id = body.member_id, body.unit_id
    match actor.role:
        case Role.MEMBER:
            if unit_id is not None or member_id not in (None, actor.id):
                raise NotPermitted(key="resource.own-only")
            member_id = actor.id
        case Role.UNIT_STAFF:
            if member_id is not None or unit_id not in (None, actor.unit_id):
                raise NotPermitted(key="resource.own-only")
            unit_id = actor.unit_id
        case Role.SECRETARY | Role.TOWN_ADMIN:
            pass
        case _:
            raise NotPermitted(key="resource.own-only")
    if (member_id is None) == (unit_id is None):
        raise RuleViolation(key="resource.one-owner")
    if member_id is not None:
        member = db.get(Staff, member_id)
        if (member is None or member.town_id != town_id or member.role != Role.MEMBER.value
                or (actor.role == Role.SECRETARY and member.branch_id != actor.branch_id)):
            raise NotFound(key="staff.not-found", id=member_id)
    if unit_id is not None:
        unit = db.get(Unit, unit_id)
        if unit is None or unit.town_id != town_id:
            raise NotFound(key="unit.not-found", id=unit_id)
    known = set(db.exec(select(Category.id).where(col(Category.id).in_(body.category_ids),
                                                  Category.town_id == town_id)).all()) if body.category_ids else set()
    if missing := [c for c in body.category_ids if c not in known]:
        raise NotFound(key="category.not-found", id=missing[0])
    resource = Resource(town_id=town_id, member_id=member_id, unit_id=unit_id, kind=body.kind.value, title=body.title,
                        description=body.description, amount=body.amount, category_ids=body.category_ids,
                        tags=list(dict.fromkeys(body.tags)), created_by_id=actor.id, created_at=now)
    db.add(resource)
    db.flush()
    audit(db, actor, "create", "resource", resource.id, body.model_dump(mode="json"), now=now)
    return resource


class ResourceView(BaseModel):
    id: int
    kind: str
    kind_label: str
    title: str
    description: str | None
    amount: str | None
    member: Ref | None
    unit: Ref | None
    category_ids: list[int]
    tags: list[str]
    active: bool
    committed: int = Field(description="Unfinished projects it is matched to.")
    created_at: datetime


def resources_list(db: Session, actor: Principal, page: PageRequest, *,
                   kind: ResourceKind | None = None) -> tuple[list[ResourceView], int]:
    where = [Resource.town_id == _town(actor)]
    if kind is not None:
        where.append(Resource.kind == kind.value)
    rows, total = fetch_page(db, select(Resource).where(*where).order_by(col(Resource.id)), page)
    return resource_views(db, rows), total


def _committed(db: Session, ids: list[int]) -> dict[int, int]:
    if not ids:
        return {}
    return dict(db.exec(select(ProjectResource.resource_id, func.count())
                        .join(Project, col(Project.id) == ProjectResource.project_id)
                        .where(col(ProjectResource.resource_id).in_(ids),
                               col(Project.state).in_([ProjectState.OPEN.value, ProjectState.TAKEN.value]))
                        .group_by(col(ProjectResource.resource_id))).all())


def resource_views(db: Session, resources: Sequence[Resource]) -> list[ResourceView]:
    committed = _committed(db, [r.id for r in resources])
    members = names(db, Staff, [r.member_id for r in resources])
    units = names(db, Unit, [r.unit_id for r in resources])
    return [ResourceView(
        id=r.id, kind=r.kind, kind_label=RESOURCE_KIND_LABELS[ResourceKind(r.kind)], title=r.title,
        description=r.description, amount=r.amount, member=optional_ref(r.member_id, members),
        unit=optional_ref(r.unit_id, units), category_ids=list(r.category_ids), tags=list(r.tags), active=r.active,
        committed=committed.get(r.id, 0), created_at=r.created_at) for r in resources]


# --------------------------------------------------------------------------- matching


class MatchReasonView(BaseModel):
    code: str
    label: str
    value: str | int
    weight: int


class ResourceMatch(BaseModel):
    resource: ResourceView
    score: int
    reasons: list[MatchReasonView]


class NeedMatches(BaseModel):
    need: NeedView
    items: list[ResourceMatch] = Field(description="Every active resource of the town, best first, with why.")


def need_matches(db: Session, actor: Principal, need_id: int) -> NeedMatches:
    need = _own_need(db, actor, need_id)
    resources = db.exec(select(Resource).where(Resource.town_id == need.town_id, col(Resource.active).is_(True))
                        .order_by(col(Resource.id))).all()
    committed = _committed(db, [r.id for r in resources])
    branches = dict(db.exec(select(Staff.id, Staff.branch_id).where(
        col(Staff.id).in_([r.member_id for r in resources if r.member_id is not None]))).all())
    ranked = rank(NeedFacts(f"{need.title} {need.description}", need.category_id, need.branch_id), [
        ResourceFacts(r.id, frozenset(r.category_ids), tuple(r.tags), branches.get(r.member_id), r.unit_id is not None,
                      committed.get(r.id, 0)) for r in resources])
    views = {v.id: v for v in resource_views(db, resources)}
    return NeedMatches(need=need_views(db, [need])[0], items=[ResourceMatch(
        resource=views[m.resource_id], score=m.score,
        reasons=[MatchReasonView(code=r.code, label=r.label, value=r.value, weight=r.weight) for r in m.reasons])
        for m in ranked])


@use_case
def match_need(db: Session, actor: Principal, need_id: int, body: MatchCreate, *, now: datetime) -> Project:
    """A need matched to resources as a project (共建项目 when a unit offers one of them), open to be taken."""
    need = _own_need(db, actor, need_id)
    if need.state == NeedState.CLOSED.value:
        raise Conflict(key="need.closed", id=need.id)
    resources = db.exec(select(Resource).where(col(Resource.id).in_(body.resource_ids),
                                               Resource.town_id == need.town_id, col(Resource.active).is_(True))).all()
    if len(resources) != len(set(body.resource_ids)):
        raise RuleViolation(key="need.resources-refused")
    unit = next((r.unit_id for r in resources if r.unit_id is not None), None)
    project = Project(town_id=need.town_id, branch_id=need.branch_id, year=body.year,
                      kind=(ProjectKind.JOINT if unit else ProjectKind.LEAD).value, title=body.title or need.title,
                      description=need.description, unit_id=unit, need_id=need.id, published_by_id=actor.id,
                      created_at=now)
    db.add(project)
    db.flush()
    db.add_all([ProjectResource(project_id=project.id, resource_id=r.id) for r in resources])
    need.state = NeedState.MATCHED.value
    audit(db, actor, "match", "community_need", need.id, {"project_id": project.id,
                                                          "resource_ids": sorted(r.id for r in resources)}, now=now)
    return project
