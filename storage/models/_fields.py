"""Column helpers shared by the tables."""

from typing import Any

from sqlmodel import Field

from storage.types import UTCDateTime


def timestamp(**kw: Any) -> Any:
    """An aware UTC timestamp column (see storage.types.UTCDateTime)."""
    return Field(sa_type=UTCDateTime, **kw)
