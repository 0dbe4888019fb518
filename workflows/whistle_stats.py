"""吹哨报到 per unit: what the town office reports of the departments that report in.

For the whistles sent in the period (by the day they were whistled, town time), per unit
of the town: times whistled, times reported in (报到), answered within the report limit
(报到及时率: answered on time ÷ answers due), replied, declined, still open, the 办结率
(replied ÷ whistled less declined) and the satisfaction of the residents who rated the
replied work. Counted straight from the whistles, as they are now.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field
from sqlalchemy import and_, func, or_
from sqlmodel import Session, col, select

from domain.rating import SATISFIED_MIN_STARS
from domain.stats import share
from domain.whistles import OPEN_WHISTLE_STATES, UNIT_KIND_LABELS, UnitKind, WhistleState, resolution_rate
from storage.models import Unit, Whistle
from workflows.ledger import period_bounds
from workflows.principal import Principal
from workflows.refs import Ref
from workflows.stats import StatsQuery, count_where, resolve_scope


class UnitCounts(BaseModel):
    whistled: int = Field(description="Times the unit was whistled to (吹哨).")
    reported: int = Field(description="Times it reported in (报到).")
    answers_due: int = Field(description="Whistles answered (reported in or declined), or past the report limit unanswered.")
    answered_on_time: int = Field(description="Of those, answered within the report limit.")
    report_rate_on_time: float | None = Field(description="报到及时率: answered_on_time ÷ answers_due.")
    replied: int = Field(description="Whistles it replied to with its work (办结).")
    declined: int = Field(description="Whistles it sent back as not its matter.")
    open: int = Field(description="Whistles still waiting for its report-in or reply.")
    resolution_rate: float | None = Field(description="办结率: replied ÷ (whistled − declined).")
    rated: int = Field(description="Replied whistles whose order the resident then rated.")
    satisfied: int = Field(description=f"Of those, rated {SATISFIED_MIN_STARS} stars or more.")
    satisfaction_rate: float | None = Field(description="satisfied ÷ rated.")


class UnitRow(UnitCounts):
    unit: Ref
    kind: str
    kind_label: str


class UnitStats(BaseModel):
    town_id: int
    scope: dict[str, int | None]
    date_from: date
    date_to: date
    total: UnitCounts
    units: list[UnitRow]
    as_of: datetime = Field(description="When these were read: they are counted from the rows as they are.")


def unit_stats(db: Session, actor: Principal, query: StatsQuery, now: datetime) -> UnitStats:
    scope = resolve_scope(db, actor, StatsQuery(query.date_from, query.date_to, query.branch_id), now)
    start, end = period_bounds(scope.date_from, scope.date_to, ZoneInfo(scope.timezone))
    w = Whistle
    answered = func.coalesce(w.reported_at, w.declined_at)
    where = [w.town_id == scope.town_id, col(w.whistled_at) >= start, col(w.whistled_at) < end]
    if scope.branch_id is not None:
        where.append(w.branch_id == scope.branch_id)

    counted = {
        row.unit_id: row for row in db.exec(select(
            w.unit_id, func.count().label("whistled"),
            count_where(col(w.reported_at).is_not(None)).label("reported"),
            count_where(or_(answered.is_not(None), col(w.report_deadline) < now)).label("answers_due"),
            count_where(and_(answered.is_not(None), answered <= w.report_deadline)).label("answered_on_time"),
            count_where(w.state == WhistleState.REPLIED.value).label("replied"),
            count_where(w.state == WhistleState.DECLINED.value).label("declined"),
            count_where(col(w.state).in_([s.value for s in OPEN_WHISTLE_STATES])).label("open"),
            count_where(col(w.rating_stars).is_not(None)).label("rated"),
            count_where(col(w.rating_stars) >= SATISFIED_MIN_STARS).label("satisfied"),
        ).where(*where).group_by(col(w.unit_id))).all()
    }
    units = db.exec(select(Unit).where(Unit.town_id == scope.town_id).order_by(col(Unit.id))).all()
    rows = [UnitRow(unit=Ref(id=u.id, name=u.name), kind=u.kind, kind_label=UNIT_KIND_LABELS[UnitKind(u.kind)],
                    **_rates(_numbers(counted.get(u.id)))) for u in units]
    total = {key: sum(getattr(r, key) for r in rows) for key in _KEYS}
    return UnitStats(town_id=scope.town_id, scope={"branch_id": scope.branch_id}, date_from=scope.date_from,
                     date_to=scope.date_to, total=UnitCounts(**_rates(total)), units=rows, as_of=now)


_KEYS = ("whistled", "reported", "answers_due", "answered_on_time", "replied", "declined", "open", "rated",
         "satisfied")


def _numbers(row) -> dict[str, int]:
    return {key: int(getattr(row, key) or 0) if row is not None else 0 for key in _KEYS}


def _rates(n: dict[str, int]) -> dict:
    return {**n, "report_rate_on_time": share(n["answered_on_time"], n["answers_due"]),
            "resolution_rate": resolution_rate(n["replied"], n["whistled"], n["declined"]),
            "satisfaction_rate": share(n["satisfied"], n["rated"])}
