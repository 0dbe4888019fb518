// 五单闭环 wall dashboard. Reads /stats/* with a read-only dashboard token, polls with
// If-None-Match and redraws a section only when its answer changed. Everything shown is
// built with createElement and textContent: no name typed by anyone can become markup.
"use strict";

(function () {
  const TOKEN_KEY = "wudan.dashboard.token";
  const FILTERS = ["date_from", "date_to", "branch_id", "grid_id", "category_id", "member_id"];
  const STAGES = ["claim", "dispatch", "accept", "complete", "rate"];
  const STAGE_LABELS = { claim: "领单", dispatch: "派单", accept: "接单", complete: "办结", rate: "评价" };
  const SCOPE_LABELS = { branch_id: "支部", grid_id: "网格", category_id: "类别", member_id: "党员" };
  const SVG = "http://www.w3.org/2000/svg";

  // Set once per page load: a reload would replace it (the browser test checks it survives updates).
  const marker = { loadedAt: Date.now(), id: Math.random().toString(36).slice(2), polls: 0, changes: 0 };
  window.wudanDashboard = marker;

  const query = new URLSearchParams(location.search);
  const fragment = new URLSearchParams(location.hash.slice(1));
  const param = (name) => (fragment.has(name) ? fragment.get(name) : query.get(name));

  // The token travels in the fragment (never sent to a server, not in access logs); keep it in
  // this tab only and take it out of the address bar.
  if (fragment.get("token")) {
    sessionStorage.setItem(TOKEN_KEY, fragment.get("token"));
    fragment.delete("token");
    const rest = fragment.toString();
    history.replaceState(null, "", location.pathname + location.search + (rest ? "#" + rest : ""));
  }

  const seconds = Number(param("interval") || 10);
  const interval = Number.isFinite(seconds) ? Math.min(3600, Math.max(1, seconds)) : 10;

  const filters = new URLSearchParams();
  for (const name of FILTERS) {
    const value = param(name);
    if (value) filters.set(name, value);
  }

  const $ = (id) => document.getElementById(id);

  function el(tag, text, className) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (className) node.className = className;
    return node;
  }

  function svg(tag, attributes, text) {
    const node = document.createElementNS(SVG, tag);
    for (const [key, value] of Object.entries(attributes || {})) node.setAttribute(key, String(value));
    if (text !== undefined) node.textContent = String(text);
    return node;
  }

  function count(n) {
    return typeof n === "number" ? n.toLocaleString("zh-CN") : "—";
  }

  // Rates are fractions 0..1: a percentage with one decimal, or a dash when there is nothing to rate.
  function percent(rate) {
    return typeof rate === "number" ? (rate * 100).toFixed(1) + "%" : "—";
  }

  function duration(totalSeconds) {
    if (typeof totalSeconds !== "number") return "—";
    const minutes = Math.floor(totalSeconds / 60);
    const days = Math.floor(minutes / 1440);
    const hours = Math.floor((minutes % 1440) / 60);
    if (days > 0) return days + "天" + (hours ? hours + "小时" : "");
    if (hours > 0) return hours + "小时" + (minutes % 60 ? (minutes % 60) + "分" : "");
    if (minutes > 0) return minutes + "分钟";
    return Math.max(0, Math.round(totalSeconds)) + "秒";
  }

  function clock(date) {
    const pad = (n) => String(n).padStart(2, "0");
    return pad(date.getHours()) + ":" + pad(date.getMinutes()) + ":" + pad(date.getSeconds());
  }

  function emptyRow(tbody, columns, text) {
    const row = el("tr");
    const cell = el("td", text, "none");
    cell.colSpan = columns;
    row.append(cell);
    tbody.replaceChildren(row);
  }

  function rateBar(rate) {
    const cell = el("td");
    const bar = el("div", null, "bar");
    const track = el("div", null, "track");
    const fill = el("div", null, "fill");
    fill.style.width = typeof rate === "number" ? Math.min(100, Math.max(0, rate * 100)) + "%" : "0";
    track.append(fill);
    bar.append(track, el("span", percent(rate)));
    cell.append(bar);
    return cell;
  }

  function rankedRow(index, cells) {
    const row = el("tr", null, index < 3 ? "top" + (index + 1) : "");
    row.append(el("td", index + 1));
    for (const cell of cells) row.append(cell);
    return row;
  }

  // ---- sections -------------------------------------------------------------------------

  function renderOverview(data) {
    const period = [data.date_from + " 至 " + data.date_to];
    if (data.timezone) period.push("(" + data.timezone + ")");
    for (const [key, label] of Object.entries(SCOPE_LABELS)) {
      if (data.scope && data.scope[key] !== undefined && data.scope[key] !== null) {
        period.push(label + " " + data.scope[key]);
      }
    }
    $("period").textContent = period.join(" ");

    const rates = data.rates || {};
    const counts = data.rate_counts || {};
    $("rate-response").textContent = percent(rates.response);
    $("rate-resolution").textContent = percent(rates.resolution);
    $("rate-satisfaction").textContent = percent(rates.satisfaction);
    $("rate-response-detail").textContent =
      "按时领单 " + count(counts.claimed_in_time) + " / 受理 " + count(data.submitted);
    const cancelled = counts.cancelled || 0;
    $("rate-resolution-detail").textContent =
      "已办结 " + count(counts.closed) + " / 受理 " + count((data.submitted || 0) - cancelled) +
      (cancelled ? "（撤单 " + count(cancelled) + " 不计）" : "");
    $("rate-satisfaction-detail").textContent =
      "好评(4–5星) " + count(counts.ratings_good) + " / 评价 " + count(counts.ratings) +
      (counts.ratings_default ? "；默认评价 " + count(counts.ratings_default) + " 另计" : "");

    $("submitted").textContent = count(data.submitted);
    const overdue = data.overdue_now || { total: 0, by_stage: {} };
    $("overdue-total").textContent = count(overdue.total);
    const parts = STAGES.filter((s) => (overdue.by_stage || {})[s]).map(
      (s) => STAGE_LABELS[s] + " " + count(overdue.by_stage[s])
    );
    $("overdue-stages").textContent = parts.length ? "超期环节：" + parts.join(" · ") : "暂无超期工单";

    const chips = [];
    for (const [state, label] of Object.entries(data.labels || {})) {
      const chip = el("li", label);
      chip.dataset.state = state;
      chip.append(el("b", count((data.by_state || {})[state] || 0)));
      chips.push(chip);
    }
    $("states").replaceChildren(...chips);

    const rows = STAGES.map((stage) => {
      const times = (data.stage_times || {})[stage] || {};
      const row = el("tr");
      row.append(
        el("td", STAGE_LABELS[stage]),
        el("td", count(times.count || 0), "num"),
        el("td", duration(times.avg_seconds), "num"),
        el("td", duration(times.p90_seconds), "num")
      );
      return row;
    });
    $("stage-times").replaceChildren(...rows);
  }

  function renderDaily(data) {
    const days = data.days || [];
    const series = [
      // Drawn in this order: 办结, the figure that matters most, on top.
      { key: "submitted", label: "受理", color: "#4d9bff" },
      { key: "claimed_in_time", label: "按时领单", color: "#f5c451" },
      { key: "closed", label: "办结", color: "#3ccf91" },
    ];
    const width = 760, height = 240, left = 40, right = 16, top = 30, bottom = 30;
    const chart = svg("svg", { viewBox: "0 0 " + width + " " + height, role: "img", "aria-label": "每日趋势" });
    const plotWidth = width - left - right, plotHeight = height - top - bottom;
    if (!days.length) {
      chart.append(svg("text", { x: width / 2, y: height / 2, "text-anchor": "middle", class: "empty" }, "暂无数据"));
      $("trend").replaceChildren(chart);
      return;
    }
    let peak = 0;
    for (const day of days) for (const s of series) peak = Math.max(peak, day[s.key] || 0);
    const step = niceStep(peak);
    const yMax = Math.max(step, Math.ceil(peak / step) * step);
    const x = (i) => left + (days.length === 1 ? plotWidth / 2 : (i * plotWidth) / (days.length - 1));
    const y = (v) => top + plotHeight - (v / yMax) * plotHeight;

    for (let v = 0; v <= yMax; v += step) {
      chart.append(svg("line", { x1: left, x2: width - right, y1: y(v), y2: y(v), class: "axis" }));
      chart.append(svg("text", { x: left - 6, y: y(v) + 4, "text-anchor": "end" }, v));
    }
    const every = Math.max(1, Math.ceil(days.length / 10));
    days.forEach((day, i) => {
      if (i % every === 0 || i === days.length - 1) {
        chart.append(svg("text", { x: x(i), y: height - bottom + 18, "text-anchor": "middle" }, String(day.date).slice(5)));
      }
    });
    for (const s of series) {
      const points = days.map((day, i) => x(i).toFixed(1) + "," + y(day[s.key] || 0).toFixed(1));
      chart.append(svg("polyline", { points: points.join(" "), fill: "none", stroke: s.color, "stroke-width": 2.5,
        "stroke-linejoin": "round" }));
      if (days.length <= 45) {
        days.forEach((day, i) => {
          const dot = svg("circle", { cx: x(i), cy: y(day[s.key] || 0), r: 3, fill: s.color });
          dot.append(svg("title", {}, day.date + " " + s.label + " " + (day[s.key] || 0)));
          chart.append(dot);
        });
      }
    }
    const legend = svg("g", { class: "legend" });
    series.forEach((s, i) => {
      const lx = left + i * 110;
      legend.append(svg("rect", { x: lx, y: 10, width: 14, height: 4, fill: s.color }));
      legend.append(svg("text", { x: lx + 20, y: 16 }, s.label));
    });
    chart.append(legend);
    $("trend").replaceChildren(chart);
  }

  function niceStep(peak) {
    if (peak <= 5) return 1;
    const rough = peak / 5;
    const magnitude = Math.pow(10, Math.floor(Math.log10(rough)));
    for (const m of [1, 2, 5, 10]) if (rough <= m * magnitude) return m * magnitude;
    return 10 * magnitude;
  }

  function renderGrids(data) {
    const items = data.items || [];
    if (!items.length) return emptyRow($("grids"), 6, "暂无数据");
    $("grids").replaceChildren(...items.map((g, i) => {
      const rates = g.rates || {};
      return rankedRow(i, [
        el("td", g.grid.name), el("td", count(g.submitted), "num"),
        rateBar(rates.response), rateBar(rates.resolution), rateBar(rates.satisfaction),
      ]);
    }));
  }

  function renderLeaderboard(data) {
    const items = data.items || [];
    if (!items.length) return emptyRow($("leaderboard"), 6, "暂无积分");
    $("leaderboard").replaceChildren(...items.map((m, i) => rankedRow(i, [
      el("td", m.member.name), el("td", count(m.points), "num"), el("td", count(m.completed), "num"),
      el("td", count(m.five_star), "num"), el("td", count(m.overdue), "num"),
    ])));
  }

  function renderOverdue(data) {
    const items = data.items || [];
    if (!items.length) return emptyRow($("overdue"), 5, "暂无超期工单");
    $("overdue").replaceChildren(...items.map((o) => {
      const row = el("tr");
      row.append(
        el("td", "#" + o.order_id), el("td", o.category.name), el("td", o.grid.name),
        el("td", o.state_label || STAGE_LABELS[o.stage] || o.stage), el("td", duration(o.overdue_seconds), "num late")
      );
      return row;
    }));
  }

  function flagText(flagged) {
    const parts = Object.entries(flagged || {}).map(([flag, n]) => flag + " " + count(n));
    return parts.length ? parts.join(" · ") : "—";
  }

  function renderHouseholds(data) {
    const items = data.grids || [];
    const total = data.total || {};
    $("households-total").textContent = "共 " + count(total.households) + " 户，联户覆盖率 " + percent(total.coverage);
    if (!items.length) return emptyRow($("households"), 7, "暂无住户");
    $("households").replaceChildren(...items.map((g) => {
      const row = el("tr");
      row.append(
        el("td", g.grid.name), el("td", count(g.households), "num"), el("td", count(g.buildings), "num"),
        el("td", count(g.paired), "num"), rateBar(g.coverage), el("td", count(g.central), "num"),
        el("td", flagText(g.flagged)),
      );
      return row;
    }));
  }

  function renderUnits(data) {
    const items = (data.units || []).filter((u) => u.whistled > 0);
    const total = data.total || {};
    $("units-total").textContent = "吹哨 " + count(total.whistled) + " 次，办结率 " + percent(total.resolution_rate);
    if (!items.length) return emptyRow($("units"), 7, "本期暂无吹哨");
    $("units").replaceChildren(...items.map((u) => {
      const row = el("tr");
      row.append(
        el("td", u.unit.name), el("td", count(u.whistled), "num"), el("td", count(u.reported), "num"),
        rateBar(u.report_rate_on_time), rateBar(u.resolution_rate), rateBar(u.satisfaction_rate),
        el("td", count(u.open), "num"),
      );
      return row;
    }));
  }

  function renderVisits(data) {
    const items = data.teams || [];
    const total = data.total || {};
    $("visits-total").textContent = "走访 " + count(total.households_visited) + " 户，走访率 " + percent(total.visit_rate) +
      "，收集诉求 " + count(total.needs_collected) + " 件，已解决 " + count(total.needs_solved) + " 件";
    if (!items.length) return emptyRow($("visits"), 7, "暂无直联组");
    $("visits").replaceChildren(...items.map((t) => {
      const row = el("tr");
      row.append(
        el("td", t.team.name), el("td", count(t.households), "num"), el("td", count(t.households_visited), "num"),
        rateBar(t.visit_rate), el("td", count(t.visits), "num"), el("td", count(t.needs_collected), "num"),
        el("td", count(t.needs_solved), "num"),
      );
      return row;
    }));
  }

  function renderHalls(data) {
    const items = data.halls || [];
    const total = data.total || {};
    $("halls-total").textContent = "事项 " + count(total.matters) + " 件，已解决 " + count(total.solved) +
      " 件，下访 " + count(total.down_visits) + " 次";
    if (!items.length) return emptyRow($("halls"), 6, "暂无说事厅");
    $("halls").replaceChildren(...items.map((h) => {
      const row = el("tr");
      row.append(
        el("td", h.hall.name), el("td", count(h.receptions), "num"), el("td", count(h.down_visits), "num"),
        el("td", count(h.matters), "num"), el("td", count(h.solved), "num"), rateBar(h.solved_rate),
      );
      return row;
    }));
  }

  function renderProgrammes(data) {
    $("programmes-year").textContent = data.year + " 年";
    const p = data.projects;
    const rows = [
      ["共建与领办项目", p.by_state.open + p.by_state.taken + p.by_state.done + p.by_state.dropped],
      ["　待揭榜", p.by_state.open], ["　推进中", p.by_state.taken], ["　已完成", p.by_state.done],
      ["项目进展记录", p.milestones], ["关联工单（已办结）", count(p.orders_linked) + "（" + count(p.orders_closed) + "）"],
      ["社区需求待对接", data.needs.open], ["社区需求已对接", data.needs.matched],
      ["可用资源", Object.values(data.resources).reduce((a, b) => a + b, 0)],
      ["揭榜中的任务", data.tasks_on_board],
    ];
    $("programmes").replaceChildren(...rows.map(([label, value]) => {
      const row = el("tr");
      row.append(el("td", label), el("td", typeof value === "number" ? count(value) : value, "num"));
      return row;
    }));
  }

  function starText(grade) {
    return "★".repeat(grade.stars) + "☆".repeat(5 - grade.stars);
  }

  function renderStars(data) {
    const branches = data.branches || [];
    const members = (data.members || []).slice(0, 10);
    $("stars-total").textContent = "先锋指数前 " + count(members.length) + " 名";
    if (!branches.length) emptyRow($("branch-stars"), 5, "暂无支部");
    else $("branch-stars").replaceChildren(...branches.map((b) => {
      const row = el("tr");
      row.append(el("td", b.branch.name), el("td", b.grade.index === null ? "—" : b.grade.index.toFixed(1), "num"),
        el("td", starText(b.grade), "stars-cell"), el("td", count(b.members_taking_part) + "/" + count(b.members), "num"),
        el("td", count(b.late), "num"));
      return row;
    }));
    if (!members.length) return emptyRow($("member-stars"), 5, "暂无党员");
    $("member-stars").replaceChildren(...members.map((m) => {
      const row = el("tr");
      row.append(el("td", m.member.name), el("td", m.branch ? m.branch.name : "—"), el("td", count(m.points), "num"),
        el("td", m.grade.index === null ? "—" : m.grade.index.toFixed(1), "num"), el("td", starText(m.grade), "stars-cell"));
      return row;
    }));
  }

  function renderActionTeams(data) {
    const items = data.teams || [];
    $("actionteams-total").textContent = "共 " + count(items.length) + " 队";
    if (!items.length) return emptyRow($("actionteams"), 8, "暂无行动队");
    $("actionteams").replaceChildren(...items.map((t) => {
      const row = el("tr");
      row.append(
        el("td", t.team.name), el("td", t.branch.name), el("td", t.lead.name), el("td", count(t.worthies), "num"),
        el("td", count(t.held), "num"), el("td", count(t.open), "num"), rateBar(t.resolution_rate),
        rateBar(t.satisfaction_rate),
      );
      return row;
    }));
  }

  function renderBuildings(data) {
    const items = data.buildings || [];
    $("buildings-total").textContent = "共 " + count(items.length) + " 栋";
    if (!items.length) return emptyRow($("buildings"), 7, "暂无楼栋");
    $("buildings").replaceChildren(...items.map((b) => {
      const row = el("tr");
      row.append(
        el("td", b.building.name), el("td", b.grid.name), el("td", count(b.households), "num"),
        el("td", count(b.paired), "num"), el("td", count(b.placed), "num"), rateBar(b.resolution_rate),
        rateBar(b.satisfaction_rate),
      );
      return row;
    }));
  }

  function renderChannels(data) {
    const items = (data.channels || []).filter((c) => c.placed > 0);
    const total = data.total || {};
    $("channels-total").textContent = "共 " + count(total.placed) + " 件";
    if (!items.length) return emptyRow($("channels"), 5, "本期暂无点单");
    $("channels").replaceChildren(...items.map((c) => {
      const row = el("tr");
      row.append(
        el("td", c.channel_label), el("td", count(c.placed), "num"), el("td", count(c.closed), "num"),
        rateBar(c.resolution_rate), rateBar(c.satisfaction_rate),
      );
      return row;
    }));
  }
  // Longitude/latitude to the picture: a flat projection around the map's middle (a town is small).
  function projection(bounds, width, height, pad) {
    const [minLng, minLat, maxLng, maxLat] = bounds;
    const squeeze = Math.cos(((minLat + maxLat) / 2) * Math.PI / 180);
    const spanX = Math.max((maxLng - minLng) * squeeze, 1e-9), spanY = Math.max(maxLat - minLat, 1e-9);
    const scale = Math.min((width - 2 * pad) / spanX, (height - 2 * pad) / spanY);
    const offsetX = (width - spanX * scale) / 2, offsetY = (height - spanY * scale) / 2;
    return (lng, lat) => [offsetX + (lng - minLng) * squeeze * scale, offsetY + (maxLat - lat) * scale];
  }

  function outlinePath(geometry, at) {
    const polygons = geometry.type === "MultiPolygon" ? geometry.coordinates : [geometry.coordinates];
    return polygons.map((rings) => rings.map((ring) =>
      "M" + ring.map(([lng, lat]) => at(lng, lat).map((v) => v.toFixed(1)).join(",")).join("L") + "Z").join(""))
      .join("");
  }

  function renderHotSpots(data) {
    $("hot-spots-total").textContent = count(data.orders) + " 单，有位置 " + count(data.located) + " 单";
    const width = 760, height = 420;
    const map = svg("svg", { viewBox: "0 0 " + width + " " + height, role: "img", "aria-label": "热点地图" });
    if (!data.bounds) {
      map.append(svg("text", { x: width / 2, y: height / 2, "text-anchor": "middle", class: "empty" }, "暂无网格边界与定位工单"));
      $("hot-spots-map").replaceChildren(map);
      return;
    }
    const at = projection(data.bounds, width, height, 16);
    const features = data.grids.features.filter((f) => f.geometry);
    const gridPeak = Math.max(1, ...features.map((f) => f.properties.orders));
    for (const f of features) {
      const shape = svg("path", { d: outlinePath(f.geometry, at), class: "grid",
        fill: "rgba(77,155,255," + (0.08 + 0.42 * f.properties.orders / gridPeak).toFixed(2) + ")" });
      shape.append(svg("title", {}, f.properties.name + "：" + f.properties.orders + " 单"));
      map.append(shape);
    }
    const cellPeak = Math.max(1, ...data.cells.map((c) => c.orders));
    for (const c of data.cells) {
      const [x0, y0] = at(c.min_lng, c.max_lat), [x1, y1] = at(c.max_lng, c.min_lat);
      const cell = svg("rect", { x: x0.toFixed(1), y: y0.toFixed(1), width: Math.max(1, x1 - x0).toFixed(1),
        height: Math.max(1, y1 - y0).toFixed(1), class: "cell", "fill-opacity": (0.25 + 0.75 * c.orders / cellPeak).toFixed(2) });
      cell.append(svg("title", {}, c.orders + " 单"));
      map.append(cell);
    }
    for (const f of features) {
      const ring = f.geometry.type === "MultiPolygon" ? f.geometry.coordinates[0][0] : f.geometry.coordinates[0];
      const middle = ring.slice(0, -1).reduce(([a, b], [lng, lat]) => [a + lng, b + lat], [0, 0])
        .map((v) => v / Math.max(1, ring.length - 1));
      const [x, y] = at(middle[0], middle[1]);
      map.append(svg("text", { x: x.toFixed(1), y: y.toFixed(1), "text-anchor": "middle", class: "grid-name" },
        f.properties.name + " " + f.properties.orders));
    }
    $("hot-spots-map").replaceChildren(map);
  }

  // ---- polling --------------------------------------------------------------------------

  const sources = [
    { path: "stats/overview", render: renderOverview },
    { path: "stats/daily", render: renderDaily },
    { path: "stats/grids", render: renderGrids },
    { path: "stats/leaderboard", render: renderLeaderboard },
    { path: "stats/overdue", extra: { limit: "20" }, render: renderOverdue },
    { path: "stats/households", filters: ["branch_id", "grid_id"], render: renderHouseholds },
    { path: "stats/units", filters: ["date_from", "date_to", "branch_id"], render: renderUnits },
    { path: "stats/visits", filters: ["date_from", "date_to", "branch_id", "grid_id"], render: renderVisits },
    { path: "stats/channels", render: renderChannels },
    { path: "stats/halls", filters: ["date_from", "date_to", "branch_id"], render: renderHalls },
    { path: "stats/buildings", filters: ["date_from", "date_to", "branch_id", "grid_id"], render: renderBuildings },
    { path: "stats/action-teams", filters: ["date_from", "date_to", "branch_id"], render: renderActionTeams },
    { path: "stats/stars", filters: ["date_from", "date_to", "branch_id"], render: renderStars },
    { path: "stats/programmes", filters: ["branch_id"], render: renderProgrammes },
    { path: "stats/hot-spots", filters: ["date_from", "date_to", "branch_id", "grid_id", "category_id"],
      render: renderHotSpots },
  ];

  class SignInNeeded extends Error {}

  let timer = null;
  let generation = 0;

  async function load(source, token) {
    const params = new URLSearchParams(filters);
    // A section that counts places, not a period, takes only the filters it answers to.
    if (source.filters) for (const key of [...params.keys()]) if (!source.filters.includes(key)) params.delete(key);
    for (const [key, value] of Object.entries(source.extra || {})) params.set(key, value);
    const headers = { Authorization: "Bearer " + token, Accept: "application/json" };
    if (source.etag) headers["If-None-Match"] = source.etag;
    // A manual If-None-Match makes fetch hand the 304 to us instead of the HTTP cache.
    const response = await fetch(source.path + "?" + params, { headers, cache: "no-store", credentials: "omit" });
    if (response.status === 304) return false;
    if (response.status === 401 || response.status === 403) {
      throw new SignInNeeded(response.status === 401 ? "令牌无效或已过期，请重新输入" : "此令牌不能读取看板数据");
    }
    if (!response.ok) throw new Error("服务器返回 " + response.status);
    const text = await response.text();
    const changed = text !== source.text;
    if (changed) {
      source.render(JSON.parse(text));
      source.text = text;
    }
    // Only after a good render: a section that failed to draw is fetched in full again.
    source.etag = response.headers.get("ETag");
    return changed;
  }

  async function poll(mine) {
    const token = sessionStorage.getItem(TOKEN_KEY);
    if (!token) return showSignIn();
    const results = await Promise.allSettled(sources.map((source) => load(source, token)));
    if (mine !== generation) return;
    marker.polls += 1;
    const refused = results.find((r) => r.status === "rejected" && r.reason instanceof SignInNeeded);
    if (refused) return showSignIn(refused.reason.message);
    const failed = results.find((r) => r.status === "rejected");
    if (results.some((r) => r.status === "fulfilled" && r.value)) {
      marker.changes += 1;
      $("updated").textContent = "数据更新于 " + clock(new Date());
    }
    if (sources.every((s) => s.text !== undefined)) document.body.dataset.ready = "true";
    setStatus(!failed, failed ? "连接异常（" + (failed.reason && failed.reason.message) + "），" + interval + " 秒后重试"
      : "每 " + interval + " 秒刷新");
    timer = setTimeout(() => poll(mine), interval * 1000);
  }

  function setStatus(ok, text) {
    $("status-dot").className = "dot " + (ok ? "ok" : "bad");
    $("status").textContent = text;
  }

  function start() {
    clearTimeout(timer);
    generation += 1;
    for (const source of sources) {
      source.etag = undefined;
      source.text = undefined;
    }
    $("signin").hidden = true;
    $("board").hidden = false;
    poll(generation);
  }

  function showSignIn(message) {
    clearTimeout(timer);
    generation += 1;
    sessionStorage.removeItem(TOKEN_KEY);
    setStatus(false, "未连接");
    $("board").hidden = true;
    $("signin").hidden = false;
    $("signin-error").hidden = !message;
    $("signin-error").textContent = message || "";
    $("token-input").focus();
  }

  $("token-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const token = $("token-input").value.trim();
    if (!token) return;
    sessionStorage.setItem(TOKEN_KEY, token);
    $("token-input").value = "";
    start();
  });

  if (sessionStorage.getItem(TOKEN_KEY)) start();
  else showSignIn();
})();
