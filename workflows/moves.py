"""The moves of the loop after placing: one use case per action of the table."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from domain.errors import RuleViolation
from domain.notices import CLOSED_UNSATISFIED_AUDIENCES
from domain.rating import RatingSource, closes_unsatisfied, rating_action
from domain.roles import Role
from domain.transitions import Action
from storage.models import Grid, GridWorkerGrid, Order, Staff
from workflows.action_teams import dispatch_target
from workflows.following import add_follower, original_for_duplicate, pass_followers_on
from workflows.inputs import (
    CompleteRequest, DispatchRequest, OptionalReason, RatingRequest, Reason, RejectRequest, TransferRequest,
)
from workflows.passbook import judge_attempt
from workflows.photos import attach_photos
from workflows.principal import Principal
from workflows.scope import load_visible_order
from workflows.transition import authorise, move
from workflows.unit import use_case
from workflows.whistles import record_rating


@use_case
def claim_order(db: Session, actor: Principal, order_id: int, *, now: datetime) -> Order:
    order = load_visible_order(db, actor, order_id)
    transition = authorise(order, Action.CLAIM, actor)
    move(db, order, transition, actor, now=now, changes={"claimed_by_id": actor.id})
    return order


@use_case
def transfer_order(
    db: Session, actor: Principal, order_id: int, body: TransferRequest, *, now: datetime
) -> Order:
    order = load_visible_order(db, actor, order_id)
    transition = authorise(order, Action.TRANSFER, actor)
    target = db.get(Grid, body.grid_id)
    if target is None or target.town_id != order.town_id:
        raise RuleViolation(key="transfer.grid-not-in-town", id=body.grid_id)
    if target.id == order.grid_id:
        raise RuleViolation(key="transfer.same-grid")
    served = select(GridWorkerGrid.staff_id).where(GridWorkerGrid.grid_id == target.id)
    if db.exec(select(Staff.id).where(col(Staff.id).in_(served), col(Staff.active))).first() is None:
        raise RuleViolation(key="transfer.no-grid-worker", id=target.id)
    move(
        db, order, transition, actor, now=now, note=body.reason,
        changes={"grid_id": target.id, "branch_id": target.branch_id},
        data={"from_grid_id": order.grid_id, "to_grid_id": target.id},
    )
    return order


@use_case
def reject_order(db: Session, actor: Principal, order_id: int, body: RejectRequest, *, now: datetime) -> Order:
    """不予受理; with `duplicate_of_id`, as a duplicate: its resident then follows the original."""
    order = load_visible_order(db, actor, order_id)
    transition = authorise(order, Action.REJECT, actor)
    if body.duplicate_of_id is None:
        move(db, order, transition, actor, now=now, note=body.reason)
        return order
    original = original_for_duplicate(db, actor, order, body.duplicate_of_id)
    move(db, order, transition, actor, now=now, note=body.reason, changes={"duplicate_of_id": original.id},
         data={"duplicate_of_id": original.id})
    if order.resident_id is not None and order.resident_id != original.resident_id:
        add_follower(db, original.id, order.resident_id, "duplicate", now)
    if order.follower_count:
        pass_followers_on(db, order, original, now)
    return order


@use_case
def cancel_order(
    db: Session, actor: Principal, order_id: int, body: OptionalReason, *, now: datetime
) -> Order:
    order = load_visible_order(db, actor, order_id)
    transition = authorise(order, Action.CANCEL, actor)
    move(db, order, transition, actor, now=now, note=body.reason)
    return order


@use_case
def dispatch_order(
    db: Session, actor: Principal, order_id: int, body: DispatchRequest, *, now: datetime
) -> Order:
    order = load_visible_order(db, actor, order_id)
    transition = authorise(order, Action.DISPATCH, actor)
    if body.action_team_id is not None:
        team, member = dispatch_target(db, order, body.action_team_id)
        team_data = {"action_team_id": team.id, "action_team_name": team.name}
    else:
        team, member, team_data = None, db.get(Staff, body.member_id), {}
        if (
            member is None
            or member.role != Role.MEMBER.value
            or member.branch_id != order.branch_id
            or not member.active
        ):
            raise RuleViolation(key="dispatch.not-a-member", id=body.member_id)
    move(
        db, order, transition, actor, now=now, note=body.note,
        changes={"assignee_id": member.id, "action_team_id": team.id if team else None},
        data={"member_id": member.id, "member_name": member.name, **team_data},
    )
    return order


@use_case
def accept_order(db: Session, actor: Principal, order_id: int, *, now: datetime) -> Order:
    order = load_visible_order(db, actor, order_id)
    transition = authorise(order, Action.ACCEPT, actor)
    move(db, order, transition, actor, now=now)
    return order


@use_case
def decline_order(db: Session, actor: Principal, order_id: int, body: Reason, *, now: datetime) -> Order:
    order = load_visible_order(db, actor, order_id)
    transition = authorise(order, Action.DECLINE, actor)
    move(db, order, transition, actor, now=now, note=body.reason,
         changes={"assignee_id": None, "action_team_id": None})
    return order


@use_case
def complete_order(
    db: Session, actor: Principal, order_id: int, body: CompleteRequest, *, photos_per_order: int,
    now: datetime,
) -> Order:
    order = load_visible_order(db, actor, order_id)
    transition = authorise(order, Action.COMPLETE, actor)
    # The move first: its compare-and-set decides which of two racing completions stands,
    # so the other is refused for the state and never for photos the first one took.
    move(
        db, order, transition, actor, now=now, note=body.note,
        changes={"completion_note": body.note}, data={"photo_ids": body.photo_ids},
    )
    attach_photos(db, actor, order, body.photo_ids, "evidence", photos_per_order)
    return order


@use_case
def rate_order(db: Session, actor: Principal, order_id: int, body: RatingRequest, *, now: datetime) -> Order:
    """群众评单; a grid worker records the stars of a callback (回访) for orders taken on visits."""
    order = load_visible_order(db, actor, order_id)
    authorise(order, Action.RATE, actor)  # who may rate, before the stars decide the move
    source = RatingSource.CALLBACK if actor.role == Role.GRID_WORKER else RatingSource.RESIDENT
    action = rating_action(body.stars, order.reopen_count)
    transition = authorise(order, action, actor)
    rating = {
        "rating_stars": body.stars,
        "rating_comment": body.comment,
        "rating_source": source.value,
    }
    data = {"stars": body.stars, "comment": body.comment, "source": source.value}
    if order.assignee_id is None:  # completed by the units it was whistled to: their rating too
        record_rating(db, order, body.stars)
    member = order.assignee_id  # whose attempt the stars judge (积分存折)
    if action == Action.REOPEN:
        changes = {**rating, "reopen_count": order.reopen_count + 1, "assignee_id": None,
                   "action_team_id": None}
        event_id = move(db, order, transition, actor, now=now, note=body.comment, changes=changes, data=data)
        judge_attempt(db, order, member, event_id, stars=body.stars, by_default=False, now=now)
        return order
    extra = ()
    if closes_unsatisfied(body.stars, order.reopen_count):
        data["unsatisfied"] = True
        extra = (("order.closed_unsatisfied", CLOSED_UNSATISFIED_AUDIENCES),)
    event_id = move(
        db, order, transition, actor, now=now, note=body.comment,
        changes={**rating, "closed_at": now}, data=data, extra_notices=extra,
    )
    judge_attempt(db, order, member, event_id, stars=body.stars, by_default=False, now=now)
    return order
