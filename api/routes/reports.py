"""The office's periodic reports over HTTP: made on demand, listed, downloaded as XLSX and PDF."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query
from fastapi.responses import Response

from api.deps import CurrentUser, Db, Now, Paging, PathId
from api.problems import problem_responses
from api.routing import api_router
from domain.reports import PeriodKind, ScopeKind
from workflows import ledger, reports
from workflows.paging import Page

router = api_router(prefix="/reports", tags=["reports"], responses=problem_responses(401, 403))


@router.post("", status_code=201, responses=problem_responses(404, body=True))
def make(body: reports.ReportRequest, user: CurrentUser, db: Db, now: Now) -> reports.ReportView:
    """Make a report now (again, if it was made): of the town, a branch, a grid or a unit, for a period."""
    return reports.generate_report(db, user, body, now=now, answer=reports.report_view)


@router.get("", responses=problem_responses(422))
def list_reports(user: CurrentUser, db: Db, page: Paging,
                 period_kind: Annotated[PeriodKind | None, Query()] = None,
                 scope_kind: Annotated[ScopeKind | None, Query()] = None) -> Page[reports.ReportView]:
    """The reports the caller may read, newest period first."""
    items, total = reports.list_reports(db, user, page, period_kind=period_kind, scope_kind=scope_kind)
    return Page(items=items, total=total, **vars(page))


def _file(content: bytes, media_type: str, report, extension: str) -> Response:
    ascii_name = f"report-{report.scope_kind}-{report.scope_id}-{report.period_start:%Y-%m-%d}.{extension}"
    return Response(content, media_type=media_type, headers={
        "Content-Disposition": ledger.content_disposition(ascii_name, f"{report.label}.{extension}"),
        "Cache-Control": "no-store"})


@router.get("/{report_id}.xlsx", response_class=Response, responses={
    200: {"content": {ledger.XLSX_MEDIA_TYPE: {}}}, **problem_responses(404, 422)})
def report_xlsx(report_id: PathId, user: CurrentUser, db: Db) -> Response:
    report = reports.get_report(db, user, report_id)
    return _file(report.xlsx, ledger.XLSX_MEDIA_TYPE, report, "xlsx")


@router.get("/{report_id}.pdf", response_class=Response, responses={
    200: {"content": {"application/pdf": {}}}, **problem_responses(404, 422)})
def report_pdf(report_id: PathId, user: CurrentUser, db: Db) -> Response:
    report = reports.get_report(db, user, report_id)
    return _file(report.pdf, "application/pdf", report, "pdf")


@router.get("/{report_id}", responses=problem_responses(404, 422))
def get_report(report_id: PathId, user: CurrentUser, db: Db) -> reports.ReportView:
    return reports.report_view(reports.get_report(db, user, report_id))
