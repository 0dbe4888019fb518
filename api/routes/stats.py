"""Numbers for the town's dashboards: polled often, so a poll with an unchanged ETag gets 304."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlmodel import Session

from api.deps import CurrentUser, Db, Now, PageSize, QueryId
from api.problems import problem_responses
from api.routing import api_router
from storage.engine import Database
from workflows import stats
from workflows.household_stats import HouseholdStats, household_stats
from workflows.whistle_stats import UnitStats, unit_stats
from workflows.channel_stats import ChannelStats, channel_stats
from workflows.visit_stats import VisitStats, visit_stats
from workflows.hall_stats import HallStats, hall_stats
from workflows.building_stats import BuildingStats, building_stats
from workflows.action_team_stats import ActionTeamStats, action_team_stats
from workflows.stars import StarGrades, star_grades
from workflows.programme_stats import ProgrammeStats, programme_stats
from workflows.hot_spots import HotSpots
from workflows.hot_spots import hot_spots as hot_spot_counts
from domain.places import DEFAULT_CELL_M
from workflows.inputs import DAYS, Day
from workflows.principal import Principal
from workflows.queries import StateCounts, state_counts
from workflows.stats import Daily, GridRanking, Leaderboard, OverdueList, Overview, StatsQuery

router = api_router(prefix="/stats", tags=["stats"], responses={
    304: {"description": "Not modified: the numbers behind the If-None-Match ETag are unchanged"},
    **problem_responses(401, 403, 404, 422),
})


# The period every dated answer counts: town days.
DateFrom = Annotated[Day | None, Query(
    description=f"First day (YYYY-MM-DD, town time, {DAYS}); default 29 days before date_to")]
DateTo = Annotated[Day | None, Query(description=f"Last day (YYYY-MM-DD, town time, {DAYS}); default today")]


async def stats_query(
    date_from: DateFrom = None,
    date_to: DateTo = None,
    branch_id: QueryId = None,
    grid_id: QueryId = None,
    category_id: QueryId = None,
    member_id: QueryId = None,
) -> StatsQuery:
    return StatsQuery(date_from, date_to, branch_id, grid_id, category_id, member_id)


Q = Annotated[StatsQuery, Depends(stats_query)]


async def _answer(request: Request, user: Principal, now: datetime, compute: Callable[[Session], BaseModel]) -> Response:
    # One hand-off to the thread pool for all the database work; an unchanged poll
    # (the common case) stops after one indexed lookup.
    return await run_in_threadpool(
        _answer_in_thread, request.app.state.db, f"{request.url.path}?{request.url.query}",
        request.headers.get("if-none-match", ""), user, now, compute,
    )


def _answer_in_thread(
    database: Database, question: str, if_none_match: str, user: Principal, now: datetime,
    compute: Callable[[Session], BaseModel],
) -> Response:
    """The ETag rests on the projection's cursor, the minute (overdue counts age) and the question.

    Read outside a transaction: every number is read from what the projection last
    committed, and an unchanged poll costs one primary-key read and nothing else.
    """
    with database.reader() as db:
        version = stats.data_version(db)
        key = f"{question}|{user.kind}:{user.id}:{user.branch_id}|{version}|{now:%Y%m%d%H%M}"
        etag, headers = _etag(key)
        if _unchanged(etag, if_none_match):
            return Response(status_code=304, headers=headers)
        body = compute(db).model_dump(mode="json")
    return JSONResponse(body, headers=headers)


def _etag(key: str) -> tuple[str, dict[str, str]]:
    """The weak ETag of `key`, and the headers every stats answer carries with it."""
    etag = f'W/"{hashlib.sha256(key.encode()).hexdigest()[:32]}"'
    return etag, {"ETag": etag, "Cache-Control": "private, no-cache"}


def _unchanged(etag: str, if_none_match: str) -> bool:
    return etag in [t.strip() for t in if_none_match.split(",")]


@router.get("/overview", response_model=Overview)
async def overview(request: Request, query: Q, user: CurrentUser, now: Now) -> Response:
    """三率, counts by state, overdue now and stage times for a period and a scope."""
    return await _answer(request, user, now, lambda db: stats.overview(db, user, query, now))


@router.get("/daily", response_model=Daily)
async def daily(request: Request, query: Q, user: CurrentUser, now: Now) -> Response:
    """A day-by-day series of the period (days in the town's time zone)."""
    return await _answer(request, user, now, lambda db: stats.daily(db, user, query, now))


@router.get("/grids", response_model=GridRanking)
async def grids(request: Request, query: Q, user: CurrentUser, now: Now) -> Response:
    """Grids ranked by resolution, then satisfaction, then response rate."""
    return await _answer(request, user, now, lambda db: stats.grid_ranking(db, user, query, now))


@router.get("/leaderboard", response_model=Leaderboard)
async def leaderboard(request: Request, query: Q, user: CurrentUser, now: Now) -> Response:
    """党员积分 (晒分) of the period, highest first: sums of the passbook's entries, read as they are."""
    return await _answer_from_rows(request, lambda db: stats.leaderboard(db, user, query, now))


@router.get("/hot-spots", response_model=HotSpots)
async def hot_spots(
    request: Request, query: Q, user: CurrentUser, now: Now,
    cell_m: Annotated[int, Query(ge=50, le=5000, description="Side of a map cell, metres.")] = DEFAULT_CELL_M,
) -> Response:
    """Where the period's orders were placed: by grid (with the grids' outlines) and by map cell."""
    return await _answer_from_rows(request, lambda db: hot_spot_counts(db, user, query, now, cell_m))


@router.get("/overdue", response_model=OverdueList)
async def overdue(
    request: Request, query: Q, user: CurrentUser, now: Now,
    limit: Annotated[PageSize, Query()] = 20,
) -> Response:
    """The most overdue open orders now, with nothing about the resident."""
    return await _answer(request, user, now, lambda db: stats.overdue_orders(db, user, query, now, limit))


async def _answer_from_rows(request: Request, compute: Callable[[Session], BaseModel]) -> Response:
    return await run_in_threadpool(_from_rows_in_thread, request.app.state.db,
                                   request.headers.get("if-none-match", ""), compute)


def _from_rows_in_thread(database: Database, if_none_match: str, compute: Callable[[Session], BaseModel]) -> Response:
    """For numbers counted from the rows as they are (no projection behind them): the ETag is
    the answer's own digest, so a poll reads but an unchanged answer is not sent again."""
    with database.reader() as db:
        body = compute(db).model_dump(mode="json")
    numbers = {key: value for key, value in body.items() if key != "as_of"}  # the reading time is not a change
    etag, headers = _etag(json.dumps(numbers, sort_keys=True))
    if _unchanged(etag, if_none_match):
        return Response(status_code=304, headers=headers)
    return JSONResponse(body, headers=headers)


@router.get("/households", response_model=HouseholdStats)
async def households(request: Request, user: CurrentUser, now: Now, branch_id: QueryId = None,
                     grid_id: QueryId = None) -> Response:
    """Households recorded per grid, 党员联户 and the 联户覆盖率, 党员中心户, buildings, households by flag."""
    return await _answer_from_rows(
        request, lambda db: household_stats(db, user, branch_id=branch_id, grid_id=grid_id, now=now))


@router.get("/units", response_model=UnitStats)
async def units(request: Request, user: CurrentUser, now: Now,
                date_from: DateFrom = None, date_to: DateTo = None,
                branch_id: QueryId = None) -> Response:
    """吹哨报到 per co-building unit: times whistled and reported in, 报到及时率, 办结率, satisfaction."""
    query = StatsQuery(date_from, date_to, branch_id)
    return await _answer_from_rows(request, lambda db: unit_stats(db, user, query, now))


@router.get("/visits", response_model=VisitStats)
async def visits(request: Request, user: CurrentUser, now: Now,
                 date_from: DateFrom = None, date_to: DateTo = None,
                 branch_id: QueryId = None, grid_id: QueryId = None, team_id: QueryId = None) -> Response:
    """驻点直联 in all and per team: households, households visited, 走访率, visits, needs collected and solved."""
    query = StatsQuery(date_from, date_to, branch_id, grid_id)
    return await _answer_from_rows(request, lambda db: visit_stats(db, user, query, now, team_id=team_id))


@router.get("/halls", response_model=HallStats)
async def hall_numbers(request: Request, user: CurrentUser, now: Now,
                       date_from: DateFrom = None, date_to: DateTo = None,
                       branch_id: QueryId = None) -> Response:
    """群众说事厅 in all and per hall: 接访 and 下访 held, matters said, settled on the spot, solved."""
    query = StatsQuery(date_from, date_to, branch_id)
    return await _answer_from_rows(request, lambda db: hall_stats(db, user, query, now))


@router.get("/buildings", response_model=BuildingStats)
async def buildings(request: Request, user: CurrentUser, now: Now,
                    date_from: DateFrom = None, date_to: DateTo = None,
                    branch_id: QueryId = None, grid_id: QueryId = None) -> Response:
    """By building group (楼栋党小组): households, 党员联户, and its households' orders: placed, 办结率, satisfaction."""
    query = StatsQuery(date_from, date_to, branch_id, grid_id)
    return await _answer_from_rows(request, lambda db: building_stats(db, user, query, now))


@router.get("/action-teams", response_model=ActionTeamStats)
async def action_team_numbers(request: Request, user: CurrentUser, now: Now,
                              date_from: DateFrom = None, date_to: DateTo = None,
                              branch_id: QueryId = None) -> Response:
    """By action team (行动队): orders placed in the period that the team holds, open, closed, 办结率, satisfaction."""
    query = StatsQuery(date_from, date_to, branch_id)
    return await _answer_from_rows(request, lambda db: action_team_stats(db, user, query, now))


@router.get("/stars", response_model=StarGrades)
async def stars(request: Request, user: CurrentUser, now: Now, date_from: DateFrom = None, date_to: DateTo = None,
                branch_id: QueryId = None) -> Response:
    """Star grades of the period (a month for the monthly 晒分): members' 先锋指数 and stars, branches' scores."""
    query = StatsQuery(date_from, date_to, branch_id)
    return await _answer_from_rows(request, lambda db: star_grades(db, user, query, now))


@router.get("/programmes", response_model=ProgrammeStats)
async def programmes(request: Request, user: CurrentUser, now: Now,
                     year: Annotated[int | None, Query(ge=2000, le=2100, description="Default: this year")] = None,
                     branch_id: QueryId = None) -> Response:
    """Beside the loop: the year's projects by state, the three lists' needs and resources, tasks on the board."""
    return await _answer_from_rows(request, lambda db: programme_stats(db, user, year=year, branch_id=branch_id,
                                                                       now=now))


@router.get("/channels", response_model=ChannelStats)
async def channels(request: Request, query: Q, user: CurrentUser, now: Now) -> Response:
    """Orders by the channel they came in from (小程序, 走访, 电话, 说事厅): placed, 办结率, satisfaction."""
    return await _answer_from_rows(request, lambda db: channel_stats(db, user, query, now))


@router.get("/summary")
def summary(user: CurrentUser, db: Db, now: Now) -> StateCounts:
    """Orders of the town by state (with Chinese labels) and overdue now."""
    return state_counts(db, user, now)
