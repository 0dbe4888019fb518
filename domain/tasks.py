"""揭榜: a secretary puts a claimed order on the branch's task board instead of dispatching it.

The branch's members volunteer (揭榜) while the window is open. In a branch that picks
(`pick`, the default) the secretary then dispatches to one of the volunteers, as to any
member; in a branch where the first volunteer takes it (`first`) the first one to
volunteer holds the order at once, dispatched to them. When the window closes with
nobody taken, the order leaves the board and goes back to the secretary to dispatch,
with a reminder. The order stays claimed (待派单) while it is on the board: its dispatch
limit runs on.
"""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum

MIN_WINDOW = timedelta(hours=1)
MAX_WINDOW = timedelta(days=7)
DEFAULT_WINDOW = timedelta(hours=24)


class TaskMode(StrEnum):
    PICK = "pick"  # the secretary picks among the volunteers
    FIRST = "first"  # the first volunteer takes it


TASK_MODE_LABELS: dict[TaskMode, str] = {TaskMode.PICK: "书记选派", TaskMode.FIRST: "先揭先得"}


def window_problem(window: timedelta) -> str | None:
    """Why a board window may not be this long (a message key), or None."""
    if not MIN_WINDOW <= window <= MAX_WINDOW:
        return "task.window"
    return None
