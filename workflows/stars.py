"""Star grades for a period: members' 先锋指数 and stars, branches' scores and stars, the monthly 晒分.

Counted from the passbook's entries (points, judged attempts, late completions, the
secretary's entries) and, for branches, the three rates from the branch cube, with the
town's star rules (`domain.stars`; the defaults until the town sets its own). Read by
the dashboards, the town admin, and a secretary for their branch.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field, field_validator, model_validator
from sqlalchemy import distinct, func
from sqlmodel import Session, col, select

from domain.errors import NotFound, RuleViolation
from domain.points import PointRule
from domain.roles import Role
from domain.stars import (
    BRANCH_PARTS, MEMBER_PARTS, STAR_LABELS, BranchIndicators, BranchStarRules, Grade, MemberIndicators,
    MemberStarRules, branch_grade, member_grade,
)
from storage.models import Branch, PointEntry, Staff, StatsCount, Town
from workflows.audit import audit
from workflows.hierarchy import require_admin
from workflows.inputs import FIRST_DAY, LAST_DAY, Strict
from workflows.principal import Principal
from workflows.refs import Ref
from workflows.stats import StatsQuery, rate_counts, branch_cube, count_where, resolve_scope
from workflows.unit import use_case

JUDGED = (PointRule.CLOSED_SATISFIED.value, PointRule.DEFAULT_CLOSE.value, PointRule.LOW_RATING.value)
SATISFIED = (PointRule.CLOSED_SATISFIED.value, PointRule.DEFAULT_CLOSE.value)


# --------------------------------------------------------------------------- the town's rules



class MemberRulesBody(Strict):
    weights: dict[str, float] = Field(description=f"Of {', '.join(MEMBER_PARTS)}; each 0–10.")
    points_per_month: int = Field(ge=0, le=1000, description="Points a month that give the points part in full.")
    activities_per_month: int = Field(ge=0, le=31, description="The secretary's entries a month for full participation.")
    thresholds: list[float] = Field(min_length=4, max_length=4, description="The 先锋指数 for 2, 3, 4 and 5 stars.")

    @field_validator("weights")
    @classmethod
    def _parts(cls, value: dict[str, float]) -> dict[str, float]:
        return _checked_weights(value, MEMBER_PARTS)

    @field_validator("thresholds")
    @classmethod
    def _rising(cls, value: list[float]) -> list[float]:
        return _checked_thresholds(value)


class BranchRulesBody(Strict):
    weights: dict[str, float] = Field(description=f"Of {', '.join(BRANCH_PARTS)}; each 0–10.")
    overdue_per_month: int = Field(ge=0, le=1000, description="Late completions a month that take the part to 0.")
    thresholds: list[float] = Field(min_length=4, max_length=4, description="The score for 2, 3, 4 and 5 stars.")

    @field_validator("weights")
    @classmethod
    def _parts(cls, value: dict[str, float]) -> dict[str, float]:
        return _checked_weights(value, BRANCH_PARTS)

    @field_validator("thresholds")
    @classmethod
    def _rising(cls, value: list[float]) -> list[float]:
        return _checked_thresholds(value)


class StarRules(Strict):
    member: MemberRulesBody
    branch: BranchRulesBody

    @model_validator(mode="after")
    def _some_weight(self) -> StarRules:
        if not any(self.member.weights.values()) or not any(self.branch.weights.values()):
            raise ValueError("at least one weight of each grade must be above 0")
        return self


def _checked_weights(value: dict[str, float], parts: tuple[str, ...]) -> dict[str, float]:
    unknown = sorted(set(value) - set(parts))
    if unknown:
        raise ValueError(f"unknown parts: {', '.join(unknown)}; the parts are {', '.join(parts)}")
    if any(not 0 <= w <= 10 for w in value.values()):
        raise ValueError("each weight is 0 to 10")
    return {p: float(value.get(p, 0)) for p in parts}


def _checked_thresholds(value: list[float]) -> list[float]:
    if any(not 0 <= t <= 100 for t in value) or value != sorted(value):
        raise ValueError("four thresholds from 0 to 100, rising")
    return value


def _defaults() -> StarRules:
    m, b = MemberStarRules(), BranchStarRules()
    return StarRules(
        member=MemberRulesBody(weights=m.weights, points_per_month=m.points_per_month,
                               activities_per_month=m.activities_per_month, thresholds=list(m.thresholds)),
        branch=BranchRulesBody(weights=b.weights, overdue_per_month=b.overdue_per_month,
                               thresholds=list(b.thresholds)))


def town_star_rules(town: Town) -> StarRules:
    return StarRules.model_validate(town.star_rules) if town.star_rules else _defaults()


def _member_rules(rules: StarRules) -> MemberStarRules:
    m = rules.member
    return MemberStarRules(m.weights, m.points_per_month, m.activities_per_month, tuple(m.thresholds))


def _branch_rules(rules: StarRules) -> BranchStarRules:
    b = rules.branch
    return BranchStarRules(b.weights, b.overdue_per_month, tuple(b.thresholds))


def get_star_rules(db: Session, actor: Principal) -> StarRules:
    return town_star_rules(db.get(Town, require_admin(actor)))


@use_case
def set_star_rules(db: Session, actor: Principal, body: StarRules, *, now: datetime) -> StarRules:
    town = db.get(Town, require_admin(actor))
    town.star_rules = body.model_dump(mode="json")
    db.add(town)
    audit(db, actor, "update", "star_rules", town.id, town.star_rules, now=now)
    return body


# --------------------------------------------------------------------------- grades


class GradeView(BaseModel):
    index: float | None = Field(description="0–100; null when nothing could be measured.")
    stars: int = Field(ge=1, le=5)
    stars_label: str
    parts: dict[str, float | None] = Field(description="Each part 0–1; null when there was nothing to measure.")


def _view(g: Grade) -> GradeView:
    return GradeView(index=g.index, stars=g.stars, stars_label=STAR_LABELS[g.stars], parts=g.parts)


class MemberStars(BaseModel):
    member: Ref
    branch: Ref | None
    points: int
    judged: int
    satisfied: int
    late: int
    activities: int
    grade: GradeView = Field(description="先锋指数 and stars.")


class BranchStars(BaseModel):
    branch: Ref
    response: float | None
    resolution: float | None
    satisfaction: float | None
    members: int
    members_taking_part: int
    late: int
    grade: GradeView


class StarGrades(BaseModel):
    town_id: int
    scope: dict[str, int | None]
    date_from: date
    date_to: date
    members: list[MemberStars] = Field(description="Best 先锋指数 first.")
    branches: list[BranchStars] = Field(description="Best score first.")
    as_of: datetime


@dataclass(frozen=True)
class _Period:
    town_id: int
    branch_id: int | None
    date_from: date
    date_to: date


def _members(db: Session, town_id: int, branch_id: int | None) -> list[tuple[int, str, int | None, str | None]]:
    where = [Staff.town_id == town_id, Staff.role == Role.MEMBER.value, col(Staff.active).is_(True)]
    if branch_id is not None:
        where.append(Staff.branch_id == branch_id)
    return list(db.exec(select(Staff.id, Staff.name, Staff.branch_id, Branch.name)
                        .outerjoin(Branch, col(Branch.id) == Staff.branch_id).where(*where)
                        .order_by(col(Staff.id))).all())


def star_grades(db: Session, actor: Principal, query: StatsQuery, now: datetime) -> StarGrades:
    scope = resolve_scope(db, actor, StatsQuery(query.date_from, query.date_to, query.branch_id), now)
    return grades_of(db, db.get(Town, scope.town_id), scope.branch_id, scope.date_from, scope.date_to, now)


def grades_of(db: Session, town: Town, branch_id: int | None, date_from: date, date_to: date,
              now: datetime) -> StarGrades:
    """The grades of a town (or one branch) for the days from `date_from` to `date_to`."""
    scope = _Period(town.id, branch_id, date_from, date_to)
    rules = town_star_rules(town)
    days = (scope.date_to - scope.date_from).days + 1
    period = [PointEntry.town_id == scope.town_id, col(PointEntry.day) >= scope.date_from,
              col(PointEntry.day) <= scope.date_to]
    if scope.branch_id is not None:
        period.append(PointEntry.branch_id == scope.branch_id)
    took_part = (PointEntry.rule == PointRule.MANUAL.value) & (col(PointEntry.points) > 0)
    by_member = {row[0]: [int(n or 0) for n in row[1:]] for row in db.exec(
        select(PointEntry.member_id, func.sum(PointEntry.points), count_where(col(PointEntry.rule).in_(JUDGED)),
               count_where(col(PointEntry.rule).in_(SATISFIED)),
               count_where(PointEntry.rule == PointRule.OVERDUE_COMPLETION.value), count_where(took_part))
        .where(*period).group_by(col(PointEntry.member_id))).all()}
    member_rules = _member_rules(rules)
    roll = _members(db, scope.town_id, scope.branch_id)
    members = []
    for member_id, name, branch_id, branch_name in roll:
        points, judged, satisfied, late, activities = by_member.get(member_id, [0, 0, 0, 0, 0])
        g = member_grade(MemberIndicators(points, judged, satisfied, late, activities), member_rules, days)
        members.append(MemberStars(
            member=Ref(id=member_id, name=name), branch=Ref(id=branch_id, name=branch_name or "") if branch_id else None,
            points=points, judged=judged, satisfied=satisfied, late=late, activities=activities, grade=_view(g)))
    members.sort(key=lambda m: (-(m.grade.index if m.grade.index is not None else -1), -m.points, m.member.id))

    branch_where = [Branch.town_id == scope.town_id]
    if scope.branch_id is not None:
        branch_where.append(Branch.id == scope.branch_id)
    branches = db.exec(select(Branch.id, Branch.name).where(*branch_where).order_by(col(Branch.id))).all()
    cells = db.exec(select(StatsCount.branch_id, StatsCount.metric, func.sum(StatsCount.n)).where(
        StatsCount.town_id == scope.town_id, col(StatsCount.day) >= scope.date_from,
        col(StatsCount.day) <= scope.date_to, *branch_cube(StatsCount))
        .group_by(col(StatsCount.branch_id), col(StatsCount.metric))).all()
    metrics: dict[int, dict[str, int]] = {}
    for branch_id, metric, n in cells:
        metrics.setdefault(branch_id, {})[metric] = int(n or 0)
    taking_part = dict(db.exec(select(PointEntry.branch_id, func.count(distinct(PointEntry.member_id)))
                               .where(*period, took_part).group_by(col(PointEntry.branch_id))).all())
    late = dict(db.exec(select(PointEntry.branch_id, func.count()).where(
        *period, PointEntry.rule == PointRule.OVERDUE_COMPLETION.value).group_by(col(PointEntry.branch_id))).all())
    headcount: dict[int, int] = {}
    for _, _, branch_id, _ in roll:
        if branch_id is not None:
            headcount[branch_id] = headcount.get(branch_id, 0) + 1
    branch_rules = _branch_rules(rules)
    graded = []
    for branch_id, name in branches:
        counts = rate_counts(metrics.get(branch_id, {}))
        indicators = BranchIndicators(counts.response, counts.resolution, counts.satisfaction,
                                      headcount.get(branch_id, 0), int(taking_part.get(branch_id, 0)),
                                      int(late.get(branch_id, 0)))
        graded.append(BranchStars(branch=Ref(id=branch_id, name=name), response=indicators.response,
                                  resolution=indicators.resolution, satisfaction=indicators.satisfaction,
                                  members=indicators.members, members_taking_part=indicators.members_taking_part,
                                  late=indicators.late, grade=_view(branch_grade(indicators, branch_rules, days))))
    graded.sort(key=lambda b: (-(b.grade.index if b.grade.index is not None else -1), b.branch.id))
    return StarGrades(town_id=scope.town_id, scope={"branch_id": scope.branch_id}, date_from=scope.date_from,
                      date_to=scope.date_to, members=members, branches=graded, as_of=now)


# --------------------------------------------------------------------------- the public 晒分 board


class PublicMember(BaseModel):
    member: Ref
    branch: Ref | None
    points: int
    stars: int
    stars_label: str


class PublicBranch(BaseModel):
    branch: Ref
    stars: int
    stars_label: str


class PointsBoard(BaseModel):
    """晒分: a month's points and stars of the town's members and branches, for anyone to read."""

    town: Ref
    month: str
    members: list[PublicMember]
    branches: list[PublicBranch]


def public_points_board(db: Session, town_id: int, month: str | None, *, now: datetime) -> PointsBoard:
    town = db.get(Town, town_id)
    if town is None or not town.public_points_board_enabled:
        raise NotFound(key="board.not-found", id=town_id)
    first = _month(month) if month else now.astimezone(ZoneInfo(town.timezone)).date().replace(day=1)
    following = first.replace(year=first.year + (first.month == 12), month=first.month % 12 + 1)
    grades = grades_of(db, town, None, first, date.fromordinal(following.toordinal() - 1), now)
    return PointsBoard(
        town=Ref(id=town.id, name=town.name), month=f"{first:%Y-%m}",
        members=[PublicMember(member=m.member, branch=m.branch, points=m.points, stars=m.grade.stars,
                              stars_label=m.grade.stars_label)
                 for m in sorted(grades.members, key=lambda m: (-m.points, m.member.id))],
        branches=[PublicBranch(branch=b.branch, stars=b.grade.stars, stars_label=b.grade.stars_label)
                  for b in grades.branches])


def _month(value: str) -> date:
    try:
        first = datetime.strptime(value, "%Y-%m").date()
    except ValueError:
        raise RuleViolation(key="stars.month") from None
    if not FIRST_DAY <= first <= LAST_DAY:
        raise RuleViolation(key="stars.month")
    return first
