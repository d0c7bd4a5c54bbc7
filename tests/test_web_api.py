"""The HTTP API of ``zoning serve``: every input format, every error class, concurrency."""

from __future__ import annotations

import ast
import io
import json
import re
import time
import warnings
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import geopandas as gpd
import pytest
import shapely

pytest.importorskip("fastapi")
pytest.importorskip("httpx")

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from zoning.paths import seeds_dir
from zoning.screen import check
from zoning.web.app import create_app
from zoning.web.config import WebConfig, is_loopback
from zoning.web.coords import parse_coordinates

ROOT = Path(__file__).resolve().parents[1]
SITE = shapely.box(106.700, 26.550, 106.706, 26.556)  # 南明区: farmland patches around
TXT = seeds_dir() / "projects" / "GY-012_勘测定界.txt"
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    cfg = WebConfig(region="guiyang", job_root=str(tmp_path_factory.mktemp("jobs")))
    with TestClient(create_app(cfg), raise_server_exceptions=False) as c:
        yield c


@pytest.fixture(scope="module")
def expected():
    return check(SITE, region="guiyang", industry="C2614")


def _files(tmp_path: Path) -> dict[str, tuple[str, bytes]]:
    """SITE written in every accepted upload format: name → (file name, bytes)."""
    gdf = gpd.GeoDataFrame({"name": ["场地"]}, geometry=[SITE], crs="EPSG:4490")
    out = {}
    gdf.to_file(tmp_path / "s.geojson", driver="GeoJSON")
    out["geojson"] = ("场地.geojson", (tmp_path / "s.geojson").read_bytes())
    gdf.to_file(tmp_path / "s.gpkg", driver="GPKG")
    out["gpkg"] = ("场地.gpkg", (tmp_path / "s.gpkg").read_bytes())
    gdf.to_crs("EPSG:4326").to_file(tmp_path / "s.kml", driver="KML")
    kml = (tmp_path / "s.kml").read_bytes()
    out["kml"] = ("场地.kml", kml)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("doc.kml", kml)
    out["kmz"] = ("场地.kmz", buf.getvalue())
    (tmp_path / "shp").mkdir()
    gdf.to_file(tmp_path / "shp" / "site.shp", encoding="GBK")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for f in (tmp_path / "shp").iterdir():
            zf.write(f, f.name)
    out["zip"] = ("场地.zip", buf.getvalue())
    x0, y0, x1, y1 = SITE.bounds
    ents = ["0", "SECTION", "2", "ENTITIES", "0", "LWPOLYLINE", "8", "0", "90", "4", "70", "1"]
    for x, y in ((x0, y0), (x1, y0), (x1, y1), (x0, y1)):
        ents += ["10", repr(x), "20", repr(y)]
    out["dxf"] = ("场地.dxf", ("\n".join(ents + ["0", "ENDSEC", "0", "EOF"]) + "\n").encode())
    return out


def _post_file(client, name, data, **fields):
    return client.post("/api/check", files={"file": (name, data)}, data=fields)


def _assert_error(r, status, code):
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"code", "message"} and body["code"] == code
    assert CJK.search(body["message"]), body  # a Chinese message
    assert "Traceback" not in r.text and "/input/upload" not in r.text
    return body


# --------------------------------------------------------------------------- inputs


def test_every_upload_format_gives_the_same_verdict(client, expected, tmp_path):
    for fmt, (name, data) in _files(tmp_path).items():
        r = _post_file(client, name, data, industry="C2614")
        assert r.status_code == 200, (fmt, r.text)
        body = r.json()
        assert body["schema"] == "zoning.check/1" and body["geometry_type"] == "polygon", fmt
        assert body["state"] == expected.state.value, fmt
        assert body["area"]["m2"] == pytest.approx(expected.area_m2, rel=1e-6), fmt
        farm = next(lr for lr in body["layers"] if lr["kind"] == "farmland")
        assert farm["overlap"]["m2"] == pytest.approx(
            expected.layer("farmland").overlap_m2, rel=1e-5), fmt
        assert body["name"] == "场地"


def test_bubiao_txt_upload(client):
    r = _post_file(client, TXT.name, TXT.read_bytes())
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["state"] == "prohibited" and body["project_id"] == "GY-012_勘测定界"
    job = r.headers["X-Zoning-Job"]
    m = client.get(f"/api/jobs/{job}/map").json()
    assert m["footprint"]["features"] and m["nearby"]["features"]
    conflicts = [f for f in m["overlaps"]["features"] if f["properties"]["conflict"]]
    assert conflicts and all(f["properties"]["kind"] == "farmland" for f in conflicts)
    assert sum(f["properties"]["overlap_m2"] for f in conflicts) == pytest.approx(
        next(lr for lr in body["layers"] if lr["kind"] == "farmland")["overlap"]["m2"], rel=1e-4)
    # the colours of the HTML maps and the report figures: a conflict in its verdict's colour,
    # layers in theirs (each constraint layer its own), named as the legends name them
    from zoning.report.colours import layer_colour, state_colour
    from zoning.results import State

    assert {tuple(f["properties"]["colour"]) for f in conflicts} == {
        (state_colour(State.PROHIBITED),) * 2}
    near = {f["properties"]["layer"]: f["properties"] for f in m["nearby"]["features"]}
    assert near["farmland"]["colour"] == list(layer_colour("farmland"))
    assert near["water_source"]["kind_zh"] == "饮用水水源保护区"  # its title, not 其他约束
    from zoning.catalog import load_catalog
    from zoning.paths import layers_dir
    from zoning.screen import load_index

    order = load_index(load_catalog(layers_dir() / "guiyang.yaml")).constraints
    assert near["water_source"]["colour"] == list(layer_colour("constraint", "water_source",
                                                               order))
    style = client.get("/api/options").json()["style"]
    assert style["states"] == {s.value: state_colour(s) for s in State}
    assert style["layers"]["farmland"] == list(layer_colour("farmland"))


def test_map_data_colours_every_overlap_by_its_verdict(client):
    """Review finding: a bridge crossing the red line (穿越不占地) showed no overlap colour on
    the page, only blocking ones did; the HTML maps colour every overlap but 不涉及."""
    from zoning.report.colours import state_colour
    from zoning.results import State

    line = {"type": "LineString", "coordinates": [[106.76056984998799, 27.045571988224676],
                                                  [106.76656984998799, 27.04757198822468]]}
    r = client.post("/api/check", json={"geometry": line,
                                        "attributes": {"industry": "E4812", "nature": "新建",
                                                       "takes_land": False}})
    assert r.status_code == 200, r.text
    red = next(lr for lr in r.json()["layers"] if lr["kind"] == "eco_redline")
    assert red["state"] == "crossing_no_land_use"
    m = client.get(f"/api/jobs/{r.headers['X-Zoning-Job']}/map").json()
    [ov] = [f["properties"] for f in m["overlaps"]["features"]
            if f["properties"]["kind"] == "eco_redline"]
    assert ov["by_state"] and not ov["conflict"] and ov["state_zh"] == red["state_zh"]
    assert ov["colour"] == [state_colour(State.CROSSING_NO_LAND_USE)] * 2
    assert all(f["properties"]["kind"] != "landuse" for f in m["nearby"]["features"])


def test_geojson_body_and_form_field(client, expected):
    gj = shapely.geometry.mapping(SITE)
    r = client.post("/api/check", json={"geometry": gj, "attributes": {"industry": "C2614"}})
    assert r.status_code == 200 and r.json()["state"] == expected.state.value
    feat = {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {},
                                                       "geometry": gj}]}
    r = client.post("/api/check", data={"geojson": json.dumps(feat), "industry": "C2614"})
    assert r.status_code == 200
    assert r.json()["area"]["m2"] == pytest.approx(expected.area_m2, abs=0.01)


def test_pasted_coordinates_decimal_dms_and_web_datums(client, expected):
    x0, y0, x1, y1 = SITE.bounds
    text = f"{x0}, {y0}\n{x1} {y0}\n{x1}，{y1}\n{x0} {y1}\n"
    r = client.post("/api/check", data={"coordinates": text, "shape": "polygon",
                                        "industry": "C2614"})
    assert r.status_code == 200 and r.json()["area"]["m2"] == pytest.approx(expected.area_m2)
    dms = "106°42′00″E 26°33′00″N\n106°42′21.6″ 26°33′00″\n106°42′21.6″ 26°33′21.6″\n" \
          "26°33′21.6″N 106°42′00″E"  # the last written latitude first
    r2 = client.post("/api/check", data={"coordinates": dms, "industry": "C2614"})
    assert r2.status_code == 200 and r2.json()["area"]["m2"] == pytest.approx(
        expected.area_m2, rel=1e-6)
    gcj = client.post("/api/check", data={"coordinates": text, "coord_sys": "gcj02"}).json()
    assert gcj["area"]["m2"] == pytest.approx(expected.area_m2, rel=1e-2)
    assert gcj["layers"] != r.json()["layers"]  # shifted by a few hundred metres
    pt = client.post("/api/check", data={"coordinates": "106.703 26.553", "shape": "point"})
    assert pt.json()["geometry_type"] == "point"
    ln = client.post("/api/check", json={"coordinates": f"{x0} {y0}\n{x1} {y1}",
                                         "shape": "line"})
    assert ln.json()["geometry_type"] == "line" and ln.json()["length_m"] > 800


def test_coordinate_parser():
    g = parse_coordinates("106.70,26.55\n# comment\n\n106.71 26.55\n106.71 26.56\n106.70 26.55")
    assert g.geom_type == "Polygon" and len(g.exterior.coords) == 4
    with pytest.raises(ValueError, match="第 2 行"):
        parse_coordinates("106.70,26.55\n106.71")
    with pytest.raises(ValueError, match="below 60"):
        parse_coordinates("106°61′ 26°33′", "point")
    with pytest.raises(ValueError, match="3 different"):
        parse_coordinates("106.7 26.5\n106.8 26.5\n106.7 26.5")


def test_attributes_change_the_verdict(client):
    x0, y0, x1, y1 = 106.5175, 26.7331, 106.5235, 26.7391  # across GY-012's farmland
    line = {"type": "LineString", "coordinates": [[x0, y0], [x1, y1]]}
    land = client.post("/api/check", json={"geometry": line, "attributes": {
        "takes_land": "是"}}).json()
    bridge = client.post("/api/check", json={"geometry": line, "attributes": {
        "takes_land": "否"}}).json()
    assert land["attributes"]["takes_land"] is True and bridge["attributes"]["takes_land"] is False
    farm = {lr["kind"]: lr["state"] for lr in bridge["layers"]}["farmland"]
    assert farm == "crossing_no_land_use"
    assert {lr["kind"]: lr["state"] for lr in land["layers"]}["farmland"] == "prohibited"
    # the 准入清单's questions (尾矿库, 建设目的) can be answered from the page and the API
    both = client.post("/api/check", json={"geometry": line, "attributes": {
        "tailings": "否", "purpose": "safety_eco"}}).json()
    assert both["attributes"]["tailings"] is False
    assert both["attributes"]["purpose"] == "safety_eco"
    form = client.post("/api/check", data={"geojson": json.dumps(line), "tailings": "是"}).json()
    assert form["attributes"]["tailings"] is True


# --------------------------------------------------------------------------- jobs


def test_downloads_of_a_check(client):
    r = _post_file(client, TXT.name, TXT.read_bytes())
    job = r.headers["X-Zoning-Job"]
    st = client.get(f"/api/jobs/{job}").json()
    assert st["state"] == "done" and st["percent"] == 100.0 and len(st["results"]) == 1
    x = client.get(f"/api/jobs/{job}/files/screening.xlsx")
    assert x.status_code == 200 and x.content[:2] == b"PK"
    # saved under the project's name (RFC 6266: an ASCII fallback, then UTF-8)
    from urllib.parse import quote

    cd = x.headers["content-disposition"]
    assert 'filename="screening.xlsx"' in cd
    assert cd.endswith("filename*=UTF-8''" + quote(f"{TXT.stem}_筛查结果.xlsx", safe=""))
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(x.content))
    assert wb["汇总"]["L2"].value == "禁止"
    g = client.get(f"/api/jobs/{job}/files/overlaps.geojson").json()
    assert g["type"] == "FeatureCollection" and g["features"]
    assert client.get(f"/api/jobs/{job}/results").json()[0]["state"] == "prohibited"


def test_batch_job_progress_results_and_zip(client):
    lst = seeds_dir() / "projects" / "sample_projects.csv"
    r = client.post("/api/screen", files={"file": (lst.name, lst.read_bytes())})
    assert r.status_code == 202, r.text
    job = r.json()["id"]
    seen = []
    for _ in range(300):
        st = client.get(f"/api/jobs/{job}").json()
        seen.append(st["percent"])
        if st["state"] in ("done", "failed"):
            break
        time.sleep(0.05)
    assert st["state"] == "done", st
    assert seen == sorted(seen) and seen[-1] == 100.0
    rows = {x["project_id"]: x for x in st["results"]}
    assert len(rows) == 17 and rows["GY-001"]["state"] == "prohibited"
    assert "WKT" in rows["GY-012"]["error"]  # a file reference is never followed
    zr = client.get(f"/api/jobs/{job}/files/outputs.zip")
    assert zr.headers["content-disposition"].endswith("UTF-8''outputs.zip")  # a batch's own
    z = zipfile.ZipFile(io.BytesIO(zr.content))
    assert {"screening.xlsx", "results.json", "overlaps.geojson", "failed_rows.csv"} <= set(
        z.namelist())
    assert len(json.loads(z.read("results.json"))["results"]) == 17
    m = client.get(f"/api/jobs/{job}/map", params={"row": 1}).json()
    assert m["footprint"]["features"][0]["properties"]["project_id"] == "GY-001"


def test_batch_list_with_rows_longer_than_the_header_is_refused(client):
    """Found by the hostile script: pandas took the leading fields of rows longer than the
    header as an index, and the rewritten list shifted every value one column."""
    w = SITE.wkt
    text = f'wkt,项目编号,项目名称\n"{w}",A,甲,x\n"{w}",B,乙,y\n'
    r = client.post("/api/screen", files={"file": ("l.csv", text.encode("utf-8"))})
    assert r.status_code == 202, r.text
    for _ in range(300):
        st = client.get(f"/api/jobs/{r.json()['id']}").json()
        if st["state"] in ("done", "failed"):
            break
        time.sleep(0.05)
    assert st["state"] == "failed", st
    assert "字段比表头多" in json.dumps(st["error"], ensure_ascii=False)


def test_parallel_checks_equal_sequential(client, tmp_path):
    sites = [shapely.box(106.60 + 0.011 * i, 26.50 + 0.007 * (i % 5),
                         106.605 + 0.011 * i, 26.505 + 0.007 * (i % 5)) for i in range(20)]

    def one(g):
        r = client.post("/api/check", json={"geometry": shapely.geometry.mapping(g),
                                            "attributes": {"industry": "C2614"}},
                        params={"store": "false"})
        assert r.status_code == 200 and "X-Zoning-Job" not in r.headers
        return r.json()

    sequential = [one(g) for g in sites]
    with ThreadPoolExecutor(20) as ex:
        parallel = list(ex.map(one, sites))
    assert parallel == sequential
    assert len({json.dumps(x["layers"], sort_keys=True) for x in sequential}) > 5


# --------------------------------------------------------------------------- errors


def test_error_classes_are_clear_json(client):
    _assert_error(_post_file(client, "x.exe", b"MZ"), 415, "unsupported_format")
    _assert_error(_post_file(client, "x.kml", b"<kml"), 400, "data_error")
    _assert_error(_post_file(client, "x.zip", b"PK\x03\x04 truncated"), 400, "input_error")
    _assert_error(_post_file(client, "x.txt", "[属性描述]\n坐标系=2000\n".encode("gbk")),
                  400, "data_error")
    _assert_error(client.post("/api/check", data={"coordinates": "106.7 26.5",
                                                  "industry": "Z99"}), 400, "input_error")
    _assert_error(client.post("/api/check", data={"coordinates": "106.7 26.5", "shape": "point",
                                                  "radius_m": "-1"}), 400, "option_error")
    gj = json.dumps({"type": "Point", "coordinates": [106.7, 26.5]}).encode()
    body = _assert_error(_post_file(client, "p.geojson", gj, crs="EPSG:99999"), 400, "crs_error")
    assert "p.geojson: 无效的坐标系" in body["message"]
    _assert_error(client.post("/api/check", data={"name": "x"}), 400, "bad_request")
    _assert_error(client.post("/api/check", content=b"{", headers={
        "content-type": "application/json"}), 400, "bad_request")
    _assert_error(client.post("/api/check", content=b"x", headers={
        "content-type": "text/plain"}), 400, "bad_request")
    _assert_error(client.post("/api/check", json={"geometry": {"type": "Polygon",
                                                               "coordinates": "x"}}),
                  400, "input_error")
    _assert_error(client.get("/api/check"), 405, "method_not_allowed")
    _assert_error(client.get("/api/jobs/0123"), 404, "not_found")
    _assert_error(client.get("/api/jobs/" + "0" * 32), 404, "not_found")
    _assert_error(client.get("/api/nothing"), 404, "not_found")
    _assert_error(client.get("/api/jobs/x/map", params={"row": "a"}), 422, "bad_request")
    r = _post_file(client, TXT.name, TXT.read_bytes())
    job = r.headers["X-Zoning-Job"]
    _assert_error(client.get(f"/api/jobs/{job}/files/..%2F..%2Fetc%2Fpasswd"), 404, "not_found")
    _assert_error(client.get(f"/api/jobs/{job}/files/status.json"), 404, "not_found")
    _assert_error(client.get(f"/api/jobs/{job}/map", params={"row": 9}), 404, "not_found")


def test_limits_timeout_busy_and_internal_errors(tmp_path, monkeypatch):
    cfg = WebConfig(region="guiyang", job_root=str(tmp_path), max_upload_bytes=2000,
                    max_vertices=50, preload=False)
    with TestClient(create_app(cfg), raise_server_exceptions=False) as c:
        _assert_error(_post_file(c, TXT.name, b"x" * 5000), 413, "too_large")
        big = "\n".join(f"{106.7 + 0.0001 * i} {26.55 + 0.00001 * i * i}" for i in range(60))
        _assert_error(c.post("/api/check", data={"coordinates": big, "shape": "line"}), 413,
                      "resource_limit")
        service = c.app.state.service
        monkeypatch.setattr(service.queue, "size", 0)
        lst = b"wkt\nPOINT (106.7 26.5)\n"
        _assert_error(c.post("/api/screen", files={"file": ("l.csv", lst)}), 503, "busy")
        monkeypatch.setattr(service, "check", lambda *a: 1 / 0)
        body = _assert_error(c.post("/api/check", data={"coordinates": "106.7 26.5",
                                                        "shape": "point"}), 500, "internal_error")
        assert "ZeroDivision" not in body["message"]
        monkeypatch.setattr(service, "check", lambda *a: time.sleep(0.25))
        monkeypatch.setattr(service.config, "check_timeout_s", 0.05)
        _assert_error(c.post("/api/check", data={"coordinates": "106.7 26.5",
                                                 "shape": "point"}), 504, "timeout")
    time.sleep(0.35)  # the timed-out check ends
    assert not [p for p in tmp_path.iterdir() if p.name != "status.json"
                and (p / "input").exists() and not (p / "status.json").exists()]


def test_token_and_security_headers(tmp_path):
    cfg = WebConfig(region="guiyang", job_root=str(tmp_path), token="s3cret-token", preload=False)
    with TestClient(create_app(cfg), raise_server_exceptions=False) as c:
        _assert_error(c.get("/api/layers"), 401, "unauthorized")
        _assert_error(c.get("/api/layers", headers={"Authorization": "Bearer wrong-token"}), 401,
                      "unauthorized")
        ok = c.get("/api/layers", headers={"Authorization": "Bearer s3cret-token"})
        assert ok.status_code == 200 and ok.json()[0]["region"] == "guiyang"
        assert c.get("/api/health").status_code == 200
        page = c.get("/?token=s3cret-token", follow_redirects=False)
        assert page.status_code == 303 and "zoning_token" in page.headers["set-cookie"]
        assert "httponly" in page.headers["set-cookie"].lower()
        assert c.get("/api/layers").status_code == 200  # the cookie signs the page in
        page = c.get("/")
        csp = page.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-eval" not in csp
        assert "default-src 'self'" in csp and page.headers["x-content-type-options"] == "nosniff"
        docs = c.get("/docs").text
        assert "/static/swagger-ui/swagger-ui-bundle.js" in docs and "cdn" not in docs.lower()
        assert c.get("/static/swagger-ui/swagger-ui-bundle.js").status_code == 200
        assert c.get("/openapi.json").json()["paths"]["/api/check"]["post"]["requestBody"]


def test_user_text_is_never_html(client):
    evil = '<img src=x onerror=alert(1)>'
    r = client.post("/api/check", data={"coordinates": "106.7 26.5", "shape": "point",
                                        "name": evil})
    assert r.json()["name"] == evil and r.headers["content-type"].startswith("application/json")
    js = (ROOT / "zoning" / "web" / "static" / "app.js").read_text("utf-8")
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert sink not in js


def test_meta_routes(client):
    h = client.get("/api/health").json()
    assert h["status"] == "ok" and h["warm"] and h["regions"] == ["guiyang"]
    o = client.get("/api/options").json()
    assert "6" in o["activity"] and "transport" in o["major_project"] and "gcj02" in o["coord_sys"]
    codes = [d["code"] for d in client.get("/api/industries", params={"q": "化学原料"}).json()]
    assert codes[:2] == ["C26", "C2614"]
    assert [d["code"] for d in client.get("/api/industries", params={"q": "c26"}).json()][0] \
        == "C26"
    cat = client.get("/api/layers").json()[0]
    kinds = {lay["kind"] for lay in cat["layers"]}
    assert {"eco_redline", "farmland", "control_unit"} <= kinds and cat["problems"] == []


def test_districts_for_the_first_view(client):
    """The page's orientation without a basemap: the served region's districts, named."""
    import shapely
    from shapely.geometry import shape

    r = client.get("/api/districts")
    assert r.status_code == 200 and len(r.content) < 400_000
    fc = r.json()
    names = sorted(f["properties"]["name"] for f in fc["features"])
    assert len(names) == 10 and "南明区" in names and "花溪区" in names
    assert {f["properties"]["region"] for f in fc["features"]} == {"贵阳市"}
    geoms = [shape(f["geometry"]) for f in fc["features"]]
    x0, y0, x1, y1 = shapely.total_bounds(geoms)
    assert 106 < x0 < x1 < 108 and 26 < y0 < y1 < 27.5  # lon/lat (EPSG:4490), not metres
    # simplified for the eye, yet the whole region still within ~50 m of its outline
    from zoning.screen import INDEX_CACHE

    service = client.app.state.service
    frame, _ = INDEX_CACHE.districts(service.catalogs[0])
    exact = dict(zip(frame["name"], frame.to_crs(4490).geometry.values))
    for f, g in zip(fc["features"], geoms):
        assert shapely.hausdorff_distance(g, exact[f["properties"]["name"]]) < 5e-4


def test_job_folders_expire(tmp_path):
    from zoning.web.jobs import JobStore

    store = JobStore(tmp_path, ttl_s=100, max_jobs=3)
    ids = [store.create("check")[0] for _ in range(5)]
    assert store.sweep() == 2 and len(list(tmp_path.iterdir())) == 3
    assert store.sweep(now=time.time() + 101) == 3 and not list(tmp_path.iterdir())
    with pytest.raises(LookupError):
        store.status(ids[-1])


def test_app_removes_its_own_job_folder():
    app = create_app(WebConfig(region="guiyang", preload=False))
    root = Path(app.state.service.store.root)
    with TestClient(app) as c:
        c.post("/api/check", data={"coordinates": "106.7 26.5", "shape": "point"})
        assert any(root.iterdir())
    assert not root.exists()


# --------------------------------------------------------------------------- serve, Windows


def test_serve_refuses_an_open_bind_without_token():
    from click.testing import CliRunner

    from zoning.cli import main

    r = CliRunner().invoke(main, ["serve", "--host", "0.0.0.0"])
    assert r.exit_code == 2 and "--token" in r.output
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5")


POSIX_ONLY = {"fcntl", "pwd", "grp", "resource", "termios", "tty", "pty", "posix", "crypt",
              "syslog", "readline", "curses", "subprocess", "multiprocessing.popen_fork"}
POSIX_CALLS = {"fork", "forkpty", "getuid", "geteuid", "getgid", "setsid", "killpg", "getpgid",
               "setuid", "chown", "lchown", "mkfifo", "system", "popen", "nice", "getloadavg",
               "sysconf", "statvfs", "WNOHANG", "SIGKILL", "SIGHUP", "SIGUSR1"}


def test_server_code_imports_nothing_posix_only():
    files = list((ROOT / "zoning" / "web").glob("*.py")) + [ROOT / "zoning" / "cli" /
                                                             "serve.py"]
    assert len(files) >= 8
    for f in files:
        tree = ast.parse(f.read_text("utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                names = []
            for n in names:
                assert n not in POSIX_ONLY and n.split(".")[0] not in POSIX_ONLY, (f, n)
            if isinstance(node, ast.Attribute):
                assert node.attr not in POSIX_CALLS, (f.name, node.attr, node.lineno)
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                assert not node.value.startswith("/tmp"), (f.name, node.value)


def test_report_download_when_reports_are_installed(client):
    service = client.app.state.service
    r = _post_file(client, TXT.name, TXT.read_bytes())
    job = r.headers["X-Zoning-Job"]
    names = client.get(f"/api/jobs/{job}").json()["downloads"]
    if not service.reports():
        assert "report.docx" not in names
        _assert_error(client.get(f"/api/jobs/{job}/files/report.docx"), 404, "not_found")
        pytest.skip("zoning.outputs.project_report is not in this version")
    assert "report.docx" in names
    from zoning.io.office import soffice_path

    assert ("report.pdf" in names) == bool(soffice_path())  # PDF only with LibreOffice
    doc = client.get(f"/api/jobs/{job}/files/report.docx")
    assert doc.status_code == 200 and doc.content[:2] == b"PK"
    with zipfile.ZipFile(io.BytesIO(doc.content)) as z:
        text = z.read("word/document.xml").decode("utf-8")
    assert "禁止" in text and "永久基本农田" in text


def test_serve_command_end_to_end_and_cleans_up(tmp_path):
    """`zoning serve` on loopback: answers, and on SIGTERM removes its job folder."""
    import os
    import socket
    import subprocess
    import sys

    import httpx

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(os.environ, TMPDIR=str(tmp_path), TEMP=str(tmp_path), TMP=str(tmp_path),
               PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-m", "zoning", "serve", "--port", str(port),
                             "--region", "guiyang"], env=env, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(600):
            try:
                if httpx.get(base + "/api/health", timeout=1).json()["warm"]:
                    break
            except (httpx.HTTPError, ValueError):
                pass
            time.sleep(0.1)  # up, not warm yet: let it warm instead of asking in a tight loop
        r = httpx.post(base + "/api/check", files={"file": (TXT.name, TXT.read_bytes())},
                       timeout=60)
        assert r.status_code == 200 and r.json()["state"] == "prohibited"
        assert "work;dur=" in r.headers["server-timing"] and "app;dur=" in r.headers["server-timing"]
        roots = list(tmp_path.glob("zoning-web-*"))
        assert len(roots) == 1 and any(roots[0].iterdir())
    finally:
        proc.terminate()
        out = proc.communicate(timeout=60)[0].decode("utf-8", "replace")
    assert proc.returncode == 0, out
    assert not list(tmp_path.iterdir()), out  # no temp files left


def test_an_unreadable_layer_is_reported_and_fails_closed(tmp_path):
    import yaml

    from tests.minicat import B, write_catalog

    manifest = write_catalog(tmp_path)
    doc = yaml.safe_load(manifest.read_text("utf-8"))
    farm = next(k for k, v in doc["layers"].items() if v["kind"] == "farmland")
    doc["layers"][farm]["path"] = "missing.gpkg"
    manifest.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    cfg = WebConfig(catalogs=[str(manifest)], job_root=str(tmp_path / "jobs"))
    with TestClient(create_app(cfg), raise_server_exceptions=False) as c:
        cat = c.get("/api/layers").json()[0]
        assert cat["region"] == "mini" and any("missing.gpkg" in p for p in cat["problems"])
        r = c.post("/api/check", json={"geometry": shapely.geometry.mapping(B(10, 10, 60, 60)),
                                       "crs": "EPSG:4524"})
        assert r.status_code == 200, r.text
        body = r.json()
        assert {lr["kind"]: lr["state"] for lr in body["layers"]}["farmland"] == "data_missing"
        assert body["state"] in ("data_missing", "prohibited")  # never 不涉及


def test_job_folders_of_a_killed_server_are_removed_by_the_next(tmp_path):
    """Finding: a server killed mid-load (SIGKILL, a crash) left its job folder behind for
    ever; the next server removes folders whose heartbeat stopped, and only those."""
    import os
    import time as _time

    from zoning.web.app import ALIVE, DEAD_AFTER_S, remove_dead_roots

    now = _time.time()
    old = now - DEAD_AFTER_S - 60
    dead = tmp_path / "zoning-web-dead"
    (dead / ("0" * 32)).mkdir(parents=True)
    (dead / ("0" * 32) / "results.json").write_text("[]")
    (dead / ALIVE).touch()
    os.utime(dead / ALIVE, (old, old))
    nobeat = tmp_path / "zoning-web-nobeat"
    nobeat.mkdir()
    os.utime(nobeat, (old, old))
    alive = tmp_path / "zoning-web-alive"  # an old folder of a server still running
    alive.mkdir()
    (alive / ALIVE).touch()
    os.utime(alive, (old, old))
    other = tmp_path / "not-ours"
    other.mkdir()
    os.utime(other, (old, old))
    assert sorted(p.name for p in remove_dead_roots(tmp_path, now)) == [
        "zoning-web-dead", "zoning-web-nobeat"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["not-ours", "zoning-web-alive"]
