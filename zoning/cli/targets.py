"""``zoning targets``: the indicator targets quoted from the seed plans."""

from __future__ import annotations

import json

import click
from rich.markup import escape
from rich.table import Table

from zoning.cli.common import console, json_option, region_option


@click.command("targets")
@region_option
@json_option
def targets_cmd(region, as_json):
    """Indicator targets quoted from the seed plans."""
    from dataclasses import asdict

    from zoning.targets import load_targets

    ts = load_targets()
    if region:
        from zoning.catalog import resolve_catalogs
        from zoning.errors import DataError

        ids = {c.region_id for c in resolve_catalogs(region=region)}  # id, code or name
        ts = [t for t in ts if t.region in ids]
        if not ts:
            raise DataError(f"no plan targets for region {region!r}")
    if as_json:
        click.echo(json.dumps([asdict(t) for t in ts], ensure_ascii=False, indent=2))
        return
    t = Table(title="规划目标 plan targets")
    for col in ("区域", "指标", "目标", "年份", "出处"):
        t.add_column(col, overflow="fold")
    sym = {"gte": "≥", "lte": "≤", "eq": "≈"}
    for x in ts:
        t.add_row(escape(str(x.scope)), x.indicator_zh, f"{sym[x.comparison]}{x.value:g}{x.unit}",
                  str(x.year or "-"), escape(f"{x.source_title or x.source}\n“{x.quote}”"))
    console.print(t)

