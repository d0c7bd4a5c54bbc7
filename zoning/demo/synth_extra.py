"""Synthetic constraint layers and a synthetic 三调 地类 layer for the seed regions.

Made after :func:`zoning.demo.synth.generate` from its output (terrain, land
cover, towns, red line), with random streams of their own, so the original
layers stay byte-identical.  Written to ``<region>/constraints.gpkg`` and
``<region>/landuse.gpkg``:

* ``SYBHQ``  饮用水水源保护区: reservoir-type sources with 一级/二级 (and some 准)
  protection zones, one or two per county, on middling ground away from towns;
* ``SD``     湿地: patches on the lowest, wettest ground (国家/省级重要湿地, 一般湿地);
* ``YFKC``   压覆重要矿产资源: mining areas as lon/lat rectangles (矿区拐点范围);
* ``DLTB``   三调 地类图斑: Voronoi parcels tiling the region exactly (no gaps or
  overlaps), each with a GB/T 21010 二级类 drawn from the land cover under it.

Everything is SYNTHETIC DEMO DATA: not an official delineation or survey.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS, Transformer

from zoning.crs import reproject
from zoning.demo.synth import (
    GEO_CRS,
    RegionLayers,
    RegionSpec,
    Terrain,
    _county_of,
    _polys,
    _rng,
    _star,
)
from zoning.rules.landuse import LEVEL2

__all__ = ["generate_extra", "EXTRA_DESCRIPTIONS", "MINERALS"]

EXTRA_DESCRIPTIONS = {
    "SYBHQ": "饮用水水源保护区 drinking-water source protection zones",
    "SD": "湿地 wetlands",
    "YFKC": "压覆重要矿产资源 important mineral deposit areas",
    "DLTB": "三调 地类图斑 land-use survey parcels (GB/T 21010-2017)",
}

YSDM_EXTRA = {"SYBHQ": "2090060100", "SD": "2090070100", "YFKC": "2090080100",
              "DLTB": "2001010100"}  # demo 要素代码 values, as in synth.YSDM

#: minerals of the demo mining areas, per region (what the real regions are known for)
MINERALS = {"guiyang": ["磷矿", "铝土矿", "煤"], "pingliang": ["煤", "煤", "石灰岩"],
            "yunyang": ["天然气", "煤", "岩盐"]}

# 二级类 drawn for each land-cover class: (codes, probabilities)
_LC_TO_DLBM = {
    10: (["0101", "0103", "0102", "0201", "0202", "0702", "1006", "1104", "1202"],
         [0.34, 0.38, 0.05, 0.06, 0.03, 0.07, 0.03, 0.02, 0.02]),
    20: (["0301", "0305", "0307", "0302"], [0.68, 0.2, 0.08, 0.04]),
    30: (["0404", "0401", "0403"], [0.6, 0.35, 0.05]),
    50: (["1108", "0402", "1106"], [0.6, 0.2, 0.2]),
    60: (["1101", "1103", "1104"], [0.8, 0.1, 0.1]),
    80: (["0701", "0601", "0604", "0505", "0501", "0803", "0805", "0810", "1004", "1005",
          "0809", "1201"],
         [0.3, 0.14, 0.05, 0.06, 0.06, 0.06, 0.03, 0.06, 0.14, 0.03, 0.03, 0.04]),
    90: (["1207", "1206"], [0.8, 0.2]),
}
_DRY = {"pingliang": {"0101": "0103"}}  # no paddy fields on the Loess Plateau


def _frame(rows: list[dict], crs) -> gpd.GeoDataFrame:
    if not rows:
        raise ValueError("the generator placed no feature: check the region's settings")
    gdf = gpd.GeoDataFrame(rows, geometry="geometry", crs=crs)
    gdf.insert(0, "BSM", np.arange(1, len(gdf) + 1, dtype=np.int64))
    return gdf


def _sites(rng, county: dict, m_at, lo: float, hi: float, avoid, per_county: int,
           min_gap: float) -> list[tuple[str, float, float]]:
    """Up to ``per_county`` points per county whose terrain lies between the ``lo`` and
    ``hi`` quantiles of the county's candidates, away from ``avoid``."""
    out = []
    shapely.prepare(avoid)
    for code in sorted(county):
        g = county[code]
        x0, y0, x1, y1 = g.bounds
        xs, ys = rng.uniform(x0, x1, 400), rng.uniform(y0, y1, 400)
        ok = shapely.contains_xy(g, xs, ys) & ~shapely.contains_xy(avoid, xs, ys)
        m = m_at(xs, ys)
        if ok.any():
            qlo, qhi = np.quantile(m[ok], [lo, hi])
            ok &= (m >= qlo) & (m <= qhi)
        picked: list[tuple[float, float]] = []
        for x, y in zip(xs[ok], ys[ok]):
            if all(np.hypot(x - a, y - b) > min_gap for a, b in picked):
                picked.append((x, y))
            if len(picked) == per_county:
                break
        out += [(code, x, y) for x, y in picked]
    return out


def _water_sources(spec, county, names, m_at, avoid, work) -> gpd.GeoDataFrame:
    rng = _rng(spec.seed, "sybhq")
    rows = []
    for i, (code, x, y) in enumerate(_sites(rng, county, m_at, 0.3, 0.6, avoid, 2, 8000)):
        first = _star(x, y, rng.uniform(300, 450), rng, n=32)
        second = shapely.difference(_star(x, y, rng.uniform(1100, 1600), rng, n=40), first)
        zones = [("一级保护区", first), ("二级保护区", second)]
        if rng.random() < 0.5:
            quasi = _star(x, y, rng.uniform(2400, 3200), rng, n=48)
            zones.append(("准保护区", shapely.difference(quasi, shapely.union(first, second))))
        src = f"{names[code]}{'甲乙丙丁'[i % 4]}水库饮用水水源地（示例）"
        for z, (zone, g) in enumerate(zones):
            g = _polys(shapely.intersection(g, county[code]))
            if not g.is_empty:
                rows.append(dict(YSDM=YSDM_EXTRA["SYBHQ"], BHQBM=f"{code}SY{i + 1:03d}-{z + 1}",
                                 SYDBM=f"{code}SY{i + 1:03d}",
                                 SYDMC=src, SYDLX="湖库型", BHQJB=zone, XZQDM=code,
                                 XZQMC=names[code], PFWH="示例批复文号", MJ=round(g.area, 2),
                                 geometry=g))
    return _frame(rows, work).to_crs(GEO_CRS)


def _wetlands(spec, county, names, m_at, avoid, work) -> gpd.GeoDataFrame:
    rng = _rng(spec.seed, "wetland")
    rows = []
    levels = ["国家重要湿地", "省级重要湿地", "一般湿地", "一般湿地"]
    for i, (code, x, y) in enumerate(_sites(rng, county, m_at, 0.0, 0.1, avoid, 2, 5000)):
        g = _polys(shapely.intersection(_star(x, y, rng.uniform(300, 900), rng, n=40),
                                        county[code]))
        if g.is_empty:
            continue
        lv = levels[int(rng.integers(0, len(levels)))]
        rows.append(dict(YSDM=YSDM_EXTRA["SD"], SDBM=f"{code}SD{i + 1:03d}",
                         SDMC=f"{names[code]}湿地{i + 1}（示例）", SDLX="沼泽湿地", SDJB=lv,
                         XZQDM=code, XZQMC=names[code], MJ=round(g.area, 2), geometry=g))
    return _frame(rows, work).to_crs(GEO_CRS)


def _minerals(spec, county, names, m_at, avoid, work) -> gpd.GeoDataFrame:
    rng = _rng(spec.seed, "minerals")
    kinds = MINERALS.get(spec.slug, ["煤"])
    to_geo = Transformer.from_crs(work, GEO_CRS, always_xy=True)
    rows = []
    for i, (code, x, y) in enumerate(_sites(rng, county, m_at, 0.75, 0.95, avoid, 1, 0)):
        if rng.random() < 0.4:  # not every county has a mining area
            continue
        lon, lat = to_geo.transform(x, y)
        w, h = rng.uniform(0.01, 0.035, 2)  # degrees: about 1–3.5 km
        # 矿区范围 are given by 拐点坐标: a rectangle in lon/lat, rounded to 1″
        corners = np.round(np.array([lon - w / 2, lat - h / 2, lon + w / 2, lat + h / 2])
                           * 3600) / 3600
        g = shapely.box(*corners)
        mineral = kinds[int(rng.integers(0, len(kinds)))]
        rows.append(dict(YSDM=YSDM_EXTRA["YFKC"], KQBH=f"{code}KQ{i + 1:03d}",
                         KQMC=f"{names[code]}{mineral}矿区{i + 1}（示例）", KZ=mineral,
                         ZYCD="重要矿产" if rng.random() < 0.6 else "一般矿产",
                         XZQDM=code, XZQMC=names[code], geometry=g))
    return _frame(rows, GEO_CRS)


def _sample_landcover(base: RegionLayers, pts_geo) -> np.ndarray:
    t = base.transform  # north-up: x = c + col * a, y = f + row * e
    cols = (shapely.get_x(pts_geo) - t.c) / t.a
    rows = (shapely.get_y(pts_geo) - t.f) / t.e
    r = np.clip(np.floor(rows).astype(int), 0, base.landcover.shape[0] - 1)
    c = np.clip(np.floor(cols).astype(int), 0, base.landcover.shape[1] - 1)
    return base.landcover[r, c]


def _landuse(spec, dw, names, base: RegionLayers, work, cell_km2: float) -> gpd.GeoDataFrame:
    """Voronoi parcels that tile the region exactly, classed by the land cover under them."""
    rng = _rng(spec.seed, "dltb")
    region = shapely.union_all(dw.geometry.values)
    x0, y0, x1, y1 = region.bounds
    n = int((x1 - x0) * (y1 - y0) / (cell_km2 * 1e6))
    sites = np.column_stack([rng.uniform(x0, x1, n), rng.uniform(y0, y1, n)])
    env = shapely.box(x0 - 1000, y0 - 1000, x1 + 1000, y1 + 1000)
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(sites),
                                                       extend_to=env))
    cells = cells[np.lexsort((shapely.get_x(shapely.centroid(cells)),
                              -shapely.get_y(shapely.centroid(cells))))]
    shapely.prepare(region)
    inside = shapely.contains(region, cells)
    edge = np.flatnonzero(~inside & shapely.intersects(region, cells))
    parts = list(cells[inside])
    for g in shapely.intersection(cells[edge], region):
        parts += [p for p in shapely.get_parts(_polys(g)) if p.area > 1.0]
    parts = np.array(parts, dtype=object)
    # everything left over (slivers dropped above) goes to its largest neighbour: none is
    # dropped in practice, but the tiling must stay exact, so check it
    lc = _sample_landcover(base, reproject(shapely.point_on_surface(parts), work, GEO_CRS))
    codes = np.empty(len(parts), dtype=object)
    for cls, (choices, p) in _LC_TO_DLBM.items():
        sel = np.flatnonzero(lc == cls)
        codes[sel] = rng.choice(choices, size=len(sel), p=np.array(p) / sum(p))
    rest = np.flatnonzero(codes == None)  # noqa: E711 - object array
    codes[rest] = "0307"
    for a, b in _DRY.get(spec.slug, {}).items():
        codes[codes == a] = b
    county = {c: g for c, g in zip(dw.code, dw.geometry)}
    reps = shapely.point_on_surface(parts)
    tree = shapely.STRtree(dw.geometry.values)
    pi, di = tree.query(reps, predicate="within")
    owner = np.full(len(parts), "", dtype=object)
    owner[pi] = dw.code.values[di]
    for k in np.flatnonzero(owner == ""):
        owner[k] = _county_of(reps[k], county)
    serial: dict[str, int] = {}
    tbbh = []
    for c in owner:
        serial[c] = serial.get(c, 0) + 1
        tbbh.append(f"{serial[c]:06d}")
    area = shapely.area(parts)
    return _frame([dict(YSDM=YSDM_EXTRA["DLTB"], TBBH=t, DLBM=d, DLMC=LEVEL2[d],
                        QSXZ="20" if d[:2] in ("05", "06", "07", "08", "10") else "30",
                        ZLDWDM=f"{c}000000", ZLDWMC=names[c], XZQDM=c, TBMJ=round(a, 2),
                        SJNF=np.int32(2022), geometry=g)
                   for t, d, c, a, g in zip(tbbh, codes, owner, area, parts)], work)


def generate_extra(spec: RegionSpec, districts: gpd.GeoDataFrame, base: RegionLayers,
                   cell_km2: float = 1.0) -> dict[str, gpd.GeoDataFrame]:
    """The extra demo layers of one region, from the region's generated base layers.

    Parameters
    ----------
    districts : GeoDataFrame with ``code``, ``name`` and district polygons.
    base : the output of :func:`zoning.demo.synth.generate` for the same region.
    cell_km2 : mean size of a 三调 parcel.

    Returns
    -------
    dict
        ``SYBHQ``, ``SD``, ``YFKC`` (constraint layers, EPSG:4490) and ``DLTB``
        (地类图斑, in the region's Gauss–Krüger work CRS).
    """
    d = districts.to_crs(GEO_CRS).sort_values("code").reset_index(drop=True)
    region_geo = shapely.union_all(d.geometry.values)
    lat0 = shapely.centroid(region_geo).y
    work = CRS.from_user_input(base.work_crs)
    dw = d.to_crs(work)
    terrain = Terrain(spec.seed, region_geo.bounds, lat0)
    to_work = Transformer.from_crs(GEO_CRS, work, always_xy=True)

    def m_at(x, y):
        lon, lat = to_work.transform(x, y, direction="INVERSE")
        return terrain.points(lon, lat)

    county = {c: g for c, g in zip(dw.code, dw.geometry)}
    names = dict(zip(d.code, d.name))
    udb = shapely.union_all(base.layers["CZKFBJ"].to_crs(work).geometry.values)
    avoid = shapely.buffer(udb, 1500, quad_segs=4)
    return {
        "SYBHQ": _water_sources(spec, county, names, m_at, avoid, work),
        "SD": _wetlands(spec, county, names, m_at, avoid, work),
        "YFKC": _minerals(spec, county, names, m_at, avoid, work),
        "DLTB": _landuse(spec, dw, names, base, work, cell_km2),
    }


def write_extra(spec: RegionSpec, layers: dict[str, gpd.GeoDataFrame], out_dir,
                overwrite: bool = True) -> dict:
    """Write ``constraints.gpkg`` (SYBHQ, SD, YFKC) and ``landuse.gpkg`` (DLTB)."""
    from pathlib import Path

    from zoning import __version__
    from zoning.demo.synth import SYNTHETIC_NOTE
    from zoning.io.write import write_layers

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    meta = {"SYNTHETIC": "yes", "DESCRIPTION": SYNTHETIC_NOTE,
            "GENERATOR": f"zoning {__version__} zoning.demo.synth_extra seed={spec.seed}",
            "REGION": f"{spec.name} ({spec.code})"}
    lmeta = {k: {"DESCRIPTION": f"{v} - {SYNTHETIC_NOTE}", "SYNTHETIC": "yes"}
             for k, v in EXTRA_DESCRIPTIONS.items()}
    cons = write_layers(out_dir / "constraints.gpkg",
                        {k: layers[k] for k in ("SYBHQ", "SD", "YFKC")}, metadata=meta,
                        layer_metadata=lmeta, overwrite=overwrite)
    land = write_layers(out_dir / "landuse.gpkg", {"DLTB": layers["DLTB"]}, metadata=meta,
                        layer_metadata=lmeta, overwrite=overwrite)
    return {"constraints": cons, "landuse": land}
