"""The demo-layer generator: determinism, tiling, ids, metadata."""

import re

import numpy as np
import pyogrio
import pytest
import rasterio
import shapely

from zoning.demo import synth

from .conftest import small_spec

UNIT_CODE = re.compile(r"^ZH(\d{6})([123])(\d{4})$")


def _digests(out):
    return {k: synth.frame_digest(v) for k, v in out.layers.items()}


def test_deterministic(small_yunyang, districts):
    spec, first = small_yunyang
    again = synth.generate(spec, districts[districts.region == "yunyang"], res_arcsec=4)
    assert _digests(first) == _digests(again)
    assert np.array_equal(first.landcover, again.landcover)
    assert first.transform == again.transform


def test_seed_changes_output(small_yunyang, specs, districts):
    spec, first = small_yunyang
    other = small_spec(specs["yunyang"])
    other.seed = spec.seed + 1
    out = synth.generate(other, districts[districts.region == "yunyang"], res_arcsec=4)
    assert _digests(out)["YJJBNTBHTB"] != _digests(first)["YJJBNTBHTB"]
    assert not np.array_equal(out.landcover, first.landcover)


@pytest.mark.parametrize("fixture", ["small_yunyang", "small_pingliang"])
def test_control_units_tile_each_county(fixture, request, districts):
    spec, out = request.getfixturevalue(fixture)
    units = out.layers["HJGKDY"].to_crs(out.work_crs)
    counties = districts[districts.region == spec.slug].to_crs(out.work_crs)
    assert set(units.XZQDM) == set(counties.code)
    for code, county in zip(counties.code, counties.geometry):
        u = units[units.XZQDM == code].geometry.values
        total = shapely.area(u).sum()
        # no gaps: the units' union is the county; no overlaps: areas add up
        union = shapely.union_all(u)
        gap = shapely.area(shapely.difference(county, union))
        spill = shapely.area(shapely.difference(union, county))
        assert gap < 1e-6 * county.area + 1.0, (code, gap)
        assert spill < 1e-6 * county.area + 1.0, (code, spill)
        assert abs(total - county.area) < 1e-6 * county.area + 1.0, (code, total, county.area)
        tree = shapely.STRtree(u)
        a, b = tree.query(u, predicate="intersects")
        pair = a < b
        overlap = shapely.area(shapely.intersection(u[a[pair]], u[b[pair]])).sum()
        assert overlap < 1.0, (code, overlap)


@pytest.mark.parametrize("fixture", ["small_yunyang", "small_pingliang"])
def test_unit_codes(fixture, request):
    spec, out = request.getfixturevalue(fixture)
    units = out.layers["HJGKDY"]
    assert units.HJZHGKDYBM.is_unique
    classes = set()
    for code, county, cls in zip(units.HJZHGKDYBM, units.XZQDM, units.ZHGKDYFL):
        m = UNIT_CODE.match(code)
        assert m, code
        assert m.group(1) == county and m.group(2) == cls
        classes.add(cls)
    assert classes == {"1", "2", "3"}


def test_farmland_patches(small_pingliang):
    spec, out = small_pingliang
    f = out.layers["YJJBNTBHTB"]
    assert len(f) == 600
    assert f.YJJBNTTBBH.is_unique
    assert all(re.fullmatch(r"\d{14}", i) and i.startswith(c)
               for i, c in zip(f.YJJBNTTBBH, f.XZQDM))
    g = f.geometry.values
    assert shapely.is_valid(g).all()
    tree = shapely.STRtree(g)
    a, b = tree.query(g, predicate="intersects")
    assert (a == b).all(), "farmland patches must not touch each other"
    # three lines do not overlap: farmland avoids red line and urban boundary
    red = shapely.union_all(out.layers["STBHHX"].to_crs(f.crs).geometry.values)
    udb = shapely.union_all(out.layers["CZKFBJ"].to_crs(f.crs).geometry.values)
    assert not shapely.intersects(g, red).any()
    assert not shapely.intersects(g, udb).any()
    area_ha = f.YJJBNTTBMJ / 1e4
    assert 0.05 < area_ha.median() < 5


def test_redline_is_large_and_complex(small_pingliang):
    _, out = small_pingliang
    red = out.layers["STBHHX"].to_crs(out.work_crs)
    nverts = shapely.get_num_coordinates(red.geometry.values)
    assert nverts.max() > 1000
    assert red.geometry.area.max() > 50e6  # > 50 km²
    assert set(red.ZRBHDFQ) >= {"", "核心保护区"}


def test_protected_area_core_inside_redline(small_yunyang):
    _, out = small_yunyang
    pa = out.layers["ZRBHD"].to_crs(out.work_crs)
    red = shapely.union_all(out.layers["STBHHX"].to_crs(out.work_crs).geometry.values)
    core = pa[pa.GNFQ == "核心保护区"]
    assert len(core) >= 1
    for g in core.geometry:
        assert shapely.area(shapely.difference(g, red)) < 1e-4 * g.area + 10
    # overlapping designations exist, as in reality
    g = pa.geometry.values
    a, b = shapely.STRtree(g).query(g, predicate="overlaps")
    assert (a != b).any()


def test_landcover_shares(small_yunyang):
    spec, out = small_yunyang
    lc = out.landcover
    land = lc > 0
    forest = (lc == 20).sum() / land.sum()
    assert abs(forest - spec.synth["forest"]) < 0.02
    assert set(np.unique(lc[land])) >= {10, 20, 30, 60, 80}


def test_shoreline_yangtze_through_yunyang(small_yunyang):
    _, out = small_yunyang
    sh = out.layers["HLAX"]
    main = sh[(sh.HLMC == "长江") & (sh.HLDJ == "干流")]
    assert set(main.AB) == {"左岸", "右岸"}
    assert main.to_crs(out.work_crs).length.sum() > 40_000


def test_written_files_say_synthetic(small_yunyang, tmp_path):
    spec, out = small_yunyang
    paths = synth.write_region(spec, out, tmp_path)
    info_ds = pyogrio.read_info(paths["layers"], layer="STBHHX")
    assert info_ds["dataset_metadata"]["SYNTHETIC"] == "yes"
    for name in out.layers:
        meta = pyogrio.read_info(paths["layers"], layer=name)["layer_metadata"]
        assert meta["SYNTHETIC"] == "yes" and "合成演示数据" in meta["DESCRIPTION"]
    with rasterio.open(paths["landcover"]) as src:
        assert src.tags()["SYNTHETIC"] == "yes"
        assert src.crs.to_epsg() == 4490
        assert src.overviews(1), "a COG carries overviews"
        assert src.profile["tiled"]
    # no temporary files left behind by the atomic writes
    assert sorted(p.name for p in tmp_path.iterdir()) == ["landcover.tif", "layers.gpkg"]


def test_extra_layers_deterministic_and_tiling(small_yunyang, districts):
    """Constraint and 三调 layers: same output every run, 三调 parcels tile the county."""
    from zoning.demo import synth_extra
    from zoning.rules.landuse import LEVEL2

    spec, base = small_yunyang
    d = districts[districts.region == "yunyang"]
    a = synth_extra.generate_extra(spec, d, base, cell_km2=20)
    b = synth_extra.generate_extra(spec, d, base, cell_km2=20)
    assert {k: synth.frame_digest(v) for k, v in a.items()} == \
        {k: synth.frame_digest(v) for k, v in b.items()}
    dltb = a["DLTB"]
    region = shapely.union_all(d.to_crs(dltb.crs).geometry.values)
    assert dltb.area.sum() == pytest.approx(region.area, rel=1e-9)
    assert shapely.union_all(dltb.geometry.values).symmetric_difference(region).area < 1.0
    assert set(dltb.DLBM) <= set(LEVEL2) and dltb.BSM.is_unique
    assert set(a["SYBHQ"].BHQJB) >= {"一级保护区", "二级保护区"} and a["SYBHQ"].BHQBM.is_unique
    assert len(a["SD"]) and len(a["YFKC"])
