"""The office's periodic reports: their periods (month, quarter, year), their scopes, hot issues.

A report counts the orders placed in a period (town days) in a scope — the town, a
branch, a grid, or a co-building unit (the orders whistled to it in the period) — with
the three rates, counts by category and channel, stage times, late moves, hot issues,
points and stars, and the year's projects. The scheduler makes each period's reports
once it has ended; an admin or secretary may make one on demand.
"""

from __future__ import annotations

from datetime import date, timedelta
from enum import StrEnum

# The same category in the same grid this many times in a period is a hot issue (热点问题).
HOT_ISSUE_MIN_ORDERS = 3


class PeriodKind(StrEnum):
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"


PERIOD_KIND_LABELS = {PeriodKind.MONTH: "月报", PeriodKind.QUARTER: "季报", PeriodKind.YEAR: "年报"}


class ScopeKind(StrEnum):
    TOWN = "town"
    BRANCH = "branch"
    GRID = "grid"
    UNIT = "unit"


SCOPE_KIND_LABELS = {ScopeKind.TOWN: "全镇", ScopeKind.BRANCH: "支部", ScopeKind.GRID: "网格", ScopeKind.UNIT: "共建单位"}


def period_of(kind: PeriodKind, day: date) -> tuple[date, date]:
    """The first and last day of the period of `kind` that holds `day`."""
    if kind is PeriodKind.YEAR:
        return date(day.year, 1, 1), date(day.year, 12, 31)
    months = 3 if kind is PeriodKind.QUARTER else 1
    first_month = (day.month - 1) // months * months + 1
    first = date(day.year, first_month, 1)
    after = date(day.year + (first_month + months > 12), (first_month + months - 1) % 12 + 1, 1)
    return first, after - timedelta(days=1)


def last_ended(kind: PeriodKind, today: date) -> tuple[date, date]:
    """The latest period of `kind` that ended before `today`."""
    first, _ = period_of(kind, today)
    return period_of(kind, first - timedelta(days=1))


def period_label(kind: PeriodKind, first: date) -> str:
    if kind is PeriodKind.YEAR:
        return f"{first.year}年"
    if kind is PeriodKind.QUARTER:
        return f"{first.year}年第{(first.month - 1) // 3 + 1}季度"
    return f"{first.year}年{first.month}月"


def hot_issues(counts: dict[tuple[int, int], int], minimum: int = HOT_ISSUE_MIN_ORDERS) -> list[tuple[int, int, int]]:
    """(category, grid, orders) placed at least `minimum` times, most first."""
    return sorted(((c, g, n) for (c, g), n in counts.items() if n >= minimum), key=lambda t: (-t[2], t[0], t[1]))
