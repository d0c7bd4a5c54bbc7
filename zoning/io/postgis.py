"""PostGIS as a layer store (I/O).

* :func:`import_catalog` loads a catalog's file layers into PostGIS — in
  CGCS2000 (the source's own CGCS2000 CRS is kept, anything else goes to
  EPSG:4490), with a GiST index, an ``ST_Subdivide``d helper table for layers
  with huge polygons, all in one transaction: a failed import leaves no table
  behind.  It returns a catalog whose layers point at the tables.
* :class:`PostgisSource` serves a layer to the check: for each chunk of
  footprints it asks the database only for the features near them
  (``ST_DWithin`` on the GiST index; a KNN ``<->`` query for footprints with
  nothing near), and the engine then computes areas exactly as for file layers.

A catalog layer entry::

    farmland:
      kind: farmland
      postgis: {dsn: "env:ZONING_PG_DSN", table: zoning.guiyang_farmland, geometry: geom}
      crs: EPSG:4524
      id_field: YJJBNTTBBH
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import math
import os
import re
import threading
import time
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from zoning.errors import CatalogError, DataError

__all__ = ["connect", "resolve_dsn", "import_catalog", "PostgisSource", "read_table",
           "check_identifier", "table_stamp"]

log = logging.getLogger(__name__)

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$")
SUBDIVIDE_VERTICES = 256


def resolve_dsn(dsn: str) -> str:
    """``env:NAME`` reads the connection string from an environment variable."""
    if dsn.startswith("env:"):
        name = dsn[4:]
        if not os.environ.get(name):
            raise CatalogError(f"PostGIS 连接字符串应取自环境变量 ${name}，但该变量"
                               "没有设置")
        return os.environ[name]
    return dsn


_CONNECT_DEFAULTS: dict[str, Any] = dict(connect_timeout=10, keepalives=1, keepalives_idle=10,
                                         keepalives_interval=5, keepalives_count=3,
                                         tcp_user_timeout=30_000)


def connect(dsn: str, autocommit: bool = False, limits: dict | None = None):
    """A connection to ``dsn``; ``autocommit`` for one kept open between reads (each
    SELECT then ends its own transaction: no lock is held while it waits, and servers
    that end sessions idle in a transaction leave it alone).  ``limits``: libpq timeouts
    and keepalives in place of the defaults; the DSN's own settings always win."""
    from zoning.errors import require

    psycopg = require("psycopg", "postgis", "PostGIS 图层")
    from psycopg.conninfo import conninfo_to_dict

    try:
        # the DSN's own settings first; by default a lost peer is noticed in seconds (a
        # silently dropped connection would otherwise hold its callers indefinitely)
        params = {**_CONNECT_DEFAULTS, **(limits or {}), **conninfo_to_dict(resolve_dsn(dsn))}
        return psycopg.connect(autocommit=autocommit, **params)
    except psycopg.Error as e:
        raise DataError(f"无法连接 PostGIS：{str(e).strip()}") from None


def check_identifier(name, what: str = "表名", qualified: bool = True) -> str:
    """A PostGIS identifier checked: ``[schema.]name`` of ASCII letters, digits and ``_``,
    at most 63 characters a part; anything else is a :class:`CatalogError` with a clear
    message (never SQL)."""
    text = str(name)
    shown = text if len(text) <= 60 else text[:60] + "…"
    ok = _IDENT.match(text) if qualified else re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", text)
    if not ok or any(len(p) > 63 for p in text.split(".")):
        form = "[schema.]name 形式" if qualified else "单个名称"
        raise CatalogError(f"{what} {shown!r} 应为由 ASCII 字母、数字和 _ 组成的{form}"
                           "（每部分最多 63 个字符）")
    return text


def _qi(name: str) -> str:
    """Quote a (schema-qualified) identifier."""
    check_identifier(name)
    return ".".join(f'"{p}"' for p in name.split("."))


def _qc(col: str) -> str:
    return '"' + col.replace('"', '""') + '"'


def _storage_crs(crs) -> CRS:
    c = CRS.from_user_input(crs)
    epsg = c.to_epsg() or 0
    return c if epsg == 4490 or 4491 <= epsg <= 4554 else CRS.from_epsg(4490)


def _pg_type(s: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(s):
        return "boolean"
    if pd.api.types.is_integer_dtype(s):
        return "bigint"
    if pd.api.types.is_float_dtype(s):
        return "double precision"
    return "text"


#: columns the import creates itself; source columns of these names are renamed
_RESERVED = {"fid": "src_fid", "geom": "src_geom"}


def _rename_reserved(gdf: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, dict[str, str]]:
    """Source columns named fid/geom renamed (src_fid/src_geom), and the renames made."""
    renames: dict[str, str] = {}
    for c in gdf.columns:
        if c != gdf.geometry.name and str(c).lower() in _RESERVED:
            new = _RESERVED[str(c).lower()]
            while new in gdf.columns or new in renames.values():
                new += "_"
            renames[str(c)] = new
    return (gdf.rename(columns=renames) if renames else gdf), renames


def _remap_entry(entry: dict, renames: dict[str, str]) -> None:
    """Point a catalog entry's id field and field aliases at renamed columns."""
    if not renames:
        return
    if entry.get("id_field") in renames:
        entry["id_field"] = renames[entry["id_field"]]
    for k, v in (entry.get("fields") or {}).items():
        entry["fields"][k] = [renames.get(a, a) for a in v]


def _import_frame(cur, gdf: gpd.GeoDataFrame, table: str, srid: int) -> dict:
    cols = [c for c in gdf.columns if c != gdf.geometry.name]
    tmp = f"{table}__importing"
    cur.execute(f"DROP TABLE IF EXISTS {_qi(tmp)}")
    defs = ", ".join(f"{_qc(c)} {_pg_type(gdf[c])}" for c in cols)
    cur.execute(f"CREATE TABLE {_qi(tmp)} (fid bigserial PRIMARY KEY{', ' if defs else ''}{defs}, "
                f"geom geometry(Geometry, {srid}) NOT NULL)")
    geoms = np.asarray(gdf.geometry.values)
    bad = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if bad.any():
        raise DataError(f"{int(bad.sum())} 个要素的几何为空", layer=table)
    wkb = shapely.to_wkb(shapely.set_srid(geoms, srid), hex=True, include_srid=True)
    collist = ", ".join([_qc(c) for c in cols] + ["geom"])
    values = gdf[cols].astype(object).where(gdf[cols].notna(), None).values.tolist()
    with cur.copy(f"COPY {_qi(tmp)} ({collist}) FROM STDIN") as cp:
        for row, g in zip(values, wkb):
            cp.write_row([*row, g])
    cur.execute(f"CREATE INDEX ON {_qi(tmp)} USING gist (geom)")
    info = {"features": len(gdf), "subdivided": False}
    nmax = int(shapely.get_num_coordinates(geoms).max()) if len(geoms) else 0
    cur.execute(f"DROP TABLE IF EXISTS {_qi(table + '__sub')}")
    if nmax > SUBDIVIDE_VERTICES and (shapely.get_dimensions(geoms) == 2).any():
        cur.execute(f"CREATE TABLE {_qi(table + '__sub')} AS SELECT fid, "
                    f"ST_Subdivide(geom, {SUBDIVIDE_VERTICES}) AS geom FROM {_qi(tmp)}")
        cur.execute(f"CREATE INDEX ON {_qi(table + '__sub')} USING gist (geom)")
        info["subdivided"] = True
    cur.execute(f"DROP TABLE IF EXISTS {_qi(table)}")
    cur.execute(f"ALTER TABLE {_qi(tmp)} RENAME TO {_qc(table.split('.')[-1])}")
    cur.execute(f"ANALYZE {_qi(table)}")
    return info


def import_catalog(catalog, dsn: str, schema: str = "zoning", catalog_dsn: str | None = None,
                   log=None) -> tuple[str, dict]:
    """Import every vector layer of ``catalog`` into PostGIS in one transaction.

    Returns the YAML text of a catalog pointing at the tables (``catalog_dsn``,
    e.g. ``env:ZONING_PG_DSN``, is written into it instead of ``dsn``), and a
    dict of per-table information.
    """
    import yaml

    from zoning.io.layers import read_layer_file

    say = log or (lambda *a: None)
    check_identifier(schema, "模式名（schema）", qualified=False)
    for spec in catalog.layers.values():  # every table name checked before any work
        if not (spec.is_raster or spec.postgis):
            check_identifier(f"{schema}.{catalog.region_id}_{spec.name}".lower(),
                             f"图层 {spec.name!r} 的表名（区域 id + 图层名）")
    out_layers, info = {}, {}
    conn = connect(dsn)
    try:
        _ensure_schema(conn, schema)
        with conn.transaction():
            cur = conn.cursor()
            for spec in catalog.layers.values():
                entry = _spec_entry(spec)
                if spec.is_raster or spec.postgis:
                    out_layers[spec.name] = entry
                    continue
                say(f"正在导入 {spec.name}")
                gdf = read_layer_file(spec)
                if gdf.crs is None:
                    if not spec.crs:
                        raise DataError("文件没有坐标系，图层目录中也没有用 crs: 声明", path=spec.path)
                    gdf = gdf.set_crs(spec.crs)
                store = _storage_crs(gdf.crs)
                if not CRS(gdf.crs).equals(store):
                    gdf = gdf.to_crs(store)
                table = f"{schema}.{catalog.region_id}_{spec.name}".lower()
                gdf, renames = _rename_reserved(gdf)
                info[table] = _import_frame(cur, gdf, table, int(store.to_epsg() or 4490))
                info[table]["renamed"] = renames
                _remap_entry(entry, renames)
                entry.pop("path", None)
                entry.pop("layer", None)
                entry.pop("where", None)
                entry.pop("encoding", None)
                entry["postgis"] = {"dsn": catalog_dsn or dsn, "table": table,
                                    "geometry": "geom"}
                entry["crs"] = f"EPSG:{store.to_epsg()}"
                out_layers[spec.name] = entry
    finally:
        conn.close()
    doc = {"catalog_version": 1, "region": catalog.region, "layers": out_layers}
    if catalog.rules:
        doc["rules"] = str(catalog.rules)
    if catalog.access_rules:
        doc["access_rules"] = str(catalog.access_rules)
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), info


def _ensure_schema(conn, schema: str, attempts: int = 5) -> None:
    """CREATE EXTENSION/SCHEMA IF NOT EXISTS, each in its own transaction, retried when a
    concurrent import creates the same object at the same moment (a unique violation)."""
    import time

    import psycopg

    for stmt in ("CREATE EXTENSION IF NOT EXISTS postgis",
                 f'CREATE SCHEMA IF NOT EXISTS "{schema}"'):
        for k in range(attempts):
            try:
                with conn.transaction():
                    conn.execute(stmt)
                break
            except (psycopg.errors.UniqueViolation, psycopg.errors.DuplicateObject,
                    psycopg.errors.DuplicateSchema):
                if k == attempts - 1:
                    raise
                time.sleep(0.05 * (k + 1))


def _spec_entry(spec) -> dict:
    d = {"kind": spec.kind, "title": spec.title}
    if spec.path is not None:
        d["path"] = str(spec.path)
    if spec.postgis:
        d["postgis"] = dict(spec.postgis)
    for k in ("layer", "where", "crs", "id_field", "encoding", "version", "source"):
        v = getattr(spec, k)
        if v:
            d[k] = v
    if spec.fields:
        d["fields"] = {k: list(v) for k, v in spec.fields.items()}
    if spec.values:
        d["values"] = spec.values
    if spec.classes:
        d["classes"] = spec.classes
    if spec.rules is not None:  # a constraint layer's own rules: the file, or inline
        d["rules"] = spec.rules if isinstance(spec.rules, dict) else str(spec.rules)
    if spec.statistics_only:
        d["statistics_only"] = True
    return d


def _columns(cur, table: str) -> list[str]:
    schema, name = _split(table)
    cur.execute("SELECT column_name FROM information_schema.columns WHERE table_schema=%s AND "
                "table_name=%s ORDER BY ordinal_position", (schema, name))
    cols = [r[0] for r in cur.fetchall()]
    if not cols:
        raise DataError(f"数据表 {table} 不存在")
    return cols


def _frame(rows, cols, srid) -> gpd.GeoDataFrame:
    if not rows:
        return gpd.GeoDataFrame({c: [] for c in cols}, geometry=[], crs=f"EPSG:{srid}")
    data = list(zip(*rows))
    geoms = shapely.from_wkb([bytes(b) for b in data[-1]])
    return gpd.GeoDataFrame({c: list(v) for c, v in zip(cols, data[:-1])}, geometry=geoms,
                            crs=f"EPSG:{srid}")


def read_table(spec) -> gpd.GeoDataFrame:
    """Read a whole PostGIS layer (for small layers: districts, shorelines)."""
    pg = spec.postgis
    conn = connect(pg["dsn"])
    try:
        with _db_errors(pg["table"]):
            cur = conn.cursor()
            geom = pg.get("geometry", "geom")
            cols = [c for c in _columns(cur, pg["table"]) if c not in (geom, "fid")]
            srid = _srid(cur, pg["table"], geom)
            sel = ", ".join([_qc(c) for c in cols] + [f"ST_AsBinary({_qc(geom)})"])
            cur.execute(f"SELECT {sel} FROM {_qi(pg['table'])} ORDER BY fid")
            return _frame(cur.fetchall(), cols, srid)
    finally:
        conn.close()


#: a table's stamp is asked of the database at most this often (seconds)
STAMP_SECONDS = 1.0
#: after a failed ask: how long the last answer stands before the database is asked again
STAMP_BACKOFF_SECONDS = 30.0


class _Stamp:
    """One table's stamp: the last one read (or, while failing, the answer that stands),
    when it was asked, and a lock so that one caller asks while the others go on."""

    def __init__(self):
        self.value: tuple | None = None  # the last stamp read
        self.failing: tuple | None = None  # while asks fail: the answer that stands
        self.at = -math.inf  # when it was last asked
        self.lock = threading.Lock()

    def current(self) -> tuple | None:
        """The answer that still stands, or None: time to ask."""
        age = time.monotonic() - self.at
        if self.failing is not None:
            return self.failing if age < STAMP_BACKOFF_SECONDS else None
        return self.value if self.value is not None and age < STAMP_SECONDS else None


_stamps: dict[tuple, _Stamp] = {}
_stamp_conns: dict[str, Any] = {}  # resolved dsn -> connection
_stamps_lock = threading.Lock()  # guards the two dicts only: no I/O under it
_unreadable = itertools.count()


def _reset_after_fork() -> None:  # a child never uses its parent's sockets or held locks
    global _stamps_lock
    _stamps.clear()
    _stamp_conns.clear()
    _stamps_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_after_fork)


def table_stamp(pg: dict, rows: bool) -> tuple:
    """What changes when a layer table is re-imported or edited, for cache keys.

    The table's oid (a re-import makes a new table) and, with ``rows`` (for the small
    tables an index reads whole: districts, shorelines), a digest of its row versions
    (``xmin``, ``ctid``: any insert, update or delete changes it; a view's rows by their
    content).  Asked at most every :data:`STAMP_SECONDS` per table, by one caller at a
    time: the others meanwhile get the last answer.  A failed ask is tried once more on a
    new connection; if that fails too, the last stamp stands (a warm index keeps its
    verdicts while the database is away) for :data:`STAMP_BACKOFF_SECONDS`, and a table
    never read gets a stamp equal to no other, so the index is built and reports the
    failure.
    """
    try:
        dsn = resolve_dsn(pg["dsn"])
    except CatalogError:
        return ("unreadable", next(_unreadable))
    key = (dsn, pg["table"], rows)
    with _stamps_lock:
        st = _stamps.setdefault(key, _Stamp())
    answer = st.current()
    if answer is not None:
        return answer
    last = st.failing or st.value
    if last is None:
        st.lock.acquire()  # never answered: wait for the caller asking, if any
    elif not st.lock.acquire(blocking=False):
        return last  # another caller is asking: its answer comes next time
    try:
        answer = st.current()
        if answer is not None:
            return answer  # answered while this caller waited
        value = None
        for attempt in (0, 1):
            try:
                value = _ask_stamp(dsn, pg["table"], rows, fresh=attempt > 0)
                break
            except Exception as e:  # noqa: BLE001 - any failure: retried, then reported
                log.debug("stamp of %s failed: %s", pg["table"], e)
        st.at = time.monotonic()
        if value is not None:
            st.value, st.failing = value, None
            return value
        if st.value is not None and st.failing is None:
            log.warning("PostGIS 图层 %s 暂时无法访问：继续使用已加载的数据", pg["table"])
        st.failing = st.value or ("unreadable", next(_unreadable))
        return st.failing
    finally:
        st.lock.release()


def _ask_stamp(dsn: str, table: str, rows: bool, fresh: bool) -> tuple:
    with _stamps_lock:
        conn = _stamp_conns.pop(dsn, None)
    if conn is not None and (fresh or conn.closed):
        conn.close()
        conn = None
    new = conn is None
    if new:
        # a check waits for this one: it gives up sooner than a layer read would
        conn = connect(dsn, autocommit=True, limits=dict(connect_timeout=3,
                                                         tcp_user_timeout=5_000))
    try:
        if new:  # a session setting: once per connection, not at every ask
            conn.execute("SET statement_timeout = '5s'")
        cur = conn.cursor()
        cur.execute("SELECT c.oid, c.relkind FROM pg_class c WHERE c.oid = to_regclass(%s)",
                    (_qi(table),))
        row = cur.fetchone()
        oid, kind = (None, None) if row is None else row
        digest = None
        if rows and oid is not None:
            # a table's row versions; a view (no xmin, ctid) by its rows' content
            what = "xmin::text || ctid::text" if kind in ("r", "p") else "md5(t::text)"
            cur.execute(f"SELECT count(*), md5(string_agg({what}, ',' ORDER BY {what})) "
                        f"FROM {_qi(table)} t")
            digest = tuple(cur.fetchone())
    except BaseException:
        conn.close()
        raise
    with _stamps_lock:
        old = _stamp_conns.pop(dsn, None)
        _stamp_conns[dsn] = conn
    if old is not None:
        old.close()
    return (oid, digest)


@contextlib.contextmanager
def _db_errors(table: str):
    """A database error about a layer table, as a clear :class:`DataError` (no traceback)."""
    import psycopg

    try:
        yield
    except psycopg.Error as e:
        first = (str(e).strip().splitlines() or [type(e).__name__])[0][:200]
        raise DataError(f"PostGIS 数据表无法作为图层读取：{first}",
                        layer=table) from None


def _split(table):
    check_identifier(table)
    return table.split(".") if "." in table else ("public", table)


def _srid(cur, table: str, geom: str) -> int:
    cur.execute("SELECT Find_SRID(%s, %s, %s)", (*_split(table), geom))
    return cur.fetchone()[0]


#: reads of one chunk tried while their connection keeps being lost
_FETCH_ATTEMPTS = 3


def _close_between_queries(conn) -> None:
    """Close a connection other threads may be using, between their statements: closing it
    under a running statement frees what that statement still uses (the process crashed).
    A thread's next statement on it then fails cleanly, and it takes a new connection."""
    lock = getattr(conn, "lock", None)  # psycopg holds it for each statement
    if lock is None:
        conn.close()
        return
    with lock:
        conn.close()


class PostgisSource:
    """Fetches the features of one PostGIS layer near a chunk of footprints."""

    def __init__(self, spec):
        self.spec = spec
        pg = spec.postgis
        self.table = pg["table"]
        self.geom = pg.get("geometry", "geom")
        # kept open for the index's life: autocommit, or its first SELECT would hold a
        # lock on the table (a re-import or DROP would wait) until the index is evicted
        self._conn_lock = threading.Lock()
        self.conn = connect(pg["dsn"], autocommit=True)
        try:
            with _db_errors(self.table):
                cur = self.conn.cursor()
                self.cols = [c for c in _columns(cur, self.table) if c not in (self.geom,)]
                self.srid = int(_srid(cur, self.table, self.geom))
                cur.execute("SELECT to_regclass(%s)", (self.table + "__sub",))
                self.sub = cur.fetchone()[0] is not None
        except DataError:
            self.conn.close()
            raise
        self.geographic = CRS.from_epsg(self.srid).is_geographic
        self.queries = 0

    def close(self) -> None:
        """Close the connection (an evicted index closes its sources; a batch still using
        the source opens a new one)."""
        with self._conn_lock:
            conn, self.conn = self.conn, None
        if conn is not None:
            _close_between_queries(conn)

    def _connection(self, lost=None):
        """The source's connection, a new one if it is closed or broken or is ``lost`` (the
        one a failed query used): every thread of a batch shares it."""
        from zoning.errors import DatabaseError

        with self._conn_lock:
            conn = self.conn
            if conn is not None and (conn is lost or conn.closed or conn.broken):
                self.conn = None
                _close_between_queries(conn)
                conn = None
            if conn is None:
                try:
                    conn = self.conn = connect(self.spec.postgis["dsn"], autocommit=True)
                except DataError as e:
                    raise DatabaseError(f"PostGIS 图层 {self.table}：{e}") from None
            return conn

    def __getstate__(self):  # connections and locks do not travel to dask workers
        d = dict(self.__dict__)
        d["conn"] = None
        d.pop("_conn_lock", None)
        return d

    def __setstate__(self, d):
        self.__dict__.update(d)
        self._conn_lock = threading.Lock()
        self.conn = connect(self.spec.postgis["dsn"], autocommit=True)

    def _dist(self, metres: float, lat: float) -> float:
        if not self.geographic:
            return metres
        # degrees that cover `metres` in every direction at this latitude
        return metres / (111_320.0 * max(np.cos(np.radians(min(abs(lat) + 1, 89))), 0.05))

    def fetch(self, footprints_geo, search_m: float) -> gpd.GeoDataFrame:
        """See :meth:`_fetch`; a database failure is a :class:`DatabaseError` (the run stops
        with the message: it is no footprint's fault)."""
        import psycopg

        from zoning.errors import DatabaseError

        conn = self._connection()
        for attempt in range(_FETCH_ATTEMPTS):
            try:
                return self._fetch(conn, footprints_geo, search_m)
            except psycopg.Error as e:
                if not (conn.closed or conn.broken) or attempt == _FETCH_ATTEMPTS - 1:
                    # the query failed, not the connection (or it keeps being lost)
                    first = (str(e).strip().splitlines() or [type(e).__name__])[0][:200]
                    raise DatabaseError(f"PostGIS 图层 {self.table}：{first}") from None
            # the connection was lost (closed by an eviction, dropped by the server): the
            # same read again on a new one
            conn = self._connection(lost=conn)
        raise DatabaseError(f"PostGIS 图层 {self.table}")  # pragma: no cover - not reached

    def _fetch(self, conn, footprints_geo, search_m: float) -> gpd.GeoDataFrame:
        """Features within ``search_m`` of any footprint (0: intersecting or touching), plus
        the nearest three (KNN) of each footprint with none that near, in the table's CRS,
        as a normalised frame (see :func:`zoning.io.layers.normalise_layer`).

        The nearest feature of every footprint is therefore among those returned, so
        distances match a check against the whole layer."""
        wkb = [shapely.to_wkb(g) for g in footprints_geo]
        lat = float(np.max(shapely.bounds(np.asarray(footprints_geo))[:, 3]))
        d = self._dist(search_m, lat)
        cur = conn.cursor()
        fp = ("WITH fp AS (SELECT ord, ST_Transform(ST_SetSRID(ST_GeomFromWKB(w), 4490), "
              f"{self.srid}) AS g FROM unnest(%s::bytea[]) WITH ORDINALITY AS u(w, ord)) ")
        src = _qi(self.table + "__sub") if self.sub else _qi(self.table)
        cur.execute(fp + f"SELECT fp.ord, s.fid FROM fp JOIN {src} s ON "
                    f"ST_DWithin(s.{_qc(self.geom)}, fp.g, %s)", (wkb, d))
        pairs = cur.fetchall()
        self.queries += 1
        fids = {f for _, f in pairs}
        near = {o for o, _ in pairs}
        lonely = [i + 1 for i in range(len(wkb)) if i + 1 not in near]
        if lonely:
            cur.execute(fp + f"SELECT n.fid FROM fp CROSS JOIN LATERAL (SELECT t.fid FROM "
                        f"{_qi(self.table)} t ORDER BY t.{_qc(self.geom)} <-> fp.g LIMIT 3) n "
                        "WHERE fp.ord = ANY(%s)", (wkb, lonely))
            fids.update(r[0] for r in cur.fetchall())
            self.queries += 1
        from zoning.io.layers import normalise_layer

        if not fids:
            return normalise_layer(_frame([], self.cols, self.srid), self.spec)
        sel = ", ".join([_qc(c) for c in self.cols] + [f"ST_AsBinary({_qc(self.geom)})"])
        cur.execute(f"SELECT {sel} FROM {_qi(self.table)} WHERE fid = ANY(%s) ORDER BY fid",
                    (sorted(fids),))
        self.queries += 1
        return normalise_layer(_frame(cur.fetchall(), self.cols, self.srid), self.spec)


def check_layer_table(spec) -> dict:
    """What `zoning layers validate` reports about a PostGIS layer."""
    pg = spec.postgis
    conn = connect(pg["dsn"])
    try:
        with _db_errors(pg["table"]):
            cur = conn.cursor()
            geom = pg.get("geometry", "geom")
            cols = _columns(cur, pg["table"])
            srid = _srid(cur, pg["table"], geom)
            cur.execute(f"SELECT count(*), count(*) FILTER (WHERE NOT ST_IsValid({_qc(geom)})), "
                        f"count(*) FILTER (WHERE ST_IsEmpty({_qc(geom)})) FROM {_qi(pg['table'])}")
            n, invalid, empty = cur.fetchone()
            cur.execute("SELECT count(*) FROM pg_indexes WHERE schemaname=%s AND tablename=%s AND "
                        "indexdef ILIKE '%%gist%%'", _split(pg["table"]))
            gist = cur.fetchone()[0] > 0
            return {"columns": cols, "srid": srid, "features": n, "invalid": invalid,
                    "empty": empty, "gist": gist}
    finally:
        conn.close()


def write_text(path, text: str):
    from zoning.io.write import atomic_path

    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
