"""The five-order loop over HTTP: place, list, read, and one POST per move."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Header, Query, Request, Response

from api.deps import AppSettings, Db, Now, Paging, PathId, Person, QueryBool, QueryId
from api.problems import problem_responses
from api.routes.photos import Links
from api.routing import api_router
from domain.states import OrderState
from workflows import following, moves, queries
from workflows.following import FollowRequest, NearbyAnswer, nearby_orders
from workflows.dispatch_suggestions import DispatchSuggestions, dispatch_suggestions
from workflows.inputs import (
    CompleteRequest, DispatchRequest, OptionalReason, OrderDraft, RatingRequest, Reason, RejectRequest,
    TransferRequest,
)
from workflows.placing import PlacementLimits, place_order
from workflows.queries import OrderFilters, OrderPage
from workflows.views import OrderDetail, order_detail

router = api_router(prefix="/orders", tags=["orders"])


def detail_for(db, user, now, links):
    """The answer of a move: the order as the caller sees it, read in the move's own transaction."""
    return lambda order: order_detail(db, order, user, now, links)

MOVE_ERRORS = problem_responses(401, 403, 404, 409, 422)
# A body that cannot be read at all (not UTF-8, say) is 400; one that reads but is wrong is 422.
MOVE_WITH_BODY_ERRORS = problem_responses(401, 403, 404, 409, body=True)
IdempotencyKey = Annotated[
    str | None,
    Header(
        max_length=200, pattern=r"^[\x21-\x7e]+$",
        description="Repeat a placement safely: the same key returns the same order.",
    ),
]


@router.post("", status_code=201, responses=problem_responses(401, 403, 429, body=True))
def place(
    draft: OrderDraft, user: Person, db: Db, now: Now, settings: AppSettings, links: Links, request: Request,
    response: Response, idempotency_key: IdempotencyKey = None,
) -> OrderDetail:
    """群众点单. Residents place for themselves; grid workers and members on a resident's behalf.

    429 (with `Retry-After`) past `ORDERS_PER_HOUR_PER_RESIDENT` (or `_PER_STAFF`) orders
    of the caller, or `ORDERS_PER_HOUR_PER_ADDRESS` from the caller's address, this hour.
    A replay of an Idempotency-Key is not a new order and is not counted.
    """
    limits = PlacementLimits(
        per_resident=settings.orders_per_hour_per_resident, per_staff=settings.orders_per_hour_per_staff,
        per_address=settings.orders_per_hour_per_address,
        address=request.client.host if request.client else "unknown",
    )
    placed = place_order(
        db, user, draft, idempotency_key=idempotency_key,
        photos_per_order=settings.photos_per_order, now=now, limits=limits,
        answer=detail_for(db, user, now, links),
    )
    if placed.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return placed.answer


@router.get("", responses=problem_responses(401, 403, 422))
def list_orders(
    user: Person, db: Db, now: Now, page: Paging,
    state: Annotated[list[OrderState] | None, Query()] = None,
    grid_id: QueryId = None,
    category_id: QueryId = None,
    assignee_id: QueryId = None,
    overdue: QueryBool | None = None,
    sort: Literal["newest", "oldest", "deadline"] = "newest",
) -> OrderPage:
    """Orders the caller may see: own (resident), served grids, branch, assigned, or the town."""
    filters = OrderFilters(state, grid_id, category_id, assignee_id, overdue, sort)
    return queries.list_orders(db, user, filters, page, now)


@router.get("/todo", responses=problem_responses(401, 403, 422))
def todo(user: Person, db: Db, now: Now, page: Paging) -> OrderPage:
    """What waits on the caller, most overdue first: to claim, to dispatch, to handle, to rate."""
    return queries.todo_orders(db, user, page, now)


@router.get("/nearby", responses=problem_responses(401, 403, 422))
def nearby(
    user: Person, db: Db, now: Now, category_id: Annotated[int, Query(ge=1, le=2**31 - 1)],
    latitude: Annotated[float, Query(ge=-90, le=90)], longitude: Annotated[float, Query(ge=-180, le=180)],
) -> NearbyAnswer:
    """Before placing: open orders of the category near the point, placed lately, nearest first.

    The town sets how near and how recent (`nearby_radius_m`, `nearby_days`). A resident
    may follow one (`POST /orders/{id}/follow`) instead of placing the same order again.
    """
    return nearby_orders(db, user, category_id, latitude, longitude, now=now)


@router.get("/{order_id}", responses=problem_responses(401, 403, 404, 422))
def get_order(order_id: PathId, user: Person, db: Db, now: Now, links: Links) -> OrderDetail:
    """One order with its photos and timeline (Chinese labels included)."""
    return queries.get_order(db, user, order_id, now, links)


@router.post("/{order_id}/claim", responses=MOVE_ERRORS)
def claim(order_id: PathId, user: Person, db: Db, now: Now, links: Links) -> OrderDetail:
    """网格领单: a grid worker of the order's grid claims it."""
    return moves.claim_order(db, user, order_id, now=now, answer=detail_for(db, user, now, links))


@router.post("/{order_id}/transfer", responses=MOVE_WITH_BODY_ERRORS)
def transfer(order_id: PathId, body: TransferRequest, user: Person, db: Db, now: Now, links: Links) -> OrderDetail:
    """Send an unclaimed order to the grid it really belongs to."""
    return moves.transfer_order(db, user, order_id, body, now=now, answer=detail_for(db, user, now, links))


@router.post("/{order_id}/reject", responses=MOVE_WITH_BODY_ERRORS)
def reject(order_id: PathId, body: RejectRequest, user: Person, db: Db, now: Now, links: Links) -> OrderDetail:
    """不予受理: refuse with a reason (duplicate, out of scope, not actionable)."""
    return moves.reject_order(db, user, order_id, body, now=now, answer=detail_for(db, user, now, links))


@router.post("/{order_id}/cancel", responses=MOVE_WITH_BODY_ERRORS)
def cancel(
    order_id: PathId, user: Person, db: Db, now: Now, links: Links, body: OptionalReason | None = None,
) -> OrderDetail:
    """撤单: the resident withdraws an order not yet dispatched."""
    return moves.cancel_order(db, user, order_id, body or OptionalReason(), now=now,
                              answer=detail_for(db, user, now, links))


@router.post("/{order_id}/follow", responses=problem_responses(401, 403, 422, body=True))
def follow(order_id: PathId, body: FollowRequest, user: Person, db: Db, now: Now, links: Links) -> OrderDetail:
    """"Me too": follow another resident's open order from near it; read-only, told of every move."""
    return following.follow_order(db, user, order_id, body, now=now, answer=detail_for(db, user, now, links))


@router.delete("/{order_id}/follow", status_code=204, responses=problem_responses(401, 403, 422))
def unfollow(order_id: PathId, user: Person, db: Db, now: Now) -> Response:
    following.unfollow_order(db, user, order_id, now=now)
    return Response(status_code=204)


@router.get("/{order_id}/dispatch-suggestions", responses=MOVE_ERRORS)
def suggest_dispatch(order_id: PathId, user: Person, db: Db, now: Now) -> DispatchSuggestions:
    """派单建议: the branch's members for this claimed order, best first, each with the reasons behind its score
    (paired with the order's household, leads its building's party group, workload now, the last 90 days)."""
    return dispatch_suggestions(db, user, order_id, now=now)


@router.post("/{order_id}/dispatch", responses=MOVE_WITH_BODY_ERRORS)
def dispatch(order_id: PathId, body: DispatchRequest, user: Person, db: Db, now: Now, links: Links) -> OrderDetail:
    """支部派单: the branch secretary assigns a member of the branch."""
    return moves.dispatch_order(db, user, order_id, body, now=now, answer=detail_for(db, user, now, links))


@router.post("/{order_id}/accept", responses=MOVE_ERRORS)
def accept(order_id: PathId, user: Person, db: Db, now: Now, links: Links) -> OrderDetail:
    """党员接单: the assigned member takes it on."""
    return moves.accept_order(db, user, order_id, now=now, answer=detail_for(db, user, now, links))


@router.post("/{order_id}/decline", responses=MOVE_WITH_BODY_ERRORS)
def decline(order_id: PathId, body: Reason, user: Person, db: Db, now: Now, links: Links) -> OrderDetail:
    """The assigned member hands it back to the secretary, with a reason."""
    return moves.decline_order(db, user, order_id, body, now=now, answer=detail_for(db, user, now, links))


@router.post("/{order_id}/complete", responses=MOVE_WITH_BODY_ERRORS)
def complete(
    order_id: PathId, body: CompleteRequest, user: Person, db: Db, now: Now, settings: AppSettings, links: Links,
) -> OrderDetail:
    """党员晒单: a note and at least one evidence photo (upload them to /photos first)."""
    return moves.complete_order(
        db, user, order_id, body, photos_per_order=settings.photos_per_order, now=now,
        answer=detail_for(db, user, now, links),
    )


@router.post("/{order_id}/rate", responses=MOVE_WITH_BODY_ERRORS)
def rate(order_id: PathId, body: RatingRequest, user: Person, db: Db, now: Now, links: Links) -> OrderDetail:
    """群众评单: 1-2 stars send it back round (at most twice); a grid worker records a callback."""
    return moves.rate_order(db, user, order_id, body, now=now, answer=detail_for(db, user, now, links))
