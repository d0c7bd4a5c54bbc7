"""部标 TXT export and conversion round trips, [项目信息], and 西安80/北京54 with parameters."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from click.testing import CliRunner
from pyproj import Transformer
from shapely.geometry import MultiPolygon, Polygon

from zoning.cli import main
from zoning.errors import CRSError, DataError
from zoning.io.parcel_txt import parse_txt
from zoning.io.parcels import read_parcels, write_parcels
from zoning.io.projects import read_footprint, read_projects
from zoning.io.txt_write import TxtParcelOut, format_txt

from .test_txt import E0, HEADER, N0, square

# two parcels near 106.6°E 26.6°N (贵阳, 3° zone 36 / 6° zone 18): one with a hole, one
# made of two parts
A = Polygon([(106.60, 26.60), (106.61, 26.60), (106.61, 26.61), (106.60, 26.61)],
            [[(106.603, 26.603), (106.603, 26.605), (106.605, 26.605), (106.605, 26.603)]])
B = MultiPolygon([Polygon([(106.62, 26.60), (106.625, 26.60), (106.625, 26.605)]),
                  Polygon([(106.63, 26.60), (106.635, 26.60), (106.635, 26.606),
                           (106.63, 26.606)])])


def projected(g, epsg):
    t = Transformer.from_crs("EPSG:4490", f"EPSG:{epsg}", always_xy=True)
    return shapely.transform(g, lambda xy: np.column_stack(t.transform(xy[:, 0], xy[:, 1])))


def rings(g):
    return [np.asarray(r.coords) for p in shapely.get_parts(g)
            for r in [p.exterior, *p.interiors]]


@pytest.mark.parametrize("width, zone, prefix, epsg", [
    (3, None, True, 4524),  # 3° zone 36 with prefix (the usual form)
    (3, None, False, 4545),  # 3°, no prefix: 带号 in the header carries the zone
    (6, None, True, 4496),  # 6° zone 18
    (3, 35, True, 4523),  # a forced neighbouring zone (CM 105°E)
])
def test_round_trip_coordinates_rings_and_fields(width, zone, prefix, epsg):
    text = format_txt([TxtParcelOut(A, number="DK-1", name="地块甲", use="工业用地",
                                    land_class="0601"),
                       TxtParcelOut(B, number="DK-2", name="地块乙")],
                      zone_width=width, zone=zone, prefix=prefix,
                      project_info={"项目名称": "某某项目"}, date="2025-01-01")
    doc = parse_txt(text.encode("gb18030"))
    assert doc.epsg == epsg and not doc.swapped and doc.warnings == []
    assert doc.header["几度分带"] == str(width) and doc.project_info == {"项目名称": "某某项目"}
    assert [(p.number, p.name, p.use, p.land_class) for p in doc.parcels] == [
        ("DK-1", "地块甲", "工业用地", "0601"), ("DK-2", "地块乙", "", "")]
    for p, orig in zip(doc.parcels, (A, B)):
        # header area (公顷) and point count agree with the rings
        assert not [w for w in p.warnings if "界址点数" in w or "地块面积" in w]
        want = projected(orig, epsg)
        # same rings (a hole stays a hole, two parts stay two parts) to the millimetre
        assert shapely.get_num_geometries(p.geometry) == shapely.get_num_geometries(want)
        got_r, want_r = rings(p.geometry), rings(want)
        assert len(got_r) == len(want_r)
        assert {frozenset(tuple(np.round(c, 3)) for c in r) for r in got_r} == \
            {frozenset(tuple(np.round(c, 3)) for c in r) for r in want_r}
        holes = [len(q.interiors) for q in shapely.get_parts(p.geometry)]
        assert sorted(holes) == sorted(len(q.interiors) for q in shapely.get_parts(want))
        assert p.area_m2 == pytest.approx(want.area, abs=1.0)  # coordinates rounded to mm


def test_layout_of_the_written_file():
    text = format_txt([TxtParcelOut(A, number="1", name="地块1")], date="2025-01-01")
    lines = text.split("\r\n")
    assert lines[0] == "[属性描述]" and "坐标系=2000国家大地坐标系" in lines
    assert "带号=36" in lines and "转换参数=,,,,,," in lines
    head = lines[lines.index("[地块坐标]") + 1]
    n, area, number, name, kind, *_ = head.split(",")
    assert head.endswith(",@") and (number, name, kind) == ("1", "地块1", "面")
    pts = [ln.split(",") for ln in lines[lines.index(head) + 1:] if ln]
    assert int(n) == len(pts) == 10  # 4 + closing, 4 + closing
    assert pts[0][0] == pts[4][0] == "J1" and pts[5][0] == pts[9][0] == "J5"
    assert [p[1] for p in pts] == ["1"] * 5 + ["2"] * 5
    assert float(pts[0][2]) < 1e7 < float(pts[0][3])  # X = northing, Y = prefixed easting
    ring = shapely.LinearRing([(float(p[3]), float(p[2])) for p in pts[:5]])
    hole = shapely.LinearRing([(float(p[3]), float(p[2])) for p in pts[5:]])
    assert not ring.is_ccw and hole.is_ccw  # outer clockwise, hole anticlockwise on a map
    assert float(area) == pytest.approx(projected(A, 4524).area / 1e4, abs=1e-4)


def test_convert_txt_to_vectors_and_back(tmp_path):
    src = tmp_path / "in.txt"
    src.write_bytes(format_txt([TxtParcelOut(A, number="DK-1", name="地块甲", use="道路"),
                                TxtParcelOut(B, number="DK-2", name="地块乙")],
                               project_info={"项目名称": "某某公路"}).encode("gb18030"))
    r = CliRunner()
    for ext in ("geojson", "gpkg", "kml", "shp"):
        out = tmp_path / f"p.{ext}"
        res = r.invoke(main, ["convert", str(src), str(out)])
        assert res.exit_code == 0, res.output
        back = tmp_path / f"back_{ext}.txt"
        res = r.invoke(main, ["convert", str(out), str(back)])
        assert res.exit_code == 0, res.output
        doc = parse_txt(back.read_bytes())
        if ext != "kml":  # KML keeps only Name/Description fields
            assert [(p.number, p.name) for p in doc.parcels] == [("DK-1", "地块甲"),
                                                                 ("DK-2", "地块乙")]
        for p, orig in zip(doc.parcels, (A, B)):
            assert shapely.hausdorff_distance(p.geometry, projected(orig, 4524)) < 0.002
    # TXT → TXT keeps the [项目信息]; an existing output is refused without --overwrite
    res = r.invoke(main, ["convert", str(src), str(tmp_path / "p.txt"), "--zone-width", "6"])
    assert res.exit_code == 0
    doc = parse_txt((tmp_path / "p.txt").read_bytes())
    assert doc.project_info == {"项目名称": "某某公路"} and doc.epsg == 4496
    res = r.invoke(main, ["convert", str(src), str(tmp_path / "p.txt")])
    assert res.exit_code == 1 and "p.txt 已存在" in res.output


def test_check_export_txt_and_project_info(tmp_path):
    info = "[项目信息]\n项目名称=某某公路\n项目代码=2301-520100-04-01-000001\n" \
           "行业代码=C2614\n建设性质=新建\n是否占地=否\n自定义=保留\n"
    f = tmp_path / "p.txt"
    f.write_text(info + HEADER + "5,1.0,1,地块1,面,,,,@\n" + "\n".join(square(N0, E0, 100)),
                 encoding="utf-8")
    t = read_footprint(f)
    row = t.iloc[0]
    assert (row.project_id, row["name"]) == ("2301-520100-04-01-000001", "某某公路")
    assert (row.industry, row.nature, row.takes_land) == ("C2614", "新建", False)
    assert read_footprint(f, industry="C2619").iloc[0].industry == "C2619"  # caller wins
    lst = read_projects(f)
    assert lst.iloc[0].industry == "C2614" and lst.iloc[0].status == "ok"
    bad = tmp_path / "bad.txt"
    bad.write_text(info.replace("是否占地=否", "是否占地=也许") + HEADER
                   + "5,1.0,1,地块1,面,,,,@\n" + "\n".join(square(N0, E0, 100)), "utf-8")
    with pytest.raises(DataError, match="takes_land"):
        read_footprint(bad)
    out = tmp_path / "export.txt"
    res = CliRunner().invoke(main, ["check", str(f), "--export-txt", str(out), "--json",
                                    "--region", "guiyang"])
    assert out.exists(), res.output
    doc = parse_txt(out.read_bytes())
    assert doc.project_info["项目名称"] == "某某公路" and doc.project_info["行业代码"] == "C2614"
    assert doc.project_info["是否占地"] == "否"
    g = doc.parcels[0].geometry
    assert shapely.hausdorff_distance(g, shapely.box(E0, N0, E0 + 100, N0 + 100)) < 0.002


# ------------------------------------------------------------------ 西安80 / 北京54

ELLPS = {"xian80": (6378140.0, 1 / 298.257), "beijing54": (6378245.0, 1 / 298.3)}
GRS80 = (6378137.0, 1 / 298.257222101)
SEC = np.pi / 180 / 3600


def _ecef(lon, lat, a, f):
    e2 = f * (2 - f)
    lam, phi = np.radians(lon), np.radians(lat)
    n = a / np.sqrt(1 - e2 * np.sin(phi) ** 2)
    return np.array([n * np.cos(phi) * np.cos(lam), n * np.cos(phi) * np.sin(lam),
                     n * (1 - e2) * np.sin(phi)])


def _geodetic(xyz, a, f):
    e2 = f * (2 - f)
    x, y, z = xyz
    p = np.hypot(x, y)
    phi = np.arctan2(z, p * (1 - e2))
    for _ in range(10):
        n = a / np.sqrt(1 - e2 * np.sin(phi) ** 2)
        phi = np.arctan2(z + e2 * n * np.sin(phi), p)
    return np.degrees(np.arctan2(y, x)), np.degrees(phi)


def old_datum_coords(lon, lat, params, datum):
    """CGCS2000 lon/lat → old-datum lon/lat by inverting the 7-parameter (position vector)
    Helmert transformation by hand (no PROJ datum machinery)."""
    dx, dy, dz, rx, ry, rz, s = params
    rx, ry, rz, m = rx * SEC, ry * SEC, rz * SEC, s * 1e-6
    rot = np.array([[1, -rz, ry], [rz, 1, -rx], [-ry, rx, 1]])
    target = _ecef(lon, lat, *GRS80)
    src = np.linalg.solve((1 + m) * rot, target - np.array([dx, dy, dz]))
    return _geodetic(src, *ELLPS[datum])


PARAMS = (-35.2, 121.7, 83.4, 1.25, -0.82, 2.47, 3.1)


@pytest.mark.parametrize("datum, name, ellps, zone, epsg", [
    ("xian80", "1980西安坐标系", "IAU76", 36, 2360),
    ("beijing54", "1954北京坐标系", "krass", 36, 2412),
])
def test_old_datum_txt_with_parameters(datum, name, ellps, zone, epsg):
    corners = [(106.60, 26.60), (106.61, 26.60), (106.61, 26.61), (106.60, 26.61)]
    tm = Transformer.from_crs(f"+proj=longlat +ellps={ellps}",
                              f"+proj=tmerc +lon_0=108 +k=1 +x_0={zone}500000 +ellps={ellps}",
                              always_xy=True)
    lines = []
    for k, (lon, lat) in enumerate(corners + corners[:1], start=1):
        e, n = tm.transform(*old_datum_coords(lon, lat, PARAMS, datum))
        lines.append(f"J{k if k <= 4 else 1},1,{n:.4f},{e:.4f}")
    header = HEADER.replace("2000国家大地坐标系", name).replace(
        "转换参数=,,,,,,", "转换参数=" + ",".join(str(v) for v in PARAMS))
    text = header + "5,,1,地块1,面,,,,@\n" + "\n".join(lines) + "\n"
    doc = parse_txt(text)
    assert doc.datum == datum and doc.epsg == epsg
    t = read_projects_text(text)
    got = np.asarray(t.exterior.coords)
    # the CGCS2000 corners come back to within 1e-8° (about 1 mm): the vertices are moved
    # one by one (the engine cuts the edges in the source CRS, see Project.edge_crs)
    for c in corners:
        assert np.hypot(*(got - np.array(c)).T).min() < 1e-8, c
    # without parameters: refused, with the reason; --towgs84 supplies them
    bare = text.replace("转换参数=" + ",".join(str(v) for v in PARAMS), "转换参数=,,,,,,")
    with pytest.raises(CRSError, match="没有精确的公开转换方法"):
        parse_txt(bare)
    g = read_projects_text(bare, towgs84=",".join(str(v) for v in PARAMS))
    assert shapely.hausdorff_distance(g, t) < 1e-9
    # the shift is real: reading the numbers as CGCS2000 would misplace the site
    naive = parse_txt(text.replace(name, "2000国家大地坐标系"))
    from zoning.footprints import normalise
    g0, _, _ = normalise(naive.parcels[0].geometry, naive.crs)
    assert shapely.hausdorff_distance(g0, t) > 1e-4


def read_projects_text(text, towgs84=None):
    from zoning.footprints import normalise

    doc = parse_txt(text, towgs84=towgs84)
    g, _, w = normalise(doc.parcels[0].geometry, doc.crs)
    assert any("已用 7 参数" in m for m in doc.warnings)
    return g


def test_old_datum_vector_input_needs_parameters(tmp_path):
    import geopandas as gpd

    f = tmp_path / "x80.gpkg"
    gpd.GeoDataFrame(geometry=[shapely.box(36_371_000, 2_940_000, 36_371_100, 2_940_100)],
                     crs="EPSG:2360").to_file(f)
    with pytest.raises(CRSError, match="1980西安坐标系.*没有精确的公开转换方法"):
        read_footprint(f)
    t = read_footprint(f, towgs84=",".join(str(v) for v in PARAMS))
    assert t.status.iloc[0] == "ok"
    with pytest.raises(CRSError, match="只适用于西安80/北京54"):
        read_footprint(f, crs="EPSG:4524", towgs84="1,2,3")
    res = CliRunner().invoke(main, ["check", str(f), "--region", "guiyang", "--json"])
    assert res.exit_code == 1 and "没有精确的公开转换方法" in res.output
    parcels, _, _ = read_parcels(f, towgs84="1,2,3,0,0,0,0")
    assert len(parcels) == 1
    out = tmp_path / "x.txt"
    write_parcels(out, parcels)
    assert parse_txt(out.read_bytes()).datum == "cgcs2000"

