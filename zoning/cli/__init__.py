"""The ``zoning`` command line: a thin layer over the library."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from zoning import __version__
from zoning.errors import ZoningError

console = Console()
err_console = Console(stderr=True)


class _Group(click.Group):
    """Report library errors as one clear message (exit status 2), not a traceback."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except (ZoningError, FileExistsError) as e:
            err_console.print(f"[bold red]错误 error:[/] {escape(str(e))}", highlight=False,
                              soft_wrap=True)
            sys.exit(2)


catalog_option = click.option(
    "--catalog", "catalogs", multiple=True, type=click.Path(path_type=Path),
    help="Catalog manifest (YAML) or folder of manifests; repeatable. Default: the bundled ones.")
region_option = click.option("--region", help="Region id, code or name (e.g. guiyang, 520100).")
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")


@click.group(cls=_Group)
@click.version_option(__version__, prog_name="zoning")
def main():
    """zoning: 建设项目选址合规筛查 — check project sites against 三区三线, 自然保护地 and 三线一单."""


# --------------------------------------------------------------------------- layers


@main.group(cls=_Group)
def layers():
    """Layer catalogs: list and validate."""


@layers.command("list")
@catalog_option
@region_option
@json_option
def layers_list(catalogs, region, as_json):
    """List every layer of the catalogs."""
    from zoning.catalog import resolve_catalogs

    cats = resolve_catalogs(catalogs, region)
    rows = []
    for cat in cats:
        for spec in cat.layers.values():
            rows.append(dict(
                region=cat.region_id, region_name=cat.region_name, layer=spec.name,
                kind=spec.kind, kind_zh=spec.kind_info.zh, path=str(spec.path),
                source_layer=spec.layer, crs=spec.crs, id_field=spec.id_field,
                fields={k: v for k, v in spec.fields.items()}, version=spec.version,
                source=spec.source, catalog=str(cat.path)))
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    t = Table(title="图层目录 layer catalog", show_lines=False)
    for col in ("区域", "图层", "类型", "文件", "CRS", "标识字段", "版本"):
        t.add_column(col, overflow="fold", no_wrap=col in ("区域", "类型"))
    for r in rows:
        src = Path(r["path"]).name + (f":{r['source_layer']}" if r["source_layer"] else "")
        t.add_row(r["region_name"], r["layer"], r["kind_zh"], src,
                  r["crs"] or "-", r["id_field"] or "-", r["version"])
    console.print(t)


def _print_reports(reports):
    from zoning.validate import summary_path

    t = Table(title="图层校验 layer validation")
    for col in ("区域", "图层", "类型", "状态", "要素数", "CRS", "编码", "无效/空几何", "问题"):
        t.add_column(col, overflow="fold")
    style = {"ok": "green", "warning": "yellow", "error": "bold red"}
    for r in reports:
        msgs = [f"✗ {m}" for m in r.errors] + [f"! {m}" for m in r.warnings] + \
               [f"· {m}" for m in r.notes]
        geo = "-" if r.invalid is None else f"{r.invalid}/{r.empty}"
        t.add_row(r.region, r.name, r.kind, f"[{style[r.status]}]{r.status}[/]",
                  "-" if r.features is None else f"{r.features:,}", r.crs or "-",
                  r.encoding or "-", geo, "\n".join(msgs) or summary_path(r.path))
    console.print(t)


@layers.command("validate")
@catalog_option
@region_option
@json_option
def layers_validate(catalogs, region, as_json):
    """Check files, layers, fields, CRS, geometry validity and encoding.

    Exits with status 1 when any layer has an error.
    """
    from zoning.catalog import resolve_catalogs
    from zoning.validate import validate_catalog

    reports = [r for cat in resolve_catalogs(catalogs, region) for r in validate_catalog(cat)]
    if as_json:
        click.echo(json.dumps([r.to_dict() for r in reports], ensure_ascii=False, indent=2))
    else:
        _print_reports(reports)
    n_err = sum(r.status == "error" for r in reports)
    if not as_json:
        console.print(f"{len(reports)} layers checked, {n_err} with errors, "
                      f"{sum(r.status == 'warning' for r in reports)} with warnings")
    if n_err:
        sys.exit(1)


@layers.command("import")
@click.option("--dsn", required=True, help="PostgreSQL connection string (or env:NAME).")
@click.option("--schema", default="zoning", show_default=True, help="Schema for the tables.")
@click.option("--write-catalog", "out_catalog", type=click.Path(path_type=Path),
              required=True, help="Write the catalog that points at the tables here.")
@click.option("--catalog-dsn", help="DSN to write into the new catalog (default: --dsn; "
                                    "e.g. env:ZONING_PG_DSN to keep passwords out of files).")
@catalog_option
@region_option
def layers_import(dsn, schema, out_catalog, catalog_dsn, catalogs, region):
    """Load a catalog's file layers into PostGIS (one transaction, GiST-indexed)."""
    from zoning.io.postgis import import_catalog, write_text

    cats = _resolve(catalogs, region)
    if len(cats) != 1:
        raise click.UsageError("import one region at a time: give --region or one --catalog")
    with console.status("importing …") as st:
        text, info = import_catalog(cats[0], dsn, schema=schema, catalog_dsn=catalog_dsn,
                                    log=lambda m: st.update(m))
    write_text(out_catalog, text)
    for table, i in info.items():
        console.print(f"  {table}: {i['features']:,} features"
                      + (" (+ subdivided helper table)" if i["subdivided"] else ""))
    console.print(f"catalog: {out_catalog}")


# --------------------------------------------------------------------------- seeds


@main.group(cls=_Group)
def seeds():
    """Bundled seed-region data and its generator."""


@seeds.command("generate")
@click.option("--out", "out_dir", required=True, type=click.Path(path_type=Path),
              help="Folder to write <region>/layers.gpkg and <region>/landcover.tif into.")
@click.option("--region", "regions", multiple=True,
              help="Region id (guiyang, pingliang, yunyang); repeatable. Default: all.")
@click.option("--scale", default=1.0, show_default=True,
              help="Multiplies the number of farmland patches (e.g. 20 for benchmarks).")
@click.option("--res-arcsec", default=1.0, show_default=True,
              help="Land-cover pixel size in arc-seconds (1 ≈ 30 m, 0.3333 ≈ 10 m).")
@click.option("--overwrite", is_flag=True, help="Replace existing output files.")
def seeds_generate(out_dir, regions, scale, res_arcsec, overwrite):
    """Regenerate the synthetic demo layers (deterministic)."""
    import geopandas as gpd

    from zoning.demo import synth
    from zoning.paths import seeds_dir

    specs = synth.load_specs(seeds_dir() / "regions.yaml")
    unknown = [r for r in regions if r not in specs]
    if unknown:
        raise click.BadParameter(f"unknown region(s) {unknown}; known: {sorted(specs)}",
                                 param_hint="--region")
    districts = gpd.read_file(seeds_dir() / "boundaries.gpkg", layer="districts")
    for slug in regions or sorted(specs):
        target = out_dir / slug
        if not overwrite and any((target / f).exists() for f in ("layers.gpkg", "landcover.tif")):
            raise FileExistsError(f"{target} already holds generated data (use --overwrite)")
        with console.status(f"generating {slug} …") as st:
            out = synth.generate(specs[slug], districts[districts.region == slug], scale=scale,
                                 res_arcsec=res_arcsec,
                                 log=lambda m, s=slug: st.update(f"{s}: {m}"))
            paths = synth.write_region(specs[slug], out, target, overwrite=True)
        console.print(f"[green]{slug}[/]: " + ", ".join(str(p) for p in paths.values()))
        console.print("  " + json.dumps(out.stats, ensure_ascii=False))


# --------------------------------------------------------------------------- targets


@main.command("targets")
@region_option
@json_option
def targets_cmd(region, as_json):
    """Indicator targets quoted from the seed plans."""
    from dataclasses import asdict

    from zoning.targets import load_targets

    ts = [t for t in load_targets() if not region or t.region == region]
    if as_json:
        click.echo(json.dumps([asdict(t) for t in ts], ensure_ascii=False, indent=2))
        return
    t = Table(title="规划目标 plan targets")
    for col in ("区域", "指标", "目标", "年份", "出处"):
        t.add_column(col, overflow="fold")
    sym = {"gte": "≥", "lte": "≤", "eq": "≈"}
    for x in ts:
        t.add_row(x.scope, x.indicator_zh, f"{sym[x.comparison]}{x.value:g}{x.unit}",
                  str(x.year or "-"), f"{x.source_title or x.source}\n“{x.quote}”")
    console.print(t)


# --------------------------------------------------------------------------- check / screen


def _check_options(f):
    opts = [
        click.option("--area-method", type=click.Choice(["ellipsoidal", "gk"]),
                     default="ellipsoidal", show_default=True,
                     help="ellipsoidal: geodesic area on the CGCS2000 ellipsoid (as the land "
                          "survey); gk: planar in the footprint's 3° Gauss–Krüger zone."),
        click.option("--radius", "radius_m", type=float, default=0.0, show_default=True,
                     help="Also list layer features within this distance (m)."),
        click.option("--min-area", "min_report_m2", type=float, default=0.0, show_default=True,
                     help="Reporting threshold (m²): smaller overlaps are noted, not judged."),
        click.option("--tolerance", "tolerance_m2", type=float, default=1e-4, show_default=True,
                     help="Geometric tolerance (m²): at or below it polygons only touch."),
    ]
    for o in reversed(opts):
        f = o(f)
    return f


def _input_options(f):
    opts = [
        click.option("--crs", help="CRS of the input when it has none (e.g. EPSG:4524)."),
        click.option("--coord-sys", type=click.Choice(["cgcs2000", "wgs84", "gcj02", "bd09"]),
                     help="Convert GCJ-02 (高德/腾讯) or BD-09 (百度) lon/lat; never automatic."),
        click.option("--encoding", help="Text encoding of a shapefile without .cpg (e.g. GBK)."),
        click.option("--layer", "src_layer", help="Layer of a multi-layer input file."),
    ]
    for o in reversed(opts):
        f = o(f)
    return f


def _map_options(f):
    opts = [
        click.option("--basemap", type=click.Choice(["osm", "tianditu", "amap", "none"]),
                     default="osm", show_default=True,
                     help="Map tiles: OpenStreetMap, 天地图 (needs a key), 高德 (GCJ-02, "
                          "warned), or none for offline use."),
        click.option("--tianditu-key", envvar="ZONING_TIANDITU_KEY",
                     help="天地图 key (or ZONING_TIANDITU_KEY)."),
    ]
    for o in reversed(opts):
        f = o(f)
    return f


def _warn_map(fn, *a, **k):
    """Run a map builder, printing GCJ-02 basemap warnings instead of Python warnings."""
    import warnings

    from zoning.report.maps import GCJ02Warning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", GCJ02Warning)
        out = fn(*a, **k)
    for w in caught:
        if issubclass(w.category, GCJ02Warning):
            err_console.print(f"[yellow]! {escape(str(w.message))}[/]")
    return out


def _options_from(kw):
    from zoning.options import CheckOptions

    try:
        return CheckOptions(area_method=kw["area_method"], radius_m=kw["radius_m"],
                            min_report_m2=kw["min_report_m2"], tolerance_m2=kw["tolerance_m2"])
    except ValueError as e:
        raise click.BadParameter(str(e)) from None


def _fmt(x, nd=2):
    return "-" if x is None else f"{x:,.{nd}f}"


def _print_check(r):
    from zoning.results import M2_PER_HA, M2_PER_MU

    head = f"项目 {r.project_id}" + (f" {r.name}" if r.name and r.name != r.project_id else "")
    if not r.ok:
        err_console.print(f"[bold red]{escape(head)}: 失败 {escape(r.error)}[/]", soft_wrap=True)
        return
    size = (f"面积 {_fmt(r.area_m2)} m² = {_fmt(r.area_m2 / M2_PER_HA, 4)} 公顷 = "
            f"{_fmt(r.area_m2 / M2_PER_MU, 3)} 亩" if r.geometry_type == "polygon" else
            f"长度 {_fmt(r.length_m)} m" if r.geometry_type == "line" else "点位")
    colour = {"prohibited": "bold red", "data_missing": "bold magenta",
              "needs_major_project_approval": "yellow",
              "needs_limited_activity_certification": "yellow",
              "crossing_no_land_use": "cyan", "not_intersecting": "green"}[r.state.value]
    console.print(f"{escape(head)}  区域 {r.region}  {size}")
    console.print(f"总体结论: [{colour}]{r.state.zh}[/] ({r.state.value})")
    t = Table(show_lines=True)
    for col in ("图层", "结论", "关系", "重叠面积 m² / 公顷 / 亩", "长度 m", "占比", "最近距离 m",
                "涉及要素", "依据"):
        t.add_column(col, overflow="fold")
    for lr in r.layers:
        ids = ", ".join(h.feature_id for h in lr.hits[:5]) + (
            f" …(+{len(lr.hits) - 5})" if len(lr.hits) > 5 else "")
        area = "-" if not lr.overlap_m2 else (f"{_fmt(lr.overlap_m2)} / "
                                              f"{_fmt(lr.overlap_m2 / M2_PER_HA, 4)} / "
                                              f"{_fmt(lr.overlap_m2 / M2_PER_MU, 3)}")
        t.add_row(f"{lr.kind_zh}\n{lr.layer}", lr.state.zh, lr.relation, area,
                  "-" if not lr.overlap_length_m else _fmt(lr.overlap_length_m),
                  f"{lr.share:.2%}", _fmt(lr.nearest_m), escape(ids) or "-",
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
    console.print("所在环境管控单元: " + "；".join(
        f"{u['code']} {u['name']}（{u['unit_class_zh']}，占{u['share']:.1%}）"
        for u in acc["units"]))
    t = Table(show_lines=True)
    for col in ("管控单元", "管控维度", "层级/条款", "清单要求（原文）", "分析", "结论"):
        t.add_column(col, overflow="fold")
    shown = [f for f in acc["findings"] if f["outcome"] != "not_applicable"]
    for f in shown:
        tag = "" if f["real"] else "〔示例〕"
        t.add_row(f["unit_code"], f["dimension"], f"{f['jurisdiction']}\n{f['rule_id']}",
                  escape(f"{tag}{f['clause']}\n——{f['source']}"), escape(f["finding"]),
                  f["outcome_zh"])
    if shown:
        console.print(t)
    n_na = len(acc["findings"]) - len(shown)
    if n_na:
        console.print(f"另有 {n_na} 条条款不适用（--json 可见全部）")


@main.command("check")
@click.argument("footprint", type=click.Path(path_type=Path))
@catalog_option
@region_option
@json_option
@_input_options
@_check_options
@click.option("--no-land", "no_land", is_flag=True,
              help="The project crosses without taking land (bridge, tunnel, aerial line).")
@click.option("--activity", help="有限人为活动 category 1–10 (自然资发〔2022〕142号).")
@click.option("--major-project", help="国家重大项目 category: central, military, transport, "
                                      "grid, energy, water, ndrc_infra, ndrc_mechanism.")
@click.option("--project-type", help="urban_construction, industrial_park, urban_residential, "
                                     "linear, special_siting, rural, other.")
@click.option("--industry", help="GB/T 4754-2017 industry code, e.g. C2614.")
@click.option("--nature", help="建设性质: 新建 / 扩建 / 改建.")
@click.option("--energy", "energy_tce", type=float, help="年综合能耗 (tce/year).")
@click.option("--name", default="", help="Project name for the report.")
@click.option("--map", "map_file", type=click.Path(path_type=Path),
              help="Also write a Folium HTML map of the project to this file.")
@_map_options
def check_cmd(footprint, catalogs, region, as_json, crs, coord_sys, encoding, src_layer,
              no_land, activity, major_project, project_type, industry, nature, energy_tce, name,
              map_file, basemap, tianditu_key, **kw):
    """Check one project footprint (any vector file, KML/KMZ or 部标 TXT) against every layer."""
    from zoning.screen import screen
    from zoning.io.projects import read_footprint

    opts = _options_from(kw)
    attrs = dict(takes_land=False if no_land else None, activity=activity,
                 major_project=major_project, project_type=project_type, industry=industry,
                 nature=nature, energy_tce=energy_tce)
    table = read_footprint(footprint, crs=crs, coord_sys=coord_sys, encoding=encoding,
                           layer=src_layer, **attrs)
    if name:
        table["name"] = name
    cats = _resolve(catalogs, region)
    res = screen(table, cats, options=opts)
    r = res.results[0]
    if as_json:
        click.echo(json.dumps(r.to_dict(), ensure_ascii=False, indent=2))
    else:
        _print_check(r)
    if not r.ok:
        sys.exit(2)
    if map_file and r.region:
        from zoning.screen import load_index
        from zoning.report.maps import project_map, save_map

        cat = next(c for c in cats if c.region_id == r.region)
        m = _warn_map(project_map, r, table.geometry.iloc[0], load_index(cat, opts),
                      basemap=basemap, tianditu_key=tianditu_key)
        size = save_map(m, map_file)
        err_console.print(f"map: {map_file} ({size / 1024:.0f} KB)")


def _resolve(catalogs, region):
    from zoning.catalog import resolve_catalogs

    return resolve_catalogs(catalogs, region)


@main.command("screen")
@click.argument("project_list", type=click.Path(path_type=Path))
@click.option("--out", "out_dir", required=True, type=click.Path(path_type=Path),
              help="Output folder for the Excel workbook, overlaps GeoPackage, JSON and log.")
@click.option("--overwrite", is_flag=True, help="Replace outputs already in --out.")
@click.option("--sheet", help="Excel sheet name (default: the first).")
@click.option("--chunk-size", default=500, show_default=True, help="Projects per work unit.")
@click.option("--no-maps", "no_maps", is_flag=True, help="Do not write per-project maps.")
@click.option("--engine", type=click.Choice(["local", "dask"]), default="local",
              show_default=True, help="local: this process; dask: a dask cluster.")
@click.option("--scheduler", help="Address of a running dask scheduler (default: start a "
                                  "LocalCluster on this machine).")
@click.option("--workers", default=2, show_default=True, help="LocalCluster worker processes.")
@catalog_option
@region_option
@_input_options
@_check_options
@_map_options
def screen_cmd(project_list, out_dir, overwrite, sheet, chunk_size, catalogs, region, crs,
               coord_sys, encoding, src_layer, no_maps, engine, scheduler, workers, basemap,
               tianditu_key, **kw):
    """Screen a project list (CSV/XLSX with WKT, lon/lat or file paths; or a vector file)."""
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                               TimeRemainingColumn)

    from zoning.screen import screen
    from zoning.io.projects import read_projects
    from zoning.report.tables import OUTPUT_FILES, write_outputs

    existing = [n for n in OUTPUT_FILES.values() if (out_dir / n).exists()]
    if existing and not overwrite:
        raise FileExistsError(f"{out_dir} already holds {', '.join(existing)} "
                              "(use --overwrite to replace them)")
    opts = _options_from(kw)
    opts.keep_geometry = True
    table = read_projects(project_list, crs=crs, coord_sys=coord_sys, encoding=encoding,
                          layer=src_layer, sheet=sheet)
    cats = _resolve(catalogs, region)
    with Progress(TextColumn("筛查 screening"), BarColumn(), MofNCompleteColumn(),
                  TimeRemainingColumn(), console=err_console) as prog:
        task = prog.add_task("screen", total=len(table))
        if engine == "dask":
            from zoning.scaleout import screen_dask

            res = screen_dask(table, cats, options=opts, chunk_size=chunk_size,
                              scheduler=scheduler, n_workers=workers,
                              progress=lambda k: prog.advance(task, k))
        else:
            res = screen(table, cats, options=opts, chunk_size=chunk_size,
                         progress=lambda k: prog.advance(task, k))
        prog.update(task, completed=len(table))
    counts = res.counts
    meta = {"input": str(project_list), "catalogs": ", ".join(str(c.path) for c in cats),
            "engine": engine,
            "area_method": opts.area_method, "tolerance_m2": opts.tolerance_m2,
            "min_report_m2": opts.min_report_m2, "radius_m": opts.radius_m}
    paths = write_outputs(out_dir, res.results, res.overlaps, meta, counts, overwrite=overwrite)
    assert counts["rows"] == len(table)
    console.print(f"{counts['rows']} rows in, {counts['rows']} rows out: {counts['ok']} checked, "
                  f"{counts['error']} failed")
    from zoning.results import State

    for s in State:
        if counts[s.value]:
            console.print(f"  {s.zh} ({s.value}): {counts[s.value]}")
    if not no_maps:
        paths["maps"] = _write_project_maps(res.results, table, cats, opts, out_dir / "maps",
                                            basemap, tianditu_key)
    for k, p in paths.items():
        console.print(f"  {k}: {p}")


def _write_project_maps(results, table, cats, opts, folder: Path, basemap, tianditu_key):
    """One map per checked project plus an index page; returns the index path."""
    from zoning.screen import load_index
    from zoning.report.maps import STATE_COLOUR, index_page, project_map, save_map

    geom_by_row = dict(zip(table["row"], table.geometry))
    by_region: dict = {}
    for r in results:
        by_region.setdefault(r.region or "", []).append(r)
    entries, total = [], 0
    cat_by_id = {c.region_id: c for c in cats}
    with console.status("writing maps …") as st:
        for rid, rs in by_region.items():
            index = load_index(cat_by_id[rid], opts) if rid in cat_by_id else None
            for r in rs:
                entry = dict(row=r.row, project_id=r.project_id, name=r.name,
                             state=(r.state.zh if r.state else f"失败：{r.error}"),
                             colour=STATE_COLOUR.get(r.state, "#333"), href="")
                if r.ok and index is not None and geom_by_row.get(r.row) is not None:
                    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_"
                                   for ch in str(r.project_id))[:60]
                    href = f"{r.row:05d}_{safe}.html"
                    m = _warn_map(project_map, r, geom_by_row[r.row], index, basemap=basemap,
                                  tianditu_key=tianditu_key)
                    size = save_map(m, folder / href, assets_dir=folder / "assets")
                    total += size
                    entry.update(href=href, size=f"{size / 1024:.0f} KB")
                    st.update(f"maps: {len(entries) + 1}/{len(results)}")
                entries.append(entry)
    idx = folder / "index.html"
    index_page(entries, idx, title=f"项目筛查地图（{len(entries)} 个项目）")
    console.print(f"  {sum(bool(e['href']) for e in entries)} maps, {total / 1e6:.1f} MB in all")
    return idx


# --------------------------------------------------------------------------- indicators


@main.command("indicators")
@catalog_option
@region_option
@json_option
@click.option("--map", "map_file", type=click.Path(path_type=Path),
              help="Write a choropleth map (HTML); with several regions, one per region "
                   "named FILE-<region>.html.")
@_map_options
def indicators_cmd(catalogs, region, as_json, map_file, basemap, tianditu_key):
    """Forest cover, 林草覆盖率 and protected-area share per district, against the plan targets."""
    from zoning.indicators import indicators
    from zoning.report.maps import region_map, save_map

    cats = _resolve(catalogs, region)
    out = []
    for cat in cats:
        ind = indicators(cat)
        out.append(ind)
        if map_file:
            target = map_file if len(cats) == 1 else map_file.with_name(
                f"{map_file.stem}-{cat.region_id}{map_file.suffix or '.html'}")
            size = save_map(_warn_map(region_map, ind, basemap=basemap,
                                      tianditu_key=tianditu_key), target)
            err_console.print(f"map: {target} ({size / 1024:.0f} KB)")
    if as_json:
        click.echo(json.dumps([i.to_dict() for i in out], ensure_ascii=False, indent=2,
                              default=float))
        return
    for ind in out:
        _print_indicators(ind)


def _print_indicators(ind):
    d = ind.districts
    t = Table(title=f"{ind.region_name} 分区县指标")
    cols = [("name", "区县", None), ("code", "代码", None), ("forest_cover", "森林覆盖率 %", 2),
            ("forest_grass_cover", "林草覆盖率 %", 2), ("protected_area_share", "自然保护地占比 %", 2)]
    cols = [c for c in cols if c[0] in d.columns]
    for _, label, _n in cols:
        t.add_column(label, overflow="fold")
    for rec in d.to_dict("records"):
        t.add_row(*[str(rec[c]) if n is None else f"{rec[c]:.{n}f}" for c, _l, n in cols])
    t.add_row(f"[bold]{ind.region_name}[/]", "全域",
              *[f"[bold]{ind.values[c]:.2f}[/]" if c in ind.values else "-"
                for c, _l, n in cols[2:]])
    console.print(t)
    c = Table(title=f"{ind.region_name} 与规划目标对比")
    for col in ("范围", "指标", "现状", "目标", "差距", "结论", "出处"):
        c.add_column(col, overflow="fold")
    word = {"met": "[green]达标[/]", "not_met": "[red]未达标[/]", "not_computed": "未计算"}
    for x in ind.comparisons:
        c.add_row(x.scope, x.indicator_zh, "-" if x.value is None else f"{x.value:.2f}%",
                  f"{'≥' if x.comparison == 'gte' else '≈'}{x.target:g}%（{x.year or '-'}）",
                  "-" if x.gap is None else f"{x.gap:+.2f}", word[x.status],
                  escape(f"{x.source}：“{x.quote}”" + (f"\n{x.note}" if x.note else "")))
    console.print(c)


# --------------------------------------------------------------------------- demo


@main.command("demo")
@click.option("--out", "out_dir", default="maps/out", show_default=True,
              type=click.Path(path_type=Path), help="Where to write the reports.")
def demo(out_dir):
    """The main job on the bundled data: validate, screen the sample list, compute indicators,
    write the Excel report and all maps."""
    from zoning.catalog import resolve_catalogs
    from zoning.paths import seeds_dir
    from zoning.validate import validate_catalog

    cats = resolve_catalogs()
    console.print(f"zoning {__version__}: {len(cats)} bundled regions: "
                  + ", ".join(f"{c.region_name} ({c.region_id})" for c in cats))
    console.rule("1. 图层校验 layer validation")
    reports = [r for cat in cats for r in validate_catalog(cat)]
    bad = [r for r in reports if r.status == "error"]
    console.print(f"{len(reports)} layers checked, {len(bad)} with errors")
    for r in bad:
        console.print(f"[red]{r.region}/{r.name}: {'; '.join(r.errors)}[/]")
    console.rule("2. 项目筛查 screening the sample project list")
    sample = seeds_dir() / "projects" / "sample_projects.csv"
    ctx = click.get_current_context()
    ctx.invoke(screen_cmd, project_list=sample, out_dir=out_dir, overwrite=True, sheet=None,
               chunk_size=500, catalogs=(), region=None, crs=None, coord_sys=None,
               encoding=None, src_layer=None, no_maps=False, engine="local", scheduler=None,
               workers=2, basemap="osm",
               tianditu_key=None, area_method="ellipsoidal", radius_m=1000.0,
               min_report_m2=0.0, tolerance_m2=1e-4)
    console.rule("3. 指标与规划目标 indicators against the plan targets")
    from zoning.indicators import indicators
    from zoning.io.vector import write_json
    from zoning.report.maps import region_map, save_map

    written = []
    for cat in cats:
        ind = indicators(cat)
        _print_indicators(ind)
        target = Path(out_dir) / f"indicators-{cat.region_id}.html"
        size = save_map(region_map(ind), target)
        written.append(f"{target} ({size / 1024:.0f} KB)")
        write_json(Path(out_dir) / f"indicators-{cat.region_id}.json", ind.to_dict())
    console.rule("4. 输出 outputs")
    console.print(f"screening workbook: {Path(out_dir) / 'screening.xlsx'}")
    console.print(f"project maps:       {Path(out_dir) / 'maps' / 'index.html'}")
    for w in written:
        console.print(f"indicator map:      {w}")
    console.print(f"[green]done[/]: everything is in {Path(out_dir).resolve()}")
    if bad:
        sys.exit(1)


if __name__ == "__main__":  # pragma: no cover
    main()
