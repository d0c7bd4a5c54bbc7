"""Benchmark: forest cover per district on a 10 m raster covering 贵阳市.

Run by hand:

    .venv/bin/pip install -e ".[bench]"      # rasterstats, for the comparison
    .venv/bin/python bench/bench_indicators.py

The raster is zoning.demo.synth's Guiyang land cover at 1/3 arc-second (≈10 m),
about 158 million pixels (about 80 million inside the districts), written as
a COG under --workdir.  Modes, each in its own process (peak memory = its max
RSS):

* ``zoning``       zoning.indicators.landcover_shares (area-weighted fractions)
* ``exactextract`` exactextract.exact_extract called directly with the same
                   operations: the named baseline for the ratios
* ``rasterstats``  rasterstats.zonal_stats(categorical=True): pixel-centre
                   rasterisation, no edge fractions, no area weighting
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
CLASSES = {"forest": [20], "grass": [30]}


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def prepare(work: Path, res_arcsec: float):
    import geopandas as gpd

    from zoning.demo import synth
    from zoning.io.write import write_cog
    from zoning.paths import seeds_dir

    tif = work / "landcover10m.tif"
    if tif.exists():
        return
    work.mkdir(parents=True, exist_ok=True)
    specs = synth.load_specs(seeds_dir() / "regions.yaml")
    spec = specs["guiyang"]
    spec.synth = dict(spec.synth, farmland_patches=100)  # only the raster matters here
    d = gpd.read_file(seeds_dir() / "boundaries.gpkg", layer="districts")
    d = d[d.region == "guiyang"]
    t = time.perf_counter()
    out = synth.generate(spec, d, res_arcsec=res_arcsec)
    write_cog(tif, out.landcover, out.transform, "EPSG:4490", nodata=0,
              tags={"SYNTHETIC": "yes"})
    d.to_file(work / "districts.gpkg")
    print(f"generated {out.landcover.shape} raster in {time.perf_counter() - t:.0f}s",
          flush=True)


def run(mode: str, work: Path) -> dict:
    import geopandas as gpd

    tif = str(work / "landcover10m.tif")
    d = gpd.read_file(work / "districts.gpkg")
    t0 = time.perf_counter()
    if mode == "zoning":
        from zoning.indicators import landcover_shares

        r = landcover_shares(tif, d, "code", CLASSES)
        shares = dict(zip(r.id, r.forest_share))
    elif mode == "exactextract":
        import numpy as np
        from exactextract import exact_extract

        r = exact_extract(tif, d, ["unique", "frac(coverage_weight=area_spherical_m2)",
                                   "count(coverage_weight=area_spherical_m2)"],
                          include_cols=["code"], output="pandas", max_cells_in_memory=4_000_000)
        shares = {c: float(np.asarray(f)[np.isin(np.asarray(u), [20])].sum())
                  for c, u, f in zip(r.code, r.unique, r.frac)}
    elif mode == "rasterstats":
        from rasterstats import zonal_stats

        zs = zonal_stats(d, tif, categorical=True, nodata=0)
        shares = {c: z.get(20, 0) / sum(z.values()) for c, z in zip(d.code, zs)}
    else:
        raise ValueError(mode)
    return {"seconds": time.perf_counter() - t0, "peak_rss_mb": peak_rss_mb(),
            "forest_share": shares}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--workdir", default="/tmp/zoning-bench-ind")
    ap.add_argument("--res-arcsec", type=float, default=1 / 3)
    ap.add_argument("--mode", default="all",
                    choices=["all", "prepare", "zoning", "exactextract", "rasterstats"])
    a = ap.parse_args()
    work = Path(a.workdir)
    if a.mode == "prepare":
        prepare(work, a.res_arcsec)
        return
    if a.mode != "all":
        print("RESULT " + json.dumps(run(a.mode, work)))
        return
    # prepare in a child process too: Linux keeps a process's max RSS across fork+exec, so
    # a parent that once held the generated raster would inflate every mode's figure
    subprocess.run([sys.executable, __file__, "--mode", "prepare", "--workdir", str(work),
                    "--res-arcsec", str(a.res_arcsec)], check=True)
    import rasterio

    with rasterio.open(work / "landcover10m.tif") as src:
        print(f"raster {src.width} x {src.height} = {src.width * src.height / 1e6:.0f} M pixels,"
              f" {src.res[0] * 3600:.3f} arc-seconds")
    res = {}
    for mode in ("exactextract", "zoning", "rasterstats"):
        p = subprocess.run([sys.executable, __file__, "--mode", mode, "--workdir", str(work)],
                           capture_output=True, text=True)
        line = [x for x in p.stdout.splitlines() if x.startswith("RESULT ")]
        if p.returncode or not line:
            print(f"{mode} failed: {p.stderr[-2000:]}")
            continue
        res[mode] = json.loads(line[0][7:])
    base = res["exactextract"]
    print(f"\n{'mode':13} {'seconds':>8} {'peak MB':>8} {'time / exactextract':>20} "
          f"{'memory / exactextract':>22}")
    for mode, r in res.items():
        print(f"{mode:13} {r['seconds']:8.2f} {r['peak_rss_mb']:8.0f} "
              f"{r['seconds'] / base['seconds']:20.2f} "
              f"{r['peak_rss_mb'] / base['peak_rss_mb']:22.2f}")
    if "rasterstats" in res:
        diff = max(abs(res["rasterstats"]["forest_share"][k] - base["forest_share"][k])
                   for k in base["forest_share"])
        print(f"largest forest-share difference rasterstats vs exactextract: {diff * 100:.3f} "
              "percentage points (pixel centres, no area weighting)")


if __name__ == "__main__":
    main()
