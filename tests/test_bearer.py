"""A token's account is read in the endpoint's thread, and what it says there is what counts.

The role check before the endpoint goes on the token's word; the account read just
before the endpoint runs (api/routing.py) must still refuse a token whose account is
gone, disabled or no longer of that role, on every kind of route: a write, a read, an
async route (the stats), and a route whose endpoint takes no session.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update
from sqlmodel import select

from infra.tokens import TokenClaims, issue_token
from storage.models import Order, Staff
from tests.helpers import place


def _token_claiming(world, clock, staff_id: int, role: str) -> dict[str, str]:
    """A genuine token for `staff_id` that says `role`, whatever the account's role is now."""
    token = issue_token(world.settings.secret_key, TokenClaims("staff", staff_id, role, world["town"]),
                        clock(), timedelta(hours=1))
    return {"Authorization": f"Bearer {token}"}


def test_a_token_whose_role_the_account_no_longer_has_is_refused(client, world, clock, database):
    # A member's account with a token that says town admin: the token's role passes the
    # route's first check, the account's does not.
    headers = _token_claiming(world, clock, world["memberA1"], "town_admin")
    r = client.get("/admin/town", headers=headers)
    assert r.status_code == 403, r.text
    assert r.json()["code"] == "not-permitted"
    assert client.get("/admin/town", headers=world.auth("admin")).status_code == 200
    # On a move, the account's role decides what it may see: a member sees only orders
    # dispatched to them, so a grid worker's token for a member's account claims nothing.
    order = place(client, world)["id"]
    r = client.post(f"/orders/{order}/claim", headers=_token_claiming(world, clock, world["memberA1"], "grid_worker"))
    assert r.status_code == 404, r.text
    with database.reader() as db:
        assert db.exec(select(Order.state).where(Order.id == order)).one() == "submitted"


def test_a_disabled_account_is_refused_on_writes_reads_and_async_routes(client, world, database):
    order = place(client, world)["id"]
    with database.session(write=True) as db:
        db.execute(update(Staff).where(Staff.id == world["workerA1"]).values(active=False))
        db.commit()
    headers = world.auth("workerA1")
    answers = {
        "write": client.post(f"/orders/{order}/claim", headers=headers),
        "read": client.get(f"/orders/{order}", headers=headers),
        "profile": client.get("/me", headers=headers),
        "async": client.get("/stats/overview", headers=headers),
    }
    for kind, r in answers.items():
        assert r.status_code == 401, (kind, r.text)
        assert r.json()["code"] == "signed_out", (kind, r.text)
    with database.reader() as db:
        assert db.exec(select(Order.state).where(Order.id == order)).one() == "submitted"


def test_the_account_as_read_is_the_one_acting(client, world):
    """The grids a grid worker serves come from the account, not from the token."""
    order = place(client, world)["id"]
    other = client.post(f"/orders/{order}/claim", headers=world.auth("workerB1"))
    assert other.status_code in (403, 404), other.text
    mine = client.post(f"/orders/{order}/claim", headers=world.auth("workerA1"))
    assert mine.status_code == 200, mine.text
    assert mine.json()["state"] == "claimed"
