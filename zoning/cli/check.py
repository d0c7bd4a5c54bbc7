"""``zoning check``: one footprint against every layer; the answer first.

By default about 20 lines: the verdict, the layers hit with their areas in
亩/公顷, what could not be decided, and the warnings.  ``--detail`` adds the
full per-layer table and the 三线一单 符合性分析表.  Output follows the
terminal width and is plain text (no colour, no box drawing) when redirected.
A project list (CSV/XLSX) is checked row by row with one line per project.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from rich.markup import escape
from rich.table import Table

from zoning.cli.common import (
    catalog_option,
    check_options,
    console,
    err_console,
    fmt,
    input_options,
    is_project_list,
    json_option,
    map_options,
    options_from,
    project_attrs,
    project_options,
    region_option,
    resolve,
    warn_map,
)

STATE_STYLE = {"prohibited": "bold red", "data_missing": "bold magenta",
               "needs_review": "magenta",
               "needs_major_project_approval": "yellow",
               "needs_limited_activity_certification": "yellow",
               "crossing_no_land_use": "cyan", "not_intersecting": "green"}
MARK = {"prohibited": "✗", "not_intersecting": "·", "crossing_no_land_use": "~",
        "needs_review": "?"}


def _style(state) -> str:
    return STATE_STYLE.get(getattr(state, "value", ""), "bold")


def _line(text: str, style: str = "", wrap: bool = False) -> None:
    """One output line: in a terminal cut (…) at its width unless ``wrap``; redirected, whole."""
    text = f"[{style}]{text}[/]" if style else text
    if not console.is_terminal:
        console.print(text, soft_wrap=True, highlight=False)
    elif wrap:
        console.print(text, highlight=False)
    else:
        console.print(text, overflow="ellipsis", no_wrap=True, highlight=False, crop=True)


def _area(m2: float) -> str:
    from zoning.results import M2_PER_HA, M2_PER_MU

    return f"{fmt(m2 / M2_PER_MU, 3)} 亩 / {fmt(m2 / M2_PER_HA, 4)} 公顷"


def _size(r) -> str:
    return (f"{_area(r.area_m2)} / {fmt(r.area_m2 / 1e6, 4)} km²" if r.geometry_type == "polygon"
            else
            f"长度 {fmt(r.length_m)} m" if r.geometry_type == "line" else "点位")


def _hit_line(lr) -> str:
    what = ""
    if lr.kind == "control_unit":
        what = "位于该管控单元" if lr.relation == "within" else f"占 {lr.share:.1%}"
    elif lr.overlap_m2:
        what = f"{_area(lr.overlap_m2)}，占 {lr.share:.1%}"
    elif lr.overlap_length_m:
        what = f"{fmt(lr.overlap_length_m)} m，占 {lr.share:.1%}"
    elif lr.relation == "contains_point":
        what = "点位于其内"
    feats = "、".join(_feature_label(h) for h in lr.hits[:3]) + (
        f" 等 {len(lr.hits)} 个" if len(lr.hits) > 3 else "")
    mark = MARK.get(lr.state.value, "!")
    parts = [p for p in (what, feats) if p]
    return (f"  {mark} {escape(lr.kind_zh)}：[{_style(lr.state)}]{escape(lr.state_zh)}[/]"
            + (f"  {escape('；'.join(parts))}" if parts else ""))


def _feature_label(h) -> str:
    a = h.attributes
    zone = {"core": "核心保护区", "general": "一般控制区"}
    extra = a.get("land_class") or zone.get(a.get("zone") or a.get("pa_zone"), "") or ""
    name = a.get("name") or ""
    label = h.feature_id + (f" {name}" if name else "")
    return label + (f"（{extra}）" if extra else "")


def _print_summary(r, region_name: str, region_names: list[str]) -> None:
    head = f"项目 {r.project_id}" + (f" {r.name}" if r.name and r.name != r.project_id else "")
    if not r.region:
        _line(f"{escape(head)} · {_size(r)}")
        _line(f"总体结论：[bold magenta]{escape(r.state_zh)}[/] ({r.state.value})")
        _line("  项目不在任何已配置区域的图层覆盖范围内"
              f"（已配置：{escape('、'.join(region_names)) or '无'}）：没有数据，不能判定，"
              "不能视为不涉及。", "magenta", wrap=True)
        _line("  提示：用 --catalog 指定覆盖该地点的图层目录，或核对坐标/坐标系（--crs）。")
        _warnings(r)
        return
    _line(f"{escape(head)} · {escape(region_name)} · {_size(r)}")
    _line(f"总体结论：[{_style(r.state)}]{escape(r.state_zh)}[/] ({r.state.value})")
    _line(f"[dim]面积算法：{escape(r.area_method)}[/]")
    for b in r.basis[:2]:
        _line(f"  依据：{escape(b)}", wrap=True)
    hit = [lr for lr in r.layers if lr.hits or lr.state.value != "not_intersecting"]
    if hit:
        _line("涉及图层：")
        for lr in hit:
            _line(_hit_line(lr))
    clear: dict[str, list] = {}  # by the words of their verdict: 不涉及, or a rule's label
    for lr in r.layers:
        if lr not in hit:
            clear.setdefault(lr.state_zh, []).append(lr)
    for words, lrs in sorted(clear.items(), key=lambda kv: kv[0] != "不涉及"):
        _line(f"{escape(words)}：" + "、".join(
            escape(lr.kind_zh) + (f"（最近 {_dist(lr.nearest_m)}）" if lr.nearest_m else "")
            for lr in lrs))
    near = [f"{escape(lr.kind_zh)} {len(lr.within_radius)} 个" for lr in r.layers
            if lr.within_radius]
    if near:  # --radius: features within the search distance (ids in --detail / --json)
        _line("检索半径内的要素：" + "、".join(near))
    if r.access:
        _access_line(r.access)
    if r.landuse:
        _landuse_line(r.landuse, r.geometry_type)
    _open_items(r)
    _warnings(r)
    _line("[dim]--detail 完整符合性分析表 · --json 供脚本 · zoning report 生成 Word/PDF 报告[/]")


def _landuse_line(lu, geometry_type: str = "polygon") -> None:
    """三调 地类 in one line: 一级类 areas in 亩 (a point or line: the classes it lies in),
    and the 永久基本农田 taken (a layer of its own, not a part of the 三调 classes)."""
    if lu["status"] != "ok":
        _line(f"{escape(lu['kind_zh'])}：" + {"outside_coverage": "超出数据范围，未统计",
                                            "data_missing": "图层无法读取，未统计"}
              .get(lu["status"], lu["status"]), "magenta")
        return
    level1 = sorted(lu["level1"], key=lambda e: -e["area"]["m2"])
    if geometry_type != "polygon":  # no area to count: "0.000 亩" would read as none
        where = "位于" if geometry_type == "point" else "经过"
        _line(f"{escape(lu['kind_zh'])}：{where}" +
              ("、".join(escape(e["name"]) for e in level1) or "无"), wrap=True)
        return
    parts = "、".join(f"{escape(e['name'])} {e['area']['mu']:,.3f} 亩" for e in level1)
    farm = lu["permanent_farmland"]
    _line(f"{escape(lu['kind_zh'])}：{parts or '无'}；另：占用永久基本农田（永久基本农田图层）"
          + ("-" if farm is None else f"{farm['mu']:,.3f} 亩"), wrap=True)


def _dist(m: float) -> str:
    return f"{m / 1000:.1f} km" if m >= 1000 else f"{m:.0f} m"


def _access_line(acc) -> None:
    from collections import Counter

    from zoning.rules.access import OUTCOME_ZH, clause_count

    c: Counter = Counter()  # clauses, not rows (a row may hold several undecided clauses)
    for f in acc["findings"]:
        if f["outcome"] != "not_applicable":
            c[f["outcome"]] += clause_count(f["rule_id"])
    counts = "，".join(f"{OUTCOME_ZH.get(k, k)} {n} 条" for k, n in c.most_common())
    units = "、".join(f"{u['code']}（{u['unit_class_zh']}）" for u in acc["units"][:2])
    _line(f"三线一单准入清单：{escape(OUTCOME_ZH.get(acc['outcome'], acc['outcome']))}"
          f"（{escape(units)}{'；' + escape(counts) if counts else ''}）")


def _open_items(r) -> None:
    decided = {"not_intersecting", "crossing_no_land_use", "prohibited",
               "needs_limited_activity_certification", "needs_major_project_approval"}
    items = [f"{lr.kind_zh}：{lr.state_zh}" for lr in r.layers if lr.state.value not in decided]
    items += [n for lr in r.layers for n in lr.notes]
    if items:
        _line("需补充/不能判定：")
        for it in items[:4]:
            _line(f"  ? {escape(it)}", "magenta")
        if len(items) > 4:
            _line(f"  … 另有 {len(items) - 4} 项（--detail）")


def _warnings(r) -> None:
    for w in r.warnings[:4]:
        _line(f"  ! 警告：{escape(w)}", "yellow", wrap=True)
    if len(r.warnings) > 4:
        _line(f"  … 另有 {len(r.warnings) - 4} 条警告（--detail）")


def _print_detail(r) -> None:
    """The full per-layer table, the 符合性分析表 and every warning."""
    from zoning.results import M2_PER_HA, M2_PER_MU

    t = Table(show_lines=True, title="各图层分析", expand=False)
    for col in ("图层", "结论", "重叠 m² / 公顷 / 亩", "占比", "最近距离 m", "涉及要素", "依据"):
        t.add_column(col, overflow="fold")
    for lr in r.layers:
        ids = "，".join(_feature_label(h) for h in lr.hits)
        area = "-" if not lr.overlap_m2 else (f"{fmt(lr.overlap_m2)} / "
                                              f"{fmt(lr.overlap_m2 / M2_PER_HA, 4)} / "
                                              f"{fmt(lr.overlap_m2 / M2_PER_MU, 3)}")
        t.add_row(escape(f"{lr.kind_zh}\n{lr.layer}"), lr.state_zh, area, f"{lr.share:.2%}",
                  fmt(lr.nearest_m), escape(ids) or "-",
                  escape(lr.basis + ("\n" + "；".join(lr.notes) if lr.notes else "")))
    console.print(t)
    if r.access:
        _print_access(r.access)
    if r.landuse:
        _print_landuse(r.landuse)
    for w in r.warnings:
        _line(f"! 警告：{escape(w)}", "yellow")


def _print_access(acc):
    from zoning.rules.access import OUTCOME_ZH

    console.print("[bold]生态环境准入清单符合性分析表[/]（三线一单）  结论："
                  f"{OUTCOME_ZH[acc['outcome']]}")
    console.print("所在环境管控单元：" + escape("；".join(
        f"{u['code']} {u['name']}（{u['unit_class_zh']}，占{u['share']:.1%}）"
        for u in acc["units"])))
    t = Table(show_lines=True)
    for col in ("管控单元", "管控维度", "层级/条款", "清单要求（原文）", "分析", "结论"):
        t.add_column(col, overflow="fold")
    for f in acc["findings"]:
        tag = "" if f["real"] else "〔示例〕"
        t.add_row(escape(str(f["unit_code"])), escape(str(f["dimension"])),
                  escape(f"{f['jurisdiction']}\n{f['rule_id']}"),
                  escape(f"{tag}{f['clause']}\n——{f['source']}"), escape(f["finding"]),
                  f["outcome_zh"])
    console.print(t)


def _print_list(results) -> None:
    """One line per project of a list."""
    for r in results:
        head = f"{r.row:>3} {r.project_id}" + (f" {r.name}" if r.name and r.name != r.project_id
                                               else "")
        if not r.ok:
            _line(f"{escape(head)}：[bold red]失败[/] {escape(r.error)}")
            continue
        hit = "、".join(f"{lr.kind_zh}:{lr.state_zh}" for lr in r.layers
                       if lr.hits and lr.state.value != "not_intersecting")
        _line(f"{escape(head)}：[{_style(r.state)}]{escape(r.state_zh)}[/]"
              + (f"（{escape(hit)}）" if hit else ""))
    _line("[dim]每个项目的详情：zoning screen 清单 --out 目录（工作簿、地图），"
          "zoning report 清单（Word/PDF 报告）[/]")


def _check_list(path, cats, opts, as_json, read_kw, sheet=None) -> None:
    from zoning.io.projects import read_projects
    from zoning.screen import screen

    table = read_projects(path, sheet=sheet, **read_kw)
    res = screen(table, cats, options=opts)
    if as_json:
        click.echo(json.dumps([r.to_dict() for r in res], ensure_ascii=False, indent=2))
    else:
        _print_list(res.results)
    if not any(r.ok for r in res):
        sys.exit(1)


def read_input(footprint: str, read_kw: dict, towgs84, width, attrs: dict):
    """The project table of a footprint file or of coordinates typed on the command line."""
    from zoning.dms import looks_like_coordinates
    from zoning.io.projects import read_coordinates, read_footprint

    if not Path(footprint).exists() and looks_like_coordinates(footprint):
        return read_coordinates(footprint, crs=read_kw.get("crs"),
                                coord_sys=read_kw.get("coord_sys"), width_m=width, **attrs)
    return read_footprint(Path(footprint), **read_kw, towgs84=towgs84, width_m=width, **attrs)


def write_export_txt(table, path: Path) -> None:
    """Write the checked footprint as a 部标 TXT (3° zone of its centre, zone prefix)."""
    from zoning.io.txt_write import TxtParcelOut, write_txt

    row = table.iloc[0]
    info = {"项目名称": row["name"] or None, "项目代码": row["project_id"] or None}
    zh = {"industry": "行业代码", "nature": "建设性质", "takes_land": "是否占地"}
    for a, key in zh.items():
        v = row.get(a)
        if v is not None and v == v:
            info[key] = {True: "是", False: "否"}.get(v, v)
    write_txt(path, [TxtParcelOut(geometry=row.geometry, number=str(row["project_id"]),
                                  name=str(row["name"] or ""))], project_info=info)
    err_console.print(f"部标 TXT: {escape(str(path))}")


def _print_landuse(lu):
    head = f"[bold]{escape(lu['kind_zh'])}（{escape(lu['layer'])}）[/]"
    if lu["status"] != "ok":
        why = {"outside_coverage": "项目超出数据覆盖范围", "data_missing": "地类图层无法读取"}
        console.print(f"{head}：{why.get(lu['status'], lu['status'])}，未统计")
        return
    console.print(f"{head}  面积算法 {lu['area_method']}  合计 {fmt(lu['total']['m2'])} m²"
                  f"（项目 {fmt(lu['footprint']['m2'])} m²）")
    t = Table(show_lines=False)
    for col in ("三大类", "一级类", "二级类", "面积 m²", "公顷", "亩", "占比"):
        t.add_column(col)
    for e in lu["level2"]:
        a = e["area"]
        l1 = next((x["name"] for x in lu["level1"] if x["code"] == e["level1"]), "")
        t.add_row(e["group"] or "-", f"{e['level1']} {l1}", f"{e['code']} {escape(e['name'])}",
                  fmt(a["m2"]), fmt(a["ha"], 4), fmt(a["mu"], 3), f"{e['share']:.2%}")
    console.print(t)
    farm = lu["permanent_farmland"]
    console.print(f"耕地 {fmt(lu['cultivated']['mu'], 3)} 亩；永久基本农田 "
                  + ("-（目录无永久基本农田图层）" if farm is None else f"{fmt(farm['mu'], 3)} 亩"))
    if lu["declared"]:
        console.print("申报地类：" + "；".join(
            f"{escape(d['name'])} 申报 {fmt(d['declared']['ha'], 4)} / 三调 "
            f"{fmt(d['measured']['ha'], 4)} 公顷" + ("（差异超过 1%）" if d["flag"] else "")
            for d in lu["declared"]))


@click.command("check")
@click.argument("footprint")
@catalog_option
@region_option
@json_option
@input_options
@check_options
@project_options
@click.option("--detail", is_flag=True,
              help="Also print the full per-layer table and the 三线一单 符合性分析表.")
@click.option("--towgs84", help="7 parameters dx,dy,dz,rx,ry,rz,s (m, arc-seconds, ppm) to "
                                "convert a 西安80/北京54 input; a TXT's own 转换参数 otherwise.")
@click.option("--width", type=float,
              help="Total width (m) of a road or pipeline: the centreline is buffered W/2 "
                   "each side on the ellipsoid.")
@click.option("--export-txt", type=click.Path(path_type=Path),
              help="Also write the footprint as a 部标 TXT (CGCS2000, 3° zone with prefix).")
@click.option("--map", "map_file", type=click.Path(path_type=Path),
              help="Also write a Folium HTML map of the project to this file.")
@map_options
def check_cmd(footprint, catalogs, region, as_json, crs, coord_sys, encoding, src_layer,
              detail, towgs84, width, export_txt, map_file, basemap, tianditu_key, **kw):
    """Check one project footprint against every layer.

    FOOTPRINT is a vector file, KML/KMZ, DXF (--layer = CAD layer), 部标 TXT, or
    coordinates: "106.62,26.58", "106°37'12.5\"E,26°34'48\"N", or "lon,lat;lon,lat;…"
    for a line (with --width) or closed polygon.  A project list (CSV/XLSX) gives
    one line per project.
    """
    from zoning.screen import NEAR_CACHE, projects_from_table, screen_projects

    attrs = project_attrs(kw)
    name = kw.pop("name", "")
    opts = options_from(kw)
    cats = resolve(catalogs, region)
    read_kw = dict(crs=crs, coord_sys=coord_sys, encoding=encoding, layer=src_layer)
    if is_project_list(footprint):
        _check_list(Path(footprint), cats, opts, as_json, read_kw)
        return
    table = read_input(str(footprint), read_kw, towgs84, width, attrs)
    if name:
        table["name"] = name
    if export_txt:
        write_export_txt(table, export_txt)
    # one check: big layers are read only near the footprint (GeoPackage R-tree, prepared
    # stores), never whole; a map draws the layers around the site, so it reads them whole
    near = None if map_file else NEAR_CACHE
    r = screen_projects(projects_from_table(table), cats, options=opts, cache=near).results[0]
    if as_json:
        click.echo(json.dumps(r.to_dict(), ensure_ascii=False, indent=2))
    elif not r.ok:
        err_console.print(f"[bold red]项目 {escape(r.project_id)}：失败 {escape(r.error)}[/]",
                          soft_wrap=True)
    else:
        names = {c.region_id: c.region_name for c in cats}
        where = "、".join(names.get(x, x) for x in r.region.split("+")) if r.region else ""
        _print_summary(r, where, list(names.values()))
        if detail:
            _print_detail(r)
    if not r.ok:
        sys.exit(1)
    if map_file and r.region:
        from zoning.outputs import save_map
        from zoning.report.maps import project_map
        from zoning.screen import load_index

        first = r.region.split("+")[0]  # a footprint across regions: mapped with the first
        cat = next(c for c in cats if c.region_id == first)
        m = warn_map(project_map, r, table.geometry.iloc[0], load_index(cat, opts),
                     basemap=basemap, tianditu_key=tianditu_key, no_geometry=opts.no_geometry)
        size = save_map(m, map_file)
        err_console.print(f"地图 map: {escape(str(map_file))} ({size / 1024:.0f} KB)")
