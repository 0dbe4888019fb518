"""驻点直联: standing teams visit the households of their grids on a fixed day of the week.

A team (驻点直联组) is a few staff who may place orders on a resident's behalf (party
members, grid workers) and the grids it is stationed in. Each visit records a household,
who went, what was said, and the needs found; every need becomes an order placed on the
resident's behalf with the channel `visit`, linked to the visit. The town office counts

    走访率 = households visited in a period ÷ households recorded in the team's grids

and the requests collected on visits and solved (their orders closed). These are the
rules; the workflows enforce them in one transaction.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import IntEnum, StrEnum

from domain.roles import Role
from domain.stats import share

MAX_TEAM_MEMBERS = 50
MAX_TEAM_GRIDS = 200
MAX_NEEDS_PER_VISIT = 10
# A visit may be written up afterwards, up to this long after it (the week's 直联日 and more).
MAX_BACKDATE = timedelta(days=30)
# Clocks of phones run a little ahead.
CLOCK_SKEW = timedelta(minutes=5)

# Who may be on a team: those who may place an order on a resident's behalf (代点单).
TEAM_ROLES = frozenset({Role.MEMBER, Role.GRID_WORKER})


class VisitKind(StrEnum):
    HOUSEHOLD = "household"  # 入户走访: a team's visit to a household
    DOWN = "down"  # 下访: a leader goes down to a village to hear its households


VISIT_KIND_LABELS: dict[VisitKind, str] = {VisitKind.HOUSEHOLD: "入户走访", VisitKind.DOWN: "下访"}


class Weekday(IntEnum):
    """The team's 直联日, ISO numbering (1 = Monday)."""

    MONDAY = 1
    TUESDAY = 2
    WEDNESDAY = 3
    THURSDAY = 4
    FRIDAY = 5
    SATURDAY = 6
    SUNDAY = 7


WEEKDAY_LABELS: dict[Weekday, str] = {
    Weekday.MONDAY: "周一", Weekday.TUESDAY: "周二", Weekday.WEDNESDAY: "周三", Weekday.THURSDAY: "周四",
    Weekday.FRIDAY: "周五", Weekday.SATURDAY: "周六", Weekday.SUNDAY: "周日",
}


def may_join_team(*, role: str, active: bool, town_id: int | None, team_town_id: int) -> bool:
    """Whether a staff account may be on a team: an active account of the town that may place on behalf."""
    return active and town_id == team_town_id and role in {r.value for r in TEAM_ROLES}


def visit_time_problem(visited_at: datetime, now: datetime) -> str | None:
    """Why a visit cannot have been at this time (a message key), or None."""
    if visited_at > now + CLOCK_SKEW:
        return "visit.in-future"
    if visited_at < now - MAX_BACKDATE:
        return "visit.too-old"
    return None


def link_day_of_week(weekday: Weekday, day: date) -> date:
    """The team's 直联日 in the ISO week (Monday to Sunday) that holds `day`."""
    return day - timedelta(days=day.isoweekday() - 1) + timedelta(days=int(weekday) - 1)


def visit_rate(visited: int, households: int) -> float | None:
    """走访率: households visited ÷ households recorded; None with none recorded."""
    return share(visited, households)
