"""度分秒 strings, bare 经度,纬度 pairs and corridor widths for centrelines."""

from __future__ import annotations

import json

import numpy as np
import pytest
import shapely
from click.testing import CliRunner
from pyproj import Geod, Transformer

from zoning.cli import main
from zoning.dms import parse_angle, parse_coordinates, parse_lonlat
from zoning.engine.geometry import measure
from zoning.errors import DataError, InputError
from zoning.footprints import widen
from zoning.io.projects import read_projects

from .minicat import CRS, OX, OY, write_catalog

GEOD = Geod(ellps="GRS80")


@pytest.mark.parametrize("text, value, axis", [
    ("106°37'12.5\"E", 106 + 37 / 60 + 12.5 / 3600, "lon"),
    ("106°37′12.5″", 106 + 37 / 60 + 12.5 / 3600, None),
    ("106d37m12.5s", 106 + 37 / 60 + 12.5 / 3600, None),
    ("东经106度37分12.5秒", 106 + 37 / 60 + 12.5 / 3600, "lon"),
    ("26°34'48\"N", 26.58, "lat"),
    ("26 34 48".replace(" ", ":"), 26.58, None),
    ("S 26°30'", -26.5, "lat"),
    ("106.62", 106.62, None),
    ("106º37'12.5''", 106 + 37 / 60 + 12.5 / 3600, None),
])
def test_angles(text, value, axis):
    v, a = parse_angle(text)
    assert v == pytest.approx(value, abs=1e-12) and a == axis


@pytest.mark.parametrize("text", ["abc", "106°61'", "106.5°30'", "106°37'70\"", "E106N"])
def test_bad_angles(text):
    with pytest.raises(InputError):
        parse_angle(text)


def test_pairs_and_order():
    assert parse_lonlat("106.62,26.58") == (106.62, 26.58)
    assert parse_lonlat("106.62，26.58") == (106.62, 26.58)
    assert parse_lonlat("106.62 26.58") == (106.62, 26.58)
    lon, lat = parse_lonlat("26°34'48\"N, 106°37'12\"E")  # hemispheres decide the order
    assert (lon, lat) == pytest.approx((106.62, 26.58))
    with pytest.raises(InputError, match="same axis"):
        parse_lonlat("26°N,27°N")
    assert parse_coordinates("106.6,26.5;106.7,26.6").geom_type == "LineString"
    assert parse_coordinates("106.6,26.5;106.7,26.5;106.7,26.6;106.6,26.5").area > 0


def _dms(v: float) -> str:
    d = int(v)
    m = int((v - d) * 60)
    s = (v - d - m / 60) * 3600
    return f"{d}°{m}'{s:.5f}\""


@pytest.fixture(scope="module")
def cat(tmp_path_factory):
    return write_catalog(tmp_path_factory.mktemp("coords"))


def test_bare_pair_and_dms_on_the_command_line(cat):
    # the centre of red line R1 (minicat local 500, 500) as lon/lat, then as 度分秒
    lon, lat = Transformer.from_crs(CRS, "EPSG:4490", always_xy=True).transform(OX + 500,
                                                                               OY + 500)
    runner = CliRunner()
    for text in (f"{lon:.8f},{lat:.8f}", f"{_dms(lat)}N,{_dms(lon)}E",
                 f"{_dms(lon)},{_dms(lat)}".replace("°", "d").replace("'", "m")
                 .replace('"', "s")):
        res = runner.invoke(main, ["check", text, "--catalog", str(cat), "--json"])
        assert res.exit_code == 0, res.output
        d = json.loads(res.output)
        red = next(lr for lr in d["layers"] if lr["kind"] == "eco_redline")
        assert d["geometry_type"] == "point" and [f["feature_id"] for f in red["features"]] \
            == ["R1"]
    res = runner.invoke(main, ["check", "no-such-file.geojson", "--catalog", str(cat)])
    assert res.exit_code == 1 and "文件不存在" in res.output


def test_dms_in_a_project_list(tmp_path):
    f = tmp_path / "list.csv"
    f.write_text("项目名称,经度,纬度\n甲,106°37'12\"E,26°34'48\"N\n乙,106.62,26.58\n丙,abc,26\n",
                 encoding="utf-8")
    t = read_projects(f)
    assert list(t.status) == ["ok", "ok", "error"] and "度分秒" in t.error.iloc[2]
    assert t.geometry.iloc[0].x == pytest.approx(106.62) and t.geometry.iloc[0].y == 26.58


@pytest.mark.parametrize("a, b", [((108.0, 30.0), (108.0, 30.02)),  # north–south
                                  ((108.0, 30.0), (108.02, 30.0)),  # east–west
                                  ((108.0, 30.0), (108.015, 30.012))])  # diagonal
def test_width_buffers_on_the_ellipsoid(a, b):
    line = shapely.LineString([a, b])
    g, kind, w = widen(line, 20.0)
    assert kind == "polygon" and "按 20 m 宽度加宽" in w[0]
    length = GEOD.line_length([a[0], b[0]], [a[1], b[1]])
    area = measure([g], "EPSG:4490", "ellipsoidal")[0][0]
    assert area == pytest.approx(length * 20.0, rel=1e-4)  # flat ends: length × width
    # 10 m each side, measured geodesically from the middle of the line
    az = GEOD.inv(a[0], a[1], b[0], b[1])[0]
    mid = ((a[0] + b[0]) / 2, (a[1] + b[1]) / 2)
    for side in (90.0, -90.0):
        inside = GEOD.fwd(mid[0], mid[1], az + side, 9.99)[:2]
        outside = GEOD.fwd(mid[0], mid[1], az + side, 10.01)[:2]
        assert g.contains(shapely.Point(inside)) and not g.contains(shapely.Point(outside))


def test_width_of_a_point_and_a_polygon():
    g, kind, _ = widen(shapely.Point(108.0, 30.0), 20.0)
    area = measure([g], "EPSG:4490", "ellipsoidal")[0][0]
    assert kind == "polygon" and area == pytest.approx(np.pi * 100, rel=2e-3)
    poly = shapely.box(108, 30, 108.01, 30.01)
    same, _, w = widen(poly, 20)
    assert same is poly and "按原样使用" in w[0]
    with pytest.raises(DataError, match="宽度应为正数"):
        widen(poly, -1)


def test_width_on_the_command_line(cat, tmp_path):
    import geopandas as gpd

    # a centreline from west to east across red line R1 (x 0..1000) at local y = 500
    f = tmp_path / "road.geojson"
    gpd.GeoDataFrame(geometry=[shapely.LineString([(OX - 500, OY + 500),
                                                   (OX + 1500, OY + 500)])],
                     crs=CRS).to_file(f)
    res = CliRunner().invoke(main, ["check", str(f), "--catalog", str(cat), "--width", "30",
                                    "--json", "--area-method", "gk"])
    assert res.exit_code == 0, res.output
    d = json.loads(res.output)
    red = next(lr for lr in d["layers"] if lr["kind"] == "eco_redline")
    assert d["geometry_type"] == "polygon"
    assert d["area"]["m2"] == pytest.approx(2000 * 30, rel=1e-4)
    assert red["overlap"]["m2"] == pytest.approx(1000 * 30, rel=1e-4)
    assert any("按 30 m 宽度加宽" in w for w in d["warnings"])
