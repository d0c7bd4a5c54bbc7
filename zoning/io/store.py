"""Prepared layer stores: a spatially ordered, spatially indexed copy beside each layer.

``zoning layers build`` writes, beside a catalog layer's file, a GeoParquet 1.1
file (``<file>.<layer>.store.parquet``) and a small JSON sidecar
(``….store.json``):

* one row per *piece*: the layer's features normalised as
  :func:`zoning.io.layers.normalise_layer` does (ids, canonical fields, repaired
  geometries), reprojected into the region's work CRS and subdivided exactly as
  the engine's index does (:func:`zoning.engine.index.prepare_geometries`), so a
  check against the store gives the same answers as one against the file;
* per row, the feature's ordinal in the layer (``_fid``), how many pieces it has
  (``_npieces``), its whole ellipsoidal and Gauss–Krüger areas (``_area_ell``,
  ``_area_gk``) and whether its source geometry was valid (``_valid``);
* a ``bbox`` covering column (GeoParquet 1.1) and rows sorted along a Hilbert
  curve in row groups of :data:`ROW_GROUP` rows, so the row groups' bbox
  statistics are a compact on-disk spatial index.

The sidecar records the source file's size, modification time and SHA-256, the
catalog entry's fingerprint, the work CRS and the subdivision size:
:func:`store_status` says when a store is stale.  Building streams the source
in Arrow batches (bounded memory: a batch at a time, then one Hilbert bucket at
a time).

:class:`StoreSource` serves a store to the engine (a
:class:`~zoning.engine.index.PieceSource`): per chunk of footprints it reads only
the row groups whose bounds meet the footprints' search windows, and finds the
nearest feature of a footprint with nothing near by an expanding window.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import shapely
from pyproj import CRS

from zoning.catalog import LayerSpec
from zoning.errors import DataError
from zoning.io.vector import check_input_file, gdal_path

__all__ = ["STORE_VERSION", "ROW_GROUP", "store_paths", "build_store", "store_status",
           "StoreStatus", "StoreSource", "open_store", "hilbert_keys", "iter_source_batches"]

log = logging.getLogger(__name__)

STORE_VERSION = 2  # 2: edges densified before reprojection, as the index does
ROW_GROUP = 2048
#: rows of decoded row groups a store keeps (LRU): spatially sorted chunks reuse the row
#: groups of the chunks just before them, so a few chunks' worth is enough; memory stays
#: flat in layer size
CACHE_ROWS = 262_144
_BUCKET_BITS = 6  # 64 Hilbert buckets when a layer does not fit one batch
_INTERNAL = ("_fid", "_npieces", "_area_ell", "_area_gk", "_valid", "geometry", "bbox")
_BOX = ("xmin", "ymin", "xmax", "ymax")


# --------------------------------------------------------------------------- paths & status

def store_paths(spec: LayerSpec) -> tuple[Path, Path]:
    """(store file, sidecar JSON) of a file layer: beside the layer's file."""
    if spec.path is None:
        raise DataError("只有文件图层才有预处理图层库", layer=spec.name)
    stem = f"{spec.path.name}.{spec.layer or spec.path.stem}"
    return (spec.path.parent / f"{stem}.store.parquet",
            spec.path.parent / f"{stem}.store.json")


def spec_fingerprint(spec: LayerSpec) -> str:
    """Hash of everything in a catalog entry that changes the stored rows."""
    doc = dict(kind=spec.kind, layer=spec.layer, where=spec.where, crs=spec.crs,
               id_field=spec.id_field, fields=spec.fields, values=spec.values,
               encoding=spec.encoding)
    return hashlib.sha256(json.dumps(doc, sort_keys=True, ensure_ascii=False)
                          .encode("utf-8")).hexdigest()[:16]


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _source_files(spec: LayerSpec) -> list[Path]:
    """The files a layer is read from (a shapefile's sidecars included)."""
    p = Path(spec.path)  # type: ignore[arg-type]
    if p.suffix.lower() == ".shp":
        return sorted(q for q in p.parent.glob(p.stem + ".*")
                      if q.suffix.lower() in (".shp", ".dbf", ".shx", ".prj", ".cpg"))
    return [p]


def _stamps(spec: LayerSpec, with_hash: bool) -> list[dict]:
    out = []
    for f in _source_files(spec):
        st = f.stat()
        d = {"path": f.name, "size": st.st_size, "mtime_ns": st.st_mtime_ns}
        if with_hash:
            d["sha256"] = file_sha256(f)
        out.append(d)
    return out


@dataclass
class StoreStatus:
    """Whether a layer's prepared store can be used: ``state`` fresh | stale | missing."""

    layer: str
    path: Path
    state: str
    reasons: list[str] = field(default_factory=list)
    meta: dict = field(default_factory=dict)

    @property
    def fresh(self) -> bool:
        return self.state == "fresh"


def _read_meta(meta_path: Path) -> dict | None:
    try:
        return json.loads(meta_path.read_text("utf-8"))
    except (OSError, ValueError):
        return None


def store_status(spec: LayerSpec, work_crs=None, subdivide_vertices: int | None = None,
                 verify_hash: bool = True) -> StoreStatus:
    """Compare a layer's store with its source file and catalog entry.

    Size and modification time are compared first; when only the time differs and
    ``verify_hash``, the content hash decides (a touched but unchanged file keeps its
    store).  ``work_crs`` and ``subdivide_vertices``, when given, must match too.
    """
    store, meta_path = store_paths(spec)
    meta = _read_meta(meta_path)
    st = StoreStatus(spec.name, store, "missing")
    if meta is None or not store.exists():
        st.reasons.append("没有预处理图层库")
        return st
    st.meta, st.state = meta, "fresh"
    if meta.get("version") != STORE_VERSION:
        st.reasons.append(f"图层库格式版本为 {meta.get('version')}，当前版本为 {STORE_VERSION}")
    if meta.get("spec") != spec_fingerprint(spec):
        st.reasons.append("生成后图层目录中该图层的条目（字段、筛选条件、坐标系 …）有改动")
    if work_crs is not None and not CRS.from_user_input(meta.get("work_crs")).equals(work_crs):
        st.reasons.append(f"生成时的工作坐标系为 {meta.get('work_crs')}，该区域现在使用 "
                          f"{CRS(work_crs).to_string()}")
    if subdivide_vertices is not None and meta.get("subdivide_vertices") != subdivide_vertices:
        st.reasons.append(f"生成时按 {meta.get('subdivide_vertices')} 个顶点切分，"
                          f"本次检查按 {subdivide_vertices} 个")
    touched = _source_changes(spec, meta.get("source") or [], verify_hash, st.reasons)
    if st.reasons:
        st.state = "stale"
    elif touched:  # modified time only, same content: record the new time
        from zoning.io.write import write_json

        write_json(meta_path, meta)
        log.info("source of layer %s touched, content unchanged: store kept", spec.name)
    return st


def _source_changes(spec: LayerSpec, built: list[dict], verify_hash: bool,
                    reasons: list[str]) -> bool:
    """Append why the source differs from the build to ``reasons``; returns whether a
    file was only touched (same content, new time: its recorded time is updated)."""
    try:
        now = _stamps(spec, with_hash=False)
    except OSError as e:
        reasons.append(f"无法读取源文件：{e}")
        return False
    old = {d["path"]: d for d in built}
    touched = False
    for d in now:
        b = old.get(d["path"])
        if b is None:
            reasons.append(f"{d['path']} 不在生成时记录的源文件中")
        elif b["size"] != d["size"]:
            reasons.append(f"{d['path']} 的大小已改变（{b['size']:,} → {d['size']:,} 字节）")
        elif b["mtime_ns"] != d["mtime_ns"]:
            if not verify_hash:
                reasons.append(f"{d['path']} 在生成之后被修改过")
            elif file_sha256(Path(str(spec.path)).parent / d["path"]) != b.get("sha256"):
                reasons.append(f"{d['path']} 的内容已改变（SHA-256 不同）")
            else:
                b["mtime_ns"] = d["mtime_ns"]
                touched = True
    return touched


# --------------------------------------------------------------------------- reading sources

def iter_source_batches(spec: LayerSpec, batch_size: int = 65536) -> Iterator[gpd.GeoDataFrame]:
    """The layer's raw features in batches of at most ``batch_size`` (bounded memory).

    GeoParquet is read by row groups through pyarrow, everything else as Arrow
    record batches through GDAL (pyogrio), honouring the catalog's ``where`` and
    encoding.
    """
    from zoning.io.vector import source_encoding

    if spec.path is None:
        raise DataError("不是文件图层", layer=spec.name)
    path = Path(spec.path)
    if not path.exists():
        raise DataError("文件不存在", path=path)
    if path.suffix.lower() in (".parquet", ".geoparquet"):
        yield from _parquet_batches(path, batch_size)
        return
    import pyogrio.raw

    enc, _how = source_encoding(path, spec.encoding)
    src = str(path)
    if path.suffix.lower() == ".zip":
        from zoning.io.vector import _resolve_zip

        src, _ = _resolve_zip(path)
    try:
        with pyogrio.raw.open_arrow(src, layer=spec.layer, where=spec.where,
                                    encoding=enc, batch_size=batch_size,
                                    use_pyarrow=True) as (meta, reader):
            crs = meta.get("crs")
            gcol = meta.get("geometry_name") or "wkb_geometry"
            for batch in reader:
                if not batch.num_rows:
                    continue
                cols = {n: batch.column(n).to_pandas() for n in batch.schema.names
                        if n != gcol}
                geoms = shapely.from_wkb(batch.column(gcol).to_numpy(zero_copy_only=False))
                yield gpd.GeoDataFrame(cols, geometry=geoms, crs=crs)
    except (pyogrio.errors.DataLayerError, pyogrio.errors.DataSourceError) as e:
        raise DataError(f"无法读取图层：{e}", path=path, layer=spec.layer) from None


def _parquet_batches(path: Path, batch_size: int) -> Iterator[gpd.GeoDataFrame]:
    from geopandas.io.arrow import _arrow_to_geopandas

    pf = pq.ParquetFile(path)
    geo = json.loads((pf.schema_arrow.metadata or {}).get(b"geo", b"{}"))
    for batch in pf.iter_batches(batch_size=batch_size):
        yield _arrow_to_geopandas(pa.Table.from_batches([batch]), geo)


# --------------------------------------------------------------------------- building

def hilbert_keys(x: np.ndarray, y: np.ndarray, extent, bits: int = 16) -> np.ndarray:
    """Positions along a Hilbert curve of points on a ``2**bits`` grid over ``extent``."""
    x0, y0, x1, y1 = extent
    n = 1 << bits
    xi = np.clip(((x - x0) / max(x1 - x0, 1e-9) * (n - 1)), 0, n - 1).astype(np.int64)
    yi = np.clip(((y - y0) / max(y1 - y0, 1e-9) * (n - 1)), 0, n - 1).astype(np.int64)
    d = np.zeros(len(xi), dtype=np.int64)
    s = n >> 1
    while s > 0:
        rx = (xi & s) > 0
        ry = (yi & s) > 0
        d += s * s * ((3 * rx) ^ ry)
        # rotate the quadrant
        flip = ~ry
        both = flip & rx
        xi = np.where(both, s - 1 - xi, xi)
        yi = np.where(both, s - 1 - yi, yi)
        xi, yi = np.where(flip, yi, xi), np.where(flip, xi, yi)
        s >>= 1
    return d


def _arrow_column(values: np.ndarray) -> pa.Array:
    try:
        return pa.array(values, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pa.array([None if v is None else str(v) for v in values], type=pa.string())


def _prepare_batch(raw: gpd.GeoDataFrame, spec: LayerSpec, work_crs, max_vertices: int,
                   fid0: int, extent) -> tuple[pa.Table, dict]:
    """One batch of raw source features → a table of stored pieces (unsorted) + counts."""
    from zoning.engine.geometry import measure, reproject_dense
    from zoning.engine.index import prepare_geometries
    from zoning.io.layers import normalise_layer

    g = np.asarray(raw.geometry.values)
    empty = shapely.is_missing(g) | shapely.is_empty(g)
    valid = shapely.is_valid(g)[~empty]
    frame = normalise_layer(raw, spec)
    geoms = np.asarray(frame.geometry.values, dtype=object)
    if not CRS(frame.crs).equals(work_crs):  # as the index does: edges straight in the source
        geoms = reproject_dense(geoms, frame.crs, work_crs)
    geoms, pieces, parent = prepare_geometries(spec.kind, geoms, max_vertices)
    n = len(frame)
    area_ell = np.zeros(n)
    area_gk = np.zeros(n)
    if n and spec.kind_info.geometry == "polygon":
        area_ell = measure(geoms, work_crs, "ellipsoidal")[0]
        area_gk = measure(geoms, work_crs, "gk")[0]
    npieces = np.bincount(parent, minlength=n)
    b = shapely.bounds(pieces) if len(pieces) else np.zeros((0, 4))
    cols: dict[str, pa.Array] = {"_fid": pa.array(parent.astype(np.int64) + fid0)}
    for c in frame.columns:
        if c != frame.geometry.name:
            cols[c] = _arrow_column(np.asarray(frame[c].values, dtype=object)[parent])
    cols.update(_npieces=pa.array(npieces[parent].astype(np.int32)),
                _area_ell=pa.array(area_ell[parent]), _area_gk=pa.array(area_gk[parent]),
                _valid=pa.array(valid[parent]),
                geometry=pa.array(shapely.to_wkb(pieces, output_dimension=2), type=pa.binary()))
    cols["bbox"] = pa.StructArray.from_arrays([pa.array(b[:, i]) for i in range(4)],
                                              names=list(_BOX))
    cols["_hkey"] = pa.array(hilbert_keys((b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2,
                                          extent))
    counts = dict(features=n, pieces=len(pieces), repaired=int(frame.attrs["repaired"]),
                  dropped_empty=int(frame.attrs["dropped_empty"]))
    return pa.table(cols), counts


def _geo_metadata(work_crs, bounds) -> bytes:
    col = {"encoding": "WKB", "geometry_types": [], "crs": CRS(work_crs).to_json_dict(),
           "covering": {"bbox": {k: ["bbox", k] for k in _BOX}}}
    if bounds is not None:
        col["bbox"] = [float(v) for v in bounds]
    return json.dumps({"version": "1.1.0", "primary_column": "geometry",
                       "columns": {"geometry": col}}).encode("utf-8")


def _layer_extent(spec: LayerSpec, work_crs, extent) -> tuple:
    """Extent (work CRS) of the Hilbert grid: given, else the source's own bounds."""
    if extent is not None:
        return tuple(float(v) for v in extent)
    import pyogrio
    from pyproj import Transformer

    check_input_file(spec.path)  # a FIFO or device would block the read
    info = pyogrio.read_info(gdal_path(spec.path), layer=spec.layer, force_total_bounds=True)
    b = info.get("total_bounds")
    src_crs = info.get("crs") or spec.crs
    if b is None or src_crs is None:
        raise DataError("无法确定图层的范围（缺少范围或坐标系）：请提供区域范围",
                        path=spec.path, layer=spec.name)
    t = Transformer.from_crs(src_crs, work_crs, always_xy=True)
    return tuple(float(v) for v in t.transform_bounds(b[0], b[1], b[2], b[3], densify_pts=21))


def build_store(spec: LayerSpec, work_crs, subdivide_vertices: int = 256, extent=None,
                batch_size: int = 65536, row_group_size: int = ROW_GROUP,
                progress: Callable[[str], None] | None = None) -> dict:
    """Build (or rebuild) a layer's prepared store; returns its sidecar metadata.

    Memory stays bounded for any layer size: the source is read ``batch_size``
    features at a time and each batch is spread over 64 Hilbert buckets (temporary
    files); the buckets are then sorted one at a time into the final file.  The
    store and sidecar replace the old ones atomically, sidecar last.
    """
    say = progress or (lambda m: None)
    work_crs = CRS.from_user_input(work_crs)
    store, meta_path = store_paths(spec)
    t0 = time.perf_counter()
    stamps = _stamps(spec, with_hash=True)
    ext = _layer_extent(spec, work_crs, extent)
    totals = dict(features=0, pieces=0, repaired=0, dropped_empty=0)
    tmpdir = Path(tempfile.mkdtemp(prefix=".store-", dir=store.parent))
    try:
        buckets: dict[int, pq.ParquetWriter] = {}
        schema = None
        for k, raw in enumerate(iter_source_batches(spec, batch_size)):
            table, counts = _prepare_batch(raw, spec, work_crs, subdivide_vertices,
                                           totals["features"], ext)
            for key, v in counts.items():
                totals[key] += v
            schema = schema or table.schema
            table = _conform(table, schema)
            bucket = pa.compute.shift_right(table["_hkey"], 32 - _BUCKET_BITS).to_numpy()
            for b in np.unique(bucket):
                part = table.filter(pa.array(bucket == b))
                if b not in buckets:
                    buckets[b] = pq.ParquetWriter(tmpdir / f"b{b:03d}.parquet", schema)
                buckets[b].write_table(part)
            say(f"{spec.name}：已读取 {totals['features']:,} 个要素（第 {k + 1} 批）")
        for w in buckets.values():
            w.close()
        bounds = _write_sorted(tmpdir, sorted(buckets), schema, work_crs, row_group_size,
                               store)
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)
    meta = dict(version=STORE_VERSION, layer=spec.name, kind=spec.kind,
                spec=spec_fingerprint(spec), source=stamps, work_crs=work_crs.to_string(),
                subdivide_vertices=subdivide_vertices, row_group_size=row_group_size,
                bounds=bounds, extent=list(ext), build_s=round(time.perf_counter() - t0, 2),
                **totals)
    from zoning.io.write import write_json

    write_json(meta_path, meta)
    say(f"{spec.name}：{totals['features']:,} 个要素，{totals['pieces']:,} 个分块 → {store}")
    return meta


def _conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    if table.schema.equals(schema):
        return table
    cols = []
    for f in schema:
        c = table[f.name]
        if not c.type.equals(f.type):
            c = c.cast(f.type) if not pa.types.is_string(f.type) else \
                pa.array([None if v is None else str(v) for v in c.to_pylist()], pa.string())
        cols.append(c)
    return pa.table(cols, schema=schema)


def _write_sorted(tmpdir: Path, buckets: list[int], schema, work_crs, row_group_size: int,
                  store: Path):
    out_schema = (schema.remove(schema.get_field_index("_hkey")) if schema is not None
                  else pa.schema([("_fid", pa.int64()), ("geometry", pa.binary())]))
    bounds = None
    tmp_store = tmpdir / "store.parquet"
    md = dict(out_schema.metadata or {})
    md[b"geo"] = _geo_metadata(work_crs, None)
    writer = pq.ParquetWriter(tmp_store, out_schema.with_metadata(md),
                              write_statistics=True, compression="lz4")
    try:
        for b in buckets:
            t = pq.read_table(tmpdir / f"b{b:03d}.parquet")
            t = t.take(pa.compute.sort_indices(t, [("_hkey", "ascending"),
                                                   ("_fid", "ascending")]))
            t = t.drop_columns(["_hkey"])
            bb = [pa.compute.min_max(t["bbox"].combine_chunks().field(k)) for k in _BOX]
            lo = (bb[0]["min"].as_py(), bb[1]["min"].as_py(), bb[2]["max"].as_py(),
                  bb[3]["max"].as_py())
            bounds = lo if bounds is None else (min(bounds[0], lo[0]), min(bounds[1], lo[1]),
                                                max(bounds[2], lo[2]), max(bounds[3], lo[3]))
            writer.write_table(t, row_group_size=row_group_size)
    finally:
        writer.close()
    os.replace(tmp_store, store)
    return list(bounds) if bounds else None


# --------------------------------------------------------------------------- serving

class _Block:
    """One row group: bounds as numpy, the rest as Arrow; geometries decoded on demand
    and kept (only the rows some chunk selected)."""

    def __init__(self, t: pa.Table, attr_cols: list[str]):
        bbox = t["bbox"].combine_chunks()
        self.box = np.column_stack([bbox.field(k).to_numpy() for k in _BOX])
        self.fid = t["_fid"].to_numpy()
        self.wkb = t["geometry"].combine_chunks()
        self.cols = {c: t[c].combine_chunks() for c in (*attr_cols, "_npieces", "_area_ell",
                                                        "_area_gk")}
        self.geoms = np.empty(len(self.fid), dtype=object)
        self.decoded = np.zeros(len(self.fid), dtype=bool)
        self.lock = threading.Lock()

    def geometries(self, rows: np.ndarray) -> np.ndarray:
        with self.lock:
            todo = rows[~self.decoded[rows]]
            if len(todo):
                self.geoms[todo] = shapely.from_wkb(
                    self.wkb.take(pa.array(todo)).to_numpy(zero_copy_only=False))
                self.decoded[todo] = True
            return self.geoms[rows]

    def values(self, col: str, rows: np.ndarray) -> np.ndarray:
        return self.cols[col].take(pa.array(rows)).to_numpy(zero_copy_only=False)


class StoreSource:
    """Serves a prepared store to the engine, reading only the row groups a chunk needs.

    Row groups read are kept in a small LRU (``cache_rows`` rows; geometries decoded
    only for rows some chunk selected), so a batch whose footprints are sorted
    spatially reads each row group about once.  ``rows_read`` and ``row_groups_read``
    count what came off the disk.  Safe to share between threads.
    """

    def __init__(self, spec: LayerSpec, path: Path, meta: dict, cache_rows: int = CACHE_ROWS):
        self.spec = spec
        self.path = Path(path)
        self.meta = meta
        self.work_crs = CRS.from_user_input(meta["work_crs"])
        self.cache_rows = cache_rows
        self.rows_read = 0
        self.row_groups_read = 0
        self._lock = threading.RLock()
        self._cache: OrderedDict[int, _Block] = OrderedDict()
        self._cached_rows = 0
        self._loading: dict[int, threading.Event] = {}  # row groups being read
        self._local = threading.local()
        self._open()

    def _open(self) -> None:
        # plain reads, not a memory map: a mapped store's pages count as the process's
        # memory (a batch over a 5 M store grew by the file's size)
        self._pf = self._local.pf = pq.ParquetFile(self.path, memory_map=False)
        md = self._pf.metadata
        names = [md.schema.column(i).path for i in range(md.num_columns)]
        idx = [names.index(f"bbox.{k}") for k in _BOX]
        rg = np.zeros((md.num_row_groups, 4))
        for g in range(md.num_row_groups):
            r = md.row_group(g)
            st = [r.column(i).statistics for i in idx]
            rg[g] = (st[0].min, st[1].min, st[2].max, st[3].max)
        self.rg_bounds = rg
        self._rg_tree = shapely.STRtree(shapely.box(rg[:, 0], rg[:, 1], rg[:, 2], rg[:, 3]))
        from zoning.engine.index import _ATTR_FIELDS

        # only the columns the engine reads (its attribute fields), not every stored one
        used = {"_id", *_ATTR_FIELDS.get(self.spec.kind, ())}
        self.attr_cols = [n for n in self._pf.schema_arrow.names
                          if n not in _INTERNAL and n in used]
        self._read_cols = ["_fid", *self.attr_cols, "_npieces", "_area_ell", "_area_gk",
                           "geometry", "bbox"]

    def __getstate__(self):  # travels to dask workers as a path; reopened there
        d = dict(self.__dict__)
        for k in ("_pf", "_rg_tree", "_lock", "_cache", "_loading", "_local"):
            d.pop(k, None)
        return d

    def __setstate__(self, d):
        self.__dict__.update(d)
        self._lock = threading.RLock()
        self._cache = OrderedDict()
        self._cached_rows = 0
        self._loading = {}
        self._local = threading.local()
        self._open()

    def close(self) -> None:
        """Drop the row groups kept in memory."""
        with self._lock:
            self._cache.clear()
            self._cached_rows = 0

    # -- row groups
    def _reader(self) -> pq.ParquetFile:
        """This thread's reader of the store (a reader is not shared between threads)."""
        pf = getattr(self._local, "pf", None)
        if pf is None:
            pf = self._local.pf = pq.ParquetFile(self.path, memory_map=False)
        return pf

    def _block(self, g: int) -> _Block:
        """Row group ``g``, from the cache or read.  Reads run outside the lock, so one
        thread's read never holds up another's cached lookups or reads of other groups;
        a group another thread is reading is waited for, not read twice."""
        while True:
            with self._lock:
                blk = self._cache.get(g)
                if blk is not None:
                    self._cache.move_to_end(g)
                    return blk
                busy = self._loading.get(g)
                if busy is None:
                    busy = self._loading[g] = threading.Event()
                    break
            busy.wait()  # read by another thread: then taken from the cache (or read again
            # if already evicted)
        try:
            blk = _Block(self._reader().read_row_group(g, columns=self._read_cols,
                                                       use_threads=False), self.attr_cols)
            with self._lock:
                self.rows_read += len(blk.fid)
                self.row_groups_read += 1
                self._cache[g] = blk
                self._cached_rows += len(blk.fid)
                while self._cached_rows > self.cache_rows and len(self._cache) > 1:
                    _, old = self._cache.popitem(last=False)
                    self._cached_rows -= len(old.fid)
        finally:
            with self._lock:
                del self._loading[g]
            busy.set()
        return blk

    def _select(self, windows: np.ndarray, sel: dict) -> np.ndarray:
        """Mark the rows whose bbox meets a window in ``sel`` (group → row mask); returns
        which windows met a row."""
        met = np.zeros(len(windows), dtype=bool)
        if not len(windows) or not len(self.rg_bounds):
            return met
        wi, gi = self._rg_tree.query(shapely.box(windows[:, 0], windows[:, 1],
                                                 windows[:, 2], windows[:, 3]))
        order = np.argsort(gi, kind="stable")
        wi, gi = wi[order], gi[order]
        for g, start, stop in _runs(gi):
            blk = self._block(int(g))
            ws_i = wi[start:stop]
            b, w = blk.box, windows[ws_i]
            # a cheap prefilter on the windows' union, then rows × windows
            cand = np.flatnonzero((b[:, 0] <= w[:, 2].max()) & (b[:, 2] >= w[:, 0].min()) &
                                  (b[:, 1] <= w[:, 3].max()) & (b[:, 3] >= w[:, 1].min()))
            if not len(cand):
                continue
            bc, wc = b[cand][:, None, :], w[None, :, :]
            m = ((bc[..., 0] <= wc[..., 2]) & (bc[..., 2] >= wc[..., 0]) &
                 (bc[..., 1] <= wc[..., 3]) & (bc[..., 3] >= wc[..., 1]))
            rows = m.any(axis=1)
            if not rows.any():
                continue
            met[ws_i[m.any(axis=0)]] = True
            mask = sel.get(int(g))
            if mask is None:
                mask = sel[int(g)] = np.zeros(len(blk.fid), dtype=bool)
            mask[cand[rows]] = True
        return met

    def fetch_pieces(self, footprints_work, radius_m: float):
        """Pieces within ``radius_m`` of the footprints (touching included) and every piece
        that could be nearest to a footprint (see
        :class:`~zoning.engine.index.PieceSource`).

        The distance from a footprint to the nearest piece found within its window bounds
        its nearest distance: every piece nearer lies in the window widened by it.  For a
        footprint with no row in its window, the rows of the nearest row group give the
        bound (see :meth:`_far_bound`).
        """
        from zoning.engine.index import LayerPieces

        fps = np.asarray(footprints_work, dtype=object)
        fb = shapely.bounds(fps)
        r = float(radius_m) + 1e-3
        sel: dict = {}
        met = self._select(fb + np.array([-r, -r, r, r]), sel)
        bound = np.full(len(fps), np.inf)
        near = np.flatnonzero(met)
        if len(near):
            tree = shapely.STRtree(self._candidates(sel))
            # a footprint meeting a candidate is at distance 0 (a cheaper test than the
            # nearest search, which the others need)
            meets = np.zeros(len(near), dtype=bool)
            meets[tree.query(fps[near], predicate="intersects")[0]] = True
            bound[near[meets]] = 0.0
            rest = near[~meets]
            if len(rest):
                (a, _b), d = tree.query_nearest(fps[rest], return_distance=True,
                                                all_matches=False)
                bound[rest[a]] = d
        lonely = np.flatnonzero(~met)
        if len(lonely):
            bound[lonely] = self._far_bound(fb[lonely])
        wide = np.flatnonzero(np.isfinite(bound) & (bound > r))
        if len(wide):
            dd = bound[wide, None] + 1e-3
            self._select(fb[wide] + np.hstack([-dd, -dd, dd, dd]), sel)
        return self._assemble(sel, LayerPieces)

    def load_all(self):
        """Every piece of the store (for a layer small enough to keep in memory)."""
        from zoning.engine.index import LayerPieces

        n = self._pf.metadata.num_row_groups
        sel = {g: np.ones(self._pf.metadata.row_group(g).num_rows, dtype=bool)
               for g in range(n)}
        return self._assemble(sel, LayerPieces)

    def _candidates(self, sel: dict) -> np.ndarray:
        return np.concatenate([self._block(g).geometries(np.flatnonzero(m))
                               for g, m in sel.items()])

    def _far_bound(self, fb: np.ndarray) -> np.ndarray:
        """Nearest-distance bounds for footprints with nothing near, from the nearest row
        group's rows: the farthest pair of points of a footprint's box and a row's box
        bounds the distance to that row's piece (no geometry is read)."""
        out = np.full(len(fb), np.inf)
        if not len(self.rg_bounds):
            return out
        boxes = shapely.box(fb[:, 0], fb[:, 1], fb[:, 2], fb[:, 3])
        fi, gi = self._rg_tree.query_nearest(boxes, all_matches=True)
        order = np.argsort(gi, kind="stable")
        fi, gi = fi[order], gi[order]
        for g, start, stop in _runs(gi):
            b = self._block(int(g)).box[:, None, :]
            f = fb[fi[start:stop]][None, :, :]
            far = np.hypot(np.maximum(b[..., 2], f[..., 2]) - np.minimum(b[..., 0], f[..., 0]),
                           np.maximum(b[..., 3], f[..., 3]) - np.minimum(b[..., 1], f[..., 1]))
            np.minimum.at(out, fi[start:stop], far.min(axis=0))
        return out

    def _assemble(self, sel: dict, cls):
        from zoning.engine.index import ArrayFrame

        if not sel:
            e = np.zeros(0)
            frame = ArrayFrame({c: np.array([], dtype=object) for c in self.attr_cols},
                               np.array([], dtype=object), self.work_crs)
            return cls(frame=frame, pieces=np.array([], dtype=object),
                       parent=np.zeros(0, dtype=np.int64), npieces=np.zeros(0, np.int64),
                       areas={"ellipsoidal": e, "gk": e.copy()})
        parts = [(self._block(g), np.flatnonzero(m)) for g, m in sorted(sel.items())]
        fid = np.concatenate([b.fid[r] for b, r in parts])
        order = np.argsort(fid, kind="stable")
        fid = fid[order]
        geoms = np.concatenate([b.geometries(r) for b, r in parts])[order]
        feats, first, parent = np.unique(fid, return_index=True, return_inverse=True)
        # feature-level values from each feature's first row only
        cols = {}
        for c in (*self.attr_cols, "_npieces", "_area_ell", "_area_gk"):
            cols[c] = np.concatenate([b.values(c, r) for b, r in parts])[order][first]
        fgeom = geoms[first].copy()
        ends = np.r_[first[1:], len(fid)]
        for f in np.flatnonzero(ends - first > 1):  # a subdivided feature: its pieces together
            fgeom[f] = shapely.union_all(geoms[first[f]:ends[f]])
        frame = ArrayFrame({c: cols[c] for c in self.attr_cols}, fgeom, self.work_crs)
        return cls(frame=frame, pieces=geoms, parent=parent.astype(np.int64),
                   npieces=cols["_npieces"].astype(np.int64),
                   areas={"ellipsoidal": cols["_area_ell"].astype(float),
                          "gk": cols["_area_gk"].astype(float)})


def _runs(sorted_keys: np.ndarray):
    """(key, start, stop) of each run of equal values in a sorted array."""
    if not len(sorted_keys):
        return
    cut = np.flatnonzero(sorted_keys[1:] != sorted_keys[:-1]) + 1
    starts = np.r_[0, cut]
    stops = np.r_[cut, len(sorted_keys)]
    for s, e in zip(starts, stops):
        yield sorted_keys[s], int(s), int(e)


def open_store(spec: LayerSpec, work_crs=None, subdivide_vertices: int | None = None,
               cache_rows: int = CACHE_ROWS) -> StoreSource | None:
    """A :class:`StoreSource` for a layer whose store is fresh, else None (logged).

    Only size and modification time are compared here (cheap, at every index
    build); ``zoning layers validate`` also compares content hashes.
    """
    if spec.path is None:
        return None
    st = store_status(spec, work_crs, subdivide_vertices, verify_hash=False)
    if st.state == "missing":
        return None
    if not st.fresh:
        log.warning("prepared store of layer %s is stale (%s): reading the source instead; "
                    "rebuild the store to use it", spec.name, "; ".join(st.reasons))
        return None
    return StoreSource(spec, st.path, st.meta, cache_rows=cache_rows)
