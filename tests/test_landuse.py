"""三调 地类 breakdown: known answers on the mini catalog, and the shipped examples."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import jsonschema
import pytest
import yaml

from zoning.catalog import load_catalog
from zoning.errors import InputError
from zoning.rules.landuse import group_of, level1_of, parse_declared
from zoning.screen import check

from .minicat import CRS, B, write_catalog

LANDUSE = gpd.GeoDataFrame(
    {"BSM": [1, 2, 3], "DLBM": ["0103", "0702", "0301"], "DLMC": ["旱地", "农村宅基地", "乔木林地"]},
    geometry=[B(-10_000, -10_000, 0, 10_000).difference(B(-2000, -2000, -1000, -1000)),
              B(-2000, -2000, -1000, -1000), B(0, -10_000, 10_000, 10_000)], crs=CRS)
SCHEMA = json.loads((Path(__import__("zoning").__file__).parent / "report" / "schemas" /
                     "check-1.schema.json").read_text("utf-8"))


def _catalog(folder, landuse=LANDUSE):
    p = write_catalog(folder)
    doc = yaml.safe_load(p.read_text("utf-8"))
    if landuse is not None:
        landuse.to_file(folder / "dltb.gpkg", layer="DLTB", driver="GPKG")
    doc["layers"]["dltb"] = dict(kind="landuse", path="dltb.gpkg", layer="DLTB", crs=CRS,
                                 id_field="BSM", fields={"code": "DLBM", "name": "DLMC"})
    p.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return load_catalog(p)


@pytest.fixture(scope="module")
def cat(tmp_path_factory):
    return _catalog(tmp_path_factory.mktemp("landuse"))


def _check(cat, geom, **kw):
    from zoning.crs import reproject

    return check(reproject(geom, CRS, "EPSG:4490"), cat, **kw)


def _by_code(entries):
    return {e["code"]: e["area"]["m2"] for e in entries}


def test_breakdown_by_level1_level2_and_group(cat):
    r = _check(cat, B(-1500, -1500, 500, -1200))  # 2000 m x 300 m over three parcels
    lu = r.landuse
    assert lu["status"] == "ok" and lu["area_method"] == "ellipsoidal"
    assert _by_code(lu["level2"]) == pytest.approx(
        {"0103": 300_000, "0702": 150_000, "0301": 150_000}, rel=1e-5)
    assert _by_code(lu["level1"]) == pytest.approx({"01": 300_000, "07": 150_000,
                                                    "03": 150_000}, rel=1e-5)
    assert {e["code"]: e["name"] for e in lu["level1"]} == {"01": "耕地", "07": "住宅用地",
                                                            "03": "林地"}
    assert _by_code(lu["groups"]) == pytest.approx({"农用地": 450_000, "建设用地": 150_000},
                                                   rel=1e-5)
    assert lu["total"]["m2"] == pytest.approx(r.area_m2, rel=1e-4)
    assert lu["cultivated"]["m2"] == pytest.approx(300_000, rel=1e-5)
    assert lu["permanent_farmland"]["m2"] == 0  # the farmland layer is there: none taken
    assert lu["flags"] == [] and lu["declared"] is None
    jsonschema.validate(r.to_dict(), SCHEMA)


def test_cultivated_land_and_permanent_farmland_reported_separately(cat):
    r = _check(cat, B(-1500, 500, 0, 700))  # over F1 and F3 (永久基本农田) and plain 旱地
    lu = r.landuse
    assert lu["cultivated"]["m2"] == pytest.approx(300_000, rel=1e-5)
    assert lu["permanent_farmland"]["m2"] == pytest.approx(200_000, rel=1e-5)
    assert lu["permanent_farmland"]["mu"] == pytest.approx(300.0, rel=1e-4)


def test_declared_areas_compared_and_differences_above_one_percent_flagged(cat):
    site = B(-1500, -1500, 500, -1200)
    r = _check(cat, site, landuse_declared="0103=30.2; 林地 15; 住宅用地 14 公顷")
    rows = {d["key"]: d for d in r.landuse["declared"]}
    assert not rows["0103"]["flag"]  # 30.2 ha declared, 30 measured: 0.66 %
    assert rows["0103"]["relative"] == pytest.approx(-0.2 / 30.2, rel=1e-3)
    assert not rows["03"]["flag"]
    assert rows["07"]["flag"] and rows["07"]["relative"] == pytest.approx(1 / 14, rel=1e-3)
    assert len(r.landuse["flags"]) == 1 and "住宅用地" in r.landuse["flags"][0]
    assert any("三调地类" in w for w in r.warnings)
    only_farm = _check(cat, site, landuse_declared="耕地 30").landuse
    assert sorted(f.split("：")[0] for f in only_farm["flags"]) == ["住宅用地", "林地"]


def test_outside_coverage_and_unreadable_layer_are_not_empty_breakdowns(tmp_path, cat):
    out = _check(cat, B(9_900, 9_900, 10_100, 10_100))  # a quarter inside the districts
    lu = out.landuse
    assert lu["status"] == "ok" and lu["coverage"] == pytest.approx(0.25, rel=1e-3)
    assert _by_code(lu["level2"]) == pytest.approx({"0301": 10_000}, rel=1e-4)
    assert "25.00" in lu["flags"][0]  # the part outside has no 地类: flagged, not hidden
    far = _check(cat, B(20_000, 20_000, 20_100, 20_100), region="mini")  # wholly outside
    assert far.landuse["status"] == "outside_coverage" and "level1" not in far.landuse
    # the part outside is its own 数据缺失 row (coverage), with its area
    assert out.layer("coverage").overlap_m2 == pytest.approx(30_000, rel=1e-4)
    broken = _catalog(tmp_path, landuse=None)  # declared, file absent
    r = _check(broken, B(-1500, -1500, 500, -1200))
    assert r.landuse["status"] == "data_missing"


def test_line_footprint_gets_lengths_by_class(cat):
    from .minicat import L

    r = _check(cat, L((-500, 5000), (500, 5000)))
    lu = r.landuse
    assert {e["code"]: round(e["length_m"]) for e in lu["level2"]} == {"0103": 500,
                                                                      "0301": 500}


@pytest.mark.parametrize("text,want", [
    ("耕地 1.2", {"01": 12_000.0}), ("0103=5000 m²", {"0103": 5000.0}),
    ("旱地:3亩；建设用地 0.01 km²", {"0103": 2000.0, "建设用地": 10_000.0}),
    ("01 1; 01 2", {"01": 30_000.0}), ("", None), (None, None)])
def test_parse_declared(text, want):
    got = parse_declared(text)
    assert got == (None if want is None else pytest.approx(want))


@pytest.mark.parametrize("text,msg", [("耕地", "is not"), ("稻田 3", "neither"),
                                      ("耕地 3 英亩", "unknown unit")])
def test_parse_declared_errors(text, msg):
    with pytest.raises(InputError, match=msg):
        parse_declared(text)


def test_class_tables():
    assert level1_of("1108") == "00" and level1_of("0103") == "01"  # 三调 湿地
    assert group_of("1006") == "农用地" and group_of("1201") == "建设用地"
    assert group_of("0404") == "未利用地" and group_of("9999") is None


def test_deduction_goes_to_field_ridges_and_adjustable_codes_keep_their_class(tmp_path):
    """三调 KCXS: a 耕地 parcel with 扣除系数 0.1 gives 10 % to 1203 田坎; 0201K is 果园."""
    lu = gpd.GeoDataFrame(
        {"BSM": [1, 2], "DLBM": ["0103", "0201K"], "DLMC": ["旱地", "果园"], "KCXS": [0.1, 0]},
        geometry=[B(-10_000, -10_000, 0, 10_000), B(0, -10_000, 10_000, 10_000)], crs=CRS)
    p = write_catalog(tmp_path)
    doc = yaml.safe_load(p.read_text("utf-8"))
    lu.to_file(tmp_path / "dltb.gpkg", layer="DLTB", driver="GPKG")
    doc["layers"]["dltb"] = dict(kind="landuse", path="dltb.gpkg", layer="DLTB", crs=CRS,
                                 id_field="BSM",
                                 fields={"code": "DLBM", "name": "DLMC", "deduction": "KCXS"})
    p.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    r = _check(load_catalog(p), B(-500, 5000, 500, 5200), landuse_declared="0201 10")
    lu_ = r.landuse
    assert _by_code(lu_["level2"]) == pytest.approx({"0103": 90_000, "1203": 10_000,
                                                     "0201K": 100_000}, rel=1e-5)
    assert {e["code"]: e["name"] for e in lu_["level2"]}["0201K"] == "果园（可调整）"
    assert _by_code(lu_["level1"]) == pytest.approx({"01": 90_000, "12": 10_000,
                                                     "02": 100_000}, rel=1e-5)
    assert lu_["total"]["m2"] == pytest.approx(r.area_m2, rel=1e-4)
    assert not lu_["declared"][0]["flag"]  # 0201 declared matches 0201K measured


def test_breakdowns_of_a_footprint_in_two_regions_add_up(cat):
    from zoning.engine.landuse import merge_breakdowns

    west = _check(cat, B(-1500, -1500, 0, -1200)).landuse  # 0103 + 0702
    east = _check(cat, B(0, -1500, 500, -1200)).landuse  # 0301
    for part in (west, east):  # as parts of one footprint, each knows the whole area
        part["footprint"] = {"m2": 600_000.0, "ha": 60.0, "mu": 900.0}
    both = merge_breakdowns([west, None, east], {"03": 150_000.0})
    assert _by_code(both["level2"]) == pytest.approx(
        {"0103": 300_000, "0702": 150_000, "0301": 150_000}, rel=1e-5)
    assert both["footprint"]["m2"] == pytest.approx(600_000, rel=1e-5)
    assert both["total"]["m2"] == pytest.approx(both["footprint"]["m2"], rel=1e-4)
    assert sum(e["share"] for e in both["level1"]) == pytest.approx(1, rel=1e-4)
    assert [d["flag"] for d in both["declared"]] == [False]
    assert merge_breakdowns([{"status": "outside_coverage"}, None])["status"] == \
        "outside_coverage"
    half = merge_breakdowns([west, {"status": "data_missing"}])
    assert half["status"] == "ok" and "data_missing" in half["flags"][0]


def test_a_footprint_across_two_regions_gets_one_breakdown(tmp_path):
    """Each region measures its part with its own 地类 layer; the result adds them up."""
    from .minicat import LAYERS
    from .test_edges import _region

    cats = []
    for name, west in (("w", True), ("e", False)):
        (tmp_path / name).mkdir()
        p = write_catalog(tmp_path / name, _region(dict(LAYERS), west), region_id=name)
        doc = yaml.safe_load(p.read_text("utf-8"))
        half = LANDUSE[(LANDUSE.geometry.centroid.x - 36_500_000 < 0) == west]
        half.to_file(tmp_path / name / "dltb.gpkg", layer="DLTB", driver="GPKG")
        doc["layers"]["dltb"] = dict(kind="landuse", path="dltb.gpkg", layer="DLTB", crs=CRS,
                                     id_field="BSM", fields={"code": "DLBM"})
        p.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
        cats.append(load_catalog(p))
    from zoning.crs import reproject

    r = check(reproject(B(-1500, -1500, 500, -1200), CRS, "EPSG:4490"), cats)
    assert r.region == "w+e"
    lu = r.landuse
    assert _by_code(lu["level2"]) == pytest.approx(
        {"0103": 300_000, "0702": 150_000, "0301": 150_000}, rel=1e-4)
    assert lu["total"]["m2"] == pytest.approx(r.area_m2, rel=1e-4)
