"""Numbers for the town's dashboards (read-only tokens welcome)."""

from fastapi import APIRouter

from api.deps import CurrentUser, Db, Now
from api.problems import problem_responses
from workflows.queries import StateCounts, state_counts

router = APIRouter(prefix="/stats", tags=["stats"])


@router.get("/summary", responses=problem_responses(401, 403))
def summary(user: CurrentUser, db: Db, now: Now) -> StateCounts:
    """Orders of the town by state (with Chinese labels) and overdue now."""
    return state_counts(db, user, now)
