"""A demo town to drive the whole loop at once: 青山镇, 3 branches, 8 grids, ~20 members.

Orders are moved through the real use cases, so their timelines and outbox rows are
what the service itself would have written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlmodel import select

from domain.halls import MatterOutcome, SessionKind
from domain.places import parse_boundary
from domain.points import Activity
from domain.roles import Role
from storage.engine import Database
from storage.models import (
    Branch, Building, Category, Grid, GridWorkerGrid, Household, Resident, Staff, Town, Unit, Whistle,
)
from workflows import moves
from workflows.identity import ProfileUpdate, update_profile
from workflows.inputs import (
    CompleteRequest, DispatchRequest, OptionalReason, OrderDraft, RatingRequest, RejectRequest, TransferRequest,
)
from workflows.photos import store_photo
from workflows.placing import place_order
from workflows.places import set_outline
from workflows.principal import Principal
from workflows.action_team_inputs import ActionTeamCreate
from workflows.action_teams import create_team as create_action_team
from workflows.passbook import ManualEntry, grant_points
from workflows.tasks import PostTask, Volunteer, post_task, volunteer
from workflows.hall_inputs import HallCreate, MatterCreate, SessionCreate
from workflows.halls import create_hall, create_session, record_matter
from workflows.visit_inputs import TeamCreate, VisitCreate, VisitNeed
from workflows.visits import create_team, record_visit
from workflows.whistle_inputs import WhistleRequest
from workflows.whistles import report_in, whistle_order
from infra.images import solid_png
from infra.passwords import hash_password

TOWN_NAME = "青山镇"
DEMO_PASSWORD = "wudan-demo-2026"

BRANCHES = [
    ("东湖村党支部", "village", ["东湖村第一网格", "东湖村第二网格", "东湖村第三网格"]),
    ("柳营村党支部", "village", ["柳营村第一网格", "柳营村第二网格"]),
    ("新城社区党支部", "community", ["新城社区第一网格", "新城社区第二网格", "新城社区第三网格"]),
]
MEMBERS = [
    ["王建国", "李秀英", "张伟", "刘洋", "陈静", "杨帆", "赵磊"],
    ["黄志强", "周敏", "吴刚", "徐丽", "孙浩", "马红"],
    ["朱军", "胡玲", "郭涛", "林芳", "何平", "高峰", "罗娟"],
]
CATEGORIES = [
    # name, description, urgency, limits (claim, dispatch, accept, complete, complete_urgent, rate) in minutes
    ("基础设施维修", "路灯、道路、水电等公共设施损坏", "normal", (120, 1440, 240, 4320, 1440, 10080)),
    ("房屋修缮", "独居老人、困难家庭房屋漏雨、墙体破损", "urgent", (120, 1440, 240, 4320, 1440, 10080)),
    ("困难帮扶", "低保户、困难群众的衣物、生活物资", "normal", (120, 1440, 240, 4320, 1440, 10080)),
    ("红色代办", "代办证件、代缴费用、代购药品等跑腿事项", "normal", (60, 720, 120, 1440, 720, 10080)),
    ("环境卫生", "垃圾清运、污水、占道堆放", "normal", (120, 1440, 240, 4320, 1440, 10080)),
    ("矛盾调解", "邻里纠纷、物业纠纷调解", "normal", (120, 1440, 240, 4320, 1440, 10080)),
    ("意见建议", "对村(社区)建设的意见和建议", "normal", (240, 2880, 480, 10080, 2880, 10080)),
]
PUBLIC_CATEGORIES = {"基础设施维修", "环境卫生"}


def demo_outline(index: int):
    """The demo's grids as squares of about 960 m × 1,100 m, four to a row, near 30.6° N 114.3° E."""
    west, south = 114.300 + (index % 4) * 0.01, 30.590 + (index // 4) * 0.01
    ring = [[west, south], [west + 0.01, south], [west + 0.01, south + 0.01], [west, south + 0.01], [west, south]]
    return parse_boundary({"type": "Polygon", "coordinates": [ring]})


RESIDENTS = [
    ("resident1", "张大爷", "13900000001", 0),
    ("resident2", "李阿姨", "13900000002", 1),
    ("resident3", "王女士", "13900000003", 3),
    ("resident4", "赵先生", "13900000004", 5),
    ("resident5", "陈奶奶", "13900000005", 6),
]


@dataclass
class Account:
    role: str
    name: str
    login: str
    note: str


def seed_demo_town(database: Database, *, now: datetime, photo_dir: Path | None = None) -> list[Account]:
    """Create the demo town unless it exists; return the sample accounts either way."""
    with database.session(write=True) as db:
        if db.exec(select(Town).where(Town.name == TOWN_NAME)).first() is None:
            _seed(db, now, photo_dir or Path("data/photos"))
        return _accounts(db)


def _seed(db, now: datetime, photo_dir: Path) -> None:
    start = now - timedelta(days=3)
    town = Town(name=TOWN_NAME, timezone="Asia/Shanghai", created_at=start)
    db.add(town)
    db.flush()
    password = hash_password(DEMO_PASSWORD)

    def staff(role: Role, name: str, phone: str, branch_id: int | None = None, **kw) -> Staff:
        row = Staff(town_id=town.id, branch_id=branch_id, role=role.value, name=name, phone=phone,
                    password_hash=password, created_at=start, **kw)
        db.add(row)
        db.flush()
        return row

    staff(Role.TOWN_ADMIN, "镇党委管理员", "13800000000")
    grids: list[Grid] = []
    members: list[list[Staff]] = []
    secretaries: list[Staff] = []
    workers: list[Staff] = []
    for b, (branch_name, kind, grid_names) in enumerate(BRANCHES):
        branch = Branch(town_id=town.id, name=branch_name, kind=kind, created_at=start)
        db.add(branch)
        db.flush()
        secretaries.append(staff(Role.SECRETARY, branch_name.removesuffix("党支部") + "书记", f"1380000010{b + 1}", branch.id))
        for grid_name in grid_names:
            grid = Grid(town_id=town.id, branch_id=branch.id, name=grid_name, households=300, created_at=start)
            set_outline(grid, demo_outline(len(grids)))
            db.add(grid)
            db.flush()
            grids.append(grid)
            worker = staff(Role.GRID_WORKER, f"{grid_name}网格员", f"138000002{len(grids):02d}")
            db.add(GridWorkerGrid(staff_id=worker.id, grid_id=grid.id))
            workers.append(worker)
        members.append([
            staff(Role.MEMBER, name, f"138000003{sum(map(len, MEMBERS[:b])) + i + 1:02d}", branch.id)
            for i, name in enumerate(MEMBERS[b])
        ])
    members[0].append(staff(Role.MEMBER, "乡贤老周", "13800000399", members[0][0].branch_id, is_local_worthy=True))
    units = []
    for u, (unit_name, kind, person) in enumerate(UNITS):
        unit = Unit(town_id=town.id, name=unit_name, kind=kind, created_at=start)
        db.add(unit)
        db.flush()
        units.append(unit)
        staff(Role.UNIT_STAFF, person, f"1380000050{u + 1}", unit_id=unit.id)
    _buildings_and_households(db, town, grids, members, start)
    categories = []
    for name, description, urgency, limits in CATEGORIES:
        keys = ("claim", "dispatch", "accept", "complete", "complete_urgent", "rate")
        category = Category(town_id=town.id, name=name, description=description, default_urgency=urgency,
                            created_at=start, **{f"{k}_minutes": v for k, v in zip(keys, limits, strict=True)},
                            # Public works may be read by anyone through Open311; a household's matters not.
                            public_requests=name in PUBLIC_CATEGORIES)
        db.add(category)
        categories.append(category)
    db.commit()

    residents = []
    for openid, name, phone, grid_index in RESIDENTS:
        resident = Resident(openid=f"dev:{openid}", created_at=start)
        db.add(resident)
        db.commit()
        who = Principal("resident", resident.id, Role.RESIDENT, name)
        update_profile(db, who, ProfileUpdate(name=name, phone=phone, grid_id=grids[grid_index].id), None, now=start)
        residents.append(who)

    def principal(row: Staff) -> Principal:
        grid_ids = frozenset(g.id for g, w in zip(grids, workers, strict=True) if w.id == row.id)
        return Principal("staff", row.id, Role(row.role), row.name, town.id, row.branch_id, grid_ids, row.unit_id)

    def place(resident: int, category: int, text: str, at: datetime, **kw):
        draft = OrderDraft(category_id=categories[category].id, description=text, **kw)
        return place_order(db, residents[resident], draft, idempotency_key=None, photos_per_order=9, now=at).order

    def evidence(member: Principal, at: datetime) -> list[str]:
        photo = store_photo(db, member, solid_png(), photo_dir=photo_dir, max_bytes=10**6, now=at)
        return [photo.id]

    def through(order, *, grid: int, branch: int, member: int, until: str, at: datetime):
        """Move an order along the loop up to the state named by `until`."""
        worker, secretary = principal(workers[grid]), principal(secretaries[branch])
        assignee = principal(members[branch][member])
        steps = [
            ("claimed", lambda t: moves.claim_order(db, worker, order.id, now=t)),
            ("dispatched", lambda t: moves.dispatch_order(
                db, secretary, order.id, DispatchRequest(member_id=assignee.id), now=t)),
            ("in_progress", lambda t: moves.accept_order(db, assignee, order.id, now=t)),
            ("completed", lambda t: moves.complete_order(
                db, assignee, order.id, CompleteRequest(note="已处理完毕,请查看照片", photo_ids=evidence(assignee, t)),
                photos_per_order=9, now=t)),
        ]
        db.refresh(order)
        done = ["submitted", "claimed", "dispatched", "in_progress", "completed"].index(order.state)
        for state, step in steps[done:]:
            at += timedelta(hours=1)
            step(at)
            if state == until:
                break
        return at

    day1 = start + timedelta(hours=9)
    place(0, 0, "村口两盏路灯不亮,晚上走路看不清", now - timedelta(hours=5), address="东湖村村口")
    place(4, 4, "小区东门垃圾堆放三天没人清运", now - timedelta(minutes=30))
    o = place(1, 2, "家里是低保户,冬天缺厚衣服和棉被", day1)
    through(o, grid=1, branch=0, member=1, until="claimed", at=day1)
    o = place(2, 3, "想请人帮忙代缴医保费用", day1 + timedelta(hours=2))
    through(o, grid=3, branch=1, member=0, until="dispatched", at=day1 + timedelta(hours=2))
    o = place(0, 1, "独居老人家屋顶漏雨,墙体也有裂缝", day1, urgency="urgent")
    through(o, grid=0, branch=0, member=2, until="in_progress", at=day1)
    o = place(3, 5, "楼上漏水与邻居协商不成,请帮忙调解", day1)
    through(o, grid=5, branch=2, member=0, until="completed", at=day1)
    o = place(4, 0, "楼道灯坏了", day1)
    at = through(o, grid=6, branch=2, member=1, until="completed", at=day1)
    moves.rate_order(db, residents[4], o.id, RatingRequest(stars=5, comment="很及时,谢谢"), now=at + timedelta(hours=2))
    o = place(0, 4, "门前排水沟堵了", day1)
    at = through(o, grid=0, branch=0, member=3, until="completed", at=day1)
    moves.rate_order(db, residents[0], o.id, RatingRequest(stars=2, comment="只清了一半"), now=at + timedelta(hours=1))
    at = through(o, grid=0, branch=0, member=3, until="completed", at=at + timedelta(hours=1))
    moves.rate_order(db, residents[0], o.id, RatingRequest(stars=4), now=at + timedelta(hours=1))
    o = place(2, 6, "建议在广场增加健身器材", day1)
    moves.reject_order(db, principal(workers[3]), o.id, RejectRequest(reason="已列入明年村建设计划,与已有建议重复"), now=day1 + timedelta(hours=1))
    o = place(1, 3, "帮忙代购降压药", day1)
    moves.cancel_order(db, residents[1], o.id, OptionalReason(reason="家人已经买到了"), now=day1 + timedelta(minutes=20))
    o = place(3, 0, "路口井盖松动", day1)
    moves.transfer_order(db, principal(workers[5]), o.id, TransferRequest(grid_id=grids[6].id, reason="位置属于第二网格"), now=day1 + timedelta(minutes=40))
    # 吹哨报到: beyond the community's branch, whistled to the power station and the property company.
    o = place(3, 0, "小区配电箱老化跳闸,物业说要供电所来看", day1 + timedelta(hours=3), urgency="urgent")
    through(o, grid=5, branch=2, member=0, until="claimed", at=day1 + timedelta(hours=3))
    whistled = whistle_order(db, principal(secretaries[2]), o.id, WhistleRequest(
        unit_ids=[units[0].id, units[1].id], note="请供电所、物业一同到场排查"), now=day1 + timedelta(hours=5))
    power_staff = db.exec(select(Staff).where(Staff.unit_id == units[0].id)).first()
    first = db.exec(select(Whistle).where(Whistle.order_id == whistled.id, Whistle.unit_id == units[0].id)).one()
    report_in(db, principal(power_staff), first.id, now=day1 + timedelta(hours=6))
    # Taken by phone for a resident without a smartphone.
    place_order(db, principal(workers[2]), OrderDraft(
        category_id=categories[2].id, description="空巢老人需要帮忙换煤气罐", grid_id=grids[2].id,
        contact_name="孙爷爷", contact_phone="13900000099", channel="phone",
    ), idempotency_key=None, photos_per_order=9, now=now - timedelta(hours=1))
    _visits(db, town, grids, members, workers, categories, principal, now)
    _hall(db, town, grids, secretaries, members, categories, principal, now)
    # 支部吹哨、乡贤报到: 东湖村's action team of its secretary, a member and the 乡贤, given a job.
    team = create_action_team(db, principal(secretaries[0]), ActionTeamCreate(
        name="东湖村乡贤行动队", cadre_id=secretaries[0].id, lead_id=members[0][0].id,
        worthy_ids=[members[0][-1].id]), now=day1)
    o = place(0, 2, "村里老年活动室的桌椅坏了好几张,想请人修一修", day1 + timedelta(hours=4))
    moves.claim_order(db, principal(workers[0]), o.id, now=day1 + timedelta(hours=5))
    moves.dispatch_order(db, principal(secretaries[0]), o.id, DispatchRequest(action_team_id=team.id),
                         now=day1 + timedelta(hours=6))
    # 揭榜: a claimed order on 东湖村's task board, one member has volunteered.
    o = place(1, 2, "村小学门口的减速带松了,想找人一起固定", now - timedelta(hours=2))
    moves.claim_order(db, principal(workers[1]), o.id, now=now - timedelta(hours=2) + timedelta(minutes=20))
    post_task(db, principal(secretaries[0]), o.id, PostTask(hours=48, note="欢迎党员揭榜"),
              now=now - timedelta(hours=1))
    volunteer(db, principal(members[0][1]), o.id, Volunteer(note="我家有工具"), now=now - timedelta(minutes=30))
    # 积分存折: besides what the orders earned, the secretary's entry for the month's 主题党日.
    grant_points(db, principal(secretaries[0]), ManualEntry(
        member_id=members[0][0].id, points=5, activity=Activity.THEME_DAY, reason="参加本月主题党日活动"), now=day1)


def _visits(db, town: Town, grids: list[Grid], members, workers, categories, principal, now: datetime) -> None:
    """驻点直联: a team over 新城社区第一网格 and 东湖村第一网格 that, on this week's visits,
    heard two of the households out and found one need (an order with the channel `visit`)."""
    leader = members[2][0]
    admin = db.exec(select(Staff).where(Staff.town_id == town.id, Staff.role == Role.TOWN_ADMIN.value)).first()
    team = create_team(db, principal(admin), TeamCreate(
        name="新城—东湖驻点直联组", link_weekday=3, member_ids=[leader.id, workers[5].id, members[0][0].id],
        grid_ids=[grids[5].id, grids[0].id], leader_id=leader.id), now=now - timedelta(days=3))
    homes = {h.head_name: h for h in db.exec(select(Household).where(Household.town_id == town.id)).all()}
    record_visit(db, principal(leader), VisitCreate(
        household_id=homes["陈奶奶"].id, team_id=team.id, note="陈奶奶身体还好，说楼道声控灯坏了，晚上下楼怕摔",
        needs=[VisitNeed(category_id=categories[0].id, description="1栋1单元楼道声控灯不亮，独居老人夜里下楼不便",
                         contact_name="陈奶奶", contact_phone="13900000088")],
        visited_at=now - timedelta(hours=30)), photos_per_order=9, now=now - timedelta(hours=30))
    record_visit(db, principal(members[0][0]), VisitCreate(
        household_id=homes["张大爷"].id, team_id=team.id, note="张大爷冬衣、煤都备好了，无其他诉求",
        visited_at=now - timedelta(hours=26)), photos_per_order=9, now=now - timedelta(hours=26))


def _hall(db, town: Town, grids: list[Grid], secretaries, members, categories, principal, now: datetime) -> None:
    """群众说事厅 of 东湖村: yesterday's reception, where one matter was settled on the spot and
    one became an order (channel `hall`), and the secretary's 下访 to the village's second grid."""
    admin = db.exec(select(Staff).where(Staff.town_id == town.id, Staff.role == Role.TOWN_ADMIN.value)).first()
    secretary = secretaries[0]
    hall = create_hall(db, principal(admin), HallCreate(name="东湖村群众说事厅", branch_id=secretary.branch_id,
                                                        address="东湖村党群服务中心一楼"), now=now - timedelta(days=7))
    create_hall(db, principal(admin), HallCreate(name="青山镇群众说事厅", address="镇政府便民服务大厅"),
                now=now - timedelta(days=7))
    at = now - timedelta(hours=28)
    reception = create_session(db, principal(secretary), hall.id, SessionCreate(
        starts_at=at, ends_at=at + timedelta(hours=3), host_ids=[secretary.id, members[0][0].id],
        note="每周三上午接访"), now=at)
    record_matter(db, principal(secretary), reception.id, MatterCreate(
        visitor_name="周大伯", grid_id=grids[0].id, description="问今年新农合缴费标准",
        outcome=MatterOutcome.SETTLED, settled_note="当场讲解缴费标准和缴费渠道"), photos_per_order=9,
        now=at + timedelta(minutes=30))
    record_matter(db, principal(members[0][0]), reception.id, MatterCreate(
        visitor_name="吴大妈", visitor_phone="13900000077", grid_id=grids[0].id,
        description="村西头小桥栏杆松动，孩子上学要经过", outcome=MatterOutcome.ORDER, category_id=categories[0].id),
        photos_per_order=9, now=at + timedelta(hours=1))
    create_session(db, principal(secretary), hall.id, SessionCreate(
        kind=SessionKind.DOWN, grid_id=grids[1].id, starts_at=now - timedelta(hours=6), host_ids=[secretary.id],
        note="下到第二网格听取群众意见"), now=now - timedelta(hours=6))


# 共建单位 of the town, each with one staff account: (name, kind, staff name)
UNITS = [("青山镇供电所", "department", "供电所李工"), ("幸福小区红色物业", "property", "物业王经理"),
         ("青山镇派出所", "police", "社区民警周警官")]

# (building, or None in a village, address, unit, room, flags, head of household)
HOUSEHOLDS = [
    ("1栋", "新城社区幸福小区1栋", "1", "101", [], "朱军"),  # the member's own: a 党员中心户
    ("1栋", "新城社区幸福小区1栋", "1", "102", ["独居老人"], "陈奶奶"),
    ("1栋", "新城社区幸福小区1栋", "1", "201", ["低保户"], "刘师傅"),
    ("1栋", "新城社区幸福小区1栋", "2", "301", [], "赵先生"),
    ("2栋", "新城社区幸福小区2栋", "1", "101", ["残疾人", "困难家庭"], "孙大姐"),
    ("2栋", "新城社区幸福小区2栋", "1", "402", ["空巢老人"], "钱爷爷"),
    (None, "东湖村3组12号", None, None, ["独居老人"], "张大爷"),
    (None, "东湖村3组15号", None, None, ["低保户"], "李阿姨"),
]


def _buildings_and_households(db, town: Town, grids: list[Grid], members: list[list[Staff]], at: datetime) -> None:
    """Two buildings of 新城社区第一网格 (a member leads each 楼栋党小组), households paired with
    members (党员联户), 朱军's own home as a 党员中心户; two village households of 东湖村第一网格."""
    community, village = grids[5], grids[0]
    leader, helper = members[2][0], members[2][1]
    buildings = {}
    for name, head in (("1栋", leader), ("2栋", helper)):
        buildings[name] = Building(town_id=town.id, grid_id=community.id, name=name, group_leader_id=head.id,
                                   created_at=at)
        db.add(buildings[name])
    db.flush()
    for i, (building, address, unit, room, flags, head_name) in enumerate(HOUSEHOLDS):
        grid = village if building is None else community
        paired = members[0][0] if building is None else (leader if building == "1栋" else helper)
        place = f"{address}{unit}单元{room}室" if unit else address
        db.add(Household(
            town_id=town.id, grid_id=grid.id, building_id=buildings[building].id if building else None,
            address=place, unit=unit, room=room, flags=flags, head_name=head_name,
            paired_member_id=None if i == 0 else paired.id, central_member_id=leader.id if i == 0 else None,
            created_at=at,
        ))
    db.flush()


def _accounts(db) -> list[Account]:
    town = db.exec(select(Town).where(Town.name == TOWN_NAME)).one()
    accounts = []
    rows = db.exec(select(Staff).where(Staff.town_id == town.id).order_by(Staff.id)).all()
    for row in rows:
        accounts.append(Account(row.role, row.name, row.phone, f"password {DEMO_PASSWORD}"))
    for openid, name, _, _ in RESIDENTS:
        accounts.append(Account("resident", name, openid, "POST /auth/dev/resident {\"openid\": \"%s\"}" % openid))
    return accounts
