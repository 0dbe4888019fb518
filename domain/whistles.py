"""吹哨报到: an order beyond its branch is whistled to co-building units, which report in.

The secretary of the order's branch (or the town admin) whistles a claimed order to one
or more units (共建单位: departments, the property company, the school, …). The order
then waits in `whistled` (部门办理中) while each unit's whistle goes its own way:

    whistled (待报到) --report_in--> reported (已报到) --unit_reply--> replied (已回复)
    whistled | reported --unit_decline--> declined (已退回)

A unit must report in within the report limit and reply within the reply limit after
reporting in; both are the town's, urgent or not. Once no whistle of the order is open,
the order moves on: to `completed` for the resident to rate if any unit replied, back to
`claimed` for the branch if every unit declined. This module is the one place these
moves are defined; the order's own moves are in domain/transitions.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from domain.errors import DomainError, InvalidTransition
from domain.messages import Term
from domain.roles import Role
from domain.stats import share
from domain.states import OrderState, Urgency
from domain.transitions import ACTION_LABELS, Action, Transition

MAX_UNITS_PER_WHISTLE = 10


class UnitKind(StrEnum):
    DEPARTMENT = "department"
    PROPERTY = "property"
    SCHOOL = "school"
    POLICE = "police"
    HOSPITAL = "hospital"
    ENTERPRISE = "enterprise"
    SOCIAL = "social"
    OTHER = "other"


UNIT_KIND_LABELS: dict[UnitKind, str] = {
    UnitKind.DEPARTMENT: "职能部门",
    UnitKind.PROPERTY: "物业企业",
    UnitKind.SCHOOL: "学校",
    UnitKind.POLICE: "派出所",
    UnitKind.HOSPITAL: "医疗卫生机构",
    UnitKind.ENTERPRISE: "企业",
    UnitKind.SOCIAL: "社会组织",
    UnitKind.OTHER: "其他",
}


class WhistleState(StrEnum):
    WHISTLED = "whistled"
    REPORTED = "reported"
    REPLIED = "replied"
    DECLINED = "declined"

    @property
    def label(self) -> str:
        return WHISTLE_STATE_LABELS[self]

    @property
    def is_open(self) -> bool:
        return self in OPEN_WHISTLE_STATES


WHISTLE_STATE_LABELS: dict[WhistleState, str] = {
    WhistleState.WHISTLED: "待报到",
    WhistleState.REPORTED: "已报到",
    WhistleState.REPLIED: "已回复",
    WhistleState.DECLINED: "已退回",
}

OPEN_WHISTLE_STATES = frozenset({WhistleState.WHISTLED, WhistleState.REPORTED})

W = WhistleState

# (from, action) -> to. Only the unit's own staff take these.
WHISTLE_MOVES: dict[tuple[WhistleState, Action], WhistleState] = {
    (W.WHISTLED, Action.REPORT_IN): W.REPORTED,
    (W.REPORTED, Action.UNIT_REPLY): W.REPLIED,
    (W.WHISTLED, Action.UNIT_DECLINE): W.DECLINED,
    (W.REPORTED, Action.UNIT_DECLINE): W.DECLINED,
}


# What a unit's move is on its order: an event on the timeline of an order still waiting.
ORDER_SIDE: dict[Action, Transition] = {
    action: Transition(action, OrderState.WHISTLED, OrderState.WHISTLED, frozenset({Role.UNIT_STAFF}))
    for action in (Action.REPORT_IN, Action.UNIT_REPLY, Action.UNIT_DECLINE)
}


def whistle_actions(state: WhistleState) -> list[str]:
    """What the unit may do with a whistle in `state` (the buttons of its app)."""
    return sorted(action.value for (source, action) in WHISTLE_MOVES if source == state)


def plan_whistle_move(state: WhistleState, action: Action) -> WhistleState:
    """The state `action` leads to from `state`, or a 409 naming the state and what is allowed."""
    target = WHISTLE_MOVES.get((state, action))
    if target is None:
        raise InvalidWhistleMove(action.value, state, whistle_actions(state))
    return target


class InvalidWhistleMove(InvalidTransition):
    """The unit's action is not allowed from the whistle's current state: a 409 naming that state."""

    def __init__(self, action: str, state: WhistleState, allowed: list[str]) -> None:
        self.action = action
        self.state = None
        self.whistle_state = state
        self.current_state = state.value
        self.allowed_actions = sorted(allowed)
        terms = [Term(a, ACTION_LABELS[Action(a)]) for a in self.allowed_actions] or Term("none", "无")
        DomainError.__init__(self, key="whistle.invalid-move", action=Term(action, ACTION_LABELS[Action(action)]),
                             state=Term(state.value, state.label), allowed=terms)

    def extensions(self) -> dict:
        return {"action": self.action, "current_state": self.current_state,
                "current_state_label": self.whistle_state.label, "allowed_actions": self.allowed_actions}


class WhistleStage(StrEnum):
    """A whistle's stage is named by what the unit owes: its report-in, then its reply."""

    REPORT = "report"
    REPLY = "reply"


STAGE_OF_WHISTLE: dict[WhistleState, WhistleStage] = {
    W.WHISTLED: WhistleStage.REPORT,
    W.REPORTED: WhistleStage.REPLY,
}


@dataclass(frozen=True)
class WhistleLimits:
    """Minutes a unit has to report in and, once reported in, to reply: the town's own."""

    report: int = 24 * 60
    report_urgent: int = 2 * 60
    reply: int = 72 * 60
    reply_urgent: int = 24 * 60

    def minutes(self, stage: WhistleStage, urgency: Urgency) -> int:
        urgent = urgency == Urgency.URGENT
        if stage is WhistleStage.REPORT:
            return self.report_urgent if urgent else self.report
        return self.reply_urgent if urgent else self.reply


DEFAULT_WHISTLE_LIMITS = WhistleLimits()


def whistle_deadline(state: WhistleState, entered_at: datetime, limits: WhistleLimits,
                     urgency: Urgency) -> datetime | None:
    stage = STAGE_OF_WHISTLE.get(state)
    if stage is None:
        return None
    return entered_at + timedelta(minutes=limits.minutes(stage, urgency))


class WhistleOutcome(StrEnum):
    WAITING = "waiting"  # some unit still owes its report-in or reply
    REPLIED = "replied"  # every unit is done and at least one replied: the resident rates
    RETURNED = "returned"  # every unit declined: back to the branch


def outcome(states: list[WhistleState]) -> WhistleOutcome:
    """Where the order goes once its whistles are in these states."""
    if not states or any(s.is_open for s in states):
        return WhistleOutcome.WAITING
    if any(s is W.REPLIED for s in states):
        return WhistleOutcome.REPLIED
    return WhistleOutcome.RETURNED


def reported_on_time(answered_at: datetime | None, deadline: datetime, now: datetime) -> bool | None:
    """Whether the unit answered the whistle (reported in, or declined) by its report limit;
    None while it still may (not yet counted)."""
    if answered_at is not None:
        return answered_at <= deadline
    return False if now > deadline else None


def resolution_rate(replied: int, whistled: int, declined: int) -> float | None:
    """办结率 of a unit: whistles it replied to ÷ whistles it took on (all but those it declined)."""
    taken = whistled - declined
    return share(replied, taken)
