"""Who hears of each move: the notices a transition implies.

Workflows turn each audience into an outbox row; delivery decides the channel.
"""

from __future__ import annotations

from enum import StrEnum

from domain.states import OrderState
from domain.transitions import Action

S = OrderState


class Audience(StrEnum):
    RESIDENT = "resident"  # the resident who placed the order
    GRID_WORKERS = "grid_workers"  # grid workers of the order's grid
    BRANCH_SECRETARIES = "branch_secretaries"  # secretaries of the order's branch
    ASSIGNEE = "assignee"  # the member the order is dispatched to
    TOWN_ADMINS = "town_admins"
    # The members who look after the order's household: its 联户党员 and its building's 楼栋党小组长.
    HOUSEHOLD_CARERS = "household_carers"
    # The staff of one co-building unit (吹哨报到); the notice names the unit itself.
    UNIT_STAFF = "unit_staff"
    # The cadre and the local worthies of the action team (行动队) the order is dispatched to.
    ACTION_TEAM = "action_team"
    # The active party members of the order's branch (揭榜: a task on the board).
    BRANCH_MEMBERS = "branch_members"


A = Audience

# (from state, action) -> audiences, read after the move (so ASSIGNEE is the new one).
NOTICES: dict[tuple[OrderState | None, Action], tuple[Audience, ...]] = {
    (None, Action.SUBMIT): (A.GRID_WORKERS, A.HOUSEHOLD_CARERS),
    (S.SUBMITTED, Action.CLAIM): (A.RESIDENT, A.BRANCH_SECRETARIES),
    (S.SUBMITTED, Action.TRANSFER): (A.GRID_WORKERS, A.RESIDENT),
    (S.SUBMITTED, Action.REJECT): (A.RESIDENT,),
    (S.SUBMITTED, Action.CANCEL): (A.GRID_WORKERS,),
    (S.CLAIMED, Action.CANCEL): (A.BRANCH_SECRETARIES,),
    (S.CLAIMED, Action.DISPATCH): (A.ASSIGNEE, A.ACTION_TEAM, A.RESIDENT),
    (S.DISPATCHED, Action.DECLINE): (A.BRANCH_SECRETARIES,),
    (S.DISPATCHED, Action.ACCEPT): (A.RESIDENT,),
    (S.IN_PROGRESS, Action.COMPLETE): (A.RESIDENT,),
    (S.COMPLETED, Action.RATE): (A.ASSIGNEE,),
    (S.COMPLETED, Action.REOPEN): (A.BRANCH_SECRETARIES, A.ASSIGNEE),
    (S.COMPLETED, Action.AUTO_CLOSE): (A.ASSIGNEE,),
    # The units whistled to are told by the whistle itself (WHISTLED_UNIT_NOTICE), each its own.
    (S.CLAIMED, Action.WHISTLE): (A.RESIDENT,),
    (S.WHISTLED, Action.WHISTLE): (A.BRANCH_SECRETARIES,),
    (S.WHISTLED, Action.UNITS_DONE): (A.RESIDENT, A.BRANCH_SECRETARIES),
    (S.WHISTLED, Action.UNITS_RETURNED): (A.BRANCH_SECRETARIES,),
    # A unit's own moves, on the timeline of an order still waiting for it.
    (S.WHISTLED, Action.REPORT_IN): (A.BRANCH_SECRETARIES,),
    (S.WHISTLED, Action.UNIT_REPLY): (A.BRANCH_SECRETARIES,),
    (S.WHISTLED, Action.UNIT_DECLINE): (A.BRANCH_SECRETARIES,),
    # 揭榜.
    (S.CLAIMED, Action.POST_TASK): (A.BRANCH_MEMBERS,),
    (S.CLAIMED, Action.VOLUNTEER): (A.BRANCH_SECRETARIES,),
    (S.CLAIMED, Action.TAKE_TASK): (A.BRANCH_SECRETARIES, A.RESIDENT),
    (S.CLAIMED, Action.TASK_EXPIRED): (A.BRANCH_SECRETARIES,),
}

# What each unit whistled to is told: a notice of its own, to its staff.
WHISTLED_UNIT_NOTICE = "whistle.whistled"

# A low rating that can no longer reopen the order closes it; the branch is told.
CLOSED_UNSATISFIED_AUDIENCES: tuple[Audience, ...] = (A.BRANCH_SECRETARIES,)


def notice_kind(action: Action) -> str:
    return f"order.{action.value}"


def audiences(source: OrderState | None, action: Action) -> tuple[Audience, ...]:
    return NOTICES.get((source, action), ())
