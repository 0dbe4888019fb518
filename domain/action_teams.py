"""Action teams (行动队): one village cadre, one party member and local worthies, dispatched to as one.

Villages run 党委定向、支部吹哨、乡贤报到: the branch forms standing teams of a village cadre
(its secretary, a grid worker of its grids, or a member), a party member who answers for
the work, and a few local worthies (乡贤). The secretary may dispatch an order to a team
instead of to one member: the team's member accepts and completes it like any dispatch,
and the cadre and the worthies are told and see the order. These are the rules of who may
be on a team; the workflows enforce them.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.roles import Role

MAX_WORTHIES = 20

# Who may be the team's village cadre (村干部).
CADRE_ROLES = frozenset({Role.SECRETARY, Role.GRID_WORKER, Role.MEMBER})


@dataclass(frozen=True)
class Person:
    """What the rules need to know of a staff member put on a team."""

    id: int
    role: str
    active: bool
    is_local_worthy: bool
    # The branches the person works in: a grid worker's are those of their grids.
    branch_ids: frozenset[int]


def team_problems(*, branch_id: int, cadre: Person | None, lead: Person | None,
                  worthies: list[Person | None]) -> list[str]:
    """Why these people cannot make a team of the branch (empty when they can), as message keys.

    The lead is a party member who is not a worthy (they answer for the work as a member);
    each worthy is a local worthy of the branch; the cadre serves the branch. Nobody is on
    the team twice.
    """
    problems: list[str] = []
    if cadre is None or Role(cadre.role) not in CADRE_ROLES or not cadre.active or branch_id not in cadre.branch_ids:
        problems.append("action-team.cadre-refused")
    if (lead is None or lead.role != Role.MEMBER.value or lead.is_local_worthy or not lead.active
            or branch_id not in lead.branch_ids):
        problems.append("action-team.lead-refused")
    if any(w is None or w.role != Role.MEMBER.value or not w.is_local_worthy or not w.active
           or branch_id not in w.branch_ids for w in worthies):
        problems.append("action-team.worthy-refused")
    ids = [p.id for p in (cadre, lead, *worthies) if p is not None]
    if len(ids) != len(set(ids)):
        problems.append("action-team.person-twice")
    return problems
