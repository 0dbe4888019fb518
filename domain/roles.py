"""Who acts on an order."""

from enum import StrEnum


class Role(StrEnum):
    RESIDENT = "resident"
    GRID_WORKER = "grid_worker"
    SECRETARY = "secretary"
    MEMBER = "member"
    TOWN_ADMIN = "town_admin"
    UNIT_STAFF = "unit_staff"  # staff of a co-building unit (共建单位), who see what is whistled to it
    DASHBOARD = "dashboard"
    # Another system of the city (a 12345 hotline platform, a city app) placing orders by Open311.
    CITY_PLATFORM = "city_platform"
    SYSTEM = "system"


STAFF_ROLES = frozenset({Role.GRID_WORKER, Role.SECRETARY, Role.MEMBER, Role.TOWN_ADMIN, Role.UNIT_STAFF})

ROLE_LABELS: dict[Role, str] = {
    Role.RESIDENT: "群众",
    Role.GRID_WORKER: "网格员",
    Role.SECRETARY: "支部书记",
    Role.MEMBER: "党员",
    Role.TOWN_ADMIN: "镇党委管理员",
    Role.UNIT_STAFF: "共建单位",
    Role.DASHBOARD: "看板",
    Role.CITY_PLATFORM: "城市平台",
    Role.SYSTEM: "系统",
}
