"""Projects (共建项目, 领办项目): bigger work published at the start of a year, taken up by a member
or an action team (揭榜挂帅), carried through milestones, and shown at the year's end (张榜晒单).

A project is published by the town (no branch) or a branch, open to be taken; a party
member takes it up for themselves, or the branch's secretary gives it to an action team;
whoever leads it records its milestones, each done with a note and photos, links the
orders that belong to it, and finishes it with the result shown on the year's board. It
may be dropped while not finished. These are its moves; the workflows apply them.
"""

from __future__ import annotations

from enum import StrEnum

from domain.errors import DomainError, InvalidTransition
from domain.messages import Term

MAX_MILESTONES = 20
MAX_PHOTOS = 9


class ProjectState(StrEnum):
    OPEN = "open"
    TAKEN = "taken"
    DONE = "done"
    DROPPED = "dropped"

    @property
    def label(self) -> str:
        return PROJECT_STATE_LABELS[self]


PROJECT_STATE_LABELS = {ProjectState.OPEN: "待揭榜", ProjectState.TAKEN: "推进中", ProjectState.DONE: "已完成",
                        ProjectState.DROPPED: "已撤销"}


class ProjectKind(StrEnum):
    LEAD = "lead"  # 党员领办项目
    JOINT = "joint"  # 共建项目, with a co-building unit


PROJECT_KIND_LABELS = {ProjectKind.LEAD: "党员领办项目", ProjectKind.JOINT: "共建项目"}


class ProjectMove(StrEnum):
    TAKE = "take"
    MILESTONE = "milestone"
    LINK_ORDER = "link_order"
    FINISH = "finish"
    DROP = "drop"


MOVES: dict[ProjectMove, tuple[frozenset[ProjectState], ProjectState | None]] = {
    ProjectMove.TAKE: (frozenset({ProjectState.OPEN}), ProjectState.TAKEN),
    ProjectMove.MILESTONE: (frozenset({ProjectState.TAKEN}), None),
    ProjectMove.LINK_ORDER: (frozenset({ProjectState.OPEN, ProjectState.TAKEN}), None),
    ProjectMove.FINISH: (frozenset({ProjectState.TAKEN}), ProjectState.DONE),
    ProjectMove.DROP: (frozenset({ProjectState.OPEN, ProjectState.TAKEN}), ProjectState.DROPPED),
}


def allowed_moves(state: ProjectState) -> list[str]:
    return sorted(m.value for m, (sources, _) in MOVES.items() if state in sources)


MOVE_LABELS = {ProjectMove.TAKE: "揭榜挂帅", ProjectMove.MILESTONE: "记录进展", ProjectMove.LINK_ORDER: "关联工单",
               ProjectMove.FINISH: "张榜晒单", ProjectMove.DROP: "撤销项目"}


def plan_project_move(state: ProjectState, move: ProjectMove) -> ProjectState:
    """The state after `move` (the same, for a move within it), or a 409 naming what is allowed."""
    sources, target = MOVES[move]
    if state not in sources:
        raise InvalidProjectMove(move, state)
    return target or state


class InvalidProjectMove(InvalidTransition):
    """The move is not allowed from the project's state: a 409 naming that state and what is allowed."""

    def __init__(self, move: ProjectMove, state: ProjectState) -> None:
        self.action = move.value
        self.state = None
        self.project_state = state
        self.current_state = state.value
        self.allowed_actions = allowed_moves(state)
        terms = [Term(a, MOVE_LABELS[ProjectMove(a)]) for a in self.allowed_actions] or Term("none", "无")
        DomainError.__init__(self, key="project.invalid-move", action=Term(move.value, MOVE_LABELS[move]),
                             state=Term(state.value, state.label), allowed=terms)

    def extensions(self) -> dict:
        return {"action": self.action, "current_state": self.current_state,
                "current_state_label": self.project_state.label, "allowed_actions": self.allowed_actions}
