"""The dask engine: the same chunked check, run on a dask cluster.

The project table is cut into spatially compact partitions of ``chunk_size``
rows (along a Hilbert curve); each is screened by :func:`zoning.screen.screen`
on a worker.  With prepared layer stores (``zoning layers build``) a worker
reads only the row groups its partitions touch, never a whole layer.
Layers are read once per worker process (the per-process index cache), never
shipped with the tasks; only the small project partitions and the catalog
manifests travel.  Results come back row for row in input order, identical
to the single-process engine.  Failed tasks (a worker dying mid-batch) are
retried; every input row appears exactly once in the output.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable

import geopandas as gpd
import numpy as np

from zoning.batch import results_frozen
from zoning.errors import ZoningError, require
from zoning.options import CheckOptions
from zoning.screen import ScreenResult, screen

__all__ = ["screen_dask", "screen_part", "load_part", "results_equal", "spatial_partitions"]


def screen_part(part: gpd.GeoDataFrame, catalogs, region, options) -> bytes:
    """Screen one partition on a worker: ``[(input position, result, overlaps)]``, pickled.

    The worker pickles its rows itself, with the collector's full scans of its heap
    (the layer index, the results) paused, and the client unpickles them the same way
    (:func:`load_part`): tens of thousands of result objects otherwise cost more in
    garbage-collector scans than in pickling."""
    if not len(part):
        return pickle.dumps([])
    # in chunks of the local engine's size, not one chunk per partition: a chunk's store
    # reads and box tests grow faster than its rows (a 10k-row batch on 2 workers: 8–10 %
    # faster, the same results)
    res = screen(part.drop(columns="_pos"), catalogs, region=region, options=options,
                 chunk_size=min(len(part), 500))
    by_row: dict = {}
    for o in res.overlaps:
        by_row.setdefault(o["row"], []).append(o)
    rows = [(int(pos), r, by_row.get(r.row, []))
            for pos, r in zip(part["_pos"], res.results)]
    with results_frozen() as freeze:
        freeze()
        return pickle.dumps(rows, protocol=pickle.HIGHEST_PROTOCOL)


def load_part(blob: bytes) -> list:
    """The rows of a partition pickled by :func:`screen_part`.

    The collector is paused while they are read: unpickling makes hundreds of thousands of
    objects that all stay, and the collections it set off (a third of the time) found no
    garbage."""
    import gc

    paused = gc.isenabled()
    gc.disable()
    try:
        return pickle.loads(blob)  # noqa: S301 - from this batch's own workers, as dask's own
    finally:
        if paused:
            gc.enable()


def spatial_partitions(projects: gpd.GeoDataFrame, size: int) -> list[gpd.GeoDataFrame]:
    """The project table cut into partitions of ``size`` rows along a Hilbert curve.

    Each partition covers a compact area, so a worker reads only the prepared-store
    row groups that area touches.  ``_pos`` keeps each row's input position.
    """
    from zoning.batch import spatial_order

    table = projects.reset_index(drop=True).assign(_pos=range(len(projects)))
    geoms = table.geometry.values
    ok = ~(geoms.isna() | geoms.is_empty)
    order = np.r_[np.flatnonzero(ok)[spatial_order(geoms[ok])], np.flatnonzero(~ok)]
    table = table.iloc[order]
    return [table.iloc[s:s + size] for s in range(0, len(table), size)]


def screen_dask(projects: gpd.GeoDataFrame, catalogs, *, region: str | None = None,
                options: CheckOptions | None = None, chunk_size: int = 500,
                scheduler: str | None = None, n_workers: int = 2, retries: int = 3,
                progress: Callable[[int], None] | None = None,
                task: Callable = screen_part) -> ScreenResult:
    """Screen a project table on a dask cluster (a LocalCluster unless ``scheduler``).

    ``task`` screens one partition (default :func:`screen_part`); tests pass
    one that kills its worker to check that retries lose no row.
    """
    dask = require("dask", "dask", "dask 引擎")
    distributed = require("distributed", "dask", "dask 引擎")
    Client, LocalCluster = distributed.Client, distributed.LocalCluster
    as_completed = distributed.as_completed

    opts = options or CheckOptions()
    n = len(projects)
    parts = spatial_partitions(projects, chunk_size)
    tasks = [dask.delayed(task)(p, catalogs, region, opts) for p in parts]
    cluster = None
    if scheduler:
        client = Client(scheduler)
    else:
        cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                               dashboard_address=None)
        client = Client(cluster)
    out: list = [None] * n
    overlaps: list = []
    try:
        futures = client.compute(tasks, retries=retries)
        # results arrive while others are unpickled: those already here are kept out of
        # the collector's full scans (see zoning.batch.results_frozen)
        with results_frozen() as freeze:
            for fut in as_completed(futures):
                rows = load_part(fut.result())
                for pos, r, ov in rows:
                    if out[pos] is not None:
                        raise ZoningError(f"internal error: row {pos + 1} was returned twice")
                    out[pos] = r
                    overlaps.extend(ov)
                if progress:
                    progress(len(rows))
                freeze()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    missing = [i + 1 for i, r in enumerate(out) if r is None]
    if missing:
        raise ZoningError(f"internal error: rows {missing[:10]} came back from no task")
    overlaps.sort(key=lambda o: (o["row"] or 0))
    return ScreenResult(results=out, overlaps=overlaps)


def results_equal(a: ScreenResult, b: ScreenResult) -> bool:
    """Row-for-row equality of two screening results (for tests and benchmarks)."""
    if len(a.results) != len(b.results):
        return False
    return all(x.to_dict() == y.to_dict() for x, y in zip(a.results, b.results))

