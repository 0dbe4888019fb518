"""党员积分存折 over HTTP: passbooks, the secretary's entries, a member's own points, the town's rules.

Points are written by the moves that earn them (see `workflows.passbook`); the
leaderboard (`/stats/leaderboard`) and every figure here are sums of those entries.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from api.deps import Admin, CurrentUser, Db, Now, Paging, QueryId
from api.problems import problem_responses
from api.routing import api_router
from domain.points import PointRule
from workflows import passbook, stars
from workflows.inputs import Day

router = api_router(tags=["points"], responses=problem_responses(401, 403))


@router.get("/points/entries", responses=problem_responses(422))
def list_entries(
    user: CurrentUser, db: Db, page: Paging, member_id: QueryId = None,
    rule: Annotated[PointRule | None, Query(description="Only entries of this rule (manual: the branch's own)")]
    = None,
    date_from: Annotated[Day | None, Query(description="First town day (YYYY-MM-DD)")] = None,
    date_to: Annotated[Day | None, Query(description="Last town day (YYYY-MM-DD)")] = None,
) -> passbook.Passbook:
    """积分存折: entries newest first, with the sum of all that match. A member reads their own,
    a secretary the branch's members', the town admin every member's."""
    return passbook.list_entries(db, user, page, member_id=member_id, rule=rule, date_from=date_from,
                                 date_to=date_to)


@router.post("/points/entries", status_code=201, responses=problem_responses(404, body=True))
def grant_points(body: passbook.ManualEntry, user: CurrentUser, db: Db, now: Now) -> passbook.EntryView:
    """A secretary's entry for a member's other duties (主题党日, 三会一课, 志愿服务): points with a reason."""
    entry = passbook.grant_points(db, user, body, now=now)
    return passbook.entry_views(db, [entry])[0]


@router.get("/me/points")
def my_points(user: CurrentUser, db: Db, now: Now) -> passbook.MyPoints:
    """A member's own points: the total, this year's and this month's, and the latest entries."""
    return passbook.my_points(db, user, now=now)


@router.get("/admin/point-rules")
def list_rules(user: Admin, db: Db, now: Now) -> list[passbook.RuleVersionView]:
    """The versions of the town's point rules, oldest first; version 0 is the built-in defaults."""
    return passbook.list_rule_versions(db, user, now=now)


@router.post("/admin/point-rules", status_code=201, responses=problem_responses(body=True))
def add_rules(body: passbook.RuleVersionCreate, user: Admin, db: Db, now: Now) -> passbook.RuleVersionView:
    """A new version of the rules, from a town day on (today or later): entries already written keep theirs."""
    return passbook.add_rule_version(db, user, body, now=now)


@router.get("/admin/star-rules")
def get_star_rules(user: Admin, db: Db) -> stars.StarRules:
    """The town's star grades: weights, monthly targets and thresholds (the defaults until it sets its own)."""
    return stars.get_star_rules(db, user)


@router.put("/admin/star-rules", responses=problem_responses(body=True))
def set_star_rules(body: stars.StarRules, user: Admin, db: Db, now: Now) -> stars.StarRules:
    """Replace the town's star rules; grades are counted with them from now on, for any period."""
    return stars.set_star_rules(db, user, body, now=now)
