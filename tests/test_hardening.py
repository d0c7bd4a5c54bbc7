"""Regression tests for hostile and careless inputs (issue: hardening).

Each test names the finding it guards.  Data is built in code; the small
catalog of :mod:`tests.minicat` keeps the checks fast.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import sqlite3
import threading
import zipfile
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from click.testing import CliRunner
from shapely.geometry import box

from zoning.cli import main
from zoning.errors import (
    CatalogError,
    DataError,
    InputError,
    OutputExistsError,
    OutputLockedError,
    ResourceLimitError,
)
from zoning.footprints import normalise, validate_geometry
from zoning.io.projects import read_footprint, read_projects
from zoning.io.vector import read_vector
from zoning.limits import LIMITS
from zoning.project import Project
from zoning.report.safe import cell_text, esc

from .minicat import CRS, OX, OY, B, write_catalog

#: template, script and JS-literal payloads; 7*191 = 1337 must never appear evaluated
PAYLOADS = ["{{ 7*191 }}", "{% if 1 %}TPL{% endif %}", "<script>alert(1)</script>",
            "`x${alert(1)}`", "{# c #}[/x][bold]"]
EVIL = " ".join(PAYLOADS)


def _geo(g):
    from zoning.crs import reproject

    return reproject(g, CRS, "EPSG:4490")


@pytest.fixture(scope="module")
def mini(tmp_path_factory):
    return write_catalog(tmp_path_factory.mktemp("mini"))


def _assert_inert(text: str):
    # "1337" standing alone (coordinates carry it inside longer digit runs by chance)
    assert not re.search(r"(?<![0-9.])1337(?![0-9.])", text), \
        "a template expression was evaluated"
    assert "TPL" not in text or "&#123;% if 1 %&#125;TPL" in text
    assert "<script>alert(1)" not in text and "`x${alert" not in text


# --------------------------------------------------------------------------- templates


def test_esc_neutralises_template_and_literal_characters():
    assert esc("{{ 7*191 }}") == "&#123;&#123; 7*191 &#125;&#125;"
    assert esc("`${x}`") == "&#96;&#36;&#123;x&#125;&#96;"


def test_map_title_and_legend_are_data_not_template_source(mini):
    """Finding: branca Element(text) ran a project name as a Jinja2 template."""
    from zoning.catalog import load_catalog
    from zoning.outputs import save_map
    from zoning.report.html import render_map
    from zoning.report.maps import project_map
    from zoning.screen import check, load_index

    cat = load_catalog(mini)
    site = _geo(B(100, 100, 300, 300))
    r = check(site, cat, name=EVIL, project_id="{{ 7*191 }}")
    m = project_map(r, site, load_index(cat), basemap="none")
    text = render_map(m)  # "{% if %}" used to crash here; "{{ 7*191 }}" showed as 1337
    _assert_inert(text)
    assert "&#123;&#123; 7*191 &#125;&#125;" in text
    assert save_map(m, mini.parent / "evil.html") > 0


def test_rendered_map_data_is_never_template_source_even_unescaped(monkeypatch):
    """branca compiles each macro's rendered output (the page's script, GeoJSON data and
    all) as Jinja source a second time; render_map keeps it verbatim, so even text that
    skipped escaping stays text, and the page is otherwise the same as branca's."""
    import contextlib
    import re

    import folium

    from zoning.report.html import render_map
    from zoning.report.safe import Popup, Tooltip

    def page(name, tip=folium.GeoJsonTooltip, pop=folium.GeoJsonPopup):
        m = folium.Map(location=[26.6, 106.6], zoom_start=12, tiles=None)
        folium.GeoJson({"type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": {"名称": name},
             "geometry": {"type": "Point", "coordinates": [106.6, 26.6]}}]},
            tooltip=tip(["名称"]), popup=pop(["名称"])).add_to(m)
        return m

    text = render_map(page("{{ 7*191 }} {% raw %}"), assets_href="a")
    assert "{{ 7*191 }} {% raw %}" in text and "1337" not in text
    ours = render_map(page("长江", Tooltip, Popup), assets_href="a")  # as the maps are made
    monkeypatch.setattr("zoning.report.html.verbatim_macros", contextlib.nullcontext)
    theirs = render_map(page("长江"), assets_href="a")  # branca's own rendering
    assert "1337" in render_map(page("{{ 7*191 }}"), assets_href="a")  # what it would do
    ids = re.compile(r"[0-9a-f]{32}")
    assert ids.sub("", ours) == ids.sub("", theirs)


def test_region_and_layer_names_from_a_catalog_are_not_templates(tmp_path):
    """Finding: a catalog region or layer name reached the page as template source."""
    import yaml

    from zoning.catalog import load_catalog
    from zoning.report.html import render_map
    from zoning.report.maps import project_map
    from zoning.screen import check, load_index

    p = write_catalog(tmp_path)
    doc = yaml.safe_load(p.read_text("utf-8"))
    doc["region"]["name"] = EVIL
    doc["layers"]["{{ 7*191 }}"] = doc["layers"].pop("redline")
    p.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    cat = load_catalog(p)
    site = _geo(B(100, 100, 300, 300))
    r = check(site, cat)
    text = render_map(project_map(r, site, load_index(cat), basemap="none"))
    _assert_inert(text)


def _evil_list(folder: Path) -> Path:
    """A CSV list whose names, ids and a footprint file name carry the payloads."""
    fp = folder / "{{ 7*191 }}.geojson"
    gpd.GeoDataFrame(geometry=[B(100, 100, 300, 300)], crs=CRS).to_file(fp)
    rows = [{"项目编号": "=1+1", "项目名称": EVIL, "wkt": _geo(B(100, 100, 300, 300)).wkt,
             "文件": ""},
            {"项目编号": "{{ 7*191 }}", "项目名称": "@SUM(A1)", "wkt": "",
             "文件": fp.name},
            {"项目编号": "-2", "项目名称": "a\x00b\x0bc", "wkt": "POINT EMPTY", "文件": ""}]
    p = folder / "list.csv"
    with open(p, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return p


@pytest.fixture(scope="module")
def evil_run(mini, tmp_path_factory):
    folder = tmp_path_factory.mktemp("evil")
    lst = _evil_list(folder)
    out = folder / "out[/x]"
    r = CliRunner().invoke(main, ["screen", str(lst), "--catalog", str(mini), "--out", str(out),
                                  "--basemap", "none"])
    return out, r


def test_screen_with_hostile_names_writes_every_output(evil_run):
    """Findings: {% if %} crashed the batch; NUL/\\x0b crashed the Excel writer; rich markup
    in a path raised MarkupError."""
    out, r = evil_run
    assert r.exit_code == 0, r.output
    assert "输入 3 行，输出 3 行" in r.output and "out[/x]" in r.output
    for name in ("screening.xlsx", "results.json", "failed_rows.csv", "maps/index.html"):
        assert (out / name).exists(), name
    pages = list((out / "maps").glob("*.html"))
    assert len(pages) == 3  # two project maps and the index
    for page in pages:
        _assert_inert(page.read_text("utf-8"))


def test_spreadsheet_cells_are_never_formulas(evil_run):
    """Finding: names or ids starting with = + - @ became live formulas (OWASP CSV injection)."""
    from openpyxl import load_workbook

    out, _ = evil_run
    wb = load_workbook(out / "screening.xlsx")
    ws = wb["汇总"]
    cells = [c for row in ws.iter_rows(min_row=2) for c in row]
    assert not [c.value for c in cells if c.data_type == "f"]
    ids = [ws.cell(row=i, column=2).value for i in range(2, 5)]
    assert ids == ["'=1+1", "{{ 7*191 }}", "'-2"]
    assert ws.cell(row=3, column=3).value == "'@SUM(A1)"
    assert ws.cell(row=4, column=3).value == "abc"  # NUL and \x0b removed
    failed = list(csv.reader(io.StringIO((out / "failed_rows.csv").read_text("utf-8-sig"))))
    assert failed[1][1] == "'-2"


@pytest.mark.parametrize("value,expected", [
    ("=HYPERLINK(\"x\")", "'=HYPERLINK(\"x\")"), ("+1", "'+1"), ("-1", "'-1"), ("@a", "'@a"),
    ("\tx", "'\tx"), ("\rx", "'\rx"), ("ok", "ok"), ("a\x00\x0b\x1fb", "ab"), (3, 3),
])
def test_cell_text(value, expected):
    assert cell_text(value) == expected


def test_hostile_names_stay_text_in_chromium(evil_run, tmp_path):
    """The payloads show as the literal text they are; nothing runs, nothing errors."""
    from .test_maps import _open

    out, _ = evil_run
    page = next(p for p in (out / "maps").glob("0000*.html"))
    dom, console = _open(page, tmp_path)
    assert not [c for c in console if "Uncaught" in c or "Error" in c], console
    assert not re.search(r"(?<![0-9.])1337(?![0-9.])", dom) and "{{ 7*191 }}" in dom
    assert "<script>alert(1)" not in dom


def test_check_cli_name_and_file_name_reach_the_map_as_text(mini, tmp_path):
    """--name and a footprint file name (the project id) are user text too."""
    fp = tmp_path / "{{ 7*191 }}.geojson"
    gpd.GeoDataFrame(geometry=[B(100, 100, 300, 300)], crs=CRS).to_file(fp)
    page = tmp_path / "m.html"
    r = CliRunner().invoke(main, ["check", str(fp), "--catalog", str(mini), "--name", EVIL,
                                  "--map", str(page), "--basemap", "none"])
    assert r.exit_code == 0, r.output
    _assert_inert(page.read_text("utf-8"))
    assert "[bold]" in r.output  # markup in the name is printed, not interpreted


# --------------------------------------------------------------------------- geometry


SITE = "POLYGON ((106.6 26.5, 106.61 26.5, 106.61 26.51, 106.6 26.51, 106.6 26.5))"


@pytest.mark.parametrize("wkt,warning", [
    (f"MULTIPOLYGON ({SITE[8:]}, EMPTY)", "已去除 1 个空的组成部分"),
    (f"GEOMETRYCOLLECTION ({SITE}, POLYGON EMPTY)", "已去除 1 个空的组成部分"),
    ("POLYGON ZM ((106.6 26.5 1 2, 106.61 26.5 1 2, 106.61 26.51 1 2, 106.6 26.5 1 2))",
     "已去除 Z/M 值"),
    ("POLYGON M ((106.6 26.5 2, 106.61 26.5 2, 106.61 26.51 2, 106.6 26.5 2))",
     "已去除 Z/M 值"),
])
def test_repairable_geometry_is_repaired_with_a_warning(wkt, warning):
    """Finding: a polygon with an EMPTY part crashed GEOS (KilledWorker under dask)."""
    geom, kind, w = normalise(shapely.from_wkt(wkt), "EPSG:4490")
    assert kind == "polygon" and warning in " ".join(w)
    assert not shapely.has_z(geom) and geom.area > 0
    assert all(not p.is_empty for p in shapely.get_parts(geom))


@pytest.mark.parametrize("wkt,msg", [
    ("POLYGON ((106.6 26.5, 106.61 26.51, 106.62 26.52, 106.6 26.5))", "面积为零"),
    ("POLYGON ((106.6 26.5, 106.6 26.5, 106.6 26.5, 106.6 26.5))", "外环上不同的点不足 3 个"),
    ("LINESTRING (106.6 26.5, 106.6 26.5)", "上不同的点不足 2 个"),
    ("MULTIPOLYGON (EMPTY, EMPTY)", "几何为空"),
    ("POINT (106.6 NaN)", "NaN"),
])
def test_degenerate_geometry_is_an_error(wkt, msg):
    """Finding: a degenerate zero-area footprint inside a red line read 不涉及."""
    with pytest.raises(DataError, match=msg):
        normalise(shapely.from_wkt(wkt), "EPSG:4490")


def test_vertex_limit(monkeypatch):
    monkeypatch.setattr(LIMITS, "max_vertices", 4)
    with pytest.raises(ResourceLimitError, match="个顶点"):
        validate_geometry(shapely.from_wkt(SITE))


def test_custom_crs_wkt_is_an_error_row(tmp_path):
    """Finding: a custom CRS WKT stopped the whole batch."""
    local = ('LOCAL_CS["site grid",LOCAL_DATUM["x",0],UNIT["metre",1],AXIS["X",EAST],'
             'AXIS["Y",NORTH]]')
    p = tmp_path / "l.csv"
    pd_rows = [{"id": "a", "wkt": "POINT (10 10)", "crs": local},
               {"id": "b", "wkt": "POINT (106.6 26.5)", "crs": "EPSG:4490"},
               {"id": "c", "wkt": "POINT (1 1)", "crs": "PROJCS[garbage"}]
    with open(p, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=["id", "wkt", "crs"])
        w.writeheader()
        w.writerows(pd_rows)
    t = read_projects(p)
    assert list(t.status) == ["error", "ok", "error"]


# --------------------------------------------------------------------------- rows


def _list(tmp_path, rows, name="list.csv"):
    p = tmp_path / name
    keys = sorted({k for r in rows for k in r})
    with open(p, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=keys)
        w.writeheader()
        w.writerows(rows)
    return p


TXT_HEAD = "[属性描述]\n坐标系=2000国家大地坐标系\n几度分带=3\n带号={zone}\n[地块坐标]\n"
SQUARE = ("5,1.0,A,甲,面,,,,@\nJ1,1,2940000,371000\nJ2,1,2940000,371100\n"
          "J3,1,2940100,371100\nJ4,1,2940100,371000\nJ1,1,2940000,371000\n")


def test_bad_rows_become_error_rows_and_the_batch_goes_on(tmp_path):
    """Findings: 带号=nan, a one-point 线 parcel, a .zip that isn't, a corrupt parquet,
    CURVE/ZM WKT each stopped the batch."""
    (tmp_path / "nan.txt").write_text(TXT_HEAD.format(zone="nan") + SQUARE, encoding="utf-8")
    (tmp_path / "inf.txt").write_text(TXT_HEAD.format(zone="1e400") + SQUARE, encoding="utf-8")
    (tmp_path / "fake.zip").write_bytes(b"not a zip at all")
    (tmp_path / "bad.parquet").write_bytes(b"PAR1 corrupt")
    good = _geo(B(100, 100, 300, 300)).wkt
    rows = [{"id": "nan", "文件": "nan.txt"}, {"id": "inf", "文件": "inf.txt"},
            {"id": "zip", "文件": "fake.zip"}, {"id": "pq", "文件": "bad.parquet"},
            {"id": "curve", "wkt": "CURVEPOLYGON (CIRCULARSTRING (106 26, 106.1 26.1, 106 26))"},
            {"id": "ok", "wkt": good},
            {"id": "zm", "wkt": "POINT ZM (106.6 26.5 1 2)"}]
    t = read_projects(_list(tmp_path, rows))
    assert list(t.project_id) == ["nan", "inf", "zip", "pq", "curve", "ok", "zm"]
    assert list(t.status) == ["error"] * 5 + ["ok", "ok"]
    assert "带号" in t.error[0] and "带号" in t.error[1]
    assert "不是有效的 zip 压缩包" in t.error[2] and "无法读取 GeoParquet" in t.error[3]
    assert "不支持曲线几何" in t.error[4]


def test_csv_rows_longer_than_the_header(tmp_path):
    """Found by the hostile script: rows with more fields than the header made pandas use
    their leading fields as the index: every value shifted one column (silently wrong), or
    a traceback (int() of a tuple) for two extra fields or an unbalanced quote.  A long
    row is one error row and the others are read; a delimiter ending every line is
    dropped."""
    good = _geo(B(100, 100, 300, 300)).wkt
    head = "wkt,项目编号,项目名称\n"

    def read(name, body):
        p = tmp_path / name
        p.write_text(head + body, encoding="utf-8")
        return read_projects(p)

    t = read("trailing.csv", f'"{good}",A,甲,\n"{good}",B,乙,\n')
    assert list(t.project_id) == ["A", "B"] and list(t.name) == ["甲", "乙"]
    assert list(t.status) == ["ok", "ok"] and list(t.row) == [1, 2]
    for extra in (",x", ",x,y"):
        t = read("shifted.csv", f'"{good}",A,甲{extra}\n"{good}",B,乙{extra}\n')
        assert list(t.status) == ["error", "error"]
        assert "是否有逗号或引号放错了位置" in t.error[0]
    t = read("second.csv", f'"{good}",A,甲\n"{good}",B,乙,x\n"{good}",C,丙\n')
    assert list(t.status) == ["ok", "error", "ok"] and list(t.project_id[[0, 2]]) == ["A", "C"]
    assert "这一行有 4 个字段，而表头有 3 个" in t.error[1]
    t = read("quote.csv", f'"{good}",A,"甲,\n"{good}",B,乙\n"{good}",C,丙\n')
    # the open quote runs into the next line, as in any CSV reader: one error row, C is read
    assert list(t.project_id) == ["A", "C"] and list(t.status) == ["error", "ok"]


def test_a_path_pyogrio_would_read_as_a_uri_is_refused(tmp_path):
    """Found by the hostile script: pyogrio parses paths as URIs, so 'a;b.geojson' opened
    the file 'a' (another footprint, silently) and a '!' in a folder name looked for an
    archive member."""
    def geojson(path, g):
        path.write_text(gpd.GeoDataFrame(geometry=[g], crs="EPSG:4490").to_json(), "utf-8")

    near, far = _geo(B(100, 100, 300, 300)), _geo(B(-1900, 100, -1700, 300))
    geojson(tmp_path / "a", near)
    geojson(tmp_path / "a;b.geojson", far)
    (tmp_path / "d!x").mkdir()
    geojson(tmp_path / "d!x" / "c.geojson", far)
    for p in (tmp_path / "a;b.geojson", tmp_path / "d!x" / "c.geojson"):
        with pytest.raises(InputError, match="URI 的一部分"):
            read_footprint(p)
    (tmp_path / "d;x").mkdir()  # a ';' in a folder name is read as it is
    geojson(tmp_path / "d;x" / "c.geojson", far)
    t = read_footprint(tmp_path / "d;x" / "c.geojson")
    assert t.geometry.iloc[0].equals_exact(far, 1e-9)


def test_geopackages_and_shapefiles_are_written_where_pyogrio_would_misread_the_path(tmp_path):
    """Found on the way: `screen --out 结果!` ended in a pyogrio traceback (it read the '!' as
    an archive separator and wrote, or failed to write, 'x.tmp…/.overlaps.gpkg…' relative
    to the working folder); a shapefile named 'a;b.shp' was written as 'a'."""
    from zoning.io.parcels import read_parcels, write_parcels
    from zoning.io.write import write_layers

    out = tmp_path / "结果!x"
    gdf = gpd.GeoDataFrame({"id": ["A"]}, geometry=[_geo(B(100, 100, 300, 300))],
                           crs="EPSG:4490")
    write_layers(out / "overlaps.gpkg", {"overlaps": gdf})
    with sqlite3.connect(out / "overlaps.gpkg") as con:
        assert con.execute('SELECT count(*) FROM "overlaps"').fetchone() == (1,)
    txt = tmp_path / "site.txt"
    txt.write_text(TXT_HEAD.format(zone=36) + SQUARE.replace("371", "36371"), "utf-8")
    write_parcels(out / "a;b.shp", read_parcels(txt)[0])
    assert sorted(p.name for p in out.iterdir()) == [
        "a;b.cpg", "a;b.dbf", "a;b.prj", "a;b.shp", "a;b.shx", "overlaps.gpkg"]
    assert [p.name for p in tmp_path.iterdir() if p.name != "site.txt"] == ["结果!x"]


def test_a_csv_list_has_the_row_limit_of_a_workbook(tmp_path, monkeypatch):
    """Found on the way: the feature limit applied to XLSX lists and vector files, not to
    CSV lists (bounded only by their 200 MB text limit: millions of rows)."""
    good = _geo(B(100, 100, 300, 300)).wkt
    p = _list(tmp_path, [{"id": str(i), "wkt": good} for i in range(3)])
    monkeypatch.setattr(LIMITS, "max_features", 2)
    with pytest.raises(ResourceLimitError, match="清单有 3 行"):
        read_projects(p)
    monkeypatch.setattr(LIMITS, "max_features", 3)
    assert len(read_projects(p)) == 3


def test_txt_list_one_bad_parcel_is_one_error_row(tmp_path):
    """Finding: a one-point 线 parcel and 界址点数=1e400 raised out of the parser."""
    text = (TXT_HEAD.format(zone=36).replace("371", "36371") + SQUARE.replace("371", "36371")
            + "1e400,,L,线,线,,,,@\nJ1,1,2940000,36371000\n")
    p = tmp_path / "two.txt"
    p.write_text(text, encoding="utf-8")
    t = read_projects(p)
    assert list(t.status) == ["ok", "error"]
    assert "线状地块 L" in t.error[1]


@pytest.mark.parametrize("ch", ["\x0b", "\x0c", "\x1c", "\x85", "\u2028"])
def test_a_control_character_in_a_txt_parcel_name_does_not_split_its_line(ch):
    """Found by the hostile script: a \\x0b in a parcel name split the header line in two
    (str.splitlines), and a valid file was refused ("第 13 行不是坐标行")."""
    from zoning.io.parcel_txt import parse_txt

    text = TXT_HEAD.format(zone=36) + SQUARE.replace("371", "36371").replace("甲", f"甲{ch}乙")
    for nl in ("\n", "\r\n", "\r"):
        [p] = parse_txt(text.replace("\n", nl)).parcels
        assert not p.error and p.name == f"甲{ch}乙"
        assert p.area_m2 == pytest.approx(10_000)


def test_an_unexpected_exception_in_a_chunk_fails_only_its_row(mini, monkeypatch):
    """Per-row isolation in the wiring: a chunk that raises is re-run row by row."""
    import zoning.screen as zs
    from zoning.catalog import load_catalog

    real = zs.check_chunk

    def fragile(index, projects, opts):
        if any(p.project_id == "bad" for p in projects):
            raise RuntimeError("GEOS exploded")
        return real(index, projects, opts)

    monkeypatch.setattr(zs, "check_chunk", fragile)
    ps = [Project(row=i, project_id=pid, geometry=_geo(B(100 + i, 100, 300, 300)),
                  kind="polygon") for i, pid in enumerate(["a", "bad", "c"], start=1)]
    res = zs.screen_projects(ps, load_catalog(mini))
    assert [r.status for r in res] == ["ok", "error", "ok"]
    assert "RuntimeError" in res[1].error and "GEOS exploded" in res[1].error


def test_dask_partition_isolates_a_bad_row(mini):
    """The dask task screens its partition with the same isolation (no KilledWorker)."""
    from zoning.catalog import load_catalog
    from zoning.io.projects import project_table
    from zoning.scaleout import load_part, screen_part

    # an EMPTY part used to crash GEOS inside the check (a segfault: KilledWorker under dask)
    empty_part = shapely.multipolygons([_geo(B(100, 100, 300, 300)), shapely.Polygon()])
    flat = shapely.from_wkt("POLYGON ((106.6 26.5, 106.6 26.5, 106.6 26.5, 106.6 26.5))")
    t = project_table([dict(row=1, project_id="a", geometry=_geo(B(100, 100, 300, 300))),
                       dict(row=2, project_id="b", geometry=empty_part, kind="polygon"),
                       dict(row=3, project_id="c", geometry=flat, kind="polygon"),
                       dict(row=4, project_id="d", geometry=_geo(B(-300, 100, -100, 300)))])
    out = load_part(screen_part(t.assign(_pos=range(4)), [load_catalog(mini)], None, None))
    assert [r.project_id for _, r, _ in out] == ["a", "b", "c", "d"]
    assert [r.status for _, r, _ in out] == ["ok", "ok", "error", "ok"]
    b = out[1][1]
    assert "个空的组成部分" in " ".join(b.warnings) and b.state == out[0][1].state
    assert "不同的点不足 3 个" in out[2][1].error


def test_a_map_that_fails_is_reported_and_the_others_are_written(mini, tmp_path, monkeypatch):
    """Finding: a GEOS exception in clip_by_rect stopped every remaining map and index.html."""
    from zoning.catalog import load_catalog
    from zoning.options import CheckOptions
    from zoning.outputs import write_project_maps
    from zoning.screen import screen_projects

    cat = load_catalog(mini)
    geoms = {1: _geo(B(100, 100, 300, 300)), 2: _geo(B(-1900, 100, -1700, 300))}
    ps = [Project(row=r, project_id=str(r), geometry=g, kind="polygon") for r, g in geoms.items()]
    res = screen_projects(ps, cat)
    calls = {"n": 0}
    real = shapely.clip_by_rect

    def flaky(geoms, *a, **k):
        calls["n"] += 1
        raise shapely.errors.GEOSException("TopologyException: side location conflict")

    monkeypatch.setattr(shapely, "clip_by_rect", flaky)
    info = write_project_maps(res.results, geoms, [cat], CheckOptions(), tmp_path / "maps",
                              basemap="none")
    assert calls["n"] > 0 and info["maps"] == 2  # clipped the robust way instead
    monkeypatch.setattr(shapely, "clip_by_rect", real)

    import zoning.report.maps as rm

    def broken(result, *a, **k):
        if result.row == 1:
            raise ValueError("boom")
        return real_map(result, *a, **k)

    real_map = rm.project_map
    monkeypatch.setattr(rm, "project_map", broken)
    info = write_project_maps(res.results, geoms, [cat], CheckOptions(), tmp_path / "m2",
                              basemap="none")
    assert info["maps"] == 1
    index = (tmp_path / "m2" / "index.html").read_text("utf-8")
    assert "地图未生成" in index and "boom" in index


def test_a_table_row_without_kind_gets_the_same_verdict(mini):
    """Found on the way: a missing 'kind' cell read as the string 'nan' (pandas string
    dtype) and the footprint was checked as an unknown kind, silently wrong."""
    from zoning.catalog import load_catalog
    from zoning.io.projects import project_table
    from zoning.screen import screen

    g = _geo(B(100, 100, 300, 300))
    t = project_table([dict(row=1, project_id="a", geometry=g),
                       dict(row=2, project_id="b", geometry=g, kind="polygon")])
    a, b = screen(t, load_catalog(mini))
    assert a.state == b.state and a.state.value == "prohibited"


# --------------------------------------------------------------------------- containers


def _square(x0, y0, d=200):
    return B(x0, y0, x0 + d, y0 + d)


def test_every_layer_of_a_geopackage_is_read(tmp_path):
    """Finding: only the first layer of a GeoPackage was read (fail-open)."""
    p = tmp_path / "two.gpkg"
    gpd.GeoDataFrame({"name": ["a"]}, geometry=[_square(-1000, 5000)], crs=CRS).to_file(
        p, layer="outside")
    gpd.GeoDataFrame({"name": ["b"]}, geometry=[_square(100, 100)], crs=CRS).to_file(
        p, layer="in_redline")
    t = read_footprint(p)
    assert "2 个图层（outside, in_redline）合为一个项目范围读取" in t.warnings[0][0]
    assert t.geometry[0].area == pytest.approx(
        shapely.union_all([_geo(_square(-1000, 5000)), _geo(_square(100, 100))]).area)
    rows = read_projects(p)
    assert list(rows.name) == ["a", "b"]
    assert rows.source[1].endswith(":in_redline")


def _kml(folders: dict) -> str:
    def pm(g):
        coords = " ".join(f"{x},{y}" for x, y in _geo(g).exterior.coords)
        return (f"<Placemark><name>p</name><Polygon><outerBoundaryIs><LinearRing><coordinates>"
                f"{coords}</coordinates></LinearRing></outerBoundaryIs></Polygon></Placemark>")

    body = "".join(f"<Folder><name>{n}</name>{pm(g)}</Folder>" for n, g in folders.items())
    return ('<?xml version="1.0" encoding="UTF-8"?><kml xmlns="http://www.opengis.net/kml/2.2">'
            f"<Document>{body}</Document></kml>")


def test_every_folder_of_a_kml_and_every_kml_of_a_kmz_is_read(tmp_path):
    """Finding: a KML with several folders or a KMZ with several KMLs lost all but the first."""
    k = tmp_path / "two.kml"
    k.write_text(_kml({"A": _square(-1000, 5000), "B": _square(100, 100)}), encoding="utf-8")
    t = read_footprint(k)
    assert "2 个图层（A, B）" in t.warnings[0][0]
    assert t.geometry[0].area == pytest.approx(2 * _geo(_square(100, 100)).area, rel=1e-3)
    z = tmp_path / "two.kmz"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("doc.kml", _kml({"A": _square(-1000, 5000)}))
        zf.writestr("files/more.kml", _kml({"B": _square(100, 100)}))
    t = read_footprint(z)
    assert "doc.kml:A" in t.warnings[0][0] and "more.kml:B" in t.warnings[0][0]
    assert len(read_projects(z)) == 2


# --------------------------------------------------------------------------- output folder


def test_a_second_run_into_the_same_folder_is_refused(tmp_path):
    """Finding: two concurrent screens into one --out silently mixed their files."""
    from zoning.outputs import run_folder

    out = tmp_path / "run"
    with run_folder(out) as a:
        (a.tmp / "screening.log").write_text("first")
        with pytest.raises(OutputLockedError, match="正由另一次运行写入"):
            with run_folder(out, overwrite=True):
                pass
    assert (out / "screening.log").read_text() == "first"
    with run_folder(out, overwrite=True) as b:  # the lock is free again
        (b.tmp / "screening.log").write_text("second")
    assert (out / "screening.log").read_text() == "second"
    assert sorted(p.name for p in tmp_path.iterdir()) == [".run.lock", "run"]


def test_a_failed_run_leaves_the_old_folder_whole(tmp_path):
    from zoning.outputs import run_folder

    out = tmp_path / "run"
    with run_folder(out) as a:
        (a.tmp / "results.json").write_text("old")
    with pytest.raises(RuntimeError):
        with run_folder(out, overwrite=True) as b:
            (b.tmp / "results.json").write_text("new")
            raise RuntimeError("killed half way")
    assert [p.name for p in out.iterdir()] == ["results.json"]
    assert (out / "results.json").read_text() == "old"
    assert not list(tmp_path.glob(".run.tmp-*"))


def test_leftovers_of_a_killed_run_are_repaired(tmp_path):
    from zoning.outputs import run_folder

    out = tmp_path / "run"
    (tmp_path / ".run.tmp-123-abc").mkdir()  # staging folder of a killed run
    (tmp_path / ".run.tmp-123-abc" / "results.json").write_text("half")
    old = tmp_path / ".run.old-xyz"  # killed between the two renames: the old run moved away
    old.mkdir()
    (old / "results.json").write_text("old")
    with run_folder(out, overwrite=True) as stage:
        assert (out / "results.json").read_text() == "old"  # restored before anything else
        (stage.tmp / "results.json").write_text("new")
    assert (out / "results.json").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == [".run.lock", "run"]


def test_a_folder_with_other_files_is_not_swapped_away(tmp_path):
    from zoning.outputs import run_folder

    out = tmp_path / "mine"
    out.mkdir()
    (out / "thesis.docx").write_text("precious")
    with pytest.raises(OutputExistsError, match="不是空文件夹"):
        with run_folder(out, overwrite=True):
            pass
    assert (out / "thesis.docx").read_text() == "precious"


def _mini_results(mini):
    from zoning.catalog import load_catalog
    from zoning.screen import screen_projects

    cat = load_catalog(mini)
    ps = [Project(row=1, project_id="P1", geometry=_geo(B(100, 100, 300, 300)), kind="polygon")]
    return screen_projects(ps, cat), cat


def test_write_outputs_is_one_staged_locked_run(mini, tmp_path):
    """Found on the way: write_outputs wrote straight into the folder, beside whatever an
    older run left (its maps), and ignored the lock of a run writing the same folder."""
    from zoning.outputs import run_folder, write_outputs

    res, cat = _mini_results(mini)
    out = tmp_path / "run"

    def old_run(stage):  # an older run: tables and maps
        (stage.tmp / "results.json").write_text("old")
        (stage.tmp / "maps").mkdir()
        (stage.tmp / "maps" / "index.html").write_text("old maps")

    with run_folder(out) as stage:
        old_run(stage)
    with run_folder(out, overwrite=True) as stage:  # another run holds the folder
        old_run(stage)
        with pytest.raises(OutputLockedError, match="正由另一次运行写入"):
            write_outputs(out, res.results, res.overlaps, {}, res.counts, overwrite=True)
    assert (out / "results.json").read_text() == "old"
    with pytest.raises(OutputExistsError, match="已有上次的结果"):
        write_outputs(out, res.results, res.overlaps, {}, res.counts)
    paths = write_outputs(out, res.results, res.overlaps, {}, res.counts, overwrite=True,
                          catalogs=[cat])
    assert paths["json"] == out / "results.json"
    assert json.loads(paths["json"].read_text("utf-8"))["results"][0]["project_id"] == "P1"
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["failed_rows.csv", "overlaps.gpkg", "results.json", "screening.log", "screening.xlsx"])
    assert sorted(p.name for p in tmp_path.iterdir()) == [".run.lock", "run"]


def test_the_demo_is_written_as_one_staged_locked_run(tmp_path, monkeypatch):
    """Found on the way: the demo wrote its tables, maps and indicators straight into
    --out (a killed demo left a mix of two runs, two demos mixed their files)."""
    import zoning.demo.workflow as wf
    from zoning.outputs import run_folder

    out = tmp_path / "demo"
    with run_folder(out, names=("indicators-guiyang.html",)) as old:
        (old.tmp / "results.json").write_text("old")
        (old.tmp / "indicators-guiyang.html").write_text("old")

    def killed(folder, *a):
        (folder / "results.json").write_text("half")
        raise KeyboardInterrupt

    monkeypatch.setattr(wf, "_run", killed)
    with pytest.raises(KeyboardInterrupt):
        wf.run_demo(out)
    assert sorted(p.name for p in out.iterdir()) == ["indicators-guiyang.html", "results.json"]
    assert (out / "results.json").read_text() == "old"
    with run_folder(out, overwrite=True, names=("indicators-guiyang.html",)):
        with pytest.raises(OutputLockedError, match="正由另一次运行写入"):
            wf.run_demo(out)
    (out / "thesis.docx").write_text("precious")
    with pytest.raises(OutputExistsError, match="不是空文件夹|还有其他文件"):
        wf.run_demo(out)
    assert (out / "thesis.docx").read_text() == "precious"


def _snapshot(folder: Path) -> dict:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}


def test_sigkill_at_any_moment_leaves_the_old_or_the_new_run(mini, tmp_path):
    """Finding: a SIGKILL mid-run left new tables beside an old results.json and index.html."""
    import time

    from .faults import cli_process

    lst = _list(tmp_path, [{"id": str(i), "wkt": _geo(_square(100 + 50 * i, 100)).wkt}
                           for i in range(6)])
    out = tmp_path / "out"
    args = ["screen", str(lst), "--catalog", str(mini), "--out", str(out), "--basemap", "none",
            "--overwrite"]

    def run():
        proc = cli_process(args)
        proc.join(120)
        return proc.exitcode

    assert run() == 0
    old = _snapshot(out)
    assert "results.json" in old and "maps/index.html" in old

    def staged(name):
        return lambda: any((d / name).exists() for d in tmp_path.glob(".out.tmp-*"))

    moments = [lambda: bool(list(tmp_path.glob(".out.tmp-*"))),  # staging folder made
               staged("screening.xlsx"), staged("results.json"), staged("maps")]
    for when in moments:
        proc = cli_process(args)
        deadline = time.monotonic() + 120
        while proc.is_alive() and not when() and time.monotonic() < deadline:
            time.sleep(0.002)
        proc.kill()
        proc.join()
        now = _snapshot(out)
        assert set(now) == set(old), "the folder mixes two runs"
        if now != old:  # the new run got to its swap first: it must be whole
            assert len(json.loads(now["results.json"])["results"]) == 6
            assert now["maps/index.html"].count(b"<tr>") == 7
    assert run() == 0
    assert not list(tmp_path.glob(".out.tmp-*")) and not list(tmp_path.glob(".out.old-*"))


def _finishes(fn, seconds=30):
    """Run fn in a thread; fail (instead of hanging the suite) if it does not return."""
    box_ = {}

    def run():
        try:
            box_["value"] = fn()
        except BaseException as e:  # noqa: BLE001 - handed to the test
            box_["error"] = e

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(seconds)
    assert not t.is_alive(), "hung"
    if "error" in box_:
        raise box_["error"]
    return box_.get("value")


def test_zip_bomb_is_refused_before_expansion(tmp_path):
    """Finding: a 2 MB zip bomb took gigabytes of memory and disk."""
    z = tmp_path / "bomb.zip"
    with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("a.shp", b"\0" * 30_000_000)
    assert z.stat().st_size < 100_000
    with pytest.raises(ResourceLimitError, match="zip 炸弹"):
        read_footprint(z)


def test_archive_total_and_member_limits(tmp_path, monkeypatch):
    z = tmp_path / "many.kmz"
    with zipfile.ZipFile(z, "w") as zf:
        for i in range(5):
            zf.writestr(f"{i}.kml", "x" * 1000)
    monkeypatch.setattr(LIMITS, "max_archive_members", 4)
    with pytest.raises(ResourceLimitError, match="压缩包内有 5 个文件"):
        read_footprint(z)
    monkeypatch.setattr(LIMITS, "max_archive_members", 100)
    monkeypatch.setattr(LIMITS, "max_archive_bytes", 4000)
    with pytest.raises(ResourceLimitError, match="解压后为 5,000 字节"):
        read_footprint(z)


@pytest.mark.parametrize("member,attr,msg", [
    ("../../etc/x.kml", 0, "“..”路径"), ("/abs/x.kml", 0, "绝对路径"),
    ("link.kml", (0o120777 << 16), "符号链接"),
])
def test_archive_members_that_point_elsewhere_are_refused(tmp_path, member, attr, msg):
    z = tmp_path / "odd.kmz"
    with zipfile.ZipFile(z, "w") as zf:
        info = zipfile.ZipInfo(member)
        info.external_attr = attr
        zf.writestr(info, "/etc/passwd" if attr else "<kml/>")
    with pytest.raises(InputError, match=msg):
        read_footprint(z)


def test_file_size_and_feature_limits(tmp_path, monkeypatch):
    p = tmp_path / "three.geojson"
    gpd.GeoDataFrame({"name": list("abc")}, geometry=[_square(0, 0), _square(500, 0),
                                                      _square(1000, 0)], crs=CRS).to_file(p)
    monkeypatch.setattr(LIMITS, "max_features", 2)
    with pytest.raises(ResourceLimitError, match="要素超过 2 个"):
        read_projects(p)
    monkeypatch.setattr(LIMITS, "max_file_bytes", 100)
    with pytest.raises(ResourceLimitError, match="上限 100"):
        read_projects(p)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_fifos_and_devices_are_refused_not_read(tmp_path):
    """Finding: a FIFO or /dev/zero as a footprint, or in the 文件 column, hung."""
    fifo = tmp_path / "pipe.geojson"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match="不是普通文件"):
        _finishes(lambda: read_footprint(fifo))
    (tmp_path / "zero.txt").symlink_to("/dev/zero")
    with pytest.raises(InputError, match="不是普通文件"):
        _finishes(lambda: read_footprint(tmp_path / "zero.txt"))
    lst = _list(tmp_path, [{"id": "f", "文件": "pipe.geojson"}, {"id": "z", "文件": "zero.txt"}])
    t = _finishes(lambda: read_projects(lst))
    assert list(t.status) == ["error", "error"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_as_a_catalog_layer_is_refused_not_read(tmp_path):
    """Found by the hostile script after the prepared-store merge: a catalog layer whose
    path is a FIFO hung `check` (the GeoPackage window source opened it unchecked)."""
    import yaml

    from zoning.catalog import load_catalog
    from zoning.screen import check

    p = write_catalog(tmp_path)
    os.mkfifo(tmp_path / "pipe.gpkg")
    doc = yaml.safe_load(p.read_text("utf-8"))
    doc["layers"]["redline"]["path"] = "pipe.gpkg"
    p.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    r = _finishes(lambda: check(_geo(B(100, 100, 300, 300)), load_catalog(p)))
    red = next(lr for lr in r.layers if lr.kind == "eco_redline")
    assert red.state.value == "data_missing" and r.state.value == "data_missing"


def test_markup_in_catalog_names_is_printed_by_layers_validate(tmp_path):
    """Found by the hostile script after the prepared-store merge: a region or layer named
    '[/]' raised rich's MarkupError in the stores table of `layers validate`."""
    import yaml

    p = write_catalog(tmp_path, region_id="[/]")
    doc = yaml.safe_load(p.read_text("utf-8"))
    doc["layers"]["[/]"] = doc["layers"].pop("redline")
    p.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    r = CliRunner().invoke(main, ["layers", "validate", "--catalog", str(p)])
    assert r.exception is None or isinstance(r.exception, SystemExit), r.output
    assert "[/]" in r.output


def test_forged_dbf_record_count_is_refused(tmp_path):
    """Finding: a 147-byte DBF claiming 4·10⁹ records looped forever."""
    p = tmp_path / "s.shp"
    gpd.GeoDataFrame({"name": ["a"]}, geometry=[_square(0, 0)], crs=CRS).to_file(p)
    dbf = p.with_suffix(".dbf")
    raw = bytearray(dbf.read_bytes())
    raw[4:8] = (4_000_000_000).to_bytes(4, "little")
    dbf.write_bytes(bytes(raw))
    p.with_suffix(".cpg").unlink(missing_ok=True)
    with pytest.raises(ResourceLimitError, match="声明有 4,000,000,000 条记录"):
        _finishes(lambda: read_footprint(p))


def _gpkg_with_views(tmp_path) -> Path:
    p = tmp_path / "v.gpkg"
    gpd.GeoDataFrame({"name": [str(i) for i in range(60)]},
                     geometry=[_square(10 * i, 0, 5) for i in range(60)], crs=CRS).to_file(
        p, layer="pts")
    con = sqlite3.connect(p)
    con.execute("CREATE VIEW slow AS SELECT a.fid AS fid, a.geom AS geom, a.name AS name "
                "FROM pts a, pts b, pts c, pts d, pts e")
    con.execute("CREATE VIEW loop AS WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 "
                "FROM c) SELECT pts.fid AS fid, pts.geom AS geom FROM pts, c")
    for v in ("slow", "loop"):
        con.execute("INSERT INTO gpkg_contents (table_name, data_type, identifier, srs_id) "
                    "SELECT ?, 'features', ?, srs_id FROM gpkg_contents WHERE table_name='pts'",
                    (v, v))
        con.execute("INSERT INTO gpkg_geometry_columns SELECT ?, 'geom', geometry_type_name, "
                    "srs_id, z, m FROM gpkg_geometry_columns WHERE table_name='pts'", (v,))
    con.commit()
    con.close()
    return p


def test_gpkg_views_are_refused_or_time_limited(tmp_path, monkeypatch):
    """Finding: a GeoPackage view over a recursive CTE never returned."""
    p = _gpkg_with_views(tmp_path)
    with pytest.raises(ResourceLimitError, match="递归查询"):
        _finishes(lambda: read_vector(p, layer="loop"))
    monkeypatch.setattr(LIMITS, "read_timeout_s", 0.2)
    with pytest.raises(ResourceLimitError, match="超过 0.2 s 仍未完成"):
        _finishes(lambda: read_vector(p, layer="slow"))
    assert len(read_vector(p, layer="pts")) == 60


@pytest.mark.parametrize("where", [
    "fid IN (WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c) SELECT x FROM c)",
    "name = 'a'; DROP TABLE pts", "length(randomblob(1000000000)) > 0", "1=1 -- comment",
])
def test_catalog_where_clauses_must_be_simple_filters(tmp_path, where):
    """Finding: a catalog where: with a recursive CTE never returned."""
    import yaml

    from zoning.catalog import load_catalog

    p = write_catalog(tmp_path)
    doc = yaml.safe_load(p.read_text("utf-8"))
    doc["layers"]["farmland"]["where"] = where
    p.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    with pytest.raises(CatalogError, match="'farmland'.*where"):
        load_catalog(p)
    with pytest.raises(DataError):
        read_vector(tmp_path / "mini.gpkg", layer="farmland", where=where)


def test_simple_where_clauses_still_work(tmp_path):
    write_catalog(tmp_path)
    got = read_vector(tmp_path / "mini.gpkg", layer="farmland",
                      where="TBBH IN ('F1', 'F3') AND TBBH NOT LIKE 'X%'")
    assert sorted(got.TBBH) == ["F1", "F3"]


def test_yaml_aliases_are_refused(tmp_path):
    """Finding: a YAML billion-laughs catalog used 4.7 GB."""
    from zoning.catalog import load_catalog

    lol = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
        for p, c in zip("abcdefgh", "bcdefghi"))
    p = tmp_path / "lol.yaml"
    p.write_text(lol + "region: {id: x}\nlayers: *i\n", encoding="utf-8")
    with pytest.raises(CatalogError, match="不接受别名"):
        _finishes(lambda: load_catalog(p))


# --------------------------------------------------------------------------- disclosure


def test_list_paths_are_confined_to_the_list_folder(tmp_path):
    """Finding: the 文件 column read any file on the machine."""
    inside = tmp_path / "list"
    inside.mkdir()
    outside = tmp_path / "secret.geojson"
    gpd.GeoDataFrame(geometry=[_square(100, 100)], crs=CRS).to_file(outside)
    lst = _list(inside, [{"id": "rel", "文件": "../secret.geojson"},
                         {"id": "abs", "文件": str(outside)}])
    t = read_projects(lst)
    assert list(t.status) == ["error", "error"]
    assert all("清单所在文件夹以外" in e for e in t.error)
    assert list(read_projects(lst, allow_outside=True).status) == ["ok", "ok"]


def test_errors_never_quote_file_contents(tmp_path):
    """Finding: the TXT parser copied a file's first line into results, log and index.html."""
    (tmp_path / "creds.txt").write_text("root:SECRET-PASSWORD:0:0\nmore\n", encoding="utf-8")
    (tmp_path / "creds2.txt").write_text("[地块坐标]\nSECRET-LINE\n", encoding="utf-8")
    t = read_projects(_list(tmp_path, [{"id": "a", "文件": "creds.txt"},
                                       {"id": "b", "文件": "creds2.txt"}]))
    assert list(t.status) == ["error", "error"]
    assert "第 1 行: 既不是部标文件的属性行" in t.error[0]
    assert "SECRET" not in " ".join(t.error)


def test_cli_flag_allows_outside_paths(mini, tmp_path):
    inside = tmp_path / "list"
    inside.mkdir()
    gpd.GeoDataFrame(geometry=[_square(100, 100)], crs=CRS).to_file(tmp_path / "s.geojson")
    lst = _list(inside, [{"id": "rel", "文件": "../s.geojson"}])
    args = ["screen", str(lst), "--catalog", str(mini), "--no-maps"]
    r = CliRunner().invoke(main, args + ["--out", str(tmp_path / "o1")])
    assert r.exit_code == 0 and "检查 0 行，失败 1 行" in r.output
    r = CliRunner().invoke(main, args + ["--out", str(tmp_path / "o2"), "--allow-outside-paths"])
    assert r.exit_code == 0 and "检查 1 行，失败 0 行" in r.output


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize("change,where", [
    (lambda d: d["layers"]["redline"].update(fields={"pa_zone": 5}), "layers.redline.fields"),
    (lambda d: d["layers"]["redline"].update(id_field=["a", "b"]), "layers.redline.id_field"),
    (lambda d: d["layers"]["redline"].update(values=["x"]), "layers.redline.values"),
    (lambda d: d["layers"]["redline"].update(classes="x"), "layers.redline.classes"),
    (lambda d: d["layers"]["redline"].update(kind=["eco_redline"]), "kind"),
    (lambda d: d.update(region={"id": {"x": 1}}), "region.id"),
])
def test_catalog_value_types_are_messages_naming_the_key(tmp_path, change, where):
    """Finding: unvalidated catalog value types gave tracebacks."""
    import yaml

    from zoning.catalog import load_catalog

    p = write_catalog(tmp_path)
    doc = yaml.safe_load(p.read_text("utf-8"))
    change(doc)
    p.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    with pytest.raises(CatalogError) as e:
        load_catalog(p)
    msg = str(e.value)
    assert str(p) in msg and where.split(".")[-1] in msg
    assert where in msg or ("'redline'" in msg and where.startswith("layers.redline"))


def test_rule_and_access_files_are_schema_checked(tmp_path):
    import yaml

    from zoning.errors import RuleError
    from zoning.rules.access import load_access_rules
    from zoning.rules.three_lines import load_rules

    p = tmp_path / "r.yaml"
    p.write_text(yaml.safe_dump({"rules_version": 1, "layers": {"eco_redline": "abc"}}),
                 encoding="utf-8")
    with pytest.raises(RuleError, match="layers.eco_redline"):
        load_rules(p)
    d = tmp_path / "acc"
    d.mkdir()
    (d / "a.yaml").write_text(yaml.safe_dump({"access_version": 1, "jurisdiction": {
        "level": "national", "code": "000000"}, "rules": ["not a mapping"]}), encoding="utf-8")
    with pytest.raises(RuleError, match="rules.0"):
        load_access_rules(d)


@pytest.mark.parametrize("table", ['x"; DROP TABLE y; --', "a.b.c", "1abc", "s." + "x" * 70])
def test_postgis_identifiers_are_clear_messages(tmp_path, table):
    """Finding: injection attempts in PostGIS identifiers were refused only by a traceback."""
    import yaml

    from zoning.catalog import load_catalog

    p = write_catalog(tmp_path)
    doc = yaml.safe_load(p.read_text("utf-8"))
    lay = doc["layers"]["farmland"]
    lay.pop("path")
    lay.pop("layer")
    lay["postgis"] = {"dsn": "postgresql://nowhere/x", "table": table}
    p.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    with pytest.raises(CatalogError, match="postgis: 中的 table .* 应为"):
        load_catalog(p)


def test_negative_energy_and_infinite_tolerance_are_messages(mini, tmp_path):
    """Findings: a negative --energy turned a 两高 prohibition into review; --tolerance inf
    was accepted."""
    fp = tmp_path / "s.geojson"
    gpd.GeoDataFrame(geometry=[_square(-9000, -9000)], crs=CRS).to_file(fp)
    r = CliRunner().invoke(main, ["check", str(fp), "--catalog", str(mini), "--industry",
                                  "C2511", "--energy", "-5"])
    assert r.exit_code == 2 and "年综合能耗应为不小于 0 的有限数值" in r.output
    assert "Traceback" not in r.output
    r = CliRunner().invoke(main, ["check", str(fp), "--catalog", str(mini), "--tolerance",
                                  "inf"])
    assert r.exit_code == 2 and "--tolerance" in r.output and "有限数值" in r.output


def test_deeply_nested_wkt_is_refused_before_geos_parses_it(tmp_path):
    """Found by the hostile sweep: GEOMETRYCOLLECTION nested 100,000 deep crashed GEOS
    (SIGSEGV) and took the whole batch with it."""
    deep = "GEOMETRYCOLLECTION (" * 100_000 + "POINT (106.6 26.5)" + ")" * 100_000
    t = read_projects(_list(tmp_path, [{"id": "deep", "wkt": deep},
                                       {"id": "ok", "wkt": "POINT (106.6 26.5)"}]))
    assert list(t.status) == ["error", "ok"] and "WKT 嵌套了" in t.error[0]


@pytest.mark.parametrize("col,value", [("有限人为活动类别", "11"), ("有限人为活动类别", "abc"),
                                       ("重大项目类别", "{{7*7}}"), ("项目类型", "factory")])
def test_made_up_categories_are_errors(tmp_path, col, value):
    """A category outside the national vocabulary must not pass for a legal one."""
    t = read_projects(_list(tmp_path, [{"id": "a", "wkt": "POINT (106.6 26.5)", col: value},
                                       {"id": "b", "wkt": "POINT (106.6 26.5)", col: ""}]))
    assert list(t.status) == ["error", "ok"] and "无法识别的" in t.error[0]


def test_a_folder_is_not_a_list_or_a_footprint(tmp_path):
    """Found by the hostile sweep: a folder given as the list was read (GDAL opens folders)."""
    _list(tmp_path, [{"id": "a", "wkt": "POINT (106.6 26.5)"}])
    with pytest.raises(InputError, match="是文件夹，不是文件"):
        read_projects(tmp_path)
    with pytest.raises(InputError, match="是文件夹，不是文件"):
        read_footprint(tmp_path)


def test_blank_workbook_rows_are_no_projects(tmp_path):
    """Found by the hostile sweep: a blank (merged) row of a workbook became an extra row."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["项目编号", "wkt"])
    ws.append(["a", "POINT (106.6 26.5)"])
    ws.merge_cells("A3:B3")
    ws.append(["b", "POINT (106.6 26.5)"])
    wb.save(tmp_path / "l.xlsx")
    t = read_projects(tmp_path / "l.xlsx")
    assert list(t.project_id) == ["a", "b"] and list(t.row) == [1, 3]


def test_a_multipoint_with_one_point_in_the_red_line_is_a_hit(mini):
    """Found by the hostile sweep: contains(polygon, multipoint) is false unless every point
    is inside, so a multipoint half in a red line read 不涉及 (touches)."""
    from zoning.catalog import load_catalog
    from zoning.screen import check

    inside = _geo(shapely.Point(OX + 500, OY + 500))
    outside = _geo(shapely.Point(OX - 9500, OY + 9500))
    r = check(shapely.MultiPoint([outside, inside]), load_catalog(mini))
    red = r.layer("redline")
    assert red.relation == "contains_point" and red.state.value == "prohibited"


def test_more_refusals_found_by_the_sweep(mini, tmp_path):
    import yaml

    from zoning.catalog import load_catalog
    from zoning.errors import CRSError, OptionError
    from zoning.io.layers import read_layer
    from zoning.options import CheckOptions

    empty = tmp_path / "empty.geojson"
    empty.write_text('{"type": "FeatureCollection", "features": []}', encoding="utf-8")
    with pytest.raises(DataError, match="文件中没有要素"):
        read_footprint(empty)
    z = tmp_path / "locked.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("a.shp", b"x")
    raw = bytearray(z.read_bytes())
    raw[6] |= 1  # the "encrypted" flag of the local header …
    cd = raw.index(b"PK\x01\x02")
    raw[cd + 8] |= 1  # … and of the central directory entry
    z.write_bytes(bytes(raw))
    with pytest.raises(InputError, match="已加密"):
        read_footprint(z)
    doc = yaml.safe_load(mini.read_text("utf-8"))
    doc["layers"]["farmland"]["crs"] = "EPSG:99999"
    bad = tmp_path / "bad.yaml"
    (tmp_path / "mini.gpkg").write_bytes((mini.parent / "mini.gpkg").read_bytes())
    bad.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    with pytest.raises(CRSError, match="不是有效的坐标系"):
        read_layer(load_catalog(bad).layers["farmland"])
    with pytest.raises(OptionError, match="at most 1"):
        CheckOptions(tolerance_m2=1e9)
    t = read_projects(_list(tmp_path, [{"id": "a", "wkt": "POINT (106.6 26.5)",
                                        "建设性质": "拆除"}]))
    assert t.status[0] == "error" and "建设性质" in t.error[0]
    fp = tmp_path / "s.geojson"
    gpd.GeoDataFrame(geometry=[_square(-9000, -9000)], crs=CRS).to_file(fp)
    r = CliRunner().invoke(main, ["check", str(fp), "--catalog", str(mini), "--energy", "nan"])
    assert r.exit_code == 2 and "有限数值" in r.output


def test_outputs_where_a_folder_or_file_is_in_the_way_are_messages(mini, tmp_path):
    """Found by the hostile sweep: --map at a folder and --out below a file were tracebacks."""
    fp = tmp_path / "s.geojson"
    gpd.GeoDataFrame(geometry=[_square(-9000, -9000)], crs=CRS).to_file(fp)
    (tmp_path / "dir").mkdir()
    r = CliRunner().invoke(main, ["check", str(fp), "--catalog", str(mini), "--map",
                                  str(tmp_path / "dir"), "--basemap", "none"])
    assert r.exit_code == 1 and "是文件夹，不是文件" in r.output, r.output
    (tmp_path / "a-file").write_text("x")
    lst = _list(tmp_path, [{"id": "a", "wkt": _geo(_square(-9000, -9000)).wkt}])
    r = CliRunner().invoke(main, ["screen", str(lst), "--catalog", str(mini), "--no-maps",
                                  "--out", str(tmp_path / "a-file" / "out")])
    assert r.exit_code == 1 and "该位置已有同名文件" in r.output, r.output


def test_validate_reports_bad_encodings_and_unresolved_parameters(tmp_path):
    """Found by the hostile sweep: `layers validate` passed both."""
    import yaml

    from zoning.catalog import load_catalog
    from zoning.io.validate import validate_catalog

    p = write_catalog(tmp_path)
    doc = yaml.safe_load(p.read_text("utf-8"))
    doc["layers"]["farmland"]["encoding"] = "no-such-codec"
    p.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    with pytest.raises(CatalogError, match="不是已知的文本编码"):
        load_catalog(p)
    acc = tmp_path / "acc"
    acc.mkdir()
    (acc / "a.yaml").write_text(yaml.safe_dump({
        "access_version": 1, "jurisdiction": {"level": "national", "code": "000000"},
        "rules": [{"id": "E1", "dimension": "资源开发效率要求", "effect": "restrict",
                   "energy_tce": {"gte": "param:NOPE"}, "text": "x",
                   "source": {"doc": "d", "real": False}}]}, allow_unicode=True),
        encoding="utf-8")
    doc["layers"]["farmland"].pop("encoding")
    doc["access_rules"] = str(acc)
    p.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    reps = validate_catalog(load_catalog(p))
    acc_rep = next(r for r in reps if r.kind == "access_rules")
    assert any("param:NOPE" in e for e in acc_rep.errors)


def test_a_province_sized_footprint_is_refused(monkeypatch):
    """Found by the hostile sweep: a China-sized footprint ran for minutes."""
    with pytest.raises(ResourceLimitError, match="不是一个项目的用地范围"):
        normalise(box(100, 25, 110, 35), "EPSG:4490")
    monkeypatch.setattr(LIMITS, "max_footprint_km2", 2e6)
    assert normalise(box(100, 25, 110, 35), "EPSG:4490")[1] == "polygon"


def test_dollar_signs_in_names_are_text_in_report_figures():
    """Finding (review of this session's change): a name with "$…$" from a catalog or a list
    was parsed as matplotlib mathtext, and a malformed one failed the whole report."""
    import shapely

    from zoning.report import figures as F
    from zoning.results import State

    fp = shapely.box(106.60, 26.60, 106.62, 26.615)
    evil = "水源$x^$区 $\\frac{$"
    pngs = [F.detail_map_png(fp, [F.MapLayer("constraint", evil, [fp], ("#000", "#ccc"))],
                             [(evil, State.PROHIBITED, fp)], evil),
            F.location_map_png(fp, [(evil, fp)], evil, evil),
            F.verdict_chart_png([(State.PROHIBITED, evil, 1)], evil)]
    assert all(p.startswith(b"\x89PNG") for p in pngs)
