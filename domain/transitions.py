"""The transition table of the five-order loop: the one place a move is defined.

Each row says from which state an action leads to which state, and which roles may
take it. Workflows ask `plan()` for the move and apply it with a compare-and-set
update; nothing else decides what a state may become.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from domain.errors import InvalidTransition, NotPermitted
from domain.messages import Term
from domain.roles import ROLE_LABELS, Role
from domain.states import OrderState

S = OrderState


class Action(StrEnum):
    SUBMIT = "submit"
    CLAIM = "claim"
    TRANSFER = "transfer"
    REJECT = "reject"
    CANCEL = "cancel"
    DISPATCH = "dispatch"
    DECLINE = "decline"
    ACCEPT = "accept"
    COMPLETE = "complete"
    RATE = "rate"
    REOPEN = "reopen"
    AUTO_CLOSE = "auto_close"
    WHISTLE = "whistle"
    UNITS_DONE = "units_done"
    UNITS_RETURNED = "units_returned"
    # A unit's moves on its whistle (domain/whistles.py): on the order's timeline, not its state.
    REPORT_IN = "report_in"
    UNIT_REPLY = "unit_reply"
    UNIT_DECLINE = "unit_decline"
    # 揭榜 (domain/tasks.py): the task board of a claimed order.
    POST_TASK = "post_task"
    VOLUNTEER = "volunteer"
    TAKE_TASK = "take_task"
    TASK_EXPIRED = "task_expired"


ACTION_LABELS: dict[Action, str] = {
    Action.SUBMIT: "群众点单",
    Action.CLAIM: "网格领单",
    Action.TRANSFER: "转派网格",
    Action.REJECT: "不予受理",
    Action.CANCEL: "撤单",
    Action.DISPATCH: "支部派单",
    Action.DECLINE: "退回派单",
    Action.ACCEPT: "党员接单",
    Action.COMPLETE: "党员晒单",
    Action.RATE: "群众评单",
    Action.REOPEN: "重办",
    Action.AUTO_CLOSE: "超时自动办结",
    Action.WHISTLE: "吹哨",
    Action.UNITS_DONE: "部门办结",
    Action.UNITS_RETURNED: "部门退回",
    Action.REPORT_IN: "部门报到",
    Action.UNIT_REPLY: "部门回复",
    Action.UNIT_DECLINE: "部门退哨",
    Action.POST_TASK: "发布揭榜",
    Action.VOLUNTEER: "党员揭榜",
    Action.TAKE_TASK: "揭榜领办",
    Action.TASK_EXPIRED: "揭榜期满",
}


@dataclass(frozen=True)
class Transition:
    action: Action
    source: OrderState | None
    target: OrderState
    roles: frozenset[Role]


def _t(action: Action, source: OrderState | None, target: OrderState, *roles: Role) -> Transition:
    return Transition(action, source, target, frozenset(roles))


TRANSITIONS: tuple[Transition, ...] = (
    # Through which door each may place: domain/channels.py (PLACED_BY).
    _t(Action.SUBMIT, None, S.SUBMITTED, Role.RESIDENT, Role.GRID_WORKER, Role.MEMBER, Role.SECRETARY,
       Role.TOWN_ADMIN, Role.CITY_PLATFORM),
    _t(Action.CLAIM, S.SUBMITTED, S.CLAIMED, Role.GRID_WORKER),
    _t(Action.TRANSFER, S.SUBMITTED, S.SUBMITTED, Role.GRID_WORKER),
    _t(Action.REJECT, S.SUBMITTED, S.REJECTED, Role.GRID_WORKER),
    _t(Action.CANCEL, S.SUBMITTED, S.CANCELLED, Role.RESIDENT),
    _t(Action.CANCEL, S.CLAIMED, S.CANCELLED, Role.RESIDENT),
    _t(Action.DISPATCH, S.CLAIMED, S.DISPATCHED, Role.SECRETARY),
    _t(Action.DECLINE, S.DISPATCHED, S.CLAIMED, Role.MEMBER),
    _t(Action.ACCEPT, S.DISPATCHED, S.IN_PROGRESS, Role.MEMBER),
    _t(Action.COMPLETE, S.IN_PROGRESS, S.COMPLETED, Role.MEMBER),
    # A grid worker rates an order placed on a resident's behalf by callback (回访).
    _t(Action.RATE, S.COMPLETED, S.CLOSED, Role.RESIDENT, Role.GRID_WORKER),
    _t(Action.REOPEN, S.COMPLETED, S.CLAIMED, Role.RESIDENT, Role.GRID_WORKER),
    _t(Action.AUTO_CLOSE, S.COMPLETED, S.CLOSED, Role.SYSTEM),
    # 吹哨报到: beyond the branch, the order waits for the units it was whistled to
    # (domain/whistles.py); whistling again while it waits calls in more units.
    _t(Action.WHISTLE, S.CLAIMED, S.WHISTLED, Role.SECRETARY, Role.TOWN_ADMIN),
    _t(Action.WHISTLE, S.WHISTLED, S.WHISTLED, Role.SECRETARY, Role.TOWN_ADMIN),
    _t(Action.UNITS_DONE, S.WHISTLED, S.COMPLETED, Role.SYSTEM),
    _t(Action.UNITS_RETURNED, S.WHISTLED, S.CLAIMED, Role.SYSTEM),
    # 揭榜: on the branch's task board the order stays claimed; in a branch where the first
    # volunteer takes it, volunteering is taking it (domain/tasks.py).
    _t(Action.POST_TASK, S.CLAIMED, S.CLAIMED, Role.SECRETARY),
    _t(Action.VOLUNTEER, S.CLAIMED, S.CLAIMED, Role.MEMBER),
    _t(Action.TAKE_TASK, S.CLAIMED, S.DISPATCHED, Role.MEMBER),
    _t(Action.TASK_EXPIRED, S.CLAIMED, S.CLAIMED, Role.SYSTEM),
)

_BY_KEY: dict[tuple[OrderState | None, Action], Transition] = {
    (t.source, t.action): t for t in TRANSITIONS
}

# Never asked for directly: reopening is what a low rating does, taking a task what
# volunteering does in a branch where the first volunteer takes it.
_DERIVED_ACTIONS = frozenset({Action.REOPEN, Action.TAKE_TASK})


def allowed_actions(state: OrderState | None, role: Role | None = None) -> list[str]:
    """Actions a person may ask for in `state` (for one role, or for any human role)."""
    return sorted(
        {
            t.action.value
            for t in TRANSITIONS
            if t.source == state
            and t.action not in _DERIVED_ACTIONS
            and (role in t.roles if role else t.roles - {Role.SYSTEM})
        }
    )


def roles_for(action: Action) -> frozenset[Role]:
    return frozenset().union(*(t.roles for t in TRANSITIONS if t.action == action))


def plan(state: OrderState | None, action: Action, role: Role) -> Transition:
    """The transition `role` may take with `action` from `state`, or a typed refusal."""
    if role not in roles_for(action):
        raise _role_may_not(role, action)
    transition = _BY_KEY.get((state, action))
    if transition is None:
        raise InvalidTransition(action.value, state, allowed_actions(state, role), action_labels=ACTION_LABELS)
    if role not in transition.roles:
        raise _role_may_not(role, action)
    return transition


def _role_may_not(role: Role, action: Action) -> NotPermitted:
    return NotPermitted(key="move.role-may-not", role=Term(role.value, ROLE_LABELS[role]),
                        action=Term(action.value, ACTION_LABELS[action]))
