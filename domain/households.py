"""Below the grid: buildings (楼栋, each with its 楼栋党小组 leader) and households.

A household is an address in a grid, optionally in a building of that grid. Town-chosen
flags mark the households the branch looks after more closely (独居老人, 低保户, …).
党员联户 pairs a household with one party member of the grid's branch; a 党员中心户 is a
member's own household, from which the member looks after the households paired with
them. These are the rules; the workflows enforce them in one transaction.
"""

from __future__ import annotations

from collections.abc import Iterable

from domain.stats import share

# What a town starts with; its admin may change the list (PATCH /admin/town).
DEFAULT_HOUSEHOLD_FLAGS: tuple[str, ...] = ("独居老人", "空巢老人", "低保户", "残疾人", "困难家庭", "退役军人")
MAX_FLAGS = 30


def unknown_flags(flags: Iterable[str], allowed: Iterable[str]) -> list[str]:
    """The flags a household may not carry because the town does not use them, in order."""
    known = set(allowed)
    return [flag for flag in dict.fromkeys(flags) if flag not in known]


def may_look_after(*, role: str, active: bool, member_branch_id: int | None, grid_branch_id: int) -> bool:
    """Whether a staff member may lead a building's party group, be paired with a household of
    the grid, or make their home the grid's 党员中心户: an active party member of the grid's branch."""
    return role == "member" and active and member_branch_id == grid_branch_id


def building_fits(*, building_grid_id: int | None, household_grid_id: int) -> bool:
    """A household's building is one of its own grid's (or it has none)."""
    return building_grid_id is None or building_grid_id == household_grid_id


def pairing_coverage(paired: int, households: int) -> float | None:
    """联户覆盖率: households paired with a member ÷ households recorded; None with none recorded."""
    return share(paired, households)
