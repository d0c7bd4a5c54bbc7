"""Fuzzing the readers: every input ends as a result or a ZoningError, never another
exception or a hang.

Hypothesis generates 部标 TXT files, footprint geometries, project lists and
catalogs, from plausible to hostile.  Example counts are bounded so the whole
module runs in a few seconds; raise ``ZONING_FUZZ_EXAMPLES`` for a long run.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
import shapely
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zoning.errors import ZoningError

N = int(os.environ.get("ZONING_FUZZ_EXAMPLES", "60"))
FUZZ = settings(max_examples=N, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])

# --------------------------------------------------------------------------- TXT

NUMBERS = st.one_of(
    st.sampled_from(["nan", "inf", "-inf", "1e400", "", "0", "-1", "3", "36", "99", "1.5",
                     "2940000", "36371000", "371000", "１２"]),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-10**12, 10**12).map(str))
HEADER_KEYS = st.sampled_from(["坐标系", "几度分带", "带号", "计量单位", "精度", "投影类型", "x"])
HEADER_VALUES = st.one_of(NUMBERS, st.sampled_from(["2000国家大地坐标系", "1980西安坐标系", "米",
                                                    "km", "高斯克吕格"]), st.text(max_size=8))


def _coord_line(n):
    return st.tuples(st.text("J0123456789", min_size=1, max_size=3),
                     st.integers(0, 3), NUMBERS, NUMBERS).map(
        lambda t: f"{t[0]},{t[1]},{t[2]},{t[3]}")


PARCEL_HEAD = st.tuples(NUMBERS, NUMBERS, st.text(max_size=4), st.text(max_size=6),
                        st.sampled_from(["面", "线", "点", "", "x"])).map(
    lambda t: f"{t[0]},{t[1]},{t[2]},{t[3]},{t[4]},,,,@")
PLAUSIBLE_PT = st.tuples(st.integers(1, 2), st.floats(2_939_000, 2_941_000),
                         st.floats(36_370_000, 36_372_000)).map(
    lambda t: f"J,{t[0]},{t[1]:.3f},{t[2]:.3f}")
TXT_LINES = st.lists(st.one_of(
    st.sampled_from(["[属性描述]", "[地块坐标]", "[其他]", "", "@"]),
    st.tuples(HEADER_KEYS, HEADER_VALUES).map(lambda kv: f"{kv[0]}={kv[1]}"),
    PARCEL_HEAD, _coord_line(0), PLAUSIBLE_PT, PLAUSIBLE_PT, PLAUSIBLE_PT,
    st.text(max_size=20)), max_size=30)


@FUZZ
@given(TXT_LINES)
def test_txt_parser_never_raises_anything_else(lines):
    from zoning.io.parcel_txt import parse_txt

    text = "\n".join(lines)
    try:
        doc = parse_txt(text, source="fuzz.txt")
    except ZoningError:
        return
    for p in doc.parcels:
        assert (p.geometry is None) == bool(p.error)


@FUZZ
@given(st.binary(max_size=300))
def test_txt_parser_on_raw_bytes(data):
    from zoning.io.parcel_txt import parse_txt

    try:
        parse_txt(data)
    except ZoningError:
        pass


# --------------------------------------------------------------------------- geometry

COORD = st.one_of(st.floats(allow_nan=True, allow_infinity=True, width=64),
                  st.floats(100, 120), st.floats(20, 45), st.floats(1e5, 4e7),
                  st.sampled_from([106.6, 26.5, 0.0, -0.0, 1e308, 36_371_000.0, 2_940_000.0]))
PT = st.tuples(COORD, COORD)
PLAUSIBLE = st.tuples(st.floats(106.5, 106.7), st.floats(26.4, 26.6))


def _ring(pts):
    return "(" + ", ".join(f"{x!r} {y!r}" for x, y in pts + pts[:1]) + ")"


WKT = st.one_of(
    st.lists(st.one_of(PT, PLAUSIBLE), min_size=1, max_size=6).map(
        lambda p: f"POLYGON ({_ring(p)})"),
    st.lists(st.one_of(PT, PLAUSIBLE), min_size=1, max_size=5).map(
        lambda p: "LINESTRING (" + ", ".join(f"{x!r} {y!r}" for x, y in p) + ")"),
    st.one_of(PT, PLAUSIBLE).map(lambda p: f"POINT ({p[0]!r} {p[1]!r})"),
    st.lists(st.one_of(st.just("EMPTY"), st.lists(PLAUSIBLE, min_size=3, max_size=5).map(
        lambda p: f"({_ring(p)})")), min_size=1, max_size=3).map(
        lambda parts: "MULTIPOLYGON (" + ", ".join(parts) + ")"),
    st.sampled_from(["POINT EMPTY", "GEOMETRYCOLLECTION EMPTY", "POINT Z (106.6 26.5 1)",
                     "GEOMETRYCOLLECTION (POINT (106.6 26.5), LINESTRING (106.6 26.5, 106.7 "
                     "26.6))", "MULTIPOINT ((106.6 26.5), EMPTY)"]))
CRS_CHOICE = st.sampled_from([None, "EPSG:4490", "EPSG:4326", "EPSG:4524", "EPSG:3857",
                              "EPSG:4545", "garbage", 'LOCAL_CS["x",UNIT["metre",1]]'])


@FUZZ
@given(WKT, CRS_CHOICE, st.sampled_from([None, "gcj02", "bd09", "wgs84", "xx"]))
def test_normalise_never_raises_anything_else(wkt, crs, cs):
    from zoning.footprints import normalise

    try:
        g = shapely.from_wkt(wkt)
    except shapely.errors.GEOSException:
        return  # not a geometry at all: the list readers report such WKT (tested below)
    try:
        geom, kind, _ = normalise(g, crs, cs)
    except ZoningError:
        return
    assert not geom.is_empty and geom.is_valid and kind in ("point", "line", "polygon")
    if kind == "polygon":
        assert geom.area > 0


def _per_row(g):
    """What the per-footprint checks make of ``g``: (geometry, warnings, kind) or None."""
    from zoning.footprints import check_measure, geometry_kind, validate_geometry

    try:
        geom, warnings = validate_geometry(g)
        kind = geometry_kind(geom)
        if not shapely.is_valid(geom):
            return None
        check_measure(geom, kind)
    except ZoningError:
        return None
    return geom, warnings, kind


def _plain_agrees(geoms):
    from zoning.footprints import PLAIN_KINDS, plain_footprints

    for g, plain in zip(geoms, plain_footprints(geoms)):
        if plain:  # the batch skips the per-row checks only where they change nothing
            got = _per_row(g)
            assert got is not None and got[0] is g and got[1] == [], g
            assert got[2] == PLAIN_KINDS[shapely.get_type_id(g)]


def test_batch_precheck_passes_only_what_the_row_checks_pass_unchanged():
    from zoning.footprints import plain_footprints

    wkts = ["POLYGON ((106.6 26.5, 106.61 26.5, 106.61 26.51, 106.6 26.5))",
            "POINT (106.6 26.5)",
            "POLYGON ((0 0, 1 0, 0 0, 1 0, 0 0))",  # two distinct points, alternating
            "POLYGON ((0 0, 1 1, 1 0, 0 1, 0 0))",  # bow-tie
            "POLYGON ((106.6 26.5, 106.6000000001 26.5, 106.6 26.5000000001, 106.6 26.5))",
            "POLYGON ((0 0, 60 0, 60 60, 0 60, 0 0))",  # over the area limit
            "POLYGON Z ((106.6 26.5 1, 106.61 26.5 1, 106.61 26.51 1, 106.6 26.5 1))",
            "POLYGON ((106.6 26.5, 106.7 26.5, 106.7 26.6, 106.6 26.6, 106.6 26.5), "
            "(106.61 26.51, 106.62 26.51, 106.61 26.51, 106.61 26.51))",  # flat hole
            "POINT EMPTY", "POLYGON EMPTY", "POINT (nan 26.5)", "POINT Z (106.6 26.5 1)",
            "MULTIPOLYGON (((106.6 26.5, 106.61 26.5, 106.61 26.51, 106.6 26.5)), EMPTY)",
            "LINESTRING (106.6 26.5, 106.6 26.5)",  # one distinct point
            "MULTILINESTRING ((106.6 26.5, 106.7 26.6), (106.8 26.5, 106.8 26.5))",
            "GEOMETRYCOLLECTION (POINT (106.6 26.5))",
            "MULTIPOLYGON (((106.6 26.5, 106.61 26.5, 106.61 26.51, 106.6 26.5)))",
            "LINESTRING (106.6 26.5, 106.7 26.6)",
            "MULTIPOINT ((106.6 26.5), (106.7 26.6))"]
    geoms = [shapely.from_wkt(w) for w in wkts] + [None, "POINT (1 2)"]
    n_plain = 3  # the last three WKTs
    assert plain_footprints(geoms).tolist() == (
        [True, True] + [False] * (len(wkts) - 2 - n_plain) + [True] * n_plain + [False, False])
    _plain_agrees(geoms)


@FUZZ
@given(st.lists(WKT, min_size=1, max_size=8))
def test_batch_precheck_agrees_with_the_row_checks(wkts):
    geoms = []
    for w in wkts:
        try:
            geoms.append(shapely.from_wkt(w))
        except shapely.errors.GEOSException:
            geoms.append(None)
    _plain_agrees(geoms)


# --------------------------------------------------------------------------- project lists

HEADERS = st.sampled_from(["id", "name", "wkt", "经度", "纬度", "文件", "crs", "行业代码",
                           "是否占地", "年综合能耗", "坐标类型", "x", "id"])
CELL = st.one_of(st.text(max_size=12), NUMBERS, WKT,
                 st.sampled_from(["EPSG:4490", "4524", "gcj02", "是", "否", "C2614", "-5",
                                  "=1+1", "../x.geojson", "/dev/zero", "a.zip", "nul\x00"]))


@FUZZ
@given(st.lists(HEADERS, min_size=1, max_size=5),
       st.lists(st.lists(CELL, min_size=0, max_size=6), max_size=5))
def test_project_list_gives_one_row_per_line_or_an_error(headers, rows):
    import csv

    from zoning.io.projects import read_projects

    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "list.csv"
        with open(p, "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(headers)
            for r in rows:
                w.writerow((r + [""] * len(headers))[:len(headers)])
        try:
            t = read_projects(p)
        except ZoningError:
            return
        assert len(t) == len(rows)
        assert set(t.status) <= {"ok", "error"}


# --------------------------------------------------------------------------- catalogs

SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.text(max_size=6),
                    st.sampled_from(["eco_redline", "farmland", "districts", "mini.gpkg",
                                     "EPSG:4524", "TBBH", "name = 'a'", "WITH RECURSIVE"]))
VALUES = st.recursive(SCALARS, lambda c: st.one_of(st.lists(c, max_size=3),
                                                    st.dictionaries(st.text(max_size=5), c,
                                                                    max_size=3)),
                      max_leaves=8)
LAYER = st.fixed_dictionaries({}, optional={
    "kind": st.one_of(st.sampled_from(["eco_redline", "farmland", "protected_area",
                                       "landcover"]), VALUES),
    "path": st.one_of(st.just("mini.gpkg"), VALUES), "id_field": st.one_of(st.just("x"), VALUES),
    "fields": VALUES, "values": VALUES, "where": VALUES, "crs": VALUES, "classes": VALUES,
    "postgis": st.one_of(VALUES, st.fixed_dictionaries({"dsn": st.just("x"),
                                                        "table": st.text(max_size=12)})),
    "layer": VALUES})


@FUZZ
@given(st.fixed_dictionaries({}, optional={
    "catalog_version": st.one_of(st.just(1), VALUES),
    "region": st.one_of(st.fixed_dictionaries({"id": VALUES}), VALUES),
    "layers": st.one_of(st.dictionaries(st.text(min_size=1, max_size=6), LAYER, max_size=3),
                        VALUES),
    "rules": VALUES}))
def test_catalog_loads_or_is_a_catalog_error(doc):
    from zoning.catalog import load_catalog

    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "c.yaml"
        p.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
        try:
            cat = load_catalog(p)
        except ZoningError:
            return
        assert cat.layers


@pytest.mark.parametrize("text", ["a: [", "- x\n- y", "", "region: {id: x}\nlayers: {}\n",
                                  "!!python/object:os.system ['x']", "\t"])
def test_catalog_odd_yaml(tmp_path, text):
    from zoning.catalog import load_catalog

    p = tmp_path / "c.yaml"
    p.write_text(text, encoding="utf-8")
    with pytest.raises(ZoningError):
        load_catalog(p)
