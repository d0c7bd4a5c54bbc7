"""Verdicts at the edges: long edges, partial coverage, several regions, shared
boundaries, slivers, thresholds, needs-review, precise rules, input mistakes.

Each test is a known answer that the engine got wrong before (see issue 11).
"""

import geopandas as gpd
import numpy as np
import pytest
import shapely
import yaml
from shapely.geometry import LineString, Point

from zoning.catalog import load_catalog
from zoning.crs import reproject
from zoning.engine.geometry import GEO
from zoning.engine.index import LayerIndex
from zoning.gcj02 import wgs84_to_gcj02
from zoning.options import CheckOptions
from zoning.results import SEVERITY, State
from zoning.rules.access import evaluate as evaluate_access
from zoning.rules.access import load_access_rules
from zoning.screen import check, screen

from .minicat import CRS, LAYERS, OX, OY, SPECS, B, L, write_catalog

GK = CheckOptions(area_method="gk")


@pytest.fixture(scope="module")
def cat(tmp_path_factory):
    return load_catalog(write_catalog(tmp_path_factory.mktemp("edges")))


def run(cat, geom, opts=GK, **attrs):
    return check(geom, cat, crs=CRS, options=opts, **attrs)


# ------------------------------------------------------------------ 1. long edges


def _lonlat_catalog(folder):
    """Two control units in EPSG:4490 split by a 38 km east–west edge at 35.3°N."""
    lat, w, e = 35.3, 105.5, 105.92
    units = gpd.GeoDataFrame(
        {"BM": ["ZH62080230001", "ZH62080230002"], "MC": ["北单元", "南单元"], "FL": ["3", "3"]},
        geometry=[shapely.box(w, lat, e, lat + 0.1), shapely.box(w, lat - 0.1, e, lat)],
        crs="EPSG:4490")
    districts = gpd.GeoDataFrame({"code": ["620802"], "name": ["测试县"]},
                                 geometry=[shapely.box(w, lat - 0.1, e, lat + 0.1)],
                                 crs="EPSG:4490")
    gpkg = folder / "ll.gpkg"
    districts.to_file(gpkg, layer="districts", driver="GPKG")
    units.to_file(gpkg, layer="units", driver="GPKG", mode="a")
    doc = {"catalog_version": 1, "region": {"id": "ll", "name": "经纬度区"}, "layers": {
        n: dict(SPECS[n], path="ll.gpkg", layer=n, crs="EPSG:4490")
        for n in ("districts", "units")}}
    p = folder / "ll.yaml"
    p.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return load_catalog(p), units


def test_long_edge_strip_goes_to_the_unit_the_data_puts_it_in(tmp_path):
    cat, units = _lonlat_catalog(tmp_path)
    # a 0.44 ha strip, 2–12 m north of the edge, in the middle of the 38 km edge; vertex by
    # vertex the edge bends 20 m north there and the strip fell into the southern unit
    strip = shapely.box(105.708, 35.3 + 2e-5, 105.708 + 0.0048, 35.3 + 1.1e-4)
    r = check(strip, cat, options=GK)
    cu = r.layer("control_unit")
    assert [h.feature_id for h in cu.hits] == ["ZH62080230001"]
    assert cu.hits[0].share == pytest.approx(1.0, abs=1e-6)
    assert cu.state is State.NEEDS_REVIEW  # no industry code: its 准入清单 cannot be cleared
    # boundary positions: the edge's true midpoint lies on the indexed boundary (< 0.1 m)
    li = LayerIndex.build("units", "control_unit", units.rename(columns={"BM": "_id"}),
                          "EPSG:4523")
    mid = reproject(Point(105.71, 35.3), GEO, "EPSG:4523")
    north = shapely.union_all(li.pieces[li.parent == 0])
    assert shapely.distance(mid, shapely.boundary(north)) < 0.1


# ------------------------------------------------------------------ 2. coverage, regions


def test_partial_coverage_keeps_a_known_prohibition(tmp_path):
    layers = dict(LAYERS)
    layers["redline"] = gpd.GeoDataFrame({"HXBM": ["R9"], "ZRBHDFQ": [""]},
                                         geometry=[B(9000, 0, 10_000, 1000)], crs=CRS)
    cat = load_catalog(write_catalog(tmp_path, layers=layers))
    r = run(cat, B(9500, 0, 10_500, 500))  # half of it beyond the districts
    red = r.layer("eco_redline")
    assert red.state is State.PROHIBITED and red.overlap_m2 == pytest.approx(250_000)
    out = r.layer("coverage")
    assert out.state is State.DATA_MISSING and out.overlap_m2 == pytest.approx(250_000)
    assert r.state is State.PROHIBITED  # never hidden behind 数据缺失
    assert any("红线" in b or "生态保护红线" in b for b in r.basis)


def _region(layers: dict, west: bool) -> dict:
    """The features of one half (x < 0 or x > 0) of the mini layers."""
    out = {}
    for name, gdf in layers.items():
        x = gdf.geometry.centroid.x - OX
        keep = (x < 0) if west else (x > 0)
        if name == "shore":
            keep = np.ones(len(gdf), dtype=bool) if west else np.zeros(len(gdf), dtype=bool)
        part = gdf[keep]
        if len(part) == 0:  # an empty layer file is unreadable: a far-away stand-in
            part = gdf.iloc[:1].copy()
            part = part.set_geometry([B(-9990, 9980, -9980, 9990) if west else
                                      B(9980, 9980, 9990, 9990)] if name != "shore" else
                                     [L((9000, 9000), (9900, 9000))], crs=CRS)
        out[name] = part
    return out


def test_a_footprint_across_two_regions_is_checked_in_both(tmp_path):
    layers = dict(LAYERS)
    layers["redline"] = gpd.GeoDataFrame({"HXBM": ["W1", "E1"], "ZRBHDFQ": ["", ""]},
                                         geometry=[B(-600, 0, -100, 500), B(100, 0, 600, 500)],
                                         crs=CRS)
    (tmp_path / "w").mkdir()
    (tmp_path / "e").mkdir()
    west = load_catalog(write_catalog(tmp_path / "w", _region(layers, True), region_id="west"))
    east = load_catalog(write_catalog(tmp_path / "e", _region(layers, False), region_id="east"))
    r = check(B(-300, 0, 300, 400), [west, east], crs=CRS, options=GK)
    assert r.region == "west+east"
    red = r.layer("eco_redline")
    assert sorted(h.feature_id for h in red.hits) == ["E1", "W1"]
    assert red.overlap_m2 == pytest.approx(2 * 200 * 400)
    assert red.share == pytest.approx(160_000 / 240_000)
    cu = r.layer("control_unit")  # each region's part is covered by its units: no gap
    assert cu.state is not State.DATA_MISSING and len(cu.hits) == 2
    assert r.state is State.PROHIBITED
    assert not [lr for lr in r.layers if lr.kind == "coverage"]


# ------------------------------------------------------------------ 3. boundaries


def test_point_on_a_shared_unit_boundary_lists_both_units(cat):
    r = run(cat, Point(OX, OY + 5000))  # on the line between the two control units
    cu = r.layer("control_unit")  # (the access lists may still ask for review)
    assert cu.state is not State.DATA_MISSING and "CU-gap" not in cu.rule
    assert sorted(h.feature_id for h in cu.hits) == ["ZH50000110001", "ZH50000230001"]


def test_line_along_a_shared_unit_boundary_lies_in_both_units(cat):
    r = run(cat, L((0, 2000), (0, 4000)))
    cu = r.layer("control_unit")
    assert cu.state is not State.DATA_MISSING and "CU-gap" not in cu.rule
    assert sorted(h.feature_id for h in cu.hits) == ["ZH50000110001", "ZH50000230001"]


def test_mm_slivers_neither_create_nor_remove_a_hit(cat):
    sliver = run(cat, B(999.9995, 0, 2000, 1000)).layer("eco_redline")  # 0.5 mm × 1 km inside
    assert not sliver.hits and sliver.relation == "touches"
    assert sliver.state is State.NOT_INTERSECTING
    real = run(cat, B(999.99, 0, 2000, 1000)).layer("eco_redline")  # 1 cm × 1 km inside
    assert [h.feature_id for h in real.hits] == ["R1"]
    assert real.overlap_m2 == pytest.approx(10.0, rel=1e-4)


# ------------------------------------------------------------------ 4. needs review


def test_state_order_is_fail_closed():
    order = sorted(State, key=SEVERITY.__getitem__)
    assert [s.value for s in order] == [
        "not_intersecting", "crossing_no_land_use", "needs_limited_activity_certification",
        "needs_major_project_approval", "needs_review", "data_missing", "prohibited"]
    assert State.NEEDS_REVIEW.zh.startswith("需补充信息")


def test_unknown_project_type_outside_the_urban_boundary_needs_review(cat):
    plain = run(cat, B(2000, 3000, 2500, 3500))
    udb = plain.layer("urban_boundary")
    assert udb.state is State.NEEDS_REVIEW and udb.rule == "UDB-outside-unknown"
    factory = run(cat, B(2000, 3000, 2500, 3500), industry="C3311", nature="新建")
    udb = factory.layer("urban_boundary")
    assert udb.state is State.NEEDS_REVIEW and udb.rule == "UDB-outside-industrial"
    assert any("推定为工业项目" in w for w in factory.warnings)
    road = run(cat, B(2000, 3000, 2500, 3500), industry="E4812", project_type="linear")
    assert road.layer("urban_boundary").state is State.NOT_INTERSECTING


def _udb_catalog(folder, partition):
    layers = dict(LAYERS)
    layers["udb"] = gpd.GeoDataFrame({"BSM": [1], "GHFQMC": [partition]},
                                     geometry=[B(-9000, -9000, -5000, -5000)], crs=CRS)
    return load_catalog(write_catalog(folder, layers=layers))


@pytest.mark.parametrize("partition,ptype,state,rule", [
    ("特别用途区", "industrial_park", State.PROHIBITED, "UDB-special-urban"),
    ("特别用途区", None, State.NEEDS_REVIEW, "UDB-special-review"),
    ("特别用途区", "linear", State.NOT_INTERSECTING, "UDB-special-linear"),
    ("城镇弹性发展区", "linear", State.NOT_INTERSECTING, "UDB-flexible-linear"),
    ("城镇弹性发展区", "other", State.NEEDS_REVIEW, "UDB-flexible-other"),
    ("城镇弹性发展区", "urban_construction", State.NEEDS_REVIEW, "UDB-flexible"),
    ("城镇集中建设区", "industrial_park", State.NOT_INTERSECTING, "UDB-within"),
])
def test_urban_boundary_partitions(tmp_path, partition, ptype, state, rule):
    cat = _udb_catalog(tmp_path, partition)
    r = run(cat, B(-8000, -8000, -7000, -7000), project_type=ptype)
    udb = r.layer("urban_boundary")
    assert (udb.state, udb.rule) == (state, rule)


@pytest.mark.parametrize("partition", ["03", None, "规划分区待定"])
def test_an_unknown_urban_partition_needs_review_where_the_partition_decides(tmp_path, partition):
    """Review finding: a partition read from a code field ("03"), or missing, was taken for
    城镇集中建设区 and an industrial park inside it read 符合; it may be a 特别用途区."""
    cat = _udb_catalog(tmp_path, partition)
    park = run(cat, B(-8000, -8000, -7000, -7000), project_type="industrial_park")
    udb = park.layer("urban_boundary")
    assert (udb.state, udb.rule) == (State.NEEDS_REVIEW, "zone-unknown")
    assert "分区属性缺失或无法识别" in udb.basis and "禁止" in udb.basis
    assert park.state is not State.NOT_INTERSECTING
    # a road is 符合 in every partition: the unknown partition changes nothing, and says so
    road = run(cat, B(-8000, -8000, -7000, -7000), project_type="linear").layer("urban_boundary")
    assert (road.state, road.rule) == (State.NOT_INTERSECTING, "zone-unknown-agree")
    assert road.state_zh == "符合" and "任一分区判定结论均为" in road.basis
    # the basis names every partition's rule, not one partition's alone
    assert all(r in road.basis for r in ("UDB-within", "UDB-flexible-linear",
                                         "UDB-special-linear"))


@pytest.mark.parametrize("partition", ["城镇弹性发展区", "城镇集中建设区", "特别用途区", "03"])
def test_an_industrial_park_partly_outside_the_urban_boundary_is_prohibited(tmp_path, partition):
    """Review finding: an industrial park half outside the boundary read 需补充信息 (the
    弹性发展区 rule came first) where outside it is forbidden, whatever the partition."""
    cat = _udb_catalog(tmp_path, partition)
    udb = run(cat, B(-5500, -8000, -4500, -7000), project_type="industrial_park")
    udb = udb.layer("urban_boundary")
    assert udb.state is State.PROHIBITED
    if partition == "03":  # unknown, the same in every partition: a basis naming them
        assert udb.rule == "zone-unknown-agree" and "UDB-partly-outside-urban" in udb.basis
    else:
        assert udb.rule == "UDB-partly-outside-urban"


def test_overlapping_urban_boundary_features_never_make_a_half_outside_site_within(tmp_path):
    """Review finding: two overlapping 城镇集中建设区 features counted a half-outside site's
    overlap twice: share 100 %, "within", 符合 for an industrial park half outside."""
    layers = dict(LAYERS)
    layers["udb"] = gpd.GeoDataFrame(
        {"BSM": [1, 2], "GHFQMC": ["城镇集中建设区", "城镇集中建设区"]},
        geometry=[B(-9000, -9000, -5000, -5000), B(-6000, -9000, -5000, -5000)], crs=CRS)
    cat = load_catalog(write_catalog(tmp_path, layers=layers))
    udb = run(cat, B(-5500, -8000, -4500, -7000), project_type="industrial_park")
    udb = udb.layer("urban_boundary")
    assert udb.relation == "overlaps" and udb.share == pytest.approx(0.5, rel=1e-6)
    assert (udb.state, udb.rule) == (State.PROHIBITED, "UDB-partly-outside-urban")
    inside = run(cat, B(-5800, -8000, -5200, -7000), project_type="industrial_park")
    assert inside.layer("urban_boundary").state is State.NOT_INTERSECTING
    assert inside.layer("urban_boundary").share == pytest.approx(1.0, rel=1e-6)


def test_a_line_across_two_adjacent_urban_boundary_features_is_within(tmp_path):
    """Review finding: a line inside the boundary crossing from one feature into the next lost
    2 mm at the shared edge and read as partly outside (an industrial park's road: 禁止)."""
    layers = dict(LAYERS)
    layers["udb"] = gpd.GeoDataFrame(
        {"BSM": [1, 2], "GHFQMC": ["城镇集中建设区", "城镇集中建设区"]},
        geometry=[B(-9000, -9000, -7000, -5000), B(-7000, -9000, -5000, -5000)], crs=CRS)
    cat = load_catalog(write_catalog(tmp_path, layers=layers))
    inside = run(cat, L((-8500, -7000), (-5500, -7000)), project_type="industrial_park")
    udb = inside.layer("urban_boundary")
    assert (udb.state, udb.relation, udb.rule) == (State.NOT_INTERSECTING, "within", "UDB-within")
    out = run(cat, L((-8500, -7000), (-4900, -7000)), project_type="industrial_park")
    assert out.layer("urban_boundary").state is State.PROHIBITED  # 100 m outside


def test_a_zone_a_provincial_rule_file_names_is_known(tmp_path):
    """Review finding: a rule file's own zone (a province's 缓冲区 rule) was taken for an
    unknown zone, so its rule never matched."""
    import yaml

    from zoning.rules.three_lines import default_rules_path

    doc = yaml.safe_load(default_rules_path().read_text("utf-8"))
    doc["layers"]["protected_area"].insert(0, {
        "id": "PROV-buffer", "when": {"zone": ["buffer"]}, "state": "prohibited",
        "basis": "省级规定：缓冲区内禁止任何建设（测试规则）。"})
    rules = tmp_path / "rules.yaml"
    rules.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    layers = dict(LAYERS)
    layers["pa"] = gpd.GeoDataFrame(
        {"BSM": [1, 2, 3], "MC": ["甲保护区", "甲保护区", "乙森林公园"],
         "GNFQ": ["缓冲区", "一般控制区", "一般控制区"]},
        geometry=list(LAYERS["pa"].geometry), crs=CRS)
    p = write_catalog(tmp_path, layers=layers)
    cat_doc = yaml.safe_load(p.read_text("utf-8"))
    cat_doc["rules"] = str(rules)
    cat_doc["layers"]["pa"]["values"]["zone"]["缓冲区"] = "buffer"
    p.write_text(yaml.safe_dump(cat_doc, allow_unicode=True), encoding="utf-8")
    lr = run(load_catalog(p), B(3200, 200, 3300, 300), takes_land=False,
             project_type="linear").layer("protected_area")
    assert (lr.state, lr.rule) == (State.PROHIBITED, "PROV-buffer")


def _zoned_catalog(folder, redline_zone, pa_zone):
    layers = dict(LAYERS)
    layers["redline"] = gpd.GeoDataFrame({"HXBM": ["R1", "R2"], "ZRBHDFQ": ["", redline_zone]},
                                         geometry=list(LAYERS["redline"].geometry), crs=CRS)
    layers["pa"] = gpd.GeoDataFrame(
        {"BSM": [1, 2, 3], "MC": ["甲保护区", "甲保护区", "乙森林公园"],
         "GNFQ": [pa_zone, "一般控制区", "一般控制区"]},
        geometry=list(LAYERS["pa"].geometry), crs=CRS)
    return load_catalog(write_catalog(folder, layers=layers))


@pytest.mark.parametrize("zone", ["缓冲区", None])
def test_an_unknown_protected_area_zone_is_never_read_as_the_general_zone(tmp_path, zone):
    """Review finding: a zone value the catalog does not map (缓冲区, part of the core zone) or
    a missing one was read as outside the core zone: tourism there (activity 5) read 需认定
    instead of 禁止 or 需补充信息."""
    cat = _zoned_catalog(tmp_path, zone, zone)
    tourism = run(cat, B(3200, 200, 3300, 300), activity="5")
    # (a red-line polygon with no protected-area zone lies in none: see the next test)
    for kind in ("eco_redline", "protected_area") if zone else ("protected_area",):
        lr = tourism.layer(kind)
        assert (lr.state, lr.rule) == (State.NEEDS_REVIEW, "zone-unknown"), (kind, lr.basis)
        assert "分区属性缺失或无法识别" in lr.basis
    assert tourism.state is State.NEEDS_REVIEW
    # a factory is prohibited in every zone: the unknown zone never hides it
    plant = run(cat, B(3200, 200, 3300, 300), industry="C2614")
    for kind in ("eco_redline", "protected_area"):
        assert plant.layer(kind).state is State.PROHIBITED
    assert plant.state is State.PROHIBITED


def test_validate_names_zone_values_the_rules_do_not_know(tmp_path):
    """`layers validate` says which zone or partition values will leave verdicts undecided,
    before any site is checked; an empty red-line zone (outside every protected area) is
    not one of them."""
    from zoning.io.validate import validate_catalog

    (tmp_path / "a").mkdir()
    reps = {r.name: r for r in validate_catalog(_zoned_catalog(tmp_path / "a", "缓冲区", "缓冲区"))}
    assert any("缓冲区（1 个要素）" in w for w in reps["pa"].warnings), reps["pa"].warnings
    assert any("缓冲区（1 个要素）" in w for w in reps["redline"].warnings)
    (tmp_path / "b").mkdir()
    reps = {r.name: r for r in validate_catalog(_udb_catalog(tmp_path / "b", "03"))}
    assert any("03（1 个要素）" in w for w in reps["udb"].warnings), reps["udb"].warnings
    assert not [w for w in reps["redline"].warnings if "判定规则不认识" in w]
    assert not [w for w in reps["pa"].warnings if "判定规则不认识" in w]


def test_a_red_line_polygon_without_a_protected_area_zone_is_outside_every_protected_area(cat):
    """An empty ZRBHDFQ on a red-line polygon means it lies in no protected area (known), not
    an unknown zone: tourism there is the red line's limited activity."""
    lr = run(cat, B(200, 200, 300, 300), activity="5").layer("eco_redline")
    assert lr.state is State.LIMITED_ACTIVITY and lr.rule != "zone-unknown"
    assert not any("分区属性" in n for n in lr.notes)


# ------------------------------------------------------------------ 5. core zones


def test_core_zone_exceptions_are_conditional(cat):
    patrol = run(cat, B(3200, 200, 3300, 300), activity="1")
    for kind in ("eco_redline", "protected_area"):
        lr = patrol.layer(kind)
        assert lr.state is State.LIMITED_ACTIVITY and lr.rule.endswith("core-patrol")
        assert "同意" in lr.basis
    bridge = run(cat, L((2500, 500), (4500, 500)), takes_land=False)
    for kind in ("eco_redline", "protected_area"):
        lr = bridge.layer(kind)
        assert lr.state is State.CROSSING_NO_LAND_USE and lr.rule.endswith("core-crossing-line")
    tourism = run(cat, B(3200, 200, 3300, 300), activity="5")  # not an exception
    assert tourism.layer("protected_area").state is State.PROHIBITED


def test_only_linear_infrastructure_crosses_a_core_zone_without_taking_land(cat):
    """Review finding: any project declared 不占地 (--no-land), a polygon of any type, read
    穿越不占地 in a core zone; the law allows only 线性基础设施无害化穿越 there."""
    site = B(3200, 200, 3300, 300)  # in the red line's and the protected area's core zone
    for kind in ("eco_redline", "protected_area"):
        pre = "EPR" if kind == "eco_redline" else "PA"
        plant = run(cat, site, takes_land=False, project_type="special_siting").layer(kind)
        assert (plant.state, plant.rule) == (State.PROHIBITED, f"{pre}-core")
        unsure = run(cat, site, takes_land=False).layer(kind)
        assert (unsure.state, unsure.rule) == (State.NEEDS_REVIEW, f"{pre}-core-crossing-unknown")
        bridge = run(cat, site, takes_land=False, project_type="linear").layer(kind)
        assert (bridge.state, bridge.rule) == (State.CROSSING_NO_LAND_USE, f"{pre}-core-crossing")
        line = run(cat, L((2500, 500), (4500, 500)), takes_land=False).layer(kind)
        assert (line.state, line.rule) == (State.CROSSING_NO_LAND_USE,
                                           f"{pre}-core-crossing-line")
        # a power line's industry code (D4420 电力供应) implies no type: still a centre line
        # crossing; a factory, declared or known by its C code, stays prohibited
        power = run(cat, L((2500, 500), (4500, 500)), takes_land=False, industry="D4420")
        assert power.layer(kind).state is State.CROSSING_NO_LAND_USE
        for geom in (site, L((2500, 500), (4500, 500))):
            for attrs in ({"project_type": "industrial"}, {"industry": "C2614"}):
                lr = run(cat, geom, takes_land=False, **attrs).layer(kind)
                assert (lr.state, lr.rule) == (State.PROHIBITED, f"{pre}-core"), attrs
    # outside a core zone a declared crossing stands, whatever the project
    plain = run(cat, B(200, 200, 300, 300), takes_land=False, project_type="special_siting")
    assert plain.layer("eco_redline").state is State.CROSSING_NO_LAND_USE


# ------------------------------------------------------------------ 6. rules as wide as text
# ------------------------------------------------------------------ 6. rules as wide as text


UNIT = {"code": "ZH52012130001", "name": "一般单元", "unit_class": "general", "county": "520121",
        "share": 1.0}


def _outcomes(project, distance=None):
    rules = load_access_rules()
    f = evaluate_access(rules, [UNIT], project,
                        lambda sp: distance(sp) if distance else None)
    return {x.rule_id: x for x in f}


def test_paper_box_factory_is_not_pulp_and_paper():
    box_factory = _outcomes({"industry": "C2231", "nature": "新建"})
    assert box_factory["CJJJD-PARK-HEAVY"].outcome == "not_applicable"
    pulp = _outcomes({"industry": "C2211", "nature": "新建"})
    assert pulp["CJJJD-PARK-HEAVY"].applies


def test_a_hint_rule_never_prohibits_alone():
    cosmetics = _outcomes({"industry": "C2682", "nature": "新建"})
    f = cosmetics["CJJJD-PARK-HEAVY"]
    assert f.outcome == "review" and "提示性判定" in f.finding


def _shore(main_m, trib_m):
    def distance(sp):
        return main_m if sp.get("order") == ["干流"] else trib_m if sp.get("order") else \
            min(main_m, trib_m)
    return distance


def test_tailings_rule_needs_a_tailings_pond():
    quarry = _outcomes({"industry": "B1011", "nature": "新建", "tailings": False},
                       _shore(2000, 5000))
    assert quarry["NAT-CJ-TAILINGS"].outcome == "not_applicable"
    unknown = _outcomes({"industry": "B0911", "nature": "新建"}, _shore(2000, 5000))
    [row] = [f for k, f in unknown.items() if "NAT-CJ-TAILINGS" in k.split("+")]
    assert row.outcome == "review" and row.needs_info and "尾矿库" in row.finding
    pond = _outcomes({"industry": "B0911", "nature": "新建", "tailings": True},
                     _shore(2000, 5000))
    assert pond["NAT-CJ-TAILINGS"].outcome == "prohibited"


def test_tailings_safety_rebuild_is_exempt():
    rebuild = _outcomes({"industry": "B0911", "nature": "改建", "tailings": True,
                         "purpose": "safety_eco"}, _shore(2000, 5000))
    f = rebuild["NAT-CJ-TAILINGS"]
    assert f.outcome == "not_applicable" and "豁免" in f.finding
    why = _outcomes({"industry": "B0911", "nature": "改建", "tailings": True},
                    _shore(2000, 5000))
    [row] = [f for k, f in why.items() if "NAT-CJ-TAILINGS" in k.split("+")]
    assert row.outcome == "review" and "建设目的" in row.finding


def test_tailings_tributary_one_km_applies():
    near_trib = _outcomes({"industry": "B0911", "nature": "新建", "tailings": True},
                          _shore(10_000, 600))
    assert near_trib["NAT-CJ-TAILINGS-TRIB"].outcome == "prohibited"
    assert near_trib["NAT-CJ-TAILINGS"].outcome == "not_applicable"


def test_every_rule_whose_scope_changed_cites_its_source():
    from zoning.rules.three_lines import load_rules

    rules = load_rules()
    for kind, ids in (("eco_redline", ("EPR-core-patrol", "EPR-core-crossing")),
                      ("protected_area", ("PA-core-patrol", "PA-core-crossing")),
                      ("urban_boundary", ("UDB-special-urban", "UDB-flexible",
                                          "UDB-outside-industrial", "UDB-outside-unknown"))):
        got = {r.id: r for r in rules.layers[kind]}
        for rid in ids:
            assert got[rid].source, rid


# ------------------------------------------------------------------ 7. input mistakes


def test_misspelt_header_is_warned_with_the_closest_name(tmp_path):
    from zoning.io.projects import read_projects

    p = tmp_path / "list.csv"
    p.write_text("项目编号,经度,纬度,行业代吗\nA,106.5,26.9,C2614\n", encoding="utf-8")
    t = read_projects(p)
    [w] = t.warnings.iloc[0]
    assert "行业代吗" in w and "行业代码" in w


@pytest.mark.parametrize("word,key", [("高德", "gcj02"), ("腾讯", "gcj02"), ("百度", "bd09"),
                                      ("WGS84", "wgs84"), ("CGCS2000", "cgcs2000"),
                                      ("高德地图", "gcj02")])
def test_coordinate_type_words(tmp_path, word, key):
    from zoning.io.projects import read_projects

    p = tmp_path / "list.csv"
    p.write_text(f"项目编号,经度,纬度,坐标类型\nA,106.643588,26.616346,{word}\n",
                 encoding="utf-8")
    t = read_projects(p)
    assert t.status.iloc[0] == "ok"
    if key in ("gcj02", "bd09"):
        assert any("坐标转换为" in w for w in t.warnings.iloc[0])
    else:
        assert not t.lonlat_undeclared.iloc[0]


def test_undeclared_lonlat_is_also_checked_as_gcj02(cat):
    # a point inside farmland F1 in true coordinates, given as its 高德 (GCJ-02) position,
    # which lies outside every farmland patch (the GCJ-02 offset is a few hundred metres)
    farm = shapely.union_all(LAYERS["farmland"].geometry.values)
    for x in range(-1990, -1000, 20):
        for y in range(10, 1000, 20):
            true = gpd.GeoSeries([Point(OX + x, OY + y)], crs=CRS).to_crs("EPSG:4490").iloc[0]
            glon, glat = (float(v) for v in wgs84_to_gcj02(true.x, true.y))
            seen = gpd.GeoSeries([Point(glon, glat)], crs="EPSG:4490").to_crs(CRS).iloc[0]
            if farm.distance(seen) > 5:
                break
        else:
            continue
        break
    r = check(Point(glon, glat), cat, options=GK)
    assert r.layer("farmland").state is State.NOT_INTERSECTING  # read as CGCS2000
    [w] = [w for w in r.warnings if w.startswith("若坐标取自高德/腾讯地图（GCJ-02），结论将不同")]
    assert "F1" in w and "禁止" in w
    declared = check(Point(glon, glat), cat, options=GK, coord_sys="cgcs2000")
    assert not [w for w in declared.warnings if "GCJ-02" in w]


def test_sample_list_results_explained(sample_result):
    """Only YY-002 changed verdict: the hint rule alone no longer prohibits."""
    got = {r.project_id: r.state.value if r.state else None for r in sample_result.results}
    assert got["YY-002"] == "needs_review"
    assert got["YY-001"] == "prohibited" and got["GY-006"] == "not_intersecting"


def test_screen_table_keeps_rows_across_regions(tmp_path):
    from zoning.io.projects import project_table

    line = LineString([(106.7, 26.6), (108.9, 30.95)])  # 贵阳 → 云阳, mostly outside both
    t = project_table([dict(row=1, project_id="L", geometry=line, kind="line",
                            takes_land=False, project_type="linear")])
    [r] = screen(t)
    assert r.region == "guiyang+yunyang"
    out = r.layer("coverage")
    assert out.state is State.DATA_MISSING and out.overlap_length_m > 100_000
    assert r.layer("control_unit").hits
    assert SEVERITY[r.state] >= SEVERITY[State.DATA_MISSING]  # never cleared by the gap


def test_maybe_two_high_without_energy_needs_review(tmp_path):
    """An industry that is 两高 above a provincial energy floor, with no energy figure."""
    folder = tmp_path / "access"
    folder.mkdir()
    doc = {"access_version": 1, "jurisdiction": {"level": "national", "code": "000000"},
           "definitions": {"two_high_industries": {"codes": ["C26"]}},
           "rules": [{"id": "N-2H", "dimension": "空间布局约束", "effect": "prohibit",
                      "two_high": True, "text": "禁止新建两高项目（测试）。",
                      "source": {"doc": "测试", "real": False}, "confidence": "auto"}]}
    prov = {"access_version": 1, "jurisdiction": {"level": "province", "code": "500000"},
            "parameters": {"two_high_min_energy_tce": 10_000}, "rules": []}
    (folder / "a.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    (folder / "p.yaml").write_text(yaml.safe_dump(prov, allow_unicode=True), encoding="utf-8")
    cat = load_catalog(write_catalog(tmp_path))
    cat.access_rules = folder
    site = B(-8000, -8000, -7000, -7000)  # inside the urban boundary, no other layer
    unknown = run(cat, site, industry="C2614", project_type="industrial_park")
    assert unknown.layer("control_unit").state is State.NEEDS_REVIEW
    assert unknown.state is State.NEEDS_REVIEW and "年综合能耗" in unknown.basis[0]
    big = run(cat, site, industry="C2614", project_type="industrial_park", energy_tce=20_000)
    assert big.state is State.PROHIBITED
    small = run(cat, site, industry="C2614", project_type="industrial_park", energy_tce=500)
    assert small.state is State.NOT_INTERSECTING


#: four control-unit pieces of the 1.2 M-patch bench region, clipped 5 m around a footprint
#: they tile, and the footprint: GEOS 3.14's floating overlay of the pieces' union with the
#: footprint came back empty (intersection area 2e-9, difference the whole footprint)
GEOS_OVERLAY_PIECES = [
    "POLYGON ((36351287.31208562 2943071.159920897, 36351345.309418574 2943151.703408612, 36351345.63922076 2943153.2240608376, 36351801.845436946 2943153.2240608376, 36351801.845436946 2943006.387411409, 36351762.67623846 2943001.299785214, 36351698.92533287 2942993.0196073786, 36351616.85578244 2942999.356972504, 36351602.95570643 2943015.766933228, 36351586.4604774 2943075.53851898, 36351569.109186105 2943087.321791218, 36351501.795430504 2943090.764895017, 36351486.17764969 2943079.699844957, 36351464.656052366 2943024.9006123682, 36351448.49476428 2943010.071377607, 36351428.625480965 2943011.5671279184, 36351398.961936496 2943030.21450725, 36351329.586075924 2943019.7083925824, 36351291.505617365 2943036.4307617946, 36351287.31208562 2943071.159920897))",
    "POLYGON ((36351242.89363275 2942628.686015851, 36351242.89363275 2942863.1242895173, 36351261.50373885 2942854.1248212643, 36351340.690732084 2942815.8323397683, 36351419.87818001 2942777.5403739023, 36351487.65542685 2942724.0650771926, 36351555.433236554 2942670.5901706866, 36351608.54630076 2942628.686015851, 36351242.89363275 2942628.686015851))",
    "POLYGON ((36351242.89363275 2942863.1242895173, 36351242.89363275 2943153.2240608376, 36351345.63922076 2943153.2240608376, 36351345.309418574 2943151.703408612, 36351287.31208562 2943071.159920897, 36351291.505617365 2943036.4307617946, 36351329.586075924 2943019.7083925824, 36351397.42529338 2943029.9818016854, 36351397.42529338 2942788.3977154517, 36351340.690732084 2942815.8323397683, 36351261.50373885 2942854.1248212643, 36351242.89363275 2942863.1242895173))",
    "POLYGON ((36351397.42529338 2942788.3977154517, 36351397.42529338 2943029.9818016854, 36351398.961936496 2943030.21450725, 36351428.625480965 2943011.5671279184, 36351448.49476428 2943010.071377607, 36351464.656052366 2943024.9006123682, 36351486.17764969 2943079.699844957, 36351501.795430504 2943090.764895017, 36351569.109186105 2943087.321791218, 36351586.4604774 2943075.53851898, 36351602.95570643 2943015.766933228, 36351616.85578244 2942999.356972504, 36351698.92533287 2942993.0196073786, 36351762.67623846 2943001.299785214, 36351801.845436946 2943006.387411409, 36351801.845436946 2942628.686015851, 36351608.54630076 2942628.686015851, 36351555.433236554 2942670.5901706866, 36351487.65542685 2942724.0650771926, 36351419.87818001 2942777.5403739023, 36351397.42529338 2942788.3977154517))",
]
GEOS_OVERLAY_FOOTPRINT = "POLYGON ((36351775.12153073 2942848.210278015, 36351721.56421177 2942887.722344002, 36351668.00722003 2942927.2346522687, 36351679.245667204 2943009.7552062324, 36351596.8152941 2943032.86596312, 36351514.385191515 2943055.977267345, 36351464.87476395 2943148.2240608376, 36351438.54438727 2943061.5745954323, 36351412.213691086 2942974.9251771597, 36351377.992794834 2942881.447852956, 36351343.77143989 2942787.970608177, 36351295.8326857 2942748.470688469, 36351247.89363275 2942708.9709370513, 36351342.85001925 2942690.1486261566, 36351437.80664654 2942671.327035665, 36351532.763514645 2942652.5061655664, 36351627.720623575 2942633.686015851, 36351653.69923052 2942636.5663785045, 36351699.33642809 2942679.8526574234, 36351744.97331678 2942723.1390875783, 36351796.845436946 2942743.0566876107, 36351775.12153073 2942848.210278015))"


def test_a_footprint_tiled_by_pieces_is_covered_where_geos_overlay_fails():
    """Finding: a site wholly inside its control units (their pieces tile it) read 数据缺失
    (CU-gap, 管控单元数据不完整): the floating overlay of the pieces' union with the site failed.
    The split is checked against the DE-9IM matrix and redone with snap rounding."""
    from zoning.engine.geometry import checked_split
    from zoning.engine.overlay import uncovered

    pieces = shapely.from_wkt(GEOS_OVERLAY_PIECES)
    fp = shapely.from_wkt(GEOS_OVERLAY_FOOTPRINT)
    # independent of any overlay: the pieces tile the footprint
    assert shapely.area(shapely.intersection(pieces, fp)).sum() == pytest.approx(fp.area, rel=1e-9)
    x0, y0, x1, y1 = fp.bounds
    xs, ys = np.meshgrid(np.linspace(x0, x1, 40), np.linspace(y0, y1, 40))
    pts = shapely.points(xs.ravel(), ys.ravel())
    pts = pts[shapely.contains_properly(fp, pts)]
    assert len(pts) > 500 and np.logical_or.reduce([shapely.covers(p, pts) for p in pieces]).all()
    cover = shapely.union_all(pieces)
    outside, inside = checked_split(fp, cover)
    assert inside.area == pytest.approx(fp.area, abs=0.01) and outside.area < 1e-3
    assert uncovered(fp, cover, "polygon")[2]


def test_a_failed_overlay_is_redone_with_snap_rounding(monkeypatch):
    """The fallback itself, whatever the GEOS version: a floating overlay that contradicts the
    DE-9IM matrix (here made to) is computed again on the 1 µm grid."""
    from zoning.engine import geometry

    fp, cover = shapely.box(0, 0, 10, 10), shapely.box(-5, -5, 8, 15)
    real = shapely.intersection, shapely.difference
    calls = []

    def broken(op):
        def f(a, b, grid_size=None, **kw):
            calls.append((op, grid_size))
            if grid_size is None:  # the failure: the footprint wholly outside
                return shapely.Polygon() if op == 0 else a
            return real[op](a, b, grid_size=grid_size, **kw)
        return f

    monkeypatch.setattr(geometry.shapely, "intersection", broken(0))
    monkeypatch.setattr(geometry.shapely, "difference", broken(1))
    outside, inside = geometry.checked_split(fp, cover)
    monkeypatch.undo()
    assert inside.area == pytest.approx(80) and outside.area == pytest.approx(20)
    assert {g for _, g in calls} == {None, 1e-6}
    line = shapely.LineString([(0, 5), (10, 5)])
    out, inn = geometry.checked_split(line, cover)  # lines: checked by length
    assert inn.length == pytest.approx(8) and out.length == pytest.approx(2)


def test_a_union_that_fails_its_area_check_is_redone_with_snap_rounding(monkeypatch):
    """Pieces of one feature only touch: their union's area is their sum; overlapping
    designations: between the largest and the sum.  A union outside that (here made to
    fail) is computed again on the 1 µm grid."""
    from zoning.engine import geometry

    touching = [shapely.box(0, 0, 1, 1), shapely.box(1, 0, 3, 1)]
    overlapping = [shapely.box(0, 0, 2, 1), shapely.box(1, 0, 3, 1)]
    real = shapely.union_all
    calls = []

    def broken(parts, grid_size=None, **kw):
        calls.append(grid_size)
        if grid_size is None:
            return shapely.box(0, 0, 1, 1)  # the failure: most of the union lost
        return real(parts, grid_size=grid_size, **kw)

    monkeypatch.setattr(geometry.shapely, "union_all", broken)
    assert geometry.checked_union(touching, disjoint=True).area == pytest.approx(3)
    assert geometry.checked_union(overlapping, disjoint=False).area == pytest.approx(3)
    assert calls == [None, 1e-6, None, 1e-6]
    monkeypatch.undo()
    calls.clear()
    assert geometry.checked_union(overlapping, disjoint=False).area == pytest.approx(3)


def test_each_part_of_a_multipart_site_is_checked_on_its_own():
    """Review finding: a two-parcel site whose one parcel lies in a union GEOS gets wrong and
    whose other really straddles the cover's edge passed the whole-site check (some area
    inside, some outside): the tiled parcel was clipped away as outside."""
    from zoning.engine.geometry import checked_split

    pieces = shapely.from_wkt(GEOS_OVERLAY_PIECES)
    tiled = shapely.from_wkt(GEOS_OVERLAY_FOOTPRINT)
    cover = shapely.union_all(pieces)
    x0, y0, x1, y1 = cover.bounds
    edge = shapely.box(x0 - 20, (y0 + y1) / 2, x0 + 20, (y0 + y1) / 2 + 40)  # half outside
    outside, inside = checked_split(shapely.MultiPolygon([tiled, edge]), cover)
    assert outside.area == pytest.approx(800, abs=0.01)
    assert inside.area == pytest.approx(tiled.area + 800, abs=0.01)


def test_a_line_along_the_cover_boundary_is_inside_without_a_redo(monkeypatch):
    from zoning.engine import geometry

    cover = shapely.box(0, 0, 10, 10)
    line = shapely.LineString([(0, 2), (0, 8)])  # on the boundary: inside the closed cover
    grids = []
    real = shapely.intersection

    def spy(a, b, grid_size=None, **kw):
        grids.append(grid_size)
        return real(a, b, grid_size=grid_size, **kw)

    monkeypatch.setattr(geometry.shapely, "intersection", spy)
    outside, inside = geometry.checked_split(line, cover)
    assert inside.length == pytest.approx(6) and outside.length == 0 and grids == [None]
