"""Indicators per district and region: forest cover, 林草覆盖率, protected-area share.

Pixel area.  The bundled land cover is on a CGCS2000 longitude/latitude grid
(1″ ≈ 30 m).  A 1″ × 1″ pixel is 30.9 m north–south everywhere but
30.9·cos(φ) m east–west, so a pixel at 35.8°N (north 平凉) covers about 11 %
less ground than one at 26.2°N (south 贵阳), and within one district the
spread is 1–3 %.  Shares are therefore computed with every pixel weighted by
its true area and by the exact fraction of the pixel inside the polygon, so
edge pixels count for the part that lies inside.  The true area is the cell's
area on the GRS80 (CGCS2000) ellipsoid: exactextract's spherical cell area
(``coverage_weight=area_spherical_m2``, a sphere of radius a = 6 378 137 m,
0.17–0.40 % too large in China) times an exact per-row factor from the
authalic latitude (:func:`grs80_row_factor`).  A raster in a projected
equal-area CRS gives the same result with plain fractions.

Memory.  exactextract reads the raster in windows per feature, keeping at
most ``max_cells_in_memory`` cells at a time, so memory does not grow with the
raster's size.

Which classes count as forest or grass comes from the catalog (``classes:`` of
the landcover layer), never from code.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from zoning.catalog import Catalog
from zoning.engine.geometry import measure
from zoning.errors import DataError, InputError

__all__ = ["indicators", "RegionIndicators", "landcover_shares", "protected_share",
           "compare_targets", "Comparison", "INDICATOR_GROUPS", "grs80_row_factor"]

#: indicator → class groups (from the catalog's ``classes``) that it adds up
INDICATOR_GROUPS = {"forest_cover": ("forest",), "forest_grass_cover": ("forest", "grass")}


def _raster_source(raster, transform=None, crs=None, nodata=None):
    """A path, an open rasterio dataset, or a 2-D array (with transform and crs)."""
    if isinstance(raster, np.ndarray):
        if transform is None or crs is None:
            raise InputError("an array raster needs transform and crs")
        from rasterio.io import MemoryFile

        mem = MemoryFile()
        ds = mem.open(driver="GTiff", width=raster.shape[1], height=raster.shape[0], count=1,
                      dtype=raster.dtype, transform=transform, crs=crs, nodata=nodata)
        ds.write(raster, 1)
        ds.close()
        return mem.open(), mem
    return raster, None


_A = 6378137.0  # GRS80 semi-major axis (exactextract's sphere radius)
_F = 1 / 298.257222101
_E2 = _F * (2 - _F)
_E = np.sqrt(_E2)


def _q(phi_deg):
    """The authalic-latitude function q(φ) of GRS80: area from the equator ∝ q (Snyder 3-12)."""
    s = np.sin(np.radians(phi_deg))
    return (1 - _E2) * (s / (1 - _E2 * s * s) - np.log((1 - _E * s) / (1 + _E * s)) / (2 * _E))


def grs80_row_factor(lat_top, lat_bottom):
    """GRS80 area ÷ spherical (R = a) area of a band of cells between two latitudes.

    Exact: the ellipsoidal band area is a²/2·Δλ·(q₂ − q₁), the spherical one
    a²·Δλ·(sin φ₂ − sin φ₁).

    >>> round(float(grs80_row_factor(30.0005, 30.0)), 6)
    0.996639
    """
    lat_top, lat_bottom = np.asarray(lat_top, float), np.asarray(lat_bottom, float)
    sph = np.sin(np.radians(lat_top)) - np.sin(np.radians(lat_bottom))
    return (_q(lat_top) - _q(lat_bottom)) / (2 * sph)


def _row_factors(ds):
    """A zero-copy raster of the per-row GRS80 factor on the grid of ``ds`` (north-up)."""
    from exactextract.raster import NumPyRasterSource

    t = ds.transform
    rows = np.arange(ds.height)
    k = grs80_row_factor(t.f + rows * t.e, t.f + (rows + 1) * t.e)
    grid = np.broadcast_to(k[:, None], (ds.height, ds.width))
    x0, y1 = t.c, t.f
    return NumPyRasterSource(grid, x0, y1 + ds.height * t.e, x0 + ds.width * t.a, y1,
                             srs_wkt=ds.crs.to_wkt())


def landcover_shares(raster, polygons: gpd.GeoDataFrame, id_col: str, classes: dict,
                     *, transform=None, crs=None, nodata=None,
                     max_cells_in_memory: int = 4_000_000, area_weighted: bool = True
                     ) -> pd.DataFrame:
    """Area and class-group shares of land cover inside each polygon.

    Returns one row per polygon: ``id``, ``area_m2`` (area with land-cover
    data, pixel-area weighted), and ``<group>_m2`` / ``<group>_share`` for every
    group in ``classes`` (e.g. ``{"forest": [20], "grass": [30]}``).
    """
    from exactextract import exact_extract

    src, keep = _raster_source(raster, transform, crs, nodata)
    opened = None
    if isinstance(src, (str, bytes)) or hasattr(src, "__fspath__"):
        from zoning.io.raster import open_raster

        opened = open_raster(src)
        ds = opened
    else:
        ds = src
    try:
        polys = polygons[[id_col, polygons.geometry.name]].copy()
        if ds.crs is not None and polys.crs is not None and not polys.crs.equals(ds.crs):
            polys = polys.to_crs(ds.crs)
        weight = "(coverage_weight=area_spherical_m2)" if area_weighted and \
            ds.crs is not None and ds.crs.is_geographic else ""
        north_up = ds.transform.b == 0 and ds.transform.d == 0 and ds.transform.e < 0
        if weight and north_up:
            res = _grs80_extract(ds, polys, id_col, max_cells_in_memory)
        else:
            ops = ["unique", f"frac{weight}", f"count{weight}"]
            res = exact_extract(ds, polys, ops, include_cols=[id_col], output="pandas",
                                max_cells_in_memory=max_cells_in_memory)
    finally:
        if opened is not None:
            opened.close()
        if keep is not None:
            ds.close()
            keep.close()
    rows = []
    cell_area = 1.0
    if not weight:
        cell_area = abs(ds.transform.a * ds.transform.e) if ds.crs and ds.crs.is_projected \
            else 1.0
    for rec in res.to_dict("records"):
        uniq = np.asarray(rec["unique"])
        frac = np.asarray(rec["frac"])
        area = float(rec["count"]) * cell_area
        row = {"id": rec[id_col], "area_m2": area}
        for group, codes in classes.items():
            share = float(frac[np.isin(uniq, codes)].sum()) if len(uniq) else 0.0
            row[f"{group}_share"] = share
            row[f"{group}_m2"] = share * area
        rows.append(row)
    return pd.DataFrame(rows)


def _grs80_extract(ds, polys, id_col: str, max_cells: int) -> pd.DataFrame:
    """unique / frac / count with every cell weighted by its GRS80 area, cells without
    land-cover data (nodata) left out of all three.

    One pass over the raster: the GRS80 area of the cells with data, Σw, is
    ``weighted_sum / weighted_mean`` of the class codes (exactextract has no weighted
    count).  A polygon whose cells with data all hold code 0 has no such ratio: its Σw
    is summed from its cells' own area-weighted coverage and row factors (exactextract
    lists only the cells with data), in a second pass over that polygon alone.
    """
    from exactextract import exact_extract

    k = _row_factors(ds)
    w = "(coverage_weight=area_spherical_m2)"
    res = exact_extract(ds, polys, ["unique", f"weighted_frac{w}", f"weighted_sum{w}",
                                    f"weighted_mean{w}"], weights=k,
                        include_cols=[id_col], output="pandas", max_cells_in_memory=max_cells)
    total, mean = res["weighted_sum"].to_numpy(float), res["weighted_mean"].to_numpy(float)
    ratio = np.isfinite(mean) & (mean != 0)
    count = np.where(ratio, total / np.where(ratio, mean, 1.0), 0.0)
    zero = np.flatnonzero(~ratio & np.array([len(u) > 0 for u in res["unique"]]))
    if len(zero):
        cells = exact_extract(ds, polys.iloc[zero], [f"coverage{w}", "weights"], weights=k,
                              output="pandas", max_cells_in_memory=max_cells)
        count[zero] = [float(np.dot(c, kk)) for c, kk in zip(cells["coverage"],
                                                              cells["weights"])]
    return res.rename(columns={"weighted_frac": "frac"}).drop(
        columns=["weighted_sum", "weighted_mean"]).assign(count=count)


def protected_share(protected: gpd.GeoDataFrame, polygons: gpd.GeoDataFrame, id_col: str,
                    area_method: str = "ellipsoidal") -> pd.DataFrame:
    """Share of each polygon inside any protected area.

    Overlapping designations (a forest park over part of a reserve) are
    dissolved first, so no ground is counted twice.  Areas are ellipsoidal
    (equal-area on GRS80) by default.
    """
    crs = polygons.crs
    pa = protected.to_crs(crs).geometry.values
    pa = shapely.make_valid(pa[~(shapely.is_missing(pa) | shapely.is_empty(pa))])
    dissolved = shapely.union_all(pa) if len(pa) else shapely.Polygon()
    geoms = polygons.geometry.values
    inter = shapely.intersection(geoms, dissolved)
    a_poly, _ = measure(geoms, crs, area_method)
    a_pa, _ = measure(inter, crs, area_method)
    return pd.DataFrame({"id": polygons[id_col].values, "area_m2": a_poly,
                         "protected_m2": a_pa,
                         "protected_share": np.where(a_poly > 0, a_pa / a_poly, 0.0)})


@dataclass
class Comparison:
    region: str
    scope: str
    indicator: str
    indicator_zh: str
    value: float | None  # percent
    target: float
    unit: str
    comparison: str
    year: int | None
    gap: float | None  # value − target, percentage points
    met: bool | None
    status: str  # met | not_met | not_computed
    note: str
    source: str
    quote: str

    def to_dict(self) -> dict:
        return asdict(self)


def _met(value, target, comparison) -> bool:
    if comparison == "gte":
        return bool(value >= target)
    if comparison == "lte":
        return bool(value <= target)
    return bool(abs(value - target) <= 1.0)


def compare_targets(values: dict, targets, region_id: str, region_name: str) -> list:
    """Compare region-level values (percent, keyed by indicator) with the plan targets.

    ``values``: e.g. ``{"forest_cover": 55.9, "protected_area_share": 7.1}``.
    Targets for another scope (e.g. 贵安新区) or an indicator that cannot be
    computed from the layers (水土保持率) are listed as ``not_computed`` with why.
    """
    out = []
    for t in targets:
        if t.region != region_id:
            continue
        value, note = values.get(t.indicator), ""
        if t.scope != region_name:
            value, note = None, f"目标针对{t.scope}，本区域数据无其边界"
        elif value is None:
            note = "本工具未计算该指标（需要专门数据，如水土保持监测）"
        met = None if value is None else _met(value, t.value, t.comparison)
        out.append(Comparison(
            region=region_id, scope=t.scope, indicator=t.indicator, indicator_zh=t.indicator_zh,
            value=None if value is None else round(float(value), 2), target=t.value, unit=t.unit,
            comparison=t.comparison, year=t.year,
            gap=None if value is None else round(float(value) - t.value, 2), met=met,
            status="not_computed" if met is None else ("met" if met else "not_met"),
            note=note or t.note, source=t.source_title or t.source, quote=t.quote))
    return out


@dataclass
class RegionIndicators:
    region: str
    region_name: str
    districts: gpd.GeoDataFrame  # EPSG:4490, one row per district with indicator columns
    values: dict  # region-level percentages by indicator
    comparisons: list
    notes: list = field(default_factory=list)

    def to_dict(self) -> dict:
        cols = [c for c in self.districts.columns if c != "geometry"]
        return {"schema": "zoning.indicators/1", "region": self.region,
                "region_name": self.region_name, "values": self.values,
                "districts": self.districts[cols].to_dict("records"),
                "comparisons": [c.to_dict() for c in self.comparisons], "notes": self.notes}


def indicators(catalog: Catalog, targets=None) -> RegionIndicators:
    """Forest cover, 林草覆盖率 and protected-area share per district and for the region.

    Examples
    --------
    >>> from zoning.catalog import resolve_catalogs
    >>> ind = indicators(resolve_catalogs(region="yunyang")[0])
    >>> sorted(ind.values)
    ['forest_cover', 'forest_grass_cover', 'protected_area_share']
    """
    import pandas as pd

    from zoning.io.layers import read_layer
    from zoning.targets import load_targets

    dspec = catalog.by_kind("districts")
    if not dspec:
        raise DataError("the catalog has no districts layer: indicators need district "
                        "boundaries", path=catalog.path)
    d = read_layer(dspec[0]).to_crs("EPSG:4490")
    d = d.rename(columns={"_id": "code"})
    table = d[["code", "name", "geometry"]].copy() if "name" in d.columns else \
        d.assign(name=d["code"])[["code", "name", "geometry"]]
    notes, values = [], {}
    lc = catalog.by_kind("landcover")
    if lc:
        spec = lc[0]
        shares = landcover_shares(str(spec.path), table, "code", spec.classes)
        table = table.merge(shares.rename(columns={"id": "code", "area_m2": "lc_area_m2"}),
                            on="code", how="left")
        for ind, groups in INDICATOR_GROUPS.items():
            if all(g in spec.classes for g in groups):
                table[ind] = 100 * sum(table[f"{g}_share"] for g in groups)
                tot = table["lc_area_m2"].sum()
                values[ind] = 100 * sum(table[f"{g}_m2"].sum() for g in groups) / tot
    else:
        notes.append("no landcover layer: forest cover not computed")
    pa = catalog.by_kind("protected_area")
    if pa:
        frames = [read_layer(s) for s in pa]
        pa_all = gpd.GeoDataFrame(pd.concat([f.to_crs("EPSG:4490") for f in frames]),
                                  crs="EPSG:4490")
        ps = protected_share(pa_all, table, "code")
        table = table.merge(ps.rename(columns={"id": "code", "area_m2": "district_m2"}),
                            on="code", how="left")
        table["protected_area_share"] = 100 * table["protected_share"]
        region_ps = protected_share(pa_all, gpd.GeoDataFrame(
            {"code": ["region"]}, geometry=[shapely.union_all(table.geometry.values)],
            crs="EPSG:4490"), "code")
        values["protected_area_share"] = 100 * float(region_ps.protected_share.iloc[0])
    else:
        notes.append("no protected_area layer: protected-area share not computed")
    targets = load_targets() if targets is None else targets
    comps = compare_targets(values, targets, catalog.region_id, catalog.region_name)
    return RegionIndicators(region=catalog.region_id, region_name=catalog.region_name,
                            districts=gpd.GeoDataFrame(table, geometry="geometry",
                                                       crs="EPSG:4490"),
                            values={k: round(v, 3) for k, v in values.items()},
                            comparisons=comps, notes=notes)
