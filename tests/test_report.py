"""The filing outputs: the Word/PDF report, the console that answers first, maps copied alone."""

import io
import json
import os
import re
import shutil
import subprocess

import pytest
import shapely
from click.testing import CliRunner

from zoning.catalog import resolve_catalogs
from zoning.cli import main
from zoning.io.projects import read_footprint
from zoning.paths import seeds_dir
from zoning.report.filing import (
    SYNTHETIC_BANNER,
    boundary_points,
    land_class_rows,
    point_count,
)
from zoning.results import M2_PER_MU, CheckResult, FeatureHit, LayerResult, State
from zoning.screen import load_index, screen

EXAMPLES = seeds_dir() / "examples"
TXT = EXAMPLES / "红线.txt"


def _docx_text(path_or_bytes):
    from docx import Document

    src = io.BytesIO(path_or_bytes) if isinstance(path_or_bytes, bytes) else str(path_or_bytes)
    doc = Document(src)
    parts = [p.text for p in doc.paragraphs]
    for t in doc.tables:
        for row in t.rows:
            parts.append(" | ".join(c.text for c in row.cells))
    headers = [p.text for s in doc.sections for p in s.header.paragraphs]
    return "\n".join(parts), headers, doc


@pytest.fixture(scope="module")
def txt_check():
    table = read_footprint(TXT)
    cats = resolve_catalogs(region="guiyang")
    r = screen(table, cats).results[0]
    return r, table.geometry.iloc[0], load_index(cats[0])


@pytest.fixture(scope="module")
def txt_report(txt_check, tmp_path_factory):
    from zoning.outputs import write_report

    r, fp, index = txt_check
    out = tmp_path_factory.mktemp("report")
    return r, write_report(r, fp, index, out, pdf=False, input_name=TXT.name)


def test_detail_map_draws_what_the_html_maps_draw(txt_check):
    """The 关系详图 drew the 三调 地类 polygons (up to 400, a grey mesh) that the HTML maps
    and the review page leave to the 地类 table."""
    from zoning.report.filing import report_data

    r, fp, index = txt_check
    assert r.landuse and r.landuse["status"] == "ok"  # the region has a 三调 layer …
    kinds = {m.kind for m in report_data(r, fp, index).map_layers}
    assert "farmland" in kinds and "landuse" not in kinds  # … not drawn


def test_docx_holds_verdict_mu_and_boundary_points(txt_report):
    r, out = txt_report
    assert out["pdf"] is None and out["docx"].exists()
    text, headers, doc = _docx_text(out["docx"])
    farm = r.layer("farmland")
    assert r.state == State.PROHIBITED and farm.state == State.PROHIBITED
    assert "总体结论：禁止" in text
    mu = f"{farm.overlap_m2 / M2_PER_MU:,.3f}"  # 52.160 亩 on the shipped example
    assert re.search(rf"永久基本农田：禁止，重叠 [\d,.]+ m²（[\d.]+ 公顷，{re.escape(mu)} 亩）", text)
    # the 部标 TXT has 4 boundary points: J1…J4 and J1 again to close the ring
    assert "界址点 4 个" in text
    table = next(t for t in doc.tables if t.rows[0].cells[0].text == "点号")
    assert [row.cells[0].text for row in table.rows[1:]] == ["J1", "J2", "J3", "J4", "J1"]
    # X/Y in GK zone 36 as the survey file gives them (X = northing, Y = prefixed easting)
    assert table.rows[1].cells[2].text == "2958910.059"
    assert table.rows[1].cells[3].text == "36353098.588"
    for part in ("四至", "东至", "数据来源", "永久基本农田重叠面积按地类", "生态环境准入清单符合性分析表",
                 "结论的法律依据", "数据缺失/需补充信息", "《土地管理法》第三十五条"):
        assert part in text, part
    # synthetic bundled layers: a banner in every page header
    assert all(any(SYNTHETIC_BANNER in p.text for p in s.header.paragraphs)
               for s in doc.sections)
    assert headers[0] == SYNTHETIC_BANNER
    assert "{{" not in text and not any("{{" in h for h in headers)
    assert len(doc.inline_shapes) == 2  # location and detail maps
    # captions never orphaned at a page end: 表 captions keep with their table, figures
    # keep with their 图 captions
    caps = [p for p in doc.paragraphs if re.match(r"表\d+ ", p.text)]
    assert len(caps) >= 8 and all(p.paragraph_format.keep_with_next for p in caps)
    # the template's styles, written by id: headings, captions, the title, ruled tables
    styles = {p.style.name for p in doc.paragraphs}
    assert {"Title", "Heading 1", "Heading 2", "Caption"} <= styles
    assert all(p.style.name == "Caption" for p in caps)
    assert {t.style.name for t in doc.tables} == {"Table Grid"}
    # figures are opaque RGB PNGs (no alpha channel to compress)
    from PIL import Image

    for shape in doc.inline_shapes:
        blip = shape._inline.graphic.graphicData.pic.blipFill.blip
        png = doc.part.related_parts[blip.embed].blob
        assert Image.open(io.BytesIO(png)).mode == "RGB"
    # East Asian text is marked Chinese (the template said en-US: Japanese fallback glyphs)
    from docx.oxml.ns import qn

    lang = doc.styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault")) \
        .find(qn("w:rPr")).find(qn("w:lang"))
    assert lang.get(qn("w:eastAsia")) == "zh-CN"
    # the 三调 land use the catalog has is in the report too (it was only in the workbook)
    assert "用地现状（三调地类）" in text
    lu = {e["code"]: e["area"]["m2"] for e in r.landuse["level2"]}
    table = next(t for t in doc.tables if t.rows[0].cells[0].text == "三大类")
    got = {row.cells[2].text.split()[0]: float(row.cells[3].text.replace(",", ""))
           for row in table.rows[1:]}
    assert got == {k: pytest.approx(v, abs=0.01) for k, v in lu.items()} and "0103" in got
    assert sum(got.values()) == pytest.approx(r.area_m2, rel=1e-6)
    # rows never break across pages, and a short table (四至) stays on one page
    assert all(row._tr.xpath("./w:trPr/w:cantSplit") for t in doc.tables for row in t.rows)
    four = next(t for t in doc.tables if t.rows[0].cells[0].text == "方向")
    assert all(p.paragraph_format.keep_with_next for row in four.rows[:-1]
               for c in row.cells for p in c.paragraphs)
    pics = [p for p in doc.paragraphs if p._p.xpath(".//pic:pic")]
    assert len(pics) == 2 and all(p.paragraph_format.keep_with_next for p in pics)


def test_land_class_split_adds_up():
    lr = LayerResult("farmland", "farmland", "永久基本农田", State.PROHIBITED, overlap_m2=600.0,
                     hits=[FeatureHit("a", 100.0, attributes={"land_class": "水田"}),
                           FeatureHit("b", 200.0, attributes={"land_class": "旱地"}),
                           FeatureHit("c", 300.0, attributes={"land_class": "水田"}),
                           FeatureHit("d", 0.0, attributes={})])
    rows = land_class_rows(CheckResult(row=1, project_id="p", layers=[lr]))
    assert [(x["land_class"], x["patches"], x["m2"]) for x in rows] == [
        ("水田", 2, 400.0), ("旱地", 1, 200.0), ("未注明地类", 1, 0.0)]
    assert rows[0]["mu"] == pytest.approx(0.6)


def test_boundary_points_number_rings_and_close_them():
    outer = [(106.70, 26.55), (106.71, 26.55), (106.71, 26.56), (106.70, 26.56)]
    hole = [(106.703, 26.553), (106.705, 26.553), (106.705, 26.555)]
    pts = boundary_points(shapely.Polygon(outer, [hole]))
    assert [p["point"] for p in pts] == ["J1", "J2", "J3", "J4", "J1", "J5", "J6", "J7", "J5"]
    assert point_count(pts) == 7 and {p["ring"] for p in pts} == {0, 1}
    assert pts[0]["y"] > 36e6 and 2.9e6 < pts[0]["x"] < 3.0e6  # zone 36 prefix; northing
    line = boundary_points(shapely.LineString([(106.7, 26.5), (106.8, 26.6)]))
    assert [p["point"] for p in line] == ["J1", "J2"]


def test_user_template_keeps_letterhead_and_takes_text_literally(txt_check, tmp_path):
    from docx import Document

    from zoning.outputs import project_report

    t = Document()
    t.add_paragraph("某某市自然资源局 审查用表")
    t.add_paragraph("{{正文}}")
    t.add_paragraph("审查人：＿＿＿＿ 项目：{{项目名称}}")
    buf = io.BytesIO()
    t.save(buf)
    r, fp, index = txt_check
    odd = CheckResult(**{**r.__dict__, "name": "{{项目编号}} {% if 1 %}x{% endif %} <b>&"})
    _, docx = project_report(odd, fp, index, buf.getvalue())
    text, _, doc = _docx_text(docx)
    paras = [p.text for p in doc.paragraphs]
    assert paras[0] == "某某市自然资源局 审查用表"
    assert paras[-1] == "审查人：＿＿＿＿ 项目：{{项目编号}} {% if 1 %}x{% endif %} <b>&"
    assert "建设项目选址合规性分析报告" in paras[1:-1]
    assert "{{正文}}" not in text


def test_bad_template_is_a_clear_error(tmp_path):
    p = tmp_path / "old.doc"
    p.write_bytes(b"\xd0\xcf\x11\xe0 not a docx")
    r = CliRunner().invoke(main, ["report", str(TXT), "--template", str(p), "--out",
                                  str(tmp_path / "o"), "--no-pdf"])
    assert r.exit_code == 1 and "不是 Word .docx 文件" in r.output and "Traceback" not in r.output


def test_report_cli_writes_docx_and_pdf(tmp_path):
    """The shipped 部标 example: a .docx, and a .pdf whose text is Chinese (LibreOffice)."""
    from zoning.io.office import soffice_path

    if soffice_path() is None:
        if os.environ.get("CI"):
            pytest.fail("LibreOffice missing: `make office` installs it")
        pytest.skip("LibreOffice (soffice) not installed: make office")
    r = CliRunner().invoke(main, ["report", str(TXT), "--out", str(tmp_path)])
    assert r.exit_code == 0, r.output
    pdf = next(tmp_path.glob("*.pdf"))
    assert next(tmp_path.glob("*.docx")).stem == pdf.stem
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True,
                              timeout=60).stdout
        assert "选址合规性分析报告" in text and "界址点成果表" in text and "合成演示数据" in text


def test_report_without_libreoffice_still_writes_docx(tmp_path, monkeypatch):
    monkeypatch.setenv("ZONING_SOFFICE", str(tmp_path / "no-such-soffice"))
    r = CliRunner().invoke(main, ["report", str(EXAMPLES / "site.kml"), "--no-land",
                                  "--out", str(tmp_path)])
    assert r.exit_code == 0, r.output
    assert "未生成 PDF" in r.output and "LibreOffice" in r.output
    assert list(tmp_path.glob("*.docx")) and not list(tmp_path.glob("*.pdf"))


def test_batch_report_has_summary_table_and_chart(tmp_path):
    r = CliRunner().invoke(main, ["report", str(EXAMPLES / "项目清单.xlsx"), "--out",
                                  str(tmp_path), "--no-pdf"])
    assert r.exit_code == 0, r.output
    text, _, doc = _docx_text(tmp_path / "汇总报告.docx")
    assert "共 5 个项目" in text and "分析失败 1 个" in text
    assert "EX-004" in text and "磷化工配套项目（部标TXT）" in text
    assert len(doc.inline_shapes) == 1  # the verdict chart
    assert len(list(tmp_path.glob("EX-*_选址合规性分析报告.docx"))) == 4  # the failed row has none
    text, _, _ = _docx_text(tmp_path / "EX-004_选址合规性分析报告.docx")
    assert "项目类型 | 其他（other）" in text  # a coded value in the rule set's words
    # a line (EX-003): its overlaps are lengths, not "0.00 m²" beside "100.00%"
    text, _, doc = _docx_text(tmp_path / "EX-003_选址合规性分析报告.docx")
    assert "几何类型 | 线（线性工程）" in text
    heads = [" | ".join(c.text for c in t.rows[0].cells) for t in doc.tables]
    assert "图层 | 结论 | 空间关系 | 重叠长度 m | 占项目长度比例 | 最近距离 m" in heads
    assert not [h for h in heads if "重叠 m²" in h]
    # and its 三调 classes are named, not tabled at 0.00 m²
    assert "项目经过的地类：0302 竹林地" in text and not [h for h in heads if "三大类" in h]


# ------------------------------------------------------------------ console


def _lines(out: str) -> list[str]:
    return [x for x in out.splitlines() if x.strip()]


def test_check_names_what_lies_within_the_radius():
    """A newcomer asked for --radius 1000 and saw nothing about it in the short answer."""
    import re

    r = CliRunner().invoke(main, ["check", str(TXT), "--radius", "1000"])
    assert r.exit_code == 0, r.output
    [line] = [x for x in _lines(r.output) if x.startswith("检索半径内的要素：")]
    n = int(re.search(r"永久基本农田 (\d+) 个", line).group(1))
    assert n >= 14  # at least the 14 patches the site overlaps
    plain = CliRunner().invoke(main, ["check", str(TXT)])
    assert "检索半径内" not in plain.output


def test_check_answers_first_in_few_lines():
    r = CliRunner().invoke(main, ["check", str(TXT)])
    assert r.exit_code == 0, r.output
    lines = _lines(r.output)
    assert len(lines) <= 30
    assert lines[1].startswith("总体结论：禁止 (prohibited)")
    assert any("永久基本农田：禁止" in x and "亩" in x and "公顷" in x for x in lines)
    # layers without a conflict are listed under their verdict's words
    assert any(x.startswith("见准入清单：河流岸线") for x in lines)
    assert not any(x.startswith("不涉及：") and "河流岸线" in x for x in lines)
    assert "\x1b[" not in r.output and "┃" not in r.output  # plain when not a terminal
    detail = CliRunner().invoke(main, ["check", str(TXT), "--detail"])
    assert len(_lines(detail.output)) > len(lines) and "符合性分析表" in detail.output


def test_site_outside_every_region_says_so(tmp_path):
    p = tmp_path / "beijing.geojson"
    p.write_text('{"type":"Feature","properties":{},"geometry":{"type":"Point",'
                 '"coordinates":[116.4,39.9]}}', "utf-8")
    r = CliRunner().invoke(main, ["check", str(p)])
    assert r.exit_code == 0, r.output
    assert "不在任何已配置区域" in r.output and "贵阳市" in r.output
    assert "0.00 m²" not in r.output


def test_check_of_a_list_and_errors_are_chinese_with_code(tmp_path):
    r = CliRunner().invoke(main, ["check", str(EXAMPLES / "项目清单.xlsx")])
    assert r.exit_code == 0 and "Traceback" not in r.output
    assert len(_lines(r.output)) == 6 and "EX-005 坐标缺失的项目：失败" in r.output
    bad = CliRunner().invoke(main, ["check", str(tmp_path / "missing.geojson"), "--json"])
    assert bad.exit_code == 1
    assert '"code": "input_error"' in bad.output or '"code": "data_error"' in bad.output
    assert "数据无法读取" in bad.output or "输入无法读取或理解" in bad.output


@pytest.mark.parametrize("region", ["贵阳市", "520100", "guiyang", "贵阳"])
def test_targets_accept_region_names_codes_and_ids(region):
    r = CliRunner().invoke(main, ["targets", "--region", region, "--json"])
    assert r.exit_code == 0, r.output
    assert '"region": "guiyang"' in r.output and '"region": "pingliang"' not in r.output


# ------------------------------------------------------------------ a map copied alone


def test_project_map_copied_alone_shows_footprint_and_overlaps(tmp_path):
    """A page of a screening's maps folder, as `zoning screen` writes it (its writer, on the
    list's first row: the other rows' maps are not under test), opened alone."""
    from tests.test_maps import _open
    from zoning.io.projects import read_projects
    from zoning.options import CheckOptions
    from zoning.outputs import write_project_maps

    table = read_projects(EXAMPLES / "项目清单.xlsx")
    cats, opts = resolve_catalogs(), CheckOptions(keep_geometry=True)
    res = screen(table, cats, options=opts)
    first = [r for r in res.results if r.project_id == "EX-001"]
    write_project_maps(first, dict(zip(table["row"], table.geometry)), cats, opts,
                       tmp_path / "run" / "maps")
    page = next((tmp_path / "run" / "maps").glob("*EX-001.html"))
    alone = tmp_path / "sent-by-wechat"
    alone.mkdir()
    shutil.copy(page, alone / "map.html")
    dom, console = _open(alone / "map.html", tmp_path)
    assert not [c for c in console if "Uncaught" in c or "Error" in c], console
    assert "项目范围" in dom and "重叠部分（按结论着色）" in dom
    # the overlaps are drawn filled in the prohibition red, the footprint dashed in black
    assert re.search(r'<path[^>]*stroke="#d50000"[^>]*fill="#d50000"', dom)
    assert re.search(r'<path[^>]*stroke="#000"[^>]*stroke-dasharray="6 4"', dom)


def test_point_in_core_zone_is_a_red_marker_with_zone_and_verdict_in_popups(tmp_path):
    from tests.test_maps import _open
    from zoning.outputs import save_map
    from zoning.report.maps import project_map
    from zoning.screen import check

    cat = resolve_catalogs(region="guiyang")[0]
    index = load_index(cat)
    pa = index.layers["protected_area"][0]
    core = pa.frame.geometry.values[list(pa.attr_arrays["zone"]).index("core")]
    site = shapely.Point(*reproject_geo(core.representative_point(), index.work_crs).coords[0])
    r = check(site, cat)
    assert r.layer("protected_area").state == State.PROHIBITED
    path = tmp_path / "point.html"
    save_map(project_map(r, site, index, basemap="none"), path)
    dom, console = _open(path, tmp_path)
    assert not [c for c in console if "Uncaught" in c], console
    assert re.search(r'<path[^>]*stroke="#000"[^>]*fill="#d50000"[^>]*fill-opacity="0.95"', dom)
    html = path.read_text("utf-8")

    def js(text):  # folium writes feature properties as ASCII-escaped JSON
        return json.dumps(text)[1:-1]

    assert all(js(t) in html for t in ("核心保护区", "分区", "结论", "禁止", "重叠部分"))
    # the legend lists what this map draws (it listed 13 fixed entries, 5 overlap states
    # among them, whatever the map showed), the footprint as a dashed outline, and the scale
    # bar is metric only
    legend = re.search(r"<b>图例</b>(.*?)</div></div>", html, re.S)[1]
    present = {lr.state.zh for lr in r.layers if lr.hits and lr.state != State.NOT_INTERSECTING}
    assert "重叠部分：禁止" in legend
    assert {x for x in re.findall(r"重叠部分：([^<]+)", legend)} == present
    assert State.MAJOR_PROJECT.zh not in present  # an entry the old legend always had
    assert "border:2px dashed #000" in legend
    assert legend.count("重叠部分：") == len(set(re.findall(r"重叠部分：[^<]+", legend)))
    assert "L.control.scale({imperial: false})" in html and "L.control.scale()" not in html


def reproject_geo(g, crs):
    from zoning.crs import reproject

    return reproject(g, crs, "EPSG:4490")


def test_number_columns_are_wide_enough_never_to_wrap():
    """A number wrapped in its cell ("39.682" over "6") misreads; text columns give way."""
    from zoning.report.filing import _auto_widths

    headers = ["图层", "结论", "空间关系", "重叠 m²", "公顷", "亩", "占项目比例", "最近距离 m"]
    rows = [("环境管控单元", "需补充信息（需人工核查）", "完全位于其内", "396,825.58", "39.6826",
             "595.238", "100.00%", "0.0"), ("压覆重要矿产资源", "不涉及", "不相交", "0.00",
                                            "0.0000", "0.000", "0.00%", "1,004.7")]
    w = _auto_widths(headers, rows, font=8)
    assert abs(sum(w) - 16.0) < 1e-9
    half = 0.0353 * 8 * 0.56
    for i, longest in ((3, 10), (4, 7), (5, 7), (6, 7), (7, 7)):
        assert w[i] >= longest * half + 0.4, (i, w)
    assert w[1] > w[4]  # the verdict text still gets the most room of the two


def test_graticule_labels_increase_across_whole_degrees():
    """Finding: the meridian of 107° was labelled 106°00′E and the parallel of 27° 26°00′N
    (106.99999…° cut at the degree before the minutes were rounded)."""
    from matplotlib.figure import Figure

    from zoning.crs import gk3_epsg, reproject
    from zoning.report.figures import _graticule

    crs = f"EPSG:{gk3_epsg(106.7)}"
    bounds = reproject(shapely.box(106.55, 26.55, 107.45, 27.45), "EPSG:4490", crs).bounds
    ax = Figure().add_subplot()
    _graticule(ax, crs, bounds)

    def minutes(labels, hemi):
        out = []
        for t in labels:
            mo = re.fullmatch(rf"(\d+)°(\d\d)′{hemi}", t.get_text())
            assert mo, t.get_text()
            out.append(int(mo[1]) * 60 + int(mo[2]))
        return out

    lon = minutes(ax.get_xticklabels(), "E")
    lat = minutes(ax.get_yticklabels(), "N")
    assert 107 * 60 in lon and 27 * 60 in lat
    assert lon == sorted(set(lon)) and lat == sorted(set(lat)), (lon, lat)


def test_figure_text_beyond_the_canvas_is_kept():
    """Finding: the summary chart's axis title 项目数 was cut in half (the figure, drawn once
    and cropped, was clamped to its canvas; savefig's tight box grows the canvas)."""
    from matplotlib.figure import Figure
    from PIL import Image

    from zoning.report.figures import _png

    fig = Figure(figsize=(2, 1), dpi=100)
    fig.text(0.5, -0.4, "count", ha="center")  # below the canvas, as an axis title can be
    fig.text(0.5, 0.5, "x")
    h = Image.open(io.BytesIO(_png(fig))).size[1]
    assert h > 100  # the canvas is 100 px high: the text below it is in the image
    inside = Figure(figsize=(2, 1), dpi=100)
    inside.text(0.1, 0.5, "x")
    inside.text(0.9, 0.5, "y")
    assert Image.open(io.BytesIO(_png(inside))).size[1] < 100  # cropped to what is drawn


def test_detail_map_legend_lies_below_the_map_frame(monkeypatch):
    """Finding: the 详图's legend covered boundary point J1, its label and an overlap."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    import zoning.report.figures as F

    seen = {}

    def grab(fig):
        canvas = FigureCanvasAgg(fig)
        canvas.draw()
        r = canvas.get_renderer()
        ax = fig.axes[0]
        seen["legend"] = ax.get_legend().get_window_extent(r)
        seen["frame"] = ax.get_window_extent(r)
        return b""

    monkeypatch.setattr(F, "_png", grab)
    fp = shapely.box(106.60, 26.60, 106.62, 26.615)
    F.detail_map_png(fp, [], [("永久基本农田", State.PROHIBITED, fp)], "详图",
                     points=[("J1", 106.62, 26.60)])
    assert not seen["legend"].overlaps(seen["frame"])
    assert seen["legend"].y1 < seen["frame"].y0  # under it


def test_check_land_use_line_for_a_point_and_an_area():
    """Findings: a point's 三调 line read 工矿仓储用地 0.000 亩, and 其中永久基本农田 read as a
    part of the 三调 classes (it is a layer of its own, and they need not agree)."""
    point = CliRunner().invoke(main, ["check", "106.643588,26.616346", "--coord-sys", "gcj02"])
    [line] = [x for x in point.output.splitlines() if x.startswith("国土调查地类图斑")]
    assert "：位于" in line and "亩" not in line
    area = CliRunner().invoke(main, ["check", str(EXAMPLES / "红线.txt")])
    [line] = [x for x in area.output.splitlines() if x.startswith("国土调查地类图斑")]
    assert "耕地" in line and "亩" in line and "其中永久基本农田" not in line
    assert "另：占用永久基本农田（永久基本农田图层）52.160 亩" in line


def test_a_centreline_report_counts_farmland_patches_without_areas():
    """Finding: a 66.6 km roadbed's report tabled 87 farmland patches at 0.00 m² each."""
    import csv

    from zoning.outputs import project_report
    from zoning.screen import check

    rows = {r["项目编号"]: r for r in csv.DictReader(
        (seeds_dir() / "projects" / "sample_projects.csv").open(encoding="utf-8-sig"))}
    line = shapely.from_wkt(rows["GY-004"]["wkt"])
    r = check(line, region="guiyang", takes_land=True)
    assert r.layer("farmland").hits and r.geometry_type == "line"
    _, docx = project_report(r, line, load_index(resolve_catalogs(region="guiyang")[0]))
    text, _, doc = _docx_text(docx)
    heads = [" | ".join(c.text for c in t.rows[0].cells) for t in doc.tables]
    assert "地类（DLMC） | 图斑数" in heads and "占用面积无法按中心线计算" in text
    assert not [h for h in heads if h.startswith("地类（DLMC）") and "面积" in h]
    assert "项目经过的地类：" in text


def test_project_map_names_each_constraint_layer_and_outlines_the_unit():
    """Findings: 饮用水水源保护区, 湿地 and 压覆矿产 were all one teal 管控图层 in the legend, and the
    control unit's overlap (the whole site) tinted the red overlaps under it magenta."""
    import csv

    from zoning.report.html import render_map
    from zoning.report.maps import project_map
    from zoning.screen import check

    rows = {r["项目编号"]: r for r in csv.DictReader(
        (seeds_dir() / "projects" / "sample_projects.csv").open(encoding="utf-8-sig"))}
    line = shapely.from_wkt(rows["GY-003"]["wkt"])
    index = load_index(resolve_catalogs(region="guiyang")[0])
    r = check(line, region="guiyang", takes_land=False)
    html = render_map(project_map(r, line, index, basemap="none"), assets_href="a")
    legend = dict((w, c) for c, w in re.findall(
        r"background:([^;]+);[^>]*></span>([^<]+)", re.search(r"<b>图例</b>(.*?)</div></div>",
                                                            html, re.S)[1]))
    assert "管控图层" not in legend
    assert {"饮用水水源保护区", "湿地"} <= set(legend)
    assert legend["饮用水水源保护区"] != legend["湿地"]
    # the unit's overlap (需补充信息 here) is an outline; the crossing's overlap is filled
    assert r.layer("control_unit").state is State.NEEDS_REVIEW
    assert '{"color": "#8e24aa", "fillColor": "#8e24aa", "fillOpacity": 0.0' in html
    assert '{"color": "#00acc1", "fillColor": "#00acc1", "fillOpacity": 0.6' in html
