"""Numbers for the town's dashboards: polled often, so a poll with an unchanged ETag gets 304."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse

from api.deps import CurrentUser, Db, Now, QueryId
from api.problems import problem_responses
from workflows import stats
from workflows.inputs import Day
from workflows.queries import StateCounts, state_counts
from workflows.stats import Daily, GridRanking, Leaderboard, OverdueList, Overview, StatsQuery

router = APIRouter(prefix="/stats", tags=["stats"], responses={
    304: {"description": "Not modified: the numbers behind the If-None-Match ETag are unchanged"},
    **problem_responses(401, 403, 404, 422),
})


def stats_query(
    date_from: Annotated[Day | None, Query(description="First day (town time); default 29 days before date_to")] = None,
    date_to: Annotated[Day | None, Query(description="Last day (town time); default today")] = None,
    branch_id: QueryId = None,
    grid_id: QueryId = None,
    category_id: QueryId = None,
    member_id: QueryId = None,
) -> StatsQuery:
    return StatsQuery(date_from, date_to, branch_id, grid_id, category_id, member_id)


Q = Annotated[StatsQuery, Depends(stats_query)]


def _answer(request: Request, db, user, now, compute: Callable[[], object]) -> Response:
    """The ETag rests on the newest move, the minute (overdue counts age) and the question."""
    version = stats.data_version(db)
    key = f"{request.url.path}?{request.url.query}|{user.kind}:{user.id}:{user.branch_id}|{version}|{now:%Y%m%d%H%M}"
    etag = f'W/"{hashlib.sha256(key.encode()).hexdigest()[:32]}"'
    headers = {"ETag": etag, "Cache-Control": "private, no-cache"}
    if etag in [t.strip() for t in request.headers.get("if-none-match", "").split(",")]:
        return Response(status_code=304, headers=headers)
    return JSONResponse(compute().model_dump(mode="json"), headers=headers)


@router.get("/overview", response_model=Overview)
def overview(request: Request, query: Q, user: CurrentUser, db: Db, now: Now) -> Response:
    """三率, counts by state, overdue now and stage times for a period and a scope."""
    return _answer(request, db, user, now, lambda: stats.overview(db, user, query, now))


@router.get("/daily", response_model=Daily)
def daily(request: Request, query: Q, user: CurrentUser, db: Db, now: Now) -> Response:
    """A day-by-day series of the period (days in the town's time zone)."""
    return _answer(request, db, user, now, lambda: stats.daily(db, user, query, now))


@router.get("/grids", response_model=GridRanking)
def grids(request: Request, query: Q, user: CurrentUser, db: Db, now: Now) -> Response:
    """Grids ranked by resolution, then satisfaction, then response rate."""
    return _answer(request, db, user, now, lambda: stats.grid_ranking(db, user, query, now))


@router.get("/leaderboard", response_model=Leaderboard)
def leaderboard(request: Request, query: Q, user: CurrentUser, db: Db, now: Now) -> Response:
    """党员积分 (晒分) of the period, highest first."""
    return _answer(request, db, user, now, lambda: stats.leaderboard(db, user, query, now))


@router.get("/overdue", response_model=OverdueList)
def overdue(
    request: Request, query: Q, user: CurrentUser, db: Db, now: Now,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> Response:
    """The most overdue open orders now, with nothing about the resident."""
    return _answer(request, db, user, now, lambda: stats.overdue_orders(db, user, query, now, limit))


@router.get("/summary")
def summary(user: CurrentUser, db: Db, now: Now) -> StateCounts:
    """Orders of the town by state (with Chinese labels) and overdue now."""
    return state_counts(db, user, now)
