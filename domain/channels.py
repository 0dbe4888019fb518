"""Where an order came in from: the channels the town office counts orders by."""

from __future__ import annotations

from enum import StrEnum

from domain.roles import Role


class Channel(StrEnum):
    MINI_PROGRAM = "mini_program"  # the resident, in the WeChat mini-program
    VISIT = "visit"  # taken on a household visit (驻点直联), on the resident's behalf
    PHONE = "phone"  # taken by phone, on the resident's behalf
    HALL = "hall"  # said at the 群众说事厅
    OPEN311 = "open311"  # from another system of the city, by Open311 GeoReport v2


CHANNEL_LABELS: dict[Channel, str] = {
    Channel.MINI_PROGRAM: "小程序",
    Channel.VISIT: "走访",
    Channel.PHONE: "电话",
    Channel.HALL: "群众说事厅",
    Channel.OPEN311: "城市平台",
}


def channel_label(value: str) -> str:
    """The Chinese label of a channel; a channel of a later version reads as itself."""
    try:
        return CHANNEL_LABELS[Channel(value)]
    except ValueError:
        return value


def placing_channel(role: Role, asked: str | None) -> Channel:
    """The channel an order comes in by: a resident's own is the mini-program; staff place on a
    resident's behalf, taken on a visit unless they say otherwise."""
    if role == Role.RESIDENT:
        return Channel.MINI_PROGRAM
    if role == Role.CITY_PLATFORM:
        return Channel.OPEN311
    return Channel(asked) if asked not in (None, Channel.MINI_PROGRAM.value) else Channel.VISIT


# Who places orders through each door (on the resident's behalf but for the mini-program).
PLACED_BY: dict[Channel, frozenset[Role]] = {
    Channel.MINI_PROGRAM: frozenset({Role.RESIDENT}),
    Channel.VISIT: frozenset({Role.GRID_WORKER, Role.MEMBER}),
    Channel.PHONE: frozenset({Role.GRID_WORKER, Role.MEMBER}),
    # 群众说事厅: whoever is on duty at the session, the branch secretary and the town office included.
    Channel.HALL: frozenset({Role.GRID_WORKER, Role.MEMBER, Role.SECRETARY, Role.TOWN_ADMIN}),
    Channel.OPEN311: frozenset({Role.CITY_PLATFORM}),
}

# Doors that open only through their own record: a hall's order is a matter said at a session.
RECORDED_ELSEWHERE = frozenset({Channel.HALL})
