"""``zoning indicators``: forest cover and protected-area share against the plan targets."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.markup import escape
from rich.table import Table

from zoning.cli.common import (
    catalog_option,
    console,
    err_console,
    json_option,
    map_options,
    region_option,
    resolve,
    warn_map,
)


@click.command("indicators")
@catalog_option
@region_option
@json_option
@click.option("--map", "map_file", type=click.Path(path_type=Path),
              help="Write a choropleth map (HTML); with several regions, one per region "
                   "named FILE-<region>.html.")
@map_options
def indicators_cmd(catalogs, region, as_json, map_file, basemap, tianditu_key):
    """Forest cover, 林草覆盖率 and protected-area share per district, against the plan targets."""
    from zoning.indicators import indicators
    from zoning.outputs import save_map
    from zoning.report.maps import region_map

    cats = resolve(catalogs, region)
    out = []
    for cat in cats:
        ind = indicators(cat)
        out.append(ind)
        if map_file:
            target = map_file if len(cats) == 1 else map_file.with_name(
                f"{map_file.stem}-{cat.region_id}{map_file.suffix or '.html'}")
            size = save_map(warn_map(region_map, ind, basemap=basemap,
                                      tianditu_key=tianditu_key), target)
            err_console.print(f"map: {escape(str(target))} ({size / 1024:.0f} KB)")
    if as_json:
        click.echo(json.dumps([i.to_dict() for i in out], ensure_ascii=False, indent=2,
                              default=float))
        return
    for ind in out:
        print_indicators(ind)


def print_indicators(ind):
    d = ind.districts
    t = Table(title=f"{ind.region_name} 分区县指标")
    cols = [("name", "区县", None), ("code", "代码", None), ("forest_cover", "森林覆盖率 %", 2),
            ("forest_grass_cover", "林草覆盖率 %", 2), ("protected_area_share", "自然保护地占比 %", 2)]
    cols = [c for c in cols if c[0] in d.columns]
    for _, label, _n in cols:
        t.add_column(label, overflow="fold")
    for rec in d.to_dict("records"):
        t.add_row(*[escape(str(rec[c])) if n is None else f"{rec[c]:.{n}f}" for c, _l, n in cols])
    t.add_row(f"[bold]{escape(str(ind.region_name))}[/]", "全域",
              *[f"[bold]{ind.values[c]:.2f}[/]" if c in ind.values else "-"
                for c, _l, n in cols[2:]])
    console.print(t)
    c = Table(title=escape(f"{ind.region_name} 与规划目标对比"))
    for col in ("范围", "指标", "现状", "目标", "差距", "结论", "出处"):
        c.add_column(col, overflow="fold")
    word = {"met": "[green]达标[/]", "not_met": "[red]未达标[/]", "not_computed": "未计算"}
    for x in ind.comparisons:
        c.add_row(escape(str(x.scope)), x.indicator_zh, "-" if x.value is None else f"{x.value:.2f}%",
                  f"{'≥' if x.comparison == 'gte' else '≈'}{x.target:g}%（{x.year or '-'}）",
                  "-" if x.gap is None else f"{x.gap:+.2f}", word[x.status],
                  escape(f"{x.source}：“{x.quote}”" + (f"\n{x.note}" if x.note else "")))
    console.print(c)

