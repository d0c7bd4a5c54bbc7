"""Area methods: a fixed Gauss–Krüger central meridian reproduces official 投影面积."""

from __future__ import annotations

import json

import numpy as np
import pytest
import shapely
from click.testing import CliRunner
from pyproj import Transformer
from shapely.geometry import Polygon

from zoning.cli import main
from zoning.engine.geometry import measure
from zoning.errors import OptionError
from zoning.options import CheckOptions, zone_meridian
from zoning.screen import check

from .minicat import CRS, B, write_catalog


@pytest.fixture(scope="module")
def cat(tmp_path_factory):
    return write_catalog(tmp_path_factory.mktemp("areas"))


# a 1 km² square north-east of Kaihua (浙江开化, about 118.4°E), in lon/lat
SITE = Polygon([(118.40, 29.13), (118.41, 29.13), (118.41, 29.139), (118.40, 29.139)])


def _independent_gk_area(geom, epsg: int) -> float:
    """Planar area in a CGCS2000 GK CRS from EPSG, computed without zoning."""
    t = Transformer.from_crs("EPSG:4490", f"EPSG:{epsg}", always_xy=True)
    xy = np.asarray(geom.exterior.coords)
    x, y = t.transform(xy[:, 0], xy[:, 1])
    return 0.5 * abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))


@pytest.mark.parametrize("cm, epsg", [(120.0, 4549), (117.0, 4548), (118.5, None)])
def test_fixed_meridian_matches_pyproj(cm, epsg):
    area, _ = measure([SITE], "EPSG:4490", "gk-fixed", central_meridian=cm)
    if epsg is None:  # no EPSG code for 118.5°E: a hand-written transverse Mercator
        t = Transformer.from_crs("EPSG:4490", "+proj=tmerc +lon_0=118.5 +k=1 +x_0=500000 "
                                 "+ellps=GRS80", always_xy=True)
        xy = np.asarray(SITE.exterior.coords)
        ref = Polygon(np.column_stack(t.transform(xy[:, 0], xy[:, 1]))).area
    else:
        ref = _independent_gk_area(SITE, epsg)
    assert area[0] == pytest.approx(ref, rel=1e-9)


def test_fixed_meridian_differs_from_ellipsoidal_as_expected():
    # 1.6° east of CM 120 the GK scale factor is k ≈ 1 + (Δλ cos φ)²/2: areas grow by k²
    e, _ = measure([SITE], "EPSG:4490", "ellipsoidal")
    g, _ = measure([SITE], "EPSG:4490", "gk-fixed", central_meridian=120.0)
    dlam = np.radians(120.0 - 118.405)
    k = 1 + (dlam * np.cos(np.radians(29.1345))) ** 2 / 2
    assert g[0] / e[0] == pytest.approx(k ** 2, rel=2e-5)
    assert g[0] > e[0] * 1.0005


def test_fixed_meridian_of_projected_input_and_lines():
    # a footprint given in another GK CRS is reprojected; a line gets a planar length
    t = Transformer.from_crs("EPSG:4490", "EPSG:4548", always_xy=True)
    xy = np.asarray(SITE.exterior.coords)
    proj = Polygon(np.column_stack(t.transform(xy[:, 0], xy[:, 1])))
    line = shapely.LineString(proj.exterior.coords[:2])
    a, ln = measure([proj, line], "EPSG:4548", "gk-fixed", central_meridian=120.0)
    assert a[0] == pytest.approx(_independent_gk_area(SITE, 4549), rel=1e-8)
    assert a[1] == 0 and ln[0] == 0
    t2 = Transformer.from_crs("EPSG:4490", "EPSG:4549", always_xy=True)
    (x0, x1), (y0, y1) = t2.transform([118.40, 118.41], [29.13, 29.13])
    assert ln[1] == pytest.approx(np.hypot(x1 - x0, y1 - y0), rel=1e-8)


def test_zone_meridians_and_option_errors():
    assert zone_meridian(40) == 120.0 and zone_meridian(39, 3) == 117.0
    assert zone_meridian(20, 6) == 117.0
    with pytest.raises(OptionError):
        zone_meridian(20, 3)
    with pytest.raises(OptionError, match="central_meridian"):
        CheckOptions(area_method="gk-fixed")
    with pytest.raises(OptionError):
        CheckOptions(area_method="gk-fixed", central_meridian=10)
    with pytest.raises(OptionError):
        CheckOptions(central_meridian=120)
    assert "120°E" in CheckOptions(area_method="gk-fixed", central_meridian=120).area_label


def test_check_reports_method_and_km2(cat):
    # minicat is in zone 36 (CM 108°E): a 1 km × 1 km square on the CM is exactly 1 km²
    sq = B(100, 100, 1100, 1100)
    r = check(sq, cat, crs=CRS, options=CheckOptions(area_method="gk-fixed",
                                                     central_meridian=108))
    assert r.area_m2 == pytest.approx(1e6, rel=1e-9)
    d = r.to_dict()
    assert d["area"]["km2"] == pytest.approx(1.0)
    assert "108°E" in d["area_method"]
    r2 = check(sq, cat, crs=CRS, options=CheckOptions(area_method="gk-fixed",
                                                      central_meridian=111))
    assert r2.area_m2 > r.area_m2 * 1.001  # 3° off the meridian: the plane stretches
    assert "椭球" in check(sq, cat, crs=CRS).area_method


def test_cli_gk_zone_and_console(cat, tmp_path):
    import geopandas as gpd

    f = tmp_path / "site.geojson"
    gpd.GeoDataFrame(geometry=[B(100, 100, 1100, 1100)], crs=CRS).to_file(f)
    res = CliRunner().invoke(main, ["check", str(f), "--catalog", str(cat), "--json",
                                    "--area-method", "gk-fixed", "--gk-zone", "36"])
    assert res.exit_code == 0, res.output
    d = json.loads(res.output)
    assert d["area"]["m2"] == pytest.approx(1e6, abs=0.01) and "108°E" in d["area_method"]
    res = CliRunner().invoke(main, ["check", str(f), "--catalog", str(cat),
                                    "--area-method", "gk-fixed", "--central-meridian", "108"])
    assert res.exit_code == 0, res.output
    assert "面积算法" in res.output and "km²" in res.output and "108°E" in res.output
    res = CliRunner().invoke(main, ["check", str(f), "--catalog", str(cat),
                                    "--area-method", "gk-fixed"])
    assert res.exit_code == 2 and "central-meridian" in res.output
