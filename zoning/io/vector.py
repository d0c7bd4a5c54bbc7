"""Reading vector files.

Reading normalises what real Chinese deliveries get wrong: shapefiles without a
``.cpg`` whose DBF is GBK, zipped shapefiles, and layers with no CRS.
"""

from __future__ import annotations

import tempfile
import zipfile
from pathlib import Path

import geopandas as gpd
import pyogrio

from zoning.errors import DataError

__all__ = [
    "read_vector",
    "detect_dbf_encoding",
    "list_layers",
]


# --------------------------------------------------------------------------- reading


def detect_dbf_encoding(dbf_path) -> str:
    """Guess the text encoding of a DBF whose shapefile has no ``.cpg``.

    Returns ``"UTF-8"`` when every string field decodes as UTF-8 (plain ASCII
    included), ``"GB18030"`` (a superset of GBK) when the bytes decode as
    GB18030 but not UTF-8, and raises :class:`DataError` otherwise.
    """
    dbf_path = Path(dbf_path)
    raw = dbf_path.read_bytes()
    if len(raw) < 32:
        raise DataError("DBF file is truncated", path=dbf_path)
    nrec = int.from_bytes(raw[4:8], "little")
    hlen = int.from_bytes(raw[8:10], "little")
    rlen = int.from_bytes(raw[10:12], "little")
    # character fields only
    spans, off = [], 1
    for i in range(32, hlen - 1, 32):
        desc = raw[i:i + 32]
        if desc[0] == 0x0D:
            break
        ftype, flen = chr(desc[11]), desc[16]
        if ftype == "C":
            spans.append((off, off + flen))
        off += flen
    body = raw[hlen:hlen + nrec * rlen]
    text = b"".join(body[r * rlen + a:r * rlen + b] for r in range(nrec) for a, b in spans)
    try:
        text.decode("utf-8")
        return "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        text.decode("gb18030")
        return "GB18030"
    except UnicodeDecodeError:
        raise DataError("DBF text is neither UTF-8 nor GBK/GB18030; pass --encoding",
                        path=dbf_path) from None


def _shapefile_encoding(shp: Path) -> tuple[str, str]:
    """(encoding, how it was found) for a .shp path."""
    cpg = shp.with_suffix(".cpg")
    if not cpg.exists():
        cpg = shp.with_suffix(".CPG")
    if cpg.exists():
        enc = cpg.read_text("ascii", errors="replace").strip() or "UTF-8"
        return enc, ".cpg"
    dbf = shp.with_suffix(".dbf")
    if not dbf.exists():
        dbf = shp.with_suffix(".DBF")
    if not dbf.exists():
        raise DataError("shapefile has no .dbf", path=shp)
    return detect_dbf_encoding(dbf), "detected (no .cpg)"


def _resolve_zip(path: Path) -> tuple[str, Path | None]:
    """GDAL path for a zipped shapefile and the .shp member, if any."""
    with zipfile.ZipFile(path) as zf:
        shps = [n for n in zf.namelist() if n.lower().endswith(".shp")]
    if not shps:
        return f"/vsizip/{path}", None
    if len(shps) > 1:
        raise DataError(f"zip holds {len(shps)} shapefiles ({', '.join(shps)}); unzip it and "
                        "pick one", path=path)
    return f"/vsizip/{path}/{shps[0]}", Path(shps[0])


def source_encoding(path, encoding: str | None = None) -> tuple[str | None, str]:
    """Encoding to read ``path`` with, and how it was decided."""
    path = Path(path)
    if encoding:
        return encoding, "given"
    if path.suffix.lower() == ".shp":
        return _shapefile_encoding(path)
    if path.suffix.lower() == ".zip":
        _, member = _resolve_zip(path)
        if member is not None:
            import shutil

            with zipfile.ZipFile(path) as zf, tempfile.TemporaryDirectory() as td:
                names = {n.lower(): n for n in zf.namelist()}
                stem = str(member)[:-4]
                for ext in (".cpg", ".dbf"):
                    n = names.get((stem + ext).lower())
                    if n:
                        with zf.open(n) as src, open(Path(td) / f"x{ext}", "wb") as dst:
                            shutil.copyfileobj(src, dst)
                return _shapefile_encoding(Path(td) / "x.shp")
    return None, "format default (UTF-8)"


def list_layers(path) -> list[str]:
    path = Path(path)
    if not path.exists():
        raise DataError("file not found", path=path)
    return [str(n) for n, _ in pyogrio.list_layers(str(path))]


def read_vector(path, layer: str | None = None, encoding: str | None = None,
                columns=None, bbox=None, where: str | None = None) -> gpd.GeoDataFrame:
    """Read a vector layer (GeoPackage, Shapefile incl. zipped, GeoJSON, GeoParquet, KML).

    The text encoding of a shapefile without ``.cpg`` is detected (GBK is
    common); ``encoding`` overrides it.  The frame's ``attrs`` record the
    source and encoding.
    """
    path = Path(path)
    if not path.exists():
        raise DataError("file not found", path=path)
    if path.suffix.lower() in (".parquet", ".geoparquet"):
        gdf = gpd.read_parquet(path, columns=columns)
        gdf.attrs.update(source=str(path), encoding="n/a")
        return gdf
    enc, how = source_encoding(path, encoding)
    src = str(path)
    if path.suffix.lower() == ".zip":
        src, _ = _resolve_zip(path)
    kw = {}
    if enc:
        kw["encoding"] = enc
    try:
        gdf = pyogrio.read_dataframe(src, layer=layer, columns=columns, bbox=bbox,
                                     where=where, **kw)
    except pyogrio.errors.DataLayerError as e:
        raise DataError(f"cannot read layer: {e}", path=path, layer=layer) from None
    except pyogrio.errors.DataSourceError as e:
        raise DataError(f"cannot open: {e}", path=path) from None
    gdf.attrs.update(source=str(path), layer=layer, encoding=enc or "UTF-8",
                     encoding_how=how)
    return gdf
