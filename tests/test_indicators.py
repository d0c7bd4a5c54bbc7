"""Indicators: exact fractional coverage, equal-area weighting, dissolve, targets."""

import math

import geopandas as gpd
import numpy as np
import pytest
import shapely
from affine import Affine
from click.testing import CliRunner

from zoning.indicators import compare_targets, landcover_shares, protected_share
from zoning.targets import Target

X0, Y0 = 36_500_000.0, 3_320_000.0  # GK zone 36 (EPSG:4524), 10 m pixels


def _raster():
    a = np.full((100, 100), 10, dtype=np.uint8)  # cropland
    a[20:60, 30:70] = 20  # a 400 m x 400 m forest square
    t = Affine(10, 0, X0, 0, -10, Y0 + 1000)
    return a, t


def test_known_square_with_partial_edge_pixels():
    a, t = _raster()
    # polygon edges cut through pixels on every side
    poly = shapely.box(X0 + 255.0, Y0 + 1000 - 655.5, X0 + 645.5, Y0 + 1000 - 197.3)
    forest = shapely.box(X0 + 300, Y0 + 1000 - 600, X0 + 700, Y0 + 1000 - 200)
    expect = shapely.intersection(poly, forest).area / poly.area
    gdf = gpd.GeoDataFrame({"code": ["d1"]}, geometry=[poly], crs="EPSG:4524")
    r = landcover_shares(a, gdf, "code", {"forest": [20], "crop": [10]}, transform=t,
                         crs="EPSG:4524")
    assert r.forest_share.iloc[0] == pytest.approx(expect, abs=1e-9)
    assert r.crop_share.iloc[0] == pytest.approx(1 - expect, abs=1e-9)
    assert r.area_m2.iloc[0] == pytest.approx(poly.area, rel=1e-9)
    assert r.forest_m2.iloc[0] == pytest.approx(expect * poly.area, rel=1e-9)


def test_pixel_area_varies_with_latitude():
    # ten 1° rows from 26°N to 36°N; forest in the northern five
    a = np.full((10, 1), 10, dtype=np.uint8)
    a[:5, 0] = 20
    t = Affine(1, 0, 106, 0, -1, 36)
    gdf = gpd.GeoDataFrame({"code": ["band"]}, geometry=[shapely.box(106, 26, 107, 36)],
                           crs="EPSG:4490")
    r = landcover_shares(a, gdf, "code", {"forest": [20]}, transform=t, crs="EPSG:4490")
    s = math.sin
    expect = (s(math.radians(36)) - s(math.radians(31))) / (s(math.radians(36)) -
                                                           s(math.radians(26)))
    assert r.forest_share.iloc[0] == pytest.approx(expect, rel=1e-3)
    assert expect < 0.49  # below the naive pixel count of 0.5
    naive = landcover_shares(a, gdf, "code", {"forest": [20]}, transform=t, crs="EPSG:4490",
                             area_weighted=False)
    assert naive.forest_share.iloc[0] == pytest.approx(0.5)


def test_indicator_areas_are_grs80_areas():
    """m² of a lon/lat raster are ellipsoidal (GRS80) areas, not a sphere's (0.2–0.4 % high)."""
    from pyproj import Geod

    a = np.full((36, 36), 20, dtype=np.uint8)  # 0.01° cells, forest
    a[18:, :] = 10
    t = Affine(0.01, 0, 106.0, 0, -0.01, 26.36)
    poly = shapely.box(106.013, 26.007, 106.347, 26.351)  # cuts through edge cells
    gdf = gpd.GeoDataFrame({"code": ["d"]}, geometry=[poly], crs="EPSG:4490")
    r = landcover_shares(a, gdf, "code", {"forest": [20]}, transform=t, crs="EPSG:4490")
    geod = Geod(ellps="GRS80")
    true = abs(geod.geometry_area_perimeter(shapely.segmentize(poly, 1e-4))[0])
    forest = shapely.intersection(poly, shapely.box(106.0, 26.18, 106.36, 26.36))
    true_forest = abs(geod.geometry_area_perimeter(shapely.segmentize(forest, 1e-4))[0])
    assert r.area_m2.iloc[0] == pytest.approx(true, rel=2e-5)
    assert r.forest_m2.iloc[0] == pytest.approx(true_forest, rel=2e-5)
    sphere = math.radians(poly.bounds[2] - poly.bounds[0]) * 6378137.0 ** 2 * (
        math.sin(math.radians(poly.bounds[3])) - math.sin(math.radians(poly.bounds[1])))
    assert sphere / true - 1 > 0.003  # the old spherical weighting was this far off


def test_lonlat_nodata_cells_are_not_land_area():
    """A lon/lat raster: cells without data count in neither the shares nor ``area_m2``
    (the GRS80 area of the cells with data), as with a projected raster."""
    from pyproj import Geod

    a = np.full((36, 36), 20, dtype=np.uint8)
    a[:, 18:] = 0  # the east half has no data
    a[18:, :18] = 10
    t = Affine(0.01, 0, 106.0, 0, -0.01, 26.36)
    gdf = gpd.GeoDataFrame({"code": ["d"]}, geometry=[shapely.box(106.0, 26.0, 106.36, 26.36)],
                           crs="EPSG:4490")
    r = landcover_shares(a, gdf, "code", {"forest": [20]}, transform=t, crs="EPSG:4490",
                         nodata=0)
    geod = Geod(ellps="GRS80")
    land = abs(geod.geometry_area_perimeter(shapely.segmentize(
        shapely.box(106.0, 26.0, 106.18, 26.36), 1e-4))[0])
    forest = abs(geod.geometry_area_perimeter(shapely.segmentize(
        shapely.box(106.0, 26.18, 106.18, 26.36), 1e-4))[0])
    assert r.area_m2.iloc[0] == pytest.approx(land, rel=2e-5)
    assert r.forest_m2.iloc[0] == pytest.approx(forest, rel=2e-5)
    assert r.forest_share.iloc[0] == pytest.approx(forest / land, rel=2e-5)


def test_lonlat_land_all_of_code_zero_still_has_its_area():
    """Codes are summed to find the area with data; land whose only code is 0 (nodata
    being another value) is measured all the same."""
    from pyproj import Geod

    a = np.zeros((20, 20), dtype=np.uint8)
    t = Affine(0.01, 0, 106.0, 0, -0.01, 26.2)
    poly = shapely.box(106.0, 26.0, 106.2, 26.2)
    gdf = gpd.GeoDataFrame({"code": ["d"]}, geometry=[poly], crs="EPSG:4490")
    r = landcover_shares(a, gdf, "code", {"forest": [20]}, transform=t, crs="EPSG:4490",
                         nodata=255)
    true = abs(Geod(ellps="GRS80").geometry_area_perimeter(shapely.segmentize(poly, 1e-4))[0])
    assert r.area_m2.iloc[0] == pytest.approx(true, rel=2e-5)
    assert r.forest_share.iloc[0] == 0 and r.forest_m2.iloc[0] == 0
    # half of it without data: only the half with data is land
    a[:, 10:] = 255
    r = landcover_shares(a, gdf, "code", {"forest": [20]}, transform=t, crs="EPSG:4490",
                         nodata=255)
    half = abs(Geod(ellps="GRS80").geometry_area_perimeter(shapely.segmentize(
        shapely.box(106.0, 26.0, 106.1, 26.2), 1e-4))[0])
    assert r.area_m2.iloc[0] == pytest.approx(half, rel=2e-5)


def test_nodata_outside_region_is_not_land():
    a, t = _raster()
    a[:, :50] = 0
    poly = shapely.box(X0, Y0, X0 + 1000, Y0 + 1000)
    gdf = gpd.GeoDataFrame({"code": ["d"]}, geometry=[poly], crs="EPSG:4524")
    r = landcover_shares(a, gdf, "code", {"forest": [20]}, transform=t, crs="EPSG:4524",
                         nodata=0)
    # the land half has forest rows 20:60, columns 50:70 → 40 x 20 pixels of 100 x 50
    assert r.forest_share.iloc[0] == pytest.approx(800 / 5000)
    assert r.area_m2.iloc[0] == pytest.approx(500_000)


def test_protected_share_dissolves_overlaps():
    district = shapely.box(X0, Y0, X0 + 1000, Y0 + 1000)
    pa = gpd.GeoDataFrame({"n": ["reserve", "forest park"]},
                          geometry=[shapely.box(X0, Y0, X0 + 400, Y0 + 500),
                                    shapely.box(X0 + 200, Y0, X0 + 600, Y0 + 500)],
                          crs="EPSG:4524")
    d = gpd.GeoDataFrame({"code": ["d"]}, geometry=[district], crs="EPSG:4524")
    r = protected_share(pa, d, "code", area_method="gk")
    assert r.protected_share.iloc[0] == pytest.approx(0.30)  # not 0.40
    e = protected_share(pa, d, "code")
    assert e.protected_share.iloc[0] == pytest.approx(0.30, rel=1e-5)


def _t(**kw):
    base = dict(region="r", scope="某市", indicator="forest_cover", indicator_zh="森林覆盖率",
                value=55, unit="%", comparison="gte", year=2025, source="x.txt",
                source_title="某方案", quote="森林覆盖率稳定在55%以上", note="")
    base.update(kw)
    return Target(**base)


def test_compare_targets():
    ts = [_t(), _t(indicator="protected_area_share", value=6.07),
          _t(scope="某新区", value=30), _t(indicator="soil_conservation", value=78.55),
          _t(region="other")]
    out = compare_targets({"forest_cover": 55.93, "protected_area_share": 1.37}, ts, "r", "某市")
    by = {(c.indicator, c.scope): c for c in out}
    assert len(out) == 4
    f = by[("forest_cover", "某市")]
    assert f.status == "met" and f.gap == pytest.approx(0.93) and f.quote
    p = by[("protected_area_share", "某市")]
    assert p.status == "not_met" and p.gap == pytest.approx(-4.70)
    assert by[("forest_cover", "某新区")].status == "not_computed"
    assert by[("soil_conservation", "某市")].status == "not_computed"


def test_bundled_indicators_and_cli(tmp_path):
    import json

    from zoning.cli import main

    out = tmp_path / "ind.html"
    r = CliRunner().invoke(main, ["indicators", "--region", "pingliang", "--json", "--map",
                                  str(out)])
    assert r.exit_code == 0, r.output
    [d] = json.loads(r.stdout)
    assert d["schema"] == "zoning.indicators/1" and len(d["districts"]) == 7
    assert 45 < d["values"]["forest_grass_cover"] < 50
    comps = {(c["indicator"], c["year"]): c for c in d["comparisons"]}
    assert comps[("forest_grass_cover", 2025)]["target"] == 47
    assert comps[("protected_area_share", 2025)]["target"] == 6.07
    assert out.exists() and out.stat().st_size < 2_000_000
