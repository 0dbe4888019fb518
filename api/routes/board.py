"""The public 晒单 and 晒分 boards and the evidence photos: no sign-in, only where the town turned them on."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query
from fastapi.responses import FileResponse

from api.deps import AppSettings, Db, Now, Paging, PathId, PathPhotoId, QueryId
from api.problems import problem_responses
from api.routes.photos import photo_file
from api.routing import api_router
from workflows import board, stars
from workflows.board import BoardItem
from workflows.paging import Page

router = api_router(prefix="/public", tags=["public"])


@router.get("/towns/{town_id}/board", responses=problem_responses(404, 422))
def town_board(
    town_id: PathId, db: Db, page: Paging, grid_id: QueryId = None, branch_id: QueryId = None
) -> Page[BoardItem]:
    """党员晒单: the town's completed and closed orders, newest completion first, anonymised."""
    return board.town_board(db, town_id, page, grid_id=grid_id, branch_id=branch_id)


@router.get("/towns/{town_id}/points-board", responses=problem_responses(404, 422))
def points_board(town_id: PathId, db: Db, now: Now, month: Annotated[str | None, Query(
        pattern=r"^[0-9]{4}-[0-9]{2}$", description="YYYY-MM, the town's month; default this month")] = None,
) -> stars.PointsBoard:
    """晒分: the month's points and stars of the town's members (most points first) and branches."""
    return stars.public_points_board(db, town_id, month, now=now)


@router.get(
    "/photos/{photo_id}",
    response_class=FileResponse,
    responses={200: {"content": {"image/jpeg": {}, "image/png": {}, "image/webp": {}}},
               **problem_responses(404, 422)},
)
def board_photo(photo_id: PathPhotoId, db: Db, settings: AppSettings) -> FileResponse:
    """An evidence photo of an order on a public board; any other photo is not found."""
    # Short-lived in shared caches: turning the board off should take effect soon.
    return photo_file(board.load_board_photo(db, photo_id), settings, cache="public, max-age=300")
