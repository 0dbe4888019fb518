"""Who is asking: the signed-in resident, staff member or dashboard."""

from __future__ import annotations

from dataclasses import dataclass, field
from domain.roles import Role
from infra.tokens import TokenClaims
from storage.engine import Database


@dataclass(frozen=True)
class Principal:
    kind: str  # resident | staff | dashboard
    id: int
    role: Role
    name: str | None = None
    town_id: int | None = None
    branch_id: int | None = None
    grid_ids: frozenset[int] = field(default_factory=frozenset)
    unit_id: int | None = None  # a unit's staff: the co-building unit they work for

    @property
    def is_staff(self) -> bool:
        return self.kind == "staff"


@dataclass(frozen=True)
class Bearer:
    """Who a valid token says is asking, before their account has been read.

    The token is genuine and unexpired, and its role admitted to the route (`roles`), but
    whether the account still exists, is enabled and still holds this token's version is
    known only once `workflows.identity.resolve_bearer` has read it. That read runs in the
    endpoint's own thread, with its other database work (api/routing.py), instead of in
    a thread hand-off of its own. It is not a `Principal`: no use case can act on it.
    """

    claims: TokenClaims
    database: Database  # for the read
    roles: tuple[Role, ...] | None = None

    @property
    def role(self) -> Role:
        return Role(self.claims.role)


# Who the service itself acts as: the sweep's auto-close, an order moving on once its units are done.
SYSTEM = Principal("system", 0, Role.SYSTEM, "系统")
