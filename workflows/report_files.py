"""A report's figures as files: an XLSX workbook (openpyxl) and a printable PDF (reportlab), each
with a chart of the orders by category. Pure: figures in, bytes out.

The PDF sets Chinese in the CID font STSong-Light, which every PDF reader carries, so no
font file ships with the service; figures are set in Helvetica.
"""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Font
from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from domain.projects import PROJECT_STATE_LABELS, ProjectState
from domain.states import OrderState
from workflows.report_figures import ReportFigures

CJK = "STSong-Light"
LATIN = "Helvetica"
pdfmetrics.registerFont(UnicodeCIDFont(CJK))


def percent(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}%"


def summary_rows(f: ReportFigures) -> list[tuple[str, str]]:
    """The report's headline figures as (label, value), in the order both files show them."""
    return [
        ("受理诉求", str(f.placed)), ("已办结", str(f.closed)), ("已撤单", str(f.cancelled)),
        ("不予受理", str(f.rejected)), ("响应率", percent(f.response_rate)), ("解决率（办结率）", percent(f.resolution_rate)),
        ("满意率", percent(f.satisfaction_rate)), ("超时环节", str(f.late_moves)),
        ("平均办结用时（小时）", "—" if f.avg_hours_to_close is None else f"{f.avg_hours_to_close:.1f}"),
        *((f"{stage}平均用时（小时）", "—" if hours is None else f"{hours:.1f}") for stage, hours in f.stage_hours.items()),
    ]


# --------------------------------------------------------------------------- XLSX


def write_xlsx(f: ReportFigures) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "概况"
    sheet.append([f.title])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append([f"{f.town} · {f.scope_label} {f.scope_name} · {f.date_from:%Y-%m-%d} 至 {f.date_to:%Y-%m-%d}"])
    sheet.append([])
    for label, value in summary_rows(f):
        sheet.append([label, value])
    sheet.append([])
    sheet.append(["状态", "工单数"])
    for state in OrderState:
        sheet.append([state.label, f.by_state.get(state.value, 0)])
    sheet.column_dimensions["A"].width = 24
    sheet.column_dimensions["B"].width = 16

    categories = book.create_sheet("分类")
    categories.append(["类别", "受理", "办结"])
    for c in f.by_category:
        categories.append([c.name, c.placed, c.closed])
    if f.by_category:
        chart = BarChart()
        chart.title = "各类别受理与办结"
        chart.add_data(Reference(categories, min_col=2, max_col=3, min_row=1, max_row=len(f.by_category) + 1),
                       titles_from_data=True)
        chart.set_categories(Reference(categories, min_col=1, min_row=2, max_row=len(f.by_category) + 1))
        categories.add_chart(chart, "E2")
    _table(book, "渠道", ["渠道", "受理", "办结"], [[c.name, c.placed, c.closed] for c in f.by_channel])
    _table(book, "热点问题", ["类别", "网格", "工单数"], [[h.category, h.grid, h.orders] for h in f.hot_issues])
    _table(book, "党员积分", ["党员", "支部", "积分", "星级"], [[m.member, m.branch, m.points, m.stars] for m in f.members])
    _table(book, "支部星级", ["支部", "得分", "星级"], [[b.branch, b.index, b.stars] for b in f.branches])
    _table(book, "项目", ["状态", "项目数"], [[PROJECT_STATE_LABELS[ProjectState(s)], n] for s, n in f.projects.items()])
    if f.whistles:
        _table(book, "吹哨报到", ["状态", "次数"], [[s, n] for s, n in sorted(f.whistles.items())])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _table(book: Workbook, title: str, header: list[str], rows: list[list]) -> None:
    sheet = book.create_sheet(title)
    sheet.append(header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(row)
    sheet.column_dimensions["A"].width = 20


# --------------------------------------------------------------------------- PDF


_TITLE = ParagraphStyle("title", fontName=CJK, fontSize=18, leading=24, spaceAfter=4)
_TEXT = ParagraphStyle("text", fontName=CJK, fontSize=10, leading=14)
_HEAD = ParagraphStyle("head", fontName=CJK, fontSize=13, leading=18, spaceBefore=10, spaceAfter=4)


def _grid(rows: list[list[str]], widths: list[float], numeric_from: int = 1) -> Table:
    table = Table(rows, colWidths=widths, hAlign="LEFT")
    table.setStyle(TableStyle([
        ("FONTNAME", (0, 0), (-1, -1), CJK),
        ("FONTNAME", (numeric_from, 1), (-1, -1), LATIN),
        ("FONTSIZE", (0, 0), (-1, -1), 9.5),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8edf3")),
        ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#9aa5b1")),
        ("ALIGN", (numeric_from, 1), (-1, -1), "RIGHT"),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
    ]))
    return table


def _chart(f: ReportFigures) -> Drawing:
    shown = f.by_category[:8]
    drawing = Drawing(170 * mm, 62 * mm)
    chart = VerticalBarChart()
    chart.x, chart.y, chart.width, chart.height = 12 * mm, 14 * mm, 150 * mm, 42 * mm
    chart.data = [[c.placed for c in shown], [c.closed for c in shown]]
    chart.categoryAxis.categoryNames = [c.name[:6] for c in shown]
    chart.categoryAxis.labels.fontName = CJK
    chart.categoryAxis.labels.fontSize = 7
    chart.valueAxis.valueMin = 0
    chart.valueAxis.labels.fontName = LATIN
    chart.bars[0].fillColor = colors.HexColor("#3b82f6")
    chart.bars[1].fillColor = colors.HexColor("#22c55e")
    drawing.add(chart)
    drawing.add(String(12 * mm, 58 * mm, "各类别受理（蓝）与办结（绿）", fontName=CJK, fontSize=9))
    return drawing


def write_pdf(f: ReportFigures) -> bytes:
    out = io.BytesIO()
    document = SimpleDocTemplate(out, pagesize=A4, title=f.title, author=f.town, leftMargin=18 * mm,
                                 rightMargin=18 * mm, topMargin=16 * mm, bottomMargin=16 * mm)
    story = [
        Paragraph(f.title, _TITLE),
        Paragraph(f"{f.town} · {f.scope_label} {f.scope_name} · {f.date_from:%Y-%m-%d} 至 {f.date_to:%Y-%m-%d}", _TEXT),
        Spacer(1, 6 * mm),
        _grid([["指标", "数值"], *[[label, value] for label, value in summary_rows(f)]], [70 * mm, 40 * mm]),
    ]
    if f.by_category:
        story += [Paragraph("各类别诉求", _HEAD), _chart(f),
                  _grid([["类别", "受理", "办结"], *[[c.name, str(c.placed), str(c.closed)] for c in f.by_category]],
                        [70 * mm, 30 * mm, 30 * mm])]
    if f.by_channel:
        story += [Paragraph("点单渠道", _HEAD),
                  _grid([["渠道", "受理", "办结"], *[[c.name, str(c.placed), str(c.closed)] for c in f.by_channel]],
                        [70 * mm, 30 * mm, 30 * mm])]
    story += [Paragraph("热点问题", _HEAD)]
    story += [_grid([["类别", "网格", "工单数"], *[[h.category, h.grid, str(h.orders)] for h in f.hot_issues]],
                    [60 * mm, 60 * mm, 30 * mm], numeric_from=2)] if f.hot_issues else [
        Paragraph("本期没有同一网格同一类别反复出现的问题。", _TEXT)]
    if f.members:
        story += [Paragraph("党员积分", _HEAD),
                  _grid([["党员", "支部", "积分", "星级"],
                         *[[m.member, m.branch, str(m.points), "★" * m.stars] for m in f.members]],
                        [45 * mm, 60 * mm, 25 * mm, 30 * mm], numeric_from=2)]
    if f.branches:
        story += [Paragraph("支部星级", _HEAD),
                  _grid([["支部", "得分", "星级"],
                         *[[b.branch, "—" if b.index is None else f"{b.index:.1f}", "★" * b.stars]
                           for b in f.branches]], [70 * mm, 30 * mm, 30 * mm])]
    story += [Paragraph("项目", _HEAD),
              _grid([["状态", "项目数"], *[[PROJECT_STATE_LABELS[ProjectState(s)], str(n)]
                                         for s, n in f.projects.items()]], [70 * mm, 30 * mm])]
    story += [Spacer(1, 6 * mm), Paragraph(f"生成于 {f.generated_at:%Y-%m-%d %H:%M} UTC", _TEXT)]
    document.build(story)
    return out.getvalue()
