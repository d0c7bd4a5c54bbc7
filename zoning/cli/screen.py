"""``zoning screen``: a project list, with the workbook, JSON, GeoPackage and maps."""

from __future__ import annotations

from pathlib import Path

import click
from rich.markup import escape

from zoning.cli.common import (
    catalog_option,
    check_options,
    console,
    err_console,
    input_options,
    map_options,
    options_from,
    region_option,
    resolve,
)


@click.command("screen")
@click.argument("project_list", type=click.Path(path_type=Path))
@click.option("--out", "out_dir", required=True, type=click.Path(path_type=Path),
              help="Output folder for the Excel workbook, overlaps GeoPackage, JSON and log.")
@click.option("--overwrite", is_flag=True, help="Replace outputs already in --out.")
@click.option("--sheet", help="Excel sheet name (default: the first).")
@click.option("--chunk-size", default=500, show_default=True, help="Projects per work unit.")
@click.option("--no-maps", "no_maps", is_flag=True, help="Do not write per-project maps.")
@click.option("--shared-assets", is_flag=True,
              help="Maps link one Leaflet copy in maps/assets/ instead of embedding it "
                   "(smaller; a map copied alone then renders blank).")
@click.option("--report", "reports", is_flag=True,
              help="Also write a 选址合规性分析报告 (.docx + .pdf) per project and a summary "
                   "report, in 报告/.")
@click.option("--template", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Word template (.docx) for --report (see zoning report --save-template).")
@click.option("--engine", type=click.Choice(["local", "dask"]), default="local",
              show_default=True, help="local: this process; dask: a dask cluster.")
@click.option("--scheduler", help="Address of a running dask scheduler (default: start a "
                                  "LocalCluster on this machine).")
@click.option("--workers", default=2, show_default=True, help="LocalCluster worker processes.")
@click.option("--threads", default=1, show_default=True,
              help="Local engine: check chunks on this many threads (e.g. 2 on 2 cores).")
@click.option("--allow-outside-paths", "allow_outside", is_flag=True,
              help="Let the list's file column name files outside the list's folder.")
@catalog_option
@region_option
@input_options
@check_options
@map_options
def screen_cmd(project_list, out_dir, overwrite, sheet, chunk_size, catalogs, region, crs,
               coord_sys, encoding, src_layer, no_maps, shared_assets, reports, template, engine,
               scheduler, workers, threads, basemap, tianditu_key, allow_outside, **kw):
    """Screen a project list (CSV/XLSX with WKT, lon/lat or file paths; or a vector file)."""
    from zoning.io.projects import read_projects
    from zoning.outputs import run_folder

    with run_folder(out_dir, overwrite=overwrite) as stage:
        staged = stage.tmp
        opts = options_from(kw)
        opts.keep_geometry = not opts.no_geometry
        table = read_projects(project_list, crs=crs, coord_sys=coord_sys, encoding=encoding,
                              layer=src_layer, sheet=sheet, allow_outside=allow_outside)
        cats = resolve(catalogs, region)
        res = _run(table, cats, opts, engine, chunk_size, scheduler, (workers, threads))
        paths = _write(stage.tmp, res, table, cats, opts, dict(
            input=str(project_list), catalogs=", ".join(str(c.path) for c in cats),
            engine=engine), dict(no_maps=no_maps, basemap=basemap, tianditu_key=tianditu_key,
                                 shared_assets=shared_assets, reports=reports,
                                 template=template, input=project_list))
    for k, p in paths.items():
        console.print(f"  {k}: {escape(str(out_dir / p.relative_to(staged)))}")


def _run(table, cats, opts, engine, chunk_size, scheduler, parallel):
    workers, threads = parallel
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    from zoning.screen import screen

    with Progress(TextColumn("筛查 screening"), BarColumn(), MofNCompleteColumn(),
                  TimeRemainingColumn(), console=err_console) as prog:
        task = prog.add_task("screen", total=len(table))
        if engine == "dask":
            from zoning.scaleout import screen_dask

            res = screen_dask(table, cats, options=opts, chunk_size=chunk_size,
                              scheduler=scheduler, n_workers=workers,
                              progress=lambda k: prog.advance(task, k))
        else:
            res = screen(table, cats, options=opts, chunk_size=chunk_size, threads=threads,
                         progress=lambda k: prog.advance(task, k))
        prog.update(task, completed=len(table))
    return res


def _write(folder: Path, res, table, cats, opts, meta, out: dict):
    """Write the run into ``folder``; ``out``: no_maps, basemap, tianditu_key,
    shared_assets, reports, template, input."""
    from zoning.outputs import write_project_maps, write_tables

    counts = res.counts
    meta.update(area_method=opts.area_label, tolerance_m2=opts.tolerance_m2,
                min_report_m2=opts.min_report_m2, min_area_drops=opts.min_area_drops,
                radius_m=opts.radius_m, no_geometry=opts.no_geometry)
    paths = write_tables(folder, res.results, res.overlaps, meta, counts, catalogs=cats)
    console.print(f"输入 {counts['rows']} 行，输出 {counts['rows']} 行：检查 {counts['ok']} 行，"
                  f"失败 {counts['error']} 行")
    for words, code, n in res.verdict_counts():
        console.print(f"  {words} ({code}): {n}")
    if not out["no_maps"]:
        with console.status("writing maps …") as st:
            info = write_project_maps(
                res.results, dict(zip(table["row"], table.geometry)), cats, opts,
                folder / "maps", basemap=out["basemap"], tianditu_key=out["tianditu_key"],
                shared_assets=out["shared_assets"],
                progress=lambda k, n: st.update(f"maps: {k}/{n}"))
        console.print(f"  {info['maps']} maps, {info['bytes'] / 1e6:.1f} MB in all")
        paths["maps"] = info["index"]
    if out["reports"]:
        paths.update(_reports(res, table, cats, opts, folder, out["template"], out["input"]))
    return paths


def _reports(res, table, cats, opts, folder, template, project_list) -> dict:
    from zoning.outputs import REPORT_FOLDER, write_batch_reports

    with console.status("正在生成报告 writing reports …") as st:
        rep = write_batch_reports(res.results, dict(zip(table["row"], table.geometry)), cats,
                                  opts, folder / REPORT_FOLDER, template,
                                  input_name=Path(project_list).name,
                                  progress=lambda k, n: st.update(f"报告 reports: {k}/{n}"))
    console.print(f"  {len(rep['docx'])} 份分项报告 reports, {len(rep['pdf'])} PDF")
    if rep["pdf_error"]:
        err_console.print(f"[yellow]! 未生成 PDF (no PDF): {escape(rep['pdf_error'])}；"
                          ".docx 已写出[/]", highlight=False)
    return {"report": rep["summary"]}
