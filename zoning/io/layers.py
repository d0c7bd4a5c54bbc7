"""Read catalog layers into normalised frames (I/O; the engine never sees a path).

A normalised layer frame has the columns ``_id`` (the id field, as text),
the canonical fields the catalog maps (``name``, ``zone``, ``county`` …, with
``values`` mappings applied) and ``geometry``, in the layer's own CRS.
Invalid geometries are repaired with ``make_valid``; empty ones are dropped;
both are counted in ``frame.attrs``.
"""

from __future__ import annotations

import functools
import os

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from geopandas.array import GeometryArray
from pyproj import CRS

from zoning.catalog import LayerSpec
from zoning.errors import CRSError, DataError
from zoning.io.vector import check_input_file, gdal_path, layer_read, read_vector

__all__ = ["read_layer", "read_layer_file", "normalise_layer", "open_layer_source",
           "is_synthetic", "WindowSource"]


def read_layer(spec: LayerSpec) -> gpd.GeoDataFrame:
    if spec.is_raster:
        raise DataError("栅格图层不能按矢量读取", path=spec.path,
                        layer=spec.name)
    if spec.postgis:
        from zoning.io.postgis import read_table

        return normalise_layer(read_table(spec), spec)
    return normalise_layer(read_layer_file(spec), spec)


def read_layer_file(spec: LayerSpec, **kw) -> gpd.GeoDataFrame:
    """A catalog file layer as stored (not normalised): its file, layer, encoding and
    ``where`` filter, read as a catalog layer — the layer feature limit applies, not the
    input one, and GDAL's Arrow stream is used.  ``kw`` go to
    :func:`~zoning.io.vector.read_vector` (``bbox``, ``fid_as_index``)."""
    with layer_read():
        return read_vector(spec.path, layer=spec.layer, encoding=spec.encoding,
                           where=spec.where, **kw)


def open_layer_source(spec: LayerSpec):
    """A :class:`~zoning.engine.index.LayerSource` for a layer kept in a database."""
    if not spec.postgis:
        raise DataError("只有 PostGIS 图层可以分块读取", path=spec.path,
                        layer=spec.name)
    from zoning.io.postgis import PostgisSource

    return PostgisSource(spec)


class WindowSource:
    """A GeoPackage layer read per chunk through its R-tree: only the features near the
    footprints (a :class:`~zoning.engine.index.LayerSource`).

    ``fetch`` returns every feature within the search radius of a footprint and every
    feature that could be a footprint's nearest: the window grows (×2) until it meets a
    feature, then widens to the nearest distance found, so distances equal a check
    against the whole layer.  Windows are computed in the region's work CRS and read in
    the layer's own; features come in file order.
    """

    def __init__(self, spec: LayerSpec, work_crs):
        import pyogrio
        from pyproj import Transformer

        self.spec = spec
        self.reads = 0
        where = dict(path=spec.path, layer=spec.name)
        check_input_file(spec.path)  # a FIFO or device would block the read
        try:
            info = pyogrio.read_info(gdal_path(spec.path), layer=spec.layer,
                                     force_total_bounds=True)
        except Exception as e:  # GDAL's errors for a missing or unreadable layer
            raise DataError(f"无法打开图层：{str(e)[:200]}", **where) from None
        src = info.get("crs") or spec.crs
        if src is None:
            raise CRSError("图层没有坐标系，图层目录中也没有用 crs: 声明", **where)
        work = CRS.from_user_input(work_crs)
        self._to_src = Transformer.from_crs(work, CRS.from_user_input(src), always_xy=True)
        b = info.get("total_bounds")
        self._extent = None if b is None or not np.all(np.isfinite(b)) else \
            Transformer.from_crs(CRS.from_user_input(src), work, always_xy=True) \
            .transform_bounds(b[0], b[1], b[2], b[3], densify_pts=21)
        self._work = work
        from zoning.io.vector import gpkg_rtree

        self._rtree = gpkg_rtree(spec.path, spec.layer)  # None: every window is read

    def close(self) -> None:
        """Nothing is kept open between reads."""

    def _src_box(self, box) -> tuple:
        return tuple(self._to_src.transform_bounds(box[0], box[1], box[2], box[3],
                                                   densify_pts=21))

    def _maybe_any(self, box) -> bool:
        """False only when the layer's R-tree shows no feature in the window (a read of it
        would return nothing): a lookup instead of a read."""
        from zoning.io.vector import gpkg_rtree_meets

        return self._rtree is None or gpkg_rtree_meets(self.spec.path, self._rtree,
                                                       self._src_box(box))

    def _read(self, box) -> gpd.GeoDataFrame:
        bb = None if box is None else self._src_box(box)
        raw = read_layer_file(self.spec, bbox=bb, fid_as_index=True)
        self.reads += 1
        return normalise_layer(raw.sort_index().reset_index(drop=True), self.spec)

    def _covers_layer(self, box) -> bool:
        e = self._extent
        if e is None:  # extent unknown: a window of 10,000 km holds any layer in China
            return box[2] - box[0] > 2e7
        return box[0] <= e[0] and box[1] <= e[1] and box[2] >= e[2] and box[3] >= e[3]

    def fetch(self, footprints_geo, radius_m: float) -> gpd.GeoDataFrame:
        """Normalised features near the footprints (EPSG:4490), in the layer's CRS."""
        from zoning.engine.geometry import GEO, reproject_dense

        fps = reproject_dense(np.asarray(footprints_geo, dtype=object), GEO, self._work)
        x0, y0 = shapely.bounds(fps)[:, :2].min(axis=0)
        x1, y1 = shapely.bounds(fps)[:, 2:].max(axis=0)
        pad = float(radius_m) + 1.0
        box = (x0 - pad, y0 - pad, x1 + pad, y1 + pad)
        grow = max(pad, 1000.0)
        # windows the R-tree shows empty are skipped without a read: the window read is
        # the first one that can hold a feature, as if each had been read in turn
        while not self._maybe_any(box) and not self._covers_layer(box):
            grow *= 2
            box = (x0 - grow, y0 - grow, x1 + grow, y1 + grow)
        frame = self._read(box)
        while not len(frame):  # nothing near: grow the window until a feature is met
            if self._covers_layer(box):
                return frame  # the window held the whole layer: it has no feature
            grow *= 2
            box = (x0 - grow, y0 - grow, x1 + grow, y1 + grow)
            frame = self._read(box)
        geoms = reproject_dense(np.asarray(frame.geometry.values, dtype=object), frame.crs,
                                self._work)
        _idx, d = shapely.STRtree(geoms).query_nearest(fps, return_distance=True,
                                                       all_matches=False)
        far = float(np.max(d)) + 1.0
        if far > pad:  # every feature nearer than a footprint's nearest found so far
            frame = self._read((x0 - far, y0 - far, x1 + far, y1 + far))
        return frame


def normalise_layer(gdf: gpd.GeoDataFrame, spec: LayerSpec) -> gpd.GeoDataFrame:
    where = dict(path=spec.path or (spec.postgis or {}).get("table"), layer=spec.name)
    try:
        declared = CRS.from_user_input(spec.crs) if spec.crs else None
    except Exception as e:  # pyproj's CRSError for an unknown or malformed CRS
        raise CRSError(f"图层目录中声明的 crs: {str(spec.crs)[:60]!r} 不是有效的坐标系"
                       f"（{str(e)[:120]}）", **where) from None
    crs = gdf.crs
    if crs is None:
        if declared is None:
            raise CRSError("图层没有坐标系，图层目录中也没有用 crs: 声明", **where)
        crs = declared
    elif declared is not None and not crs.equals(declared, ignore_axis_order=True):
        raise CRSError(f"坐标系不一致：文件为 {crs.to_string()}，图层目录声明为 "
                       f"{spec.crs}", **where)
    # columns through pandas: geopandas' own lookups re-check the geometry column each
    # time (a window read near each chunk normalises small frames often)
    plain = pd.DataFrame(gdf, copy=False)
    cols = set(plain.columns)
    if spec.id_field not in cols:
        raise DataError(f"图层中没有 id_field: 指定的标识字段 {spec.id_field!r}", **where)
    geoms = np.asarray(gdf.geometry.values)
    empty = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    keep = ~empty if empty.any() else slice(None)  # empty geometries are dropped
    out = {"_id": plain[spec.id_field].astype(str).values[keep]}
    for canon, aliases in spec.fields.items():
        src = next((a for a in aliases if a in cols), None)
        if src is None:
            raise DataError(f"图层中没有字段 {' / '.join(aliases)}（用于 {canon}）", **where)
        vals = plain[src]
        mapping = spec.values.get(canon)
        if mapping:
            vals = vals.astype(str).map(lambda v, m=mapping: m.get(v, v))
        out[canon] = vals.values[keep]
    geoms = geoms[keep]
    invalid = ~shapely.is_valid(geoms)
    if invalid.any():
        geoms = geoms.copy()
        geoms[invalid] = shapely.make_valid(geoms[invalid])
    frame = gpd.GeoDataFrame(out, geometry=GeometryArray(geoms, crs=crs))
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
    if spec.path is not None:
        try:
            st = os.stat(spec.path)
        except OSError:
            st = None
        if st is not None:
            tagged = _synthetic_tag(str(spec.path), spec.layer, spec.is_raster, st.st_mtime_ns,
                                    st.st_size)
    return tagged or "合成" in (spec.source or "") or "synthetic" in (spec.source or "").lower()


@functools.lru_cache(maxsize=256)
def _synthetic_tag(path: str, layer: str | None, is_raster: bool, _mtime_ns: int,
                   _size: int) -> bool:
    """The SYNTHETIC=yes tag in a file's metadata, read once per file version (every
    report lists its catalog's sources)."""
    try:
        if is_raster:
            import rasterio

            with rasterio.open(path) as src:
                return src.tags().get("SYNTHETIC") == "yes"
        import pyogrio

        info = pyogrio.read_info(path, layer=layer)
        metas = [info.get("dataset_metadata") or {}, info.get("layer_metadata") or {}]
        return any(m.get("SYNTHETIC") == "yes" for m in metas)
    except Exception:  # unreadable metadata: fall back on the catalog text
        return False
