"""Star grades (积分制星级管理, 支部星级管理): 1–5 stars for a period from configured indicators.

A member's 先锋指数 (vanguard index, 0–100) is a weighted mean of four parts, each 0–1:
their points against a monthly target, the satisfaction of their judged attempts
(3–5 stars ÷ judged), the share of those completed on time, and participation in the
branch's other duties (the secretary's entries) against a monthly target. A branch's
score (0–100) is a weighted mean of its three rates, the share of its members who took
part, and its late completions against a monthly tolerance. A part with nothing to
measure (no judged attempt, no order) is left out and the weights of the others count.
Stars are 1 plus the number of thresholds the index reaches. The weights, targets and
thresholds are the town's; these are the defaults.
"""

from __future__ import annotations

from dataclasses import dataclass, field

DAYS_A_MONTH = 30


@dataclass(frozen=True)
class MemberStarRules:
    weights: dict[str, float] = field(default_factory=lambda: {
        "points": 0.4, "satisfaction": 0.3, "on_time": 0.2, "participation": 0.1})
    points_per_month: int = 30
    activities_per_month: int = 2
    thresholds: tuple[float, ...] = (20, 40, 60, 80)


@dataclass(frozen=True)
class BranchStarRules:
    weights: dict[str, float] = field(default_factory=lambda: {
        "response": 0.2, "resolution": 0.3, "satisfaction": 0.3, "participation": 0.1, "overdue": 0.1})
    overdue_per_month: int = 5
    thresholds: tuple[float, ...] = (60, 70, 80, 90)


MEMBER_PARTS = ("points", "satisfaction", "on_time", "participation")
BRANCH_PARTS = ("response", "resolution", "satisfaction", "participation", "overdue")


@dataclass(frozen=True)
class MemberIndicators:
    points: int
    judged: int  # attempts rated or closed by default
    satisfied: int  # of those, 3–5 stars or closed by default
    late: int  # of those, completed past the limit
    activities: int  # the secretary's entries granting points


@dataclass(frozen=True)
class BranchIndicators:
    response: float | None
    resolution: float | None
    satisfaction: float | None
    members: int
    members_taking_part: int
    late: int


@dataclass(frozen=True)
class Grade:
    index: float | None  # 0–100, rounded to one decimal; None when nothing could be measured
    stars: int
    parts: dict[str, float | None]


def months_in(days: int) -> float:
    return max(days, 1) / DAYS_A_MONTH


def _clamp(x: float) -> float:
    return max(0.0, min(1.0, x))


def grade(parts: dict[str, float | None], weights: dict[str, float], thresholds: tuple[float, ...]) -> Grade:
    counted = {k: v for k, v in parts.items() if v is not None and weights.get(k, 0) > 0}
    total = sum(weights[k] for k in counted)
    if not total:
        return Grade(None, 1, parts)
    index = round(100 * sum(weights[k] * v for k, v in counted.items()) / total, 1)
    return Grade(index, 1 + sum(index >= t for t in thresholds), parts)


def member_grade(m: MemberIndicators, rules: MemberStarRules, days: int) -> Grade:
    months = months_in(days)
    parts = {
        "points": _clamp(m.points / (rules.points_per_month * months)) if rules.points_per_month else None,
        "satisfaction": m.satisfied / m.judged if m.judged else None,
        "on_time": 1 - m.late / m.judged if m.judged else None,
        "participation": _clamp(m.activities / (rules.activities_per_month * months))
        if rules.activities_per_month else None,
    }
    return grade({k: None if v is None else round(v, 4) for k, v in parts.items()}, rules.weights, rules.thresholds)


def branch_grade(b: BranchIndicators, rules: BranchStarRules, days: int) -> Grade:
    tolerance = rules.overdue_per_month * months_in(days)
    parts = {
        "response": b.response, "resolution": b.resolution, "satisfaction": b.satisfaction,
        "participation": b.members_taking_part / b.members if b.members else None,
        "overdue": _clamp(1 - b.late / tolerance) if tolerance else None,
    }
    return grade({k: None if v is None else round(v, 4) for k, v in parts.items()}, rules.weights, rules.thresholds)


STAR_LABELS = {1: "一星", 2: "二星", 3: "三星", 4: "四星", 5: "五星"}
