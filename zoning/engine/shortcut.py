"""The contains shortcut of the overlay: a feature wholly inside a footprint needs no overlay.

When a polygon footprint covers a layer piece, their intersection *is* the piece,
so the exact (and costly) ``intersection`` is skipped; when it covers every piece
of a feature, the overlap area is the feature's own area, precomputed by the
prepared layer store or measured once per feature and kept
(:meth:`zoning.engine.index.LayerIndex.feature_areas`).  Areas agree with the
overlay to floating-point noise (the same geometry, vertices in another order).
"""

from __future__ import annotations

import numpy as np
import shapely

from zoning.engine.geometry import measure

__all__ = ["pair_intersections", "group_measures"]


def pair_intersections(fps: np.ndarray, pieces: np.ndarray, ii: np.ndarray, jj: np.ndarray,
                       kinds: np.ndarray, line_layer: bool) -> tuple[np.ndarray, np.ndarray]:
    """Intersections of the candidate pairs ``(fps[ii], pieces[jj])`` and which were covered.

    Returns ``(geometries, covered)``: ``covered[p]`` is true when polygon footprint
    ``fps[ii[p]]`` covers polygon piece ``pieces[jj[p]]`` (the piece itself is then the
    intersection).  ``fps`` are prepared here: they must belong to the caller alone
    (prepared geometries must not be shared across threads).
    """
    n = len(ii)
    covered = np.zeros(n, dtype=bool)
    if not n:
        return np.array([], dtype=object), covered
    if not line_layer:
        poly = np.flatnonzero(kinds[ii] == "polygon")
        if len(poly):
            shapely.prepare(fps)
            covered[poly] = shapely.covers(fps[ii[poly]], pieces[jj[poly]])
    inter = np.empty(n, dtype=object)
    inter[covered] = pieces[jj[covered]]
    rest = np.flatnonzero(~covered)
    if len(rest):
        inter[rest] = shapely.intersection(fps[ii[rest]], pieces[jj[rest]])
    return inter, covered


def group_measures(li, feat_geoms: np.ndarray, starts: np.ndarray, covered: np.ndarray,
                   g_feat: np.ndarray, crs, method: str) -> tuple[np.ndarray, np.ndarray]:
    """(area, length) of each (footprint, feature) group of pairs.

    Groups are the runs of pairs beginning at ``starts``; ``covered`` is per pair in the
    same order.  A group whose pairs are all covered and that holds every piece of its
    feature takes the feature's whole area; the others are measured.
    """
    m = len(starts)
    area, length = np.zeros(m), np.zeros(m)
    if not m:
        return area, length
    counts = np.diff(np.r_[starts, len(covered)])
    all_in = np.minimum.reduceat(covered.astype(np.int8), starts).astype(bool)
    full = all_in & (counts == np.asarray(li.npieces)[g_feat])
    if full.any():
        area[full] = li.feature_areas(g_feat[full], crs, method)
    rest = np.flatnonzero(~full)
    if len(rest):
        area[rest], length[rest] = measure(feat_geoms[rest], crs, method)
    return area, length
