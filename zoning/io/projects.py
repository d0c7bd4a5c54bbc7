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

import logging
import re
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from zoning.errors import DataError, InputError, ResourceLimitError
from zoning.footprints import normalise
from zoning.io.vector import check_input_file, read_input_bytes, read_vector_layers
from zoning.limits import LIMITS
from zoning.project import ATTRIBUTES, parse_attributes, parse_bool
from zoning.project import clean as _clean

__all__ = ["read_projects", "read_footprint", "project_table", "COLUMN_ALIASES",
           "ATTRIBUTES", "parse_bool"]

log = logging.getLogger(__name__)

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
    "landuse_declared": ["landuse_declared", "地类面积", "申报地类面积", "占用地类"],
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


def _txt_footprint(path: Path):
    from zoning.io.parcel_txt import parse_txt

    doc = parse_txt(read_input_bytes(path), source=str(path))
    bad = [p for p in doc.parcels if p.geometry is None]
    if bad:
        raise DataError("; ".join(f"地块 {p.number}: {p.error}" for p in bad[:5]), path=path)
    geoms = [p.geometry for p in doc.parcels]
    w = list(doc.warnings) + [f"地块 {p.number}: {m}" for p in doc.parcels for m in p.warnings]
    if len(geoms) > 1:
        w.append(f"{len(geoms)} parcels ({', '.join(p.number for p in doc.parcels[:10])}) "
                 "read as one footprint")
    g = _union(geoms) if len(geoms) > 1 else geoms[0]
    return g, f"EPSG:{doc.epsg}", w


def _union(geoms) -> object:
    """Union of validated parts (each checked first, so GEOS never sees a broken one)."""
    from zoning.footprints import validate_geometry

    parts = [validate_geometry(g)[0] for g in geoms]
    try:
        return shapely.union_all(parts)
    except shapely.errors.GEOSException:
        return shapely.geometrycollections(parts)


def _footprint_from_file(path: Path, crs=None, coord_sys=None, encoding=None, layer=None):
    """(geometry in its CRS, crs, warnings) for a file that holds one footprint.

    Every layer of the file is read (all layers of a GeoPackage, all folders of a
    KML, all KML files of a KMZ); several layers form one footprint, with a
    warning that names them.
    """
    if path.suffix.lower() == ".txt":
        return _txt_footprint(path)
    frames = read_vector_layers(path, layer=layer, encoding=encoding)
    w: list[str] = []
    if len(frames) > 1:
        w.append(f"{len(frames)} layers ({', '.join(str(n) for n, _ in frames)}) read as "
                 "one footprint")
    target = crs or frames[0][1].crs
    geoms = []
    for name, gdf in frames:
        vals = gdf.geometry.values
        bad = shapely.is_missing(vals) | shapely.is_empty(vals)
        if bad.any():
            rows = ", ".join(str(i + 1) for i in np.flatnonzero(bad)[:5])
            raise DataError(f"features {rows} have empty geometry", path=path, layer=name)
        if crs is None and gdf.crs is not None and target is not None and gdf.crs != target:
            gdf = gdf.to_crs(target)
        geoms.extend(gdf.geometry.values)
    g = _union(geoms) if len(geoms) > 1 else geoms[0]
    return g, target, w


def read_footprint(path, crs=None, coord_sys=None, encoding=None, layer=None,
                   **attrs) -> gpd.GeoDataFrame:
    """Read one project's footprint file (all features of all layers form one footprint).

    Parameters
    ----------
    path : path-like
        A vector file (GeoJSON, Shapefile or zipped Shapefile, GeoPackage,
        GeoParquet, KML/KMZ) or a 部标 coordinate TXT.
    crs : CRS-like, optional
        The CRS when the file has none.
    coord_sys : {"gcj02", "bd09"}, optional
        Convert web-map lon/lat; never automatic.
    **attrs
        Project attributes (see :data:`zoning.project.ATTRIBUTES`).

    Returns
    -------
    GeoDataFrame
        A one-row project table in EPSG:4490.

    Raises
    ------
    DataError
        Naming the file when it cannot be read or understood.

    Examples
    --------
    >>> from zoning.paths import seeds_dir
    >>> t = read_footprint(seeds_dir() / "projects" / "GY-012_勘测定界.txt")
    >>> len(t), t.kind.iloc[0], t.crs.to_epsg()
    (1, 'polygon', 4490)
    """
    path = Path(path)
    row = {"row": 1, "project_id": path.stem, "name": path.stem, "source": str(path)}
    row.update({a: attrs.get(a) for a in ATTRIBUTES})
    try:
        g, src_crs, w = _footprint_from_file(path, crs, coord_sys, encoding, layer)
        geom, kind, w2 = normalise(g, src_crs, coord_sys)
        row.update(geometry=geom, kind=kind, warnings=w + w2)
    except DataError as e:
        if e.path is None:
            e = type(e)(e.message, path=path, row=e.row, feature=e.feature)
        raise e
    return project_table([row])


def read_projects(path, crs=None, coord_sys=None, encoding=None, layer=None,
                  sheet=None, allow_outside: bool = False) -> gpd.GeoDataFrame:
    """Read a project list: CSV/XLSX (a row per project) or a vector file (a feature per project).

    ``crs`` applies to WKT or lon/lat columns and to files without a CRS.
    Without it, 经度/纬度 columns are CGCS2000 and WKT coordinates are inferred
    (lon/lat, or Gauss–Krüger with a zone prefix) with a warning.  ``coord_sys``
    (gcj02/bd09) applies to every row unless a ``coord_sys``/``坐标类型`` column says
    otherwise.  Every input row gives one output row; a row that cannot be read
    has ``status == "error"`` and the reason in ``error``; the others are read.

    A vector file with several layers (GeoPackage layers, KML folders, the KML
    files of a KMZ) gives a row per feature of every layer, each row's
    ``source`` naming its layer.  A 部标 TXT gives a row per parcel.  Paths in
    a list's file column must stay inside the list's folder unless
    ``allow_outside``.

    Returns
    -------
    GeoDataFrame
        A project table in EPSG:4490 (see :func:`project_table`).

    Examples
    --------
    >>> from zoning.paths import seeds_dir
    >>> t = read_projects(seeds_dir() / "projects" / "sample_projects.csv")
    >>> len(t), int((t.status == "error").sum())
    (17, 2)
    """
    path = Path(path)
    check_input_file(path)
    suffix = path.suffix.lower()
    if suffix in (".csv", ".xlsx", ".xls", ".xlsm"):
        return _read_table(path, crs, coord_sys, encoding, sheet, allow_outside)
    if suffix == ".txt":
        return _read_txt_list(path)
    rows: list[dict] = []
    for name, gdf in read_vector_layers(path, layer=layer, encoding=encoding):
        rows.extend(_vector_rows(gdf, path, name, crs, coord_sys, start=len(rows) + 1))
    return project_table(rows)


def _read_txt_list(path: Path) -> gpd.GeoDataFrame:
    from zoning.io.parcel_txt import parse_txt

    doc = parse_txt(read_input_bytes(path), source=str(path))
    rows = []
    for i, p in enumerate(doc.parcels, start=1):
        row = {"row": i, "project_id": p.number, "name": p.name or p.number,
               "source": str(path)}
        with _row_errors(row):
            if p.geometry is None:
                raise DataError(p.error)
            geom, kind, w = normalise(p.geometry, f"EPSG:{doc.epsg}", None)
            row.update(geometry=geom, kind=kind, warnings=doc.warnings + p.warnings + w)
        rows.append(row)
    return project_table(rows)


def _vector_rows(gdf: gpd.GeoDataFrame, path: Path, layer, crs, coord_sys, start: int):
    src_crs = crs or gdf.crs
    cols = _columns(pd.DataFrame(gdf.drop(columns=gdf.geometry.name)))
    source = f"{path}:{layer}" if layer else str(path)
    for i, rec in enumerate(gdf.to_dict("records"), start=start):
        g = rec.pop(gdf.geometry.name)
        row = _row_head(rec, cols, i, path)
        row["source"] = source
        with _row_errors(row):
            row.update(_row_attrs(rec, cols))
            cs = _clean(rec.get(cols["coord_sys"])) if "coord_sys" in cols else coord_sys
            geom, kind, w = normalise(g, src_crs, cs)
            row.update(geometry=geom, kind=kind, warnings=w)
        yield row


class _row_errors:
    """Turn any exception of one row into an error row (the batch goes on).

    A :class:`DataError` keeps its message; anything else (a library bug or an
    input no check foresaw) is logged with its traceback and reported by type.
    """

    def __init__(self, row: dict):
        self.row = row

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc is None:
            return False
        if isinstance(exc, (KeyboardInterrupt, SystemExit, MemoryError)):
            return False
        if isinstance(exc, DataError):
            msg = str(exc)
        else:
            log.debug("row %s failed", self.row.get("row"), exc_info=(exc_type, exc, tb))
            msg = f"cannot read this row ({exc_type.__name__}: {str(exc)[:200]})"
        self.row.update(geometry=None, status="error", error=msg)
        return True


def _read_csv(path: Path, encoding) -> pd.DataFrame:
    from io import StringIO

    raw = read_input_bytes(path)
    enc = encoding
    if enc is None:
        try:
            raw.decode("utf-8-sig")
            enc = "utf-8-sig"
        except UnicodeDecodeError:
            enc = "gb18030"
    try:
        text = raw.decode(enc)
        return pd.read_csv(StringIO(text), dtype=str, keep_default_na=False)
    except (UnicodeDecodeError, LookupError):
        raise InputError(f"list is not {enc} text", path=path) from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as e:
        raise InputError(f"cannot read as CSV: {str(e).splitlines()[0][:120]}",
                         path=path) from None


def _read_frame(path: Path, encoding, sheet) -> pd.DataFrame:
    if path.suffix.lower() == ".csv":
        return _read_csv(path, encoding)
    try:
        df = pd.read_excel(path, sheet_name=sheet or 0, dtype=str, keep_default_na=False)
    except ValueError as e:
        raise DataError(f"cannot read sheet: {str(e)[:120]}", path=path) from None
    except Exception as e:  # openpyxl/xlrd raise many kinds for a broken workbook
        raise InputError(f"cannot read the workbook ({type(e).__name__})", path=path) from None
    if len(df) > LIMITS.max_features:
        raise ResourceLimitError(f"list has {len(df):,} rows (limit {LIMITS.max_features:,})",
                                 path=path)
    return df


def _confined(fpath: str, folder: Path, allow_outside: bool) -> Path:
    """The footprint file a list names, kept inside the list's folder unless allowed."""
    fp = Path(fpath)
    if not fp.is_absolute():
        fp = folder / fp
    if not allow_outside:
        try:
            fp.resolve().relative_to(folder.resolve())
        except ValueError:
            raise InputError("the file column names a file outside the list's folder: "
                             "refused (allow it explicitly to read such files)") from None
    return fp


def _row_crs(rec: dict, cols: dict, crs):
    row_crs = _clean(rec.get(cols["crs"])) if "crs" in cols else None
    row_crs = row_crs or crs
    if row_crs is not None and re.fullmatch(r"\d{4,5}", str(row_crs)):
        row_crs = f"EPSG:{row_crs}"
    return row_crs


def _row_footprint(rec: dict, cols: dict, path: Path, row_crs, cs, allow_outside: bool):
    """(geometry, its CRS or None, warnings) of one list row."""
    def cell(k):
        return _clean(rec.get(cols[k])) if k in cols else None

    wkt, fpath, lon, lat = cell("wkt"), cell("path"), cell("lon"), cell("lat")
    if wkt:
        try:
            g = shapely.from_wkt(str(wkt))
        except NotImplementedError:
            raise DataError("curved geometry (CIRCULARSTRING, CURVEPOLYGON …) is not "
                            "supported: linearise it first") from None
        except (shapely.errors.GEOSException, ValueError, TypeError):
            raise DataError("WKT cannot be parsed") from None
        return g, row_crs, []  # None: inferred (lon/lat or prefixed GK), with a warning
    if fpath:
        fp = _confined(str(fpath), path.parent, allow_outside)
        g, src, w0 = _footprint_from_file(fp, row_crs, cs, None, None)
        if src is None:
            raise DataError(f"footprint file {fp.name} has no CRS; give a crs column")
        return g, src, w0
    if lon is not None and lat is not None:
        try:
            g = shapely.Point(float(lon), float(lat))
        except (ValueError, OverflowError):
            raise DataError(f"lon/lat {str(lon)[:30]!r}, {str(lat)[:30]!r} are not "
                            "numbers") from None
        return g, row_crs or "EPSG:4490", []
    raise DataError("no footprint: WKT, lon/lat and path are all empty")


def _read_table(path: Path, crs, coord_sys, encoding, sheet,
                allow_outside: bool = False) -> gpd.GeoDataFrame:
    df = _read_frame(path, encoding, sheet)
    cols = _columns(df)
    has_geom = {"wkt", "path"} & set(cols) or {"lon", "lat"} <= set(cols)
    if not has_geom:
        shown = [str(c)[:40] for c in df.columns[:20]]
        raise DataError("the list has no footprint column: give WKT (wkt/几何), lon+lat "
                        "(经度/纬度) or a file path (path/文件) column; columns are "
                        f"{shown}", path=path)
    rows = []
    for i, rec in enumerate(df.to_dict("records"), start=1):
        row = _row_head(rec, cols, i, path)
        with _row_errors(row):
            row.update(_row_attrs(rec, cols))
            cs = (_clean(rec.get(cols["coord_sys"])) if "coord_sys" in cols else None) \
                or coord_sys
            g, src, w0 = _row_footprint(rec, cols, path, _row_crs(rec, cols, crs), cs,
                                        allow_outside)
            geom, kind, w = normalise(g, src, cs)
            row.update(geometry=geom, kind=kind, warnings=w0 + w)
        rows.append(row)
    return project_table(rows)
