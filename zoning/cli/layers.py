"""``zoning layers``: list, validate and import layer catalogs."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from rich.markup import escape
from rich.table import Table

from zoning.cli.common import Group, catalog_option, console, json_option, region_option, resolve


@click.group(cls=Group)
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
                kind=spec.kind, kind_zh=(spec.title if spec.kind == "constraint" and spec.title
                                         else spec.kind_info.zh), path=str(spec.path),
                source_layer=spec.layer, crs=spec.crs, id_field=spec.id_field,
                fields={k: v for k, v in spec.fields.items()}, version=spec.version,
                source=spec.source, catalog=str(cat.path),
                rules=(None if spec.rules is None else "inline" if isinstance(spec.rules, dict)
                       else str(spec.rules)), statistics_only=spec.statistics_only))
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    t = Table(title="图层目录 layer catalog", show_lines=False)
    for col in ("区域", "图层", "类型", "文件", "CRS", "标识字段", "版本"):
        t.add_column(col, overflow="fold", no_wrap=col in ("区域", "类型"))
    for r in rows:
        src = Path(r["path"]).name + (f":{r['source_layer']}" if r["source_layer"] else "")
        t.add_row(*[escape(str(v)) for v in (r["region_name"], r["layer"], r["kind_zh"], src,
                  r["crs"] or "-", r["id_field"] or "-", r["version"])])
    console.print(t)


def _print_reports(reports):
    from zoning.io.validate import summary_path

    t = Table(title="图层校验 layer validation")
    for col in ("区域", "图层", "类型", "状态", "要素数", "CRS", "编码", "无效/空几何", "问题"):
        t.add_column(col, overflow="fold")
    style = {"ok": "green", "warning": "yellow", "error": "bold red"}
    for r in reports:
        msgs = [f"✗ {m}" for m in r.errors] + [f"! {m}" for m in r.warnings] + \
               [f"· {m}" for m in r.notes]
        geo = "-" if r.invalid is None else f"{r.invalid}/{r.empty}"
        t.add_row(escape(str(r.region)), escape(str(r.name)), r.kind,
                  f"[{style[r.status]}]{r.status}[/]",
                  "-" if r.features is None else f"{r.features:,}", escape(str(r.crs or "-")),
                  escape(str(r.encoding or "-")), geo,
                  escape("\n".join(msgs) or str(summary_path(r.path))))
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
    from zoning.io.validate import validate_catalog

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

    cats = resolve(catalogs, region)
    if len(cats) != 1:
        raise click.UsageError("import one region at a time: give --region or one --catalog")
    with console.status("importing …") as st:
        text, info = import_catalog(cats[0], dsn, schema=schema, catalog_dsn=catalog_dsn,
                                    log=lambda m: st.update(escape(m)))
    write_text(out_catalog, text)
    for table, i in info.items():
        console.print(f"  {table}: {i['features']:,} features"
                      + (" (+ subdivided helper table)" if i["subdivided"] else ""))
    console.print(f"catalog: {escape(str(out_catalog))}")

