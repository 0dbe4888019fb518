"""The demo town's people signed in over the API, for the scripts that act as they do."""

from __future__ import annotations

from dataclasses import dataclass

PASSWORD = "wudan-demo-2026"  # every demo staff account's (wudan/demo.py)
ADMIN_PHONE = "13800000000"


@dataclass(frozen=True)
class DemoTown:
    town_id: int
    staff: list[dict]  # as GET /admin/staff lists them
    grids: list[dict]
    category_ids: list[int]


def staff_token(c, phone: str) -> str:
    """An access token for a demo staff account; `c` an `httpx.Client` on the server."""
    r = c.post("/auth/staff", json={"phone": phone, "password": PASSWORD})
    r.raise_for_status()
    return r.json()["access_token"]


def read_town(c, admin_token: str) -> DemoTown:
    """The admin's town: every staff account (all pages), the grids and the category ids."""
    admin = {"Authorization": f"Bearer {admin_token}"}
    staff: list[dict] = []
    while True:
        page = c.get("/admin/staff", params={"limit": 100, "offset": len(staff)}, headers=admin).json()
        staff += page["items"]
        if len(staff) >= page["total"] or not page["items"]:
            break
    town_id = c.get("/me", headers=admin).json()["town"]["id"]
    grids = [{"id": g["id"], "name": g["name"], "branch_id": g["branch"]["id"]}
             for g in c.get(f"/towns/{town_id}/grids", params={"limit": 100}).json()["items"]]
    categories = c.get(f"/towns/{town_id}/categories", params={"limit": 100}).json()["items"]
    return DemoTown(town_id, staff, grids, [x["id"] for x in categories])


def resident_token(c, openid: str, name: str, grid_id: int) -> str:
    """A resident signed in by the development sign-in, living in `grid_id`."""
    r = c.post("/auth/dev/resident", json={"openid": openid})
    r.raise_for_status()
    token = r.json()["access_token"]
    c.put("/me/profile", json={"name": name, "grid_id": grid_id},
          headers={"Authorization": f"Bearer {token}"}).raise_for_status()
    return token


def dashboard_token(c, admin_token: str) -> str:
    """A read-only dashboard token made by the town admin (POST /admin/dashboard-tokens)."""
    r = c.post("/admin/dashboard-tokens", headers={"Authorization": f"Bearer {admin_token}"})
    return r.raise_for_status().json()["access_token"]
