"""The wall dashboard (看板): one static page that reads /stats/* with a dashboard token."""

from __future__ import annotations

from pathlib import Path

from fastapi.responses import FileResponse

from domain.errors import NotFound
from api.routing import api_router

STATIC = Path(__file__).resolve().parent.parent / "static"
# Only these files, by name: nothing else under api/static is reachable.
ASSETS = {
    "dashboard.js": "text/javascript; charset=utf-8",
    "dashboard.css": "text/css; charset=utf-8",
}
# The page runs only its own script and talks only to this service; numbers are drawn
# with createElement/textContent, so this is a second fence, not the first.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}

router = api_router(tags=["dashboard"], include_in_schema=False)


@router.get("/dashboard")
def dashboard_page() -> FileResponse:
    """看板. Open `/dashboard#token=<dashboard token>&interval=10` (seconds between polls)."""
    return FileResponse(STATIC / "dashboard.html", media_type="text/html; charset=utf-8", headers=SECURITY_HEADERS)


@router.get("/dashboard/assets/{name}")
def dashboard_asset(name: str) -> FileResponse:
    media_type = ASSETS.get(name)
    if media_type is None:
        raise NotFound(key="dashboard.asset-not-found", name=name)
    return FileResponse(STATIC / name, media_type=media_type, headers=SECURITY_HEADERS)
