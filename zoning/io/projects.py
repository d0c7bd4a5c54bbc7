"""Read project footprints and project lists (I/O).

Accepted:

* vector files: GeoJSON, Shapefile (also zipped; GBK detected without .cpg),
  GeoPackage, GeoParquet, KML/KMZ;
* the 部标 coordinate TXT;
* CSV / XLSX project lists, one row per project, whose footprint is WKT,
  lon/lat, or a path to a footprint file, plus attributes.

The result is a *project table*: a GeoDataFrame in EPSG:4490 with one row per
input row and the columns ``row, project_id, name, status, error, warnings,
kind`` plus the project attributes.  A row that cannot be read keeps its place
with ``status="error"`` and the reason; no row is ever dropped.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from zoning.errors import DataError
from zoning.footprints import normalise
from zoning.io.vector import read_vector
from zoning.project import ATTRIBUTES, parse_attributes, parse_bool
from zoning.project import clean as _clean

__all__ = ["read_projects", "read_footprint", "project_table", "COLUMN_ALIASES",
           "ATTRIBUTES", "parse_bool"]

#: canonical column → accepted header names (case-insensitive)
COLUMN_ALIASES = {
    "project_id": ["project_id", "id", "项目编号", "项目代码", "编号", "xmdm", "序号"],
    "name": ["name", "项目名称", "名称", "xmmc"],
    "wkt": ["wkt", "geometry", "geom", "几何", "范围wkt"],
    "lon": ["lon", "lng", "longitude", "经度"],
    "lat": ["lat", "latitude", "纬度"],
    "path": ["path", "file", "footprint", "文件", "范围文件", "红线文件"],
    "crs": ["crs", "坐标系", "epsg"],
    "coord_sys": ["coord_sys", "坐标类型", "坐标来源"],
    "industry": ["industry", "行业代码", "国民经济行业代码", "hyflbm", "行业"],
    "nature": ["nature", "建设性质"],
    "takes_land": ["takes_land", "是否占地", "是否用地", "占地"],
    "activity": ["activity", "有限人为活动类别", "有限人为活动"],
    "major_project": ["major_project", "重大项目类别", "重大项目"],
    "project_type": ["project_type", "项目类型"],
    "energy_tce": ["energy_tce", "年综合能耗", "综合能耗", "能耗"],
}
def _columns(df: pd.DataFrame) -> dict:
    lower = {str(c).strip().lower(): c for c in df.columns}
    found = {}
    for canon, aliases in COLUMN_ALIASES.items():
        for a in aliases:
            if a.lower() in lower:
                found[canon] = lower[a.lower()]
                break
    return found


def _row_head(rec: dict, cols: dict, i: int, path: Path) -> dict:
    """Row number, id (default: the row number) and name of one input row."""
    return {"row": i, "source": str(path),
            "project_id": str(_clean(rec.get(cols.get("project_id"))) or i),
            "name": str(_clean(rec.get(cols.get("name"))) or "")}


def _row_attrs(rec: dict, cols: dict) -> dict:
    """The parsed attributes of a row (an InputError names a bad cell's attribute)."""
    return parse_attributes({a: rec.get(cols[a]) if a in cols else None for a in ATTRIBUTES})


def project_table(rows: list[dict]) -> gpd.GeoDataFrame:
    """Build a project table from row dicts (see module doc for the columns)."""
    base = {"row": None, "project_id": "", "name": "", "status": "ok", "error": "",
            "warnings": None, "kind": None, "source": ""}
    recs = []
    for r in rows:
        d: dict[str, Any] = dict(base)
        d.update(r)
        d["warnings"] = list(d["warnings"] or [])
        for a in ATTRIBUTES:
            d.setdefault(a, None)
        recs.append(d)
    gdf = gpd.GeoDataFrame(recs, geometry="geometry", crs="EPSG:4490") if recs else \
        gpd.GeoDataFrame(columns=list(base) + list(ATTRIBUTES) + ["geometry"],
                         geometry="geometry", crs="EPSG:4490")
    return gdf


def _footprint_from_file(path: Path, crs=None, coord_sys=None, encoding=None, layer=None):
    """(geometry in its CRS, crs, warnings) for a file that holds one footprint."""
    suffix = path.suffix.lower()
    if suffix == ".txt":
        from zoning.io.parcel_txt import parse_txt

        if not path.exists():
            raise DataError("file not found", path=path)
        doc = parse_txt(path.read_bytes(), source=str(path))
        geoms = [p.geometry for p in doc.parcels]
        w = list(doc.warnings) + [f"地块 {p.number}: {m}" for p in doc.parcels
                                  for m in p.warnings]
        g = shapely.union_all(geoms) if len(geoms) > 1 else geoms[0]
        return g, f"EPSG:{doc.epsg}", w
    gdf = _read_any(path, encoding=encoding, layer=layer)
    if len(gdf) == 0:
        raise DataError("file has no features", path=path)
    geoms = gdf.geometry.values
    if shapely.is_missing(geoms).any() or shapely.is_empty(geoms).any():
        bad = np.flatnonzero(shapely.is_missing(geoms) | shapely.is_empty(geoms))[:5]
        raise DataError(f"features {', '.join(str(i + 1) for i in bad)} have empty geometry",
                        path=path)
    g = shapely.union_all(geoms) if len(geoms) > 1 else geoms[0]
    return g, crs or gdf.crs, []


def _read_any(path: Path, encoding=None, layer=None) -> gpd.GeoDataFrame:
    suffix = path.suffix.lower()
    if suffix == ".kmz":
        import zipfile

        if not path.exists():
            raise DataError("file not found", path=path)
        with zipfile.ZipFile(path) as zf:
            kmls = [n for n in zf.namelist() if n.lower().endswith(".kml")]
        if not kmls:
            raise DataError("KMZ holds no .kml", path=path)
        import pyogrio

        gdf = pyogrio.read_dataframe(f"/vsizip/{path}/{kmls[0]}", layer=layer)
        return gdf
    return read_vector(path, layer=layer, encoding=encoding)


def read_footprint(path, crs=None, coord_sys=None, encoding=None, layer=None,
                   **attrs) -> gpd.GeoDataFrame:
    """Read one project's footprint file (all features form one footprint)."""
    path = Path(path)
    row = {"row": 1, "project_id": path.stem, "name": path.stem, "source": str(path)}
    row.update({a: attrs.get(a) for a in ATTRIBUTES})
    try:
        g, src_crs, w = _footprint_from_file(path, crs, coord_sys, encoding, layer)
        geom, kind, w2 = normalise(g, src_crs, coord_sys)
        row.update(geometry=geom, kind=kind, warnings=w + w2)
    except DataError as e:
        if e.path is None:
            e = DataError(e.message, path=path, row=e.row, feature=e.feature)
        raise e
    return project_table([row])


def read_projects(path, crs=None, coord_sys=None, encoding=None, layer=None,
                  sheet=None) -> gpd.GeoDataFrame:
    """Read a project list: CSV/XLSX (a row per project) or a vector file (a feature per project).

    ``crs`` applies to WKT or lon/lat columns and to files without a CRS.
    Without it, 经度/纬度 columns are CGCS2000 and WKT coordinates are inferred
    (lon/lat, or Gauss–Krüger with a zone prefix) with a warning.  ``coord_sys`` (gcj02/bd09) applies to
    every row unless a ``coord_sys``/``坐标类型`` column says otherwise.
    """
    path = Path(path)
    if not path.exists():
        raise DataError("file not found", path=path)
    suffix = path.suffix.lower()
    if suffix in (".csv", ".xlsx", ".xls", ".xlsm"):
        return _read_table(path, crs, coord_sys, encoding, sheet)
    if suffix == ".txt":
        from zoning.io.parcel_txt import parse_txt

        doc = parse_txt(path.read_bytes(), source=str(path))
        rows = []
        for i, p in enumerate(doc.parcels, start=1):
            row = {"row": i, "project_id": p.number, "name": p.name or p.number,
                   "source": str(path)}
            try:
                geom, kind, w = normalise(p.geometry, f"EPSG:{doc.epsg}", None)
                row.update(geometry=geom, kind=kind, warnings=doc.warnings + p.warnings + w)
            except DataError as e:
                row.update(geometry=None, status="error", error=str(e))
            rows.append(row)
        return project_table(rows)
    gdf = _read_any(path, encoding=encoding, layer=layer)
    src_crs = crs or gdf.crs
    cols = _columns(pd.DataFrame(gdf.drop(columns=gdf.geometry.name)))
    rows = []
    for i, rec in enumerate(gdf.to_dict("records"), start=1):
        g = rec.pop(gdf.geometry.name)
        row = _row_head(rec, cols, i, path)
        try:
            row.update(_row_attrs(rec, cols))
            cs = _clean(rec.get(cols["coord_sys"])) if "coord_sys" in cols else coord_sys
            geom, kind, w = normalise(g, src_crs, cs)
            row.update(geometry=geom, kind=kind, warnings=w)
        except DataError as e:
            row.update(geometry=None, status="error", error=str(e))
        rows.append(row)
    return project_table(rows)


def _read_table(path: Path, crs, coord_sys, encoding, sheet) -> gpd.GeoDataFrame:
    if path.suffix.lower() == ".csv":
        raw = path.read_bytes()
        enc = encoding
        if enc is None:
            try:
                raw.decode("utf-8-sig")
                enc = "utf-8-sig"
            except UnicodeDecodeError:
                enc = "gb18030"
        from io import StringIO

        df = pd.read_csv(StringIO(raw.decode(enc)), dtype=str, keep_default_na=False)
    else:
        try:
            df = pd.read_excel(path, sheet_name=sheet or 0, dtype=str, keep_default_na=False)
        except ValueError as e:
            raise DataError(f"cannot read sheet: {e}", path=path) from None
    cols = _columns(df)
    has_geom = {"wkt", "path"} & set(cols) or {"lon", "lat"} <= set(cols)
    if not has_geom:
        raise DataError("the list has no footprint column: give WKT (wkt/几何), lon+lat "
                        "(经度/纬度) or a file path (path/文件) column; columns are "
                        f"{list(df.columns)}", path=path)
    rows = []
    for i, rec in enumerate(df.to_dict("records"), start=1):
        row = _row_head(rec, cols, i, path)
        try:
            row.update(_row_attrs(rec, cols))
            row_crs = _clean(rec.get(cols["crs"])) if "crs" in cols else None
            row_crs = row_crs or crs
            if row_crs is not None and re.fullmatch(r"\d{4,5}", str(row_crs)):
                row_crs = f"EPSG:{row_crs}"
            cs = (_clean(rec.get(cols["coord_sys"])) if "coord_sys" in cols else None) \
                or coord_sys
            w0 = []
            wkt = _clean(rec.get(cols["wkt"])) if "wkt" in cols else None
            fpath = _clean(rec.get(cols["path"])) if "path" in cols else None
            lon = _clean(rec.get(cols["lon"])) if "lon" in cols else None
            lat = _clean(rec.get(cols["lat"])) if "lat" in cols else None
            if wkt:
                try:
                    g = shapely.from_wkt(wkt)
                except shapely.errors.GEOSException as e:
                    raise DataError(f"WKT cannot be parsed: {e}") from None
                src = row_crs  # None: inferred (lon/lat or prefixed GK), with a warning
            elif fpath:
                fp = Path(fpath)
                if not fp.is_absolute():
                    fp = path.parent / fp
                g, src, w0 = _footprint_from_file(fp, row_crs, cs, None, None)
                if src is None:
                    raise DataError(f"footprint file {fp} has no CRS; give a crs column")
            elif lon is not None and lat is not None:
                try:
                    g = shapely.Point(float(lon), float(lat))
                except ValueError:
                    raise DataError(f"lon/lat {lon!r}, {lat!r} are not numbers") from None
                src = row_crs or "EPSG:4490"
            else:
                raise DataError("no footprint: WKT, lon/lat and path are all empty")
            geom, kind, w = normalise(g, src, cs)
            row.update(geometry=geom, kind=kind, warnings=w0 + w)
        except DataError as e:
            row.update(geometry=None, status="error", error=str(e))
        rows.append(row)
    return project_table(rows)
