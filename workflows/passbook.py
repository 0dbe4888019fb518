"""党员积分存折: the entries the rules write when an attempt is judged, and the secretary's own.

`judge_attempt` runs inside the move that judges a member's completed attempt (a rating,
the reopen a 1–2 star rating makes, the auto-close at the rating deadline), in its
transaction, with the version of the rules in effect on that town day: every point a
board shows is an entry written with the move that earned it.

Who reads a passbook: a member their own, a secretary the branch's members', the town
admin every member's. A secretary grants or deducts points for the branch's members, the
town admin for any member of the town; each grant is audited.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, bindparam, func, insert
from sqlmodel import Session, col, select

from domain.errors import NotFound, NotPermitted, RuleViolation
from domain.points import (
    ACTIVITY_LABELS, BUILT_IN, MAX_MANUAL_POINTS, RULE_LABELS, Activity, PointRule, PointValues, RuleVersion, judged_attempt,
    VALUE_NAMES, new_version_problem, version_on,
)
from domain.roles import Role
from domain.transitions import Action
from storage.models import Branch, Order, OrderEvent, PointEntry, PointRuleVersion, Staff, Town
from workflows.audit import audit
from workflows.hierarchy import require_admin
from workflows.inputs import Day, Id, Strict, Text
from workflows.paging import PageRequest, fetch_page
from workflows.principal import Principal
from workflows.refs import Ref, names, optional_ref, ref
from workflows.unit import use_case

_INSERT_ENTRIES = insert(PointEntry.__table__)


# --------------------------------------------------------------------------- the rules' entries


def rule_versions(db: Session, town_id: int) -> list[RuleVersion]:
    return [RuleVersion(v.version, v.effective_from, PointValues(
        closed_satisfied=v.closed_satisfied, five_star=v.five_star, default_close=v.default_close,
        low_rating=v.low_rating, overdue_completion=v.overdue_completion))
        for v in db.exec(select(PointRuleVersion).where(PointRuleVersion.town_id == town_id)
                         .order_by(col(PointRuleVersion.version)))]


def judge_attempt(db: Session, order: Order, member_id: int | None, event_id: int, *, stars: int | None,
                  by_default: bool, now: datetime) -> None:
    """Write what the member earns for the attempt just judged by the move `event_id`.

    Nothing for an order completed by the units it was whistled to (no member holds it).
    An attempt completed before the town's passbook began was counted at its completion
    by the old counters; its judgment adds only what they gave at a rating. Two reads
    (the town with the attempt's completion, then the version of the rules in effect) and
    the entries' one INSERT: a rating is on the loop's hot path.
    """
    if member_id is None:
        return
    facts = db.connection().execute(_JUDGING_FACTS, {"town_id": order.town_id, "order_id": order.id}).one()
    if facts.done_at is None:
        return
    day = now.astimezone(ZoneInfo(facts.timezone)).date()
    found = db.connection().execute(_VERSION_ON, {"town_id": order.town_id, "day": day}).first()
    version = BUILT_IN if found is None else RuleVersion(found.version, found.effective_from, PointValues(
        **{name: getattr(found, name) for name in VALUE_NAMES}))
    earned = judged_attempt(version.values, stars=stars, by_default=by_default,
                            overdue=facts.deadline is not None and facts.done_at > facts.deadline)
    if facts.passbook_since is not None and facts.done_at < facts.passbook_since:
        earned = [e for e in earned if e.rule == PointRule.FIVE_STAR]
    if earned:
        db.connection().execute(_INSERT_ENTRIES, [{
            "town_id": order.town_id, "branch_id": order.branch_id, "member_id": member_id, "at": now, "day": day,
            "points": e.points, "rule": e.rule.value, "rule_version": version.version, "order_id": order.id,
            "event_id": event_id, "activity": None, "reason": None, "granted_by_id": None,
        } for e in earned])


_towns, _events, _versions = Town.__table__.c, OrderEvent.__table__.c, PointRuleVersion.__table__.c
_completion = (select(_events.created_at, _events.stage_deadline)
               .where(_events.order_id == bindparam("order_id"), _events.action == Action.COMPLETE.value)
               .order_by(_events.id.desc()).limit(1))
_JUDGING_FACTS = select(
    _towns.timezone, _towns.passbook_since,
    _completion.with_only_columns(_events.created_at).scalar_subquery().label("done_at"),
    _completion.with_only_columns(_events.stage_deadline).scalar_subquery().label("deadline"),
).where(_towns.id == bindparam("town_id"))
_VERSION_ON = (select(PointRuleVersion.__table__)
               .where(_versions.town_id == bindparam("town_id"), _versions.effective_from <= bindparam("day"))
               .order_by(_versions.effective_from.desc(), _versions.version.desc()).limit(1))


# --------------------------------------------------------------------------- reading


class EntryView(BaseModel):
    id: int
    member: Ref
    branch: Ref | None
    at: datetime
    day: date
    points: int
    rule: str
    rule_label: str
    rule_version: int | None = Field(description="The version of the town's rules; null for a manual entry.")
    order_id: int | None
    activity: str | None
    activity_label: str | None
    reason: str | None
    granted_by: Ref | None


class Passbook(BaseModel):
    """A page of entries, with the sum of every entry the filters match (not only this page's)."""

    items: list[EntryView]
    total: int
    limit: int
    offset: int
    points: int


def visible_entries(actor: Principal) -> ColumnElement[bool]:
    if actor.town_id is None:
        raise NotPermitted(key="points.for-whom")
    town = col(PointEntry.town_id) == actor.town_id
    match actor.role:
        case Role.TOWN_ADMIN:
            return town
        case Role.SECRETARY:
            members = select(Staff.id).where(Staff.branch_id == actor.branch_id)
            return town & col(PointEntry.member_id).in_(members)
        case Role.MEMBER:
            return town & (col(PointEntry.member_id) == actor.id)
    raise NotPermitted(key="points.for-whom")


def list_entries(db: Session, actor: Principal, page: PageRequest, *, member_id: int | None = None,
                 rule: PointRule | None = None, date_from: date | None = None,
                 date_to: date | None = None) -> Passbook:
    where = [visible_entries(actor)]
    if member_id is not None:
        where.append(PointEntry.member_id == member_id)
    if rule is not None:
        where.append(PointEntry.rule == rule.value)
    if date_from is not None:
        where.append(col(PointEntry.day) >= date_from)
    if date_to is not None:
        where.append(col(PointEntry.day) <= date_to)
    rows, total = fetch_page(db, select(PointEntry).where(*where)
                             .order_by(col(PointEntry.at).desc(), col(PointEntry.id).desc()), page)
    points = db.exec(select(func.coalesce(func.sum(PointEntry.points), 0)).where(*where)).one()
    return Passbook(items=entry_views(db, rows), total=total, limit=page.limit, offset=page.offset,
                    points=int(points))


def entry_views(db: Session, entries) -> list[EntryView]:
    people = names(db, Staff, [i for e in entries for i in (e.member_id, e.granted_by_id)])
    branches = names(db, Branch, [e.branch_id for e in entries])
    return [EntryView(
        id=e.id, member=ref(e.member_id, people), branch=optional_ref(e.branch_id, branches), at=e.at, day=e.day,
        points=e.points, rule=e.rule, rule_label=RULE_LABELS[PointRule(e.rule)], rule_version=e.rule_version,
        order_id=e.order_id, activity=e.activity,
        activity_label=ACTIVITY_LABELS[Activity(e.activity)] if e.activity else None, reason=e.reason,
        granted_by=optional_ref(e.granted_by_id, people)) for e in entries]


class MyPoints(BaseModel):
    member: Ref
    points: int = Field(description="Every entry of the passbook, summed.")
    points_this_year: int
    points_this_month: int
    recent: list[EntryView] = Field(description="The latest entries, newest first.")


def my_points(db: Session, actor: Principal, *, now: datetime, recent: int = 20) -> MyPoints:
    """A member's own passbook at a glance."""
    if actor.role != Role.MEMBER or actor.town_id is None:
        raise NotPermitted(key="points.members-only")
    town = db.get(Town, actor.town_id)
    today = now.astimezone(ZoneInfo(town.timezone)).date()
    mine = PointEntry.member_id == actor.id

    def total(*where) -> int:
        return int(db.exec(select(func.coalesce(func.sum(PointEntry.points), 0)).where(mine, *where)).one())

    latest = db.exec(select(PointEntry).where(mine).order_by(col(PointEntry.at).desc(), col(PointEntry.id).desc())
                     .limit(recent)).all()
    return MyPoints(member=Ref(id=actor.id, name=actor.name), points=total(),
                    points_this_year=total(col(PointEntry.day) >= today.replace(month=1, day=1)),
                    points_this_month=total(col(PointEntry.day) >= today.replace(day=1)),
                    recent=entry_views(db, latest))


# --------------------------------------------------------------------------- the secretary's entries


class ManualEntry(Strict):
    member_id: Id
    points: int = Field(ge=-MAX_MANUAL_POINTS, le=MAX_MANUAL_POINTS,
                        description="Granted (positive) or deducted (negative); not 0.")
    activity: Activity = Field(strict=False, description="theme_day 主题党日, three_one 三会一课, volunteer 志愿服务,"
                                                         " study 学习教育, other 其他")
    reason: Annotated[Text, Field(max_length=500)]
    day: Day | None = Field(None, strict=False,
                            description="The town day it is for (YYYY-MM-DD); default today. At most 31 days back.")


MAX_BACKDATE_DAYS = 31


@use_case
def grant_points(db: Session, actor: Principal, body: ManualEntry, *, now: datetime) -> PointEntry:
    if actor.role not in (Role.SECRETARY, Role.TOWN_ADMIN) or actor.town_id is None:
        raise NotPermitted(key="points.granters")
    if body.points == 0:
        raise RuleViolation(key="points.zero")
    member = db.get(Staff, body.member_id)
    if (member is None or member.town_id != actor.town_id
            or (actor.role == Role.SECRETARY and member.branch_id != actor.branch_id)):
        raise NotFound(key="staff.not-found", id=body.member_id)
    if member.role != Role.MEMBER.value:
        raise RuleViolation(key="points.not-a-member", id=member.id)
    town = db.get(Town, actor.town_id)
    today = now.astimezone(ZoneInfo(town.timezone)).date()
    day = body.day or today
    if day > today or (today - day).days > MAX_BACKDATE_DAYS:
        raise RuleViolation(key="points.day-out-of-range", days=MAX_BACKDATE_DAYS)
    entry = PointEntry(town_id=town.id, branch_id=member.branch_id, member_id=member.id, at=now, day=day,
                       points=body.points, rule=PointRule.MANUAL.value, activity=body.activity.value,
                       reason=body.reason, granted_by_id=actor.id)
    db.add(entry)
    db.flush()
    audit(db, actor, "grant", "point_entry", entry.id, body.model_dump(mode="json"), now=now)
    return entry


# --------------------------------------------------------------------------- the town's rules


class RuleVersionView(BaseModel):
    version: int = Field(description="0 is the built-in defaults, in effect until a town sets its own.")
    effective_from: date
    in_effect: bool
    closed_satisfied: int
    five_star: int
    default_close: int
    low_rating: int
    overdue_completion: int


class RuleVersionCreate(Strict):
    effective_from: Day = Field(strict=False, description="A town day, today or later: history is never rewritten.")
    closed_satisfied: int = Field(ge=-100, le=100, description="办结群众满意 (3–5 stars).")
    five_star: int = Field(ge=-100, le=100, description="五星好评, on top.")
    default_close: int = Field(ge=-100, le=100, description="Closed at the rating deadline without a rating.")
    low_rating: int = Field(ge=-100, le=100, description="Each 1–2 star rating of the attempt (usually negative).")
    overdue_completion: int = Field(ge=-100, le=100, description="An attempt completed late (usually negative).")


def list_rule_versions(db: Session, actor: Principal, *, now: datetime) -> list[RuleVersionView]:
    town = db.get(Town, require_admin(actor))
    versions = [BUILT_IN, *rule_versions(db, town.id)]
    current = version_on(versions, now.astimezone(ZoneInfo(town.timezone)).date())
    return [RuleVersionView(version=v.version, effective_from=v.effective_from, in_effect=v == current,
                            **vars(v.values)) for v in versions]


@use_case
def add_rule_version(db: Session, actor: Principal, body: RuleVersionCreate, *, now: datetime) -> RuleVersionView:
    town = db.get(Town, require_admin(actor))
    versions = rule_versions(db, town.id)
    today = now.astimezone(ZoneInfo(town.timezone)).date()
    problem = new_version_problem(body.effective_from, today, versions[-1] if versions else None)
    if problem:
        raise RuleViolation(key=problem)
    number = (versions[-1].version if versions else 0) + 1
    values = body.model_dump(exclude={"effective_from"})
    db.add(PointRuleVersion(town_id=town.id, version=number, effective_from=body.effective_from,
                            created_by_id=actor.id, created_at=now, **values))
    db.flush()
    audit(db, actor, "create", "point_rules", number, body.model_dump(mode="json"), now=now)
    return RuleVersionView(version=number, effective_from=body.effective_from,
                           in_effect=body.effective_from <= today, **values)
