"""Geometry primitives of the engine: subdivision and ellipsoidal or GK measures.

Pure computation on shapely arrays; nothing here reads or writes a file.
"""

from __future__ import annotations

import threading

import numpy as np
import shapely
from pyproj import CRS, Geod

from zoning.crs import reproject, transformer

__all__ = ["GEO", "subdivide", "split_lines", "polygonal", "measure", "to_geo", "densify", "reproject_dense",
           "DENSIFY_M", "gk_fixed_crs", "query_dwithin", "checked_split", "checked_union",
           "OVERLAY_GRID"]

GEO = CRS.from_epsg(4490)
_GEOD = Geod(ellps="GRS80")  # the CGCS2000 ellipsoid (same a, f to 1e-10)
_CUT = 0.5 + 1.0 / 7919.0  # off-centre cut position
_MAX_DEPTH = 24
#: longest edge kept before a reprojection: metres in a projected CRS, degrees in a
#: geographic one.  An edge is straight in the CRS its data is stored in; reprojected
#: vertex by vertex it would become the straight line of the other CRS, up to 21 m away
#: for a 38 km edge.  Cut first, the chord error is below 0.2 mm.  The degree step is
#: larger than a 50 m edge anywhere in China (0.00076° east–west at 54°N), so a
#: footprint densified on its way into lon/lat comes back vertex for vertex.
DENSIFY_M = 50.0
DENSIFY_DEG = 0.001


def densify(geoms, crs):
    """Segmentize geometries in their own CRS (edges ≤ :data:`DENSIFY_M` / ``_DEG``)."""
    crs = CRS.from_user_input(crs)
    step = DENSIFY_DEG if crs.is_geographic else DENSIFY_M
    return shapely.segmentize(geoms, step)


def _segments(geoms) -> tuple[np.ndarray, np.ndarray]:
    """The straight segments of line geometries (or of polygon boundaries) and the index
    of the geometry each belongs to."""
    parts, owner = shapely.get_parts(geoms, return_index=True)
    xy, part = shapely.get_coordinates(parts, return_index=True)
    same = np.flatnonzero(part[1:] == part[:-1])
    segs = shapely.linestrings(np.stack([xy[same], xy[same + 1]], axis=1))
    return segs, owner[part[same]]


def query_dwithin(tree: shapely.STRtree, geoms: np.ndarray,
                  distance: float) -> tuple[np.ndarray, np.ndarray]:
    """``tree.query(geoms, predicate="dwithin", distance=distance)``, the same unique
    (input, tree) pairs sorted by input, but a line or polygon is matched by its
    segments: a diagonal pipeline's bounding box may hold most of a layer, and GEOS
    would measure the distance to every feature in it.  A polygon is within the
    distance of a feature when they intersect or when its boundary is within it.

    >>> tree = shapely.STRtree(shapely.points([(0, 0), (5, 5), (10, 10.5)]))
    >>> a, b = query_dwithin(tree, np.array([shapely.LineString([(0, 0), (10, 10)])]), 0.6)
    >>> b.tolist()
    [0, 1, 2]
    """
    geoms = np.asarray(geoms, dtype=object)
    kinds = shapely.get_type_id(geoms)
    point = ~np.isin(kinds, (1, 2, 3, 5, 6))  # points, collections: as GEOS does it
    out_a, out_b = [], []
    idx = np.flatnonzero(point)
    if len(idx):
        a, b = tree.query(geoms[idx], predicate="dwithin", distance=distance)
        out_a.append(idx[a])
        out_b.append(b)
    area = np.isin(kinds, (3, 6))
    idx = np.flatnonzero(area)
    if len(idx):
        a, b = tree.query(geoms[idx], predicate="intersects")
        out_a.append(idx[a])
        out_b.append(b)
    idx = np.flatnonzero(~point)
    if len(idx):
        edges = np.where(area[idx], shapely.boundary(geoms[idx]), geoms[idx])
        segs, owner = _segments(edges)
        a, b = tree.query(segs, predicate="dwithin", distance=distance)
        out_a.append(idx[owner[a]])
        out_b.append(b)
    if not out_a:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    n = np.int64(len(tree.geometries) + 1)
    key = np.unique(np.concatenate(out_a).astype(np.int64) * n + np.concatenate(out_b))
    return key // n, key % n


def reproject_dense(geoms, src, dst):
    """Reproject with the edges kept where the source CRS puts them (see :func:`densify`)."""
    src, dst = CRS.from_user_input(src), CRS.from_user_input(dst)
    if src.equals(dst):
        return geoms
    return reproject(densify(geoms, src), src, dst)


def subdivide(geoms, max_vertices: int = 256):
    """Cut polygons into pieces of at most ``max_vertices`` vertices.

    Returns ``(pieces, parent)``: the pieces and, for each, the index of the
    input geometry it came from.  Pieces of one input do not overlap, so areas
    add up exactly.  Lines and small polygons pass through unchanged.

    Examples
    --------
    >>> import shapely
    >>> circle = shapely.Point(0, 0).buffer(100, quad_segs=256)
    >>> pieces, parent = subdivide([circle], max_vertices=64)
    >>> len(pieces) > 1, set(parent.tolist())
    (True, {0})
    >>> round(float(shapely.area(pieces).sum()), 6) == round(circle.area, 6)
    True
    """
    geoms = np.asarray(geoms, dtype=object)
    n = shapely.get_num_coordinates(geoms)
    small = np.flatnonzero(n <= max_vertices)
    out, parent = [], []
    stack = [(geoms[i], int(i), 0) for i in np.flatnonzero(n > max_vertices)]
    while stack:
        g, i, depth = stack.pop()
        if shapely.get_num_coordinates(g) <= max_vertices or shapely.get_dimensions(g) < 2 \
                or depth >= _MAX_DEPTH:
            out.append(g)
            parent.append(i)
            continue
        x0, y0, x1, y1 = g.bounds
        # cut slightly off the midpoint, so that cut lines practically never coincide
        # with real (often axis-aligned, round-numbered) footprint edges
        if x1 - x0 >= y1 - y0:
            xm = x0 + (x1 - x0) * _CUT
            boxes = [(x0, y0, xm, y1), (xm, y0, x1, y1)]
        else:
            ym = y0 + (y1 - y0) * _CUT
            boxes = [(x0, y0, x1, ym), (x0, ym, x1, y1)]
        for b in boxes:
            part = shapely.intersection(g, shapely.box(*b))
            part = polygonal(part)
            if part is not None:
                stack.append((part, i, depth + 1))
    pieces = np.empty(len(small) + len(out), dtype=object)
    pieces[:len(small)] = geoms[small]
    pieces[len(small):] = out
    return pieces, np.concatenate([small, np.array(parent, dtype=np.int64)])


def split_lines(geoms, max_vertices: int = 256):
    """Cut lines of more than ``max_vertices`` vertices into runs that share their end
    vertices (no vertex is added: distances to the runs are those to the line).

    Returns ``(pieces, parent)`` as :func:`subdivide` does; other geometries pass
    through unchanged.

    >>> import shapely
    >>> pieces, parent = split_lines([shapely.LineString([(i, 0) for i in range(10)])], 4)
    >>> [len(p.coords) for p in pieces], parent.tolist()
    ([4, 4, 4], [0, 0, 0])
    """
    geoms = np.asarray(geoms, dtype=object)
    big = np.flatnonzero((shapely.get_num_coordinates(geoms) > max_vertices) &
                         (shapely.get_dimensions(geoms) == 1))
    if not len(big) or max_vertices < 2:
        return geoms, np.arange(len(geoms))
    keep = np.ones(len(geoms), dtype=bool)
    keep[big] = False
    out: list = list(geoms[keep])
    parent: list[int] = [int(i) for i in np.flatnonzero(keep)]
    step = max_vertices - 1
    for i in big:
        for part in shapely.get_parts(geoms[i]):
            xy = shapely.get_coordinates(part)
            for s in range(0, len(xy) - 1, step):
                out.append(shapely.linestrings(xy[s:s + max_vertices]))
                parent.append(int(i))
    pieces = np.empty(len(out), dtype=object)
    pieces[:] = out
    return pieces, np.asarray(parent, dtype=np.int64)


def polygonal(g):
    if g is None or g.is_empty:
        return None
    if g.geom_type in ("Polygon", "MultiPolygon"):
        return g
    parts = [p for p in shapely.get_parts(g) if p.geom_type in ("Polygon", "MultiPolygon")
             and not p.is_empty]
    if not parts:
        return None
    return shapely.union_all(parts)


def to_geo(geoms, crs):
    return reproject_dense(geoms, crs, GEO)


def _geod_length(g) -> float:
    if g is None or g.is_empty:
        return 0.0
    return float(_GEOD.geometry_length(g))


def _gk_zone_of(crs: CRS) -> int | None:
    """3° zone number of a CGCS2000 GK CRS (prefixed or not), else None."""
    epsg = crs.to_epsg() or 0
    if 4513 <= epsg <= 4533:
        return epsg - 4513 + 25
    if 4534 <= epsg <= 4554:
        return epsg - 4534 + 25
    return None


def gk_fixed_crs(central_meridian: float) -> str:
    """PROJ string of the CGCS2000 Gauss–Krüger projection with a fixed central meridian.

    Transverse Mercator on the GRS80 ellipsoid, scale 1, false easting 500 km
    and no zone prefix: the projection of EPSG:4534–4554 for any meridian.
    """
    return (f"+proj=tmerc +lat_0=0 +lon_0={float(central_meridian):.10g} +k=1 +x_0=500000 "
            "+y_0=0 +ellps=GRS80 +units=m +no_defs")


def _measure_fixed(geoms, crs: CRS, central_meridian: float):
    """Planar area and length in one fixed GK central meridian (vertices projected)."""
    area = np.zeros(len(geoms))
    length = np.zeros(len(geoms))
    live = np.flatnonzero(~shapely.is_empty(geoms))
    if len(live):
        g = reproject(geoms[live], crs, gk_fixed_crs(central_meridian))
        d = shapely.get_dimensions(g)
        area[live] = np.where(d == 2, shapely.area(g), 0.0)
        length[live] = np.where(d == 1, shapely.length(g), 0.0)
    return area, length


def measure(geoms, crs, method: str, central_meridian: float | None = None):
    """(area m², length m) of geometries in ``crs`` by the chosen method.

    Parameters
    ----------
    geoms : array of shapely geometries
    crs : CRS-like
        The CRS of ``geoms``.
    method : {"ellipsoidal", "gk", "gk-fixed"}
        ellipsoidal: areas in a Lambert azimuthal equal-area projection of the
        GRS80 ellipsoid about each geometry's centre (exactly equal-area; edges
        densified to 100 m so chord effects stay below 1e-6), lengths geodesic.
        gk: planar in the 3° Gauss–Krüger zone of each geometry's own centroid.
        gk-fixed: planar in the Gauss–Krüger projection of ``central_meridian``
        for every geometry (vertices projected, edges straight in the plane), as
        official tables that use one meridian for a whole county do.
    central_meridian : float, optional
        Degrees east; required for ``gk-fixed``.

    Returns
    -------
    (ndarray, ndarray)
        Areas in m² (0 for points and lines) and lengths in m (0 for polygons).

    Examples
    --------
    A 1 km square on the central meridian of GK zone 36 (EPSG:4524):

    >>> from shapely import box
    >>> area, length = measure([box(36_500_000, 3_320_000, 36_501_000, 3_321_000)],
    ...                        "EPSG:4524", "gk")
    >>> float(area[0])
    1000000.0
    >>> a, _ = measure([box(106.0, 26.0, 106.01, 26.01)], "EPSG:4490", "ellipsoidal")
    >>> # pyproj.Geod on the densified ring gives 1109137.87 m²
    >>> round(float(a[0]))
    1109138
    """
    crs = CRS.from_user_input(crs)
    geoms = np.asarray(geoms, dtype=object)
    if len(geoms) == 0:
        return np.zeros(0), np.zeros(0)
    if method == "gk-fixed":
        if central_meridian is None:
            raise ValueError("the gk-fixed area method needs a central meridian")
        return _measure_fixed(geoms, crs, central_meridian)
    dims = shapely.get_dimensions(geoms)
    area = np.zeros(len(geoms))
    length = np.zeros(len(geoms))
    if method == "ellipsoidal":
        poly = np.flatnonzero((dims == 2) & ~shapely.is_empty(geoms))
        if len(poly):
            # the projection centre is each geometry's own centroid snapped to a 0.5° grid,
            # so an area never depends on which other geometries share the batch
            cen = shapely.centroid(geoms[poly])
            lon, lat = transformer(crs, GEO).transform(shapely.get_x(cen), shapely.get_y(cen))
            keys = np.round(np.column_stack([lon, lat]) * 2) / 2
            step = 0.001 if crs.is_geographic else 100.0
            for lon0, lat0 in np.unique(keys, axis=0):
                sel = poly[(keys[:, 0] == lon0) & (keys[:, 1] == lat0)]
                laea = f"+proj=laea +lat_0={lat0} +lon_0={lon0} +ellps=GRS80 +units=m +no_defs"
                dense = shapely.segmentize(geoms[sel], step)
                area[sel] = shapely.area(reproject(dense, crs, laea))
        line = dims == 1
        if line.any():
            geo = to_geo(geoms[line], crs)
            length[line] = [_geod_length(g) for g in geo]
        return area, length
    # gk: the zone of each geometry's centroid; no reprojection when it is the CRS's own zone
    live = np.flatnonzero(~shapely.is_empty(geoms))
    if not len(live):
        return area, length
    cen = shapely.centroid(geoms[live])
    lon, _ = transformer(crs, GEO).transform(shapely.get_x(cen), shapely.get_y(cen))
    zones = np.round(np.asarray(lon) / 3.0).astype(int)
    own = _gk_zone_of(crs)
    for zone in np.unique(zones):
        sel = live[zones == zone]
        if zone == own:
            g = geoms[sel]
        else:
            g = reproject(geoms[sel], crs, f"EPSG:{int(4534 + zone - 25)}")
        d = shapely.get_dimensions(g)
        area[sel] = np.where(d == 2, shapely.area(g), 0.0)
        length[sel] = np.where(d == 1, shapely.length(g), 0.0)
    return area, length


class ThreadPrepared:
    """One geometry, prepared separately in every thread that uses it.

    GEOS prepared geometries build their internal indexes lazily and must not be shared
    between threads: two concurrent checks testing one prepared coverage polygon crashed
    the process (a segfault in GEOS).  :meth:`get` gives the calling thread its own
    prepared copy, made on first use (a WKB round trip: the same coordinates, bit for
    bit).
    """

    __slots__ = ("geometry", "_local")

    def __init__(self, geometry):
        self.geometry = geometry
        self._local = threading.local()

    def __reduce__(self):  # pickled (dask) or copied as its geometry alone
        return (ThreadPrepared, (self.geometry,))

    def __deepcopy__(self, memo):  # the geometry is immutable: share it
        return self

    def get(self):
        """The calling thread's prepared copy of the geometry."""
        g = getattr(self._local, "geometry", None)
        if g is None:
            g = self._local.geometry = shapely.from_wkb(shapely.to_wkb(self.geometry))
            shapely.prepare(g)
        return g


#: snap-rounding grid of an overlay redone because its floating result failed a check:
#: 1 µm in a projected CRS (metres), about 1 µm in degrees
OVERLAY_GRID = {"m": 1e-6, "deg": 1e-11}


def checked_split(fp, cover, grid: float = OVERLAY_GRID["m"]):
    """``(outside, inside)``: ``fp`` minus ``cover`` and ``fp`` within it, checked.

    GEOS's floating overlay can fail without an error on some inputs (seen on a union of
    control-unit pieces with sliver holes: a footprint inside it came back wholly outside
    and its intersection had an area of 2e-9, consistently with each other).  The parts
    are checked against the DE-9IM matrix, which GEOS computes another way: a part has a
    measure (area for polygons, length for lines) exactly when the matrix says the
    footprint's interior meets the cover's interior (inside) or exterior (outside) in that
    dimension.  When they disagree both parts are computed again with snap rounding on
    ``grid``, which does not fail that way.

    >>> import shapely
    >>> out, inn = checked_split(shapely.box(0, 0, 2, 1), shapely.box(1, -1, 3, 2))
    >>> out.area, inn.area
    (1.0, 1.0)
    """
    split = _split(fp, cover)
    parts = shapely.get_parts(fp)
    if len(parts) <= 1:
        return _checked(fp, cover, split, grid)
    # each part on its own: one part's failure must not hide behind another's real
    # overlap; when every part agrees the whole footprint's split stands as it is
    splits = [_split(p, cover) for p in parts]
    if all(_agrees(p, cover, *sp) for p, sp in zip(parts, splits)):
        return split
    done = [_checked(p, cover, sp, grid) for p, sp in zip(parts, splits)]
    return (shapely.union_all([o for o, _ in done]),
            shapely.union_all([i for _, i in done]))


def _split(fp, cover) -> tuple:
    """(outside, inside) by GEOS's floating overlay."""
    return shapely.difference(fp, cover), shapely.intersection(fp, cover)


def _checked(fp, cover, split: tuple, grid: float) -> tuple:
    """A single-part footprint's ``split``, or the snap-rounded one where it disagrees with
    the DE-9IM matrix (the floating one again if snap rounding fails too)."""
    if _agrees(fp, cover, *split):
        return split
    try:
        return (shapely.difference(fp, cover, grid_size=grid),
                shapely.intersection(fp, cover, grid_size=grid))
    except shapely.errors.GEOSException:
        return split


def _agrees(fp, cover, outside, inside) -> bool:
    """Whether a split of a single-part footprint agrees with the DE-9IM matrix."""
    dim = int(shapely.get_dimensions(fp))
    if dim <= 0:
        return True  # points (and empty): no measure to check, their overlay is exact
    im = shapely.relate(cover, fp)  # rows: the cover's interior, boundary, exterior
    size = shapely.area if dim == 2 else shapely.length
    tiny = 1e-9 * float(size(fp))
    d = str(dim)
    # a line lying along the cover's boundary is inside it (the cover is closed)
    said = (im[0] == d or (dim == 1 and im[3] == d), im[6] == d)
    got = (float(size(inside)) > tiny, float(size(outside)) > tiny)
    return said == got


def checked_union(parts, disjoint: bool, grid: float = OVERLAY_GRID["m"]):
    """The union of polygonal ``parts``, checked by area: it lies between the largest part
    and their sum, and equals the sum when the parts only touch (``disjoint``: the pieces of
    one subdivided feature).  A union that fails the check (see :func:`checked_split`) is
    computed again with snap rounding on ``grid``.

    >>> import shapely
    >>> checked_union([shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)], True).area
    2.0
    """
    parts = np.asarray(parts, dtype=object)
    u = shapely.union_all(parts)
    areas = shapely.area(parts)
    total, biggest, got = float(areas.sum()), float(areas.max(initial=0.0)), float(u.area)
    tol = max(1e-3, 1e-6 * total)
    ok = abs(got - total) <= tol if disjoint else biggest - tol <= got <= total + tol
    return u if ok else shapely.union_all(parts, grid_size=grid)
