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
from pyproj import CRS

from zoning.errors import DataError
from zoning.footprints import normalise
from zoning.io.vector import read_vector
from zoning.project import ATTRIBUTES, parse_attributes, parse_bool
from zoning.project import clean as _clean

__all__ = ["read_projects", "read_footprint", "read_coordinates", "project_table",
           "txt_info_fields", "COLUMN_ALIASES",
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


def txt_info_fields(info: dict) -> dict:
    """Project id, name and attributes from a TXT's ``[项目信息]`` section.

    Keys are matched like list columns (:data:`COLUMN_ALIASES`: 项目名称,
    项目代码, 行业代码, 建设性质, 是否占地 …); other keys are ignored here.
    Raises :class:`~zoning.errors.InputError` for a value that cannot be parsed.
    """
    if not info:
        return {}
    rec = {str(k): v for k, v in info.items()}
    cols = _columns(pd.DataFrame(columns=list(rec)))
    out = {k: v for k, v in _row_attrs(rec, cols).items() if v is not None}
    for key in ("project_id", "name"):
        v = _clean(rec.get(cols[key])) if key in cols else None
        if v:
            out[key] = str(v)
    return out


def _footprint_from_file(path: Path, crs=None, coord_sys=None, encoding=None, layer=None,
                         towgs84=None, info: dict | None = None):
    """(geometry in its CRS, crs, warnings) for a file that holds one footprint.

    ``info`` (a dict, if given) receives the project fields a file declares
    (a TXT's ``[项目信息]``).
    """
    suffix = path.suffix.lower()
    if suffix == ".txt":
        from zoning.io.parcel_txt import parse_txt

        if not path.exists():
            raise DataError("file not found", path=path)
        doc = parse_txt(path.read_bytes(), source=str(path), towgs84=towgs84)
        geoms = [p.geometry for p in doc.parcels]
        w = list(doc.warnings) + [f"地块 {p.number}: {m}" for p in doc.parcels
                                  for m in p.warnings]
        g = shapely.union_all(geoms) if len(geoms) > 1 else geoms[0]
        if info is not None:
            info.update(txt_info_fields(doc.project_info))
        return g, doc.crs, w
    if suffix == ".dxf":
        from zoning.io.dxf import read_dxf_footprint

        g, w = read_dxf_footprint(path, layer=layer, encoding=encoding)
        return g, _with_towgs84(crs, towgs84), w
    gdf = _read_any(path, encoding=encoding, layer=layer)
    if len(gdf) == 0:
        raise DataError("file has no features", path=path)
    geoms = gdf.geometry.values
    if shapely.is_missing(geoms).any() or shapely.is_empty(geoms).any():
        bad = np.flatnonzero(shapely.is_missing(geoms) | shapely.is_empty(geoms))[:5]
        raise DataError(f"features {', '.join(str(i + 1) for i in bad)} have empty geometry",
                        path=path)
    g = shapely.union_all(geoms) if len(geoms) > 1 else geoms[0]
    return g, _with_towgs84(crs or gdf.crs, towgs84), []


def _with_towgs84(crs, towgs84):
    """``crs`` bound to CGCS2000 by Helmert parameters (for 西安80/北京54 sources)."""
    if towgs84 is None:
        return crs
    from zoning.crs import bind_towgs84, old_datum
    from zoning.errors import CRSError

    if crs is None:
        raise CRSError("transformation parameters were given but the input has no CRS: "
                       "say which 西安80/北京54 CRS it is in (e.g. EPSG:2364)")
    if old_datum(crs) is None:
        raise CRSError(f"transformation parameters apply to 西安80/北京54 inputs, not to "
                       f"{CRS.from_user_input(crs).name}")
    return bind_towgs84(crs, towgs84)


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
                   towgs84=None, width_m: float | None = None, **attrs) -> gpd.GeoDataFrame:
    """Read one project's footprint file (all features form one footprint).

    Parameters
    ----------
    path : path-like
        Vector file, KML/KMZ, DXF (``layer`` = CAD layer name) or 部标 TXT.
    crs, coord_sys, encoding, layer
        As for :func:`read_projects`.
    towgs84 : str or sequence, optional
        3 or 7 Helmert parameters for a 西安80/北京54 input (a TXT's own
        转换参数 otherwise).
    width_m : float, optional
        Total width of a road or pipeline: a centreline (or point) footprint
        becomes the corridor ``width_m`` wide around it (see
        :func:`zoning.footprints.widen`).
    **attrs
        Project attributes; they take precedence over a TXT's ``[项目信息]``.
    """
    path = Path(path)
    row = {"row": 1, "project_id": path.stem, "name": path.stem, "source": str(path)}
    try:
        info: dict = {}
        g, src_crs, w = _footprint_from_file(path, crs, coord_sys, encoding, layer, towgs84,
                                             info)
        row.update(info)
        row.update({a: attrs.get(a) if attrs.get(a) is not None else info.get(a)
                    for a in ATTRIBUTES})
        geom, kind, w2 = normalise(g, src_crs, coord_sys)
        if width_m:
            from zoning.footprints import widen

            geom, kind, w3 = widen(geom, width_m)
            w2 = w2 + w3
        row.update(geometry=geom, kind=kind, warnings=w + w2)
    except DataError as e:
        if e.path is None:
            e = type(e)(e.message, path=path, row=e.row, feature=e.feature)
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
        info = txt_info_fields(doc.project_info)
        rows = []
        for i, p in enumerate(doc.parcels, start=1):
            row = {"row": i, "project_id": p.number, "name": p.name or p.number,
                   "source": str(path)}
            row.update({a: info.get(a) for a in ATTRIBUTES})
            try:
                geom, kind, w = normalise(p.geometry, doc.crs, None)
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
            g, src, w0 = _row_geometry(rec, cols, path, row_crs, cs)
            geom, kind, w = normalise(g, src, cs)
            row.update(geometry=geom, kind=kind, warnings=w0 + w)
        except DataError as e:
            row.update(geometry=None, status="error", error=str(e))
        rows.append(row)
    return project_table(rows)


def _row_geometry(rec: dict, cols: dict, path: Path, row_crs, cs) -> tuple:
    """(geometry, its CRS or None, warnings) of a list row: WKT, a file path or lon/lat."""
    wkt = _clean(rec.get(cols["wkt"])) if "wkt" in cols else None
    fpath = _clean(rec.get(cols["path"])) if "path" in cols else None
    lon = _clean(rec.get(cols["lon"])) if "lon" in cols else None
    lat = _clean(rec.get(cols["lat"])) if "lat" in cols else None
    if wkt:
        try:
            g = shapely.from_wkt(wkt)
        except shapely.errors.GEOSException as e:
            raise DataError(f"WKT cannot be parsed: {e}") from None
        return g, row_crs, []  # None: inferred (lon/lat or prefixed GK), with a warning
    if fpath:
        fp = Path(fpath)
        if not fp.is_absolute():
            fp = path.parent / fp
        g, src, w0 = _footprint_from_file(fp, row_crs, cs, None, None)
        if src is None:
            raise DataError(f"footprint file {fp} has no CRS; give a crs column")
        return g, src, w0
    if lon is not None and lat is not None:
        return _lonlat_point(lon, lat), row_crs or "EPSG:4490", []
    raise DataError("no footprint: WKT, lon/lat and path are all empty")


def _lonlat_point(lon, lat):
    """A point from 经度/纬度 cells: decimal degrees or 度分秒 (106°37'12.5"E)."""
    from zoning.dms import parse_angle

    try:
        return shapely.Point(float(lon), float(lat))
    except ValueError:
        pass
    try:
        (x, ax), (y, ay) = parse_angle(str(lon)), parse_angle(str(lat))
    except DataError:
        raise DataError(f"lon/lat {lon!r}, {lat!r} are not numbers or 度分秒") from None
    if ax == "lat" or ay == "lon":
        raise DataError(f"lon/lat {lon!r}, {lat!r}: the 经度 cell holds a latitude")
    return shapely.Point(x, y)


def read_coordinates(text: str, crs=None, coord_sys=None, width_m: float | None = None,
                     project_id: str = "", **attrs) -> gpd.GeoDataFrame:
    """A project table of one footprint typed as coordinates (see :mod:`zoning.dms`).

    ``text`` is ``经度,纬度`` (decimal or 度分秒), or several pairs separated by
    ``;`` for a line or (closed) polygon; ``crs`` defaults to CGCS2000
    longitude/latitude.  ``width_m`` widens a line or point as in
    :func:`read_footprint`.
    """
    from zoning.dms import parse_coordinates

    g = parse_coordinates(text)
    geom, kind, w = normalise(g, crs or "EPSG:4490", coord_sys)
    if width_m:
        from zoning.footprints import widen

        geom, kind, w2 = widen(geom, width_m)
        w = w + w2
    pid = project_id or "坐标输入"
    row = {"row": 1, "project_id": pid, "name": pid, "source": text, "geometry": geom,
           "kind": kind, "warnings": w}
    row.update({a: attrs.get(a) for a in ATTRIBUTES})
    return project_table([row])
