"""Generic constraint layers: declared in a catalog with their rules, no code change."""

from __future__ import annotations

import geopandas as gpd
import pytest
import yaml

from zoning.catalog import load_catalog
from zoning.errors import CatalogError
from zoning.results import State
from zoning.rules.constraints import constraint_rules_dir, load_constraint_rules
from zoning.screen import check, screen_projects

from .minicat import CRS, B, write_catalog

# a 水源保护区 south of the farmland: 一级 inside 二级, and a separate 准保护区
WATER = gpd.GeoDataFrame(
    {"BSM": ["SY1", "SY2", "SY3"], "SYDMC": ["甲水库", "甲水库", "甲水库"],
     "BHQJB": ["一级保护区", "二级保护区", "准保护区"]},
    geometry=[B(-3000, -3000, -2000, -2000),
              B(-4000, -4000, -1000, -1000).difference(B(-3000, -3000, -2000, -2000)),
              B(-6000, -6000, -4000, -4000)],
    crs=CRS)


def _water_catalog(tmp_path, rules=None, extra=None):
    """The mini catalog plus a water-source layer declared only in YAML."""
    p = write_catalog(tmp_path)
    WATER.to_file(tmp_path / "water.gpkg", layer="SYBHQ", driver="GPKG")
    doc = yaml.safe_load(p.read_text("utf-8"))
    doc["layers"]["water_source"] = dict(
        kind="water_source", title="饮用水水源保护区", path="water.gpkg", layer="SYBHQ",
        crs=CRS, id_field="BSM", fields={"name": "SYDMC", "zone": "BHQJB"},
        values={"zone": {"一级保护区": "first", "二级保护区": "second", "准保护区": "quasi"}},
        rules=str(rules or constraint_rules_dir() / "water_source.yaml"), **(extra or {}))
    p.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return load_catalog(p)


@pytest.fixture(scope="module")
def water_cat(tmp_path_factory):
    return _water_catalog(tmp_path_factory.mktemp("water"))


def _check(cat, geom, **kw):
    from zoning.crs import reproject

    return check(reproject(geom, CRS, "EPSG:4490"), cat, **kw)


def test_water_source_layer_added_by_catalog_cites_the_law(water_cat):
    cat = water_cat
    r = _check(cat, B(-2800, -2800, -2600, -2600))  # inside the 一级保护区
    lr = r.layer("water_source")
    assert lr.kind == "constraint" and lr.kind_zh == "饮用水水源保护区"
    assert lr.state == State.PROHIBITED and lr.rule == "WS-first"
    assert "水污染防治法" in lr.basis and "第六十五条" in lr.basis and "待核实" in lr.basis
    assert [h.feature_id for h in lr.hits] == ["SY1"]
    assert lr.hits[0].attributes["name"] == "甲水库"
    assert lr.overlap_m2 == pytest.approx(40_000, rel=1e-5) and lr.share == pytest.approx(1)
    assert r.state == State.PROHIBITED
    assert any("水污染防治法" in b for b in r.basis)


def test_a_water_supply_project_in_the_first_zone_is_checked_not_prohibited(water_cat):
    """Review finding: Art. 65 forbids projects "与供水设施和保护水源无关的" in the 一级保护区;
    a waterworks (D46) there read 禁止.  It needs review; another industry stays 禁止."""
    site = B(-2800, -2800, -2600, -2600)
    works = _check(water_cat, site, industry="D4610", nature="新建").layer("water_source")
    assert (works.state, works.rule) == (State.NEEDS_REVIEW, "WS-first-supply")
    assert "供水设施" in works.basis
    plant = _check(water_cat, site, industry="C2614", nature="新建").layer("water_source")
    assert (plant.state, plant.rule) == (State.PROHIBITED, "WS-first")
    sewage = _check(water_cat, site, industry="D4620", nature="新建").layer("water_source")
    assert (sewage.state, sewage.rule) == (State.PROHIBITED, "WS-first")  # not water supply


def test_a_site_in_a_low_hazard_zone_still_needs_the_assessment(tmp_path):
    """Review finding: a site inside a 地质灾害低易发区 read 不涉及 although its basis said an
    assessment is still required (Art. 21: every 易发区): it needs review."""
    p = write_catalog(tmp_path)
    WATER.to_file(tmp_path / "gh.gpkg", layer="DZZH", driver="GPKG")
    doc = yaml.safe_load(p.read_text("utf-8"))
    doc["layers"]["geohazard"] = dict(
        kind="geohazard", title="地质灾害易发区", path="gh.gpkg", layer="DZZH", crs=CRS,
        id_field="BSM", fields={"zone": "BHQJB"},
        values={"zone": {"一级保护区": "high", "二级保护区": "medium", "准保护区": "low"}},
        rules=str(constraint_rules_dir() / "geohazard.yaml"))
    p.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    lr = _check(load_catalog(p), B(-5500, -5500, -5400, -5400)).layer("geohazard")
    assert lr.rule == "GH-low" and lr.state is State.NEEDS_REVIEW and lr.overlap_m2 > 0
    assert "危险性评估" in lr.basis


def test_water_source_second_zone_and_areas_split_across_zones(water_cat):
    cat = water_cat
    # 100 m x 200 m straddling the 一级/二级 boundary at x = -2000: half in each
    r = _check(cat, B(-2100, -2600, -1900, -2500))
    lr = r.layer("water_source")
    assert sorted(h.feature_id for h in lr.hits) == ["SY1", "SY2"]
    assert {h.feature_id: round(h.overlap_m2) for h in lr.hits} == {"SY1": 10_000,
                                                                   "SY2": 10_000}
    assert lr.state == State.PROHIBITED  # the 一级 part decides
    r2 = _check(cat, B(-1900, -2600, -1800, -2500))  # 二级 only
    lr2 = r2.layer("water_source")
    assert lr2.rule == "WS-second" and "第六十六条" in lr2.basis
    assert lr2.state == State.NEEDS_REVIEW  # whether it emits pollutants: never 不涉及


def test_industry_condition_in_quasi_zone(water_cat):
    cat = water_cat
    site = B(-5500, -5500, -5400, -5400)
    chem = _check(cat, site, industry="C2614", nature="新建").layer("water_source")
    assert chem.rule == "WS-quasi-heavy" and chem.state == State.PROHIBITED
    food = _check(cat, site, industry="C1391").layer("water_source")
    assert food.rule == "WS-quasi" and "第六十七条" in food.basis
    # in the zone but not forbidden: worded as such, never 不涉及 for a site inside it
    assert food.state_zh == "未禁止，须落实防污措施" and food.overlap_m2 > 0
    unknown = _check(cat, site).layer("water_source")
    assert unknown.rule == "WS-quasi-unknown" and unknown.state != State.NOT_INTERSECTING


def test_nearest_and_within_distance_rules(tmp_path):
    rules = {"id": "demo_relic", "title": "文物保护范围", "status": "demo", "cases": [
        {"id": "near", "when": {"relation": ["none"], "within_m": 150}, "state": "prohibited",
         "basis": "距文物 150 m 内（示例）"},
        {"id": "far", "state": "not_intersecting", "basis": "不涉及"}]}
    rp = tmp_path / "relic.yaml"
    rp.write_text(yaml.safe_dump(dict(rules, constraint_rules_version=1), allow_unicode=True),
                  encoding="utf-8")
    cat = _water_catalog(tmp_path, rules=rp)
    near = _check(cat, B(-900, -2600, -800, -2500)).layer("water_source")  # 100 m east of SY2
    assert near.nearest_m == pytest.approx(100, abs=0.01) and near.nearest_id == "SY2"
    assert near.rule == "near" and near.basis.startswith("〔示例规则〕")
    far = _check(cat, B(-700, -2600, -600, -2500)).layer("water_source")  # 300 m
    assert far.rule == "far" and far.state == State.NOT_INTERSECTING


def test_inline_rules_and_unknown_kind_without_rules(tmp_path):
    inline = {"title": "湿地", "status": "demo",
              "cases": [{"when": {"relation": ["overlaps", "within"]}, "state": "prohibited",
                         "basis": "占用湿地（示例）"},
                        {"state": "not_intersecting", "basis": "不涉及湿地"}]}
    p = write_catalog(tmp_path)
    doc = yaml.safe_load(p.read_text("utf-8"))
    WATER.to_file(tmp_path / "water.gpkg", layer="SYBHQ", driver="GPKG")
    doc["layers"]["wet"] = dict(kind="constraint", path="water.gpkg", layer="SYBHQ", crs=CRS,
                               id_field="BSM", rules=inline)
    p.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    cat = load_catalog(p)
    lr = _check(cat, B(-2800, -2800, -2600, -2600)).layer("wet")
    assert lr.kind_zh == "湿地" and lr.state == State.PROHIBITED  # title from the rules
    doc["layers"]["odd"] = dict(kind="ancient_trees", path="water.gpkg", id_field="BSM")
    p.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    with pytest.raises(CatalogError, match="需要 rules:"):
        load_catalog(p)


def test_unreadable_constraint_layer_is_data_missing(tmp_path):
    cat = _water_catalog(tmp_path)
    (tmp_path / "water.gpkg").unlink()
    r = screen_projects([], cat)  # nothing to check: the catalog still loads
    assert len(r) == 0
    res = _check(cat, B(-2800, -2800, -2600, -2600))
    lr = res.layer("water_source")
    assert lr.state == State.DATA_MISSING and lr.rule == "missing-layer"


@pytest.mark.parametrize("path", sorted(constraint_rules_dir().glob("*.yaml")))
def test_shipped_templates_load_and_cite_a_law(path):
    from zoning.rules.three_lines import load_rules

    rs = load_constraint_rules(path, load_rules().vocabularies)
    assert rs.law and rs.cases[-1].when == {}
    assert all("《" in c.basis for c in rs.cases if c.state != State.NOT_INTERSECTING)
    assert len(list(constraint_rules_dir().glob("*.yaml"))) == 8


@pytest.mark.parametrize("bad,msg", [
    ({"cases": [{"state": "prohibited", "basis": "x", "when": {"colour": ["red"]}}]},
     "unknown condition"),
    ({"cases": [{"state": "maybe", "basis": "x"}]}, "state 'maybe'"),
    ({"cases": [{"state": "prohibited"}]}, "legal 'basis'"),
    ({"cases": [{"state": "needs_review", "basis": "x", "label": "符合"}]}, "only for state"),
    ({"cases": [{"state": "not_intersecting", "basis": "x", "label": "禁止"}]},
     "another state's words"),
    ({"cases": [{"state": "prohibited", "basis": "x", "when": {"within_m": -1}}]}, "within_m"),
    ({"cases": [{"state": "prohibited", "basis": "x", "when": {"zone": ["a"]}}]}, "catch-all"),
    ({"cases": [{"state": "prohibited", "basis": "x", "when": {"major_project": ["moon"]}},
                {"state": "prohibited", "basis": "y"}]}, "vocabularies"),
])
def test_bad_rule_sets_are_catalog_errors(bad, msg):
    from zoning.rules.three_lines import load_rules

    with pytest.raises(CatalogError, match=msg):
        load_constraint_rules(bad, load_rules().vocabularies, where={"layer": "x"})
