"""Column types that behave the same on SQLite and PostgreSQL."""

from datetime import UTC, datetime

from sqlalchemy import DateTime, Integer
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes in and out.

    PostgreSQL keeps `timestamptz`; SQLite has no zones, so values are stored as naive
    UTC and given their zone back when read.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where UTC is required")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class cell_index(FunctionElement):
    """floor(value / size) as an integer, on both stores: the map cell a coordinate falls in.

    SQLite (without its math functions) has no floor(); its CAST truncates towards zero,
    which is floor for the values given here (coordinates shifted to be positive).
    """

    type = Integer()
    inherit_cache = True


@compiles(cell_index)
def _cell_index(element, compiler, **kw):
    value, size = list(element.clauses)
    return f"CAST(floor(({compiler.process(value, **kw)}) / ({compiler.process(size, **kw)})) AS INTEGER)"


@compiles(cell_index, "sqlite")
def _cell_index_sqlite(element, compiler, **kw):
    value, size = list(element.clauses)
    return f"CAST(({compiler.process(value, **kw)}) / ({compiler.process(size, **kw)}) AS INTEGER)"
