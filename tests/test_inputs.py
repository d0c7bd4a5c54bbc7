"""Footprint inputs: every bad-input class gets a clear error; no row is ever lost."""

import zipfile

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from shapely.geometry import Point, Polygon, box

from zoning.errors import CRSError, DataError
from zoning.footprints import normalise
from zoning.gcj02 import wgs84_to_gcj02
from zoning.io.projects import read_footprint, read_projects

GUIYANG = box(106.70, 26.55, 106.71, 26.56)


def same(g, tol):
    """Same shape as GUIYANG within tol, whatever the ring orientation and start.

    A footprint read from another CRS has its edges cut into short pieces first (so
    they stay straight in the source CRS): the shapes match, the vertex lists need not.
    """
    return shapely.hausdorff_distance(g, GUIYANG) <= tol and \
        all(shapely.distance(shapely.Point(xy), g.exterior) <= tol
            for xy in GUIYANG.exterior.coords)


# ---------------------------------------------------------------- normalise


def test_lonlat_default_and_swapped():
    g, kind, w = normalise(GUIYANG, None)
    assert kind == "polygon" and g.equals(GUIYANG) and w == []
    swapped = shapely.transform(GUIYANG, lambda xy: xy[:, ::-1])
    g, _, w = normalise(swapped, "EPSG:4490")
    assert same(g, 1e-12) and "已交换" in w[0]


def test_prefixed_gk_inferred_without_crs():
    gk = gpd.GeoSeries([GUIYANG], crs="EPSG:4490").to_crs("EPSG:4524").iloc[0]
    g, _, w = normalise(gk, None)
    # vertices moved one by one (the engine cuts the edges in GK, see Project.edge_crs)
    assert same(g, 1e-8) and "带号前缀 36" in w[0]
    assert shapely.get_num_coordinates(g) == 5
    # northing-first columns too
    g, _, w = normalise(shapely.transform(gk, lambda xy: xy[:, ::-1]), None)
    assert same(g, 1e-8) and any("（北坐标，东坐标）" in x for x in w)


def test_gk_without_prefix_needs_a_crs():
    gk = gpd.GeoSeries([GUIYANG], crs="EPSG:4490").to_crs("EPSG:4545").iloc[0]
    with pytest.raises(CRSError, match="不带带号前缀时须指定坐标系"):
        normalise(gk, None)
    g, _, _ = normalise(gk, "EPSG:4545")
    assert same(g, 1e-8)


def test_wrong_crs_gives_outside_china():
    gk = gpd.GeoSeries([GUIYANG], crs="EPSG:4490").to_crs("EPSG:4545").iloc[0]
    with pytest.raises(CRSError, match="坐标落在中国境外"):
        normalise(gk, "EPSG:4524")  # metres read in the wrong zone family
    with pytest.raises(CRSError, match="坐标落在中国境外"):
        normalise(box(2.3, 48.8, 2.4, 48.9), "EPSG:4326")
    # metres declared (or defaulted, as GeoJSON is) as lon/lat: said as such, not 境外
    with pytest.raises(CRSError, match="坐标值不是经纬度.*超出 ±180°/±90°.*WGS 84"):
        normalise(gk, "EPSG:4326")


def test_gcj02_only_when_asked():
    w = Point(106.64, 26.62)
    g = Point(*[float(v) for v in wgs84_to_gcj02(w.x, w.y)])
    untouched, _, warn = normalise(g, "EPSG:4490")
    assert untouched.distance(w) > 0.001 and warn == []  # never converted silently
    fixed, _, warn = normalise(g, "EPSG:4490", coord_sys="gcj02")
    assert fixed.distance(w) < 1e-7 and "GCJ-02" in warn[0]
    with pytest.raises(DataError, match="无法识别的坐标类型"):
        normalise(g, "EPSG:4490", coord_sys="mars")


def test_self_intersecting_footprint_repaired_with_warning():
    x0, y0 = 106.70, 26.55
    bowtie = Polygon([(x0, y0), (x0 + 0.01, y0 + 0.01), (x0 + 0.01, y0), (x0, y0 + 0.01)])
    g, kind, w = normalise(bowtie, "EPSG:4490")
    assert g.is_valid and kind == "polygon" and g.area > 0
    assert "Self-intersection" in w[0] and "make_valid" in w[0]


@pytest.mark.parametrize("geom,msg", [
    (None, "几何为空或缺失"), (Polygon(), "几何为空或缺失"),
    (Point(float("nan"), 26.5), "NaN"),
])
def test_empty_and_nan(geom, msg):
    with pytest.raises(DataError, match=msg):
        normalise(geom, "EPSG:4490")


# ---------------------------------------------------------------- files and lists


def test_gbk_shapefile_footprint_without_cpg(tmp_path):
    p = tmp_path / "红线.shp"
    gpd.GeoDataFrame({"XMMC": ["开阳县磷化工项目"]}, geometry=[GUIYANG], crs="EPSG:4490") \
        .to_file(p, encoding="GBK")
    p.with_suffix(".cpg").unlink(missing_ok=True)
    t = read_footprint(p)
    assert t.status.iloc[0] == "ok" and same(t.geometry.iloc[0], 1e-9)


def test_shapefile_without_prj_and_without_crs_is_an_error(tmp_path):
    p = tmp_path / "noprj.shp"
    gk = gpd.GeoDataFrame({"a": [1]}, geometry=[box(500000, 2940000, 500100, 2940100)],
                          crs="EPSG:4545")
    gk.to_file(p)
    p.with_suffix(".prj").unlink()
    with pytest.raises(DataError, match="noprj.shp.*不带带号前缀时须指定坐标系"):
        read_footprint(p)
    t = read_footprint(p, crs="EPSG:4545")
    assert t.status.iloc[0] == "ok"


def test_kml_and_kmz(tmp_path):
    p = tmp_path / "site.kml"
    gpd.GeoDataFrame({"Name": ["site"]}, geometry=[GUIYANG], crs="EPSG:4326").to_file(
        p, driver="KML")
    t = read_footprint(p)
    assert same(t.geometry.iloc[0], 1e-6)
    z = tmp_path / "site.kmz"
    with zipfile.ZipFile(z, "w") as zf:
        zf.write(p, "doc.kml")
    assert same(read_footprint(z).geometry.iloc[0], 1e-6)


def test_geoparquet_and_geojson(tmp_path):
    g = gpd.GeoDataFrame({"项目名称": ["甲", "乙"]},
                         geometry=[GUIYANG, box(106.8, 26.6, 106.81, 26.61)], crs="EPSG:4490")
    g.to_parquet(tmp_path / "p.parquet")
    g.to_file(tmp_path / "p.geojson", driver="GeoJSON")
    for name in ("p.parquet", "p.geojson"):
        t = read_projects(tmp_path / name)
        assert list(t.name) == ["甲", "乙"] and (t.status == "ok").all()


def test_csv_list_keeps_every_row(tmp_path):
    txt = tmp_path / "parcel.txt"
    txt.write_bytes(("[属性描述]\n坐标系=2000国家大地坐标系\n几度分带=3\n带号=36\n[地块坐标]\n"
                     "5,1,1,地块1,面,,,,@\nJ1,1,2940000,36371000\nJ2,1,2940000,36371100\n"
                     "J3,1,2940100,36371100\nJ4,1,2940100,36371000\nJ1,1,2940000,36371000\n")
                    .encode("gb18030"))
    rows = [
        {"项目编号": "A", "项目名称": "WKT", "wkt": GUIYANG.wkt},
        {"项目编号": "B", "项目名称": "经纬度", "经度": "106.7", "纬度": "26.55"},
        {"项目编号": "C", "项目名称": "文件", "文件": "parcel.txt"},
        {"项目编号": "D", "项目名称": "坏WKT", "wkt": "POLYGON((1 2"},
        {"项目编号": "E", "项目名称": "空"},
        {"项目编号": "F", "项目名称": "反了", "经度": "26.55", "纬度": "106.7"},
        {"项目编号": "G", "项目名称": "不存在的文件", "文件": "nope.shp"},
        {"项目编号": "H", "项目名称": "是否占地写错", "wkt": GUIYANG.wkt, "是否占地": "也许"},
        {"项目编号": "I", "项目名称": "高德", "经度": "106.7", "纬度": "26.55", "坐标类型": "gcj02"},
    ]
    p = tmp_path / "list.csv"
    pd.DataFrame(rows).to_csv(p, index=False, encoding="gb18030")  # Excel-on-Windows style
    t = read_projects(p)
    assert len(t) == len(rows) and list(t.row) == list(range(1, 10))
    st = dict(zip(t.project_id, t.status))
    assert st == {"A": "ok", "B": "ok", "C": "ok", "D": "error", "E": "error", "F": "ok",
                  "G": "error", "H": "error", "I": "ok"}
    err = dict(zip(t.project_id, t.error))
    assert "WKT 无法解析" in err["D"]
    assert "缺少项目范围" in err["E"]
    assert "nope.shp" in err["G"] and "文件不存在" in err["G"]
    assert "是否占地（takes_land）应为“是”或“否”" in err["H"] and "'也许'" in err["H"]
    w = dict(zip(t.project_id, t.warnings))
    assert any("已交换" in x for x in w["F"]) and any("GCJ-02" in x for x in w["I"])
    assert t.set_index("project_id").kind["C"] == "polygon"


def test_xlsx_list_and_missing_geometry_column(tmp_path):
    p = tmp_path / "list.xlsx"
    pd.DataFrame([{"项目名称": "甲", "wkt": GUIYANG.wkt, "行业代码": "C2614",
                   "建设性质": "新建"}]).to_excel(p, index=False)
    t = read_projects(p)
    assert t.industry.iloc[0] == "C2614" and t.nature.iloc[0] == "新建"
    bad = tmp_path / "bad.xlsx"
    pd.DataFrame([{"项目名称": "甲", "地址": "贵阳"}]).to_excel(bad, index=False)
    with pytest.raises(DataError, match="bad.xlsx: 清单中没有项目范围列"):
        read_projects(bad)


# ---------------------------------------------------------------- batch: no row lost


def test_screen_rows_in_equal_rows_out(tmp_path):
    from zoning.screen import screen

    rows = [{"项目编号": str(i), "wkt": box(106.70 + i * 0.01, 26.55, 106.705 + i * 0.01,
                                         26.555).wkt, "有限人为活动类别": "6" if i != 3 else "99"}
            for i in range(6)]
    rows.insert(2, {"项目编号": "bad", "wkt": "nonsense"})
    p = tmp_path / "l.csv"
    pd.DataFrame(rows).to_csv(p, index=False)
    t = read_projects(p)
    res = screen(t, region="guiyang", chunk_size=2)
    assert [r.project_id for r in res.results] == [r["项目编号"] for r in rows]
    by = {r.project_id: r for r in res.results}
    assert by["bad"].status == "error" and "WKT" in by["bad"].error
    assert by["3"].status == "error" and "无法识别的有限人为活动类别 '99'" in by["3"].error
    assert sum(r.ok for r in res.results) == 5
    assert res.counts["rows"] == 7


def test_a_single_feature_names_its_project(tmp_path):
    """A KML Placemark's <name> or a GeoJSON feature's 名称 names the project; the file
    name stays its id. Several features keep the file name."""
    import json

    from zoning.io.projects import read_footprint
    from zoning.paths import seeds_dir

    t = read_footprint(seeds_dir() / "examples" / "site.kml")
    assert (t.project_id.iloc[0], t.name.iloc[0]) == ("site", "跨河大桥（示例）")
    sq = [[[106.60, 26.60], [106.601, 26.60], [106.601, 26.601], [106.60, 26.601],
           [106.60, 26.60]]]
    feat = {"type": "Feature", "properties": {"名称": " 变电站 "},
            "geometry": {"type": "Polygon", "coordinates": sq}}
    one = tmp_path / "a.geojson"
    one.write_text(json.dumps({"type": "FeatureCollection", "features": [feat]}), "utf-8")
    assert read_footprint(one).name.iloc[0] == "变电站"
    two = tmp_path / "b.geojson"
    two.write_text(json.dumps({"type": "FeatureCollection", "features": [feat, feat]}),
                   "utf-8")
    assert read_footprint(two).name.iloc[0] == "b"


def test_geojson_in_projected_metres_is_read_by_its_zone_prefix_or_refused(tmp_path):
    """GeoJSON is lon/lat by definition; CAD exports write Gauss–Krüger metres into it. A
    newcomer found such a file refused as 境外 while the same Shapefile was read."""
    import json

    gk = gpd.GeoSeries([GUIYANG], crs="EPSG:4490").to_crs("EPSG:4524").iloc[0]  # zone 36
    p = tmp_path / "gk.geojson"
    p.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {}, "geometry": shapely.geometry.mapping(gk)}]}))
    t = read_footprint(p)
    assert t.status.iloc[0] == "ok", t.error.iloc[0]
    assert same(t.geometry.iloc[0], 1e-7)
    assert any("不是经纬度" in w for w in t.warnings.iloc[0])
    assert any("带号前缀 36" in w for w in t.warnings.iloc[0])
    bare = gpd.GeoSeries([GUIYANG], crs="EPSG:4490").to_crs("EPSG:4545").iloc[0]  # no prefix
    q = tmp_path / "bare.geojson"
    q.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {}, "geometry": shapely.geometry.mapping(bare)}]}))
    with pytest.raises(CRSError, match="未指定坐标系"):
        read_footprint(q)
    # a GeoJSON that declares its projected CRS (as geopandas writes one) keeps it
    declared = tmp_path / "declared.geojson"
    gpd.GeoDataFrame(geometry=[gk], crs="EPSG:4524").to_file(declared)
    t = read_footprint(declared)
    assert same(t.geometry.iloc[0], 1e-7) and not any("不是经纬度" in w
                                                      for w in t.warnings.iloc[0])
    # lon/lat GeoJSON is read as it always was, without the warning
    r = tmp_path / "ll.geojson"
    gpd.GeoDataFrame(geometry=[GUIYANG], crs="EPSG:4326").to_file(r)
    t = read_footprint(r)
    assert same(t.geometry.iloc[0], 1e-9) and not any("不是经纬度" in w
                                                      for w in t.warnings.iloc[0])
