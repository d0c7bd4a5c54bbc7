"""The dask engine: the same chunked check, run on a dask cluster.

The project table is partitioned with dask-geopandas (one partition per
chunk); each partition is screened by :func:`zoning.screen.screen` on a worker.
Layers are read once per worker process (the per-process index cache), never
shipped with the tasks; only the small project partitions and the catalog
manifests travel.  Results come back row for row in input order, identical
to the single-process engine.  Failed tasks (a worker dying mid-batch) are
retried; every input row appears exactly once in the output.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

import geopandas as gpd

from zoning.screen import ScreenResult, screen
from zoning.options import CheckOptions

__all__ = ["screen_dask"]


def _screen_part(part: gpd.GeoDataFrame, catalogs, region, options) -> list:
    fail_dir = os.environ.get("ZONING_FAIL_ONCE_DIR")
    if fail_dir and len(part):
        marker = Path(fail_dir) / f"part-{int(part['_pos'].iloc[0])}"
        if not marker.exists():
            marker.write_text("failed once")
            os._exit(1)  # simulate a worker dying mid-batch
    if not len(part):
        return []
    res = screen(part.drop(columns="_pos"), catalogs, region=region, options=options,
                 chunk_size=len(part))
    by_row: dict = {}
    for o in res.overlaps:
        by_row.setdefault(o["row"], []).append(o)
    return [(int(pos), r, by_row.get(r.row, []))
            for pos, r in zip(part["_pos"], res.results)]


def screen_dask(projects: gpd.GeoDataFrame, catalogs, *, region: str | None = None,
                options: CheckOptions | None = None, chunk_size: int = 500,
                scheduler: str | None = None, n_workers: int = 2, retries: int = 3,
                progress: Callable[[int], None] | None = None) -> ScreenResult:
    """Screen a project table on a dask cluster (a LocalCluster unless ``scheduler``)."""
    import dask
    import dask_geopandas
    from distributed import Client, LocalCluster, as_completed

    opts = options or CheckOptions()
    n = len(projects)
    table = projects.reset_index(drop=True).assign(_pos=range(n))
    nparts = max(1, -(-n // chunk_size))
    # keep object columns as they are: dask's default string conversion would turn the
    # warnings lists and yes/no flags into text
    with dask.config.set({"dataframe.convert-string": False}):
        ddf = dask_geopandas.from_geopandas(table, npartitions=nparts, sort=False)
        parts = ddf.to_delayed()
    tasks = [dask.delayed(_screen_part)(p, catalogs, region, opts) for p in parts]
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
        for fut in as_completed(futures):
            rows = fut.result()
            for pos, r, ov in rows:
                if out[pos] is not None:
                    raise RuntimeError(f"row {pos + 1} was returned twice")
                out[pos] = r
                overlaps.extend(ov)
            if progress:
                progress(len(rows))
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    missing = [i + 1 for i, r in enumerate(out) if r is None]
    if missing:
        raise RuntimeError(f"rows {missing[:10]} came back from no task")
    overlaps.sort(key=lambda o: (o["row"] or 0))
    return ScreenResult(results=out, overlaps=overlaps)


def results_equal(a: ScreenResult, b: ScreenResult) -> bool:
    """Row-for-row equality of two screening results (for tests and benchmarks)."""
    if len(a.results) != len(b.results):
        return False
    return all(x.to_dict() == y.to_dict() for x, y in zip(a.results, b.results))

