"""Property tests of the check against a brute-force shapely oracle."""

import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zoning.catalog import Catalog, LayerSpec
from zoning.engine.index import RegionIndex
from zoning.engine.overlay import NOISE_M, check_chunk
from zoning.io.layers import normalise_layer
from zoning.options import CheckOptions
from zoning.project import Project
from zoning.rules.three_lines import load_rules

from .minicat import CRS, LAYERS, OX, OY, SPECS, B

RULES = load_rules()
GK = CheckOptions(area_method="gk")


def _catalog():
    layers = {n: LayerSpec(name=n, kind=s["kind"], path=None, crs=CRS, id_field=s["id_field"],
                           fields={k: [v] for k, v in s.get("fields", {}).items()},
                           values=s.get("values", {}))
              for n, s in SPECS.items()}
    return Catalog(path=None, region={"id": "prop", "name": "性质测试"}, layers=layers)


CAT = _catalog()


def _index(farmland: gpd.GeoDataFrame, redline=None, vertices=256):
    frames = {n: normalise_layer(LAYERS[n], CAT.layers[n]) for n in SPECS}
    frames["farmland"] = normalise_layer(farmland, CAT.layers["farmland"])
    if redline is not None:
        frames["redline"] = normalise_layer(redline, CAT.layers["redline"])
    return RegionIndex.build(CAT, frames, RULES, CheckOptions(subdivide_vertices=vertices))


def _to_geo(g):
    # edges straight in GK stay so: cut them before the move to lon/lat (as normalise does)
    return gpd.GeoSeries([shapely.segmentize(g, 1.0)], crs=CRS).to_crs("EPSG:4490").iloc[0]


def _check(index, fp_gk, opts=GK):
    p = Project(row=1, project_id="p", name="", geometry=_to_geo(fp_gk), kind="polygon",
                 attrs={}, warnings=[])
    [r], _ = check_chunk(index, [p], opts)
    return r


cells = st.sets(st.tuples(st.integers(0, 7), st.integers(0, 7)), min_size=1, max_size=30)


@st.composite
def rect(draw):
    x0 = draw(st.floats(-100, 900))
    y0 = draw(st.floats(-100, 900))
    w = draw(st.floats(1, 600))
    h = draw(st.floats(1, 600))
    return B(-2000 + x0, 4000 + y0, -2000 + x0 + w, 4000 + y0 + h)


def _farmland(cellset, size=100.0, shrink=0.0):
    geoms = [B(-2000 + i * size + shrink, 4000 + j * size + shrink,
               -2000 + (i + 1) * size - shrink, 4000 + (j + 1) * size - shrink)
             for i, j in sorted(cellset)]
    ids = [f"T{i}-{j}" for i, j in sorted(cellset)]
    return gpd.GeoDataFrame({"TBBH": ids}, geometry=geoms, crs=CRS)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cells, rect(), st.floats(0, 30))
def test_area_is_sum_over_features(cellset, fp, shrink):
    farm = _farmland(cellset, shrink=shrink)
    r = _check(_index(farm), fp)
    f = r.layer("farmland")
    oracle = {i: shapely.intersection(fp, g).area for i, g in zip(farm.TBBH, farm.geometry)}
    # hits: more than the tolerance and not a sliver within the 1 mm noise (2·area/perimeter)
    perim = {i: shapely.intersection(fp, g).length for i, g in zip(farm.TBBH, farm.geometry)}
    expect_ids = {i for i, a in oracle.items() if a > GK.tolerance_m2 and
                  2 * a >= NOISE_M * perim[i]}
    assert {h.feature_id for h in f.hits} == expect_ids
    total = sum(oracle[i] for i in expect_ids)
    assert f.overlap_m2 == pytest.approx(total, rel=1e-6, abs=1e-4)
    assert f.overlap_m2 == pytest.approx(sum(h.overlap_m2 for h in f.hits), rel=1e-12)
    for h in f.hits:
        assert h.overlap_m2 == pytest.approx(oracle[h.feature_id], rel=1e-6, abs=1e-4)
    assert f.share == pytest.approx(min(total / fp.area, 1.0), rel=1e-6, abs=1e-9)


@settings(max_examples=20, deadline=None)
@given(cells, st.data())
def test_footprint_inside_a_feature_has_share_one(cellset, data):
    farm = _farmland(cellset)
    k = data.draw(st.integers(0, len(farm) - 1))
    x0, y0, x1, y1 = farm.geometry.iloc[k].bounds
    fx = data.draw(st.floats(0.05, 0.45))
    fy = data.draw(st.floats(0.05, 0.45))
    fp = shapely.box(x0 + fx * 100, y0 + fy * 100, x1 - fx * 100, y1 - fy * 100)
    f = _check(_index(farm), fp).layer("farmland")
    assert f.share == pytest.approx(1.0, rel=1e-9)
    assert f.relation == "within"
    assert [h.feature_id for h in f.hits] == [farm.TBBH.iloc[k]]


@settings(max_examples=12, deadline=None)
@given(st.integers(0, 2**31 - 1), rect())
def test_subdivided_complex_polygon_matches_oracle(seed, fp):
    rng = np.random.default_rng(seed)
    n = 600
    th = np.sort(rng.uniform(0, 2 * np.pi, n))
    rad = 400 + 250 * rng.random(n)
    cx, cy = OX - 1500, OY + 4500
    star = shapely.Polygon(np.column_stack([cx + rad * np.cos(th), cy + rad * np.sin(th)]))
    star = shapely.make_valid(star)
    red = gpd.GeoDataFrame({"HXBM": ["S"], "ZRBHDFQ": [""]}, geometry=[star], crs=CRS)
    farm = _farmland({(7, 7)})
    fine = _check(_index(farm, red, vertices=16), fp).layer("eco_redline")
    whole = _check(_index(farm, red, vertices=0), fp).layer("eco_redline")
    oracle = shapely.intersection(fp, star).area
    assert fine.overlap_m2 == pytest.approx(oracle, rel=1e-6, abs=1e-4)
    assert whole.overlap_m2 == pytest.approx(oracle, rel=1e-6, abs=1e-4)
    assert fine.state == whole.state
