"""The ``zoning`` command line: a thin layer over the library."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from . import __version__
from .errors import ZoningError

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
    from .catalog import resolve_catalogs

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
    from .validate import summary_path

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
    from .catalog import resolve_catalogs
    from .validate import validate_catalog

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

    from . import synth
    from .paths import seeds_dir

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

    from .targets import load_targets

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


# --------------------------------------------------------------------------- demo


@main.command("demo")
def demo():
    """Run the main job on the bundled data: validate every bundled catalog and list targets."""
    from .catalog import resolve_catalogs
    from .validate import validate_catalog

    cats = resolve_catalogs()
    console.print(f"zoning {__version__}: {len(cats)} bundled regions: "
                  + ", ".join(f"{c.region_name} ({c.region_id})" for c in cats))
    reports = [r for cat in cats for r in validate_catalog(cat)]
    _print_reports(reports)
    ctx = click.get_current_context()
    ctx.invoke(targets_cmd, region=None, as_json=False)
    bad = [r for r in reports if r.status == "error"]
    if bad:
        console.print(f"[bold red]{len(bad)} layers have errors[/]")
        sys.exit(1)
    console.print("[green]all bundled layers valid[/]")


if __name__ == "__main__":  # pragma: no cover
    main()
