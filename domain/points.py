"""党员积分: the passbook's rules (积分存折). Every change of a member's points is an entry.

Points are earned when the resident (or the rating deadline) judges the member's work,
not when the member marks it done: an attempt that is reopened earns nothing for itself
and its 1–2 star rating costs points; a close that stays unsatisfied earns nothing;
completing late costs; five stars add. The numbers are a town's configuration with
versions: a version applies from its first day on, and the entries already written keep
the version they were written under, so a change never rewrites history. A town that has
set no version of its own earns by `DEFAULT_VALUES` (version 0).

Besides what the rules give, a branch secretary grants or deducts points for the other
duties of a member (主题党日, 三会一课, volunteer hours), each with a reason.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import date
from enum import StrEnum

from domain.rating import REOPEN_MAX_STARS

# A judged attempt's stars at or above this earn the close (3–5 stars: the passbook's
# "satisfied", wider than the satisfaction rate's 4–5).
EARNING_MIN_STARS = 3
MAX_MANUAL_POINTS = 50
MAX_RULE_POINTS = 100


class PointRule(StrEnum):
    CLOSED_SATISFIED = "closed_satisfied"
    FIVE_STAR = "five_star"
    DEFAULT_CLOSE = "default_close"
    LOW_RATING = "low_rating"
    OVERDUE_COMPLETION = "overdue_completion"
    MANUAL = "manual"
    # Points counted before the passbook existed, carried over as they were shown.
    CARRIED_OVER = "carried_over"


RULE_LABELS: dict[PointRule, str] = {
    PointRule.CLOSED_SATISFIED: "办结群众满意",
    PointRule.FIVE_STAR: "五星好评",
    PointRule.DEFAULT_CLOSE: "评价期满默认办结",
    PointRule.LOW_RATING: "群众不满意（1–2星）",
    PointRule.OVERDUE_COMPLETION: "超时办结",
    PointRule.MANUAL: "支部记分",
    PointRule.CARRIED_OVER: "积分存折启用前累计",
}


class Activity(StrEnum):
    """What a manual entry is for."""

    THEME_DAY = "theme_day"
    THREE_ONE = "three_one"
    VOLUNTEER = "volunteer"
    STUDY = "study"
    OTHER = "other"


ACTIVITY_LABELS: dict[Activity, str] = {
    Activity.THEME_DAY: "主题党日",
    Activity.THREE_ONE: "三会一课",
    Activity.VOLUNTEER: "志愿服务",
    Activity.STUDY: "学习教育",
    Activity.OTHER: "其他",
}


@dataclass(frozen=True)
class PointValues:
    """The numbers of one version of a town's rules."""

    closed_satisfied: int = 10
    five_star: int = 5
    default_close: int = 10
    low_rating: int = -3
    overdue_completion: int = -5


DEFAULT_VALUES = PointValues()
VALUE_NAMES = tuple(f.name for f in fields(PointValues))


@dataclass(frozen=True)
class RuleVersion:
    version: int
    effective_from: date
    values: PointValues


BUILT_IN = RuleVersion(0, date(1970, 1, 1), DEFAULT_VALUES)


def version_on(versions: Iterable[RuleVersion], day: date) -> RuleVersion:
    """The version in effect on a town day: the latest that began on or before it."""
    started = [v for v in versions if v.effective_from <= day]
    return max(started, key=lambda v: (v.effective_from, v.version), default=BUILT_IN)


def new_version_problem(effective_from: date, today: date, latest: RuleVersion | None) -> str | None:
    """Why a version may not begin on that day (a message key), or None: history stays as it was."""
    if effective_from < today:
        return "points.rules-in-past"
    if latest is not None and effective_from < latest.effective_from:
        return "points.rules-before-latest"
    return None


@dataclass(frozen=True)
class Earned:
    rule: PointRule
    points: int


def judged_attempt(values: PointValues, *, stars: int | None, by_default: bool, overdue: bool) -> list[Earned]:
    """What the member whose completed attempt is judged earns, by rule (no entry for nothing).

    `stars` is the resident's (or the callback's) rating; `by_default` the rating deadline
    passing without one. 1–2 stars cost `low_rating`, whether they reopen the order or
    close it unsatisfied; 3–5 earn the close, five stars more; late work costs besides.
    """
    earned: list[Earned] = []
    if by_default:
        earned.append(Earned(PointRule.DEFAULT_CLOSE, values.default_close))
    elif stars is not None and stars <= REOPEN_MAX_STARS:
        earned.append(Earned(PointRule.LOW_RATING, values.low_rating))
    elif stars is not None and stars >= EARNING_MIN_STARS:
        earned.append(Earned(PointRule.CLOSED_SATISFIED, values.closed_satisfied))
        if stars == 5:
            earned.append(Earned(PointRule.FIVE_STAR, values.five_star))
    if overdue:
        earned.append(Earned(PointRule.OVERDUE_COMPLETION, values.overdue_completion))
    return [e for e in earned if e.points != 0]


# What the leaderboard counts besides the sum: closes earned, five-star ratings, late completions.
CLOSE_RULES = frozenset({PointRule.CLOSED_SATISFIED, PointRule.DEFAULT_CLOSE})
