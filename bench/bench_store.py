"""Benchmark: prepared layer stores — cold checks flat in layer size, batch against DuckDB
spatial and PostGIS, batch scaling, dask workers, warm checks.

Run by hand (not part of the tests); data are generated once and reused:

    .venv/bin/python bench/bench_store.py prepare          # data, catalogs, stores, PostGIS
    .venv/bin/python bench/bench_store.py all              # every mode, then the tables
    .venv/bin/python bench/bench_store.py run MODE         # one mode (prints RESULT {json})

``--workdir`` (default /tmp/zoning-bench/store) holds, per farmland scale
(1 = the bundled 50,500 patches, 24 ≈ 1.2 M, 100 ≈ 5 M), a generated Guiyang
``s<scale>/guiyang/layers.gpkg`` with its prepared stores, a catalog, and the
footprint lists.  ``--base`` names a checkout of the engine before the stores
(today's engine), run for the cold-check and digest comparisons.

Every mode runs in its own process, so its peak RSS is its own; ratios are taken
between modes of one run.  Batch results carry a digest of every result row (see
bench/digest.py): the stores, threads and dask give the same rows as today's engine.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

SCALES = {"50k": 1, "1.2M": 24, "5M": 100}
LAYER_FILES = {"redline": "STBHHX", "farmland": "YJJBNTBHTB", "udb": "CZKFBJ",
               "protected_areas": "ZRBHD", "control_units": "HJGKDY", "shoreline": "HLAX"}
PG_SCHEMA = "benchstore"


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def cpu_s(who=resource.RUSAGE_SELF) -> float:
    """User + system CPU seconds (all threads): robust when other work shares the cores."""
    r = resource.getrusage(who)
    return r.ru_utime + r.ru_stime


# --------------------------------------------------------------------------- data

def _gen(work: Path, scale: int) -> Path:
    gpkg = work / f"s{scale}" / "guiyang" / "layers.gpkg"
    if gpkg.exists():
        return gpkg
    if scale == 1:  # the bundled data, copied so that its stores stay out of the repo
        import shutil

        gpkg.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / "seeds" / "guiyang" / "layers.gpkg", gpkg)
        return gpkg
    subprocess.run([sys.executable, "-m", "zoning", "seeds", "generate", "--out",
                    str(work / f"s{scale}"), "--region", "guiyang", "--scale", str(scale),
                    "--res-arcsec", "10", "--overwrite"], check=True, cwd=ROOT,
                   env=dict(os.environ, PYTHONPATH=str(ROOT)))
    return gpkg


def _catalog(work: Path, scale: int, kinds=None) -> Path:
    import yaml

    doc = yaml.safe_load((ROOT / "layers" / "guiyang.yaml").read_text("utf-8"))
    gpkg = _gen(work, scale)
    for name in LAYER_FILES:
        doc["layers"][name]["path"] = str(gpkg)
    doc["layers"]["districts"]["path"] = str(ROOT / "seeds" / "boundaries.gpkg")
    # the six layers of the targets: districts + LAYER_FILES (constraint layers,
    # 地类 and the land-cover raster are left out)
    doc["layers"] = {k: v for k, v in doc["layers"].items()
                     if k in LAYER_FILES or k == "districts"}
    if kinds:
        doc["layers"] = {k: v for k, v in doc["layers"].items()
                         if v["kind"] in kinds or v["kind"] == "districts"}
    out = work / f"s{scale}" / ("catalog.yaml" if not kinds else "catalog-farmland.yaml")
    text = yaml.safe_dump(doc, allow_unicode=True)
    if not out.exists() or out.read_text("utf-8") != text:
        out.write_text(text, encoding="utf-8")
    return out


def _footprints(work: Path, n: int, seed: int) -> Path:
    """n irregular polygons of 0.5–20 ha over Guiyang (bench_screen.py's recipe)."""
    import geopandas as gpd
    import shapely

    out = work / f"footprints-{n}.parquet"
    if out.exists():
        return out
    d = gpd.read_file(ROOT / "seeds" / "boundaries.gpkg", layer="districts",
                      where="region = 'guiyang'").to_crs("EPSG:4524")
    rng = np.random.default_rng(seed)
    region = shapely.union_all(d.geometry.values)
    x0, y0, x1, y1 = region.bounds
    shapely.prepare(region)
    pts: list = []
    while len(pts) < n:
        xs, ys = rng.uniform(x0, x1, n), rng.uniform(y0, y1, n)
        ok = shapely.contains_xy(region, xs, ys)
        pts.extend(zip(xs[ok], ys[ok]))
    p = np.array(pts[:n])
    r = np.sqrt(rng.uniform(0.5e4, 20e4, n) / np.pi)
    th = np.sort(rng.uniform(0, 2 * np.pi, (n, 12)), axis=1)
    rad = r[:, None] * rng.uniform(0.7, 1.3, (n, 12))
    ring = np.stack([p[:, :1] + rad * np.cos(th), p[:, 1:] + rad * np.sin(th)], axis=2)
    ring = np.concatenate([ring, ring[:, :1]], axis=1)
    fps = shapely.make_valid(shapely.polygons(ring))
    g = gpd.GeoDataFrame({"project_id": [f"P{i:05d}" for i in range(n)]}, geometry=fps,
                         crs="EPSG:4524")
    g.to_parquet(work / f"footprints-{n}-4524.parquet")
    g.to_crs("EPSG:4490").to_parquet(out)
    return out


def _farmland_parquet(work: Path, scale: int) -> Path:
    """The raw farmland layer (id + geometry, EPSG:4524) for DuckDB."""
    import pyogrio

    out = work / f"s{scale}" / "farmland-4524.parquet"
    if not out.exists():
        g = pyogrio.read_dataframe(_gen(work, scale), layer="YJJBNTBHTB",
                                   columns=["YJJBNTTBBH"])
        g.to_crs("EPSG:4524").to_parquet(out)
    return out


def _pg_import(work: Path, scale: int, dsn: str) -> None:
    import geopandas as gpd
    import psycopg
    import shapely

    table = f"{PG_SCHEMA}.farmland_s{scale}"
    with psycopg.connect(dsn) as c:
        c.execute(f"CREATE SCHEMA IF NOT EXISTS {PG_SCHEMA}")
        if c.execute("SELECT to_regclass(%s)", (table,)).fetchone()[0] is not None:
            return
        farm = gpd.read_parquet(_farmland_parquet(work, scale))
        c.execute(f"CREATE TABLE {table} (id text, geom geometry(Geometry, 4524))")
        wkb = shapely.to_wkb(shapely.set_srid(farm.geometry.values, 4524), hex=True,
                             include_srid=True)
        with c.cursor().copy(f"COPY {table} (id, geom) FROM STDIN") as cp:
            for i, g in zip(farm["YJJBNTTBBH"], wkb):
                cp.write_row([i, g])
        c.execute(f"CREATE INDEX ON {table} USING gist (geom)")
        c.execute(f"ANALYZE {table}")


def prepare(work: Path, dsn: str | None, scales=(1, 24, 100)) -> None:
    from zoning.catalog import load_catalog
    from zoning.prepare import build_stores

    work.mkdir(parents=True, exist_ok=True)
    for s in scales:
        t = time.perf_counter()
        cat = load_catalog(_catalog(work, s))
        _catalog(work, s, kinds={"farmland"})
        out = build_stores(cat, progress=lambda m: None)
        print(f"scale {s}: stores " + ", ".join(f"{o['layer']} {o['state']}" for o in out)
              + f" ({time.perf_counter() - t:.0f} s)", flush=True)
    _footprints(work, 10_000, 7)
    _footprints(work, 50_000, 8)
    _farmland_parquet(work, 24)
    if dsn:
        _pg_import(work, 24, dsn)
    _one_footprint(work)


def _one_footprint(work: Path) -> Path:
    """A 400 m × 300 m site among the farmland patches (GeoJSON, EPSG:4490)."""
    import geopandas as gpd
    import shapely

    out = work / "site.geojson"
    if not out.exists():
        g = gpd.GeoDataFrame(geometry=[shapely.box(106.563, 26.713, 106.567, 26.7157)],
                             crs="EPSG:4490")
        g.to_file(out, driver="GeoJSON")
    return out


# --------------------------------------------------------------------------- modes

def _projects(work: Path, n: int):
    import geopandas as gpd

    from zoning.io.projects import project_table

    fps = gpd.read_parquet(work / f"footprints-{n}.parquet")
    return project_table([dict(row=i + 1, project_id=p, name="", geometry=g, kind="polygon")
                          for i, (p, g) in enumerate(zip(fps.project_id, fps.geometry))])


def mode_cold(work: Path, scale: int, code: Path) -> dict:
    """A cold `zoning check` in a fresh process: wall and that process's peak RSS."""
    site = _one_footprint(work)
    t0 = time.perf_counter()
    p = subprocess.run([sys.executable, "-m", "zoning", "check", str(site), "--catalog",
                        str(work / f"s{scale}" / "catalog.yaml"), "--json"],
                       capture_output=True, text=True, cwd=code,
                       env=dict(os.environ, PYTHONPATH=str(code)))
    wall = time.perf_counter() - t0
    if p.returncode:
        raise RuntimeError(p.stderr[-2000:])
    import hashlib

    from digest import _canon

    res = json.loads(p.stdout)
    res = res[0] if isinstance(res, list) else res
    # the answer itself (output schemas evolve between versions): per layer
    key = [(x["layer"], x["state"], x["overlap"], x["nearest_id"], x["nearest_m"],
            [f.get("feature_id") for f in x.get("features", x.get("hits", []))])
           for x in res["layers"]]
    farm = next(k for k in key if k[0] == "farmland")
    return {"wall_s": wall, "cpu_s": cpu_s(resource.RUSAGE_CHILDREN),
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0,
            "farmland_hits": len(farm[5]),
        "digest": hashlib.sha256(json.dumps(_canon(key), sort_keys=True).encode())
        .hexdigest()[:16]}


def mode_batch(work: Path, scale: int, n: int, which: str, threads: int,
               method: str = "ellipsoidal") -> dict:
    from digest import digest

    from zoning.catalog import load_catalog
    from zoning.options import CheckOptions
    from zoning.screen import screen

    t = _projects(work, n)
    cat = work / f"s{scale}" / ("catalog.yaml" if which == "all" else "catalog-farmland.yaml")
    t0, c0 = time.perf_counter(), cpu_s()
    res = screen(t, [load_catalog(cat)], options=CheckOptions(area_method=method),
                 threads=threads, chunk_size=500)
    secs = time.perf_counter() - t0
    farm = [r.layer("farmland") for r in res.results if r.ok]
    return {"seconds": secs, "cpu_s": cpu_s() - c0, "peak_rss_mb": peak_rss_mb(),
            "rows": len(res.results),
            "pairs": sum(len(f.hits) for f in farm),
            "farmland_m2": sum(f.overlap_m2 for f in farm), "digest": digest(res.results)}


def mode_base_batch(work: Path, scale: int, n: int, which: str, code: Path) -> dict:
    """Today's engine (the checkout in ``code``) on the same batch: its own process."""
    p = subprocess.run([sys.executable, "-c", f"""
import sys, json, time, resource
sys.path.insert(0, {str(code)!r}); sys.path.insert(1, {str(ROOT / 'bench')!r})
import zoning
assert zoning.__file__.startswith({str(code)!r}), zoning.__file__
from digest import digest
import geopandas as gpd
from zoning.io.projects import project_table
def _projects(work, n):
    fps = gpd.read_parquet(work / f"footprints-{{n}}.parquet")
    return project_table([dict(row=i + 1, project_id=p, name="", geometry=g, kind="polygon")
                          for i, (p, g) in enumerate(zip(fps.project_id, fps.geometry))])
from pathlib import Path
from zoning.catalog import load_catalog
from zoning.screen import screen
t = _projects(Path({str(work)!r}), {n})
r0 = resource.getrusage(resource.RUSAGE_SELF)
t0 = time.perf_counter()
res = screen(t, [load_catalog({str(work / f's{scale}' / ('catalog.yaml' if which == 'all'
                                                       else 'catalog-farmland.yaml'))!r})])
secs = time.perf_counter() - t0
r1 = resource.getrusage(resource.RUSAGE_SELF)
farm = [r.layer("farmland") for r in res.results if r.ok]
print("RESULT " + json.dumps(dict(seconds=secs, rows=len(res.results),
      cpu_s=r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime,
      peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
      pairs=sum(len(f.hits) for f in farm), farmland_m2=sum(f.overlap_m2 for f in farm),
      digest=digest(res.results))))
"""], capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=str(code)))
    line = [x for x in p.stdout.splitlines() if x.startswith("RESULT ")]
    if not line:
        raise RuntimeError(p.stderr[-2000:])
    return json.loads(line[0][7:])


def mode_duckdb(work: Path, threads: int, n: int = 10_000, scale: int = 24) -> dict:
    import duckdb
    import duckdb_extension_spatial as ext

    lib = next(Path(ext.__file__).parent.glob("extensions/*/spatial.duckdb_extension"))
    c = duckdb.connect()
    c.execute(f"LOAD '{lib}'")
    c.execute(f"SET threads = {threads}")
    t0, c0 = time.perf_counter(), cpu_s()
    c.execute("CREATE TABLE farm AS SELECT YJJBNTTBBH AS id, geometry AS g "
              f"FROM read_parquet('{_farmland_parquet(work, scale)}')")
    c.execute("CREATE TABLE fp AS SELECT project_id, geometry AS g "
              f"FROM read_parquet('{work / f'footprints-{n}-4524.parquet'}')")
    t1 = time.perf_counter()
    pairs, area = c.execute(
        "SELECT count(*), sum(a) FROM (SELECT ST_Area(ST_Intersection(f.g, t.g)) AS a "
        "FROM fp f JOIN farm t ON ST_Intersects(f.g, t.g)) WHERE a > 1e-4").fetchone()
    t2 = time.perf_counter()
    return {"seconds": t2 - t0, "cpu_s": cpu_s() - c0, "load_s": t1 - t0,
            "join_s": t2 - t1, "pairs": pairs,
            "farmland_m2": float(area), "peak_rss_mb": peak_rss_mb()}


def mode_postgis_sql(work: Path, dsn: str, n: int = 10_000, scale: int = 24) -> dict:
    import geopandas as gpd
    import psycopg
    import shapely

    fps = gpd.read_parquet(work / f"footprints-{n}-4524.parquet")
    with psycopg.connect(dsn) as c:
        c.execute(f"DROP TABLE IF EXISTS {PG_SCHEMA}.fps")
        c.execute(f"CREATE TABLE {PG_SCHEMA}.fps (id text, geom geometry(Geometry, 4524))")
        with c.cursor().copy(f"COPY {PG_SCHEMA}.fps (id, geom) FROM STDIN") as cp:
            for pid, g in zip(fps.project_id, shapely.to_wkb(
                    shapely.set_srid(fps.geometry.values, 4524), hex=True, include_srid=True)):
                cp.write_row([pid, g])
        c.execute(f"CREATE INDEX ON {PG_SCHEMA}.fps USING gist (geom)")
        c.execute(f"ANALYZE {PG_SCHEMA}.fps")
        c.commit()
        t0 = time.perf_counter()
        row = c.execute(
            "SELECT count(*), sum(a) FROM (SELECT ST_Area(ST_Intersection(f.geom, t.geom)) a "
            f"FROM {PG_SCHEMA}.fps f JOIN {PG_SCHEMA}.farmland_s{scale} t "
            "ON ST_Intersects(f.geom, t.geom)) q WHERE a > 1e-4").fetchone()
        secs = time.perf_counter() - t0
    return {"seconds": secs, "pairs": row[0], "farmland_m2": float(row[1])}


def mode_dask(work: Path, workers: int, n: int = 10_000, scale: int = 24) -> dict:
    from digest import digest
    from distributed import LocalCluster

    from zoning.catalog import load_catalog
    from zoning.scaleout import screen_dask

    t = _projects(work, n)
    # the cluster is started first and timed apart: a deployment screens on a running
    # cluster, and its start (worker processes importing zoning) is the same for any size
    t0 = time.perf_counter()
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                           dashboard_address=None)
    t1 = time.perf_counter()
    try:
        res = screen_dask(t, [load_catalog(work / f"s{scale}" / "catalog.yaml")],
                          scheduler=cluster.scheduler_address, chunk_size=1000)
        t2 = time.perf_counter()
    finally:
        cluster.close()
    return {"seconds": t2 - t1, "cluster_start_s": t1 - t0,
            "with_start_s": t2 - t0, "peak_rss_mb": peak_rss_mb(),
            "digest": digest(res.results)}


def mode_partitions(work: Path, n: int = 10_000, scale: int = 24, size: int = 1000) -> dict:
    """Per-partition times of the dask engine's partitions, run one after another in one
    process (for the N-worker projection)."""
    from zoning.catalog import load_catalog
    from zoning.scaleout import spatial_partitions
    from zoning.screen import IndexCache, screen

    t = _projects(work, n)
    cat = load_catalog(work / f"s{scale}" / "catalog.yaml")
    t0 = time.perf_counter()
    IndexCache().load(cat)
    load_s = time.perf_counter() - t0
    times = []
    for part in spatial_partitions(t, size):
        cache = IndexCache()  # a worker's own cache: only its partition's row groups
        cache.load(cat)
        t1 = time.perf_counter()
        screen(part.drop(columns="_pos"), [cat], chunk_size=500)
        times.append(time.perf_counter() - t1)
    return {"load_s": load_s, "partition_s": times}


def mode_warm(work: Path, scale: int, reps: int = 300) -> dict:
    import shapely

    from zoning.catalog import resolve_catalogs
    from zoning.screen import check

    rng = np.random.default_rng(5)
    cats = work / f"s{scale}" / "catalog.yaml"
    check(shapely.box(106.62, 26.62, 106.623, 26.622), resolve_catalogs([cats]))
    times, cpu = [], []
    for _ in range(reps):
        x, y = rng.uniform(106.5, 106.9), rng.uniform(26.45, 26.85)
        g = shapely.box(x, y, x + rng.uniform(0.001, 0.006), y + rng.uniform(0.001, 0.004))
        t0, c0 = time.perf_counter(), time.process_time()
        # declared as the web server's GeoJSON sites are (an undeclared lon/lat footprint
        # is also checked as GCJ-02 for the warning: twice the work)
        check(g, cats, coord_sys="wgs84")
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return {"p50_ms": 1000 * float(np.median(times)),
            "p95_ms": 1000 * float(np.percentile(times, 95)),
            "cpu_p50_ms": 1000 * float(np.median(cpu)), "reps": reps}


def run_mode(name: str, work: Path, base: Path, dsn: str | None) -> dict:
    kind, *args = name.split(":")
    if kind == "cold":
        return mode_cold(work, SCALES[args[0]], base if args[1] == "base" else ROOT)
    if kind == "batch":
        scale, n, which, threads = SCALES[args[0]], int(args[1]), args[2], int(args[3])
        return mode_batch(work, scale, n, which, threads, *(args[4:5]))
    if kind == "base-batch":
        return mode_base_batch(work, SCALES[args[0]], int(args[1]), args[2], base)
    if kind == "duckdb":
        return mode_duckdb(work, int(args[0]))
    if kind == "postgis-sql":
        return mode_postgis_sql(work, dsn or "")
    if kind == "dask":
        return mode_dask(work, int(args[0]))
    if kind == "partitions":
        return mode_partitions(work)
    if kind == "warm":
        return mode_warm(work, SCALES[args[0]])
    raise ValueError(name)


# --------------------------------------------------------------------------- driver

def spawn(mode: str, a) -> dict | None:
    cmd = [sys.executable, __file__, "run", mode, "--workdir", str(a.workdir), "--base",
           str(a.base)]
    p = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ))
    line = [x for x in p.stdout.splitlines() if x.startswith("RESULT ")]
    if p.returncode or not line:
        print(f"{mode} failed:\n{p.stderr[-3000:]}", flush=True)
        return None
    r = json.loads(line[0][7:])
    print(mode, json.dumps(r)[:400], flush=True)
    return r


def lpt(times: list[float], workers: int) -> float:
    """Makespan of the longest-first schedule of ``times`` on ``workers``."""
    load = [0.0] * workers
    for t in sorted(times, reverse=True):
        load[load.index(min(load))] += t
    return max(load)


def report(r: dict) -> None:
    g = r.get
    print("\n== cold `zoning check` (one footprint, fresh process) ==")
    print(f"{'patches':>8} {'today s':>8} {'today MB':>9} {'store s':>8} {'store MB':>9} "
          f"{'same':>5}")
    for s in SCALES:
        b, n = g(f"cold:{s}:base"), g(f"cold:{s}:new")
        if n:
            bs = f"{b['wall_s']:8.2f} {b['peak_rss_mb']:9.0f}" if b else f"{'-':>8} {'-':>9}"
            same = "-" if not b else ("yes" if b["digest"] == n["digest"] else "NO")
            print(f"{s:>8} {bs} {n['wall_s']:8.2f} {n['peak_rss_mb']:9.0f} {same:>5}")
    if g("cold:5M:new") and g("cold:50k:new"):
        print(f"cold 5M / 50k: {g('cold:5M:new')['wall_s'] / g('cold:50k:new')['wall_s']:.2f}×")
    print("\n== batch 10k footprints × 1.2 M patches ==")
    d2 = g("duckdb:2")
    print(f"{'mode':34} {'s':>7} {'peak MB':>8} {'pairs':>8} {'vs DuckDB 2t':>12}")
    for m in ("duckdb:1", "duckdb:2", "postgis-sql", "batch:1.2M:10000:farmland:1:gk",
              "batch:1.2M:10000:farmland:2:gk", "batch:1.2M:10000:farmland:1",
              "batch:1.2M:10000:farmland:2", "batch:1.2M:10000:all:1",
              "batch:1.2M:10000:all:2", "base-batch:1.2M:10000:all"):
        x = g(m)
        if x:
            ratio = x["seconds"] / d2["seconds"] if d2 else float("nan")
            pk = x.get("peak_rss_mb")
            print(f"{m:34} {x['seconds']:7.2f} {'-' if pk is None else f'{pk:.0f}':>8} "
                  f"{x.get('pairs', '-'):>8} {ratio:11.2f}×")
    f, d1 = g("batch:1.2M:10000:farmland:2:gk"), g("duckdb:1")
    if f and d1:
        print(f"farmland pairs: zoning {f['pairs']:,}, DuckDB {d1['pairs']:,}; area zoning "
              f"(gk) {f['farmland_m2']:.1f} m² vs DuckDB (EPSG:4524 planar) "
              f"{d1['farmland_m2']:.1f} m² ({f['farmland_m2'] / d1['farmland_m2'] - 1:+.2e})")
    a, b = g("batch:1.2M:10000:all:2"), g("base-batch:1.2M:10000:all")
    if a and b:
        print(f"digest all six layers: store+threads {a['digest']}, today's engine "
              f"{b['digest']}: {'identical' if a['digest'] == b['digest'] else 'DIFFERENT'}")
    x = g("batch:5M:50000:all:2")
    if x:
        print(f"\n== batch 50k × 5 M, all six layers, 2 threads: {x['seconds']:.1f} s, "
              f"peak {x['peak_rss_mb']:.0f} MB, digest {x['digest']}")
    d1, d2, p = g("dask:1"), g("dask:2"), g("partitions")
    if d1 and d2:
        print(f"\n== dask 10k × 1.2 M on a running cluster: 1 worker {d1['seconds']:.1f} s, "
              f"2 workers {d2['seconds']:.1f} s: {d1['seconds'] / d2['seconds']:.2f}×; digests "
              f"{'identical' if d1['digest'] == d2['digest'] else 'DIFFERENT'}")
        if "with_start_s" in d1 and "with_start_s" in d2:
            print(f"   with the cluster's start: {d1['with_start_s']:.1f} s vs "
                  f"{d2['with_start_s']:.1f} s: {d1['with_start_s'] / d2['with_start_s']:.2f}× "
                  f"(start {d1['cluster_start_s']:.1f} / {d2['cluster_start_s']:.1f} s)")
    if p:
        ts = p["partition_s"]
        print(f"projection from {len(ts)} partitions ({sum(ts):.1f} s of work, index load "
              f"{p['load_s']:.2f} s): " + ", ".join(
                  f"{k} workers {p['load_s'] + lpt(ts, k):.1f} s" for k in (1, 2, 4, 8, 16)))
    for s in ("50k", "5M"):
        w = g(f"warm:{s}")
        if w:
            print(f"warm check ({s}): p50 {w['p50_ms']:.1f} ms, p95 {w['p95_ms']:.1f} ms "
                  f"(CPU p50 {w['cpu_p50_ms']:.1f} ms)")


# (today's engine at 5 M is left out: it reads the whole layer, about 9 GB)
ALL = ["cold:50k:base", "cold:50k:new", "cold:1.2M:base", "cold:1.2M:new", "cold:5M:new", "duckdb:1", "duckdb:2", "postgis-sql",
       "batch:1.2M:10000:farmland:1:gk", "batch:1.2M:10000:farmland:2:gk",
       "batch:1.2M:10000:farmland:1", "batch:1.2M:10000:farmland:2",
       "batch:1.2M:10000:all:1", "batch:1.2M:10000:all:2", "base-batch:1.2M:10000:all",
       "batch:5M:50000:all:2", "dask:1", "dask:2", "partitions", "warm:50k", "warm:5M"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=["prepare", "all", "run", "report"])
    ap.add_argument("mode", nargs="?")
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/zoning-bench/store"))
    ap.add_argument("--base", type=Path, default=Path("/tmp/zoning-bench/base"),
                    help="a checkout of today's engine (for the comparisons)")
    ap.add_argument("--only", nargs="*", help="modes to run with 'all'")
    ap.add_argument("--results", type=Path, help="results file (default WORKDIR/results.json);"
                    " 'report' merges every results*.json of the workdir")
    a = ap.parse_args()
    dsn = os.environ.get("ZONING_BENCH_PG_DSN") or os.environ.get("ZONING_TEST_PG_DSN")
    if a.what == "prepare":
        prepare(a.workdir, dsn)
    elif a.what == "run":
        print("RESULT " + json.dumps(run_mode(a.mode, a.workdir, a.base, dsn)))
    elif a.what == "report":
        merged: dict = {}
        for f in sorted(a.workdir.glob("results*.json")):
            merged.update(json.loads(f.read_text()))
        report(merged)
    else:
        path = a.results or a.workdir / "results.json"
        results = json.loads(path.read_text()) if path.exists() and a.only else {}
        for m in a.only or ALL:
            r = spawn(m, a)
            if r is not None:
                results[m] = r
                path.write_text(json.dumps(results, indent=1))
        report(results)


if __name__ == "__main__":
    main()
