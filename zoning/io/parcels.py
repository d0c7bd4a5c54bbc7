"""Parcels for conversion: any footprint source ↔ 部标 TXT ↔ vector files.

:func:`read_parcels` reads a 部标 TXT (one row per 地块), a DXF (the drawn
red line), coordinates typed as text, or any vector file (one row per
feature) into a GeoDataFrame in EPSG:4490 with the parcel fields
``number, name, use, land_class, sheet, kind``; :func:`write_parcels`
writes such a frame as a 部标 TXT, GeoJSON, GeoPackage, KML or Shapefile.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd

from zoning.errors import DataError
from zoning.footprints import normalise, widen
from zoning.project import clean

__all__ = ["read_parcels", "write_parcels", "PARCEL_FIELDS", "VECTOR_FIELDS"]

#: parcel field → accepted column names of a vector input (case-insensitive, first wins)
PARCEL_FIELDS = {
    "number": ["地块编号", "dkbh", "编号", "bh", "project_id", "id", "项目编号", "fid_"],
    "name": ["地块名称", "dkmc", "名称", "mc", "name", "项目名称"],
    "use": ["地块用途", "dkyt", "用途", "yt"],
    "land_class": ["地类编码", "dlbm"],
    "sheet": ["图幅号", "tfh"],
}
#: parcel field → column written to GeoJSON/GeoPackage/KML, and to a Shapefile (≤ 10 bytes)
VECTOR_FIELDS = {"number": ("地块编号", "DKBH"), "name": ("地块名称", "DKMC"),
                 "use": ("地块用途", "DKYT"), "land_class": ("地类编码", "DLBM"),
                 "sheet": ("图幅号", "TFH"), "area_ha": ("面积公顷", "MJ_HA")}
_COLS = ["number", "name", "use", "land_class", "sheet", "kind", "warnings"]


def _frame(rows: list[dict]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(pd.DataFrame(rows, columns=_COLS + ["geometry"]),
                            geometry="geometry", crs="EPSG:4490")


def _from_txt(path: Path, towgs84) -> tuple[list[dict], dict, list[str]]:
    from zoning.io.parcel_txt import parse_txt
    from zoning.io.vector import read_input_bytes

    doc = parse_txt(read_input_bytes(path), source=str(path), towgs84=towgs84)
    bad = [p for p in doc.parcels if p.geometry is None]
    if bad:
        raise DataError("; ".join(f"地块 {p.number}: {p.error}" for p in bad[:5]), path=path)
    rows = []
    for p in doc.parcels:
        geom, kind, w = normalise(p.geometry, doc.crs, None)
        rows.append(dict(number=p.number, name=p.name, use=p.use, land_class=p.land_class,
                         sheet="", kind=kind, warnings=p.warnings + w, geometry=geom))
    return rows, dict(doc.project_info), list(doc.warnings)


def _pick(rec: dict, lower: dict, field: str):
    for alias in PARCEL_FIELDS[field]:
        if alias in lower:
            v = clean(rec.get(lower[alias]))
            if v is not None:
                return str(v)
    return ""


def _from_vector(path: Path, crs, coord_sys, encoding, layer, towgs84) -> list[dict]:
    from zoning.io.projects import _with_towgs84
    from zoning.io.vector import read_vector_layers

    rows: list[dict] = []
    for _, gdf in read_vector_layers(path, layer=layer, encoding=encoding):
        src = _with_towgs84(crs or gdf.crs, towgs84)
        lower = {str(c).strip().lower(): c for c in gdf.columns if c != gdf.geometry.name}
        for rec in gdf.to_dict("records"):
            i = len(rows) + 1
            g = rec.pop(gdf.geometry.name)
            try:
                geom, kind, w = normalise(g, src, coord_sys)
            except DataError as e:
                raise type(e)(f"要素 {i}：{e.message}", path=path) from None
            rows.append(dict(number=_pick(rec, lower, "number") or str(i),
                             name=_pick(rec, lower, "name"), use=_pick(rec, lower, "use"),
                             land_class=_pick(rec, lower, "land_class"),
                             sheet=_pick(rec, lower, "sheet"), kind=kind, warnings=w,
                             geometry=geom))
    return rows


def read_parcels(source, crs=None, coord_sys=None, encoding=None, layer=None, towgs84=None,
                 width_m: float | None = None) -> tuple[gpd.GeoDataFrame, dict, list[str]]:
    """Parcels of a footprint source, in EPSG:4490.

    Parameters
    ----------
    source : path-like or str
        部标 TXT, DXF, any vector file, or coordinates typed as text
        (``经度,纬度`` pairs, see :mod:`zoning.dms`).
    crs, coord_sys, encoding, layer, towgs84, width_m
        As for :func:`zoning.io.projects.read_footprint`.

    Returns
    -------
    (GeoDataFrame, dict, list of str)
        The parcels (``number, name, use, land_class, sheet, kind, warnings,
        geometry``), the source's ``[项目信息]`` fields and file-level warnings.
    """
    path = Path(str(source))
    info: dict = {}
    warnings: list[str] = []
    if not path.exists():
        from zoning.dms import looks_like_coordinates

        if not looks_like_coordinates(str(source)):
            raise DataError("文件不存在", path=path)
        from zoning.io.projects import read_coordinates

        t = read_coordinates(str(source), crs=crs, coord_sys=coord_sys)
        rows = [dict(number="1", name="", use="", land_class="", sheet="",
                     kind=t["kind"].iloc[0], warnings=t["warnings"].iloc[0],
                     geometry=t.geometry.iloc[0])]
    elif path.suffix.lower() == ".txt":
        rows, info, warnings = _from_txt(path, towgs84)
    elif path.suffix.lower() == ".dxf":
        from zoning.io.projects import read_footprint

        t = read_footprint(path, crs=crs, coord_sys=coord_sys, encoding=encoding, layer=layer,
                           towgs84=towgs84)
        rows = [dict(number="1", name=path.stem, use="", land_class="", sheet="",
                     kind=t["kind"].iloc[0], warnings=t["warnings"].iloc[0],
                     geometry=t.geometry.iloc[0])]
    else:
        rows = _from_vector(path, crs, coord_sys, encoding, layer, towgs84)
    if width_m:
        for r in rows:
            r["geometry"], r["kind"], w = widen(r["geometry"], width_m)
            r["warnings"] = list(r["warnings"]) + w
    return _frame(rows), info, warnings


def _vector_frame(parcels: gpd.GeoDataFrame, shapefile: bool) -> gpd.GeoDataFrame:
    from zoning.engine.geometry import measure

    area, _ = measure(parcels.geometry.values, "EPSG:4490", "ellipsoidal")
    k = 1 if shapefile else 0
    data = {VECTOR_FIELDS[f][k]: parcels[f].fillna("").astype(str).values
            for f in ("number", "name", "use", "land_class", "sheet")}
    data[VECTOR_FIELDS["area_ha"][k]] = (area / 1e4).round(4)
    return gpd.GeoDataFrame(data, geometry=parcels.geometry.values, crs="EPSG:4490")


_DRIVERS = {".geojson": "GeoJSON", ".json": "GeoJSON", ".gpkg": "GPKG", ".kml": "KML",
            ".shp": "ESRI Shapefile"}


def write_parcels(path, parcels: gpd.GeoDataFrame, info: dict | None = None, *,
                  overwrite: bool = False, to_crs=None, txt_encoding: str = "gb18030",
                  **txt_options) -> Path:
    """Write parcels (EPSG:4490) as a 部标 TXT (``.txt``) or a vector file, atomically.

    ``txt_options`` go to :func:`zoning.io.txt_write.format_txt` (zone_width,
    zone, prefix); ``info`` becomes the TXT's ``[项目信息]``.  A vector file
    gets the parcel fields (地块编号, 地块名称, 地块用途, 地类编码, 图幅号 and
    the ellipsoidal 面积公顷) in EPSG:4490 or ``to_crs``.
    """
    from zoning.errors import OutputExistsError

    path = Path(path)
    if path.exists() and not overwrite:
        raise OutputExistsError(f"{path} 已存在")
    suffix = path.suffix.lower()
    if suffix == ".txt":
        from zoning.io.txt_write import TxtParcelOut, write_txt

        out = [TxtParcelOut(geometry=r.geometry, number=r.number, name=r.name, use=r.use,
                            land_class=r.land_class, sheet=r.sheet)
               for r in parcels.itertuples()]
        write_txt(path, out, encoding=txt_encoding, project_info=info or None,
                  overwrite=overwrite, **txt_options)
        return path
    if suffix not in _DRIVERS:
        raise DataError(f"不支持写出 {suffix or '无扩展名的文件'}：请使用 .txt, "
                        f"{', '.join(_DRIVERS)}", path=path)
    gdf = _vector_frame(parcels, suffix == ".shp")
    if to_crs is not None:
        gdf = gdf.to_crs(to_crs)
    import pyogrio

    from zoning.io.write import atomic_path, gdal_target

    opts = {"encoding": "UTF-8"} if suffix == ".shp" else {}
    with atomic_path(path, overwrite=overwrite) as tmp:
        layer = "parcels" if suffix in (".gpkg", ".kml") else None
        with gdal_target(tmp) as target:
            pyogrio.write_dataframe(gdf, target, driver=_DRIVERS[suffix], layer=layer, **opts)
        if suffix == ".shp":  # the sidecar files follow the .shp into place
            for side in tmp.parent.glob(tmp.stem + ".*"):
                if side.suffix.lower() != ".shp":
                    side.replace(path.with_suffix(side.suffix))
    return path
