"""Reminders (催办), escalations (督办) and auto-close: when each is due for a stage.

A stage that runs past its limit reminds whoever holds it, every half limit, at most
three times; at twice the limit the level above is told once. The rating stage instead
reminds the resident at half the limit and closes by itself at the limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from domain.deadlines import Stage
from domain.notices import Audience
from domain.whistles import WhistleStage

MAX_REMINDERS = 3


class AlertKind(StrEnum):
    REMINDER = "reminder"
    ESCALATION = "escalation"
    AUTO_CLOSE = "auto_close"


ALERT_LABELS = {AlertKind.REMINDER: "催办", AlertKind.ESCALATION: "督办", AlertKind.AUTO_CLOSE: "超时自动办结"}


@dataclass(frozen=True)
class StageAlertRule:
    reminded: Audience
    escalated_to: Audience | None


ALERT_RULES: dict[Stage | WhistleStage, StageAlertRule] = {
    Stage.CLAIM: StageAlertRule(Audience.GRID_WORKERS, Audience.BRANCH_SECRETARIES),
    Stage.DISPATCH: StageAlertRule(Audience.BRANCH_SECRETARIES, Audience.TOWN_ADMINS),
    Stage.ACCEPT: StageAlertRule(Audience.ASSIGNEE, Audience.BRANCH_SECRETARIES),
    Stage.COMPLETE: StageAlertRule(Audience.ASSIGNEE, Audience.BRANCH_SECRETARIES),
    Stage.RATE: StageAlertRule(Audience.RESIDENT, None),
    # 吹哨报到: a unit late to report in or to reply is reminded; the town office is told
    # at twice the limit, as it is the 街道 that calls the departments in.
    WhistleStage.REPORT: StageAlertRule(Audience.UNIT_STAFF, Audience.TOWN_ADMINS),
    WhistleStage.REPLY: StageAlertRule(Audience.UNIT_STAFF, Audience.TOWN_ADMINS),
}


@dataclass(frozen=True)
class Alert:
    kind: AlertKind
    round: int
    due_at: datetime
    audience: Audience | None  # None for auto-close, which is a move, not a notice


def alert_schedule(stage: Stage | WhistleStage, entered_at: datetime, limit_minutes: int, *, auto_close: bool = True) -> list[Alert]:
    """Every alert the stage entered at `entered_at` can raise, in order of due time."""
    limit = timedelta(minutes=limit_minutes)
    rule = ALERT_RULES[stage]
    if stage is Stage.RATE:
        alerts = [Alert(AlertKind.REMINDER, 1, entered_at + limit / 2, rule.reminded)]
        if auto_close:
            alerts.append(Alert(AlertKind.AUTO_CLOSE, 1, entered_at + limit, None))
        return alerts
    deadline = entered_at + limit
    alerts = [
        Alert(AlertKind.REMINDER, n, deadline + (n - 1) * limit / 2, rule.reminded)
        for n in range(1, MAX_REMINDERS + 1)
    ]
    alerts.append(Alert(AlertKind.ESCALATION, 1, entered_at + 2 * limit, rule.escalated_to))
    return sorted(alerts, key=lambda a: (a.due_at, a.kind != AlertKind.REMINDER))


def due_alerts(schedule: list[Alert], now: datetime) -> list[Alert]:
    """Alerts due by `now`; the store remembers which were raised already.

    When several reminder rounds fell due while nothing swept (a stopped worker), only
    the latest is raised: three reminders at the same minute help nobody.
    """
    due = [a for a in schedule if a.due_at <= now]
    reminders = [a for a in due if a.kind is AlertKind.REMINDER]
    others = [a for a in due if a.kind is not AlertKind.REMINDER]
    return ([max(reminders, key=lambda a: a.round)] if reminders else []) + others


def next_alert_at(schedule: list[Alert], now: datetime) -> datetime | None:
    """When the sweep must look at this stage again; None when nothing is left to raise."""
    upcoming = [a.due_at for a in schedule if a.due_at > now]
    return min(upcoming) if upcoming else None


def first_alert_at(stage: Stage | WhistleStage | None, entered_at: datetime, limit_minutes: int) -> datetime | None:
    """When a stage entered now first needs the sweep: the earliest alert it can raise."""
    if stage is None:
        return None
    return alert_schedule(stage, entered_at, limit_minutes)[0].due_at
