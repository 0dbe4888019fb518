"""Co-building units (共建单位): kept by the town admin, listed for whoever may whistle to them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from domain.errors import NotPermitted
from domain.roles import Role
from domain.whistles import UNIT_KIND_LABELS, UnitKind
from storage.models import Staff, Unit
from workflows.audit import audit
from workflows.hierarchy import get_in_town, require_admin, save
from workflows.paging import PageRequest, fetch_page
from workflows.principal import Principal
from workflows.unit import use_case
from workflows.whistle_inputs import UnitCreate, UnitUpdate, UnitView

# Who may read the town's units: those who may whistle to them, and the admin.
READERS = frozenset({Role.TOWN_ADMIN, Role.SECRETARY})


@use_case
def create_unit(db: Session, actor: Principal, body: UnitCreate, *, now: datetime) -> Unit:
    town_id = require_admin(actor)
    unit = save(db, Unit(town_id=town_id, created_at=now, **body.model_dump(mode="json")), "admin.unit-taken")
    audit(db, actor, "create", "unit", unit.id, body.model_dump(exclude_unset=True, mode="json"), now=now)
    return unit


@use_case
def update_unit(db: Session, actor: Principal, unit_id: int, body: UnitUpdate, *, now: datetime) -> Unit:
    unit = get_in_town(db, Unit, unit_id, require_admin(actor))
    changes = body.model_dump(exclude_unset=True, mode="json")
    for key, value in changes.items():
        setattr(unit, key, value)
    audit(db, actor, "update", "unit", unit.id, changes, now=now)
    return save(db, unit, "admin.unit-taken")


def _town_of_reader(actor: Principal) -> int:
    if actor.role not in READERS or actor.town_id is None:
        raise NotPermitted(key="unit.readers-only")
    return actor.town_id


def list_units(db: Session, actor: Principal, page: PageRequest, *, active: bool | None = None,
               kind: UnitKind | None = None) -> tuple[list[UnitView], int]:
    where = [Unit.town_id == _town_of_reader(actor)]
    if active is not None:
        where.append(col(Unit.active).is_(active))
    if kind is not None:
        where.append(Unit.kind == kind.value)
    rows, total = fetch_page(db, select(Unit).where(*where).order_by(col(Unit.id)), page)
    return unit_views(db, rows), total


def get_unit(db: Session, actor: Principal, unit_id: int) -> UnitView:
    return unit_views(db, [get_in_town(db, Unit, unit_id, _town_of_reader(actor))])[0]


def unit_views(db: Session, units: Sequence[Unit]) -> list[UnitView]:
    ids = [u.id for u in units]
    staff = dict(db.exec(
        select(Staff.unit_id, func.count()).where(col(Staff.unit_id).in_(ids), col(Staff.active))
        .group_by(col(Staff.unit_id))
    ).all()) if ids else {}
    return [UnitView(id=u.id, name=u.name, kind=u.kind, kind_label=UNIT_KIND_LABELS[UnitKind(u.kind)],
                     contact_name=u.contact_name, contact_phone=u.contact_phone, active=u.active,
                     staff=staff.get(u.id, 0)) for u in units]
