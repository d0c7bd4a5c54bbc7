"""Read a project red line from a CAD drawing (DXF) through GDAL.

CAD deliveries draw the 用地红线 as closed polylines (LWPOLYLINE/POLYLINE with
the closed flag, or with the last vertex on the first), often with a hatch
(HATCH) filling it, among dimension lines, text and other layers.  This
reader:

* keeps closed polylines and hatches as polygons; text, points and blocks'
  annotations are ignored;
* restricts the drawing to one CAD layer (the ``Layer`` field) when asked,
  and refuses to guess when several layers hold outlines;
* refuses open outlines with the gap and entity handle, closing only gaps of
  at most :data:`CLOSE_TOLERANCE` drawing units (with a warning);
* nests outlines by containment: an outline inside another is a hole (an
  area deducted from the parcel), one inside a hole an island again;
  duplicates (a hatch on its own boundary) count once.

Coordinates are returned as drawn (usually Gauss–Krüger metres, easting
first); the DXF has no CRS, so the caller infers or is told it.
Self-intersecting outlines are repaired later by
:func:`zoning.footprints.normalise` with a warning.
"""

from __future__ import annotations

import logging
import re
import threading
from pathlib import Path

import numpy as np
import shapely

from zoning.errors import DataError, InputError
from zoning.io.vector import gdal_path

__all__ = ["read_dxf_footprint", "dxf_encoding", "CLOSE_TOLERANCE"]

log = logging.getLogger(__name__)

#: an outline whose ends are at most this far apart (drawing units) is closed
CLOSE_TOLERANCE = 0.001
_CONFIG_LOCK = threading.Lock()


def dxf_encoding(head: bytes) -> str | None:
    """The text encoding GDAL should use for a DXF, from its header bytes.

    R2007+ drawings ($ACADVER ≥ AC1021) are UTF-8 whatever $DWGCODEPAGE says;
    older ones name a code page GDAL understands (ANSI_936 = GBK), and None is
    returned to let GDAL use it.  Without a header, UTF-8 is used if the
    bytes are valid UTF-8, else GB18030.
    """
    m = re.search(rb"\$ACADVER\s*\r?\n\s*1\s*\r?\n\s*AC(\d{4})", head)
    if m and int(m.group(1)) >= 1021:
        return "UTF-8"
    if re.search(rb"\$DWGCODEPAGE\s*\r?\n\s*3\s*\r?\n\s*ANSI_(?!1252)\d+", head):
        return None
    if not any(b > 127 for b in head):
        return None
    try:
        head.decode("utf-8")
        return "UTF-8"
    except UnicodeDecodeError as e:
        if e.start > len(head) - 4:  # a character cut at the end of the sample
            return "UTF-8"
        return "GB18030"


def _read(path: Path, encoding: str | None):
    import pyogrio

    if encoding is None:
        with path.open("rb") as f:
            encoding = dxf_encoding(f.read(1 << 16))
    src = gdal_path(path)
    with _CONFIG_LOCK:  # GDAL config options are process-wide
        old = pyogrio.get_gdal_config_option("DXF_ENCODING")
        pyogrio.set_gdal_config_options({"DXF_ENCODING": encoding})
        try:
            return pyogrio.read_dataframe(src, columns=["Layer", "EntityHandle", "SubClasses"])
        except Exception as e:  # pyogrio/GDAL errors: not a readable DXF
            raise DataError(f"无法读取 DXF：{e}", path=path) from None
        finally:
            pyogrio.set_gdal_config_options({"DXF_ENCODING": old})


def _valid(poly, handle, layer, warnings: list[str]) -> list:
    """The polygon, or its repaired parts with a warning if it crosses itself."""
    if poly.is_valid:
        return [poly]
    reason = shapely.is_valid_reason(poly)
    fixed = [q for q in shapely.get_parts(shapely.get_parts(shapely.make_valid(poly)))
             if q.geom_type == "Polygon" and q.area > 0]
    warnings.append(f"图层 {layer!r} 上句柄为 {handle} 的轮廓线无效（{reason}）："
                    f"已用 make_valid 修复为 {len(fixed)} 个部分")
    return fixed


def _outlines(geoms, handles, layers, path: Path) -> tuple[list, list[str], list[str]]:
    """(valid polygons, warnings, open-outline descriptions) of the chosen features."""
    polys: list = []
    warnings: list[str] = []
    open_: list[str] = []
    for g, h, lay in zip(geoms, handles, layers):
        if g is None or g.is_empty:
            continue
        g = shapely.force_2d(g)
        for part in shapely.get_parts(g):
            if part.geom_type == "Polygon":
                polys += _valid(part, h, lay, warnings)
            elif part.geom_type in ("LineString", "LinearRing"):
                xy = np.asarray(part.coords)
                gap = float(np.hypot(*(xy[-1] - xy[0])))
                if gap > CLOSE_TOLERANCE or len(xy) < 4:
                    open_.append(f"图层 {lay!r} 上的句柄 {h}（首尾相距 {gap:.3f}）")
                    continue
                if gap > 0:
                    warnings.append(f"图层 {lay!r} 上句柄为 {h} 的轮廓线首尾相距 "
                                    f"{gap:.4f}，已自动闭合")
                polys += _valid(shapely.Polygon(xy), h, lay, warnings)
    return polys, warnings, open_


def _nest(polys: list) -> object:
    """Polygons nested by containment (even depth: parcel, odd depth: hole), duplicates once."""
    polys = sorted((p for p in polys if p.area > 0), key=lambda p: -p.area)
    kept: list = []
    for p in polys:
        if any(abs(k.area - p.area) <= 1e-9 * k.area and k.buffer(1e-6).covers(p)
               for k in kept):
            continue  # a hatch on its own boundary, or an outline drawn twice
        kept.append(p)
    depth: list[int] = []
    parent: list[int | None] = []
    for i, p in enumerate(kept):
        pt = p.representative_point()
        j = next((j for j in range(i - 1, -1, -1) if kept[j].contains(pt)), None)
        parent.append(j)
        depth.append(0 if j is None else depth[j] + 1)
    shells = []
    for i, p in enumerate(kept):
        if depth[i] % 2:
            continue
        holes = [kept[k] for k in range(len(kept)) if parent[k] == i]
        shells.append(p.difference(shapely.union_all(holes)) if holes else p)
    return shells[0] if len(shells) == 1 else shapely.union_all(shells)


def read_dxf_footprint(path, layer: str | None = None,
                       encoding: str | None = None) -> tuple[object, list[str]]:
    """The polygon footprint drawn in a DXF, as drawn (no CRS), and warnings.

    Parameters
    ----------
    path : path-like
        The DXF file.
    layer : str, optional
        CAD layer (``Layer`` field) holding the red line; compared exactly,
        then ignoring case.  Required when several layers hold outlines.
    encoding : str, optional
        Text encoding of a drawing whose layer names are garbled (e.g. GBK).

    Raises
    ------
    InputError
        When the layer is unknown, several layers hold outlines and none was
        chosen, or an outline is open.
    """
    path = Path(path)
    if not path.exists():
        raise DataError("文件不存在", path=path)
    gdf = _read(path, encoding)
    names = gdf["Layer"].fillna("").astype(str)
    if layer is not None:
        want = names == layer
        if not want.any():
            want = names.str.lower() == layer.lower()
        if not want.any():
            raise InputError(f"图中没有 CAD 图层 {layer!r}；现有图层为 "
                             f"{sorted(set(names))}", path=path)
        gdf, names = gdf[want.values], names[want.values]
    polys, warnings, open_ = [], [], []
    by_layer: dict[str, int] = {}
    for lay in dict.fromkeys(names):
        sel = (names == lay).values
        p, w, o = _outlines(gdf.geometry.values[sel], gdf["EntityHandle"].values[sel],
                            names.values[sel], path)
        if p:
            by_layer[lay] = len(p)
        polys += p
        warnings += w
        open_ += o
    if len(by_layer) > 1 and layer is None:
        raise InputError("多个 CAD 图层上都有闭合轮廓线："
                         + ", ".join(f"{k!r}（{v} 条）" for k, v in by_layer.items())
                         + "；请指定红线所在的图层", path=path)
    if open_ and (layer is not None or not polys):
        raise InputError(f"{len(open_)} 条轮廓线是未闭合的多段线，不是闭合区域："
                         + "；".join(open_[:5]) + "。请在 CAD 中将其闭合（PEDIT → 闭合/Close），"
                         "或将红线画成闭合多段线", path=path)
    if not polys:
        raise InputError("图中没有闭合多段线或填充（HATCH）：没有可作为项目范围读取的"
                         "内容", path=path)
    if open_:
        warnings.append(f"已忽略 {len(open_)} 条未闭合的线（不是轮廓线）："
                        + "；".join(open_[:3]))
    lay = next(iter(by_layer))
    warnings.insert(0, f"DXF：从 CAD 图层 {lay!r} 读取了 {sum(by_layer.values())} 条轮廓线")
    log.info("%s: %s", path, warnings[0])
    return _nest(polys), warnings
