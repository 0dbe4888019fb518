"""Who is asking: the signed-in resident, staff member or dashboard."""

from __future__ import annotations

from dataclasses import dataclass, field

from domain.roles import Role


@dataclass(frozen=True)
class Principal:
    kind: str  # resident | staff | dashboard
    id: int
    role: Role
    name: str | None = None
    town_id: int | None = None
    branch_id: int | None = None
    grid_ids: frozenset[int] = field(default_factory=frozenset)

    @property
    def is_staff(self) -> bool:
        return self.kind == "staff"
