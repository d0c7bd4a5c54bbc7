"""``zoning layers``: list, validate and import layer catalogs."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from rich.markup import escape
from rich.table import Table

from zoning.cli.common import Group, catalog_option, console, json_option, region_option, resolve

#: the status codes of a layer report and of a prepared store (kept in JSON) as printed
_STATUS_ZH = {"ok": "通过", "warning": "警告", "error": "错误"}
_STORE_ZH = {"fresh": "最新", "stale": "已过期", "missing": "未生成"}
_REPORT_KIND_ZH = {"rules": "判定规则", "access_rules": "准入清单"}


def _kind_zh(kind: str) -> str:
    from zoning.catalog import kind_zh

    return _REPORT_KIND_ZH.get(kind) or kind_zh(kind)


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
    t = Table(title="图层目录", show_lines=False)
    for col in ("区域", "图层", "类型", "文件", "CRS", "标识字段", "版本"):
        t.add_column(col, overflow="fold", no_wrap=col in ("区域", "类型"))
    for r in rows:
        src = Path(r["path"]).name + (f":{r['source_layer']}" if r["source_layer"] else "")
        t.add_row(*[escape(str(v)) for v in (r["region_name"], r["layer"], r["kind_zh"], src,
                  r["crs"] or "-", r["id_field"] or "-", r["version"])])
    console.print(t)


def _print_reports(reports):
    from zoning.io.validate import summary_path

    t = Table(title="图层校验")
    for col in ("区域", "图层", "类型", "状态", "要素数", "CRS", "编码", "无效/空几何", "问题"):
        t.add_column(col, overflow="fold")
    style = {"ok": "green", "warning": "yellow", "error": "bold red"}
    for r in reports:
        msgs = [f"✗ {m}" for m in r.errors] + [f"! {m}" for m in r.warnings] + \
               [f"· {m}" for m in r.notes]
        geo = "-" if r.invalid is None else f"{r.invalid}/{r.empty}"
        t.add_row(escape(str(r.region)), escape(str(r.name)), escape(_kind_zh(r.kind)),
                  f"[{style[r.status]}]{_STATUS_ZH[r.status]}[/]",
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
    from zoning.prepare import store_statuses

    cats = resolve_catalogs(catalogs, region)
    reports = [r for cat in cats for r in validate_catalog(cat)]
    stores = [(cat.region_id, st) for cat in cats for st in store_statuses(cat)]
    if as_json:
        by_layer = {(rid, st.layer): _store_dict(rid, st) for rid, st in stores}
        rows = [dict(r.to_dict(), **({"store": by_layer[(r.region, r.name)]}
                                     if (r.region, r.name) in by_layer else {}))
                for r in reports]
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        _print_reports(reports)
        _print_stores(stores)
    n_err = sum(r.status == "error" for r in reports)
    if not as_json:
        console.print(f"共校验 {len(reports)} 项：{n_err} 项有错误，"
                      f"{sum(r.status == 'warning' for r in reports)} 项有警告；"
                      f"{sum(st.state == 'stale' for _, st in stores)} 个预处理图层库已过期")
    if n_err:
        sys.exit(1)


def _store_dict(region: str, st) -> dict:
    return {"region": region, "layer": st.layer, "state": st.state, "path": str(st.path),
            "reasons": st.reasons, "features": st.meta.get("features"),
            "pieces": st.meta.get("pieces")}


def _print_stores(stores) -> None:
    from zoning.io.validate import summary_path

    t = Table(title="预处理图层库（由 zoning layers build 生成）")
    for col in ("区域", "图层", "状态", "要素/分块", "说明"):
        t.add_column(col, overflow="fold")
    style = {"fresh": "green", "stale": "bold yellow", "missing": "dim"}
    for rid, st in stores:
        n = (f"{st.meta['features']:,}/{st.meta['pieces']:,}" if st.meta.get("features")
             is not None else "-")
        why = "；".join(st.reasons) if st.state == "stale" else (
            "检查时读取整个图层" if st.state == "missing" else summary_path(st.path))
        t.add_row(escape(str(rid)), escape(str(st.layer)),
                  f"[{style[st.state]}]{_STORE_ZH[st.state]}[/]",
                  n, escape(str(why)))
    console.print(t)


@layers.command("build")
@click.option("--layer", "names", multiple=True, help="Only this layer (repeatable).")
@click.option("--force", is_flag=True, help="Rebuild stores that are still fresh.")
@click.option("--subdivide-vertices", default=256, show_default=True,
              help="Cut polygons above this many vertices (must match the check's).")
@catalog_option
@region_option
def layers_build(names, force, subdivide_vertices, catalogs, region):
    """Build the prepared store beside each big layer (checks then read only what they need).

    Each store is a GeoParquet file sorted along a Hilbert curve, with bbox columns,
    precomputed areas and validity; `zoning layers validate` says when one is stale.
    """
    from zoning.options import CheckOptions
    from zoning.prepare import build_stores

    opts = CheckOptions(subdivide_vertices=subdivide_vertices)
    for cat in resolve(catalogs, region):
        with console.status(f"{cat.region_name} …") as st:
            out = build_stores(cat, opts, names=list(names) or None, force=force,
                               progress=lambda m: st.update(m))
        for o in out:
            what = "已生成" if o["state"] == "built" else "仍是最新，保留"
            took = f"，用时 {o['build_s']:.1f} s" if o["state"] == "built" else ""
            console.print(f"  {cat.region_id}/{o['layer']}：{o['features']:,} 个要素，"
                          f"{o['pieces']:,} 个分块 — {what}{took}")


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
        raise click.UsageError("一次只能导入一个区域：请用 --region 指定区域，或只给一个 --catalog")
    with console.status("正在导入 …") as st:
        text, info = import_catalog(cats[0], dsn, schema=schema, catalog_dsn=catalog_dsn,
                                    log=lambda m: st.update(escape(m)))
    write_text(out_catalog, text)
    for table, i in info.items():
        console.print(f"  {table}：{i['features']:,} 个要素"
                      + ("（另有切分后的辅助表）" if i["subdivided"] else ""))
    console.print(f"图层目录：{escape(str(out_catalog))}")

