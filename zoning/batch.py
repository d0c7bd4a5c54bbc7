"""Running a region's chunks: footprints in spatial order, chunks on a thread pool.

* Footprints are sorted along a Hilbert curve of their centroids before they are
  cut into chunks, so a chunk covers a compact tile and consecutive chunks read
  the same prepared-store row groups (:class:`zoning.io.store.StoreSource` keeps
  them decoded).  Results go back to input order.
* With ``threads > 1`` chunks run on a thread pool: the overlay's GEOS calls
  release the GIL.  GEOS prepared geometries are not thread-safe, so every
  thread gets its own copy of the region's prepared coverage polygon (and
  prepares its own footprints, which are never shared).
* The results of the chunks already done are moved out of the garbage collector's
  sight (``gc.freeze``) as the batch goes on: they live until the batch ends, and
  every full collection scanned all of them again (a fifth of a 10k-footprint
  batch's time).  The batch's own short-lived objects are collected as usual; at
  the end the frozen objects are handed back (``gc.unfreeze``).
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import numpy as np
import shapely

from zoning.engine.index import RegionIndex
from zoning.engine.overlay import check_chunk
from zoning.options import CheckOptions
from zoning.project import Project

__all__ = ["spatial_order", "run_chunks", "results_frozen"]


def spatial_order(geoms) -> np.ndarray:
    """Order of geometries along a Hilbert curve of their centroids (bbox centres)."""
    from zoning.io.store import hilbert_keys

    geoms = np.asarray(geoms, dtype=object)
    if len(geoms) < 2:
        return np.arange(len(geoms))
    b = shapely.bounds(geoms)
    x, y = (b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2
    ext = (np.nanmin(x), np.nanmin(y), np.nanmax(x), np.nanmax(y))
    return np.argsort(hilbert_keys(x, y, ext), kind="stable")


@contextmanager
def results_frozen(active: bool = True) -> Iterator[Callable[[], None]]:
    """A ``freeze()`` to call after each chunk; everything is unfrozen at the end.

    Does nothing unless ``active`` (a single chunk, such as one check, gains nothing),
    or when the process froze objects itself (a pre-forking server's policy is its own)."""
    if not active or gc.get_freeze_count():
        yield lambda: None
        return
    try:
        yield gc.freeze
    finally:
        gc.unfreeze()


def run_chunks(index: RegionIndex, projects: list[Project], opts: CheckOptions,
               chunk_size: int = 500, threads: int = 1,
               progress: Callable[[int], None] | None = None,
               check: Callable | None = None) -> Iterator[tuple]:
    """Check ``projects`` (all of one region) in chunks; yields ``(positions, results,
    overlaps)`` per chunk, positions indexing ``projects``.

    ``check(index, chunk) -> (results, overlaps)`` checks one chunk (default
    :func:`~zoning.engine.overlay.check_chunk`)."""
    if check is None:
        def check(idx, chunk):
            return check_chunk(idx, chunk, opts)
    order = np.arange(len(projects))
    if len(projects) > chunk_size:
        order = spatial_order([p.geometry for p in projects])
    chunks = [order[s:s + chunk_size] for s in range(0, len(order), chunk_size)]
    with results_frozen(len(chunks) > 1) as freeze:
        freeze()  # the projects and the index live as long as the batch
        if threads <= 1 or len(chunks) < 2:
            for c in chunks:
                res, ov = check(index, [projects[i] for i in c])
                if progress:
                    progress(len(c))
                yield c, res, ov
                freeze()
            return

        def work(c):  # the index's prepared coverage is per thread (RegionIndex.coverage)
            return c, *check(index, [projects[i] for i in c])

        with ThreadPoolExecutor(max_workers=threads) as ex:
            for c, res, ov in ex.map(work, chunks):
                if progress:
                    progress(len(c))
                yield c, res, ov
                freeze()
