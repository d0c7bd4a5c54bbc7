"""Build the bundled sample project list from the seed layers (deterministic).

    python seeds/make_sample_projects.py

Writes seeds/projects/: sample_projects.csv (UTF-8 with BOM, opens in Excel),
a 部标 TXT footprint (GBK, as delivered by survey software) that the list
refers to, and the same TXT on its own for `zoning check`.  Each row is built
to exercise one case of the rules; the 备注 (notes) column says which.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from pyproj import Transformer

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from zoning.crs import wgs84_to_gcj02  # noqa: E402

OUT = HERE / "projects"
G = "EPSG:4490"


def layer(region, name):
    return gpd.read_file(HERE / region / "layers.gpkg", layer=name).to_crs(G)


def inner_point(geom, rng):
    """A point well inside a polygon (deterministic)."""
    g = geom.buffer(-0.004)
    if g.is_empty:
        g = geom
    x0, y0, x1, y1 = g.bounds
    for _ in range(1000):
        p = shapely.Point(rng.uniform(x0, x1), rng.uniform(y0, y1))
        if g.contains(p):
            return p
    return g.representative_point()


def blockers(region):
    """Union of the layers a 'clear' site must avoid, in EPSG:4490."""
    geoms = [layer(region, n).geometry.values for n in ("STBHHX", "CZKFBJ", "ZRBHD",
                                                         "YJJBNTBHTB")]
    u = shapely.union_all(np.concatenate(geoms))
    shapely.prepare(u)
    return u


def clear_site(region, rng, half_deg, margin=0.003):
    """A square site inside the region that touches none of the statutory layers."""
    d = gpd.read_file(HERE / "boundaries.gpkg", layer="districts")
    area = shapely.union_all(d[d.region == region].geometry.values).buffer(-0.02)
    block = blockers(region)
    x0, y0, x1, y1 = area.bounds
    for _ in range(5000):
        p = shapely.Point(rng.uniform(x0, x1), rng.uniform(y0, y1))
        sq = square(p, half_deg)
        if area.contains(sq) and not block.intersects(sq.buffer(margin)):
            return sq
    raise RuntimeError(f"no clear site found in {region}")


def square(p, half_deg):
    return shapely.box(p.x - half_deg, p.y - half_deg, p.x + half_deg, p.y + half_deg)


def txt_for(poly, zone_epsg="EPSG:4524", number="1", name="地块1"):
    t = Transformer.from_crs(G, zone_epsg, always_xy=True)
    xs, ys = t.transform(*np.array(poly.exterior.coords).T)
    lines = ["[属性描述]", "格式版本号=1.01", "数据产生单位=示例测绘院", "数据产生日期=2026-06-01",
             "坐标系=2000国家大地坐标系", "几度分带=3", "投影类型=高斯克吕格", "计量单位=米",
             "带号=36", "精度=0.001", "转换参数=,,,,,,", "[地块坐标]"]
    area_ha = shapely.Polygon(np.column_stack([xs, ys])).area / 1e4
    lines.append(f"{len(xs)},{area_ha:.4f},{number},{name},面,,工业用地,0601,@")
    for k, (x, y) in enumerate(zip(xs, ys)):
        pid = f"J{(k % (len(xs) - 1)) + 1}"
        lines.append(f"{pid},1,{y:.3f},{x:.3f}")  # X = northing first, Y = easting
    return "\r\n".join(lines) + "\r\n"


def main():
    rng = np.random.default_rng(2026)
    OUT.mkdir(exist_ok=True)
    rows = []

    def add(pid, name, geom, expect, **attrs):
        rows.append(dict(项目编号=pid, 项目名称=name, wkt=geom.wkt if geom is not None else "",
                         **attrs, 备注=expect))

    gy_red = layer("guiyang", "STBHHX")
    gy_farm = layer("guiyang", "YJJBNTBHTB")
    gy_udb = layer("guiyang", "CZKFBJ")
    gy_pa = layer("guiyang", "ZRBHD")
    plain_red = gy_red[gy_red.ZRBHDFQ == ""].sort_values("MJ", ascending=False)
    p = inner_point(plain_red.geometry.iloc[0], rng)
    add("GY-001", "山地旅游度假村", square(p, 0.002), "prohibited (red line)",
        项目类型="other", 行业代码="R9030", 建设性质="新建")
    p = inner_point(plain_red.geometry.iloc[1], rng)
    add("GY-002", "通信基站及防火通道", square(p, 0.0005), "limited activity (category 6)",
        有限人为活动类别="6", 项目类型="linear", 行业代码="I6312", 建设性质="新建")
    seat = shapely.Point(106.714, 26.568)
    line = shapely.LineString([(seat.x - 0.15, seat.y - 0.12), (seat.x + 0.05, seat.y + 0.20),
                               (seat.x + 0.25, seat.y + 0.35)])
    add("GY-003", "贵阳绕城高速联络线（桥隧方案）", line,
        "needs review (Yangtze shoreline clause undecided without 建设性质; crosses the red line "
        "and farmland without taking land)",
        是否占地="否", 项目类型="linear", 行业代码="E4812")
    add("GY-004", "贵阳绕城高速联络线（路基方案）", line,
        "needs review (Yangtze shoreline clause undecided without 建设性质; major project in the "
        "red line and farmland)",
        是否占地="是", 重大项目类别="transport", 项目类型="linear", 行业代码="E4812")
    farm = gy_farm.sort_values("YJJBNTTBMJ", ascending=False).geometry.iloc[0]
    add("GY-005", "物流仓储项目", square(farm.centroid, 0.0012), "prohibited (farmland)",
        项目类型="other", 行业代码="G5951", 建设性质="新建")
    core = gy_udb[gy_udb.GHFQDM == "01"].sort_values("MJ", ascending=False).geometry.iloc[0]
    add("GY-006", "数据中心（城镇开发边界内）", square(core.representative_point(), 0.002),
        "no conflict (inside the urban boundary)", 项目类型="urban_construction",
        行业代码="I6450", 建设性质="新建")
    add("GY-007", "化工园区扩区（城镇开发边界外）", clear_site("guiyang", rng, 0.003),
        "prohibited (park outside UDB)",
        项目类型="industrial_park", 行业代码="C2614", 建设性质="扩建", 年综合能耗="62000")
    core_pa = gy_pa[gy_pa.GNFQ == "核心保护区"].geometry.iloc[0]
    add("GY-008", "保护区内观景台", inner_point(core_pa, rng), "prohibited (core zone)",
        有限人为活动类别="5", 项目类型="other")
    # a point given in GCJ-02 (from a web map): converted only because the row says so
    w = shapely.Point(106.640, 26.620)
    g = shapely.Point(*[float(v) for v in wgs84_to_gcj02(w.x, w.y)])
    rows.append(dict(项目编号="GY-009", 项目名称="便民服务中心（高德坐标）", wkt="",
                     经度=f"{g.x:.6f}", 纬度=f"{g.y:.6f}", 坐标类型="gcj02",
                     项目类型="urban_construction", expect="GCJ-02 converted"))
    add("GY-010", "坐标缺失的项目", None, "row error: no footprint")
    rows.append(dict(项目编号="GY-011", 项目名称="WKT 写错的项目", wkt="POLYGON((106.6 26.5, 106.7",
                     expect="row error: bad WKT"))
    # the TXT footprint: a parcel in a Guiyang farmland cluster, delivered as GBK 部标 TXT
    cluster = square(gy_farm.geometry.iloc[len(gy_farm) // 2].centroid, 0.003)
    (OUT / "GY-012_勘测定界.txt").write_bytes(txt_for(cluster).encode("gb18030"))
    rows.append(dict(项目编号="GY-012", 项目名称="磷化工配套项目（部标TXT）", wkt="",
                     文件="GY-012_勘测定界.txt", 行业代码="C2614", 建设性质="新建",
                     expect="from TXT file"))
    yy_shore = layer("yunyang", "HLAX")
    bank = yy_shore[(yy_shore.HLMC == "长江") & (yy_shore.AB == "左岸")].geometry.iloc[0]
    t = Transformer.from_crs(G, "EPSG:4524", always_xy=True)
    tb = Transformer.from_crs("EPSG:4524", G, always_xy=True)
    bank_gk = shapely.transform(bank, lambda xy: np.column_stack(t.transform(*xy.T)))
    shore_gk = shapely.transform(shapely.union_all(yy_shore.geometry.values),
                                 lambda xy: np.column_stack(t.transform(*xy.T)))
    yy_block = blockers("yunyang")

    def site(frac, side, dist):
        """A 100 m square whose nearest edge is `dist` m from the whole shoreline layer."""
        mid = bank_gk.interpolate(frac, normalized=True)
        ahead = bank_gk.interpolate(bank_gk.project(mid) + 10)
        v = np.array(ahead.coords[0]) - np.array(mid.coords[0])
        nrm = side * np.array([-v[1], v[0]]) / np.linalg.norm(v)
        for off in np.arange(dist, dist + 400, 2.0):
            c = np.array(mid.coords[0]) + nrm * (off + 50)
            sq = shapely.box(c[0] - 50, c[1] - 50, c[0] + 50, c[1] + 50)
            if sq.distance(shore_gk) >= dist:
                return sq
        return None

    chosen = None
    for frac in np.linspace(0.05, 0.95, 91):
        for side in (1, -1):
            sqs = [site(frac, side, d) for d in (800, 1500)]
            if any(q is None for q in sqs):
                continue
            geo = [shapely.transform(q, lambda xy: np.column_stack(tb.transform(*xy.T)))
                   for q in sqs]
            if not any(yy_block.intersects(g.buffer(0.001)) for g in geo):
                chosen = geo
                break
        if chosen:
            break
    for pid, sq, exp in (("YY-001", chosen[0], "chemical 800 m from the Yangtze"),
                         ("YY-002", chosen[1], "chemical 1.5 km from the Yangtze")):
        add(pid, f"云阳县精细化工项目（{exp}）", sq, exp, 行业代码="C2614", 建设性质="新建",
            项目类型="other")
    pl_red = layer("pingliang", "STBHHX")
    p = inner_point(pl_red.sort_values("MJ", ascending=False).geometry.iloc[0], rng)
    add("PL-001", "风电场升压站", square(p, 0.001), "prohibited (red line)",
        行业代码="D4415", 建设性质="新建", 项目类型="other")
    add("PL-002", "农产品加工园（城镇开发边界外）", clear_site("pingliang", rng, 0.003),
        "prohibited (park outside UDB)", 项目类型="industrial_park", 行业代码="C1371")
    add("OUT-001", "区域外项目（北京）", square(shapely.Point(116.40, 39.90), 0.002),
        "data missing (outside every region)")
    cols = ["项目编号", "项目名称", "wkt", "经度", "纬度", "坐标类型", "文件", "行业代码", "建设性质",
            "是否占地", "有限人为活动类别", "重大项目类别", "项目类型", "年综合能耗", "expect"]
    with open(OUT / "sample_projects.csv", "w", encoding="utf-8-sig", newline="") as f:
        w = csv.DictWriter(f, fieldnames=cols)
        w.writeheader()
        for r in rows:
            w.writerow({c: r.get(c, "") for c in cols})
    print(f"wrote {len(rows)} projects to {OUT}")


if __name__ == "__main__":
    main()
