"""``zoning convert``: a footprint to 部标 TXT, or a TXT to GeoJSON/GeoPackage/KML/Shapefile."""

from __future__ import annotations

from pathlib import Path

import click
from rich.markup import escape

from zoning.cli.common import console, err_console


@click.command("convert")
@click.argument("source")
@click.argument("output", type=click.Path(path_type=Path))
@click.option("--crs", help="CRS of the input when it has none (e.g. EPSG:4524).")
@click.option("--coord-sys", type=click.Choice(["cgcs2000", "wgs84", "gcj02", "bd09"]),
              help="Convert GCJ-02 (高德/腾讯) or BD-09 (百度) lon/lat; never automatic.")
@click.option("--encoding", help="Text encoding of a shapefile without .cpg or of a DXF.")
@click.option("--layer", "src_layer", help="Layer of a multi-layer file; CAD layer of a DXF.")
@click.option("--towgs84", help="7 parameters dx,dy,dz,rx,ry,rz,s for a 西安80/北京54 input.")
@click.option("--width", type=float, help="Corridor width (m) for centrelines.")
@click.option("--zone-width", type=click.Choice(["3", "6"]), default="3", show_default=True,
              help="TXT output: Gauss–Krüger zone width (几度分带).")
@click.option("--zone", type=int, help="TXT output: zone number (带号); default: the zone of "
                                       "the parcels' centre.")
@click.option("--no-prefix", is_flag=True, help="TXT output: eastings without the zone number.")
@click.option("--txt-encoding", type=click.Choice(["gbk", "utf-8"]), default="gbk",
              show_default=True, help="TXT output encoding (gbk is written as GB18030).")
@click.option("--to-crs", help="Vector output CRS (default EPSG:4490 longitude/latitude).")
@click.option("--overwrite", is_flag=True, help="Replace OUTPUT if it exists.")
def convert_cmd(source, output, crs, coord_sys, encoding, src_layer, towgs84, width, zone_width,
                zone, no_prefix, txt_encoding, to_crs, overwrite):
    """Convert SOURCE (部标 TXT, DXF, any vector file, or "lon,lat;…") into OUTPUT.

    OUTPUT's extension picks the format: .txt (部标 TXT, CGCS2000 Gauss–Krüger),
    .geojson, .gpkg, .kml or .shp (EPSG:4490 unless --to-crs).  A 西安80/北京54 TXT
    is converted to CGCS2000 with its 转换参数 or --towgs84.
    """
    from zoning.io.parcels import read_parcels, write_parcels

    parcels, info, warnings = read_parcels(source, crs=crs, coord_sys=coord_sys,
                                           encoding=encoding, layer=src_layer,
                                           towgs84=towgs84, width_m=width)
    opts: dict = {"to_crs": to_crs}
    if output.suffix.lower() == ".txt":
        opts = {"zone_width": int(zone_width), "zone": zone, "prefix": not no_prefix,
                "txt_encoding": "gb18030" if txt_encoding == "gbk" else "utf-8"}
    write_parcels(output, parcels, info, overwrite=overwrite, **opts)
    for w in warnings + [f"地块 {n}: {m}" for n, ws in zip(parcels["number"], parcels["warnings"])
                         for m in ws]:
        err_console.print(f"[yellow]! {escape(w)}[/]")
    console.print(f"{len(parcels)} 个地块 → {escape(str(output))}")
