"""群众说事厅: halls where residents come to say their matter, and leaders who go down to hear them.

Every village or community (a branch) may have a hall, and the town one of its own. Staff
hold reception sessions there (接访: who is on duty, from when to when), or go down to a
village's grid (下访) and hear its households where they are. Each matter said is recorded
in the session: settled on the spot with a note (当场解决), or placed as an order with the
channel `hall` that then runs the loop. The town office counts the sessions, the matters
and how many were solved: settled on the spot, or their order closed.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from domain.roles import Role
# A session is recorded on the day or afterwards, within the bound a visit has.
from domain.visits import MAX_BACKDATE

MAX_HOSTS = 20
MAX_SESSION_LENGTH = timedelta(hours=24)

# Who may be on duty at a session (and record its matters).
HOST_ROLES = frozenset({Role.TOWN_ADMIN, Role.SECRETARY, Role.MEMBER, Role.GRID_WORKER})


class SessionKind(StrEnum):
    RECEPTION = "reception"  # 接访: at the hall
    DOWN = "down"  # 下访: down in a village's grid


SESSION_KIND_LABELS: dict[SessionKind, str] = {SessionKind.RECEPTION: "接访", SessionKind.DOWN: "下访"}


class MatterOutcome(StrEnum):
    SETTLED = "settled"  # 当场解决, with a note
    ORDER = "order"  # placed as an order with the channel `hall`


MATTER_OUTCOME_LABELS: dict[MatterOutcome, str] = {MatterOutcome.SETTLED: "当场解决", MatterOutcome.ORDER: "转为工单"}


def may_host(*, role: str, active: bool, town_id: int | None, hall_town_id: int) -> bool:
    """Whether a staff account may be on duty at a session of the town's halls."""
    return active and town_id == hall_town_id and role in {r.value for r in HOST_ROLES}


def session_time_problem(starts_at: datetime, ends_at: datetime | None, now: datetime) -> str | None:
    """Why a session cannot have been at these times (a message key), or None."""
    if starts_at < now - MAX_BACKDATE:
        return "hall.session-too-old"
    if ends_at is not None and not starts_at < ends_at <= starts_at + MAX_SESSION_LENGTH:
        return "hall.session-times"
    return None

