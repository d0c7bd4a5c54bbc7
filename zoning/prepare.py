"""Prepared layer stores for a catalog: which layers get one, built in the region's work CRS.

The store format and its reader live in :mod:`zoning.io.store`; this module only
wires a catalog to it: the region's work CRS comes from its district coverage
(the same one the engine uses), and the Hilbert grid spans the coverage.

>>> from zoning.catalog import resolve_catalogs
>>> [s.name for s in store_layers(resolve_catalogs(region="guiyang")[0])]
['redline', 'farmland', 'udb', 'protected_areas', 'control_units']
"""

from __future__ import annotations

from collections.abc import Callable

from pyproj import CRS

from zoning.catalog import Catalog, LayerSpec
from zoning.crs import reproject
from zoning.engine.geometry import GEO
from zoning.engine.index import work_crs_for
from zoning.errors import CatalogError
from zoning.options import CheckOptions

__all__ = ["store_layers", "region_frame", "build_stores", "store_statuses"]

#: kinds that get a store (districts and 岸线 are small and needed whole)
STORE_KINDS = ("eco_redline", "farmland", "urban_boundary", "protected_area", "control_unit")


def store_layers(catalog: Catalog) -> list[LayerSpec]:
    """The catalog's file vector layers that get a prepared store."""
    return [s for s in catalog.layers.values()
            if s.path is not None and not s.is_raster and s.kind in STORE_KINDS]


def region_frame(catalog: Catalog) -> tuple[CRS, tuple]:
    """(work CRS, coverage bounds in it) of a catalog; needs its districts layer."""
    from zoning.screen import INDEX_CACHE

    cov = INDEX_CACHE.coverage(catalog)
    if cov is None:
        raise CatalogError("预处理图层库需要图层目录中的行政区划图层（由它确定工作坐标系）", path=catalog.path)
    work = work_crs_for(cov)
    return work, tuple(float(v) for v in reproject(cov, GEO, work).bounds)


def build_stores(catalog: Catalog, options: CheckOptions | None = None,
                 names: list[str] | None = None, force: bool = False,
                 progress: Callable[[str], None] | None = None) -> list[dict]:
    """Build the prepared store of every big layer of ``catalog`` (or of ``names``).

    A fresh store is kept unless ``force``.  Returns one dict per layer:
    ``layer``, ``state`` (built | fresh) and the store's metadata.
    """
    from zoning.io.store import build_store, store_status

    opts = options or CheckOptions()
    work, extent = region_frame(catalog)
    specs = store_layers(catalog)
    if names:
        unknown = set(names) - {s.name for s in specs}
        if unknown:
            raise CatalogError(f"图层目录中没有可生成图层库的文件图层 {sorted(unknown)}；"
                               f"可用的：{[s.name for s in specs]}", path=catalog.path)
        specs = [s for s in specs if s.name in names]
    out = []
    for spec in specs:
        st = store_status(spec, work, opts.subdivide_vertices)
        if st.fresh and not force:
            out.append({**st.meta, "layer": spec.name, "state": "fresh"})
            continue
        meta = build_store(spec, work, opts.subdivide_vertices, extent=extent,
                           progress=progress)
        out.append({**meta, "layer": spec.name, "state": "built"})
    return out


def store_statuses(catalog: Catalog, options: CheckOptions | None = None) -> list:
    """:class:`~zoning.io.store.StoreStatus` of each store layer (content hashes checked)."""
    from zoning.io.store import store_status

    opts = options or CheckOptions()
    try:
        work = region_frame(catalog)[0]
    except CatalogError:
        work = None
    return [store_status(s, work, opts.subdivide_vertices) for s in store_layers(catalog)]
