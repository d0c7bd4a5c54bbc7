"""The contains shortcut of the overlay: a feature wholly inside a footprint needs no overlay.

When a polygon footprint covers a layer piece, their intersection *is* the piece,
so the exact (and costly) ``intersection`` is skipped; when it covers every piece
of a feature, the overlap is the feature itself and its area the feature's own,
precomputed by the prepared layer store or measured once per feature and kept
(:meth:`zoning.engine.index.LayerIndex.feature_areas`).  Areas agree with the
overlay to floating-point noise (the same geometry, vertices in another order).
"""

from __future__ import annotations

import numpy as np
import shapely

__all__ = ["pair_intersections", "full_groups", "SHORTCUT_METHODS"]

#: area methods whose whole-feature areas are kept per feature (gk-fixed depends on a
#: user-given meridian: always measured)
SHORTCUT_METHODS = ("ellipsoidal", "gk")


def pair_intersections(fps: np.ndarray, pieces: np.ndarray, ii: np.ndarray, jj: np.ndarray,
                       kinds: np.ndarray, line_layer: bool) -> tuple[np.ndarray, np.ndarray]:
    """Intersections of the candidate pairs ``(fps[ii], pieces[jj])`` and which were covered.

    Returns ``(geometries, covered)``: ``covered[p]`` is true when polygon footprint
    ``fps[ii[p]]`` covers the piece ``pieces[jj[p]]`` of a polygon layer (the piece itself
    is then the intersection).  ``fps`` are prepared here: they must belong to the
    caller alone (prepared geometries must not be shared across threads).
    """
    n = len(ii)
    covered = np.zeros(n, dtype=bool)
    if not n:
        return np.array([], dtype=object), covered
    if not line_layer:
        poly = np.flatnonzero(kinds[ii] == "polygon")
        if len(poly):
            shapely.prepare(fps[np.unique(ii[poly])])
            covered[poly] = shapely.covers(fps[ii[poly]], pieces[jj[poly]])
    inter = np.empty(n, dtype=object)
    inter[covered] = pieces[jj[covered]]
    rest = np.flatnonzero(~covered)
    if len(rest):
        inter[rest] = shapely.intersection(fps[ii[rest]], pieces[jj[rest]])
    return inter, covered


def full_groups(covered: np.ndarray, bounds: np.ndarray, feat: np.ndarray,
                npieces: np.ndarray) -> np.ndarray:
    """Which (footprint, feature) groups hold the whole feature inside the footprint.

    Groups are the runs ``covered[bounds[g]:bounds[g + 1]]`` of pairs sorted by group;
    a group is full when every pair is covered and it has every piece of its feature.
    """
    starts = bounds[:-1]
    if not len(starts):
        return np.zeros(0, dtype=bool)
    counts = np.diff(bounds)
    all_in = np.minimum.reduceat(covered.astype(np.int8), starts).astype(bool)
    return all_in & (counts == np.asarray(npieces)[feat])
