"""The words of every refusal, in English and in Chinese.

A refusal carries a `Message`: a key into the catalogues below and the parameters its
text needs. The API writes it in the reader's language; a key the Chinese catalogue
lacks reads in English. Titles are keyed `title.<code>`, one per problem code; the key
`<code>` alone is that code's general text, the Chinese answer to a refusal that only
has English words of its own. `validation.<type>` keys say in Chinese what pydantic
(or a validator of ours) says in English about one field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

ENGLISH = "en"
CHINESE = "zh"


@dataclass(frozen=True)
class Term:
    """A word that is an API value in English and a label in Chinese: a state, an action, a role."""

    english: str
    chinese: str


class Message:
    """A text to be written in the reader's language: a catalogue key and its parameters.

    `literal` is English given as it is, by code whose refusal has no key of its own;
    its Chinese is then the catalogue's text for `key` (the code's general text).
    Parameters may be Terms, Messages or lists of them, written in the same language.
    """

    __slots__ = ("key", "literal", "params")

    def __init__(self, key: str, literal: str | None = None, /, **params: object) -> None:
        self.key = key
        self.literal = literal
        self.params = params

    def text(self, language: str) -> str:
        if language == ENGLISH and self.literal is not None:
            return self.literal
        template = CATALOGUES.get(language, {}).get(self.key)
        if template is None:
            if language != ENGLISH:
                return self.text(ENGLISH)
            return self.key  # a key missing from the English catalogue: a bug, kept readable
        values = {name: _written(value, language) for name, value in self.params.items()}
        return template.format_map(_Unfilled(values))

    def __repr__(self) -> str:
        return f"Message({self.key!r}, {self.params!r})"


def title(code: str, language: str) -> str | None:
    """The title of problems with `code`, in `language` or else in English; None if it has none."""
    key = f"title.{code}"
    return CATALOGUES.get(language, {}).get(key) or EN.get(key)


def _written(value: object, language: str) -> str:
    if isinstance(value, Message):
        return value.text(language)
    if isinstance(value, Term):
        return value.chinese if language == CHINESE else value.english
    if isinstance(value, list | tuple):
        return ("、" if language == CHINESE else ", ").join(_written(v, language) for v in value)
    return str(value)


class _Unfilled(dict):
    # A template naming a parameter the raiser did not give shows the placeholder instead of
    # failing: a refusal must never turn into a 500 on its way out.
    def __missing__(self, name: str) -> str:
        return "{" + name + "}"


EN: dict[str, str] = {
    # Titles, one per problem code.
    "title.domain-error": "Request refused",
    "title.invalid-transition": "Action not allowed in the current state",
    "title.not-permitted": "Not permitted",
    "title.rule-violation": "Rule violated",
    "title.not-found": "Not found",
    "title.order-changed": "Order changed while the request ran",
    "title.conflict": "Conflict",
    "title.sign-in-failed": "Sign-in failed",
    "title.upstream-unavailable": "Upstream service unavailable",
    "title.upstream-rate-limited": "Upstream service rate limited",
    "title.upstream-refused": "Upstream service refused the request",
    "title.wechat-not-configured": "WeChat sign-in is not configured",
    "title.database-conflict": "Concurrent changes conflicted",
    "title.database-timeout": "Database timeout",
    "title.database-unavailable": "Service unavailable",
    "title.too-many-attempts": "Too many attempts",
    "title.too-many-uploads": "Too many uploads",
    "title.unsupported-media-type": "Unsupported media type",
    "title.too-many-orders": "Too many orders",
    "title.payload-too-large": "Content too large",
    "title.idempotency-key-reused": "Idempotency-Key reused with a different request",
    "title.roster-invalid": "The roster has errors",
    "title.malformed-body": "Malformed body",
    "title.validation-error": "Invalid request",
    "title.photo-link-invalid": "Photo link not valid",
    "title.photo-link-expired": "Photo link expired",
    "title.bad-request": "Bad request",
    "title.method-not-allowed": "Method not allowed",
    "title.too-many-requests": "Too many requests",
    "title.internal-error": "Internal server error",
    "title.service-unavailable": "Service unavailable",
    # Each code's general text.
    "domain-error": "the request was refused",
    "invalid-transition": "cannot {action} an order that is {state}; allowed: {allowed}",
    "not-permitted": "you may not do this",
    "rule-violation": "the request breaks a rule",
    "not-found": "not found",
    "order-changed": "the order changed while this request ran; it is {state} now; read it again and retry",
    "conflict": "the request conflicts with what is stored",
    "sign-in-failed": "sign in again",
    "upstream-unavailable": "WeChat is not answering; try again shortly",
    "upstream-rate-limited": "WeChat is rate limiting this app; try again shortly",
    "upstream-refused": "WeChat refused the request",
    "wechat-not-configured": "WeChat sign-in is not set up on this server (WECHAT_APPID, WECHAT_SECRET)",
    "database-conflict": "other changes to the same records got in the way; try again",
    "database-timeout": "the database took too long: a record is held by other work, or the query is too big;"
                        " try again shortly",
    "database-unavailable": "the database is not reachable right now; try again shortly",
    "too-many-attempts": "too many attempts; try again in {retry_after} s",
    "too-many-uploads": "too many uploads; try again in {retry_after} s",
    "unsupported-media-type": "this operation does not take a body of that media type",
    "photo.unsupported-type": "only JPEG, PNG and WebP images are accepted",
    "too-many-orders": "too many orders; try again in {retry_after} s",
    "orders.too-many": "at most {limit} orders an hour from one {what}; try again in {retry_after} s",
    "payload-too-large": "the request is too large",
    "idempotency-key-reused": "this Idempotency-Key was used for a different order",
    "roster-invalid": "{rows} row(s) of the roster have errors; nothing was imported. See errors.",
    "malformed-body": "the body cannot be parsed",
    "validation-error": "the request is not valid; see errors",
    "photo-link-invalid": "this photo link is not valid; read the order again for a new one",
    "photo-link-expired": "this photo link has expired; read the order again for a new one",
    "bad-request": "the request cannot be understood",
    "method-not-allowed": "this method is not allowed here",
    "too-many-requests": "too many requests; try again shortly",
    "internal-error": "an unexpected error occurred; it has been logged",
    "service-unavailable": "the service is not available; try again shortly",
    # Requests the framework refuses.
    "route.not-found": "nothing is at this address",
    "body.too-large": "the request body may be at most {max_bytes} bytes",
    "body.not-utf8": "the body is not valid UTF-8",
    "body.bom": "the body starts with a byte order mark; send UTF-8 without one (RFC 8259)",
    "body.nul": "the body holds NUL bytes, which JSON never does: UTF-16 or UTF-32? send UTF-8",
    "body.too-deep": "the body is nested too deeply to be parsed",
    "body.bad-form": "the form cannot be parsed: {why}",
    "body.bad-json": "the body is not valid JSON: {why} at position {position}",
    "ready.no-database": "the database cannot be reached",
    "ready.schema-behind": "the schema is at {current}, the code needs {head}",
    # Signing in.
    "sign-in.wrong-password": "phone or password is wrong, or the account is disabled",
    "sign-in.account-gone": "the account no longer exists or is disabled",
    "sign-in.too-many-for-phone": "too many sign-in attempts for this phone; try again in {retry_after} s",
    "sign-in.too-many-for-address": "too many sign-in attempts for this address; try again in {retry_after} s",
    "wechat.unreachable": "WeChat did not answer usefully: {error}",
    "wechat.bad-code": "WeChat refused the code (errcode {errcode}); get a new one",
    "wechat.rate-limited": "WeChat is rate limiting this app; try again shortly",
    "wechat.busy": "WeChat is busy; try again shortly",
    "wechat.refused": "WeChat refused the request (errcode {errcode})",
    "wechat.not-configured": "WeChat is not configured; type the phone number instead",
    # Orders and their moves.
    "order.not-found": "order {id} not found",
    "order.category-not-offered": "category {id} is not offered in this town",
    "order.grid-needed": "choose a grid, or set the grid you live in on your profile",
    "order.grid-required-on-behalf": "grid_id is required when placing an order on a resident's behalf",
    "order.grid-not-yours": "you may not place orders for grid {id}",
    "order.contact-for-staff": "contact_name, contact_phone and channel are for staff placing on a resident's behalf",
    "order.contact-required": "contact_name and contact_phone of the resident are required",
    "move.role-may-not": "a {role} may not {action} an order",
    "transfer.grid-not-in-town": "grid {id} is not a grid of this town",
    "transfer.same-grid": "the order is already in that grid",
    "transfer.no-grid-worker": "grid {id} has no active grid worker to claim the order",
    "dispatch.not-a-member": "staff {id} is not an active member of this branch",
    "rating.stars": "a rating is 1 to 5 stars",
    "todo.none-for-role": "a {role} has no to-do list",
    # Photos.
    "photo.not-found": "photo not found",
    "photo.file-missing": "the photo file is missing",
    "photo.too-large": "an image may be at most {max_bytes} bytes",
    "photo.per-hour": "at most {per_hour} uploads an hour; try again in {retry_after} s",
    "photo.unattached": "at most {unattached_max} uploads may wait unused; attach some to an order,"
                        " or try again in {retry_after} s",
    "photo.too-many": "at most {limit} photos at a time",
    "photo.not-yours": "some photos are not among your unused uploads",
    # Places, people and numbers.
    "town.not-found": "town {id} not found",
    "board.not-found": "town {id} has no public board",
    "branch.not-found": "branch {id} not found",
    "grid.not-found": "grid {id} not found",
    "category.not-found": "category {id} not found",
    "staff.not-found": "staff {id} not found",
    "dashboard-token.not-found": "dashboard token {id} not found",
    "resident.not-found": "resident not found",
    "grid.absent": "grid {id} does not exist",
    "inbox.not-found": "inbox item {id} not found",
    "inbox.people-only": "only people have an inbox",
    "delivery.not-found": "delivery {id} not found",
    "delivery.not-retryable": "delivery {id} is {status}; only {retryable} can be retried",
    "dashboard.asset-not-found": "no dashboard asset {name}",
    "branch-members.secretary-only": "only a branch secretary sees the branch's members",
    "counts.for-whom": "for town admins and dashboards",
    "stats.for-whom": "the numbers are for town admins, branch secretaries and dashboards",
    "period.reversed": "date_from is after date_to",
    "period.too-long": "a period is at most {days} days",
    "ledger.for-whom": "the ledger is for town admins and branch secretaries",
    "ledger.no-branch": "a secretary without a branch has no ledger",
    # The admin's town.
    "admin.only": "only a town admin may do this",
    "admin.taken": "conflicts with a stored row: the name or phone is taken",
    "admin.used-by-grids": "still used by grids; move or remove those first",
    "admin.used-by-staff": "still used by staff; move or remove those first",
    "admin.used-by-orders": "still used by orders; move or remove those first",
    "admin.used-by-residents": "still used by residents; move or remove those first",
    "admin.category-used": "still used by orders (set active to false to retire it); move or remove those first",
    "admin.grid-has-open-orders": "the grid has open orders; finish or transfer them before moving the grid",
    "admin.branch-not-in-town": "branch {id} is not a branch of this town",
    "admin.self-disable": "an admin may not disable their own account",
    "admin.member-holds-orders": "the member holds open orders; have them declined or finished first",
    "admin.needs-branch": "a {role} belongs to a branch: give branch_id",
    "admin.grids-for-workers": "only grid workers serve grids",
    "admin.grids-not-in-town": "not grids of this town: {ids}",
    "building.not-found": "building {id} not found",
    "household.not-found": "household {id} not found",
    "admin.grid-not-in-town": "grid {id} is not a grid of this town",
    "admin.building-not-in-grid": "building {id} is not a building of grid {grid_id}",
    "admin.not-a-member-here": "staff {id} is not an active party member of the grid's branch",
    "admin.unknown-flags": "the town does not use these household flags: {flags} (see household_flags of the town)",
    "admin.used-by-buildings": "still used by buildings; move or remove those first",
    "admin.used-by-households": "still used by households; move or remove those first",
    "admin.household-taken": "the grid already has a household at this address, or the member already has a home household",
    "admin.building-taken": "the grid already has a building of this name",
    # 吹哨报到.
    "unit.not-found": "unit {id} not found",
    "unit.readers-only": "only the town admin and branch secretaries read the units",
    "admin.unit-taken": "the town already has a unit of this name",
    "admin.needs-unit": "a unit's staff belong to a unit: give unit_id",
    "admin.unit-not-in-town": "unit {id} is not a unit of this town",
    "admin.unit-for-unit-staff": "only a unit's staff belong to a unit",
    "whistle.not-found": "whistle {id} not found",
    "whistle.unit-not-in-town": "not units of this town: {ids}",
    "whistle.unit-inactive": "these units are inactive: {ids}",
    "whistle.unit-has-no-staff": "these units have no active staff to report in: {ids}",
    "whistle.already-whistled": "the order already waits for these units: {ids}",
    "whistle.invalid-move": "cannot {action} a whistle that is {state}; allowed: {allowed}",
    # Rosters.
    "roster.too-large": "a roster may be at most {max_bytes} bytes",
    "roster.xls": "this is an old .xls workbook: save it as .xlsx or CSV (UTF-8) and try again",
    "roster.unpacked-too-large": "the workbook is too large once unpacked; split it or save it as CSV",
    "roster.not-xlsx": "the file is not a readable .xlsx workbook",
    "roster.truncated": "the workbook could not be read to the end",
    "roster.encoding": "the CSV is neither UTF-8 nor GB18030 (GBK) text",
    "roster.bad-csv": "the CSV could not be read: {error}",
    "roster.too-many-rows": "a roster may have at most {max_rows} rows; split the file",
}

ZH: dict[str, str] = {
    "title.domain-error": "请求被拒绝",
    "title.invalid-transition": "当前状态下不能这样操作",
    "title.not-permitted": "无权操作",
    "title.rule-violation": "不符合规则",
    "title.not-found": "未找到",
    "title.order-changed": "工单已被他人处理",
    "title.conflict": "与已有数据冲突",
    "title.sign-in-failed": "登录失败",
    "title.upstream-unavailable": "微信服务暂时不可用",
    "title.wechat-not-configured": "未开通微信登录",
    "title.upstream-rate-limited": "微信服务繁忙",
    "title.upstream-refused": "微信拒绝了请求",
    "title.database-conflict": "同时修改发生冲突",
    "title.database-timeout": "数据库超时",
    "title.database-unavailable": "服务暂时不可用",
    "title.too-many-attempts": "尝试次数过多",
    "title.too-many-uploads": "上传过多",
    "title.unsupported-media-type": "不支持的内容类型",
    "title.too-many-orders": "点单过于频繁",
    "title.payload-too-large": "内容过大",
    "title.idempotency-key-reused": "重复的提交标识",
    "title.roster-invalid": "名单有误",
    "title.malformed-body": "请求内容无法解析",
    "title.validation-error": "填写的内容有误",
    "title.photo-link-invalid": "图片链接无效",
    "title.photo-link-expired": "图片链接已过期",
    "title.bad-request": "请求有误",
    "title.method-not-allowed": "不支持的请求方法",
    "title.too-many-requests": "请求过于频繁",
    "title.internal-error": "服务器内部错误",
    "title.service-unavailable": "服务暂时不可用",
    "domain-error": "请求被拒绝",
    "invalid-transition": "工单当前为「{state}」，不能「{action}」；现在可以：{allowed}",
    "not-permitted": "你没有权限进行这项操作",
    "rule-violation": "请求不符合规则",
    "not-found": "找不到，或你无权查看",
    "order-changed": "工单刚刚被他人处理，现为「{state}」，请刷新后再试",
    "conflict": "与已保存的数据冲突",
    "sign-in-failed": "未登录或登录已失效，请重新登录",
    "upstream-unavailable": "微信暂时没有响应，请稍后再试",
    "wechat-not-configured": "本服务尚未开通微信登录，请联系管理员",
    "upstream-rate-limited": "微信请求过于频繁，请稍后再试",
    "upstream-refused": "微信拒绝了请求",
    "database-conflict": "有其他修改同时进行，请重试",
    "database-timeout": "系统繁忙，请稍后再试",
    "database-unavailable": "服务暂时不可用，请稍后再试",
    "too-many-attempts": "尝试次数过多，请 {retry_after} 秒后再试",
    "too-many-uploads": "上传过多，请 {retry_after} 秒后再试",
    "unsupported-media-type": "请求内容的类型不受支持",
    "photo.unsupported-type": "只能上传 JPEG、PNG 或 WebP 图片",
    "too-many-orders": "点单过于频繁，请 {retry_after} 秒后再试",
    "orders.too-many": "每小时最多点单 {limit} 次，请 {retry_after} 秒后再试",
    "payload-too-large": "内容过大",
    "idempotency-key-reused": "这个 Idempotency-Key 已用于另一笔工单",
    "roster-invalid": "名单中有 {rows} 行有误，未导入任何内容，见 errors",
    "malformed-body": "请求内容无法解析",
    "validation-error": "填写的内容不符合要求，请检查后再试",
    "photo-link-invalid": "图片链接无效，请刷新工单后重新打开",
    "photo-link-expired": "图片链接已过期，请刷新工单后重新打开",
    "bad-request": "请求有误",
    "method-not-allowed": "这个地址不支持该请求方法",
    "too-many-requests": "请求过于频繁，请稍后再试",
    "internal-error": "服务器出现意外错误，已记录",
    "service-unavailable": "服务暂时不可用，请稍后再试",
    "route.not-found": "这个地址不存在",
    "body.too-large": "请求内容不能超过 {max_bytes} 字节",
    "body.not-utf8": "请求内容不是有效的 UTF-8 文本",
    "body.bom": "请求内容以字节顺序标记（BOM）开头，请发送不带 BOM 的 UTF-8",
    "body.nul": "请求内容含有 NUL 字节（是 UTF-16 或 UTF-32 吗？），请发送 UTF-8",
    "body.too-deep": "请求内容嵌套过深，无法解析",
    "body.bad-form": "表单无法解析：{why}",
    "body.bad-json": "请求内容不是有效的 JSON（第 {position} 个字符附近）",
    "ready.no-database": "无法连接数据库",
    "ready.schema-behind": "数据库结构为 {current}，程序需要 {head}",
    "sign-in.wrong-password": "手机号或密码错误，或账号已停用",
    "sign-in.account-gone": "账号不存在或已停用",
    "sign-in.too-many-for-phone": "这个手机号登录尝试次数过多，请 {retry_after} 秒后再试",
    "sign-in.too-many-for-address": "当前网络登录尝试次数过多，请 {retry_after} 秒后再试",
    "wechat.unreachable": "微信暂时没有响应，请稍后再试",
    "wechat.bad-code": "微信授权码无效或已过期（错误码 {errcode}），请重新获取",
    "wechat.rate-limited": "微信请求过于频繁，请稍后再试",
    "wechat.busy": "微信繁忙，请稍后再试",
    "wechat.refused": "微信拒绝了请求（错误码 {errcode}）",
    "wechat.not-configured": "未接入微信，请直接填写手机号",
    "order.not-found": "找不到工单 {id}",
    "order.category-not-offered": "本镇没有这个类别（{id}）",
    "order.grid-needed": "请选择网格，或先在个人资料中设置所在网格",
    "order.grid-required-on-behalf": "代群众点单时必须选择网格（grid_id）",
    "order.grid-not-yours": "你不能为网格 {id} 点单",
    "order.contact-for-staff": "contact_name、contact_phone 和 channel 只用于工作人员代群众点单",
    "order.contact-required": "请填写群众的姓名和电话（contact_name、contact_phone）",
    "move.role-may-not": "{role}不能对工单进行「{action}」",
    "transfer.grid-not-in-town": "网格 {id} 不属于本镇",
    "transfer.same-grid": "工单已在这个网格",
    "transfer.no-grid-worker": "网格 {id} 没有在岗的网格员可以领单",
    "dispatch.not-a-member": "工作人员 {id} 不是本支部在岗的党员",
    "rating.stars": "评价为 1 到 5 星",
    "todo.none-for-role": "{role}没有待办事项",
    "photo.not-found": "找不到这张图片",
    "photo.file-missing": "图片文件已丢失",
    "photo.too-large": "图片不能超过 {max_bytes} 字节",
    "photo.per-hour": "每小时最多上传 {per_hour} 张图片，请 {retry_after} 秒后再试",
    "photo.unattached": "最多只能有 {unattached_max} 张尚未使用的图片；请先在工单中用掉一些，或 {retry_after} 秒后再试",
    "photo.too-many": "一次最多 {limit} 张图片",
    "photo.not-yours": "有图片不是你上传且尚未使用的",
    "town.not-found": "找不到镇 {id}",
    "board.not-found": "镇 {id} 没有开放晒单榜",
    "branch.not-found": "找不到支部 {id}",
    "grid.not-found": "找不到网格 {id}",
    "category.not-found": "找不到类别 {id}",
    "staff.not-found": "找不到工作人员 {id}",
    "dashboard-token.not-found": "找不到看板令牌 {id}",
    "resident.not-found": "找不到群众账号",
    "grid.absent": "网格 {id} 不存在",
    "inbox.not-found": "找不到消息 {id}",
    "inbox.people-only": "只有个人账号有消息箱",
    "delivery.not-found": "找不到投递记录 {id}",
    "delivery.not-retryable": "投递记录 {id} 的状态是 {status}，只有 {retryable} 状态可以重发",
    "dashboard.asset-not-found": "看板没有文件 {name}",
    "branch-members.secretary-only": "只有支部书记可以查看本支部党员",
    "counts.for-whom": "仅限镇管理员和看板查看",
    "stats.for-whom": "统计数据仅限镇管理员、支部书记和看板查看",
    "period.reversed": "开始日期晚于结束日期",
    "period.too-long": "时间段最长 {days} 天",
    "ledger.for-whom": "台账仅限镇管理员和支部书记导出",
    "ledger.no-branch": "未分配支部的支部书记没有台账",
    "admin.only": "只有镇管理员可以进行这项操作",
    "admin.taken": "名称或手机号已被使用",
    "admin.used-by-grids": "仍有网格属于它，请先移走或删除这些网格",
    "admin.used-by-staff": "仍有工作人员属于它，请先调走这些人员",
    "admin.used-by-orders": "仍有工单关联它，不能删除",
    "admin.used-by-residents": "仍有群众选择了这个网格，不能删除",
    "admin.category-used": "仍有工单使用这个类别，不能删除；可将 active 设为 false 停用",
    "admin.grid-has-open-orders": "这个网格还有未办结的工单，请先办结或转派后再调整网格",
    "admin.branch-not-in-town": "支部 {id} 不属于本镇",
    "admin.self-disable": "不能停用自己的账号",
    "admin.member-holds-orders": "这位党员还有未办结的工单，请先退回或办结",
    "admin.needs-branch": "{role}必须属于一个支部，请填写 branch_id",
    "admin.grids-for-workers": "只有网格员负责网格",
    "admin.grids-not-in-town": "这些网格不属于本镇：{ids}",
    "building.not-found": "找不到楼栋 {id}",
    "household.not-found": "找不到住户 {id}",
    "admin.grid-not-in-town": "网格 {id} 不属于本镇",
    "admin.building-not-in-grid": "楼栋 {id} 不属于网格 {grid_id}",
    "admin.not-a-member-here": "工作人员 {id} 不是该网格所在支部的在职党员",
    "admin.unknown-flags": "本镇未设置这些住户标签：{flags}（见镇的 household_flags）",
    "admin.used-by-buildings": "仍有楼栋属于它，请先移走或删除这些楼栋",
    "admin.used-by-households": "仍有住户属于它，请先移走或删除这些住户",
    "admin.household-taken": "该网格已有这个地址的住户，或这位党员已登记了自己的住户（党员中心户）",
    "admin.building-taken": "该网格已有同名楼栋",
    "unit.not-found": "找不到共建单位 {id}",
    "unit.readers-only": "只有镇党委管理员和支部书记可以查看共建单位",
    "admin.unit-taken": "本镇已有同名共建单位",
    "admin.needs-unit": "共建单位人员必须属于一个单位，请填写 unit_id",
    "admin.unit-not-in-town": "共建单位 {id} 不属于本镇",
    "admin.unit-for-unit-staff": "只有共建单位人员属于共建单位",
    "whistle.not-found": "找不到吹哨记录 {id}",
    "whistle.unit-not-in-town": "这些共建单位不属于本镇：{ids}",
    "whistle.unit-inactive": "这些共建单位已停用：{ids}",
    "whistle.unit-has-no-staff": "这些共建单位没有可报到的在职人员：{ids}",
    "whistle.already-whistled": "工单已在等待这些共建单位：{ids}",
    "whistle.invalid-move": "该吹哨当前为「{state}」，不能「{action}」；现在可以：{allowed}",
    "roster.too-large": "名单文件不能超过 {max_bytes} 字节",
    "roster.xls": "这是旧版 .xls 文件，请另存为 .xlsx 或 CSV（UTF-8）后再试",
    "roster.unpacked-too-large": "工作簿解压后过大，请拆分或另存为 CSV",
    "roster.not-xlsx": "文件不是可读取的 .xlsx 工作簿",
    "roster.truncated": "工作簿无法完整读取",
    "roster.encoding": "CSV 既不是 UTF-8 也不是 GB18030（GBK）编码",
    "roster.bad-csv": "CSV 无法读取：{error}",
    "roster.too-many-rows": "名单最多 {max_rows} 行，请拆分文件",
    # One field of a request, as pydantic and our validators find it.
    "validation.missing": "必填",
    "validation.extra_forbidden": "不接受这个字段",
    "validation.string_type": "应为文本",
    "validation.string_too_short": "至少 {min_length} 个字符",
    "validation.string_too_long": "最多 {max_length} 个字符",
    "validation.string_pattern_mismatch": "格式不正确",
    "validation.int_type": "应为整数",
    "validation.int_parsing": "应为整数",
    "validation.int_from_float": "应为整数",
    "validation.float_type": "应为数字",
    "validation.float_parsing": "应为数字",
    "validation.bool_type": "应为 true 或 false",
    "validation.bool_parsing": "应为 true 或 false",
    "validation.greater_than": "应大于 {gt}",
    "validation.greater_than_equal": "应不小于 {ge}",
    "validation.less_than": "应小于 {lt}",
    "validation.less_than_equal": "应不大于 {le}",
    "validation.too_short": "至少 {min_length} 项",
    "validation.too_long": "最多 {max_length} 项",
    "validation.list_type": "应为列表",
    "validation.enum": "应为以下之一：{expected}",
    "validation.literal_error": "应为以下之一：{expected}",
    "validation.model_type": "应为 JSON 对象",
    "validation.model_attributes_type": "应为 JSON 对象",
    "validation.dict_type": "应为 JSON 对象",
    "validation.date_type": "应为日期（YYYY-MM-DD）",
    "validation.date_parsing": "应为日期（YYYY-MM-DD）",
    "validation.date_from_datetime_parsing": "应为日期（YYYY-MM-DD）",
    "validation.coordinates_pair": "纬度和经度须同时填写",
    "validation.one_phone": "phone 和 phone_code 只能填一个",
    "validation.not_nullable": "不能为 null：{fields}",
    "validation.unknown_time_zone": "未知的时区 {value}",
}

CATALOGUES: Mapping[str, Mapping[str, str]] = {ENGLISH: EN, CHINESE: ZH}
