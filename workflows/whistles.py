"""吹哨报到 as use cases: the branch whistles an order to units; each unit reports in, replies or declines.

Every move of a whistle is also a move of its order (an event on the order's timeline,
with the order's compare-and-set), so two units answering at once take turns on the
order's version: the last one to close its whistle sees the others' answers and moves
the order on, to be rated (some unit replied) or back to the branch (all declined).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, not_, update
from sqlmodel import Session, col, select

from domain.alerts import first_alert_at
from domain.errors import InvalidTransition, NotFound, RuleViolation
from domain.notices import WHISTLED_UNIT_NOTICE, Audience
from domain.roles import Role
from domain.states import OrderState, Urgency
from domain.transitions import ACTION_LABELS, Action, plan
from domain.whistles import (
    OPEN_WHISTLE_STATES, ORDER_SIDE, STAGE_OF_WHISTLE, WhistleLimits, WhistleOutcome, WhistleState,
    outcome, plan_whistle_move, whistle_deadline,
)
from storage.models import Order, OutboxMessage, Staff, Town, Unit, Whistle
from workflows.photos import attach_photos
from workflows.principal import SYSTEM, Principal
from workflows.scope import category_of, load_visible_order
from workflows.transition import authorise, move, notice_values
from workflows.unit import use_case
from workflows.inputs import Reason
from workflows.whistle_inputs import UnitReply, WhistleRequest


def town_whistle_limits(town: Town) -> WhistleLimits:
    return WhistleLimits(report=town.whistle_report_minutes, report_urgent=town.whistle_report_urgent_minutes,
                         reply=town.whistle_reply_minutes, reply_urgent=town.whistle_reply_urgent_minutes)


def stage_values(state: WhistleState, now: datetime, limits: WhistleLimits, urgency: Urgency) -> dict[str, Any]:
    """What entering `state` at `now` writes on a whistle: its stage's start, limit and first alert."""
    stage = STAGE_OF_WHISTLE.get(state)
    deadline = whistle_deadline(state, now, limits, urgency)
    return {
        "stage_entered_at": now,
        "stage_deadline": deadline,
        "next_alert_at": first_alert_at(stage, now, limits.minutes(stage, urgency)) if stage else None,
    }


@use_case
def whistle_order(db: Session, actor: Principal, order_id: int, body: WhistleRequest, *, now: datetime) -> Order:
    """吹哨: call units in on a claimed order (or more units on one already waiting for some)."""
    order = load_visible_order(db, actor, order_id)
    transition = authorise(order, Action.WHISTLE, actor)
    units = _units_to_whistle(db, order, body.unit_ids)
    urgency = body.urgency or Urgency(order.urgency)
    limits = town_whistle_limits(db.get(Town, order.town_id))
    event_id = move(db, order, transition, actor, now=now, note=body.note, data={
        "unit_ids": [u.id for u in units], "units": [u.name for u in units], "urgency": urgency.value,
    })
    entered = stage_values(WhistleState.WHISTLED, now, limits, urgency)
    db.connection().execute(insert(Whistle), [{
        "order_id": order.id, "town_id": order.town_id, "branch_id": order.branch_id, "unit_id": unit.id,
        "state": WhistleState.WHISTLED.value, "version": 1, "urgency": urgency.value, "settled": False,
        "note": body.note, "whistled_by_id": actor.id, "whistled_at": now,
        "report_deadline": entered["stage_deadline"], **entered,
    } for unit in units])
    category = category_of(db, order)
    for unit in units:
        values = notice_values(order, category, WHISTLED_UNIT_NOTICE, Audience.UNIT_STAFF, {
            "action": Action.WHISTLE.value, "action_label": ACTION_LABELS[Action.WHISTLE], "note": body.note,
            "unit_id": unit.id, "unit_name": unit.name, "urgency": urgency.value,
            "report_deadline": entered["stage_deadline"].isoformat(),
        }, audience_id=unit.id)
        db.add(OutboxMessage(**values, event_id=event_id, next_attempt_at=now, created_at=now))
    return order


def _units_to_whistle(db: Session, order: Order, unit_ids: list[int]) -> list[Unit]:
    """The units asked for, each of the order's town, active, with someone to report in, and not
    already called in on this order; else a 422 naming those that are not."""
    units = {u.id: u for u in db.exec(select(Unit).where(col(Unit.id).in_(unit_ids), Unit.town_id == order.town_id))}
    if missing := [i for i in unit_ids if i not in units]:
        raise RuleViolation(key="whistle.unit-not-in-town", ids=missing)
    if inactive := [i for i in unit_ids if not units[i].active]:
        raise RuleViolation(key="whistle.unit-inactive", ids=inactive)
    staffed = set(db.exec(select(Staff.unit_id).where(
        col(Staff.unit_id).in_(unit_ids), col(Staff.active), Staff.role == Role.UNIT_STAFF.value)).all())
    if unstaffed := [i for i in unit_ids if i not in staffed]:
        raise RuleViolation(key="whistle.unit-has-no-staff", ids=unstaffed)
    waited_for = set(db.exec(select(Whistle.unit_id).where(
        Whistle.order_id == order.id, not_(col(Whistle.settled)))).all())
    if already := [i for i in unit_ids if i in waited_for]:
        raise RuleViolation(key="whistle.already-whistled", ids=already)
    return [units[i] for i in unit_ids]


def load_own_whistle(db: Session, actor: Principal, whistle_id: int) -> Whistle:
    """A whistle to the caller's own unit; any other is not found."""
    whistle = db.get(Whistle, whistle_id)
    if whistle is None or actor.role != Role.UNIT_STAFF or whistle.unit_id != actor.unit_id:
        raise NotFound(key="whistle.not-found", id=whistle_id)
    return whistle


@use_case
def report_in(db: Session, actor: Principal, whistle_id: int, *, now: datetime) -> Whistle:
    """报到: the unit takes the whistle on; its reply limit starts now."""
    return _unit_move(db, actor, whistle_id, Action.REPORT_IN, now=now,
                      changes=lambda w, entered: {"reported_at": now, "reported_by_id": actor.id,
                                                  "reply_deadline": entered["stage_deadline"]})


@use_case
def reply(db: Session, actor: Principal, whistle_id: int, body: UnitReply, *, photos_per_order: int,
          now: datetime) -> Whistle:
    """回复: what the unit did, with photos; the order is rated once no unit is still at work."""
    whistle = _unit_move(db, actor, whistle_id, Action.UNIT_REPLY, now=now, note=body.note,
                         data={"photo_ids": body.photo_ids},
                         changes=lambda w, entered: {"replied_at": now, "replied_by_id": actor.id,
                                                    "reply_note": body.note})
    attach_photos(db, actor, db.get(Order, whistle.order_id), body.photo_ids, "evidence", photos_per_order)
    return whistle


@use_case
def decline(db: Session, actor: Principal, whistle_id: int, body: Reason, *, now: datetime) -> Whistle:
    """退回: not this unit's matter, with the reason; the branch hears of it."""
    return _unit_move(db, actor, whistle_id, Action.UNIT_DECLINE, now=now, note=body.reason,
                      changes=lambda w, entered: {"declined_at": now, "decline_reason": body.reason})


def _unit_move(db: Session, actor: Principal, whistle_id: int, action: Action, *, now: datetime,
               changes, note: str | None = None, data: dict[str, Any] | None = None) -> Whistle:
    whistle = load_own_whistle(db, actor, whistle_id)
    order = load_visible_order(db, actor, whistle.order_id)
    # Units answering one order at once queue on its row (FOR NO KEY UPDATE, which the
    # sweep's references to the order do not wait for) instead of losing its compare-and-set
    # to each other: every unit's answer stands, and each reads the whistles as the last left them.
    db.exec(select(Order).where(Order.id == order.id).with_for_update(key_share=True)
            .execution_options(populate_existing=True)).one()
    db.refresh(whistle)
    target = plan_whistle_move(WhistleState(whistle.state), action)
    if order.state != OrderState.WHISTLED.value:  # an open whistle's order waits for it; defensive
        raise InvalidTransition(action.value, OrderState(order.state), [], action_labels=ACTION_LABELS)
    unit = db.get(Unit, whistle.unit_id)
    # The order's compare-and-set first: moves on one order's whistles take turns on it.
    move(db, order, ORDER_SIDE[action], actor, now=now, note=note, data={
        "whistle_id": whistle.id, "unit_id": unit.id, "unit_name": unit.name, **(data or {}),
    })
    limits = town_whistle_limits(db.get(Town, order.town_id))
    entered = stage_values(target, now, limits, Urgency(whistle.urgency))
    for key, value in {**changes(whistle, entered), **entered, "state": target.value,
                       "version": whistle.version + 1}.items():
        setattr(whistle, key, value)
    db.flush()
    if target not in OPEN_WHISTLE_STATES:
        _move_on_when_done(db, order, now)
    return whistle


def _move_on_when_done(db: Session, order: Order, now: datetime) -> None:
    """Once no whistle of the order is open, the order goes to be rated or back to the branch."""
    current = db.exec(
        select(Whistle, Unit.name).join(Unit, col(Unit.id) == col(Whistle.unit_id))
        .where(Whistle.order_id == order.id, not_(col(Whistle.settled))).order_by(col(Whistle.id))
    ).all()
    result = outcome([WhistleState(w.state) for w, _ in current])
    if result is WhistleOutcome.WAITING:
        return
    if result is WhistleOutcome.REPLIED:
        replies = [(name, w.reply_note) for w, name in current if w.state == WhistleState.REPLIED.value]
        summary = "\n".join(f"{name}：{text}" for name, text in replies)[:2000]
        move(db, order, plan(OrderState.WHISTLED, Action.UNITS_DONE, Role.SYSTEM), SYSTEM, now=now,
             note=summary, changes={"completion_note": summary},
             data={"units": [name for name, _ in replies]})
    else:
        move(db, order, plan(OrderState.WHISTLED, Action.UNITS_RETURNED, Role.SYSTEM), SYSTEM, now=now,
             note="所有共建单位均已退回，请支部重新处理", changes={"assignee_id": None})
    db.execute(update(Whistle).where(col(Whistle.order_id) == order.id, not_(col(Whistle.settled)))
               .values(settled=True, next_alert_at=None).execution_options(synchronize_session=False))


def record_rating(db: Session, order: Order, stars: int) -> None:
    """The resident's stars, for the units whose replies the order was rated on (their satisfaction)."""
    db.execute(update(Whistle).where(
        col(Whistle.order_id) == order.id, col(Whistle.settled), Whistle.state == WhistleState.REPLIED.value,
        col(Whistle.rating_stars).is_(None),
    ).values(rating_stars=stars).execution_options(synchronize_session=False))
