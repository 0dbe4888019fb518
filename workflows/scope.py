"""What each principal may see. A row outside scope is reported as not found."""

from __future__ import annotations

from sqlalchemy import ColumnElement, false, or_, union_all
from sqlmodel import Session, col, select

from domain.errors import NotFound
from domain.roles import Role
from storage.models import ActionTeam, ActionTeamWorthy, Category, Grid, Order, OrderFollower, Whistle
from workflows.principal import Principal


def visible_orders(actor: Principal) -> ColumnElement[bool]:
    """Orders this person may read; a dashboard token reads numbers, never residents' orders."""
    placed_by_me = col(Order.placed_by_staff_id) == actor.id
    match actor.role:
        case Role.RESIDENT:
            followed = select(OrderFollower.order_id).where(OrderFollower.resident_id == actor.id)
            return or_(col(Order.resident_id) == actor.id, col(Order.id).in_(followed))
        case Role.GRID_WORKER:
            return or_(col(Order.grid_id).in_(sorted(actor.grid_ids)), placed_by_me, _my_action_teams(actor))
        case Role.SECRETARY:
            return or_(col(Order.branch_id) == actor.branch_id, placed_by_me)
        case Role.MEMBER:
            on_my_board = (col(Order.branch_id) == actor.branch_id) & col(Order.task_until).is_not(None)
            return or_(col(Order.assignee_id) == actor.id, placed_by_me, _my_action_teams(actor), on_my_board)
        case Role.TOWN_ADMIN:
            return col(Order.town_id) == actor.town_id
        case Role.CITY_PLATFORM:
            return col(Order.open311_client_id) == actor.id
        case Role.UNIT_STAFF if actor.unit_id is not None:
            # A unit sees only the orders whistled to it (吹哨报到), and keeps seeing them after.
            return col(Order.id).in_(select(Whistle.order_id).where(Whistle.unit_id == actor.unit_id))
    return false()


def _my_action_teams(actor: Principal) -> ColumnElement[bool]:
    """Orders dispatched to an action team (行动队) the person is the cadre or a worthy of."""
    return col(Order.action_team_id).in_(union_all(
        select(ActionTeam.id).where(ActionTeam.cadre_id == actor.id),
        select(ActionTeamWorthy.team_id).where(ActionTeamWorthy.staff_id == actor.id)))


def load_visible_order(db: Session, actor: Principal, order_id: int) -> Order:
    """The order, if this person may see it; its category comes along into the session (a move needs it)."""
    found = db.exec(
        select(Order, Category).join(Category, col(Category.id) == col(Order.category_id))
        .where(Order.id == order_id, visible_orders(actor))
    ).first()
    if found is None:
        raise NotFound(key="order.not-found", id=order_id)
    order, category = found
    # The session's identity map holds rows weakly: without this reference the category
    # would be gone again by the time the move asks for it (`category_of`).
    db.info.setdefault(CATEGORIES_KEY, {})[category.id] = category
    return order


CATEGORIES_KEY = "wudan.categories"


def category_of(db: Session, order: Order) -> Category:
    """The order's category: the one loaded with the order, else read now."""
    known = db.info.setdefault(CATEGORIES_KEY, {})
    category = known.get(order.category_id)
    if category is None:
        category = known[order.category_id] = db.get(Category, order.category_id)
    return category


def grids_actor_may_place_for(db: Session, actor: Principal) -> ColumnElement[bool]:
    """Grids a staff member may place an order for on a resident's behalf (代点单)."""
    if actor.role == Role.GRID_WORKER:
        return col(Grid.id).in_(sorted(actor.grid_ids))
    if actor.role == Role.MEMBER:
        return col(Grid.branch_id) == actor.branch_id
    if actor.role == Role.CITY_PLATFORM:  # routed by location, to any grid of its town
        return col(Grid.town_id) == actor.town_id
    return false()
