"""Order states and the labels the mini-program shows for them."""

from enum import StrEnum


class OrderState(StrEnum):
    SUBMITTED = "submitted"
    CLAIMED = "claimed"
    DISPATCHED = "dispatched"
    WHISTLED = "whistled"  # 吹哨报到: waiting for the units it was whistled to
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    CLOSED = "closed"
    REJECTED = "rejected"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return STATE_LABELS[self]

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_STATES


STATE_LABELS: dict[OrderState, str] = {
    OrderState.SUBMITTED: "待领单",
    OrderState.CLAIMED: "待派单",
    OrderState.DISPATCHED: "待接单",
    OrderState.WHISTLED: "部门办理中",
    OrderState.IN_PROGRESS: "办理中",
    OrderState.COMPLETED: "待评价",
    OrderState.CLOSED: "已办结",
    OrderState.REJECTED: "不予受理",
    OrderState.CANCELLED: "已撤单",
}

TERMINAL_STATES = frozenset({OrderState.CLOSED, OrderState.REJECTED, OrderState.CANCELLED})

# States in which someone still owes the resident work; used for "open load" and to-do lists.
OPEN_STATES = frozenset(set(OrderState) - TERMINAL_STATES)


class Urgency(StrEnum):
    NORMAL = "normal"
    URGENT = "urgent"

    @property
    def label(self) -> str:
        return URGENCY_LABELS[self]


URGENCY_LABELS: dict[Urgency, str] = {Urgency.NORMAL: "一般", Urgency.URGENT: "紧急"}
