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
    out = _check(cat, B(9_900, 9_900, 10_100, 10_100))
    assert out.landuse["status"] == "outside_coverage" and "level1" not in out.landuse
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
