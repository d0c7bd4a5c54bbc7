"""Benchmark: the same 10,000-footprint batch single-process, on dask (2 workers) and
with PostGIS pushdown, against a plain PostGIS SQL overlay on the same server.

Run by hand (needs the data of bench_screen.py and a PostGIS server):

    eval "$(scripts/pg-test-server.sh)"          # or point ZONING_BENCH_PG_DSN elsewhere
    .venv/bin/python bench/bench_scaleout.py

Every mode goes through the public entry points (`zoning.screen.screen`,
`zoning.scaleout.screen_dask`) from a catalog of GeoParquet layers, so layer
loading is included.  Peak memory is the client process's max RSS (dask
workers and the PostgreSQL server are separate processes, reported apart where
known).  The named baseline for the ratios is ``postgis-sql``: one SQL query
computing the farmland overlaps (``ST_Intersection`` areas joined on the GiST
index), the peer to beat.
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

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

LAYER_FILES = {"redline": "STBHHX", "farmland": "YJJBNTBHTB", "udb": "CZKFBJ",
               "protected_areas": "ZRBHD", "control_units": "HJGKDY", "shoreline": "HLAX"}


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def write_catalog(work: Path, kinds=None) -> Path:
    """A catalog like the bundled Guiyang one, pointing at the bench's GeoParquet layers."""
    import yaml

    from zoning.paths import layers_dir

    doc = yaml.safe_load((layers_dir() / "guiyang.yaml").read_text("utf-8"))
    for name, fname in LAYER_FILES.items():
        entry = doc["layers"][name]
        entry["path"] = str(work / f"{fname}.parquet")
        entry.pop("layer", None)
    doc["layers"]["districts"]["path"] = str(layers_dir().parent / "seeds" / "boundaries.gpkg")
    doc["layers"].pop("landcover", None)
    if kinds:
        doc["layers"] = {k: v for k, v in doc["layers"].items()
                         if v["kind"] in kinds or v["kind"] == "districts"}
    out = work / ("catalog.yaml" if not kinds else "catalog-farmland.yaml")
    out.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return out


def projects(work: Path):
    import geopandas as gpd

    from zoning.io.projects import project_table

    fps = gpd.read_parquet(work / "footprints.parquet")
    return project_table([dict(row=i + 1, project_id=p, name="", geometry=g, kind="polygon")
                          for i, (p, g) in enumerate(zip(fps.project_id, fps.geometry))])


def run(mode: str, work: Path, dsn: str) -> dict:
    from zoning.catalog import load_catalog
    from zoning.options import CheckOptions
    from zoning.screen import screen

    opts = CheckOptions()
    t = projects(work)
    t0 = time.perf_counter()
    if mode == "single":
        res = screen(t, [load_catalog(work / "catalog.yaml")], options=opts)
    elif mode == "dask":
        from zoning.scaleout import screen_dask

        res = screen_dask(t, [load_catalog(work / "catalog.yaml")], options=opts,
                          n_workers=2, chunk_size=500)
    elif mode == "postgis":
        os.environ["ZONING_BENCH_PG_DSN"] = dsn
        res = screen(t, [load_catalog(work / "pg.yaml")], options=opts)
    elif mode == "postgis-farmland":
        os.environ["ZONING_BENCH_PG_DSN"] = dsn
        res = screen(t, [load_catalog(work / "pg-farmland.yaml")], options=opts)
    elif mode == "single-farmland":
        res = screen(t, [load_catalog(work / "catalog-farmland.yaml")], options=opts)
    else:
        raise ValueError(mode)
    secs = time.perf_counter() - t0
    farm = sum(r.layer("farmland").overlap_m2 for r in res.results if r.ok)
    digest = __import__("hashlib").sha256(json.dumps(
        [r.to_dict() for r in res.results], default=str, sort_keys=True).encode()).hexdigest()
    return {"seconds": secs, "peak_rss_mb": peak_rss_mb(), "farmland_m2": farm,
            "rows": len(res.results), "digest": digest}


def postgis_sql(dsn: str, work: Path) -> dict:
    import geopandas as gpd
    import psycopg
    import shapely

    fps = gpd.read_parquet(work / "footprints.parquet").to_crs("EPSG:4524")
    with psycopg.connect(dsn) as c:
        c.execute("DROP TABLE IF EXISTS bench_fps")
        c.execute("CREATE TABLE bench_fps (id text, geom geometry(Geometry, 4524))")
        with c.cursor().copy("COPY bench_fps (id, geom) FROM STDIN") as cp:
            for pid, g in zip(fps.project_id, shapely.to_wkb(
                    shapely.set_srid(fps.geometry.values, 4524), hex=True, include_srid=True)):
                cp.write_row([pid, g])
        c.execute("CREATE INDEX ON bench_fps USING gist (geom)")
        c.execute("ANALYZE bench_fps")
        c.commit()
        t0 = time.perf_counter()
        row = c.execute(
            "SELECT count(*), sum(a) FROM (SELECT ST_Area(ST_Intersection(f.geom, t.geom)) a "
            "FROM bench_fps f JOIN bench.guiyang_farmland t ON ST_Intersects(f.geom, t.geom)) q "
            "WHERE a > 1e-4").fetchone()
        secs = time.perf_counter() - t0
    return {"seconds": secs, "pairs": row[0], "farmland_m2": float(row[1])}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--workdir", default="/tmp/zoning-bench")
    ap.add_argument("--mode", default="all")
    a = ap.parse_args()
    work = Path(a.workdir)
    dsn = os.environ.get("ZONING_BENCH_PG_DSN") or os.environ.get("ZONING_TEST_PG_DSN")
    if a.mode == "import":
        from zoning.catalog import load_catalog
        from zoning.io.postgis import import_catalog

        t0 = time.perf_counter()
        text, info = import_catalog(load_catalog(work / "catalog.yaml"), dsn, schema="bench",
                                    catalog_dsn="env:ZONING_BENCH_PG_DSN")
        (work / "pg.yaml").write_text(text, encoding="utf-8")
        import yaml

        doc = yaml.safe_load(text)
        doc["layers"] = {k: v for k, v in doc["layers"].items()
                         if v["kind"] in ("farmland", "districts")}
        (work / "pg-farmland.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True),
                                               encoding="utf-8")
        print(f"imported into PostGIS in {time.perf_counter() - t0:.1f}s: "
              + ", ".join(f"{k} {v['features']:,}" for k, v in info.items()), flush=True)
        return
    if a.mode != "all":
        print("RESULT " + json.dumps(run(a.mode, work, dsn)))
        return
    if not (work / "farmland.parquet").exists():
        subprocess.run([sys.executable, str(ROOT / "bench" / "bench_screen.py"), "--mode",
                        "prepare", "--workdir", str(work)], check=True)
    write_catalog(work)
    write_catalog(work, kinds={"farmland"})
    results = {}
    if dsn:
        # import in a child process: Linux keeps max RSS across fork+exec, so a parent that
        # held the layers would inflate every mode's peak-memory figure
        subprocess.run([sys.executable, __file__, "--mode", "import", "--workdir", str(work)],
                       check=True, env=dict(os.environ))
    if dsn:
        results["postgis-sql"] = postgis_sql(dsn, work)
        print("postgis-sql", results["postgis-sql"], flush=True)
    modes = ["single", "single-farmland", "dask"] + (["postgis", "postgis-farmland"] if dsn
                                                     else [])
    for mode in modes:
        p = subprocess.run([sys.executable, __file__, "--mode", mode, "--workdir", str(work)],
                           capture_output=True, text=True, env=dict(os.environ))
        line = [x for x in p.stdout.splitlines() if x.startswith("RESULT ")]
        if p.returncode or not line:
            print(f"{mode} failed: {p.stderr[-3000:]}")
            continue
        results[mode] = json.loads(line[0][7:])
        print(mode, {k: v for k, v in results[mode].items() if k != "digest"}, flush=True)
    base = results.get("postgis-sql")
    print(f"\n{'mode':18} {'seconds':>8} {'client peak MB':>15} {'x vs postgis-sql':>17}")
    for mode, r in results.items():
        ratio = base["seconds"] / r["seconds"] if base else float("nan")
        peak = r.get("peak_rss_mb")
        print(f"{mode:18} {r['seconds']:8.2f} {'-' if peak is None else f'{peak:.0f}':>15} "
              f"{ratio:17.2f}")
    if "single" in results and "dask" in results:
        print("dask results identical to single-process:",
              results["single"]["digest"] == results["dask"]["digest"])
    if "single" in results and "postgis" in results:
        print("postgis results identical to single-process:",
              results["single"]["digest"] == results["postgis"]["digest"])
    if base and "single-farmland" in results:
        print(f"farmland overlap: postgis-sql {base['farmland_m2']:.1f} m² (planar), "
              f"zoning {results['single-farmland']['farmland_m2']:.1f} m² (ellipsoidal)")


if __name__ == "__main__":
    main()
