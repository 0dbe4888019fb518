"""The tables, one module per concern. Alembic migrations in `alembic/versions` build them;
keep both in step (tests/test_schema.py compares them)."""

from storage.models.places import Town, Branch, Grid, Staff, GridWorkerGrid, Resident, Category
from storage.models.households import Building, Household
from storage.models.orders import Order, OrderEvent, OrderFollower, Photo, TaskVolunteer
from storage.models.units import Unit, Whistle, WhistleAlert
from storage.models.visits import Visit, VisitTeam, VisitTeamGrid, VisitTeamMember
from storage.models.halls import Hall, HallMatter, HallSession, HallSessionHost
from storage.models.action_teams import ActionTeam, ActionTeamWorthy
from storage.models.projects import Project, ProjectMilestone, ProjectOrder
from storage.models.lists import CommunityNeed, ProjectResource, Resource
from storage.models.reports import Report
from storage.models.open311 import Open311Client
from storage.models.notices import OutboxMessage, StageAlert, Delivery, InboxItem
from storage.models.aggregates import ProjectionCursor, StatsCount, StatsStageTime
from storage.models.points import PointEntry, PointRuleVersion
from storage.models.security import AuditEntry, DashboardToken, RateLimitHit, RefreshToken

__all__ = [
    "Town",
    "Branch",
    "Grid",
    "Staff",
    "GridWorkerGrid",
    "Resident",
    "Category",
    "Building",
    "Household",
    "Order",
    "OrderEvent",
    "OrderFollower",
    "Open311Client",
    "Photo",
    "TaskVolunteer",
    "Unit",
    "Whistle",
    "WhistleAlert",
    "VisitTeam",
    "VisitTeamMember",
    "VisitTeamGrid",
    "Visit",
    "Hall",
    "HallSession",
    "HallSessionHost",
    "HallMatter",
    "ActionTeam",
    "ActionTeamWorthy",
    "Project",
    "ProjectMilestone",
    "ProjectOrder",
    "CommunityNeed",
    "Resource",
    "ProjectResource",
    "Report",
    "OutboxMessage",
    "StageAlert",
    "Delivery",
    "InboxItem",
    "StatsCount",
    "StatsStageTime",
    "PointEntry",
    "PointRuleVersion",
    "ProjectionCursor",
    "AuditEntry",
    "RateLimitHit",
    "RefreshToken",
    "DashboardToken",
]
