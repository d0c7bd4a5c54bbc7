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

import difflib
import logging
import re
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from zoning.errors import DataError, InputError, ResourceLimitError
from zoning.footprints import edge_crs, in_degrees, lonlat_undeclared, normalise
from zoning.io.vector import check_input_file, read_input_bytes, read_vector_layers
from zoning.limits import LIMITS
from zoning.project import ATTRIBUTES, parse_attributes, parse_bool
from zoning.project import clean as _clean

__all__ = ["unknown_headers", "read_projects", "read_footprint", "read_coordinates",
           "project_table", "txt_info_fields", "COLUMN_ALIASES",
           "ATTRIBUTES", "parse_bool", "csv_frame"]

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
    "tailings": ["tailings", "是否涉及尾矿库", "涉及尾矿库", "尾矿库"],
    "purpose": ["purpose", "建设目的", "改建目的"],
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
            "warnings": None, "kind": None, "source": "", "lonlat_undeclared": False,
            "edge_crs": "EPSG:4490"}
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

    Examples
    --------
    >>> txt_info_fields({"项目名称": "某某公路", "是否占地": "否", "建设单位": "甲"})
    {'takes_land': False, 'name': '某某公路'}
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


def _with_towgs84(crs, towgs84):
    """``crs`` bound to CGCS2000 by Helmert parameters (for 西安80/北京54 sources)."""
    if towgs84 is None:
        return crs
    from zoning.crs import bind_towgs84, old_datum
    from zoning.errors import CRSError

    if crs is None:
        raise CRSError("给出了转换参数，但输入没有坐标系：请指明它所用的西安80/北京54 坐标系"
                       "（例如 EPSG:2364）")
    if old_datum(crs) is None:
        raise CRSError(f"转换参数只适用于西安80/北京54 的输入，不适用于 "
                       f"{CRS.from_user_input(crs).name}")
    return bind_towgs84(crs, towgs84)


def _txt_footprint(path: Path, towgs84=None, info: dict | None = None):
    from zoning.io.parcel_txt import parse_txt

    doc = parse_txt(read_input_bytes(path), source=str(path), towgs84=towgs84)
    if info is not None:
        info.update(txt_info_fields(doc.project_info))
    bad = [p for p in doc.parcels if p.geometry is None]
    if bad:
        raise DataError("; ".join(f"地块 {p.number}: {p.error}" for p in bad[:5]), path=path)
    geoms = [p.geometry for p in doc.parcels]
    w = list(doc.warnings) + [f"地块 {p.number}: {m}" for p in doc.parcels for m in p.warnings]
    if len(geoms) > 1:
        w.append(f"{len(geoms)} 个地块（{', '.join(p.number for p in doc.parcels[:10])}）"
                 "合为一个项目范围读取")
    g = _union(geoms) if len(geoms) > 1 else geoms[0]
    return g, doc.crs, w


def _union(geoms) -> object:
    """Union of validated parts (each checked first, so GEOS never sees a broken one)."""
    from zoning.footprints import validate_geometry

    parts = [validate_geometry(g)[0] for g in geoms]
    try:
        return shapely.union_all(parts)
    except shapely.errors.GEOSException:
        return shapely.geometrycollections(parts)


def _footprint_from_file(path: Path, crs=None, coord_sys=None, encoding=None, layer=None,
                         towgs84=None, info: dict | None = None):
    """(geometry in its CRS, crs, warnings) for a file that holds one footprint.

    Every layer of the file is read (all layers of a GeoPackage, all folders of a
    KML, all KML files of a KMZ); several layers form one footprint, with a
    warning that names them.  A DXF is read by :mod:`zoning.io.dxf` (``layer``
    = CAD layer).  ``info`` (a dict, if given) receives the project fields a
    TXT's ``[项目信息]`` declares.
    """
    if path.suffix.lower() == ".txt":
        return _txt_footprint(path, towgs84, info)
    if path.suffix.lower() == ".dxf":
        from zoning.io.dxf import read_dxf_footprint

        check_input_file(path)
        g, dw = read_dxf_footprint(path, layer=layer, encoding=encoding)
        return g, _with_towgs84(crs, towgs84), dw
    frames = read_vector_layers(path, layer=layer, encoding=encoding)
    w: list[str] = []
    if len(frames) > 1:
        w.append(f"{len(frames)} 个图层（{', '.join(str(n) for n, _ in frames)}）合为"
                 "一个项目范围读取")
    target = crs or frames[0][1].crs
    if crs is None and path.suffix.lower() in (".geojson", ".json") and target is not None \
            and CRS.from_user_input(target).is_geographic and _not_degrees(frames):
        # GeoJSON is lon/lat by definition, but CAD and GIS exports write projected metres
        # into it: its WGS 84 cannot be right, so the coordinates say what they are (a zone
        # prefix) or the file is refused as having no CRS
        target = None
        w.append("GeoJSON 中的坐标不是经纬度（GeoJSON 按规范应为 WGS 84 经纬度）："
                 "不按 WGS 84 读取，改由坐标本身推断坐标系")
    geoms = []
    for name, gdf in frames:
        vals = gdf.geometry.values
        bad = shapely.is_missing(vals) | shapely.is_empty(vals)
        if bad.any():
            rows = ", ".join(str(i + 1) for i in np.flatnonzero(bad)[:5])
            raise DataError(f"要素 {rows} 的几何为空", path=path, layer=name)
        if crs is None and gdf.crs is not None and target is not None and gdf.crs != target:
            gdf = gdf.to_crs(target)
        geoms.extend(gdf.geometry.values)
    if not geoms:
        raise DataError("文件中没有要素", path=path)
    if info is not None and len(geoms) == 1:  # one feature: its own name names the project
        name = _feature_name(frames[0][1])
        if name:
            info["name"] = name
    g = _union(geoms) if len(geoms) > 1 else geoms[0]
    return g, _with_towgs84(target, towgs84), w


def _not_degrees(frames) -> bool:
    """Whether any coordinate of the frames lies outside ±180° / ±90°."""
    for _name, gdf in frames:
        x0, y0, x1, y1 = gdf.total_bounds
        if np.isfinite([x0, y0, x1, y1]).all() and not in_degrees(x0, y0, x1, y1):
            return True
    return False


#: columns that carry a feature's name (a KML Placemark's <name>, a GeoJSON 名称)
_NAME_COLUMNS = ("项目名称", "名称", "name", "Name", "NAME", "title")


def _feature_name(gdf) -> str | None:
    for c in _NAME_COLUMNS:
        if c in gdf.columns:
            v = gdf[c].iloc[0]
            if isinstance(v, str) and v.strip():
                return v.strip()[:200]
    return None


def read_footprint(path, crs=None, coord_sys=None, encoding=None, layer=None,
                   towgs84=None, width_m: float | None = None, **attrs) -> gpd.GeoDataFrame:
    """Read one project's footprint file (all features of all layers form one footprint).

    Parameters
    ----------
    path : path-like
        A vector file (GeoJSON, Shapefile or zipped Shapefile, GeoPackage,
        GeoParquet, KML/KMZ), a DXF drawing or a 部标 coordinate TXT.
    crs : CRS-like, optional
        The CRS when the file has none.
    coord_sys : {"gcj02", "bd09"}, optional
        Convert web-map lon/lat; never automatic.
    encoding, layer : str, optional
        Text encoding; layer of a multi-layer file (the CAD layer of a DXF).
    towgs84 : str or sequence, optional
        3 or 7 Helmert parameters for a 西安80/北京54 input (a TXT's own
        转换参数 otherwise).
    width_m : float, optional
        Total width of a road or pipeline: a centreline (or point) footprint
        becomes a corridor ``width_m`` wide (see :func:`zoning.footprints.widen`).
    **attrs
        Project attributes (see :data:`zoning.project.ATTRIBUTES`); they take
        precedence over a TXT's ``[项目信息]``.

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
        row.update(geometry=geom, kind=kind, warnings=w + w2,
                   lonlat_undeclared=lonlat_undeclared(g, src_crs, coord_sys),
                   edge_crs=edge_crs(g, src_crs))
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
    info = txt_info_fields(doc.project_info)
    rows = []
    for i, p in enumerate(doc.parcels, start=1):
        row = {"row": i, "project_id": p.number, "name": p.name or p.number,
               "source": str(path)}
        row.update({a: info.get(a) for a in ATTRIBUTES})
        with _row_errors(row):
            if p.geometry is None:
                raise DataError(p.error)
            geom, kind, w = normalise(p.geometry, doc.crs, None)
            row.update(geometry=geom, kind=kind, warnings=doc.warnings + p.warnings + w,
                       edge_crs=edge_crs(p.geometry, doc.crs))
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
            row.update(geometry=geom, kind=kind, warnings=w,
                       lonlat_undeclared=lonlat_undeclared(g, src_crs, cs),
                       edge_crs=edge_crs(g, src_crs))
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
            msg = f"无法读取这一行（{exc_type.__name__}: {str(exc)[:200]}）"
        self.row.update(geometry=None, status="error", error=msg)
        return True


def _read_csv(path: Path, encoding) -> pd.DataFrame:

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
        return csv_frame(text, path)
    except InputError:
        raise
    except (UnicodeDecodeError, LookupError):
        raise InputError(f"清单不是 {enc} 编码的文本", path=path) from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as e:
        raise InputError(f"无法按 CSV 读取：{str(e).splitlines()[0][:120]}",
                         path=path) from None


def csv_frame(text: str, path: Path | str | None = None) -> pd.DataFrame:
    """The CSV text as a frame of text columns, numbered rows 0…n-1.

    A row with more fields than the header (a comma or quote out of place) is kept
    with its first fields and listed in ``frame.attrs["long_rows"]`` (row position →
    number of fields), so that the reader makes it an error row and reads the others;
    a delimiter at the end of every line (as some exports write: the same number of
    extra fields, all empty, on every row) is only dropped.  pandas alone would take
    the leading fields of such rows as an index and shift every value into the wrong
    column, or stop at the first long row.  Raises :class:`InputError` for text that
    is not CSV.
    """
    import warnings
    from io import StringIO

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", pd.errors.ParserWarning)
            df = pd.read_csv(StringIO(text), dtype=str, keep_default_na=False)
    except pd.errors.ParserError:
        df = None  # a long row after the first: read row by row
    if df is not None and isinstance(df.index, pd.RangeIndex):
        df.attrs["long_rows"] = {}
        return df
    return _csv_rows(text, path)


def _csv_rows(text: str, path: Path | str | None) -> pd.DataFrame:
    """:func:`csv_frame` for a text with rows longer than its header."""
    import csv
    from io import StringIO

    columns = list(pd.read_csv(StringIO(text), dtype=str, keep_default_na=False,
                               nrows=0).columns)
    try:
        rows = [r for r in csv.reader(StringIO(text, newline=""))
                if r and (len(r) > 1 or r[0].strip())]  # pandas skips blank lines too
    except csv.Error as e:
        raise InputError(f"无法按 CSV 读取：{str(e)[:120]}", path=path) from None
    width = len(columns)
    if not rows or len(rows[0]) != width:
        raise InputError("无法按 CSV 读取：表头无法拆分为字段",
                         path=path)
    data = rows[1:]
    lengths = {len(r) for r in data}
    trailing = len(lengths) == 1 and lengths.pop() > width and \
        not any(f.strip() for r in data for f in r[width:])
    df = pd.DataFrame([r[:width] + [""] * (width - len(r)) for r in data], columns=columns,
                      dtype=str)
    df.attrs["long_rows"] = {} if trailing else {
        k: len(r) for k, r in enumerate(data) if len(r) > width}
    return df


def _read_frame(path: Path, encoding, sheet) -> pd.DataFrame:
    if path.suffix.lower() == ".csv":
        df = _read_csv(path, encoding)
        if len(df) > LIMITS.max_features:
            raise ResourceLimitError(f"清单有 {len(df):,} 行（上限 "
                                     f"{LIMITS.max_features:,}）", path=path)
        return df
    try:
        df = pd.read_excel(path, sheet_name=sheet or 0, dtype=str, keep_default_na=False)
    except ValueError as e:
        raise DataError(f"无法读取工作表：{str(e)[:120]}", path=path) from None
    except Exception as e:  # openpyxl/xlrd raise many kinds for a broken workbook
        raise InputError(f"无法读取工作簿（{type(e).__name__}）", path=path) from None
    if len(df) > LIMITS.max_features:
        raise ResourceLimitError(f"清单有 {len(df):,} 行（上限 {LIMITS.max_features:,}）",
                                 path=path)
    # a wholly blank line is no project (read_csv skips them too); rows keep their numbers
    blank = df.apply(lambda col: col.astype(str).str.strip() == "").all(axis=1)
    return df[~blank] if blank.any() else df


def _confined(fpath: str, folder: Path, allow_outside: bool) -> Path:
    """The footprint file a list names, kept inside the list's folder unless allowed."""
    fp = Path(fpath)
    if not fp.is_absolute():
        fp = folder / fp
    if not allow_outside:
        try:
            fp.resolve().relative_to(folder.resolve())
        except ValueError:
            raise InputError("文件列指向清单所在文件夹以外的文件，拒绝读取"
                             "（如需读取此类文件，请明确允许）") from None
    return fp


def _row_crs(rec: dict, cols: dict, crs):
    row_crs = _clean(rec.get(cols["crs"])) if "crs" in cols else None
    row_crs = row_crs or crs
    if row_crs is not None and re.fullmatch(r"\d{4,5}", str(row_crs)):
        row_crs = f"EPSG:{row_crs}"
    return row_crs


#: deeper nesting than any real footprint needs; GEOS recurses (and can crash) on deep WKT
MAX_WKT_DEPTH = 32


def _check_wkt(text: str) -> None:
    """Refuse WKT that is too long or nested too deeply before GEOS parses it."""
    if len(text) > LIMITS.max_text_bytes // 10:
        raise ResourceLimitError(f"WKT 长 {len(text):,} 个字符（上限 "
                                 f"{LIMITS.max_text_bytes // 10:,}）")
    b = np.frombuffer(text.encode("utf-8", "replace"), dtype=np.uint8)
    depth = np.cumsum((b == 40).astype(np.int64) - (b == 41))
    if len(depth) and depth.max() > MAX_WKT_DEPTH:
        raise DataError(f"WKT 嵌套了 {int(depth.max())} 层（上限 "
                        f"{MAX_WKT_DEPTH} 层）")


def _row_footprint(rec: dict, cols: dict, path: Path, row_crs, cs, allow_outside: bool):
    """(geometry, its CRS or None, warnings) of one list row."""
    def cell(k):
        return _clean(rec.get(cols[k])) if k in cols else None

    wkt, fpath, lon, lat = cell("wkt"), cell("path"), cell("lon"), cell("lat")
    if wkt:
        _check_wkt(str(wkt))
        try:
            g = shapely.from_wkt(str(wkt))
        except NotImplementedError:
            raise DataError("不支持曲线几何（CIRCULARSTRING、CURVEPOLYGON …）："
                            "请先转为折线") from None
        except (shapely.errors.GEOSException, ValueError, TypeError):
            raise DataError("WKT 无法解析") from None
        return g, row_crs, []  # None: inferred (lon/lat or prefixed GK), with a warning
    if fpath:
        fp = _confined(str(fpath), path.parent, allow_outside)
        g, src, w0 = _footprint_from_file(fp, row_crs, cs, None, None)
        if src is None:
            raise DataError(f"范围文件 {fp.name} 没有坐标系：请在清单的 crs 列中填写其坐标系")
        return g, src, w0
    if lon is not None and lat is not None:
        return _lonlat_point(lon, lat), row_crs or "EPSG:4490", []
    raise DataError("缺少项目范围：WKT、经纬度和文件列均为空")


#: a reviewer's notes: carried by the list, never read, never warned about
NOTE_HEADERS = frozenset({"备注", "说明", "note", "notes", "remark", "remarks", "comment",
                          "comments"})


def unknown_headers(columns, path: Path | None = None) -> list[str]:
    """Chinese warnings for headers no reader knows, naming the closest known name.

    A header with a close known name (difflib) is probably misspelt, and a misspelt
    optional column silently changes the verdict: it is warned about on every row.
    Other unknown headers (a reviewer's own columns) are only logged; notes columns
    (备注, 说明, note…) are expected and pass silently.

    >>> unknown_headers(["项目编号", "行业代吗", "备注"])
    ['未识别的列“行业代吗”已忽略：是否应为“行业代码”？']
    """
    known = {a.lower(): a for aliases in COLUMN_ALIASES.values() for a in aliases}
    out = []
    for c in columns:
        name = str(c).strip()
        if name.lower() in known or not name or name.lower() in NOTE_HEADERS:
            continue
        close = difflib.get_close_matches(name.lower(), list(known), n=1, cutoff=0.6)
        if close:
            out.append(f"未识别的列“{name[:40]}”已忽略：是否应为“{known[close[0]]}”？")
        else:
            log.warning("%s: column %r is not a known header and is ignored", path or "",
                        name[:40])
    return out


def _read_table(path: Path, crs, coord_sys, encoding, sheet,
                allow_outside: bool = False) -> gpd.GeoDataFrame:
    df = _read_frame(path, encoding, sheet)
    cols = _columns(df)
    has_geom = {"wkt", "path"} & set(cols) or {"lon", "lat"} <= set(cols)
    if not has_geom:
        shown = [str(c)[:40] for c in df.columns[:20]]
        raise DataError("清单中没有项目范围列：请提供 WKT 列（wkt/几何）、经纬度列"
                        "（经度/纬度）或文件路径列（path/文件）；现有的列为 "
                        f"{shown}", path=path)
    header_warnings = unknown_headers(df.columns, path)
    long_rows = df.attrs.get("long_rows") or {}
    rows = []
    for i, rec in zip([int(k) + 1 for k in df.index], df.to_dict("records")):
        row = _row_head(rec, cols, i, path)
        row["warnings"] = list(header_warnings)
        with _row_errors(row):
            if i - 1 in long_rows:
                raise DataError(f"这一行有 {long_rows[i - 1]} 个字段，而表头有 "
                                f"{len(df.columns)} 个：是否有逗号或引号放错了位置？"
                                "（含逗号的字段须用引号括起来）")
            row.update(_row_attrs(rec, cols))
            cs = (_clean(rec.get(cols["coord_sys"])) if "coord_sys" in cols else None) \
                or coord_sys
            g, src, w0 = _row_footprint(rec, cols, path, _row_crs(rec, cols, crs), cs,
                                        allow_outside)
            geom, kind, w = normalise(g, src, cs)
            row.update(geometry=geom, kind=kind, warnings=header_warnings + w0 + w,
                       lonlat_undeclared=lonlat_undeclared(g, src, cs),
                       edge_crs=edge_crs(g, src))
        rows.append(row)
    return project_table(rows)


def _lonlat_point(lon, lat):
    """A point from 经度/纬度 cells: decimal degrees or 度分秒 (106°37'12.5"E)."""
    from zoning.dms import parse_angle

    try:
        return shapely.Point(float(lon), float(lat))
    except (ValueError, OverflowError):
        pass
    try:
        (x, ax), (y, ay) = parse_angle(str(lon)[:60]), parse_angle(str(lat)[:60])
    except DataError:
        raise DataError(f"经纬度 {str(lon)[:30]!r}, {str(lat)[:30]!r} 既不是数字，"
                        "也不是度分秒") from None
    if ax == "lat" or ay == "lon":
        raise DataError(f"经纬度 {str(lon)[:30]!r}, {str(lat)[:30]!r}：经度单元格中填的是"
                        "纬度")
    return shapely.Point(x, y)


def read_coordinates(text: str, crs=None, coord_sys=None, width_m: float | None = None,
                     project_id: str = "", **attrs) -> gpd.GeoDataFrame:
    """A project table of one footprint typed as coordinates (see :mod:`zoning.dms`).

    ``text`` is ``经度,纬度`` (decimal or 度分秒), or several pairs separated by
    ``;`` for a line or (closed) polygon; ``crs`` defaults to CGCS2000
    longitude/latitude.  ``width_m`` widens a line or point as in
    :func:`read_footprint`.

    Examples
    --------
    >>> t = read_coordinates("106d37m12s,26d34m48s")
    >>> round(t.geometry.iloc[0].x, 4), round(t.geometry.iloc[0].y, 4), t.kind.iloc[0]
    (106.62, 26.58, 'point')
    """
    from zoning.dms import parse_coordinates

    g = parse_coordinates(text)
    geom, kind, w = normalise(g, crs or "EPSG:4490", coord_sys)
    if width_m:
        from zoning.footprints import widen

        geom, kind, w2 = widen(geom, width_m)
        w = w + w2
    pid = project_id or "坐标输入"
    row = {"row": 1, "project_id": pid, "name": pid, "source": text[:200], "geometry": geom,
           "kind": kind, "warnings": w}
    row.update({a: attrs.get(a) for a in ATTRIBUTES})
    return project_table([row])
