"""The words of each notice, in Chinese, as the inbox and the robots show them."""

from __future__ import annotations

import re

from notifications.base import Notice

# Titles by kind, and where the audience needs other words, by (kind, audience).
TITLES = {
    "order.submit": "新的群众点单",
    ("order.submit", "household_carers"): "您联系的住户有新的诉求",
    "order.claim": "您的诉求已被网格领单",
    ("order.claim", "branch_secretaries"): "网格已领单,请派单",
    "order.transfer": "诉求已转到本网格",
    ("order.transfer", "resident"): "您的诉求已转交所属网格",
    "order.reject": "您的诉求不予受理",
    "order.cancel": "群众已撤单",
    "order.dispatch": "支部派单给您",
    ("order.dispatch", "resident"): "支部已派党员为您办理",
    ("order.dispatch", "action_team"): "支部派单给您所在的行动队",
    "order.decline": "党员退回派单,请重新派单",
    "order.accept": "党员已接单办理",
    "order.complete": "诉求已办结,请评价",
    "order.rate": "群众已评价",
    "order.reopen": "群众不满意,需重办",
    "order.auto_close": "评价期满,已默认办结",
    "order.closed_unsatisfied": "重办两次后仍不满意",
    "alert.reminder": "催办:工单已超时",
    "alert.escalation": "督办:工单超时未处理",
    # 吹哨报到.
    "order.whistle": "您的诉求已吹哨,相关部门将报到办理",
    ("order.whistle", "branch_secretaries"): "工单已加哨,更多共建单位报到",
    "whistle.whistled": "吹哨:请本单位报到",
    "order.report_in": "共建单位已报到",
    "order.unit_reply": "共建单位已回复办理情况",
    "order.unit_decline": "共建单位退回吹哨",
    "order.units_done": "诉求已由相关部门办结,请评价",
    ("order.units_done", "branch_secretaries"): "吹哨工单各单位已办结",
    "order.units_returned": "共建单位均已退回,请支部重新处理",
    "whistle.reminder": "催办:本单位吹哨报到已超时",
    ("whistle.reminder", "unit_staff"): "催办:本单位吹哨报到已超时",
    "whistle.escalation": "督办:共建单位吹哨报到超时",
    # 揭榜.
    "order.post_task": "支部发布揭榜任务,欢迎党员揭榜",
    "order.volunteer": "有党员揭榜,请选派",
    "order.take_task": "党员已揭榜领办",
    ("order.take_task", "resident"): "支部已派党员为您办理",
    "order.task_expired": "揭榜期满无人领办,请派单",
    "report.generated": "报告已生成",
}

# Reminding the resident in the rating stage is a request to rate, not a rebuke.
RATE_REMINDER = "请对办理结果进行评价"
FOLLOWING = "您关注的"


def title(notice: Notice) -> str:
    if notice.kind == "alert.reminder" and notice.payload.get("stage") == "rate":
        return RATE_REMINDER
    found = TITLES.get((notice.kind, notice.audience)) or TITLES.get(notice.kind, notice.kind)
    # A follower hears what the order's resident hears, as news of an order they follow.
    return f"{FOLLOWING}{found.removeprefix('您的')}" if notice.payload.get("following") else found



def markdown_safe(text: str) -> str:
    """Residents' words shown in a markdown message: no links, headings or emphasis of theirs."""
    return re.sub(r"([\\`*_\[\]()<>#!|~])", r"\\\1", text)


def body(notice: Notice, *, markdown: bool = False) -> str:
    """One line about the order; with `markdown`, the words people typed cannot format it."""
    p = notice.payload
    typed = markdown_safe if markdown else str
    if notice.order_id is None and p.get("report_id"):
        return f"{p.get('label', '')}:可在报告列表下载 XLSX 与 PDF"[:500]
    parts = [f"工单 #{notice.order_id}", p.get("category", ""), f"「{typed(p.get('summary', ''))}」",
             f"当前状态:{p.get('state_label', '')}"]
    if p.get("unit_name"):
        parts.append(f"单位:{typed(p['unit_name'])}")
    if p.get("note"):
        parts.append(f"说明:{typed(p['note'])}")
    if p.get("overdue_seconds"):
        parts.append(f"已超时 {int(p['overdue_seconds']) // 60} 分钟")
    if p.get("round"):
        parts.append(f"第 {p['round']} 次{p.get('alert_label', '')}")
    return " ".join(x for x in parts if x)[:500]
