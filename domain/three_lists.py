"""三张清单: the community's needs (社区需求), the resources members and units offer (单位资源), and
the projects that match the two (共建项目).

Needs come two ways: counted from the open orders by category and place, and entered by
the community (a need no single order states: a reading room, a ramp for wheelchairs).
Resources are what a party member or a co-building unit offers: a skill, equipment,
money, volunteer hours, a venue. A need is matched to resources as a project; the
suggestions rank every active resource for a need and say why:

- it serves the need's category (+40);
- a word it is tagged with appears in the need (+20);
- it is of the need's own branch (a member of it, +20), or a unit of the town (+5);
- it is free (+10), or already committed to unfinished projects (−10 each).
Ties go to the older resource, so the order is stable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

CATEGORY = 40
TAG = 20
SAME_BRANCH = 20
TOWN_UNIT = 5
FREE = 10
COMMITTED = 10
MAX_TAGS = 10


class ResourceKind(StrEnum):
    SKILL = "skill"
    EQUIPMENT = "equipment"
    MONEY = "money"
    HOURS = "hours"
    VENUE = "venue"
    OTHER = "other"


RESOURCE_KIND_LABELS = {ResourceKind.SKILL: "技能", ResourceKind.EQUIPMENT: "设备", ResourceKind.MONEY: "资金",
                        ResourceKind.HOURS: "志愿时长", ResourceKind.VENUE: "场地", ResourceKind.OTHER: "其他"}


class NeedState(StrEnum):
    OPEN = "open"
    MATCHED = "matched"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return NEED_STATE_LABELS[self]


NEED_STATE_LABELS = {NeedState.OPEN: "待对接", NeedState.MATCHED: "已对接", NeedState.CLOSED: "已关闭"}

REASON_LABELS = {"category": "类别相符", "tag": "关键词相符", "same-branch": "同一支部", "town-unit": "共建单位",
                 "free": "当前空闲", "committed": "已承接项目"}


@dataclass(frozen=True)
class NeedFacts:
    text: str  # title and description
    category_id: int | None
    branch_id: int | None


@dataclass(frozen=True)
class ResourceFacts:
    resource_id: int
    category_ids: frozenset[int] = frozenset()
    tags: tuple[str, ...] = ()
    branch_id: int | None = None  # the offering member's branch
    is_unit: bool = False
    committed: int = 0  # unfinished projects it is matched to


@dataclass(frozen=True)
class MatchReason:
    code: str
    value: str | int
    weight: int

    @property
    def label(self) -> str:
        return REASON_LABELS[self.code]


@dataclass(frozen=True)
class Match:
    resource_id: int
    score: int
    reasons: tuple[MatchReason, ...] = field(default_factory=tuple)


def match(need: NeedFacts, resource: ResourceFacts) -> Match:
    reasons: list[MatchReason] = []
    if need.category_id is not None and need.category_id in resource.category_ids:
        reasons.append(MatchReason("category", need.category_id, CATEGORY))
    found = [t for t in resource.tags if t and t in need.text]
    if found:
        reasons.append(MatchReason("tag", "、".join(found), TAG))
    if resource.is_unit:
        reasons.append(MatchReason("town-unit", 1, TOWN_UNIT))
    elif need.branch_id is not None and resource.branch_id == need.branch_id:
        reasons.append(MatchReason("same-branch", 1, SAME_BRANCH))
    if resource.committed:
        reasons.append(MatchReason("committed", resource.committed, -COMMITTED * resource.committed))
    else:
        reasons.append(MatchReason("free", 1, FREE))
    return Match(resource.resource_id, sum(r.weight for r in reasons), tuple(reasons))


def rank(need: NeedFacts, resources: list[ResourceFacts]) -> list[Match]:
    """Best first; ties to the lower resource id."""
    return sorted((match(need, r) for r in resources), key=lambda m: (-m.score, m.resource_id))
