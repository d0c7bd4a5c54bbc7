"""A small catalog with known answers, built in code (Gauss–Krüger zone 36, CM 108°E).

Local coordinates (metres) are relative to O = (36 500 000, 3 320 000), on the
central meridian near 30°N, so planar GK areas are exact and ellipsoidal areas
agree with them to about 1e-6.
"""

from __future__ import annotations

import hashlib

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import yaml
from shapely.geometry import LineString, Polygon, box

OX, OY = 36_500_000.0, 3_320_000.0
CRS = "EPSG:4524"


def B(x0, y0, x1, y1):
    return box(OX + x0, OY + y0, OX + x1, OY + y1)


def shift(g):
    return shapely.transform(g, lambda xy: xy + [OX, OY])


def P(*pts):
    return Polygon([(OX + x, OY + y) for x, y in pts])


def L(*pts):
    return LineString([(OX + x, OY + y) for x, y in pts])


LAYERS = {
    "districts": gpd.GeoDataFrame(
        {"code": ["500001", "500002"], "name": ["西区", "东区"]},
        geometry=[B(-10_000, -10_000, 0, 10_000), B(0, -10_000, 10_000, 10_000)], crs=CRS),
    # red line: R1 plain, R2 inside a protected-area core zone
    "redline": gpd.GeoDataFrame(
        {"HXBM": ["R1", "R2"], "ZRBHDFQ": ["", "核心保护区"]},
        geometry=[B(0, 0, 1000, 1000), B(3000, 0, 4000, 1000)], crs=CRS),
    # farmland: F1 plain, F2 with a 200 m hole, F3 touching F1's east edge
    "farmland": gpd.GeoDataFrame(
        {"TBBH": ["F1", "F2", "F3"]},
        geometry=[B(-2000, 0, -1000, 1000),
                  Polygon(B(-2000, 2000, -1000, 3000).exterior.coords,
                          [B(-1600, 2400, -1400, 2600).exterior.coords]),
                  B(-1000, 0, -500, 1000)], crs=CRS),
    "udb": gpd.GeoDataFrame(
        {"BSM": [1], "GHFQMC": ["城镇集中建设区"]}, geometry=[B(-9000, -9000, -5000, -5000)],
        crs=CRS),
    # protected areas: core zone C, general zone G overlapping another designation O
    "pa": gpd.GeoDataFrame(
        {"BSM": [1, 2, 3], "MC": ["甲保护区", "甲保护区", "乙森林公园"],
         "GNFQ": ["核心保护区", "一般控制区", "一般控制区"]},
        geometry=[B(3000, 0, 4000, 1000), B(5000, 0, 6000, 1000), B(5500, 0, 6500, 1000)],
        crs=CRS),
    "units": gpd.GeoDataFrame(
        {"BM": ["ZH50000110001", "ZH50000230001"], "MC": ["西区优先保护单元", "东区一般管控单元"],
         "FL": ["1", "3"]},
        geometry=[B(-10_000, -10_000, 0, 10_000), B(0, -10_000, 10_000, 10_000)], crs=CRS),
    "shore": gpd.GeoDataFrame(
        {"BSM": [1], "HLMC": ["长江"], "LYMC": ["长江"]},
        geometry=[L((-10_000, -3000), (10_000, -3000))], crs=CRS),
}

SPECS = {
    "districts": {"kind": "districts", "id_field": "code", "fields": {"name": "name"}},
    "redline": {"kind": "eco_redline", "id_field": "HXBM", "fields": {"pa_zone": "ZRBHDFQ"},
                "values": {"pa_zone": {"核心保护区": "core", "一般控制区": "general"}}},
    "farmland": {"kind": "farmland", "id_field": "TBBH"},
    "udb": {"kind": "urban_boundary", "id_field": "BSM", "fields": {"partition": "GHFQMC"}},
    "pa": {"kind": "protected_area", "id_field": "BSM", "fields": {"name": "MC", "zone": "GNFQ"},
           "values": {"zone": {"核心保护区": "core", "一般控制区": "general"}}},
    "units": {"kind": "control_unit", "id_field": "BM",
              "fields": {"name": "MC", "unit_class": "FL"}},
    "shore": {"kind": "shoreline", "id_field": "BSM", "fields": {"river": "HLMC", "basin": "LYMC"}},
}


#: GeoPackages already written in this process, by content: many tests write the same
#: layers, and creating a GeoPackage costs far more than copying one
_WRITTEN: dict[str, bytes] = {}


def _content_key(layers: dict) -> str:
    h = hashlib.sha256()
    for name, gdf in layers.items():
        h.update(name.encode() + b"\0" + str(gdf.crs).encode() + b"\0")
        h.update(pd.util.hash_pandas_object(pd.DataFrame(gdf.drop(columns=gdf.geometry.name)),
                                            index=True).values.tobytes())
        h.update(repr([(c, str(t)) for c, t in gdf.dtypes.items()]).encode())
        for wkb in shapely.to_wkb(np.asarray(gdf.geometry.values, dtype=object)):
            h.update(b"\0" if wkb is None else wkb)
    return h.hexdigest()


def write_layers(gpkg, layers: dict) -> None:
    """Write the layers to one GeoPackage (a copy of an identical one written before)."""
    key = _content_key(layers)
    if key not in _WRITTEN:
        for i, (name, gdf) in enumerate(layers.items()):
            gdf.to_file(gpkg, layer=name, driver="GPKG", mode="w" if i == 0 else "a")
        _WRITTEN[key] = gpkg.read_bytes()
    else:
        gpkg.write_bytes(_WRITTEN[key])


def write_catalog(folder, layers=None, drop=(), region_id="mini"):
    """Write the layers to a GeoPackage and a catalog manifest; return the manifest path."""
    layers = dict(LAYERS if layers is None else layers)
    gpkg = folder / "mini.gpkg"
    write_layers(gpkg, layers)
    entries = {}
    for name, spec in SPECS.items():
        if name in drop or name not in layers:
            continue
        entries[name] = dict(spec, path="mini.gpkg", layer=name, crs=CRS)
    doc = {"catalog_version": 1, "region": {"id": region_id, "name": "测试区"},
           "layers": entries}
    p = folder / "mini.yaml"
    p.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return p


def big_farmland(n_side: int = 40, cell: float = 100.0):
    """A grid of ``n_side``² small patches west of the origin (inside 西区), ids G0000…,
    plus one many-vertex patch (a 2 000-vertex circle, subdivided by the engine)."""

    xs = -9500 + np.arange(n_side) * cell
    ys = -9500 + np.arange(n_side) * cell
    gx, gy = np.meshgrid(xs, ys)
    gx, gy = gx.ravel(), gy.ravel()
    geoms = list(shapely.box(OX + gx, OY + gy, OX + gx + cell * 0.8, OY + gy + cell * 0.6))
    circle = shapely.Point(OX - 3000, OY + 6000).buffer(600, quad_segs=500)
    ids = [f"G{i:04d}" for i in range(len(geoms))] + ["BIG"]
    return gpd.GeoDataFrame({"TBBH": ids}, geometry=geoms + [circle], crs=CRS)
