"""The town and its people: towns, branches, grids, staff, residents, categories."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from domain.households import DEFAULT_HOUSEHOLD_FLAGS
from domain.places import DEFAULT_NEARBY_DAYS, DEFAULT_NEARBY_RADIUS_M, DEFAULT_ROUTE_DISTANCE_M

from storage.models._fields import timestamp as _ts


class Town(SQLModel, table=True):
    __tablename__ = "towns"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True)
    timezone: str = Field(default="Asia/Shanghai", max_length=64)
    # The public 晒单 board: completed work, anonymised, readable without sign-in.
    public_board_enabled: bool = False
    # The public 晒分 board: members' and branches' points and stars of a month.
    public_points_board_enabled: bool = False
    # The flags its households may carry (独居老人, 低保户, …): the town's own list.
    household_flags: list[str] = Field(default_factory=lambda: list(DEFAULT_HOUSEHOLD_FLAGS),
                                       sa_column=Column(JSON, nullable=False))
    # 吹哨报到: minutes a unit has to report in, and to reply once reported in.
    whistle_report_minutes: int = 24 * 60
    whistle_report_urgent_minutes: int = 2 * 60
    whistle_reply_minutes: int = 72 * 60
    whistle_reply_urgent_minutes: int = 24 * 60
    # When its points passbook began, for a town older than the passbook: attempts completed
    # before then were counted at their completion (`workflows.passbook`).
    passbook_since: datetime | None = _ts(default=None)
    # Star grades' weights, targets and thresholds (`workflows.stars.StarRules`); null: the defaults.
    star_rules: dict | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    # Routing by location (domain/places.py): an order outside every grid goes to the nearest
    # within this distance, else to the intake grid, whose grid workers pass it on. The id
    # has no foreign key: towns and grids would refer to each other.
    route_distance_m: int = DEFAULT_ROUTE_DISTANCE_M
    intake_grid_id: int | None = None
    # "Me too": open orders of the same category this near, placed this recently, are offered.
    nearby_radius_m: int = DEFAULT_NEARBY_RADIUS_M
    nearby_days: int = DEFAULT_NEARBY_DAYS
    created_at: datetime = _ts()


class Branch(SQLModel, table=True):
    """A party branch (党支部) of a village or community."""

    __tablename__ = "branches"
    __table_args__ = (UniqueConstraint("town_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    town_id: int = Field(foreign_key="towns.id", index=True)
    name: str = Field(max_length=100)
    kind: str = Field(default="village", max_length=20)  # village | community
    # The branch's WeCom group robot (members' group), when the WeCom channel is on.
    wecom_webhook_key: str | None = Field(default=None, max_length=100)
    # 揭榜: whether the secretary picks among volunteers (pick) or the first takes it (first).
    task_mode: str = Field(default="pick", max_length=10)
    created_at: datetime = _ts()


class Grid(SQLModel, table=True):
    __tablename__ = "grids"
    __table_args__ = (
        UniqueConstraint("branch_id", "name"),
        # Routing reads the grids whose boxes hold a point: a range of the town's, by latitude.
        Index("ix_grids_town_box", "town_id", "min_lat", "max_lat",
              postgresql_where=text("boundary IS NOT NULL"), sqlite_where=text("boundary IS NOT NULL")),
    )

    id: int | None = Field(default=None, primary_key=True)
    town_id: int = Field(foreign_key="towns.id", index=True)
    branch_id: int = Field(foreign_key="branches.id", index=True)
    name: str = Field(max_length=100)
    households: int | None = None
    # The grid workers' WeCom group robot, when the WeCom channel is on.
    wecom_webhook_key: str | None = Field(default=None, max_length=100)
    # Its outline: GeoJSON Polygon or MultiPolygon text, checked by domain.places, and its box.
    boundary: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    min_lng: float | None = None
    min_lat: float | None = None
    max_lng: float | None = None
    max_lat: float | None = None
    created_at: datetime = _ts()


class Staff(SQLModel, table=True):
    """Grid workers, branch secretaries, party members and town admins: phone + password."""

    __tablename__ = "staff"

    id: int | None = Field(default=None, primary_key=True)
    town_id: int = Field(foreign_key="towns.id", index=True)
    branch_id: int | None = Field(default=None, foreign_key="branches.id", index=True)
    role: str = Field(max_length=20)
    name: str = Field(max_length=50)
    phone: str = Field(max_length=20, unique=True)
    password_hash: str = Field(max_length=200)
    # 乡贤: a local worthy the branch may dispatch to like a member.
    is_local_worthy: bool = False
    # The co-building unit (共建单位) a `unit_staff` account works for.
    unit_id: int | None = Field(default=None, foreign_key="units.id", index=True)
    active: bool = True
    # Raised when the password changes or the account is disabled: older tokens stop working.
    token_version: int = 0
    created_at: datetime = _ts()


class GridWorkerGrid(SQLModel, table=True):
    """Which grids a grid worker serves."""

    __tablename__ = "grid_worker_grids"

    staff_id: int = Field(foreign_key="staff.id", primary_key=True)
    grid_id: int = Field(foreign_key="grids.id", primary_key=True, index=True)


class Resident(SQLModel, table=True):
    __tablename__ = "residents"

    id: int | None = Field(default=None, primary_key=True)
    openid: str | None = Field(default=None, max_length=64, unique=True)
    unionid: str | None = Field(default=None, max_length=64)
    name: str | None = Field(default=None, max_length=50)
    phone: str | None = Field(default=None, max_length=20, index=True)
    # Only a phone WeChat vouched for links orders taken for that phone on a visit.
    phone_verified: bool = False
    town_id: int | None = Field(default=None, foreign_key="towns.id")
    grid_id: int | None = Field(default=None, foreign_key="grids.id", index=True)
    created_at: datetime = _ts()


class Category(SQLModel, table=True):
    """What an order is about, with the time limit of each stage in minutes."""

    __tablename__ = "categories"
    __table_args__ = (UniqueConstraint("town_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    town_id: int = Field(foreign_key="towns.id", index=True)
    name: str = Field(max_length=50)
    description: str = Field(default="", max_length=500)
    default_urgency: str = Field(default="normal", max_length=10)
    claim_minutes: int = 120
    dispatch_minutes: int = 1440
    accept_minutes: int = 240
    complete_minutes: int = 4320
    complete_urgent_minutes: int = 1440
    rate_minutes: int = 10080
    active: bool = True
    # Open311: extra questions (service attributes, domain/attributes.py), the service list's
    # keywords and group, and whether its requests may be read by anyone (GET requests).
    attributes: list[dict] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    keywords: str = Field(default="", max_length=200)
    group_name: str = Field(default="", max_length=50)
    public_requests: bool = False
    created_at: datetime = _ts()
