"""The review page in a real browser: Debian's chromium driven by Selenium and chromedriver.

Uploads the shipped 部标 TXT and sees the verdict and a red overlap on the map, downloads
the workbook, draws a polygon, and screens the sample list to 100 %.  Screenshots go to
the test's temporary folder, or to ``$ZONING_SCREENSHOTS`` when set.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

from zoning.paths import seeds_dir

selenium = pytest.importorskip("selenium")
uvicorn = pytest.importorskip("uvicorn")

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
pytestmark = pytest.mark.skipif(
    not (Path(CHROMIUM).exists() and Path(DRIVER).exists()),
    reason="needs Debian's chromium and chromium-driver (make browser installs them)")

PROJECTS = seeds_dir() / "projects"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from zoning.web.app import create_app
    from zoning.web.config import WebConfig

    cfg = WebConfig(region="guiyang", job_root=str(tmp_path_factory.mktemp("jobs")))
    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(create_app(cfg), host="127.0.0.1", port=port,
                                        log_level="warning"))
    t = threading.Thread(target=srv.run, daemon=True)
    t.start()
    deadline = time.monotonic() + 120
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert srv.started
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    t.join(timeout=10)


@pytest.fixture(scope="module")
def downloads(tmp_path_factory):
    return tmp_path_factory.mktemp("downloads")


@pytest.fixture(scope="module")
def browser(downloads):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
              "--window-size=1400,900", "--lang=zh-CN"):
        opts.add_argument(a)
    opts.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                           "download.prompt_for_download": False})
    d = webdriver.Chrome(service=Service(DRIVER), options=opts)
    d.set_page_load_timeout(30)
    yield d
    d.quit()


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    out = os.environ.get("ZONING_SCREENSHOTS")
    if out:
        Path(out).mkdir(parents=True, exist_ok=True)
        return Path(out)
    return tmp_path_factory.mktemp("screenshots")


def _shot(d, shots, name: str) -> None:
    """A screenshot, kept only when ``$ZONING_SCREENSHOTS`` asks for them (then after the
    map's zoom animation has settled)."""
    if os.environ.get("ZONING_SCREENSHOTS"):
        time.sleep(0.3)
        d.save_screenshot(str(shots / name))


def _wait(d, cond, timeout=30):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(d, timeout, poll_frequency=0.05).until(cond)


def _by(css):
    from selenium.webdriver.common.by import By

    return By.CSS_SELECTOR, css


def test_upload_bubiao_txt_shows_verdict_and_red_overlap(server, browser, shots, downloads):
    d = browser
    d.get(server + "/")
    _wait(d, lambda d: d.find_elements(*_by("#coord-sys option")))
    # no basemap by default (an intranet): the districts, outlined and named, orient the user
    outlines = _wait(d, lambda d: d.find_elements(*_by("path.zoning-district")))
    assert len(outlines) == 10
    labels = [x.text for x in d.find_elements(*_by(".district-label"))]
    assert "南明区" in labels and "花溪区" in labels
    d.find_element(*_by("#site-file")).send_keys(str(PROJECTS / "GY-012_勘测定界.txt"))
    d.find_element(*_by("#industry")).send_keys("C2614")
    from selenium.webdriver.support.ui import Select

    Select(d.find_element(*_by("#tailings"))).select_by_value("否")  # asked by the 准入清单
    d.find_element(*_by("#run-check")).click()
    _wait(d, lambda d: d.find_element(*_by("#verdict")).text)
    assert d.find_element(*_by("#verdict")).text == "禁止"
    assert "区域 贵阳市" in d.find_element(*_by("#site-info")).text  # the name, not the id
    # the verdict's colour of the HTML maps and the report figures, on the overlap and on the
    # badge; the legend says what the map draws (a page of its own colours read two ways)
    from zoning.report.colours import state_colour
    from zoning.results import State

    red = state_colour(State.PROHIBITED)
    reds = _wait(d, lambda d: d.find_elements(*_by("path.zoning-overlap")))
    assert reds and {x.get_attribute("fill") for x in reds} == {red}
    rgb = "rgb({}, {}, {})".format(*(int(red[i:i + 2], 16) for i in (1, 3, 5)))
    assert d.find_element(*_by("#verdict")).value_of_css_property("background-color") in (
        rgb, rgb.replace("rgb", "rgba")[:-1] + ", 1)")
    # badge text: white on dark verdict colours, near-black on light ones (contrast)
    styles = d.execute_script("return document.getElementById('state-colours').textContent")
    assert f".s-prohibited {{ background: {red}; color: #fff; }}" in styles
    cyan = state_colour(State.CROSSING_NO_LAND_USE)
    assert f".s-crossing_no_land_use {{ background: {cyan}; color: #111; }}" in styles
    legend = d.find_element(*_by("#map-legend")).text
    assert "重叠部分：禁止" in legend and "永久基本农田" in legend and "冲突重叠" not in legend
    # the site's entry is a dashed outline, as drawn: not a filled square like 数据缺失's
    assert legend.startswith("项目范围（虚线）")
    assert d.find_element(*_by("#map-legend .legend-item i.dashed")).value_of_css_property(
        "border-top-style") == "dashed"
    rows = d.find_elements(*_by("#layer-table tbody tr"))
    farm = [r for r in rows if r.get_attribute("data-layer") == "farmland"]
    assert farm and "禁止" in farm[0].text and "部分重叠" in farm[0].text
    udb = [r for r in rows if r.get_attribute("data-layer") == "udb"][0]
    parts = [x.text for x in udb.find_elements(*_by(".state .nobr"))]
    assert parts == ["需补充信息", "（需人工核查）"]  # breaks before the bracket, not in a word
    basis = d.find_element(*_by('#layer-table tr[data-basis-of="farmland"]'))
    assert "依据：" in basis.text and "第三十五条" in basis.text
    # the table fits its panel and layer names read across, not a letter a line
    fits = d.execute_script(
        "var t = document.getElementById('layer-table'), p = document.getElementById('panel');"
        "return [t.scrollWidth, p.clientWidth, t.querySelector('tbody td').offsetWidth];")
    assert fits[0] <= fits[1] and fits[2] >= 60, fits
    d.set_window_size(1000, 900)  # a laptop half screen: the table still fits its panel
    try:
        narrow = d.execute_script(
            "var t = document.getElementById('layer-table'), p = document.getElementById('panel');"
            "return [t.scrollWidth, p.clientWidth];")
        assert narrow[0] <= narrow[1], narrow
    finally:
        d.set_window_size(1400, 900)
    acc = d.find_element(*_by("#access"))
    assert acc.get_attribute("open") is None  # the 符合性分析表 starts folded
    d.find_element(*_by("#unit")).send_keys("公顷")
    assert "公顷" in d.find_element(*_by("#area-head")).text
    _shot(d, shots, "web_check.png")
    d.execute_script("document.getElementById('verdict').scrollIntoView()")
    _shot(d, shots, "web_result.png")  # the README's docs/web.png
    d.find_element(*_by("#access summary")).click()
    d.execute_script("document.getElementById('access').scrollIntoView()")
    cells = d.execute_script(  # short columns read across (a letter a line before)
        "return Array.from(document.querySelectorAll('#access-table tbody tr:first-child td'))"
        ".map(function (c) { return c.offsetWidth; });")
    assert len(cells) == 3 and cells[0] >= 90 and cells[1] >= 200 and cells[2] >= 40, cells
    fits = d.execute_script("return [document.getElementById('access-table').scrollWidth,"
                            " document.getElementById('panel').clientWidth];")
    assert fits[0] <= fits[1], fits
    _shot(d, shots, "web_access.png")
    d.find_element(*_by("#access summary")).click()
    d.execute_script("document.getElementById('downloads').scrollIntoView()")
    _shot(d, shots, "web_downloads.png")
    d.find_element(*_by('#downloads a[data-file="screening.xlsx"]')).click()
    xlsx = downloads / "GY-012_勘测定界_筛查结果.xlsx"  # saved under the project's name
    _wait(d, lambda d: xlsx.exists() and xlsx.stat().st_size > 0, 20)
    from openpyxl import load_workbook

    wb = load_workbook(xlsx)
    assert wb["汇总"]["L2"].value == "禁止" and wb["图层明细"].max_row > 2
    report = d.find_elements(*_by('#downloads a[data-file="report.docx"]'))
    if report:  # the Word report, where this version renders it
        report[0].click()
        docx = downloads / "GY-012_勘测定界_选址合规性分析报告.docx"
        _wait(d, lambda d: docx.exists() and docx.stat().st_size > 0, 60)
        import zipfile

        with zipfile.ZipFile(docx) as z:
            assert "禁止" in z.read("word/document.xml").decode("utf-8")


def test_draw_a_polygon_and_check(server, browser, shots):
    from selenium.webdriver.common.action_chains import ActionChains

    d = browser
    if not d.current_url.startswith(server):
        d.get(server + "/")
    d.find_element(*_by("#mode-draw")).click()
    d.find_element(*_by("#draw-polygon")).click()
    m = d.find_element(*_by("#map"))
    for dx, dy in ((-60, -40), (80, -50), (40, 70)):
        ActionChains(d).move_to_element_with_offset(m, dx, dy).click().perform()
    d.find_element(*_by("#draw-finish")).click()
    assert "已绘制多边形" in d.find_element(*_by("#draw-hint")).text
    old = d.find_element(*_by("#site-info")).text
    d.find_element(*_by("#run-check")).click()
    # the previous result is hidden while the check runs (a hidden element's text reads
    # ""): wait for the new one on screen
    _wait(d, lambda d: d.find_element(*_by("#result")).is_displayed() and
          d.find_element(*_by("#site-info")).text not in ("", old))
    assert d.find_element(*_by("#verdict")).get_attribute("data-state")
    assert "面积" in d.find_element(*_by("#site-info")).text
    _shot(d, shots, "web_draw.png")
    # the drawn site belongs to the single pane: off the map on the batch tab, back after
    assert d.find_elements(*_by("path.zoning-drawn"))
    d.find_element(*_by("#tab-batch")).click()
    assert not d.find_elements(*_by("path.zoning-drawn"))
    d.find_element(*_by("#tab-single")).click()
    assert d.find_elements(*_by("path.zoning-drawn"))


def test_batch_list_progress_reaches_100(server, browser, shots):
    d = browser
    if not d.current_url.startswith(server):
        d.get(server + "/")
    d.find_element(*_by("#tab-batch")).click()
    d.find_element(*_by("#batch-file")).send_keys(str(PROJECTS / "sample_projects.csv"))
    d.find_element(*_by("#run-batch")).click()
    _wait(d, lambda d: d.find_element(*_by("#batch-percent")).text == "100 %", 60)
    rows = _wait(d, lambda d: d.find_elements(*_by("#batch-table tbody tr")))
    assert len(rows) == 17
    d.find_element(*_by('#batch-table th[data-key="state"]')).click()
    first = d.find_element(*_by("#batch-table tbody tr")).text
    assert "禁止" in first  # by severity, most severe first (not by the verdicts' text)
    d.find_element(*_by('#batch-table th[data-key="state"]')).click()
    last = d.find_element(*_by("#batch-table tbody tr")).text
    assert last != first and "禁止" not in last  # and the other way
    row1 = d.find_element(*_by('#batch-table tbody tr[data-row="1"]'))
    row1.click()
    _wait(d, lambda d: d.find_elements(*_by("path.zoning-footprint")))
    links = [a.get_attribute("data-file") for a in d.find_elements(*_by("#batch-downloads a"))]
    assert "outputs.zip" in links and "screening.xlsx" in links
    # short cells read on one line (a long failure message squeezed 区域 to 贵/阳/市)
    lines = d.execute_script(
        "return Array.from(document.querySelectorAll('#batch-table tbody td:nth-child(6)'))"
        ".map(function (td) { var r = document.createRange(); r.selectNodeContents(td);"
        " return r.getClientRects().length; });")
    assert lines and max(lines) == 1, lines
    _shot(d, shots, "web_batch.png")


def test_a_failed_check_leaves_no_earlier_verdict_on_screen(server, browser):
    """A verdict on screen belongs to the input on screen: after a good check, a bad one
    shows its error and no longer the previous 结论 and map."""
    d = browser
    d.get(server + "/")
    _wait(d, lambda d: d.find_elements(*_by("#coord-sys option")))
    d.find_element(*_by("#site-file")).send_keys(str(PROJECTS / "GY-012_勘测定界.txt"))
    d.find_element(*_by("#run-check")).click()
    _wait(d, lambda d: d.find_element(*_by("#verdict")).text)
    _wait(d, lambda d: d.find_elements(*_by("path.zoning-footprint")))
    d.find_element(*_by("#mode-paste")).click()
    d.find_element(*_by("#coords")).send_keys("106.70 26.55\n106.71 26.55")  # 2 points
    d.find_element(*_by("#run-check")).click()
    err = _wait(d, lambda d: d.find_element(*_by("#check-error")).is_displayed() and
                d.find_element(*_by("#check-error")))
    assert "3" in err.text  # a polygon needs at least 3 points
    assert not d.find_element(*_by("#result")).is_displayed()
    assert not d.find_elements(*_by("path.zoning-footprint"))
    assert "重叠部分" not in d.find_element(*_by("#map-legend")).text  # no stale legend
    # a point site: the default marker images load (they were looked for under images/)
    from selenium.webdriver.support.ui import Select

    d.find_element(*_by("#coords")).clear()
    d.find_element(*_by("#coords")).send_keys("106.3184 26.8415")  # in a red-line feature
    Select(d.find_element(*_by("#shape"))).select_by_value("point")
    d.find_element(*_by("#run-check")).click()
    _wait(d, lambda d: d.find_element(*_by("#result")).is_displayed())
    _wait(d, lambda d: d.find_elements(*_by("path.zoning-footprint")))
    # its overlap is a marker in the verdict's colour, as on the HTML maps (it was a default
    # blue pin, in no legend), and the site a filled marker, not a dashed ring
    from zoning.report.colours import state_colour
    from zoning.results import State

    dots = _wait(d, lambda d: d.find_elements(*_by("path.zoning-overlap")))
    assert {x.get_attribute("fill") for x in dots} == {state_colour(State.PROHIBITED)}
    site = d.find_element(*_by("path.zoning-footprint"))
    assert site.get_attribute("fill-opacity") == "0.9" and not site.get_attribute("stroke-dasharray")
    assert not d.find_elements(*_by("img.leaflet-marker-icon"))
    assert "重叠部分：禁止" in d.find_element(*_by("#map-legend")).text


def test_a_late_map_reply_does_not_draw_a_site_no_longer_on_screen(server, browser):
    """Review finding: a map reply arriving after the user had switched to the batch tab drew
    the single check's site and legend there."""
    d = browser
    d.get(server + "/")
    _wait(d, lambda d: d.find_elements(*_by("#coord-sys option")))
    d.execute_script(  # map replies are held until the test lets them go; __handled counts
        # the replies the page has read and handled (its handlers run before the timeout)
        "window.__held = []; window.__handled = 0; var f = window.fetch;"
        " window.fetch = function (u, o) { var p = f(u, o);"
        " if (String(u).indexOf('/map') < 0) { return p; }"
        " return p.then(function (r) { var j = r.json.bind(r);"
        " r.json = function () { return j().then(function (v) {"
        " setTimeout(function () { window.__handled++; }, 0); return v; }); };"
        " return new Promise(function (ok) { window.__held.push(function () { ok(r); }); });"
        " }); };")
    d.find_element(*_by("#site-file")).send_keys(str(PROJECTS / "GY-012_勘测定界.txt"))
    d.find_element(*_by("#run-check")).click()
    _wait(d, lambda d: d.find_element(*_by("#verdict")).text)
    _wait(d, lambda d: d.execute_script("return window.__held.length"))  # the reply is in
    d.find_element(*_by("#tab-batch")).click()  # before the page has it
    d.execute_script("window.__held.forEach(function (go) { go(); });")
    _wait(d, lambda d: d.execute_script("return window.__handled"))  # read and handled
    assert not d.find_elements(*_by("path.zoning-footprint"))
    assert "重叠部分" not in d.find_element(*_by("#map-legend")).text
    d.get(server + "/")  # the page as the other tests expect it
