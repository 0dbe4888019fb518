"""The office's periodic reports: made by the scheduler once a period has ended, or on demand;
stored with their XLSX and PDF; listed; the town's admins told of each.

Who: the town admin makes and reads every scope's reports; a secretary their branch's
and its grids'. The scheduler makes, for each town, the last ended month, quarter and
year of the town, each branch and each co-building unit (grids' on demand), each once:
the row's unique key keeps two workers from making one twice.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from domain.errors import NotFound, NotPermitted
from domain.notices import Audience
from domain.reports import PERIOD_KIND_LABELS, SCOPE_KIND_LABELS, PeriodKind, ScopeKind, last_ended, period_of
from domain.roles import Role
from storage.models import Branch, Grid, OutboxMessage, Report, Town, Unit
from workflows.inputs import Day, Id, Strict
from workflows.paging import PageRequest, fetch_page
from workflows.principal import Principal
from workflows.report_figures import ReportFigures, compute_figures
from workflows.report_files import write_pdf, write_xlsx
from workflows.unit import use_case

log = logging.getLogger("wudan.reports")
REPORT_NOTICE = "report.generated"


class ReportRequest(Strict):
    scope_kind: ScopeKind = Field(strict=False, description="town, branch, grid or unit")
    scope_id: Id | None = Field(None, description="The branch, grid or unit; none for the town.")
    period_kind: PeriodKind = Field(strict=False, description="month, quarter or year")
    day: Day | None = Field(None, strict=False,
                            description="A day of the period wanted (YYYY-MM-DD); default the last one ended.")


class ReportView(BaseModel):
    id: int
    scope_kind: str
    scope_kind_label: str
    scope_id: int | None
    period_kind: str
    period_kind_label: str
    period_start: date
    period_end: date
    label: str
    figures: ReportFigures
    xlsx_url: str
    pdf_url: str
    generated_by_scheduler: bool
    generated_at: datetime


def report_view(report: Report) -> ReportView:
    return ReportView(
        id=report.id, scope_kind=report.scope_kind, scope_kind_label=SCOPE_KIND_LABELS[ScopeKind(report.scope_kind)],
        scope_id=report.scope_id or None, period_kind=report.period_kind,
        period_kind_label=PERIOD_KIND_LABELS[PeriodKind(report.period_kind)], period_start=report.period_start,
        period_end=report.period_end, label=report.label, figures=ReportFigures.model_validate(report.figures),
        xlsx_url=f"/reports/{report.id}.xlsx", pdf_url=f"/reports/{report.id}.pdf",
        generated_by_scheduler=report.generated_by_id is None, generated_at=report.generated_at)


# --------------------------------------------------------------------------- who


def _checked_scope(db: Session, actor: Principal, kind: ScopeKind, scope_id: int | None) -> tuple[Town, int]:
    """The town and scope id (0 for the town) the actor may report on; 403/404 otherwise."""
    if actor.role not in (Role.TOWN_ADMIN, Role.SECRETARY) or actor.town_id is None:
        raise NotPermitted(key="report.for-whom")
    town = db.get(Town, actor.town_id)
    if kind is ScopeKind.TOWN:
        if actor.role == Role.SECRETARY:
            raise NotPermitted(key="report.branch-only")
        return town, 0
    model = {ScopeKind.BRANCH: Branch, ScopeKind.GRID: Grid, ScopeKind.UNIT: Unit}[kind]
    row = db.get(model, scope_id) if scope_id is not None else None
    if row is None or row.town_id != town.id:
        raise NotFound(key="report.scope-not-found", id=scope_id)
    if actor.role == Role.SECRETARY:
        branch_id = row.id if kind is ScopeKind.BRANCH else getattr(row, "branch_id", None)
        if kind is ScopeKind.UNIT or branch_id != actor.branch_id:
            raise NotFound(key="report.scope-not-found", id=scope_id)
    return town, row.id


def _visible(actor: Principal):
    if actor.role == Role.TOWN_ADMIN and actor.town_id is not None:
        return [Report.town_id == actor.town_id]
    if actor.role == Role.SECRETARY and actor.town_id is not None:
        grids = select(Grid.id).where(Grid.branch_id == actor.branch_id)
        return [Report.town_id == actor.town_id,
                ((Report.scope_kind == ScopeKind.BRANCH.value) & (Report.scope_id == actor.branch_id))
                | ((Report.scope_kind == ScopeKind.GRID.value) & col(Report.scope_id).in_(grids))]
    raise NotPermitted(key="report.for-whom")


# --------------------------------------------------------------------------- making


def _make(db: Session, town: Town, kind: ScopeKind, scope_id: int, period: PeriodKind, first: date, last: date,
          by: int | None, now: datetime) -> Report:
    figures = compute_figures(db, town, kind, scope_id, period, first, last, now=now)
    report = Report(town_id=town.id, scope_kind=kind.value, scope_id=scope_id, period_kind=period.value,
                    period_start=first, period_end=last, label=figures.title, figures=figures.model_dump(mode="json"),
                    xlsx=write_xlsx(figures), pdf=write_pdf(figures), generated_by_id=by, generated_at=now)
    db.add(report)
    db.flush()
    db.add(OutboxMessage(kind=REPORT_NOTICE, audience=Audience.TOWN_ADMINS.value, audience_id=town.id,
                         payload={"report_id": report.id, "label": report.label, "summary": report.label},
                         next_attempt_at=now, created_at=now))
    return report


@use_case
def generate_report(db: Session, actor: Principal, body: ReportRequest, *, now: datetime) -> Report:
    """Make (or make again) a report on demand."""
    town, scope_id = _checked_scope(db, actor, body.scope_kind, body.scope_id)
    today = now.astimezone(ZoneInfo(town.timezone)).date()
    first, last = period_of(body.period_kind, body.day) if body.day else last_ended(body.period_kind, today)
    db.exec(delete(Report).where(Report.town_id == town.id, Report.scope_kind == body.scope_kind.value,
                                 Report.scope_id == scope_id, Report.period_kind == body.period_kind.value,
                                 Report.period_start == first))
    return _make(db, town, body.scope_kind, scope_id, body.period_kind, first, last, actor.id, now)


def list_reports(db: Session, actor: Principal, page: PageRequest, *, period_kind: PeriodKind | None = None,
                 scope_kind: ScopeKind | None = None) -> tuple[list[ReportView], int]:
    where = _visible(actor)
    if period_kind is not None:
        where.append(Report.period_kind == period_kind.value)
    if scope_kind is not None:
        where.append(Report.scope_kind == scope_kind.value)
    rows, total = fetch_page(db, select(Report).where(*where)
                             .order_by(col(Report.period_start).desc(), col(Report.id).desc()), page)
    return [report_view(r) for r in rows], total


def get_report(db: Session, actor: Principal, report_id: int) -> Report:
    report = db.exec(select(Report).where(Report.id == report_id, *_visible(actor))).first()
    if report is None:
        raise NotFound(key="report.not-found", id=report_id)
    return report


# --------------------------------------------------------------------------- the scheduler's


def scheduled_reports(database, *, now: datetime) -> int:
    """Make every last-ended period's report not made yet, for each town's scopes; how many."""
    made = 0
    with database.session() as db:
        towns = db.exec(select(Town)).all()
        wanted = []
        for town in towns:
            today = now.astimezone(ZoneInfo(town.timezone)).date()
            scopes = [(ScopeKind.TOWN, 0)]
            scopes += [(ScopeKind.BRANCH, i) for i in db.exec(select(Branch.id).where(Branch.town_id == town.id))]
            scopes += [(ScopeKind.UNIT, i) for i in db.exec(select(Unit.id).where(Unit.town_id == town.id,
                                                                                   col(Unit.active).is_(True)))]
            for period in PeriodKind:
                first, last = last_ended(period, today)
                if first < town.created_at.astimezone(ZoneInfo(town.timezone)).date().replace(day=1, month=1):
                    continue  # a period before the town's first year has nothing to report
                done = set(db.exec(select(Report.scope_kind, Report.scope_id).where(
                    Report.town_id == town.id, Report.period_kind == period.value,
                    Report.period_start == first)).all())
                wanted += [(town.id, kind, scope_id, period, first, last) for kind, scope_id in scopes
                           if (kind.value, scope_id) not in done]
    for town_id, kind, scope_id, period, first, last in wanted:
        try:
            with database.session(write=True) as db:
                made += _scheduled(db, town_id, kind, scope_id, period, first, last, now=now)
        except IntegrityError:
            log.info("report %s %s %s %s was made by another worker", town_id, kind, scope_id, first)
        except Exception:  # one report must not stop the others
            log.exception("report %s %s %s %s failed", town_id, kind, scope_id, first)
    return made


@use_case
def _scheduled(db: Session, town_id: int, kind: ScopeKind, scope_id: int, period: PeriodKind, first: date,
               last: date, *, now: datetime) -> int:
    _make(db, db.get(Town, town_id), kind, scope_id, period, first, last, None, now)
    return 1
