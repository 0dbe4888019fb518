"""Client systems of the city that place and read orders by Open311 GeoReport v2."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from storage.models._fields import timestamp as _ts


class Open311Client(SQLModel, table=True):
    """One client system (a 12345 platform, a city app) and its API key, kept as a digest only."""

    __tablename__ = "open311_clients"

    id: int | None = Field(default=None, primary_key=True)
    town_id: int = Field(foreign_key="towns.id", index=True)
    name: str = Field(max_length=100)
    # SHA-256 of the key: the key is 32 random bytes, so a slow hash would add nothing.
    key_digest: str = Field(max_length=64, unique=True)
    key_prefix: str = Field(max_length=12)  # what a list shows, to tell keys apart
    created_at: datetime = _ts()
    last_used_at: datetime | None = _ts(default=None)
    revoked_at: datetime | None = _ts(default=None)
