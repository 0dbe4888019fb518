"""The wall dashboard (/dashboard) in headless Chromium, against the real app on a loopback socket.

Needs Debian's `chromium` and `chromium-driver` (apt-get install chromium chromium-driver)
and selenium (the `test` extras); without them the module is skipped.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit
import tempfile
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import httpx
import pytest

from tests.helpers import act, count_moves, place, to_state
from tests.live_server import LiveServer
from tests.world import _token

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
SCREENSHOT = Path("/tmp/dashboard.png")

if not (CHROMIUM.is_file() and CHROMEDRIVER.is_file()):
    pytest.skip(
        f"the dashboard browser test needs {CHROMIUM} and {CHROMEDRIVER}: "
        "apt-get install chromium chromium-driver",
        allow_module_level=True,
    )
webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed: pip install -e '.[test]'")
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

FLAGS = (
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
    "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
    "--window-size=1920,1080",
)
# Resident-visible text an admin could type; the page must show it, never run it.
MARKUP_GRID = '<img src=x onerror="window.__xss=1">第一网格'
MARKUP_MEMBER = "<b onclick=x>王建国</b>"


@pytest.fixture(scope="module")
def chromium():
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in FLAGS:
        options.add_argument(flag)
    profile = tempfile.TemporaryDirectory(prefix="wudan-chromium-")
    options.add_argument(f"--user-data-dir={profile.name}")
    # The network log shows what the page sent and got: If-None-Match, 304.
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(str(CHROMEDRIVER)))
    try:
        yield driver
    finally:
        driver.quit()
        profile.cleanup()


@pytest.fixture
def browser(chromium):
    """The module's Chromium, left on a blank page with empty logs after each test."""
    yield chromium
    chromium.get("about:blank")
    chromium.get_log("performance")
    chromium.get_log("browser")


@pytest.fixture
def live(app):
    with LiveServer(app) as base, httpx.Client(base_url=base, timeout=10) as http:
        yield base, http


def percent(rate: float | None) -> str:
    """What the page shows for a rate: JavaScript's toFixed(1) rounds a tie up, Python's format to even."""
    if rate is None:
        return "—"
    return f"{Decimal(rate * 100).quantize(Decimal('0.1'), rounding=ROUND_HALF_UP)}%"


def text(driver, element_id: str) -> str:
    return driver.find_element(By.ID, element_id).text


def wait_for(driver, condition, message: str, timeout: float = 10):
    return WebDriverWait(driver, timeout, poll_frequency=0.1).until(lambda d: condition(d), message)


def overview(http, token: str) -> dict:
    r = http.get("/stats/overview", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text
    return r.json()


def shown_rate(rate) -> str:
    """A rate as the page writes it: a percentage with one decimal, or a dash."""
    return "—" if rate is None else f"{rate * 100:.1f}%"


def shown_numbers(driver) -> dict[str, str]:
    return {key: text(driver, key) for key in
            ("rate-response", "rate-resolution", "rate-satisfaction", "overdue-total", "submitted")}


def expected_numbers(data: dict) -> dict[str, str]:
    return {
        "rate-response": percent(data["rates"]["response"]),
        "rate-resolution": percent(data["rates"]["resolution"]),
        "rate-satisfaction": percent(data["rates"]["satisfaction"]),
        "overdue-total": str(data["overdue_now"]["total"]),
        "submitted": str(data["submitted"]),
    }


class StatsTraffic:
    """(url, request headers, status) of each request the page sent to base/stats/.

    Chromium's performance log is read in pieces; a request sent before one read may be
    answered after it, so requests and answers are kept across reads and matched by id.
    """

    def __init__(self, driver, base: str):
        self.driver, self.base = driver, base
        self.sent: dict[str, tuple[str, dict]] = {}
        self.status: dict[str, int] = {}

    def read(self) -> list[tuple[str, dict, int | None]]:
        for entry in self.driver.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            params = message.get("params", {})
            if message["method"] == "Network.requestWillBeSent" \
                    and params["request"]["url"].startswith(f"{self.base}/stats/"):
                self.sent[params["requestId"]] = (params["request"]["url"], params["request"]["headers"])
            elif message["method"] == "Network.responseReceived" \
                    and params["response"]["url"].startswith(f"{self.base}/stats/"):
                self.status[params["requestId"]] = params["response"]["status"]
        return [(url, headers, self.status.get(rid)) for rid, (url, headers) in self.sent.items()]


def test_dashboard_shows_the_api_numbers_and_updates_in_place(browser, live, world, clock, app):
    base, http = live
    admin = world.auth("admin")
    r = http.post("/admin/dashboard-tokens", headers=admin)
    assert r.status_code == 201, r.text
    token = r.json()["access_token"]
    assert http.patch(f"/admin/grids/{world['gridA1']}", json={"name": MARKUP_GRID}, headers=admin).status_code == 200
    assert http.patch(f"/admin/staff/{world['memberA1']}", json={"name": MARKUP_MEMBER},
                      headers=admin).status_code == 200

    # Closed with five stars, completed and waiting for a rating, cancelled, and one left unclaimed.
    closed = place(http, world)["id"]
    to_state(http, world, closed, "completed")
    act(http, world, "res1", closed, "rate", {"stars": 5})
    waiting = place(http, world)["id"]
    to_state(http, world, waiting, "completed")
    act(http, world, "res2", place(http, world, who="res2")["id"], "cancel", {})
    unclaimed = place(http, world, who="res2")["id"]
    clock.advance(hours=3)  # the unclaimed order is past its 2-hour claim limit
    count_moves(app)
    block = http.post("/admin/buildings", json={"grid_id": world["gridA1"], "name": "1号楼"}, headers=admin).json()
    assert http.post("/admin/households", json={"grid_id": world["gridA1"], "address": "幸福路1号", "flags": ["独居老人"],
                                               "paired_member_id": world["memberA1"], "building_id": block["id"]},
                     headers=admin).status_code == 201
    # One order whistled to a unit (吹哨报到), which has reported in.
    unit_id = http.post("/admin/units", json={"name": "供电所"}, headers=admin).json()["id"]
    unit_staff = http.post("/admin/staff", json={"name": "电工", "phone": "13811110009", "role": "unit_staff",
                                                 "password": "a long password", "unit_id": unit_id}, headers=admin)
    world.tokens["unit"] = _token(world.settings, "staff", unit_staff.json()["id"], "unit_staff", world["town"], clock())
    whistled = place(http, world)["id"]
    act(http, world, "workerA1", whistled, "claim")
    whistle_id = act(http, world, "secA", whistled, "whistle", {"unit_ids": [unit_id]})["whistles"][0]["id"]
    assert http.post(f"/whistles/{whistle_id}/report-in", headers=world.auth("unit")).status_code == 200
    # A 驻点直联 team over grid A1 has visited the household there and found one need.
    team = http.post("/admin/visit-teams", json={"name": "甲村直联组", "member_ids": [world["memberA1"]],
                                                 "grid_ids": [world["gridA1"]]}, headers=admin)
    assert team.status_code == 201, team.text
    home = http.get("/households", headers=admin).json()["items"][0]["id"]
    found = http.post("/visits", json={"household_id": home, "needs": [{
        "category_id": world["cat"], "description": "楼道灯不亮", "contact_name": "孙奶奶",
        "contact_phone": "13900007777"}]}, headers=world.auth("memberA1"))
    assert found.status_code == 201, found.text
    # The 群众说事厅 of branch A held one reception where one matter was settled on the spot.
    hall = http.post("/admin/halls", json={"name": "甲村说事厅", "branch_id": world["branchA"]}, headers=admin).json()
    held = http.post(f"/halls/{hall['id']}/sessions", json={"starts_at": clock().isoformat(),
                                                             "host_ids": [world["secA"]]}, headers=admin).json()
    said = http.post(f"/hall-sessions/{held['id']}/matters", json={
        "visitor_name": "周大伯", "grid_id": world["gridA1"], "description": "问医保缴费", "outcome": "settled",
        "settled_note": "当场解答"}, headers=admin)
    assert said.status_code == 201, said.text
    # A project of the year, a need the community entered, a task on the board.
    assert http.post("/projects", json={"year": clock().year, "title": "村道亮化", "description": "路灯"},
                     headers=world.auth("secA")).status_code == 201
    assert http.post("/lists/needs", json={"title": "无障碍坡道", "description": "卫生室门口"},
                     headers=world.auth("secA")).status_code == 201
    posted = place(http, world)["id"]
    act(http, world, "workerA1", posted, "claim")
    act(http, world, "secA", posted, "post-task", {"hours": 48})
    # Branch A's action team (行动队) was dispatched one order.
    crew = http.post("/action-teams", json={"name": "甲村行动队", "cadre_id": world["workerA1"],
                                             "lead_id": world["memberA2"]}, headers=world.auth("secA"))
    assert crew.status_code == 201, crew.text
    crewed = place(http, world)["id"]
    act(http, world, "workerA1", crewed, "claim")
    act(http, world, "secA", crewed, "dispatch", {"action_team_id": crew.json()["id"]})

    # The grids' outlines, and one order placed where the problem is (热点地图).
    for grid, west in (("gridA1", 114.300), ("gridA2", 114.310)):
        ring = [[west, 30.59], [west + 0.01, 30.59], [west + 0.01, 30.60], [west, 30.60], [west, 30.59]]
        assert http.put(f"/admin/grids/{world[grid]}/boundary", json={"type": "Polygon", "coordinates": [ring]},
                        headers=admin).status_code == 200
    place(http, world, longitude=114.305, latitude=30.595)

    before = overview(http, token)
    assert before["overdue_now"]["total"] >= 1 and before["rates"]["satisfaction"] == 1.0

    browser.get(f"{base}/dashboard#token={token}&interval=1")
    wait_for(browser, lambda d: d.execute_script("return document.body.dataset.ready") == "true",
             "the dashboard did not finish its first load")
    assert "token=" not in browser.current_url, "the token is taken out of the address bar"
    assert browser.execute_script("return sessionStorage.getItem('wudan.dashboard.token')") == token
    wait_for(browser, lambda d: shown_numbers(d) == expected_numbers(before),
             f"the page does not show the API's numbers {expected_numbers(before)}")
    first_load = browser.execute_script("window.__sameDocument = true; return window.wudanDashboard.id")

    # The other sections as the API answers them.
    grids = http.get("/stats/grids", headers={"Authorization": f"Bearer {token}"}).json()["items"]
    rows = browser.find_elements(By.CSS_SELECTOR, "#grids tr")
    assert [row.find_elements(By.TAG_NAME, "td")[1].text for row in rows] == [g["grid"]["name"] for g in grids]
    assert MARKUP_GRID in [g["grid"]["name"] for g in grids], "markup is shown as text"
    leaders = http.get("/stats/leaderboard", headers={"Authorization": f"Bearer {token}"}).json()["items"]
    names = [row.find_elements(By.TAG_NAME, "td")[1].text
             for row in browser.find_elements(By.CSS_SELECTOR, "#leaderboard tr")]
    assert names == [m["member"]["name"] for m in leaders] and MARKUP_MEMBER in names
    overdue = http.get("/stats/overdue?limit=20", headers={"Authorization": f"Bearer {token}"}).json()["items"]
    assert f"#{unclaimed}" in [o.text for o in browser.find_elements(By.CSS_SELECTOR, "#overdue tr td:first-child")]
    assert len(browser.find_elements(By.CSS_SELECTOR, "#overdue tr")) == len(overdue)
    assert browser.find_elements(By.CSS_SELECTOR, "#trend svg polyline"), "the daily trend is drawn"
    homes = http.get("/stats/households", headers={"Authorization": f"Bearer {token}"}).json()
    rows = browser.find_elements(By.CSS_SELECTOR, "#households tr")
    assert [[td.text for td in row.find_elements(By.TAG_NAME, "td")][:4] for row in rows] == [
        [g["grid"]["name"], str(g["households"]), str(g["buildings"]), str(g["paired"])] for g in homes["grids"]]
    assert "独居老人 1" in rows[[g["grid"]["id"] for g in homes["grids"]].index(world["gridA1"])].text
    assert "100.0%" in text(browser, "households-total")
    units = http.get("/stats/units", headers={"Authorization": f"Bearer {token}"}).json()
    assert units["total"]["whistled"] == 1
    rows = browser.find_elements(By.CSS_SELECTOR, "#units tr")
    assert [[td.text for td in row.find_elements(By.TAG_NAME, "td")] for row in rows] == [
        ["供电所", "1", "1", "100.0%", "0.0%", "—", "1"]]
    visits = http.get("/stats/visits", headers={"Authorization": f"Bearer {token}"}).json()
    rows = browser.find_elements(By.CSS_SELECTOR, "#visits tr")
    assert [[td.text for td in row.find_elements(By.TAG_NAME, "td")] for row in rows] == [
        ["甲村直联组", str(visits["teams"][0]["households"]), "1", shown_rate(visits["teams"][0]["visit_rate"]),
         "1", "1", "0"]]
    assert "收集诉求 1 件" in text(browser, "visits-total")
    rows = browser.find_elements(By.CSS_SELECTOR, "#halls tr")
    assert [[td.text for td in row.find_elements(By.TAG_NAME, "td")] for row in rows] == [
        ["甲村说事厅", "1", "0", "1", "1", "100.0%"]]
    blocks = http.get("/stats/buildings", headers={"Authorization": f"Bearer {token}"}).json()["buildings"]
    rows = browser.find_elements(By.CSS_SELECTOR, "#buildings tr")
    assert [[td.text for td in row.find_elements(By.TAG_NAME, "td")][:5] for row in rows] == [
        [b["building"]["name"], b["grid"]["name"], str(b["households"]), str(b["paired"]), str(b["placed"])]
        for b in blocks] == [["1号楼", MARKUP_GRID, "1", "1", str(blocks[0]["placed"])]]  # the name as text
    rows = browser.find_elements(By.CSS_SELECTOR, "#actionteams tr")
    assert [[td.text for td in row.find_elements(By.TAG_NAME, "td")][:6] for row in rows] == [
        ["甲村行动队", "甲村党支部", "memberA2", "0", "1", "1"]]
    programmes = http.get("/stats/programmes", headers={"Authorization": f"Bearer {token}"}).json()
    rows = {tr.find_elements(By.TAG_NAME, "td")[0].text: tr.find_elements(By.TAG_NAME, "td")[1].text
            for tr in browser.find_elements(By.CSS_SELECTOR, "#programmes tr")}
    assert (rows["共建与领办项目"], rows["待揭榜"], rows["社区需求待对接"], rows["揭榜中的任务"]) == (
        "1", "1", "1", str(programmes["tasks_on_board"])) == ("1", "1", "1", "1")
    graded = http.get("/stats/stars", headers={"Authorization": f"Bearer {token}"}).json()
    rows = browser.find_elements(By.CSS_SELECTOR, "#branch-stars tr")
    assert [[td.text for td in row.find_elements(By.TAG_NAME, "td")][:3] for row in rows] == [
        [b["branch"]["name"], f'{b["grade"]["index"]:.1f}', "★" * b["grade"]["stars"] + "☆" * (5 - b["grade"]["stars"])]
        for b in graded["branches"]]
    rows = browser.find_elements(By.CSS_SELECTOR, "#member-stars tr")
    assert [[td.text for td in row.find_elements(By.TAG_NAME, "td")][:3] for row in rows] == [
        [m["member"]["name"], m["branch"]["name"], str(m["points"])] for m in graded["members"][:10]]
    assert graded["members"][0]["points"] == 15  # memberA1's five-star close
    channels = http.get("/stats/channels", headers={"Authorization": f"Bearer {token}"}).json()
    rows = browser.find_elements(By.CSS_SELECTOR, "#channels tr")
    assert [[td.text for td in row.find_elements(By.TAG_NAME, "td")] for row in rows] == [
        [c["channel_label"], str(c["placed"]), str(c["closed"]), shown_rate(c["resolution_rate"]),
         shown_rate(c["satisfaction_rate"])] for c in channels["channels"] if c["placed"]]
    assert {"小程序", "走访"} <= {row.find_element(By.TAG_NAME, "td").text for row in rows}
    spots = http.get("/stats/hot-spots", headers={"Authorization": f"Bearer {token}"}).json()
    assert len(browser.find_elements(By.CSS_SELECTOR, "#hot-spots-map path.grid")) == 2
    assert len(browser.find_elements(By.CSS_SELECTOR, "#hot-spots-map rect.cell")) == len(spots["cells"]) == 1
    names = [t.text for t in browser.find_elements(By.CSS_SELECTOR, "#hot-spots-map text.grid-name")]
    a1 = next(f["properties"]["orders"] for f in spots["grids"]["features"] if f["id"] == world["gridA1"])
    assert f"{MARKUP_GRID} {a1}" in names and a1 >= 1  # the name as text
    assert text(browser, "hot-spots-total") == f"{spots['orders']} 单，有位置 1 单"
    assert browser.execute_script("return window.__xss") is None
    assert not browser.find_elements(By.CSS_SELECTOR, "#grids img, #leaderboard b"), "no markup became elements"

    # Polls repeat with the ETag and get 304 while nothing changes.
    traffic = StatsTraffic(browser, base)

    def overview_polls():
        return [(h, s) for url, h, s in traffic.read() if "/stats/overview" in url]

    wait_for(browser, lambda d: any(s == 304 for _, s in overview_polls()), "no overview poll was answered 304")
    polled = overview_polls()
    assert all(h.get("Authorization") == f"Bearer {token}" for h, _ in polled)
    assert any("If-None-Match" in h and s == 304 for h, s in polled)

    # The resident rates the waiting order with three stars: it closes, satisfaction falls to 1/2.
    act(http, world, "res1", waiting, "rate", {"stars": 3})
    count_moves(app)  # the worker's projection pass
    after = overview(http, token)
    assert after["rates"]["satisfaction"] == 0.5 and after["rates"] != before["rates"]
    wait_for(browser, lambda d: shown_numbers(d) == expected_numbers(after),
             f"the page did not update to {expected_numbers(after)}", timeout=8)
    assert browser.execute_script("return window.__sameDocument === true && window.wudanDashboard.id") == first_load, \
        "the page updated in place, without a reload"
    assert browser.execute_script("return window.wudanDashboard.changes") >= 2
    assert "数据更新于" in text(browser, "updated")
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == [], errors

    browser.save_screenshot(str(SCREENSHOT))


def test_a_bad_token_asks_for_one_and_the_form_takes_it(browser, live, world):
    base, http = live
    token = http.post("/admin/dashboard-tokens", headers=world.auth("admin")).json()["access_token"]
    browser.get(f"{base}/dashboard#token=not-a-token")
    wait_for(browser, lambda d: d.find_element(By.ID, "signin").is_displayed(), "no sign-in form for a bad token")
    assert "令牌" in text(browser, "signin-error")
    assert not browser.find_element(By.ID, "board").is_displayed()

    browser.find_element(By.ID, "token-input").send_keys(token)
    browser.find_element(By.CSS_SELECTOR, "#token-form button").click()
    expected = expected_numbers(overview(http, token))
    wait_for(browser, lambda d: d.find_element(By.ID, "board").is_displayed() and shown_numbers(d) == expected,
             "the form's token did not open the dashboard")
    assert text(browser, "rate-satisfaction") == "—", "no ratings yet: a dash, not 0%"


def test_each_section_gets_the_filters_it_answers_to(browser, live, world):
    base, http = live
    token = http.post("/admin/dashboard-tokens", headers=world.auth("admin")).json()["access_token"]
    traffic = StatsTraffic(browser, base)
    browser.get(f"{base}/dashboard#token={token}&interval=1&grid_id={world['gridA1']}&member_id={world['memberA1']}")
    wait_for(browser, lambda d: d.execute_script("return document.body.dataset.ready") == "true",
             "the dashboard did not finish its first load")

    def asked(path):
        return [parse_qs(urlsplit(url).query) for url, _, status in traffic.read() if f"/stats/{path}?" in url]

    wait_for(browser, lambda d: asked("households") and asked("overview"), "no households or overview request")
    assert all(q == {"grid_id": [str(world["gridA1"])]} for q in asked("households")), asked("households")
    assert all(q.get("member_id") == [str(world["memberA1"])] for q in asked("overview"))


def test_the_page_and_its_assets_are_served_with_a_strict_policy(live):
    _, http = live
    page = http.get("/dashboard")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    for name, kind in (("dashboard.js", "text/javascript"), ("dashboard.css", "text/css")):
        asset = http.get(f"/dashboard/assets/{name}")
        assert asset.status_code == 200 and asset.headers["content-type"].startswith(kind)
    for name in ("dashboard.html", "..%2F..%2Fapp.py", "x.js"):
        assert http.get(f"/dashboard/assets/{name}").status_code == 404
    script = http.get("/dashboard/assets/dashboard.js").text
    assert "innerHTML" not in script and "insertAdjacentHTML" not in script and "document.write" not in script
