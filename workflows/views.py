"""What the API returns for orders: plain models with names and Chinese labels filled in."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from pydantic import BaseModel, Field
from sqlalchemy import bindparam
from sqlmodel import Session, col, select

from domain.channels import channel_label
from domain.deadlines import overdue_seconds
from domain.states import OrderState, Urgency
from domain.transitions import ACTION_LABELS, Action
from domain.roles import ROLE_LABELS, Role
from storage.models import ActionTeam, Branch, Category, Grid, Order, OrderEvent, Photo, Staff
from workflows.photo_links import PhotoLinks, SignedUrl
from workflows.principal import Principal
from workflows.refs import Ref, names, optional_ref, ref
from workflows.transition import actions_open_to
from workflows.whistle_inputs import WhistleView
from workflows.whistle_views import order_whistles


class PhotoView(BaseModel):
    id: str
    url: str = Field(description="Signed: loads without an Authorization header until `url_expires_at`.")
    url_expires_at: datetime
    purpose: str | None
    content_type: str
    size: int


class RatingView(BaseModel):
    stars: int | None  # None for a default rating at the deadline
    comment: str | None
    source: str  # resident | callback | default


class OrderView(BaseModel):
    id: int
    state: str
    state_label: str
    urgency: str
    urgency_label: str = Field(description="一般, 紧急")
    category: Ref
    grid: Ref
    branch: Ref
    description: str
    address: str | None
    latitude: float | None
    longitude: float | None
    contact_name: str | None
    contact_phone: str | None
    channel: str
    channel_label: str = Field(description="小程序, 走访, 电话, 群众说事厅, 城市平台")
    attributes: dict = Field(description="Answers to the category's extra questions, by code.")
    media_url: str | None = Field(description="A photo link an Open311 client sent with the request (not fetched).")
    visit_id: int | None = Field(description="The visit (驻点直联) the need was found on, for channel `visit`.")
    placed_on_behalf: bool
    assignee: Ref | None
    action_team: Ref | None = Field(description="The action team (行动队) it is dispatched to; the assignee"
                                                " is the team's member.")
    reopen_count: int
    duplicate_of_id: int | None = Field(description="Rejected as a duplicate of this order, which its resident follows.")
    follower_count: int = Field(description="Residents who follow it (\"me too\"): one order, counted once.")
    following: bool = Field(description="The caller follows it (another resident's order): read-only, and"
                                        " without its placer's name, phone or address.")
    completion_note: str | None
    rating: RatingView | None
    created_at: datetime
    updated_at: datetime
    stage_deadline: datetime | None
    overdue: bool
    overdue_seconds: int
    closed_at: datetime | None
    allowed_actions: list[str] = Field(
        description="What the caller may do to this order now (the buttons to show): the actions its state"
                    " allows to the caller's role and that fall to this person. A 409 names the same list.",
    )


class EventView(BaseModel):
    id: int
    action: str
    action_label: str
    from_state: str | None
    from_state_label: str | None
    to_state: str
    to_state_label: str
    actor_role: str
    actor_role_label: str
    actor_name: str | None
    note: str | None
    data: dict
    at: datetime


class OrderDetail(OrderView):
    photos: list[PhotoView]
    timeline: list[EventView]
    whistles: list[WhistleView] = Field(
        default_factory=list, description="吹哨报到: the units called in on the order and how each answered.")


def order_views(db: Session, orders: Sequence[Order], viewer: Principal, now: datetime) -> list[OrderView]:
    """Shape many orders with three lookups in all, not three per order."""
    grids, branches = _grids_and_branches(db, orders)
    known = _Names(
        categories=names(db, Category, (o.category_id for o in orders)),
        grids=grids,
        branches=branches,
        staff=names(db, Staff, (o.assignee_id for o in orders)),
        teams=names(db, ActionTeam, (o.action_team_id for o in orders)),  # no statement when none has one
    )
    return [_view(o, known, viewer, now) for o in orders]


def _grids_and_branches(db: Session, orders: Sequence[Order]) -> tuple[dict[int, str], dict[int, str]]:
    """The names of the orders' grids and of the grids' branches, in one query.

    An order's branch is its grid's; one whose grid has since moved to another branch
    has that name looked up apart.
    """
    grid_ids = sorted({o.grid_id for o in orders})
    grids: dict[int, str] = {}
    branches: dict[int, str] = {}
    if grid_ids:
        for grid_id, grid_name, branch_id, branch_name in db.exec(
            select(Grid.id, Grid.name, Branch.id, Branch.name)
            .join(Branch, col(Branch.id) == col(Grid.branch_id)).where(col(Grid.id).in_(grid_ids))
        ):
            grids[grid_id] = grid_name
            branches[branch_id] = branch_name
    branches.update(names(db, Branch, (o.branch_id for o in orders if o.branch_id not in branches)))
    return grids, branches


def order_detail(db: Session, order: Order, viewer: Principal, now: datetime, links: PhotoLinks) -> OrderDetail:
    """One order as `viewer` sees it, who may see it: its photos' signed URLs are for them.

    Three reads, each a statement built once (below) and run on the session's connection
    as plain rows: the names, the photos, the timeline. Every move answers with this.
    """
    conn = db.connection()
    category, grid, branch, assignee, team = conn.execute(_DETAIL_NAMES, {
        "category_id": order.category_id, "grid_id": order.grid_id, "branch_id": order.branch_id,
        "assignee_id": order.assignee_id, "action_team_id": order.action_team_id,
    }).one()
    known = _Names(categories={order.category_id: category or ""}, grids={order.grid_id: grid or ""},
                   branches={order.branch_id: branch or ""},
                   staff={order.assignee_id: assignee or ""} if order.assignee_id is not None else {},
                   teams={order.action_team_id: team or ""} if order.action_team_id is not None else {})
    photos = conn.execute(_DETAIL_PHOTOS, {"order_id": order.id}).all()
    events = conn.execute(_DETAIL_EVENTS, {"order_id": order.id}).all()
    # Only an order that was ever whistled has whistles to read: the others cost no statement.
    whistled = any(e.action == Action.WHISTLE.value for e in events)
    # A follower is not told who placed the order, nor anyone's words.
    anonymous = _follows(order, viewer)
    return _view(order, known, viewer, now, OrderDetail,
                 photos=[_photo_view(p, links.url(p.id, now)) for p in photos],
                 timeline=[_event_view(e, anonymous) for e in events],
                 whistles=order_whistles(db, order.id, viewer, now) if whistled else [])


def _name_of(table, key: str):
    return select(table.c.name).where(table.c.id == bindparam(key)).scalar_subquery()


_DETAIL_NAMES = select(
    _name_of(Category.__table__, "category_id"), _name_of(Grid.__table__, "grid_id"),
    _name_of(Branch.__table__, "branch_id"), _name_of(Staff.__table__, "assignee_id"),
    _name_of(ActionTeam.__table__, "action_team_id"),
)
_photos = Photo.__table__.c
_DETAIL_PHOTOS = (select(_photos.id, _photos.purpose, _photos.content_type, _photos.size)
                  .where(_photos.order_id == bindparam("order_id")).order_by(_photos.created_at, _photos.id))
_events = OrderEvent.__table__.c
_DETAIL_EVENTS = (select(_events.id, _events.action, _events.from_state, _events.to_state, _events.actor_role,
                         _events.actor_name, _events.note, _events.data, _events.created_at)
                  .where(_events.order_id == bindparam("order_id")).order_by(_events.id))


def _photo_view(photo, signed: SignedUrl) -> PhotoView:
    return PhotoView(id=photo.id, url=signed.url, url_expires_at=signed.expires_at, purpose=photo.purpose,
                     content_type=photo.content_type, size=photo.size)


@dataclass(frozen=True)
class _Names:
    categories: dict[int, str]
    grids: dict[int, str]
    branches: dict[int, str]
    staff: dict[int, str]
    teams: dict[int, str] = field(default_factory=dict)


def _follows(order, viewer: Principal) -> bool:
    """A resident reading another's order: one they follow (no other is in their scope)."""
    return viewer.role == Role.RESIDENT and order.resident_id != viewer.id


def _view(order, known: _Names, viewer: Principal, now: datetime, shape: type[OrderView] = OrderView,
          **more) -> OrderView:
    state = OrderState(order.state)
    late = overdue_seconds(order.stage_deadline, now)
    following = _follows(order, viewer)
    return shape(
        id=order.id,
        state=state.value,
        state_label=state.label,
        urgency=order.urgency,
        urgency_label=Urgency(order.urgency).label,
        category=ref(order.category_id, known.categories),
        grid=ref(order.grid_id, known.grids),
        branch=ref(order.branch_id, known.branches),
        description=order.description,
        address=None if following else order.address,
        latitude=order.latitude,
        longitude=order.longitude,
        contact_name=None if following else order.contact_name,
        contact_phone=None if following else order.contact_phone,
        channel=order.channel,
        channel_label=channel_label(order.channel),
        attributes=order.attributes or {},
        media_url=order.media_url,
        visit_id=order.visit_id,
        placed_on_behalf=order.placed_by_staff_id is not None,
        assignee=optional_ref(order.assignee_id, known.staff),
        action_team=optional_ref(order.action_team_id, known.teams),
        reopen_count=order.reopen_count,
        duplicate_of_id=order.duplicate_of_id,
        follower_count=order.follower_count,
        following=following,
        completion_note=order.completion_note,
        rating=RatingView(stars=order.rating_stars, comment=None if following else order.rating_comment,
                          source=order.rating_source)
        if order.rating_source is not None
        else None,
        created_at=order.created_at,
        updated_at=order.updated_at,
        stage_deadline=order.stage_deadline,
        overdue=late > 0,
        overdue_seconds=late,
        closed_at=order.closed_at,
        allowed_actions=actions_open_to(order, viewer),
        **more,
    )


def _event_view(event, anonymous: bool = False) -> EventView:
    """An `OrderEvent`, or a row with its columns.

    `anonymous` (a follower reads it): what happened and when, and who of the staff, but
    no one's words or record (a callback rating carries the resident's words), and no
    resident's name.
    """
    residents = anonymous and event.actor_role == Role.RESIDENT.value
    source = OrderState(event.from_state) if event.from_state else None
    return EventView(
        id=event.id,
        action=event.action,
        action_label=ACTION_LABELS[Action(event.action)],
        from_state=event.from_state,
        from_state_label=source.label if source else None,
        to_state=event.to_state,
        to_state_label=OrderState(event.to_state).label,
        actor_role=event.actor_role,
        actor_role_label=ROLE_LABELS[Role(event.actor_role)],
        actor_name=None if residents else event.actor_name,
        note=None if anonymous else event.note,
        data={} if anonymous else event.data,
        at=event.created_at,
    )
