"""Bulk orders for the benchmarks, in SQL only: a million in a minute or two.

`generate_orders` writes N orders with one `INSERT … SELECT` (over `generate_series` on
PostgreSQL, a recursive CTE on SQLite) from the same integer hash of the row number on
both databases, so both hold the same orders; with `aggregates`, the dashboards'
aggregates too, as the moves would have left them.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field

from common import log

# Large multipliers for a cheap integer hash of the row number, the same on both databases:
# u_k(i) = (i * A_k + k) mod 1000003, roughly uniform on [0, 1000003).
_MULTIPLIERS = (2654435761, 2246822519, 3266489917, 2870177450, 1597334677, 3812015801,
                2028178513, 1220703125, 3735928559, 2166136261, 1442695040, 3037000493)
_PRIME = 1000003


def _series(dialect: str, n: int) -> str:
    if dialect == "postgresql":
        return f"SELECT s.i::bigint AS i FROM generate_series(1, {n}) AS s(i)"
    return f"WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {n}) SELECT i FROM s"


def _ts(dialect: str, e: str) -> str:
    """An epoch-seconds expression as the column type stores it (timestamptz; SQLite text, naive UTC)."""
    if dialect == "postgresql":
        return f"to_timestamp({e})"
    return f"(strftime('%Y-%m-%d %H:%M:%S', {e}, 'unixepoch') || '.000000')"


def _local_day(dialect: str, e: str) -> str:
    """The Asia/Shanghai (UTC+8, no DST) date of an epoch-seconds expression."""
    if dialect == "postgresql":
        return f"(timestamp '1970-01-01' + ({e} + 28800) * interval '1 second')::date"
    return f"date({e} + 28800, 'unixepoch')"


def _bucket(expr: str) -> str:
    """domain.stats.bucket_of as SQL: the first bound >= seconds, else the overflow bucket."""
    from domain.stats import BUCKET_BOUNDS

    whens = " ".join(f"WHEN {expr} <= {b} THEN {i}" for i, b in enumerate(BUCKET_BOUNDS))
    return f"(CASE {whens} ELSE {len(BUCKET_BOUNDS)} END)"


@dataclass
class Generated:
    n: int
    first_id: int
    last_id: int
    now_epoch: int
    seconds: float
    counts: dict = field(default_factory=dict)


def generate_orders(engine, n: int, *, now_epoch: int, n_open: int, n_overdue: int = 0, due: int = 0,
                    days: int = 365, aggregates: bool = True) -> Generated:
    """Insert `n` orders of the demo town with INSERT … SELECT over a generated series.

    History mode (n_open < n): orders spread over `days` days (placed 08:00–20:00 town time),
    96 % closed (5 % of those by the default rating at the deadline), 2 % rejected, 2 %
    cancelled; the newest `n_open` are open, spread over the five open states, about
    `n_overdue` of them past their stage deadline. Stage durations follow each category's
    limits (most in time, some late); ratings mostly 4–5 stars.

    Sweep mode (`due` > 0, n_open == n): every order open, its next alert in the future,
    except exactly `due` orders (evenly spread ids) whose first reminder fell due a few
    minutes ago.

    With `aggregates`, stats_counts, stats_stage_times and point_entries get what the moves
    would have written for these orders (workflows/aggregates.py), added to the demo's.
    """
    from sqlalchemy import text

    started = time.monotonic()
    d = engine.dialect.name
    pg = d == "postgresql"

    def x(sql: str) -> None:
        # The DB-API cursor with no parameters: psycopg then leaves the SQL's % (modulo) alone.
        cursor = conn.connection.cursor()
        try:
            cursor.execute(sql)
        finally:
            cursor.close()

    with engine.begin() as conn:
        town_id = conn.execute(text("SELECT min(id) FROM towns")).scalar()
        base = conn.execute(text("SELECT coalesce(max(id), 0) FROM orders")).scalar()
        grids = conn.execute(text("SELECT id, branch_id FROM grids WHERE town_id = :t ORDER BY id"), {"t": town_id}).all()
        cats = conn.execute(text("SELECT id, claim_minutes, dispatch_minutes, accept_minutes, complete_minutes, "
                                 "complete_urgent_minutes, rate_minutes, default_urgency FROM categories "
                                 "WHERE town_id = :t ORDER BY id"), {"t": town_id}).all()
        workers = dict(conn.execute(text("SELECT g.grid_id, min(g.staff_id) FROM grid_worker_grids g GROUP BY g.grid_id")).all())
        members = conn.execute(text("SELECT id, branch_id FROM staff WHERE town_id = :t AND role = 'member' AND active "
                                    "ORDER BY id"), {"t": town_id}).all()
        for t in ("bench_grid", "bench_cat", "bench_member", "bench_p0", "bench_plan"):
            x(f"DROP TABLE IF EXISTS {t}")
        # One resident per grid, who places the grid's mini-program orders.
        x("DELETE FROM residents WHERE openid LIKE 'bench-gen:%'")
        residents = {}
        for gid, _ in grids:
            residents[gid] = conn.execute(text(
                "INSERT INTO residents (openid, name, phone, phone_verified, town_id, grid_id, created_at) "
                "VALUES (:o, :n, :p, false, :t, :g, :c) RETURNING id"),
                {"o": f"bench-gen:{gid}", "n": f"居民{gid}", "p": f"1390000{gid:04d}", "t": town_id, "g": gid,
                 "c": "2026-01-01 00:00:00.000000" if not pg else "2026-01-01T00:00:00Z"}).scalar()
        by_branch: dict[int, list[int]] = defaultdict(list)
        for mid, bid in members:
            by_branch[bid].append(mid)
        x("CREATE TABLE bench_grid (idx integer, grid_id integer, branch_id integer, worker_id integer, "
          "resident_id integer, n_members integer)")
        for idx, (gid, bid) in enumerate(grids):
            x(f"INSERT INTO bench_grid VALUES ({idx}, {gid}, {bid}, {workers[gid]}, {residents[gid]}, {len(by_branch[bid])})")
        x("CREATE TABLE bench_member (branch_id integer, idx integer, member_id integer)")
        for bid, ids in by_branch.items():
            for idx, mid in enumerate(ids):
                x(f"INSERT INTO bench_member VALUES ({bid}, {idx}, {mid})")
        # Categories weighted like a town's year: repairs and errands most, suggestions least.
        weights = [25, 10, 15, 25, 15, 5, 5][: len(cats)]
        x("CREATE TABLE bench_cat (idx integer, lo integer, hi integer, category_id integer, urgency varchar(10), "
          "l1 integer, l2 integer, l3 integer, l4 integer, l5 integer)")
        lo = 0
        for idx, c in enumerate(cats):
            hi = lo + (weights[idx] if idx < len(weights) else 5)
            l4 = c[5] if c[7] == "urgent" else c[4]
            x(f"INSERT INTO bench_cat VALUES ({idx}, {lo}, {hi}, {c[0]}, '{c[7]}', {c[1]}, {c[2]}, {c[3]}, {l4}, {c[6]})")
            lo = hi
        cat_total = lo
        us = ", ".join(f"(i * {a} + {k}) % {_PRIME} AS u{k + 1}" for k, a in enumerate(_MULTIPLIERS))
        open_from = n - n_open  # rows i > open_from are open
        step = max(1, n // due) if due else 0
        overdue_every = max(1, n_open // n_overdue) if n_overdue else 0
        # 1. row number, hashes, state.
        if due:
            state = ("CASE (u4 % 5) WHEN 0 THEN 'submitted' WHEN 1 THEN 'claimed' WHEN 2 THEN 'dispatched' "
                     "WHEN 3 THEN 'in_progress' ELSE 'completed' END")
            due_state = ("CASE (u4 % 4) WHEN 0 THEN 'submitted' WHEN 1 THEN 'claimed' WHEN 2 THEN 'dispatched' "
                         "ELSE 'in_progress' END")
            state = f"CASE WHEN i % {step} = 0 AND i / {step} <= {due} THEN {due_state} ELSE {state} END"
            late = f"(CASE WHEN i % {step} = 0 AND i / {step} <= {due} THEN 1 ELSE 0 END)"
        else:
            open_state = ("CASE WHEN u4 % 100 < 20 THEN 'submitted' WHEN u4 % 100 < 35 THEN 'claimed' "
                          "WHEN u4 % 100 < 50 THEN 'dispatched' WHEN u4 % 100 < 80 THEN 'in_progress' ELSE 'completed' END")
            overdue_state = ("CASE (u4 % 4) WHEN 0 THEN 'submitted' WHEN 1 THEN 'claimed' WHEN 2 THEN 'dispatched' "
                             "ELSE 'in_progress' END")
            is_late = f"(i > {open_from} AND {overdue_every} > 0 AND (i - {open_from}) % {max(overdue_every, 1)} = 0)"
            state = (f"CASE WHEN {is_late} THEN {overdue_state} WHEN i > {open_from} THEN {open_state} "
                     "WHEN u4 % 100 < 2 THEN 'rejected' WHEN u4 % 100 < 4 THEN 'cancelled' ELSE 'closed' END")
            late = f"(CASE WHEN {is_late} THEN 1 ELSE 0 END)"
        x(f"CREATE TABLE bench_p0 AS SELECT h.*, {state} AS state, {late} AS late "
          f"FROM (SELECT i, {us} FROM ({_series(d, n)}) s) h")
        log(f"  plan: {n:,} rows hashed")
        first_day_epoch = (now_epoch + 28800) // 86400 * 86400 - 28800 - (days - 1) * 86400  # local midnight
        k = ("CASE p.state WHEN 'submitted' THEN 0 WHEN 'claimed' THEN 1 WHEN 'dispatched' THEN 2 "
             "WHEN 'in_progress' THEN 3 WHEN 'completed' THEN 4 WHEN 'closed' THEN 5 ELSE 0 END")
        # Stage durations in seconds: most inside the category's limit, a few late.
        dur = {
            1: "CASE WHEN p.u6 % 100 < 92 THEN 60 + p.u6 % (c.l1 * 54) ELSE c.l1 * 60 + 1 + p.u6 % (c.l1 * 120) END",
            2: "CASE WHEN p.u7 % 100 < 95 THEN 300 + p.u7 % (c.l2 * 50) ELSE c.l2 * 60 + 1 + p.u7 % (c.l2 * 60) END",
            3: "CASE WHEN p.u8 % 100 < 95 THEN 120 + p.u8 % (c.l3 * 50) ELSE c.l3 * 60 + 1 + p.u8 % (c.l3 * 60) END",
            4: "CASE WHEN p.u9 % 100 < 93 THEN 1800 + p.u9 % (c.l4 * 50) ELSE c.l4 * 60 + 1 + p.u9 % (c.l4 * 60) END",
            5: "CASE WHEN p.u11 % 100 < 5 THEN c.l5 * 60 ELSE 600 + p.u10 % (c.l5 * 30) END",
        }
        lim = ("CASE {k} WHEN 0 THEN c.l1 WHEN 1 THEN c.l2 WHEN 2 THEN c.l3 WHEN 3 THEN c.l4 ELSE c.l5 END")
        # Seconds from entering the current stage to its first alert: the limit, half of it to rate.
        first_alert = "CASE WHEN r.k = 4 THEN r.lim * 30 ELSE r.lim * 60 END"
        hist = f"{first_day_epoch} + ((p.i - 1) * {days} / {n}) * 86400 + 28800 + p.u1 % 43200"
        x(f"""CREATE TABLE bench_plan AS
SELECT q.*,
  CASE WHEN q.open = 1 THEN q.entered - (q.s1 + q.s2 + q.s3 + q.s4) ELSE q.hist END AS created
FROM (
  SELECT r.*,
    CASE WHEN r.k >= 1 THEN r.d1 ELSE 0 END AS s1, CASE WHEN r.k >= 2 THEN r.d2 ELSE 0 END AS s2,
    CASE WHEN r.k >= 3 THEN r.d3 ELSE 0 END AS s3, CASE WHEN r.k >= 4 THEN r.d4 ELSE 0 END AS s4,
    CASE WHEN r.k >= 5 THEN r.d5 ELSE 0 END AS s5,
    CASE WHEN r.open = 0 THEN NULL
         WHEN r.late = 1 AND {1 if due else 0} = 1 THEN {now_epoch} - r.lim * 60 - 60 - r.u12 % 600
         WHEN r.late = 1 THEN {now_epoch} - r.lim * 60 - 60 - r.u12 % (r.lim * 60)
         ELSE {now_epoch} - 60 - r.u12 % ({first_alert} * 9 / 10) END AS entered
  FROM (
    SELECT p.i, {base} + p.i AS id, p.state, p.late, p.u1, p.u2, p.u5, p.u11, p.u12,
      g.grid_id, g.branch_id, g.worker_id, g.resident_id, m.member_id, c.category_id, c.urgency, c.l1, c.l4,
      CASE WHEN p.state IN ('submitted', 'claimed', 'dispatched', 'in_progress', 'completed') THEN 1 ELSE 0 END AS open,
      {k} AS k, {lim.format(k=k)} AS lim,
      {dur[1]} AS d1, {dur[2]} AS d2, {dur[3]} AS d3, {dur[4]} AS d4, {dur[5]} AS d5,
      CASE WHEN p.u11 % 100 < 5 THEN NULL WHEN p.u11 % 100 < 75 THEN 5 WHEN p.u11 % 100 < 92 THEN 4 ELSE 3 END AS stars,
      {hist} AS hist
    FROM bench_p0 p
    JOIN bench_grid g ON g.idx = p.u3 % {len(grids)}
    JOIN bench_cat c ON p.u2 % {cat_total} >= c.lo AND p.u2 % {cat_total} < c.hi
    JOIN bench_member m ON m.branch_id = g.branch_id AND m.idx = p.u5 % g.n_members
  ) r
) q""")
        x("DROP TABLE bench_p0")
        log(f"  plan: {n:,} orders planned")
        # Closed orders end (rating) no later than a minute ago.
        end = f"(CASE WHEN p.created + p.s1 + p.s2 + p.s3 + p.s4 + p.s5 > {now_epoch - 60} THEN {now_epoch - 60} ELSE p.created + p.s1 + p.s2 + p.s3 + p.s4 + p.s5 END)"
        entered = (f"CASE WHEN p.open = 1 THEN p.entered WHEN p.state = 'closed' THEN {end} "
                   "ELSE p.created + 600 END")
        deadline = "CASE WHEN p.open = 1 THEN p.entered + p.lim * 60 ELSE NULL END"
        next_alert = ("CASE WHEN p.open = 0 THEN NULL "
                      f"WHEN p.late = 1 AND {1 if due else 0} = 1 THEN p.entered + p.lim * 60 "
                      f"WHEN p.late = 1 THEN {now_epoch} + 3600 "
                      "WHEN p.k = 4 THEN p.entered + p.lim * 30 ELSE p.entered + p.lim * 60 END")
        visit = "p.u1 % 10 < 3"
        descriptions = ["村口路灯不亮,晚上走路看不清", "屋顶漏雨,墙体有裂缝", "冬天缺厚衣服和棉被",
                        "请帮忙代缴医保费用", "垃圾堆放三天没人清运", "邻里漏水纠纷请调解"]
        desc = "CASE p.u2 % 6 " + " ".join(f"WHEN {j} THEN '{t}'" for j, t in enumerate(descriptions)) + " END"
        x(f"""INSERT INTO orders (id, town_id, branch_id, grid_id, category_id, urgency, state, version, description,
  address, resident_id, contact_name, contact_phone, placed_by_staff_id, channel, claimed_by_id, assignee_id,
  reopen_count, completion_note, rating_stars, rating_comment, rating_source, request_hash, created_at, updated_at,
  stage_entered_at, stage_deadline, next_alert_at, closed_at)
SELECT p.id, {town_id}, p.branch_id, p.grid_id, p.category_id, p.urgency, p.state, p.k + 1, {desc},
  '网格' || p.grid_id || '号楼', CASE WHEN {visit} THEN NULL ELSE p.resident_id END, '居民' || p.grid_id,
  '1390000' || p.grid_id, CASE WHEN {visit} THEN p.worker_id ELSE NULL END,
  CASE WHEN {visit} THEN 'visit' ELSE 'mini_program' END,
  CASE WHEN p.k >= 1 THEN p.worker_id ELSE NULL END, CASE WHEN p.k >= 2 THEN p.member_id ELSE NULL END,
  0, CASE WHEN p.k >= 4 THEN '已处理完毕' ELSE NULL END,
  CASE WHEN p.state = 'closed' THEN p.stars ELSE NULL END, NULL,
  CASE WHEN p.state <> 'closed' THEN NULL WHEN p.stars IS NULL THEN 'default' WHEN {visit} THEN 'callback' ELSE 'resident' END,
  'bench', {_ts(d, 'p.created')}, {_ts(d, entered)}, {_ts(d, entered)},
  {_ts(d, deadline)}, {_ts(d, next_alert)}, CASE WHEN p.state = 'closed' THEN {_ts(d, end)} ELSE NULL END
FROM bench_plan p""")
        log(f"  orders: {n:,} inserted")
        if pg:
            x("SELECT setval(pg_get_serial_sequence('orders', 'id'), (SELECT max(id) FROM orders))")
        if aggregates:
            _aggregates(x, d, town_id, end)
        counts = dict(conn.execute(text("SELECT state, count(*) FROM bench_plan GROUP BY state")).all())
        for t in ("bench_grid", "bench_cat", "bench_member", "bench_plan"):
            x(f"DROP TABLE IF EXISTS {t}")
    return Generated(n, base + 1, base + n, now_epoch, time.monotonic() - started, counts)


def _aggregates(x, d: str, town_id: int, end: str) -> None:
    """stats_counts, stats_stage_times and point_entries for bench_plan, as the moves and the projection add them."""
    day = _local_day(d, "p.created")
    cell = "town_id, day, branch_id, grid_id, category_id, member_id"
    rated = "p.state = 'closed' AND p.stars IS NOT NULL"
    # (grid, category, member, metric, condition) per row kind; the place cube is rolled up
    # into the branch cube (grid, category and member 0) as record_move also writes it.
    place = "p.grid_id, p.category_id, 0"
    kinds = [("'state:' || p.state", "true", True), ("'claimed_in_time'", "p.k >= 1 AND p.d1 <= p.l1 * 60", False),
             ("'ratings'", rated, True), ("'ratings_good'", f"{rated} AND p.stars >= 4", True),
             ("'ratings_default'", "p.state = 'closed' AND p.stars IS NULL", True)]
    selects = []
    for metric, where, by_member in kinds:
        selects.append(f"SELECT {day} AS day, p.branch_id, {place}, {metric} AS metric FROM bench_plan p WHERE {where}")
        selects.append(f"SELECT {day} AS day, p.branch_id, 0, 0, 0, {metric} AS metric FROM bench_plan p WHERE {where}")
        if by_member:
            selects.append(f"SELECT {day} AS day, p.branch_id, 0, 0, p.member_id, {metric} AS metric FROM bench_plan p "
                           f"WHERE p.k >= 2 AND {where}")
    counts = "\n      UNION ALL ".join(selects)
    counts = counts.replace("SELECT " + day + " AS day, p.branch_id, " + place + ",",
                            "SELECT " + day + " AS day, p.branch_id, p.grid_id AS grid_id, p.category_id AS category_id, 0 AS member_id,", 1)
    x(f"""INSERT INTO stats_counts ({cell}, metric, n)
SELECT {town_id}, day, branch_id, grid_id, category_id, member_id, metric, count(*) FROM ({counts}) a WHERE true
GROUP BY day, branch_id, grid_id, category_id, member_id, metric
ON CONFLICT ({cell}, metric) DO UPDATE SET n = stats_counts.n + excluded.n""")
    log("  aggregates: stats_counts filled")
    stages = []
    for s, (name, kmin, member) in enumerate([("claim", 1, False), ("dispatch", 2, False), ("accept", 3, True),
                                              ("complete", 4, True), ("rate", 5, True)], start=1):
        stages.append(f"SELECT {day} AS day, p.branch_id, p.grid_id, p.category_id, 0 AS member_id, '{name}' AS stage, "
                      f"p.d{s} AS secs FROM bench_plan p WHERE p.k >= {kmin}")
        stages.append(f"SELECT {day}, p.branch_id, 0, 0, 0, '{name}', p.d{s} FROM bench_plan p WHERE p.k >= {kmin}")
        if member:
            stages.append(f"SELECT {day}, p.branch_id, 0, 0, p.member_id, '{name}', p.d{s} FROM bench_plan p WHERE p.k >= {kmin}")
    x(f"""INSERT INTO stats_stage_times ({cell}, stage, bucket, n, seconds_sum)
SELECT {town_id}, day, branch_id, grid_id, category_id, member_id, stage, bucket, count(*), sum(secs) FROM (
  SELECT t.*, {_bucket('t.secs')} AS bucket FROM ({' UNION ALL '.join(stages)}) t) b WHERE true
GROUP BY day, branch_id, grid_id, category_id, member_id, stage, bucket
ON CONFLICT ({cell}, stage, bucket) DO UPDATE SET n = stats_stage_times.n + excluded.n,
  seconds_sum = stats_stage_times.seconds_sum + excluded.seconds_sum""")
    log("  aggregates: stats_stage_times filled")
    # The passbook: what a closed order's member earned at its close (domain.points defaults).
    overdue = "p.d4 > p.l4 * 60"
    closed = "p.state = 'closed' AND p.k >= 4"
    rules = [("default_close", 10, "p.stars IS NULL"), ("closed_satisfied", 10, "p.stars >= 3"),
             ("five_star", 5, "p.stars = 5"), ("low_rating", -3, "p.stars <= 2"),
             ("overdue_completion", -5, overdue)]
    entries = " UNION ALL ".join(
        f"SELECT p.branch_id, p.member_id, {end} AS at, '{rule}' AS rule, {points} AS points"
        f" FROM bench_plan p WHERE {closed} AND {where}" for rule, points, where in rules)
    x(f"""INSERT INTO point_entries (town_id, branch_id, member_id, at, day, points, rule, rule_version)
SELECT {town_id}, branch_id, member_id, {_ts(d, 'e.at')}, {_local_day(d, 'e.at')}, points, rule, 0 FROM ({entries}) e""")
    log("  aggregates: point_entries filled")
