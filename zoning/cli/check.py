"""``zoning check``: one footprint against every layer."""

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
    json_option,
    map_options,
    options_from,
    region_option,
    resolve,
    warn_map,
)


def _print_check(r):
    from zoning.results import M2_PER_HA, M2_PER_MU

    head = f"项目 {r.project_id}" + (f" {r.name}" if r.name and r.name != r.project_id else "")
    if not r.ok:
        err_console.print(f"[bold red]{escape(head)}: 失败 {escape(r.error)}[/]", soft_wrap=True)
        return
    size = (f"面积 {fmt(r.area_m2)} m² = {fmt(r.area_m2 / M2_PER_HA, 4)} 公顷 = "
            f"{fmt(r.area_m2 / M2_PER_MU, 3)} 亩" if r.geometry_type == "polygon" else
            f"长度 {fmt(r.length_m)} m" if r.geometry_type == "line" else "点位")
    colour = {"prohibited": "bold red", "data_missing": "bold magenta",
              "needs_major_project_approval": "yellow",
              "needs_limited_activity_certification": "yellow",
              "crossing_no_land_use": "cyan", "not_intersecting": "green"}[r.state.value]
    console.print(f"{escape(head)}  区域 {escape(str(r.region))}  {size}")
    console.print(f"总体结论: [{colour}]{r.state.zh}[/] ({r.state.value})")
    t = Table(show_lines=True)
    for col in ("图层", "结论", "关系", "重叠面积 m² / 公顷 / 亩", "长度 m", "占比", "最近距离 m",
                "涉及要素", "依据"):
        t.add_column(col, overflow="fold")
    for lr in r.layers:
        ids = ", ".join(h.feature_id for h in lr.hits[:5]) + (
            f" …(+{len(lr.hits) - 5})" if len(lr.hits) > 5 else "")
        area = "-" if not lr.overlap_m2 else (f"{fmt(lr.overlap_m2)} / "
                                              f"{fmt(lr.overlap_m2 / M2_PER_HA, 4)} / "
                                              f"{fmt(lr.overlap_m2 / M2_PER_MU, 3)}")
        t.add_row(escape(f"{lr.kind_zh}\n{lr.layer}"), lr.state.zh, escape(str(lr.relation)), area,
                  "-" if not lr.overlap_length_m else fmt(lr.overlap_length_m),
                  f"{lr.share:.2%}", fmt(lr.nearest_m), escape(ids) or "-",
                  escape(lr.basis + ("\n" + "；".join(lr.notes) if lr.notes else "")))
    console.print(t)
    if r.access:
        _print_access(r.access)
    for w in r.warnings:
        console.print(f"[yellow]! {escape(w)}[/]")


def _print_access(acc):
    from zoning.rules.access import OUTCOME_ZH

    console.print("[bold]生态环境准入清单符合性分析表[/] (三线一单)  结论: "
                  f"{OUTCOME_ZH[acc['outcome']]}")
    console.print("所在环境管控单元: " + escape("；".join(
        f"{u['code']} {u['name']}（{u['unit_class_zh']}，占{u['share']:.1%}）"
        for u in acc["units"])))
    t = Table(show_lines=True)
    for col in ("管控单元", "管控维度", "层级/条款", "清单要求（原文）", "分析", "结论"):
        t.add_column(col, overflow="fold")
    shown = [f for f in acc["findings"] if f["outcome"] != "not_applicable"]
    for f in shown:
        tag = "" if f["real"] else "〔示例〕"
        t.add_row(escape(str(f["unit_code"])), escape(str(f["dimension"])),
                  escape(f"{f['jurisdiction']}\n{f['rule_id']}"),
                  escape(f"{tag}{f['clause']}\n——{f['source']}"), escape(f["finding"]),
                  f["outcome_zh"])
    if shown:
        console.print(t)
    n_na = len(acc["findings"]) - len(shown)
    if n_na:
        console.print(f"另有 {n_na} 条条款不适用（--json 可见全部）")


def _energy(v):
    import math

    if v is not None and (not math.isfinite(v) or v < 0):
        raise click.BadParameter(f"{v!r}: 年综合能耗 must be a finite number ≥ 0 (tce/year)")
    return v


@click.command("check")
@click.argument("footprint", type=click.Path(path_type=Path))
@catalog_option
@region_option
@json_option
@input_options
@check_options
@click.option("--no-land", "no_land", is_flag=True,
              help="The project crosses without taking land (bridge, tunnel, aerial line).")
@click.option("--activity", help="有限人为活动 category 1–10 (自然资发〔2022〕142号).")
@click.option("--major-project", help="国家重大项目 category: central, military, transport, "
                                      "grid, energy, water, ndrc_infra, ndrc_mechanism.")
@click.option("--project-type", help="urban_construction, industrial_park, urban_residential, "
                                     "linear, special_siting, rural, other.")
@click.option("--industry", help="GB/T 4754-2017 industry code, e.g. C2614.")
@click.option("--nature", help="建设性质: 新建 / 扩建 / 改建.")
@click.option("--energy", "energy_tce", type=float, callback=lambda c, p, v: _energy(v),
              help="年综合能耗 (tce/year), a finite number ≥ 0.")
@click.option("--name", default="", help="Project name for the report.")
@click.option("--map", "map_file", type=click.Path(path_type=Path),
              help="Also write a Folium HTML map of the project to this file.")
@map_options
def check_cmd(footprint, catalogs, region, as_json, crs, coord_sys, encoding, src_layer,
              no_land, activity, major_project, project_type, industry, nature, energy_tce, name,
              map_file, basemap, tianditu_key, **kw):
    """Check one project footprint (any vector file, KML/KMZ or 部标 TXT) against every layer."""
    from zoning.io.projects import read_footprint
    from zoning.screen import screen

    opts = options_from(kw)
    attrs = dict(takes_land=False if no_land else None, activity=activity,
                 major_project=major_project, project_type=project_type, industry=industry,
                 nature=nature, energy_tce=energy_tce)
    table = read_footprint(footprint, crs=crs, coord_sys=coord_sys, encoding=encoding,
                           layer=src_layer, **attrs)
    if name:
        table["name"] = name
    cats = resolve(catalogs, region)
    res = screen(table, cats, options=opts)
    r = res.results[0]
    if as_json:
        click.echo(json.dumps(r.to_dict(), ensure_ascii=False, indent=2))
    else:
        _print_check(r)
    if not r.ok:
        sys.exit(1)
    if map_file and r.region:
        from zoning.outputs import save_map
        from zoning.report.maps import project_map
        from zoning.screen import load_index

        cat = next(c for c in cats if c.region_id == r.region)
        m = warn_map(project_map, r, table.geometry.iloc[0], load_index(cat, opts),
                      basemap=basemap, tianditu_key=tianditu_key)
        size = save_map(m, map_file)
        err_console.print(f"map: {escape(str(map_file))} ({size / 1024:.0f} KB)")

