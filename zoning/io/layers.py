"""Read catalog layers into normalised frames (I/O; the engine never sees a path).

A normalised layer frame has the columns ``_id`` (the id field, as text),
the canonical fields the catalog maps (``name``, ``zone``, ``county`` …, with
``values`` mappings applied) and ``geometry``, in the layer's own CRS.
Invalid geometries are repaired with ``make_valid``; empty ones are dropped;
both are counted in ``frame.attrs``.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS

from zoning.catalog import LayerSpec
from zoning.errors import CRSError, DataError
from zoning.io.vector import read_vector

__all__ = ["read_layer", "normalise_layer", "open_layer_source", "is_synthetic"]


def read_layer(spec: LayerSpec) -> gpd.GeoDataFrame:
    if spec.is_raster:
        raise DataError("raster layers are not read as vectors", path=spec.path,
                        layer=spec.name)
    if spec.postgis:
        from zoning.io.postgis import read_table

        return normalise_layer(read_table(spec), spec)
    gdf = read_vector(spec.path, layer=spec.layer, encoding=spec.encoding, where=spec.where)
    return normalise_layer(gdf, spec)


def open_layer_source(spec: LayerSpec):
    """A :class:`~zoning.engine.index.LayerSource` for a layer kept in a database."""
    if not spec.postgis:
        raise DataError("only PostGIS layers are read per chunk", path=spec.path,
                        layer=spec.name)
    from zoning.io.postgis import PostgisSource

    return PostgisSource(spec)


def normalise_layer(gdf: gpd.GeoDataFrame, spec: LayerSpec) -> gpd.GeoDataFrame:
    where = dict(path=spec.path or (spec.postgis or {}).get("table"), layer=spec.name)
    declared = CRS.from_user_input(spec.crs) if spec.crs else None
    if gdf.crs is None:
        if declared is None:
            raise CRSError("the layer has no CRS and the catalog declares none", **where)
        gdf = gdf.set_crs(declared)
    elif declared is not None and not CRS(gdf.crs).equals(declared, ignore_axis_order=True):
        raise CRSError(f"CRS mismatch: the file is {gdf.crs.to_string()}, the catalog declares "
                       f"{spec.crs}", **where)
    cols = set(gdf.columns)
    out = {}
    if spec.id_field not in cols:
        raise DataError(f"id field {spec.id_field!r} not found", **where)
    out["_id"] = gdf[spec.id_field].astype(str).values
    for canon, aliases in spec.fields.items():
        src = next((a for a in aliases if a in cols), None)
        if src is None:
            raise DataError(f"field {' / '.join(aliases)} (for {canon}) not found", **where)
        vals = gdf[src]
        mapping = spec.values.get(canon)
        if mapping:
            vals = vals.astype(str).map(lambda v, m=mapping: m.get(v, v))
        out[canon] = vals.values
    geoms = np.asarray(gdf.geometry.values)
    empty = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    invalid = ~empty & ~shapely.is_valid(geoms)
    if invalid.any():
        geoms = geoms.copy()
        geoms[invalid] = shapely.make_valid(geoms[invalid])
    frame = gpd.GeoDataFrame(out, geometry=geoms, crs=gdf.crs)
    frame = frame[~empty].reset_index(drop=True)
    frame.attrs.update(layer=spec.name, kind=spec.kind, repaired=int(invalid.sum()),
                       dropped_empty=int(empty.sum()))
    return frame


def is_synthetic(spec: LayerSpec) -> bool:
    """Whether a layer says it is synthetic demo data (metadata ``SYNTHETIC=yes``).

    Read from the GeoPackage dataset/layer metadata or GeoTIFF tags; a layer whose
    metadata cannot be read counts as synthetic when its catalog source says
    合成 (synthetic).
    """
    tagged = False
    if spec.path is not None and Path(spec.path).exists():
        try:
            if spec.is_raster:
                import rasterio

                with rasterio.open(spec.path) as src:
                    tagged = src.tags().get("SYNTHETIC") == "yes"
            else:
                import pyogrio

                info = pyogrio.read_info(spec.path, layer=spec.layer)
                metas = [info.get("dataset_metadata") or {}, info.get("layer_metadata") or {}]
                tagged = any(m.get("SYNTHETIC") == "yes" for m in metas)
        except Exception:  # unreadable metadata: fall back on the catalog text
            tagged = False
    return tagged or "合成" in (spec.source or "") or "synthetic" in (spec.source or "").lower()
