"""Benchmark: screening 10,000 footprints against ≥1,000,000 farmland patches.

Run by hand (not part of the tests):

    .venv/bin/python bench/bench_screen.py            # prepare data once, then every mode
    .venv/bin/python bench/bench_screen.py --patches-scale 20 --footprints 10000

Modes, each in its own process so that peak memory (max RSS) is its own:

* ``engine``    zoning's check (STRtree bulk query on subdivided pieces, exact
                intersections for candidate pairs only, ellipsoidal areas,
                nearest distances, verdict rules) over chunks of 500
* ``engine-gk`` the same with planar Gauss–Krüger areas
* ``overlay``   baseline: ``geopandas.overlay(footprints, farmland, "intersection")``
                then areas (the named baseline for the ratios)
* ``sjoin``     ``geopandas.sjoin`` + pairwise ``intersection`` + areas
* ``redline``   intersections with the huge red-line polygons, subdivided
                (256 vertices) vs whole

Data are generated deterministically by zoning.demo.synth (Guiyang, scaled) and
cached as GeoParquet under ``--workdir``.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def prepare(work: Path, scale: float, n_fp: int):
    import geopandas as gpd
    import shapely

    from zoning.demo import synth
    from zoning.paths import seeds_dir

    if (work / "farmland.parquet").exists() and (work / "footprints.parquet").exists():
        return
    work.mkdir(parents=True, exist_ok=True)
    specs = synth.load_specs(seeds_dir() / "regions.yaml")
    d = gpd.read_file(seeds_dir() / "boundaries.gpkg", layer="districts")
    d = d[d.region == "guiyang"]
    t = time.perf_counter()
    out = synth.generate(specs["guiyang"], d, scale=scale, res_arcsec=10)
    print(f"generated in {time.perf_counter() - t:.1f}s: "
          f"{len(out.layers['YJJBNTBHTB']):,} farmland patches", flush=True)
    for name, gdf in out.layers.items():
        gdf.to_parquet(work / f"{name}.parquet")
    out.layers["YJJBNTBHTB"].to_parquet(work / "farmland.parquet")
    # footprints: 10k irregular polygons of 0.5–20 ha scattered over the region
    rng = np.random.default_rng(7)
    region = shapely.union_all(d.to_crs(out.work_crs).geometry.values)
    x0, y0, x1, y1 = region.bounds
    shapely.prepare(region)
    pts = []
    while len(pts) < n_fp:
        xs, ys = rng.uniform(x0, x1, n_fp), rng.uniform(y0, y1, n_fp)
        ok = shapely.contains_xy(region, xs, ys)
        pts.extend(zip(xs[ok], ys[ok]))
    pts = np.array(pts[:n_fp])
    r = np.sqrt(rng.uniform(0.5e4, 20e4, n_fp) / np.pi)
    k = 12
    th = np.sort(rng.uniform(0, 2 * np.pi, (n_fp, k)), axis=1)
    rad = r[:, None] * rng.uniform(0.7, 1.3, (n_fp, k))
    ring = np.stack([pts[:, :1] + rad * np.cos(th), pts[:, 1:] + rad * np.sin(th)], axis=2)
    ring = np.concatenate([ring, ring[:, :1]], axis=1)
    fps = shapely.make_valid(shapely.polygons(ring))
    gpd.GeoDataFrame({"project_id": [f"P{i:05d}" for i in range(n_fp)]}, geometry=fps,
                     crs=out.work_crs).to_crs("EPSG:4490").to_parquet(work / "footprints.parquet")
    (work / "meta.json").write_text(json.dumps({"work_crs": out.work_crs.to_string(),
                                                "scale": scale, "footprints": n_fp}))


def _catalog_and_frames(work: Path):
    import geopandas as gpd

    from zoning.catalog import resolve_catalogs
    from zoning.io.layers import normalise_layer

    cat = resolve_catalogs(region="guiyang")[0]
    names = {"redline": "STBHHX", "farmland": "YJJBNTBHTB", "udb": "CZKFBJ",
             "protected_areas": "ZRBHD", "control_units": "HJGKDY", "shoreline": "HLAX"}
    frames = {}
    for layer, fname in names.items():
        frames[layer] = normalise_layer(gpd.read_parquet(work / f"{fname}.parquet"),
                                        cat.layers[layer])
    d = gpd.read_file(cat.layers["districts"].path, layer="districts",
                      where="region = 'guiyang'")
    frames["districts"] = normalise_layer(d, cat.layers["districts"])
    return cat, frames


def run_engine(work: Path, method: str, only=None) -> dict:
    """zoning's check over chunks of 500; ``only``: keep just these layers (and districts)."""
    import geopandas as gpd

    from zoning.engine.index import RegionIndex
    from zoning.engine.overlay import check_chunk
    from zoning.options import CheckOptions
    from zoning.project import Project
    from zoning.rules.three_lines import load_rules

    fps = gpd.read_parquet(work / "footprints.parquet")
    cat, frames = _catalog_and_frames(work)
    if only:
        frames = {k: v for k, v in frames.items() if k in (*only, "districts")}
    opts = CheckOptions(area_method=method)
    t0 = time.perf_counter()
    index = RegionIndex.build(cat, frames, load_rules(), opts)
    t_build = time.perf_counter() - t0
    projects = [Project(row=i + 1, project_id=pid, name="", geometry=g, kind="polygon",
                         attrs={}, warnings=[])
                for i, (pid, g) in enumerate(zip(fps.project_id, fps.geometry))]
    t1 = time.perf_counter()
    total_overlap, hits = 0.0, 0
    for s in range(0, len(projects), 500):
        res, _ = check_chunk(index, projects[s:s + 500], opts)
        for r in res:
            f = r.layer("farmland")
            total_overlap += f.overlap_m2
            hits += len(f.hits)
    t_query = time.perf_counter() - t1
    return {"index_build_s": t_build, "query_s": t_query, "total_s": t_build + t_query,
            "farmland_overlap_m2": total_overlap, "pairs": hits,
            "layer_features": {k: len(v) for k, v in frames.items()}}


def run_overlay(work: Path) -> dict:
    import geopandas as gpd

    meta = json.loads((work / "meta.json").read_text())
    farm = gpd.read_parquet(work / "farmland.parquet")[["YJJBNTTBBH", "geometry"]]
    fps = gpd.read_parquet(work / "footprints.parquet").to_crs(meta["work_crs"])
    t0 = time.perf_counter()
    ov = gpd.overlay(fps, farm, how="intersection", keep_geom_type=True)
    area = ov.geometry.area
    t = time.perf_counter() - t0
    return {"total_s": t, "farmland_overlap_m2": float(area.sum()), "pairs": int(len(ov))}


def run_sjoin(work: Path) -> dict:
    import geopandas as gpd

    meta = json.loads((work / "meta.json").read_text())
    farm = gpd.read_parquet(work / "farmland.parquet")[["YJJBNTTBBH", "geometry"]]
    fps = gpd.read_parquet(work / "footprints.parquet").to_crs(meta["work_crs"])
    t0 = time.perf_counter()
    j = gpd.sjoin(fps, farm, predicate="intersects")
    inter = j.geometry.intersection(farm.geometry.loc[j.index_right].set_axis(j.index),
                                    align=False)
    area = inter.area
    area = area[area > 1e-4]
    t = time.perf_counter() - t0
    return {"total_s": t, "farmland_overlap_m2": float(area.sum()), "pairs": int(len(area))}


def run_redline(work: Path) -> dict:
    import geopandas as gpd
    import shapely

    from zoning.engine.geometry import subdivide

    meta = json.loads((work / "meta.json").read_text())
    red = gpd.read_parquet(work / "STBHHX.parquet").to_crs(meta["work_crs"])
    fps = gpd.read_parquet(work / "footprints.parquet").to_crs(meta["work_crs"]).geometry.values
    # real deliveries often hold one multipolygon per county with survey-density vertices:
    # dissolve by county and densify the edges to 10 m
    red = red.dissolve(by="XZQDM")
    geoms = shapely.segmentize(red.geometry.values, 10.0)
    out = {"features": len(geoms), "max_vertices": int(shapely.get_num_coordinates(geoms).max())}
    for label, maxv in (("whole", 0), ("subdivided", 256)):
        t0 = time.perf_counter()
        if maxv:
            pieces, _parent = subdivide(geoms, maxv)
        else:
            pieces = geoms
        tree = shapely.STRtree(pieces)
        t_build = time.perf_counter() - t0
        t1 = time.perf_counter()
        i, j = tree.query(fps, predicate="intersects")
        area = shapely.area(shapely.intersection(fps[i], pieces[j]))
        t_q = time.perf_counter() - t1
        out[label] = {"build_s": t_build, "query_s": t_q, "pieces": len(pieces),
                      "overlap_m2": float(area.sum())}
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--workdir", default="/tmp/zoning-bench")
    ap.add_argument("--patches-scale", type=float, default=24.0)
    ap.add_argument("--footprints", type=int, default=10_000)
    ap.add_argument("--mode", default="all",
                    choices=["all", "prepare", "engine", "engine-gk", "engine-farmland",
                             "overlay", "sjoin", "redline"])
    a = ap.parse_args()
    work = Path(a.workdir)
    if a.mode != "all":
        if a.mode == "prepare":
            prepare(work, a.patches_scale, a.footprints)
            return
        fn = {"engine": lambda: run_engine(work, "ellipsoidal"),
              "engine-gk": lambda: run_engine(work, "gk"),
              # farmland only, planar areas: the same output as the overlay baseline
              "engine-farmland": lambda: run_engine(work, "gk", only=("farmland",)),
              "overlay": lambda: run_overlay(work),
              "sjoin": lambda: run_sjoin(work), "redline": lambda: run_redline(work)}[a.mode]
        res = fn()
        res["peak_rss_mb"] = peak_rss_mb()
        print("RESULT " + json.dumps(res))
        return
    # prepare in a child process: Linux keeps max RSS across fork+exec, so a parent that
    # generated the data would inflate every mode's peak-memory figure
    subprocess.run([sys.executable, __file__, "--mode", "prepare", "--workdir", str(work),
                    "--patches-scale", str(a.patches_scale), "--footprints", str(a.footprints)],
                   check=True)
    results = {}
    for mode in ("engine", "engine-gk", "engine-farmland", "sjoin", "overlay", "redline"):
        p = subprocess.run([sys.executable, __file__, "--mode", mode, "--workdir", str(work)],
                           capture_output=True, text=True)
        line = [x for x in p.stdout.splitlines() if x.startswith("RESULT ")]
        if p.returncode or not line:
            print(f"{mode} failed:\n{p.stdout}\n{p.stderr}")
            continue
        results[mode] = json.loads(line[0][7:])
        print(mode, json.dumps(results[mode]), flush=True)
    base = results.get("overlay")
    print("\n== screening 10k footprints vs farmland "
          f"({results['engine']['layer_features']['farmland']:,} patches) ==")
    print(f"{'mode':16} {'total s':>9} {'peak MB':>9} {'x faster than overlay':>22}")
    for mode in ("engine", "engine-gk", "engine-farmland", "sjoin", "overlay"):
        r = results.get(mode)
        if not r:
            continue
        ratio = base["total_s"] / r["total_s"] if base else float("nan")
        print(f"{mode:16} {r['total_s']:9.2f} {r['peak_rss_mb']:9.0f} {ratio:22.2f}")
    print("(engine = all six layers with ellipsoidal areas, distances and verdicts; "
          "engine-farmland = farmland only, planar areas: the overlay's own output)")
    e = results["engine"]
    print(f"engine: index build {e['index_build_s']:.2f}s (all 6 layers), query+verdicts "
          f"{e['query_s']:.2f}s; farmland pairs {e['pairs']:,}")
    if base:
        print(f"overlap check: engine-farmland {results['engine-farmland']['farmland_overlap_m2']:.1f}"
              f" m² vs overlay {base['farmland_overlap_m2']:.1f} m² (gk areas are in each "
              "footprint's own 3° zone, the overlay's in the region's zone)")
    r = results.get("redline")
    if r:
        w, s = r["whole"], r["subdivided"]
        print(f"\n== red line ({r['features']} polygons, up to {r['max_vertices']:,} vertices) ==")
        print(f"whole:      build {w['build_s']:.2f}s query+intersection {w['query_s']:.2f}s")
        print(f"subdivided: build {s['build_s']:.2f}s query+intersection {s['query_s']:.2f}s "
              f"({s['pieces']} pieces)")
        print(f"intersection speed-up from subdividing: {w['query_s'] / s['query_s']:.1f}x; "
              f"areas agree to {abs(w['overlap_m2'] - s['overlap_m2']):.3f} m²")


if __name__ == "__main__":
    main()
