"""揭榜: the branch's task board. A secretary posts a claimed order; members volunteer; the
secretary picks one (or, where the branch says so, the first volunteer takes it); a window
that closes with nobody taken sends it back to the secretary.

Each step is one transaction and one move on the order's timeline (`domain.transitions`):
posting, volunteering and the window's end leave the order claimed and its dispatch
limit running; taking it dispatches it to the volunteer.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from pydantic import BaseModel, Field
from sqlmodel import Session, col, select

from domain.errors import Conflict, NotPermitted, RuleViolation
from domain.roles import Role
from domain.states import OrderState
from domain.tasks import DEFAULT_WINDOW, TASK_MODE_LABELS, TaskMode, window_problem
from domain.transitions import Action, plan
from storage.models import Branch, Order, Staff, TaskVolunteer
from workflows.inputs import Strict, Text
from workflows.paging import PageRequest, fetch_page
from workflows.principal import SYSTEM, Principal
from workflows.refs import Ref, names, ref
from workflows.scope import load_visible_order, visible_orders
from workflows.transition import authorise, move
from workflows.unit import use_case


class PostTask(Strict):
    hours: int = Field(int(DEFAULT_WINDOW.total_seconds() // 3600), ge=1, le=168,
                       description="How long members may volunteer: 1 hour to 7 days; default 24.")
    note: Annotated[Text, Field(max_length=500)] | None = None


class Volunteer(Strict):
    note: Annotated[Text, Field(max_length=500)] | None = Field(None, description="What the member offers.")


@use_case
def post_task(db: Session, actor: Principal, order_id: int, body: PostTask, *, now: datetime) -> Order:
    order = load_visible_order(db, actor, order_id)
    transition = authorise(order, Action.POST_TASK, actor)
    if order.task_until is not None:
        raise Conflict(key="task.already-posted", id=order.id)
    window = timedelta(hours=body.hours)
    if problem := window_problem(window):
        raise RuleViolation(key=problem)
    until = now + window
    move(db, order, transition, actor, now=now, note=body.note, keep_stage=True, changes={"task_until": until},
         data={"task_until": until.isoformat(), "hours": body.hours})
    return order


@use_case
def volunteer(db: Session, actor: Principal, order_id: int, body: Volunteer, *, now: datetime) -> Order:
    """揭榜: the member volunteers; in a branch where the first takes it, the order is theirs."""
    order = load_visible_order(db, actor, order_id)
    transition = authorise(order, Action.VOLUNTEER, actor)
    if order.task_until is None or order.task_until <= now:
        raise Conflict(key="task.window-closed", id=order.id)
    if db.get(TaskVolunteer, (order.id, actor.id)) is not None:
        raise Conflict(key="task.volunteered", id=order.id)
    db.add(TaskVolunteer(order_id=order.id, member_id=actor.id, note=body.note, volunteered_at=now))
    branch = db.get(Branch, order.branch_id)
    if branch.task_mode == TaskMode.FIRST.value:
        transition = authorise(order, Action.TAKE_TASK, actor)
        move(db, order, transition, actor, now=now, note=body.note,
             changes={"assignee_id": actor.id, "action_team_id": None, "task_until": None},
             data={"member_id": actor.id, "member_name": actor.name})
    else:
        move(db, order, transition, actor, now=now, note=body.note, keep_stage=True)
    return order


def expire_tasks(database, *, now: datetime, batch: int = 200) -> int:
    """Take the orders whose board window has closed off their boards; how many. The worker runs it."""
    with database.session() as db:
        due = list(db.exec(select(Order.id).where(col(Order.task_until) <= now).order_by(col(Order.task_until))
                           .limit(batch)).all())
    expired = 0
    for order_id in due:
        with database.session(write=True) as db:
            expired += _expire(db, order_id, now=now)
    return expired


@use_case
def _expire(db: Session, order_id: int, *, now: datetime) -> int:
    order = db.exec(select(Order).where(Order.id == order_id).with_for_update(key_share=True)).first()
    if order is None or order.task_until is None or order.task_until > now:
        return 0  # taken, dispatched or expired meanwhile
    if order.state != OrderState.CLAIMED.value:
        order.task_until = None  # defensive: only a claimed order is on a board
        return 0
    taken = db.exec(select(TaskVolunteer.member_id).where(TaskVolunteer.order_id == order.id)).all()
    move(db, order, plan(OrderState.CLAIMED, Action.TASK_EXPIRED, Role.SYSTEM), SYSTEM, now=now, keep_stage=True,
         note="揭榜期满,请支部派单" if not taken else "揭榜期满,请从揭榜党员中选派",
         changes={"task_until": None}, data={"volunteers": len(taken)})
    return 1


# --------------------------------------------------------------------------- the board


class VolunteerView(BaseModel):
    member: Ref
    note: str | None
    volunteered_at: datetime


class TaskView(BaseModel):
    order_id: int
    category_id: int
    description: str
    grid_id: int
    urgency: str
    task_until: datetime
    mode: str
    mode_label: str
    volunteers: list[VolunteerView]
    volunteered: bool = Field(description="Whether the caller has volunteered.")


def list_tasks(db: Session, actor: Principal, page: PageRequest, *, now: datetime) -> tuple[list[TaskView], int]:
    """The branch's board: orders still open to volunteers, the window closing soonest first."""
    if actor.role not in (Role.MEMBER, Role.SECRETARY, Role.TOWN_ADMIN):
        raise NotPermitted(key="task.for-whom")
    statement = select(Order).where(visible_orders(actor), Order.state == OrderState.CLAIMED.value,
                                    col(Order.task_until) > now)
    if actor.role != Role.TOWN_ADMIN:
        statement = statement.where(Order.branch_id == actor.branch_id)
    rows, total = fetch_page(db, statement.order_by(col(Order.task_until), col(Order.id)), page)
    ids = [o.id for o in rows]
    offered = db.exec(select(TaskVolunteer).where(col(TaskVolunteer.order_id).in_(ids))
                      .order_by(col(TaskVolunteer.volunteered_at))).all() if ids else []
    people = names(db, Staff, [v.member_id for v in offered])
    modes = {b.id: TaskMode(b.task_mode) for b in db.exec(
        select(Branch).where(col(Branch.id).in_({o.branch_id for o in rows})))} if rows else {}
    views = []
    for o in rows:
        mine = [v for v in offered if v.order_id == o.id]
        views.append(TaskView(
            order_id=o.id, category_id=o.category_id, description=o.description, grid_id=o.grid_id,
            urgency=o.urgency, task_until=o.task_until, mode=modes[o.branch_id].value,
            mode_label=TASK_MODE_LABELS[modes[o.branch_id]],
            volunteers=[VolunteerView(member=ref(v.member_id, people), note=v.note, volunteered_at=v.volunteered_at)
                        for v in mine],
            volunteered=any(v.member_id == actor.id for v in mine)))
    return views, total
