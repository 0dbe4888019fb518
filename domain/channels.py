"""Where an order came in from: the channels the town office counts orders by."""

from __future__ import annotations

from enum import StrEnum


class Channel(StrEnum):
    MINI_PROGRAM = "mini_program"  # the resident, in the WeChat mini-program
    VISIT = "visit"  # taken on a household visit (驻点直联), on the resident's behalf
    PHONE = "phone"  # taken by phone, on the resident's behalf
    HALL = "hall"  # said at the 群众说事厅


CHANNEL_LABELS: dict[Channel, str] = {
    Channel.MINI_PROGRAM: "小程序",
    Channel.VISIT: "走访",
    Channel.PHONE: "电话",
    Channel.HALL: "群众说事厅",
}


def channel_label(value: str) -> str:
    """The Chinese label of a channel; a channel of a later version reads as itself."""
    try:
        return CHANNEL_LABELS[Channel(value)]
    except ValueError:
        return value
