"""Whom a branch secretary might dispatch an order to (派单建议): the branch's members ranked, each with why.

What counts, and how much (points of a score; the reasons say which applied):
- the member is paired with the order's household (党员联户): they know the family;
- the member volunteered for it on the branch's task board (揭榜): they asked for it;
- the member leads the party group of the household's building (楼栋党小组长);
- the member's own home (党员中心户) is in the same building;
- workload now: each order the member holds (dispatched or in progress) counts against;
- the last 90 days: each overdue completion counts against, 党员积分 earned a little for.
Ties go to the member with fewer open orders, then to the lower id, so the order is stable.
"""

from __future__ import annotations

from dataclasses import dataclass

PAIRED = 40
VOLUNTEERED = 50
BUILDING_LEADER = 20
SAME_BUILDING = 10
FREE_HANDS = 20  # what a member holding nothing gets; each open order takes OPEN_ORDER of it
OPEN_ORDER = 5
OVERDUE = 5
POINTS_PER_SCORE = 10
POINTS_CAP = 10  # at most this much of a score from points

REASON_LABELS = {
    "volunteered": "已揭榜",
    "paired": "联户党员",
    "building-leader": "楼栋党小组长",
    "same-building": "中心户在同一楼栋",
    "open-orders": "当前在办",
    "overdue": "近90天超期",
    "points": "近90天积分",
}


@dataclass(frozen=True)
class Candidate:
    member_id: int
    paired: bool = False
    leads_building: bool = False
    home_in_building: bool = False
    open_orders: int = 0
    overdue_recently: int = 0
    points_recently: int = 0
    volunteered: bool = False


@dataclass(frozen=True)
class Reason:
    code: str
    value: int  # the number behind it (1 for a yes), and what it added to the score in `weight`
    weight: int

    @property
    def label(self) -> str:
        return REASON_LABELS[self.code]


@dataclass(frozen=True)
class Suggestion:
    member_id: int
    score: int
    reasons: tuple[Reason, ...]


def score(candidate: Candidate) -> Suggestion:
    reasons = []
    if candidate.volunteered:
        reasons.append(Reason("volunteered", 1, VOLUNTEERED))
    if candidate.paired:
        reasons.append(Reason("paired", 1, PAIRED))
    if candidate.leads_building:
        reasons.append(Reason("building-leader", 1, BUILDING_LEADER))
    if candidate.home_in_building:
        reasons.append(Reason("same-building", 1, SAME_BUILDING))
    reasons.append(Reason("open-orders", candidate.open_orders,
                          max(0, FREE_HANDS - OPEN_ORDER * candidate.open_orders)))
    if candidate.overdue_recently:
        reasons.append(Reason("overdue", candidate.overdue_recently, -OVERDUE * candidate.overdue_recently))
    if candidate.points_recently > 0:
        reasons.append(Reason("points", candidate.points_recently,
                              min(POINTS_CAP, candidate.points_recently // POINTS_PER_SCORE)))
    return Suggestion(candidate.member_id, sum(r.weight for r in reasons), tuple(reasons))


def rank(candidates: list[Candidate]) -> list[Suggestion]:
    """Best first; ties to fewer open orders, then the lower member id."""
    open_orders = {c.member_id: c.open_orders for c in candidates}
    return sorted((score(c) for c in candidates),
                  key=lambda s: (-s.score, open_orders[s.member_id], s.member_id))
