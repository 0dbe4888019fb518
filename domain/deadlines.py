"""Time limits of each stage, and when a stage is overdue."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from domain.states import OrderState, Urgency


class Stage(StrEnum):
    """A stage is named by what must happen to leave it."""

    CLAIM = "claim"  # submitted -> claimed
    DISPATCH = "dispatch"  # claimed -> dispatched
    ACCEPT = "accept"  # dispatched -> in_progress
    COMPLETE = "complete"  # in_progress -> completed
    RATE = "rate"  # completed -> closed


STAGE_OF_STATE: dict[OrderState, Stage] = {
    OrderState.SUBMITTED: Stage.CLAIM,
    OrderState.CLAIMED: Stage.DISPATCH,
    OrderState.DISPATCHED: Stage.ACCEPT,
    OrderState.IN_PROGRESS: Stage.COMPLETE,
    OrderState.COMPLETED: Stage.RATE,
}


@dataclass(frozen=True)
class StageLimits:
    """Minutes allowed for each stage; `complete_urgent` replaces `complete` for urgent orders."""

    claim: int = 2 * 60
    dispatch: int = 24 * 60
    accept: int = 4 * 60
    complete: int = 72 * 60
    complete_urgent: int = 24 * 60
    rate: int = 7 * 24 * 60

    def minutes(self, stage: Stage, urgency: Urgency = Urgency.NORMAL) -> int:
        if stage is Stage.COMPLETE and urgency == Urgency.URGENT:
            return self.complete_urgent
        return getattr(self, stage.value)


DEFAULT_LIMITS = StageLimits()


def stage_deadline(
    state: OrderState, entered_at: datetime, limits: StageLimits, urgency: Urgency
) -> datetime | None:
    """When the stage entered at `entered_at` runs out; None for terminal states."""
    stage = STAGE_OF_STATE.get(state)
    if stage is None:
        return None
    return entered_at + timedelta(minutes=limits.minutes(stage, urgency))


def overdue_seconds(deadline: datetime | None, now: datetime) -> int:
    """Whole seconds past the deadline, 0 when not overdue."""
    if deadline is None or now <= deadline:
        return 0
    return int((now - deadline).total_seconds())
