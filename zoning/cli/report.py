"""``zoning report``: the 选址合规性分析报告 (.docx and .pdf) of one footprint or a project list."""

from __future__ import annotations

from pathlib import Path

import click

from zoning.cli.common import (
    catalog_option,
    check_options,
    console,
    err_console,
    input_options,
    is_project_list,
    options_from,
    project_attrs,
    project_options,
    region_option,
    resolve,
)


def _single(path, cats, opts, attrs, name, template, pdf, out_dir, read_kw):
    from zoning.io.projects import read_footprint
    from zoning.outputs import write_report
    from zoning.screen import load_index, screen

    table = read_footprint(path, **read_kw, **attrs)
    if name:
        table["name"] = name
    r = screen(table, cats, options=opts).results[0]
    if not r.ok:
        raise click.ClickException(f"项目 {r.project_id} 分析失败：{r.error}")
    cat = next((c for c in cats if c.region_id == r.region), None)
    index = load_index(cat, opts) if cat is not None else None
    with console.status("正在生成报告 writing the report …"):
        out = write_report(r, table.geometry.iloc[0], index, out_dir, template, pdf=pdf,
                           input_name=Path(path).name,
                           options={"area_method": opts.area_method,
                                    "no_geometry": opts.no_geometry})
    console.print(f"总体结论: {r.state_zh} ({r.state.value})")
    console.print(f"  docx: {out['docx']}")
    if out["pdf"]:
        console.print(f"  pdf:  {out['pdf']}")
    return out


def _batch(path, cats, opts, template, pdf, out_dir, read_kw, sheet):
    from zoning.io.projects import read_projects
    from zoning.outputs import write_batch_reports
    from zoning.screen import screen

    table = read_projects(path, sheet=sheet, **read_kw)
    res = screen(table, cats, options=opts)
    with console.status("正在生成报告 writing reports …") as st:
        out = write_batch_reports(res.results, dict(zip(table["row"], table.geometry)), cats,
                                  opts, out_dir, template, pdf=pdf, input_name=Path(path).name,
                                  progress=lambda k, n: st.update(f"报告 reports: {k}/{n}"))
    console.print(f"{len(res)} 个项目 projects: {len(out['docx'])} 份分项报告, 汇总报告 "
                  f"{out['summary']}")
    console.print(f"  {len(out['pdf'])} PDF")
    return out


@click.command("report")
@click.argument("footprint", required=False, type=click.Path(path_type=Path))
@click.option("--out", "out_dir", default="报告", show_default=True,
              type=click.Path(path_type=Path), help="Folder for the reports.")
@click.option("--template", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A Word template (.docx) replacing the bundled one (see --save-template).")
@click.option("--save-template", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the bundled Word template to this file (to edit) and exit.")
@click.option("--no-pdf", "no_pdf", is_flag=True, help="Write the .docx only.")
@click.option("--sheet", help="Excel sheet of a project list (default: the first).")
@catalog_option
@region_option
@input_options
@check_options
@project_options
def report_cmd(footprint, out_dir, template, save_template, no_pdf, sheet, catalogs, region,
               crs, coord_sys, encoding, src_layer, **kw):
    """Write the 选址合规性分析报告 (.docx + .pdf) of a footprint, or of every project of a
    list (CSV/XLSX) plus a summary report."""
    from zoning.outputs import save_template as save

    if save_template:
        save(save_template)
        console.print(f"template: {save_template}（正文插入在只含 {{{{正文}}}} 的段落处）")
        return
    if footprint is None:
        raise click.UsageError("FOOTPRINT is required (a footprint file or a project list)")
    attrs = project_attrs(kw)
    name = kw.pop("name", "")
    opts = options_from(kw)
    cats = resolve(catalogs, region)
    read_kw = dict(crs=crs, coord_sys=coord_sys, encoding=encoding, layer=src_layer)
    if is_project_list(footprint):
        out = _batch(footprint, cats, opts, template, not no_pdf, out_dir, read_kw, sheet)
    else:
        out = _single(footprint, cats, opts, attrs, name, template, not no_pdf, out_dir,
                      read_kw)
    if out["pdf_error"]:
        err_console.print(f"[yellow]! 未生成 PDF (no PDF): {out['pdf_error']}；.docx 已写出[/]",
                          highlight=False)
