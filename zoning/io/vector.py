"""Reading vector files.

Reading normalises what real Chinese deliveries get wrong: shapefiles without a
``.cpg`` whose DBF is GBK, zipped shapefiles, and layers with no CRS.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sqlite3
import stat
import tempfile
import time
import zipfile
from collections.abc import Iterator
from contextvars import ContextVar
from pathlib import Path

import geopandas as gpd
import pyogrio

from zoning.errors import DataError, InputError, ResourceLimitError
from zoning.limits import LIMITS

# Reading never writes beside the data: GDAL's GeoPackage driver otherwise leaves a
# ``.aux.xml`` (its persistent auxiliary metadata) next to a layer it read, in the user's
# data folder.  Only pyogrio's GDAL is configured; metadata inside the files is still read.
pyogrio.set_gdal_config_options({"GDAL_PAM_ENABLED": "NO"})

__all__ = [
    "read_vector",
    "read_vector_layers",
    "detect_dbf_encoding",
    "list_layers",
    "check_input_file",
    "check_archive",
    "gdal_path",
    "check_where",
    "read_input_bytes",
    "gpkg_rtree",
    "gpkg_rtree_meets",
]

log = logging.getLogger(__name__)


# --------------------------------------------------------------------------- guards


def check_input_file(path, max_bytes: int | None = None) -> os.stat_result:
    """Stat an input before opening it: refuse FIFOs, devices and sockets, folders (but a
    FileGDB ``.gdb``), and files over the size limit (:class:`ResourceLimitError`)."""
    path = Path(path)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise DataError("文件不存在", path=path) from None
    except OSError as e:
        raise DataError(f"无法打开：{e.strerror}", path=path) from None
    if stat.S_ISDIR(st.st_mode):
        if path.suffix.lower() != ".gdb":
            raise InputError("是文件夹，不是文件（只能读取 FileGDB 的 .gdb 文件夹）",
                             path=path)
        return st
    if not stat.S_ISREG(st.st_mode):
        raise InputError("不是普通文件（而是 FIFO、设备或套接字），拒绝读取", path=path)
    limit = LIMITS.max_file_bytes if max_bytes is None else max_bytes
    if st.st_size > limit:
        raise ResourceLimitError(f"文件大小为 {st.st_size:,} 字节（上限 {limit:,}）", path=path)
    return st


def read_input_bytes(path, max_bytes: int | None = None) -> bytes:
    """The bytes of a text input (TXT, CSV), after :func:`check_input_file`."""
    path = Path(path)
    st = check_input_file(path, LIMITS.max_text_bytes if max_bytes is None else max_bytes)
    if stat.S_ISDIR(st.st_mode):
        raise InputError("是文件夹，不是文件", path=path)
    return path.read_bytes()


def check_archive(path) -> list[str]:
    """Member names of a zip (or KMZ) after checking it is a zip within the expansion limits.

    Refuses (with :class:`ResourceLimitError`) more members, more uncompressed
    bytes or a higher compression ratio than :data:`~zoning.limits.LIMITS`
    allow, and members with absolute or ``..`` paths.
    """
    path = Path(path)
    st = check_input_file(path)
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise InputError("不是有效的 zip 压缩包", path=path) from None
    if len(infos) > LIMITS.max_archive_members:
        raise ResourceLimitError(f"压缩包内有 {len(infos):,} 个文件（上限 "
                                 f"{LIMITS.max_archive_members:,}）", path=path)
    total = sum(i.file_size for i in infos)
    if total > LIMITS.max_archive_bytes:
        raise ResourceLimitError(f"压缩包解压后为 {total:,} 字节（上限 "
                                 f"{LIMITS.max_archive_bytes:,}）", path=path)
    if total > 10_000_000 and total > LIMITS.max_archive_ratio * max(st.st_size, 1):
        raise ResourceLimitError(f"压缩包解压后膨胀 {total / max(st.st_size, 1):,.0f}×（上限 "
                                 f"{LIMITS.max_archive_ratio:,.0f}×）：疑为 zip 炸弹，拒绝读取",
                                 path=path)
    names = [i.filename for i in infos]
    for n in names:
        parts = n.replace("\\", "/").split("/")
        if n.startswith(("/", "\\")) or ".." in parts or re.match(r"^[A-Za-z]:", n):
            raise InputError("压缩包内有使用绝对路径或“..”路径的文件，拒绝读取", path=path)
    if any(i.flag_bits & 0x1 for i in infos):
        raise InputError("压缩包已加密（有密码保护）：请先解压", path=path)
    if any(stat.S_ISLNK(i.external_attr >> 16) for i in infos):
        raise InputError("压缩包内含符号链接，拒绝读取", path=path)
    return names


def _check_dbf_header(head: bytes, size: int, where) -> None:
    """Refuse a DBF whose header claims more records than the file can hold."""
    if len(head) < 12:
        raise DataError("DBF 文件不完整（已被截断）", path=where)
    nrec = int.from_bytes(head[4:8], "little")
    hlen = int.from_bytes(head[8:10], "little")
    rlen = int.from_bytes(head[10:12], "little")
    if nrec and rlen == 0:
        raise DataError("DBF 文件头中的记录长度为 0", path=where)
    if hlen + nrec * rlen > size + rlen:
        fits = max(0, (size - hlen) // max(rlen, 1))
        raise ResourceLimitError(f"DBF 文件头声明有 {nrec:,} 条记录，但文件最多只能容纳 "
                                 f"{fits:,} 条：文件不完整或被篡改", path=where)
    if nrec > _max_features():
        raise ResourceLimitError(f"DBF 有 {nrec:,} 条记录（上限 {_max_features():,}）",
                                 path=where)


def _check_shapefile(shp: Path) -> None:
    for ext in (".dbf", ".DBF", ".shx", ".SHX", ".prj", ".cpg", ".CPG"):
        side = shp.with_suffix(ext)
        if side.exists() or side.is_symlink():
            check_input_file(side)
            if ext.lower() == ".dbf":
                with open(side, "rb") as f:
                    _check_dbf_header(f.read(32), side.stat().st_size, side)


def _check_zip_dbf(path: Path, names: list[str]) -> None:
    with zipfile.ZipFile(path) as zf:
        for info in zf.infolist():
            if info.filename.lower().endswith(".dbf"):
                with zf.open(info) as f:
                    _check_dbf_header(f.read(32), info.file_size, f"{path}/{info.filename}")


_WHERE_FORBIDDEN = re.compile(
    r"\b(select|with|recursive|union|intersect|except|pragma|attach|detach|insert|update|"
    r"delete|drop|create|alter|replace|vacuum|load_extension|randomblob|zeroblob|readfile|"
    r"writefile|printf|format|char|hex|like_escape|sqlite_\w*|ogr_\w*|st_\w*)\b", re.I)


def check_where(where: str | None, what: str = "where 条件") -> str | None:
    """A ``where`` filter limited to a simple attribute condition.

    Comparisons, ``AND``/``OR``/``NOT``, ``IN (…)``, ``LIKE``, ``IS NULL`` and
    ``BETWEEN`` over fields and literals are accepted; subqueries, CTEs
    (``WITH RECURSIVE``), statements, comments and functions that build
    large values are refused with :class:`~zoning.errors.DataError`, so a
    filter can neither run away nor read other tables.
    """
    if where is None:
        return None
    if not isinstance(where, str):
        raise DataError(f"{what}必须是文本")
    if len(where) > 2000:
        raise DataError(f"{what}超过 2000 个字符")
    bare = re.sub(r"'(?:[^']|'')*'", "''", where)  # string literals may say anything
    if ";" in bare or "--" in bare or "/*" in bare or "\x00" in where:
        raise DataError(f"{what}不能含有“;”、注释或 NUL 字符")
    bad = _WHERE_FORBIDDEN.search(bare)
    if bad:
        raise DataError(f"{what}只能是简单的属性筛选条件，不允许使用 "
                        f"{bad.group(0).upper()}（不能用子查询、CTE 或 SQL 函数）")
    return where


def _sqlite_timed(con: sqlite3.Connection, sql: str, timeout: float):
    deadline = time.monotonic() + timeout
    con.set_progress_handler(lambda: time.monotonic() > deadline, 20_000)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.set_progress_handler(None, 0)


def _ro(path: Path) -> sqlite3.Connection:
    """A read-only SQLite connection to a file (a GeoPackage)."""
    return sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)


def _check_gpkg_sql(path: Path, layers: list[str | None], where: str | None) -> None:
    """Refuse GeoPackage views with recursive queries, and time-limit views and filters.

    SQLite runs them; a progress handler interrupts a query after
    :attr:`~zoning.limits.Limits.read_timeout_s` seconds
    (:class:`ResourceLimitError`), so a hostile view or filter cannot hang a run.
    """
    try:
        con = _ro(path)
    except sqlite3.Error:
        return  # GDAL reports an unreadable file
    try:
        try:
            views = dict(con.execute("SELECT name, sql FROM sqlite_master WHERE type='view'"))
            tables = [r[0] for r in con.execute("SELECT table_name FROM gpkg_contents")]
        except sqlite3.Error:
            return
        for name in [n for n in layers if n] or tables[:1]:
            sql = views.get(name)
            if sql is None and not where:
                continue
            if sql is not None and re.search(r"\brecursive\b", sql, re.I):
                raise ResourceLimitError("图层是基于递归查询（recursive）的视图，拒绝读取",
                                         path=path, layer=name)
            q = 'SELECT count(*) FROM "' + str(name).replace('"', '""') + '"'
            if where:
                q += f" WHERE {where}"
            try:
                _sqlite_timed(con, q, LIMITS.read_timeout_s)
            except sqlite3.OperationalError as e:
                if "interrupt" in str(e):
                    raise ResourceLimitError(
                        f"读取图层{'（含 where 条件）' if where else ''}超过 "
                        f"{LIMITS.read_timeout_s:g} s 仍未完成，拒绝读取",
                        path=path, layer=name) from None
                if where:
                    raise DataError(f"where 条件无法执行：{str(e)[:120]}",
                                    path=path, layer=name) from None
    finally:
        con.close()


def gpkg_rtree(path, layer: str | None) -> str | None:
    """The R-tree table of a GeoPackage layer (``rtree_<table>_<column>``), or None when the
    file is no GeoPackage, the layer has no spatial index, or it cannot be told which
    layer GDAL would read."""
    path = Path(path)
    if path.suffix.lower() != ".gpkg":
        return None
    try:
        con = _ro(path)
    except sqlite3.Error:
        return None
    try:
        rows = con.execute(
            "SELECT g.table_name, g.column_name FROM gpkg_geometry_columns g "
            "JOIN gpkg_extensions e ON e.table_name = g.table_name "
            "AND e.column_name = g.column_name AND e.extension_name = 'gpkg_rtree_index'"
        ).fetchall()
        if layer is not None:
            rows = [r for r in rows if r[0] == layer]
        if len(rows) != 1:
            return None
        name = f"rtree_{rows[0][0]}_{rows[0][1]}"
        sql = con.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?",
                          (name,)).fetchone()
        # only SQLite's own R-tree module: never a view or table the file defines otherwise
        if not sql or not re.search(r"using\s+rtree\s*\(", sql[0] or "", re.I):
            return None
        return name
    except sqlite3.Error:
        return None
    finally:
        con.close()


def gpkg_rtree_meets(path, rtree: str, bbox) -> bool:
    """Whether any entry of a GeoPackage R-tree meets ``bbox`` (the layer's CRS).

    An R-tree holds every feature's envelope, rounded outwards: when no entry meets the
    box, a read of the layer with that ``bbox`` returns nothing.  True when unsure.
    """
    try:
        con = _ro(Path(path))
    except sqlite3.Error:
        return True
    try:
        q = ('SELECT EXISTS(SELECT 1 FROM "' + rtree.replace('"', '""') +
             '" WHERE minx <= ? AND maxx >= ? AND miny <= ? AND maxy >= ?)')
        x0, y0, x1, y1 = (float(v) for v in bbox)
        return bool(con.execute(q, (x1, x0, y1, y0)).fetchone()[0])
    except sqlite3.Error:
        return True
    finally:
        con.close()


# --------------------------------------------------------------------------- reading


def detect_dbf_encoding(dbf_path) -> str:
    """Guess the text encoding of a DBF whose shapefile has no ``.cpg``.

    Returns ``"UTF-8"`` when every string field decodes as UTF-8 (plain ASCII
    included), ``"GB18030"`` (a superset of GBK) when the bytes decode as
    GB18030 but not UTF-8, and raises :class:`DataError` otherwise.
    """
    dbf_path = Path(dbf_path)
    check_input_file(dbf_path)
    raw = dbf_path.read_bytes()
    if len(raw) < 32:
        raise DataError("DBF 文件不完整（已被截断）", path=dbf_path)
    nrec = int.from_bytes(raw[4:8], "little")
    hlen = int.from_bytes(raw[8:10], "little")
    rlen = int.from_bytes(raw[10:12], "little")
    # never trust the header's record count beyond what the file holds
    nrec = min(nrec, max(0, len(raw) - hlen) // rlen) if rlen else 0
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
        raise DataError("DBF 中的文本编码既不是 UTF-8，也不是 GBK/GB18030：请指定其编码",
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
        raise DataError("Shapefile 缺少 .dbf 文件", path=shp)
    return detect_dbf_encoding(dbf), "detected (no .cpg)"


def _resolve_zip(path: Path) -> tuple[str, Path | None]:
    """GDAL path for a zipped shapefile and the .shp member, if any."""
    names = check_archive(path)
    _check_zip_dbf(path, names)
    shps = [n for n in names if n.lower().endswith(".shp")]
    if not shps:
        return f"/vsizip/{path}", None
    if len(shps) > 1:
        raise DataError(f"zip 中有 {len(shps)} 个 Shapefile（{', '.join(shps)}）："
                        "请解压后选用其中一个", path=path)
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


def gdal_path(path) -> str:
    """The string to hand pyogrio for a local file (unchanged), after refusing names it
    would misread.

    pyogrio parses a path as a URI: a ``!`` anywhere is taken for an archive
    separator, and a ``;`` in the file name starts URI parameters (``a.gpkg;b.gpkg``
    opens ``a.gpkg``).  Such a path would open another file or none, so it is refused
    (:class:`InputError`).  GDAL virtual paths (``/vsi…``) pass as they are.
    """
    text = str(path)
    if not text.startswith("/vsi") and ("!" in text or ";" in Path(text).name):
        raise InputError("路径中含有“!”或文件名中含有“;”时，GDAL 会把它当作 URI 的一部分，"
                         "打开的将是另一个文件：请重命名",
                         path=path)
    return text


def _gdal_source(path: Path) -> str:
    """The GDAL path of an input, after the checks its format needs."""
    suffix = path.suffix.lower()
    check_input_file(path)
    if suffix == ".zip":
        src, _ = _resolve_zip(path)
        return src
    if suffix == ".kmz":
        kmls = [n for n in check_archive(path) if n.lower().endswith(".kml")]
        if not kmls:
            raise InputError("KMZ 中没有 .kml 文件", path=path)
        return f"/vsizip/{path}"
    if suffix in (".shp", ".dbf"):
        _check_shapefile(path.with_suffix(".shp"))
    return gdal_path(path)


def _sources(path: Path) -> list[str]:
    """GDAL sources of an input: one, or every KML of a KMZ."""
    if path.suffix.lower() == ".kmz":
        kmls = [n for n in check_archive(path) if n.lower().endswith(".kml")]
        if not kmls:
            raise InputError("KMZ 中没有 .kml 文件", path=path)
        return [f"/vsizip/{path}/{n}" for n in kmls]
    return [_gdal_source(path)]


def list_layers(path) -> list[str]:
    """Names of the layers of a vector file that have geometry (every KML of a KMZ)."""
    path = Path(path)
    out = []
    for src in _sources(path):
        try:
            info = pyogrio.list_layers(src)
        except Exception as e:
            raise DataError(f"无法打开：{_short(e)}", path=path) from None
        out += [str(n) for n, g in info if g is not None]
    return out


def _short(e: Exception) -> str:
    text = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    return text[:200]


def read_vector_layers(path, layer: str | None = None, encoding: str | None = None,
                       ) -> list[tuple[str | None, gpd.GeoDataFrame]]:
    """Every geometry layer of a vector file as ``(layer name, frame)`` pairs.

    A GeoPackage with several layers, a KML with several folders and a KMZ with
    several KML files are all read whole: nothing is silently left out.  With
    ``layer`` only that layer is read.  Layers with no features are skipped.
    """
    path = Path(path)
    if layer is not None:
        return [(layer, read_vector(path, layer=layer, encoding=encoding))]
    if path.suffix.lower() in (".parquet", ".geoparquet", ".geojson", ".json", ".shp",
                               ".zip"):
        return [(None, read_vector(path, encoding=encoding))]
    out: list[tuple[str | None, gpd.GeoDataFrame]] = []
    sources = _sources(path)
    for src in sources:
        try:
            names = [str(n) for n, g in pyogrio.list_layers(src) if g is not None]
        except Exception as e:
            raise DataError(f"无法打开：{_short(e)}", path=path) from None
        multi = len(sources) > 1
        for n in names:
            gdf = _read_gdal(src, path, n, encoding, None, None, None, None)
            if len(gdf):
                label = f"{src.rsplit('/', 1)[-1]}:{n}" if multi else n
                out.append((label, gdf))
    if not out:
        raise DataError("文件中没有要素", path=path)
    return out


def _read_gdal(src: str, path: Path, layer, enc, columns, bbox, where, how,
               fid_as_index: bool = False) -> gpd.GeoDataFrame:
    kw: dict = {"encoding": enc} if enc else {}
    if fid_as_index:
        kw["fid_as_index"] = True
    if _LAYER_READ.get():  # catalog layers: GDAL's Arrow stream reads them several times faster
        kw["use_arrow"] = True
    try:
        gdf = pyogrio.read_dataframe(src, layer=layer, columns=columns, bbox=bbox,
                                     where=where, max_features=_read_cap(), **kw)
    except pyogrio.errors.DataLayerError as e:
        raise DataError(f"无法读取图层：{_short(e)}", path=path, layer=layer) from None
    except Exception as e:  # GDAL, encoding and geometry errors all end as a clear message
        raise DataError(f"无法打开：{_short(e)}", path=path) from None
    if len(gdf) > _max_features():
        raise ResourceLimitError(f"要素超过 {_max_features():,} 个", path=path,
                                 layer=layer)
    gdf.attrs.update(source=str(path), layer=layer, encoding=enc or "UTF-8", encoding_how=how)
    return gdf


def _read_parquet(path: Path, columns) -> gpd.GeoDataFrame:
    check_input_file(path)
    try:
        gdf = gpd.read_parquet(path, columns=columns)
    except Exception as e:  # pyarrow raises many kinds for a corrupt file
        raise DataError(f"无法读取 GeoParquet：{_short(e)}", path=path) from None
    if len(gdf) > _max_features():
        raise ResourceLimitError(f"要素超过 {_max_features():,} 个", path=path)
    gdf.attrs.update(source=str(path), encoding="n/a")
    return gdf


_LAYER_READ: ContextVar[bool] = ContextVar("zoning_layer_read", default=False)


def _max_features() -> int:
    """The feature limit in force: a catalog layer's, or an input's (see :func:`layer_read`)."""
    return LIMITS.max_layer_features if _LAYER_READ.get() else LIMITS.max_features


def _read_cap() -> int | None:
    """The cap handed to GDAL: inputs stop one feature past their limit; catalog layers are
    read whole (GDAL pre-allocates the cap, so a layer's huge limit is checked afterwards)."""
    return None if _LAYER_READ.get() else LIMITS.max_features + 1


@contextlib.contextmanager
def layer_read() -> Iterator[None]:
    """Reads inside this block are of catalog layers: the layer feature limit applies."""
    token = _LAYER_READ.set(True)
    try:
        yield
    finally:
        _LAYER_READ.reset(token)


def read_vector(path, layer: str | None = None, encoding: str | None = None,
                columns=None, bbox=None, where: str | None = None, *,
                fid_as_index: bool = False) -> gpd.GeoDataFrame:
    """Read a vector layer (GeoPackage, Shapefile incl. zipped, GeoJSON, GeoParquet, KML).

    The text encoding of a shapefile without ``.cpg`` is detected (GBK is
    common); ``encoding`` overrides it.  The frame's ``attrs`` record the
    source and encoding.  FIFOs and devices are refused, archives and DBF
    headers are checked against :data:`~zoning.limits.LIMITS`, ``where`` must
    be a simple filter (:func:`check_where`), and GeoPackage views and filters
    are time-limited.  Only one layer is read: see :func:`read_vector_layers`.
    ``bbox`` (in the layer's CRS) reads only features whose bounds meet it, through the
    file's spatial index where it has one (a GeoPackage's R-tree); ``fid_as_index``
    indexes the frame by the features' ids in the file.
    """
    path = Path(path)
    check_where(where)
    if path.suffix.lower() in (".parquet", ".geoparquet"):
        return _read_parquet(path, columns)
    src = _gdal_source(path)
    if path.suffix.lower() == ".kmz":
        src = _sources(path)[0]
    enc, how = source_encoding(path, encoding)
    if path.suffix.lower() == ".gpkg":
        _check_gpkg_sql(path, [layer], where)
    return _read_gdal(src, path, layer, enc, columns, bbox, where, how, fid_as_index)
