"""The town's Open311 client systems and their API keys: issued once, kept as a digest, revocable."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Annotated

from pydantic import BaseModel, Field
from sqlmodel import Session, col, select

from domain.errors import NotFound
from storage.models import Open311Client
from workflows.audit import audit
from workflows.hierarchy import require_admin
from workflows.inputs import Strict, Text
from workflows.paging import Page, PageRequest, fetch_page
from workflows.principal import Principal
from workflows.unit import use_case

KEY_PREFIX = "o311_"
# A key's use is written down at most this often: a busy platform does not write on every request.
LAST_USED_EVERY = timedelta(minutes=10)


class ClientCreate(Strict):
    name: Annotated[Text, Field(max_length=100)] = Field(description="Who the system is: 12345 热线平台, …")


class ClientView(BaseModel):
    id: int
    name: str
    key_prefix: str = Field(description="The key's first characters, to tell keys apart.")
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    active: bool


class IssuedClient(ClientView):
    api_key: str = Field(description="Shown this once: the service keeps only its digest.")


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def view(client: Open311Client) -> ClientView:
    return ClientView(id=client.id, name=client.name, key_prefix=client.key_prefix, created_at=client.created_at,
                      last_used_at=client.last_used_at, revoked_at=client.revoked_at,
                      active=client.revoked_at is None)


@use_case
def create_client(db: Session, actor: Principal, body: ClientCreate, *, now: datetime) -> IssuedClient:
    town_id = require_admin(actor)
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    client = Open311Client(town_id=town_id, name=body.name, key_digest=digest(key), key_prefix=key[:12],
                           created_at=now)
    db.add(client)
    db.flush()
    audit(db, actor, "create", "open311_client", client.id, {"name": body.name}, now=now)
    return IssuedClient(**view(client).model_dump(), api_key=key)


def list_clients(db: Session, actor: Principal, page: PageRequest) -> Page[ClientView]:
    town_id = require_admin(actor)
    rows, total = fetch_page(db, select(Open311Client).where(Open311Client.town_id == town_id)
                             .order_by(col(Open311Client.id).desc()), page)
    return Page(items=[view(c) for c in rows], total=total, **vars(page))


@use_case
def revoke_client(db: Session, actor: Principal, client_id: int, *, now: datetime) -> ClientView:
    town_id = require_admin(actor)
    client = db.get(Open311Client, client_id)
    if client is None or client.town_id != town_id:
        raise NotFound(key="open311-client.not-found", id=client_id)
    if client.revoked_at is None:
        client.revoked_at = now
        db.add(client)
        db.flush()
        audit(db, actor, "revoke", "open311_client", client.id, {}, now=now)
    return view(client)


def client_for_key(db: Session, key: str) -> Open311Client | None:
    """The active client holding this key; None for a wrong or revoked key. A read only."""
    if not key.startswith(KEY_PREFIX):
        return None
    client = db.exec(select(Open311Client).where(Open311Client.key_digest == digest(key))).first()
    if client is None or client.revoked_at is not None:
        return None
    return client


def note_use(db: Session, client: Open311Client, now: datetime) -> None:
    """Stamp the key's use, at most every LAST_USED_EVERY, in the caller's transaction (a posted request's)."""
    if client.last_used_at is None or now - client.last_used_at >= LAST_USED_EVERY:
        client.last_used_at = now
        db.add(client)
