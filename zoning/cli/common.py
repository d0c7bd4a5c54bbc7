"""Shared pieces of the command line: consoles, options, error handling, logging."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape

from zoning.errors import ZoningError

console = Console()
err_console = Console(stderr=True)

#: hints the command line adds to library messages (the library names no flags)
_HINTS = {
    "output_exists": "加 --overwrite 以替换",
    "output_locked": "另一个 zoning 进程正在写入该目录",
    "missing_extra": "",
    "crs_error": "用 --crs 声明坐标系，例如 --crs EPSG:4545",
}


def error_json(e: ZoningError) -> dict:
    """A library error for scripts: the stable code, its Chinese name and the message."""
    return {"error": {"code": e.code, "code_zh": e.title_zh, "message": str(e)}}


class Group(click.Group):
    """Report library errors as one clear message (exit status 1), not a traceback.

    Exit status 2 stays click's, for usage errors.
    """

    def invoke(self, ctx):
        protected = getattr(ctx, "_protected_args", None)
        argv = [*(ctx.protected_args if protected is None else protected), *ctx.args]
        try:
            return super().invoke(ctx)
        except ZoningError as e:
            code = getattr(e, "code", "error")
            hint = _HINTS.get(code, "")
            if "--json" in argv:
                import json

                click.echo(json.dumps(error_json(e), ensure_ascii=False))
            err_console.print(f"[bold red]{e.title_zh}[/] ({code})："
                              f"{escape(str(e))}", highlight=False, soft_wrap=True)
            if hint:
                err_console.print(f"[yellow]{escape(hint)}[/]", highlight=False)
            sys.exit(1)


def setup_logging(verbose: int, quiet: int) -> None:
    """-v: info, -vv: debug, -q: errors only; library loggers print through rich."""
    from rich.logging import RichHandler

    level = logging.WARNING - 10 * verbose + 10 * quiet
    level = max(logging.DEBUG, min(logging.CRITICAL, level))
    root = logging.getLogger("zoning")
    for h in list(root.handlers):
        if isinstance(h, RichHandler):
            root.removeHandler(h)
    handler = RichHandler(console=err_console, show_time=False, show_path=False,
                          markup=False, rich_tracebacks=False)
    root.addHandler(handler)
    root.setLevel(level)


catalog_option = click.option(
    "--catalog", "catalogs", multiple=True, type=click.Path(path_type=Path),
    help="Catalog manifest (YAML) or folder of manifests; repeatable. Default: the bundled ones.")
region_option = click.option("--region", help="Region id, code or name (e.g. guiyang, 520100).")
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")


def _energy(ctx, param, v):
    """--energy: a finite number ≥ 0 (NaN would read as 'not given', a negative as small)."""
    import math

    if v is not None and (not math.isfinite(v) or v < 0):
        raise click.BadParameter(f"{v!r}：年综合能耗应为不小于 0 的有限数值（吨标准煤/年）")
    return v


def check_options(f):
    opts = [
        click.option("--area-method", type=click.Choice(["ellipsoidal", "gk", "gk-fixed"]),
                     default="ellipsoidal", show_default=True,
                     help="ellipsoidal: geodesic area on the CGCS2000 ellipsoid (as the land "
                          "survey); gk: planar in the footprint's 3° Gauss–Krüger zone; "
                          "gk-fixed: planar in one fixed central meridian (--central-meridian "
                          "or --gk-zone), as official tables that use 投影面积."),
        click.option("--central-meridian", type=float,
                     help="Central meridian (°E) for --area-method gk-fixed, e.g. 120."),
        click.option("--gk-zone", type=int,
                     help="Gauss–Krüger zone number for gk-fixed instead of --central-meridian "
                          "(3° zones 25–45, 6° zones 13–23 with --zone-width 6)."),
        click.option("--zone-width", type=click.Choice(["3", "6"]), default="3",
                     show_default=True, help="Zone width (°) of --gk-zone."),
        click.option("--radius", "radius_m", type=float, default=0.0, show_default=True,
                     help="Also list layer features within this distance (m)."),
        click.option("--min-area", "min_report_m2", type=float, default=0.0, show_default=True,
                     help="Reporting threshold (m²): smaller overlaps are marked 低于报告阈值; "
                          "they still count for the verdict unless --min-area-drops."),
        click.option("--min-area-drops", "min_area_drops", is_flag=True,
                     help="Let overlaps below --min-area leave the verdict too (an explicit "
                          "opt-out; they stay noted)."),
        click.option("--tolerance", "tolerance_m2", type=float, default=1e-4, show_default=True,
                     help="Geometric tolerance (m²): at or below it polygons only touch."),
        click.option("--no-geometry", "no_geometry", is_flag=True,
                     help="Statistics only: outputs carry ids and areas but no overlap "
                          "geometry, and maps draw only the footprint (for sensitive data)."),
    ]
    for o in reversed(opts):
        f = o(f)
    return f


def input_options(f):
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


def map_options(f):
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


def warn_map(fn, *a, **k):
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


def options_from(kw):
    """CheckOptions from the options of :func:`check_options` (a bad value is a usage error)."""
    from zoning.errors import OptionError
    from zoning.options import CheckOptions, zone_meridian

    try:
        cm = kw.get("central_meridian")
        if kw.get("gk_zone") is not None:
            if cm is not None:
                raise OptionError("give --central-meridian or --gk-zone, not both")
            cm = zone_meridian(kw["gk_zone"], int(kw.get("zone_width") or 3))
        if kw["area_method"] == "gk-fixed" and cm is None:
            raise OptionError("--area-method gk-fixed needs --central-meridian or --gk-zone")
        if kw["area_method"] != "gk-fixed" and cm is not None:
            raise OptionError("--central-meridian/--gk-zone need --area-method gk-fixed")
        return CheckOptions(area_method=kw["area_method"], radius_m=kw["radius_m"],
                            min_report_m2=kw["min_report_m2"], tolerance_m2=kw["tolerance_m2"],
                            min_area_drops=bool(kw.get("min_area_drops", False)),
                            central_meridian=cm,
                            no_geometry=bool(kw.get("no_geometry", False)))
    except OptionError as e:
        flags = {"tolerance_m2": "--tolerance", "min_report_m2": "--min-area",
                 "radius_m": "--radius", "area_method": "--area-method"}
        hint = next((f for k, f in flags.items() if str(e).startswith(k)), None)
        raise click.BadParameter(str(e), param_hint=hint) from None


def fmt(x, nd=2):
    return "-" if x is None else f"{x:,.{nd}f}"



def resolve(catalogs, region):
    from zoning.catalog import resolve_catalogs

    return resolve_catalogs(catalogs, region)



def project_options(f):
    """The project attributes of a single footprint (check, report)."""
    opts = [
        click.option("--no-land", "no_land", is_flag=True,
                     help="The project crosses without taking land (bridge, tunnel, aerial "
                          "line)."),
        click.option("--activity", help="有限人为活动 category 1–10 (自然资发〔2022〕142号)."),
        click.option("--major-project", help="国家重大项目 category: central, military, "
                                             "transport, grid, energy, water, ndrc_infra, "
                                             "ndrc_mechanism."),
        click.option("--project-type", help="urban_construction, industrial_park, "
                                            "urban_residential, linear, special_siting, rural, "
                                            "industrial, other (a C-section or D441 industry "
                                            "code without it: industrial)."),
        click.option("--industry", help="GB/T 4754-2017 industry code, e.g. C2614."),
        click.option("--nature", help="建设性质: 新建 / 扩建 / 改建."),
        click.option("--energy", "energy_tce", type=float, callback=_energy,
                     help="年综合能耗 (tce/year), a finite number ≥ 0."),
        click.option("--tailings", help="是否涉及尾矿库: 是/否 (yes/no)."),
        click.option("--purpose", help="建设目的, e.g. 提升安全 / 生态环境保护 (for the 改建 "
                                       "exemptions)."),
        click.option("--declared-landuse", "landuse_declared",
                     help="Declared 地类 areas to compare with the 三调 layer, e.g. "
                          "'耕地 1.2; 0301=0.5' (公顷 unless a unit is given: m², 亩, km²)."),
        click.option("--name", default="", help="Project name for the report."),
    ]
    for o in reversed(opts):
        f = o(f)
    return f


def project_attrs(kw: dict) -> dict:
    """Pop the project attribute options of :func:`project_options` into check attributes."""
    no_land = kw.pop("no_land", False)
    return dict(takes_land=False if no_land else None, activity=kw.pop("activity", None),
                major_project=kw.pop("major_project", None),
                project_type=kw.pop("project_type", None), industry=kw.pop("industry", None),
                nature=kw.pop("nature", None), energy_tce=kw.pop("energy_tce", None),
                landuse_declared=kw.pop("landuse_declared", None),
                tailings=kw.pop("tailings", None), purpose=kw.pop("purpose", None))


LIST_SUFFIXES = (".csv", ".xlsx", ".xlsm", ".xls", ".tsv")


def is_project_list(path: Path) -> bool:
    """A project list (one row per project) rather than one footprint file."""
    return Path(path).suffix.lower() in LIST_SUFFIXES
