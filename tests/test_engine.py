"""Known-answer geometry for the check."""

import json
import math

import pytest
import shapely
from shapely.geometry import MultiPolygon, Point

from zoning.catalog import load_catalog
from zoning.engine.geometry import subdivide
from zoning.engine.overlay import NOISE_M
from zoning.options import CheckOptions
from zoning.results import State
from zoning.screen import check

from .minicat import CRS, LAYERS, OX, OY, B, L, write_catalog

GK = CheckOptions(area_method="gk")


@pytest.fixture(scope="module")
def cat(tmp_path_factory):
    return load_catalog(write_catalog(tmp_path_factory.mktemp("mini")))


def run(cat, geom, opts=GK, **attrs):
    return check(geom, cat, crs=CRS, options=opts, **attrs)


def test_half_overlap_with_red_line(cat):
    r = run(cat, B(500, 0, 1500, 1000))
    red = r.layer("eco_redline")
    assert red.overlap_m2 == pytest.approx(500_000, rel=1e-9)
    assert red.share == pytest.approx(0.5, rel=1e-9)
    assert [h.feature_id for h in red.hits] == ["R1"]
    d = red.to_dict()["overlap"]
    assert d["ha"] == pytest.approx(50.0) and d["mu"] == pytest.approx(750.0)
    assert red.relation == "overlaps" and red.state is State.PROHIBITED
    assert red.rule == "EPR-default" and "142号" in red.basis
    assert r.area_m2 == pytest.approx(1_000_000, rel=1e-9)
    assert r.state is State.PROHIBITED


def test_one_mu_square_reports_one_mu(cat):
    """A square of 1 亩 (666.67 m², measured by the engine) reports 1 亩 and 1/15 公顷."""
    side = (10_000 / 15) ** 0.5
    d = run(cat, B(-5000, 5000, -5000 + side, 5000 + side)).to_dict()
    assert d["area"]["mu"] == pytest.approx(1.0, abs=1e-3)
    assert d["area"]["ha"] == pytest.approx(1 / 15, abs=1e-4)
    assert d["area"]["m2"] == pytest.approx(666.67, abs=0.01)


def test_touching_edge_is_not_an_overlap(cat):
    r = run(cat, B(1000, 0, 2000, 1000))
    red = r.layer("eco_redline")
    assert red.relation == "touches" and red.overlap_m2 == 0 and not red.hits
    assert red.state is State.NOT_INTERSECTING
    assert red.nearest_m == pytest.approx(0.0, abs=1e-6)


def test_hole_is_not_farmland(cat):
    inside_hole = run(cat, B(-1550, 2450, -1450, 2550))
    f = inside_hole.layer("farmland")
    assert f.state is State.NOT_INTERSECTING and f.relation == "none"
    assert f.nearest_m == pytest.approx(50.0, abs=1e-6)
    covering = run(cat, B(-1700, 2300, -1300, 2700))  # 400x400 over a 200x200 hole
    f = covering.layer("farmland")
    assert f.overlap_m2 == pytest.approx(400 * 400 - 200 * 200, rel=1e-9)
    assert f.state is State.PROHIBITED and f.hits[0].feature_id == "F2"


def test_multipolygon_footprint_sums_features(cat):
    mp = MultiPolygon([B(-1800, 200, -1600, 400), B(-900, 0, -700, 100)])
    f = run(cat, mp).layer("farmland")
    by_id = {h.feature_id: h.overlap_m2 for h in f.hits}
    assert by_id == {"F1": pytest.approx(40_000), "F3": pytest.approx(20_000)}
    assert f.overlap_m2 == pytest.approx(60_000) and f.share == pytest.approx(1.0)
    assert f.relation == "within"


def test_line_across_polygon(cat):
    line = L((-500, 500), (1500, 500))  # 2000 m, 1000 m inside R1
    r = run(cat, line)
    red = r.layer("eco_redline")
    assert r.geometry_type == "line" and r.length_m == pytest.approx(2000, rel=1e-9)
    # a line loses at most the engine's noise width (1 mm) where it crosses a boundary
    assert red.overlap_length_m == pytest.approx(1000, abs=2 * NOISE_M + 1e-6)
    assert red.share == pytest.approx(0.5, abs=1e-5) and red.relation == "crosses"
    assert red.overlap_m2 == 0
    assert red.state is State.PROHIBITED
    bridge = run(cat, line, takes_land=False).layer("eco_redline")
    assert bridge.state is State.CROSSING_NO_LAND_USE


def test_line_along_boundary_only_touches(cat):
    red = run(cat, L((0, 1000), (1000, 1000))).layer("eco_redline")
    assert red.relation == "touches" and red.state is State.NOT_INTERSECTING


def test_points(cat):
    inside = run(cat, shapely.Point(OX + 500, OY + 500)).layer("eco_redline")
    assert inside.relation == "contains_point" and inside.share == 1.0
    assert inside.state is State.PROHIBITED
    outside = run(cat, shapely.Point(OX + 1300, OY + 500)).layer("eco_redline")
    assert outside.relation == "none" and outside.nearest_m == pytest.approx(300, abs=1e-6)
    assert outside.nearest_id == "R1"


def test_core_zone_is_stricter_than_general(cat):
    core = run(cat, B(3200, 200, 3400, 400), activity="6")
    assert core.layer("protected_area").state is State.PROHIBITED
    assert core.layer("eco_redline").state is State.PROHIBITED
    assert core.layer("eco_redline").rule == "EPR-core"
    general = run(cat, B(5100, 200, 5300, 400), activity="6")
    assert general.layer("protected_area").state is State.LIMITED_ACTIVITY
    assert general.layer("eco_redline").state is State.NOT_INTERSECTING
    major = run(cat, B(5100, 200, 5300, 400), major_project="transport")
    assert major.layer("protected_area").state is State.MAJOR_PROJECT


def test_overlapping_designations_not_double_counted(cat):
    pa = run(cat, B(5400, 0, 5600, 1000)).layer("protected_area")
    assert sorted(h.feature_id for h in pa.hits) == ["2", "3"]
    assert sum(h.overlap_m2 for h in pa.hits) == pytest.approx(300_000)
    assert pa.overlap_m2 == pytest.approx(200_000)  # union, not sum
    assert pa.share == pytest.approx(1.0)


def test_farmland_major_project_and_crossing(cat):
    fp = B(-1800, 200, -1600, 400)
    assert run(cat, fp).layer("farmland").state is State.PROHIBITED
    assert run(cat, fp, major_project="transport").layer("farmland").state is \
        State.MAJOR_PROJECT
    # ndrc_mechanism qualifies for the red line (142号) but not for farmland (3号)
    assert run(cat, fp, major_project="ndrc_mechanism").layer("farmland").state is \
        State.PROHIBITED
    assert run(cat, fp, takes_land=False).layer("farmland").state is \
        State.CROSSING_NO_LAND_USE


def test_urban_boundary(cat):
    inside = run(cat, B(-8000, -8000, -7000, -7000), project_type="industrial_park")
    assert inside.layer("urban_boundary").relation == "within"
    assert inside.layer("urban_boundary").state is State.NOT_INTERSECTING
    outside = run(cat, B(-3000, -8000, -2000, -7000), project_type="industrial_park")
    assert outside.layer("urban_boundary").state is State.PROHIBITED
    assert "193号" in outside.layer("urban_boundary").basis
    road = run(cat, B(-3000, -8000, -2000, -7000), project_type="linear")
    assert road.layer("urban_boundary").state is State.NOT_INTERSECTING
    assert road.layer("urban_boundary").state_zh == "符合"
    # "其他" is no category the guideline admits outside the boundary: a reviewer checks it
    # (a reviewer found a 40 ha C2614 plant typed "other" read 符合)
    for attrs in ({}, {"industry": "C2614", "nature": "新建"}):
        other = run(cat, B(-3000, -8000, -2000, -7000), project_type="other", **attrs)
        udb = other.layer("urban_boundary")
        assert udb.state is State.NEEDS_REVIEW and udb.rule == "UDB-outside-other"
        assert "其他" in udb.basis and "乡村振兴" in udb.basis


def test_a_site_inside_the_urban_boundary_reads_compliant_not_uninvolved(cat):
    """A reviewer read 城镇开发边界：不涉及 beside 完全位于其内 as a contradiction."""
    import io

    from docx import Document
    from openpyxl import load_workbook

    from zoning.crs import reproject
    from zoning.report.filing import report_data, report_docx
    from zoning.report.tables import workbook_bytes
    from zoning.web.restore import result_from_dict

    fp = B(-8000, -8000, -7000, -7000)
    inside = run(cat, fp, project_type="industrial_park")
    udb = inside.layer("urban_boundary")
    assert (udb.state, udb.rule, udb.state_zh) == (State.NOT_INTERSECTING, "UDB-within", "符合")
    assert [x["state_zh"] for x in inside.to_dict()["layers"]
            if x["kind"] == "urban_boundary"] == ["符合"]
    assert inside.layer("farmland").state_zh == "不涉及"  # other layers keep their words
    again = result_from_dict(json.loads(json.dumps(inside.to_dict())))
    assert again.layer("urban_boundary").state_zh == "符合"
    assert again.layer("farmland").state_label is None
    # the workbook's layer rows and the filed report say it too
    wb = load_workbook(io.BytesIO(workbook_bytes([inside], {}, {})))
    rows = [[c.value for c in row] for row in wb["图层明细"].iter_rows()]
    assert any("城镇开发边界" in r and "符合" in r for r in rows), rows
    doc = Document(io.BytesIO(report_docx(report_data(inside, reproject(fp, CRS, "EPSG:4490"),
                                                      None))))
    cells = [[c.text for c in row.cells] for t in doc.tables for row in t.rows]
    assert any("城镇开发边界" in r and "符合" in r for r in cells), cells
    # a label never speaks for a state that restricts: the access list may raise a layer
    udb.state = State.PROHIBITED
    assert udb.state_zh == "禁止"


def test_the_overall_basis_says_a_layer_in_its_rules_words():
    """The 结论依据 said 城镇开发边界：不涉及 where the layer itself read 符合."""
    from zoning.engine.overlay import overall
    from zoning.results import LayerResult

    lrs = [LayerResult(layer="udb", kind="urban_boundary", kind_zh="城镇开发边界",
                       state=State.NOT_INTERSECTING, basis="项目位于城镇开发边界内。",
                       state_label="符合"),
           LayerResult(layer="farm", kind="farmland", kind_zh="永久基本农田",
                       state=State.NOT_INTERSECTING, basis="不涉及占用永久基本农田。")]
    state, basis = overall(lrs)
    assert state is State.NOT_INTERSECTING
    assert basis == ["城镇开发边界（udb）：符合。项目位于城镇开发边界内。",
                     "永久基本农田（farm）：不涉及。不涉及占用永久基本农田。"]


def test_control_units_and_shoreline_distance(cat):
    # (with an industry code: without one the access lists would ask for it)
    r = run(cat, B(-100, -2000, 100, -1500), industry="E4812", nature="新建")
    cu = r.layer("control_unit")
    assert sorted(h.feature_id for h in cu.hits) == ["ZH50000110001", "ZH50000230001"]
    assert [h.share for h in cu.hits] == [pytest.approx(0.5), pytest.approx(0.5)]
    assert cu.relation == "within"
    # a new road 999.999… m from the 长江: the shoreline clause applies and needs reading
    assert cu.state is State.NEEDS_REVIEW and cu.rule == "CJJJD-SHORE-PROJECT"
    assert "999.999 m < 1,000 m" in cu.basis and "1,000 m < 1,000 m" not in cu.basis
    # 0.3 m further out the clause does not apply, and the words say by how much
    out = run(cat, B(-100, -1999.7, 100, -1500), industry="E4812", nature="新建")
    [f] = {f["finding"] for f in out.access["findings"]
           if f["rule_id"] == "CJJJD-SHORE-PROJECT"}
    assert f == "不适用：距长江岸线 1,000.300 m ≥ 1,000 m", f
    # 3 km from it, no clause applies: inside the units the access table decides
    far = run(cat, B(-100, 2000, 100, 2500), industry="E4812", nature="新建")
    assert far.access["outcome"] == "not_applicable"
    assert far.layer("control_unit").state is State.NOT_INTERSECTING
    assert far.layer("control_unit").state_zh == "见准入清单"
    sh = r.layer("shoreline")
    assert sh.nearest_m == pytest.approx(1000, abs=1e-6) and sh.relation == "none"


def test_shoreline_selections_that_pick_the_same_features_measure_once(cat, monkeypatch):
    """长江 by basin and 长江 by river pick the same shoreline: one tree, and one distance
    per footprint however many rules ask; a selection that picks nothing has no tree."""
    from zoning.screen import load_index

    idx = load_index(cat)
    by_basin = idx.shore_tree({"basin": ["长江"], "within_m": 1000})
    assert by_basin is idx.shore_tree({"river": ["长江"], "within_m": 5000})
    assert idx.shore_tree({"river": ["乌江"]}) is None
    queries = []
    tree_cls = type(by_basin)
    nearest = tree_cls.query_nearest
    monkeypatch.setattr(tree_cls, "query_nearest",
                        lambda self, *a, **kw: queries.append(1) or nearest(self, *a, **kw))
    from zoning.crs import reproject

    fp = reproject(B(-100, -2000, 100, -1500), CRS, idx.work_crs)  # 1,000 m from the 长江
    memo: dict = {}
    d = idx.shoreline_distance(fp, {"basin": ["长江"]}, memo)
    assert idx.shoreline_distance(fp, {"river": ["长江"]}, memo) == d == pytest.approx(1000)
    assert idx.shoreline_distance(fp, {"river": ["乌江"]}, memo) is None
    assert len(queries) == 1
    assert idx.shoreline_distance(fp, {"river": ["长江"]}) == d and len(queries) == 2


@pytest.mark.parametrize("same_id", [False, True])
def test_a_rule_takes_the_nearest_shoreline_the_layer_check_found(tmp_path, monkeypatch,
                                                                  same_id):
    """The layer check has measured each footprint's nearest shoreline feature: a rule whose
    selection picks that feature is at that distance (nothing it picks is nearer), and only
    the other selections are measured.  An id that names two features never shortcuts."""
    import geopandas as gpd

    from zoning.crs import reproject
    from zoning.engine.verdict import _nearest_shore
    from zoning.screen import load_index

    from .minicat import LAYERS

    layers = dict(LAYERS)
    layers["shore"] = gpd.GeoDataFrame(
        {"BSM": [1, 1 if same_id else 2], "HLMC": ["长江", "嘉陵江"], "LYMC": ["长江", "长江"]},
        geometry=[L((-10_000, -3000), (10_000, -3000)), L((-10_000, -1500), (10_000, -1500))],
        crs=CRS)
    cat = load_catalog(write_catalog(tmp_path, layers=layers))
    site = B(-100, 0, 100, 500)
    known = _nearest_shore(run(cat, site).layers)
    assert known[0] == pytest.approx(1500, abs=1e-6)
    assert known[1] == {("shore", "1" if same_id else "2")}
    idx = load_index(cat)
    fp = reproject(site, CRS, idx.work_crs)
    queries = []
    tree_cls = type(idx.shore_tree({"basin": ["长江"]}))
    nearest = tree_cls.query_nearest
    monkeypatch.setattr(tree_cls, "query_nearest",
                        lambda self, *a, **kw: queries.append(1) or nearest(self, *a, **kw))
    both = idx.shoreline_distance(fp, {"basin": ["长江"]}, {}, known)  # picks the nearest
    assert both == pytest.approx(1500, abs=1e-6) and len(queries) == (1 if same_id else 0)
    main = idx.shoreline_distance(fp, {"river": ["长江"]}, {}, known)  # does not pick it
    assert main == pytest.approx(3000, abs=1e-6)  # (with one id for both: not 1,500)
    assert len(queries) == (2 if same_id else 1)
    assert idx.shoreline_distance(fp, {"river": ["嘉陵江"]}, {}, known) == pytest.approx(1500)
    assert len(queries) == (3 if same_id else 1)


def test_shoreline_rules_fail_closed_without_shoreline_data(tmp_path):
    """Finding: without a shoreline layer (none in the catalog, or one that could not be
    read) a rule on the distance to the 长江 read "不适用：没有长江岸线": unknown as 不涉及."""
    cat = load_catalog(write_catalog(tmp_path, drop=("shore",)))
    r = run(cat, B(8000, 0, 8500, 500), industry="C2614", nature="新建")
    [f] = [f for f in r.access["findings"] if "NAT-CJ-1KM-CHEM" in f["rule_id"]]
    assert f["outcome"] == "review" and f["needs_info"] and "岸线图层缺失" in f["finding"]
    assert r.state is State.NEEDS_REVIEW


def test_shoreline_rules_with_a_shoreline_layer_unread(tmp_path):
    """Review finding: with one of two shoreline layers unreadable, a rule read "不适用：没有
    长江岸线" although the 长江 may be in the unread one.  Nearer than the limit to what was
    read is still certain (禁止 is not hidden); beyond it is unknown."""
    import copy

    import yaml

    p = write_catalog(tmp_path)
    doc = yaml.safe_load(p.read_text("utf-8"))
    doc["layers"]["shore2"] = dict(copy.deepcopy(doc["layers"]["shore"]), layer="no_such_layer")
    p.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    cat = load_catalog(p)

    def chem(site):
        r = run(cat, site, industry="C2614", nature="新建")
        [f] = [f for f in r.access["findings"] if "NAT-CJ-1KM-CHEM" in f["rule_id"]]
        return r, f

    r, f = chem(B(8000, -2500, 8500, -2200))  # 800 m from the 长江 that could be read
    assert f["outcome"] == "prohibited" and r.state is State.PROHIBITED
    r, f = chem(B(8000, 0, 8500, 500))  # 3 km from it: the unread layer may hold a nearer one
    assert f["outcome"] == "review" and "岸线图层缺失或无法读取" in f["finding"]
    assert r.state is State.NEEDS_REVIEW


@pytest.mark.parametrize("basin", [None, ""])
def test_a_shoreline_without_the_attribute_a_rule_selects_on_fails_closed(tmp_path, basin):
    """Review finding: a river whose 流域 was not given was
    "no 长江 shoreline" to a rule selecting the 长江 basin: a chemical plant 800 m from it
    read 不适用 (不涉及).  It may be the 长江: within the limit of a river that is certainly
    picked stays certain, otherwise it needs review."""
    import copy

    import geopandas as gpd

    layers = dict(LAYERS)
    shore = copy.deepcopy(LAYERS["shore"])
    # a second river 2.5 km south of the 长江 that certainly is one
    shore = gpd.GeoDataFrame({"BSM": [1, 2], "HLMC": ["某河", "长江"], "LYMC": [basin, "长江"]},
                             geometry=[shore.geometry.iloc[0],
                                       L((-10_000, -5500), (10_000, -5500))], crs=CRS)
    layers["shore"] = shore
    cat = load_catalog(write_catalog(tmp_path, layers=layers))

    def chem(site):
        r = run(cat, site, industry="C2614", nature="新建")
        [f] = [f for f in r.access["findings"] if "NAT-CJ-1KM-CHEM" in f["rule_id"]]
        return r, f

    r, f = chem(B(8000, -2500, 8500, -2200))  # 500 m from the river of unknown basin
    assert f["outcome"] == "review" and f["needs_info"], f
    assert "未标明流域" in f["finding"] and r.state is State.NEEDS_REVIEW
    r, f = chem(B(8000, -5200, 8500, -5000))  # 300 m from the certain 长江: prohibited
    assert f["outcome"] == "prohibited" and r.state is State.PROHIBITED
    # 5 km from the river of unknown basin and 7.5 km from the 长江: the limit is out of
    # reach of both, so the clause does not apply (not undecided)
    r, f = chem(B(8000, 2000, 8500, 2500))
    assert f["outcome"] == "not_applicable" and "7,500 m ≥ 1,000 m" in f["finding"], f


def test_only_shorelines_of_unstated_basin_decide_within_reach_and_clear_beyond(tmp_path):
    """No river certainly of the 长江 basin, one whose 流域 is not given: near it the 1 km
    clause is undecided (never 没有长江岸线), 5 km from it it cannot apply."""
    import geopandas as gpd

    layers = dict(LAYERS)
    layers["shore"] = gpd.GeoDataFrame({"BSM": [1], "HLMC": ["某河"], "LYMC": [None]},
                                       geometry=list(LAYERS["shore"].geometry), crs=CRS)
    cat = load_catalog(write_catalog(tmp_path, layers=layers))
    near = run(cat, B(8000, -2500, 8500, -2200), industry="C2614", nature="新建")
    [f] = [f for f in near.access["findings"] if "NAT-CJ-1KM-CHEM" in f["rule_id"]]
    assert f["outcome"] == "review" and f["needs_info"] and "未标明流域" in f["finding"]
    far = run(cat, B(8000, 2000, 8500, 2500), industry="C2614", nature="新建")
    [f] = [f for f in far.access["findings"] if "NAT-CJ-1KM-CHEM" in f["rule_id"]]
    assert f["outcome"] == "not_applicable" and "没有可确认的" in f["finding"], f


def test_outside_coverage_fails_closed(cat):
    r = run(cat, B(9500, 0, 10_500, 100))  # half outside the districts
    assert r.state is State.DATA_MISSING
    out = r.layer("coverage")  # the outside part is its own 数据缺失 row, with its area
    assert out.state is State.DATA_MISSING and out.overlap_m2 == pytest.approx(50_000)
    assert out.share == pytest.approx(0.5)
    assert r.layer("farmland").state is State.NOT_INTERSECTING  # the covered half is known
    assert any("项目范围有部分位于" in w for w in r.warnings)
    assert "覆盖范围内部分的结论见各图层" in out.basis


def test_wholly_outside_coverage_says_so(cat):
    """Finding: a footprint wholly outside the data read "项目范围有部分位于…覆盖范围外"."""
    r = run(cat, B(10_500, 0, 11_500, 100))
    out = r.layer("coverage")
    assert r.state is State.DATA_MISSING and out.share == pytest.approx(1.0)
    assert any(w.startswith("项目范围全部位于") for w in r.warnings)
    assert not any("有部分" in w for w in r.warnings)
    assert out.basis.startswith("项目全部（100,000.00 m²（150.000 亩）") and "部分" not in out.basis
    p = run(cat, shapely.Point(OX + 10_500, OY))
    assert p.layer("coverage").basis.startswith("项目全部位于")


def test_missing_layer_fails_closed(tmp_path):
    cat = load_catalog(write_catalog(tmp_path, drop=("farmland",)))
    r = run(cat, B(-8000, -8000, -7000, -7000))
    f = r.layer("farmland")
    assert f.state is State.DATA_MISSING and f.rule == "missing-layer"
    assert r.state is State.DATA_MISSING  # nothing else is wrong, so the data gap decides
    red = run(cat, B(500, 0, 1500, 1000))
    assert red.state is State.PROHIBITED  # a prohibition decides whatever else is missing


def test_reporting_threshold_is_separate(cat):
    sliver = B(999.5, 0, 1000.5, 1)  # 0.5 m² inside R1
    judged = run(cat, sliver).layer("eco_redline")
    assert judged.overlap_m2 == pytest.approx(0.5, rel=1e-6)
    assert judged.state is State.PROHIBITED
    # a reporting threshold never changes a verdict silently: the overlap stays a hit
    noted = run(cat, sliver, opts=CheckOptions(area_method="gk", min_report_m2=1.0)) \
        .layer("eco_redline")
    assert noted.state is State.PROHIBITED and noted.hits[0].below_threshold
    assert noted.overlap_m2 == pytest.approx(0.5, rel=1e-6)
    assert "低于报告阈值" in noted.notes[0] and "仍计入判定" in noted.notes[0]
    # … unless the user opts out explicitly
    dropped = run(cat, sliver, opts=CheckOptions(area_method="gk", min_report_m2=1.0,
                                                 min_area_drops=True)).layer("eco_redline")
    assert dropped.state is State.NOT_INTERSECTING and not dropped.hits
    assert "低于报告阈值" in dropped.notes[0] and "不计入判定" in dropped.notes[0]


def test_radius_lists_setback_features(cat):
    r = run(cat, B(1200, 0, 1300, 100), opts=CheckOptions(area_method="gk", radius_m=250))
    assert r.layer("eco_redline").within_radius == ["R1"]
    assert r.layer("eco_redline").nearest_m == pytest.approx(200, abs=1e-6)


def test_ellipsoidal_matches_planar_on_the_central_meridian(cat):
    e = run(cat, B(500, 0, 1500, 1000), opts=CheckOptions()).layer("eco_redline")
    assert e.overlap_m2 == pytest.approx(500_000, rel=2e-5)


def test_ellipsoidal_area_known_answer():
    # a 0.01° × 0.01° cell at the equator-ish latitude of Guiyang, against the
    # closed-form area of an ellipsoidal quadrangle (authalic latitude formula)
    from zoning.engine.geometry import measure

    a, f = 6378137.0, 1 / 298.257222101
    e2 = f * (2 - f)
    e = math.sqrt(e2)

    def q(phi):
        s = math.sin(phi)
        return (1 - e2) * (s / (1 - e2 * s * s) - math.log((1 - e * s) / (1 + e * s)) / (2 * e))

    lat0, lat1, dlon = 26.5, 26.51, 0.01
    exact = a * a / 2 * math.radians(dlon) * (q(math.radians(lat1)) - q(math.radians(lat0)))
    cell = shapely.box(106.7, lat0, 106.7 + dlon, lat1)
    area, _ = measure([cell], "EPSG:4490", "ellipsoidal")
    # geodesic edges vs parallels differ by far less than 0.01 %
    assert area[0] == pytest.approx(exact, rel=1e-4)


def test_subdivide_preserves_area_and_parents():
    ring = shapely.Point(0, 0).buffer(1000, quad_segs=256)  # 1025 vertices
    pieces, parent = subdivide([ring, shapely.box(0, 0, 1, 1)], max_vertices=64)
    assert len(pieces) > 8 and set(parent) == {0, 1}
    assert (shapely.get_num_coordinates(pieces) <= 64 + 8).all()
    assert shapely.area(pieces[parent == 0]).sum() == pytest.approx(ring.area, rel=1e-12)


def test_results_do_not_depend_on_subdivision(cat):
    fp = B(-300, -300, 3500, 700)
    a = run(cat, fp, opts=CheckOptions(area_method="gk", subdivide_vertices=5))
    b = run(cat, fp, opts=CheckOptions(area_method="gk", subdivide_vertices=0))
    for la, lb in zip(a.layers, b.layers):
        assert la.overlap_m2 == pytest.approx(lb.overlap_m2, rel=1e-9)
        assert la.state == lb.state


def test_point_on_line_footprint_dimension_error():
    from zoning.errors import DataError

    mixed = shapely.GeometryCollection([Point(106.7, 26.5), shapely.box(106, 26, 106.1, 26.1)])
    with pytest.raises(DataError, match="几何类型混杂"):
        check(mixed)


def test_line_partly_along_edge_measures_interior_only(cat):
    # 1000 m along R1's top edge, then 500 m down into it
    line = L((-200, 1000), (500, 1000), (500, 500))
    red = run(cat, line).layer("eco_redline")
    assert red.overlap_length_m == pytest.approx(500, abs=2 * NOISE_M + 1e-6)
    assert red.relation == "crosses"


def test_point_on_boundary_is_covered(cat):
    """Containment uses covers, as coverage does: a point on the edge is in (fail closed)."""
    red = run(cat, shapely.Point(OX + 1000, OY + 500)).layer("eco_redline")
    assert red.relation == "contains_point" and red.state is State.PROHIBITED


def test_ellipsoidal_area_agrees_with_geodesic_polygons():
    """The equal-area computation matches pyproj's geodesic polygon area."""
    import numpy as np
    from pyproj import Geod

    from zoning.engine.geometry import measure

    rng = np.random.default_rng(3)
    geod = Geod(ellps="GRS80")
    geoms = []
    for _ in range(40):
        lon, lat = rng.uniform(105.3, 109.2), rng.uniform(26.2, 35.7)
        r = rng.uniform(0.001, 0.05)
        th = np.sort(rng.uniform(0, 2 * np.pi, 9))
        geoms.append(shapely.Polygon(np.column_stack([lon + r * np.cos(th),
                                                      lat + r * np.sin(th)])))
    area, _ = measure(geoms, "EPSG:4490", "ellipsoidal")
    for g, a in zip(geoms, area):
        ref = abs(geod.geometry_area_perimeter(shapely.segmentize(g, 0.0005))[0])
        assert a == pytest.approx(ref, rel=2e-6)


@pytest.mark.parametrize("method", ["ellipsoidal", "gk"])
def test_measure_empty_geometries(method):
    from zoning.engine.geometry import measure

    area, length = measure([shapely.Polygon(), B(0, 0, 10, 10), shapely.LineString()], CRS,
                           method)
    assert area[0] == 0 and length[2] == 0 and area[1] == pytest.approx(100, rel=1e-5)


def test_each_thread_checks_with_its_own_prepared_coverage(tmp_path):
    """Finding: concurrent checks (the web service's thread pool) shared one prepared
    coverage polygon, and GEOS prepared geometries are not thread-safe: the server died
    in a segfault under 16 clients.  Every thread now gets its own prepared copy, and
    checks from eight threads at once give the sequential answers."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from tests.minicat import CRS, B, write_catalog
    from zoning.catalog import load_catalog
    from zoning.screen import INDEX_CACHE, check, load_index

    cat = load_catalog(write_catalog(tmp_path))
    index = load_index(cat)
    seen: dict[int, object] = {}
    # the first four calls meet at a barrier, so four threads take part even when one
    # thread alone could drain the queue (it did on a loaded machine)
    meet = threading.Barrier(4, timeout=60)

    def grab(i):
        if i < 4:
            meet.wait()
        cov = index.coverage
        assert cov is index.coverage  # stable within a thread
        seen[threading.get_ident()] = cov
        return shapely.is_prepared(cov)

    with ThreadPoolExecutor(4) as ex:
        assert all(ex.map(grab, range(40)))
    assert len({id(c) for c in seen.values()}) == len(seen) > 1
    assert all(shapely.equals_exact(c, index.coverage, 0) for c in seen.values())
    region_cov = [INDEX_CACHE.coverage(cat)]
    t = threading.Thread(target=lambda: region_cov.append(INDEX_CACHE.coverage(cat)))
    t.start()
    t.join()
    assert region_cov[0] is not region_cov[1] and shapely.is_prepared(region_cov[1])

    sites = [B(-3000 + 400 * i, -9000 + 900 * (i % 7), -2700 + 400 * i, -8600 + 900 * (i % 7))
             for i in range(24)]

    def one(g):
        return json.dumps(check(g, cat, crs=CRS, industry="C2614").to_dict(), sort_keys=True)

    sequential = [one(g) for g in sites]
    for _ in range(3):
        with ThreadPoolExecutor(8) as ex:
            assert list(ex.map(one, sites)) == sequential


@pytest.mark.parametrize("rule,msg", [
    ({"state": "prohibited", "label": "符合"}, "only for state not_intersecting"),
    ({"state": "needs_review", "label": "无需核查"}, "only for state not_intersecting"),
    ({"state": "not_intersecting", "label": "禁止"}, "not another state's words"),
    ({"state": "not_intersecting", "label": "符合" * 7}, "label.*too long"),
])
def test_a_label_cannot_soften_a_verdict(tmp_path, rule, msg):
    import yaml

    from zoning.errors import CatalogError
    from zoning.rules.three_lines import load_rules

    p = tmp_path / "r.yaml"
    p.write_text(yaml.safe_dump({"rules_version": 1, "layers": {"urban_boundary": [
        dict(id="X", basis="依据", **rule)]}}, allow_unicode=True), encoding="utf-8")
    with pytest.raises(CatalogError, match=msg):
        load_rules(p)
    rule["label"] = "符合"
    rule["state"] = "not_intersecting"
    p.write_text(yaml.safe_dump({"rules_version": 1, "layers": {"urban_boundary": [
        dict(id="X", basis="依据", **rule)]}}, allow_unicode=True), encoding="utf-8")
    assert load_rules(p).layers["urban_boundary"][0].label == "符合"


def test_a_centreline_that_takes_land_says_its_area_is_unknown(cat):
    """Finding: a roadbed entered as a centreline showed 0 m² of 永久基本农田 taken, and
    nothing said that its area could not be counted."""
    from zoning.engine.overlay import LINE_TAKES_LAND

    road = L((-2500, 500), (-700, 500))  # across farmland F1 and F3
    for attrs in ({}, {"takes_land": True}):
        r = run(cat, road, **attrs)
        farm = r.layer("farmland")
        assert farm.overlap_m2 == 0 and farm.overlap_length_m == pytest.approx(1300, rel=1e-5)
        assert LINE_TAKES_LAND in r.warnings and "--width" in LINE_TAKES_LAND
    bridge = run(cat, road, takes_land=False)  # crosses without taking land: no area to ask
    assert LINE_TAKES_LAND not in bridge.warnings
    corridor = run(cat, road.buffer(10, cap_style="flat"))  # a 20 m corridor: areas known
    assert LINE_TAKES_LAND not in corridor.warnings
    assert corridor.layer("farmland").overlap_m2 == pytest.approx(26_000, rel=1e-5)


def test_overall_words_for_a_site_inside_layers_that_find_nothing_against_it():
    """Finding: 总体结论 read 不涉及 (not involved) for a data centre inside the 城镇开发边界
    (符合) and its 管控单元 (见准入清单)."""
    from zoning.results import OVERALL_CLEAR, CheckResult, FeatureHit, LayerResult

    def result(*layers):
        return CheckResult(row=1, project_id="P", state=State.NOT_INTERSECTING,
                           layers=list(layers))

    inside = LayerResult(layer="udb", kind="urban_boundary", kind_zh="城镇开发边界",
                         state=State.NOT_INTERSECTING, basis="", state_label="符合",
                         hits=[FeatureHit("U1", 100.0, share=1.0)])
    near = LayerResult(layer="shore", kind="shoreline", kind_zh="河流岸线",
                       state=State.NOT_INTERSECTING, basis="", state_label="见准入清单")
    plain = LayerResult(layer="farm", kind="farmland", kind_zh="永久基本农田",
                        state=State.NOT_INTERSECTING, basis="")
    assert result(inside, near, plain).state_zh == OVERALL_CLEAR == "未发现冲突"
    assert result(inside).to_dict()["state_zh"] == "未发现冲突"
    assert result(near, plain).state_zh == "不涉及"  # a label without a hit: not inside it
    worse = result(inside, plain)
    worse.state = State.NEEDS_REVIEW
    assert worse.state_zh == State.NEEDS_REVIEW.zh
    assert CheckResult(row=1, project_id="P", status="error").state_zh == ""
    assert not any(w in OVERALL_CLEAR for w in (s.zh for s in State))  # never reads as one


def test_group_shares_are_the_per_hit_shares():
    """The batch works out every hit's share at once: the same numbers as one by one."""
    import numpy as np

    from zoning.engine.overlay import _Chunk, _share, _shares

    kinds = np.array(["polygon", "polygon", "line", "line", "point"])
    area = np.array([200.0, 0.0, 0.0, 0.0, 0.0])
    length = np.array([60.0, 0.0, 500.0, 0.0, 0.0])
    ch = _Chunk(np.empty(5, dtype=object), kinds, area, length, area, length, [None] * 5,
                np.zeros(5, dtype=bool))
    proj = np.array([0, 0, 0, 1, 2, 2, 3, 4])
    a = np.array([50.0, 200.0 / 3, 250.0, 3.0, 0.0, 0.0, 0.0, 0.0])
    ln = np.array([1.0, 2.0, 3.0, 4.0, 125.0, 700.0, 9.0, 0.0])
    got = _shares(a, ln, proj, ch).tolist()
    want = [_share(float(x), float(y), int(k), ch) for x, y, k in zip(a, ln, proj)]
    assert got == want == [0.25, (200.0 / 3) / 200.0, 1.0, 0.0, 0.25, 1.0, 0.0, 1.0]


def test_nearest_through_boundary_runs_equals_whole_pieces():
    """Large polygons are measured to their pieces' boundary runs: the same features and
    the same distances as measuring the pieces whole (inside a hole, outside, touching,
    inside a piece, and ties between two features)."""
    import geopandas as gpd
    import numpy as np

    from zoning.engine.index import LayerIndex

    ring = shapely.Point(OX, OY).buffer(3000, quad_segs=400)
    holed = ring.difference(shapely.Point(OX, OY).buffer(800, quad_segs=200))
    twin = shapely.affinity.translate(holed, 9000, 0)  # same shape: ties between the two
    star = shapely.Polygon([(OX + 4500 + 300 * np.cos(t) * (1 + (i % 2)), OY - 6000 +
                             300 * np.sin(t) * (1 + (i % 2)))
                            for i, t in enumerate(np.linspace(0, 2 * np.pi, 300)[:-1])])
    frame = gpd.GeoDataFrame({"_id": ["A", "B", "C"]}, geometry=[holed, twin, star],
                             crs=CRS)
    li = LayerIndex.build("pa", "protected_area", frame, CRS, max_vertices=64)
    fps = np.array([B(-100, -100, 100, 100),  # in A's hole
                     B(4000, -200, 5000, 200),  # between A and B: equally near both
                     B(4500, -6100, 4600, -5900),  # inside C
                     B(3000, 0, 3100, 50),  # touching A's outer ring
                     B(-9000, 8000, -8800, 8300), B(12500, 0, 13000, 100),
                     shapely.Point(OX + 20000, OY + 20000)], dtype=object)
    which = np.arange(len(fps))
    fast = li.nearest(fps, which)
    assert li._runs  # the runs were used (the pieces are large)
    li._runs = ()
    whole = li.nearest(fps, which)
    assert fast == whole
    # independent of the index: GEOS's distance to each whole, unsubdivided feature
    for k, fp in enumerate(fps):
        d = shapely.distance(fp, np.array([holed, twin, star], dtype=object))
        assert fast[k][1] == pytest.approx(d.min(), abs=1e-6)
        assert fast[k][0] == int(np.flatnonzero(np.isclose(d, d.min(), atol=1e-6))[0])
    assert fast[0][1] == pytest.approx(800 - 100 * 2 ** 0.5, abs=0.5) and fast[0][0] == 0
    assert fast[1][0] == 0  # the tie goes to the first feature
    assert fast[2] == (2, 0.0) and fast[3][1] == 0.0
