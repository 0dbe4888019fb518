"""What anyone may read: towns, their grids and categories (for the resident's choices)."""

from __future__ import annotations


from api.deps import AppSettings, Db, Paging, PathId
from api.problems import problem_responses
from api.routing import api_router
from workflows import catalog
from workflows.catalog import CategoryPublic, ClientConfig, GridPublic, TownPublic
from workflows.paging import Page

router = api_router(prefix="/towns", tags=["public"])


@router.get("", responses=problem_responses(422))
def list_towns(db: Db, page: Paging) -> Page[TownPublic]:
    return catalog.list_towns(db, page)


@router.get("/{town_id}/grids", responses=problem_responses(404, 422))
def list_grids(town_id: PathId, db: Db, page: Paging) -> Page[GridPublic]:
    """Grids of the town, for the resident to choose where they live."""
    return catalog.list_grids(db, town_id, page)


@router.get("/{town_id}/categories", responses=problem_responses(404, 422))
def list_categories(town_id: PathId, db: Db, page: Paging) -> Page[CategoryPublic]:
    """Active categories an order may be placed in."""
    return catalog.list_categories(db, town_id, page)


@router.get("/{town_id}/client-config", responses=problem_responses(404, 422))
def client_config(town_id: PathId, db: Db, settings: AppSettings) -> ClientConfig:
    """The limits and switches the mini-program's forms follow: photos, subscribe templates, the board."""
    templates = [t["template_id"] for t in settings.wechat_templates.values() if t.get("template_id")] \
        if settings.wechat_subscribe_enabled else []
    return catalog.client_config(db, town_id, photos_per_order=settings.photos_per_order,
                                 photo_max_bytes=settings.photo_max_bytes, template_ids=sorted(set(templates)))
