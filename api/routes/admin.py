"""Town admins: the town, its branches, grids, staff and categories; dashboard tokens."""

from __future__ import annotations

from fastapi import Query, Response
from typing import Annotated, Literal

from api.deps import Admin, AppSettings, Db, Now, Paging, PathId, QueryId
from api.problems import problem_responses
from api.routes.auth import DashboardTokenOut, dashboard_token_out
from api.routing import api_router
from domain.roles import Role
from storage.models import Branch, Category, Grid, Staff
from workflows import hierarchy as h
from workflows.hierarchy_inputs import (
    BranchCreate, BranchUpdate, BranchView, CategoryCreate, CategoryUpdate, CategoryView, GridCreate,
    GridUpdate, GridView, StaffCreate, StaffUpdate, StaffView, TownUpdate, TownView,
)
from workflows.audit import AuditView
from workflows.audit import list_audit as list_audit_entries
from workflows import dashboards
from workflows.dashboards import DashboardTokenCreate, DashboardTokenView
from workflows.paging import Page

router = api_router(prefix="/admin", tags=["admin"], responses=problem_responses(401, 403))
LIST = problem_responses(422)
ONE = problem_responses(404, 422)
# A body that cannot be read at all (not UTF-8, say) is 400; one that reads but is wrong is 422.
WRITE = problem_responses(404, 409, body=True)
DELETE = problem_responses(404, 409, 422)


def _page(view, rows_total, page) -> Page:
    rows, total = rows_total
    return Page(items=[view.model_validate(r, from_attributes=True) for r in rows], total=total, **vars(page))


@router.get("/town")
def get_town(user: Admin, db: Db) -> TownView:
    return TownView.model_validate(h.get_town(db, user), from_attributes=True)


@router.patch("/town", responses=WRITE)
def update_town(body: TownUpdate, user: Admin, db: Db, now: Now) -> TownView:
    return TownView.model_validate(h.update_town(db, user, body, now=now), from_attributes=True)


@router.get("/branches", responses=LIST)
def list_branches(user: Admin, db: Db, page: Paging) -> Page[BranchView]:
    return _page(BranchView, h.list_in_town(db, user, Branch, page), page)


@router.post("/branches", status_code=201, responses=WRITE)
def create_branch(body: BranchCreate, user: Admin, db: Db, now: Now) -> BranchView:
    return BranchView.model_validate(h.create_branch(db, user, body, now=now), from_attributes=True)


@router.get("/branches/{branch_id}", responses=ONE)
def get_branch(branch_id: PathId, user: Admin, db: Db) -> BranchView:
    return BranchView.model_validate(h.get_in_town(db, Branch, branch_id, h.require_admin(user)), from_attributes=True)


@router.patch("/branches/{branch_id}", responses=WRITE)
def update_branch(branch_id: PathId, body: BranchUpdate, user: Admin, db: Db, now: Now) -> BranchView:
    return BranchView.model_validate(h.update_branch(db, user, branch_id, body, now=now), from_attributes=True)


@router.delete("/branches/{branch_id}", status_code=204, responses=DELETE)
def delete_branch(branch_id: PathId, user: Admin, db: Db, now: Now) -> Response:
    h.delete_branch(db, user, branch_id, now=now)
    return Response(status_code=204)


@router.get("/grids", responses=LIST)
def list_grids(
    user: Admin, db: Db, page: Paging, branch_id: QueryId = None
) -> Page[GridView]:
    where = (Grid.branch_id == branch_id,) if branch_id else ()
    return _page(GridView, h.list_in_town(db, user, Grid, page, *where), page)


@router.post("/grids", status_code=201, responses=WRITE)
def create_grid(body: GridCreate, user: Admin, db: Db, now: Now) -> GridView:
    return GridView.model_validate(h.create_grid(db, user, body, now=now), from_attributes=True)


@router.get("/grids/{grid_id}", responses=ONE)
def get_grid(grid_id: PathId, user: Admin, db: Db) -> GridView:
    return GridView.model_validate(h.get_in_town(db, Grid, grid_id, h.require_admin(user)), from_attributes=True)


@router.patch("/grids/{grid_id}", responses=WRITE)
def update_grid(grid_id: PathId, body: GridUpdate, user: Admin, db: Db, now: Now) -> GridView:
    return GridView.model_validate(h.update_grid(db, user, grid_id, body, now=now), from_attributes=True)


@router.delete("/grids/{grid_id}", status_code=204, responses=DELETE)
def delete_grid(grid_id: PathId, user: Admin, db: Db, now: Now) -> Response:
    h.delete_grid(db, user, grid_id, now=now)
    return Response(status_code=204)


def _staff_views(db, rows) -> list[StaffView]:
    grids = h.staff_grid_ids(db, [s.id for s in rows])
    return [h.staff_view(s, grids[s.id]) for s in rows]


@router.get("/staff", responses=LIST)
def list_staff(
    user: Admin, db: Db, page: Paging,
    role: Annotated[Role | None, Query()] = None,
    branch_id: QueryId = None,
) -> Page[StaffView]:
    where = []
    if role:
        where.append(Staff.role == role.value)
    if branch_id:
        where.append(Staff.branch_id == branch_id)
    rows, total = h.list_in_town(db, user, Staff, page, *where)
    return Page(items=_staff_views(db, rows), total=total, **vars(page))


@router.post("/staff", status_code=201, responses=WRITE)
def create_staff(body: StaffCreate, user: Admin, db: Db, now: Now) -> StaffView:
    return _staff_views(db, [h.create_staff(db, user, body, now=now)])[0]


@router.get("/staff/{staff_id}", responses=ONE)
def get_staff(staff_id: PathId, user: Admin, db: Db) -> StaffView:
    return _staff_views(db, [h.get_in_town(db, Staff, staff_id, h.require_admin(user))])[0]


@router.patch("/staff/{staff_id}", responses=WRITE)
def update_staff(staff_id: PathId, body: StaffUpdate, user: Admin, db: Db, now: Now) -> StaffView:
    """Change details, grids served, or set `active: false` to disable the account at once."""
    return _staff_views(db, [h.update_staff(db, user, staff_id, body, now=now)])[0]


@router.get("/categories", responses=LIST)
def list_categories(user: Admin, db: Db, page: Paging) -> Page[CategoryView]:
    return _page(CategoryView, h.list_in_town(db, user, Category, page), page)


@router.post("/categories", status_code=201, responses=WRITE)
def create_category(body: CategoryCreate, user: Admin, db: Db, now: Now) -> CategoryView:
    return CategoryView.model_validate(h.create_category(db, user, body, now=now), from_attributes=True)


@router.get("/categories/{category_id}", responses=ONE)
def get_category(category_id: PathId, user: Admin, db: Db) -> CategoryView:
    category = h.get_in_town(db, Category, category_id, h.require_admin(user))
    return CategoryView.model_validate(category, from_attributes=True)


@router.patch("/categories/{category_id}", responses=WRITE)
def update_category(category_id: PathId, body: CategoryUpdate, user: Admin, db: Db, now: Now) -> CategoryView:
    return CategoryView.model_validate(h.update_category(db, user, category_id, body, now=now), from_attributes=True)


@router.delete("/categories/{category_id}", status_code=204, responses=DELETE)
def delete_category(category_id: PathId, user: Admin, db: Db, now: Now) -> Response:
    h.delete_category(db, user, category_id, now=now)
    return Response(status_code=204)


@router.get("/audit", responses=LIST)
def list_audit(
    user: Admin, db: Db, page: Paging,
    entity: Annotated[Literal["town", "branch", "grid", "building", "household", "staff", "category", "roster",
                           "delivery", "dashboard_token"]
                      | None, Query()] = None,
) -> Page[AuditView]:
    """Who changed what in the town, newest first (passwords never shown)."""
    return list_audit_entries(db, h.require_admin(user), page, entity)


@router.post("/dashboard-tokens", status_code=201, responses=problem_responses(body=True))
def create_dashboard_token(
    user: Admin, db: Db, now: Now, settings: AppSettings, body: DashboardTokenCreate | None = None,
) -> DashboardTokenOut:
    """A read-only token for a wall dashboard of this town, good for DASHBOARD_TOKEN_DAYS; one per screen."""
    row = dashboards.create(db, user, body or DashboardTokenCreate(), now=now, days=settings.dashboard_token_days)
    return dashboard_token_out(settings, row, now)


@router.get("/dashboard-tokens", responses=LIST)
def list_dashboard_tokens(user: Admin, db: Db, now: Now, page: Paging) -> Page[DashboardTokenView]:
    """The town's dashboard tokens, newest first, with those revoked or expired."""
    return dashboards.list_tokens(db, user, page, now=now)


@router.post("/dashboard-tokens/{token_id}/revoke", responses=ONE)
def revoke_dashboard_token(token_id: PathId, user: Admin, db: Db, now: Now) -> DashboardTokenView:
    """Refuse the token at once (401 `signed_out`), every generation of it; revoking it again changes nothing."""
    return dashboards.view(dashboards.revoke(db, user, token_id, now=now), now)
