"""Apply one move of the table to a stored order: compare-and-set, event, outbox."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, select

from domain.alerts import first_alert_at
from domain.deadlines import STAGE_OF_STATE, StageLimits, stage_deadline
from domain.errors import InvalidTransition, NotPermitted, StaleOrder
from domain.notices import Audience, audiences, notice_kind
from domain.roles import Role
from domain.states import OrderState, Urgency
from domain.transitions import ACTION_LABELS, Action, Transition, allowed_actions, plan, roles_for
from storage.models import Category, Order, OrderEvent, OrderFollower, OutboxMessage
from workflows.principal import Principal
from workflows.scope import category_of
from workflows.unit import MOVES_KEY


def category_limits(category: Category) -> StageLimits:
    return StageLimits(
        claim=category.claim_minutes,
        dispatch=category.dispatch_minutes,
        accept=category.accept_minutes,
        complete=category.complete_minutes,
        complete_urgent=category.complete_urgent_minutes,
        rate=category.rate_minutes,
    )


def stage_stamps(state: OrderState, now: datetime, category: Category, urgency: Urgency) -> dict[str, Any]:
    """What entering `state` at `now` writes: its start, deadline and first alert time."""
    limits = category_limits(category)
    stage = STAGE_OF_STATE.get(state)
    limit = limits.minutes(stage, urgency) if stage else 0
    return {
        "stage_entered_at": now,
        "stage_deadline": stage_deadline(state, now, limits, urgency),
        "next_alert_at": first_alert_at(stage, now, limit),
    }


TASK_ACTIONS = frozenset({Action.VOLUNTEER, Action.TAKE_TASK})


def responsibility_gap(order: Order, action: Action, actor: Principal) -> str | None:
    """Why this person, though of the right role, may not act on this order (None if they may).

    The table says which role acts; this says which person of that role: the grid worker
    of the order's grid, the secretary of its branch, the member it is dispatched to,
    the resident who placed it.
    """
    match actor.role:
        case Role.GRID_WORKER:
            if order.grid_id not in actor.grid_ids:
                return "only a grid worker of the order's grid may do this"
            # The resident rates their own order; one taken for them (by staff or a city platform) is called back.
            if action in (Action.RATE, Action.REOPEN) and order.placed_by_staff_id is None \
                    and getattr(order, "open311_client_id", None) is None:
                return "this order is rated by the resident who placed it"
        case Role.SECRETARY if order.branch_id != actor.branch_id:
            return "only the secretary of the order's branch may do this"
        case Role.MEMBER if action in TASK_ACTIONS:
            if order.branch_id != actor.branch_id or getattr(order, "task_until", None) is None:
                return "only a member of the order's branch may volunteer, while it is on the task board"
        case Role.MEMBER if order.assignee_id != actor.id:
            return "only the member the order is dispatched to may do this"
        case Role.RESIDENT if order.resident_id != actor.id:
            return "only the resident who placed the order may do this"
    return None


def authorise(order: Order, action: Action, actor: Principal) -> Transition:
    """The move `actor` may make, or NotPermitted (wrong role or person) / InvalidTransition.

    A refusal's `allowed_actions` are what this person may do now, as in the order's view.
    """
    if actor.role in roles_for(action):
        gap = responsibility_gap(order, action, actor)
        if gap:
            raise NotPermitted(gap)
    try:
        return plan(OrderState(order.state), action, actor.role)
    except InvalidTransition as refused:
        raise InvalidTransition(refused.action, refused.state, actions_open_to(order, actor),
                                action_labels=ACTION_LABELS) from None


def actions_open_to(order: Order, actor: Principal) -> list[str]:
    """What this person may do to this order now: what the mini-program shows as buttons."""
    return [
        name
        for name in allowed_actions(OrderState(order.state), actor.role)
        if responsibility_gap(order, Action(name), actor) is None
    ]


def move(
    db: Session,
    order: Order,
    transition: Transition,
    actor: Principal,
    *,
    now: datetime,
    changes: dict[str, Any] | None = None,
    note: str | None = None,
    data: dict[str, Any] | None = None,
    extra_notices: tuple[tuple[str, tuple[Audience, ...]], ...] = (),
    keep_stage: bool = False,
) -> int:
    """Move `order` along `transition`, or refuse with the state it is really in.

    The UPDATE matches the version the caller read, so of many concurrent movers
    exactly one changes the row; the others see the current state in their 409. The
    event keeps where the order was and is, for the stats projection to count. Entering
    a state starts its stage's limit, unless `keep_stage` (a move within the stage).
    Returns the event's id.
    """
    category = category_of(db, order)
    assert category is not None
    before = {
        "prev_branch_id": order.branch_id, "prev_grid_id": order.grid_id, "prev_assignee_id": order.assignee_id,
        "stage_started_at": order.stage_entered_at, "stage_deadline": order.stage_deadline,
    }
    values: dict[str, Any] = dict(changes or {})
    values.update(state=transition.target.value, version=order.version + 1, updated_at=now)
    if not keep_stage:  # a move within a stage (揭榜 on a claimed order) leaves its limit running
        values.update(stage_stamps(transition.target, now, category, Urgency(order.urgency)))
    if transition.target != OrderState.CLAIMED and getattr(order, "task_until", None) is not None:
        values["task_until"] = None  # only a claimed order is on a task board
    conn = db.connection()
    result = conn.execute(_COMPARE_AND_SET.values(**values), {"order_id": order.id, "read_version": order.version})
    if result.rowcount != 1:
        _refuse_stale(db, order, actor)
    for key, value in values.items():
        set_committed_value(order, key, value)

    event_id = insert_event(db, {
        "order_id": order.id,
        "action": transition.action.value,
        "from_state": transition.source.value if transition.source else None,
        "to_state": transition.target.value,
        "actor_role": actor.role.value,
        "actor_id": actor.id if actor.role != Role.SYSTEM else None,
        "actor_name": actor.name,
        "note": note,
        "data": data or {},
        "created_at": now,
        "branch_id": order.branch_id,
        "grid_id": order.grid_id,
        "assignee_id": order.assignee_id,
        **before,
    })
    db.info.setdefault(MOVES_KEY, []).append(transition.action.value)
    notices = ((notice_kind(transition.action), audiences(transition.source, transition.action)),)
    write_outbox(db, order, category, event_id, transition.action, note, notices + extra_notices,
                 before["prev_assignee_id"], now)
    return event_id


# A move's writes are Core statements on the session's connection, built once: the ORM's
# unit of work would cost more Python per move than the database spends on them.
_orders, _events, _outbox = Order.__table__, OrderEvent.__table__, OutboxMessage.__table__
_COMPARE_AND_SET = update(_orders).where(_orders.c.id == bindparam("order_id"),
                                         _orders.c.version == bindparam("read_version"))
_INSERT_EVENT = insert(_events).returning(_events.c.id)
_INSERT_OUTBOX = insert(_outbox)


def insert_event(db: Session, values: dict[str, Any]) -> int:
    """Write one `OrderEvent` row in the session's transaction; its id."""
    return db.connection().execute(_INSERT_EVENT, values).scalar_one()


def _refuse_stale(db: Session, order: Order, actor: Principal) -> None:
    """Another move got in first. The use case runs again (`workflows.unit.retrying`) and
    decides afresh from the state the winner left, so the answer names that state."""
    db.refresh(order)
    raise StaleOrder(
        f"order {order.id} changed while this request ran; read it again and retry",
        OrderState(order.state), actions_open_to(order, actor),
    )


def write_outbox(
    db: Session,
    order: Order,
    category: Category,
    event_id: int,
    action: Action,
    note: str | None,
    notices: tuple[tuple[str, tuple[Audience, ...]], ...],
    previous_assignee: int | None,
    now: datetime,
) -> None:
    """The outbox rows of one event, in one INSERT."""
    payload = {"action": action.value, "action_label": ACTION_LABELS[action], "note": note}
    pending = {"event_id": event_id, "status": "pending", "attempts": 0, "next_attempt_at": now, "created_at": now}
    rows = []
    followers: list[int] | None = None
    for kind, audience_list in notices:
        for audience in audience_list:
            values = notice_values(order, category, kind, audience, payload, previous_assignee=previous_assignee)
            if values is not None:
                rows.append({**values, **pending})
            if audience == Audience.RESIDENT and getattr(order, "follower_count", 0):
                # What the resident hears, each follower hears too, on their own channels.
                if followers is None:
                    followers = list(db.exec(select(OrderFollower.resident_id).where(
                        OrderFollower.order_id == order.id).order_by(col(OrderFollower.resident_id))).all())
                for resident_id in followers:
                    told = notice_values(order, category, kind, audience, {**payload, "following": True},
                                         audience_id=resident_id)
                    rows.append({**told, **pending})
    if rows:
        db.connection().execute(_INSERT_OUTBOX, rows)


def write_notice(
    db: Session, order: Order, kind: str, audience: Audience, extra: dict[str, Any], now: datetime,
    *, event_id: int | None = None, previous_assignee: int | None = None,
) -> OutboxMessage | None:
    """One outbox row telling `audience` about `order`; None when nobody is there to tell."""
    values = notice_values(order, db.get(Category, order.category_id), kind, audience, extra,
                           previous_assignee=previous_assignee)
    if values is None:
        return None
    message = OutboxMessage(**values, event_id=event_id, next_attempt_at=now, created_at=now)
    db.add(message)
    return message


def notice_values(
    order, category: Category | None, kind: str, audience: Audience, extra: dict[str, Any],
    *, previous_assignee: int | None = None, audience_id: int | None = None,
) -> dict[str, Any] | None:
    """The outbox row of a notice, less its ids and times; None when nobody is there to tell.

    `order` is an `Order` or a row with its columns (the sweep reads batches as rows).
    `audience_id` names who, where the order does not (the unit of a whistle).
    """
    audience_id = audience_id if audience_id is not None else _audience_id(order, audience, previous_assignee)
    if audience_id is None:
        return None
    state = OrderState(order.state)
    return {
        "order_id": order.id,
        "kind": kind,
        "audience": audience.value,
        "audience_id": audience_id,
        "payload": {
            "order_id": order.id,
            "state": state.value,
            "state_label": state.label,
            "category": category.name if category else "",
            "summary": order.description[:40],
            "grid_id": order.grid_id,
            "branch_id": order.branch_id,
            **extra,
        },
    }


def _audience_id(order: Order, audience: Audience, previous_assignee: int | None) -> int | None:
    match audience:
        case Audience.RESIDENT:
            return order.resident_id
        case Audience.GRID_WORKERS:
            return order.grid_id
        case Audience.BRANCH_SECRETARIES | Audience.BRANCH_MEMBERS:
            return order.branch_id
        case Audience.ASSIGNEE:
            return order.assignee_id or previous_assignee
        case Audience.TOWN_ADMINS:
            return order.town_id
        case Audience.HOUSEHOLD_CARERS:
            return getattr(order, "household_id", None)
        case Audience.ACTION_TEAM:
            return getattr(order, "action_team_id", None)
    return None
