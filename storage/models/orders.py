"""Orders, their timeline and their photos."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, text
from sqlmodel import Field, SQLModel

from storage.models._fields import timestamp as _ts


class Order(SQLModel, table=True):
    __tablename__ = "orders"
    __table_args__ = (
        Index("ix_orders_grid_state", "grid_id", "state", "stage_deadline"),
        Index("ix_orders_branch_state", "branch_id", "state", "stage_deadline"),
        Index("ix_orders_assignee_state", "assignee_id", "state", "stage_deadline"),
        Index("ix_orders_resident", "resident_id", "id"),
        Index("ix_orders_placed_by", "placed_by_staff_id", "id"),
        Index("ix_orders_household", "household_id", "id"),
        Index("ix_orders_visit", "visit_id", "id"),
        Index("ix_orders_action_team", "action_team_id", "id"),
        # 揭榜: the orders on a branch's task board, and the window ends the sweep looks for.
        Index("ix_orders_task_until", "task_until", postgresql_where=text("task_until IS NOT NULL"),
              sqlite_where=text("task_until IS NOT NULL")),
        Index("ix_orders_town_created", "town_id", "created_at"),
        Index("uq_orders_open311_token", "open311_token", unique=True),
        # Open orders of a category near a point ("me too"): a latitude range of the category's.
        Index("ix_orders_category_place", "category_id", "latitude", "longitude",
              postgresql_where=text("latitude IS NOT NULL"), sqlite_where=text("latitude IS NOT NULL")),
        # The sweep for overdue stages reads only open orders, earliest deadline first.
        Index(
            "ix_orders_open_deadline",
            "stage_deadline",
            postgresql_where=text("stage_deadline IS NOT NULL"),
            sqlite_where=text("stage_deadline IS NOT NULL"),
        ),
        Index("ix_orders_contact_phone", "contact_phone", postgresql_where=text("resident_id IS NULL"),
              sqlite_where=text("resident_id IS NULL")),
        # Overdue now, by stage, for one town: an index range, not a scan of the town's orders.
        Index(
            "ix_orders_town_deadline", "town_id", "stage_deadline", "state",
            postgresql_where=text("stage_deadline IS NOT NULL"),
            sqlite_where=text("stage_deadline IS NOT NULL"),
        ),
        # The sweep reads only orders with an alert due: its cost follows what is due.
        Index(
            "ix_orders_next_alert",
            "next_alert_at",
            postgresql_where=text("next_alert_at IS NOT NULL"),
            sqlite_where=text("next_alert_at IS NOT NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    town_id: int = Field(foreign_key="towns.id")
    branch_id: int = Field(foreign_key="branches.id")
    grid_id: int = Field(foreign_key="grids.id")
    category_id: int = Field(foreign_key="categories.id", index=True)
    urgency: str = Field(default="normal", max_length=10)
    state: str = Field(max_length=20)
    version: int = 1
    description: str = Field(max_length=2000)
    address: str | None = Field(default=None, max_length=200)
    latitude: float | None = None
    longitude: float | None = None
    # Who the order is for: a signed-in resident, or a name and phone taken on a visit.
    resident_id: int | None = Field(default=None, foreign_key="residents.id")
    contact_name: str | None = Field(default=None, max_length=50)
    contact_phone: str | None = Field(default=None, max_length=20)
    placed_by_staff_id: int | None = Field(default=None, foreign_key="staff.id")
    # The household it is for, when the grid records one at the order's phone or address.
    household_id: int | None = Field(default=None, foreign_key="households.id")
    # The visit (驻点直联) on which the need was found, for an order placed with the channel `visit`.
    visit_id: int | None = Field(default=None, foreign_key="visits.id")
    channel: str = Field(default="mini_program", max_length=20)
    claimed_by_id: int | None = Field(default=None, foreign_key="staff.id")
    assignee_id: int | None = Field(default=None, foreign_key="staff.id")
    # The action team (行动队) it is dispatched to; `assignee_id` is then the team's member.
    action_team_id: int | None = Field(default=None, foreign_key="action_teams.id")
    # On the branch's task board (揭榜) until then; null when it is not on the board.
    task_until: datetime | None = _ts(default=None)
    reopen_count: int = 0
    # Answers to the category's extra questions (domain/attributes.py), by code.
    attributes: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # Placed by another system of the city through Open311: which, its token, the photo it linked.
    open311_client_id: int | None = Field(default=None, foreign_key="open311_clients.id")
    open311_token: str | None = Field(default=None, max_length=40)
    media_url: str | None = Field(default=None, max_length=500)
    # Rejected as a duplicate of that order; its resident follows the original instead.
    duplicate_of_id: int | None = Field(default=None, foreign_key="orders.id")
    # Residents who follow it ("me too", or a duplicate's placer): told as its resident is.
    follower_count: int = 0
    completion_note: str | None = Field(default=None, max_length=2000)
    rating_stars: int | None = None
    rating_comment: str | None = Field(default=None, max_length=500)
    rating_source: str | None = Field(default=None, max_length=10)
    idempotency_key: str | None = Field(default=None, max_length=200, unique=True)
    request_hash: str | None = Field(default=None, max_length=64)
    created_at: datetime = _ts()
    updated_at: datetime = _ts()
    stage_entered_at: datetime = _ts()
    stage_deadline: datetime | None = _ts(default=None)
    # When the sweep must next look at the current stage (a reminder, escalation or auto-close).
    next_alert_at: datetime | None = _ts(default=None)
    closed_at: datetime | None = _ts(default=None)


class OrderEvent(SQLModel, table=True):
    """One row per transition: the timeline the resident sees, and the log the dashboards count.

    Besides what the timeline shows, an event keeps where the order was and who held it
    before and after the move, and the times of the stage the move ended, so that the
    stats projection (workflows/projection.py) counts it from the event alone, in any order.
    """

    __tablename__ = "order_events"
    __table_args__ = (Index("ix_order_events_order", "order_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="orders.id")
    action: str = Field(max_length=20)
    from_state: str | None = Field(default=None, max_length=20)
    to_state: str = Field(max_length=20)
    actor_role: str = Field(max_length=20)
    actor_id: int | None = None
    actor_name: str | None = Field(default=None, max_length=50)
    note: str | None = Field(default=None, max_length=2000)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = _ts()
    branch_id: int | None = None  # where the order is after the move, and who holds it
    grid_id: int | None = None
    assignee_id: int | None = None
    prev_branch_id: int | None = None  # and before it (none for the submit)
    prev_grid_id: int | None = None
    prev_assignee_id: int | None = None
    stage_started_at: datetime | None = _ts(default=None)  # the stage this move ended: its start,
    stage_deadline: datetime | None = _ts(default=None)  # and its time limit


class TaskVolunteer(SQLModel, table=True):
    """A member who volunteered (揭榜) for an order on the branch's task board."""

    __tablename__ = "task_volunteers"

    order_id: int = Field(foreign_key="orders.id", primary_key=True)
    member_id: int = Field(foreign_key="staff.id", primary_key=True)
    note: str | None = Field(default=None, max_length=500)
    volunteered_at: datetime = _ts()


class OrderFollower(SQLModel, table=True):
    """A resident following an order of someone else's: a "me too", or the placer of a duplicate."""

    __tablename__ = "order_followers"

    order_id: int = Field(foreign_key="orders.id", primary_key=True)
    resident_id: int = Field(foreign_key="residents.id", primary_key=True, index=True)
    # Why: me_too (asked to follow it), or duplicate (their own order was its duplicate).
    reason: str = Field(default="me_too", max_length=10)
    created_at: datetime = _ts()


class Photo(SQLModel, table=True):
    """An uploaded image; its id is a random token, so URLs cannot be guessed."""

    __tablename__ = "photos"
    __table_args__ = (
        Index("ix_photos_order", "order_id"),
        # A person's unattached uploads, for the upload quota: only the few not yet on an order.
        Index("ix_photos_unattached", "uploader_role", "uploader_id", "created_at",
              postgresql_where=text("order_id IS NULL"), sqlite_where=text("order_id IS NULL")),
    )

    id: str = Field(primary_key=True, max_length=40)
    order_id: int | None = Field(default=None, foreign_key="orders.id")
    # Or the project (and its milestone) it shows: a photo belongs to one order or one project.
    project_id: int | None = Field(default=None, foreign_key="projects.id", index=True)
    milestone_id: int | None = Field(default=None, foreign_key="project_milestones.id")
    purpose: str | None = Field(default=None, max_length=10)  # request | evidence | milestone | result
    uploader_role: str = Field(max_length=20)
    uploader_id: int
    content_type: str = Field(max_length=30)
    size: int
    sha256: str = Field(max_length=64)
    created_at: datetime = _ts()
